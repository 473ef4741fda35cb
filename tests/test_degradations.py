"""training.degradations: noise levels and clipping, seeded determinism, augmentation
that keeps image / mask / labels aligned, random crops."""

import numpy as np
import pytest

from training.degradations import add_gaussian_noise, augment, random_crop


def coordinate_image(height, width):
    """(H, W, 3) float32 whose pixel encodes its own (row, col): channel 0 = row,
    channel 1 = col, channel 2 = 0.5; and (H, W) int32 labels row * W + col."""
    rows, cols = np.mgrid[0:height, 0:width]
    image = np.stack([rows / (height - 1), cols / (width - 1), np.full(rows.shape, 0.5)], -1)
    return image.astype(np.float32), (rows * width + cols).astype(np.int32)


def decode(image, height, width):
    """Original flat index of each pixel of a geometrically transformed coordinate image."""
    rows = np.rint(image[..., 0] * (height - 1)).astype(int)
    cols = np.rint(image[..., 1] * (width - 1)).astype(int)
    return rows * width + cols


# ---------------------------------------------------------------- noise


def test_noise_std_matches_sigma_on_mid_grey():
    clean = np.full((4, 64, 64, 3), 0.5, np.float32)
    noisy, sigmas = add_gaussian_noise(np.random.default_rng(0), clean, 25)
    np.testing.assert_array_equal(sigmas, np.full(4, 25, np.float32))
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape
    assert np.std(noisy - clean) == pytest.approx(25 / 255, rel=0.03)
    assert np.mean(noisy - clean) == pytest.approx(0, abs=0.003)


def test_per_image_sigmas_lie_in_range_and_drive_the_noise():
    clean = np.full((16, 48, 48, 1), 0.5, np.float32)
    noisy, sigmas = add_gaussian_noise(np.random.default_rng(1), clean, (5, 30))
    assert sigmas.shape == (16,) and sigmas.dtype == np.float32
    assert np.all((5 <= sigmas) & (sigmas <= 30))
    assert sigmas.max() - sigmas.min() > 10  # drawn per image, not once per batch
    measured = (noisy - clean).std(axis=(1, 2, 3)) * 255
    np.testing.assert_allclose(measured, sigmas, rtol=0.06)


def test_noise_is_clipped_to_unit_range():
    for value in (0.0, 1.0):
        clean = np.full((2, 32, 32, 3), value, np.float32)
        noisy, _ = add_gaussian_noise(np.random.default_rng(2), clean, 50)
        assert noisy.min() >= 0 and noisy.max() <= 1
        assert np.mean(noisy != value) > 0.4  # about half the noise points inward


def test_single_image_and_zero_sigma():
    image = np.random.default_rng(3).random((8, 8, 3), dtype=np.float32)
    noisy, sigma = add_gaussian_noise(np.random.default_rng(3), image, 0)
    assert noisy.shape == (8, 8, 3) and sigma.shape == () and sigma == 0
    np.testing.assert_array_equal(noisy, image)


def test_noise_is_deterministic_per_seed():
    clean = np.full((2, 16, 16, 3), 0.5, np.float32)
    first = add_gaussian_noise(np.random.default_rng(4), clean)
    again = add_gaussian_noise(np.random.default_rng(4), clean)
    other = add_gaussian_noise(np.random.default_rng(5), clean)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("sigma_range", [(-1, 10), (10, 5), (0, 300), -5, 256])
def test_bad_sigma_range_raises(sigma_range):
    with pytest.raises(ValueError, match="sigma_range"):
        add_gaussian_noise(np.random.default_rng(0), np.zeros((4, 4, 1), np.float32), sigma_range)


# ---------------------------------------------------------------- augment


def check_alignment(image_out, mask_out, labels_out, mask, height, width):
    index = decode(image_out, height, width)
    np.testing.assert_array_equal(labels_out, index)
    np.testing.assert_array_equal(mask_out[..., 0], mask[..., 0].ravel()[index])


@pytest.mark.parametrize("size,transforms", [((12, 12), 8), ((10, 14), 4)])
def test_augment_moves_image_mask_and_labels_together(size, transforms):
    height, width = size
    image, labels = coordinate_image(height, width)
    mask = (np.random.default_rng(0).random((height, width, 1)) < 0.3).astype(np.float32)
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(60):
        image_out, mask_out, labels_out = augment(rng, image, mask, labels, color_jitter=0)
        assert image_out.shape == image.shape and mask_out.shape == mask.shape
        assert labels_out.shape == labels.shape and labels_out.dtype == np.int32
        check_alignment(image_out, mask_out, labels_out, mask, height, width)
        seen.add(labels_out.tobytes())
    # Square images see all 8 flips / rotations; others the 4 that keep the shape.
    assert len(seen) == transforms


