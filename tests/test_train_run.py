"""`training.run.train`: what a run folder holds, per task, and how runs refuse bad states."""

import csv
import json

import keras
import numpy as np
import pytest
from PIL import Image

from training.callbacks import NaNGuard, TrainingDiverged
from training.recipe import RecipeError, parse_recipe
from training.run import train

TINY = {
    "denoise": ({"architecture": "unet", "config": {"filters": [4, 8]}},
                {"dataset": "natural", "crop_size": [32, 32]}),
    "inpaint": ({"architecture": "conv_autoencoder_inpainter", "config": {"filters": [4, 8]}},
                {"dataset": "textures", "crop_size": [32, 32]}),
    "segment": ({"architecture": "unet", "config": {"filters": [4, 8], "head": "segmentation",
                                                    "num_classes": 4}},
                {"dataset": "shapes", "crop_size": [32, 32]}),
    "generate": ({"architecture": "dcgan", "config": {
                    "image_shape": [16, 16, 1], "latent_dim": 8, "generator_filters": [8, 4],
                    "discriminator_filters": [4, 8]}},
                 {"dataset": "digits", "crop_size": [16, 16], "augment": False}),
}


def tiny_recipe(task, epochs=2, steps=2, **training):
    model, data = TINY[task]
    return parse_recipe({
        "name": f"tiny_{task}", "model": model,
        "data": {**data, "batch_size": 4, "validation_batches": 1},
        "training": {"epochs": epochs, "steps_per_epoch": steps, **training},
        "callbacks": {"sample_count": 3, "tensorboard": False}})


@pytest.mark.parametrize("task", sorted(TINY))
def test_run_folder_holds_config_logs_samples_model_and_metrics(task, tmp_path):
    result = train(tiny_recipe(task), tmp_path / "run", verbose=0)
    run = result.run_dir
    config = json.loads((run / "config.json").read_text())
    assert config["recipe"]["model"] == TINY[task][0] and config["backend"] == "tensorflow"
    with open(run / "logs" / "history.csv") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1"]
    grid = np.asarray(Image.open(run / "samples" / "epoch_002.png"))
    assert grid.ndim == 3 and grid.shape[2] == 3 and grid.std() > 0
    if task != "generate":  # three rows: degraded | restored | target columns
        assert grid.shape[:2] == (3 * 32 + 4, 3 * 32 + 4)
    loaded = keras.saving.load_model(run / "model.keras")
    metrics = json.loads((run / "metrics.json").read_text())
    if task == "generate":
        latent = np.random.default_rng(0).standard_normal((2, 8)).astype("float32")
        np.testing.assert_allclose(loaded.generator.predict(latent, verbose=0),
                                   result.model.generator.predict(latent, verbose=0),
                                   atol=1e-6)
        assert np.isfinite(metrics["history_last_epoch"]["g_loss"])
        return
    assert (run / "checkpoints" / "best.keras").is_file()
    assert np.isfinite(metrics["validation"]["loss"])
    assert metrics["validation"]["loss"] == pytest.approx(result.history["val_loss"][-1],
                                                          rel=1e-4)


def test_existing_run_is_not_overwritten_without_resume(tmp_path):
    recipe = tiny_recipe("denoise", epochs=1, steps=1)
    train(recipe, tmp_path / "run", verbose=0)
    model_bytes = (tmp_path / "run" / "model.keras").read_bytes()
    with pytest.raises(FileExistsError, match="--resume"):
        train(recipe, tmp_path / "run", verbose=0)
    with pytest.raises(RecipeError, match=r"different recipe \(training.epochs changed\)"):
        train(tiny_recipe("denoise", epochs=3, steps=1), tmp_path / "run", resume=True,
              verbose=0)
    assert (tmp_path / "run" / "model.keras").read_bytes() == model_bytes


def test_a_run_written_before_a_new_recipe_option_still_resumes(tmp_path):
    from training.run import _check_run_dir, _run_config

    recipe = tiny_recipe("denoise", epochs=1, steps=1)
    run = tmp_path / "run"
    run.mkdir()
    config = _run_config(recipe, "none")
    older = json.loads(json.dumps(config))
    del older["recipe"]["training"]["pixel_loss"]  # as stored before the option existed
    (run / "config.json").write_text(json.dumps(older))
    _check_run_dir(run, config, resume=True)  # the default is not a change
    changed = _run_config(tiny_recipe("denoise", epochs=1, steps=1, pixel_loss="psnr"), "none")
    with pytest.raises(RecipeError, match=r"training.pixel_loss changed"):
        _check_run_dir(run, changed, resume=True)


def test_a_diverging_run_stops_with_advice(tmp_path):
    recipe = tiny_recipe("denoise", epochs=3, steps=3, optimizer="sgd", learning_rate=1e38)
    with pytest.raises(TrainingDiverged, match="learning_rate"):
        train(recipe, tmp_path / "run", verbose=0)
    assert not (tmp_path / "run" / "model.keras").exists()


def test_nan_guard_names_the_loss_and_what_to_try():
    guard = NaNGuard(learning_rate=0.1, mixed_precision="mixed_float16")
    guard.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    guard.on_train_batch_end(0, {"loss": 0.5})
    with pytest.raises(TrainingDiverged) as caught:
        guard.on_train_batch_end(7, {"loss": float("nan"), "psnr": 3.0})
    message = str(caught.value)
    assert "batch 7" in message and "loss=nan" in message
    assert "mixed precision" in message and "0.1" in message


def test_runs_under_a_mirrored_strategy(tmp_path):
    result = train(tiny_recipe("inpaint", epochs=1, steps=2), tmp_path / "run",
                   strategy="mirrored", verbose=0)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["strategy"] == "mirrored"
    assert np.isfinite(result.metrics["validation"]["loss"])
    assert int(result.model.optimizer.iterations.numpy()) == 2


def test_tensorboard_gets_scalars_and_sample_images(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    recipe = tiny_recipe("denoise", epochs=2, steps=1).replace("callbacks", tensorboard=True)
    train(recipe, tmp_path / "run", verbose=0)
    logs = tmp_path / "run" / "logs" / "tensorboard"
    # TF2 summaries are stored as tensors (images: [width, height, PNG bytes]).
    samples = EventAccumulator(str(logs / "samples"), size_guidance={"tensors": 0}).Reload()
    events = samples.Tensors("samples")
    assert [event.step for event in events] == [1, 2]
    assert events[-1].tensor_proto.string_val[2].startswith(b"\x89PNG")
    scalars = EventAccumulator(str(logs / "train"), size_guidance={"tensors": 0}).Reload()
    assert {"epoch_loss", "epoch_psnr"} <= set(scalars.Tags()["tensors"])
