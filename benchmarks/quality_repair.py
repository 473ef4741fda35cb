"""Repair presets next to the classical peers, on images no preset was trained on.

Inpainting and denoising use the test split of the `photos` corpus (`zoo data fetch
photos`): CROPS_PER_PHOTO crops of 256 x 256 from every test photo, at positions drawn
from CROP_SEED, each fully inside its photo. Masks (MASK_SEED) and noise (NOISE_SEED)
come from fixed seeds too, so every run scores the same inputs. BM3D takes seconds a
crop: it runs on the first crop of each photo only (`bm3d_subset`), and every other
denoiser is also reported on that subset, so the comparison is like for like.
Segmentation uses shapes scenes of the test split.

The repair presets are whichever shipped presets have task "inpaint" or "denoise".
"""

import hashlib

import classical_peers as peers
import numpy as np

from training.datasets import NATURAL_PHOTOS, load_images, shapes_scenes
from training.degradations import add_gaussian_noise
from training.images import center_square
from training.masks import random_mask
from training.photo_corpus import CorpusError, default_root
from training.photo_data import photo_arrays, photo_names
from zoo.metrics import image_psnr, image_ssim, label_mean_iou
from zoo.presets import metadata, preset_names

PHOTO_SPLIT = "test"         # of the `photos` corpus
CROPS_PER_PHOTO = 3
CROP_SEED = 2026             # crop positions: np.random.default_rng([CROP_SEED, photo index])
MASK_SEED = 2026             # strokes: default_rng([MASK_SEED, crop index, kind index, i])
NOISE_SEED = 2026            # noise: default_rng([NOISE_SEED, crop index, sigma])
MAX_CROP_OVERLAP = 0.25      # of a crop's area, with an earlier crop of the same photo
STROKE_KINDS = ("thin", "medium", "thick")
STROKE_AREA = (0.08, 0.16)   # fraction of the crop hidden by strokes
MASKS_PER_KIND = 1           # per crop
SIGMAS = (15, 25, 50)        # 8-bit units
BM3D = "BM3D"
SEGMENT_PRESET = "unet-segment-shapes"
SEGMENT_SCENES = 16
# The segmenter is trained on 64 x 64 scenes, and a scene's shapes scale with its size:
# it is scored at its own scale, and at 256 x 256 to show what happens off that scale.
SEGMENT_SIZE = 64
CLASSICAL_SEGMENTER = "classical threshold + shape rules"


def told_name(name):
    """The method name of a denoiser given the true sigma (its blind run is `name`)."""
    return f"{name} (sigma given)"


def presets_for(task):
    """The shipped presets of `task` ("inpaint", "denoise"), sorted by name."""
    return [name for name in preset_names() if metadata(name)["task"] == task]


# --- test crops of the photos corpus -------------------------------------------------

def _overlap(a, b, size):
    """Fraction of a size x size crop's area that crops with corners a and b share."""
    rows = max(0, size - abs(a[0] - b[0]))
    cols = max(0, size - abs(a[1] - b[1]))
    return rows * cols / size**2


def crop_corners(shape, size, count, rng, tries=100):
    """`count` (top, left) corners of size x size crops fully inside an image of `shape`,
    drawn uniformly from `rng`. Each crop shares at most MAX_CROP_OVERLAP of its area with
    an earlier one where `tries` draws find such a place, else the least it found."""
    height, width = shape[:2]
    if min(height, width) < size:
        raise ValueError(f"a {width} x {height} photo is smaller than a {size} px crop")
    corners = []
    for _ in range(count):
        best, best_overlap = None, 2.0
        for _ in range(tries):
            corner = (int(rng.integers(height - size + 1)), int(rng.integers(width - size + 1)))
            overlap = max((_overlap(corner, c, size) for c in corners), default=0.0)
            if overlap < best_overlap:
                best, best_overlap = corner, overlap
            if overlap <= MAX_CROP_OVERLAP:
                break
        corners.append(best)
    return corners


