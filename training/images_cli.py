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

from training.masks import MASK_PRESETS

DATASET_NAMES = ("natural", "textures", "digits", "faces", "shapes")


def add_images_parser(subparsers):
    p = subparsers.add_parser(
        "images", help="write built-in images as PNG files (optionally noisy or with holes)",
        description="Write the images of a built-in dataset split to a folder as PNG "
                    "files: stand-ins for your own photos. --noise adds Gaussian noise, "
                    "--holes cuts holes and writes each mask beside its image (white = "
                    "hole). The same seed gives the same files.")
    p.add_argument("dataset", choices=DATASET_NAMES)
    p.add_argument("--split", default="train", choices=("train", "validation", "test"),
                   help="which split (default: train; natural and shapes have a test split)")
    p.add_argument("-n", "--count", type=int,
                   help="at most this many images (shapes: how many scenes; default 8)")
    p.add_argument("--size", type=int,
                   help="centre-crop to a square and resize to SIZE x SIZE pixels")
    p.add_argument("--noise", type=float, metavar="SIGMA",
                   help="add Gaussian noise of this sigma (8-bit units, 0-255)")
    p.add_argument("--holes", choices=sorted(MASK_PRESETS),
                   help="cut holes of this kind (about 10%% of each image) and write masks")
    p.add_argument("--seed", type=int, default=0, help="noise / hole seed (default: 0)")
    p.add_argument("-o", "--out", required=True, help="output folder (created if missing)")
    p.add_argument("--force", action="store_true",
                   help="replace files of the same names already in the folder (other files "
                        "in it are never touched)")
    p.set_defaults(func=cmd_images)
    return p


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
    from training.grids import save_png
    from training.images import center_square
    from training.masks import random_mask

    if args.count is not None and args.count < 1:
        raise ValueError(f"--count must be at least 1; got {args.count}.")
    if args.noise is not None and not 0 <= args.noise <= 255:
        raise ValueError(f"--noise is a sigma in 8-bit units, 0-255; got {args.noise}.")
    if args.size is not None and args.size < 8:
        raise ValueError(f"--size must be at least 8 pixels; got {args.size}.")
    out = Path(args.out)
    items = _named_images(args)
    _check_targets(out, _file_names(items, args.holes), args.force)
    out.mkdir(parents=True, exist_ok=True)
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
