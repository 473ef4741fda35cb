"""Every command in README.md and in the documents of docs/ runs, so they cannot go stale.

A command is a line of a fenced ```bash block or a whole ```python block (prose
names commands in `inline code` with placeholders; those are syntax, not commands).
Each level-2 section (of any of `DOCUMENTS`) runs in a fresh folder, top to bottom,
as a reader pasting it would: a ```toml block whose first line is `# NAME.toml` is
saved as NAME.toml first. `zoo ...` lines run in this process (`zoo_cli.main.main`),
other shell lines and Python blocks in a subprocess. A command must exit 0 and write
what `-o` / `--out` names.

Commands too slow or too big for CI (the install commands, the benchmarks, the
multi-worker launch, preset retraining) are not run here; `RUN_ELSEWHERE` names
the test or CI step that runs each, and the first test checks that every README
command is either run here or listed there, and that each named test exists.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# docs/photos.md is left out: its commands need the 700 MB photo corpus (its fetch and pack
# commands are tested on tiny corpora in tests/test_photo_corpus.py)
DOCUMENTS = [README, *sorted(path for path in (ROOT / "docs").glob("*.md")
                             if path.name != "photos.md")]
EXPORT_DOC = ROOT / "docs" / "export.md"

# command line -> the test ("tests/FILE.py::FUNCTION") or CI step that runs it
RUN_ELSEWHERE = {
    "pip install . && zoo demo":
        "tests/test_demo.py::test_demo_repairs_generates_and_exports",
    'pip install -e ".[dev]" && python -m pytest -q -n 2': ".ci/run",
    'pip install ".[gpu]"': "tests/test_readme.py::test_gpu_extra_is_declared",
    "python benchmarks/quality.py --write-cards":
        "tests/test_quality_benchmark.py::test_every_method_is_scored",
    "python benchmarks/classical_peers.py --tune":
        "tests/test_classical_peers.py::test_tune_on_validation_runs",
    "python benchmarks/train_throughput.py":
        "tests/test_benchmark_throughput.py::test_every_path_has_positive_finite_timings",
    "python benchmarks/gan_variants.py dcgan-textures --variants preset bce lsgan lsgan+ema "
    "bce+ema": "tests/test_gan_variants.py::test_a_variant_changes_only_what_it_names",
    "python benchmarks/gan_variants.py dcgan-digits --variants preset lsgan+ema":
        "tests/test_gan_variants.py::test_the_preset_variant_is_the_shipped_recipe",
    "python benchmarks/unet_width_latency.py":
        "tests/test_benchmark_unet_width.py::"
        "test_narrower_unets_are_smaller_and_ratios_follow_from_the_times",
    "python benchmarks/hole_fill.py":
        "tests/test_benchmark_hole_fill.py::"
        "test_quick_run_scores_the_fill_and_shows_the_plain_kernel_drifting",
    "python benchmarks/int8_float_layers.py":
        "tests/test_benchmark_int8_float_layers.py::"
        "test_variants_keep_nested_float_layers_and_record_their_gap_to_keras",
    "python benchmarks/export_latency.py":
        "tests/test_benchmark_export_latency.py::test_every_architecture_and_variant_has_a_row",
    # the demo runs this export (this preset, int8 at 256 px, verified against Keras)
    # through the same export.exporters.to_tflite; test_export_cli runs the CLI path with
    # a repair preset at its inference tile
    "zoo export unet-inpaint-photos --format tflite --quantize int8 -o inpainter.tflite":
        "tests/test_demo.py::test_demo_repairs_generates_and_exports",
    # needs the photo corpus, which CI machines lack: the test checks how it scores
    "python benchmarks/inpaint_validation.py --per-photo 3 --fill '{}' --fill "
    "'{\"momentum\": 0.9}' --fill '{\"steps\": 2, \"biharmonic_steps\": 32, \"taper\": 1, "
    "\"momentum\": 0.9}'":
        "tests/test_benchmark_inpaint_validation.py::"
        "test_scores_are_means_per_kind_and_strokes_leave_the_box_out",
    "zoo data fetch photos":  # downloads 700 MB: the test fetches tiny packages it makes
        "tests/test_photo_corpus.py::test_fetch_stores_every_photo_with_licences_and_attribution",
    "zoo data pack photos -o photos-pack.npz":  # needs the corpus: a tiny one in the test
        "tests/test_photo_corpus.py::test_zoo_data_pack_writes_and_will_not_overwrite",
    # calibrates on the photo corpus, which CI machines lack: the test checks what it
    # wrote into the shipped preset (files, sha256, tiling, PSNR against Keras)
    "python -m export.preset_tiles unet-inpaint-photos":
        "tests/test_tflite_tiles.py::test_the_manifest_matches_the_preset",
    "python -m training.make_preset unet-segment-shapes --steps 3200 --out runs/presets":
        "tests/test_make_preset.py::test_trains_writes_and_loads_a_preset",
}
MULTIWORKER_TEST = "tests/test_multiworker.py::test_workers_end_with_identical_weights"
SHELL_ONLY = re.compile(r"^(CLUSTER=|export |TF_CONFIG=)")  # the multi-worker launch


def sections():
    """[("DOCUMENT: level-2 heading", [(language, code)])], document by document."""
    found = []
    for document in DOCUMENTS:
        for part in re.split(r"^## ", document.read_text(), flags=re.M):
            heading = part.splitlines()[0].strip().lstrip("# ")  # the first part: the title
            blocks = re.findall(r"^```(\w+)\n(.*?)^```", part, flags=re.M | re.S)
            if blocks:
                found.append((f"{document.relative_to(ROOT)}: {heading}", blocks))
    return found


def shell_commands(code):
    """The command lines of a bash block: continuations joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    lines = (re.sub(r"\s+#\s.*$", "", line).strip() for line in joined.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def elsewhere(command):
    if SHELL_ONLY.match(command):
        return MULTIWORKER_TEST
    return RUN_ELSEWHERE.get(command)


def test_every_command_is_run_here_or_elsewhere():
    commands = [c for _, blocks in sections() for lang, code in blocks if lang == "bash"
                for c in shell_commands(code)]
    assert len(commands) > 20
    stale = sorted(set(RUN_ELSEWHERE) - set(commands))
    assert not stale, f"RUN_ELSEWHERE lists commands the README no longer has: {stale}"
    for command in commands:
        where = elsewhere(command)
        if where is None:
            continue
        if where == ".ci/run":
            assert command in (ROOT / ".ci" / "run").read_text()
            continue
        path, function = where.split("::")
        assert re.search(rf"^def {function}\(", (ROOT / path).read_text(), flags=re.M), where
    languages = {lang for _, blocks in sections() for lang, _ in blocks}
    assert languages <= {"bash", "python", "toml", "kotlin"}, languages


def test_readme_fits_on_a_few_screens():
    # the rest lives in docs/ (training, export, benchmarks, design, tests)
    assert len(README.read_text().splitlines()) <= 250


def test_readme_starts_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), flags=re.S).group(1)
    assert shell_commands(first_block) == list(RUN_ELSEWHERE)[:2]


