"""`benchmarks/export_latency.py --quick` runs end to end and writes a consistent JSON.

Speed is measured by the benchmark itself, never asserted here: these checks are about
the result's shape and arithmetic (every architecture x variant, positive sizes and
finite positive latencies, size and latency ratios that are the quotients of the
recorded numbers, goal verdicts that follow from the recorded values).
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import zoo

pytestmark = pytest.mark.xdist_group("benchmark_export_latency")  # module fixtures run once

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "export_latency.py"
VARIANTS = ("float32", "float16", "dynamic", "int8")
# One --quick entry covers the benchmark's code paths for an image model with a mask
# input and a repair task (the int8-vs-float32 goal); every entry's rows are checked in
# the committed full result below. Each entry costs four conversions (~25 s of CPU).
LABELS = ("conv_autoencoder_inpainter",)
COMMITTED = ROOT / "benchmarks" / "results" / "export_latency.json"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(result JSON, stdout) of a `--quick --repeats 1` run in a scratch folder (not the
    repository root: the script must find its imports on its own)."""
    folder = tmp_path_factory.mktemp("export_latency")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = folder / "result.json"
    command = [sys.executable, str(SCRIPT), "--quick", "--repeats", "1",
               "--models", ",".join(LABELS), "--out", str(out)]
    process = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                             timeout=600)
    assert process.returncode == 0, process.stderr[-3000:]
    assert not list(folder.glob("*.partial")), "temporary file left behind"
    return json.loads(out.read_text()), process.stdout


@pytest.fixture(scope="module")
def rows(run):
    """{(label, variant): row} of the run."""
    found = {}
    for row in run[0]["rows"]:
        key = (row["label"], row["variant"])
        assert key not in found, f"duplicate row {key}"
        found[key] = row
    return found


def _export_latency_module():
    import export_latency

    return export_latency


def positive_finite(value):
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_every_architecture_and_variant_has_a_row(rows):
    assert sorted(rows) == sorted((label, v) for label in LABELS for v in VARIANTS)
    entries = [entry.label for entry in _export_latency_module().default_entries()]
    assert set(zoo.list_models()) <= set(entries)
    committed = {(row["label"], row["variant"])
                 for row in json.loads(COMMITTED.read_text())["rows"]}
    assert committed == {(label, v) for label in entries for v in VARIANTS}


def test_result_records_machine_settings_and_command(run):
    result, _ = run
    assert result["benchmark"] == "export_latency"
    assert result["command"].startswith("python benchmarks/export_latency.py --quick")
    assert result["settings"]["quick"] is True and result["settings"]["repeats"] == 1
    assert result["settings"]["threads"] == [1, 2]
    machine = result["machine"]
    assert machine["backend"] == "tensorflow" and machine["cpu_count"] >= 1
    assert machine["tensorflow"] and machine["keras"] and machine["ai_edge_litert"]
    assert any("untrained" in note for note in result["notes"])
    assert positive_finite(result["seconds"])


@pytest.mark.parametrize("label", LABELS)
def test_sizes_are_positive_and_ratios_are_their_quotients(rows, label):
    float32 = rows[label, "float32"]
    for variant in VARIANTS:
        row = rows[label, variant]
        assert isinstance(row["file_bytes"], int) and row["file_bytes"] > 0
        assert row["size_ratio_vs_float32"] == pytest.approx(
            row["file_bytes"] / float32["file_bytes"], rel=1e-12)
    assert float32["size_ratio_vs_float32"] == 1.0


@pytest.mark.parametrize("label", LABELS)
def test_latencies_are_positive_finite_and_ratios_are_their_quotients(rows, label):
    for variant in VARIANTS:
        row = rows[label, variant]
        assert positive_finite(row["keras_predict_ms"]) and positive_finite(row["keras_call_ms"])
        for threads in ("1_threads", "2_threads"):
            latency = row["latency_ms"][threads]
            assert positive_finite(latency), (variant, threads, latency)
            assert row["ratio_vs_keras_predict"][threads] == pytest.approx(
                latency / row["keras_predict_ms"], rel=1e-12)
            assert row["ratio_vs_keras_call"][threads] == pytest.approx(
                latency / row["keras_call_ms"], rel=1e-12)
            runs = row["latency_runs"][threads]
            assert len(runs["run_median_ms"]) == 1 and runs["median_ms"] == latency
            assert all(positive_finite(t) for times in runs["call_ms"] for t in times)


@pytest.mark.parametrize("label", LABELS)
def test_fidelity_figures_are_recorded(rows, label):
    for variant in VARIANTS:
        row = rows[label, variant]
        assert math.isfinite(row["psnr_vs_keras_db"]) and row["psnr_vs_keras_db"] > 0
        assert math.isfinite(row["psnr_vs_float32_tflite_db"])
        assert isinstance(row["verification_passed"], bool)
    assert rows[label, "float32"]["psnr_vs_float32_tflite_db"] == 100.0  # itself: MSE floor
    assert rows[label, "float32"]["verification_passed"]


def test_goal_verdicts_follow_from_the_recorded_values(run, rows):
    result, _ = run
    goals = result["goals"]
    for label, check in result["goal_checks"].items():
        int8, float32 = rows[label, "int8"], rows[label, "float32"]
        assert check["int8_size_ratio"]["value"] == int8["size_ratio_vs_float32"]
        assert check["int8_size_ratio"]["met"] == (
            int8["size_ratio_vs_float32"] <= goals["int8_max_size_ratio"])
        latency = check["float32_latency_vs_keras_predict"]
        for threads, met in latency["met"].items():
            assert met == (float32["ratio_vs_keras_predict"][threads] < 1.0)
        repair = int8["task"] in ("inpaint", "denoise")
        assert ("int8_psnr_vs_float32" in check) == repair


def test_table_is_printed_with_a_row_per_model_and_variant(run):
    result, stdout = run
    assert "| model | input | variant | file MB | x float32 size |" in stdout
    assert result["table"] in stdout
    for label in result["settings"]["models"]:
        for variant in VARIANTS:
            assert any(line.startswith(f"| {label} |") and f"| {variant} |" in line
                       for line in stdout.splitlines()), (label, variant)


def test_docs_table_is_the_committed_result():
    result = json.loads(COMMITTED.read_text())
    assert _export_latency_module().markdown_table(result["rows"]) == result["table"]
    assert result["table"] in (ROOT / "docs" / "benchmarks.md").read_text()
