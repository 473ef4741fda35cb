"""benchmarks/generation_metrics.py and benchmarks/dcgan_reference.py: the metrics behave
as their definitions say (closed forms where there are some), inputs are checked, the
domain classifier and the reference DCGAN build, train a few steps and give the
documented shapes. Tiny step counts: nothing here measures quality."""

from pathlib import Path

import keras
import numpy as np
import pytest
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent

import dcgan_reference as reference  # noqa: E402
import generation_metrics as gm  # noqa: E402

from training import datasets  # noqa: E402
from training.images import resize  # noqa: E402

pytestmark = pytest.mark.xdist_group("generation_metrics")  # module fixtures run once


@pytest.fixture(scope="module")
def digits():
    train, _ = gm.labelled_images("digits", "train")
    validation, _ = gm.labelled_images("digits", "validation")
    return train, validation


@pytest.fixture(scope="module")
def digit_features():
    return gm.domain_classifier("digits", seed=0, steps=2)


def gaussian(seed, n=600, d=8, shift=0.0):
    return np.random.default_rng(seed).normal(shift, 1.0, (n, d))


# --- FID / KID -------------------------------------------------------------------------

def test_fid_is_zero_for_identical_sets_and_matches_closed_forms():
    a = gaussian(0)
    assert gm.fid(a, a) == pytest.approx(0.0, abs=1e-8)
    # A shift by c moves only the mean: FID = |c|^2.
    shift = np.linspace(0.1, 0.8, 8)
    assert gm.fid(a, a + shift) == pytest.approx(np.sum(shift**2), rel=1e-6)
    # Scaling centred features by s: covariance s^2 C, so FID = (1 - s)^2 tr(C).
    a = a - a.mean(axis=0)
    assert gm.fid(a, 2.0 * a) == pytest.approx(np.trace(np.cov(a, rowvar=False)), rel=1e-6)


def test_fid_grows_with_noise_and_shift():
    a, b = gaussian(0), gaussian(1)
    noisy = b + np.random.default_rng(2).normal(0, 0.5, b.shape)
    same, more_noise, shifted = gm.fid(a, b), gm.fid(a, noisy), gm.fid(a, b + 0.5)
    assert same < more_noise and same < shifted
    assert gm.fid(a, b + 1.0) > shifted


def test_kid_near_zero_for_one_distribution_and_larger_for_another():
    a, b, c = gaussian(0), gaussian(1), gaussian(2, shift=0.5)
    same_mean, same_std = gm.kid(a, b, subsets=20, subset_size=200, seed=0)
    other_mean, _ = gm.kid(a, c, subsets=20, subset_size=200, seed=0)
    assert abs(same_mean) < 3 * same_std + 1e-3
    assert other_mean > 10 * max(abs(same_mean), same_std)
    assert gm.kid(a, c, subsets=5, seed=3) == gm.kid(a, c, subsets=5, seed=3)


def test_feature_inputs_are_checked():
    with pytest.raises(ValueError, match="feature sizes differ"):
        gm.fid(gaussian(0, d=8), gaussian(0, d=9))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        gm.kid(np.zeros(10), gaussian(0))
    with pytest.raises(ValueError, match="NaN"):
        gm.fid(np.full((5, 2), np.nan), gaussian(0, d=2))


# --- sliced Wasserstein ----------------------------------------------------------------

def test_swd_is_zero_for_identical_sets_and_grows_with_blur(digits):
    train, _ = digits
    images = train[:300]
    kwargs = dict(patches=2048, directions=32, repeats=2, seed=0)
    same = gm.sliced_wasserstein(images, images.copy(), **kwargs)
    assert same["mean"] == 0.0 and same["resolutions"] == [[32, 32], [16, 16]]
    blurred = [gm.sliced_wasserstein(images, ndimage.gaussian_filter(images, (0, s, s, 0)),
                                     **kwargs)["mean"] for s in (1.0, 2.0)]
    assert 0 < blurred[0] < blurred[1]
    assert gm.sliced_wasserstein(images, train[300:600], **kwargs)["mean"] < blurred[0]
    assert gm.sliced_wasserstein(images, train[300:600], **kwargs) == \
        gm.sliced_wasserstein(images, train[300:600], **kwargs)


def test_laplacian_pyramid_levels_add_back_to_the_image():
    images = np.random.default_rng(0).random((2, 64, 64, 1)).astype(np.float32)
    levels = gm.laplacian_pyramid(images, min_size=16)
    assert [level.shape[1] for level in levels] == [64, 32, 16]
    rebuilt = levels[-1]
    for detail in reversed(levels[:-1]):
        rebuilt = detail + gm._upsample(rebuilt, *detail.shape[1:3])
    np.testing.assert_allclose(rebuilt, images, atol=1e-5)


