"""The in-graph hole fill (`zoo.hole_fill.DiffusionFill`) on its own: quality, int8 fidelity, time.

    python benchmarks/hole_fill.py [--repeats 5] [--quick]

On the natural VALIDATION photos (coffee, camera; centre squares at 256 x 256, the
photos the fill's settings were chosen on, never the test ones), with stroke masks of
three widths and the centre box, for each fill variant:
- masked PSNR of the float fill against the clean photo, next to scikit-image
  `inpaint_biharmonic` on the same cases;
- PSNR of the fill quantized to int8 TFLite against Keras (worst case and mean).
  A model's int8 export keeps its fill in float32 (export/tflite.py); these rows
  are the fill's int8 fidelity and time when a converter quantizes it;
- one-thread int8 latency (median), next to `inpaint_biharmonic`'s time.
The variant "binomial /16" is the plain binomial kernel, which int8 cannot store
exactly (its rounded taps sum to 1.008): it shows why the layer's kernels are
int8-exact. Prints a table and writes benchmarks/results/hole_fill.json.
"""

import argparse
import contextlib
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

import classical_peers as peers  # noqa: E402
import numpy as np  # noqa: E402
from bench_common import load_average, machine_info, warm_median_seconds, write_json  # noqa: E402

from zoo.metrics import image_psnr  # noqa: E402

RESULTS = BENCH_DIR / "results" / "hole_fill.json"
SIZE = 256
# (label, DiffusionFill config, int8-exact kernels)
VARIANTS = (
    ("binomial /16, 16 steps", dict(steps=16, biharmonic_steps=0, taper=0), False),
    ("16 steps", dict(steps=16, biharmonic_steps=0, taper=0), True),
    ("8 + 16 biharmonic, no taper", dict(taper=0), True),
    ("8 + 16 biharmonic, taper 2 (default)", dict(), True),
    ("8 + 16 biharmonic, taper 2, momentum 0.9", dict(momentum=0.9), True),
)
# --quick (the test suite): the plain and the int8-exact kernel at a depth for 64 px, with
# fewer steps, since tracing the default fill's 162 steps for int8 takes most of a minute
QUICK_VARIANTS = tuple((label.replace("16 steps", "8 steps, 6 levels"),
                        {**config, "steps": 8, "levels": 6}, exact)
                       for label, config, exact in VARIANTS[:2])


def validation_cases(size, masks_per_kind):
    """[(clean photo (size, size, 3), group "strokes" / "box", mask (size, size, 1))]: the
    quality benchmark's mask kinds on the validation photos, with masks of their own seed."""
    from quality_repair import inpainting_cases, split_photos

    photos = split_photos(size, "validation")
    return [(photos[name], "box" if kind == "box" else "strokes", mask)
            for name, kind, mask in inpainting_cases(size, masks_per_kind, "validation", seed=7)]


@contextlib.contextmanager
def plain_binomial_kernel(active):
    """Within the block, DiffusionFill smooths with the binomial kernel / 16 as is."""
    import zoo.hole_fill as hole_fill

    exact = hole_fill._smoothing_kernel
    if active:
        hole_fill._smoothing_kernel = lambda: np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16
    try:
        yield
    finally:
        hole_fill._smoothing_kernel = exact


def fill_model(size, config):
    import keras

    from zoo.hole_fill import DiffusionFill

    image = keras.Input((size, size, 3), name="image")
    mask = keras.Input((size, size, 1), name="mask")
    return keras.Model({"image": image, "mask": mask}, DiffusionFill(**config)(image, mask))


def resolved_config(config):
    """The fill's settings, defaults filled in."""
    from zoo.hole_fill import DiffusionFill

    settings = DiffusionFill(**config).get_config()
    return {key: settings[key] for key in DiffusionFill.SETTINGS}


def evaluate_variant(config, exact, cases, size, repeats):
    """{psnr per group, int8 vs Keras worst / mean, int8 seconds} of one fill variant."""
    from export.runtime import TFLiteModel
    from export.tflite import convert_model

    def feed(photo, mask):
        return {"image": (photo * (1 - mask))[None], "mask": mask[None]}

    with plain_binomial_kernel(not exact):
        model = fill_model(size, config)
        # the fill itself in int8 (float_layers=()): model exports keep it in float32
        data = convert_model(model, "int8", lambda: (feed(p, m) for p, _, m in cases[::2]),
                             (size, size), float_layers=())
    runtime = TFLiteModel(data, num_threads=1)
    scores, fidelity = {}, []
    for photo, group, mask in cases:
        inputs = feed(photo, mask)
        out = np.asarray(model(inputs))[0]
        scores.setdefault(group, []).append(image_psnr(out, photo, mask))
        exported = next(iter(runtime.run_one(inputs).values()))[0]
        fidelity.append(image_psnr(exported, out))
    seconds = warm_median_seconds(lambda: runtime.run_one(feed(*cases[0][::2])), repeats)
    return {**{group: float(np.mean(v)) for group, v in scores.items()},
            "int8_vs_keras_worst_db": float(np.min(fidelity)),
            "int8_vs_keras_mean_db": float(np.mean(fidelity)), "int8_seconds": seconds}


def evaluate_biharmonic(cases, repeats):
    scores = {}
    for photo, group, mask in cases:
        out = peers.inpaint_biharmonic(photo * (1 - mask), mask)
        scores.setdefault(group, []).append(image_psnr(out, photo, mask))
    photo, _, mask = cases[0]
    seconds = warm_median_seconds(lambda: peers.inpaint_biharmonic(photo * (1 - mask), mask),
                                  repeats)
    return {**{group: float(np.mean(v)) for group, v in scores.items()}, "seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="64 px, one mask per width, the plain binomial and the int8-exact "
                        "kernel (shallower, fewer steps), 2 repeats; JSON only where --out "
                        "is given")
    parser.add_argument("--out", type=Path, help=f"JSON path (default: {RESULTS})")
    args = parser.parse_args(argv)
    size, per_kind, repeats = (64, 1, 2) if args.quick else (SIZE, 2, args.repeats)
    variants = QUICK_VARIANTS if args.quick else VARIANTS
    out = args.out or (None if args.quick else RESULTS)

    load_start = load_average()
    cases = validation_cases(size, per_kind)
    peer = evaluate_biharmonic(cases, repeats)
    rows = []
    for label, config, exact in variants:
        row = {"variant": label, "config": resolved_config(config), "int8_exact_kernels": exact,
               **evaluate_variant(config, exact, cases, size, repeats)}
        rows.append(row)
        print(f"  {label}: strokes {row['strokes']:.2f} dB", flush=True)

    print(f"\nDiffusionFill on the validation photos, {size} x {size}, {len(cases)} cases; "
          f"int8 one thread, median of {repeats}")
    print("| fill | strokes dB | box dB | int8 vs Keras dB (worst / mean) | int8 ms |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['variant']} | {row['strokes']:.2f} | {row['box']:.2f} | "
              f"{row['int8_vs_keras_worst_db']:.1f} / {row['int8_vs_keras_mean_db']:.1f} | "
              f"{row['int8_seconds'] * 1000:.1f} |")
    print(f"| scikit-image inpaint_biharmonic | {peer['strokes']:.2f} | {peer['box']:.2f} | "
          f"- | {peer['seconds'] * 1000:.1f} |")
    if out is not None:
        write_json({"benchmark": "hole_fill", "size": size, "repeats": repeats,
                    "cases": len(cases), "split": "validation", "rows": rows,
                    "biharmonic": peer, "machine": machine_info(),
                    "load_average": {"start": load_start, "end": load_average()}}, out)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
