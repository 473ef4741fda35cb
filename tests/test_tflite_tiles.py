"""A preset's TFLite tiles (`zoo_lite.tflite_tiles`): the result of `apply_to_image` up to
int8 rounding, without Keras; checked files; `zoo predict --runtime`."""

import hashlib
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from training.datasets import load_images
from zoo.metrics import image_psnr
from zoo_lite.tflite_tiles import TFLiteTiles, tiles_folder

PRESET = "unet-inpaint-photos"
# Holes of the int8 tiles' result against Keras': the 256 px int8 file is 54.6 dB from
# Keras in the holes of its verification batch (docs/benchmarks.md).
LEAST_HOLE_PSNR = 40.0
pytestmark = pytest.mark.xdist_group("tflite_tiles")


@pytest.fixture(scope="module")
def photo_and_mask():
    """A 288 x 352 crop of a validation photo with thin and medium strokes and a box:
    every hole group of `zoo_lite.hole_tiles` (96, 128 and 256 px tiles)."""
    photo = load_images("natural", "validation")[0][:288, :352]
    mask = np.zeros((288, 352, 1), np.float32)
    mask[30:38, 20:330] = 1      # 8 px wide
    mask[120:150, 40:300] = 1    # 30 px wide
    mask[190:270, 250:340] = 1   # a box
    return photo * (1 - mask), mask


@pytest.fixture(scope="module")
def keras_model():
    import zoo

    return zoo.load(PRESET, compile=False)


@pytest.fixture(scope="module")
def keras_result(photo_and_mask, keras_model):
    """`apply_to_image` with the preset's Keras model on the photo and mask."""
    from zoo.inference import apply_to_image

    return apply_to_image(keras_model, *photo_and_mask)


def test_the_tiles_are_apply_to_images_tiles(photo_and_mask, keras_model, keras_result,
                                             monkeypatch):
    """With the Keras model in place of the files, the tiles give apply_to_image's result:
    the same padding, hole groups, tiles and overlaps."""
    tiles = TFLiteTiles(tiles_folder(PRESET))
    sides = []

    def keras_batch(images, masks):
        sides.append(images.shape[1])
        return np.asarray(keras_model.predict_on_batch({"image": images, "mask": masks}))

    monkeypatch.setattr(tiles, "run_batch", keras_batch)
    np.testing.assert_allclose(tiles.fill(*photo_and_mask), keras_result, atol=1e-5)
    assert sorted(set(sides)) == [96, 128, 256]


def _save_rgb(array, path):
    Image.fromarray(np.round(array * 255).astype(np.uint8).squeeze()).save(path)
    return path


def test_the_shipped_tiles_give_the_keras_result_up_to_int8_rounding(photo_and_mask,
                                                                     keras_result):
    image, mask = photo_and_mask
    tiles = TFLiteTiles(tiles_folder(PRESET))
    assert tiles.takes(*image.shape[:2])
    lite = tiles.fill(image, mask)
    assert image_psnr(lite, keras_result, mask) > LEAST_HOLE_PSNR
    holes = mask[..., 0] > 0
    np.testing.assert_array_equal(lite[~holes], image[~holes])
    assert np.abs(lite[holes] - image[holes]).mean() > 0.05  # the holes were filled


def test_an_8_bit_photo_gives_the_float_result_rounded(photo_and_mask):
    from zoo_lite.image_io import to_rgb8

    image, mask = photo_and_mask
    image8 = to_rgb8(image[None])[0]
    tiles = TFLiteTiles(PRESET)
    filled8 = tiles.fill(image8, mask)
    assert filled8.dtype == np.uint8
    np.testing.assert_array_equal(filled8, to_rgb8(tiles.fill(image8 / np.float32(255),
                                                              mask)[None])[0])
    assert (filled8 != image8)[mask[..., 0] > 0].any()


