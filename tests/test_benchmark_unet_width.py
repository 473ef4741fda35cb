"""`benchmarks/unet_width_latency.py --quick` runs and records consistent numbers.

Speed is the benchmark's business, never asserted here: the checks are on the result's
arithmetic (ratios are quotients of the recorded times) and on what width changes
(parameters and file size shrink with the filters). Runs in-process: a subprocess
would pay TensorFlow's import again.
"""

import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import unet_width_latency  # noqa: E402


def test_narrower_unets_are_smaller_and_ratios_follow_from_the_times(tmp_path, capsys):
    out = tmp_path / "result.json"
    unet_width_latency.main(["--quick", "--repeats", "1", "--widths", "8,16", "4,8",
                             "--out", str(out)])
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    rows = result["rows"]
    assert [(r["filters"], r["mask_input"]) for r in rows] == [
        ([8, 16], False), ([8, 16], True), ([4, 8], False), ([4, 8], True)]
    peer = result["biharmonic_seconds"]
    assert math.isfinite(peer) and peer > 0
    for row in rows:
        assert math.isfinite(row["seconds"]) and row["seconds"] > 0
        assert math.isclose(row["vs_biharmonic"], row["seconds"] / peer)
    assert rows[2]["parameters"] < rows[0]["parameters"]
    assert rows[2]["file_bytes"] < rows[0]["file_bytes"]
    assert f"{rows[0]['seconds'] * 1000:.1f}" in printed
