"""Image grids as PNG files: sample grids of training runs.

Grids are uint8 (rows * H + gaps, cols * W + gaps, 3) arrays; inputs are float
images in [0, 1] (1 or 3 channels) or integer label maps coloured by a palette.
"""


import numpy as np

from training.files import replaced_on_success

# Distinct colours for label maps: background black, then saturated hues.
PALETTE = np.array([[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200],
                    [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230],
                    [210, 245, 60]], np.uint8)


def to_rgb8(images):
    """(N, H, W, 1 | 3) float in [0, 1] -> (N, H, W, 3) uint8."""
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return np.round(images * 255).astype(np.uint8)


def colorize_labels(labels):
    """(N, H, W) integer class ids -> (N, H, W, 3) uint8 with one colour per class."""
    labels = np.asarray(labels)
    return PALETTE[np.mod(labels, len(PALETTE))]


def image_grid(columns, gap=2):
    """Grid whose column j shows `columns[j]` (N, H, W, 3) uint8, one example per row."""
    count, height, width = columns[0].shape[:3]
    grid = np.full((count * (height + gap) - gap, len(columns) * (width + gap) - gap, 3),
                   255, np.uint8)
    for j, column in enumerate(columns):
        for i in range(count):
            top, left = i * (height + gap), j * (width + gap)
            grid[top:top + height, left:left + width] = column[i]
    return grid


def tile(images, columns=None, gap=2):
    """(N, H, W, 3) uint8 images tiled row by row into a near-square grid."""
    count = len(images)
    columns = columns or int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    padded = np.full((rows * columns, *images.shape[1:]), 255, np.uint8)
    padded[:count] = images
    return image_grid([padded[j::columns] for j in range(columns)], gap)


def save_png(array, path):
    """Write a uint8 (H, W, 3) array to `path` via a temporary file and a rename, so a
    reader never sees a half-written PNG."""
    from PIL import Image

    with replaced_on_success(path) as temporary:  # .NAME.partial
        Image.fromarray(array).save(temporary, format="PNG")
    return path
