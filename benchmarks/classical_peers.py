"""Classical peers of the zoo's models, and the metrics the quality benchmark scores with.

    python benchmarks/classical_peers.py --tune   # sweep NLM h / TV weight on validation photos

What a user would pick instead of a model (OpenCV, scikit-image, `bm3d`; install them
with `pip install -e ".[bench]"`). Images are float32 (H, W, C) in [0, 1], C = 1 or 3;
masks are (H, W) or (H, W, 1) with 1 = hole, 0 = known.

- Inpainting, `fn(image, mask) -> image`: `INPAINTING_PEERS`. Known pixels come back
  exactly (the result is composited like the zoo's inpainters).
- Denoising, `fn(noisy, sigma) -> image`, sigma in 8-bit units (25 = std 25/255):
  `DENOISING_PEERS`. Each peer is told the true sigma, as these tools are used in
  practice (and in their papers); the zoo's blind denoisers are not, which favours the
  peers. The NLM and TV strength rules were chosen on the "natural" validation photos
  only (coffee, camera); see `tune_on_validation`.
- Segmentation of the synthetic "shapes" scenes: `segment_shapes_classical`, mean IoU
  (4 classes, mean of per-scene `mean_iou`) on the first 32 "validation" scenes:
  0.951 at 64 x 64 and 0.980 at 256 x 256, colour (0.938 at 64 x 64, grey); 0.12 and
  0.7 s a scene on a busy 2-core CPU. Thresholds were chosen on "train" scenes.
- `timed`. Scores come from `zoo.metrics` (`image_psnr`, `image_ssim`, `label_mean_iou`),
  the definitions the library's metrics use.
"""

import argparse
import statistics
import time

import cv2
import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from skimage.draw import disk, polygon
from skimage.feature import peak_local_max
from skimage.restoration import denoise_tv_chambolle
from skimage.restoration import inpaint_biharmonic as skimage_inpaint_biharmonic
from skimage.segmentation import watershed

from zoo.metrics import image_psnr

INPAINT_RADIUS = 5  # cv2.inpaint neighbourhood radius in pixels (Telea and Navier-Stokes)

# Strength rules, from `python benchmarks/classical_peers.py --tune` (validation photos
# coffee and camera, centre 256 x 256 crops, sigma 15 / 25 / 50; best mean PSNR over the
# sigmas). NLM "rgb" h = 0.9 sigma: 30.71 / 28.28 / 23.35 dB (best "lab": 0.8 sigma, 28.44 /
# 26.53 / 22.29); TV 0.75 sigma / 255: 31.04 / 28.24 / 23.83 dB.
NLM_H_PER_SIGMA = 0.9  # OpenCV h (and hColor for "lab") = 0.9 * sigma, in 8-bit units
# Colour NLM: "rgb" = cv2.fastNlMeansDenoising on the 3-channel image (one patch distance
# over R, G, B); "lab" = cv2.fastNlMeansDenoisingColored (L and ab denoised apart in 8-bit
# Lab), whose best setting scored 1.7 dB lower (mean over sigmas) in the sweep above.
NLM_COLOUR = "rgb"
NLM_TEMPLATE, NLM_SEARCH = 7, 21  # OpenCV's recommended patch / search window sizes
TV_WEIGHT_PER_SIGMA = 0.75  # denoise_tv_chambolle weight = 0.75 * sigma / 255

# Segmentation thresholds, chosen on "train" scenes. Every shape differs from what it
# covers by >= 0.25 (mean over channels), so half of that separates shape from background.
FOREGROUND_THRESHOLD = 0.125  # mean |image - background fit| above which a pixel is a shape
EDGE_THRESHOLD = 0.1  # neighbours closer than this (mean over channels) join one region
BACKGROUND_DEGREE = 3  # degree of the 2-D polynomial fitted to the background
MIN_REGION_AREA = 6  # smaller regions are noise: left as background
SPLIT_BELOW = 0.8  # regions whose best shape fit is below this are tried split in two+


def _image(image, name="image"):
    image = np.asarray(image, np.float32)
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(f"{name} must be (H, W, C) with C = 1 or 3, got shape {image.shape}")
    return image


def _mask(mask, image):
    """(H, W) bool hole mask from an (H, W) or (H, W, 1) mask matching `image`."""
    mask = np.asarray(mask, np.float32)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.shape != image.shape[:2]:
        raise ValueError(f"mask shape {np.shape(mask)} does not match image shape "
                         f"{image.shape}: expected {image.shape[:2]} or {image.shape[:2] + (1,)}")
    return mask > 0.5