def photo_crops(root=None, size=256, per_photo=CROPS_PER_PHOTO, seed=CROP_SEED,
               split=PHOTO_SPLIT):
    """(crops, info): crops is [(name "PHOTO#k", (size, size, 3) float32 [0, 1])], photo
    by photo in name order; info describes them for the results (split, photos, corners,
    seed, sha256 of the uint8 crops). Raises CorpusError when the corpus is not in `root`
    (default: the corpus' default folder)."""
    root = root or default_root()
    names, photos = photo_names(split, root), photo_arrays(split, root)
    crops, corners, digest = [], [], hashlib.sha256()
    for p, (name, photo) in enumerate(zip(names, photos, strict=True)):
        rng = np.random.default_rng([seed, p])
        for k, (top, left) in enumerate(crop_corners(photo.shape, size, per_photo, rng)):
            crop = np.ascontiguousarray(photo[top:top + size, left:left + size])
            digest.update(crop.tobytes())
            crops.append((f"{name}#{k}", crop.astype(np.float32) / 255))
            corners.append([name, top, left])
    info = {"dataset": "photos", "split": split, "photos": len(names),
            "photo_names": names, "crops": len(crops), "crops_per_photo": per_photo,
            "crop_size": size, "crop_seed": seed, "crop_corners": corners,
            "crops_sha256": digest.hexdigest()}
    return crops, info


def bm3d_subset(crop_count, per_photo=CROPS_PER_PHOTO):
    """Indices of the crops BM3D runs on: the first crop of each photo."""
    return list(range(0, crop_count, per_photo))


def check_corpus(root=None, split=PHOTO_SPLIT):
    """None if the corpus has photos of `split` in `root`, else the one-line reason."""
    try:
        photo_names(split, root or default_root())
    except CorpusError as error:
        return str(error)
    return None


# --- masks ---------------------------------------------------------------------------

