"""Look inside zoo models: feature maps, activation statistics and labelled image grids.

    from zoo import visualize
    visualize.layer_names(model)                    # layers with a feature map, in graph order
    maps = visualize.feature_maps(model, image)     # {name: (H_l, W_l, C_l)} for one image
    visualize.save_png(visualize.feature_map_grid(maps["encoder0_act2"]), "enc0.png")
    for row in visualize.activation_stats(model, images):   # dead ReLUs per layer
        print(row["name"], row["zero_fraction"], row["dead_channel_fraction"])
    visualize.save_png(visualize.before_after({"input": x, "model": y, "target": t}), "ab.png")

Images are float32 (H, W, C) or (B, H, W, C) in [0, 1]; masks (H, W, 1) / (B, H, W, 1)
with 1 = hole. Inpainting models (dict input `image` + `mask`) need the mask. For a
DCGAN the generator is inspected with a latent vector (latent_dim,) and the
discriminator with an image; `layer_names` lists the generator's layers unless
`part="discriminator"`.

Pictures are uint8 (H, W, 3) numpy arrays, drawn with numpy and Pillow (no matplotlib),
written by `save_png` atomically. Feature maps are computed in inference mode
(`training=False`: batch-norm statistics, no dropout) with a `keras.Model` that outputs
the chosen layers, so this works on every Keras backend.
"""

import functools

import numpy as np

from zoo_lite import image_io
from zoo_lite.image_io import tile, to_rgb8

MAX_LISTED = 20         # layer names quoted in an error message
MIN_TILE_SIDE = 48      # feature_map_grid upscales (nearest) small maps to about this size
STATS_BATCH = 8         # images per forward pass in activation_stats
PARTS = ("generator", "discriminator")
KINDS = ("conv", "activation")


# === Which network and which layers ===

def _is_dcgan(model):
    networks = getattr(model, "networks", None)
    return networks is not None and len(networks()) > 1


def _network(model, part=None, images=True):
    """The functional network to inspect. For a DCGAN: `part`, else the discriminator
    when the data are images and the generator when they are latent vectors."""
    if part is not None and part not in PARTS:
        raise ValueError(f"Unknown part {part!r}. Valid values: {', '.join(PARTS)}.")
    if not _is_dcgan(model):
        if part is not None:
            raise ValueError(f"part={part!r} applies to a DCGAN only; {model.name} is one "
                             "network.")
        return model
    part = part or ("discriminator" if images else "generator")
    return getattr(model, part)


def _layer_kind(layer):
    from keras import layers

    if isinstance(layer, layers.Activation | layers.LeakyReLU | layers.ReLU | layers.ELU
                  | layers.PReLU | layers.Softmax):
        return "activation"
    return "conv"


def _feature_layers(net):
    """(layer, output KerasTensor) for every non-input layer whose output is 4-D."""
    from keras import layers

    found = []
    for layer in net.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        output = layer.output
        if not isinstance(output, list | tuple | dict) and len(output.shape) == 4:
            found.append(layer)
    return found


