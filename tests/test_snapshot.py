"""A long run's snapshot (weights without optimizer state, logs, curve) continues on
another machine: the restored run resumes at the snapshot's epoch, its learning-rate
schedule at the snapshot's step, with a fresh optimizer whose rate ramps up."""

import json
import shutil

import h5py
import keras
import numpy as np
import pytest

from tests.test_resume import RECIPE, logged_epochs
from training.optimizers import RESTART_WARMUP_STEPS, ContinuedSchedule
from training.recipe import load_recipe
from training.run import schedule_offset, train
from training.snapshot import restore_snapshot, save_snapshot, training_curve

pytestmark = pytest.mark.xdist_group("snapshot")  # module fixtures run once


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    path = tmp_path_factory.mktemp("recipe") / "resume_me.toml"
    path.write_text(RECIPE.replace("epochs = 6", "epochs = 2"))
    return load_recipe(path)


@pytest.fixture(scope="module")
def finished(recipe, tmp_path_factory):
    """One finished run of `recipe`, shared read-only by the tests (each trains in 10 s)."""
    run = tmp_path_factory.mktemp("finished") / "first"
    train(recipe, run, verbose=0)
    return run


def test_snapshot_restores_weights_epoch_and_step_count(recipe, finished, tmp_path):
    first = finished
    snapshot = tmp_path / "snap"
    curve = save_snapshot(first, snapshot)

    with h5py.File(snapshot / "backup" / "latest.weights.h5") as weights:
        assert "optimizer" not in weights and "layers" in weights
        dtypes = set()
        weights.visititems(lambda _, item: dtypes.add(item.dtype)
                           if isinstance(item, h5py.Dataset) else None)
    assert dtypes == {np.dtype("float16")}
    size = (snapshot / "backup" / "latest.weights.h5").stat().st_size
    assert size < 0.6 * (first / "model.keras").stat().st_size  # which holds Adam's moments
    assert [row["epoch"] for row in curve["rows"]] == [0, 1]
    assert [row["step"] for row in curve["rows"]] == [5, 10]
    assert all(row["hours"] > 0 for row in curve["rows"]) and "val_psnr" in curve["rows"][0]
    assert json.loads((snapshot / "curve.json").read_text()) == curve
    _check_curves_script(tmp_path, curve)

    elsewhere = tmp_path / "elsewhere"
    restore_snapshot(snapshot, elsewhere)
    assert schedule_offset(elsewhere, 5) == 10
    result = train(recipe, elsewhere, resume=True, verbose=0)
    assert logged_epochs(elsewhere) == [0, 1]  # both epochs were done: none is trained again
    original = keras.saving.load_model(first / "model.keras")
    for ours, theirs in zip(result.model.weights, original.weights, strict=True):
        assert ours.dtype == "float32"  # stored as float16, loaded into float32
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-3,
                                   atol=1e-4, err_msg=ours.path)
    assert training_curve(elsewhere)["rows"][-1]["step"] == 10


def test_a_warm_started_run_carries_its_sources_curve_into_its_snapshot(recipe, finished,
                                                                       tmp_path):
    first = finished
    save_snapshot(first, tmp_path / "snapshots" / "first")
    second = tmp_path / "second"
    train(recipe, second, verbose=0, init_from=tmp_path / "snapshots" / "first")
    curve = save_snapshot(second, tmp_path / "snapshots" / "second")
    assert curve["warm_start"]["run"] == "first"
    assert curve["warm_start"]["rows"] == training_curve(first)["rows"]
    # the curves script counts hours from the start of the chain
    import training_curves

    from training.snapshot import chain_segments, chain_totals

    (_, earlier), (_, later) = chain_segments(curve)
    assert later[0]["hours"] == pytest.approx(earlier[-1]["hours"] + curve["rows"][0]["hours"])
    assert training_curves.summarize(curve)["warm_start_chain"] == ["first"]
    assert chain_totals(curve) == (20, pytest.approx(later[-1]["hours"]))


def test_a_run_started_from_a_presets_weights_carries_the_presets_curve(finished, tmp_path):
    """A preset's metadata.json holds the curve of the runs its weights came from; a run
    warm-started from its weights file continues that chain."""
    from training.snapshot import source_curve

    preset = tmp_path / "my-preset"
    preset.mkdir()
    (preset / "model.weights.h5").write_bytes(b"only its path is read")
    chain = training_curve(finished)
    (preset / "metadata.json").write_text(json.dumps({"training_curve": chain}))
    assert source_curve(preset / "model.weights.h5") == chain
    (preset / "metadata.json").write_text(json.dumps({"name": "older"}))  # no curve
    assert source_curve(preset / "model.weights.h5") is None
    (tmp_path / "loose.weights.h5").write_bytes(b"beside no metadata.json")
    assert source_curve(tmp_path / "loose.weights.h5") is None


