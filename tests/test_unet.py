import numpy as np
import pytest

import zoo
from tests import harness

TINY = dict(filters=(4, 8), kernel_size=3)
# a shallow fill: the default one's 162 relaxation steps take seconds to trace
SMALL_FILL = dict(levels=3, steps=2, biharmonic_steps=2, taper=1)


def build(**overrides):
    return zoo.create_model("unet", **{**TINY, **overrides})


@pytest.mark.parametrize("variant", [
    dict(),
    dict(residual=True, pooling="strided", upsampling="nearest", normalization="instance"),
    dict(mask_input=True, activation="gelu", dropout=0.1, l2=1e-4),
    dict(mask_input=True, fill_holes=SMALL_FILL),
    dict(residual=True, noise_level_input=True, pixel_unshuffle=2, smooth_blend=2),
])
def test_image_head(variant):
    model = build(**variant)
    assert model.output_names == ["restored"]
    harness.check_outputs(model, (32, 32, 3), (0.0, 1.0))
    if variant.get("mask_input"):
        harness.check_known_pixels_unchanged(model)
    if variant.get("fill_holes") or variant.get("residual"):
        # the correction's last layer starts at zero (see the tests below), so nothing
        # upstream of it has a gradient before its first update: give it one
        _randomize_last_layer(model)
    history = harness.check_fit_step(model)
    expected = {"psnr", "ssim"} | ({"hole_psnr", "hole_ssim"} if "mask_input" in variant else set())
    assert expected <= set(history.history)


def _randomize_last_layer(model):
    """The zero-started output layers (the correction, and the blend's logits where the
    model has them) get small random kernels."""
    for name in ("to_image", "blend_logits"):
        if any(layer.name == name for layer in model.layers):
            kernel = model.get_layer(name).kernel
            kernel.assign(np.random.default_rng(0).normal(0, 0.01, kernel.shape))


def test_segmentation_head():
    model = build(head="segmentation", num_classes=3, image_shape=(16, 16, 1), pooling="avg")
    harness.check_outputs(model, (16, 16, 3), (0.0, 1.0))
    x, _ = harness.random_batch(model, 2)
    np.testing.assert_allclose(harness.predict(model, x).sum(axis=-1), 1.0, atol=1e-5)
    history = harness.check_fit_step(model)
    assert {"iou", "dice"} <= set(history.history)


def test_segmentation_head_with_pixel_unshuffle_keeps_full_resolution():
    model = build(head="segmentation", num_classes=3, pixel_unshuffle=2)
    harness.check_outputs(model, (32, 32, 3), (0.0, 1.0))


def test_serialization(tmp_path):
    for model in (build(mask_input=True, residual=True), build(head="segmentation"),
                  build(mask_input=True, fill_holes=SMALL_FILL),
                  build(residual=True, noise_level_input=True, pixel_unshuffle=2,
                        smooth_blend=2)):
        if model.get_config()["residual"]:
            _randomize_last_layer(model)  # else every output equals the input
        harness.check_config_round_trip(model)
        harness.check_keras_file_round_trip(model, tmp_path)


def test_mixed_precision_segmentation():  # the inpainting head runs in test_every_model.py
    harness.check_mixed_precision(lambda: build(image_shape=(16, 16, 3), head="segmentation"))


def test_bad_inputs():
    with pytest.raises(ValueError, match="not divisible by 8"):
        build(filters=(4, 8, 16), image_shape=(36, 36, 3))
    with pytest.raises(ValueError, match="not divisible by 8"):
        build(pixel_unshuffle=2, image_shape=(36, 36, 3))
    with pytest.raises(ValueError, match="pixel_unshuffle must be an int >= 1"):
        build(pixel_unshuffle=0)
    with pytest.raises(ValueError, match="cannot be combined with mask_input"):
        build(noise_level_input=True, mask_input=True)
    with pytest.raises(ValueError, match="image head only"):
        build(noise_level_input=True, head="segmentation")
    with pytest.raises(ValueError, match="smooth_blend is for denoising"):
        build(mask_input=True, smooth_blend=1)
    with pytest.raises(ValueError, match="16 px blocks, which must divide"):
        build(pixel_unshuffle=2, smooth_blend=3)
    with pytest.raises(ValueError, match="smooth_blend must be an int >= 0"):
        build(smooth_blend=-1)
    with pytest.raises(ValueError, match="fill_holes needs mask_input"):
        build(fill_holes=True)
    with pytest.raises(ValueError, match="leave residual=False"):
        build(mask_input=True, fill_holes=True, residual=True)
    with pytest.raises(ValueError, match=r"Unknown fill_holes setting\(s\) \['depth'\]"):
        build(mask_input=True, fill_holes=dict(depth=3))
    with pytest.raises(ValueError, match="fill_holes must be True, False or a dict"):
        build(mask_input=True, fill_holes="biharmonic")
    with pytest.raises(ValueError, match="Unknown head"):
        build(head="depth")
    with pytest.raises(ValueError, match="depth=3 does not match"):
        build(depth=3)
    harness.check_bad_input_shape(build(image_shape=(16, 16, 3)),
                                  np.zeros((1, 16, 16, 1), "float32"), "shape")


