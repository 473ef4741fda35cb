import subprocess
import sys

import pytest

import zoo
from zoo_cli.main import main


def test_list_prints_one_line_per_architecture_then_the_presets(capsys):
    assert main(["list"]) == 0
    architectures, presets = capsys.readouterr().out.strip().split("\n\n")
    lines = architectures.splitlines()
    names = [line.split()[0] for line in lines[1:]]
    assert names == zoo.list_models()
    assert presets.splitlines()[0].split()[0] == "preset"
    assert [line.split()[0] for line in presets.splitlines()[1:]] == zoo.list_presets()


def test_info_describes_inputs_outputs_and_parameters(capsys):
    assert main(["info", "conv_autoencoder_inpainter"]) == 0
    out = capsys.readouterr().out
    assert "pooling = \"max\"" in out
    assert "input  image" in out and "input  mask" in out and "output inpainted" in out
    assert "1 = hole (to fill), 0 = known pixel" in out
    params = zoo.create_model("conv_autoencoder_inpainter").count_params()
    assert f"{params:,} parameters" in out


def test_info_unknown_name_is_a_one_line_error(capsys):
    assert main(["info", "resnet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zoo: error: Unknown model 'resnet'") and err.count("\n") == 1


def test_the_module_entry_point_prints_help():
    done = subprocess.run([sys.executable, "-m", "zoo_cli", "--help"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.startswith("usage: zoo")
    assert len(done.stdout.splitlines()) > 3


@pytest.mark.parametrize("verbose", [False, True])
def test_native_tensorflow_lines_only_with_verbose(verbose, tmp_path):
    # predict loads the Keras model, importing TensorFlow, before it decodes the image:
    # TF's C++ start-up lines (oneDNN, CUDA, absl) are written then, straight to
    # descriptor 2
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a PNG")
    argv = [*(["--verbose"] if verbose else []), "predict", "unet-denoise-natural",
            str(broken), "-o", str(tmp_path / "out.png")]
    done = subprocess.run([sys.executable, "-m", "zoo_cli", *argv],
                          capture_output=True, text=True, timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and lines[-1].startswith(f"zoo: error: image {broken} "
                                                         "cannot be read"), done.stderr
    assert (len(lines) > 1) == verbose, done.stderr


PARSE_WITHOUT_KERAS = """
import sys
from zoo_cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in ("keras", "tensorflow", "jax") if m in sys.modules)
print(code, heavy)
"""


@pytest.mark.parametrize("argv, code", [
    (["--help"], 0), (["train", "--help"], 0), (["export", "--help"], 0),
    (["trian", "x"], 2),                                 # a typo of a command
    (["predict", "unet-denoise-natural"], 2),            # a missing argument
    (["export", "unet", "--format", "tflite", "--size", "0", "9", "-o", "x"], 2),
    (["train", "recipe.toml", "--steps", "-1"], 2),
])
def test_help_typos_and_bad_flags_answer_without_importing_keras(argv, code):
    done = subprocess.run([sys.executable, "-c", PARSE_WITHOUT_KERAS, *argv],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == f"{code} []", done.stdout + done.stderr
    if code:
        assert done.stderr.count("\n") == 1 and "error:" in done.stderr, done.stderr


@pytest.mark.parametrize("command", ["list", "info", "quickstart", "demo", "train", "export",
                                     "predict", "generate", "inspect", "images", "data",
                                     "snapshot"])
def test_every_command_has_help(command, capsys):
    # in this process: a subprocess per command spent ~10 s importing TensorFlow
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: zoo {command}")
    assert len(out.splitlines()) > 3


def test_quickstart_fits_saves_and_reloads(tmp_path):
    from zoo_cli.quickstart import run_quickstart

    results = run_quickstart(tmp_path, steps=2, batch_size=2)
    assert [r["name"] for r in results] == zoo.list_models()
    assert all((tmp_path / f"{name}.keras").stat().st_size > 0 for name in zoo.list_models())
    assert not list(tmp_path.glob("*.partial.keras"))
    assert all(r["reload_difference"] <= 1e-5 for r in results)


@pytest.mark.parametrize("argv", [
    ["generate", "dcgan-digits", "-n", value, "-o", "g.png"] for value in ("0", "-2", "5000", "x")
] + [
    ["generate", "dcgan-digits", "--seed", value, "-o", "g.png"] for value in ("-1", "2e40", "")
] + [
    ["predict", "unet-denoise-natural", "a.png", "--tile", value, "-o", "b.png"]
    for value in ("0", "-64", "99999999", "3.5")
] + [
    ["inspect", "unet", "--channels", "0"], ["inspect", "unet", "--size", "-5"],
    ["quickstart", "--steps", "0"], ["data", "pack", "photos", "-o", "p.npz", "--seed", "-1"],
    ["data", "pack", "photos", "-o", "p.npz", "--side", "0"],
    ["data", "pack", "photos", "-o", "p.npz", "--train-crops", "-3"],
    ["data", "pack", "photos", "-o", "p.npz", "--validation-crops", "x"],
])
def test_numeric_flags_out_of_range_or_not_numbers_are_one_line_errors(argv, capsys, tmp_path,
                                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    flag = next(a for a in argv if a.startswith("-") and a != "-o")
    assert exited.value.code == 2 and err.count("\n") == 1, err
    assert f"argument {flag}" in err and "is not a whole number" in err, err
    assert list(tmp_path.iterdir()) == []
