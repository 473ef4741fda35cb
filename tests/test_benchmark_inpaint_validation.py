"""benchmarks/inpaint_validation.py scores each mask width apart and strokes over all
widths, as the quality benchmark does."""

import numpy as np
from inpaint_validation import score

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

    scores = score(grey_fill, cases, images)
    expected = {name: image_psnr(grey_fill(image * (1 - hole), hole), image, hole)
                for name, image in images.items()}
    assert np.isclose(scores["strokes-thin"], (expected["a"] + expected["b"]) / 2)
    assert np.isclose(scores["strokes-thick"], expected["a"])
    assert np.isclose(scores["box"], expected["a"])
    assert np.isclose(scores["strokes"], (2 * expected["a"] + expected["b"]) / 3)
