"""Pretrained presets shipped with the package: `list_presets()` and `load(name)`.

Each preset is a folder next to this file:

    recipe.toml        the recipe it was trained with (`python -m training.make_preset NAME`)
    config.json        {"architecture": ..., "config": ...} for `zoo.create_model`
    model.weights.h5   the weights; their sha256 is in metadata.json and checked on load
    metadata.json      task, data and split, steps, hardware, metrics, parameters, sha256
    golden.npz         a small input and the preset's output on it (tests/test_presets.py)
    README.md          the model card (written by benchmarks/quality.py --write-cards)

Everything is read from the installed package: nothing is downloaded.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

PRESETS_DIR = Path(__file__).parent
TASKS = ("inpaint", "denoise", "segment", "generate")


class PresetError(ValueError):
    """A preset that is unknown, incomplete or whose weights fail their checksum."""


def sha256_of(path):
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _preset_folders():
    return sorted(p for p in PRESETS_DIR.iterdir()
                  if p.is_dir() and (p / "metadata.json").is_file())


def preset_names():
    """Names of the presets that have been trained and shipped, sorted."""
    return [p.name for p in _preset_folders()]


def metadata(name):
    """The preset's metadata.json as a dict; an unknown name lists the known ones."""
    folder = PRESETS_DIR / name
    path = folder / "metadata.json"
    if not path.is_file():
        raise PresetError(f"Unknown preset {name!r}. Presets: {', '.join(preset_names())}.")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise PresetError(f"Preset {name!r}: {path} is not valid JSON ({error}).") from None


def list_presets(task=None):
    """Metadata dicts of the shipped presets, optionally only those of `task`
    (`inpaint`, `denoise`, `segment` or `generate`)."""
    if task is not None and task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    found = [metadata(name) for name in preset_names()]
    return [m for m in found if task is None or m["task"] == task]


def verify_weights(name, meta=None):
    """Path of the preset's weights after checking they exist and match their sha256."""
    meta = meta or metadata(name)
    weights = PRESETS_DIR / name / meta["weights_file"]
    if not weights.is_file():
        raise PresetError(f"Preset {name!r}: weights file {weights} is missing.")
    size = weights.stat().st_size
    if size != meta["weights_bytes"]:
        raise PresetError(f"Preset {name!r}: {weights} has {size} bytes, expected "
                          f"{meta['weights_bytes']} (truncated or replaced). Reinstall the "
                          "package.")
    actual = sha256_of(weights)
    if actual != meta["sha256"]:
        raise PresetError(f"Preset {name!r}: {weights} is corrupted (sha256 {actual[:12]}..., "
                          f"expected {meta['sha256'][:12]}...). Reinstall the package.")
    return weights


def load(name, compile=True):
    """The pretrained preset `name` as a zoo model, its weights checked and loaded.

    With `compile=True` (default) it is compiled with its standard loss and metrics,
    ready for `fit` (fine-tuning) or `evaluate`. Raises `PresetError` (a ValueError)
    for an unknown name, missing files or weights that fail the sha256 check; a
    model is returned only when every weight was loaded.
    """
    import zoo

    meta = metadata(name)
    weights = verify_weights(name, meta)
    config_path = PRESETS_DIR / name / "config.json"
    try:
        config = json.loads(config_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise PresetError(f"Preset {name!r}: cannot read {config_path} ({error}).") from None
    model = zoo.create_model(config["architecture"], **config["config"])
    try:
        model.load_weights(str(weights))
    except Exception as error:  # h5py / Keras raise many types for a bad file
        raise PresetError(f"Preset {name!r}: the weights in {weights} do not fit the "
                          f"model ({type(error).__name__}: {error}).") from None
    if compile:
        model.compile()
    # the tile side `zoo.inference.apply_to_image` uses, chosen on validation images
    model.preset_tile = meta.get("inference_tile")
    return model


def run_preset_model(model, inputs):
    """The model's output on `inputs` in inference mode, as float32 numpy.

    inputs: {"image": (B, H, W, C) [0, 1]} (+ "mask" (B, H, W, 1), 1 = hole, for
    inpainting), or {"latent": (B, latent_dim)} for a DCGAN (-> generated images).
    Segmentation returns class probabilities (B, H, W, classes).
    """
    from keras import ops

    from zoo.models.dcgan import DCGAN

    if isinstance(model, DCGAN):
        return ops.convert_to_numpy(model.generator(inputs["latent"], training=False))
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
