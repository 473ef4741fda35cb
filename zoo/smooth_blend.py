"""Per-pixel blend of a denoiser's output with block means of its noisy input.

A convolutional denoiser that predicts the noise leaves its own error on flat
areas: the unblended photo denoiser left about 16 % of the noise RMS on flat grey
crops at every sigma (35.8 dB at sigma 25 where BM3D reaches about 45 dB). A mean
over an s x s block of the noisy input divides the noise's RMS by s, so on a flat
area a 16 px mean is nearly clean; on texture it blurs. `SmoothBlend` lets the
network choose, per pixel, between its own output and the means over 4, 8, 16, ...
px blocks (bilinearly upsampled so block edges do not show), with softmax weights
it predicts. Every candidate is in [0, 1], so the blend is too.
"""

import math

import keras
import numpy as np
from keras import layers, ops

OWN_OUTPUT_SHARE = 0.98  # the untrained blend gives the network's output this weight


def blend_block_sizes(levels):
    """Block sizes (4, 8, 16, ...) of the `levels` block-mean candidates."""
    return tuple(2 ** (level + 2) for level in range(levels))


def _bilinear_kernel(factor, channels):
    """(2f, 2f, C, C) kernel of a stride-f transposed convolution that upsamples each
    channel by f with half-pixel centres: tap k weighs 1 - |k - f + 0.5| / f per axis."""
    taps = 1.0 - np.abs(np.arange(2 * factor) - factor + 0.5) / factor
    kernel = np.zeros((2 * factor, 2 * factor, channels, channels), np.float32)
    for channel in range(channels):
        kernel[:, :, channel, channel] = np.outer(taps, taps)
    return kernel


def upsample_bilinear(images, factor, size):
    """Bilinear upsampling by an integer `factor`, as `tf.image.resize` does it (half-pixel
    centres, edges held), cropped to `size` = (H, W) = factor x the input's size.

    (B, h, w, C) -> (B, H, W, C). A resize where H and W are known when the graph is
    traced (eager calls, JAX, a fixed-size TFLite export: one RESIZE_BILINEAR, which
    XNNPACK runs; the transposed convolutions below took 5 of the 41 ms of the int8
    `unet-denoise-photos` file). Else (a SavedModel signature or a graph traced with H
    and W open, where `ops.image.resize` needs them) a fixed transposed convolution.
    """
    if all(isinstance(extent, int) for extent in size):
        return ops.image.resize(images, tuple(size), interpolation="bilinear")
    padded = ops.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="symmetric")
    kernel = ops.cast(_bilinear_kernel(factor, images.shape[-1]), images.dtype)
    up = ops.conv_transpose(padded, kernel, strides=factor, padding="valid")
    start = 3 * factor // 2
    return up[:, start:start + size[0], start:start + size[1], :]


def weighted_sum(weights, candidates):
    """`sum_k weights[..., k] * candidates[k]`: (B, H, W, K) and K tensors (B, H, W, C)
    -> (B, H, W, C).

    As two 1 x 1 convolutions with 0/1 kernels around one elementwise product of the
    concatenated candidates: ops XNNPACK runs whole, where K channel slices and K
    broadcast products took about 4 ms of a 256 x 256 TFLite call.
    """
    count, channels = len(candidates), candidates[0].shape[-1]
    spread = np.kron(np.eye(count), np.ones((1, channels)))  # weight k onto candidate k's C
    gather = np.tile(np.eye(channels), (count, 1))  # sum the K products per channel
    dtype = weights.dtype
    per_channel = ops.conv(weights, ops.cast(spread[None, None], dtype))
    stacked = ops.concatenate(candidates, axis=-1)
    return ops.conv(per_channel * stacked, ops.cast(gather[None, None], dtype))


@keras.saving.register_keras_serializable(package="zoo")
class SmoothBlend(layers.Layer):
    """`sum_k softmax(logits + preference)_k * candidate_k`, candidate 0 the network's output.

    Inputs: `restored` (B, H, W, C) in [0, 1], `image` (B, H, W, C) in [0, 1] (the noisy
    input; H and W multiples of the largest block, 2**(levels + 1)), `logits`
    (B, H, W, levels + 1). Output (B, H, W, C) float32 in [0, 1].

    `preference` (levels + 1,) is a trainable offset on the logits, started so that the
    network's output has weight OWN_OUTPUT_SHARE when the logits are zero: a blend added
    to a trained network starts where that network was.
    """

    def __init__(self, levels, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if not isinstance(levels, int) or levels < 1:
            raise ValueError(f"smooth_blend levels must be an int >= 1, got {levels!r}.")
        self.levels = levels

    def build(self, restored_shape, image_shape=None, logits_shape=None):
        start = math.log(OWN_OUTPUT_SHARE * self.levels / (1.0 - OWN_OUTPUT_SHARE))
        self.preference = self.add_weight(
            shape=(self.levels + 1,), name="preference",
            initializer=keras.initializers.Constant(0.0))
        self.preference.assign(ops.convert_to_tensor([start] + [0.0] * self.levels))

    def call(self, restored, image, logits):
        restored = ops.cast(restored, "float32")
        image = ops.cast(image, "float32")
        weights = ops.softmax(ops.cast(logits, "float32") + self.preference, axis=-1)
        size = ops.shape(image)[1:3]
        smooth = [upsample_bilinear(ops.average_pool(image, block, strides=block,
                                                     padding="valid"), block, size)
                  for block in blend_block_sizes(self.levels)]
        return weighted_sum(weights, [restored] + smooth)

    def compute_output_shape(self, restored_shape, image_shape=None, logits_shape=None):
        return tuple(restored_shape)

    def get_config(self):
        return {**super().get_config(), "levels": self.levels}
