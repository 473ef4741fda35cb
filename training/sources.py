"""Where training examples come from: random crops of source images, or drawn scenes.

A source has `sample(rng) -> (image, labels)`: image (H, W, C) float32 in [0, 1]
at the crop size, labels (H, W) int32 or None. `open_source(...)` builds one
from a recipe's dataset name:

    natural | textures | digits | faces   built-in images (training.datasets)
    photos                                the photo corpus (`zoo data fetch photos`); `path`
                                          may name its folder or a crop pack (.npz)
    shapes                                procedurally drawn scenes with class labels
    folder                                a user's image folder (`path` is required)
    keras:mnist | keras:fashion_mnist | keras:cifar10    downloaded by keras.datasets
    tfds:NAME                             a TensorFlow Datasets name (needs the package)
"""

from collections.abc import Sequence

import numpy as np

from training import datasets
from training.degradations import augment, random_crop
from training.images import resize_to_cover, to_channels, to_float_image

ONLINE_PREFIXES = ("keras:", "tfds:")


def dataset_names():
    """Every dataset name a recipe may use (online ones as prefixes)."""
    return (*datasets.DATASETS, "folder", *(p + "NAME" for p in ONLINE_PREFIXES))


def check_dataset_name(name):
    """Raise a ValueError naming `name` unless it is a known dataset."""
    if name in datasets.DATASETS or name == "folder":
        return
    if any(name.startswith(p) and len(name) > len(p) for p in ONLINE_PREFIXES):
        return
    raise ValueError(f"Unknown dataset {name!r}; expected one of {', '.join(dataset_names())}.")


class _Subset(Sequence):
    """The items of `items` at `indices`, read lazily."""

    def __init__(self, items, indices):
        self.items, self.indices = items, list(indices)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        return self.items[self.indices[i]]


class CropSource:
    """Random (augmented) crops of `crop_size` from a sequence of images.

    Each sample picks an image (uniformly, or with `by_area` in proportion to its
    pixel count, so that every pixel of a mixed-size corpus is about as likely),
    resizes it up when it is smaller than the crop (keeping its aspect ratio),
    crops a random window, then flips / rotates / colour-jitters it when `augment`
    is true. Images may be decoded lazily (an `ImageFolder`); an in-memory list is
    resized once, up front. uint8 images large enough for the crop stay uint8 in
    memory (a quarter of float32) and each crop is converted.
    """

    def __init__(self, images, crop_size, channels, augment=True, by_area=False):
        if len(images) == 0:
            raise ValueError("The dataset has no images.")
        self.crop_size = tuple(crop_size)
        self.channels = channels
        self.augment = augment
        self.images = [self._prepare(im) for im in images] if isinstance(images, list) else images
        self._prepared = isinstance(images, list)
        self.weights = None
        if by_area:
            areas = np.array([im.shape[0] * im.shape[1] for im in self.images], np.float64)
            self.weights = areas / areas.sum()

    def _prepare(self, image):
        height, width = self.crop_size
        if image.dtype == np.uint8 and image.shape[0] >= height and image.shape[1] >= width:
            return image
        return resize_to_cover(to_channels(to_float_image(image), self.channels), height, width)

    def sample(self, rng):
        if self.weights is None:
            image = self.images[int(rng.integers(len(self.images)))]
        else:
            image = self.images[int(rng.choice(len(self.images), p=self.weights))]
        if not self._prepared:
            image = self._prepare(image)
        (crop,) = random_crop(rng, image, *self.crop_size)
        crop = to_channels(to_float_image(crop), self.channels)
        if self.augment:
            (crop,) = augment(rng, crop)
        return np.asarray(crop, np.float32), None


class ShapesSource:
    """Scenes of circles, rectangles and triangles with per-pixel class labels."""

    def __init__(self, crop_size, channels, augment=True):
        self.crop_size = tuple(crop_size)
        self.channels = channels
        self.augment = augment

    def sample(self, rng):
        image, labels = datasets.shapes_scene(rng, *self.crop_size, channels=self.channels)
        if self.augment:
            image, labels = augment(rng, image, labels)
        return np.asarray(image, np.float32), np.asarray(labels, np.int32)


def _source_images(name, split, channels, path, validation_fraction, seed):
    if name == "photos":
        from training.photo_data import photo_arrays

        return list(photo_arrays(split, path))
    if name in datasets.DATASETS:
        return datasets.load_images(name, split, channels=channels)
    if name == "folder":
        from training.image_folder import ImageFolder, split_folder

        if not path:
            raise ValueError("dataset 'folder' needs data.path, the folder of images.")
        folder = ImageFolder(path, channels=channels)
        train, validation = split_folder(folder, validation_fraction, seed=seed)
        return _Subset(folder, train if split == "train" else validation)
    if name.startswith("keras:"):
        return datasets.keras_dataset_images(name[len("keras:"):], split, channels=channels)
    if name.startswith("tfds:"):
        return datasets.tfds_images(name[len("tfds:"):], split, channels=channels)
    check_dataset_name(name)
    raise AssertionError(name)


def open_source(name, split, crop_size, channels, augment=True, path=None,
                validation_fraction=0.1, seed=0):
    """A source of `crop_size` examples with `channels` channels from dataset `name`.

    `split` is "train" or "validation"; no validation image ever yields a training
    crop (see `training.datasets` for how each built-in dataset is split, and
    `split_folder` for folders: whole files are held out).
    """
    check_dataset_name(name)
    if name == "shapes":
        return ShapesSource(crop_size, channels, augment)
    images = _source_images(name, split, channels, path, validation_fraction, seed)
    return CropSource(images, crop_size, channels, augment, by_area=name == "photos")