def _uint8(image):
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def _composite(image, filled, hole):
    out = np.where(hole[..., None], np.clip(filled, 0, 1), image)
    return out.astype(np.float32)


# --- inpainting ----------------------------------------------------------------------

def _inpaint_opencv(image, mask, flags):
    image = _image(image)
    hole = _mask(mask, image)
    source = _uint8(image)
    if image.shape[-1] == 1:
        source = source[..., 0]
    filled = cv2.inpaint(source, hole.astype(np.uint8) * 255, INPAINT_RADIUS, flags)
    filled = filled.reshape(image.shape).astype(np.float32) / 255
    return _composite(image, filled, hole)


def inpaint_telea(image, mask):
    """OpenCV Telea (fast marching), radius INPAINT_RADIUS, run on uint8.

    image: (H, W, C) float32 [0, 1], C = 1 or 3; mask: (H, W) or (H, W, 1), 1 (> 0.5) =
    hole. Returns (H, W, C) float32 [0, 1]: the hole filled, known pixels unchanged.
    """
    return _inpaint_opencv(image, mask, cv2.INPAINT_TELEA)


def inpaint_navier_stokes(image, mask):
    """OpenCV Navier-Stokes, radius INPAINT_RADIUS, run on uint8; arguments and result
    as `inpaint_telea`."""
    return _inpaint_opencv(image, mask, cv2.INPAINT_NS)


def inpaint_biharmonic(image, mask):
    """scikit-image biharmonic, in float (colour: one solve per channel); arguments and
    result as `inpaint_telea`. Raises ValueError if the mask has no known pixel."""
    image = _image(image)
    hole = _mask(mask, image)
    if hole.all():
        raise ValueError("the mask has no known pixel to inpaint from")
    if image.shape[-1] == 1:
        filled = skimage_inpaint_biharmonic(image[..., 0], hole)[..., None]
    else:
        filled = skimage_inpaint_biharmonic(image, hole, channel_axis=-1)
    return _composite(image, filled, hole)


INPAINTING_PEERS = {
    "OpenCV Telea": inpaint_telea,
    "OpenCV Navier-Stokes": inpaint_navier_stokes,
    "scikit-image biharmonic": inpaint_biharmonic,
}


# --- denoising -----------------------------------------------------------------------

def _sigma(sigma):
    sigma = float(sigma)
    if not 0 <= sigma <= 255:
        raise ValueError(f"sigma must lie in [0, 255] (8-bit units), got {sigma}")
    return sigma


def _nlm(noisy, h, colour=None):
    source, colour = _uint8(noisy), colour or NLM_COLOUR
    if noisy.shape[-1] == 3 and colour == "lab":
        out = cv2.fastNlMeansDenoisingColored(source, None, h, h, NLM_TEMPLATE, NLM_SEARCH)
    else:  # 8-bit 1- or 3-channel: patch distances over all channels together
        out = cv2.fastNlMeansDenoising(source, None, h, NLM_TEMPLATE, NLM_SEARCH)
    return (out.reshape(noisy.shape) / 255).astype(np.float32)


def denoise_nlm(noisy, sigma):
    """OpenCV non-local means, h = NLM_H_PER_SIGMA * sigma (see NLM_COLOUR for C = 3).

    noisy: (H, W, C) float32 [0, 1]; sigma: noise std in 8-bit units. Runs on uint8.
    Returns (H, W, C) float32 [0, 1].
    """
    return _nlm(_image(noisy, "noisy"), NLM_H_PER_SIGMA * _sigma(sigma))


def _tv(noisy, weight):
    out = denoise_tv_chambolle(noisy, weight=weight, channel_axis=-1)
    return np.clip(out, 0, 1).astype(np.float32)


def denoise_tv(noisy, sigma):
    """scikit-image total variation (Chambolle), weight = TV_WEIGHT_PER_SIGMA * sigma / 255,
    each channel on its own. (H, W, C) float32 [0, 1] -> same."""
    return _tv(_image(noisy, "noisy"), TV_WEIGHT_PER_SIGMA * _sigma(sigma) / 255)


def denoise_bm3d(noisy, sigma):
    """BM3D (`bm3d` package, default profile) with sigma_psd = sigma / 255; colour images
    go through `bm3d.bm3d_rgb` (block matching on luminance, opponent colour space).
    (H, W, C) float32 [0, 1] -> same. Slow: 7.5 s for 256 x 256 colour on one thread
    of an otherwise idle 2-core CPU. The `bm3d` package is free for non-commercial use
    only (its licence), so it is imported here, not at module level."""
    import bm3d

    noisy = _image(noisy, "noisy")
    sigma = _sigma(sigma) / 255
    if sigma == 0:
        return noisy.copy()
    if noisy.shape[-1] == 3:
        out = bm3d.bm3d_rgb(noisy, sigma)
    else:
        out = bm3d.bm3d(noisy[..., 0], sigma)
    return np.clip(out, 0, 1).reshape(noisy.shape).astype(np.float32)


