"""The classical peers on a photos recipe's own validation batches: the line a long
run's validation curve has to cross.

    python benchmarks/validation_reference.py unet_denoise_photos
    python benchmarks/validation_reference.py unet_inpaint_photos
    python benchmarks/validation_reference.py unet_denoise_photos --sigma 25 --crops 32 \
        --run ~/zoo-runs/unet-denoise-photos

`--sigma S` (denoising) adds noise of that one strength to the clean validation crops
instead of the recipe's random strengths (the quality benchmark's sigmas are 15, 25 and
50; the mean over random strengths is dominated by the weakest noise); `--run DIR` also
scores a run's latest weights (its backup, else model.keras); `--crops N` keeps the first
N crops (BM3D takes about a second per crop).

Scores, on exactly the batches `zoo train` validates on (same seed, crops, noise levels
and masks), the degraded input, the untrained model (a zero-started correction returns
its input, or the in-graph diffusion fill), and the classical peers: BM3D and
scikit-image TV at each crop's true sigma for denoising; scikit-image biharmonic and
OpenCV Telea for inpainting. These are validation numbers, for watching a run; the
quality benchmark on the test split is what the README and docs/benchmarks.md report.
"""

import argparse
import json
from pathlib import Path

import classical_peers as peers
import keras
import numpy as np

from training.degradations import add_gaussian_noise
from training.recipe import load_recipe
from training.run import _datasets, build_model
from training.tasks import task_of
from zoo.metrics import image_psnr

RESULTS = Path(__file__).resolve().parent / "results" / "validation_reference"


def _mean_psnr(outputs, targets, masks=None):
    return float(np.mean([image_psnr(o, t, None if masks is None else m)
                          for o, t, m in zip(outputs, targets,
                                             masks if masks is not None else targets,
                                             strict=True)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe")
    parser.add_argument("--sigma", type=float, help="denoising: one noise strength (0-255)")
    parser.add_argument("--run", type=Path, help="also score this run folder's latest weights")
    parser.add_argument("--crops", type=int, help="only the first N validation crops")
    parser.add_argument("--no-peers", action="store_true",
                        help="score only the noisy input and --run (no file is written)")
    args = parser.parse_args()
    recipe = load_recipe(args.recipe)
    model = build_model(recipe)
    model.compile()
    task = task_of(model)
    noise_level = "noise_level" in model.input if isinstance(model.input, dict) else False
    _, validation = _datasets(recipe, task, 3, noise_level)
    batches = [validation.maker.batch(0, i) for i in range(validation.steps)]
    rows = {}
    if task == "denoise":
        noisy = np.concatenate([x["image"] if isinstance(x, dict) else x for x, _ in batches])
        clean = np.concatenate([y for _, y in batches])
        sigmas = np.concatenate([x["noise_level"][:, 0] * 255 for x, _ in batches])
        if args.sigma is not None:
            rng = np.random.default_rng(recipe.seed)
            noisy, sigmas = add_gaussian_noise(rng, clean, args.sigma)
            sigmas = np.full(len(clean), args.sigma, "float32")
        if args.crops:
            noisy, clean, sigmas = noisy[:args.crops], clean[:args.crops], sigmas[:args.crops]
        rows["noisy input"] = _mean_psnr(noisy, clean)
        if args.run:
            _load_latest_weights(model, args.run)
            inputs = {"image": noisy, "noise_level": sigmas[:, None] / 255} if noise_level \
                else noisy
            rows[f"model ({args.run.name})"] = _mean_psnr(
                model.predict(inputs, batch_size=8, verbose=0), clean)
        if args.no_peers:
            return _print(args, rows, len(clean), metric_name(task, args.sigma))
        rows["scikit-image TV"] = _mean_psnr(
            [peers.denoise_tv(n, s) for n, s in zip(noisy, sigmas, strict=True)], clean)
        rows["BM3D"] = _mean_psnr(
            [peers.denoise_bm3d(n, max(s, 0.5)) for n, s in zip(noisy, sigmas, strict=True)],
            clean)
    else:
        images = np.concatenate([x["image"] for x, _ in batches])
        masks = np.concatenate([x["mask"] for x, _ in batches])
        clean = np.concatenate([y for _, y in batches])
        rows["untrained model (the diffusion fill)"] = _mean_psnr(
            model.predict({"image": images, "mask": masks}, verbose=0), clean, masks)
        rows["scikit-image biharmonic"] = _mean_psnr(
            [peers.inpaint_biharmonic(i, m) for i, m in zip(images, masks, strict=True)],
            clean, masks)
        rows["OpenCV Telea"] = _mean_psnr(
            [peers.inpaint_telea(i, m) for i, m in zip(images, masks, strict=True)],
            clean, masks)
    metric = metric_name(task, args.sigma)
    _print(args, rows, len(clean), metric)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.sigma is None else f"_sigma{args.sigma:g}"
    command = " ".join(["python benchmarks/validation_reference.py", args.recipe,
                        *([f"--sigma {args.sigma:g}"] if args.sigma is not None else []),
                        *([f"--crops {args.crops}"] if args.crops else []),
                        *([f"--run {args.run}"] if args.run else [])])
    (RESULTS / f"{args.recipe}{suffix}.json").write_text(json.dumps(
        {"command": command, "crops": len(clean), "metric": metric, "psnr_db": rows},
        indent=1) + "\n")


def metric_name(task, sigma):
    metric = "val_psnr (mean over crops)" if task == "denoise" else "val hole PSNR"
    return metric if sigma is None else f"{metric} at sigma {sigma:g}"


def _print(args, rows, crops, metric):
    print(f"{args.recipe}: {crops} validation crops, {metric}")
    for name, value in rows.items():
        print(f"  {name:40} {value:6.2f} dB")


def _load_latest_weights(model, run):
    backup = run / "backup" / "latest.weights.h5"
    if backup.is_file():
        model.load_weights(backup, skip_mismatch=False)
    else:
        model.set_weights(keras.saving.load_model(run / "model.keras").get_weights())


if __name__ == "__main__":
    main()
