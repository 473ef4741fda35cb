"""Broken presets and wrong arguments to `zoo.load` (issue 21).

A preset whose config.json was edited, whose metadata.json lacks a key or whose files
point outside its folder is a one-line `PresetError` naming the preset and the file
or key; `zoo list` still lists the others and shows the broken one with its reason.
"""

import json

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo import presets
from zoo.presets import PresetError
from zoo_cli.main import main

NAME = "unet-segment-shapes"


@pytest.fixture
def broken(tmp_path, monkeypatch):
    """zoo.presets pointed at a copy of the presets folder: links to the shipped presets
    but NAME, whose files are copied so a test can damage them. Returns (NAME's folder,
    a function that rewrites its metadata.json)."""
    root = tmp_path / "presets"
    root.mkdir()
    for other in presets.preset_names():
        if other != NAME:
            (root / other).symlink_to(presets.PRESETS_DIR / other)
    folder = root / NAME
    folder.mkdir()
    for file in (presets.PRESETS_DIR / NAME).iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    monkeypatch.setattr(presets, "PRESETS_DIR", root)

    def edit_metadata(change):
        meta = json.loads((folder / "metadata.json").read_text())
        change(meta)
        (folder / "metadata.json").write_text(json.dumps(meta))
    return folder, edit_metadata


