"""Bad input and faults for `zoo train` (issue 21): recipes checked before anything is
written, runs that blew up, kills near the end and between an epoch's files, folders
with too-large crops, truncated or too few images, and the command's numeric flags.

Each case asserts a clear one-line error naming the key, flag or file (or correct
output) and that nothing on disk was damaged or left behind."""

import csv
import io
import json
import math
import os
import re
import signal
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest
from PIL import Image

from training import run as run_module
from training.callbacks import EpochClock, NaNGuard, RunBackup, TrainingDiverged
from training.image_folder import ImageFolder, split_folder
from training.recipe import RecipeError, parse_recipe
from training.run import _trim_logs, build_model, train
from zoo_cli.main import main

TINY = {"name": "tiny", "seed": 1,
        "model": {"architecture": "unet", "config": {"filters": [4, 8]}},
        "data": {"dataset": "natural", "crop_size": [32, 32], "batch_size": 4,
                 "validation_batches": 1},
        "training": {"epochs": 2, "steps_per_epoch": 2},
        "callbacks": {"tensorboard": False, "samples_every": 0}}


def table(**changes):
    """TINY with `changes`: {"section": {key: value}} merged, or a top-level value."""
    result = {k: dict(v) if isinstance(v, dict) else v for k, v in TINY.items()}
    for key, value in changes.items():
        result[key] = {**result.get(key, {}), **value} if isinstance(value, dict) else value
    return result


def _toml(value):
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # TOML spells them nan, inf, -inf
    return json.dumps(value)


def write_recipe(folder, recipe_table):
    lines = [f"{k} = {_toml(v)}" for k, v in recipe_table.items() if not isinstance(v, dict)]
    for section, values in recipe_table.items():
        if isinstance(values, dict):
            lines += [f"[{section}]", *(f"{k} = {_toml(v)}" for k, v in values.items())]
    path = folder / "recipe.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def zoo_train(capsys, *args):
    """`zoo train ARGS` in this process: (exit code, stderr)."""
    try:
        code = main(["train", *map(str, args)])
    except SystemExit as exit_:  # argparse
        code = exit_.code
    return code, capsys.readouterr().err.strip()


