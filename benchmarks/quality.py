"""Quality of every preset next to the classical peers a user would pick instead.

    python benchmarks/quality.py                 # everything, ~20-30 min on 2 CPU cores
    python benchmarks/quality.py --write-cards   # also rewrite the presets' model cards
    python benchmarks/quality.py --quick         # small sizes, to check the script runs

On held-out data only (natural test photos astronaut and flower; shapes test scenes;
generated samples against the validation split):
- inpainting (strokes of three widths, and a centre box covering a quarter of the
  image): masked PSNR / SSIM against OpenCV Telea / Navier-Stokes and scikit-image
  biharmonic;
- denoising at sigma 15, 25, 50: PSNR / SSIM against OpenCV NLM, scikit-image TV, BM3D;
- segmentation: mean IoU against a classical threshold + shape-rule baseline;
- generation: FID / KID in the features of a small classifier trained on the domain,
  sliced Wasserstein distance on Laplacian pyramids, a nearest-neighbour copy check,
  next to the DCGAN written the plain keras.io way, trained for the same steps;
- the one-thread int8 TFLite latency of each repair preset at 256 x 256.

Prints the tables, writes benchmarks/results/quality.json and the before/after
figures in benchmarks/results/quality/.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
for folder in (BENCH_DIR, REPO_ROOT):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import quality_figures  # noqa: E402
import quality_repair  # noqa: E402
from bench_common import load_average, machine_info, warm_median_seconds, write_json  # noqa: E402

import zoo  # noqa: E402

RESULTS = BENCH_DIR / "results" / "quality.json"
FIGURES = BENCH_DIR / "results" / "quality"
SIZE = 256
LATENCY_REPEATS = 5
QUICK_LATENCY_PRESETS = ("unet-inpaint-natural",)


def tflite_latency(name, size, repeats=LATENCY_REPEATS):
    """Median one-thread seconds of the preset's int8 .tflite on one (size, size) input,
    and its verification report."""
    from export.cli import load_preset_for_export
    from export.data import example_batch, representative_dataset
    from export.exporters import to_tflite
    from export.runtime import TFLiteModel

    model, source, recipe = load_preset_for_export(name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}_int8.tflite"
        data = representative_dataset(model, (size, size), count=32, recipe=recipe)
        # allow_degraded: the file is timed even when it fails verification, and the
        # verdict is recorded next to its latency
        report = to_tflite(model, path, "int8", data, (size, size), source=source,
                           recipe=recipe, allow_degraded=True, log=lambda message: None)
        runtime = TFLiteModel(path, num_threads=1)
        inputs, _, _ = example_batch(model, (size, size), 1, recipe=recipe)
        seconds = warm_median_seconds(lambda: runtime.run_one(inputs), repeats)
    return {"seconds": seconds, "psnr_vs_keras_db": report["psnr_vs_keras_db"],
            "verification_passed": report["passed"],
            "file_bytes": report["file_bytes"], "task_metric": report.get("task_metric")}


def run_repair(size, quick):
    results, examples = {}, {"inpaint": {}, "denoise": {}, "segment": {}}
    inpainters = {n: zoo.load(n, compile=False) for n in quality_repair.INPAINT_PRESETS}
    print("inpainting...", flush=True)
    results["inpainting"] = quality_repair.evaluate_inpainting(
        inpainters, size, 1 if quick else quality_repair.MASKS_PER_KIND, examples["inpaint"])
    print("denoising...", flush=True)
    results["denoising"] = quality_repair.evaluate_denoising(
        zoo.load(quality_repair.DENOISE_PRESET, compile=False), size,
        (25,) if quick else quality_repair.SIGMAS, examples["denoise"])
    print("segmentation...", flush=True)
    segmenter = zoo.load(quality_repair.SEGMENT_PRESET, compile=False)
    scenes = 2 if quick else quality_repair.SEGMENT_SCENES
    results["segmentation"] = quality_repair.evaluate_segmentation(
        segmenter, quality_repair.SEGMENT_SIZE, scenes, examples["segment"])
    results["segmentation"].update(quality_repair.evaluate_segmentation(
        segmenter, size, scenes, suffix=f" ({size} x {size} scenes)"))
    print("int8 TFLite latency...", flush=True)
    # each export costs ~13 s: --quick checks the path on one preset
    repair_presets = QUICK_LATENCY_PRESETS if quick else (
        *quality_repair.INPAINT_PRESETS, quality_repair.DENOISE_PRESET,
        quality_repair.SEGMENT_PRESET)
    results["tflite_int8"] = {n: tflite_latency(n, size, 2 if quick else LATENCY_REPEATS)
                              for n in repair_presets}
    return results, examples


def run_generation(quick):
    import quality_generation

    return quality_generation.evaluate_all(quick=quick)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (script check)")
    parser.add_argument("--write-cards", action="store_true",
                        help="rewrite zoo/presets/*/README.md and the metadata headlines")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--figures", type=Path, default=FIGURES)
    args = parser.parse_args(argv)

    size = 64 if args.quick else SIZE
    started = time.perf_counter()
    load_start = load_average()
    repair, examples = run_repair(size, args.quick)
    generation, samples = run_generation(args.quick)
    results = {
        "benchmark": "quality",
        "command": "python benchmarks/quality.py" + (" --quick" if args.quick else ""),
        "size": size,
        "machine": machine_info(),
        "load_average": {"start": load_start, "end": load_average()},
        "seconds": round(time.perf_counter() - started, 1),
        **repair,
        "generation": generation,
    }
    figures = quality_figures.write_all(examples, samples, args.figures)
    results["figures"] = {k: str(Path(v).relative_to(REPO_ROOT)) if Path(v).is_relative_to(
        REPO_ROOT) else str(v) for k, v in figures.items()}
    write_json(results, args.out)
    print(quality_figures.tables(results))
    print(f"\nwrote {args.out} and {len(figures)} figures in {args.figures}")
    if args.write_cards:
        import model_cards

        for path in model_cards.write_all(results, figures):
            print(f"wrote {path}")
        print("\nREADME preset table:\n" + model_cards.readme_table(results))
        print("\nREADME targets:\n" + model_cards.targets_summary(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
