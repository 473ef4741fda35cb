"""`python -m training.make_preset`: train a tiny preset and load it back with zoo.load."""

import json

import h5py
import numpy as np
import pytest

import zoo
from training import make_preset
from zoo import presets

RECIPE = """
description = "tiny test denoiser"
seed = 0
[model]
architecture = "unet"
config = { filters = [4, 8], residual = true }
[data]
dataset = "textures"
crop_size = [32, 32]
batch_size = 2
validation_batches = 1
[training]
epochs = 1
steps_per_epoch = 2
[callbacks]
tensorboard = false
samples_every = 0
"""


pytestmark = pytest.mark.xdist_group("make_preset")  # the module fixture trains once


def _preset_folder(root):
    folder = root / "presets" / "tiny-denoiser"
    folder.mkdir(parents=True)
    (folder / "recipe.toml").write_text(RECIPE)
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(the preset folder make_preset wrote, its run folder)."""
    root = tmp_path_factory.mktemp("make_preset")
    folder = _preset_folder(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(presets, "PRESETS_DIR", root / "presets")
        assert make_preset.main(["tiny-denoiser", "--steps", "2", "--out",
                                 str(root / "runs")]) == 0
    return folder, root / "runs" / "tiny-denoiser"


def test_trains_writes_and_loads_a_preset(trained, monkeypatch):
    folder, _ = trained
    monkeypatch.setattr(presets, "PRESETS_DIR", folder.parent)

    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["task"] == "denoise" and meta["training_steps"] == 2
    assert meta["sha256"] == presets.sha256_of(folder / "model.weights.h5")
    assert "psnr" in meta["validation_metrics"]
    with h5py.File(folder / "model.weights.h5") as weights:  # no optimizer slots
        assert "optimizer" not in weights

    model = zoo.load("tiny-denoiser")
    golden = dict(np.load(folder / "golden.npz"))
    np.testing.assert_allclose(presets.run_preset_model(model, {"image": golden["image"]}),
                               golden["output"], atol=1e-6)
    assert zoo.list_presets("denoise") == ["tiny-denoiser"]


def test_packages_a_run_that_is_still_going_from_its_backup(trained, tmp_path, monkeypatch):
    """A long run is packaged from its latest backup (here: a snapshot restored into a
    folder, which holds what a running run's folder holds), with its curve, and the
    weights are stored as float16 that load back into float32 variables."""
    from training.snapshot import restore_snapshot, save_snapshot

    folder = _preset_folder(tmp_path)
    monkeypatch.setattr(presets, "PRESETS_DIR", tmp_path / "presets")
    save_snapshot(trained[1], tmp_path / "snapshot")
    going = restore_snapshot(tmp_path / "snapshot", tmp_path / "going")
    assert not (going / "model.keras").exists()
    assert make_preset.main(["tiny-denoiser", "--from-run", "--run", str(going)]) == 0

    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["training_steps"] == 2 and meta["weights_dtype"] == "float16"
    assert [row["step"] for row in meta["training_curve"]["rows"]] == [2]
    assert meta["validation_metrics"]["psnr"] == meta["training_curve"]["rows"][0]["val_psnr"]
    with h5py.File(folder / "model.weights.h5") as weights:
        dtypes = set()
        weights.visititems(lambda _, item: dtypes.add(item.dtype)
                           if isinstance(item, h5py.Dataset) else None)
    assert dtypes == {np.dtype("float16")}
    model = zoo.load("tiny-denoiser")
    assert {w.dtype for w in model.weights} == {"float32"}
    golden = dict(np.load(folder / "golden.npz"))
    np.testing.assert_allclose(presets.run_preset_model(model, {"image": golden["image"]}),
                               golden["output"], atol=1e-6)


def test_packaging_again_keeps_the_int8_float_layers_and_drops_stale_tiles(
        trained, tmp_path, monkeypatch):
    folder = _preset_folder(tmp_path)
    monkeypatch.setattr(presets, "PRESETS_DIR", tmp_path / "presets")
    (folder / "tile-96.tflite").write_bytes(b"made from the old weights")
    (folder / "metadata.json").write_text(json.dumps(
        {"int8_float_layers": ["decoder0_conv2"], "headline": "an old number",
         "tflite_tiles": {"files": {"96": {"file": "tile-96.tflite", "sha256": "0" * 64}}}}))
    assert make_preset.main(["tiny-denoiser", "--from-run", "--run", str(trained[1])]) == 0
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["int8_float_layers"] == ["decoder0_conv2"] and "headline" not in meta
    assert "tflite_tiles" not in meta and not (folder / "tile-96.tflite").exists()
    assert zoo.load("tiny-denoiser").preset_int8_float_layers == ("decoder0_conv2",)


def test_a_folder_that_is_no_run_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="is not a run folder: config.json is missing"):
        make_preset.package_run("tiny-denoiser", tmp_path)


def test_a_preset_trained_from_other_weights_records_the_chain(trained, tmp_path,
                                                                 monkeypatch):
    """`--init-from RUN`: one command from a pruned or earlier model to the preset, whose
    metadata counts the source run's steps too."""
    folder = _preset_folder(tmp_path)
    monkeypatch.setattr(presets, "PRESETS_DIR", tmp_path / "presets")
    assert make_preset.main(["tiny-denoiser", "--steps", "2", "--out", str(tmp_path / "runs"),
                             "--init-from", str(trained[1])]) == 0
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["warm_start_chain"]["steps"] == 4 and meta["training_steps"] == 4
    assert meta["training_curve"]["warm_start"]["rows"][-1]["step"] == 2
