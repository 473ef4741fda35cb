"""Users' own images: a lazily decoded, verified folder of image files.

`ImageFolder(path)` is a sequence of float32 (H, W, channels) images in [0, 1];
`split_folder` splits it by file. Pillow and numpy only (no TensorFlow / Keras).

Corrupt files: at construction every file is opened and `verify()`-ed (headers
and, for PNG, chunk checksums; no pixel decoding), and those that fail are
skipped and listed in `folder.skipped`. Some damage (a truncated JPEG, say) only
shows when the pixels are decoded; decoding a large folder up front is slow, so
by default such a file raises `ImageDecodeError` naming it when accessed. Pass
`full_check=True` to decode every file once at construction (slower, memory stays
one image at a time) and skip those too.
"""

import hashlib
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from training.images import resize_to_cover, to_channels, to_float_image

EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
EXIF_ORIENTATION = 0x0112


class ImageDecodeError(ValueError):
    """A listed file could not be decoded (it passed the header check); `path` names it."""

    def __init__(self, message, path=None):
        super().__init__(message)
        self.path = path


def _to_array(image):
    """A PIL image (any mode) -> numpy array with a dtype `to_float_image` understands."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "PA":
        image = image.convert("RGBA")
    elif image.mode.startswith("I;16"):
        return np.asarray(image).astype(np.uint16)
    elif image.mode == "I":  # 32-bit ints: 16-bit PNGs decode to this in some Pillow versions
        return np.asarray(image).clip(0, 65535).astype(np.uint16)
    elif image.mode not in ("1", "L", "LA", "RGB", "RGBA", "F"):
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, ...
    return np.asarray(image)


def load_image(path, channels=3):
    """Decode one file: float32 (H, W, channels) in [0, 1], EXIF orientation applied.

    Alpha (LA, RGBA, palette transparency) is composited over white, see
    `training.images.to_channels`. 16-bit files keep their precision.
    """
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        array = _to_array(image)
    return to_channels(to_float_image(array), channels)


def _check(path, full):
    """`((height, width), None)` if `path` looks readable (the size as decoded, EXIF
    orientation applied), else `(None, reason)`."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            exif = image.getexif() if "exif" in image.info else {}  # a PNG's may need pixels
            if exif.get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8):  # turned by 90 degrees
                width, height = height, width
            image.verify()
        if full:
            load_image(path)
    except Exception as error:  # Pillow raises many types for bad files
        return None, f"{type(error).__name__}: {error}"
    return (height, width), None


class ImageFolder(Sequence):
    """Images under `path` (recursive; .jpg .jpeg .png .webp .bmp in any letter case),
    sorted by relative path, decoded on access.

    `folder[i]` is float32 (H, W, channels) in [0, 1], `channels` 1 or 3.
    `min_size` (int or (height, width)): smaller images are upscaled on access,
    aspect ratio kept, so that (height, width) crops always fit
    (`training.images.resize_to_cover`). `folder.paths` lists the usable files,
    `folder.sizes` their (height, width) as decoded (read from the headers),
    `folder.skipped` the unreadable ones as (path, reason).
    """

    def __init__(self, path, channels=3, min_size=None, full_check=False):
        root = Path(path)
        if not root.exists():
            raise FileNotFoundError(f"image folder not found: {root}")
        if not root.is_dir():
            raise ValueError(f"expected a folder of images, got a file: {root}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        if isinstance(min_size, int):
            min_size = (min_size, min_size)
        self.root, self.channels, self.min_size = root, channels, min_size
        files = sorted(
            (p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file()),
            key=lambda p: p.relative_to(root).as_posix(),
        )
        if not files:
            raise ValueError(f"no {'/'.join(EXTENSIONS)} images under {root}")
        self.paths, self.sizes, self.skipped = [], [], []
        for file in files:
            size, reason = _check(file, full_check)
            if reason is None:
                self.paths.append(file)
                self.sizes.append(size)
            else:
                self.skipped.append((file, reason))
        if not self.paths:
            raise ValueError(
                f"{len(files)} image files were found under {root} but none could be read "
                f"(first: {self.skipped[0][0].name}: {self.skipped[0][1]})"
            )
        if self.skipped:
            warnings.warn(
                f"skipped {len(self.skipped)} of {len(files)} unreadable image files under "
                f"{root} (see .skipped)",
                stacklevel=2,
            )

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        path = self.paths[index]  # IndexError / TypeError as for a list
        try:
            image = load_image(path, self.channels)
        except Exception as error:
            raise ImageDecodeError(
                f"cannot decode {path}: {type(error).__name__}: {error} (it passed the "
                "header check; ImageFolder(..., full_check=True) skips such files)",
                path,
            ) from error
        if self.min_size is not None:
            image = resize_to_cover(image, *self.min_size)
        return image

    def __repr__(self):
        return (
            f"ImageFolder({str(self.root)!r}, channels={self.channels}, "
            f"{len(self)} images, {len(self.skipped)} skipped)"
        )


def split_folder(folder, validation_fraction=0.1, seed=0):
    """Split by file: `(train_indices, validation_indices)`, sorted int arrays.

    `folder` is an `ImageFolder` (or a plain count of items). Files are ranked by a
    hash of (seed, relative path) and the first `round(count * validation_fraction)`
    go to validation: deterministic, independent of the order files were found,
    and adding files to a folder rarely moves an existing one across splits.
    At least one validation and one training image when there are two or more
    images (a single image goes to training).
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    if isinstance(folder, int):
        names = [str(i) for i in range(folder)]
    else:
        names = [p.relative_to(folder.root).as_posix() for p in folder.paths]
    count = len(names)
    n_val = 0 if count < 2 else min(count - 1, max(1, round(count * validation_fraction)))
    keys = [hashlib.sha256(f"{seed}:{name}".encode()).hexdigest() for name in names]
    order = np.array(sorted(range(count), key=keys.__getitem__), dtype=np.int64)
    return np.sort(order[n_val:]), np.sort(order[:n_val])
