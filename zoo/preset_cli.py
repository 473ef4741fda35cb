"""`zoo predict`, `zoo generate` and the preset table of `zoo list`."""

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
    from zoo.presets import list_presets

    presets = list_presets(task)
    print(f"{'preset':24} {'task':9} {'parameters':>10} {'MB':>5}  headline metric")
    for meta in presets:
        print(f"{meta['name']:24} {meta['task']:9} {meta['parameters']:>10,} "
              f"{meta['weights_bytes'] / 1e6:>5.1f}  {headline(meta)}")
    if not presets:
        print("(no presets" + (f" for task {task!r})" if task else ")"))


def _load_mask(path, height, width):
    from training.image_folder import load_image

    mask = load_image(path, channels=1)
    if mask.shape[:2] != (height, width):
        raise ValueError(f"mask {path} is {mask.shape[1]}x{mask.shape[0]} but the image is "
                         f"{width}x{height} (W x H): they must match.")
    return (mask > 0.5).astype(np.float32)


def _output_rgb8(task, output):
    from training.grids import colorize_labels, to_rgb8

    if task == "segment":
        return colorize_labels(np.argmax(output, axis=-1)[None])[0]
    return to_rgb8(output[None])[0]


def predict_file(name, input_path, output_path, mask_path=None, tile=None, sigma=None):
    """Run the preset or .keras file `name` on the image file `input_path`; write the
    result PNG (segmentation: one colour per class) to `output_path`. `sigma`: the
    noise strength for a denoiser that takes one (8-bit units; None: estimated).
    Returns a summary dict."""
    from training.grids import save_png
    from training.image_folder import load_image
    from training.tasks import task_of
    from zoo.inference import apply_to_image
    from zoo.presets import load_preset_or_file

    model = load_preset_or_file(name)
    task = task_of(model)
    if task == "generate":
        raise ValueError(f"{name} is a generator: use `zoo generate {name}`.")
    if not Path(input_path).is_file():
        raise FileNotFoundError(f"No such image: {input_path}")
    channels = model.input["image"].shape[-1] if isinstance(model.input, dict) \
        else model.input.shape[-1]
    image = load_image(input_path, channels=channels)
    height, width = image.shape[:2]
    mask = None
    if task == "inpaint":
        if mask_path is None:
            raise ValueError(f"{name} fills holes: give --mask MASK.png (white = hole).")
        mask = _load_mask(mask_path, height, width)
        image = image * (1.0 - mask)
    elif mask_path is not None:
        raise ValueError(f"{name} is a {task} model and takes no --mask.")
    from zoo.inference import noise_level_for

    noise_level = noise_level_for(model, image, sigma)
    output = apply_to_image(model, image, mask, tile=tile,
                            sigma=None if noise_level is None else noise_level * 255.0)
    save_png(_output_rgb8(task, output), output_path)
    summary = {"preset": name, "task": task, "input": str(input_path),
               "output": str(output_path), "size": [width, height]}
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
    from training.grids import save_png, tile, to_rgb8
    from training.tasks import task_of

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
                           args.sigma)
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


def cmd_generate(args):
    summary = generate_grid(args.name, args.n, args.seed, args.output)
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


def add_preset_parsers(sub):
    p = sub.add_parser("predict", help="repair or segment an image with a preset or .keras model",
                       description="Run an inpaint / denoise / segment preset on an image of "
                                   "any size (padded and tiled to what the model takes, then "
                                   "cropped back) and write the result as a PNG.")
    p.add_argument("name", help="preset name (see `zoo list`) or a .keras file (a `zoo "
                                "train` run's model.keras)")
    p.add_argument("input", help="image file (PNG, JPEG, ...)")
    p.add_argument("--mask", help="inpainting: mask image of the same size, white = hole")
    p.add_argument("--sigma", type=float,
                   help="denoisers with a noise strength input: the noise's Gaussian sigma in "
                        "8-bit units (0-255); default: estimated from the image")
    p.add_argument("-o", "--output", required=True, help="output PNG")
    p.add_argument("--tile", type=int, help="tile side (default: the one the preset was "
                   "validated with, see its metadata.json inference_tile)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("generate", help="sample a grid of images from a generator preset",
                       description="Draw N images from a DCGAN preset and tile them in a PNG.")
    p.add_argument("name", help="generator preset name (see `zoo list`)")
    p.add_argument("-n", type=int, default=16, help="number of images (default 16)")
    p.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    p.add_argument("-o", "--output", required=True, help="output PNG")
    p.set_defaults(func=cmd_generate)
