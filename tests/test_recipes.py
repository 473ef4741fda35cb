"""Recipes: the shipped ones are valid and match their data; typos fail before training."""

import numpy as np
import pytest

from training.pipeline import BatchMaker
from training.recipe import RecipeError, load_recipe, parse_recipe, shipped_recipes
from training.run import apply_overrides, build_model
from training.sources import open_source
from training.tasks import Degradation, model_image_shape, task_of
from zoo.inference import takes_noise_level

MINIMAL = {"model": {"architecture": "unet", "config": {"filters": [4, 8]}},
           "data": {"dataset": "natural", "crop_size": [32, 32]}}
EXPECTED_TASKS = {"inpaint", "denoise", "segment", "generate"}


def with_changes(section, **values):
    table = {k: dict(v) for k, v in MINIMAL.items()}
    table.setdefault(section, {}).update(values)
    return table


def test_a_recipe_for_every_future_preset_ships():
    recipes = [load_recipe(name) for name in shipped_recipes()]
    assert len(recipes) >= 6
    tasks = {task_of(build_model(r)) for r in recipes}
    assert tasks == EXPECTED_TASKS


@pytest.mark.parametrize("name", shipped_recipes())
def test_shipped_recipe_batches_fit_its_model(name):
    recipe = load_recipe(name)
    model = build_model(recipe)
    task = task_of(model)
    channels = model_image_shape(model)[2]
    source = open_source(recipe.data.dataset, "validation", recipe.data.crop_size, channels,
                         augment=False)
    degradation = Degradation(**recipe.degradation.__dict__)
    noise_level = task != "generate" and takes_noise_level(model)
    x, y = BatchMaker(task, source, 2, degradation, recipe.seed, "validation",
                      noise_level).batch(0, 0)
    if task == "generate":
        logits = model(x)
        assert y is None and logits.shape == (2, 1)
        return
    prediction = np.asarray(model.predict(x, verbose=0))
    assert prediction.shape[:3] == (2, *recipe.data.crop_size)
    if task == "segment":
        assert y.shape == (2, *recipe.data.crop_size) and y.max() < prediction.shape[-1]
    else:
        assert y.shape == prediction.shape


def test_defaults_fill_in_and_single_numbers_mean_fixed_values():
    recipe = parse_recipe(with_changes("degradation", noise_sigma=25), name="mine")
    assert recipe.name == "mine"
    assert recipe.degradation.noise_sigma == (25.0, 25.0)
    assert recipe.training.epochs > 0 and recipe.data.batch_size > 0


@pytest.mark.parametrize("table, message", [
    ({**MINIMAL, "sead": 1}, "unknown key sead"),
    (with_changes("data", crop_sise=[8, 8]), r"unknown key data\.crop_sise"),
    (with_changes("training", epochs="10"), r"training\.epochs must be of type int"),
    (with_changes("training", epochs=1.5), r"training\.epochs must be of type int"),
    (with_changes("data", augment="yes"), r"data\.augment must be of type bool"),
    (with_changes("data", crop_size=[32, 32, 3]), r"data\.crop_size must be a list of 2"),
    (with_changes("data", dataset="imagenet"), "Unknown dataset 'imagenet'"),
    (with_changes("data", dataset="folder"), r"data\.path is required"),
    (with_changes("model", architecture="resnet"), "resnet"),
    (with_changes("model", config={"filter": [4]}), r"unknown key model\.config\.filter"),
    (with_changes("training", schedule="linear"), r"training\.schedule = 'linear'"),
    (with_changes("degradation", masks="huge"), r"degradation\.masks = 'huge'"),
    (with_changes("training", learning_rate=-1.0), r"training\.learning_rate must be > 0"),
    (with_changes("data", batch_size=0), r"data\.batch_size must be >= 1"),
    (with_changes("data", min_side=-1), r"data\.min_side must be >= 0"),
    (with_changes("training", generator_ema=1.0), r"training\.generator_ema must be in \[0, 1\)"),
    ({"data": MINIMAL["data"]}, "missing required key model"),
])
def test_recipe_mistakes_name_the_key(table, message):
    with pytest.raises(RecipeError, match=message):
        parse_recipe(table)


def test_unknown_recipe_file_lists_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match="unet_denoise_natural"):
        load_recipe("no_such_recipe")


def test_invalid_toml_is_reported(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[model\narchitecture = 'unet'")
    with pytest.raises(RecipeError, match="not valid TOML"):
        load_recipe(path)


def test_crop_size_must_match_a_fixed_size_model():
    table = {"model": {"architecture": "dcgan", "config": {"image_shape": [16, 16, 1]}},
             "data": {"dataset": "digits", "crop_size": [32, 32]}}
    with pytest.raises(RecipeError, match="does not match the model's fixed input size"):
        build_model(parse_recipe(table))


@pytest.mark.parametrize("steps, steps_per_epoch, expected", [
    (20, 100, (1, 20)), (250, 100, (3, 84)), (200, 100, (2, 100))])
def test_steps_override_splits_into_equal_epochs(steps, steps_per_epoch, expected):
    recipe = parse_recipe(with_changes("training", steps_per_epoch=steps_per_epoch, epochs=9))
    training = apply_overrides(recipe, steps=steps).training
    assert (training.epochs, training.steps_per_epoch) == expected
    assert training.epochs * training.steps_per_epoch >= steps


def test_steps_and_epochs_together_are_refused():
    with pytest.raises(ValueError, match="not both"):
        apply_overrides(parse_recipe(MINIMAL), steps=5, epochs=2)


def test_generator_ema_averages_only_the_generator():
    from training.run import build_model, compile_model

    recipe = load_recipe("dcgan_digits").replace("training", generator_ema=0.9)
    gan = build_model(recipe)
    compile_model(gan, recipe, total_steps=10)
    assert gan.g_optimizer.use_ema and gan.g_optimizer.ema_momentum == 0.9
    assert not gan.d_optimizer.use_ema
