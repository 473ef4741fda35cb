"""Noise and augmentation for training pairs, in numpy with an explicit Generator.

Images are float32 in [0, 1], (H, W, C) or batches (N, H, W, C); masks are (H, W, 1)
with 1 = hole; label maps are integer (H, W).

Why not Keras random preprocessing layers (`RandomFlip`, `RandomRotation`, ...)? They
draw from the backend's RNG, so one seed gives different batches on TensorFlow and on
JAX, and again between the tf.data and PyDataset input paths. Drawing every random
number from a `numpy.random.Generator` here gives the same batches for the same seed
everywhere, and keeps this module free of TensorFlow and Keras.
"""

import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 weights


def add_gaussian_noise(rng, images, sigma_range=(0, 50)):
    """Add white Gaussian noise with a random level per image.

    `images`: float32 (N, H, W, C) or (H, W, C) in [0, 1]. `sigma_range`: (low, high)
    noise standard deviation in 8-bit units (0-255, as denoising papers quote it),
    drawn uniformly per image, or one number for a fixed level; 0 <= low <= high <= 255.

    Returns `(noisy, sigmas)`: noisy has the input's shape, float32 clipped to [0, 1];
    sigmas is float32 in 8-bit units, shape (N,) for a batch and () for one image.
    """
    low, high = _check_sigma_range(sigma_range)
    images = np.asarray(images, np.float32)
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be (H, W, C) or (N, H, W, C), got shape {images.shape}")
    batch = images if images.ndim == 4 else images[None]
    sigmas = rng.uniform(low, high, len(batch)).astype(np.float32)
    noise = rng.standard_normal(batch.shape, dtype=np.float32)
    noisy = np.clip(batch + noise * (sigmas / 255)[:, None, None, None], 0, 1)
    if images.ndim == 3:
        return noisy[0], sigmas[0]
    return noisy, sigmas


def augment(rng, image, *aligned, flips=True, rotate90=True, color_jitter=0.1):
    """Apply one random flip / 90-degree rotation to `image` and every `aligned` array,
    then a mild colour jitter to `image` alone.

    `image`: float32 (H, W, C) in [0, 1]. `aligned`: arrays whose first two axes are
    (H, W), e.g. masks (H, W, 1) or integer label maps (H, W); they keep their dtype.
    `flips` allows horizontal and vertical flips (each with probability 1/2);
    `rotate90` a rotation by k * 90 degrees, with k in {0, 2} when the image is not
    square so every shape is kept. `color_jitter` in [0, 1): brightness, contrast and
    (3-channel images only) saturation are each scaled by a factor drawn uniformly
    from [1 - color_jitter, 1 + color_jitter]; 0 turns jitter off.

    The geometry is drawn before the jitter, so for one seed turning jitter on or off
    does not change the geometric transform. Returns `(image, *aligned)`: image
    float32 in [0, 1], every array C-contiguous.
    """
    image = np.asarray(image, np.float32)
    if image.ndim != 3:
        raise ValueError(f"image must be (H, W, C), got shape {image.shape}")
    _check_aligned(image, aligned)
    if not 0 <= color_jitter < 1:
        raise ValueError(f"color_jitter must lie in [0, 1), got {color_jitter}")
    height, width = image.shape[:2]
    flip_h = flips and rng.random() < 0.5
    flip_v = flips and rng.random() < 0.5
    turns = 0
    if rotate90:
        turns = int(rng.integers(4)) if height == width else 2 * int(rng.integers(2))

    def transform(array):
        array = np.rot90(array, turns, axes=(0, 1))
        if flip_h:
            array = array[:, ::-1]
        if flip_v:
            array = array[::-1]
        return np.ascontiguousarray(array)

    image = transform(image)
    if color_jitter > 0:
        image = _jitter(rng, image, color_jitter)
    return (image, *(transform(np.asarray(a)) for a in aligned))


def random_crop(rng, image, height, width, *aligned):
    """Cut the same random (height, width) window out of `image` (H, W, ...) and every
    `aligned` array (first two axes (H, W)); dtypes are kept.

    Raises ValueError when the image is smaller than the crop on either side (resize
    it up first). Returns `(image, *aligned)`.
    """
    image = np.asarray(image)
    _check_aligned(image, aligned)
    full_h, full_w = image.shape[:2]
    if height > full_h or width > full_w:
        raise ValueError(f"Crop {height}x{width} is larger than the image "
                         f"{full_h}x{full_w}; resize the image up first")
    top = int(rng.integers(0, full_h - height + 1))
    left = int(rng.integers(0, full_w - width + 1))
    window = (slice(top, top + height), slice(left, left + width))
    return (image[window].copy(), *(np.asarray(a)[window].copy() for a in aligned))


def _check_sigma_range(sigma_range):
    if np.ndim(sigma_range) == 0:
        sigma_range = (sigma_range, sigma_range)
    low, high = (float(v) for v in sigma_range)
    for value in (low, high):
        if not 0 <= value <= 255:
            raise ValueError(f"sigma_range values must lie in [0, 255] (8-bit units), "
                             f"got {value} in sigma_range={sigma_range}")
    if low > high:
        raise ValueError(f"sigma_range low {low} is above high {high} in "
                         f"sigma_range={sigma_range}")
    return low, high


def _check_aligned(image, aligned):
    for index, array in enumerate(aligned):
        if np.shape(array)[:2] != image.shape[:2]:
            raise ValueError(f"aligned array {index} has shape {np.shape(array)}; its first "
                             f"two axes must match the image's {image.shape[:2]}")


def _jitter(rng, image, strength):
    """Scale brightness, contrast and (RGB only) saturation by factors in 1 +- strength."""
    brightness, contrast, saturation = rng.uniform(1 - strength, 1 + strength, 3)
    image = image * np.float32(brightness)
    mean = image.mean()
    image = (image - mean) * np.float32(contrast) + mean
    if image.shape[-1] == 3:
        grey = image @ _LUMA
        image = (image - grey[..., None]) * np.float32(saturation) + grey[..., None]
    return np.clip(image, 0, 1).astype(np.float32)
