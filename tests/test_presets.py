"""The shipped presets: golden outputs, checksums, loading errors, `.keras` round trip."""

import shutil

import keras
import numpy as np
import pytest

import zoo
from zoo import presets
from zoo.presets import PresetError, preset_names, run_preset_model

EXPECTED = {
    "inpainter-natural": "inpaint",
    "inpainter-photos": "inpaint",
    "unet-inpaint-natural": "inpaint",
    "unet-denoise-natural": "denoise",
    "unet-inpaint-photos": "inpaint",
    "unet-denoise-photos": "denoise",
    "unet-segment-shapes": "segment",
    "dcgan-digits": "generate",
    "dcgan-textures": "generate",
}
MAX_SHIPPED_BYTES = 60_000_000
GOLDEN_ATOL = 1e-4  # float32 reductions may differ in order across CPUs / library versions


def test_every_expected_preset_ships_with_its_files():
    assert set(preset_names()) == set(EXPECTED)
    for name, task in EXPECTED.items():
        folder = presets.PRESETS_DIR / name
        for file in ("recipe.toml", "config.json", "model.weights.h5", "metadata.json",
                     "golden.npz", "README.md"):
            assert (folder / file).is_file(), f"{name} lacks {file}"
        meta = presets.metadata(name)
        assert meta["task"] == task
        assert meta["sha256"] == presets.sha256_of(folder / "model.weights.h5")
        assert meta["training_steps"] > 0 and meta["parameters"] > 0
        assert meta["keras_version"] and meta["hardware"]["backend"]


def test_shipped_weights_fit_the_size_budget():
    total = sum((presets.PRESETS_DIR / n / "model.weights.h5").stat().st_size
                for n in preset_names())
    assert total <= MAX_SHIPPED_BYTES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden_output(name):
    model = zoo.load(name)
    stored = dict(np.load(presets.PRESETS_DIR / name / "golden.npz"))
    expected = stored.pop("output")
    output = run_preset_model(model, stored)
    assert output.shape == expected.shape
    np.testing.assert_allclose(output, expected, atol=GOLDEN_ATOL, rtol=0)
    assert model.compiled


@pytest.mark.parametrize("name", sorted(n for n, task in EXPECTED.items() if task != "generate"))
def test_recorded_receptive_radius_is_what_the_probe_measures(name):
    from zoo.inference import receptive_radius

    model = zoo.load(name, compile=False)
    recorded = presets.metadata(name)["receptive_radius"]
    assert model._zoo_receptive_radius == recorded  # apply_to_image skips the probe
    del model._zoo_receptive_radius
    assert receptive_radius(model) == recorded


def test_list_presets_filters_by_task():
    assert zoo.list_presets("inpaint") == sorted(
        n for n, t in EXPECTED.items() if t == "inpaint")
    assert zoo.list_presets() == sorted(EXPECTED)
    assert all(zoo.preset_info(name)["task"] == EXPECTED[name] for name in EXPECTED)
    with pytest.raises(ValueError, match="Unknown task 'paint'"):
        zoo.list_presets("paint")


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(PresetError, match="Unknown preset 'unet-denoise'.*unet-denoise-natural"):
        zoo.load("unet-denoise")


@pytest.fixture
def preset_copy(tmp_path, monkeypatch):
    """A copy of one preset folder, with zoo.presets pointed at the copy."""
    name = "unet-segment-shapes"
    shutil.copytree(presets.PRESETS_DIR / name, tmp_path / name)
    monkeypatch.setattr(presets, "PRESETS_DIR", tmp_path)
    return name, tmp_path / name / "model.weights.h5"


def test_corrupted_weights_are_refused(preset_copy):
    name, weights = preset_copy
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(PresetError, match="corrupted"):
        zoo.load(name)


def test_truncated_weights_are_refused(preset_copy):
    name, weights = preset_copy
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(PresetError, match="truncated"):
        zoo.load(name)


def test_missing_weights_are_refused(preset_copy):
    name, weights = preset_copy
    weights.unlink()
    with pytest.raises(PresetError, match="missing"):
        zoo.load(name)


def test_model_saved_from_a_preset_loads_with_keras(tmp_path):
    model = zoo.load("unet-denoise-natural")
    path = tmp_path / "denoiser.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    image = np.random.default_rng(0).random((1, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(image, verbose=0),
                               model.predict(image, verbose=0), atol=1e-6)
