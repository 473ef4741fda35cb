"""`benchmarks/tflite_interleaved.py` times .tflite files against the first one.

Speed is the benchmark's business, never asserted here: the checks are on the result's
arithmetic (each ratio is the quotient of recorded medians), on which files it read,
and on its refusals. Runs in-process: a subprocess would pay TensorFlow's import again.
"""

import json
import math

import pytest
import tflite_interleaved

import zoo
from export.exporters import to_tflite

pytestmark = pytest.mark.xdist_group("tflite_interleaved")  # module fixture built once


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("interleaved")
    paths = []
    for filters in ((4, 8), (8, 16)):
        model = zoo.create_model("unet", filters=filters, normalization="none", residual=True,
                                 pixel_unshuffle=2, noise_level_input=True)
        path = folder / f"unet_{filters[0]}.tflite"
        to_tflite(model, path, "none", None, (32, 32), log=lambda message: None)
        paths.append(path)
    return paths


def test_ratios_are_quotients_of_the_medians(two_files, tmp_path, capsys):
    out = tmp_path / "result.json"
    assert tflite_interleaved.main([*map(str, two_files), "--rounds", "3",
                                    "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [row["file"] for row in rows] == [str(path) for path in two_files]
    assert rows[0]["ratio_to_first"] == 1.0
    assert math.isclose(rows[1]["ratio_to_first"], rows[1]["median_ms"] / rows[0]["median_ms"])
    for row in rows:
        assert 0 < row["p25_ms"] <= row["median_ms"] <= row["p75_ms"]
    assert f"{rows[1]['median_ms']:.2f}" in capsys.readouterr().out


def test_noise_levels_are_drawn_as_strengths(two_files):
    import numpy as np

    from export.runtime import TFLiteModel

    inputs = tflite_interleaved.example_inputs(TFLiteModel(two_files[0]),
                                               np.random.default_rng(0))
    assert inputs["noise_level"].shape == (1, 1) and 0 <= inputs["noise_level"].max() <= 0.2
    assert inputs["image"].shape == (1, 32, 32, 3)


def test_one_file_or_a_missing_file_is_refused(two_files, tmp_path, capsys):
    with pytest.raises(SystemExit):
        tflite_interleaved.main([str(two_files[0])])
    with pytest.raises(SystemExit):
        tflite_interleaved.main([str(two_files[0]), str(tmp_path / "absent.tflite")])
    assert "no such file" in capsys.readouterr().err