def _refused(message, capsys):
    """zoo.load(NAME) and `zoo predict NAME` fail with `message`, in one line."""
    with pytest.raises(PresetError, match=message) as error:
        zoo.load(NAME)
    assert repr(NAME) in str(error.value) and "\n" not in str(error.value)
    folder = presets.PRESETS_DIR.parent
    Image.new("RGB", (16, 16)).save(folder / "scene.png")
    assert main(["predict", NAME, str(folder / "scene.png"), "-o",
                 str(folder / "labels.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zoo: error: ") and err.count("\n") == 1 and message in err
    assert not (folder / "labels.png").exists()


def _listed_as_broken(message, capsys):
    """`zoo list` exits 0, shows every other preset and NAME as broken with `message`."""
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for other in presets.preset_names():
        assert other in out
    row = next(line for line in out.splitlines() if line.startswith(NAME))
    assert "BROKEN" in row and message in row
    with pytest.warns(UserWarning, match=NAME):
        names = zoo.list_presets()
    assert NAME not in names and len(names) == len(presets.preset_names()) - 1


def test_an_edited_config_is_refused(broken, capsys):
    folder, _ = broken
    config = json.loads((folder / "config.json").read_text())
    config["config"]["residual"] = False
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    _refused("config.json was edited", capsys)
    _listed_as_broken("config.json was edited", capsys)


@pytest.mark.parametrize("key", ["config_sha256", "name", "parameters", "sha256", "task",
                                 "weights_bytes", "weights_file"])
def test_a_metadata_key_missing_is_named(key, broken, capsys):
    _, edit_metadata = broken
    edit_metadata(lambda meta: meta.pop(key))
    message = f"metadata.json lacks the key '{key}'"
    _refused(message, capsys)
    _listed_as_broken(message, capsys)


@pytest.mark.parametrize("key", ["architecture", "config"])
def test_a_config_key_missing_is_named(key, broken, capsys):
    folder, _ = broken
    config = json.loads((folder / "config.json").read_text())
    del config[key]
    (folder / "config.json").write_text(json.dumps(config))
    presets.record_config_sha256(NAME)  # as if edited on purpose: the key is still missing
    _refused(f"config.json lacks the key '{key}'", capsys)


@pytest.mark.parametrize("key, value, message", [
    ("weights_file", "../unet-denoise-natural/model.weights.h5", "must name a file inside"),
    ("weights_file", "/etc/hostname", "must name a file inside"),
    ("weights_file", "", "must name a file inside"),
    ("weights_bytes", "8841832", "'weights_bytes' must be an integer"),
    ("parameters", True, "'parameters' must be an integer"),
    ("task", "upscale", "key 'task' is 'upscale'"),
    ("name", "unet-denoise-natural", "not the folder's name"),
    ("sha256", "abc", "64 lowercase hex digits"),
    ("inference_tile", 0, "'inference_tile' must be a positive int"),
    ("receptive_radius", -1, "'receptive_radius' must be an int >= 0 or null"),
    ("receptive_radius", "32", "'receptive_radius' must be an int >= 0 or null"),
    ("int8_float_layers", "to_image", "'int8_float_layers' must be a list of layer names"),
    ("int8_float_layers", [""], "'int8_float_layers' must be a list of layer names"),
])
def test_bad_metadata_values_are_named(key, value, message, broken, capsys):
    _, edit_metadata = broken
    edit_metadata(lambda meta: meta.update({key: value}))
    _refused(message, capsys)
    _listed_as_broken(message, capsys)


def test_weights_linked_from_outside_the_folder_are_refused(broken, tmp_path, capsys):
    folder, _ = broken
    outside = tmp_path / "elsewhere.h5"
    outside.write_bytes((folder / "model.weights.h5").read_bytes())
    (folder / "model.weights.h5").unlink()
    (folder / "model.weights.h5").symlink_to(outside)
    _refused("must name a file inside", capsys)


@pytest.mark.parametrize("text, message", [
    ("{not json", "cannot read"),
    ("[1, 2]", "must hold a JSON object"),
    (None, "metadata.json is missing"),
])
def test_an_unreadable_metadata_file_is_named(text, message, broken, capsys):
    folder, _ = broken
    if text is None:
        (folder / "metadata.json").unlink()
    else:
        (folder / "metadata.json").write_text(text)
    _refused(message, capsys)
    _listed_as_broken(message, capsys)


def test_a_missing_config_is_named(broken, capsys):
    folder, _ = broken
    (folder / "config.json").unlink()
    _refused("config.json is missing", capsys)
    _listed_as_broken("config.json is missing", capsys)


@pytest.mark.parametrize("name, error, message", [
    (None, TypeError, "got NoneType"),
    (3, TypeError, "got int"),
    (b"unet-denoise-natural", TypeError, "got bytes"),
    ({"task": "denoise"}, TypeError, "needs a 'name'"),
    (f"../presets/{NAME}", PresetError, "Unknown preset"),
    ("model.keras", PresetError, "keras.saving.load_model"),
])
def test_load_refuses_what_is_not_a_preset_name(name, error, message):
    with pytest.raises(error, match=message):
        zoo.load(name)


def test_load_refuses_a_compile_that_is_not_a_bool():
    with pytest.raises(TypeError, match="compile must be True or False"):
        zoo.load(NAME, compile="no")


def test_load_takes_a_dict_from_preset_info():
    meta = zoo.preset_info("dcgan-digits")
    model = zoo.load(meta, compile=False)
    assert model.count_params() == meta["parameters"]


def test_from_preset_on_each_family_and_a_copied_folder(tmp_path):
    import shutil

    from zoo.presets import PRESETS_DIR

    assert isinstance(zoo.DCGAN.from_preset("dcgan-digits", compile=False), zoo.DCGAN)
    assert isinstance(zoo.ConvAutoencoderInpainter.from_preset("inpainter-natural"),
                      zoo.ConvAutoencoderInpainter)
    with pytest.raises(zoo.PresetError, match="is a DCGAN, not a UNet: use DCGAN.from_preset"):
        zoo.UNet.from_preset("dcgan-digits")
    copied = tmp_path / "unet-segment-shapes"
    shutil.copytree(PRESETS_DIR / "unet-segment-shapes", copied)
    from_folder = zoo.UNet.from_preset(copied, compile=False)
    shipped = zoo.load("unet-segment-shapes", compile=False)
    for a, b in zip(from_folder.get_weights(), shipped.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert zoo.preset_info(copied)["sha256"] == zoo.preset_info("unet-segment-shapes")["sha256"]
    with open(copied / "model.weights.h5", "r+b") as weights:  # the same checks apply
        weights.seek(-100, 2)
        weights.write(b"\0" * 100)
    with pytest.raises(zoo.PresetError, match="is corrupted"):
        zoo.load(str(copied))
    with pytest.raises(zoo.PresetError, match="a folder without metadata.json"):
        zoo.load(tmp_path)


def test_list_presets_gives_names_and_preset_info_the_details():
    names = zoo.list_presets()
    assert names == sorted(names) and all(isinstance(name, str) for name in names)
    assert [zoo.preset_info(name)["name"] for name in names] == names
