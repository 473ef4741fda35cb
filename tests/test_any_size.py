"""Any image size through every path: `apply_to_image` (tiled or not, any tile) and
plain `model.predict` give the same output, because tiles overlap by the model's
measured receptive radius."""

import numpy as np
import pytest

import zoo
from tests import harness
from zoo.inference import (
    DEFAULT_OVERLAP,
    apply_to_image,
    receptive_radius,
    size_factor,
    tile_overlap,
)

pytestmark = pytest.mark.xdist_group("any_size")  # module fixtures run once


def _denoiser():
    model = zoo.create_model("unet", filters=[4, 8], normalization="none", residual=True,
                             pixel_unshuffle=2, noise_level_input=True)
    # to_image is zero-initialised: make the correction non-trivial
    harness.randomize_weights(model.get_layer("to_image"), np.random.default_rng(1))
    return model


@pytest.fixture(scope="module")
def denoiser():
    return _denoiser()


def test_overlap_is_the_receptive_radius_on_the_pooling_grid(denoiser):
    radius, overlap = receptive_radius(denoiser), tile_overlap(denoiser)
    # two 3x3 convs per level at 1/2, 1/4 and 1/8 resolution: tens of pixels, not hundreds
    assert 10 < radius < 100
    assert overlap >= radius and overlap % size_factor(denoiser) == 0


@pytest.mark.parametrize("height, width", [(200, 300), (75, 100)])
@pytest.mark.parametrize("tile", [None, 16, 96])
def test_tiled_equals_one_pass(denoiser, height, width, tile):
    image = np.random.default_rng(height).random((height, width, 3)).astype("float32")
    level = np.full((1, 1), 25 / 255, "float32")
    one_pass = denoiser.predict({"image": image[None], "noise_level": level}, verbose=0)[0]
    assert one_pass.shape == image.shape
    tiled = apply_to_image(denoiser, image, sigma=25, tile=tile)
    np.testing.assert_allclose(tiled, one_pass, atol=2e-6)


def test_a_deep_denoiser_is_tiled_exactly_at_1000_by_750():
    # unet_denoise_photos' depth, pooling, pixel-unshuffle and smooth blend (its reach,
    # 217 px), at narrow widths so the test stays cheap
    model = zoo.create_model("unet", filters=[2, 4, 4, 4], activation="leaky_relu",
                             pooling="avg", normalization="none", residual=True,
                             pixel_unshuffle=2, noise_level_input=True, smooth_blend=4)
    rng = np.random.default_rng(4)
    for name in ("to_image", "blend_logits"):
        harness.randomize_weights(model.get_layer(name), rng)
    assert 200 < receptive_radius(model) < 250
    image = rng.random((750, 1000, 3)).astype("float32")
    level = np.full((1, 1), 25 / 255, "float32")
    one_pass = model.predict({"image": image[None], "noise_level": level}, verbose=0)[0]
    np.testing.assert_allclose(apply_to_image(model, image, sigma=25), one_pass, atol=2e-6)


def test_a_model_with_global_context_keeps_the_default_overlap():
    inpainter = zoo.create_model("unet", filters=[4, 8], normalization="none",
                                 mask_input=True, fill_holes=True)
    assert receptive_radius(inpainter) is None  # the diffusion fill reaches everywhere
    assert tile_overlap(inpainter) == DEFAULT_OVERLAP


@pytest.fixture(scope="module")
def local_inpainter():
    # no diffusion fill: a finite receptive radius, so tiles can equal one pass exactly
    model = zoo.create_model("unet", filters=[4, 8], normalization="none", mask_input=True)
    harness.randomize_weights(model.get_layer("to_image"), np.random.default_rng(2))
    return model


def test_inpainting_runs_only_the_tiles_with_holes(local_inpainter, monkeypatch):
    height, width = 240, 360
    image = np.random.default_rng(3).random((height, width, 3)).astype("float32")
    mask = np.zeros((height, width, 1), "float32")
    mask[30:40, 300:330] = 1  # one stroke in the top-right corner
    one_pass = local_inpainter.predict({"image": image[None], "mask": mask[None]},
                                       verbose=0)[0]
    overlap = tile_overlap(local_inpainter)  # measured (and cached) before counting
    seen = []
    predict_on_batch = type(local_inpainter).predict_on_batch

    def counting_predict(self, inputs, *args, **kwargs):
        seen.append(len(inputs["image"]))
        return predict_on_batch(self, inputs, *args, **kwargs)

    monkeypatch.setattr(type(local_inpainter), "predict_on_batch", counting_predict)
    tiled = apply_to_image(local_inpainter, image, mask, tile=64)
    monkeypatch.undo()
    np.testing.assert_allclose(tiled, one_pass, atol=2e-6)
    np.testing.assert_array_equal(tiled[mask[..., 0] == 0], image[mask[..., 0] == 0])
    tiles_run = sum(seen)
    tile = max(64, 4 * overlap)
    step = tile - 2 * overlap
    all_tiles = len(range(0, height - tile, step)) + 1
    all_tiles *= len(range(0, width - tile, step)) + 1
    assert 1 <= tiles_run < all_tiles / 2, (tiles_run, all_tiles)
