"""Where training examples come from: random crops of source images, or drawn scenes.

A source has `sample(rng) -> (image, labels)`: image (H, W, C) float32 in [0, 1]
at the crop size, labels (H, W) int32 or None. `open_source(...)` builds one
from a recipe's dataset name:

    natural | textures | digits | faces   built-in images (training.datasets)
    photos                                the photo corpus (`zoo data fetch photos`); `path`
                                          may name its folder or a crop pack (.npz)
    shapes                                procedurally drawn scenes with class labels
    folder                                a user's image folder (`path` is required); files
                                          that cannot be decoded are skipped with a warning
    keras:mnist | keras:fashion_mnist | keras:cifar10    downloaded by keras.datasets
    tfds:NAME                             a TensorFlow Datasets name (needs the package)
"""

import warnings
from collections.abc import Sequence

import numpy as np

from training import datasets
from training.degradations import augment, random_crop
from training.image_folder import ImageDecodeError, ImageFolder, split_folder
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
        self.undecodable = set()  # indices of lazily decoded images that failed
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
        image = self._draw(rng)
        if not self._prepared:
            image = self._prepare(image)
        (crop,) = random_crop(rng, image, *self.crop_size)
        crop = to_channels(to_float_image(crop), self.channels)
        if self.augment:
            (crop,) = augment(rng, crop)
        return np.asarray(crop, np.float32), None

    def _draw(self, rng):
        """A random image; one that cannot be decoded (a truncated JPEG, say) is skipped
        with a warning and another drawn, from the same generator, so a seed still gives
        the same crops."""
        while len(self.undecodable) < len(self.images):
            if self.weights is None:
                index = int(rng.integers(len(self.images)))
            else:
                index = int(rng.choice(len(self.images), p=self.weights))
            if index in self.undecodable:
                continue
            try:
                return self.images[index]
            except ImageDecodeError as error:
                self.undecodable.add(index)
                cause = error.__cause__
                warnings.warn(f"skipping {error.path}: it cannot be decoded "
                              f"({type(cause).__name__}: {cause})", stacklevel=2)
        raise ValueError(f"none of the {len(self.images)} images could be decoded.")


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


def check_crop_fits(crop_size, sizes, names, where):
    """Refuse a crop larger than every image (`sizes`: (height, width) each): every crop
    would be an upscaled copy, and a crop far larger than the images fills memory."""
    height, width = crop_size
    if not sizes or any(h >= height and w >= width for h, w in sizes):
        return
    largest = max(range(len(sizes)), key=lambda i: sizes[i][0] * sizes[i][1])
    h, w = sizes[largest]
    raise ValueError(f"data.crop_size {[height, width]} is larger than every image in {where} "
                     f"(the largest, {names[largest]}, is {h} x {w}); choose a crop_size of "
                     f"at most {[h, w]}.")


def _folder_images(path, split, channels, crop_size, validation_fraction, seed):
    if not path:
        raise ValueError("dataset 'folder' needs data.path, the folder of images.")
    folder = ImageFolder(path, channels=channels)
    names = [p.relative_to(folder.root).as_posix() for p in folder.paths]
    check_crop_fits(crop_size, folder.sizes, names, f"data.path {path}")
    train, validation = split_folder(folder, validation_fraction, seed=seed)
    if split == "validation" and len(validation) == 0:
        raise ValueError(f"data.path {path} holds only one readable image: validation "
                         "needs at least one image of its own (the split is by file); add "
                         "images to the folder.")
    return _Subset(folder, train if split == "train" else validation)


def _source_images(name, split, channels, path, validation_fraction, seed, crop_size):
    if name == "photos":
        from training.photo_data import photo_arrays

        return list(photo_arrays(split, path))
    if name in datasets.DATASETS:
        return datasets.load_images(name, split, channels=channels)
    if name == "folder":
        return _folder_images(path, split, channels, crop_size, validation_fraction, seed)
    if name.startswith("keras:"):
        return datasets.keras_dataset_images(name[len("keras:"):], split, channels=channels)
    if name.startswith("tfds:"):
        return datasets.tfds_images(name[len("tfds:"):], split, channels=channels)
    check_dataset_name(name)
    raise AssertionError(name)


def _short_side_at_least(images, min_side, name, split):
    """The images of `images` whose short side is at least `min_side` pixels (a list
    stays a list; a lazy folder subset stays lazy, judged by its header sizes)."""
    if isinstance(images, _Subset) and hasattr(images.items, "sizes"):
        kept = [index for index in images.indices if min(images.items.sizes[index]) >= min_side]
        kept_images = _Subset(images.items, kept)
    else:
        kept_images = [image for image in images if min(image.shape[:2]) >= min_side]
    if len(kept_images) == 0:
        raise ValueError(f"data.min_side {min_side}: none of the {len(images)} {split} "
                         f"images of dataset {name!r} is that large on its short side.")
    return kept_images


def open_source(name, split, crop_size, channels, augment=True, path=None,
                validation_fraction=0.1, seed=0, min_side=0):
    """A source of `crop_size` examples with `channels` channels from dataset `name`.

    `split` is "train" or "validation"; no validation image ever yields a training
    crop (see `training.datasets` for how each built-in dataset is split, and
    `split_folder` for folders: whole files are held out). `min_side` > 0 leaves out
    the images whose short side is below it (instead of upscaling the ones smaller
    than a crop).
    """
    check_dataset_name(name)
    if name == "shapes":
        return ShapesSource(crop_size, channels, augment)
    images = _source_images(name, split, channels, path, validation_fraction, seed,
                            tuple(crop_size))
    if len(images) == 0:
        raise ValueError(f"dataset {name!r} has no {split} images.")
    if min_side > 0:
        images = _short_side_at_least(images, min_side, name, split)
    return CropSource(images, crop_size, channels, augment, by_area=name == "photos")
