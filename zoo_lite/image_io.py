"""Image and file I/O, the bottom layer every other module may import (it imports only
numpy and, to write PNGs, Pillow):

- atomic writes: a file is written under a hidden temporary name and renamed, so a reader
  sees the old file or the new one, never half of one (`replaced_on_success`,
  `write_json`, `save_png`);
- uint8 pictures of float images: `to_rgb8`, `colorize_labels`, and grids
  (`image_grid`, `tile`) of uint8 (rows * H + gaps, cols * W + gaps, 3) arrays from float
  images in [0, 1] (1 or 3 channels) or integer label maps coloured by a palette.
"""

import contextlib
import json
import os
from pathlib import Path

import numpy as np


def make_folder(folder, target=None):
    """Create `folder` and its parents if missing. A file where a folder must be is a
    NotADirectoryError naming it: "cannot write TARGET: F is a file, not a folder"."""
    folder = Path(folder)
    blocking = next((f for f in (folder, *folder.parents) if f.is_file()), None)
    if blocking is not None:
        raise NotADirectoryError(f"cannot write {target or folder}: {blocking} is a file, "
                                 "not a folder")
    folder.mkdir(parents=True, exist_ok=True)


def temporary_name(path, suffix=".partial"):
    """The hidden name `path` is written under before its rename: `.NAME` + `suffix`
    (the suffix keeps the extension a writer may insist on, e.g. `.weights.h5`). One
    name per target, so what a killed write leaves is replaced by the next write of the
    same target instead of piling up."""
    path = Path(path)
    return path.with_name(f".{path.name}{suffix}")


@contextlib.contextmanager
def replaced_on_success(path, suffix=".partial"):
    """Yields `temporary_name(path, suffix)`; when the block succeeds it is renamed to
    `path` (mode 0644, like a normally created file), else removed. A SIGKILL in the
    block leaves only that hidden file. One writer per target at a time."""
    path = Path(path)
    make_folder(path.parent, path)
    temporary = temporary_name(path, suffix)
    if temporary.is_dir() and not temporary.is_symlink():
        raise IsADirectoryError(f"{temporary} is a folder; remove it to write {path.name}")
    try:
        temporary.unlink(missing_ok=True)  # a killed write's leftover, or a link: not followed
        yield temporary
        if temporary.exists():
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as error:
        # The user knows the target, not its hidden temporary name: name the target.
        if error.filename in (str(temporary), temporary) and error.strerror:
            raise OSError(error.errno, f"cannot write {path}: {error.strerror}") from None
        raise
    finally:
        temporary.unlink(missing_ok=True)


def _json_value(value):
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return float(value)


def write_json(data, path):
    """JSON to `path`, atomically; numpy scalars and paths are written as plain values."""
    with replaced_on_success(path, ".json.partial") as temporary:
        temporary.write_text(json.dumps(data, indent=2, default=_json_value) + "\n")
    return Path(path)


# Distinct colours for label maps: background black, then saturated hues.
PALETTE = np.array([[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200],
                    [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230],
                    [210, 245, 60]], np.uint8)


def to_rgb8(images):
    """(N, H, W, 1 | 3) float in [0, 1] -> (N, H, W, 3) uint8."""
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return np.round(images * 255).astype(np.uint8)


def colorize_labels(labels):
    """(N, H, W) integer class ids -> (N, H, W, 3) uint8 with one colour per class."""
    labels = np.asarray(labels)
    return PALETTE[np.mod(labels, len(PALETTE))]


def image_grid(columns, gap=2):
    """Grid whose column j shows `columns[j]` (N, H, W, 3) uint8, one example per row."""
    count, height, width = columns[0].shape[:3]
    grid = np.full((count * (height + gap) - gap, len(columns) * (width + gap) - gap, 3),
                   255, np.uint8)
    for j, column in enumerate(columns):
        for i in range(count):
            top, left = i * (height + gap), j * (width + gap)
            grid[top:top + height, left:left + width] = column[i]
    return grid


def tile(images, columns=None, gap=2):
    """(N, H, W, 3) uint8 images tiled row by row into a near-square grid."""
    count = len(images)
    columns = columns or int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    padded = np.full((rows * columns, *images.shape[1:]), 255, np.uint8)
    padded[:count] = images
    return image_grid([padded[j::columns] for j in range(columns)], gap)


# zlib level for PNGs: Pillow's default (6) took 3.5-5 s on a 12 MP photo, level 3 1.4 s
# for a 12 % larger file (profiled with `zoo predict`, benchmarks/big_photo_inpaint.py).
PNG_COMPRESS_LEVEL = 3


def save_png(array, path):
    """Write a uint8 (H, W, 3) array to `path` via a temporary file and a rename, so a
    reader never sees a half-written PNG."""
    from PIL import Image

    with replaced_on_success(path) as temporary:  # .NAME.partial
        Image.fromarray(array).save(temporary, format="PNG",
                                    compress_level=PNG_COMPRESS_LEVEL)
    return path
