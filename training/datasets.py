"""Built-in datasets: offline, deterministic, with splits that never share a source.

All images are float32 (H, W, C) in [0, 1]. Offline sources ship with installed
packages (scikit-image's bundled images, scikit-learn's sample images and digits);
nothing here downloads, except the two explicitly online adapters at the end
(`keras_dataset_images`, `tfds_images`). No TensorFlow / Keras import at module
level: this data path also runs under KERAS_BACKEND=jax without TensorFlow.

Datasets (`DATASETS`) and how their splits are kept apart:

- "natural": whole photos, split by source photo (see `NATURAL_PHOTOS`).
- "photos": the corpus of real photographs built by `zoo data fetch photos`,
  split by whole source package (see `training.photo_corpus`).
- "textures": brick, grass, gravel (512 x 512 grey). Too few sources to hold one
  out, so each texture is split by rows: the first 3/4 of rows are "train", the
  last 1/4 "validation". Crops taken inside one part never touch the other.
- "digits": scikit-learn's 1797 8 x 8 digits (bright strokes on black), split
  by sample with a fixed permutation (12% validation).
- "faces": the 100 faces of `skimage.data.lfw_subset()` (25 x 25 grey; its
  other 100 images are non-faces and are not used), split by sample (15%
  validation).
- "shapes": procedural scenes with per-pixel labels, see `shapes_scenes`.
"""

import functools

import numpy as np

from training.images import resize, to_channels, to_float_image

DATASETS = ("natural", "photos", "textures", "digits", "faces", "shapes")
SPLITS = {
    "natural": ("train", "validation", "test"),
    "photos": ("train", "validation", "test"),
    "textures": ("train", "validation"),
    "digits": ("train", "validation"),
    "faces": ("train", "validation"),
    "shapes": ("train", "validation", "test"),
}

# Source photos of "natural" per split. "test" is reserved for the quality
# benchmark: never train or select models on it. astronaut (the standard
# scikit-image demo photo, so results compare with its examples) and flower
# (fine colour detail) are held out for it; coffee (colour, indoor) and camera
# (grey, outdoor) for validation. "motorcycle" is the left view of
# `stereo_motorcycle`; its near-identical right view is not used at all.
# (`skimage.data.cat` is the same photo as `chelsea`, so only `chelsea` is used.)
NATURAL_PHOTOS = {
    "train": ("chelsea", "rocket", "motorcycle", "china", "coins", "moon"),
    "validation": ("coffee", "camera"),
    "test": ("astronaut", "flower"),
}
TEXTURES = ("brick", "grass", "gravel")
TEXTURE_VALIDATION_FRACTION = 0.25
DIGITS_VALIDATION_FRACTION = 0.12
FACES_VALIDATION_FRACTION = 0.15
_SPLIT_SEED = 20261101  # fixed: the digits / faces splits must never change


def _photo(name):
    import skimage.data

    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    if name == "motorcycle":
        return skimage.data.stereo_motorcycle()[0]
    return getattr(skimage.data, name)()


def _index_split(count, validation_fraction, split):
    order = np.random.default_rng(_SPLIT_SEED).permutation(count)
    n_val = max(1, round(count * validation_fraction))
    return np.sort(order[:n_val] if split == "validation" else order[n_val:])


@functools.cache
def _sources(name, split):
    """Tuple of read-only float32 (H, W, C) arrays at their native channel count."""
    if name == "natural":
        images = [to_float_image(_photo(photo)) for photo in NATURAL_PHOTOS[split]]
    elif name == "photos":
        from training.photo_data import photo_arrays

        images = [to_float_image(photo) for photo in photo_arrays(split)]
    elif name == "textures":
        import skimage.data

        images = []
        for texture in TEXTURES:
            image = to_float_image(getattr(skimage.data, texture)())
            cut = image.shape[0] - round(image.shape[0] * TEXTURE_VALIDATION_FRACTION)
            images.append(image[cut:] if split == "validation" else image[:cut])
    elif name == "digits":
        from sklearn.datasets import load_digits

        digits = to_float_image(load_digits().images[..., None] / 16.0)
        images = list(digits[_index_split(len(digits), DIGITS_VALIDATION_FRACTION, split)])
    else:  # faces
        import skimage.data

        faces = to_float_image(skimage.data.lfw_subset()[:100, :, :, None])
        images = list(faces[_index_split(len(faces), FACES_VALIDATION_FRACTION, split)])
    images = [np.ascontiguousarray(image) for image in images]
    for image in images:
        image.flags.writeable = False
    return tuple(images)


def check_split(name, split):
    """Raise ValueError unless `name` is in DATASETS and `split` one of its SPLITS."""
    if name not in SPLITS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    if split not in SPLITS[name]:
        raise ValueError(
            f"unknown split {split!r} for dataset {name!r}; valid splits: "
            f"{', '.join(SPLITS[name])}"
        )


