"""Run an image model on an image of any size: pad, tile, and crop back.

Zoo repair and segmentation models take H and W divisible by 2**depth. `apply_to_image`
pads the image by reflection up to the next multiple (the padded part of a mask is
"known", so nothing outside the image is filled), runs the model in overlapping tiles
when the image is large, and crops the result back to the input's size. Only each
tile's interior is kept, and tiles overlap by the model's receptive radius (measured,
`receptive_radius`), so the tiled result is the one-pass result: a caller never needs
to know the tile size. With a mask, only the tiles that hold a hole are run: the rest of
an inpainter's output is the image itself, so a large photo with a few strokes costs
about as much as its strokes' neighbourhoods. An inpainter with global context (the
in-graph fill) runs thin holes in smaller tiles than wide ones (`zoo_lite.hole_tiles`).
"""

import numpy as np

from zoo_lite.tiles import fill_by_hole_width, pad_to_multiple, run_tiled

DEFAULT_TILE = 512    # pixels per tile side; bounds memory on large photos
# Context kept on every side of a tile's written part when the model's receptive field
# is wider than RADIUS_PROBE can measure (a model with global context, such as the
# in-graph diffusion fill of an inpainter): tiles then approximate the one-pass result.
DEFAULT_OVERLAP = 32
# Side of the random images `receptive_radius` measures on: it sees radii up to half of
# it. A four-level U-Net on pixel-unshuffled input reaches 217 px (unet_denoise_photos).
RADIUS_PROBE = 768


def size_factor(model):
    """The number H and W must be divisible by (1 for models without a constraint)."""
    from zoo.image_layers import PadToMultiple, SpatialSizeCheck

    factors = [layer.factor for layer in model.layers
               if isinstance(layer, PadToMultiple | SpatialSizeCheck)]
    return max(factors, default=1)


def receptive_radius(model):
    """How far (pixels, Chebyshev distance) a change of one input pixel reaches in the
    output, measured on two random RADIUS_PROBE-sized images; None when it reaches the
    probe's edge (global context). Cached on the model; `zoo.load` sets it from a
    preset's metadata ("receptive_radius", measured when it was packaged)."""
    cached = getattr(model, "_zoo_receptive_radius", False)
    if cached is not False:
        return cached
    from keras import ops

    rng = np.random.default_rng(0)
    channels = _model_channels(model)
    side, centre, radius = RADIUS_PROBE, RADIUS_PROBE // 2, 0
    # an inpainter's probe is all hole but the changed pixel: the widest reach
    mask = None
    if _takes_mask(model):
        mask = np.ones((side, side, 1), np.float32)
        mask[centre, centre] = 0.0
    level = 25 / 255 if takes_noise_level(model) else None
    for _ in range(2):
        image = rng.random((side, side, channels)).astype(np.float32)
        changed = image.copy()
        changed[centre, centre] = 1.0 - changed[centre, centre]
        outputs = [ops.convert_to_numpy(model(_inputs(x[None], None if mask is None
                                                      else mask[None], level),
                                              training=False))[0]
                   for x in (image, changed)]
        rows, cols = np.nonzero(np.abs(outputs[0] - outputs[1]).max(axis=-1) > 0)
        if rows.size:
            radius = max(radius, int(np.abs(rows - centre).max()),
                         int(np.abs(cols - centre).max()))
    radius = None if radius >= centre - 1 else radius
    model._zoo_receptive_radius = radius
    return radius


def tile_overlap(model):
    """The context a tile keeps on each side: the receptive radius rounded up to a
    multiple of the model's size factor (so tiles start on its pooling grid), else
    DEFAULT_OVERLAP for a model with global context."""
    radius = receptive_radius(model)
    if radius is None:
        return DEFAULT_OVERLAP
    factor = size_factor(model)
    return -(-radius // factor) * factor


def large_image_tiling(model, tile=None):
    """(tile, overlap) that `apply_to_image` runs an image larger than `tile` (default
    `preferred_tile(model)`) in when no overlap is given: the tile rounded down to a
    multiple of the size factor and widened to at least 4 x `tile_overlap(model)`."""
    factor = size_factor(model)
    tile = tile or preferred_tile(model)
    tile = max(factor, tile - tile % factor)
    overlap = tile_overlap(model)
    return max(tile, 4 * overlap), overlap


def _takes_mask(model):
    return isinstance(model.input, dict) and "mask" in model.input


def _range_hint(low, high):
    return " (8-bit values? divide by 255)" if 1.0 < high <= 255.0 and low >= 0.0 else ""


def _check_finite(array, name):
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0][:2])
        raise ValueError(f"{name} has {int(bad.sum())} NaN or infinite values (first at row "
                         f"{where[0]}, column {where[1]}); it must be finite, in [0, 1].")


