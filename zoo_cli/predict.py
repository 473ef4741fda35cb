"""`zoo predict`, `zoo generate` and the preset table of `zoo list`."""

import os
from pathlib import Path

import numpy as np


def headline(meta):
    """The preset's headline metric as text: the quality benchmark's if it has run,
    else the validation metric recorded at training time."""
    if meta.get("headline"):
        return meta["headline"]
    metrics = meta.get("validation_metrics") or {}
    for key, label in (("psnr", "val PSNR {:.2f} dB"), ("mean_iou", "val mean IoU {:.3f}")):
        if key in metrics:
            return label.format(metrics[key])
    return "-"


def print_presets(task=None):
    """The preset table; a broken preset gets a row saying what is wrong with it."""
    from zoo.presets import scan_presets

    rows = [(name, meta, problem) for name, meta, problem in scan_presets()
            if problem or task is None or meta["task"] == task]
    print(f"{'preset':24} {'task':9} {'parameters':>10} {'MB':>5}  headline metric")
    for name, meta, problem in rows:
        if problem:
            print(f"{name:24} BROKEN: {problem}")
            continue
        print(f"{meta['name']:24} {meta['task']:9} {meta['parameters']:>10,} "
              f"{meta['weights_bytes'] / 1e6:>5.1f}  {headline(meta)}")
    if not rows:
        print("(no presets" + (f" for task {task!r})" if task else ")"))


def _mask_channels(image):
    """(colour (H, W, C) uint8 for 8-bit modes, else float64; alpha (H, W) in [0, 1] or
    None; full scale) of a PIL image in any mode."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "PA":
        image = image.convert("RGBA")
    elif image.mode not in ("1", "L", "LA", "RGB", "RGBA", "I", "F") \
            and not image.mode.startswith("I;16"):
        image = image.convert("RGB")  # CMYK, YCbCr, ...
    colour = np.asarray(image)
    if colour.dtype != np.uint8:
        colour = colour.astype(np.float64)
    colour = colour[..., None] if colour.ndim == 2 else colour
    if image.mode == "1" or (image.mode == "F" and np.nanmax(colour) <= 1.0):
        scale = 1.0
    else:
        scale = 65535.0 if image.mode.startswith("I") else 255.0
    if image.mode in ("LA", "RGBA"):
        return colour[..., :-1], colour[..., -1] / scale, scale
    return colour, None, scale


def _levels(values):
    """The sorted distinct values of `values`; counted, not sorted, for uint8 (sorting a
    12-megapixel mask took 0.5 s)."""
    if values.dtype == np.uint8:
        return np.flatnonzero(np.bincount(values.ravel(), minlength=256)).astype(np.uint8)
    return np.unique(values)


def _holes(image):
    """Bool (H, W), True = hole, from a mask image; a ValueError (without the file name)
    for one that is no black-and-white mask.

    White (or any colour) on black marks holes: with exactly two levels the brighter
    is the hole (so 0/1 and 0/100 masks work); with more (anti-aliased or JPEG) pixels
    at least half the full scale are. With transparency, the transparent pixels are
    the hole, unless the opaque pixels are one colour other than black: strokes
    painted on a transparent layer, which are the hole."""
    colour, alpha, scale = _mask_channels(image)
    if colour.dtype != np.uint8 and not np.isfinite(colour).all():
        raise ValueError("it holds NaN or infinite values")
    if alpha is not None and alpha.min() < 0.5:
        opaque = alpha >= 0.5
        colours = np.unique(colour[opaque], axis=0)
        return opaque if len(colours) == 1 and colours.max() > 0 else ~opaque
    brightness = colour.max(axis=-1)  # any colour on black is a hole
    levels = _levels(brightness)
    if len(levels) == 2:
        return brightness == levels[1]
    grey = np.mean((brightness > scale / 4) & (brightness < scale * 3 / 4))
    if len(levels) > 2 and grey > 0.1:
        raise ValueError(f"{grey:.0%} of its pixels are mid-grey: it is not a black-and-white "
                         "mask (white = hole)")
    return brightness >= scale / 2


def load_mask(path):
    """The hole mask (H, W, 1) float32, 1 = hole, in the image file `path` (see `_holes`
    for the encodings read); a one-line ValueError naming the file for one that is
    unreadable, animated, or has no hole or only hole."""
    from PIL import Image, ImageOps

    if not Path(path).is_file():
        raise FileNotFoundError(f"No such mask: {path}")
    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            if frames == 1:
                hole = _holes(ImageOps.exif_transpose(image))
    except ValueError as error:
        raise ValueError(f"mask {path}: {error}.") from None
    except Exception as error:  # Pillow raises many types for a bad file
        raise ValueError(f"mask {path} cannot be read as an image ({type(error).__name__}: "
                         f"{error}).") from None
    if frames != 1:
        raise ValueError(f"mask {path} is animated ({frames} frames): give one still image.")
    if not hole.any():
        raise ValueError(f"mask {path} has no hole: nothing to fill (white or any colour on "
                         "black marks the hole).")
    if hole.all():
        raise ValueError(f"mask {path} makes every pixel a hole: nothing is left to fill "
                         "from (white = hole, black = keep).")
    return hole[..., None].astype(np.float32)


def check_output(path, force, inputs=()):
    """Refuse an `-o` that would lose a file: the input itself (even with --force), an
    existing file without --force, a folder, a name not ending in .png."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"-o {path}: the output is a PNG file, give a name ending in .png.")
    if path.is_dir():
        raise ValueError(f"-o {path} is a folder: give a file name ending in .png.")
    if not path.exists():
        return
    for source in inputs:
        if source is not None and Path(source).exists() and os.path.samefile(path, source):
            raise ValueError(f"-o {path} is the input {source}: writing it would destroy "
                             "the input, choose another name.")
    if not force:
        raise ValueError(f"-o {path} exists: add --force to replace it.")


