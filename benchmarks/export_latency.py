"""TFLite export: file size, fidelity and single-image latency of every variant, next to Keras.

    python benchmarks/export_latency.py                        # every architecture, 256x256
    python benchmarks/export_latency.py --models unet,dcgan    # some entries (--list)
    python benchmarks/export_latency.py --quick --repeats 1    # 32x32, few calls: checks it runs

For each entry of `default_entries()` (every registered architecture at its default
config, the U-Net also as inpainter and as 4-class segmenter; trained presets will be
more entries) it exports the four TFLite variants (`float32`, `float16`, `dynamic`,
`int8`) with `export.to_tflite` into a temporary folder (int8 calibrated on
`export.representative_dataset(model, size, count=32)`; `allow_degraded=True`, so a
variant outside tolerance is recorded, not fatal) and records:

- **size**: file bytes and the ratio to the float32 file (goal: int8 <= 0.27x);
- **fidelity**: the export's own verification report (PSNR of the .tflite output vs
  Keras' on 4 validation examples, the task metric of both), and the PSNR of every
  variant's output vs the float32 .tflite's on the same natural validation images
  (`export.data.example_batch(..., split="validation")`; goal for repair models:
  int8 >= 35 dB);
- **latency** of one example at `--size` (default 256x256): `TFLiteModel(path,
  num_threads=t).run_one(...)` for t = 1 and 2 (ai-edge-litert applies its default
  XNNPACK delegate), next to two Keras peers timed in the same process on the same
  example: `model.predict(x, verbose=0)` (what a user calls; it has per-call overhead)
  and a direct `model(x, training=False)`. Keras runs on TensorFlow's default thread
  pools (every usable core). Goal: float32 .tflite faster than Keras `predict`.

The DCGAN exports its generator: one latent vector in, an image at its native size
(32x32 by default) out; `--size` does not apply to it.

Timing: every path is warmed up (`--warmup` calls), then `--repeats` runs; a run times
up to `--calls` single calls of every path, going round the paths one call at a time
(their order rotated each run) so that all of them meet the same moments of a noisy
machine; each call is timed on its own with `time.perf_counter`. A path slower than
`--budget` / `--calls` seconds a call gets fewer calls (budget / its last warm-up call,
at least 5; the count is in the JSON), so a slow variant cannot stretch the run. A
run's median call is its figure; the table shows the median over runs and ratios
against Keras `predict` timed in the same runs.

The models are untrained here (random initialization, seed 0): the PSNR figures describe
quantizing random networks, not trained presets. Results go to `--out` (JSON, written to
a temporary file and renamed) with the machine, versions and the command.
TFLiteConverter leaks memory on every conversion on TF 2.20/2.21 (tensorflow#122598):
the default run converts 20 times in one process, which stays within a few GB.
"""

import argparse
import dataclasses
import gc
import importlib.metadata
import json
import os
import resource
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ.setdefault("KERAS_BACKEND", "tensorflow") != "tensorflow":
    sys.exit("benchmarks/export_latency.py exports through a SavedModel and needs "
             f"KERAS_BACKEND=tensorflow (got {os.environ['KERAS_BACKEND']!r}).")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench_common import load_average, machine_info, write_json  # noqa: E402

import export  # noqa: E402
import zoo  # noqa: E402
from export.data import example_batch  # noqa: E402
from export.runtime import TFLiteModel  # noqa: E402
from export.signatures import input_shapes, serving_model  # noqa: E402
from training.tasks import task_of  # noqa: E402
from zoo.metrics import image_psnr  # noqa: E402

VARIANTS = {"none": "float32", "float16": "float16", "dynamic": "dynamic", "int8": "int8"}
THREADS = (1, 2)
KERAS_PREDICT, KERAS_CALL = "keras predict", "keras call"
REPAIR_TASKS = ("inpaint", "denoise")
GOALS = {"int8_max_size_ratio": 0.27, "int8_min_psnr_vs_float32_db": 35.0,
         "float32_latency_ratio_vs_keras_predict_below": 1.0}
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "export_latency.json"
QUICK = dict(size=32, calls=3, warmup=1, calibration=8, examples=2)
DEFAULTS = dict(size=256, calls=20, warmup=3, calibration=32, examples=8)
MIN_CALLS = 5


