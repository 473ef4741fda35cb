"""benchmarks/classical_peers.py: the classical inpainting / denoising / segmentation peers
and the metrics of the quality benchmark, on tiny images."""


import numpy as np
import pytest

pytest.importorskip("cv2")
pytest.importorskip("bm3d")

import classical_peers as cp

from zoo.metrics import label_mean_iou  # noqa: E402

SIZE = 48


def smooth_image(channels):
    """(SIZE, SIZE, channels) float32: a colour gradient plus a gentle bump, in [0.1, 0.9]."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    planes = [0.1 + 0.5 * xx + 0.3 * yy, 0.9 - 0.6 * yy, 0.5 + 0.2 * np.sin(3 * xx) * yy]
    return np.stack(planes[:channels], axis=-1).astype(np.float32)


def hole_mask():
    mask = np.zeros((SIZE, SIZE, 1), np.float32)
    mask[18:30, 14:34] = 1
    return mask


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name", list(cp.INPAINTING_PEERS))
def test_inpainting_keeps_known_pixels_and_fills_the_hole(name, channels):
    image, mask = smooth_image(channels), hole_mask()
    holed = image * (1 - mask)  # what the peer sees under the hole must not matter
    out = cp.INPAINTING_PEERS[name](holed, mask)
    assert out.shape == image.shape and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1
    known = mask[..., 0] == 0
    np.testing.assert_array_equal(out[known], image[known])
    hole = ~known
    black_error = np.mean(image[hole] ** 2)
    assert np.mean((out[hole] - image[hole]) ** 2) < 0.01 * black_error
    # an (H, W) mask means the same as (H, W, 1)
    np.testing.assert_array_equal(cp.INPAINTING_PEERS[name](holed, mask[..., 0]), out)


@pytest.mark.parametrize("name", list(cp.INPAINTING_PEERS))
def test_inpainting_rejects_mismatched_mask(name):
    with pytest.raises(ValueError, match="mask shape"):
        cp.INPAINTING_PEERS[name](smooth_image(3), np.zeros((SIZE, SIZE - 1, 1)))
    with pytest.raises(ValueError, match=r"\(H, W, C\)"):
        cp.INPAINTING_PEERS[name](smooth_image(3)[..., 0], np.zeros((SIZE, SIZE)))


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name", list(cp.DENOISING_PEERS))
def test_denoisers_lower_the_error_at_sigma_25(name, channels):
    clean = smooth_image(channels)
    noise = np.random.default_rng(0).normal(0, 25 / 255, clean.shape)
    noisy = np.clip(clean + noise, 0, 1).astype(np.float32)
    out = cp.DENOISING_PEERS[name](noisy, 25)
    assert out.shape == clean.shape and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1
    assert np.mean((out - clean) ** 2) < 0.2 * np.mean((noisy - clean) ** 2)
    with pytest.raises(ValueError, match="sigma"):
        cp.DENOISING_PEERS[name](noisy, -1)


def test_timed_returns_the_result_and_the_median():
    calls = []
    result, seconds = cp.timed(lambda x: calls.append(x) or x * 2, 21, repeats=5)
    assert result == 42 and len(calls) == 5 and 0 <= seconds < 1


def test_segment_shapes_on_validation_scenes():
    from training.datasets import shapes_scenes

    images, labels = shapes_scenes("validation", 4, 64, 64)
    predictions = [cp.segment_shapes_classical(image) for image in images]
    assert all(p.dtype == np.int32 and p.shape == (64, 64) for p in predictions)
    assert all(set(np.unique(p)) <= {0, 1, 2, 3} for p in predictions)
    # measured 0.950 on these 4 scenes (0.951 on 32); all background would score ~0.25
    score = np.mean([label_mean_iou(p, t, 4) for p, t in zip(predictions, labels, strict=True)])
    assert score > 0.9


def test_tune_on_validation_runs(capsys):
    best = cp.tune_on_validation(sigmas=(25,), nlm_factors=(0.9,), tv_factors=(0.5, 0.75),
                                 crop=48)
    assert best["nlm"] in {("rgb", 0.9), ("lab", 0.9)} and best["tv"] in (0.5, 0.75)
    assert "sigma  25" in capsys.readouterr().out
