"""How narrow must a repair U-Net be for its int8 .tflite to beat `inpaint_biharmonic`?

    python benchmarks/unet_width_latency.py [--repeats 7] [--quick]

Exports U-Nets of several widths (the presets' layout: depth 4, with and without the
mask input) to int8 TFLite at 256 x 256 and times one example on one thread with
ai-edge-litert (XNNPACK), next to scikit-image `inpaint_biharmonic` on a stroke mask of
the same crop, in the same run. The weights are untrained (latency does not depend on
their values; int8 calibration uses the generated examples of `export.data`). Prints
a table of medians and ratios and writes benchmarks/results/unet_width_latency.json.
"""

import argparse
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

import numpy as np  # noqa: E402
from bench_common import load_average, machine_info, warm_median_seconds, write_json  # noqa: E402

import zoo  # noqa: E402

RESULTS = BENCH_DIR / "results" / "unet_width_latency.json"
SIZE = 256
WIDTHS = ((16, 32, 64, 128), (12, 24, 48, 96), (8, 16, 32, 64))
STROKE_AREA = (0.08, 0.16)  # as the quality benchmark's stroke masks


def int8_seconds(filters, mask_input, size, repeats):
    """(median one-thread seconds, file bytes, parameters) of an int8 U-Net at size x size."""
    from export.data import example_batch, representative_dataset
    from export.exporters import to_tflite
    from export.runtime import TFLiteModel

    model = zoo.create_model("unet", filters=filters, mask_input=mask_input)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "unet_int8.tflite"
        data = representative_dataset(model, (size, size), count=8)
        report = to_tflite(model, path, "int8", data, (size, size), allow_degraded=True,
                           log=lambda message: None)
        runtime = TFLiteModel(path, num_threads=1)
        inputs, _, _ = example_batch(model, (size, size), 1)
        seconds = warm_median_seconds(lambda: runtime.run_one(inputs), repeats)
    return seconds, report["file_bytes"], model.count_params()


def biharmonic_seconds(size, repeats):
    """Median seconds of `inpaint_biharmonic` on one photo crop with a medium stroke mask."""
    from classical_peers import inpaint_biharmonic

    from training.datasets import load_images
    from training.images import center_square
    from training.masks import random_mask

    photo = center_square(load_images("natural", "test")[0], size)
    mask = random_mask(np.random.default_rng(2026), size, size, "medium", STROKE_AREA)
    return warm_median_seconds(lambda: inpaint_biharmonic(photo, mask), repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--widths", nargs="+", help="filters per level, comma-separated "
                        "(default: " + " ".join(",".join(map(str, w)) for w in WIDTHS) + ")")
    parser.add_argument("--quick", action="store_true",
                        help="64 px, 2 repeats; JSON only where --out is given")
    parser.add_argument("--out", type=Path, help=f"JSON path (default: {RESULTS})")
    args = parser.parse_args(argv)
    size, repeats = (64, 2) if args.quick else (SIZE, args.repeats)
    widths = ([tuple(int(f) for f in w.split(",")) for w in args.widths] if args.widths
              else WIDTHS)
    out = args.out or (None if args.quick else RESULTS)

    load_start = load_average()
    peer = biharmonic_seconds(size, repeats)
    rows = []
    for filters in widths:
        for mask_input in (False, True):
            seconds, file_bytes, params = int8_seconds(filters, mask_input, size, repeats)
            rows.append({"filters": list(filters), "mask_input": mask_input,
                         "seconds": seconds, "file_bytes": file_bytes, "parameters": params,
                         "vs_biharmonic": seconds / peer})
            print(f"  filters {filters} mask_input={mask_input}: {seconds * 1000:.1f} ms",
                  flush=True)

    print(f"\nint8 U-Net, {size} x {size}, one thread (median of {repeats}); "
          f"inpaint_biharmonic {peer * 1000:.1f} ms")
    print("| filters | mask input | parameters | file MB | ms | x biharmonic |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {tuple(row['filters'])} | {'yes' if row['mask_input'] else 'no'} | "
              f"{row['parameters']:,} | {row['file_bytes'] / 1e6:.2f} | "
              f"{row['seconds'] * 1000:.1f} | {row['vs_biharmonic']:.2f}x |")
    if out is not None:
        write_json({"benchmark": "unet_width_latency", "size": size, "repeats": repeats,
                    "biharmonic_seconds": peer, "rows": rows,
                    "machine": machine_info(),
                    "load_average": {"start": load_start, "end": load_average()}}, out)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
