"""What `training.photo_corpus.convert`'s downscaling does to the photos, per source package.

    python benchmarks/photo_corpus_stats.py [--root CORPUS] [--out JSON]

On the built corpus (`zoo data fetch photos`), train and validation splits only (the
test photos are left to the quality benchmark), for every photo:
- bits per pixel of the original file (its bytes x 8 / its pixels);
- JPEG blockiness: the mean absolute luma difference between neighbouring pixels that
  sit across an 8 x 8 block boundary, divided by the same mean between neighbours inside
  blocks (rows and columns together); 1 means no block edges, a JPEG compressed hard
  gives more. Computed on the original at full size (in its stored orientation, where
  its blocks are) and on the converted training image, on its own 8-pixel grid. After a
  downscale of 2x or more the original blocks lie 4 pixels apart or less and every
  output pixel averages across their edges: a ratio near 1 there says that no block
  grid is left, not that every trace of the codec is gone;
- noise sigma: `skimage.restoration.estimate_sigma` (wavelet, averaged over the RGB
  channels, 8-bit units) of the original and of the converted image. It reads the
  finest-scale detail: a codec that discards it reads low, and a downscale, which
  brings coarser detail to the pixel scale, raises it.
Images over MAX_SIDE pixels on a side are measured on their central MAX_SIDE x MAX_SIDE
crop (at full size, so block positions are kept). Prints the medians per package and
writes them, with every photo's numbers, to benchmarks/results/photo_corpus_stats.json.
"""

import argparse
import io
import shlex
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

import numpy as np  # noqa: E402
from bench_common import load_average, machine_info, write_json  # noqa: E402
from PIL import Image  # noqa: E402
from skimage.restoration import estimate_sigma  # noqa: E402

from training.photo_corpus import (  # noqa: E402
    COMPRESSED_BPP,
    MAX_SHORT_SIDE,
    MIN_SHORT_SIDE,
    default_root,
    image_path,
    load_manifest,
    original_path,
)

RESULTS = BENCH_DIR / "results" / "photo_corpus_stats.json"
SPLITS = ("train", "validation")
MAX_SIDE = 2048
MEASURES = ("bpp", "blockiness_original", "blockiness_converted", "sigma_original",
            "sigma_converted", "downscale")


def luma(rgb):
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def blockiness(rgb, block=8):
    """Mean |luma difference| across block boundaries / the mean inside blocks."""
    y = luma(rgb)
    across, inside = [], []
    for differences in (np.abs(np.diff(y, axis=1)), np.abs(np.diff(y, axis=0)).T):
        # differences[:, j] is between pixels j and j + 1: a boundary when j + 1 is 0 mod 8
        boundary = (np.arange(differences.shape[1]) + 1) % block == 0
        across.append(differences[:, boundary].ravel())
        inside.append(differences[:, ~boundary].ravel())
    return float(np.concatenate(across).mean() / max(np.concatenate(inside).mean(), 1e-9))


def noise_sigma(rgb):
    return float(estimate_sigma(rgb.astype(np.float64), channel_axis=-1, average_sigmas=True))