def logged_epochs(run, name="history.csv"):
    with open(run / "logs" / name, newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def finite_weights(path):
    with h5py.File(path, "r") as weights:
        arrays = []
        weights.visititems(lambda _, item: arrays.append(item[()])
                           if isinstance(item, h5py.Dataset) else None)
    return all(np.isfinite(a).all() for a in arrays if np.issubdtype(a.dtype, np.floating))


class Killed(BaseException):
    """Stands in for SIGKILL in-process: nothing catches it, no cleanup of ours runs
    that a kill would skip (a run with a backup is never removed)."""


# -- recipes: every value wrong in range or kind fails at parse time, naming its key --

@pytest.mark.parametrize("changes, message", [
    ({"training": {"learning_rate": math.nan}}, r"training\.learning_rate must be a finite"),
    ({"training": {"learning_rate": math.inf}}, r"training\.learning_rate must be a finite"),
    ({"training": {"beta_1": -0.5}}, r"training\.beta_1 must be in \[0, 1\)"),
    ({"training": {"clipnorm": 0.0}}, r"training\.clipnorm must be > 0"),
    ({"training": {"weight_decay": -math.inf}}, r"training\.weight_decay must be a finite"),
    ({"training": {"weight_decay": -0.1}}, r"training\.weight_decay must be >= 0"),
    ({"training": {"beta_1": 1.0}}, r"training\.beta_1 must be in \[0, 1\)"),
    ({"training": {"generator_ema": math.inf}}, r"training\.generator_ema must be a finite"),
    ({"training": {"warmup_steps": 10, "schedule": "exponential"}}, r"training\.warmup_steps"),
    ({"degradation": {"noise_sigma": [-5, 10]}}, r"degradation\.noise_sigma\[0\] must be in"),
    ({"degradation": {"noise_sigma": [50, 10]}}, r"degradation\.noise_sigma is \[low, high\]"),
    ({"degradation": {"noise_sigma": [0, 300]}}, r"degradation\.noise_sigma\[1\] must be in"),
    ({"degradation": {"noise_sigma": math.nan}}, r"degradation\.noise_sigma\[0\] must be a fin"),
    ({"degradation": {"hole_area": [0.5, 1.5]}}, r"degradation\.hole_area\[1\] must be in"),
    ({"degradation": {"hole_area": [0, 0.1]}}, r"degradation\.hole_area\[0\] must be in \(0"),
    ({"data": {"validation_fraction": math.nan}}, r"data\.validation_fraction must be a fin"),
    ({"model": {"architecture": "unet", "config": {"filters": [4, 8], "dropout": math.nan}}},
     r"model\.config\.dropout must be a finite"),
    ({"callbacks": {"samples_every": -1}}, r"callbacks\.samples_every must be >= 0"),
    ({"seed": -1}, r"seed must be in \[0, 2\*\*32\)"),
])
def test_recipe_values_out_of_range_name_their_key(changes, message):
    with pytest.raises(RecipeError, match=message):
        parse_recipe(table(**changes))


# -- recipe problems found before the run folder exists, so a fixed rerun is not blocked --

@pytest.mark.parametrize("changes, message", [
    ({"degradation": {"noise_sigma": [-5, 10]}}, "degradation.noise_sigma[0]"),
    ({"training": {"learning_rate": math.nan}}, "training.learning_rate must be a finite"),
    ({"model": {"architecture": "unet", "config": {"filters": [4, 8, 16, 32]}},
      "data": {"crop_size": [6, 6]}}, "data.crop_size [6, 6] is too small for this model"),
    ({"model": {"architecture": "unet", "config": {"filters": [0, 8]}}}, "model.config for unet"),
])
def test_recipe_errors_leave_no_run_folder(tmp_path, capsys, changes, message):
    run = tmp_path / "run"
    code, err = zoo_train(capsys, write_recipe(tmp_path, table(**changes)), "--out", run)
    assert code == 2 and message in err and "\n" not in err, err
    assert not run.exists()


@pytest.mark.parametrize("config", [{"filters": [4, 8, 16, 32]},
                                    {"filters": [4, 8], "pixel_unshuffle": 2}])
def test_a_crop_that_does_not_divide_the_model_levels_works(config):
    recipe = parse_recipe(table(model={"architecture": "unet", "config": config},
                                data={"crop_size": [30, 27]}))
    model = build_model(recipe)  # pads to its levels' multiple in the graph
    assert model.predict(np.zeros((1, 30, 27, 3), "float32"), verbose=0).shape == (1, 30, 27, 3)


# -- the command's numeric flags: one line naming the flag, before anything is imported --

@pytest.mark.parametrize("flag, value", [("--steps", "0"), ("--steps", "-3"),
                                         ("--steps", "abc"), ("--epochs", "0"),
                                         ("--epochs", "2.5")])
def test_numeric_flags_fail_in_one_line_naming_the_flag(tmp_path, capsys, flag, value):
    code, err = zoo_train(capsys, write_recipe(tmp_path, TINY), "--out", tmp_path / "run",
                          flag, value)
    assert code == 2 and f"argument {flag}: must be a whole number >= 1" in err, err
    assert "\n" not in err and not (tmp_path / "run").exists()


def test_out_that_is_a_file_or_a_foreign_folder_is_refused_untouched(tmp_path, capsys):
    recipe = write_recipe(tmp_path, TINY)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    code, err = zoo_train(capsys, recipe, "--out", a_file)
    assert code == 2 and "notes.txt is a file" in err and a_file.read_text() == "mine"
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "cat.png").write_bytes(b"mine")
    code, err = zoo_train(capsys, recipe, "--out", photos, "--resume")
    assert code == 2 and "holds no run" in err, err
    assert [p.name for p in photos.iterdir()] == ["cat.png"]


