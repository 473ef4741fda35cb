"""Train a preset from its recipe and write its package-data folder.

    python -m training.make_preset unet-denoise-natural --steps 2000

reads `zoo/presets/NAME/recipe.toml`, trains it with `training.run.train` into
`runs/presets/NAME/`, and writes into `zoo/presets/NAME/` (each file through a
temporary name and a rename):

    config.json        {"architecture": ..., "config": model.get_config()}
    model.weights.h5   the final weights, stored as float16 (half the package size; the
                       model loads them into float32 variables)
    metadata.json      task, data and split, recipe, steps, hardware, wall time,
                       validation metrics, parameter count, Keras version, sha256
    golden.npz         a small fixed input and the preset's output on it (golden tests)

`--from-run` packages a run folder instead of training (`--run DIR`, default
OUT/NAME): a finished run's model.keras, or a run still going its latest backup, with
its validation curve in the metadata. `--golden-only` rewrites golden.npz from the
shipped weights without training; `--store-float16` converts a shipped preset's
float32 weights.
The model card (README.md) is written by `benchmarks/quality.py --write-cards`,
so its numbers are the benchmark's.
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import keras
import numpy as np

from zoo.metrics import psnr_of_mse
from zoo_lite.image_io import replaced_on_success, write_json

GOLDEN_SIZE = 32  # every preset's depth divides it; small enough to run in CI instantly


def preset_dir(name):
    from zoo.presets import PRESETS_DIR

    folder = PRESETS_DIR / name
    if not (folder / "recipe.toml").is_file():
        raise ValueError(f"No preset recipe at {folder / 'recipe.toml'}.")
    return folder


def _hardware():
    devices = [str(d) for d in keras.distribution.list_devices()] if hasattr(
        keras, "distribution") else []
    return {"backend": keras.backend.backend(), "devices": devices,
            "machine": platform.machine(), "processor": platform.processor(),
            "cpu_count": os.cpu_count(), "platform": platform.platform()}


def golden_input(model, seed=0):
    """A fixed small input for the preset's task (what `zoo.presets.predict_batch` takes)."""
    from training.tasks import task_of
    from zoo.inference import takes_noise_level

    rng = np.random.default_rng(seed)
    task = task_of(model)
    if task == "generate":
        return {"latent": rng.standard_normal((2, model.latent_dim)).astype("float32")}
    channels = model.inputs[0].shape[-1]
    image = rng.random((2, GOLDEN_SIZE, GOLDEN_SIZE, channels), dtype=np.float32)
    # smooth it so the input looks like an image, not white noise
    image = (image + np.roll(image, 1, 1) + np.roll(image, 1, 2) + np.roll(image, 1, (1, 2))) / 4
    if task == "inpaint":
        mask = np.zeros((2, GOLDEN_SIZE, GOLDEN_SIZE, 1), np.float32)
        mask[:, 8:20, 10:24] = 1.0
        return {"image": image, "mask": mask}
    if takes_noise_level(model):
        return {"image": image, "noise_level": np.full((2, 1), 25 / 255, np.float32)}
    return {"image": image}


TILE_CANDIDATES = (64, 128, 256)  # 256 = the whole validation image in one pass
TILE_IMAGE_SIZE = 256


def choose_tile(model, task, seed=0):
    """The `zoo.inference.apply_to_image` tile side with the best PSNR on the validation
    photos (never the test photos): {"inference_tile": side, "tile_selection": {side: dB}}.

    Repair models trained on small crops can fail on large uniform regions seen in one
    pass (seen on a held-out photo: 10 dB whole vs 25 dB in 64 px tiles); where tiles
    do better on validation data, the preset uses them."""
    from training.datasets import load_images
    from training.degradations import add_gaussian_noise
    from training.images import center_square
    from training.masks import random_mask
    from zoo.inference import apply_to_image

    if task not in ("inpaint", "denoise"):
        return {}
    rng = np.random.default_rng(seed)
    cases = []
    for photo in load_images("natural", "validation"):
        clean = center_square(photo, TILE_IMAGE_SIZE)
        for _ in range(3):
            if task == "denoise":
                cases.append((clean, add_gaussian_noise(rng, clean, (25, 25))[0], None))
            else:
                mask = random_mask(rng, TILE_IMAGE_SIZE, TILE_IMAGE_SIZE, "mixed", (0.05, 0.25))
                cases.append((clean, clean * (1 - mask), mask))
    scores = {}
    for tile in TILE_CANDIDATES:
        errors = [np.mean((apply_to_image(model, x, mask, tile=tile) - clean) ** 2)
                  for clean, x, mask in cases]
        scores[tile] = round(float(psnr_of_mse(np.mean(errors))), 3)
    # on a tie the larger tile: the same output in fewer, less overlapping calls
    return {"inference_tile": max(scores, key=lambda tile: (scores[tile], tile)),
            "tile_selection": scores}