def test_image_inputs_are_checked():
    ok = np.zeros((4, 32, 32, 1), np.float32)
    with pytest.raises(ValueError, match="H, W, C"):
        gm.sliced_wasserstein(ok, np.zeros((4, 16, 16, 1), np.float32))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        gm.sliced_wasserstein(ok, ok + 2.0)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        gm.nearest_training(ok[0], ok)
    with pytest.raises(ValueError, match="NaN"):
        gm.check_images(np.full((1, 8, 8, 1), np.nan))


# --- nearest neighbours ----------------------------------------------------------------

def test_nearest_neighbour_check_flags_copies_not_heldout_images(digits, digit_features):
    train, validation = digits
    heldout, new = validation[:120], validation[120:]
    copies = gm.nearest_neighbour_check(train[:50], train, heldout)
    assert copies["near_copies"] == 50 and copies["median_sample_to_train"] < 1e-6
    fresh = gm.nearest_neighbour_check(new, train, heldout, feature_model=digit_features[0])
    assert fresh["near_copy_fraction"] <= 0.05
    assert 0.7 < fresh["ratio"] < 1.4
    assert {"feature_ratio", "feature_near_copies"} <= set(fresh)
    distances, indices = gm.nearest_training(train[[7, 3]], train)
    assert list(indices) == [7, 3] and distances.max() < 1e-6


# --- domain classifier -----------------------------------------------------------------

def test_digit_labels_line_up_with_the_split_images(digits):
    from sklearn.datasets import load_digits

    _, labels = gm.labelled_images("digits", "validation")
    index = datasets._index_split(1797, datasets.DIGITS_VALIDATION_FRACTION, "validation")
    raw = load_digits()
    np.testing.assert_array_equal(labels, raw.target[index])
    for k in (0, 100):
        expected = resize(raw.images[index[k], :, :, None] / 16.0, 32, 32)
        np.testing.assert_allclose(digits[1][k], expected, atol=1e-6)


def test_classifier_features_have_the_documented_size(digits, digit_features, tmp_path):
    model, accuracy = digit_features
    values = gm.features(model, digits[1][:10])
    assert values.shape == (10, gm.FEATURE_DIM) and np.isfinite(values).all()
    assert 0.0 <= accuracy <= 1.0
    again, _ = gm.domain_classifier("digits", seed=0, steps=2, cache_dir=tmp_path)
    np.testing.assert_allclose(gm.features(again, digits[1][:10]), values, atol=1e-5)
    cached, cached_accuracy = gm.domain_classifier("digits", seed=0, steps=2,
                                                   cache_dir=tmp_path)
    np.testing.assert_array_equal(gm.features(cached, digits[1][:10]),
                                  gm.features(again, digits[1][:10]))
    with pytest.raises(ValueError, match="takes"):
        gm.features(model, np.zeros((2, 64, 64, 1), np.float32))


def test_texture_classifier_and_crops():
    crops, labels = gm.labelled_images("textures", "validation", count=6, seed=0)
    assert crops.shape == (6, 64, 64, 1) and list(labels) == [0, 1, 2, 0, 1, 2]
    model, accuracy = gm.domain_classifier("textures", seed=0, steps=1, batch_size=8)
    assert gm.features(model, crops).shape == (6, gm.FEATURE_DIM)
    assert 0.0 <= accuracy <= 1.0


# --- reference DCGAN -------------------------------------------------------------------

@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.GradientTape loop")
def test_reference_dcgan_trains_and_generates():
    images = np.random.default_rng(0).random((8, 32, 32, 1)).astype(np.float32)
    generator = reference.train_reference(images, (32, 32, 1), latent_dim=16, steps=2,
                                          batch_size=4, seed=0)
    samples = reference.generate(generator, 5, seed=1)
    assert samples.shape == (5, 32, 32, 1) and samples.dtype == np.float32
    assert 0.0 <= samples.min() and samples.max() <= 1.0
    np.testing.assert_array_equal(samples, reference.generate(generator, 5, seed=1))
    with pytest.raises(ValueError, match="batches are"):
        reference.train_reference(lambda step: images[:3], (32, 32, 1), 16, steps=1,
                                  batch_size=4)

@pytest.mark.parametrize("dataset", ["digits", "textures"])
def test_zoo_batches_are_the_preset_runs_batches(dataset):
    from training.recipe import load_recipe
    from training.run import _datasets

    recipe = load_recipe(ROOT / "zoo" / "presets" / f"dcgan-{dataset}" / "recipe.toml")
    train, _ = _datasets(recipe, "generate", channels=1)  # what `zoo train` fits on
    batch_fn = reference.zoo_batches(dataset, steps_per_epoch=recipe.training.steps_per_epoch)
    for step in (0, 101):
        np.testing.assert_array_equal(batch_fn(step), train.batch_at(step // 100, step % 100))


def test_unknown_shapes_need_widths():
    with pytest.raises(ValueError, match="no reference widths"):
        reference.train_reference(np.zeros((4, 48, 48, 1), np.float32), (48, 48, 1), 8,
                                  steps=1, batch_size=2)
