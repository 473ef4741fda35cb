"""Quality metrics for generated images: FID, KID, sliced Wasserstein, nearest neighbours.

    python benchmarks/generation_metrics.py     # classifier accuracies, real-vs-real floors
    python benchmarks/generation_metrics.py --out results/generation_floor.json

Every function takes images as float32 (N, H, W, C) in [0, 1] (a list of (H, W, C)
arrays works too) and raises ValueError for another layout, values outside [0, 1],
NaNs, or two sets whose (H, W, C) differ.

- **FID / KID in the feature space of a small classifier trained on the domain**, not
  Inception: nothing can be downloaded here, and Inception features of 32x32 grey
  digits or 64x64 grey texture crops say little anyway. `domain_classifier(domain)`
  trains a four-convolution CNN in well under a minute on two CPU cores: the 10 digit
  classes of scikit-learn's digits ("digits"), or which texture a 64x64 crop comes
  from ("textures": brick / grass / gravel). Its `FEATURE_DIM`-unit dense layer
  (before the ReLU, standardized on real train images) is the feature space. Numbers
  are comparable only between runs with the same classifier (same domain, seed and
  steps), never with published (Inception) FIDs.
- **FID** (Heusel et al. 2017): Frechet distance between Gaussians fitted to two
  feature sets. **KID** (Binkowski et al. 2018): unbiased squared MMD with the cubic
  polynomial kernel, mean and standard deviation over random subsets; unbiased, so it
  is fair for small sample counts where FID is biased upwards.
- **SWD** (Karras et al. 2018): sliced Wasserstein distance between the 7x7 patches of
  two sets, per Laplacian-pyramid level; needs no feature network at all.
- **Nearest neighbours**: how close samples sit to their nearest training image,
  against how close new real images (held out) sit; flags near-copies (memorization).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
from scipy import ndimage  # noqa: E402

from training import datasets  # noqa: E402
from training.degradations import augment, random_crop  # noqa: E402

DOMAINS = ("digits", "textures")
IMAGE_SHAPES = {"digits": (32, 32, 1), "textures": (64, 64, 1)}  # as the DCGAN presets
FEATURE_DIM = 64  # width of the classifier's feature layer
DEFAULT_STEPS = {"digits": 600, "textures": 150}  # classifier training steps (batch 64)
# Adam learning rates. Digits: 1e-3 reached 95% validation accuracy in 600 steps, 3e-3
# 96%; textures: 3e-3 fell to 72% in 150 steps, 1e-3 reaches 98%.
CLASSIFIER_LEARNING_RATES = {"digits": 3e-3, "textures": 1e-3}
TEXTURE_VALIDATION_CROPS = 600  # fixed validation crops: 200 per texture
_VALIDATION_SEED = 1234  # validation crops do not depend on the classifier's seed


# --- input checks ----------------------------------------------------------------

def check_images(images, name="images"):
    """`images` as a float32 array (N, H, W, C) in [0, 1]; ValueError otherwise.

    Accepts an array or a list of (H, W, C) arrays. N >= 1; values must be finite
    and lie in [0, 1] exactly (a sigmoid output does).
    """
    try:
        array = np.asarray(images, dtype=np.float32)
    except ValueError as error:  # a ragged list
        raise ValueError(f"{name}: images of different shapes ({error})") from error
    if array.ndim != 4 or array.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty batch (N, H, W, C), "
                         f"got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got values in [{low:.4g}, {high:.4g}]")
    return array


def _check_same_shape(a, b, names=("images_a", "images_b")):
    """Both sets checked by `check_images`, with the same (H, W, C)."""
    a, b = check_images(a, names[0]), check_images(b, names[1])
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"{names[0]} are {a.shape[1:]} (H, W, C) but {names[1]} are "
                         f"{b.shape[1:]}; compare images of one size")
    return a, b


def _check_features(a, b):
    """Two float64 feature sets (N_a, D), (N_b, D), N >= 2, finite."""
    out = []
    for name, features in (("features_a", a), ("features_b", b)):
        array = np.asarray(features, dtype=np.float64)
        if array.ndim != 2 or array.shape[0] < 2:
            raise ValueError(f"{name} must be (N, D) with N >= 2, got shape {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        out.append(array)
    if out[0].shape[1] != out[1].shape[1]:
        raise ValueError(f"feature sizes differ: {out[0].shape[1]} vs {out[1].shape[1]}")
    return out


# --- labelled domain data ------------------------------------------------------------

def _digits(split):
    """Digits of `split` as load_images gives them (32x32 grey) and their labels."""
    from sklearn.datasets import load_digits

    images = np.stack(datasets.load_images("digits", split, channels=1, image_size=(32, 32)))
    targets = load_digits().target
    # The same permutation training.datasets splits by, so labels line up with images.
    index = datasets._index_split(len(targets), datasets.DIGITS_VALIDATION_FRACTION, split)
    return images, targets[index].astype(np.int32)


def _texture_crops(rng, split, labels, size=64, jitter=False):
    """One crop (size x size x 1) per label from texture `labels[i]` of `split`."""
    sources = datasets.load_images("textures", split, channels=1)
    crops = np.empty((len(labels), size, size, 1), np.float32)
    for i, label in enumerate(labels):
        (crop,) = random_crop(rng, sources[label], size, size)
        if jitter:  # the GAN's augmentation: flips, 90-degree turns, brightness/contrast
            (crop,) = augment(rng, crop)
        crops[i] = crop
    return crops


def labelled_images(domain, split, count=None, seed=0, augment=False):
    """Real images of `domain` with class labels: (float32 (N, H, W, 1) in [0, 1], int32 (N,)).

    "digits": the images of `split` (32x32, as `load_images(..., image_size=(32, 32))`),
    labels 0-9; `count` keeps a seeded random subset. "textures": `count` (default
    `TEXTURE_VALIDATION_CROPS`) random 64x64 crops of `split`, labels 0 brick, 1 grass,
    2 gravel in turn (balanced); `augment` flips / turns / jitters them like the GAN's
    training crops. Deterministic in (domain, split, count, seed).
    """
    datasets.check_split(domain, split)
    rng = np.random.default_rng(seed)
    if domain == "digits":
        images, labels = _digits(split)
        if count is not None:
            keep = np.sort(rng.permutation(len(labels))[:count])
            images, labels = images[keep], labels[keep]
        return images, labels
    if domain == "textures":
        count = TEXTURE_VALIDATION_CROPS if count is None else count
        labels = (np.arange(count) % len(datasets.TEXTURES)).astype(np.int32)
        return _texture_crops(rng, split, labels, jitter=augment), labels
    raise ValueError(f"unknown domain {domain!r}; expected one of {', '.join(DOMAINS)}")


def _training_batch(domain, rng, batch_size, digits):
    """(images, labels) for one classifier step: random train digits, or augmented crops."""
    if domain == "digits":
        index = rng.integers(len(digits[1]), size=batch_size)
        return digits[0][index], digits[1][index]
    labels = rng.integers(len(datasets.TEXTURES), size=batch_size).astype(np.int32)
    return _texture_crops(rng, "train", labels, jitter=True), labels


# --- the domain classifier -----------------------------------------------------------

def build_classifier(image_shape, classes):
    """CNN: (B, H, W, C) in [0, 1] -> class probabilities (B, classes).

    Four 3x3 convolutions (16, 32, 64, 64 filters, the last three stride 2, ReLU),
    global average pooling, a linear dense `features` layer of `FEATURE_DIM` units,
    ReLU, softmax.
    """
    layers = keras.layers
    image = keras.Input(image_shape, name="image")
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv0")(image)
    for level, width in enumerate((32, 64, 64), start=1):
        x = layers.Conv2D(width, 3, strides=2, padding="same", activation="relu",
                          name=f"conv{level}")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    features = layers.Dense(FEATURE_DIM, name="features")(x)
    x = layers.Activation("relu", name="features_relu")(features)
    probabilities = layers.Dense(classes, activation="softmax", name="class")(x)
    return keras.Model(image, probabilities, name="domain_classifier")


def feature_extractor(classifier, mean, variance):
    """The classifier up to its `features` layer, standardized: (B, H, W, C) -> (B, FEATURE_DIM).

    The features are taken before the ReLU (no dead, zero-clipped units, which would
    make the covariance singular) and standardized by `mean` and `variance` (FEATURE_DIM,)
    of the real training images, so every feature has mean 0 and variance 1 on them:
    FID / KID do not depend on the arbitrary scale training gave each unit, and the
    KID kernel (x . y / D + 1)^3 sees values of order 1.
    """
    raw = classifier.get_layer("features").output
    standardized = keras.layers.Normalization(mean=mean, variance=variance,
                                              name="standardize")(raw)
    return keras.Model(classifier.input, standardized, name="domain_features")


def _feature_statistics(classifier, domain):
    """Mean and variance (FEATURE_DIM,) of the raw features of real train images."""
    raw = keras.Model(classifier.input, classifier.get_layer("features").output)
    images, _ = labelled_images(domain, "train", count=None if domain == "digits" else 2000,
                                seed=_VALIDATION_SEED)
    values = raw.predict(images, batch_size=256, verbose=0).astype(np.float64)
    return values.mean(axis=0), values.var(axis=0)


def _train_classifier(domain, classifier, steps, batch_size, seed):
    classifier.compile(optimizer=keras.optimizers.Adam(CLASSIFIER_LEARNING_RATES[domain]),
                       loss="sparse_categorical_crossentropy")
    digits = _digits("train") if domain == "digits" else None
    for step in range(steps):
        rng = np.random.default_rng([seed, step])
        images, labels = _training_batch(domain, rng, batch_size, digits)
        classifier.train_on_batch(images, labels)


def _validation_accuracy(classifier, domain):
    images, labels = labelled_images(domain, "validation", seed=_VALIDATION_SEED)
    predicted = classifier.predict(images, batch_size=256, verbose=0).argmax(-1)
    return float((predicted == labels).mean())


def domain_classifier(domain, seed=0, steps=None, batch_size=64, cache_dir=None):
    """Train the domain classifier; returns `(feature_model, validation_accuracy)`.

    `feature_model` maps float32 (B, *IMAGE_SHAPES[domain]) in [0, 1] to (B, FEATURE_DIM)
    features, standardized to mean 0 and variance 1 on real train images (see
    `feature_extractor`); pass it to `features`. It trains on the "train" split
    only (digits: the 1581 train digits; textures: augmented 64x64 crops of the first
    3/4 rows of each texture) for `steps` Adam steps (default `DEFAULT_STEPS[domain]`)
    of `batch_size`. The accuracy is measured on the "validation" split (the 216
    validation digits, or `TEXTURE_VALIDATION_CROPS` fixed crops of the last 1/4 rows).
    Deterministic in (domain, seed, steps, batch_size) on one machine. `cache_dir`
    (optional) keeps the weights and accuracy, so a second call loads instead of training.
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; expected one of {', '.join(DOMAINS)}")
    steps = DEFAULT_STEPS[domain] if steps is None else int(steps)
    keras.utils.set_random_seed(seed)
    classes = 10 if domain == "digits" else len(datasets.TEXTURES)
    classifier = build_classifier(IMAGE_SHAPES[domain], classes)
    cached = None
    if cache_dir is not None:
        cached = Path(cache_dir) / f"classifier-{domain}-seed{seed}-steps{steps}-b{batch_size}"
        if cached.with_suffix(".json").exists():
            classifier.load_weights(cached.with_suffix(".weights.h5"))
            stored = json.loads(cached.with_suffix(".json").read_text())
            return (feature_extractor(classifier, stored["mean"], stored["variance"]),
                    stored["accuracy"])
    _train_classifier(domain, classifier, steps, batch_size, seed)
    accuracy = _validation_accuracy(classifier, domain)
    mean, variance = _feature_statistics(classifier, domain)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        classifier.save_weights(cached.with_suffix(".weights.h5"))
        stored = {"accuracy": accuracy, "mean": mean.tolist(), "variance": variance.tolist()}
        cached.with_suffix(".json").write_text(json.dumps(stored) + "\n")
    return feature_extractor(classifier, mean, variance), accuracy