@pytest.mark.parametrize("variant", [dict(residual=True, noise_level_input=True,
                                          pixel_unshuffle=2),
                                     dict(mask_input=True, fill_holes=SMALL_FILL),
                                     dict(head="segmentation", num_classes=3)])
def test_any_size_is_padded_in_the_graph_like_apply_to_image(variant):
    """30 x 45 gives what apply_to_image gives: the reflect-padded result, cropped."""
    from zoo.inference import apply_to_image

    model = build(**variant)
    if variant.get("residual"):
        _randomize_last_layer(model)
    x, _ = harness.random_batch(model, 1, image_size=(30, 45))
    out = harness.predict(model, x)
    assert out.shape[:3] == (1, 30, 45)
    inputs = x if isinstance(x, dict) else {"image": x}
    kwargs = {}
    if "mask" in inputs:
        kwargs["mask"] = inputs["mask"][0]
    if "noise_level" in inputs:
        kwargs["sigma"] = float(inputs["noise_level"][0, 0]) * 255
    np.testing.assert_allclose(apply_to_image(model, inputs["image"][0], **kwargs), out[0],
                               atol=1e-5)


def test_untrained_fill_holes_model_returns_the_diffusion_fill():
    """The correction's last layer starts at zero: training starts from the classical fill."""
    from zoo.hole_fill import DiffusionFill

    model = build(mask_input=True, fill_holes=True)
    x, _ = harness.random_batch(model, 2)
    expected = np.asarray(DiffusionFill()(x["image"], x["mask"]))
    np.testing.assert_allclose(harness.predict(model, x), expected, atol=1e-6)
    assert model.get_layer("diffusion_fill").levels == 8


def test_fill_settings_reach_the_fill_and_the_config():
    model = build(mask_input=True, fill_holes=SMALL_FILL)
    fill = model.get_layer("diffusion_fill")
    assert {name: getattr(fill, name) for name in SMALL_FILL} == SMALL_FILL
    assert model.get_config()["fill_holes"] == SMALL_FILL


def test_untrained_residual_model_returns_its_input():
    """The residual head starts at zero, so training starts at the noisy input's PSNR."""
    model = build(residual=True, noise_level_input=True, pixel_unshuffle=2)
    x, _ = harness.random_batch(model, 2)
    np.testing.assert_allclose(harness.predict(model, x), x["image"], atol=1e-6)


def test_noise_level_reaches_the_output():
    model = build(residual=True, noise_level_input=True)
    _randomize_last_layer(model)
    x, _ = harness.random_batch(model, 2)
    low = harness.predict(model, dict(x, noise_level=np.zeros((2, 1), "float32")))
    high = harness.predict(model, dict(x, noise_level=np.full((2, 1), 0.2, "float32")))
    assert np.abs(low - high).max() > 1e-4


def test_pixel_shuffle_layers_are_exact_inverses_in_space_to_depth_order():
    import tensorflow as tf

    from zoo.image_layers import DepthToSpace, SpaceToDepth

    images = np.random.default_rng(0).random((2, 8, 12, 3)).astype("float32")
    packed = harness.predict(SpaceToDepth(2), images)
    np.testing.assert_array_equal(packed, tf.nn.space_to_depth(images, 2).numpy())
    np.testing.assert_array_equal(harness.predict(DepthToSpace(2), packed), images)
