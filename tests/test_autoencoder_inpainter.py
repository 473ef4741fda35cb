import numpy as np
import pytest

import zoo
from tests import harness

TINY = dict(image_shape=(None, None, 3), filters=(4, 8), kernel_size=3)
SMALL_FILL = dict(levels=3, steps=2, biharmonic_steps=2, taper=1, momentum=0.5)


def build(**overrides):
    return zoo.create_model("conv_autoencoder_inpainter", **{**TINY, **overrides})


def test_outputs_any_size_and_composite():
    model = build()
    assert model.output_names == ["inpainted"]
    harness.check_outputs(model, (32, 32, 3), (0.0, 1.0))
    harness.check_outputs(model, (16, 24, 3), (0.0, 1.0), image_size=(16, 24))
    harness.check_known_pixels_unchanged(model)


@pytest.mark.parametrize("variant", [
    dict(bottleneck="dense", image_shape=(16, 16, 1), bottleneck_units=8),
    dict(pooling="strided", upsampling="bilinear", normalization="instance", activation="elu"),
    dict(pooling="avg", activation="leaky_relu", dropout=0.2, l1=1e-4, l2=1e-4),
    dict(pixel_unshuffle=2),
    dict(pixel_unshuffle=2, bottleneck="dense", image_shape=(16, 16, 3), bottleneck_units=8),
])
def test_knobs_build_and_train(variant):
    model = build(**variant)
    harness.check_known_pixels_unchanged(model, image_size=(16, 16))
    history = harness.check_fit_step(model)
    assert {"hole_psnr", "hole_ssim", "psnr", "ssim"} <= set(history.history)


def test_serialization(tmp_path):
    model = build()
    harness.check_config_round_trip(model)
    harness.check_keras_file_round_trip(model, tmp_path)


def test_bad_inputs():
    with pytest.raises(ValueError, match="divisible by 4"):
        build(image_shape=(30, 32, 3))
    with pytest.raises(ValueError, match="fixed image_shape"):
        build(bottleneck="dense")
    with pytest.raises(ValueError, match="divisible by 8"):
        build(image_shape=(20, 32, 3), pixel_unshuffle=2)
    with pytest.raises(ValueError, match="pixel_unshuffle must be an int >= 1"):
        build(pixel_unshuffle=0)
    with pytest.raises(ValueError, match="Unknown pooling 'median'"):
        build(pooling="median")
    model = build(image_shape=(16, 16, 3))
    wrong_channels = {"image": np.zeros((1, 16, 16, 4), "float32"),
                      "mask": np.zeros((1, 16, 16, 1), "float32")}
    harness.check_bad_input_shape(model, wrong_channels, "shape")


def test_any_size_is_padded_in_the_graph_like_apply_to_image():
    """32 x 18 (not a multiple of 4) gives the 32 x 20 reflect-padded result, cropped."""
    model = build()
    x, _ = harness.random_batch(model, 1, image_size=(32, 18))
    padded = {"image": np.pad(x["image"], ((0, 0), (0, 0), (0, 2), (0, 0)), mode="reflect"),
              "mask": np.pad(x["mask"], ((0, 0), (0, 0), (0, 2), (0, 0)))}
    out = model.predict(x, verbose=0)
    assert out.shape == (1, 32, 18, 3)
    np.testing.assert_allclose(out, model.predict(padded, verbose=0)[:, :, :18], atol=1e-6)


def test_pixel_unshuffle_pads_to_its_larger_multiple_and_starts_at_the_fill():
    """With pixel_unshuffle 2 and depth 2, 32 x 18 is padded to 32 x 24 (multiples of 8);
    an untrained model with a fill returns the fill, at full resolution."""
    from zoo.hole_fill import DiffusionFill

    model = build(pixel_unshuffle=2, fill_holes=SMALL_FILL)
    assert model.get_layer("pixel_unshuffle").output.shape[1:] == (None, None, 16)
    x, _ = harness.random_batch(model, 1, image_size=(32, 18))
    padded = {"image": np.pad(x["image"], ((0, 0), (0, 0), (0, 6), (0, 0)), mode="reflect"),
              "mask": np.pad(x["mask"], ((0, 0), (0, 0), (0, 6), (0, 0)))}
    expected = np.asarray(DiffusionFill(**SMALL_FILL)(padded["image"], padded["mask"]))
    np.testing.assert_allclose(harness.predict(model, x), expected[:, :, :18], atol=1e-6)
    assert model.get_config()["pixel_unshuffle"] == 2


def test_gated_correction_starts_at_the_fill_and_opens_its_gate(tmp_path):
    """The gate starts at zero (the output is the fill exactly), gets a gradient of its
    own, so one fit step opens it; once open, every layer gets a gradient."""
    from zoo.hole_fill import DiffusionFill

    model = build(fill_holes=SMALL_FILL, gated_correction=True)
    x, _ = harness.random_batch(model, 2)
    expected = np.asarray(DiffusionFill(**SMALL_FILL)(x["image"], x["mask"]))
    np.testing.assert_allclose(harness.predict(model, x), expected, atol=1e-6)
    gate = model.get_layer("correction_gate").gate
    assert float(gate.numpy()) == 0.0
    assert np.any(model.get_layer("to_image").kernel.numpy() != 0)
    model.compile()
    model.fit(*harness.random_batch(model, 4), batch_size=4, epochs=1, verbose=0)
    assert float(gate.numpy()) != 0.0
    harness.check_fit_step(model)
    assert model.get_config()["gated_correction"] is True
    harness.check_keras_file_round_trip(model, tmp_path)
    with pytest.raises(ValueError, match="gated_correction .* needs fill_holes"):
        build(gated_correction=True)


def test_fill_holes_starts_at_the_diffusion_fill_then_trains(tmp_path):
    from zoo.hole_fill import DiffusionFill

    model = build(fill_holes=SMALL_FILL)
    x, _ = harness.random_batch(model, 2)
    expected = np.asarray(DiffusionFill(**SMALL_FILL)(x["image"], x["mask"]))
    np.testing.assert_allclose(harness.predict(model, x), expected, atol=1e-6)
    harness.check_known_pixels_unchanged(model)
    kernel = model.get_layer("to_image").kernel  # zero at the start: give upstream a gradient
    kernel.assign(np.random.default_rng(0).normal(0, 0.01, kernel.shape))
    harness.check_fit_step(model)
    assert model.get_config()["fill_holes"] == SMALL_FILL
    harness.check_keras_file_round_trip(model, tmp_path)
    with pytest.raises(ValueError, match="fill_holes must be True, False or a dict"):
        build(fill_holes="telea")
