"""DiffusionFill: the in-graph classical fill a `fill_holes` U-Net corrects."""

import keras
import numpy as np
import pytest

from zoo.export_forms import tflite_forms
from zoo.hole_fill import DiffusionFill, _biharmonic_kernel, _smoothing_kernel


def fill(image, mask, **config):
    return np.asarray(DiffusionFill(**config)(image[None], mask[None]))[0]


def box_mask(height, width, top, left, size):
    mask = np.zeros((height, width, 1), np.float32)
    mask[top:top + size, left:left + size] = 1.0
    return mask


def test_known_pixels_are_kept_and_values_stay_in_range():
    rng = np.random.default_rng(0)
    image = rng.random((40, 56, 3)).astype(np.float32)
    mask = (rng.random((40, 56, 1)) > 0.6).astype(np.float32)
    out = fill(image * (1 - mask), mask)
    known = mask[..., 0] == 0
    np.testing.assert_array_equal(out[known], image[known])
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_a_constant_image_is_filled_with_its_constant():
    image = np.full((64, 64, 3), [0.2, 0.5, 0.9], np.float32)
    mask = box_mask(64, 64, 16, 16, 32)
    np.testing.assert_allclose(fill(image * (1 - mask), mask), image, atol=1e-5)


def test_a_ramp_under_a_scratch_is_interpolated():
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32)[None, :, None], (64, 1, 3))
    mask = np.zeros((64, 64, 1), np.float32)
    mask[:, 30:34] = 1.0  # a vertical scratch 4 px wide across the ramp
    out = fill(ramp * (1 - mask), mask)
    hole = mask[..., 0] == 1
    # 1/63 is one column's step: the fill is within a quarter of it
    assert np.abs(out[hole] - ramp[hole]).max() < 0.25 / 63


def test_the_middle_of_a_large_box_gets_colour_from_both_sides():
    image = np.zeros((64, 64, 3), np.float32)
    image[:, :32, 0] = 1.0  # red left half
    image[:, 32:, 2] = 1.0  # blue right half
    mask = box_mask(64, 64, 8, 8, 48)
    out = fill(image * (1 - mask), mask)
    left, middle, right = out[32, 10], out[32, 31:33].mean(axis=0), out[32, 53]
    assert left[0] > 0.8 and right[2] > 0.8
    assert 0.3 < middle[0] < 0.7 and 0.3 < middle[2] < 0.7


def test_more_levels_reach_further_into_a_box():
    image = np.full((64, 64, 3), 0.6, np.float32)
    mask = box_mask(64, 64, 0, 0, 60)  # known pixels only in a 4 px L at two sides
    shallow = fill(image * (1 - mask), mask, levels=1, steps=2)
    deep = fill(image * (1 - mask), mask, levels=6, steps=2)
    assert abs(shallow[10, 10, 0] - 0.6) > 0.3  # one level cannot carry colour 50 px
    assert abs(deep[10, 10, 0] - 0.6) < 1e-3


def test_odd_sizes_keep_their_shape():
    rng = np.random.default_rng(1)
    image = rng.random((37, 53, 3)).astype(np.float32)
    mask = (rng.random((37, 53, 1)) > 0.5).astype(np.float32)
    out = fill(image, mask)
    assert out.shape == (37, 53, 3) and np.isfinite(out).all()


@pytest.mark.parametrize("kernel", [_smoothing_kernel(), _biharmonic_kernel()],
                         ids=["smoothing", "biharmonic"])
def test_kernels_survive_int8_weight_quantization_and_sum_to_one(kernel):
    """TFLite stores a conv kernel per channel as round(w / s) * s with s = max|w| / 127; a
    kernel that does not survive that gains (or loses) brightness at every step."""
    scale = np.abs(kernel).max() / 127.0
    np.testing.assert_allclose(np.round(kernel / scale) * scale, kernel, rtol=0, atol=1e-12)
    assert abs(kernel.sum() - 1.0) < 1e-12


