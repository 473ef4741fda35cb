"""Inpainters on validation photos, scored as the quality benchmark scores the test
split: the number to choose a run or a design by, without looking at the test photos.

    python benchmarks/inpaint_validation.py --preset unet-inpaint-photos
    python benchmarks/inpaint_validation.py --run ~/zoo-runs/big-psnr --run ~/zoo-runs/big-l1ssim
    python benchmarks/inpaint_validation.py --fill '{}' --fill '{"momentum": 0.9}'

One 256 x 256 crop per photo of the `photos` corpus' validation split (`--per-photo`
for more), the quality benchmark's masks (strokes thin, medium and thick hiding 8-16 %
of the crop, and the centre box of a quarter of it; `benchmarks/quality_repair.py`),
and masked PSNR (mean over crops) per width, next to scikit-image's biharmonic fill on
the same cases. The recipes' own validation (`zoo train`'s val_hole_psnr) uses its
training crop size and mixed masks, whose stroke widths are fractions of the crop: at
96 px they are a third as wide as these.

`--run DIR` scores a `zoo train` folder's latest weights (its backup, else model.keras);
`--preset NAME` a shipped preset; `--fill JSON` the in-graph fill alone
(`zoo.hole_fill.DiffusionFill` with these settings). Results:
benchmarks/results/inpaint_validation/.

The same means are also given apart for flat cases, where biharmonic's masked PSNR is at
least `--flat-db` (40 dB: smooth skies, water, out-of-focus backgrounds, which the test
split's wallpapers are full of), and for the rest: a correction that helps on texture can
cost dB where the classical fill is already close, and the overall mean hides it.
"""

import argparse
import json
import time
from pathlib import Path

import classical_peers as peers
from bench_common import write_json
from quality_repair import group_means, mask_cases, masked_psnr_per_case, photo_crops
from validation_reference import _load_latest_weights

from training.recipe import parse_recipe
from training.run import build_model

RESULTS = Path(__file__).resolve().parent / "results" / "inpaint_validation"
PEER = "scikit-image biharmonic"
FLAT_DB = 40.0  # masked PSNR of the peer from which a case counts as flat


def run_model(run_dir):
    """The model of a `zoo train` folder with its latest weights."""
    config = json.loads((run_dir / "config.json").read_text())
    model = build_model(parse_recipe(config["recipe"]))
    _load_latest_weights(model, run_dir)
    return model


def fill_model(settings):
    """A model of the in-graph fill alone: {"image", "mask"} -> filled image."""
    import keras

    from zoo.hole_fill import DiffusionFill

    image, mask = keras.Input((None, None, 3), name="image"), keras.Input((None, None, 1),
                                                                          name="mask")
    return keras.Model({"image": image, "mask": mask},
                       DiffusionFill(**settings)(image, mask))


def by_flatness(cases, per_case, flat_db):
    """({table: {method: {group: mean dB}}}, {table: cases counted}) for every case
    ("all"), the flat ones (where the peer's masked PSNR is at least `flat_db`) and the
    rest. `per_case`: {method: [masked PSNR per case]}, the peer's among them."""
    flat = [value >= flat_db for value in per_case[PEER]]
    keeps = {"all": [True] * len(cases), f"flat (biharmonic >= {flat_db:g} dB)": flat,
             "the rest": [not f for f in flat]}
    order = list(group_means(cases, per_case[PEER]))  # every table's groups in one order

    def means(values, keep):
        unordered = group_means(cases, values, keep)
        return {group: unordered[group] for group in order if group in unordered}

    tables = {title: {name: means(values, keep) for name, values in per_case.items()}
              for title, keep in keeps.items()}
    return tables, {title: sum(keep) for title, keep in keeps.items()}


def print_table(rows, title):
    """A markdown table of {method: {group: dB}}, each method against the peer's row."""
    kinds = list(rows[PEER])
    print(f"{title}; in brackets: against {PEER}")
    print(f"| method | {' | '.join(kinds)} |\n|---|{'---|' * len(kinds)}")
    for name, row in rows.items():
        cells = [f"{row[k]:.2f}" + ("" if name == PEER else f" ({row[k] - rows[PEER][k]:+.2f})")
                 for k in kinds]
        print(f"| {name} | {' | '.join(cells)} |")


def main():
    from zoo import load
    from zoo.inference import apply_to_image

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, action="append", default=[], metavar="DIR")
    parser.add_argument("--preset", action="append", default=[], metavar="NAME")
    parser.add_argument("--fill", action="append", default=[], metavar="JSON",
                        help="DiffusionFill settings, e.g. '{\"momentum\": 0.9}'")
    parser.add_argument("--per-photo", type=int, default=1, help="crops per validation photo")
    parser.add_argument("--flat-db", type=float, default=FLAT_DB,
                        help="cases where biharmonic reaches this masked PSNR count as flat")
    args = parser.parse_args()
    crops, info = photo_crops(size=256, per_photo=args.per_photo, split="validation")
    images = dict(crops)
    cases = mask_cases(list(images), 256)
    models = {**{f"run {d.name}": (lambda d=d: run_model(d)) for d in args.run},
              **{name: (lambda name=name: load(name)) for name in args.preset},
              **{f"fill {settings}": (lambda s=settings: fill_model(json.loads(s)))
                 for settings in args.fill}}
    per_case = {PEER: masked_psnr_per_case(peers.inpaint_biharmonic, cases, images)}
    for name, make in models.items():
        model = make()
        started = time.perf_counter()
        per_case[name] = masked_psnr_per_case(
            lambda image, mask, m=model: apply_to_image(m, image, mask), cases, images)
        print(f"  ({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    results, counts = by_flatness(cases, per_case, args.flat_db)
    for title, rows in results.items():
        print_table(rows, f"{title}: masked PSNR (dB), {len(crops)} validation crops of "
                          f"256 px, {counts[title]} cases")
    command = " ".join(["python benchmarks/inpaint_validation.py",
                        *[f"--run {d}" for d in args.run],
                        *[f"--preset {p}" for p in args.preset],
                        *[f"--fill '{f}'" for f in args.fill],
                        *([f"--per-photo {args.per_photo}"] if args.per_photo != 1 else []),
                        *([f"--flat-db {args.flat_db:g}"] if args.flat_db != FLAT_DB else [])])
    stem = "_".join([d.name for d in args.run] + args.preset
                    + [f"fill{i}" for i in range(len(args.fill))]) or "peer"
    write_json({"command": command, "crops": len(crops), "cases": len(cases),
                "crops_sha256": info["crops_sha256"], "masked_psnr_db": results["all"],
                "flat_db": args.flat_db, "cases_by_flatness": counts,
                "masked_psnr_db_by_flatness": {k: v for k, v in results.items() if k != "all"},
                "per_case": {"cases": [[name, kind] for name, kind, _ in cases],
                             "masked_psnr_db": per_case}},
               RESULTS / f"{stem}.json")


if __name__ == "__main__":
    main()