def test_gpu_extra_is_declared():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    gpu = project["optional-dependencies"]["gpu"]
    assert any(requirement.startswith("tensorflow[and-cuda]") for requirement in gpu)


def _environment():
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("KERAS_BACKEND", None)
    return env


def _written(command):
    """The paths a command's -o / --out options name."""
    words = shlex.split(command)
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word in ("-o", "--out")]


def _run_shell_command(command, folder):
    from zoo_cli.main import main

    if command.startswith("zoo "):
        code = main(shlex.split(command)[1:])
    else:
        code = subprocess.run(["bash", "-c", command], cwd=folder, env=_environment(),
                              timeout=600).returncode
    assert code == 0, f"README command failed (exit {code}): {command}"
    for path in _written(command):
        assert (folder / path).exists(), f"{command} did not write {path}"


def _run_python_block(code, folder):
    result = subprocess.run([sys.executable, "-c", code], cwd=folder, env=_environment(),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (f"README Python block failed:\n{code}\n"
                                    f"{result.stderr[-3000:]}")


RUN_HERE = [(heading, blocks) for heading, blocks in sections()
            if any(lang == "python" or (lang == "bash" and any(
                elsewhere(c) is None for c in shell_commands(code)))
                   for lang, code in blocks)]


@pytest.mark.parametrize("heading, blocks", RUN_HERE, ids=[h for h, _ in RUN_HERE])
def test_section_runs_top_to_bottom(heading, blocks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for language, code in blocks:
        if language == "toml":
            name = re.match(r"#\s*(\S+\.toml)", code)
            assert name, f"a toml block in {heading!r} must start with '# NAME.toml'"
            (tmp_path / name.group(1)).write_text(code)
        elif language == "bash":
            for command in shell_commands(code):
                if elsewhere(command) is None:
                    _run_shell_command(command, tmp_path)
        elif language == "python":
            _run_python_block(code, tmp_path)


def _sidecar_fields():
    """The field names in the first column of the export guide's sidecar table."""
    text = EXPORT_DOC.read_text()
    table = text[text.index("| sidecar field |"):].split("\n\n")[0]
    return {name for row in table.splitlines()[2:]
            for name in re.findall(r"`(\w+)`", row.split("|")[1])}


def test_android_section_names_real_sidecar_fields(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from zoo_cli.main import main

    out = tmp_path / "inpainter.tflite"
    assert main(["export", "unet-inpaint-natural", "--format", "tflite", "--quantize",
                 "float16", "-o", str(out)]) == 0
    sidecar = json.loads((tmp_path / "inpainter.tflite.json").read_text())
    fields = _sidecar_fields()
    assert len(fields) >= 12 and fields <= set(sidecar), fields - set(sidecar)
    # the Kotlin sketch relies on this order, these sizes and this mask convention
    assert [tensor["name"] for tensor in sidecar["inputs"]] == ["image", "mask"]
    signature = Interpreter(str(out)).get_signature_list()["serving_default"]
    assert signature["inputs"] == ["image", "mask"]
    tile = sidecar["inference_tile"]
    assert sidecar["inputs"][0]["shape"] == [1, tile, tile, 3]
    kotlin = EXPORT_DOC.read_text().split("```kotlin")[1].split("```")[0]
    assert f"{tile} * {tile} * 3 floats" in kotlin and f"{tile} * {tile} floats" in kotlin
    assert sidecar["mask_convention"].startswith("1 = hole")
