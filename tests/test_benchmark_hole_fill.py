"""The committed benchmarks/results/hole_fill.json matches the fill the code builds."""

import json
from pathlib import Path

from zoo.hole_fill import DiffusionFill

RESULT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "hole_fill.json"


def rows_by_variant():
    return {row["variant"]: row for row in json.loads(RESULT.read_text())["rows"]}


def test_the_default_row_is_the_layers_current_default():
    defaults = DiffusionFill().get_config()
    (row,) = [row for label, row in rows_by_variant().items() if "(default)" in label]
    assert row["config"] == {key: defaults[key] for key in row["config"]}
    assert row["int8_exact_kernels"]


def test_int8_exact_kernels_are_what_keeps_the_export_faithful():
    rows = rows_by_variant()
    plain, exact = rows["binomial /16, 16 steps"], rows["16 steps"]
    assert plain["config"] == exact["config"]
    assert exact["int8_vs_keras_worst_db"] > 30 > plain["int8_vs_keras_worst_db"]
    assert all(row["int8_vs_keras_worst_db"] > 30 for row in rows.values()
               if row["int8_exact_kernels"])


def test_quick_run_scores_the_fill_and_shows_the_plain_kernel_drifting(tmp_path):
    import hole_fill

    out = tmp_path / "hole_fill.json"
    assert hole_fill.main(["--quick", "--out", str(out)]) == 0
    rows = {row["variant"]: row for row in json.loads(out.read_text())["rows"]}
    plain, exact = rows["binomial /16, 8 steps, 6 levels"], rows["8 steps, 6 levels"]
    assert plain["config"] == exact["config"]
    assert exact["int8_vs_keras_worst_db"] > 40
    assert plain["int8_vs_keras_worst_db"] < exact["int8_vs_keras_worst_db"] - 10
    assert 10 < exact["strokes"] < 40 and 5 < exact["box"] < 40
