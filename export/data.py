"""Inputs for calibration (int8) and verification, drawn from a model's own data.

A model trained by a recipe uses that recipe's dataset and degradation; a bare
architecture uses the built-in data of its task: natural photos with holes
(inpaint) or Gaussian noise (denoise), shapes scenes (segment), N(0, 1) latents
(generate). Calibration draws from the training split, verification from the
validation split.
"""

import numpy as np

from export.signatures import input_shapes
from training.pipeline import degraded_examples, recipe_examples
from training.tasks import task_of
from zoo.inference import takes_noise_level

TASK_DATASETS = {"inpaint": "natural", "denoise": "natural", "segment": "shapes"}


def example_batch(model, input_size, count, split="validation", seed=0, recipe=None):
    """`(inputs, target, task)`: inputs {name: float32 (count, ...)} for the exported
    signature, and the clean image / labels the task is scored against (None for
    generation)."""
    task = task_of(model)
    shapes = input_shapes(model, input_size)
    if task == "generate":
        (name, shape), = shapes.items()
        rng = np.random.default_rng([seed, 0 if split == "train" else 1])
        return {name: rng.standard_normal((count, *shape[1:])).astype(np.float32)}, None, task
    height, width, channels = shapes["image"][1:]
    if height is None:
        raise ValueError("a spatial size is needed to draw example images (input_size).")
    if recipe:
        inputs, target = recipe_examples(model, recipe, (height, width), count, split,
                                         channels=channels, seed=seed)
    else:
        inputs, target = degraded_examples(task, TASK_DATASETS[task], split, (height, width),
                                           count, channels=channels, seed=seed,
                                           noise_level=takes_noise_level(model))
    return inputs, target, task


def representative_dataset(model, input_size, count=64, seed=0, recipe=None):
    """A callable for `TFLiteConverter.representative_dataset`: `count` single
    examples from the training split, as {input name: array with batch 1}.

    For image inputs the first example gets one black and one white pixel, so the
    calibrated input range is the full [0, 1] even with few examples: a clipped range
    would shift the known pixels an inpainter copies through. Whole black / white
    images would pin it too, but they are far from the data and widen the ranges of
    the inner activations (a denoiser trained on crops blows up on uniform images),
    which cost the int8 denoiser most of its precision (9 dB vs Keras instead of 45).
    """
    inputs, _, _ = example_batch(model, input_size, count, "train", seed, recipe)
    if "image" in inputs:
        inputs["image"][0, 0, 0, :] = 0.0
        inputs["image"][0, -1, -1, :] = 1.0
        if "mask" in inputs:  # both pixels are known, not holes
            inputs["mask"][0, 0, 0, :] = 0.0
            inputs["mask"][0, -1, -1, :] = 0.0

    def examples():
        for i in range(count):
            yield {name: value[i:i + 1] for name, value in inputs.items()}

    return examples