def features(feature_model, images, batch_size=256):
    """Features of `images` (N, H, W, C) in [0, 1]: float64 (N, FEATURE_DIM)."""
    images = check_images(images)
    expected = tuple(feature_model.input_shape[1:])
    if images.shape[1:] != expected:
        raise ValueError(f"the feature model takes {expected} images, got {images.shape[1:]}")
    return feature_model.predict(images, batch_size=batch_size, verbose=0).astype(np.float64)


# --- FID and KID -----------------------------------------------------------------------

def _trace_sqrt_product(cov_a, cov_b):
    """trace(sqrtm(cov_a @ cov_b)) for covariance matrices (D, D).

    The product of two positive semi-definite matrices has real, non-negative
    eigenvalues, so any imaginary part of `sqrtm` is rounding noise and is dropped.
    A singular product (fewer samples than dimensions) can make `sqrtm` fail; then
    both diagonals get a tiny offset.
    """
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():
        offset = 1e-6 * np.eye(len(cov_a))
        root = scipy.linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    return float(np.real(np.trace(root)))


def fid(features_a, features_b):
    """Frechet distance between Gaussians fitted to two feature sets (N_a, D), (N_b, D).

    |mu_a - mu_b|^2 + tr(C_a) + tr(C_b) - 2 tr(sqrt(C_a C_b)): a float >= 0 (0 for
    identical sets; rounding below 0 is clipped). Biased upwards for small N: compare
    only FIDs computed from equal sample counts.
    """
    a, b = _check_features(features_a, features_b)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    distance = (np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
                - 2.0 * _trace_sqrt_product(cov_a, cov_b))
    return float(max(distance, 0.0))