DENOISING_PEERS = {
    "OpenCV NLM": denoise_nlm,
    "scikit-image TV": denoise_tv,
    "BM3D": denoise_bm3d,
}


# --- segmentation of "shapes" scenes -------------------------------------------------

def _background(image):
    """Robust fit of a smooth background: (H, W) mean |image - fit| over channels.

    A 2-D polynomial of degree BACKGROUND_DEGREE per channel, refitted on the pixels
    it explains (residual < FOREGROUND_THRESHOLD), so the shapes stop pulling on it.
    """
    height, width, channels = image.shape
    yy, xx = np.mgrid[0:height, 0:width]
    y, x = ((yy + 0.5) / height * 2 - 1).ravel(), ((xx + 0.5) / width * 2 - 1).ravel()
    terms = np.stack([x**i * y**j for i in range(BACKGROUND_DEGREE + 1)
                      for j in range(BACKGROUND_DEGREE + 1 - i)], axis=1)
    values = image.reshape(-1, channels)
    inliers = np.ones(len(values), bool)
    for step in range(6):
        coefficients = np.linalg.lstsq(terms[inliers], values[inliers], rcond=None)[0]
        residual = np.abs(values - terms @ coefficients).mean(axis=1)
        # the first fit is pulled by the shapes: start with a looser cut
        cut = max(FOREGROUND_THRESHOLD, 3 * np.median(residual)) if step == 0 else None
        inliers = residual < (cut or FOREGROUND_THRESHOLD)
        if inliers.sum() < terms.shape[1]:
            break
    return residual.reshape(height, width)


def _colour_regions(image, foreground):
    """Int labels (H, W), 0 outside `foreground`: 4-connected foreground pixels whose
    colours differ by less than EDGE_THRESHOLD (after a 3 x 3 median) share a region."""
    height, width = foreground.shape
    smooth = ndimage.median_filter(image, size=(3, 3, 1))
    index = np.arange(height * width).reshape(height, width)
    links = []
    for a, b in ((np.s_[:, :-1], np.s_[:, 1:]), (np.s_[:-1, :], np.s_[1:, :])):
        close = np.abs(smooth[a] - smooth[b]).mean(axis=-1) < EDGE_THRESHOLD
        keep = close & foreground[a] & foreground[b]
        links.append((index[a][keep], index[b][keep]))
    rows = np.concatenate([r for r, _ in links])
    cols = np.concatenate([c for _, c in links])
    graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(height * width,) * 2)
    regions = connected_components(graph, directed=False)[1].reshape(height, width) + 1
    regions[~foreground] = 0
    return regions


def _shape_fits(region, allowed):
    """Fraction of the smallest enclosing circle, rectangle and triangle of `region` that
    `allowed` covers: (3,) in [0, 1], near 1 for the region's true class."""
    shape = region.shape
    ys, xs = np.nonzero(region)
    if np.ptp(ys) < 2 or np.ptp(xs) < 2:  # a line or a dot: no shape fits it
        return np.zeros(3)
    hull = cv2.convexHull(np.stack([xs, ys], axis=1).astype(np.float32))
    (cx, cy), radius = cv2.minEnclosingCircle(hull)
    box = cv2.boxPoints(cv2.minAreaRect(hull))
    triangle = cv2.minEnclosingTriangle(hull)[1].reshape(-1, 2)
    fits = []
    for rr, cc in (disk((cy, cx), radius + 0.5, shape=shape),
                   polygon(box[:, 1], box[:, 0], shape),
                   polygon(triangle[:, 1], triangle[:, 0], shape)):
        fits.append(allowed[rr, cc].mean() if len(rr) else 0.0)
    return np.array(fits)


def _split(region):
    """Watershed of the distance transform: `region` cut into its convex-ish lobes."""
    distance = ndimage.distance_transform_edt(region)
    peaks = peak_local_max(distance, min_distance=3, threshold_abs=2,
                           labels=region.astype(int), exclude_border=False)
    if len(peaks) < 2:
        return [region]
    markers = np.zeros(region.shape, int)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    lobes = watershed(-distance, markers, mask=region)
    return [lobes == k for k in range(1, lobes.max() + 1)]


