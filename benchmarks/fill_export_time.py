"""The in-graph hole fill alone, in the float32 TFLite form that exports run: settings
timed against each other on one thread, calls interleaved.

    python benchmarks/fill_export_time.py --fill JSON --fill JSON [--size 256] [--rounds 40]

Each `--fill` is a dict of `zoo.hole_fill.DiffusionFill` settings; the first is the
base. An inpainter's int8 file keeps its fill in float32 (export/tflite.py), so this is
the fill's share of that file's time. Each file is also checked against the Keras fill
on the same image and mask (largest absolute difference). Prints a table; writes
benchmarks/results/fill_export_time.json (or --out).
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

import numpy as np  # noqa: E402
from bench_common import load_average, write_json  # noqa: E402
from inpaint_validation import fill_model  # noqa: E402
from tflite_interleaved import interleaved_result, interleaved_seconds, timing_row  # noqa: E402

RESULTS = BENCH_DIR / "results" / "fill_export_time.json"


def fill_file(settings, size, path):
    """Writes the fill with `settings` at `size` x `size` as a float32 .tflite file; returns
    (the Keras fill model, seconds the export took)."""
    from export.tflite import convert_model

    model = fill_model(settings)
    started = time.perf_counter()
    path.write_bytes(convert_model(model, quantize="none", input_size=(size, size)))
    return model, time.perf_counter() - started


def largest_difference(model, path, size, seed=0):
    """Largest |TFLite - Keras| over a uniform image with strokes of random pixels."""
    from export.runtime import TFLiteModel

    rng = np.random.default_rng(seed)
    inputs = {"image": rng.random((1, size, size, 3), dtype=np.float32),
              "mask": (rng.random((1, size, size, 1)) < 0.1).astype(np.float32)}
    keras_fill = np.asarray(model.predict(inputs, verbose=0))
    return float(np.abs(TFLiteModel(path, num_threads=1).predict(inputs) - keras_fill).max())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fill", action="append", required=True, metavar="JSON",
                        help="DiffusionFill settings; give two or more, the first is the base")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if len(args.fill) < 2:
        parser.error("give at least two --fill settings")
    if args.rounds < 3:
        parser.error("--rounds must be at least 3")
    try:
        settings = [json.loads(text) for text in args.fill]
    except json.JSONDecodeError as error:
        parser.error(f"--fill is not JSON: {error}")

    load_start = load_average()
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"fill{index}.tflite" for index in range(len(settings))]
        exports = [fill_file(fill, args.size, path)
                   for fill, path in zip(settings, paths, strict=True)]
        differences = [largest_difference(model, path, args.size)
                       for (model, _), path in zip(exports, paths, strict=True)]
        times = interleaved_seconds(paths, args.rounds)
    base = float(np.median(times[0]))
    rows = [{"fill": fill, "export_seconds": seconds, "max_abs_vs_keras": difference,
             **timing_row(spent, base)}
            for fill, (_, seconds), difference, spent
            in zip(settings, exports, differences, times, strict=True)]
    print(f"{'fill':60} {'median ms':>10} {'p25-p75 ms':>14} {'x first':>8} {'vs Keras':>9}")
    for row in rows:
        print(f"{json.dumps(row['fill'])[:60]:60} {row['median_ms']:10.2f} "
              f"{row['p25_ms']:6.2f}-{row['p75_ms']:<7.2f} {row['ratio_to_first']:8.3f} "
              f"{row['max_abs_vs_keras']:9.1e}")
    write_json({"benchmark": "fill_export_time", "size": args.size,
                **interleaved_result(args.rounds, rows, load_start)}, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
