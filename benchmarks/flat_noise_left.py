"""How much noise a denoising run leaves on perfectly flat images: the ceiling that
held `unet_denoise_photos` about 10 dB under BM3D on the flat validation crops.

    python benchmarks/flat_noise_left.py unet_denoise_photos ~/zoo-runs/unet-denoise-photos
    python benchmarks/flat_noise_left.py checkpoints/trial-denoise-wide/denoise_wide.toml \
        ~/zoo-runs/trial-wide

Constant grey images (levels 0.2 and 0.5, 128 x 128) get white Gaussian noise of each
strength; the run's latest weights (its backup, else model.keras) denoise them at the
true strength. Per level and sigma it prints the PSNR, the RMS of what is left relative
to the noise (an ideal denoiser of a flat image leaves almost nothing: BM3D is at about
45 dB at sigma 25) and the least-squares coefficient of the noise in what is left (near 1:
the noise passes through; near 0: the error is the network's own). Writes
results/flat_noise_left/NAME.json.
"""

import argparse
from pathlib import Path

import numpy as np
from bench_common import write_json
from validation_reference import _load_latest_weights

from training.recipe import load_recipe
from training.run import build_model
from zoo.metrics import image_psnr

RESULTS = Path(__file__).resolve().parent / "results" / "flat_noise_left"
LEVELS = (0.2, 0.5)
SIGMAS = (5, 15, 25, 50)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", help="recipe name or file of the run")
    parser.add_argument("run", type=Path, help="run folder")
    args = parser.parse_args()
    model = build_model(load_recipe(args.recipe))
    _load_latest_weights(model, args.run)
    rng = np.random.default_rng(0)
    rows = []
    for level in LEVELS:
        clean = np.full((4, 128, 128, 3), level, "float32")
        for sigma in SIGMAS:
            noise = (rng.normal(size=clean.shape) * sigma / 255).astype("float32")
            inputs = {"image": clean + noise,
                      "noise_level": np.full((len(clean), 1), sigma / 255, "float32")}
            left = model.predict(inputs, verbose=0) - clean
            rows.append({
                "level": level, "sigma": sigma,
                "psnr_db": float(np.mean([image_psnr(e + c, c) for e, c in
                                          zip(left, clean, strict=True)])),
                "rms_left_over_noise": float(left.std() / noise.std()),
                "noise_coefficient": float((left * noise).sum() / (noise * noise).sum())})
    print(f"{args.run.name}: flat images, noise left by the model")
    print(f"{'level':>6} {'sigma':>6} {'PSNR dB':>8} {'RMS left':>9} {'noise coef':>11}")
    for row in rows:
        print(f"{row['level']:6.1f} {row['sigma']:6d} {row['psnr_db']:8.2f} "
              f"{row['rms_left_over_noise']:9.3f} {row['noise_coefficient']:11.3f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json({"command": f"python benchmarks/flat_noise_left.py {args.recipe} {args.run}",
                "run": args.run.name, "rows": rows},
               RESULTS / f"{Path(args.recipe).stem}.json")


if __name__ == "__main__":
    main()