def centre_box(size):
    """(size, size, 1) float32: the centre square of half the side (a quarter of the area)."""
    box = np.zeros((size, size, 1), np.float32)
    box[size // 4:3 * size // 4, size // 4:3 * size // 4] = 1
    return box


def mask_cases(names, size, masks_per_kind=MASKS_PER_KIND, seed=MASK_SEED):
    """[(name, mask kind, mask (size, size, 1))]: for each of `names` (index i), strokes of
    each width from default_rng([seed, i, kind index, draw]), then the centre box."""
    cases = []
    for p, name in enumerate(names):
        for k, kind in enumerate(STROKE_KINDS):
            for i in range(masks_per_kind):
                rng = np.random.default_rng([seed, p, k, i])
                cases.append((name, f"strokes-{kind}",
                              random_mask(rng, size, size, kind, STROKE_AREA)))
        cases.append((name, "box", centre_box(size)))
    return cases


def split_photos(size, split="test"):
    """{name: (size, size, 3) float32 [0, 1]}: the natural photos of `split`, centre squares
    (benchmarks/hole_fill.py scores the validation ones)."""
    photos = load_images("natural", split)
    return {name: center_square(photo, size)
            for name, photo in zip(NATURAL_PHOTOS[split], photos, strict=True)}


def inpainting_cases(size, masks_per_kind=2, split="test", seed=2026):
    """`mask_cases` for the natural photos of `split` (benchmarks/hole_fill.py's cases)."""
    return mask_cases(NATURAL_PHOTOS[split], size, masks_per_kind, seed)


# --- scoring -------------------------------------------------------------------------

def _score(method_scores, method, group, output, clean, mask, seconds):
    entry = method_scores.setdefault(method, {}).setdefault(
        group, {"psnr": [], "ssim": [], "seconds": []})
    entry["psnr"].append(image_psnr(output, clean, mask))
    entry["ssim"].append(image_ssim(output, clean, mask))
    entry["seconds"].append(seconds)


def _summarize(method_scores):
    return {method: {group: {"psnr": float(np.mean(v["psnr"])), "ssim": float(np.mean(v["ssim"])),
                             "seconds": float(np.median(v["seconds"])), "cases": len(v["psnr"])}
                     for group, v in groups.items()}
            for method, groups in method_scores.items()}


def example_crops(subset, count=3):
    """Indices of the crops the figures show: `count` spread over `subset` (BM3D's crops,
    so the denoising figures have every method)."""
    subset = list(subset)
    return subset[::max(1, len(subset) // count)][:count]


def fill_alone_name(preset):
    return f"{preset} fill alone"


def in_graph_fills(models):
    """{preset name: fill(image (H, W, 3), mask (H, W, 1)) -> (H, W, 3) in [0, 1]} for the
    presets whose network corrects an in-graph `DiffusionFill`: that fill on its own, so
    the tables show what the network adds to it. H and W must be multiples of the
    preset's size factor (the crops are)."""
    fills = {}
    for name, model in models.items():
        try:
            layer = model.get_layer("diffusion_fill")
        except ValueError:
            continue
        fills[name] = lambda image, mask, layer=layer: np.asarray(
            layer(image[None].astype(np.float32), mask[None].astype(np.float32)))[0]
    return fills


def evaluate_inpainting(models, crops, masks_per_kind=MASKS_PER_KIND, examples=None,
                        shown=()):
    """Masked PSNR / SSIM per method and mask group ("strokes" = all widths, then each
    width alone as "strokes-thin", "strokes-medium", "strokes-thick", and "box"), over
    every crop. `models`: {preset name: loaded model}; `crops`: `photo_crops`' list.
    `examples` (a dict) collects, per group, a list of figure rows: the box on each crop
    in `shown`, strokes of the i-th width on the i-th (cycling) crop in `shown`."""
    from zoo.inference import apply_to_image

    images = dict(crops)
    index = {name: c for c, (name, _) in enumerate(crops)}
    shown = list(shown)
    fills = in_graph_fills(models)
    scores = {}
    for crop_name, kind, mask in mask_cases(list(images), len(crops[0][1]), masks_per_kind):
        clean = images[crop_name]
        masked = clean * (1 - mask)
        group = "box" if kind == "box" else "strokes"
        groups = (group,) if kind == "box" else (group, kind)
        outputs = {}
        for method, fn in peers.INPAINTING_PEERS.items():
            outputs[method], seconds = peers.timed(fn, masked, mask, repeats=1)
            for scored in groups:
                _score(scores, method, scored, outputs[method], clean, mask, seconds)
        for name, model in models.items():
            outputs[name], seconds = peers.timed(apply_to_image, model, masked, mask,
                                                 repeats=1)
            for scored in groups:
                _score(scores, name, scored, outputs[name], clean, mask, seconds)
        for name, fill in fills.items():  # scored, not drawn
            filled, seconds = peers.timed(fill, masked, mask, repeats=1)
            for scored in groups:
                _score(scores, fill_alone_name(name), scored, filled, clean, mask, seconds)
        if examples is not None and shown:
            c = index[crop_name]
            if group == "box":
                wanted = c in shown
            else:
                k = STROKE_KINDS.index(kind.removeprefix("strokes-"))
                wanted = c == shown[k % len(shown)]
            rows = examples.setdefault(group, [])
            if wanted and all(row["crop"] != crop_name for row in rows):
                rows.append({"input": masked, "clean": clean, "outputs": outputs,
                             "crop": crop_name, "kind": kind})
    return _summarize(scores)


def evaluate_denoising(models, crops, sigmas=SIGMAS, subset=(), examples=None, shown=()):
    """PSNR / SSIM per method and sigma, peers told the true sigma. `models`: {preset
    name: loaded model}; `crops`: `photo_crops`' list; BM3D runs on the crops whose
    indices are in `subset` only. Returns (every method but BM3D on every crop, every
    method on `subset`): the subset reuses the same outputs, no method runs twice.
    `examples` (a dict) collects, per sigma, a figure row for each crop in `shown`."""
    from zoo.inference import apply_to_image, takes_noise_level

    subset = set(subset)
    every, on_subset = {}, {}
    for c, (crop_name, clean) in enumerate(crops):
        for sigma in sigmas:
            rng = np.random.default_rng([NOISE_SEED, c, sigma])
            noisy = add_gaussian_noise(rng, clean, (sigma, sigma))[0]
            group = f"sigma-{sigma}"
            methods = {**peers.DENOISING_PEERS}
            if c not in subset:
                del methods[BM3D]
            outputs = {}
            for method, fn in methods.items():
                outputs[method], seconds = peers.timed(fn, noisy, sigma, repeats=1)
                if method != BM3D:
                    _score(every, method, group, outputs[method], clean, None, seconds)
                if c in subset:
                    _score(on_subset, method, group, outputs[method], clean, None, seconds)
            for name, model in models.items():
                runs = {name: {}}
                if takes_noise_level(model):  # blind, and told the true strength
                    runs[told_name(name)] = {"sigma": sigma}
                for method, told in runs.items():
                    output, seconds = peers.timed(apply_to_image, model, noisy, repeats=1,
                                                  **told)
                    _score(every, method, group, output, clean, None, seconds)
                    if c in subset:
                        _score(on_subset, method, group, output, clean, None, seconds)
                    if method == name:  # the figures show the blind run
                        outputs[name] = output
            if examples is not None and c in shown:
                examples.setdefault(group, []).append(
                    {"input": noisy, "clean": clean, "outputs": outputs, "crop": crop_name,
                     "kind": group})
    return _summarize(every), _summarize(on_subset)


def masked_psnr_per_case(fill, cases, images):
    """[masked PSNR] of `fill(masked image, mask) -> image` on each of `mask_cases`'
    `cases` of `images` ({name: clean image}), in the cases' order."""
    return [image_psnr(fill(images[name] * (1 - mask), mask), images[name], mask)
            for name, _, mask in cases]


def group_means(cases, values, keep=None):
    """{group: mean of `values`} over `cases` (one value per case), grouped as
    `evaluate_inpainting` groups them: "strokes" (every width), each width, "box".
    `keep`: one bool per case, the cases to count (default all)."""
    groups = {}
    for index, (_, kind, _) in enumerate(cases):
        if keep is None or keep[index]:
            for group in ("box",) if kind == "box" else ("strokes", kind):
                groups.setdefault(group, []).append(values[index])
    return {group: float(np.mean(scores)) for group, scores in groups.items()}


def masked_psnr_by_group(fill, cases, images):
    """{group: mean masked PSNR} of `fill` over `cases` (`masked_psnr_per_case`), grouped
    as `evaluate_inpainting` groups them: "strokes" (every width), each width, "box"."""
    return group_means(cases, masked_psnr_per_case(fill, cases, images))


def int8_inpainting_psnr(run, crops, masks_per_kind=MASKS_PER_KIND):
    """`masked_psnr_by_group` of `run` (an int8 file) on `evaluate_inpainting`'s cases."""
    images = dict(crops)
    return masked_psnr_by_group(
        run, mask_cases(list(images), len(crops[0][1]), masks_per_kind), images)


def int8_denoising_psnr(run, crops, sigma):
    """{"sigma-S": mean PSNR} of `run(noisy image, sigma in 8-bit units) -> image` (an int8
    file told the true strength) on `evaluate_denoising`'s noisy crops at `sigma`."""
    scores = []
    for c, (_, clean) in enumerate(crops):
        rng = np.random.default_rng([NOISE_SEED, c, sigma])
        noisy = add_gaussian_noise(rng, clean, (sigma, sigma))[0]
        scores.append(image_psnr(run(noisy, sigma), clean))
    return {f"sigma-{sigma}": float(np.mean(scores))}


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
            ious.append(label_mean_iou(predicted, truth, num_classes))
            times.append(seconds)
            if examples is not None and method not in examples:
                examples[method] = {"image": image, "truth": truth, "predicted": predicted}
        results[method + suffix] = {"mean_iou": float(np.mean(ious)),
                                    "seconds": float(np.median(times)), "cases": len(ious),
                                    "scene_size": size}
    return results