def layer_names(model, kind="conv", part=None):
    """Names of the layers whose output is a feature map (B, H, W, C), in graph order:
    what `feature_maps(model, image, layers=...)` accepts.

    Args:
        model: a zoo functional model (U-Net, inpainter, a DCGAN's generator or
            discriminator) or a DCGAN (its generator unless `part="discriminator"`).
        kind: `conv`: every feature-map layer (convolutions, pooling, normalization,
            activations, concatenations, the model's image layers); `activation`: only
            activation layers (where dead ReLUs show).
        part: for a DCGAN, `generator` (default) or `discriminator`.
    Returns: list of str.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown kind {kind!r}. Valid values: {', '.join(KINDS)}.")
    net = _network(model, part, images=part == "discriminator")
    return [layer.name for layer in _feature_layers(net)
            if kind == "conv" or _layer_kind(layer) == "activation"]


def _nominal_inputs(net, height=None, width=None):
    """KerasTensors of batch 1 shaped like the net's inputs, with concrete H and W
    (the given ones, the model's fixed ones, or 8 * the size factor)."""
    import keras

    from zoo.inference import size_factor

    side = 8 * size_factor(net)

    def concrete(tensor):
        shape = list(tensor.shape)
        if len(shape) == 4:
            shape[1] = shape[1] or height or side
            shape[2] = shape[2] or width or side
        shape[0] = 1
        return keras.KerasTensor(tuple(shape), dtype=tensor.dtype)

    return keras.tree.map_structure(concrete, net.input)


def default_layers(model, part=None, image_shape=None):
    """A short list of layers worth looking at: the last layer (its last activation where
    it has one) of each resolution level of the encoder, down to the bottleneck (for a
    network that only up-samples, such as a DCGAN generator, or only down-samples, of
    every resolution); the model's output layer is left out.

    `image_shape` (H, W, ...) is the size the model will see when its input size is
    free (any valid size gives the same list). Returns: list of str.
    """
    import keras

    net = _network(model, part, images=part == "discriminator")
    found = _feature_layers(net)
    if not found:
        return []
    height, width = (image_shape or (None, None))[:2]
    extractor = keras.Model(net.input, [layer.output for layer in found])
    specs = extractor.compute_output_spec(_nominal_inputs(net, height, width))
    outputs = {id(tensor) for tensor in net.outputs}
    runs = []  # [[H * W, [layers at that resolution]]] for each run of one resolution
    for layer, spec in zip(found, specs, strict=True):
        area = spec.shape[1] * spec.shape[2]
        if not runs or runs[-1][0] != area:
            runs.append([area, []])
        runs[-1][1].append(layer)

    def last(run):  # its last activation, else its last layer; not the model's output
        inner = [layer for layer in run if id(layer.output) not in outputs] or run
        active = [layer for layer in inner if _layer_kind(layer) == "activation"] or inner
        return active[-1].name

    grows = [i for i in range(1, len(runs)) if runs[i][0] > runs[i - 1][0]]
    end = grows[0] if grows and grows[0] > 1 else len(runs)
    return [last(run) for _, run in runs[:end]]


def _check_layers(net, layers):
    """The layer names, checked: each must exist in `net` and output a feature map."""
    if isinstance(layers, str):
        layers = [layers]
    layers = list(layers)
    if not layers:
        raise ValueError("layers is empty: give at least one layer name.")
    valid = [layer.name for layer in _feature_layers(net)]
    listed = ", ".join(valid[:MAX_LISTED]) + (
        f", ... ({len(valid)} in all; see zoo.visualize.layer_names)"
        if len(valid) > MAX_LISTED else "")
    names = {layer.name for layer in net.layers}
    for name in layers:
        if name not in valid:
            what = ("does not output a feature map (B, H, W, C)" if name in names
                    else "is not a layer")
            raise ValueError(f"{name!r} {what} of {net.name}. Feature-map layers: {listed}.")
    return layers


def _extractor(net, layers):
    """A keras.Model from the net's inputs to the named layers' outputs (shared weights)."""
    import keras

    return keras.Model(net.input, [net.get_layer(name).output for name in layers],
                       name=f"{net.name}_features")


# === Inputs ===

def _needs_mask(net):
    return isinstance(net.input, dict) and "mask" in net.input


def _check_batch(images, name, channels):
    """float32 (N, H, W, channels) in [0, 1], or a ValueError that says what is wrong."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != channels:
        raise ValueError(f"{name} must be (H, W, {channels}) per image; got shape "
                         f"{images.shape[1:] if images.ndim == 4 else images.shape}.")
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"{name} must be float in [0, 1]; got dtype {images.dtype}.")
    low, high = float(np.min(images)), float(np.max(images))
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{name} values must be in [0, 1]; got [{low:.3g}, {high:.3g}].")
    return images.astype(np.float32)


def _model_inputs(net, images, masks):
    """The net's input structure for a batch: images (N, H, W, C) in [0, 1] or latents
    (N, latent_dim); masks (N, H, W, 1) or one (H, W, 1) mask for every image."""
    from zoo.inference import size_factor

    image_input = net.input["image"] if isinstance(net.input, dict) else net.input
    if len(image_input.shape) == 2:  # a generator's latent vectors
        latent_dim = image_input.shape[-1]
        latents = np.asarray(images, np.float32)
        if latents.ndim != 2 or latents.shape[-1] != latent_dim:
            raise ValueError(f"{net.name} takes latent vectors of size {latent_dim}; got "
                             f"shape {latents.shape[1:]} per sample.")
        if masks is not None:
            raise ValueError(f"{net.name} takes no mask.")
        return latents
    images = _check_batch(images, "image", image_input.shape[-1])
    count, height, width = images.shape[:3]
    fixed = tuple(image_input.shape[1:3])
    if None not in fixed and (height, width) != fixed:
        raise ValueError(f"{net.name} takes {fixed[1]}x{fixed[0]} images (W x H); got "
                         f"{width}x{height}.")
    factor = size_factor(net)
    if height % factor or width % factor:
        raise ValueError(f"{net.name} needs H and W divisible by {factor}; got {width}x{height}"
                         f" (W x H): crop or pad to a multiple of {factor}.")
    if not _needs_mask(net):
        if masks is not None:
            raise ValueError(f"{net.name} takes no mask (it is not an inpainting model).")
        return images
    if masks is None:
        raise ValueError(f"{net.name} is an inpainting model: give a mask (H, W, 1), "
                         "1 = hole (e.g. mask=np.zeros((H, W, 1)) for no hole).")
    masks = _batch_masks(masks, count)
    if masks.shape != (count, height, width, 1):
        raise ValueError(f"mask shape {masks.shape[1:]} does not match the image: expected "
                         f"({height}, {width}, 1).")
    return {"image": images, "mask": (masks > 0.5).astype(np.float32)}


def _batch_masks(mask, count):
    """(N, H, W, 1) float32 from masks (N, H, W, 1) / (N, H, W) or one mask (H, W, 1) /
    (H, W) repeated for `count` images."""
    mask = np.asarray(mask, np.float32)
    if mask.ndim == 2 or (mask.ndim == 3 and mask.shape[-1] == 1):
        mask = mask.reshape(*mask.shape[:2], 1)
        return np.broadcast_to(mask, (count, *mask.shape))
    return mask[..., None] if mask.ndim == 3 else mask


def _run(extractor, inputs):
    """Per-layer float32 numpy outputs of the extractor in inference mode."""
    from keras import ops

    outputs = extractor(inputs, training=False)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    return [np.asarray(ops.convert_to_numpy(o), np.float32) for o in outputs]


# === Feature maps and statistics ===

def feature_maps(model, image, layers=None, mask=None, part=None):
    """The chosen layers' outputs for one input, in inference mode.

    Args:
        model: a zoo model; a DCGAN is inspected through its generator when `image` is a
            latent vector and through its discriminator when it is an image.
        image: (H, W, C) float32 in [0, 1] with H, W what the model takes (multiples of
            `zoo.inference.size_factor(model)`), or a latent vector (latent_dim,).
        layers: layer names (see `layer_names`); default `default_layers`, the last
            layer of each encoder resolution level.
        mask: (H, W, 1) or (H, W), 1 = hole; required by inpainting models.
        part: for a DCGAN, force `generator` or `discriminator`.
    Returns: {layer name: float32 (H_l, W_l, C_l)} in the order of `layers`; values
    are raw activations (any range).
    """
    image = np.asarray(image)
    net = _network(model, part, images=image.ndim != 1)
    if layers is None:
        layers = default_layers(net, image_shape=image.shape if image.ndim == 3 else None)
    layers = _check_layers(net, layers)
    inputs = _model_inputs(net, image[None], mask)
    outputs = _run(_extractor(net, layers), inputs)
    return {name: output[0] for name, output in zip(layers, outputs, strict=True)}


def activation_stats(model, images, layers=None, mask=None, part=None,
                     batch_size=STATS_BATCH):
    """Activation statistics per layer over a batch of inputs (inference mode).

    Args:
        model: a zoo model (a DCGAN: latents (N, latent_dim) go to the generator,
            images to the discriminator).
        images: (N, H, W, C) float32 in [0, 1] (or (N, latent_dim) latents).
        layers: layer names; default every activation layer (`layer_names(model,
            "activation")`), where dead ReLUs show.
        mask: inpainting models: (N, H, W, 1) masks or one (H, W, 1) for all, 1 = hole.
        batch_size: inputs per forward pass (bounds memory).
    Returns: one dict per layer: `name`, `shape` (H_l, W_l, C_l) per input, `mean`,
    `std`, `min`, `max` over every value, `zero_fraction` (values exactly 0: the
    fraction of ReLU units that are off), `dead_channel_fraction` (channels that are 0
    at every position of every input: dead filters) and `channels`.
    """
    images = np.asarray(images)
    if images.ndim not in (2, 4) or len(images) == 0:
        raise ValueError("images must be a non-empty batch (N, H, W, C) or latents "
                         f"(N, latent_dim); got shape {images.shape}.")
    net = _network(model, part, images=images.ndim == 4)
    if layers is None:
        layers = layer_names(net, "activation") or default_layers(
            net, image_shape=images.shape[1:] if images.ndim == 4 else None)
    layers = _check_layers(net, layers)
    if mask is not None:
        mask = _batch_masks(mask, len(images))
    extractor = _extractor(net, layers)
    totals = None
    for start in range(0, len(images), batch_size):
        chunk = slice(start, start + batch_size)
        inputs = _model_inputs(net, images[chunk], None if mask is None else mask[chunk])
        outputs = _run(extractor, inputs)
        if totals is None:
            totals = [dict(count=0, total=0.0, squares=0.0, low=np.inf, high=-np.inf, zeros=0,
                           alive=np.zeros(o.shape[-1], bool)) for o in outputs]
        for t, values in zip(totals, outputs, strict=True):
            wide = values.astype(np.float64)
            t["count"] += values.size
            t["total"] += float(wide.sum())
            t["squares"] += float(np.square(wide).sum())
            t["low"] = min(t["low"], float(values.min()))
            t["high"] = max(t["high"], float(values.max()))
            t["zeros"] += int(np.count_nonzero(values == 0))
            t["alive"] |= np.any(values != 0, axis=(0, 1, 2))
            t["shape"] = tuple(int(d) for d in values.shape[1:])
    stats = []
    for name, t in zip(layers, totals, strict=True):
        mean = t["total"] / t["count"]
        channels = len(t["alive"])
        stats.append({
            "name": name, "shape": t["shape"], "mean": mean,
            "std": float(np.sqrt(max(t["squares"] / t["count"] - mean * mean, 0.0))),
            "min": t["low"], "max": t["high"], "zero_fraction": t["zeros"] / t["count"],
            "dead_channel_fraction": float(np.mean(~t["alive"])), "channels": channels,
        })
    return stats


def format_stats(stats):
    """`activation_stats` rows as a plain-text table (one line per layer)."""
    lines = [f"{'layer':28} {'shape':>16} {'mean':>9} {'std':>9} {'min':>9} {'max':>9} "
             f"{'zeros':>6} {'dead ch':>9}"]
    for row in stats:
        shape = "x".join(str(d) for d in row["shape"])
        dead = f"{round(row['dead_channel_fraction'] * row['channels'])}/{row['channels']}"
        lines.append(f"{row['name']:28} {shape:>16} {row['mean']:>9.4g} {row['std']:>9.4g} "
                     f"{row['min']:>9.4g} {row['max']:>9.4g} {row['zero_fraction']:>6.1%} "
                     f"{dead:>9}")
    return "\n".join(lines)


# === Pictures ===

def feature_map_grid(maps, channels=16, scale=None, gap=2):
    """Tile the first `channels` channels of one layer's feature map.

    Args:
        maps: (H_l, W_l, C_l) (or (1, H_l, W_l, C_l), or (H_l, W_l)) float, any range.
        channels: how many channels to show (the first ones).
        scale: integer nearest-neighbour upscaling of each channel; default makes a
            small map about `MIN_TILE_SIDE` pixels on its long side (1 for large maps).
        gap: white pixels between tiles.
    Returns: uint8 (rows * H_l * scale + gaps, cols * W_l * scale + gaps, 3), each channel
    min-max normalized to black..white on its own (a constant channel is black), in a
    near-square grid, row by row.
    """

    maps = np.asarray(maps, np.float32)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim == 2:
        maps = maps[..., None]
    if maps.ndim != 3 or min(maps.shape) == 0:
        raise ValueError(f"maps must be one layer's feature map (H, W, C); got {maps.shape}.")
    if channels < 1:
        raise ValueError(f"channels must be >= 1, got {channels}.")
    chosen = np.nan_to_num(np.moveaxis(maps[..., :channels], -1, 0))  # (n, H, W)
    low = chosen.min(axis=(1, 2), keepdims=True)
    span = chosen.max(axis=(1, 2), keepdims=True) - low
    normalized = np.where(span > 0, (chosen - low) / np.where(span > 0, span, 1.0), 0.0)
    if scale is None:
        scale = max(1, MIN_TILE_SIDE // max(maps.shape[:2]))
    if int(scale) != scale or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}.")
    scale = int(scale)
    normalized = normalized.repeat(scale, axis=1).repeat(scale, axis=2)
    return tile(to_rgb8(normalized[..., None]), gap=gap)


def _as_batch(images, name):
    """(N, H, W, 1 | 3) float in [0, 1] -> (N, H, W, 3) uint8; (H, W, C) is one image."""

    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) == 0:
        raise ValueError(f"{name} must be images (N, H, W, 1 or 3); got shape {images.shape}.")
    if images.dtype == np.uint8:
        return images if images.shape[-1] == 3 else np.repeat(images, 3, axis=-1)
    return to_rgb8(images)


def sample_grid(images, columns=None, gap=2):
    """(N, H, W, C) float images in [0, 1], C = 1 or 3 (or uint8) tiled row by row.

    Returns: uint8 (rows * H + gaps, columns * W + gaps, 3); `columns` defaults to a
    near-square grid; empty cells and gaps are white.
    """

    return tile(_as_batch(images, "images"), columns=columns, gap=gap)


@functools.lru_cache(maxsize=1)
def _font():
    from PIL import ImageFont

    return ImageFont.load_default()


def _text_size(text):
    """(width, height) in pixels of `text` in Pillow's default font."""
    from PIL import Image, ImageDraw

    box = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((0, 0), text, font=_font())
    return box[2], box[3]


def caption_height():
    """Pixels of the caption strip above a column or panel (text plus padding)."""
    return _text_size("Ag")[1] + 4


def _draw_text(canvas, text, left, top, width):
    """Draw `text` in black onto the uint8 canvas, centred in [left, left + width)."""
    from PIL import Image, ImageDraw

    picture = Image.fromarray(canvas)
    text_width = _text_size(text)[0]
    ImageDraw.Draw(picture).text((left + max(0, (width - text_width) // 2), top + 2), text,
                                 fill=(0, 0, 0), font=_font())
    canvas[...] = np.asarray(picture)


def before_after(columns, gap=2):
    """A labelled comparison grid: one column per entry, one row per example.

    Args:
        columns: {caption: images (N, H, W, 1 or 3) float in [0, 1] (or uint8)}, e.g.
            {"input": x, "model": y, "target": t}; every entry has the same N, H, W.
        gap: white pixels between rows and columns.
    Returns: uint8 (caption_height() + N * H + (N - 1) * gap, width, 3): a caption in
    Pillow's default font above each column; a column is W wide, or as wide as its
    caption when that is wider (the images centred in it).
    """
    if not columns:
        raise ValueError("columns is empty: give {caption: images (N, H, W, C)}.")
    batches = {name: _as_batch(images, f"columns[{name!r}]") for name, images in columns.items()}
    shapes = {name: b.shape[:3] for name, b in batches.items()}
    if len(set(shapes.values())) != 1:
        sizes = ", ".join(f"{name}: {shape}" for name, shape in shapes.items())
        raise ValueError(f"every column needs the same (N, H, W); got {sizes}.")
    count, height, width = next(iter(shapes.values()))
    widths = [max(width, _text_size(str(name))[0] + 4) for name in batches]
    top = caption_height()
    canvas = np.full((top + count * (height + gap) - gap, sum(widths) + gap * (len(widths) - 1),
                      3), 255, np.uint8)
    left = 0
    for (name, images), cell in zip(batches.items(), widths, strict=True):
        _draw_text(canvas, str(name), left, 0, cell)
        x = left + (cell - width) // 2
        for i, image in enumerate(images):
            y = top + i * (height + gap)
            canvas[y:y + height, x:x + width] = image
        left += cell + gap
    return canvas


def labelled_stack(panels, gap=6):
    """Pictures stacked vertically, each under its caption.

    Args:
        panels: [(caption, uint8 (H_i, W_i, 3) picture)] (or (H_i, W_i) / (H_i, W_i, 1)).
    Returns: uint8 (sum of caption_height() + H_i + gaps, max width, 3) on white,
    pictures left-aligned.
    """
    if not panels:
        raise ValueError("panels is empty.")
    pictures = []
    for caption, picture in panels:
        picture = np.asarray(picture)
        picture = picture[..., None] if picture.ndim == 2 else picture
        if picture.ndim != 3 or picture.dtype != np.uint8 or picture.shape[-1] not in (1, 3):
            raise ValueError(f"panel {caption!r} must be uint8 (H, W, 3); got "
                             f"{picture.dtype} {picture.shape}.")
        pictures.append((str(caption), np.broadcast_to(picture, (*picture.shape[:2], 3))))
    band = caption_height()
    width = max(max(p.shape[1], _text_size(c)[0] + 4) for c, p in pictures)
    height = sum(band + p.shape[0] for _, p in pictures) + gap * (len(pictures) - 1)
    canvas = np.full((height, width, 3), 255, np.uint8)
    top = 0
    for caption, picture in pictures:
        _draw_text(canvas, caption, 0, top, _text_size(caption)[0])
        top += band
        canvas[top:top + picture.shape[0], :picture.shape[1]] = picture
        top += picture.shape[0] + gap
    return canvas


def feature_map_figure(maps, channels=16, scale=None, before=()):
    """One labelled `feature_map_grid` per layer, stacked vertically.

    Args:
        maps: {layer name: (H_l, W_l, C_l)} as `feature_maps` returns.
        channels, scale: see `feature_map_grid`.
        before: [(caption, uint8 picture)] panels put on top (e.g. the input image).
    Returns: uint8 (H, W, 3).
    """
    panels = list(before)
    for name, values in maps.items():
        shape = np.shape(values)
        shown = min(channels, shape[-1])
        caption = f"{name}  {shape[0]}x{shape[1]}x{shape[-1]}" + (
            f"  (first {shown} channels)" if shown < shape[-1] else "")
        panels.append((caption, feature_map_grid(values, channels=channels, scale=scale)))
    return labelled_stack(panels)


def save_png(array, path):
    """Write a picture to `path` as PNG via a temporary file in the same folder and
    `os.replace`, so a reader never sees half a file. Returns the path.

    array: uint8 (H, W, 3) / (H, W, 1) / (H, W), or float in [0, 1] (clipped).
    """
    from pathlib import Path

    array = np.asarray(array)
    array = array[..., None] if array.ndim == 2 else array
    if array.ndim != 3 or array.shape[-1] not in (1, 3):
        raise ValueError(f"expected a picture (H, W), (H, W, 1) or (H, W, 3); got {array.shape}.")
    if array.dtype != np.uint8:
        array = to_rgb8(array[None])[0]
    elif array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return Path(image_io.save_png(np.ascontiguousarray(array), path))