def _output_rgb8(task, output):
    from zoo_lite.image_io import colorize_labels, to_rgb8

    if task == "segment":
        return colorize_labels(np.argmax(output, axis=-1)[None])[0]
    return to_rgb8(output[None])[0]


def _read_image(input_path, channels):
    from training.image_folder import load_image

    try:
        return load_image(input_path, channels=channels)
    except Exception as error:  # Pillow raises many types for a bad file
        raise ValueError(f"image {input_path} cannot be read ({type(error).__name__}: "
                         f"{error}).") from None


def _check_mask_size(mask, mask_path, image):
    height, width = image.shape[:2]
    if mask.shape[:2] != (height, width):
        raise ValueError(f"mask {mask_path} is {mask.shape[1]}x{mask.shape[0]} but the "
                         f"image is {width}x{height} (W x H): they must match.")


def _tflite_tiles(name, runtime, mask_path, tile, sigma):
    """The preset's `zoo_lite.tflite_tiles.TFLiteTiles` where `runtime` lets them fill
    this request, else None (the Keras model runs); a ValueError when `runtime` is
    "tflite" and they cannot."""
    from zoo_lite.tflite_tiles import TFLiteTiles, tiles_folder

    if runtime == "keras":
        return None
    folder = None if str(name).endswith(".keras") else tiles_folder(str(name))
    reason = ("it ships no TFLite tiles" if folder is None
              else "--tile sets the Keras model's tiling" if tile is not None
              else "--sigma is for denoisers" if sigma is not None
              else "give --mask" if mask_path is None else None)
    if reason is None:
        try:
            import ai_edge_litert  # noqa: F401
        except ImportError:
            reason = "ai-edge-litert is not installed"
    if reason is not None:
        if runtime == "tflite":
            raise ValueError(f"--runtime tflite cannot run {name}: {reason}.")
        return None
    return TFLiteTiles(folder)


