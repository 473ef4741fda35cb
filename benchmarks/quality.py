"""Quality of every preset next to the classical peers a user would pick instead.

    python benchmarks/quality.py                 # everything, ~35 min on 2 CPU cores
    python benchmarks/quality.py --write-cards   # also rewrite the presets' model cards
    python benchmarks/quality.py --quick         # small sizes, to check the script runs

On held-out data only:
- repair, on the test split of the `photos` corpus (`zoo data fetch photos`; another
  folder with --photos-root): 3 crops of 256 x 256 from each test photo, positions,
  masks and noise from fixed seeds (see quality_repair.py);
  - inpainting (strokes of three widths, and a centre box covering a quarter of the
    crop): masked PSNR / SSIM against OpenCV Telea / Navier-Stokes and scikit-image
    biharmonic;
  - denoising at sigma 15, 25, 50: PSNR / SSIM against OpenCV NLM and scikit-image TV
    on every crop, and BM3D on the first crop of each photo, where every other method
    is reported too;
- segmentation (shapes test scenes): mean IoU against a classical threshold +
  shape-rule baseline;
- generation: FID / KID in the features of a small classifier trained on the domain,
  sliced Wasserstein distance on Laplacian pyramids, a nearest-neighbour copy check,
  next to the DCGAN written the plain keras.io way, trained for the same steps
  (samples against the validation split);
- the one-thread int8 TFLite latency of each repair preset at 256 x 256.

Everything runs on one thread (TensorFlow, OpenCV, OpenMP / BLAS), so the timings
are one-thread timings. Prints the tables, writes benchmarks/results/quality.json and
the before/after figures in benchmarks/results/quality/.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# One thread everywhere, read by TensorFlow and the OpenMP / BLAS libraries (BM3D,
# scikit-image, NumPy) when they start: set before any of them is imported.
ONE_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                        "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
for _variable in ONE_THREAD_VARIABLES:
    os.environ[_variable] = "1"

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent

import numpy as np  # noqa: E402
import quality_figures  # noqa: E402
import quality_repair  # noqa: E402
from bench_common import load_average, machine_info, warm_median_seconds, write_json  # noqa: E402

import zoo  # noqa: E402
from training import result_tables  # noqa: E402
from training.photo_corpus import default_root  # noqa: E402

RESULTS = BENCH_DIR / "results" / "quality.json"
FIGURES = BENCH_DIR / "results" / "quality"
SIZE = 256
LATENCY_REPEATS = 5
QUICK_CROPS_PER_PHOTO = 2


def tflite_latency(name, size, repeats=LATENCY_REPEATS, score=None):
    """Median one-thread seconds of the preset's int8 .tflite on one (size, size) input,
    and its verification report; with `score`, also "test_psnr": `score(run)`, where
    `run(image, mask or sigma) -> image` runs the file on one (size, size, C) image."""
    from export.data import example_batch, representative_dataset
    from export.exporters import to_tflite
    from export.runtime import TFLiteModel
    from zoo_cli.export_model import load_preset_for_export

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
        scores = {} if score is None else {"test_psnr": score(int8_runner(runtime, inputs))}
    return {"seconds": seconds, "psnr_vs_keras_db": report["psnr_vs_keras_db"],
            "hole_psnr_vs_keras_db": report.get("hole_psnr_vs_keras_db"),
            "verification_passed": report["passed"],
            "file_bytes": report["file_bytes"], "task_metric": report.get("task_metric"),
            **scores}


def int8_runner(runtime, example):
    """`run(image, mask or sigma) -> image` on a TFLite runtime whose inputs are named as
    `example`'s: "image" and "mask" (inpainting) or "noise_level" (sigma / 255)."""
    def run(image, extra):
        inputs = {"image": image[None]}
        if "mask" in example:
            inputs["mask"] = extra[None]
        elif "noise_level" in example:
            inputs["noise_level"] = np.full((1, 1), extra / 255.0, np.float32)
        (output,) = runtime.run_one(inputs).values()
        return output[0]
    return run


def one_thread():
    """Pin TensorFlow's pools and OpenCV to one thread; returns what they report."""
    import cv2
    import tensorflow as tf

    cv2.setNumThreads(1)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialized: the environment variables applied
        pass
    return {"tensorflow_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "tensorflow_inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
            "opencv": cv2.getNumThreads(),
            **{name: os.environ[name] for name in ONE_THREAD_VARIABLES}}


def _home(path):
    path, home = Path(path).resolve(), Path.home().resolve()
    return "~/" + str(path.relative_to(home)) if path.is_relative_to(home) else str(path)


