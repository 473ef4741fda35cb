"""Disk full and read-only targets, for every command that writes: one line naming the
file the user asked for (not a hidden temporary name), the old file intact, nothing
left behind, and (training) a run that resumes once there is room again."""

import errno

import keras
import numpy as np
import pytest
from PIL import Image

from tests.test_bad_input_training import logged_epochs, table, write_recipe, zoo_train
from zoo_cli.main import main

pytestmark = pytest.mark.xdist_group("disk")

FAULTS = {"disk full": (errno.ENOSPC, "No space left on device"),
          "read-only": (errno.EROFS, "Read-only file system")}


@pytest.fixture
def photo(tmp_path):
    pixels = np.random.default_rng(0).integers(30, 220, (40, 48, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    return tmp_path / "photo.png"


def _failing_png_save(code, text):
    def save(self, fp, *args, **kwargs):
        with open(fp, "wb") as handle:
            handle.write(b"\x89PNG half")
        raise OSError(code, text, str(fp))
    return save


@pytest.mark.parametrize("fault", FAULTS)
def test_predict_names_the_output_and_keeps_the_old_one(fault, photo, tmp_path, capsys,
                                                        monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    monkeypatch.setattr(Image.Image, "save", _failing_png_save(*FAULTS[fault]))
    code = main(["predict", "unet-denoise-natural", str(photo), "-o", str(target), "--force"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"cannot write {target}: {FAULTS[fault][1]}" in err
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png", "photo.png"]


@pytest.mark.parametrize("fault", FAULTS)
def test_images_name_the_file_and_leave_no_temporary(fault, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Image.Image, "save", _failing_png_save(*FAULTS[fault]))
    code = main(["images", "natural", "--split", "test", "-o", str(tmp_path / "photos")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and FAULTS[fault][1] in err, err
    assert "cannot write " + str(tmp_path / "photos") in err
    assert not [p for p in (tmp_path / "photos").iterdir() if p.name.startswith(".")]


def test_training_stopped_by_a_full_disk_resumes_when_there_is_room(tmp_path, capsys,
                                                                    monkeypatch):
    recipe = write_recipe(tmp_path, table(training={"epochs": 3, "steps_per_epoch": 2}))
    run = tmp_path / "run"
    real_save_weights = keras.Model.save_weights
    calls = []

    def save_weights(self, filepath, *args, **kwargs):
        calls.append(filepath)
        if len(calls) == 2:  # the backup at the end of the second epoch
            raise OSError(errno.ENOSPC, "No space left on device", str(filepath))
        return real_save_weights(self, filepath, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save_weights", save_weights)
    code, err = zoo_train(capsys, recipe, "--out", run)
    assert code == 2 and "\n" not in err, err
    assert f"cannot write {run / 'backup' / 'latest.weights.h5'}: No space left" in err
    assert not [p for p in (run / "backup").iterdir() if p.name.startswith(".")]
    assert not (run / "model.keras").exists()

    monkeypatch.setattr(keras.Model, "save_weights", real_save_weights)
    code, err = zoo_train(capsys, recipe, "--out", run, "--resume")
    assert code == 0, err
    assert logged_epochs(run) == [0, 1, 2]  # epoch 1 ran again, and is logged once
    assert (run / "model.keras").is_file() and not (run / "backup").exists()



@pytest.mark.parametrize("argv", [
    ["predict", "unet-denoise-natural", "{photo}", "-o", "{photo}/out.png"],
    ["predict", "unet-denoise-natural", "{photo}", "-o", "{photo}/deeper/out.png"],
    ["images", "natural", "--split", "test", "-o", "{photo}/photos"],
])
def test_an_output_inside_a_file_names_the_file(argv, photo, tmp_path, capsys):
    before = photo.read_bytes()
    code = main([arg.format(photo=photo) for arg in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"{photo} is a file, not a folder" in err
    assert photo.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "photo.png"]
