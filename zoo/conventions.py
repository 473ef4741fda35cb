"""The zoo's conventions, defined once: the tasks, and what each named model input and
output holds (value range and meaning). Read by the presets, `training`, the exporter's
sidecars and `zoo info`."""

TASKS = ("inpaint", "denoise", "segment", "generate")

# name -> ((low, high) or None when unbounded, meaning)
TENSORS = {
    "image": ((0.0, 1.0), "float32 RGB (or grayscale) in [0, 1], NHWC"),
    "mask": ((0.0, 1.0), "float32 (H, W, 1): 1 = hole (to fill), 0 = known pixel"),
    "noise_level": ((0.0, 1.0), "float32 (1,): the noise's Gaussian sigma / 255 "
                                "(sigma in 8-bit units)"),
    "latent": (None, "float32 samples of N(0, 1)"),
    "inpainted": ((0.0, 1.0), "the image with its holes filled, in [0, 1]"),
    "restored": ((0.0, 1.0), "the repaired image, in [0, 1]"),
    "segmentation": ((0.0, 1.0), "per-pixel class probabilities summing to 1 "
                                 "(argmax = class)"),
    "logit": (None, "real/fake logit, > 0 = real"),
}


def value_range(name):
    """[low, high] of the tensor called `name`, or None (unbounded or unknown)."""
    bounds = TENSORS.get(name, (None, ""))[0]
    return None if bounds is None else list(bounds)


def meaning(name):
    """What the tensor called `name` holds, in words ("" if unknown)."""
    return TENSORS.get(name, (None, ""))[1]
