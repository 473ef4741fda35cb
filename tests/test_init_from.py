"""`zoo train --init-from`: a new run that starts from another run's weights, and the
recipe's `training.ssim_weight` (the reconstruction loss's SSIM term)."""

import json

import keras
import numpy as np
import pytest

from tests.test_bad_input_training import TINY, table, write_recipe, zoo_train
from training.recipe import RecipeError, parse_recipe
from training.run import build_model, compile_model, load_initial_weights, train

pytestmark = pytest.mark.xdist_group("init_from")  # module fixtures run once


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "first"
    train(parse_recipe(table(training={"epochs": 1, "steps_per_epoch": 2})), run, verbose=0)
    return run


def _assert_same_weights(model, other, trainable_only=False):
    pairs = (zip(model.trainable_weights, other.trainable_weights, strict=True)
             if trainable_only else zip(model.weights, other.weights, strict=True))
    for ours, theirs in pairs:
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs), err_msg=ours.path)


def test_a_run_folder_a_keras_file_and_a_weights_file_all_load(finished_run, tmp_path):
    trained = keras.saving.load_model(finished_run / "model.keras", compile=False)
    weights_file = tmp_path / "w.weights.h5"
    trained.save_weights(weights_file)
    for source in (finished_run, finished_run / "model.keras", weights_file):
        model = build_model(parse_recipe(TINY))
        load_initial_weights(model, source)
        _assert_same_weights(model, trained)


def test_the_new_run_starts_from_them_and_records_it(finished_run, tmp_path, capsys):
    recipe = write_recipe(tmp_path, table(training={"epochs": 1, "steps_per_epoch": 1,
                                                    "learning_rate": 1e-30}))
    code, err = zoo_train(capsys, recipe, "--out", tmp_path / "second",
                          "--init-from", finished_run)
    assert code == 0, err
    config = json.loads((tmp_path / "second" / "config.json").read_text())
    assert config["init_from"] == str(finished_run)
    # one step at a learning rate of 1e-30 leaves the weights where they started (batch
    # normalization's moving statistics move regardless)
    _assert_same_weights(keras.saving.load_model(tmp_path / "second" / "model.keras"),
                         keras.saving.load_model(finished_run / "model.keras"),
                         trainable_only=True)


def test_a_model_that_adds_layers_starts_from_the_source_and_keeps_its_new_layers(tmp_path):
    """A warm start of a grown design: every source weight lands at its place; the
    added blend starts at its initializers (zero logits), i.e. at the source's output."""
    recipe = table(model={"architecture": "unet",
                          "config": {"filters": [4, 8], "residual": True}})
    source = build_model(parse_recipe(recipe))
    for weight in source.weights:
        weight.assign(np.random.default_rng(0).normal(size=weight.shape) * 0.1)
    source.save_weights(tmp_path / "source.weights.h5")
    grown_recipe = table(model={"architecture": "unet", "config": {
        "filters": [4, 8], "residual": True, "smooth_blend": 1}})
    grown = build_model(parse_recipe(grown_recipe))
    load_initial_weights(grown, tmp_path / "source.weights.h5")
    for layer in source.layers:
        for ours, theirs in zip(grown.get_layer(layer.name).weights, layer.weights, strict=True):
            np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    assert not np.any(np.asarray(grown.get_layer("blend_logits").kernel))
    # the other way round (the source has weights the model lacks) does not fit
    grown.save_weights(tmp_path / "grown.weights.h5")
    with pytest.raises(ValueError, match="does not fit this recipe's model"):
        load_initial_weights(build_model(parse_recipe(recipe)), tmp_path / "grown.weights.h5")


@pytest.mark.parametrize("source, message", [
    ("missing", "no such file or folder"),
    ("notes.txt", "expected a run folder, a .keras file or a .weights.h5 file"),
    ("empty_folder", "holds no run weights"),
    ("wider", "does not fit this recipe's model"),
])
def test_bad_sources_are_one_line_errors_before_anything_is_written(
        finished_run, tmp_path, capsys, source, message):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "empty_folder").mkdir()
    wider = build_model(parse_recipe(table(model={"architecture": "unet",
                                                  "config": {"filters": [8, 16]}})))
    wider.save(tmp_path / "wider.keras")
    (tmp_path / "wider").mkdir()
    (tmp_path / "wider" / "model.keras").write_bytes((tmp_path / "wider.keras").read_bytes())
    code, err = zoo_train(capsys, write_recipe(tmp_path, TINY), "--out", tmp_path / "run",
                          "--init-from", tmp_path / source)
    assert code == 2 and message in err and err.count("\n") == 0, err
    assert not (tmp_path / "run").exists()


def test_ssim_weight_sets_the_reconstruction_loss():
    recipe = parse_recipe(table(training={"ssim_weight": 0.0}))
    model = build_model(recipe)
    compile_model(model, recipe, total_steps=4)
    assert model.loss.ssim_weight == 0.0
    standard = build_model(parse_recipe(TINY))
    compile_model(standard, parse_recipe(TINY), total_steps=4)
    assert standard.loss.ssim_weight == pytest.approx(0.2)
    psnr = parse_recipe(table(training={"pixel_loss": "psnr"}))
    model = build_model(psnr)
    compile_model(model, psnr, total_steps=4)
    assert model.loss.pixel_loss == "psnr" and model.loss.ssim_weight == 0.0


@pytest.mark.parametrize("changes, message", [
    ({"training": {"ssim_weight": -1.0}}, "training.ssim_weight must be >= 0"),
    ({"model": {"architecture": "unet",
                "config": {"filters": [4, 8], "head": "segmentation", "num_classes": 4}},
      "data": {"dataset": "shapes", "crop_size": [32, 32], "batch_size": 4,
               "validation_batches": 1},
      "training": {"ssim_weight": 0.0}}, "apply to image-restoring models"),
    ({"training": {"pixel_loss": "l2"}}, "training.pixel_loss"),
])
def test_bad_ssim_weight_is_refused(changes, message, tmp_path, capsys):
    code, err = zoo_train(capsys, write_recipe(tmp_path, table(**changes)),
                          "--out", tmp_path / "run")
    assert code == 2 and message in err, err
    assert not (tmp_path / "run").exists()


def test_recipe_error_is_a_value_error():
    assert issubclass(RecipeError, ValueError)
