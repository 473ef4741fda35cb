"""`zoo demo`: the pretrained zoo on a photo none of its presets was trained on.

    OUT/inpaint_before_after.png   masked photo | scikit-image biharmonic | the inpainting
                                   presets | original
    OUT/denoise_before_after.png   noisy (sigma 25) | denoised | original
    OUT/generated_digits.png, OUT/generated_textures.png   16 samples each
    OUT/unet-inpaint-photos_int8.tflite (+ .json sidecar, .verification.json)
    OUT/demo.json                  every number printed
"""

import time
from pathlib import Path

import numpy as np

from zoo.metrics import image_psnr

DEMO_SIZE = 256
NOISE_SIGMA = 25.0  # 8-bit units
PHOTO = "astronaut"  # in the natural test split: no preset saw any crop of it
INPAINTERS = ("unet-inpaint-photos",)
CLASSICAL = "biharmonic"  # scikit-image's inpaint_biharmonic: the fill a user would reach for
DENOISER = "unet-denoise-photos"
GENERATORS = {"dcgan-digits": "generated_digits.png", "dcgan-textures": "generated_textures.png"}
EXPORTED = "unet-inpaint-photos"  # the inpainter the figure shows


def demo_photo():
    """The held-out test photo, centre-cropped and resized: (256, 256, 3) in [0, 1]."""
    from training.datasets import NATURAL_PHOTOS, load_images
    from training.images import center_square

    photos = dict(zip(NATURAL_PHOTOS["test"], load_images("natural", "test"), strict=True))
    return center_square(photos[PHOTO], DEMO_SIZE)


def _inpaint(photo, out, log):
    from skimage.restoration import inpaint_biharmonic

    import zoo
    from training.masks import random_mask
    from zoo.inference import apply_to_image
    from zoo_lite.image_io import image_grid, save_png, to_rgb8

    mask = random_mask(np.random.default_rng(0), DEMO_SIZE, DEMO_SIZE, "medium",
                       (0.10, 0.15)).astype(np.float32)
    masked = photo * (1 - mask)
    results = {"hole_fraction": round(float(mask.mean()), 4),
               "masked_psnr_before": image_psnr(masked, photo, mask)}
    columns = [masked]
    classical = inpaint_biharmonic(masked, mask[..., 0] > 0, channel_axis=-1)
    results[f"masked_psnr_{CLASSICAL}"] = image_psnr(classical, photo, mask)
    columns.append(classical.astype(np.float32))
    for name in INPAINTERS:
        filled = apply_to_image(zoo.load(name, compile=False), masked, mask)
        results[f"masked_psnr_{name}"] = image_psnr(filled, photo, mask)
        columns.append(filled)
    columns.append(photo)
    save_png(image_grid([to_rgb8(c[None]) for c in columns]), out / "inpaint_before_after.png")
    log(f"inpainting: {results['hole_fraction']:.1%} of the photo hidden; PSNR in the hole "
        f"{results['masked_psnr_before']:.2f} dB (black) -> " + ", ".join(
            f"{results[f'masked_psnr_{n}']:.2f} dB ({n})" for n in (CLASSICAL, *INPAINTERS)))
    return results


def _denoise(photo, out, log):
    import zoo
    from training.degradations import add_gaussian_noise
    from zoo.inference import apply_to_image
    from zoo_lite.image_io import image_grid, save_png, to_rgb8

    noisy = add_gaussian_noise(np.random.default_rng(0), photo,
                               (NOISE_SIGMA, NOISE_SIGMA))[0]
    denoised = apply_to_image(zoo.load(DENOISER, compile=False), noisy)
    results = {"sigma": NOISE_SIGMA, "psnr_noisy": image_psnr(noisy, photo),
               "psnr_denoised": image_psnr(denoised, photo)}
    save_png(image_grid([to_rgb8(c[None]) for c in (noisy, denoised, photo)]),
             out / "denoise_before_after.png")
    log(f"denoising (sigma {NOISE_SIGMA:g}): PSNR {results['psnr_noisy']:.2f} dB -> "
        f"{results['psnr_denoised']:.2f} dB ({DENOISER})")
    return results


def _generate(out, log):
    from zoo_cli.predict import generate_grid

    for name, filename in GENERATORS.items():
        generate_grid(name, 16, 0, out / filename)
    log(f"generated 16 samples each: {', '.join(GENERATORS.values())}")


def _export(out, log):
    from export.data import representative_dataset
    from export.exporters import to_tflite
    from zoo_cli.export_model import load_preset_for_export

    model, source, recipe = load_preset_for_export(EXPORTED)
    path = out / f"{EXPORTED}_int8.tflite"
    size = (DEMO_SIZE, DEMO_SIZE)
    data = representative_dataset(model, size, count=32, recipe=recipe)
    report = to_tflite(model, path, "int8", data, size, force=True, source=source,
                       recipe=recipe, log=lambda message: None)
    log(f"exported {EXPORTED} to int8 TFLite: {path} ({report['file_bytes'] / 1e6:.2f} MB), "
        f"verified against Keras: PSNR {report['psnr_vs_keras_db']:.1f} dB, "
        f"{report['hole_psnr_vs_keras_db']:.1f} dB in the holes, "
        + ("passed" if report["passed"] else "FAILED"))
    return {"path": str(path), "file_bytes": report["file_bytes"],
            "psnr_vs_keras_db": report["psnr_vs_keras_db"],
            "hole_psnr_vs_keras_db": report["hole_psnr_vs_keras_db"], "passed": report["passed"],
            "task_metric": report.get("task_metric")}


def run_demo(out, log=print):
    """Run every step into the folder `out`; returns the numbers (also in demo.json)."""
    from zoo_lite.image_io import write_json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    photo = demo_photo()
    log(f"photo: skimage.data.{PHOTO}() at {DEMO_SIZE}x{DEMO_SIZE} (held out from training)")
    results = {"photo": PHOTO, "inpainting": _inpaint(photo, out, log),
               "denoising": _denoise(photo, out, log)}
    _generate(out, log)
    results["export"] = _export(out, log)
    results["seconds"] = round(time.perf_counter() - started, 1)
    write_json(results, out / "demo.json")
    log(f"wrote {out}/: inpaint_before_after.png, denoise_before_after.png, "
        f"{', '.join(GENERATORS.values())}, {Path(results['export']['path']).name}, demo.json "
        f"({results['seconds']:.0f} s)")
    return results
