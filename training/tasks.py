"""What a model learns from, per task: which inputs and targets a training batch holds.

    inpaint   x = {"image": clean * (1 - mask), "mask": mask}   y = clean
    denoise   x = clean + Gaussian noise (clipped to [0, 1])     y = clean
              (a model with a `noise_level` input: x = {"image": noisy,
              "noise_level": (B, 1) sigma / 255})
    segment   x = image                                          y = labels (B, H, W) int32
    generate  x = images                                         y = None

Images are float32 (B, H, W, C) in [0, 1]; masks (B, H, W, 1) with 1 = hole.
"""

from dataclasses import dataclass

import numpy as np

from training.degradations import add_gaussian_noise
from training.masks import random_mask
from zoo.conventions import TASKS


def task_of(model):
    """The task a zoo model is trained for: its family's contract (`model.task`, see
    zoo.models.contract); a ValueError for a model that declares none."""
    task = getattr(model, "task", None)
    if task not in TASKS:
        raise ValueError(f"{getattr(model, 'name', model)!r} is not a zoo model (it "
                         f"declares no task among {', '.join(TASKS)}).")
    return task


def model_image_shape(model):
    """(H, W, C) the model takes or makes; H and W are None where any size is accepted."""
    return tuple(model.image_shape)


@dataclass(frozen=True)
class Degradation:
    """How clean images are damaged for repair tasks.

    masks: a mask kind from `training.masks.MASK_PRESETS` (inpainting).
    hole_area: (low, high) fraction of the image covered by the hole.
    noise_sigma: (low, high) Gaussian sigma in 8-bit units (denoising), drawn per image.
    """

    masks: str = "mixed"
    hole_area: tuple = (0.02, 0.25)
    noise_sigma: tuple = (0.0, 50.0)


def make_example_batch(task, rng, images, degradation, labels=None, noise_level=False):
    """`(x, y)` for `fit` from clean `images` (B, H, W, C) in [0, 1].

    `labels` (B, H, W) int32 is required for `segment`. Randomness (masks, noise)
    comes from `rng`, a numpy Generator. `noise_level`: denoising batches carry each
    image's sigma (for a model that `takes_noise_level`).
    """
    if task == "inpaint":
        height, width = images.shape[1:3]
        masks = np.stack([random_mask(rng, height, width, kind=degradation.masks,
                                      area_range=tuple(degradation.hole_area))
                          for _ in range(len(images))])
        return {"image": images * (1.0 - masks), "mask": masks}, images
    if task == "denoise":
        noisy, sigmas = add_gaussian_noise(rng, images, tuple(degradation.noise_sigma))
        if noise_level:
            return {"image": noisy, "noise_level": (sigmas / 255.0)[:, None]}, images
        return noisy, images
    if task == "segment":
        if labels is None:
            raise ValueError("The segment task needs per-pixel labels; use the `shapes` "
                             "dataset (or a source that provides labels).")
        return images, labels
    if task == "generate":
        return images, None
    raise ValueError(f"Unknown task {task!r}; expected one of {', '.join(TASKS)}.")