def test_biharmonic_steps_continue_a_curved_profile_better_than_smoothing():
    x = np.linspace(-1, 1, 64, dtype=np.float32)
    bump = np.tile((0.9 - 0.8 * x ** 2)[None, :, None], (64, 1, 3))
    mask = np.zeros((64, 64, 1), np.float32)
    mask[:, 24:40] = 1.0  # a 16 px band over the top of the bump
    hole = mask[..., 0] == 1
    errors = [np.abs(fill(bump * (1 - mask), mask, steps=8, biharmonic_steps=b) - bump)[hole].mean()
              for b in (0, 16)]
    # a quadratic solves the biharmonic equation: the steps cut the error by a third
    assert errors[1] < 0.7 * errors[0]


def test_momentum_converges_further_in_the_same_steps():
    bump = np.tile((0.9 - 0.8 * np.linspace(-1, 1, 64, dtype=np.float32) ** 2)[None, :, None],
                   (64, 1, 3))
    mask = box_mask(64, 64, 8, 16, 32)
    hole = mask[..., 0] == 1
    errors = [np.abs(fill(bump * (1 - mask), mask, momentum=m) - bump)[hole].mean()
              for m in (0.0, 0.9)]
    assert errors[1] < 0.5 * errors[0]  # measured: 0.025 against 0.075


def test_coarse_levels_of_one_pixel_compile_with_xla():
    image = keras.Input((8, 8, 3))
    mask = keras.Input((8, 8, 1))
    model = keras.Model([image, mask], DiffusionFill(levels=5, steps=1, biharmonic_steps=1)(
        image, mask))
    model.compile(jit_compile=True)
    rng = np.random.default_rng(2)
    x = rng.random((2, 8, 8, 3)).astype(np.float32)
    m = (rng.random((2, 8, 8, 1)) > 0.5).astype(np.float32)
    np.testing.assert_allclose(model.predict([x, m], verbose=0), model([x, m]), atol=1e-5)


def test_the_finest_levels_run_fewer_steps():
    layer = DiffusionFill(steps=8, biharmonic_steps=16, taper=2)
    assert [layer.steps_at(level) for level in (0, 1, 2, 7)] == [(2, 4), (4, 8), (8, 16),
                                                                 (8, 16)]
    assert DiffusionFill(steps=3, biharmonic_steps=0, taper=1).steps_at(0) == (2, 0)


def test_config_round_trip_and_bad_arguments():
    layer = DiffusionFill(levels=5, steps=3, biharmonic_steps=2, taper=1, momentum=0.5,
                          name="fill")
    clone = DiffusionFill.from_config(layer.get_config())
    assert (clone.levels, clone.steps, clone.biharmonic_steps, clone.taper, clone.momentum,
            clone.name) == (5, 3, 2, 1, 0.5, "fill")
    assert keras.saving.get_registered_object("zoo>DiffusionFill") is DiffusionFill
    with pytest.raises(ValueError, match="levels and steps must be >= 1"):
        DiffusionFill(levels=0)
    with pytest.raises(ValueError, match="biharmonic_steps and taper >= 0"):
        DiffusionFill(biharmonic_steps=-1)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        DiffusionFill(momentum=1.0)


def test_slices_and_depthwise_convolutions_fill_alike():
    rng = np.random.default_rng(3)
    image = rng.random((2, 48, 40, 3)).astype(np.float32)
    mask = (rng.random((2, 48, 40, 1)) > 0.7).astype(np.float32)
    layer = DiffusionFill(levels=4, steps=2, biharmonic_steps=3, taper=1)
    as_slices = np.asarray(layer(image, mask))
    with tflite_forms():
        as_depthwise = np.asarray(layer(image, mask))
    assert np.abs(as_slices - image).max() > 0.1  # the holes were filled
    np.testing.assert_allclose(as_slices, as_depthwise, atol=1e-5)
