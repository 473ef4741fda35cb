"""Tiles sized to the holes: each hole pixel goes to the narrowest tiling its part of
the hole fits, and `apply_to_image` runs each group in its own tiles."""

import numpy as np
import pytest

import zoo
import zoo.inference as inference
from tests import harness
from zoo.metrics import image_psnr
from zoo_lite import tiles
from zoo_lite.hole_tiles import HOLE_TILINGS, holes_by_tiling

pytestmark = pytest.mark.xdist_group("hole_tiles")  # the module's model is built once

NARROW, WIDER = (tuple(row[1:]) for row in HOLE_TILINGS)


def _shapes():
    mask = np.zeros((400, 400), bool)
    mask[20:30, 20:380] = True       # a stroke 10 px wide
    mask[100:130, 20:200] = True     # 30 px wide
    mask[250:350, 250:350] = True    # a 100 px box
    mask[300:306, 100:250] = True    # a 6 px stroke running into the box
    return mask


def test_each_hole_pixel_goes_to_the_tiling_its_width_needs():
    mask = _shapes()
    groups = dict(holes_by_tiling(mask))
    assert set(groups) == {NARROW, WIDER, None}
    assert sum(group.astype(int) for group in groups.values()).max() == 1
    assert np.array_equal(np.logical_or.reduce(list(groups.values())), mask)
    assert groups[NARROW][20:30, 20:380].all() and groups[NARROW][300:306, 100:200].all()
    assert groups[WIDER][100:130, 20:200].all()
    assert groups[None][250:350, 250:350].all()
    # the thin stroke's end next to the box is filled with the box's context
    assert groups[None][300:306, 240:250].all()


@pytest.fixture(scope="module")
def inpainter():
    # the in-graph fill gives it global context, as the photo presets have
    model = zoo.create_model("unet", filters=[4, 8], normalization="none", mask_input=True,
                             fill_holes=True)
    harness.randomize_weights(model.get_layer("to_image"), np.random.default_rng(5))
    return model


def test_a_large_image_runs_thin_strokes_in_small_tiles(inpainter, monkeypatch):
    image = np.random.default_rng(6).random((600, 700, 3)).astype("float32")
    mask = np.zeros((600, 700, 1), "float32")
    mask[40:50, 30:660] = 1     # thin strokes
    mask[300:310, 100:400] = 1
    mask[450:560, 500:640] = 1  # a box
    one_pass = inpainter.predict({"image": image[None], "mask": mask[None]}, verbose=0)[0]
    seen = []
    predict = inference._predict

    def recording_predict(model, x):
        seen.append(x["image"].shape[:3])
        return predict(model, x)

    monkeypatch.setattr(inference, "_predict", recording_predict)
    tiled = inference.apply_to_image(inpainter, image, mask)
    monkeypatch.undo()
    sides = {side for _, side, _ in seen}
    assert NARROW[0] in sides and inference.preferred_tile(inpainter) in sides
    known = mask[..., 0] == 0
    np.testing.assert_array_equal(tiled[known], image[known])
    hole_psnr = image_psnr(tiled, one_pass, mask)
    assert hole_psnr > 40, hole_psnr
    # the thin strokes ran on fewer pixels than the preset's tiles would have
    pixels_run = sum(n * h * w for n, h, w in seen)
    seen.clear()
    monkeypatch.setattr(inference, "_predict", recording_predict)
    inference.apply_to_image(inpainter, image, mask, tile=inference.preferred_tile(inpainter))
    assert pixels_run < sum(n * h * w for n, h, w in seen)


def test_windows_are_split_into_calls_of_equal_size(inpainter, monkeypatch):
    image = np.random.default_rng(7).random((300, 300, 3)).astype("float32")
    mask = np.zeros((300, 300, 1), "float32")
    mask[::20, :] = 1  # a line every 20 rows: every tile's written 32 x 32 holds a hole
    seen = []
    predict = inference._predict

    def recording_predict(model, x):
        seen.append(len(x["image"]))
        return predict(model, x)

    monkeypatch.setattr(inference, "_predict", recording_predict)
    monkeypatch.setattr(tiles, "PIXELS_PER_CALL", 10 * 64 * 64)
    inference.apply_to_image(inpainter, image, mask, tile=64, overlap=16)
    assert 300 % inference.size_factor(inpainter) == 0  # no padding
    windows = len(tiles.tile_starts(300, 64, 32)) ** 2
    assert len(seen) == -(-windows // 10) and len(set(seen)) == 1
    assert sum(seen) - windows < len(seen)  # at most one filler window per call
