"""`benchmarks/train_throughput.py --quick` runs end to end and writes a consistent JSON.

Speed is measured by the benchmark itself, never asserted here: these checks are about
the result's shape and arithmetic (every family x path, positive finite numbers, ratios
that are the quotients of the reported images/s) and about the reference loops
computing the same loss as the zoo's `fit` on the same first batch.
"""

import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("benchmark_throughput")  # module fixtures run once

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "train_throughput.py"
PATHS = ("zoo fit", "zoo fit (XLA)", "plain loop", "tf.function loop")
# The GAN, a U-Net with a mask input (dict inputs) and one with an image input and its own
# loss (segmentation); the denoiser's path is the latter's with another loss. Two
# processes side by side: most of the time is tracing and XLA compilation, single-threaded.
GROUPS = (("unet_inpaint_natural", "unet_segment_shapes"), ("dcgan_digits",))
RECIPES = [name for group in GROUPS for name in group]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{recipe: (result JSON, stdout)} from `--quick --repeats 1` runs in a scratch folder
    (not the repository root: the script must find its imports on its own)."""
    folder = tmp_path_factory.mktemp("throughput")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = []
    for index, group in enumerate(GROUPS):
        out = folder / f"group{index}" / "result.json"
        command = [sys.executable, str(SCRIPT), "--quick", "--repeats", "1",
                   "--recipes", ",".join(group), "--out", str(out)]
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        started.append((group, out, process))
    results = {}
    for group, out, process in started:
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-3000:]
        assert not list(out.parent.glob("*.partial")), "temporary file left behind"
        result = json.loads(out.read_text())
        for name in group:
            results[name] = (result, stdout)
    return results


def rows_of(runs, name):
    result, _ = runs[name]
    return {row["path"]: row for row in result["rows"] if row["recipe"] == name}


def test_result_records_the_machine_and_the_command(runs):
    for name in RECIPES:
        result, _ = runs[name]
        machine = result["machine"]
        assert machine["backend"] == "tensorflow"
        assert machine["cpu_count"] >= 1 and machine["platform"]
        assert machine["tensorflow"] and machine["keras"]
        assert result["command"].startswith("python benchmarks/train_throughput.py --quick")
        assert result["settings"]["repeats"] == 1 and result["settings"]["quick"] is True


@pytest.mark.parametrize("name", RECIPES)
def test_every_path_has_positive_finite_timings(runs, name):
    rows = rows_of(runs, name)
    assert sorted(rows) == sorted(PATHS)
    for path, row in rows.items():
        assert row["xla"] is (path == "zoo fit (XLA)")
        assert len(row["run_step_ms"]) == 1
        for key in ("median_step_ms", "images_per_s", "ratio_vs_plain_loop",
                    "ratio_vs_tf_function_loop"):
            assert math.isfinite(row[key]) and row[key] > 0, (path, key, row[key])


@pytest.mark.parametrize("name", RECIPES)
def test_images_per_second_and_ratios_are_the_quotients_of_the_timings(runs, name):
    rows = rows_of(runs, name)
    plain, compiled = rows["plain loop"], rows["tf.function loop"]
    for row in rows.values():
        assert len(row["step_ms"]) == 1 and len(row["step_ms"][0]) == 3  # --quick: 3 steps
        assert row["run_step_ms"][0] == pytest.approx(statistics.median(row["step_ms"][0]),
                                                      rel=1e-3)
        assert row["median_step_ms"] == pytest.approx(statistics.median(row["run_step_ms"]))
        assert row["images_per_s"] == pytest.approx(
            row["batch_size"] / (row["median_step_ms"] / 1000), rel=1e-9)
        assert row["ratio_vs_plain_loop"] == pytest.approx(
            row["images_per_s"] / plain["images_per_s"], rel=1e-9)
        assert row["ratio_vs_tf_function_loop"] == pytest.approx(
            row["images_per_s"] / compiled["images_per_s"], rel=1e-9)
    assert plain["ratio_vs_plain_loop"] == pytest.approx(1.0)
    assert compiled["ratio_vs_tf_function_loop"] == pytest.approx(1.0)


@pytest.mark.parametrize("name", [n for n in RECIPES if not n.startswith("dcgan")])
def test_reference_loops_compute_the_zoo_loss_on_the_same_batch(runs, name):
    """Same weights, same first batch, same loss object: the loops train the same thing.
    (The GAN's latents are drawn by different generators, so its losses differ.)"""
    losses = {path: row["first_step_loss"] for path, row in rows_of(runs, name).items()}
    for path, value in losses.items():
        assert value == pytest.approx(losses["zoo fit"], rel=1e-3), (path, losses)


def test_table_is_printed_with_a_row_per_family_and_path(runs):
    for name in RECIPES:
        result, stdout = runs[name]
        assert "| family | recipe | path | XLA | median step ms |" in stdout
        assert result["table"] in stdout
        for path in PATHS:
            assert any(f"`{name}` | {path} |" in line for line in stdout.splitlines())