def check_image(image, channels, name="image"):
    """Raise a ValueError unless `image` is (H, W, channels) float in [0, 1], finite."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != channels or 0 in image.shape:
        raise ValueError(f"{name} must be (H, W, {channels}) with H, W >= 1; got shape "
                         f"{image.shape}.")
    if not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"{name} must be float in [0, 1]; got dtype {image.dtype}.")
    _check_finite(image, name)
    low, high = float(image.min()), float(image.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{name} values must be in [0, 1]; got [{low:.3g}, {high:.3g}]"
                         f"{_range_hint(low, high)}.")
    return image.astype(np.float32)


def check_mask(mask, height, width):
    """The hole mask (H, W, 1) float32 in {0, 1} (1 = hole) from `mask`: (H, W) or
    (H, W, 1), bool or numbers in [0, 1] (> 0.5 is a hole), finite."""
    mask = np.asarray(mask)
    if mask.ndim == 2:
        mask = mask[..., None]
    if mask.shape != (height, width, 1):
        raise ValueError(f"mask must be ({height}, {width}, 1) or ({height}, {width}) like "
                         f"the image, 1 = hole; got shape {mask.shape}.")
    if not (mask.dtype == np.bool_ or np.issubdtype(mask.dtype, np.number)):
        raise ValueError(f"mask must be bool or numbers in [0, 1]; got dtype {mask.dtype}.")
    mask = mask.astype(np.float32)
    _check_finite(mask, "mask")
    low, high = float(mask.min()), float(mask.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"mask values must be in [0, 1] (1 = hole); got [{low:.3g}, "
                         f"{high:.3g}]{_range_hint(low, high)}.")
    return (mask > 0.5).astype(np.float32)


def _image_input(model):
    """The model's `image` input tensor; a clear error for models that take no image."""
    if getattr(model, "task", None) == "generate":
        raise ValueError("A DCGAN generates images from noise: use model.generate(count), "
                         "not apply_to_image.")
    try:
        inputs = model.input
    except (AttributeError, ValueError):
        raise TypeError(f"apply_to_image takes a built zoo image model (a keras.Model); got "
                        f"{type(model).__name__}.") from None
    image = inputs.get("image") if isinstance(inputs, dict) else inputs
    if image is None or len(image.shape) != 4:
        raise ValueError(f"apply_to_image takes a model whose input is an image (B, H, W, C); "
                         f"{model.name} takes {inputs}.")
    return image


def _model_channels(model):
    return _image_input(model).shape[-1]


def _inputs(images, masks, noise_level):
    """The model's inputs for a batch of images (B, H, W, C) and, where it takes them,
    masks (B, H, W, 1) or one noise level (image units) for every image."""
    if masks is not None:
        return {"image": images, "mask": masks}
    if noise_level is not None:
        return {"image": images,
                "noise_level": np.full((len(images), 1), noise_level, np.float32)}
    return images


def _predict(model, x):
    """The model's outputs for the batch `x` (its inputs as `_inputs` gives them), float32
    numpy, through Keras' compiled predict step (a traced graph on TensorFlow, jit on JAX;
    traced once per input shape). On one thread at 256 x 256 it takes 0.073 s for
    unet-denoise-photos and 0.074 s for unet-inpaint-photos, where an eager call takes
    0.118 and 0.241 s (the inpainter's in-graph fill is 162 small steps)."""
    return np.asarray(model.predict_on_batch(x), np.float32)


def _run(model, image, mask, noise_level):
    x = _inputs(image[None], None if mask is None else mask[None], noise_level)
    return _predict(model, x)[0]