def test_augment_without_flips_or_rotation_is_identity_geometry():
    image, labels = coordinate_image(8, 8)
    out_image, out_labels = augment(
        np.random.default_rng(0), image, labels, flips=False, rotate90=False, color_jitter=0
    )
    np.testing.assert_array_equal(out_image, image)
    np.testing.assert_array_equal(out_labels, labels)


@pytest.mark.parametrize("label_dtype", [np.uint8, np.int64, bool])
def test_augment_keeps_label_dtype(label_dtype):
    image, labels = coordinate_image(6, 6)
    _, out = augment(np.random.default_rng(0), image, (labels % 2).astype(label_dtype))
    assert out.dtype == label_dtype


def test_jitter_changes_only_the_image_and_stays_in_unit_range():
    image = np.random.default_rng(2).random((16, 16, 3), dtype=np.float32)
    _, labels = coordinate_image(16, 16)
    mask = (labels % 3 == 0)[..., None].astype(np.float32)
    for seed in range(10):
        plain = augment(np.random.default_rng(seed), image, mask, labels, color_jitter=0)
        jittered = augment(np.random.default_rng(seed), image, mask, labels, color_jitter=0.3)
        # Same seed, same geometry: the aligned arrays are untouched by the jitter.
        np.testing.assert_array_equal(jittered[1], plain[1])
        np.testing.assert_array_equal(jittered[2], plain[2])
        assert jittered[0].dtype == np.float32
        assert jittered[0].min() >= 0 and jittered[0].max() <= 1
        assert not np.allclose(jittered[0], plain[0])


def test_jitter_on_a_single_channel_image():
    grey = np.full((8, 8, 1), 0.9, np.float32)
    (out,) = augment(np.random.default_rng(0), grey, color_jitter=0.5)
    assert out.shape == (8, 8, 1) and out.min() >= 0 and out.max() <= 1


def test_augment_is_deterministic_per_seed():
    image = np.random.default_rng(3).random((16, 16, 3), dtype=np.float32)
    first = augment(np.random.default_rng(9), image)[0]
    np.testing.assert_array_equal(first, augment(np.random.default_rng(9), image)[0])


def test_augment_rejects_misaligned_arrays_and_bad_jitter():
    image = np.zeros((8, 8, 3), np.float32)
    with pytest.raises(ValueError, match="aligned"):
        augment(np.random.default_rng(0), image, np.zeros((8, 6, 1)))
    with pytest.raises(ValueError, match="color_jitter"):
        augment(np.random.default_rng(0), image, color_jitter=1.5)


# ---------------------------------------------------------------- random_crop


def test_random_crop_cuts_the_same_window_everywhere():
    image, labels = coordinate_image(20, 30)
    mask = (labels % 7 == 0)[..., None].astype(np.float32)
    rng = np.random.default_rng(0)
    corners = set()
    for _ in range(30):
        crop, mask_crop, label_crop = random_crop(rng, image, 8, 12, mask, labels)
        assert crop.shape == (8, 12, 3) and mask_crop.shape == (8, 12, 1)
        assert label_crop.shape == (8, 12) and label_crop.dtype == np.int32
        index = decode(crop, 20, 30)
        np.testing.assert_array_equal(label_crop, index)
        np.testing.assert_array_equal(mask_crop[..., 0], mask[..., 0].ravel()[index])
        top, left = divmod(int(index[0, 0]), 30)
        np.testing.assert_array_equal(label_crop, labels[top:top + 8, left:left + 12])
        corners.add((top, left))
    assert len(corners) > 10


def test_random_crop_of_the_full_size_is_the_image():
    image, labels = coordinate_image(9, 7)
    crop, label_crop = random_crop(np.random.default_rng(0), image, 9, 7, labels)
    np.testing.assert_array_equal(crop, image)
    np.testing.assert_array_equal(label_crop, labels)


@pytest.mark.parametrize("crop", [(10, 5), (5, 10)])
def test_random_crop_larger_than_image_raises(crop):
    with pytest.raises(ValueError, match="larger than the image"):
        random_crop(np.random.default_rng(0), np.zeros((8, 8, 3), np.float32), *crop)
