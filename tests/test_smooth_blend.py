"""`SmoothBlend`: the per-pixel mix of a denoiser's output with block means of its input."""

import numpy as np
import pytest

from zoo.smooth_blend import (
    OWN_OUTPUT_SHARE,
    SmoothBlend,
    blend_block_sizes,
    upsample_bilinear,
    weighted_sum,
)


def _noisy_flat(rng, size=64, sigma=25 / 255):
    clean = np.full((1, size, size, 3), 0.4, np.float32)
    return clean, np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 1).astype(np.float32)


def _psnr(a, b):
    return 10 * np.log10(1 / np.mean((a - b) ** 2))


@pytest.mark.parametrize("factor", [4, 32])
def test_upsampling_is_tensorflows_bilinear_resize(factor):
    import tensorflow as tf

    small = np.random.default_rng(factor).random((2, 3, 5, 3)).astype(np.float32)
    size = (3 * factor, 5 * factor)
    expected = tf.image.resize(small, size, method="bilinear").numpy()
    np.testing.assert_allclose(np.asarray(upsample_bilinear(small, factor, size)), expected,
                               atol=1e-5)


@pytest.mark.parametrize("factor", [4, 32])
def test_upsampling_in_a_graph_of_open_size_is_the_same_resize(factor):
    import tensorflow as tf

    small = np.random.default_rng(factor).random((2, 3, 5, 3)).astype(np.float32)
    expected = tf.image.resize(small, (3 * factor, 5 * factor), method="bilinear").numpy()

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3))])
    def open_size(images):  # H and W unknown when traced: the transposed convolution
        shape = tf.shape(images)
        return upsample_bilinear(images, factor, (shape[1] * factor, shape[2] * factor))

    np.testing.assert_allclose(open_size(small).numpy(), expected, atol=1e-5)


def test_weighted_sum_weighs_each_candidate_by_its_channel():
    rng = np.random.default_rng(3)
    weights = rng.random((2, 4, 6, 3)).astype(np.float32)
    candidates = [rng.random((2, 4, 6, 3)).astype(np.float32) for _ in range(3)]
    expected = sum(weights[..., k:k + 1] * candidates[k] for k in range(3))
    np.testing.assert_allclose(np.asarray(weighted_sum(weights, candidates)), expected,
                               atol=1e-6)


def test_block_sizes_double_from_four():
    assert blend_block_sizes(4) == (4, 8, 16, 32)


def test_zero_logits_start_at_the_networks_output():
    rng = np.random.default_rng(0)
    clean, noisy = _noisy_flat(rng)
    restored = rng.random(noisy.shape).astype(np.float32)
    blend = SmoothBlend(2)
    out = np.asarray(blend(restored, noisy, np.zeros((1, 64, 64, 3), np.float32)))
    # the network's output keeps OWN_OUTPUT_SHARE of the weight, the rest is near-flat means
    np.testing.assert_allclose(out, OWN_OUTPUT_SHARE * restored + (1 - OWN_OUTPUT_SHARE) * 0.4,
                               atol=0.01)


def test_choosing_the_largest_block_removes_noise_on_a_flat_area():
    rng = np.random.default_rng(1)
    clean, noisy = _noisy_flat(rng)
    logits = np.zeros((1, 64, 64, 5), np.float32)
    logits[..., 4] = 50.0  # every pixel takes the 32 px block means
    out = np.asarray(SmoothBlend(4)(noisy, noisy, logits))
    assert out.shape == noisy.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    # a 32 x 32 mean divides the noise RMS by 32 (30 dB), bilinear mixing of means by less
    assert _psnr(out, clean) > _psnr(noisy, clean) + 25


def test_levels_are_checked():
    with pytest.raises(ValueError, match="smooth_blend levels must be an int >= 1"):
        SmoothBlend(0)
