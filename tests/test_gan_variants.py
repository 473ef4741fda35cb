"""benchmarks/gan_variants.py builds each variant from the preset's own recipe."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

import gan_variants  # noqa: E402

from training.recipe import load_recipe  # noqa: E402
from zoo.presets import PRESETS_DIR  # noqa: E402


def test_a_variant_changes_only_what_it_names():
    shipped = load_recipe(PRESETS_DIR / "dcgan-textures" / "recipe.toml")
    recipe = gan_variants.variant_recipe("dcgan-textures", "lsgan+ema", steps=800)
    assert recipe.training.adversarial_loss == "lsgan"
    assert recipe.training.generator_ema == 0.99
    assert recipe.model.config == {**shipped.model.config, "spectral_norm": False}
    assert recipe.training.epochs * recipe.training.steps_per_epoch == 800
    assert (recipe.data, recipe.seed) == (shipped.data, shipped.seed)


def test_the_preset_variant_is_the_shipped_recipe():
    shipped = load_recipe(PRESETS_DIR / "dcgan-digits" / "recipe.toml")
    assert gan_variants.variant_recipe("dcgan-digits", "preset", steps=3000) == shipped


def test_unknown_variant_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown variant 'wgan'.*lsgan"):
        gan_variants.variant_recipe("dcgan-digits", "wgan", steps=10)
