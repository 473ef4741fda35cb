"""The DCGAN presets next to the DCGAN written the plain keras.io way, at equal steps.

Features for FID / KID come from a small classifier trained on the domain's train split
(`generation_metrics.domain_classifier`: nothing can be downloaded, so no Inception).
Samples are scored against the validation split, which neither GAN trained on.
"""

import dcgan_reference as reference
import generation_metrics as gm
import numpy as np

import zoo
from zoo.presets import PRESETS_DIR, metadata

GAN_PRESETS = {"dcgan-digits": "digits", "dcgan-textures": "textures"}
SAMPLES = 1000
TEXTURE_REAL = 1000  # validation / train crops of textures


def _real_sets(domain, quick):
    if domain == "digits":
        heldout, _ = gm.labelled_images("digits", "validation")
        train, _ = gm.labelled_images("digits", "train")
    else:
        count = 64 if quick else TEXTURE_REAL
        heldout, _ = gm.labelled_images("textures", "validation", count, seed=0)
        train, _ = gm.labelled_images("textures", "train", count, seed=1)
    return heldout, train


def _scores(samples, heldout, train, feature_model, quick):
    sample_features = gm.features(feature_model, samples)
    heldout_features = gm.features(feature_model, heldout)
    kid_mean, kid_std = gm.kid(sample_features, heldout_features, subsets=10 if quick else 100,
                               subset_size=min(len(samples), len(heldout)))
    swd = gm.sliced_wasserstein(samples, heldout, patches=1024 if quick else 16384)
    copies = gm.nearest_neighbour_check(samples, train, heldout)
    return {"fid": gm.fid(sample_features, heldout_features), "kid": kid_mean,
            "kid_std": kid_std, "swd": swd["mean"], "swd_per_level": swd["per_level"],
            "nn_ratio": copies["ratio"], "near_copies": int(copies["near_copies"]),
            "nn": copies}


def _recipe_of(name):
    from training.recipe import load_recipe
    from training.run import apply_overrides

    meta = metadata(name)
    recipe = load_recipe(PRESETS_DIR / name / "recipe.toml")
    return apply_overrides(recipe, steps=meta["training_steps"]), meta


def evaluate_preset(name, domain, quick=False):
    """(results dict, {model label: samples}) for one DCGAN preset."""
    recipe, meta = _recipe_of(name)
    steps = 5 if quick else meta["training_steps"]
    samples_count = 64 if quick else SAMPLES
    feature_model, accuracy = gm.domain_classifier(domain, seed=0,
                                                   steps=20 if quick else None)
    heldout, train = _real_sets(domain, quick)
    model = zoo.load(name, compile=False)
    zoo_samples = model.generate(samples_count, seed=0)
    batches = reference.zoo_batches(domain, seed=recipe.seed,
                                    steps_per_epoch=recipe.training.steps_per_epoch)
    generator = reference.train_reference(batches, tuple(model.image_shape), model.latent_dim,
                                          steps, recipe.data.batch_size, seed=recipe.seed)
    reference_samples = reference.generate(generator, samples_count, seed=0)
    samples = {"zoo preset": zoo_samples, "keras.io reference": reference_samples}
    results = {
        "domain": domain,
        "classifier_validation_accuracy": accuracy,
        "training_steps_each": steps,
        "samples": samples_count,
        "heldout_images": len(heldout),
        "models": {label: _scores(s, heldout, train, feature_model, quick)
                   for label, s in samples.items()},
    }
    if not quick:
        results["real_floor"] = gm.real_floor(domain, feature_model)
    return results, samples


def evaluate_all(quick=False):
    """({preset: results}, {preset: {model label: samples}}) for every DCGAN preset."""
    results, samples = {}, {}
    for name, domain in GAN_PRESETS.items():
        print(f"generation: {name}...", flush=True)
        results[name], samples[name] = evaluate_preset(name, domain, quick)
        for label, scores in results[name]["models"].items():
            print(f"  {label}: FID {scores['fid']:.2f}  KID {scores['kid']:.4f}  "
                  f"SWD {scores['swd']:.4f}", flush=True)
    return results, {k: {label: np.asarray(v) for label, v in s.items()}
                     for k, s in samples.items()}
