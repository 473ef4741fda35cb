"""Pretrained presets shipped with the package: `list_presets()` and `load(name)`.

Each preset is a folder next to this file (or anywhere, given by its path: a copied
preset, or your own from `python -m training.make_preset`, passes the same checks):

    recipe.toml        the recipe it was trained with (`python -m training.make_preset NAME`)
    config.json        {"architecture": ..., "config": ...} for `zoo.create_model`
    model.weights.h5   the weights
    metadata.json      task, data and split, steps, hardware, metrics, parameters, and the
                       sha256 of the weights ("sha256") and of config.json ("config_sha256")
    golden.npz         a small input and the preset's output on it (tests/test_presets.py)
    README.md          the model card (written by benchmarks/quality.py --write-cards)

Everything is read from the installed package: nothing is downloaded. Integrity:
metadata.json must hold every key in `REQUIRED_KEYS` with the right type, its
`weights_file` must be a file inside the preset's folder, and config.json and the
weights must match their sha256; anything else is a `PresetError` naming the preset
and the file or key, never a half-loaded model.
"""

import hashlib
import json
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np

from zoo.conventions import TASKS

PRESETS_DIR = Path(__file__).parent
PRESET_FILES = ("metadata.json", "config.json")  # a folder with either is a preset

# metadata.json keys the loader and `zoo list` rely on, and their types
REQUIRED_KEYS = {"name": str, "task": str, "parameters": int, "weights_file": str,
                 "weights_bytes": int, "sha256": str, "config_sha256": str}
_KIND = {str: "a string", int: "an integer", dict: "an object"}
_SHA256 = re.compile(r"[0-9a-f]{64}")


class PresetError(ValueError):
    """A preset that is unknown, incomplete, edited or whose files fail their checksum."""


def sha256_of(path):
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _preset_folders():
    return sorted(p for p in PRESETS_DIR.iterdir()
                  if p.is_dir() and any((p / f).is_file() for f in PRESET_FILES))


def preset_names():
    """Names of the presets shipped (including broken ones, which fail on load), sorted."""
    return [p.name for p in _preset_folders()]


def _preset_name(name):
    """`name` as a preset reference: a shipped preset's name, or the path of a preset
    folder elsewhere (str or Path; a folder holding metadata.json or config.json); a
    metadata dict (`preset_info`) stands for its "name"."""
    if isinstance(name, dict):
        if not isinstance(name.get("name"), str):
            raise TypeError("A preset given as a dict needs a 'name' (a dict from "
                            "zoo.preset_info()).")
        name = name["name"]
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):
        raise TypeError(f"A preset is a name (str) such as {', '.join(preset_names()[:2])}, "
                        f"or the path of a preset folder; got {type(name).__name__}.")
    if name in preset_names():
        return name
    folder = Path(name).expanduser()
    if folder.is_dir() and any((folder / f).is_file() for f in PRESET_FILES):
        return str(folder.resolve())
    hint = (" For a .keras file use keras.saving.load_model."
            if name.endswith(".keras") else "")
    if folder.is_dir():
        hint = f" {name} is a folder without {' or '.join(PRESET_FILES)}."
    raise PresetError(f"Unknown preset {name!r}. Presets: {', '.join(preset_names())}, "
                      "or the path of a preset folder." + hint)


def _folder(name):
    """The folder of a reference from `_preset_name` (a shipped name or a folder path)."""
    return PRESETS_DIR / name if name in preset_names() else Path(name)


def preset_folder(name):
    """The folder of the preset `name` (a shipped preset's name or a preset folder's
    path), a PresetError for an unknown one."""
    return _folder(_preset_name(name))


def _label(name):
    """The preset's name as its files call it: the folder's name."""
    return _folder(name).name


def _file_in(name, filename, key):
    """PRESETS_DIR/name/filename, refused unless it is a plain file name that stays inside
    the preset folder (no folders, `..` or links out of it)."""
    folder = _folder(name).resolve()
    path = folder / filename
    if filename in ("", ".", "..") or Path(filename).name != filename \
            or not path.resolve().is_relative_to(folder):
        raise PresetError(f"Preset {name!r}: {key} {filename!r} must name a file inside "
                          f"{folder}.")
    return path


def _read_json(name, filename):
    path = _folder(name) / filename
    if not path.is_file():
        raise PresetError(f"Preset {name!r}: {path} is missing. Reinstall the package.")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PresetError(f"Preset {name!r}: cannot read {path} ({error}).") from None
    if not isinstance(data, dict):
        raise PresetError(f"Preset {name!r}: {path} must hold a JSON object.")
    return data


