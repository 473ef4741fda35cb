"""`zoo train RECIPE`: the command-line face of `training.run.train`."""

import os
import subprocess
import sys
from pathlib import Path

from zoo_cli.native_logs import python_stderr_fd
from zoo_cli.run_arguments import PRECISION_NAMES


def rerun_with_backend(backend, argv):
    """Keras fixes its backend at import time: run this command again in a fresh
    process with KERAS_BACKEND set. Its error output goes where this process's Python
    errors go (the console, while native log lines are held back)."""
    env = dict(os.environ, KERAS_BACKEND=backend)
    return subprocess.call([sys.executable, "-m", "zoo_cli", *argv], env=env,
                           stderr=python_stderr_fd())


def cmd_train(args):
    import keras

    from training.recipe import load_recipe, shipped_recipes

    if args.list:
        from training.recipe import resolve_recipe_path

        for name in shipped_recipes():
            recipe = load_recipe(resolve_recipe_path(name))
            print(f"{name:24} {recipe.model.architecture:28} {recipe.description}")
        return 0
    if args.recipe is None:
        raise ValueError("give a recipe file or name (`zoo train --list` shows the shipped "
                         "recipes).")
    if args.backend and args.backend != keras.backend.backend():
        return rerun_with_backend(args.backend, args.argv)

    from training.run import apply_overrides, train

    recipe = apply_overrides(
        load_recipe(args.recipe), steps=args.steps, epochs=args.epochs,
        mixed_precision=PRECISION_NAMES.get(args.mixed_precision),
        jit_compile=True if args.jit_compile else None)
    out = Path(args.out or Path("runs") / recipe.name)
    t = recipe.training
    print(f"zoo train: {recipe.name} ({recipe.model.architecture} on {recipe.data.dataset}), "
          f"{t.epochs} epochs x {t.steps_per_epoch} steps, batch {recipe.data.batch_size}, "
          f"backend {keras.backend.backend()}, strategy {args.strategy} -> {out}")
    result = train(recipe, out, resume=args.resume, strategy=args.strategy,
                   init_from=args.init_from)
    _print_summary(result)
    return 0


def _print_summary(result):
    print(f"run folder: {result.run_dir}")
    for name in ("model.keras", "metrics.json", "checkpoints/best.keras", "samples",
                 "logs/history.csv"):
        if (result.run_dir / name).exists():
            print(f"  {name}")
    for key, value in result.metrics.get("validation", {}).items():
        print(f"  validation {key}: {value:.4f}")
    rate = result.metrics.get("images_per_second")
    if rate:
        print(f"  throughput: {rate:.1f} images/s (including validation and callbacks)")
