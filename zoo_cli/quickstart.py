"""The quick-start job: build, `compile()`, `fit`, save and reload every architecture."""

import time
from pathlib import Path

import keras
import numpy as np

from zoo.registry import create_model, get_entry, list_models


def demo_config(name):
    """The registry entry's `demo_config` (a model that fits in seconds on a CPU, so the
    whole job takes about a minute on two cores), or its `tiny_config` where it has none."""
    entry = get_entry(name)
    return entry.tiny_config if entry.demo_config is None else entry.demo_config


def _outputs(model, x):
    if model.task == "generate":
        x = np.random.default_rng(1).standard_normal((4, model.latent_dim), dtype=np.float32)
    return keras.ops.convert_to_numpy(model(x, training=False))


def run_quickstart(out_dir, steps=8, batch_size=8, models=None):
    """Fit each architecture for `steps` steps on random data, save it to
    `out_dir/NAME.keras`, reload it and compare outputs. Returns one dict per model."""
    from training.synthetic import random_batch

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"registered architectures: {', '.join(list_models())}")
    results = []
    for name in models or list_models():
        start = time.perf_counter()
        model = create_model(name, **demo_config(name))
        model.compile()
        x, y = random_batch(model, batch_size * steps)
        if model.task == "denoise":  # noisy input, clean target
            noise = np.random.default_rng(2).normal(0.0, 0.1, x.shape).astype("float32")
            x = np.clip(x + noise, 0.0, 1.0)
        history = model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0).history
        path = out_dir / f"{name}.keras"
        temporary = path.with_suffix(".partial.keras")
        model.save(temporary)
        temporary.replace(path)
        loaded = keras.saving.load_model(path)
        difference = float(np.abs(_outputs(loaded, x) - _outputs(model, x)).max())
        logs = ", ".join(f"{k}={v[-1]:.4g}" for k, v in sorted(history.items()))
        print(f"{name:28} {model.count_params():>9,} params  {steps} steps  {logs}")
        print(f"{'':28} saved {path} (reload max |diff| = {difference:.1e}, "
              f"{time.perf_counter() - start:.1f} s)")
        if difference > 1e-5:
            raise RuntimeError(f"{name}: reloaded model differs by {difference}")
        results.append({"name": name, "history": history, "path": str(path),
                        "reload_difference": difference})
    return results
