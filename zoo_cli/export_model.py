"""`zoo export NAME_OR_PATH --format savedmodel|tflite ... -o OUT`."""

import json
from pathlib import Path

from export.files import check_target, finish_interrupted, serving_target


def _run_recipe(path):
    """The recipe of the run folder a .keras file was saved in, if any."""
    from training.recipe import parse_recipe

    for folder in (path.parent, path.parent.parent):
        config = folder / "config.json"
        if config.is_file():
            return parse_recipe(json.loads(config.read_text())["recipe"])
    return None


def preset_tiling(name):
    """Sidecar fields telling an app how a repair preset must be run: in tiles of
    `inference_tile` pixels with `tile_overlap` of context, as `zoo.inference` does.
    Empty for presets without a tile (generators)."""
    from zoo.inference import DEFAULT_OVERLAP
    from zoo.presets import metadata

    tile = metadata(name).get("inference_tile")
    if not tile:
        return {}
    return {"inference_tile": tile, "tile_overlap": min(DEFAULT_OVERLAP, tile // 4),
            "tiling": "run the photo in overlapping tiles of inference_tile pixels and keep "
                      "each tile's interior (tile_overlap pixels in from every side that is "
                      "not the photo's edge): the model was validated that way, and seen "
                      "whole a large photo can fail on big uniform regions"}


def preset_input_size(name, tiling):
    """((H, W), why) a preset's .tflite takes by default, or (None, None) to fall back on
    the model's own size. A repair preset: its inference tile. A segmentation preset: the
    scene size it was trained on, since its objects must keep the scale it learned
    (unet-segment-shapes scores mean IoU 0.955 on 64 x 64 test scenes, 0.29 on 256 x 256
    ones, whose shapes are 4x larger)."""
    from zoo.presets import metadata

    if tiling:
        return (tiling["inference_tile"],) * 2, "the preset's inference tile"
    meta = metadata(name)
    if meta["task"] == "segment":
        return tuple(meta["crop_size"]), "the scene size the preset was trained on"
    return None, None


def load_preset_for_export(name):
    """(model, source, recipe) of a pretrained preset: its data calibrates and verifies."""
    import zoo
    from training.recipe import load_recipe
    from zoo.presets import PRESETS_DIR

    return zoo.load(name), f"preset:{name}", load_recipe(PRESETS_DIR / name / "recipe.toml")


def load_exportable(name_or_path):
    """(model, source, recipe) for a preset, an architecture name or a .keras file."""
    import keras

    import zoo
    from zoo.presets import preset_names

    path = Path(name_or_path)
    if name_or_path in preset_names():
        return load_preset_for_export(name_or_path)
    if name_or_path in zoo.list_models():
        return zoo.create_model(name_or_path), name_or_path, None
    if path.suffix != ".keras" and not path.exists():
        raise ValueError(f"{name_or_path!r} is neither a preset ({', '.join(preset_names())}), "
                         f"an architecture ({', '.join(zoo.list_models())}) nor a .keras "
                         "file.")
    if not path.is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    try:
        model = keras.saving.load_model(path)
    except Exception as error:  # Keras raises many types for broken files
        raise ValueError(f"{path} is not a loadable .keras model "
                         f"({type(error).__name__}: {str(error)[:200]}).") from None
    names = {t.name for t in getattr(model, "inputs", None) or []}
    if not (names & {"image", "latent"} or hasattr(model, "served_network")):
        raise ValueError(f"{path} is not a zoo model: its inputs are {sorted(names)}, "
                         "expected image (+ mask) or latent.")
    return model, str(path), _run_recipe(path)


def check_flags(args):
    """Raise a one-line error for flags that do not apply to the chosen format."""
    if args.format == "savedmodel" and args.quantize != "none":
        raise ValueError("--quantize applies to --format tflite only.")
    if args.format == "tflite" and args.serving_version is not None:
        raise ValueError("--serving-version applies to --format savedmodel only.")
    if args.int8_io and args.quantize != "int8":
        raise ValueError("--int8-io applies to --quantize int8 only.")
    if args.calibration_examples is not None and args.quantize != "int8":
        raise ValueError("--calibration-examples applies to --quantize int8 only.")


def cmd_export(args):
    check_flags(args)
    target = serving_target(args.out, args.serving_version)
    finish_interrupted(target)  # an export to it killed after its commit point
    check_target(target, args.force, directory=args.format == "savedmodel")  # fail fast
    import keras

    if keras.backend.backend() != "tensorflow":
        from zoo_cli.train import rerun_with_backend

        return rerun_with_backend("tensorflow", args.argv)
    from export.data import representative_dataset
    from export.exporters import default_input_size, export_saved_model, to_tflite

    model, source, recipe = load_exportable(args.model)
    size = tuple(args.size) if args.size else None
    notes = preset_tiling(args.model) if source.startswith("preset:") else {}
    if size is None and args.format == "tflite" and source.startswith("preset:"):
        size, reason = preset_input_size(args.model, notes)
        if size:
            print(f"input size {size[0]}x{size[1]}: {reason} (pass --size H W for another)")
    if args.format == "savedmodel":
        export_saved_model(model, args.out, input_size=size,
                           serving_version=args.serving_version, force=args.force,
                           allow_degraded=args.allow_degraded, source=source, recipe=recipe,
                           notes=notes)
    else:
        rep = None
        if args.quantize == "int8":
            count = args.calibration_examples or 64
            print(f"calibrating int8 on {count} training examples...")
            rep = representative_dataset(model, size or default_input_size(model),
                                         count=count, recipe=recipe)
        to_tflite(model, args.out, quantize=args.quantize, representative_data=rep,
                  input_size=size, int8_io=args.int8_io, force=args.force,
                  allow_degraded=args.allow_degraded, source=source, recipe=recipe,
                  notes=notes)
    print(f"wrote {args.out} (+ {Path(args.out).name}.json sidecar, "
          f"{Path(args.out).name}.verification.json report)")
    return 0
