"""Data and training utilities for the zoo's models.

`training.synthetic` makes random batches shaped for any zoo model (smoke tests,
the quick-start job). Built-in datasets, masks, noise, recipes and `zoo train`
build on it. The names a fine-tune needs are here:

    import training
    batches = training.batches_for(model, "my_photos", crop_size=(64, 64), batch_size=8)
    mask = training.random_mask(rng, height, width, kind="medium")   # (H, W, 1), 1 = hole
    photo = training.load_image("photo.jpg")                         # (H, W, 3) in [0, 1]
"""

# Names are imported on first use (PEP 562): the command line's argument declarations
# import training's light modules, which must not pull in Keras.
_EXPORTS = {
    "batches_for": "training.pipeline",
    "random_mask": "training.masks",
    "load_image": "training.image_folder",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'training' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
