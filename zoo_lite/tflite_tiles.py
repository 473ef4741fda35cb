"""A preset's shipped TFLite tiles: fill a large photo's holes without Keras.

An inpainting preset may ship one int8 .tflite file per tile side its tiling uses
(`python -m export.preset_tiles NAME`): the sides of `zoo_lite.hole_tiles.HOLE_TILINGS`
and the preset's own tile, each verified against Keras when written. Its metadata.json
lists them:

    "tflite_tiles": {"tile": 256, "overlap": 32, "size_factor": 16, "channels": 3,
                     "quantize": "int8", "weights_sha256": "...",
                     "vs_keras": {"96": {"psnr_vs_keras_db": ..., ...}, ...},
                     "files": {"96": {"file": "tile-96.tflite", "sha256": "..."}, ...}}

`TFLiteTiles.fill` runs the tiling `zoo.inference.apply_to_image` runs (the same
padding, hole groups, tiles and overlaps, `zoo_lite.tiles`), each tile through the file
of its side, so its result is the Keras one up to the int8 files' rounding. It needs no
Keras and no TensorFlow: `zoo predict` uses it for photos larger than the preset's
tile, which saves TensorFlow's import and the graph traces of each tile shape.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from zoo_lite.tiles import fill_by_hole_width, pad_to_multiple


def _metadata(folder):
    """The preset folder's metadata.json as a dict, or {} (the Keras loader reports a
    missing or broken one)."""
    try:
        meta = json.loads((Path(folder) / "metadata.json").read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def tile_manifest(folder):
    """The "tflite_tiles" entry of the preset folder's metadata.json, or None."""
    return _metadata(folder).get("tflite_tiles") or None


def tiles_folder(name):
    """The folder of the preset `name` (a shipped preset's name, as `zoo.load` reads it,
    or a preset folder's path) if it ships TFLite tiles, else None. Imports nothing of
    `zoo`: the shipped presets are found where the `zoo` package is installed."""
    from importlib.util import find_spec

    spec = find_spec("zoo")
    candidates = [Path(name).expanduser()]
    if spec is not None and spec.origin and Path(name).name == name:
        candidates.insert(0, Path(spec.origin).parent / "presets" / name)
    for folder in candidates:
        if folder.is_dir() and (folder / "metadata.json").is_file():
            return folder if tile_manifest(folder) else None
    return None


def default_threads():
    """Threads for the TFLite runtime: TF_NUM_INTRAOP_THREADS where set (the knob
    TensorFlow's own runtime reads), else every core this process may use."""
    value = os.environ.get("TF_NUM_INTRAOP_THREADS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    if hasattr(os, "sched_getaffinity"):  # Linux: the cores this process may use
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class TFLiteTiles:
    """The TFLite tiles of a preset: a shipped preset's name or a preset folder (its
    metadata.json must list them: `tile_manifest`). Each file's sha256 is checked when
    it is first used."""

    def __init__(self, preset, num_threads=None):
        self.folder = tiles_folder(str(preset)) or Path(preset)
        meta = _metadata(self.folder)
        manifest = meta.get("tflite_tiles")
        if not manifest:
            raise ValueError(f"preset {self.folder.name} ships no TFLite tiles.")
        if manifest.get("weights_sha256") != meta.get("sha256"):
            raise ValueError(f"preset {self.folder.name}: its TFLite tiles were made from "
                             "other weights; run `python -m export.preset_tiles "
                             f"{self.folder.name}` again.")
        self.tile, self.overlap = manifest["tile"], manifest["overlap"]
        self.factor, self.channels = manifest["size_factor"], manifest["channels"]
        self.files = {int(side): entry for side, entry in manifest["files"].items()}
        self.num_threads = num_threads or default_threads()
        self._models = {}

    def takes(self, height, width):
        """Whether an image of this size is run in tiles, each of a side the files have:
        at least the largest tile on each side, and larger than the preset's tile (a
        smaller image is one pass of the model at its own size)."""
        padded = [size + (-size) % self.factor for size in (height, width)]
        return min(height, width) >= max(self.files) and max(padded) > self.tile

    def _model(self, side):
        from zoo_lite.tflite_model import TFLiteModel

        if side not in self._models:
            if side not in self.files:
                raise ValueError(f"preset {self.folder.name} ships no {side} px TFLite tile.")
            entry = self.files[side]
            path = self.folder / entry["file"]
            if not path.is_file():
                raise ValueError(f"preset {self.folder.name}: {entry['file']} is missing; "
                                 "reinstall the package.")
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise ValueError(f"preset {self.folder.name}: {entry['file']} does not match "
                                 "its sha256 in metadata.json (corrupted or replaced); "
                                 "reinstall the package.")
            self._models[side] = TFLiteModel(data, num_threads=self.num_threads)
        return self._models[side]

    def run_batch(self, images, masks):
        """(B, t, t, C) images, float32 in [0, 1] or uint8, and (B, t, t, 1) masks ->
        (B, t, t, C) outputs of the images' dtype, through the file of side t. uint8
        images are divided by 255 and the outputs rounded back as
        `zoo_lite.image_io.to_rgb8` rounds, tile by tile: a 12 MP photo is then never
        held in float32."""
        model = self._model(images.shape[1])
        if images.dtype != np.uint8:
            return model.predict({"image": images, "mask": masks})
        outputs = model.predict({"image": images.astype(np.float32) / 255.0,
                                 "mask": masks.astype(np.float32)})
        return np.round(np.clip(outputs, 0.0, 1.0) * 255).astype(np.uint8)

    def fill(self, image, mask):
        """The preset's result for `image` (H, W, C), float32 in [0, 1] or uint8, and
        `mask` (H, W, 1) in {0, 1}, 1 = hole, of a size it `takes`. Returns (H, W, C) of
        the image's dtype: the image with its holes filled (uint8: the float result
        rounded to 8 bits)."""
        height, width = image.shape[:2]
        if not self.takes(height, width):
            raise ValueError(f"the TFLite tiles take images of at least {max(self.files)} px "
                             f"a side and over {self.tile} px one way; got {width}x{height} "
                             "(W x H).")
        dtype = np.uint8 if image.dtype == np.uint8 else np.float32
        padded, pad = pad_to_multiple(np.asarray(image, dtype), self.factor)
        padded_mask = np.pad((np.asarray(mask) > 0.5).astype(dtype), pad)
        return fill_by_hole_width(self.run_batch, padded, padded_mask, self.tile,
                                  self.overlap, self.factor)[:height, :width]
