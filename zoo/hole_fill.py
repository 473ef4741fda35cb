"""A classical first guess for holes, inside the graph: multigrid diffusion.

`DiffusionFill` fills each hole smoothly from its border, the way harmonic
inpainting does, but in a fixed number of cheap steps so that it runs inside a
Keras model (and its TFLite export) on any backend:

1. pull: average the known pixels (and the known fraction) down an image pyramid
   of 2 x 2 averages, so every level holds the mean of what is known around it;
2. push: from the coarsest level back up, upsample the coarser guess (nearest)
   and relax it with a few 3 x 3 binomial smoothing steps, each of which puts a
   level's known values back where that level has them (weighted by how much of the
   pixel is known).

The coarse levels carry colour into the middle of large holes (a 128 px box), and
the fine smoothing steps shape thin scratches. A U-Net with `fill_holes=True`
starts from this guess and learns only the correction. In int8 TFLite every
smoothing step is re-quantized, so the error grows with `steps`: keep it small in
a model that is exported to int8.
"""

import keras
import numpy as np
from keras import layers, ops

# Floor of the known fraction a level's mean is divided by. Far above float precision
# because an int8 TFLite file quantizes it with a step of 1/255: a smaller floor rounds to
# zero and the division fails. Means of pixels less known than this are weighted by their
# known fraction when used, so the floor changes the fill by less than 1/64.
_MIN_KNOWN = 1.0 / 64.0


def _binomial_kernel(channels):
    taps = np.array([1.0, 2.0, 1.0], np.float32)
    kernel = np.outer(taps, taps) / 16.0
    return np.tile(kernel[:, :, None, None], (1, 1, channels, 1))


@keras.saving.register_keras_serializable(package="zoo")
class DiffusionFill(layers.Layer):
    """Fill the holes of an image by multigrid diffusion from their borders.

    Inputs: image (B, H, W, C) in [0, 1] (its values under the hole are ignored) and
    mask (B, H, W, 1), 1 = hole. Output: (B, H, W, C) float32 in [0, 1], equal to the
    image where the mask is 0. A hole with no known pixel anywhere in the image is
    filled with 0.

    Args:
        levels: pyramid levels below full resolution; holes up to about 2**levels
            pixels across get colour from their border (8 covers 256 px).
        steps: smoothing steps per level.
    """

    def __init__(self, levels=8, steps=16, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if levels < 1 or steps < 1:
            raise ValueError(f"levels and steps must be >= 1, got {levels} and {steps}.")
        self.levels = levels
        self.steps = steps
        self._pool = layers.AveragePooling2D(2, padding="same", dtype="float32")
        self._upsample = layers.UpSampling2D(2, interpolation="nearest", dtype="float32")

    @staticmethod
    def _smooth(x, kernel):
        padded = ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="symmetric")
        return ops.depthwise_conv(padded, kernel, padding="valid")

    def call(self, image, mask):
        image = ops.cast(image, "float32")
        known = 1.0 - ops.cast(mask, "float32")
        sums, weights = [image * known], [known]
        for _ in range(self.levels):
            sums.append(self._pool(sums[-1]))
            weights.append(self._pool(weights[-1]))
        kernel = ops.convert_to_tensor(_binomial_kernel(image.shape[-1]))
        guess = sums[-1] / ops.maximum(weights[-1], _MIN_KNOWN)
        for level in reversed(range(self.levels)):
            shape = ops.shape(sums[level])
            # a side of odd length was padded when pooled: crop the upsampled guess back
            guess = self._upsample(guess)[:, :shape[1], :shape[2]]
            # the known part of each step's result, and the share smoothing fills
            anchored = sums[level] / ops.maximum(weights[level], _MIN_KNOWN) * weights[level]
            unknown = 1.0 - weights[level]
            for _ in range(self.steps):
                guess = anchored + unknown * self._smooth(guess, kernel)
        return image * known + (1.0 - known) * guess

    def compute_output_spec(self, image, mask):
        return keras.KerasTensor(image.shape, dtype="float32")

    def get_config(self):
        return {**super().get_config(), "levels": self.levels, "steps": self.steps}
