"""Built-in datasets: splits never share a source, shapes scenes are deterministic and
labelled by geometry, the online adapters convert arrays (no network in tests)."""

import subprocess
import sys
import types

import numpy as np
import pytest
import skimage.data

from training import datasets
from training.datasets import (
    DATASETS,
    NATURAL_PHOTOS,
    SHAPE_CLASSES,
    SPLITS,
    images_from_array,
    keras_dataset_images,
    load_images,
    shapes_scene,
    shapes_scenes,
    tfds_images,
)


def _check_images(images, channels):
    assert images
    for image in images:
        assert image.dtype == np.float32 and image.ndim == 3 and image.shape[2] == channels
        assert 0.0 <= image.min() and image.max() <= 1.0


@pytest.mark.parametrize("name", ["natural", "textures", "digits", "faces"])
@pytest.mark.parametrize("channels", [1, 3])
def test_every_split_loads(name, channels):
    for split in SPLITS[name]:
        _check_images(load_images(name, split, channels=channels), channels)


def test_unknown_names_and_splits_raise():
    assert DATASETS == ("natural", "photos", "textures", "digits", "faces", "shapes")
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'.*natural, photos"):
        load_images("imagenet")
    with pytest.raises(ValueError, match="unknown split 'test'.*train, validation"):
        load_images("digits", "test")
    with pytest.raises(ValueError, match="shapes_scenes"):
        load_images("shapes")
    with pytest.raises(ValueError, match="image_size applies to 'digits' and 'faces'"):
        load_images("natural", image_size=(64, 64))
    with pytest.raises(ValueError, match="unknown split"):
        shapes_scenes("val", 1, 16, 16)


def _gray(image):
    return image.mean(axis=-1)


def test_natural_splits_hold_out_whole_photos():
    names = [set(NATURAL_PHOTOS[split]) for split in ("train", "validation", "test")]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    train = [_gray(image) for image in load_images("natural", "train")]
    for split in ("validation", "test"):
        for image in load_images("natural", split):
            gray = _gray(image)
            # An 8 x 8 textured patch of a held-out photo occurs in no training photo.
            top, left = gray.shape[0] // 2, gray.shape[1] // 2
            patch = gray[top:top + 8, left:left + 8]
            assert patch.std() > 0.01
            for source in train:
                windows = np.lib.stride_tricks.sliding_window_view(source, (8, 8))
                assert not (windows == patch).all(axis=(-2, -1)).any()


def test_texture_regions_partition_each_source():
    train = load_images("textures", "train", channels=1)
    validation = load_images("textures", "validation", channels=1)
    for name, top, bottom in zip(datasets.TEXTURES, train, validation, strict=True):
        source = getattr(skimage.data, name)().astype(np.float32) / 255
        # Train rows then validation rows rebuild the source exactly: disjoint regions.
        assert top.shape[0] + bottom.shape[0] == source.shape[0]
        assert bottom.shape[0] == round(source.shape[0] * datasets.TEXTURE_VALIDATION_FRACTION)
        np.testing.assert_array_equal(np.concatenate([top, bottom])[..., 0], source)


@pytest.mark.parametrize("name, total, size", [("digits", 1797, 8), ("faces", 100, 25)])
def test_sample_splits_are_disjoint(name, total, size):
    train, validation = load_images(name, "train", 1), load_images(name, "validation", 1)
    assert len(train) + len(validation) == total
    assert 0.1 <= len(validation) / total <= 0.15
    assert train[0].shape == (size, size, 1)
    seen = {image.tobytes() for image in train}
    assert len(seen) == len(train)
    assert not any(image.tobytes() in seen for image in validation)


def test_image_size_and_cache_safety():
    digits = load_images("digits", "validation", channels=3, image_size=(32, 24))
    _check_images(digits, 3)
    assert digits[0].shape == (32, 24, 3)
    first = load_images("faces", "train")
    first[0][:] = 0.5
    assert not np.all(load_images("faces", "train")[0] == 0.5)
    assert load_images("natural", "validation")[0] is not load_images("natural", "validation")[0]