@pytest.mark.parametrize("name", [PRESET, "inpainter-photos"])
def test_the_manifest_matches_the_preset(name):
    import zoo
    from export.preset_tiles import tiling_of

    folder = tiles_folder(name)
    meta = json.loads((folder / "metadata.json").read_text())
    entry = meta["tflite_tiles"]
    assert entry["weights_sha256"] == meta["sha256"]
    for side in entry["files"].values():
        assert hashlib.sha256((folder / side["file"]).read_bytes()).hexdigest() == side["sha256"]
    tiling = tiling_of(zoo.load(name, compile=False))
    assert [int(side) for side in entry["files"]] == tiling.pop("sides")
    assert {key: entry[key] for key in tiling} == tiling
    assert min(e["hole_psnr_vs_keras_db"] for e in entry["vs_keras"].values()) > LEAST_HOLE_PSNR


def test_every_tflite_file_in_a_preset_folder_is_a_listed_tile():
    from zoo.presets import PRESETS_DIR

    for folder in (p for p in PRESETS_DIR.iterdir() if (p / "metadata.json").is_file()):
        listed = json.loads((folder / "metadata.json").read_text()).get("tflite_tiles", {})
        files = {entry["file"] for entry in listed.get("files", {}).values()}
        assert {p.name for p in folder.glob("*.tflite")} == files, folder.name


def test_a_changed_tile_file_or_stale_tiles_are_refused(tmp_path, photo_and_mask):
    copy = shutil.copytree(tiles_folder(PRESET), tmp_path / PRESET)
    image, mask = photo_and_mask
    (copy / "tile-96.tflite").write_bytes(b"\0" * 64)
    with pytest.raises(ValueError, match="tile-96.tflite does not match its sha256"):
        TFLiteTiles(copy).fill(image, mask)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["sha256"] = "0" * 64
    (copy / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="made from other weights"):
        TFLiteTiles(copy)
    with pytest.raises(ValueError, match="at least 256 px"):
        TFLiteTiles(tiles_folder(PRESET)).fill(image[:200], mask[:200])


PREDICT = """
import json, sys
from zoo_cli.main import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("keras", "tensorflow", "jax") if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}))
"""


def _predict(argv):
    done = subprocess.run([sys.executable, "-c", PREDICT, *argv], capture_output=True,
                          text=True, check=False)
    return json.loads(done.stdout.strip().splitlines()[-1]), done


def test_zoo_predict_fills_a_large_photo_without_keras(tmp_path, photo_and_mask,
                                                       keras_result):
    image, mask = photo_and_mask
    source = _save_rgb(image, tmp_path / "photo.png")
    mask_path = _save_rgb(mask[..., 0], tmp_path / "mask.png")
    result, done = _predict(["predict", PRESET, str(source), "--mask", str(mask_path),
                             "-o", str(tmp_path / "lite.png")])
    assert result == {"code": 0, "heavy": []}, done.stderr[-2000:]
    assert "runtime=tflite" in done.stdout
    lite, photo = (np.asarray(Image.open(tmp_path / name), np.float32) / 255
                   for name in ("lite.png", "photo.png"))
    assert image_psnr(lite, keras_result, mask) > LEAST_HOLE_PSNR
    known = mask[..., 0] == 0
    np.testing.assert_array_equal(lite[known], photo[known])
    assert np.abs(lite - photo)[~known].mean() > 0.05


def test_runtime_tflite_says_why_it_cannot_run(tmp_path, photo_and_mask):
    from zoo_cli.main import main

    image, mask = photo_and_mask
    small = _save_rgb(image[:200, :200], tmp_path / "small.png")
    small_mask = _save_rgb(mask[:200, :200, 0], tmp_path / "small_mask.png")
    out = tmp_path / "out.png"
    cases = [([PRESET, str(small), "--mask", str(small_mask)], "at least 256 px"),
             (["unet-inpaint-natural", str(small), "--mask", str(small_mask)],
              "ships no TFLite tiles"),
             ([PRESET, str(small), "--mask", str(small_mask), "--tile", "128"], "--tile")]
    for argv, message in cases:
        result, done = _predict(["predict", *argv, "-o", str(out), "--runtime", "tflite"])
        assert result["code"] == 2 and message in done.stderr, done.stderr[-500:]
        assert not out.exists()
    assert main(["predict", PRESET, str(small), "--mask", str(small_mask),
                 "-o", str(out)]) == 0  # auto: the Keras model takes the small photo
