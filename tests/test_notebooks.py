"""The user-journey notebooks run top to bottom in quick mode and show what they promise.

Each notebook is executed in a fresh kernel with ZOO_NOTEBOOK_QUICK=1 (a few seconds to
a minute each on a 2-core CPU), on a temporary copy: the committed files keep their
outputs. Besides "no cell raised", each test looks for the outputs the notebook is
about (a verification table, a finite PSNR, sample grids, ...). Quality numbers are not
asserted: the presets are retrained from time to time.
"""

import importlib.util
import math
import re
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, NOTEBOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


runner = _load("run_notebooks")
builder = _load("build_notebooks")

NAMES = [path.stem for path in runner.notebook_paths()]

# Per notebook: (pattern that must appear in the text outputs, what it shows).
EXPECTED = {
    "01_pick_a_pretrained_model": [
        (r"\| `unet-denoise-natural` \| denoise \|", "the preset table"),
        (r"astronaut: hole [\d.]+% of the image; PSNR in the hole: black [\d.]+ dB, "
         r"inpainter-natural [-\d.]+ dB, unet-inpaint-natural [-\d.]+ dB", "inpainting"),
        (r"flower: sigma 25: PSNR noisy [\d.]+ dB -> denoised [-\d.]+ dB", "denoising"),
        (r"dcgan-digits: 16 samples of \(32, 32, 1\)", "generation"),
        (r"## Quality on held-out data|\| method \|", "a model card's quality table"),
    ],
    "02_fine_tune_with_fit": [
        (r"ImageFolder\(.*8 images, 0 skipped\)", "the image folder"),
        (r"validation PSNR before fine-tuning: [-\d.]+ dB", "metrics before"),
        (r"sample grids: \['epoch_001.png', 'epoch_002.png'\]", "a sample grid per epoch"),
        (r"TensorBoard: logs/train/events\.out\.tfevents", "TensorBoard scalars"),
        (r"TensorBoard: logs/samples/events\.out\.tfevents", "TensorBoard sample images"),
        (r"checkpoint: checkpoints/best\.keras", "the best checkpoint"),
    ],
    "03_export_for_mobile": [
        (r"SavedModel: PASS", "the verified SavedModel"),
        (r"verification: none PASS, float16 PASS, dynamic PASS, int8 PASS",
         "all four TFLite variants verified"),
        (r"\| int8 \| [\d.]+ MB \| [\d.]+ ms \| [\d.]+ ms \|", "size and latency"),
        (r"int8 +max \|tflite - keras\| [\d.]+, PSNR vs keras [\d.]+ dB", "ai-edge-litert run"),
    ],
    "04_train_a_dcgan": [
        (r"d_loss: [\d.]+ - g_loss: [\d.]+", "fit logs both losses"),
        (r"sample grids written: 3\b", "one sample grid per epoch"),
        (r"interpolation rows: 10 x 9 images", "latent interpolation"),
    ],
    "05_look_inside": [
        (r"encoder0_act2 +\(64, 64, 16\)", "feature maps"),
        (r"layer +shape +mean +std +min +max +zeros +dead ch", "activation statistics"),
        (r"encoder0_act2 +64x64 +[\d.]+ +[\d.]+", "the masked-region comparison"),
        (r"knob runs: 6, ", "the knob runs"),
    ],
}

# Figures each notebook must show (image outputs, PNG or JPEG).
MIN_FIGURES = {"01_pick_a_pretrained_model": 3, "02_fine_tune_with_fit": 4,
               "03_export_for_mobile": 1, "04_train_a_dcgan": 3, "05_look_inside": 4}


def _outputs(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            yield from cell.outputs


def _text(notebook):
    parts = []
    for output in _outputs(notebook):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("display_data", "execute_result"):
            parts.append(output.data.get("text/markdown", output.data.get("text/plain", "")))
    return "\n".join(parts)


def _figures(notebook):
    return sum(1 for output in _outputs(notebook)
               if output.output_type == "display_data"
               and ("image/png" in output.data or "image/jpeg" in output.data))


def test_every_notebook_is_covered():
    assert NAMES == [name.removesuffix(".ipynb") for name in builder.NOTEBOOKS]
    assert set(EXPECTED) == set(NAMES) == set(MIN_FIGURES)


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_matches_the_generator(name):
    """The committed cells are their `NN_name.py` source's (edit there, rebuild,
    re-run), and the committed outputs come from a run without errors."""
    committed = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    built = builder.build(f"{name}.ipynb")
    assert [(c.cell_type, c.source) for c in committed.cells] == [
        (c.cell_type, c.source) for c in built.cells], (
        f"{name}.ipynb differs from notebooks/{name}.py: run "
        "`python notebooks/build_notebooks.py` and then `python notebooks/run_notebooks.py "
        "--in-place`")
    code_cells = [c for c in committed.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code_cells), "committed without outputs"
    assert not [o for o in _outputs(committed) if o.output_type == "error"]
    assert _figures(committed) >= MIN_FIGURES[name]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_in_quick_mode(name, tmp_path):
    path = tmp_path / f"{name}.ipynb"
    try:
        notebook, seconds = runner.execute(NOTEBOOKS / f"{name}.ipynb", quick=True,
                                           out_path=path)
    except runner.NotebookFailed as error:
        pytest.fail(str(error))
    assert not [o for o in _outputs(notebook) if o.output_type == "error"]
    text = _text(notebook)
    assert "quick mode" in text
    for pattern, what in EXPECTED[name]:
        assert re.search(pattern, text), f"{name}: no {what} in the outputs ({pattern!r})"
    assert _figures(notebook) >= MIN_FIGURES[name]
    if name == "02_fine_tune_with_fit":
        match = re.search(r"final validation PSNR: (\S+) dB \(preset (\S+) dB", text)
        assert match, "no final validation PSNR line"
        assert all(math.isfinite(float(value)) for value in match.groups())


def test_a_failing_cell_is_named(tmp_path):
    """run_notebooks reports the notebook and the cell that raised, and exits 1."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('broken on purpose')"),
        nbformat.v4.new_code_cell("y = 2"),
    ])
    notebook.metadata["kernelspec"] = dict(builder.KERNELSPEC)
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(runner.NotebookFailed,
                       match=r"99_broken\.ipynb: cell 1 .*raised ValueError: broken on purpose"):
        runner.execute(path, quick=True, out_path=tmp_path / "out.ipynb")
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert executed.cells[1].outputs[0].output_type == "error"
