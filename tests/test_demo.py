"""`zoo demo` (the README's main job) repairs a held-out photo, generates, exports."""

import json

import numpy as np
from PIL import Image

from zoo_cli.demo import CLASSICAL, DEMO_SIZE, EXPORTED, GENERATORS, INPAINTERS
from zoo_cli.main import main


def test_demo_repairs_generates_and_exports(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    results = json.loads((out / "demo.json").read_text())

    inpainting = results["inpainting"]
    for name in INPAINTERS:  # far better than the black hole, near the classical fill
        assert inpainting[f"masked_psnr_{name}"] > inpainting["masked_psnr_before"] + 8
        assert inpainting[f"masked_psnr_{name}"] > inpainting[f"masked_psnr_{CLASSICAL}"] - 1
    denoising = results["denoising"]
    assert denoising["psnr_denoised"] > denoising["psnr_noisy"] + 4

    figure = np.asarray(Image.open(out / "inpaint_before_after.png"))
    columns = 3 + len(INPAINTERS)  # masked, classical, presets, original
    assert figure.shape[0] == DEMO_SIZE and figure.shape[1] > columns * DEMO_SIZE
    for filename in GENERATORS.values():
        assert np.asarray(Image.open(out / filename)).std() > 10

    export = results["export"]
    assert export["passed"] and export["psnr_vs_keras_db"] >= 30
    assert EXPORTED in INPAINTERS  # the exported file is the inpainter the figure shows
    tflite = out / f"{EXPORTED}_int8.tflite"
    assert tflite.stat().st_size == export["file_bytes"]
    sidecar = json.loads((out / f"{EXPORTED}_int8.tflite.json").read_text())
    assert sidecar["source"] == f"preset:{EXPORTED}"
    assert f"{denoising['psnr_denoised']:.2f} dB" in printed
