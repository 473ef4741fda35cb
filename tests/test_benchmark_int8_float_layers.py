"""`benchmarks/int8_float_layers.py --quick`: its variants and the numbers it records.

Speed and quality are the benchmark's business; the checks are on what each variant
exports (its float32 layers, in the file) and on the result's arithmetic.
"""

import json
import math

import int8_float_layers

from export.activation_ranges import PERCENTILES


def test_variants_keep_nested_float_layers_and_record_their_gap_to_keras(tmp_path, capsys):
    out = tmp_path / "result.json"
    assert int8_float_layers.main(["--quick", "--repeats", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    keras, *files = result["rows"]
    assert keras["variant"] == "Keras" and [row["variant"] for row in files] == [
        "all int8", "output layers", "output layers + full-resolution decoder level",
        "output layers, min / max ranges"]
    # an untrained model has no preset list: zoo export keeps the output layers, with
    # percentile ranges; the last row is the same file with the calibrated ranges
    assert [row["zoo_export"] for row in files] == [False, True, False, False]
    assert [row["range_percentiles"] for row in files][2:] == [list(PERCENTILES), None]
    assert files[3]["float_layers"] == files[1]["float_layers"]
    everything, default, wider, _ = (row["float_layers"] for row in files)
    assert everything == [] and "residual" in default and "smooth_blend" in default
    assert set(default) < set(wider) and "decoder0_conv2" in wider
    for row in files:
        assert math.isclose(row["vs_keras_db"], row["psnr_db"] - keras["psnr_db"])
        assert row["seconds"] > 0 and row["file_bytes"] > 0
    # float32 layers weigh 4 bytes a weight against int8's 1
    assert files[0]["file_bytes"] < files[2]["file_bytes"]
    printed = capsys.readouterr().out
    assert f"| all int8 | {files[0]['psnr_db']:.2f} |" in printed
    assert "| output layers (zoo export) |" in printed