def _check_keys(name, filename, data, types):
    for key, kind in types.items():
        if key not in data:
            raise PresetError(f"Preset {name!r}: {filename} lacks the key {key!r}.")
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise PresetError(f"Preset {name!r}: {filename} key {key!r} must be "
                              f"{_KIND[kind]}, got {value!r}.")


def _names_list(value):
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)


def metadata(name):
    """The preset's metadata.json as a dict, its keys checked (`REQUIRED_KEYS`); an
    unknown name lists the known ones."""
    name = _preset_name(name)
    meta = _read_json(name, "metadata.json")
    _check_keys(name, "metadata.json", meta, REQUIRED_KEYS)
    problem = None
    if meta["name"] != _label(name):
        problem = f"key 'name' is {meta['name']!r}, not the folder's name"
    elif meta["task"] not in TASKS:
        problem = f"key 'task' is {meta['task']!r}, not one of {', '.join(TASKS)}"
    elif meta["weights_bytes"] < 0 or meta["parameters"] < 0:
        problem = "keys 'weights_bytes' and 'parameters' must be >= 0"
    elif not (_SHA256.fullmatch(meta["sha256"]) and _SHA256.fullmatch(meta["config_sha256"])):
        problem = "keys 'sha256' and 'config_sha256' must be 64 lowercase hex digits"
    elif (tile := meta.get("inference_tile")) is not None and (
            not isinstance(tile, int) or isinstance(tile, bool) or tile < 1):
        problem = f"key 'inference_tile' must be a positive int or null, got {tile!r}"
    elif (radius := meta.get("receptive_radius")) is not None and (
            not isinstance(radius, int) or isinstance(radius, bool) or radius < 0):
        problem = f"key 'receptive_radius' must be an int >= 0 or null, got {radius!r}"
    elif not _names_list(meta.get("int8_float_layers", [])):
        problem = ("key 'int8_float_layers' must be a list of layer names, got "
                   f"{meta['int8_float_layers']!r}")
    if problem:
        raise PresetError(f"Preset {name!r}: metadata.json {problem}.")
    _file_in(name, meta["weights_file"], "metadata.json weights_file")
    return meta


def read_config(name, meta=None):
    """The preset's config.json ({"architecture": str, "config": dict}) after checking
    it matches the sha256 recorded in metadata.json ("config_sha256")."""
    meta = meta or metadata(name)
    path = _folder(name) / "config.json"
    if path.is_file():
        actual = sha256_of(path)
        if actual != meta["config_sha256"]:
            raise PresetError(
                f"Preset {name!r}: {path} was edited (sha256 {actual[:12]}..., expected "
                f"{meta['config_sha256'][:12]}...). Reinstall the package (or, for an "
                f"intended edit, record it with zoo.presets.record_config_sha256({name!r})).")
    config = _read_json(name, "config.json")
    _check_keys(name, "config.json", config, {"architecture": str, "config": dict})
    return config


def check_preset(name):
    """The preset's metadata after the checks that need no hashing of the weights:
    keys, config.json's sha256, the weights file's presence and size."""
    meta = metadata(name)
    read_config(name, meta)
    _weights_present(name, meta)
    return meta


def scan_presets():
    """[(name, metadata or None, problem or None)] for every preset folder."""
    found = []
    for name in preset_names():
        try:
            found.append((name, check_preset(name), None))
        except PresetError as error:
            found.append((name, None, str(error)))
    return found


def list_presets(task=None):
    """Names of the shipped presets, sorted, optionally only those of `task` (`inpaint`,
    `denoise`, `segment` or `generate`); `preset_info(name)` gives a preset's details. A
    broken preset is left out with a warning naming it and the problem (`zoo list` shows
    it as broken)."""
    if task is not None and task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    found = []
    for _, meta, problem in scan_presets():
        if problem:
            warnings.warn(f"{problem} (left out of list_presets)", stacklevel=2)
        elif task is None or meta["task"] == task:
            found.append(meta["name"])
    return found


def preset_info(name):
    """A preset's metadata.json as a dict (task, data and split, training, metrics on
    held-out data, parameters, sha256 of its files), its keys checked; `name` is a
    shipped preset's name or a preset folder's path."""
    return metadata(name)


def _weights_present(name, meta):
    weights = _file_in(name, meta["weights_file"], "metadata.json weights_file")
    if not weights.is_file():
        raise PresetError(f"Preset {name!r}: weights file {weights} is missing.")
    size = weights.stat().st_size
    if size != meta["weights_bytes"]:
        raise PresetError(f"Preset {name!r}: {weights} has {size} bytes, expected "
                          f"{meta['weights_bytes']} (truncated or replaced). Reinstall the "
                          "package.")
    return weights


