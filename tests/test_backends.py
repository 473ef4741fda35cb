"""zoo/ never imports tensorflow, and every model builds, predicts and fits under JAX."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import zoo

ZOO = Path(__file__).resolve().parents[1] / "zoo"

# Fits each (name, config) pair of argv[1] (a Python literal) and checks it.
JAX_SCRIPT = """
import ast
import sys
import numpy as np
import keras
import zoo
from training.synthetic import random_batch

assert keras.backend.backend() == "jax"
for name, config in ast.literal_eval(sys.argv[1]):
    model = zoo.create_model(name, **config)
    if model.own_train_step:  # generator weights averaged (Keras use_ema), swapped in by fit
        model.compile(r1_gamma=1.0, g_optimizer=keras.optimizers.Adam(
            2e-4, beta_1=0.5, use_ema=True, ema_momentum=0.5))
    else:
        model.compile()
    x, y = random_batch(model, 4, image_size=(16, 16))
    before = [np.array(w) for w in model.get_weights()]
    logs = model.fit(x, y, batch_size=4, epochs=2, verbose=0).history
    assert all(np.isfinite(v).all() for v in logs.values()), logs
    changed = [not np.array_equal(a, np.array(b)) for a, b in zip(before, model.get_weights())]
    assert sum(changed) >= len(model.trainable_variables), (name, sum(changed))
    if model.own_train_step:
        assert set(logs) == {"d_loss", "g_loss"}
        averages = model.g_optimizer._model_variables_moving_average
        for weight, average in zip(model.generator.trainable_variables, averages):
            np.testing.assert_array_equal(np.array(weight), np.array(average))
    if model.task == "generate":
        out = model.generate(2, seed=0)
    else:
        out = model.predict(x, verbose=0)
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    print(name, "ok", sorted(logs))
assert "tensorflow" not in sys.modules, "tensorflow was imported"
print("no tensorflow imported")
"""

def jax_runs():
    """(name, config) for every registered family: its tiny config with each of the
    variants its registry entry declares (the options most likely to differ between
    backends), or the tiny config alone."""
    runs = []
    for name in zoo.list_models():
        runs += [(name, config) for config in zoo.get_entry(name).variant_configs()]
    return runs


def test_zoo_source_never_imports_tensorflow_at_module_level():
    for path in ZOO.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only; see gan_train_steps.py for the TF step
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "tensorflow" for n in names), path


def test_every_model_trains_under_jax_without_tensorflow():
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    runs = jax_runs()
    done = subprocess.run([sys.executable, "-c", JAX_SCRIPT, repr(runs)], env=env,
                          capture_output=True, text=True, timeout=600, cwd=ZOO.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "no tensorflow imported" in done.stdout
    passed = [line.split()[0] for line in done.stdout.splitlines() if " ok " in line]
    assert passed == [name for name, _ in runs]
