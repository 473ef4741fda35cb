"""Write an inpainting preset's TFLite tiles (`zoo_lite.tflite_tiles`) into its folder.

    python -m export.preset_tiles unet-inpaint-photos

exports the preset at every tile side `zoo.inference.apply_to_image` runs it with (the
hole groups' sides of `zoo_lite.hole_tiles.HOLE_TILINGS` and its own tile) as
builtins-only int8 TFLite, calibrated on its recipe's training data at that side (the
fill and the preset's float32 layers kept in float32, as `zoo export --quantize int8`
does), verifies each against Keras (`export.to_tflite`), and records the files, their
sha256, their PSNR against Keras and the tiling in metadata.json ("tflite_tiles"), each
file written through a temporary name. Run it again after the weights change: the
entry names the weights' sha256, and files made from other weights are refused at load.

Why int8: float16 weights round the fill's constants (its momentum among them), and
over its relaxation steps that took a 96 px tile 35 dB from Keras in the holes (max
error 0.055); float32 files are 8.7 MB each, int8 ones 3 MB, and faster.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from zoo_lite.image_io import replaced_on_success, write_json

QUANTIZE = "int8"


def tiling_of(model):
    """What `apply_to_image` tiles a photo larger than the preset's tile with: {"tile",
    "overlap", "size_factor", "sides"} (pixels)."""
    from zoo.inference import large_image_tiling, size_factor
    from zoo_lite.hole_tiles import HOLE_TILINGS
    from zoo_lite.tiles import tiling_for_group

    factor = size_factor(model)
    tile, overlap = large_image_tiling(model)
    sides = sorted({tiling_for_group(tuple(row[1:]), tile, overlap, factor)[0]
                    for row in HOLE_TILINGS} | {tile})
    return {"tile": tile, "overlap": overlap, "size_factor": factor, "sides": sides}


def write_tiles(name, log=print):
    """Export, verify and record the preset `name`'s TFLite tiles; returns the entry."""
    import zoo
    from export.data import representative_dataset
    from export.exporters import to_tflite
    from training.recipe import load_recipe
    from training.tasks import task_of
    from zoo.inference import receptive_radius
    from zoo.presets import metadata, preset_folder, sha256_of

    model = zoo.load(name, compile=False)
    if task_of(model) != "inpaint" or receptive_radius(model) is not None:
        raise ValueError(f"{name}: TFLite tiles are for inpainters with global context "
                         "(the in-graph fill), whose holes apply_to_image groups by width.")
    folder = preset_folder(name)
    recipe = load_recipe(folder / "recipe.toml")
    tiling = tiling_of(model)
    files, errors = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for side in tiling.pop("sides"):
            exported = Path(scratch) / f"tile-{side}.tflite"
            calibration = representative_dataset(model, (side, side), recipe=recipe)
            report = to_tflite(model, exported, quantize=QUANTIZE, input_size=(side, side),
                               representative_data=calibration, source=f"preset:{name}",
                               recipe=recipe, log=log)
            errors[str(side)] = {key: round(report[key], 2) for key in
                                 ("psnr_vs_keras_db", "hole_psnr_vs_keras_db")}
            with replaced_on_success(folder / exported.name) as temporary:
                shutil.copyfile(exported, temporary)
            files[str(side)] = {"file": exported.name, "sha256": sha256_of(exported)}
    meta = metadata(name)
    entry = {**tiling, "channels": int(model.input["image"].shape[-1]),
             "quantize": QUANTIZE, "weights_sha256": meta["sha256"],
             "vs_keras": errors, "files": files}
    write_json({**meta, "tflite_tiles": entry}, folder / "metadata.json")
    return entry


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="an inpainting preset")
    args = parser.parse_args(argv)
    entry = write_tiles(args.name)
    for side, scores in entry["vs_keras"].items():
        print(f"{args.name}: {side} px tile, PSNR against Keras {scores['psnr_vs_keras_db']} "
              f"dB, in the holes {scores['hole_psnr_vs_keras_db']} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
