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
    return [sys.executable, "-m", "zoo.cli", "train", *map(str, args)], env


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
