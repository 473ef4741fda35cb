"""Tiles sized to the holes they fill: a thin stroke needs less context than a box.

An inpainter with the in-graph diffusion fill has a global receptive field, so a tile
only approximates the one-pass result, and the context that makes the approximation
close grows with the hole: a box needs the preset's 256 px tiles (its coarse fill levels
carry colour from far), strokes up to 18 px wide are filled within 0.02 dB of one pass
from 96 px tiles with 16 px of context. `apply_to_image` splits a large photo's holes by
width and runs each group with the smallest tiling measured to keep its result: on the
12-megapixel photo of `benchmarks/big_photo_inpaint.py` the network runs on 2.8 MP
instead of the preset's grid's 4.2, in smaller calls.

Measured with `python benchmarks/hole_tiles.py` (unet-inpaint-photos, 11 validation
photos upscaled 2x, 768 x 1024 crops, strokes covering 2 %): masked PSNR against the
one-pass result's, strokes 9-18 px wide: 96 px tiles with 16 px of context -0.02 dB;
24-48 px wide: 128 px tiles with 32 px -0.01 dB (with 16 px: -0.11).
"""

import numpy as np

# (widest hole, tile side, context on each side), narrowest first. A hole is as wide as
# the largest axis-aligned square that fits in it: a square of side width + 1 does not.
HOLE_TILINGS = ((18, 96, 16), (48, 128, 32))


def holes_by_tiling(mask, tilings=HOLE_TILINGS):
    """The hole pixels of `mask` grouped by the tiling each needs.

    Args:
        mask: (H, W) bool, True = hole.
        tilings: (widest hole, tile, overlap) rows, narrowest first.
    Returns: a list of ((tile, overlap) or None, (H, W) bool), one entry per group that
    holds a hole pixel; None is for pixels of parts wider than every row (the model's own
    tiling). Every hole pixel is in exactly one group: the first row whose width its part
    of the hole fits. A part is wider than a row where a square of side width + 1 fits,
    and the pixels within the row's overlap of such a square go with it, so a pixel of a
    thin stroke next to a wide blob is filled with the blob's context.
    """
    from scipy import ndimage

    group = np.full(mask.shape, len(tilings), np.int8)
    for index in reversed(range(len(tilings))):
        width, _, overlap = tilings[index]
        cores = ndimage.minimum_filter(mask, size=width + 1, mode="constant", cval=0)
        wide = ndimage.maximum_filter(cores, size=width + 1 + 2 * overlap)
        group[~wide] = index
    groups = []
    for index in range(len(tilings) + 1):
        members = mask & (group == index)
        if members.any():
            tiling = tuple(tilings[index][1:]) if index < len(tilings) else None
            groups.append((tiling, members))
    return groups
