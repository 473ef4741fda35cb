"""Repair presets next to the classical peers, on images no preset was trained on.

Inpainting and denoising use the natural test photos (astronaut, flower), centre
squares resized to 256 x 256; segmentation uses shapes scenes of the test split.
Masks and noise come from fixed seeds, so every run scores the same inputs.
"""

import classical_peers as peers
import numpy as np

from training.datasets import NATURAL_PHOTOS, load_images, shapes_scenes
from training.degradations import add_gaussian_noise
from training.images import center_square
from training.masks import random_mask

INPAINT_PRESETS = ("inpainter-natural", "unet-inpaint-natural")
DENOISE_PRESET = "unet-denoise-natural"
SEGMENT_PRESET = "unet-segment-shapes"
STROKE_KINDS = ("thin", "medium", "thick")
STROKE_AREA = (0.08, 0.16)   # fraction of the photo hidden by strokes
MASKS_PER_KIND = 2           # per photo
SIGMAS = (15, 25, 50)        # 8-bit units
SEGMENT_SCENES = 16
# The segmenter is trained on 64 x 64 scenes, and a scene's shapes scale with its size:
# it is scored at its own scale, and at 256 x 256 to show what happens off that scale.
SEGMENT_SIZE = 64
CLASSICAL_SEGMENTER = "classical threshold + shape rules"


def split_photos(size, split="test"):
    """{name: (size, size, 3) float32 [0, 1]}: the natural photos of `split`, centre squares."""
    photos = load_images("natural", split)
    return {name: center_square(photo, size)
            for name, photo in zip(NATURAL_PHOTOS[split], photos, strict=True)}


def inpainting_cases(size, masks_per_kind=MASKS_PER_KIND, split="test", seed=2026):
    """[(photo name, mask kind, mask (size, size, 1))]: strokes of each width, and the
    centre box covering a quarter of the image (half the side), for each photo of
    the natural `split`. `seed` fixes the stroke masks (other benchmarks use their own,
    so that they do not score on the very masks this one reports)."""
    cases = []
    for p, name in enumerate(NATURAL_PHOTOS[split]):
        for k, kind in enumerate(STROKE_KINDS):
            for i in range(masks_per_kind):
                rng = np.random.default_rng([seed, p, k, i])
                cases.append((name, f"strokes-{kind}",
                              random_mask(rng, size, size, kind, STROKE_AREA)))
        box = np.zeros((size, size, 1), np.float32)
        box[size // 4:3 * size // 4, size // 4:3 * size // 4] = 1
        cases.append((name, "box", box))
    return cases


def _score(method_scores, method, group, output, clean, mask, seconds):
    entry = method_scores.setdefault(method, {}).setdefault(
        group, {"psnr": [], "ssim": [], "seconds": []})
    entry["psnr"].append(peers.psnr(output, clean, mask))
    entry["ssim"].append(peers.ssim(output, clean, mask))
    entry["seconds"].append(seconds)


def _summarize(method_scores):
    return {method: {group: {"psnr": float(np.mean(v["psnr"])), "ssim": float(np.mean(v["ssim"])),
                             "seconds": float(np.median(v["seconds"])), "cases": len(v["psnr"])}
                     for group, v in groups.items()}
            for method, groups in method_scores.items()}


def evaluate_inpainting(models, size, masks_per_kind=MASKS_PER_KIND, examples=None):
    """Masked PSNR / SSIM per method and mask group ("strokes" = all widths, "box").
    `models`: {preset name: loaded model}. `examples` (a dict) collects, per group,
    the first case's images for the before/after figures."""
    from zoo.inference import apply_to_image

    photos = split_photos(size)
    scores = {}
    for photo_name, kind, mask in inpainting_cases(size, masks_per_kind):
        clean = photos[photo_name]
        masked = clean * (1 - mask)
        group = "box" if kind == "box" else "strokes"
        outputs = {}
        for method, fn in peers.INPAINTING_PEERS.items():
            outputs[method], seconds = peers.timed(fn, masked, mask, repeats=1)
            _score(scores, method, group, outputs[method], clean, mask, seconds)
        for name, model in models.items():
            outputs[name], seconds = peers.timed(apply_to_image, model, masked, mask,
                                                 repeats=1)
            _score(scores, name, group, outputs[name], clean, mask, seconds)
        if examples is not None and group not in examples:
            examples[group] = {"input": masked, "clean": clean, "outputs": outputs}
    return _summarize(scores)


def evaluate_denoising(model, size, sigmas=SIGMAS, examples=None):
    """PSNR / SSIM per method and sigma (all test photos), peers told the true sigma."""
    from zoo.inference import apply_to_image

    scores = {}
    for p, (photo_name, clean) in enumerate(split_photos(size).items()):
        for sigma in sigmas:
            rng = np.random.default_rng([2026, p, sigma])
            noisy = add_gaussian_noise(rng, clean, (sigma, sigma))[0]
            group = f"sigma-{sigma}"
            outputs = {}
            for method, fn in peers.DENOISING_PEERS.items():
                outputs[method], seconds = peers.timed(fn, noisy, sigma, repeats=1)
                _score(scores, method, group, outputs[method], clean, None, seconds)
            outputs[DENOISE_PRESET], seconds = peers.timed(apply_to_image, model, noisy,
                                                           repeats=1)
            _score(scores, DENOISE_PRESET, group, outputs[DENOISE_PRESET], clean, None, seconds)
            if examples is not None and group not in examples:
                examples[group] = {"input": noisy, "clean": clean, "outputs": outputs,
                                   "photo": photo_name}
    return _summarize(scores)


def evaluate_segmentation(model, size, count=SEGMENT_SCENES, examples=None, suffix=""):
    """Mean IoU over `count` test scenes of `size` x `size`: the preset and the classical
    baseline (method names get `suffix`)."""
    from zoo.inference import apply_to_image

    images, labels = shapes_scenes("test", count, size, size)
    num_classes = model.output.shape[-1]
    results = {}
    for method in (CLASSICAL_SEGMENTER, SEGMENT_PRESET):
        ious, times = [], []
        for image, truth in zip(images, labels, strict=True):
            if method == SEGMENT_PRESET:
                probabilities, seconds = peers.timed(apply_to_image, model, image, repeats=1)
                predicted = np.argmax(probabilities, axis=-1)
            else:
                predicted, seconds = peers.timed(peers.segment_shapes_classical, image,
                                                 repeats=1)
            ious.append(peers.mean_iou(predicted, truth, num_classes))
            times.append(seconds)
            if examples is not None and method not in examples:
                examples[method] = {"image": image, "truth": truth, "predicted": predicted}
        results[method + suffix] = {"mean_iou": float(np.mean(ious)),
                                    "seconds": float(np.median(times)), "cases": len(ious),
                                    "scene_size": size}
    return results
