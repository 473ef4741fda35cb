"""Choose a DCGAN preset's training setup: train variants of its recipe, score each on TRAIN.

    python benchmarks/gan_variants.py dcgan-textures [--variants preset lsgan ...] [--quick]

Each variant is the preset's recipe.toml with a few changes (`VARIANTS`), trained for the
preset's steps (`metadata.json` training_steps) with the same seed and batches. Samples
(1000, latent seed 0) are scored by FID and KID in the domain classifier's features
(`generation_metrics.domain_classifier`) against images of the TRAIN split. The quality
benchmark scores the shipped preset against the VALIDATION split, which this selection
never looks at. Prints a table and writes benchmarks/results/gan_variants_<preset>.json.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import bench_common  # noqa: E402
import generation_metrics as gm  # noqa: E402
import keras  # noqa: E402

from training.recipe import load_recipe  # noqa: E402
from training.run import apply_overrides, train  # noqa: E402
from zoo.presets import PRESETS_DIR, metadata  # noqa: E402

DOMAINS = {"dcgan-digits": "digits", "dcgan-textures": "textures"}
RESULTS = REPO_ROOT / "benchmarks" / "results"
SAMPLES = 1000
TEXTURE_TRAIN_CROPS = 1000
# name -> ({training changes}, {model.config changes}); "preset" is the shipped recipe.
VARIANTS = {
    "preset": ({}, {}),
    "bce": ({"adversarial_loss": "bce"}, {"spectral_norm": False}),
    "lsgan": ({"adversarial_loss": "lsgan"}, {"spectral_norm": False}),
    "hinge+sn": ({"adversarial_loss": "hinge"}, {"spectral_norm": True}),
    # Generator weights averaged over about the last 100 steps (momentum 0.99).
    "lsgan+ema": ({"adversarial_loss": "lsgan", "generator_ema": 0.99},
                  {"spectral_norm": False}),
    "bce+ema": ({"adversarial_loss": "bce", "generator_ema": 0.99}, {"spectral_norm": False}),
}


def variant_recipe(preset, variant, steps):
    """The preset's recipe with `VARIANTS[variant]` applied, for `steps` training steps."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    training_changes, config_changes = VARIANTS[variant]
    recipe = load_recipe(PRESETS_DIR / preset / "recipe.toml")
    if training_changes:
        recipe = recipe.replace("training", **training_changes)
    if config_changes:
        recipe = recipe.replace("model", config={**recipe.model.config, **config_changes})
    return apply_overrides(recipe, steps=steps)


def train_split_features(domain, feature_model, quick):
    """Classifier features of TRAIN images: all train digits, or texture crops (seed 2)."""
    if domain == "digits":
        images, _ = gm.labelled_images("digits", "train")
    else:
        images, _ = gm.labelled_images("textures", "train",
                                       64 if quick else TEXTURE_TRAIN_CROPS, seed=2)
    return gm.features(feature_model, images)


def score_variant(preset, variant, steps, feature_model, train_features, quick, work_dir):
    recipe = variant_recipe(preset, variant, steps)
    started = time.perf_counter()
    result = train(recipe, Path(work_dir) / variant, verbose=0)
    seconds = time.perf_counter() - started
    samples = result.model.generate(64 if quick else SAMPLES, seed=0)
    sample_features = gm.features(feature_model, samples)
    kid_mean, kid_std = gm.kid(sample_features, train_features, subsets=10 if quick else 100,
                               subset_size=min(len(sample_features), len(train_features)))
    return {"fid_train": gm.fid(sample_features, train_features), "kid_train": kid_mean,
            "kid_train_std": kid_std, "train_seconds": seconds,
            "training": VARIANTS[variant][0], "model_config": VARIANTS[variant][1],
            # what ran, whatever the preset's recipe says today
            "adversarial_loss": recipe.training.adversarial_loss,
            "generator_ema": recipe.training.generator_ema,
            "spectral_norm": bool(recipe.model.config.get("spectral_norm", False))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", choices=sorted(DOMAINS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--steps", type=int, help="training steps (default: the preset's)")
    parser.add_argument("--quick", action="store_true", help="5 steps, 64 samples (a smoke run)")
    parser.add_argument("--out", type=Path, help="JSON path (default: "
                        "benchmarks/results/gan_variants_<preset>.json; --quick: not written)")
    args = parser.parse_args(argv)

    domain = DOMAINS[args.preset]
    steps = 5 if args.quick else (args.steps or metadata(args.preset)["training_steps"])
    feature_model, accuracy = gm.domain_classifier(domain, seed=0,
                                                   steps=20 if args.quick else None)
    train_features = train_split_features(domain, feature_model, args.quick)
    rows = {}
    with tempfile.TemporaryDirectory() as work_dir:
        for variant in args.variants:
            print(f"{args.preset}: training {variant} for {steps} steps...", flush=True)
            rows[variant] = score_variant(args.preset, variant, steps, feature_model,
                                          train_features, args.quick, work_dir)
            keras.backend.clear_session()

    print(f"\n{args.preset}, {steps} steps, scored against the TRAIN split")
    print(f"{'variant':<12} {'FID':>8} {'KID':>8} {'train s':>8}")
    for variant, row in sorted(rows.items(), key=lambda item: item[1]["fid_train"]):
        print(f"{variant:<12} {row['fid_train']:8.2f} {row['kid_train']:8.4f} "
              f"{row['train_seconds']:8.0f}")
    out = args.out or (None if args.quick else RESULTS / f"gan_variants_{args.preset}.json")
    if out is not None:
        bench_common.write_json({
            "preset": args.preset, "domain": domain, "steps": steps, "samples_seed": 0,
            "classifier_validation_accuracy": accuracy, "scored_against": "train split",
            "variants": rows, "best": min(rows, key=lambda v: rows[v]["fid_train"]),
            "machine": bench_common.machine_info(load_average=bench_common.load_average()),
        }, out)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