def _polynomial_kernel(x, y):
    """k(x, y) = (x . y / D + 1)^3 for rows of x (M, D) and y (K, D): (M, K)."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd2_unbiased(x, y):
    """Unbiased squared MMD between two samples (M, D) of equal size M >= 2."""
    m = len(x)
    k_xx, k_yy, k_xy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return within - 2.0 * k_xy.mean()


def kid(features_a, features_b, subsets=100, subset_size=1000, seed=0):
    """Kernel Inception Distance of two feature sets (N_a, D), (N_b, D): `(mean, std)`.

    For each of `subsets` subsets, `min(subset_size, N_a, N_b)` rows are drawn without
    replacement from each set, and the unbiased squared MMD with the kernel
    (x . y / D + 1)^3 is computed; returns its mean and standard deviation over the
    subsets (floats; the mean can be slightly negative for equal distributions).
    """
    a, b = _check_features(features_a, features_b)
    if subsets < 1:
        raise ValueError(f"subsets must be >= 1, got {subsets}")
    size = min(int(subset_size), len(a), len(b))
    if size < 2:
        raise ValueError(f"subset_size must be >= 2, got {subset_size}")
    rng = np.random.default_rng(seed)
    values = [_mmd2_unbiased(a[rng.choice(len(a), size, replace=False)],
                             b[rng.choice(len(b), size, replace=False)])
              for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))


# --- sliced Wasserstein distance on Laplacian pyramid patches ------------------------------

_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0  # Burt & Adelson's 5-tap low-pass


def _blur(images):
    """Separable 5-tap binomial blur of (N, H, W, C) over H and W (mirrored edges)."""
    blurred = ndimage.convolve1d(images, _BINOMIAL, axis=1, mode="reflect")
    return ndimage.convolve1d(blurred, _BINOMIAL, axis=2, mode="reflect")


def _upsample(images, height, width):
    """2x up-sampling by zero insertion and blur (x4 keeps the mean): (N, height, width, C)."""
    n, h, w, c = images.shape
    spread = np.zeros((n, 2 * h, 2 * w, c), images.dtype)
    spread[:, ::2, ::2] = images
    return 4.0 * _blur(spread)[:, :height, :width]


def laplacian_pyramid(images, min_size=16):
    """Laplacian pyramid of (N, H, W, C) images, finest level first.

    Each level but the last holds the band-pass detail `G_l - up(G_{l+1})` of the
    Gaussian pyramid `G_{l+1} = blur(G_l)[::2, ::2]`; the last level is the low-pass
    image of side >= `min_size` (halving stops before a side drops below it).
    Returns a list of float32 arrays (N, H_l, W_l, C); values are not in [0, 1].
    """
    current = np.asarray(images, np.float32)
    levels = []
    while min(current.shape[1:3]) // 2 >= min_size:
        smaller = _blur(current)[:, ::2, ::2]
        levels.append(current - _upsample(smaller, *current.shape[1:3]))
        current = smaller
    levels.append(current)
    return levels


def _patch_grid(level, image_index, top, left, size):
    """Patches (P, size, size, C) of `level` (N, H, W, C) at the given corners."""
    offsets = np.arange(size)
    rows = (top[:, None] + offsets)[:, :, None]
    cols = (left[:, None] + offsets)[:, None, :]
    return level[image_index[:, None, None], rows, cols]


def _level_descriptors(level_a, level_b, rng, count, size):
    """`count` random patches per set as rows (count, size*size*C), both normalized per
    channel by the mean and std of the two sets' patches together.

    The two sets share the random draws (corner and the position of the image in its
    set), so identical sets give identical descriptors.
    """
    height, width = level_a.shape[1:3]
    share = rng.random(count)
    top = rng.integers(0, height - size + 1, count)
    left = rng.integers(0, width - size + 1, count)
    patches = [_patch_grid(level, (share * len(level)).astype(np.int64), top, left, size)
               for level in (level_a, level_b)]
    both = np.concatenate(patches)
    mean = both.mean(axis=(0, 1, 2))
    std = both.std(axis=(0, 1, 2))
    std = np.where(std > 0, std, 1.0)
    return [((p - mean) / std).reshape(count, -1) for p in patches]


def _sliced_distance(desc_a, desc_b, rng, directions, repeats):
    """Mean |sorted projection difference| over `repeats` x `directions` unit directions."""
    values = []
    for _ in range(repeats):
        basis = rng.standard_normal((desc_a.shape[1], directions))
        basis /= np.linalg.norm(basis, axis=0, keepdims=True)
        projected_a = np.sort(desc_a @ basis, axis=0)
        projected_b = np.sort(desc_b @ basis, axis=0)
        values.append(np.abs(projected_a - projected_b).mean())
    return float(np.mean(values))


def sliced_wasserstein(images_a, images_b, patches=16384, patch_size=7, directions=128,
                       repeats=4, min_size=16, seed=0):
    """Sliced Wasserstein distance between the local patches of two image sets.

    Karras et al. 2018 (progressive GAN): per Laplacian-pyramid level (`laplacian_pyramid`,
    finest first, down to `min_size`), `patches` random `patch_size` squares are drawn
    from each set, normalized per channel, projected on `directions` random unit
    directions (`repeats` times); the distance is the mean absolute difference of the
    sorted projections (the 1-D Wasserstein-1 distance), averaged over the directions.
    One difference: both sets are normalized with the statistics of their patches
    together, not each with its own, so a shift of brightness or contrast counts.
    Values are raw (the paper prints x 1e3); 0 for identical sets, larger = further.

    images_a, images_b: (N_a, H, W, C), (N_b, H, W, C) in [0, 1]; H, W >= patch_size.
    Returns {"resolutions": [[H_l, W_l], ...], "per_level": [float, ...], "mean": float}.
    Deterministic in `seed`.
    """
    a, b = _check_same_shape(images_a, images_b)
    if min(a.shape[1:3]) < patch_size:
        raise ValueError(f"images of {a.shape[1:3]} are smaller than patch_size={patch_size}")
    rng = np.random.default_rng(seed)
    levels_a = laplacian_pyramid(a, max(min_size, patch_size))
    levels_b = laplacian_pyramid(b, max(min_size, patch_size))
    distances = []
    for level_a, level_b in zip(levels_a, levels_b, strict=True):
        desc_a, desc_b = _level_descriptors(level_a, level_b, rng, patches, patch_size)
        distances.append(_sliced_distance(desc_a, desc_b, rng, directions, repeats))
    return {"resolutions": [list(level.shape[1:3]) for level in levels_a],
            "per_level": distances, "mean": float(np.mean(distances))}


# --- nearest neighbours (memorization check) ------------------------------------------------

def _nearest_rows(queries, bank, chunk=512):
    """For each row of `queries` (N, D) the RMS distance to its nearest row of `bank` (M, D)
    and that row's index: (float64 (N,), int64 (N,))."""
    bank = np.asarray(bank, np.float64)
    bank_norms = (bank**2).sum(axis=1)
    distances, indices = [], []
    for start in range(0, len(queries), chunk):
        block = np.asarray(queries[start:start + chunk], np.float64)
        squared = (block**2).sum(axis=1)[:, None] + bank_norms[None] - 2.0 * block @ bank.T
        nearest = squared.argmin(axis=1)
        indices.append(nearest)
        distances.append(np.sqrt(np.maximum(squared[np.arange(len(block)), nearest], 0.0)))
    scale = np.sqrt(queries.shape[1])
    return np.concatenate(distances) / scale, np.concatenate(indices)


