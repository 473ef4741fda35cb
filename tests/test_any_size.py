"""Any image size through every path: `apply_to_image` (tiled or not, any tile) and
plain `model.predict` give the same output, because tiles overlap by the model's
measured receptive radius."""

import numpy as np
import pytest

import zoo
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
    head = model.get_layer("to_image")  # zero-initialised: make the correction non-trivial
    rng = np.random.default_rng(1)
    head.set_weights([rng.normal(0, 0.2, w.shape).astype("float32")
                      for w in head.get_weights()])
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


def test_a_model_with_global_context_keeps_the_default_overlap():
    inpainter = zoo.create_model("unet", filters=[4, 8], normalization="none",
                                 mask_input=True, fill_holes=True)
    assert receptive_radius(inpainter) is None  # the diffusion fill reaches everywhere
    assert tile_overlap(inpainter) == DEFAULT_OVERLAP
