"""`benchmarks/quality.py --quick` runs end to end; its tables follow from its JSON.

Quality is measured by the benchmark itself (full run, README table), never asserted
here: these checks are about the result's completeness and consistency. The photos
corpus is never on CI machines, so the quick run reads a stand-in corpus of three
built-in photos written here.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.xdist_group("quality_benchmark")  # module fixtures run once

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "quality.py"

pytest.importorskip("cv2")
pytest.importorskip("bm3d")

import quality_repair  # noqa: E402

ENV = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
QUICK_CROPS_PER_PHOTO = 2


def stand_in_corpus(root):
    """A corpus folder with images/test/*.png: the natural test photos and one validation
    photo, as `zoo data fetch photos` would write them (RGB uint8 PNG)."""
    from PIL import Image

    from training.datasets import NATURAL_PHOTOS, load_images

    folder = Path(root) / "images" / "test"
    folder.mkdir(parents=True)
    photos = [*zip(NATURAL_PHOTOS["test"], load_images("natural", "test"), strict=True),
              (NATURAL_PHOTOS["validation"][0], load_images("natural", "validation")[0])]
    for name, photo in photos:
        rgb = np.repeat(photo, 3, axis=-1) if photo.shape[-1] == 1 else photo
        Image.fromarray(np.round(rgb * 255).astype(np.uint8)).save(folder / f"{name}.png")
    return root, [name for name, _ in photos]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quality")
    corpus, names = stand_in_corpus(folder / "photos")
    out, figures = folder / "quality.json", folder / "figures"
    process = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--photos-root",
                              str(corpus), "--out", str(out), "--figures", str(figures)],
                             cwd=folder, env=ENV, capture_output=True, text=True, timeout=900)
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(out.read_text()), process.stdout, figures, sorted(names)


def _finite(value):
    return isinstance(value, int | float) and math.isfinite(value)


def _config(preset):
    return json.loads((ROOT / "zoo" / "presets" / preset / "config.json").read_text())["config"]


def _takes_noise_level(preset):
    return bool(_config(preset).get("noise_level_input"))


def test_every_method_is_scored(run):
    result, _, _, _ = run
    inpainters, denoisers = quality_repair.presets_for("inpaint"), quality_repair.presets_for(
        "denoise")
    inpainting = result["inpainting"]
    fills = [quality_repair.fill_alone_name(n) for n in inpainters
             if _config(n).get("fill_holes")]
    assert fills  # the photo inpainters correct an in-graph fill: it is scored alone too
    assert set(inpainting) == {"OpenCV Telea", "OpenCV Navier-Stokes",
                               "scikit-image biharmonic", *inpainters, *fills}
    for groups in inpainting.values():
        assert list(groups) == ["strokes", "strokes-thin", "strokes-medium", "strokes-thick",
                                "box"]
        assert all(_finite(g["psnr"]) and 0 < g["ssim"] <= 1 for g in groups.values())
    # a denoiser with a strength input is scored blind and told the true sigma
    told = [quality_repair.told_name(n) for n in denoisers if _takes_noise_level(n)]
    assert told  # the photo denoiser takes one
    assert set(result["denoising"]) == {"OpenCV NLM", "scikit-image TV", *denoisers, *told}
    assert set(result["denoising_bm3d_subset"]) == {"OpenCV NLM", "scikit-image TV", "BM3D",
                                                    *denoisers, *told}
    assert all(0 <= v["mean_iou"] <= 1 for v in result["segmentation"].values())
    assert set(result["tflite_int8"]) == {inpainters[0]}  # --quick times one
    assert all(v["seconds"] > 0 for v in result["tflite_int8"].values())
    # ... and scores it on the same cases as its Keras model: every group, close to it
    keras = {group: v["psnr"] for group, v in inpainting[inpainters[0]].items()}
    int8 = result["tflite_int8"][inpainters[0]]["test_psnr"]
    assert set(int8) == set(keras)
    assert all(abs(int8[group] - keras[group]) < 2.0 for group in keras), (int8, keras)
    for preset in ("dcgan-digits", "dcgan-textures"):
        models = result["generation"][preset]["models"]
        assert set(models) == {"zoo preset", "keras.io reference"}
        assert all(_finite(m["fid"]) and m["fid"] >= 0 for m in models.values())


def test_an_int8_denoiser_is_run_with_the_strength_it_is_told(tmp_path):
    """int8_runner feeds a denoiser's file sigma / 255 as its noise_level input."""
    from keras.utils import set_random_seed
    from quality import int8_runner

    import zoo
    from export.data import representative_dataset
    from export.exporters import to_tflite
    from export.runtime import TFLiteModel

    set_random_seed(0)  # some random starts make the strength matter too little
    model = zoo.create_model("unet", filters=(4, 8), residual=True, noise_level_input=True)
    kernel = model.get_layer("to_image").kernel  # zero-started: make the strength matter
    kernel.assign(np.random.default_rng(0).normal(0, 0.5, kernel.shape))
    first = model.get_layer("encoder0_conv1").kernel  # its last input channel: the strength
    first.assign(np.asarray(first) * np.r_[np.ones(first.shape[2] - 1), 30.0][:, None])
    path = tmp_path / "denoiser.tflite"
    to_tflite(model, path, "int8", representative_dataset(model, (16, 16), count=8), (16, 16),
              log=lambda message: None)
    example = {"image": np.zeros((1, 16, 16, 3), np.float32),
               "noise_level": np.zeros((1, 1), np.float32)}
    run = int8_runner(TFLiteModel(path, num_threads=1), example)
    noisy = np.random.default_rng(1).random((16, 16, 3)).astype(np.float32)
    sigmas = (0, 25, 50)  # inside the strengths the file was calibrated on
    keras = {sigma: model.predict({"image": noisy[None],
                                   "noise_level": np.full((1, 1), sigma / 255, np.float32)},
                                  verbose=0)[0] for sigma in sigmas}
    assert np.abs(keras[0] - keras[50]).mean() > 0.02  # the strength matters to the model
    for sigma in sigmas:  # each output is the Keras output at its own strength
        output = run(noisy, sigma)
        errors = {other: np.abs(output - keras[other]).mean() for other in sigmas}
        assert min(errors, key=errors.get) == sigma, errors


def test_repair_runs_on_the_corpus_test_crops(run):
    result, _, _, names = run
    data = result["repair_data"]
    crops = len(names) * QUICK_CROPS_PER_PHOTO
    assert data["split"] == "test" and data["photo_names"] == names
    assert data["photos"] == len(names) and data["crops"] == crops
    assert data["bm3d_subset"]["crops"] == list(range(0, crops, QUICK_CROPS_PER_PHOTO))
    assert data["threads"]["tensorflow_intra_op"] == 1 and data["threads"]["opencv"] == 1
    cases = {"strokes": 3 * crops, "strokes-thin": crops, "strokes-medium": crops,
             "strokes-thick": crops, "box": crops}
    for groups in result["inpainting"].values():
        assert {g: v["cases"] for g, v in groups.items()} == cases
    subset = data["bm3d_subset"]["count"]
    assert all(v["cases"] == crops for g in result["denoising"].values() for v in g.values())
    assert all(v["cases"] == subset
               for g in result["denoising_bm3d_subset"].values() for v in g.values())


def test_printed_tables_show_the_recorded_numbers(run):
    result, stdout, _, _ = run
    biharmonic = result["inpainting"]["scikit-image biharmonic"]["strokes"]["psnr"]
    assert f"| scikit-image biharmonic | {biharmonic:.2f} |" in stdout
    bm3d = result["denoising_bm3d_subset"]["BM3D"]["sigma-25"]["psnr"]
    subset = result["repair_data"]["bm3d_subset"]["count"]
    assert f"| BM3D | BM3D subset ({subset}) | {bm3d:.2f} /" in stdout
    fid = result["generation"]["dcgan-digits"]["models"]["zoo preset"]["fid"]
    assert f"| dcgan-digits | zoo preset | {fid:.2f} |" in stdout
    crops = ", ".join(str(c) for c in result["repair_data"]["bm3d_subset"]["crops"])
    assert f"BM3D runs on crops {crops} (" in stdout and "**test** split" in stdout


def test_figures_are_written(run):
    _, _, figures, _ = run
    assert (figures / "inpaint_strokes.png").is_file()
    assert (figures / "denoise_sigma-25.png").is_file()
    assert (figures / "generated_dcgan-digits.png").is_file()
    assert not list(figures.glob("*.partial"))


def test_without_the_corpus_one_line_says_how_to_build_it(tmp_path):
    process = subprocess.run([sys.executable, str(SCRIPT), "--photos-root", str(tmp_path),
                              "--out", str(tmp_path / "q.json")], env=ENV,
                             capture_output=True, text=True, timeout=300)
    assert process.returncode != 0 and not (tmp_path / "q.json").exists()
    lines = [line for line in process.stderr.splitlines() if "quality.py" in line]
    assert len(lines) == 1 and "zoo data fetch photos" in lines[0]
    assert str(tmp_path) in lines[0]


def test_crops_lie_inside_their_photo_and_spread_out():
    rng = np.random.default_rng(0)
    corners = quality_repair.crop_corners((300, 1000), 256, 3, rng)
    assert all(0 <= top <= 300 - 256 and 0 <= left <= 1000 - 256 for top, left in corners)
    assert max(quality_repair._overlap(a, b, 256) for i, a in enumerate(corners)
               for b in corners[:i]) <= quality_repair.MAX_CROP_OVERLAP
    assert corners == quality_repair.crop_corners((300, 1000), 256, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="smaller than"):
        quality_repair.crop_corners((200, 700), 256, 1, rng)


def test_masks_are_fixed_by_the_seed():
    first = quality_repair.mask_cases(["a", "b"], 64)
    again = quality_repair.mask_cases(["a", "b"], 64)
    assert [kind for _, kind, _ in first[:4]] == ["strokes-thin", "strokes-medium",
                                                  "strokes-thick", "box"]
    assert all(np.array_equal(x[2], y[2]) for x, y in zip(first, again, strict=True))
    assert not np.array_equal(first[0][2], first[4][2])  # each crop its own strokes
    assert first[3][2].mean() == 0.25


def test_committed_full_run_is_on_the_photos_test_split():
    committed = json.loads((ROOT / "benchmarks" / "results" / "quality.json").read_text())
    assert "--quick" not in committed["command"]
    data = committed["repair_data"]
    assert data["dataset"] == "photos" and data["split"] == "test"
    assert data["photos"] >= 16 and data["crops"] >= 48 and data["crop_size"] == 256
    assert data["threads"]["tensorflow_intra_op"] == 1
    timed = committed["tflite_int8"]
    assert set(timed) == {*data["presets"]["inpaint"], *data["presets"]["denoise"],
                          "unet-segment-shapes"}
    assert all(v["seconds"] > 0 and v["verification_passed"] for v in timed.values())
