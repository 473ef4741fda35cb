"""Random batches shaped for any zoo model: what `fit` takes, with no dataset at all.

Images are smooth random fields (low-resolution noise upsampled bilinearly) in
[0, 1], so image losses such as SSIM see structure rather than white noise.
Masks are random rectangles, 1 = hole.
"""

import numpy as np

from zoo.models.dcgan_networks import DCGANGenerator


def smooth_images(rng, count, height, width, channels, cells=4):
    """(count, height, width, channels) float32 in [0, 1]: bilinear upsampling of a
    (cells + 1) x (cells + 1) grid of uniform noise."""
    grid = rng.random((count, cells + 1, cells + 1, channels), dtype=np.float32)
    rows = np.linspace(0, cells, height, dtype=np.float32)
    cols = np.linspace(0, cells, width, dtype=np.float32)
    r0 = np.minimum(rows.astype(int), cells - 1)
    c0 = np.minimum(cols.astype(int), cells - 1)
    fr = (rows - r0)[None, :, None, None]
    fc = (cols - c0)[None, None, :, None]
    top = grid[:, r0][:, :, c0] * (1 - fc) + grid[:, r0][:, :, c0 + 1] * fc
    bottom = grid[:, r0 + 1][:, :, c0] * (1 - fc) + grid[:, r0 + 1][:, :, c0 + 1] * fc
    return (top * (1 - fr) + bottom * fr).astype(np.float32)


def box_masks(rng, count, height, width, min_fraction=0.2, max_fraction=0.5):
    """(count, height, width, 1) float32 masks, each with one rectangle of 1s (the hole)
    whose sides are between `min_fraction` and `max_fraction` of the image's."""
    masks = np.zeros((count, height, width, 1), np.float32)
    for mask in masks:
        h = max(1, int(height * rng.uniform(min_fraction, max_fraction)))
        w = max(1, int(width * rng.uniform(min_fraction, max_fraction)))
        top, left = rng.integers(0, height - h + 1), rng.integers(0, width - w + 1)
        mask[top:top + h, left:left + w] = 1.0
    return masks


def random_batch(model, batch_size=4, image_size=(32, 32), seed=0):
    """`(x, y)` for `model.fit` / `model.predict`, drawn at random.

    Inpainters get `{"image", "mask"}` and the clean image as target; restoration
    U-Nets the image (plus mask) and the image; denoisers with a `noise_level` input
    `{"image": noisy, "noise_level": (B, 1) sigma / 255}` and the clean image;
    segmentation U-Nets the image and integer labels (B, H, W); a DCGAN gets images
    and a generator N(0, 1) latents, both with `y = None`. `image_size` is used only
    where the model's input size is not fixed.
    """
    rng = np.random.default_rng(seed)
    if isinstance(model, DCGANGenerator):
        return rng.standard_normal((batch_size, model.latent_dim), dtype=np.float32), None
    if getattr(model, "task", None) == "generate":
        height, width, channels = model.image_shape
        return smooth_images(rng, batch_size, height, width, channels), None
    inputs = model.input if isinstance(model.input, dict) else {"image": model.input}
    height, width, channels = inputs["image"].shape[1:]
    height, width = height or image_size[0], width or image_size[1]
    images = smooth_images(rng, batch_size, height, width, channels)
    if model.output_names == ["segmentation"]:
        classes = model.output.shape[-1]
        labels = np.floor(images.mean(axis=-1) * classes).clip(0, classes - 1).astype("int32")
        return images, labels
    if "mask" in inputs:
        return {"image": images, "mask": box_masks(rng, batch_size, height, width)}, images
    if "noise_level" in inputs:
        levels = rng.uniform(0.0, 50.0 / 255, (batch_size, 1)).astype(np.float32)
        noise = rng.standard_normal(images.shape, dtype=np.float32) * levels[:, :, None, None]
        return {"image": np.clip(images + noise, 0, 1), "noise_level": levels}, images
    return images, images
