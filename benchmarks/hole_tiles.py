"""How much context an inpainter's tile needs, by hole width: the measurement behind
`zoo_lite.hole_tiles.HOLE_TILINGS`.

    python benchmarks/hole_tiles.py [--preset unet-inpaint-photos] [--widths 9 18]

Each validation photo of the corpus, upscaled 2x (Lanczos, as a large photo is smooth
at the pixel level), its centre 768 x 1024 crop, and seeded brush strokes of the given
widths (pixels) covering 2 % of it. The preset runs once on the whole crop (one pass: the
reference a tiled result approximates, because the in-graph fill reaches everywhere) and
then in tiles of each (tile, overlap); the table gives the masked PSNR against the
original photo, the hole PSNR against the one-pass result and the pixels the network ran
on, means over the photos, next to scikit-image's biharmonic fill. Results:
benchmarks/results/hole_tiles/.
"""

import argparse
import sys
from pathlib import Path

import big_photo_inpaint
import classical_peers as peers
import numpy as np
from bench_common import machine_info, write_json
from PIL import Image

import zoo
import zoo.inference as inference
from training.photo_data import photo_arrays
from zoo.metrics import image_psnr

RESULTS = Path(__file__).resolve().parent / "results" / "hole_tiles"
CROP = (768, 1024)
TILINGS = ((256, 32), (128, 32), (128, 16), (96, 16), (64, 16))


def stroke_cover(rng, height, width, widths, fraction=0.02):
    """(height, width) bool: strokes `widths` (min, max) pixels wide, 90-240 px long
    (the 12 MP benchmark's, in pixels), added until they cover `fraction`."""
    side = min(height, width)
    return big_photo_inpaint.stroke_cover(
        rng, height, width, fraction, width_range=(widths[0] / side, widths[1] / side),
        length_range=(90 / side, 240 / side))


def centre_crop_upscaled(photo):
    height, width = photo.shape[:2]
    big = Image.fromarray(photo).resize((2 * width, 2 * height), Image.LANCZOS)
    big = np.asarray(big, np.float32) / 255.0
    top, left = height - CROP[0] // 2, width - CROP[1] // 2
    return big[top:top + CROP[0], left:left + CROP[1]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="unet-inpaint-photos")
    parser.add_argument("--widths", type=int, nargs=2, default=(9, 18), metavar=("MIN", "MAX"))
    args = parser.parse_args()
    model = zoo.load(args.preset)
    pixels_run = {"count": 0}
    predict = inference._predict

    def counting_predict(model, x):
        pixels_run["count"] += int(np.prod(x["image"].shape[:3]))
        return predict(model, x)

    inference._predict = counting_predict
    names = ["one pass", "scikit-image biharmonic"] + [f"tile {t}, overlap {o}"
                                                       for t, o in TILINGS]
    scores = {name: {"psnr": [], "vs_one_pass": [], "pixels_run": []} for name in names}
    for index, photo in enumerate(photo_arrays("validation")):
        image = centre_crop_upscaled(photo)
        hole = stroke_cover(np.random.default_rng(index), *CROP, args.widths)
        mask = hole[..., None].astype(np.float32)
        one_pass = inference.apply_to_image(model, image, mask, tile=max(CROP))
        scores["one pass"]["psnr"].append(image_psnr(one_pass, image, hole))
        biharmonic = peers.inpaint_biharmonic(image, mask)
        scores["scikit-image biharmonic"]["psnr"].append(image_psnr(biharmonic, image, hole))
        for (tile, overlap), name in zip(TILINGS, names[2:], strict=True):
            pixels_run["count"] = 0
            tiled = inference.apply_to_image(model, image, mask, tile=tile, overlap=overlap)
            scores[name]["psnr"].append(image_psnr(tiled, image, hole))
            scores[name]["vs_one_pass"].append(image_psnr(tiled, one_pass, hole))
            scores[name]["pixels_run"].append(pixels_run["count"])
        print(f"photo {index + 1} done", file=sys.stderr, flush=True)
    rows = {name: {key: float(np.mean(values)) for key, values in row.items() if values}
            for name, row in scores.items()}
    print(f"{args.preset}, strokes {args.widths[0]}-{args.widths[1]} px covering 2 % of "
          f"{CROP[1]} x {CROP[0]} crops, {len(scores['one pass']['psnr'])} validation photos")
    print(f"{'':28} {'masked PSNR':>11} {'vs one pass':>12} {'MP run':>7}")
    for name, row in rows.items():
        against = f"{row['vs_one_pass']:12.1f}" if "vs_one_pass" in row else f"{'':12}"
        run = f"{row['pixels_run'] / 1e6:7.2f}" if "pixels_run" in row else ""
        print(f"{name:28} {row['psnr']:11.2f} {against} {run}")
    write_json({"benchmark": "hole_tiles",
                "command": "python benchmarks/hole_tiles.py " + " ".join(sys.argv[1:]),
                "preset": args.preset, "stroke_widths": list(args.widths),
                "crop": list(CROP), "machine": machine_info(), "results": rows},
               RESULTS / f"{args.preset}_{args.widths[0]}-{args.widths[1]}px.json")


if __name__ == "__main__":
    main()
