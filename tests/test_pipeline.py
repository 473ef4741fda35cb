"""Batches: deterministic in (seed, split, epoch, index); tf.data and PyDataset agree."""

import keras
import numpy as np
import pytest

import zoo
from training.pipeline import BatchMaker, EpochBatches, FollowEpoch, to_tf_dataset
from training.sources import open_source
from training.tasks import Degradation


def maker(task="inpaint", dataset="natural", seed=0, split="train", crop=(32, 32)):
    source = open_source(dataset, split, crop, channels=3, augment=split == "train")
    return BatchMaker(task, source, 4, Degradation(), seed=seed, split=split)


def flat(batch):
    x, y = batch
    parts = list(x.values()) if isinstance(x, dict) else [x]
    return parts + ([] if y is None else [y])


def same(a, b):
    return all(np.array_equal(p, q) for p, q in zip(flat(a), flat(b), strict=True))


def test_same_seed_same_batches_and_every_coordinate_matters():
    batch = maker().batch(2, 5)
    assert same(batch, maker().batch(2, 5))
    assert not same(batch, maker(seed=1).batch(2, 5))
    assert not same(batch, maker().batch(3, 5))
    assert not same(batch, maker().batch(2, 6))


def test_inpainting_batches_hide_the_hole_and_target_the_clean_image():
    (x, y) = maker().batch(0, 0)
    assert set(x) == {"image", "mask"} and set(np.unique(x["mask"])) <= {0.0, 1.0}
    hole = x["mask"][..., 0] == 1
    assert hole.any() and np.all(x["image"][hole] == 0)
    np.testing.assert_array_equal(x["image"][~hole], y[~hole])


def test_denoising_batches_add_noise_within_range():
    x, y = maker("denoise").batch(0, 0)
    assert x.shape == y.shape and 0 <= x.min() and x.max() <= 1
    assert np.abs(x - y).mean() > 0


def test_validation_batches_do_not_change_between_epochs():
    batches = EpochBatches(maker(split="validation"), steps=2, fixed_epoch=0)
    first = batches[1]
    batches.epoch = 4
    assert same(first, batches[1])


def test_tf_dataset_yields_the_batches_of_the_current_epoch():
    batches = EpochBatches(maker("segment", "shapes"), steps=3)
    dataset = to_tf_dataset(batches)
    batches.epoch = 2
    seen = [(x.numpy(), y.numpy()) for x, y in dataset]
    assert len(seen) == 3
    for index, batch in enumerate(seen):
        assert same(batch, maker("segment", "shapes").batch(2, index))


def fit_tiny_unet(data, batches):
    keras.utils.set_random_seed(0)
    model = zoo.create_model("unet", filters=(4, 8), image_shape=(32, 32, 3), mask_input=True)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.fit(data, epochs=3, callbacks=[FollowEpoch(batches)], verbose=0)
    return [np.asarray(w) for w in model.weights]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.data path")
def test_tf_data_and_pydataset_train_to_the_same_weights():
    """Both wrappers feed `fit` the same batch at every (epoch, step), resumed or not."""
    py_batches = EpochBatches(maker(), steps=2)
    tf_batches = EpochBatches(maker(), steps=2)
    from_py = fit_tiny_unet(py_batches, py_batches)
    from_tf = fit_tiny_unet(to_tf_dataset(tf_batches), tf_batches)
    assert py_batches.epoch == tf_batches.epoch == 2
    for a, b in zip(from_py, from_tf, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def _folder_of_sizes(root, sizes):
    from PIL import Image

    for i, (height, width) in enumerate(sizes):
        shade = np.full((height, width, 3), 40 * i, np.uint8)
        Image.fromarray(shade).save(root / f"image{i}.png")
    return root


def test_min_side_leaves_out_small_folder_images_instead_of_upscaling(tmp_path):
    # one of the five files is held out for validation, so a small one is always in train
    sizes = [(20, 30), (16, 40), (40, 48), (24, 64), (60, 60)]
    folder = _folder_of_sizes(tmp_path, sizes)
    common = dict(channels=3, augment=False, path=str(folder), validation_fraction=0.2)
    every = open_source("folder", "train", (24, 24), **common)
    large = open_source("folder", "train", (24, 24), min_side=24, **common)
    every_sizes = [image.shape[:2] for image in every.images]
    assert sorted(image.shape[:2] for image in large.images) == sorted(
        size for size in every_sizes if min(size) >= 24)
    assert any(min(size) < 24 for size in every_sizes)
    rng = np.random.default_rng(0)
    drawn = {round(float(large.sample(rng)[0][0, 0, 0]) * 255) for _ in range(100)}
    assert drawn == {40 * i for i, size in enumerate(sizes)
                     if min(size) >= 24 and size in every_sizes}


def test_min_side_on_an_in_memory_dataset_and_when_nothing_is_left():
    every = open_source("natural", "train", (32, 32), channels=3)
    smallest = min(min(image.shape[:2]) for image in every.images)
    largest = max(min(image.shape[:2]) for image in every.images)
    kept = open_source("natural", "train", (32, 32), channels=3, min_side=smallest + 1)
    assert 0 < len(kept.images) < len(every.images)
    assert all(min(image.shape[:2]) > smallest for image in kept.images)
    with pytest.raises(ValueError, match=r"data.min_side .*none of the"):
        open_source("natural", "train", (32, 32), channels=3, min_side=largest + 1)
