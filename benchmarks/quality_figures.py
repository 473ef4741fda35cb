"""Before/after figures and markdown tables of `benchmarks/quality.py`."""

from pathlib import Path

import numpy as np

from zoo_lite.image_io import colorize_labels, save_png, tile, to_rgb8

LABEL_HEIGHT = 14


def _labelled_row(images, labels, gap=4):
    """One row of (H, W, 3) uint8 images with a caption above each."""
    from PIL import Image, ImageDraw

    height, width = images[0].shape[:2]
    row = np.full((height + LABEL_HEIGHT, len(images) * (width + gap) - gap, 3), 255, np.uint8)
    for i, image in enumerate(images):
        row[LABEL_HEIGHT:, i * (width + gap):i * (width + gap) + width] = image
    canvas = Image.fromarray(row)
    draw = ImageDraw.Draw(canvas)
    for i, label in enumerate(labels):
        draw.text((i * (width + gap) + 2, 1), label[: width // 6], fill=(0, 0, 0))
    return np.asarray(canvas)


def _rgb(image):
    return to_rgb8(np.asarray(image)[None])[0]


def _repair_figure(rows, path, gap=4):
    """One captioned row per example (input, each method, original), stacked."""
    images = []
    for example in rows:
        names = [f"input {example['crop']}", *example["outputs"], "original"]
        row = [example["input"], *example["outputs"].values(), example["clean"]]
        images.append(_labelled_row([_rgb(i) for i in row], names))
    width = max(i.shape[1] for i in images)
    canvas = np.full((sum(i.shape[0] for i in images) + gap * (len(images) - 1), width, 3),
                     255, np.uint8)
    top = 0
    for image in images:
        canvas[top:top + image.shape[0], :image.shape[1]] = image
        top += image.shape[0] + gap
    save_png(canvas, path)
    return path


def write_all(examples, samples, folder):
    """Write every figure into `folder`; returns {figure key: path}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures = {}
    for group, rows in examples.get("inpaint", {}).items():
        figures[f"inpaint_{group}"] = _repair_figure(rows, folder / f"inpaint_{group}.png")
    for group, rows in examples.get("denoise", {}).items():
        figures[f"denoise_{group}"] = _repair_figure(rows, folder / f"denoise_{group}.png")
    segment = examples.get("segment", {})
    if segment:
        first = next(iter(segment.values()))
        images = [_rgb(first["image"]), colorize_labels(first["truth"][None])[0]]
        images += [colorize_labels(e["predicted"][None])[0] for e in segment.values()]
        path = folder / "segmentation.png"
        save_png(_labelled_row(images, ["scene", "truth", *segment]), path)
        figures["segmentation"] = path
    for preset, grids in samples.items():
        images = [tile(to_rgb8(g[:16]), columns=4) for g in grids.values()]
        path = folder / f"generated_{preset}.png"
        save_png(_labelled_row(images, list(grids)), path)
        figures[f"generated_{preset}"] = path
    return figures
