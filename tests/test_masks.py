"""training.masks: binary (H, W, 1) float32 masks, hole area inside the asked range,
seeded determinism, stroke widths per preset, boxes, argument checks."""

import numpy as np
import pytest

from training.masks import MASK_PRESETS, box_mask, random_mask, random_masks, stroke_mask

ndimage = pytest.importorskip("scipy.ndimage")

KINDS = sorted(MASK_PRESETS)
SIZES = [(16, 16), (64, 48), (256, 256)]


def assert_binary_mask(mask, height, width):
    assert mask.shape == (height, width, 1)
    assert mask.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, 1.0}


def test_presets_cover_the_documented_kinds():
    assert {"thin", "medium", "thick", "box", "blob", "mixed"} <= set(MASK_PRESETS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_area_within_range_for_every_kind_and_size(kind, size):
    rng = np.random.default_rng(0)
    seeds = 40 if size[0] < 256 else 8
    for area_range in [(0.02, 0.25), (0.3, 0.35), (0.45, 0.5)]:
        for _ in range(seeds):
            mask = random_mask(rng, *size, kind=kind, area_range=area_range)
            assert_binary_mask(mask, *size)
            assert area_range[0] <= mask.mean() <= area_range[1]


@pytest.mark.parametrize("kind", ["thin", "medium", "thick", "box", "blob"])
def test_narrow_range_and_large_non_square_image(kind):
    rng = np.random.default_rng(1)
    for size in [(16, 16), (512, 384)]:
        for area_range in [(0.02, 0.03), (0.5, 0.5)]:
            mask = random_mask(rng, *size, kind=kind, area_range=area_range)
            assert_binary_mask(mask, *size)
            assert area_range[0] <= mask.mean() <= area_range[1]


def test_areas_spread_over_the_range():
    rng = np.random.default_rng(2)
    areas = [random_mask(rng, 64, 64, "medium", (0.05, 0.3)).mean() for _ in range(60)]
    assert min(areas) < 0.1 and max(areas) > 0.25


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_mask_different_seed_different_mask(kind):
    first = random_mask(np.random.default_rng(7), 64, 48, kind)
    again = random_mask(np.random.default_rng(7), 64, 48, kind)
    other = random_mask(np.random.default_rng(8), 64, 48, kind)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def mean_depth(kind, seeds=12):
    """Mean distance of hole pixels to the nearest known pixel: half a stroke's width."""
    rng = np.random.default_rng(3)
    depths = []
    for _ in range(seeds):
        hole = random_mask(rng, 128, 128, kind, (0.1, 0.2))[..., 0] > 0
        depths.append(ndimage.distance_transform_edt(hole)[hole].mean())
    return np.mean(depths)


def test_thin_strokes_are_thinner_than_medium_and_thick():
    thin, medium, thick = mean_depth("thin"), mean_depth("medium"), mean_depth("thick")
    assert thin < 0.6 * medium
    assert medium < 0.6 * thick


@pytest.mark.parametrize("size", SIZES + [(48, 80)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_box_is_one_filled_rectangle(size):
    rng = np.random.default_rng(4)
    for _ in range(30):
        for mask in (random_mask(rng, *size, "box"), box_mask(rng, *size, area_range=(0.1, 0.4))):
            rows, cols = np.nonzero(mask[..., 0])
            box = mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
            assert box.all()
            assert mask.sum() == box.size


def test_stroke_mask_is_binary_non_empty_and_scales_with_image_size():
    rng = np.random.default_rng(5)
    preset = MASK_PRESETS["medium"]
    small = [stroke_mask(rng, 64, 64, **preset) for _ in range(30)]
    large = [stroke_mask(rng, 256, 256, **preset) for _ in range(30)]
    for mask in small:
        assert_binary_mask(mask, 64, 64)
        assert mask.sum() > 0
    # Widths and lengths are fractions of the image side, so the hole fraction is alike.
    ratio = np.mean([m.mean() for m in large]) / np.mean([m.mean() for m in small])
    assert 0.6 < ratio < 1.6


def test_random_masks_batch():
    masks = random_masks(np.random.default_rng(6), 5, 32, 40, "mixed", (0.05, 0.2))
    assert masks.shape == (5, 32, 40, 1) and masks.dtype == np.float32
    assert len({m.tobytes() for m in masks}) == 5
    assert np.all((0.05 <= masks.mean(axis=(1, 2, 3))) & (masks.mean(axis=(1, 2, 3)) <= 0.2))


@pytest.mark.parametrize("area_range", [(0, 0.1), (-0.1, 0.2), (0.1, 0.6), (0.3, 0.2)])
def test_bad_area_range_raises(area_range):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="area_range"):
        random_mask(rng, 32, 32, "thin", area_range)
    with pytest.raises(ValueError, match="area_range"):
        box_mask(rng, 32, 32, area_range=area_range)


def test_range_with_no_whole_pixel_count_raises():
    with pytest.raises(ValueError, match="area_range"):
        random_mask(np.random.default_rng(0), 16, 16, "thick", (0.1, 0.1))


def test_unknown_kind_lists_the_valid_ones():
    with pytest.raises(ValueError, match="scribble") as error:
        random_mask(np.random.default_rng(0), 32, 32, "scribble")
    for kind in KINDS:
        assert kind in str(error.value)


def test_blob_is_one_compact_lump_not_a_scatter():
    """A blob stays near its centre: its bounding box is far smaller than the image."""
    rng = np.random.default_rng(9)
    for _ in range(10):
        mask = random_mask(rng, 128, 128, "blob", (0.03, 0.08))[..., 0]
        rows, cols = np.nonzero(mask)
        box_area = (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
        assert box_area < 0.35 * mask.size
        assert mask.sum() / box_area > 0.3