def test_data_path_imports_neither_tensorflow_nor_keras():
    code = (
        "import sys, training.datasets, training.images, training.image_folder;"
        "bad = {'tensorflow', 'keras'} & set(sys.modules); assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- shapes ----------------------------------------------------------------------


def test_shapes_scenes_are_deterministic_and_split_streams_differ():
    images, labels = shapes_scenes("train", 4, 40, 48, seed=3)
    assert images.shape == (4, 40, 48, 3) and images.dtype == np.float32
    assert labels.shape == (4, 40, 48) and labels.dtype == np.int32
    assert 0.0 <= images.min() and images.max() <= 1.0
    again, again_labels = shapes_scenes("train", 2, 40, 48, seed=3)
    np.testing.assert_array_equal(again, images[:2])
    np.testing.assert_array_equal(again_labels, labels[:2])
    other_seed, _ = shapes_scenes("train", 2, 40, 48, seed=4)
    assert not np.array_equal(other_seed, images[:2])
    train = {s.tobytes() for s in shapes_scenes("train", 30, 24, 24)[1]}
    for split in ("validation", "test"):
        held_out = shapes_scenes(split, 30, 24, 24)[1]
        assert not any(s.tobytes() in train for s in held_out)
    validation_state = datasets.shapes_seed("validation", 0, 0).generate_state(4)
    for seed in range(5):  # the split is in the spawn key: no train seed gives validation
        train_state = datasets.shapes_seed("train", 0, seed).generate_state(4)
        assert not np.array_equal(train_state, validation_state)
    gray, _ = shapes_scenes("validation", 2, 32, 32, channels=1)
    assert gray.shape == (2, 32, 32, 1)


def test_shapes_labels_cover_visible_shapes():
    assert SHAPE_CLASSES == ("background", "circle", "rectangle", "triangle")
    _, labels = shapes_scenes("train", 20, 64, 64)
    assert set(np.unique(labels)) == {0, 1, 2, 3}
    for scene in labels:
        counts = np.bincount(scene.ravel(), minlength=4)
        assert counts[0] > 0.3 * scene.size  # background is class 0 and most of the scene
        assert all(count == 0 or count >= 9 for count in counts[1:])


def test_single_shape_geometry_matches_its_label():
    fills = {1: [], 2: [], 3: []}
    for seed in range(30):
        image, labels = shapes_scene(np.random.default_rng(seed), 64, 64, 3, 1, 1)
        classes = set(np.unique(labels)) - {0}
        assert len(classes) == 1
        cls = classes.pop()
        region = labels == cls
        rows, cols = np.nonzero(region)
        box = (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
        fills[cls].append(region.sum() / box)
        # The labelled pixels are the drawn shape: one flat colour (plus noise) that
        # stands out from the background around it.
        assert image[region].std(axis=0).max() < 0.06
        contrast = np.abs(image[region].mean(0) - image[~region].mean(0)).mean()
        assert contrast > 0.15
    assert all(0.7 < fill < 0.9 for fill in fills[1])  # circle: pi / 4 of its box
    assert all(fill > 0.45 for fill in fills[2])  # rectangle, any rotation: >= 1/2
    assert all(fill < 0.6 for fill in fills[3])  # triangle: <= 1/2
    assert all(fills.values())


# --- online adapters (never online here) --------------------------------------------


def test_images_from_array():
    gray = np.arange(40, dtype=np.uint8).reshape(2, 4, 5)
    images = images_from_array(gray)
    assert len(images) == 2 and images[0].shape == (4, 5, 1) and images[0].dtype == np.float32
    np.testing.assert_allclose(images[1][..., 0], gray[1] / 255)
    assert images_from_array(gray, channels=3)[0].shape == (4, 5, 3)
    rgba = np.zeros((3, 2, 2, 4), np.uint8)  # black, fully transparent
    assert images_from_array(rgba, channels=3)[0].min() == 1.0  # composited over white
    rgb = np.full((1, 2, 2, 3), 255, np.uint8)
    np.testing.assert_allclose(images_from_array(rgb, channels=1)[0], 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="expected"):
        images_from_array(np.zeros((4, 5), np.uint8))


def test_keras_dataset_images_uses_keras_datasets(monkeypatch):
    train = (np.full((3, 28, 28), 255, np.uint8), np.zeros(3))
    test = (np.zeros((2, 28, 28), np.uint8), np.zeros(2))
    mnist = types.SimpleNamespace(load_data=lambda: (train, test))
    fake = types.SimpleNamespace(datasets=types.SimpleNamespace(mnist=mnist))
    monkeypatch.setitem(sys.modules, "keras", fake)
    images = keras_dataset_images("mnist", "validation", channels=3)
    assert len(images) == 2 and images[0].shape == (28, 28, 3) and images[0].max() == 0.0
    assert len(keras_dataset_images("mnist")) == 3
    with pytest.raises(ValueError, match="valid names: mnist, fashion_mnist, cifar10"):
        keras_dataset_images("imagenet")


def test_tfds_images_without_the_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
    with pytest.raises(ImportError, match="pip install tensorflow-datasets"):
        tfds_images("mnist")
