"""benchmarks/hole_tiles.py draws the stroke widths it is asked for: the strokes behind
each row of `zoo_lite.hole_tiles.HOLE_TILINGS` fall into that row's group."""

import numpy as np
from hole_tiles import CROP, stroke_cover

from zoo_lite.hole_tiles import HOLE_TILINGS, holes_by_tiling


def test_each_measured_width_band_lands_in_its_own_tiling_row():
    for (widest, tile, overlap), band in zip(HOLE_TILINGS, ((9, 18), (24, 48)), strict=True):
        hole = stroke_cover(np.random.default_rng(0), *CROP, band)
        assert hole.mean() >= 0.02
        groups = dict(holes_by_tiling(hole))
        # crossings of two strokes are wider than either: most pixels, not all
        assert groups[(tile, overlap)].sum() > 0.75 * hole.sum(), (band, widest)