def serving_facts(model, task):
    """What `zoo.inference.apply_to_image` reads from a preset instead of measuring it at
    every load: the tile side (`choose_tile`) and, for every model it serves, the
    receptive radius (pixels; None = global context), whose probe takes seconds."""
    from zoo.inference import receptive_radius

    if task == "generate":
        return {}
    return {**choose_tile(model, task), "receptive_radius": receptive_radius(model)}


def write_golden(model, folder):
    from zoo.presets import run_preset_model

    inputs = golden_input(model)
    output = run_preset_model(model, inputs)
    with replaced_on_success(folder / "golden.npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, output=output, **inputs)


def _weights_only(architecture, config, model):
    """An uncompiled copy of `model`: `save_weights` of a compiled model also writes the
    optimizer's slots (3x the file size for Adam), which a preset does not ship."""
    import zoo

    copy = zoo.create_model(architecture, **config)
    copy.set_weights(model.get_weights())
    return copy


def _as_float16(weights_file):
    """Rewrite a .weights.h5 file in place with its float32 arrays as float16."""
    from training.snapshot import compact_weights

    with replaced_on_success(weights_file, suffix=".weights.h5") as tmp:
        compact_weights(weights_file, tmp)


# metadata.json keys chosen by measuring a preset's exports, not by its training run: a
# preset packaged again keeps them
EXPORT_CHOICES = ("int8_float_layers",)


def _export_choices(folder):
    path = folder / "metadata.json"
    if not path.is_file():
        return {}
    previous = json.loads(path.read_text())
    return {key: previous[key] for key in EXPORT_CHOICES if key in previous}


def _drop_stale_tiles(folder):
    """Remove the preset's TFLite tiles (`zoo_lite.tflite_tiles`): they were made from the
    weights being replaced, and would otherwise ship unlisted beside the new ones."""
    from zoo_lite.tflite_tiles import tile_manifest

    manifest = tile_manifest(folder)
    if not manifest:
        return
    for entry in manifest.get("files", {}).values():
        (folder / Path(entry["file"]).name).unlink(missing_ok=True)
    print(f"removed {folder.name}'s TFLite tiles (made from the previous weights); write "
          f"new ones with `python -m export.preset_tiles {folder.name}`")


def write_preset(name, model, recipe, run_dir, metrics, steps, seconds, extra=None):
    import zoo
    from training.tasks import task_of
    from zoo.presets import sha256_of

    folder = preset_dir(name)
    kept = _export_choices(folder)
    config = dict(recipe.model.config)  # what `build_model(recipe)` passed to create_model
    architecture = recipe.model.architecture
    write_json({"architecture": architecture, "config": config}, folder / "config.json")
    weights = folder / "model.weights.h5"
    with replaced_on_success(weights, suffix=".weights.h5") as tmp:
        _weights_only(architecture, config, model).save_weights(str(tmp))
    _as_float16(weights)
    model = zoo.create_model(architecture, **config)  # what zoo.load will give: the
    model.load_weights(str(weights))                   # float16-rounded weights
    write_golden(model, folder)
    task = task_of(model)
    metadata = {
        "name": name,
        "task": task,
        "architecture": architecture,
        "description": recipe.description,
        "dataset": recipe.data.dataset,
        "trained_on_split": "train",
        "selected_on_split": None if task == "generate" else "validation",
        "recipe": f"zoo/presets/{name}/recipe.toml",
        "training_steps": steps,
        "batch_size": recipe.data.batch_size,
        "crop_size": list(recipe.data.crop_size),
        "train_seconds": round(seconds, 1),
        "hardware": _hardware(),
        "validation_metrics": metrics.get("validation", {}),
        **serving_facts(model, task),
        "parameters": int(model.count_params()),
        "keras_version": keras.__version__,
        "weights_file": weights.name,
        "weights_dtype": "float16",
        "weights_bytes": weights.stat().st_size,
        "sha256": sha256_of(weights),
        "config_sha256": sha256_of(folder / "config.json"),
        "run_dir": str(run_dir),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **kept,
        **(extra or {}),
    }
    _drop_stale_tiles(folder)
    write_json(metadata, folder / "metadata.json")
    return metadata


def _validation_curve(curve):
    """`curve` with only the steps, hours and validation metrics of each row, down its
    warm-start chain."""
    if curve is None:
        return None
    return {"run": curve["run"], "rows": [
        {k: v for k, v in row.items() if k in ("step", "hours") or k.startswith("val_")}
        for row in curve["rows"]], "warm_start": _validation_curve(curve.get("warm_start"))}


def package_run(name, run_dir):
    """Write the preset from a run folder: a finished run (model.keras, metrics.json), or
    one still going, from its latest backup (the last finished epoch), with the run's
    validation curve and where it was warm-started from in the metadata."""
    from training.run import build_model, load_initial_weights, run_recipe
    from training.snapshot import chain_segments, chain_totals, training_curve

    run_dir = Path(run_dir)
    recipe = run_recipe(run_dir)
    curve = training_curve(run_dir)
    total_steps, total_hours = chain_totals(curve)
    extra = {"training_curve": _validation_curve(curve), "warm_start_chain": {
        "runs": [name for name, _ in chain_segments(curve)],
        "steps": total_steps, "hours": round(total_hours, 3)}}
    if (run_dir / "model.keras").is_file() and (run_dir / "metrics.json").is_file():
        metrics = json.loads((run_dir / "metrics.json").read_text())
        model = keras.saving.load_model(run_dir / "model.keras")
        steps = recipe.training.epochs * recipe.training.steps_per_epoch
        seconds = metrics.get("train_seconds_this_session", 0.0)
    elif (run_dir / "backup" / "latest.weights.h5").is_file() and curve["rows"]:
        model = build_model(recipe)
        load_initial_weights(model, run_dir)
        last = curve["rows"][-1]
        metrics = {"validation": {k[len("val_"):]: v for k, v in last.items()
                                  if k.startswith("val_")}}
        steps, seconds = last["step"], (last["hours"] or 0.0) * 3600
    else:
        raise ValueError(f"{run_dir} has neither a finished model (model.keras, "
                         "metrics.json) nor a backed-up epoch to package.")
    if curve["warm_start"] is not None:  # the weights saw every run of the chain
        steps, seconds = total_steps, total_hours * 3600
    write_preset(name, model, recipe, run_dir, metrics, steps, seconds, extra)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--steps", type=int, help="total training steps (default: recipe)")
    parser.add_argument("--out", default="runs/presets", help="parent of the run folder")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--golden-only", action="store_true")
    parser.add_argument("--store-float16", action="store_true",
                        help="only rewrite the shipped preset's weights as float16 (and its "
                             "sha256, size and golden output)")
    parser.add_argument("--choose-tile", action="store_true",
                        help="only (re)measure the shipped preset's inference tile and "
                             "receptive radius")
    parser.add_argument("--from-run", action="store_true",
                        help="package a run folder (finished, or its latest backup) "
                             "without training")
    parser.add_argument("--run", type=Path, help="with --from-run: the run folder "
                        "(default OUT/NAME)")
    parser.add_argument("--init-from", type=Path, metavar="PATH",
                        help="train from these weights (as `zoo train --init-from`: a run "
                             "folder or snapshot, a .keras or weights file); the metadata "
                             "then holds the whole chain the weights came from")
    args = parser.parse_args(argv)

    if args.golden_only:
        import zoo

        model = zoo.load(args.name)
        write_golden(model, preset_dir(args.name))
        return 0

    if args.store_float16:
        import zoo
        from zoo.presets import metadata, sha256_of

        folder = preset_dir(args.name)
        _as_float16(folder / "model.weights.h5")
        meta = {**metadata(args.name), "weights_dtype": "float16",
                "weights_bytes": (folder / "model.weights.h5").stat().st_size,
                "sha256": sha256_of(folder / "model.weights.h5")}
        write_json(meta, folder / "metadata.json")
        write_golden(zoo.load(args.name), folder)
        return 0

    if args.choose_tile:
        import zoo
        from training.tasks import task_of
        from zoo.presets import metadata

        model = zoo.load(args.name, compile=False)
        meta = {**metadata(args.name), **serving_facts(model, task_of(model))}
        write_json(meta, preset_dir(args.name) / "metadata.json")
        print(json.dumps({k: meta.get(k) for k in ("inference_tile", "tile_selection",
                                                   "receptive_radius")}))
        return 0
    if args.from_run:
        return package_run(args.name, args.run or Path(args.out) / args.name)

    from training.recipe import load_recipe
    from training.run import apply_overrides, train

    recipe = apply_overrides(load_recipe(preset_dir(args.name) / "recipe.toml"),
                             steps=args.steps)
    run_dir = Path(args.out) / args.name
    started = time.perf_counter()
    result = train(recipe, run_dir, resume=args.resume, verbose=2, init_from=args.init_from)
    if args.init_from is not None:  # packaged as a run, with its warm-start chain
        return package_run(args.name, run_dir)
    seconds = time.perf_counter() - started
    steps = recipe.training.epochs * recipe.training.steps_per_epoch
    metadata = write_preset(args.name, result.model, recipe, run_dir, result.metrics, steps,
                            seconds)
    print(json.dumps({k: metadata[k] for k in ("name", "training_steps", "train_seconds",
                                                "validation_metrics", "sha256")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
