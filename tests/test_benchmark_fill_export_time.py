"""`benchmarks/fill_export_time.py` times fill settings in their exported float32 form.

Speed is the benchmark's business, never asserted here: the checks are that each file
computes the Keras fill, that the result records what was timed, and its refusals.
"""

import json
import math

import fill_export_time
import pytest

SMALL_FILLS = ('{"levels": 3, "steps": 1, "biharmonic_steps": 2}',
               '{"levels": 3, "steps": 1, "biharmonic_steps": 4, "taper": 1, "momentum": 0.9}')


def test_each_file_is_the_keras_fill_and_its_time_is_recorded(tmp_path, capsys):
    out = tmp_path / "result.json"
    argv = [arg for fill in SMALL_FILLS for arg in ("--fill", fill)]
    assert fill_export_time.main([*argv, "--size", "32", "--rounds", "3",
                                  "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [row["fill"] for row in rows] == [json.loads(fill) for fill in SMALL_FILLS]
    for row in rows:
        assert row["max_abs_vs_keras"] < 1e-5
        assert 0 < row["p25_ms"] <= row["median_ms"] <= row["p75_ms"]
    assert rows[0]["ratio_to_first"] == 1.0
    assert math.isclose(rows[1]["ratio_to_first"], rows[1]["median_ms"] / rows[0]["median_ms"])
    assert f"{rows[1]['median_ms']:.2f}" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--fill", "{}"], ["--fill", "{}", "--fill", "{steps: 2}"]])
def test_one_setting_or_bad_json_is_refused(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        fill_export_time.main(argv)
    assert stopped.value.code == 2
    assert "--fill" in capsys.readouterr().err