def central_crop(rgb, side=MAX_SIDE):
    """The central side x side part, cut at multiples of 8 so JPEG blocks stay aligned."""
    height, width = rgb.shape[:2]
    top = max(0, (height - side) // 2) // 8 * 8
    left = max(0, (width - side) // 2) // 8 * 8
    return rgb[top:top + side, left:left + side]


def measure(photo, root):
    data = original_path(root, photo).read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        file_format = image.format.lower()
        original = np.asarray(image.convert("RGB"))
    with Image.open(image_path(root, photo)) as image:
        converted = np.asarray(image.convert("RGB"))
    height, width = original.shape[:2]
    crop = central_crop(original)
    numbers = {"bpp": len(data) * 8 / (width * height),
               "downscale": min(height, width) / min(converted.shape[:2]),
               "blockiness_original": blockiness(crop),
               "blockiness_converted": blockiness(central_crop(converted)),
               "sigma_original": noise_sigma(crop),
               "sigma_converted": noise_sigma(central_crop(converted))}
    return {"name": photo.name, "package": photo.package, "split": photo.split,
            "format": file_format, "original_size": [width, height],
            "converted_size": list(converted.shape[1::-1]),
            **{key: round(value, 4) for key, value in numbers.items()}}


def is_low_bpp(row):
    """What `convert` downscales at least 2x: a JPEG or WebP under COMPRESSED_BPP."""
    return row["format"] in ("jpeg", "webp") and row["bpp"] < COMPRESSED_BPP


def medians(rows):
    return {"photos": len(rows), "lossy_under_compressed_bpp": sum(map(is_low_bpp, rows)),
            **{key: float(np.median([row[key] for row in rows])) for key in MEASURES}}


def markdown_table(summary):
    lines = [f"| package | split | photos | lossy < {COMPRESSED_BPP} bpp | bpp | "
             "blockiness orig -> conv | sigma orig -> conv | downscale |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for label, split, m in summary:
        lines.append(f"| {label} | {split} | {m['photos']} | "
                     f"{m['lossy_under_compressed_bpp']} | {m['bpp']:.2f} | "
                     f"{m['blockiness_original']:.2f} -> {m['blockiness_converted']:.2f} | "
                     f"{m['sigma_original']:.2f} -> {m['sigma_converted']:.2f} | "
                     f"{m['downscale']:.2f}x |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help=f"corpus folder (default: {default_root()})")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"default: {RESULTS}")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "benchmarks/photo_corpus_stats.py",
                          *(sys.argv[1:] if argv is None else argv)])
    root = args.root or default_root()

    started, load_start = time.perf_counter(), load_average()
    photos = [photo for photo in load_manifest() if photo.split in SPLITS]
    rows = []
    for number, photo in enumerate(photos, 1):
        rows.append(measure(photo, root))
        if number % 50 == 0:
            print(f"  {number}/{len(photos)} photos", file=sys.stderr, flush=True)
    packages = sorted({(row["split"], row["package"]) for row in rows},
                      key=lambda key: (SPLITS.index(key[0]), key[1]))
    summary = [(package, split, medians([r for r in rows if r["package"] == package]))
               for split, package in packages]
    for split in SPLITS:
        summary += [(f"all {split}", split, medians([r for r in rows if r["split"] == split])),
                    (f"{split}, lossy < {COMPRESSED_BPP} bpp", split,
                     medians([r for r in rows if r["split"] == split and is_low_bpp(r)]))]
    seconds = time.perf_counter() - started

    table = markdown_table(summary)
    print(table)
    print(f"\n`{command}`: medians per package; blockiness and sigma on the central "
          f"{MAX_SIDE} px of larger images; {seconds:.0f} s.")
    write_json({"benchmark": "photo_corpus_stats", "command": command,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "corpus": str(root),
                "splits": list(SPLITS), "seconds": seconds,
                "rule": {"max_short_side": MAX_SHORT_SIDE, "min_short_side": MIN_SHORT_SIDE,
                         "compressed_bpp": COMPRESSED_BPP},
                "measures": {"bpp": "original file bits per pixel",
                             "blockiness_*": "mean |luma diff| across 8x8 block boundaries / "
                                             "inside blocks (1 = no block edges); the "
                                             "converted image on its own 8-px grid",
                             "lossy_under_compressed_bpp": "JPEG/WebP originals under "
                                                           "compressed_bpp: downscaled >= 2x "
                                                           "(not below min_short_side)",
                             "sigma_*": "skimage estimate_sigma, mean over RGB, 8-bit units",
                             "downscale": "original short side / converted short side",
                             "crop": f"central {MAX_SIDE} px of larger images"},
                "medians": {label: {"split": split, **m} for label, split, m in summary},
                "table": table, "photos": rows, "machine": machine_info(),
                "load_average": {"start": load_start, "end": load_average()}}, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
