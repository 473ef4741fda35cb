"""`zoo images DATASET -o FOLDER`: write built-in images as PNG files, optionally damaged.

Gives a newcomer real files to try `zoo predict`, `zoo train` on a folder and the
notebooks with, without images of their own and without a download:

    zoo images natural --split test -o photos                 # astronaut.png, flower.png
    zoo images natural --split test --noise 25 -o noisy       # + Gaussian noise, sigma 25
    zoo images natural --split test --holes medium -o holes   # + NAME_mask.png, white = hole
    zoo images shapes --split test -n 4 --size 64 -o scenes   # + NAME_labels.png (0-3)

Files of the same names already in the folder are refused before anything is written,
unless --force; other files in it are never touched. Each file is written atomically.
"""

from pathlib import Path

import numpy as np


def _named_images(args):
    """[(file stem, (H, W, C) float32 in [0, 1], labels (H, W) int or None)]."""
    from training import datasets

    if args.dataset == "shapes":
        size = args.size or 64
        scenes, labels = datasets.shapes_scenes(args.split, args.count or 8, size, size)
        return [(f"scene_{i:02d}", scene, label)
                for i, (scene, label) in enumerate(zip(scenes, labels, strict=True))]
    images = datasets.load_images(args.dataset, args.split)[:args.count]
    if args.dataset == "natural":
        stems = datasets.NATURAL_PHOTOS[args.split]
    else:
        stems = [f"{args.dataset}_{i:03d}" for i in range(len(images))]
    return [(stem, image, None) for stem, image in zip(stems, images, strict=False)]


def _to_uint8(image):
    image = np.clip(np.round(np.asarray(image) * 255), 0, 255).astype(np.uint8)
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def _file_names(items, holes):
    """The files `cmd_images` writes for `_named_images` items."""
    names = []
    for stem, _, labels in items:
        names.append(f"{stem}.png")
        if holes:
            names.append(f"{stem}_mask.png")
        if labels is not None:
            names.append(f"{stem}_labels.png")
    return names


def _check_targets(out, names, force):
    """Refuse before writing anything: an -o that is a file, a name taken by a folder,
    and (without --force) a file of one of `names` already in `out`."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"-o {out} is a file: give a folder.")
    taken = [name for name in names if (out / name).exists()]
    folders = [name for name in taken if (out / name).is_dir()]
    if folders:
        raise ValueError(f"-o {out}: {folders[0]} there is a folder, not a file.")
    if taken and not force:
        more = f" and {len(taken) - 3} more" if len(taken) > 3 else ""
        raise ValueError(f"-o {out} already holds {', '.join(taken[:3])}{more}: add --force "
                         "to replace them (other files in it are never touched).")


def cmd_images(args):
    from training.degradations import add_gaussian_noise
    from training.images import center_square
    from training.masks import random_mask
    from zoo_lite.image_io import make_folder, save_png

    if args.count is not None and args.count < 1:
        raise ValueError(f"--count must be at least 1; got {args.count}.")
    if args.noise is not None and not 0 <= args.noise <= 255:
        raise ValueError(f"--noise is a sigma in 8-bit units, 0-255; got {args.noise}.")
    if args.size is not None and args.size < 8:
        raise ValueError(f"--size must be at least 8 pixels; got {args.size}.")
    out = Path(args.out)
    items = _named_images(args)
    _check_targets(out, _file_names(items, args.holes), args.force)
    make_folder(out)
    rng = np.random.default_rng(args.seed)
    written = []
    for stem, image, labels in items:
        if args.size and args.dataset != "shapes":
            image = center_square(image, args.size)
        if args.noise is not None:
            image, _ = add_gaussian_noise(rng, image, args.noise)
        if args.holes:
            mask = random_mask(rng, *image.shape[:2], kind=args.holes, area_range=(0.08, 0.12))
            image = image * (1 - mask)
            save_png(_to_uint8(mask), out / f"{stem}_mask.png")
        if labels is not None:
            save_png(labels.astype(np.uint8), out / f"{stem}_labels.png")
        save_png(_to_uint8(image), out / f"{stem}.png")
        written.append(f"{stem}.png")
    print(f"wrote {len(written)} images to {out}: {', '.join(written)}")
    return 0
