"""benchmarks/inpaint_validation.py scores each mask width apart and strokes over all
widths, as the quality benchmark does, and again apart for flat cases and the rest."""

import numpy as np
from inpaint_validation import PEER, by_flatness
from quality_repair import group_means, masked_psnr_by_group

from zoo.metrics import image_psnr


def test_scores_are_means_per_kind_and_strokes_leave_the_box_out():
    rng = np.random.default_rng(0)
    images = {"a": rng.random((16, 16, 3), dtype=np.float32),
              "b": rng.random((16, 16, 3), dtype=np.float32)}
    hole = np.zeros((16, 16, 1), np.float32)
    hole[4:8, 4:8] = 1
    cases = [("a", "strokes-thin", hole), ("b", "strokes-thin", hole),
             ("a", "strokes-thick", hole), ("a", "box", hole)]

    def grey_fill(image, mask):
        return image * (1 - mask) + 0.5 * mask

    scores = masked_psnr_by_group(grey_fill, cases, images)
    expected = {name: image_psnr(grey_fill(image * (1 - hole), hole), image, hole)
                for name, image in images.items()}
    assert np.isclose(scores["strokes-thin"], (expected["a"] + expected["b"]) / 2)
    assert np.isclose(scores["strokes-thick"], expected["a"])
    assert np.isclose(scores["box"], expected["a"])
    assert np.isclose(scores["strokes"], (2 * expected["a"] + expected["b"]) / 3)


def test_flat_cases_are_those_where_the_peer_reaches_the_threshold():
    cases = [("a", "strokes-thin", None), ("b", "strokes-thin", None),
             ("c", "strokes-thin", None), ("a", "box", None), ("b", "strokes-thick", None),
             ("c", "strokes-medium", None)]
    per_case = {PEER: [45.0, 30.0, 40.0, 20.0, 30.0, 41.0],
                "model": [44.0, 33.0, 41.0, 22.0, 31.0, 42.0]}
    tables, counts = by_flatness(cases, per_case, flat_db=40.0)
    flat, rest = (title for title in tables if title != "all")
    assert counts == {"all": 6, flat: 3, "the rest": 3}
    assert tables[flat]["model"] == {"strokes": 127 / 3, "strokes-thin": 42.5,
                                     "strokes-medium": 42.0}
    # every table lists its groups in the order of the table of all cases
    assert list(tables[flat]["model"]) == ["strokes", "strokes-thin", "strokes-medium"]
    assert tables[rest]["model"] == {"strokes": 32.0, "strokes-thin": 33.0, "box": 22.0,
                                     "strokes-thick": 31.0}
    assert list(tables[rest]["model"]) == ["strokes", "strokes-thin", "box", "strokes-thick"]
    assert tables["all"]["model"] == group_means(cases, per_case["model"])
    assert tables["all"][PEER]["strokes-thin"] == np.mean([45.0, 30.0, 40.0])
    assert list(tables["all"]["model"]) == ["strokes", "strokes-thin", "box", "strokes-thick",
                                            "strokes-medium"]