def repair_data(crops, info, root, masks_per_kind, sigmas, subset, inpainters, denoisers):
    """What the repair scores were measured on, for the results and the tables."""
    import classical_peers

    return {**info, "root": _home(root),
            "mask_kinds": [f"strokes-{k}" for k in quality_repair.STROKE_KINDS] + ["box"],
            "masks_per_kind": masks_per_kind, "mask_seed": quality_repair.MASK_SEED,
            "stroke_area": list(quality_repair.STROKE_AREA),
            "box": "centre square of half the side (a quarter of the crop)",
            "sigmas": list(sigmas), "noise_seed": quality_repair.NOISE_SEED,
            "bm3d_subset": {"crops": list(subset), "count": len(subset),
                            "rule": "the first crop of each photo"},
            "peers": {"inpainting": list(classical_peers.INPAINTING_PEERS),
                      "denoising": list(classical_peers.DENOISING_PEERS)},
            "presets": {"inpaint": list(inpainters), "denoise": list(denoisers)},
            "timing": f"seconds per {info['crop_size']} x {info['crop_size']} crop, median "
                      "over the cases, one call each"}


def run_repair(root, size, quick):
    results, examples = {}, {"inpaint": {}, "denoise": {}, "segment": {}}
    per_photo = QUICK_CROPS_PER_PHOTO if quick else quality_repair.CROPS_PER_PHOTO
    crops, info = quality_repair.photo_crops(root, size, per_photo)
    subset = quality_repair.bm3d_subset(len(crops), per_photo)
    shown = quality_repair.example_crops(subset)
    sigmas = (25,) if quick else quality_repair.SIGMAS
    masks_per_kind = quality_repair.MASKS_PER_KIND
    inpainters = {n: zoo.load(n, compile=False) for n in quality_repair.presets_for("inpaint")}
    denoisers = {n: zoo.load(n, compile=False) for n in quality_repair.presets_for("denoise")}
    results["repair_data"] = repair_data(crops, info, root, masks_per_kind, sigmas, subset,
                                         inpainters, denoisers)
    results["repair_data"]["figure_crops"] = shown
    print(f"inpainting: {len(crops)} crops of {info['photos']} {info['split']} photos...",
          flush=True)
    results["inpainting"] = quality_repair.evaluate_inpainting(
        inpainters, crops, masks_per_kind, examples["inpaint"], shown)
    print(f"denoising (BM3D on {len(subset)} crops)...", flush=True)
    results["denoising"], results["denoising_bm3d_subset"] = quality_repair.evaluate_denoising(
        denoisers, crops, sigmas, subset, examples["denoise"], shown)
    print("segmentation...", flush=True)
    segmenter = zoo.load(quality_repair.SEGMENT_PRESET, compile=False)
    scenes = 2 if quick else quality_repair.SEGMENT_SCENES
    results["segmentation"] = quality_repair.evaluate_segmentation(
        segmenter, quality_repair.SEGMENT_SIZE, scenes, examples["segment"])
    results["segmentation"].update(quality_repair.evaluate_segmentation(
        segmenter, size, scenes, suffix=f" ({size} x {size} scenes)"))
    print("int8 TFLite latency...", flush=True)
    # each export costs ~13 s: --quick checks the path on the first inpainter
    repair_presets = tuple(inpainters)[:1] if quick else (
        *inpainters, *denoisers, quality_repair.SEGMENT_PRESET)
    # the int8 files of the inpainters and denoisers are also scored on the test cases, to
    # set against their Keras models' scores above (at sigma 25, told the true sigma)
    scores = {**{n: lambda run: quality_repair.int8_inpainting_psnr(run, crops, masks_per_kind)
                 for n in inpainters},
              **{n: lambda run: quality_repair.int8_denoising_psnr(run, crops, 25)
                 for n in denoisers}}
    results["tflite_int8"] = {n: tflite_latency(n, size, 2 if quick else LATENCY_REPEATS,
                                                scores.get(n))
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
    parser.add_argument("--photos-root", type=Path, default=None, metavar="DIR",
                        help="the photos corpus folder (default: where `zoo data fetch "
                             "photos` builds it)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--figures", type=Path, default=FIGURES)
    args = parser.parse_args(argv)

    root = args.photos_root or default_root()
    if quality_repair.check_corpus(root) is not None:
        sys.exit(f"quality.py: no test photos in {Path(root) / 'images' / 'test'}: build the "
                 "corpus with `zoo data fetch photos` (or pass its folder as --photos-root)")
    size = 64 if args.quick else SIZE
    threads = one_thread()
    started = time.perf_counter()
    load_start = load_average()
    repair, examples = run_repair(root, size, args.quick)
    repair["repair_data"]["threads"] = threads
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
    print(result_tables.tables(results))
    print(f"\nwrote {args.out} and {len(figures)} figures in {args.figures}")
    if args.write_cards:
        from training import model_cards

        for path in model_cards.write_all(results, figures):
            print(f"wrote {path}")
        print("\nREADME preset table:\n" + model_cards.readme_table(results))
        print("\ndocs/benchmarks.md targets:\n" + model_cards.targets_summary(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
