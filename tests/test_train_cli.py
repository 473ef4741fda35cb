"""`zoo train`: shipped recipes, overrides, user folders, clear errors, the JAX backend."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from training.recipe import shipped_recipes
from zoo_cli.main import main


def write_recipe(tmp_path, dataset_lines='dataset = "natural"', extra=""):
    path = tmp_path / "tiny.toml"
    path.write_text(textwrap.dedent(f"""
        [model]
        architecture = "unet"
        config = {{ filters = [4, 8] }}
        [data]
        {dataset_lines}
        crop_size = [32, 32]
        batch_size = 2
        validation_batches = 1
        [training]
        epochs = 5
        steps_per_epoch = 4
        [callbacks]
        tensorboard = false
        {extra}
    """))
    return path


def test_list_shows_every_shipped_recipe(capsys):
    assert main(["train", "--list"]) == 0
    out = capsys.readouterr().out
    for name in shipped_recipes():
        assert name in out


def test_steps_override_and_run_summary(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", str(write_recipe(tmp_path)), "--steps", "3", "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert "1 epochs x 3 steps" in out and "validation psnr" in out
    config = json.loads((run / "config.json").read_text())
    assert config["recipe"]["training"]["steps_per_epoch"] == 3
    assert config["recipe"]["name"] == "tiny"
    weights = (run / "model.keras").read_bytes()
    # resuming a finished run is an error that leaves the run as it was
    args = ["train", str(write_recipe(tmp_path)), "--steps", "3", "--out", str(run), "--resume"]
    assert main(args) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert (run / "model.keras").read_bytes() == weights


def test_a_typo_fails_before_anything_is_written(tmp_path, capsys):
    recipe = write_recipe(tmp_path, extra="sample_evry = 2")
    assert main(["train", str(recipe), "--out", str(tmp_path / "run")]) == 2
    assert "unknown key callbacks.sample_evry" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_missing_recipe_and_empty_folder_are_clear_errors(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope.toml")]) == 2
    assert "No recipe file" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    recipe = write_recipe(tmp_path, f'dataset = "folder"\npath = "{tmp_path / "empty"}"')
    assert main(["train", str(recipe), "--out", str(tmp_path / "run")]) == 2
    assert "no .jpg" in capsys.readouterr().err


def test_trains_on_a_folder_of_images_skipping_corrupt_files(tmp_path):
    folder = tmp_path / "photos" / "nested"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        pixels = (rng.random((40 + 8 * i, 50, 3)) * 255).astype("uint8")
        Image.fromarray(pixels).save(folder / f"photo{i}.png")
    Image.fromarray(np.zeros((20, 20), "uint8")).save(folder / "small_gray.jpg")
    (folder / "broken.png").write_bytes(b"not an image at all")
    recipe = write_recipe(tmp_path, f'dataset = "folder"\npath = "{tmp_path / "photos"}"')
    with pytest.warns(UserWarning, match="skipped 1"):
        code = main(["train", str(recipe), "--steps", "2", "--out", str(tmp_path / "run")])
    assert code == 0 and (tmp_path / "run" / "model.keras").is_file()


# sys.modules["tensorflow"] = None makes `import tensorflow` fail and find_spec return
# None: what a JAX-only machine (our GPU hosts) without TensorFlow looks like.
JAX_SCRIPT = """
import json, sys
sys.modules["tensorflow"] = None
from training.recipe import load_recipe
from training.run import train
result = train(load_recipe(sys.argv[1]), sys.argv[2], verbose=0)
print(json.dumps({"loss": result.history["loss"]}))
"""


def test_jax_backend_trains_where_tensorflow_is_not_installed(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="jax", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, "-c", JAX_SCRIPT, str(write_recipe(tmp_path)),
                           str(tmp_path / "run")], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(report["loss"]) == 5 and all(np.isfinite(report["loss"]))
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["backend"] == "jax"
