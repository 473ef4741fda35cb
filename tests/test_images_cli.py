"""`zoo images`: built-in images written as PNG files, clean, noisy or with holes."""

import numpy as np
import pytest
from PIL import Image

from training import datasets
from training.images import center_square
from zoo_cli.main import main


def read(path):
    return np.asarray(Image.open(path), np.float32) / 255


def test_test_photos_at_a_size_match_the_dataset(tmp_path, capsys):
    assert main(["images", "natural", "--split", "test", "--size", "64", "-o",
                 str(tmp_path)]) == 0
    assert "astronaut.png, flower.png" in capsys.readouterr().out
    expected = center_square(datasets.load_images("natural", "test")[0], 64)
    written = read(tmp_path / "astronaut.png")
    assert written.shape == (64, 64, 3)
    assert np.abs(written - expected).max() <= 0.5 / 255 + 1e-6  # only 8-bit rounding


def test_noise_has_the_asked_sigma(tmp_path):
    assert main(["images", "natural", "--split", "test", "--noise", "25", "-o",
                 str(tmp_path / "noisy")]) == 0
    assert main(["images", "natural", "--split", "test", "-o", str(tmp_path / "clean")]) == 0
    difference = read(tmp_path / "noisy" / "flower.png") - read(tmp_path / "clean" / "flower.png")
    assert 20 / 255 < difference.std() < 26 / 255  # clipping at 0 and 1 lowers it a little


def test_holes_are_black_and_their_masks_white(tmp_path):
    assert main(["images", "natural", "--split", "test", "--holes", "thick", "--seed", "3",
                 "-o", str(tmp_path)]) == 0
    image = read(tmp_path / "astronaut.png")
    hole = read(tmp_path / "astronaut_mask.png")[..., 0] > 0.5
    assert 0.08 <= hole.mean() <= 0.12
    assert image[hole].max() == 0.0 and image[~hole].mean() > 0.2


def test_shapes_scenes_come_with_their_labels(tmp_path):
    assert main(["images", "shapes", "--split", "test", "-n", "3", "--size", "48", "-o",
                 str(tmp_path)]) == 0
    scenes, labels = datasets.shapes_scenes("test", 3, 48, 48)
    written = np.asarray(Image.open(tmp_path / "scene_02_labels.png"))
    assert np.array_equal(written, labels[2])
    assert read(tmp_path / "scene_02.png").shape == scenes[2].shape
    assert sorted(p.name for p in tmp_path.iterdir())[-1] == "scene_02_labels.png"


@pytest.mark.parametrize("args, message", [
    (["natural", "--noise", "300"], "0-255"),
    (["natural", "-n", "0"], "at least 1"),
    (["natural", "--split", "test", "--size", "4"], "at least 8"),
])
def test_bad_options_are_named(args, message, tmp_path, capsys):
    assert main(["images", *args, "-o", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
