"""A run killed with SIGKILL mid-way continues with `--resume` from its last finished
epoch and ends with the weights an uninterrupted run ends with."""

import csv
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np

from training.recipe import load_recipe
from training.run import train

EPOCHS = 6
RECIPE = f"""
name = "resume_me"
seed = 3
[model]
architecture = "unet"
config = {{ filters = [4, 8] }}
[data]
dataset = "natural"
crop_size = [48, 48]
batch_size = 8
validation_batches = 1
[training]
epochs = {EPOCHS}
steps_per_epoch = 5
schedule = "cosine"
[callbacks]
tensorboard = false
samples_every = 0
"""


def logged_epochs(run):
    path = run / "logs" / "history.csv"
    if not path.exists():
        return []
    with open(path) as f:
        return [int(row["epoch"]) for row in csv.DictReader(f) if row.get("epoch")]


def zoo_train(*args):
    env = dict(os.environ, KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="")
    return [sys.executable, "-m", "zoo_cli", "train", *map(str, args)], env


def test_sigkilled_run_resumes_from_its_last_finished_epoch(tmp_path):
    recipe_path = tmp_path / "resume_me.toml"
    recipe_path.write_text(RECIPE)
    run = tmp_path / "run"
    command, env = zoo_train(recipe_path, "--out", run)
    with open(tmp_path / "first.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 240
        while len(logged_epochs(run)) < 2:
            assert process.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the first run never finished 2 epochs"
            time.sleep(0.02)
        assert process.poll() is None, "the run finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finished_before_kill = logged_epochs(run)
    assert len(finished_before_kill) < EPOCHS
    assert not (run / "model.keras").exists()

    command, env = zoo_train(recipe_path, "--out", run, "--resume")
    resumed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-3000:]

    epochs = logged_epochs(run)
    second_session = epochs[len(finished_before_kill):]
    assert second_session[0] >= len(finished_before_kill) >= 2, epochs
    assert sorted(set(epochs)) == list(range(EPOCHS)), epochs

    reference = train(load_recipe(recipe_path), tmp_path / "uninterrupted", verbose=0).model
    resumed_model = keras.saving.load_model(run / "model.keras")
    for ours, theirs in zip(resumed_model.weights, reference.weights, strict=True):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), atol=1e-5,
                                   err_msg=ours.path)


def test_best_checkpoint_survives_a_resume(tmp_path):
    """A resumed run's BestModel starts from the best logged value, not infinity."""
    from training.callbacks import BestModel

    checkpoint = tmp_path / "best.keras"
    checkpoint.write_bytes(b"kept")
    history = tmp_path / "history.csv"
    history.write_text("epoch,loss,val_loss\n0,0.5,0.30\n1,0.4,0.20\n2,0.3,0.25\n")
    callback = BestModel(checkpoint, "val_loss", history=history)
    assert callback.best == 0.20
    callback.on_epoch_end(3, {"val_loss": 0.22})  # worse than the logged best: not saved
    assert checkpoint.read_bytes() == b"kept"
    fresh = BestModel(tmp_path / "none.keras", "val_loss", history=history)
    assert fresh.best == float("inf")  # no checkpoint yet: the first epoch saves one


def test_epoch_clock_appends_one_row_per_epoch_across_runs(tmp_path):
    from training.callbacks import EpochClock

    path = tmp_path / "clock.csv"
    for run in range(2):  # a run and its resumption append to the same file
        clock = EpochClock(path)
        clock.on_epoch_begin(run)
        clock.on_epoch_end(run)
    rows = path.read_text().splitlines()
    assert rows[0] == "epoch,seconds,finished_unix"
    assert [row.split(",")[0] for row in rows[1:]] == ["0", "1"]
    assert all(float(row.split(",")[1]) >= 0 for row in rows[1:])
