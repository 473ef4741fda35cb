"""Noise-strength estimation and denoising with a set or estimated strength."""

import numpy as np
import pytest

import zoo
from tests import harness
from training.synthetic import smooth_images
from zoo.inference import apply_to_image, noise_level_for
from zoo.noise_level import estimate_sigma

pytestmark = pytest.mark.xdist_group("noise_level")  # module fixtures run once


def _noisy(sigma, seed=0, size=128):
    rng = np.random.default_rng(seed)
    clean = 0.25 + 0.5 * smooth_images(rng, 1, size, size, 3)[0]
    noise = rng.standard_normal(clean.shape).astype(np.float32) * sigma / 255
    return np.clip(clean + noise, 0, 1)


@pytest.mark.parametrize("sigma", [5, 15, 25, 50])
def test_estimate_is_within_ten_percent_on_smooth_images(sigma):
    assert estimate_sigma(_noisy(sigma)) == pytest.approx(sigma, rel=0.1)


def test_clean_image_reads_almost_no_noise_and_tiny_images_raise():
    assert estimate_sigma(_noisy(0)) < 1.0
    with pytest.raises(ValueError, match="at least 2 x 2"):
        estimate_sigma(np.zeros((1, 5, 3), np.float32))


def test_clipped_dark_image_is_estimated_from_mid_tones():
    """Noise clipped at black shrinks; the mid-tone half of the image still reads right."""
    image = _noisy(0)
    image[:, :64] = 0.02
    rng = np.random.default_rng(1)
    noisy = np.clip(image + rng.standard_normal(image.shape).astype(np.float32) * 40 / 255, 0, 1)
    assert estimate_sigma(noisy) == pytest.approx(40, rel=0.1)


@pytest.fixture(scope="module")
def denoiser():
    model = zoo.create_model("unet", filters=(4, 8), residual=True, noise_level_input=True,
                             pixel_unshuffle=2)
    kernel = model.get_layer("to_image").kernel
    kernel.assign(np.random.default_rng(0).normal(0, 0.05, kernel.shape))
    return model


def test_apply_to_image_passes_the_given_or_estimated_sigma(denoiser):
    noisy = _noisy(25)[:60, :90]  # not a multiple of the model's size factor
    given = apply_to_image(denoiser, noisy, sigma=estimate_sigma(noisy))
    estimated = apply_to_image(denoiser, noisy)
    np.testing.assert_allclose(given, estimated, atol=1e-6)
    other = apply_to_image(denoiser, noisy, sigma=0)
    assert np.abs(other - given).max() > 1e-4
    padded = np.pad(noisy, ((0, 4), (0, 6), (0, 0)), mode="reflect")
    x = {"image": padded[None], "noise_level": np.full((1, 1), 25 / 255, np.float32)}
    np.testing.assert_allclose(apply_to_image(denoiser, noisy, sigma=25),
                               harness.predict(denoiser, x)[0, :60, :90], atol=1e-5)


def test_tiles_agree_with_one_pass(denoiser):
    """With an overlap of 56 px, about the tiny model's receptive field: tiles differ from
    one pass only where the field's faint edge reaches past a tile (< 5e-4)."""
    noisy = _noisy(25, size=176)
    whole = apply_to_image(denoiser, noisy, sigma=25)
    tiled = apply_to_image(denoiser, noisy, sigma=25, tile=128, overlap=56)
    np.testing.assert_allclose(tiled, whole, atol=5e-4)


def test_sigma_errors_are_clear(denoiser):
    with pytest.raises(ValueError, match=r"sigma must be in \[0, 255\]"):
        noise_level_for(denoiser, _noisy(5), 300)
    blind = zoo.create_model("unet", filters=(4, 8), residual=True)
    with pytest.raises(ValueError, match="takes no noise strength"):
        apply_to_image(blind, _noisy(5)[:32, :32], sigma=10)
    assert noise_level_for(blind, _noisy(5), None) is None
