"""Two or more .tflite files timed against each other, calls interleaved.

    python benchmarks/tflite_interleaved.py BASE.tflite OTHER.tflite ... [--rounds 40]
        [--out benchmarks/results/NAME.json]

Each file gets one interpreter on one thread (ai-edge-litert, XNNPACK) and inputs
drawn once (uniform [0, 1] images, noise levels and masks as the file's signature
asks). After a warm-up call each, the files are called in turn, round after round,
so that a load change on a shared machine slows all of them alike: the ratio of
medians to the first file is the number to quote, the milliseconds only with it.
Prints a table; writes a JSON result where --out is given.
"""

import argparse
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

import numpy as np  # noqa: E402
from bench_common import load_average, machine_info, write_json  # noqa: E402

from export.runtime import TFLiteModel  # noqa: E402


def example_inputs(runtime, rng):
    """{name: float32 array} for one call: uniform values in [0, 1], and a noise level in
    [0, 0.2] for (1, 1) inputs (a strength, not an image)."""
    inputs = {}
    for name, detail in runtime.input_details.items():
        shape = tuple(int(extent) for extent in detail["shape"])
        scale = 0.2 if shape == (1, 1) else 1.0
        inputs[name] = (rng.random(shape) * scale).astype(np.float32)
    return inputs


def interleaved_seconds(paths, rounds, seed=0):
    """[[seconds of each round] per file]: files called in turn, `rounds` times."""
    rng = np.random.default_rng(seed)
    calls = []
    for path in paths:
        runtime = TFLiteModel(path, num_threads=1)
        inputs = example_inputs(runtime, rng)
        runtime.run_one(inputs)  # XNNPACK packs the weights on the first call
        calls.append(lambda runtime=runtime, inputs=inputs: runtime.run_one(inputs))
    times = [[] for _ in paths]
    for _ in range(rounds):
        for index, call in enumerate(calls):
            started = time.perf_counter()
            call()
            times[index].append(time.perf_counter() - started)
    return times


def timing_row(seconds, base_median):
    """{median_ms, p25_ms, p75_ms, ratio_to_first} of one file's call times (seconds),
    against the first file's median (seconds)."""
    return {"median_ms": 1000 * float(np.median(seconds)),
            "p25_ms": 1000 * float(np.percentile(seconds, 25)),
            "p75_ms": 1000 * float(np.percentile(seconds, 75)),
            "ratio_to_first": float(np.median(seconds)) / base_median}


def interleaved_result(rounds, rows, load_start):
    """The JSON result of an interleaved timing: its rows, rounds, thread count, the load
    average at the start (`load_start`) and now, and the machine."""
    return {"rounds": rounds, "threads": 1, "rows": rows,
            "load_average": {"start": load_start, "end": load_average()},
            "machine": machine_info()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help=".tflite files; the first is the base")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--out", type=Path, help="JSON result path")
    args = parser.parse_args(argv)
    if len(args.files) < 2:
        parser.error("give at least two .tflite files")
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    if args.rounds < 3:
        parser.error("--rounds must be at least 3")

    load_start = load_average()
    times = interleaved_seconds(args.files, args.rounds)
    base = float(np.median(times[0]))
    rows = [{"file": str(path), "bytes": path.stat().st_size, **timing_row(seconds, base)}
            for path, seconds in zip(args.files, times, strict=True)]
    print(f"{'file':60} {'median ms':>10} {'p25-p75 ms':>14} {'x first':>8}")
    for row in rows:
        print(f"{row['file'][-60:]:60} {row['median_ms']:10.2f} "
              f"{row['p25_ms']:6.2f}-{row['p75_ms']:<7.2f} {row['ratio_to_first']:8.3f}")
    if args.out:
        write_json(interleaved_result(args.rounds, rows, load_start), args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
