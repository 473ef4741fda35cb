"""Small image helpers for the data path: dtype, channel count and size normalisation.

Every function returns float32 images (H, W, C) with values in [0, 1], the zoo's
convention at every model boundary. Only numpy and Pillow are used: this module
must import without TensorFlow or Keras (the data path also runs under JAX).
"""

import math

import numpy as np
from PIL import Image

# ITU-R BT.601 luma weights (the ones Pillow uses for "RGB" -> "L").
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)


def to_float_image(array):
    """float32 (H, W, C) in [0, 1] from an image array of any common dtype.

    uint8 is divided by 255, uint16 by 65535, bool maps to {0, 1}; floating arrays
    are taken to be in [0, 1] already and are clipped to it (NaN becomes 0).
    A 2-D array (H, W) becomes (H, W, 1). A leading batch axis is allowed:
    (N, H, W, C) arrays keep their shape (only 2-D arrays gain an axis).
    Other integer dtypes raise TypeError: their value range is ambiguous.
    """
    array = np.asarray(array)
    if array.dtype == np.uint8:
        image = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        image = array.astype(np.float32) / 65535.0
    elif array.dtype == np.bool_:
        image = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        image = np.nan_to_num(array.astype(np.float32), nan=0.0).clip(0.0, 1.0)
    else:
        raise TypeError(
            f"unsupported image dtype {array.dtype}: expected uint8, uint16, bool or float"
        )
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim < 3:
        raise ValueError(f"expected an image (H, W) or (H, W, C), got shape {array.shape}")
    return image


def _composite_over_white(color, alpha):
    return color * alpha + (1.0 - alpha)


def to_channels(image, channels):
    """`image` (..., H, W, C) float in [0, 1] with C in {1, 2, 3, 4} -> (..., H, W, channels).

    `channels` is 1 or 3 (or equal to C, which returns `image` unchanged).
    1 -> 3 replicates the grey level; 3 -> 1 takes the ITU-R 601 luma
    (0.299 R + 0.587 G + 0.114 B). 2 (grey + alpha) and 4 (RGBA) are first
    composited over white, then converted like 1 and 3.

    Why white: the colour stored under fully transparent pixels is arbitrary (often
    black, sometimes leftover paint), so dropping alpha would hand models content no
    viewer ever shows; compositing gives the picture as it looks on a page, and
    white is the usual page / viewer background (e.g. logos and icons cut out of a
    white background). Works on a leading batch axis too.
    """
    image = np.asarray(image, np.float32)
    source = image.shape[-1]
    if source == channels:
        return image
    if channels not in (1, 3):
        raise ValueError(
            f"channels must be 1 or 3 (or the input's own {source}), got {channels}"
        )
    if source == 2:
        image, source = _composite_over_white(image[..., :1], image[..., 1:]), 1
    elif source == 4:
        image, source = _composite_over_white(image[..., :3], image[..., 3:]), 3
    elif source not in (1, 3):
        raise ValueError(f"expected 1, 2, 3 or 4 channels, got {source}")
    if source == channels:
        return image.astype(np.float32)
    if channels == 3:
        return np.repeat(image, 3, axis=-1)
    luma = np.tensordot(image, LUMA_WEIGHTS, axes=([-1], [0]))[..., None]
    return luma.clip(0.0, 1.0).astype(np.float32)


def resize(image, height, width):
    """`image` (H, W, C) float in [0, 1] -> (height, width, C) float32 in [0, 1].

    Pillow bicubic per channel (antialiased when shrinking), clipped to [0, 1]
    because bicubic overshoots at edges.
    """
    image = np.asarray(image, np.float32)
    if image.shape[:2] == (height, width):
        return image.copy()
    planes = [
        np.asarray(Image.fromarray(image[:, :, c]).resize((width, height), Image.BICUBIC))
        for c in range(image.shape[2])
    ]
    return np.stack(planes, axis=-1).clip(0.0, 1.0).astype(np.float32)


def resize_to_cover(image, height, width):
    """`image` (H, W, C) float in [0, 1], upscaled (aspect ratio kept) so that
    H >= height and W >= width; returned unchanged if it already covers that size.

    Used so that random (height, width) crops can be taken from small images.
    Bicubic (see `resize`), values clipped to [0, 1].
    """
    h, w = image.shape[:2]
    if h >= height and w >= width:
        return image
    scale = max(height / h, width / w)
    new_h = max(height, math.ceil(h * scale - 1e-6))
    new_w = max(width, math.ceil(w * scale - 1e-6))
    return resize(image, new_h, new_w)


def center_square(image, size):
    """The largest centred square of `image` (H, W, C) in [0, 1], resized to
    (size, size, C) (bicubic, see `resize`)."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = image[top:top + side, left:left + side]
    return square if side == size else resize(square, size, size)