# -- image folders --

def _save_jpeg(path, height, width, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())


def test_crop_larger_than_every_image_fails_naming_the_largest(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    _save_jpeg(folder / "small.jpg", 40, 30)
    _save_jpeg(folder / "largest.jpg", 60, 50)
    # (a small excess: should the check go, this trains briefly instead of filling memory)
    recipe = table(data={"dataset": "folder", "path": str(folder), "crop_size": [64, 40]})
    code, err = zoo_train(capsys, write_recipe(tmp_path, recipe), "--out", tmp_path / "run")
    assert code == 2 and "\n" not in err, err
    assert "data.crop_size [64, 40] is larger than every image" in err
    assert "largest.jpg, is 60 x 50" in err and str(folder) in err
    assert not (tmp_path / "run").exists()


def test_folder_sizes_for_the_crop_check_follow_exif_orientation(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned by 90 degrees
    Image.fromarray(np.zeros((10, 20, 3), np.uint8)).save(tmp_path / "turned.jpg", exif=exif)
    Image.fromarray(np.zeros((10, 20, 3), np.uint8)).save(tmp_path / "plain.png")
    folder = ImageFolder(tmp_path)
    assert folder.sizes == [(10, 20), (20, 10)]  # plain.png, turned.jpg
    assert [load.shape[:2] for load in folder] == folder.sizes


def test_one_image_folder_says_validation_needs_its_own_image(tmp_path, capsys):
    folder = tmp_path / "one"
    folder.mkdir()
    _save_jpeg(folder / "only.jpg", 48, 48)
    recipe = table(data={"dataset": "folder", "path": str(folder)})
    code, err = zoo_train(capsys, write_recipe(tmp_path, recipe), "--out", tmp_path / "run")
    assert code == 2 and "\n" not in err and "no images" not in err, err
    assert str(folder) in err and "validation needs at least one image of its own" in err
    assert not (tmp_path / "run").exists()


def test_truncated_jpeg_is_skipped_with_a_warning(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        _save_jpeg(folder / f"photo{i}.jpg", 40, 40, seed=i)
    images = ImageFolder(folder)
    train_indices, _ = split_folder(images, 0.1, seed=TINY["seed"])
    broken = images.paths[train_indices[0]]
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    recipe = parse_recipe(table(data={"dataset": "folder", "path": str(folder),
                                      "batch_size": 12},
                                training={"epochs": 1, "steps_per_epoch": 1}))
    with pytest.warns(UserWarning, match=re.escape(f"skipping {broken}: it cannot be decod")):
        result = train(recipe, tmp_path / "run", verbose=0)
    assert (tmp_path / "run" / "model.keras").is_file()
    assert np.isfinite(result.metrics["validation"]["loss"])


# -- runs that blew up: non-zero exit, what to try, nothing of the bad epoch saved --

@pytest.mark.parametrize("rate, what", [(1e10, "NaN or infinite"), (1e6, "weights grew to")])
def test_divergence_with_finite_loss_exits_nonzero(tmp_path, capsys, rate, what):
    recipe = table(training={"epochs": 2, "steps_per_epoch": 2, "optimizer": "sgd",
                             "learning_rate": rate})
    run = tmp_path / "run"
    code, err = zoo_train(capsys, write_recipe(tmp_path, recipe), "--out", run)
    assert code == 1 and what in err and "training.learning_rate" in err, err
    assert "\n" not in err
    assert not run.exists()  # diverged in its first epoch: nothing to resume


class _PoisonAtEpoch(keras.callbacks.Callback):
    """Sets a weight to inf after the last batch of `epoch` (the loss stays finite)."""

    def __init__(self, epoch, steps):
        super().__init__()
        self.epoch, self.steps, self.current = epoch, steps, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.steps - 1:
            weight = self.model.trainable_weights[0]
            weight.assign(np.full(weight.shape, np.inf, "float32"))


def test_weights_gone_bad_mid_run_keep_best_backup_and_logs(tmp_path, monkeypatch):
    build_callbacks = run_module._callbacks

    def with_poison(recipe, *args):
        return [*build_callbacks(recipe, *args), _PoisonAtEpoch(1, 1)]

    monkeypatch.setattr(run_module, "_callbacks", with_poison)
    run = tmp_path / "run"
    best = run / "checkpoints" / "best.keras"
    recipe = parse_recipe(table(training={"epochs": 2, "steps_per_epoch": 1}))
    saved = {}
    original_save = run_module.BestModel.on_epoch_end

    def remember(self, epoch, logs=None):
        original_save(self, epoch, logs)
        saved[epoch] = best.read_bytes() if best.exists() else None

    monkeypatch.setattr(run_module.BestModel, "on_epoch_end", remember)
    with pytest.raises(TrainingDiverged, match="in epoch 2 the weights became NaN"):
        train(recipe, run, verbose=0)
    assert list(saved) == [0] and best.read_bytes() == saved[0]
    assert logged_epochs(run) == [0] and logged_epochs(run, "clock.csv") == [0]
    assert json.loads((run / "backup" / "training_metadata.json").read_text())["epoch"] == 1
    assert finite_weights(run / "backup" / "latest.weights.h5")
    assert not (run / "model.keras").exists() and not (run / "metrics.json").exists()


@pytest.mark.parametrize("value, message", [(np.inf, "NaN or infinite"),
                                            (np.nan, "NaN or infinite"),
                                            (1e9, r"grew to 1e\+09")])
def test_guard_checks_weights_at_epoch_end(value, message):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    guard = NaNGuard(learning_rate=1e-3)
    guard.set_model(model)
    guard.on_epoch_end(0)  # fresh weights pass
    model.weights[1].assign([value])
    with pytest.raises(TrainingDiverged, match=message):
        guard.on_epoch_end(0)


def test_guard_stops_a_collapsed_loss_and_remembers_the_best_across_resume(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    guard = NaNGuard(learning_rate=1e-3)
    guard.set_model(model)
    for epoch, loss in enumerate([0.08, 0.05, 0.06, 0.19]):  # rises, but under 4x
        guard.on_epoch_end(epoch, {"loss": loss})
    with pytest.raises(TrainingDiverged, match=r"jumped to 0\.34, 6\.8 times the best"):
        guard.on_epoch_end(4, {"loss": 0.34})
    guard.on_epoch_end(5, {"d_loss": 9.0, "g_loss": 0.1})  # a GAN's losses: not compared
    history = tmp_path / "history.csv"
    history.write_text("epoch,loss,val_loss\n0,0.08,0.07\n1,0.05,0.06\n")
    resumed = NaNGuard(learning_rate=1e-3, history=history)
    resumed.set_model(model)
    with pytest.raises(TrainingDiverged, match="collapsed"):
        resumed.on_epoch_end(2, {"loss": 0.3})


def test_guard_compares_a_negative_loss_in_decibels_by_difference():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    guard = NaNGuard(learning_rate=1e-3)
    guard.set_model(model)
    for epoch, loss in enumerate([-28.0, -31.6, -31.5, -25.0]):  # -PSNR: 6.6 dB worse is kept
        guard.on_epoch_end(epoch, {"loss": loss})
    with pytest.raises(TrainingDiverged, match=r"jumped to -12, 19\.6 above the best"):
        guard.on_epoch_end(4, {"loss": -12.0})


# -- kills: --resume finishes what is left and the logs never repeat an epoch --

KILL_AT_FINAL_SAVE = """
import os, signal, sys
import training.run
training.run.save_model_atomically = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
from zoo_cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _assert_finished_without_retraining(run, recipe, epochs):
    result = train(recipe, run, resume=True, verbose=0)
    assert result.metrics["epochs_this_session"] == 0
    assert logged_epochs(run) == list(range(epochs))
    assert (run / "model.keras").is_file() and (run / "metrics.json").is_file()
    assert not (run / "backup").exists() and not (run / "backup.removing").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert np.isfinite(metrics["validation"]["loss"]) and metrics["history_last_epoch"]
    return result


def test_sigkill_in_the_final_save_resumes_without_training_again(tmp_path):
    recipe = table(training={"epochs": 2, "steps_per_epoch": 1})
    recipe_path = write_recipe(tmp_path, recipe)
    run = tmp_path / "run"
    env = dict(os.environ, KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="")
    killed = subprocess.run([sys.executable, "-c", KILL_AT_FINAL_SAVE, "train",
                             str(recipe_path), "--out", str(run)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not (run / "model.keras").exists() and logged_epochs(run) == [0, 1]
    result = _assert_finished_without_retraining(run, parse_recipe(recipe), 2)
    assert int(result.model.optimizer.iterations.numpy()) == 2  # restored, not retrained


def test_kills_after_a_log_row_then_before_metrics_resume_cleanly(tmp_path, monkeypatch):
    """Killed after epoch 1's log row but before its backup, then resumed and killed
    between model.keras and metrics.json, then resumed again: each epoch is trained and
    logged once."""
    real_clock = EpochClock.on_epoch_end

    def clock(self, epoch, logs=None):
        if epoch == 1:
            raise Killed
        real_clock(self, epoch, logs)

    monkeypatch.setattr(EpochClock, "on_epoch_end", clock)
    run = tmp_path / "run"
    recipe = parse_recipe(table(training={"epochs": 2, "steps_per_epoch": 1}))
    with pytest.raises(Killed):
        train(recipe, run, verbose=0)
    assert logged_epochs(run) == [0, 1]  # the row of epoch 1 got out, its backup did not
    monkeypatch.undo()
    real_write_json = run_module.write_json

    def write_json(data, path):
        if path.name == "metrics.json":
            raise Killed
        return real_write_json(data, path)

    monkeypatch.setattr(run_module, "write_json", write_json)
    with pytest.raises(Killed):
        train(recipe, run, resume=True, verbose=0)
    assert logged_epochs(run) == [0, 1] and logged_epochs(run, "clock.csv") == [0, 1]
    assert (run / "model.keras").is_file() and (run / "backup").is_dir()
    monkeypatch.undo()
    _assert_finished_without_retraining(run, recipe, 2)
    assert logged_epochs(run, "clock.csv") == [0, 1]


def test_trim_logs_drops_rows_ahead_of_the_backup_and_torn_lines(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    history = tmp_path / "logs" / "history.csv"
    history.write_text("epoch,loss\n0,0.5\n1,0.4\n2,0.3\n3,0.")
    (tmp_path / "logs" / "clock.csv").write_text("epoch,seconds,finished_unix\n0,1,2\n")
    _trim_logs(tmp_path)
    assert history.read_text() == "epoch,loss\n0,0.5\n1,0.4\n"
    assert (tmp_path / "logs" / "clock.csv").read_text().endswith("0,1,2\n")
    (tmp_path / "backup" / "training_metadata.json").unlink()  # no backup: nothing finished
    _trim_logs(tmp_path)
    assert history.read_text() == "epoch,loss\n"


def test_a_backup_save_that_fails_leaves_the_previous_backup_whole(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    backup = RunBackup(tmp_path / "backup")
    backup.set_model(model)
    backup.on_epoch_end(0)
    before = {p.name: p.read_bytes() for p in (tmp_path / "backup").iterdir()}

    def torn_save(path, **kwargs):
        open(path, "wb").write(b"half a file")
        raise Killed

    model.save_weights = torn_save
    with pytest.raises(Killed):
        backup.on_epoch_end(1)
    after = {p.name: p.read_bytes() for p in (tmp_path / "backup").iterdir()}
    assert after == before and set(after) == {"latest.weights.h5", "training_metadata.json"}