def takes_noise_level(model):
    """Whether the model has a `noise_level` input (a denoiser whose strength is set)."""
    return isinstance(model.input, dict) and "noise_level" in model.input


def noise_level_for(model, image, sigma):
    """The `noise_level` input value (image units) for `sigma` (8-bit units, 0-255), or
    the one `estimate_sigma` measures in `image` when `sigma` is None; None for models
    without that input (which then take no sigma)."""
    from zoo.noise_level import estimate_sigma

    if not takes_noise_level(model):
        if sigma is not None:
            raise ValueError("This model takes no noise strength (sigma); it is blind or "
                             "not a denoiser.")
        return None
    if sigma is None:
        sigma = estimate_sigma(image)
    sigma = float(sigma)
    if not 0.0 <= sigma <= 255.0:
        raise ValueError(f"sigma must be in [0, 255] (8-bit units), got {sigma}.")
    return sigma / 255.0


def preferred_tile(model):
    """The tile side a preset was validated with (`metadata.json` "inference_tile", set
    by `zoo.load`), else `DEFAULT_TILE`."""
    return getattr(model, "preset_tile", None) or DEFAULT_TILE


def apply_to_image(model, image, mask=None, tile=None, overlap=None, sigma=None):
    """The model's output for one image of any size.

    Args:
        model: a zoo repair / segmentation model (not a DCGAN).
        image: (H, W, C) float32 in [0, 1], C the model's channels.
        mask: (H, W, 1) or (H, W) in {0, 1}, 1 = hole; required by (and only for)
            inpainting models.
        tile, overlap: tile side (default `preferred_tile(model)`) and the context kept
            around each tile's written part (default `tile_overlap(model)`: the
            receptive radius, which makes the result independent of the tile size; a
            tile is widened to at least 4 x overlap).
        sigma: for a denoiser with a `noise_level` input, the noise's Gaussian sigma in
            8-bit units (0-255); None estimates it from the image (`estimate_sigma`).
    Returns: (H, W, C) float32 in [0, 1] for repair models, (H, W, classes)
    probabilities for segmentation.
    """
    fixed = tuple(_image_input(model).shape[1:3])
    needs_mask = _takes_mask(model)
    image = check_image(image, _model_channels(model))
    height, width = image.shape[:2]
    if None not in fixed and fixed != (height, width):
        raise ValueError(f"{model.name} takes images of exactly {fixed[1]}x{fixed[0]} (W x H), "
                         f"got {width}x{height}; build it with image_shape=(None, None, C) "
                         "to take any size.")
    if needs_mask != (mask is not None):
        raise ValueError("This model fills holes: give a mask." if needs_mask
                         else "This model takes no mask.")
    if mask is not None:
        mask = check_mask(mask, height, width)
    for key, value, least in (("tile", tile, 1), ("overlap", overlap, 0)):
        if value is not None and (not isinstance(value, int | np.integer)
                                  or isinstance(value, bool) or value < least):
            raise ValueError(f"{key} must be an int >= {least} (pixels); got {value!r}.")
    noise_level = noise_level_for(model, image, sigma)
    factor = size_factor(model)
    sized_to_holes = mask is not None and tile is None and overlap is None
    tile = tile or preferred_tile(model)
    tile = max(factor, tile - tile % factor)
    padded, pad = pad_to_multiple(image, factor)
    padded_mask = None if mask is None else np.pad(mask, pad)
    full_h, full_w = padded.shape[:2]
    if overlap is None and max(full_h, full_w) > tile:  # measured only when tiles are needed
        tile, overlap = large_image_tiling(model, tile)
    if full_h <= tile and full_w <= tile:
        return _run(model, padded, padded_mask, noise_level)[:height, :width]

    def run_batch(images, masks):
        return _predict(model, _inputs(images, masks, noise_level))

    if sized_to_holes and receptive_radius(model) is None:
        return fill_by_hole_width(run_batch, padded, padded_mask, tile, overlap,
                                  factor)[:height, :width]
    return run_tiled(run_batch, padded, padded_mask, tile, overlap)[:height, :width]
