"""`benchmarks/quality.py --quick` runs end to end; its tables follow from its JSON.

Quality is measured by the benchmark itself (full run, README table), never asserted
here: these checks are about the result's completeness and consistency.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("quality_benchmark")  # module fixtures run once

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "quality.py"

pytest.importorskip("cv2")
pytest.importorskip("bm3d")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quality")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    out, figures = folder / "quality.json", folder / "figures"
    process = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(out),
                              "--figures", str(figures)], cwd=folder, env=env,
                             capture_output=True, text=True, timeout=900)
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(out.read_text()), process.stdout, figures


def _finite(value):
    return isinstance(value, int | float) and math.isfinite(value)


def test_every_method_is_scored(run):
    result, _, _ = run
    inpainting = result["inpainting"]
    assert set(inpainting) == {"OpenCV Telea", "OpenCV Navier-Stokes",
                               "scikit-image biharmonic", "inpainter-natural",
                               "unet-inpaint-natural"}
    for groups in inpainting.values():
        assert set(groups) == {"strokes", "box"}
        assert all(_finite(g["psnr"]) and 0 < g["ssim"] <= 1 for g in groups.values())
    assert set(result["denoising"]) == {"OpenCV NLM", "scikit-image TV", "BM3D",
                                        "unet-denoise-natural"}
    assert all(0 <= v["mean_iou"] <= 1 for v in result["segmentation"].values())
    assert set(result["tflite_int8"]) == {"unet-inpaint-natural"}  # --quick times one
    assert all(v["seconds"] > 0 for v in result["tflite_int8"].values())
    for preset in ("dcgan-digits", "dcgan-textures"):
        models = result["generation"][preset]["models"]
        assert set(models) == {"zoo preset", "keras.io reference"}
        assert all(_finite(m["fid"]) and m["fid"] >= 0 for m in models.values())


def test_printed_tables_show_the_recorded_numbers(run):
    result, stdout, _ = run
    biharmonic = result["inpainting"]["scikit-image biharmonic"]["strokes"]["psnr"]
    assert f"| scikit-image biharmonic | {biharmonic:.2f} |" in stdout
    fid = result["generation"]["dcgan-digits"]["models"]["zoo preset"]["fid"]
    assert f"| dcgan-digits | zoo preset | {fid:.2f} |" in stdout


def test_figures_are_written(run):
    result, _, figures = run
    assert (figures / "inpaint_strokes.png").is_file()
    assert (figures / "generated_dcgan-digits.png").is_file()
    assert not list(figures.glob("*.partial"))


def test_committed_full_run_times_every_repair_preset():
    committed = json.loads((ROOT / "benchmarks" / "results" / "quality.json").read_text())
    assert "--quick" not in committed["command"]
    timed = committed["tflite_int8"]
    assert set(timed) == {"inpainter-natural", "unet-inpaint-natural",
                          "unet-denoise-natural", "unet-segment-shapes"}
    assert all(v["seconds"] > 0 and v["verification_passed"] for v in timed.values())