def test_a_snapshot_from_mid_run_continues_the_schedule_with_a_ramp(recipe, finished, tmp_path):
    first = finished
    snapshot = tmp_path / "snap"
    save_snapshot(first, snapshot)
    # Make it the snapshot of the same run after its first epoch only.
    (snapshot / "backup" / "training_metadata.json").write_text('{"epoch": 1, "batch": 0}')
    history = (snapshot / "logs" / "history.csv").read_text().splitlines()
    (snapshot / "logs" / "history.csv").write_text("\n".join(history[:2]) + "\n")

    elsewhere = tmp_path / "elsewhere"
    restore_snapshot(snapshot, elsewhere)
    result = train(recipe, elsewhere, resume=True, verbose=0)
    assert logged_epochs(elsewhere) == [0, 1]
    optimizer = result.model.optimizer
    # Adam's counter (its bias correction) restarted with the moments; the schedule did not.
    assert int(optimizer.iterations) == 5
    schedule = optimizer._learning_rate
    assert isinstance(schedule, ContinuedSchedule) and schedule.offset == 5
    plain = schedule.schedule
    expected = float(plain(10)) * 6 / RESTART_WARMUP_STEPS
    assert float(optimizer.learning_rate) == pytest.approx(expected, rel=1e-5)
    reloaded = keras.saving.load_model(elsewhere / "model.keras")
    assert reloaded.optimizer._learning_rate.get_config() == schedule.get_config()


def test_schedule_offset_is_kept_by_a_backup_with_optimizer_state(tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "training_metadata.json").write_text('{"epoch": 4, "schedule_offset": 30}')
    with h5py.File(backup / "latest.weights.h5", "w") as weights:
        weights.create_group("layers")
        weights.create_group("optimizer")
    assert schedule_offset(tmp_path, 10) == 30  # the optimizer's counter holds the rest
    with h5py.File(backup / "latest.weights.h5", "w") as weights:
        weights.create_group("layers")
    assert schedule_offset(tmp_path, 10) == 40  # no moments: the optimizer starts afresh
    assert schedule_offset(tmp_path / "nothing", 10) == 0


def test_continued_schedule_ramps_then_follows_the_schedule():
    plain = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=1000)
    continued = ContinuedSchedule(plain, offset=400, warmup_steps=100)
    assert float(continued(0)) == pytest.approx(float(plain(400)) / 100, rel=1e-5)
    assert float(continued(49)) == pytest.approx(float(plain(449)) / 2, rel=1e-5)
    assert float(continued(300)) == pytest.approx(float(plain(700)), rel=1e-5)
    constant = ContinuedSchedule(2e-4, offset=50, warmup_steps=10)
    assert float(constant(99)) == pytest.approx(2e-4)
    again = ContinuedSchedule.from_config(continued.get_config())
    assert float(again(300)) == pytest.approx(float(continued(300)))


def test_restore_refuses_to_go_back_and_save_needs_a_backup(recipe, finished, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    snapshot = tmp_path / "snap"
    save_snapshot(run, snapshot)
    (snapshot / "logs" / "history.csv").write_text("epoch,loss\n0,1.0\n")
    with pytest.raises(FileExistsError, match="more than the snapshot"):
        restore_snapshot(snapshot, run)
    with pytest.raises(FileNotFoundError, match="no model.keras"):
        save_snapshot(tmp_path / "empty", tmp_path / "never")
    assert keras.saving.load_model(run / "model.keras") is not None


def _check_curves_script(folder, curve):
    """benchmarks/training_curves.py reads the snapshot's curve.json: table, JSON, figure."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "training_curves.py"
    out = folder / "curves"
    done = subprocess.run([sys.executable, str(script), "--snapshots", str(folder),
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    (summary,) = json.loads(out.with_suffix(".json").read_text())["runs"]
    assert summary["metric"] == "val_psnr" and summary["epochs"] == len(curve["rows"])
    assert summary["last"] == curve["rows"][-1]["val_psnr"]
    assert out.with_suffix(".png").stat().st_size > 1000


def test_prune_narrows_a_snapshot_and_carries_its_curve(tmp_path):
    """`python -m training.prune SNAPSHOT RECIPE -o OUT.keras`: the snapshot's latest
    weights, narrowed, with the snapshot's curve beside OUT for a later --init-from."""
    from training.prune import main, prune_into
    from training.run import build_model, load_initial_weights
    from training.snapshot import source_curve

    def recipe_file(name, filters):
        path = tmp_path / f"{name}.toml"
        path.write_text(RECIPE.replace("epochs = 6", "epochs = 1").replace(
            "filters = [4, 8]", f'filters = {filters}, normalization = "none"'))
        return path

    wide_recipe = load_recipe(recipe_file("wide", [4, 8]))
    train(wide_recipe, tmp_path / "run", verbose=0)
    curve = save_snapshot(tmp_path / "run", tmp_path / "snapshot")
    narrow_file = recipe_file("narrow", [2, 8])
    out = tmp_path / "narrow.keras"
    assert main([str(tmp_path / "snapshot"), str(narrow_file), "-o", str(out)]) == 0
    wide = build_model(wide_recipe)
    load_initial_weights(wide, tmp_path / "snapshot")
    expected = build_model(load_recipe(narrow_file))
    prune_into(wide, expected)
    narrow = keras.saving.load_model(out, compile=False)
    assert narrow.get_layer("encoder0_conv1").kernel.shape[-1] == 2
    for mine, theirs in zip(narrow.weights, expected.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))
    assert source_curve(out) == json.loads(json.dumps(curve))
