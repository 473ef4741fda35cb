"""Tile geometry: run an image model on a large image in overlapping tiles.

Each tile keeps `overlap` pixels of context on every side of the part it writes (its
own side at the image's edges), and tiles step so that the written parts cover the
image. With a mask, only the tiles whose written part holds a hole run: an inpainter
returns known pixels unchanged, so the rest of the output is the image itself.

The model is a callable, `run_batch(images, masks)` -> outputs, so the same tiling serves
a Keras model (`zoo.inference.apply_to_image`) and a preset's TFLite tiles
(`zoo_lite.tflite_tiles`).
"""

import numpy as np

# Pixels per model call when tiling: bounds the activations' memory whatever the tile
# side (16 tiles of 256 x 256, 4 of 512 x 512).
PIXELS_PER_CALL = 16 * 256 * 256


def pad_amount(size, factor):
    """Pixels to add to `size` to reach the next multiple of `factor`."""
    return (-size) % factor


def pad_to_multiple(image, factor):
    """(H, W, C) `image` padded at the bottom and right to multiples of `factor`: by
    reflection (by repetition for a 1-pixel side); a mask is padded with zeros
    (`known`), so nothing outside the image is filled. Returns (image, pad widths)."""
    height, width = image.shape[:2]
    pad = ((0, pad_amount(height, factor)), (0, pad_amount(width, factor)), (0, 0))
    return np.pad(image, pad, mode="reflect" if min(height, width) > 1 else "edge"), pad


def tile_starts(size, tile, step):
    """Start offsets along one side of `size` pixels: every `step`, and the last tile
    flush with the end."""
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, step))
    return starts + [size - tile]


def kept_part(top, left, tile_h, tile_w, full_h, full_w, overlap):
    """The (rows, cols) slices of the image a tile writes: its interior, and its own
    side at the image's edges."""
    y0 = 0 if top == 0 else overlap
    x0 = 0 if left == 0 else overlap
    y1 = tile_h if top + tile_h == full_h else tile_h - overlap
    x1 = tile_w if left + tile_w == full_w else tile_w - overlap
    return slice(top + y0, top + y1), slice(left + x0, left + x1)


def run_tiled(run_batch, image, mask, tile, overlap, holes=None, output=None):
    """The model's output for `image` run in tiles.

    Args:
        run_batch: callable (images (B, t, t, C), masks (B, t, t, 1) or None) -> outputs
            (B, t, t, C'), float32 numpy.
        image: (H, W, C) float32 in [0, 1]; mask: (H, W, 1) in {0, 1}, 1 = hole, or None.
        tile, overlap: tile side and the context kept on each side of its written part
            (capped at a quarter of the tile).
        holes: (H, W) bool: fill only these hole pixels, writing them into `output` (an
            inpainter's result so far); by default every hole, into a copy of the image.
    Returns: (H, W, C') float32; for an inpainter, the image with its holes filled.
    """
    full_h, full_w = image.shape[:2]
    tile_h, tile_w = min(tile, full_h), min(tile, full_w)
    overlap = min(overlap, tile_h // 4, tile_w // 4)  # tile_h < tile: one tile that way
    corners = [(top, left) for top in tile_starts(full_h, tile_h, tile_h - 2 * overlap)
               for left in tile_starts(full_w, tile_w, tile_w - 2 * overlap)]
    kept = [kept_part(top, left, tile_h, tile_w, full_h, full_w, overlap)
            for top, left in corners]
    if mask is not None:
        if holes is None:
            holes = mask[..., 0] > 0
        if output is None:
            output = image.copy()
        runs = [i for i, (rows, cols) in enumerate(kept) if holes[rows, cols].any()]
        corners, kept = [corners[i] for i in runs], [kept[i] for i in runs]
    # calls of equal size (the last one filled up to it: one traced shape), each within
    # PIXELS_PER_CALL
    calls = -(-len(corners) // max(1, PIXELS_PER_CALL // (tile_h * tile_w)))
    batch = max(1, -(-len(corners) // max(1, calls)))
    for first in range(0, len(corners), batch):
        chunk = corners[first:first + batch]
        windows = [(slice(t, t + tile_h), slice(lf, lf + tile_w)) for t, lf in chunk]
        windows += windows[-1:] * (batch - len(windows))
        masks = None if mask is None else np.stack([mask[w] for w in windows])
        results = run_batch(np.stack([image[w] for w in windows]), masks)[:len(chunk)]
        if output is None:
            output = np.zeros((full_h, full_w, results.shape[-1]), np.float32)
        for (top, left), (rows, cols), result in zip(chunk, kept[first:first + batch],
                                                     results, strict=True):
            result = result[rows.start - top:rows.stop - top,
                            cols.start - left:cols.stop - left]
            if holes is None:
                output[rows, cols] = result
            else:
                written = holes[rows, cols]
                output[rows, cols][written] = result[written]
    return output


def fill_by_hole_width(run_batch, image, mask, tile, overlap, factor):
    """An inpainter with global context (the in-graph fill), run in tiles sized to each
    hole's width (`zoo_lite.hole_tiles`): `tile` and `overlap` for the widest holes.

    `image` (H, W, C) and `mask` (H, W, 1) are padded to multiples of `factor` (the
    model's size factor); tiles and overlaps are rounded to it. Returns (H, W, C)."""
    from zoo_lite.hole_tiles import holes_by_tiling

    output = image.copy()
    for tiling, holes in holes_by_tiling(mask[..., 0] > 0):
        group_tile, group_overlap = tiling_for_group(tiling, tile, overlap, factor)
        run_tiled(run_batch, image, mask, group_tile, group_overlap, holes=holes,
                  output=output)
    return output


def tiling_for_group(tiling, tile, overlap, factor):
    """(tile, overlap) of a hole group (`holes_by_tiling`'s (tile, overlap), or None for
    the widest holes: `tile` and `overlap`), the tile rounded down and the overlap up to
    multiples of `factor`."""
    group_tile, group_overlap = tiling or (tile, overlap)
    group_tile = max(factor, group_tile - group_tile % factor)
    return group_tile, -(-group_overlap // factor) * factor