def load_images(name, split="train", channels=3, image_size=None):
    """Source images of a built-in dataset: list of float32 (H_i, W_i, channels) in [0, 1].

    `name` is "natural", "textures", "digits" or "faces" ("shapes" scenes come
    from `shapes_scenes`). `channels` is 1 (ITU-R 601 luma) or 3 (grey sources
    replicated). `image_size=(H, W)` upscales the small fixed-size datasets
    ("digits" 8 x 8, "faces" 25 x 25) once here, bicubic. Images are fresh
    copies: changing them does not change later calls (the raw arrays are cached).
    """
    check_split(name, split)
    if name == "shapes":
        raise ValueError("'shapes' has labels: use shapes_scenes(split, count, height, width)")
    if image_size is not None and name not in ("digits", "faces"):
        raise ValueError(
            f"image_size applies to 'digits' and 'faces' only; {name!r} images vary in "
            "size (crop them, or see training.images.resize_to_cover)"
        )
    images = []
    for source in _sources(name, split):
        image = np.array(to_channels(source, channels), np.float32)  # always a copy
        if image_size is not None:
            image = resize(image, *image_size)
        images.append(image)
    return images


# --- "shapes": procedural segmentation scenes --------------------------------------

SHAPE_CLASSES = ("background", "circle", "rectangle", "triangle")
_SPLIT_KEYS = {"train": 0, "validation": 1, "test": 2}


def _convex_polygon_mask(yy, xx, vertices):
    """Pixels whose centre lies inside the convex polygon (vertices (K, 2) as y, x)."""
    centre = vertices.mean(axis=0)
    order = np.argsort(np.arctan2(vertices[:, 0] - centre[0], vertices[:, 1] - centre[1]))
    vertices = vertices[order]
    inside = np.ones(yy.shape, bool)
    for (y0, x0), (y1, x1) in zip(vertices, np.roll(vertices, -1, axis=0), strict=True):
        inside &= (x1 - x0) * (yy - y0) - (y1 - y0) * (xx - x0) >= 0
    return inside


def _triangle(rng, size):
    """Vertices (3, 2) around the origin, every interior angle >= 25 degrees."""
    while True:
        angles = rng.uniform(0, 2 * np.pi) + np.arange(3) * 2 * np.pi / 3
        angles = angles + rng.uniform(-0.5, 0.5, 3)
        radii = size * rng.uniform(0.75, 1.0, 3)
        points = np.stack([radii * np.sin(angles), radii * np.cos(angles)], axis=1)
        a, b = points[[1, 2, 0]] - points, points[[2, 0, 1]] - points
        cosines = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        if np.arccos(cosines.clip(-1, 1)).min() >= np.radians(25):
            return points


def _random_shape(rng, cls, yy, xx):
    """Bool mask (H, W) of one shape of class `cls`, fully inside the frame."""
    height, width = yy.shape
    scale = min(height, width)
    if cls == 1:  # circle
        radius = rng.uniform(max(3.0, 0.07 * scale), max(4.0, 0.18 * scale))
        extent = np.array([[-radius, -radius], [radius, radius]])
    elif cls == 2:  # rectangle (squares included), any rotation
        half = rng.uniform(max(2.5, 0.06 * scale), max(3.5, 0.18 * scale), 2)
        angle = rng.uniform(0, np.pi / 2)
        corners = np.array([[-1, -1], [-1, 1], [1, 1], [1, -1]]) * half
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        points = corners @ rotation.T
    else:  # triangle
        points = _triangle(rng, rng.uniform(max(4.0, 0.1 * scale), max(5.0, 0.24 * scale)))
    if cls != 1:
        extent = np.stack([points.min(0), points.max(0)])
    low = -extent[0]
    high = np.array([height, width]) - extent[1]
    centre = rng.uniform(low, np.maximum(low, high))
    if cls == 1:
        return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2
    return _convex_polygon_mask(yy, xx, points + centre)


def _smooth_field(rng, height, width, channels, cells=4):
    grid = rng.random((cells, cells, channels), dtype=np.float32)
    return resize(grid, height, width)