def segment_shapes_classical(image):
    """Classical segmentation of a "shapes" scene (`training.datasets.shapes_scene`).

    image: (H, W, C) float [0, 1]. Returns int32 labels (H, W) by `SHAPE_CLASSES`
    (0 background, 1 circle, 2 rectangle, 3 triangle).

    1. foreground: pixels far from a robust polynomial fit of the background;
    2. regions: foreground pixels joined where neighbouring colours are close (shapes
       are flat-coloured, and differ from what they overlap);
    3. class: each region's smallest enclosing circle, rectangle (any rotation) and
       triangle; the class is the one whose enclosing shape is best covered by the
       region plus the regions touching it (a shape's hidden part lies under the shapes
       that overlap it). Rotation invariant, unlike bounding-box extent. Regions no shape
       fits well (two touching shapes of one colour) are split by a watershed first.
    """
    image = np.asarray(image, np.float32)
    if image.ndim != 3:
        raise ValueError(f"image must be (H, W, C), got shape {image.shape}")
    regions = _colour_regions(image, _background(image) > FOREGROUND_THRESHOLD)
    labels = np.zeros(regions.shape, np.int32)
    for k in np.unique(regions[regions > 0]):
        region = regions == k
        if region.sum() < MIN_REGION_AREA:
            continue
        ring = ndimage.binary_dilation(region, iterations=2) & ~region
        allowed = region | np.isin(regions, np.unique(regions[ring & (regions > 0)]))
        fits = _shape_fits(region, allowed)
        if fits.max() < SPLIT_BELOW:
            lobes = _split(region)
            lobe_fits = [_shape_fits(lobe, allowed) for lobe in lobes]
            if len(lobes) > 1 and np.mean([f.max() for f in lobe_fits]) > fits.max():
                for lobe, f in zip(lobes, lobe_fits, strict=True):
                    labels[lobe] = 1 + f.argmax() if f.max() > 0 else 0
                continue
        labels[region] = 1 + fits.argmax() if fits.max() > 0 else 0
    return labels


# --- timing --------------------------------------------------------------------------

def timed(fn, *args, repeats=3, **kwargs):
    """(result of the last call, median seconds of `repeats` calls of fn(*args, **kwargs))."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        seconds.append(time.perf_counter() - start)
    return result, statistics.median(seconds)


# --- tuning --------------------------------------------------------------------------

def tune_on_validation(sigmas=(15, 25, 50), nlm_factors=(0.6, 0.7, 0.8, 0.9, 1.0, 1.2),
                       tv_factors=(0.5, 0.625, 0.75, 0.875, 1.0, 1.25), crop=256, seed=0):
    """Sweep the NLM colour mode and h / sigma, and the TV weight / (sigma / 255), on the
    "natural" validation photos (centre crop x crop, colour; never the test split).
    Prints mean PSNR per sigma and setting; returns the best setting of each peer by
    the mean over sigmas: {"nlm": (colour, factor), "tv": factor}."""
    from training.datasets import load_images
    from training.degradations import add_gaussian_noise

    clean = []
    for photo in load_images("natural", "validation"):
        top, left = (photo.shape[0] - crop) // 2, (photo.shape[1] - crop) // 2
        clean.append(photo[top:top + crop, left:left + crop])
    rng = np.random.default_rng(seed)
    noisy = {s: [add_gaussian_noise(rng, c, (s, s))[0] for c in clean] for s in sigmas}
    sweeps = {
        "nlm": ([(c, f) for c in ("rgb", "lab") for f in nlm_factors],
                lambda x, s, setting: _nlm(x, setting[1] * s, setting[0])),
        "tv": (tv_factors, lambda x, s, factor: _tv(x, factor * s / 255)),
    }
    best = {}
    for name, (settings, apply) in sweeps.items():
        print(f"{name}: mean PSNR (dB) of {len(clean)} validation crops {crop} x {crop}")
        print(f"{'setting':>12}  " + "  ".join(f"sigma {s:>3}" for s in sigmas) + "     mean")
        means = {}
        for setting in settings:
            row = [np.mean([image_psnr(apply(x, s, setting), c) for x, c in
                            zip(noisy[s], clean, strict=True)]) for s in sigmas]
            means[setting] = np.mean(row)
            print(f"{str(setting):>12}  " + "  ".join(f"{v:9.2f}" for v in row)
                  + f"  {means[setting]:7.2f}", flush=True)
        best[name] = max(means, key=means.get)
    print("best:", best)
    return best


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", action="store_true", help="run tune_on_validation()")
    if parser.parse_args().tune:
        tune_on_validation()
    else:
        parser.print_help()