def nearest_training(images, training_images):
    """Nearest training image of each image, in pixel space.

    images (N, H, W, C), training_images (M, H, W, C), both in [0, 1]. Returns
    (distances float64 (N,), indices int64 (N,)): the root-mean-square pixel
    difference (the L2 distance / sqrt(H*W*C), in [0, 1]) to the nearest training
    image and its index in `training_images`.
    """
    images, training = _check_same_shape(images, training_images,
                                         ("images", "training_images"))
    return _nearest_rows(images.reshape(len(images), -1), training.reshape(len(training), -1))


def _copy_statistics(samples, training, heldout, percentile):
    """Nearest-neighbour summary for row vectors: samples (N, D), training, heldout."""
    sample_distances, _ = _nearest_rows(samples, training)
    heldout_distances, _ = _nearest_rows(heldout, training)
    threshold = float(np.percentile(heldout_distances, percentile))
    median_sample = float(np.median(sample_distances))
    median_heldout = float(np.median(heldout_distances))
    near = int((sample_distances <= threshold).sum())
    return {"median_sample_to_train": median_sample,
            "median_heldout_to_train": median_heldout,
            "ratio": median_sample / median_heldout if median_heldout > 0 else float("inf"),
            "near_copy_threshold": threshold, "near_copies": near,
            "near_copy_fraction": near / len(samples)}