def verify_weights(name, meta=None):
    """Path of the preset's weights after checking they exist and match their sha256."""
    meta = meta or metadata(name)
    weights = _weights_present(name, meta)
    actual = sha256_of(weights)
    if actual != meta["sha256"]:
        raise PresetError(f"Preset {name!r}: {weights} is corrupted (sha256 {actual[:12]}..., "
                          f"expected {meta['sha256'][:12]}...). Reinstall the package.")
    return weights


def record_config_sha256(name):
    """Write config.json's sha256 into metadata.json ("config_sha256", after "sha256"),
    atomically; for a preset whose config.json was written or edited on purpose."""
    folder = _folder(_preset_name(name))
    meta = _read_json(name, "metadata.json")
    digest = sha256_of(folder / "config.json")
    updated = {}
    for key, value in meta.items():
        if key != "config_sha256":
            updated[key] = value
        if key == "sha256":
            updated["config_sha256"] = digest
    updated.setdefault("config_sha256", digest)
    handle, temporary = tempfile.mkstemp(suffix=".json.partial", dir=folder)
    try:
        with os.fdopen(handle, "w") as f:
            f.write(json.dumps(updated, indent=2) + "\n")
        os.chmod(temporary, 0o644)
        os.replace(temporary, folder / "metadata.json")
    finally:
        Path(temporary).unlink(missing_ok=True)
    return digest


def load(name, compile=True):
    """The pretrained preset `name` as a zoo model, its files checked and its weights
    loaded. `name` is a shipped preset's name (`list_presets()`), the path of a preset
    folder elsewhere (the same checks), or a metadata dict (`preset_info`).

    With `compile=True` (default) it is compiled with its standard loss and metrics,
    ready for `fit` (fine-tuning) or `evaluate`. Raises `PresetError` (a ValueError)
    for an unknown name, missing or edited files or weights that fail the sha256
    check, TypeError for a `name` that is neither; a model is returned only when
    every weight was loaded.
    """
    import zoo

    name = _preset_name(name)
    if not isinstance(compile, bool):
        raise TypeError(f"compile must be True or False, got {compile!r}.")
    meta = metadata(name)
    config = read_config(name, meta)
    weights = verify_weights(name, meta)
    try:
        model = zoo.create_model(config["architecture"], **config["config"])
    except (TypeError, ValueError) as error:
        raise PresetError(f"Preset {name!r}: config.json does not build a model "
                          f"({error}).") from None
    try:
        model.load_weights(str(weights))
    except Exception as error:  # h5py / Keras raise many types for a bad file
        raise PresetError(f"Preset {name!r}: the weights in {weights} do not fit the "
                          f"model ({type(error).__name__}: {error}).") from None
    if compile:
        model.compile()
    # the tile side `zoo.inference.apply_to_image` uses, chosen on validation images
    model.preset_tile = meta.get("inference_tile")
    if "receptive_radius" in meta:  # measured when packaged (null: global context)
        model._zoo_receptive_radius = meta["receptive_radius"]
    # layers its int8 export keeps in float32 besides `export.tflite.float_layer_names`
    model.preset_int8_float_layers = tuple(meta.get("int8_float_layers", ()))
    return model


def run_preset_model(model, inputs):
    """The model's output on `inputs` in inference mode, as float32 numpy.

    inputs: {"image": (B, H, W, C) [0, 1]} (+ "mask" (B, H, W, 1), 1 = hole, for
    inpainting), or {"latent": (B, latent_dim)} for a DCGAN (-> generated images).
    Segmentation returns class probabilities (B, H, W, classes).
    """
    from keras import ops

    if model.task == "generate":
        return ops.convert_to_numpy(model.served_network()(inputs["latent"], training=False))
    x = inputs if isinstance(model.input, dict) else inputs["image"]
    return np.asarray(ops.convert_to_numpy(model(x, training=False)), dtype=np.float32)


def load_preset_or_file(name):
    """A preset (`zoo.load(name, compile=False)`) or a .keras file."""
    path = Path(name)
    if path.suffix == ".keras" or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"No such model file: {name}")
        import keras

        try:
            return keras.saving.load_model(path, compile=False)
        except Exception as error:  # Keras raises many types for a bad file
            raise ValueError(f"Cannot load {name} as a Keras model "
                             f"({type(error).__name__}: {error}).") from None
    if name not in preset_names():
        raise ValueError(f"Unknown model {name!r}: give a preset name ("
                         f"{', '.join(preset_names())}) or a .keras file.")
    return load(name, compile=False)
