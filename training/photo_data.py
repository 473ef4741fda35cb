"""Reading the `photos` corpus for training: from its folder or from a crop pack.

A crop pack (`zoo data pack photos -o pack.npz`) is a compressed NumPy archive
that lets a recipe train where the corpus is not (a GPU server without the Debian
packages, or without TensorFlow):

    train        uint8 (N, S, S, 3)   crops of the train photos, S = the pack's crop side
    validation   uint8 (M, S, S, 3)   crops of the validation photos
    sources      str (N,)             the photo each train crop comes from
    info         str ()               JSON: crop side, seed, manifest sha256, counts

Test photos are never packed: the quality benchmark reads them from the corpus.
"""

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
from PIL import Image

from training.photo_corpus import MANIFEST, default_root, split_images
from zoo_lite.image_io import replaced_on_success

PACK_SPLITS = ("train", "validation")


def is_pack(path):
    return path is not None and Path(path).suffix == ".npz"


@functools.cache
def _corpus_photos(root, split):
    images = []
    for path in split_images(root, split):
        with Image.open(path) as image:
            array = np.asarray(image.convert("RGB"), np.uint8)
        array.flags.writeable = False
        images.append(array)
    return tuple(images)


@functools.cache
def _pack_split(path, split):
    if split not in PACK_SPLITS:
        raise ValueError(f"a crop pack holds {' and '.join(PACK_SPLITS)} crops, not {split!r} "
                         "(test photos are read from the corpus folder)")
    try:
        with np.load(path) as pack:
            crops = pack[split]
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path} is not a readable photo crop pack ({error})") from error
    crops.flags.writeable = False
    return tuple(crops)


def photo_arrays(split, path=None):
    """The photos of `split` as read-only uint8 (H, W, 3) arrays.

    `path`: a corpus folder (default `default_root()`) or a crop pack (.npz).
    """
    if is_pack(path):
        return _pack_split(str(Path(path).resolve()), split)
    return _corpus_photos(str(Path(path or default_root()).resolve()), split)


def photo_names(split, root=None):
    """Names of the corpus photos of `split`, in `photo_arrays` order."""
    return [path.stem for path in split_images(root or default_root(), split)]


def _area_weights(images):
    areas = np.array([image.shape[0] * image.shape[1] for image in images], np.float64)
    return areas / areas.sum()


def sample_crops(images, count, side, rng):
    """`count` crops (count, side, side, 3) uint8, from images picked by area, so every
    pixel of the corpus is about as likely; images smaller than `side` are skipped."""
    usable = [image for image in images if min(image.shape[:2]) >= side]
    if not usable:
        raise ValueError(f"no photo is at least {side} pixels on its short side")
    picks = rng.choice(len(usable), size=count, p=_area_weights(usable))
    crops = np.empty((count, side, side, 3), np.uint8)
    for i, pick in enumerate(picks):
        image = usable[pick]
        top = rng.integers(image.shape[0] - side + 1)
        left = rng.integers(image.shape[1] - side + 1)
        crops[i] = image[top:top + side, left:left + side]
    return crops, picks, usable


def write_pack(path, root=None, side=128, train_crops=1100, validation_crops=64, seed=0):
    """Write a crop pack of the corpus in `root`; returns its info dict."""
    rng = np.random.default_rng(seed)
    root = root or default_root()
    names = photo_names("train", root)
    train_images = photo_arrays("train", root)
    train, picks, usable = sample_crops(train_images, train_crops, side, rng)
    usable_names = [n for n, im in zip(names, train_images, strict=True)
                    if min(im.shape[:2]) >= side]
    validation, _, _ = sample_crops(photo_arrays("validation", root), validation_crops, side, rng)
    info = {"crop_side": side, "seed": seed, "train_crops": train_crops,
            "validation_crops": validation_crops, "train_photos": len(usable),
            "manifest_sha256": hashlib.sha256(MANIFEST.read_bytes()).hexdigest()}
    with replaced_on_success(path, ".npz.partial") as temporary:
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, train=train, validation=validation,
                                sources=np.array(usable_names)[picks], info=json.dumps(info))
    return info