def nearest_neighbour_check(samples, training_images, heldout_images, feature_model=None,
                            percentile=1.0):
    """Do generated samples copy training images? Compared against held-out real images.

    samples (N, H, W, C), training_images (M, H, W, C), heldout_images (K, H, W, C): all
    in [0, 1]; held-out images must not be in the training set (a validation split).
    For each sample and each held-out image: the RMS pixel distance to its nearest
    training image (`nearest_training`). Returns a dict of floats / ints:

    - median_sample_to_train, median_heldout_to_train: the medians of those distances;
    - ratio: their quotient; well below 1 means the samples sit closer to the training
      images than new real images do (memorization), above 1 further (or worse quality);
    - near_copy_threshold: the `percentile`-th percentile of held-out distances;
    - near_copies, near_copy_fraction: samples at or below it (a new real image falls
      there with probability `percentile` %).

    With a `feature_model` (from `domain_classifier`), the same keys prefixed
    `feature_` are added, measured in its feature space (RMS over the features).
    """
    samples, training = _check_same_shape(samples, training_images,
                                          ("samples", "training_images"))
    _, heldout = _check_same_shape(samples, heldout_images, ("samples", "heldout_images"))
    if not 0 < percentile < 100:
        raise ValueError(f"percentile must lie in (0, 100), got {percentile}")
    sets = [s.reshape(len(s), -1) for s in (samples, training, heldout)]
    result = _copy_statistics(*sets, percentile)
    if feature_model is not None:
        vectors = [features(feature_model, s) for s in (samples, training, heldout)]
        stats = _copy_statistics(*vectors, percentile)
        result.update({f"feature_{key}": value for key, value in stats.items()})
    return result