def _read_rgb8(input_path):
    """(H, W, 3) uint8 of an 8-bit RGB file, EXIF orientation applied, or None for any
    other file (`load_image` then reads it, or names what is wrong with it)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(input_path) as image:
            if image.mode != "RGB":
                return None
            return np.array(ImageOps.exif_transpose(image))
    except Exception:  # Pillow raises many types for a bad file; _read_image reports it
        return None


def _fill_with_tiles(tiles, input_path, mask, mask_path, runtime):
    """The filled image (H, W, C) from the TFLite tiles, uint8 for an 8-bit RGB file
    (the float path's result rounded to 8 bits, without a float copy of the photo), else
    float32; None where the photo is too small for them (and `runtime` is auto)."""
    image = _read_rgb8(input_path) if tiles.channels == 3 else None
    if image is None:
        image = _read_image(input_path, tiles.channels)
    _check_mask_size(mask, mask_path, image)
    if not tiles.takes(*image.shape[:2]):
        if runtime == "tflite":
            raise ValueError(f"--runtime tflite takes images of at least "
                             f"{max(tiles.files)} px a side and over {tiles.tile} px one "
                             "way; use --runtime keras.")
        return None
    image[mask[..., 0] > 0] = 0  # the holes blanked, as the Keras path's image * (1 - mask)
    return tiles.fill(image, mask)


def predict_file(name, input_path, output_path, mask_path=None, tile=None, sigma=None,
                 force=False, runtime="auto"):
    """Run the preset or .keras file `name` on the image file `input_path`; write the
    result PNG (segmentation: one colour per class) to `output_path`, atomically;
    an existing file there only with `force`, and never the input or mask. `sigma`:
    the noise strength for a denoiser that takes one (8-bit units; None: estimated).
    `runtime`: "auto" fills a large photo from the preset's TFLite tiles where it
    ships them (`_tflite_tiles`), "keras" always runs the Keras model, "tflite" insists
    on the tiles. Returns a summary dict."""
    from zoo_lite.image_io import save_png, to_rgb8

    check_output(output_path, force, inputs=(input_path, mask_path))
    if tile is not None and tile < 1:
        raise ValueError(f"--tile must be at least 1 pixel; got {tile}.")
    if sigma is not None and not 0.0 <= sigma <= 255.0:
        raise ValueError(f"--sigma must be in [0, 255] (8-bit units); got {sigma}.")
    if runtime not in ("auto", "keras", "tflite"):
        raise ValueError(f"--runtime must be auto, keras or tflite; got {runtime!r}.")
    if not Path(input_path).is_file():
        raise FileNotFoundError(f"No such image: {input_path}")
    mask = None if mask_path is None else load_mask(mask_path)
    tiles = _tflite_tiles(name, runtime, mask_path, tile, sigma)
    output = None if tiles is None else _fill_with_tiles(tiles, input_path, mask,
                                                         mask_path, runtime)
    if output is not None:
        save_png(output if output.dtype == np.uint8 else to_rgb8(output[None])[0],
                 output_path)
        height, width = output.shape[:2]
        return {"preset": name, "task": "inpaint", "input": str(input_path),
                "output": str(output_path), "size": [width, height], "runtime": "tflite"}
    return _predict_with_keras(name, input_path, output_path, mask, mask_path, tile, sigma)


def _predict_with_keras(name, input_path, output_path, mask, mask_path, tile, sigma):
    from training.tasks import task_of
    from zoo.inference import apply_to_image, noise_level_for
    from zoo.presets import load_preset_or_file
    from zoo_lite.image_io import save_png

    model = load_preset_or_file(name)
    task = task_of(model)
    if task == "generate":
        raise ValueError(f"{name} is a generator: use `zoo generate {name}`.")
    channels = model.input["image"].shape[-1] if isinstance(model.input, dict) \
        else model.input.shape[-1]
    image = _read_image(input_path, channels)
    height, width = image.shape[:2]
    if task == "inpaint":
        if mask is None:
            raise ValueError(f"{name} fills holes: give --mask MASK.png (white = hole).")
        _check_mask_size(mask, mask_path, image)
        image = image * (1.0 - mask)
    elif mask is not None:
        raise ValueError(f"{name} is a {task} model and takes no --mask.")

    noise_level = noise_level_for(model, image, sigma)
    output = apply_to_image(model, image, mask, tile=tile,
                            sigma=None if noise_level is None else noise_level * 255.0)
    save_png(_output_rgb8(task, output), output_path)
    summary = {"preset": name, "task": task, "input": str(input_path),
               "output": str(output_path), "size": [width, height], "runtime": "keras"}
    if noise_level is not None:
        summary["sigma"] = round(noise_level * 255.0, 2)
        summary["sigma_source"] = "given" if sigma is not None else "estimated"
    if task == "segment":
        from training.datasets import SHAPE_CLASSES

        labels = np.argmax(output, axis=-1)
        summary["class_fractions"] = {
            SHAPE_CLASSES[c] if c < len(SHAPE_CLASSES) else str(c): round(
                float(np.mean(labels == c)), 4) for c in range(output.shape[-1])}
    return summary


def generate_grid(name, count, seed, output_path):
    """`count` samples of the generator preset `name` tiled into a PNG."""
    import zoo
    from training.tasks import task_of
    from zoo_lite.image_io import save_png, tile, to_rgb8

    if count < 1:
        raise ValueError(f"-n must be >= 1, got {count}.")
    model = zoo.load(name, compile=False)
    if task_of(model) != "generate":
        raise ValueError(f"{name} is not a generator: use `zoo predict {name} IMAGE`.")
    images = model.generate(count, seed=seed)
    save_png(tile(to_rgb8(images)), output_path)
    return {"preset": name, "count": count, "seed": seed, "output": str(output_path)}


def cmd_predict(args):
    summary = predict_file(args.name, args.input, args.output, args.mask, args.tile,
                           args.sigma, force=args.force, runtime=args.runtime)
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


def cmd_generate(args):
    check_output(args.output, args.force)
    summary = generate_grid(args.name, args.n, args.seed, args.output)
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