def shapes_scene(rng, height, width, channels=3, min_shapes=2, max_shapes=6):
    """One scene: `(image, labels)`.

    image: float32 (height, width, channels) in [0, 1], a background with a colour
    gradient, mild low-frequency texture and pixel noise, with `min_shapes` to
    `max_shapes` shapes (random class, colour, size, position, rotation; later ones
    may overlap earlier ones but leave at least 60% of each visible).
    labels: int32 (height, width), the class of each pixel by `SHAPE_CLASSES`
    (0 background, 1 circle, 2 rectangle, 3 triangle). Colours are random and
    independent of the class, so only geometry tells classes apart. Each shape
    differs from what it covers by at least ~0.25 (mean over channels) almost
    everywhere. `rng` is a numpy Generator.
    """
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    direction = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(direction) * xx / width + np.sin(direction) * yy / height)[..., None]
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    start = rng.uniform(0.15, 0.85, channels).astype(np.float32)
    end = (start + rng.uniform(-0.25, 0.25, channels)).clip(0.05, 0.95)
    image = start + (end - start) * ramp
    image += 0.12 * (_smooth_field(rng, height, width, channels) - 0.5)
    labels = np.zeros((height, width), np.int32)
    visible, areas = [], []  # visible mask and full area of each placed shape
    count = rng.integers(min_shapes, max_shapes + 1)
    for _ in range(20 * count):
        if len(visible) == count:
            break
        cls = int(rng.integers(1, 4))
        mask = _random_shape(rng, cls, yy, xx)
        left = [(seen & ~mask).sum() for seen in visible]
        if mask.sum() < 9 or any(n < 0.6 * area for n, area in zip(left, areas, strict=True)):
            continue
        under = image[mask]
        for _ in range(20):
            colour = rng.random(channels, dtype=np.float32)
            if np.quantile(np.abs(under - colour).mean(-1), 0.05) >= 0.25:
                break
        else:
            colour = np.where(under.mean(0) > 0.5, 0.0, 1.0).astype(np.float32)
        visible = [seen & ~mask for seen in visible] + [mask]
        areas.append(mask.sum())
        image[mask] = colour
        labels[mask] = cls
    image += rng.normal(0.0, 0.02, image.shape).astype(np.float32)
    return image.clip(0.0, 1.0).astype(np.float32), labels


def shapes_seed(split, index, seed=0):
    """numpy SeedSequence of scene `index` of `split`.

    The split is part of the spawn key, so the "train" stream can never produce a
    "validation" or "test" scene, whatever seeds are used (nor can
    `np.random.default_rng(seed)`, whose spawn key is empty).
    """
    check_split("shapes", split)
    return np.random.SeedSequence(seed, spawn_key=(_SPLIT_KEYS[split], index))


def shapes_scenes(split, count, height, width, seed=0, channels=3, min_shapes=2, max_shapes=6):
    """`count` scenes of `split`: images float32 (count, height, width, channels) in
    [0, 1] and labels int32 (count, height, width) (see `shapes_scene`).

    Deterministic: scene i depends only on (split, i, seed, sizes), so the first
    scenes are the same whatever `count` is.
    """
    images = np.empty((count, height, width, channels), np.float32)
    labels = np.empty((count, height, width), np.int32)
    for i in range(count):
        rng = np.random.default_rng(shapes_seed(split, i, seed))
        images[i], labels[i] = shapes_scene(rng, height, width, channels, min_shapes, max_shapes)
    return images, labels


# --- online sources (download on first use; tests never call them with network) ----

KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")


def images_from_array(array, channels=None):
    """list of float32 (H, W, C) in [0, 1] from a batch array (N, H, W) or (N, H, W, C).

    The first axis is always the batch. dtypes as in `to_float_image` (uint8 / 255).
    `channels=None` keeps the array's channels ((N, H, W) gives C = 1); 1 or 3
    converts with `to_channels`. The images are views of one new array.
    """
    array = np.asarray(array)
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4:
        raise ValueError(f"expected (N, H, W) or (N, H, W, C), got shape {array.shape}")
    batch = to_float_image(array)
    if channels is not None:
        batch = to_channels(batch, channels)
    return list(batch)


def keras_dataset_images(name, split="train", channels=None):
    """Images of a `keras.datasets` set ("mnist", "fashion_mnist", "cifar10"), downloaded
    by Keras on first use (cached under ~/.keras/datasets). "validation" is the
    dataset's official test split. Returns `images_from_array` output."""
    if name not in KERAS_DATASETS:
        raise ValueError(
            f"unknown Keras dataset {name!r}; valid names: {', '.join(KERAS_DATASETS)}"
        )
    if split not in ("train", "validation"):
        raise ValueError(f"unknown split {split!r}; valid splits: train, validation")
    import keras

    train, test = getattr(keras.datasets, name).load_data()
    return images_from_array((train if split == "train" else test)[0], channels)


def tfds_images(name, split="train", image_key="image", channels=None, limit=None):
    """Images of a TensorFlow Datasets set (downloaded by tfds on first use).

    `split` is passed to `tfds.load` as is (e.g. "train", "test", "train[:10%]");
    `limit` keeps the first `limit` examples. Needs `tensorflow-datasets` (and so
    TensorFlow). Returns a list of float32 (H, W, C) in [0, 1].
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise ImportError(
            "tfds_images needs TensorFlow Datasets: pip install tensorflow-datasets"
        ) from error
    dataset = tfds.load(name, split=split)
    if limit is not None:
        dataset = dataset.take(limit)
    images = []
    for example in tfds.as_numpy(dataset):
        if image_key not in example:
            raise KeyError(f"{name!r} examples have no {image_key!r}; keys: {sorted(example)}")
        images.extend(images_from_array(example[image_key][None], channels))
    return images