# --- measuring the floors ----------------------------------------------------------------------

def real_floor(domain, feature_model, count=None, seed=0):
    """FID, KID and SWD of real validation images against real train images ("real vs real").

    "digits": all 216 validation digits against all 1581 train digits (`count` ignored).
    "textures": `count` (default 1000) validation crops against as many train crops.
    A generator cannot be expected to beat these numbers at the same sample counts.
    """
    if domain == "digits":
        valid, _ = labelled_images("digits", "validation")
        train, _ = labelled_images("digits", "train")
    else:
        count = 1000 if count is None else count
        valid, _ = labelled_images("textures", "validation", count, seed=seed)
        train, _ = labelled_images("textures", "train", count, seed=seed + 1)
    fa, fb = features(feature_model, valid), features(feature_model, train)
    # Subsets of half the smaller set, so the subsets differ and the std means something.
    kid_mean, kid_std = kid(fa, fb, subset_size=min(len(fa), len(fb)) // 2, seed=seed)
    return {"validation_images": len(valid), "train_images": len(train), "fid": fid(fa, fb),
            "kid_mean": kid_mean, "kid_std": kid_std,
            "swd": sliced_wasserstein(valid, train, seed=seed)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--domains", default=",".join(DOMAINS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    results = {}
    for domain in args.domains.split(","):
        started = time.perf_counter()
        model, accuracy = domain_classifier(domain, seed=args.seed)
        trained = time.perf_counter() - started
        floor = real_floor(domain, model, seed=args.seed)
        results[domain] = {"classifier_steps": DEFAULT_STEPS[domain],
                           "classifier_validation_accuracy": accuracy,
                           "classifier_train_seconds": round(trained, 1),
                           "real_vs_real": floor}
        print(f"{domain}: accuracy {accuracy:.4f} ({trained:.0f} s), real-vs-real FID "
              f"{floor['fid']:.4f}, KID {floor['kid_mean']:.5f} +- {floor['kid_std']:.5f}, "
              f"SWD {floor['swd']['mean']:.4f}", flush=True)
    if args.out:
        from zoo_lite.image_io import write_json

        write_json({"command": " ".join(sys.argv), "results": results}, args.out)


if __name__ == "__main__":
    main()
