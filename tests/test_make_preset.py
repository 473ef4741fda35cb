"""`python -m training.make_preset`: train a tiny preset and load it back with zoo.load."""

import json

import h5py
import numpy as np

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


def test_trains_writes_and_loads_a_preset(tmp_path, monkeypatch):
    folder = tmp_path / "presets" / "tiny-denoiser"
    folder.mkdir(parents=True)
    (folder / "recipe.toml").write_text(RECIPE)
    monkeypatch.setattr(presets, "PRESETS_DIR", tmp_path / "presets")
    assert make_preset.main(["tiny-denoiser", "--steps", "2", "--out",
                             str(tmp_path / "runs")]) == 0

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