@dataclasses.dataclass(frozen=True)
class Entry:
    """One row group: a label and a factory returning a fresh (untrained or pretrained)
    zoo model. Presets are added as more entries, e.g.
    `Entry("unet_denoise_natural", "preset", lambda: zoo.load("unet_denoise_natural"))`."""

    label: str
    kind: str  # "architecture" (default config, random weights) or "preset"
    factory: object


def _architecture(name, **config):
    return lambda: zoo.create_model(name, **config)


def default_entries():
    """Every registered architecture at its default config, plus the U-Net's two other
    heads (inpainter with a mask input, 4-class segmenter)."""
    entries = [Entry(name, "architecture", _architecture(name)) for name in zoo.list_models()]
    if "unet" in zoo.list_models():
        entries += [Entry("unet (mask_input)", "architecture",
                          _architecture("unet", mask_input=True)),
                    Entry("unet (4-class segmentation)", "architecture",
                          _architecture("unet", head="segmentation", num_classes=4))]
    return entries


# --- timing -----------------------------------------------------------------------

def _time_calls(function, calls):
    """Seconds of each of `calls` calls of `function()`."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def calls_per_run(warm_times, args):
    """Timed calls per run for a path whose last warm-up call took `warm_times[-1]`:
    `args.calls`, fewer for slow paths (about `args.budget` seconds a run, never fewer
    than `MIN_CALLS`), so a slow variant cannot stretch the run to hours."""
    if args.budget <= 0 or not warm_times:
        return args.calls
    return max(min(MIN_CALLS, args.calls), min(args.calls, int(args.budget / warm_times[-1])))


def measure_latency(paths, args):
    """({path: [[seconds per call] per run]}, {path: calls per run}): warm-up, then
    `args.repeats` runs. A run goes round the paths one call at a time (the order
    rotated each run), so every path meets the same moments of a noisy machine; a path
    with fewer calls drops out of the round once it has them."""
    calls = {label: calls_per_run(_time_calls(function, args.warmup), args)
             for label, function in paths.items()}
    runs = {label: [] for label in paths}
    order = list(paths)
    for repeat in range(args.repeats):
        shift = repeat % len(order)
        rotated = order[shift:] + order[:shift]
        times = {label: [] for label in paths}
        for index in range(max(calls.values())):
            for label in rotated:
                if index < calls[label]:
                    times[label] += _time_calls(paths[label], 1)
        for label in paths:
            runs[label].append(times[label])
    return runs, calls


def latency_summary(run_times):
    """Median ms over runs (each run's median call), and every run's median."""
    run_ms = [statistics.median(times) * 1e3 for times in run_times]
    return {"median_ms": statistics.median(run_ms), "run_median_ms": run_ms,
            "call_ms": [[round(t * 1e3, 4) for t in times] for times in run_times]}


def keras_paths(model, example):
    """The two Keras peers on one example (batch 1) of the exported network."""
    network = serving_model(model)
    x = example if isinstance(network.input, dict) else next(iter(example.values()))
    return {KERAS_PREDICT: lambda: network.predict(x, verbose=0),
            KERAS_CALL: lambda: np.asarray(network(x, training=False))}


def delegate_partitions(runtime):
    """How many delegate (XNNPACK) nodes the interpreter made of the graph once it ran:
    1 = the whole graph runs in XNNPACK; more = ops XNNPACK does not take split it, and
    those ops run on TFLite's own kernels (None when the private API is unavailable)."""
    try:
        ops = runtime.interpreter._get_ops_details()
    except Exception:  # a private API: the figure is informative only
        return None
    return sum(op["op_name"] == "DELEGATE" for op in ops)


# --- one entry --------------------------------------------------------------------

def export_variants(model, folder, label, size, args, log):
    """{variant: {path, file_bytes, report, convert_s}} for the four TFLite variants."""
    representative = export.representative_dataset(model, size, count=args.calibration)
    exported = {}
    for quantize in export.QUANTIZATIONS:
        path = Path(folder) / f"{_slug(label)}.{VARIANTS[quantize]}.tflite"
        started = time.perf_counter()
        report = export.to_tflite(
            model, path, quantize=quantize, input_size=size, allow_degraded=True,
            representative_data=representative if quantize == "int8" else None,
            log=lambda message: None)
        seconds = time.perf_counter() - started
        sidecar = json.loads(path.with_name(path.name + ".json").read_text())
        exported[quantize] = {"path": path, "file_bytes": path.stat().st_size,
                              "report": report, "convert_s": seconds,
                              "ops": sidecar.get("ops")}
        log(f"  {label}: {VARIANTS[quantize]}: {path.stat().st_size / 1e6:.2f} MB, PSNR vs "
            f"Keras {report['psnr_vs_keras_db']:.1f} dB, export {seconds:.1f} s")
    return exported


def measure_entry(entry, args, log):
    """Export, fidelity and latency of one entry: (rows, details)."""
    keras.utils.set_random_seed(0)
    model = entry.factory()
    task = task_of(model)
    takes_image = "image" in input_shapes(model)
    size = (args.size, args.size) if takes_image else None
    with tempfile.TemporaryDirectory(prefix="export_latency.") as folder:
        exported = export_variants(model, folder, entry.label, size, args, log)
        inputs, _, _ = example_batch(model, size, args.examples, split="validation")
        outputs = {q: TFLiteModel(e["path"]).predict(inputs) for q, e in exported.items()}
        example = {name: value[:1] for name, value in inputs.items()}
        paths = keras_paths(model, example)
        runtimes = {}
        for quantize, info in exported.items():
            for threads in THREADS:
                runtime = TFLiteModel(info["path"], num_threads=threads)
                runtimes[quantize, threads] = runtime
                paths[f"tflite {VARIANTS[quantize]} {threads}t"] = (
                    lambda r=runtime: r.run_one(example))
        started = time.perf_counter()
        runs, calls = measure_latency(paths, args)
        log(f"  {entry.label}: timed {len(paths)} paths in {time.perf_counter() - started:.1f}"
            " s")
    latency = {label: {**latency_summary(times), "calls_per_run": calls[label]}
               for label, times in runs.items()}
    predict_ms = latency[KERAS_PREDICT]["median_ms"]
    call_ms = latency[KERAS_CALL]["median_ms"]
    float32 = exported["none"]
    shapes = input_shapes(model, size)
    rows = []
    for quantize, info in exported.items():
        report = info["report"]
        tflite_ms = {t: latency[f"tflite {VARIANTS[quantize]} {t}t"]["median_ms"]
                     for t in THREADS}
        rows.append({
            "label": entry.label, "kind": entry.kind, "task": task,
            "variant": VARIANTS[quantize], "quantize": quantize,
            "inputs": {name: list(shape[1:]) for name, shape in shapes.items()},
            "output_shape": list(outputs[quantize].shape[1:]),
            "file_bytes": info["file_bytes"],
            "size_ratio_vs_float32": info["file_bytes"] / float32["file_bytes"],
            "psnr_vs_keras_db": report["psnr_vs_keras_db"],
            "max_abs_error_vs_keras": report["max_abs_error"],
            "verification_passed": report["passed"],
            "task_metric": report.get("task_metric"),
            "psnr_vs_float32_tflite_db": image_psnr(outputs[quantize], outputs["none"]),
            "psnr_examples": args.examples,
            "convert_s": info["convert_s"],
            "latency_ms": {f"{t}_threads": tflite_ms[t] for t in THREADS},
            "keras_predict_ms": predict_ms,
            "keras_call_ms": call_ms,
            "ratio_vs_keras_predict": {f"{t}_threads": tflite_ms[t] / predict_ms
                                       for t in THREADS},
            "ratio_vs_keras_call": {f"{t}_threads": tflite_ms[t] / call_ms for t in THREADS},
            "latency_runs": {f"{t}_threads": latency[f"tflite {VARIANTS[quantize]} {t}t"]
                             for t in THREADS},
            "delegate_partitions": {f"{t}_threads": delegate_partitions(runtimes[quantize, t])
                                    for t in THREADS},
            "ops": info["ops"],
        })
    keras_latency = {KERAS_PREDICT: latency[KERAS_PREDICT], KERAS_CALL: latency[KERAS_CALL]}
    del model, runtimes, paths
    return rows, keras_latency


def _slug(label):
    return "".join(c if c.isalnum() else "_" for c in label).strip("_")


# --- goals, table, result ---------------------------------------------------------

def goal_checks(rows):
    """Per label: the issue's three goals, each with the measured value and a verdict."""
    checks = {}
    for label in dict.fromkeys(r["label"] for r in rows):
        by_variant = {r["variant"]: r for r in rows if r["label"] == label}
        int8, float32 = by_variant["int8"], by_variant["float32"]
        check = {
            "int8_size_ratio": {"value": int8["size_ratio_vs_float32"],
                                "met": int8["size_ratio_vs_float32"]
                                <= GOALS["int8_max_size_ratio"]},
            "float32_latency_vs_keras_predict": {
                "value": float32["ratio_vs_keras_predict"],
                "met": {t: v < GOALS["float32_latency_ratio_vs_keras_predict_below"]
                        for t, v in float32["ratio_vs_keras_predict"].items()}},
        }
        if int8["task"] in REPAIR_TASKS:
            value = int8["psnr_vs_float32_tflite_db"]
            check["int8_psnr_vs_float32"] = {
                "value": value, "met": value >= GOALS["int8_min_psnr_vs_float32_db"],
                "note": "untrained model: not the goal's trained presets"
                if int8["kind"] == "architecture" else None}
        checks[label] = check
    return checks


def _input_text(row):
    """'256x256' for image models; 'latent 128 -> 32x32' for a generator."""
    if "image" in row["inputs"]:
        height, width = row["inputs"]["image"][:2]
        return f"{height}x{width}"
    (name, shape), = row["inputs"].items()
    return f"{name} {shape[0]} -> {row['output_shape'][0]}x{row['output_shape'][1]}"


def markdown_table(rows):
    lines = ["| model | input | variant | file MB | x float32 size | PSNR vs Keras dB "
             "| PSNR vs float32 .tflite dB | 1 thread ms | 2 threads ms | Keras predict ms "
             "| Keras call ms | vs predict (1t / 2t) |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ratio = r["ratio_vs_keras_predict"]
        versus = ("-" if r["variant"] == "float32"
                  else f"{r['psnr_vs_float32_tflite_db']:.1f}")
        lines.append(
            f"| {r['label']} | {_input_text(r)} | {r['variant']} | "
            f"{r['file_bytes'] / 1e6:.2f} | {r['size_ratio_vs_float32']:.3f} | "
            f"{r['psnr_vs_keras_db']:.1f} | {versus} | "
            f"{r['latency_ms']['1_threads']:.2f} | {r['latency_ms']['2_threads']:.2f} | "
            f"{r['keras_predict_ms']:.2f} | {r['keras_call_ms']:.2f} | "
            f"{ratio['1_threads']:.2f}x / {ratio['2_threads']:.2f}x |")
    return "\n".join(lines)


def goals_text(checks):
    """One line per goal: which models meet it."""
    def listing(labels):
        return ", ".join(labels) if labels else "none"

    size = [label for label, c in checks.items() if c["int8_size_ratio"]["met"]]
    latency = {t: [label for label, c in checks.items()
                   if c["float32_latency_vs_keras_predict"]["met"][f"{t}_threads"]]
               for t in THREADS}
    psnr_met = [label for label, c in checks.items()
                if c.get("int8_psnr_vs_float32", {}).get("met")]
    repair = [label for label, c in checks.items() if "int8_psnr_vs_float32" in c]
    lines = [f"- int8 file <= {GOALS['int8_max_size_ratio']}x float32: met by "
             f"{listing(size)} (of {len(checks)})"]
    lines += [f"- float32 .tflite ({t} thread{'s' if t > 1 else ''}) faster than Keras "
              f"predict: {listing(labels)} (of {len(checks)})"
              for t, labels in latency.items()]
    lines.append(f"- int8 output >= {GOALS['int8_min_psnr_vs_float32_db']:.0f} dB vs float32 "
                 f"(repair models): {listing(psnr_met)} (of {len(repair)}; untrained models, "
                 "the goal is about trained presets)")
    return "\n".join(lines)


def runtime_versions():
    """The TFLite runtime version and TensorFlow's thread pools (for the Keras peer)."""
    try:
        litert = importlib.metadata.version("ai-edge-litert")
    except importlib.metadata.PackageNotFoundError:
        litert = None
    return {"ai_edge_litert": litert,
            "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()}


def notes(args):
    return [
        "Models are untrained (random initialization, seed 0): PSNR vs Keras and vs the "
        "float32 .tflite describe quantizing random networks; the 35 dB goal is about "
        "trained presets, benchmarked when they exist.",
        f"Latency: one example at {args.size}x{args.size} (the DCGAN generator: one latent, "
        "its native output size); median over runs of each run's median call; TFLite via "
        "ai-edge-litert TFLiteModel.run_one with the default XNNPACK delegate; Keras on "
        "TensorFlow's default thread pools (tf_intra_op_threads 0 = every usable core).",
        "Keras predict has per-call overhead (a data adapter, callbacks and a compiled "
        "predict step per call); 'Keras call' is model(x, training=False), eager.",
        "delegate_partitions: XNNPACK nodes the interpreter made of the graph; 1 = all of "
        "it runs in XNNPACK, more = ops XNNPACK did not take (they run on TFLite's own "
        "kernels) split it.",
        "TFLiteConverter leaks memory per conversion on TF 2.20/2.21 (tensorflow#122598); "
        "conversions are few enough here.",
    ]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="all",
                        help="comma-separated entry labels (see --list), or 'all'")
    parser.add_argument("--list", action="store_true", help="print the entry labels and exit")
    parser.add_argument("--size", type=int, default=None,
                        help="square input size of the image models (default 256; 32 with "
                             "--quick)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per path")
    parser.add_argument("--calls", type=int, default=None,
                        help="timed single-example calls per path and run (default 20)")
    parser.add_argument("--budget", type=float, default=3.0,
                        help="seconds a path may take per run: slower paths get fewer "
                             f"calls, at least {MIN_CALLS} (default %(default)s; 0: always "
                             "--calls)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="discarded calls per path before timing (default 3)")
    parser.add_argument("--calibration", type=int, default=None,
                        help="int8 calibration examples (default 32)")
    parser.add_argument("--examples", type=int, default=None,
                        help="validation examples for the PSNR vs float32 .tflite (default 8)")
    parser.add_argument("--quick", action="store_true",
                        help="32x32, 3 calls, 4 calibration examples: checks it runs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result file")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if min(args.repeats, args.calls, args.calibration, args.examples, args.size) < 1:
        parser.error("--repeats, --calls, --calibration, --examples and --size must be >= 1.")
    if args.warmup < 0:
        parser.error("--warmup must be >= 0.")
    return args


def select_entries(spec, entries):
    """The entries named in the comma-separated `spec` (labels hold no commas)."""
    if spec.strip() == "all":
        return entries
    by_label = {e.label: e for e in entries}
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [w for w in wanted if w not in by_label]
    if unknown or not wanted:
        raise SystemExit(f"unknown --models {unknown or spec!r}; entries: "
                         f"{', '.join(by_label)}")
    return [by_label[w] for w in wanted]


def main(argv=None):
    args = parse_args(argv)
    entries = default_entries()
    if args.list:
        print("\n".join(e.label for e in entries))
        return None
    entries = select_entries(args.models, entries)
    command = shlex.join(["python", "benchmarks/export_latency.py",
                          *(sys.argv[1:] if argv is None else argv)])

    def log(message):
        print(message, file=sys.stderr, flush=True)

    started, load_before = time.perf_counter(), load_average()
    rows, keras_latency = [], {}
    for entry in entries:
        log(f"{entry.label}:")
        entry_rows, keras_latency[entry.label] = measure_entry(entry, args, log)
        rows.extend(entry_rows)
        keras.backend.clear_session()
        gc.collect()
        log(f"  peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
            " MB")
    seconds = time.perf_counter() - started
    table = markdown_table(rows)
    goals = goal_checks(rows)
    print(table)
    print(f"\n`{command}`: single-example latency, medians of {args.repeats} runs of up to "
          f"{args.calls} calls ({args.warmup} warm-up calls discarded; paths over "
          f"{args.budget:g} s a run get fewer calls, at least {min(MIN_CALLS, args.calls)}), "
          f"{seconds / 60:.1f} min. Untrained models: PSNR figures describe random networks."
          f"\n\nGoals:\n{goals_text(goals)}")
    result = {
        "benchmark": "export_latency", "command": command,
        "settings": {"size": args.size, "repeats": args.repeats, "calls": args.calls,
                     "warmup": args.warmup, "budget_s": args.budget,
                     "min_calls": MIN_CALLS, "calibration": args.calibration,
                     "examples": args.examples, "threads": list(THREADS),
                     "quick": args.quick, "models": [e.label for e in entries]},
        "machine": machine_info(**runtime_versions()), "seconds": seconds,
        # Linux reports kilobytes: the converter's per-call leak shows up here.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_average": {"start": load_before, "end": load_average()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "goals": GOALS, "goal_checks": goals, "notes": notes(args),
        "keras_latency": keras_latency, "rows": rows, "table": table,
    }
    write_json(result, args.out)
    log(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
