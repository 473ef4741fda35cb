"""`zoo export`: architectures and .keras files to verified files; one-line errors."""

import json

import pytest

from training.recipe import parse_recipe
from training.run import train
from zoo_cli.main import main


def test_exports_an_architecture_to_int8_tflite(tmp_path, capsys):
    out = tmp_path / "unet.tflite"
    code = main(["export", "unet", "--format", "tflite", "--quantize", "int8", "--size", "32",
                 "32", "--calibration-examples", "4", "-o", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "calibrating int8 on 4" in printed and "PASS" in printed
    sidecar = json.loads((tmp_path / "unet.tflite.json").read_text())
    assert sidecar["inputs"][0]["shape"] == [1, 32, 32, 3]  # batch fixed at 1 for XNNPACK


@pytest.mark.parametrize("preset, size", [
    ("unet-segment-shapes", (64, 64)),    # its training scenes: objects keep their scale
    ("unet-denoise-natural", (64, 64)),   # its inference tile
    ("dcgan-digits", None),               # no spatial input
])
def test_a_preset_tflite_defaults_to_the_size_it_was_validated_at(preset, size):
    from zoo.presets import metadata
    from zoo_cli.export_model import preset_input_size, preset_tiling

    chosen, reason = preset_input_size(preset, preset_tiling(preset))
    assert chosen == size and (reason is None) == (size is None)
    if metadata(preset)["task"] == "segment":
        assert list(chosen) == metadata(preset)["crop_size"]


def test_exports_a_trained_keras_file_with_its_recipe(tmp_path):
    recipe = parse_recipe({
        "model": {"architecture": "unet", "config": {"filters": [4, 8], "mask_input": True}},
        "data": {"dataset": "textures", "crop_size": [32, 32], "batch_size": 2,
                 "validation_batches": 1},
        "training": {"epochs": 1, "steps_per_epoch": 1},
        "callbacks": {"tensorboard": False, "samples_every": 0}})
    train(recipe, tmp_path / "run", verbose=0)
    out = tmp_path / "served"
    assert main(["export", str(tmp_path / "run" / "model.keras"), "--format", "savedmodel",
                 "--serving-version", "1", "-o", str(out)]) == 0
    assert (out / "1" / "saved_model.pb").is_file()
    report = json.loads((tmp_path / "served" / "1.verification.json").read_text())
    assert report["passed"] and report["task_metric"]["name"] == "hole_psnr"


@pytest.mark.parametrize("args, message", [
    (["resnet50", "--format", "tflite"], "neither a preset"),
    (["missing.keras", "--format", "tflite"], "no such model file"),
    (["unet", "--format", "tflite", "--size", "30", "30"], "divisible"),
    (["unet", "--format", "savedmodel", "--quantize", "int8"], "--format tflite only"),
])
def test_bad_input_is_a_one_line_error(args, message, tmp_path, capsys):
    assert main(["export", *args, "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_corrupt_keras_file_and_unwritable_target(tmp_path, capsys):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 truncated zip")
    assert main(["export", str(broken), "--format", "tflite", "-o",
                 str(tmp_path / "o.tflite")]) == 2
    assert "not a loadable .keras model" in capsys.readouterr().err
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["export", "unet", "--format", "tflite", "--size", "32", "32", "-o",
                 str(blocker / "o.tflite")]) == 2
    assert "zoo: error:" in capsys.readouterr().err


def test_existing_output_needs_force(tmp_path, capsys):
    out = tmp_path / "u.tflite"
    out.write_bytes(b"\x1c\x00\x00\x00TFL3 an older export")  # --force replaces only a model
    args = ["export", "unet", "--format", "tflite", "--size", "32", "32", "-o", str(out)]
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err and out.read_bytes()[8:] == b" an older export"
    assert main([*args, "--force"]) == 0 and out.read_bytes()[4:8] == b"TFL3"


def test_a_repair_preset_exports_at_its_inference_tile(tmp_path, capsys):
    # the denoiser's int8 export failed (9 dB vs Keras) until outlier calibration examples
    # were dropped: 3 of its 64 crops drive its decoder to +-280
    out = tmp_path / "denoise.tflite"
    assert main(["export", "unet-denoise-natural", "--format", "tflite", "--quantize", "int8",
                 "-o", str(out)]) == 0
    assert "the preset's inference tile" in capsys.readouterr().out
    sidecar = json.loads((tmp_path / "denoise.tflite.json").read_text())
    assert sidecar["inputs"][0]["shape"] == [1, 64, 64, 3]
    assert sidecar["inference_tile"] == 64 and sidecar["tile_overlap"] == 16
    report = json.loads((tmp_path / "denoise.tflite.verification.json").read_text())
    assert report["passed"] and report["psnr_vs_keras_db"] > 40
    assert report["calibration"]["dropped_outliers"] >= 1
    assert report["calibration"]["equalized_skips"] == 4
