"""`zoo train RECIPE`: the command-line face of `training.run.train`."""

import argparse
import os
import subprocess
import sys
from pathlib import Path

PRECISION_NAMES = {"float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}
STRATEGIES = ("none", "mirrored", "multiworker", "data_parallel")


def add_train_parser(subparsers):
    p = subparsers.add_parser(
        "train", help="train a model from a recipe (a TOML file or a shipped recipe's name)",
        description="Train a model from a recipe into a run folder holding its config, "
                    "checkpoints, logs, sample grids, the final .keras model and metrics.json.")
    p.add_argument("recipe", help="recipe file, or the name of a shipped recipe "
                                  "(`zoo train --list` shows them)", nargs="?")
    p.add_argument("--list", action="store_true", help="list the shipped recipes and exit")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_count,
                        help="total training steps (overrides the recipe)")
    length.add_argument("--epochs", type=_count, help="epochs (overrides the recipe)")
    p.add_argument("-o", "--out", help="run folder (default: runs/RECIPE_NAME)")
    p.add_argument("--resume", action="store_true",
                   help="continue a killed run from its last finished epoch")
    p.add_argument("--backend", choices=("tensorflow", "jax"),
                   help="Keras backend to train with (default: KERAS_BACKEND or tensorflow)")
    p.add_argument("--mixed-precision", nargs="?", const="float16",
                   choices=tuple(PRECISION_NAMES), help="mixed precision compute dtype "
                   "(float16 with loss scaling, or bfloat16); variables stay float32")
    p.add_argument("--jit-compile", action="store_true",
                   help="compile train steps with XLA (TensorFlow; JAX always uses XLA)")
    p.add_argument("--strategy", choices=STRATEGIES, default="none",
                   help="mirrored: all local GPUs (TensorFlow); multiworker: one process "
                        "per worker, configured by TF_CONFIG; data_parallel: all local "
                        "devices (JAX)")
    p.set_defaults(func=cmd_train)
    p.error = lambda message: p.exit(2, f"{p.prog}: error: {message}\n")  # one line, no usage
    return p


def _count(text):
    """The type of --steps and --epochs: a whole number >= 1 (checked before TensorFlow
    is imported)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {value}")
    return value


def _rerun_with_backend(backend, argv):
    """Keras fixes its backend at import time: run this command again in a fresh
    process with KERAS_BACKEND set."""
    env = dict(os.environ, KERAS_BACKEND=backend)
    return subprocess.call([sys.executable, "-m", "zoo.cli", *argv], env=env)


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
        return _rerun_with_backend(args.backend, args.argv)

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
    result = train(recipe, out, resume=args.resume, strategy=args.strategy)
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
