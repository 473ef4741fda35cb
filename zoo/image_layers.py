"""Small serializable layers for the mask and output conventions.

Masks are (B, H, W, 1) with 1 = hole (missing) and 0 = known. Images are
float32 in [0, 1]. These layers run in float32 even under a mixed precision
policy, so the model's image outputs are always float32.
"""

import keras
import numpy as np
from keras import layers, ops

from zoo.export_forms import tracing_for_tflite


@keras.saving.register_keras_serializable(package="zoo")
class HideHoles(layers.Layer):
    """Zero the image under the mask and append the mask as a channel.

    (B, H, W, C) image, (B, H, W, 1) mask -> (B, H, W, C + 1). Whatever the
    image held under the hole cannot reach the network.
    """

    def call(self, image, mask):
        mask = ops.cast(mask, image.dtype)
        return ops.concatenate([image * (1.0 - mask), mask], axis=-1)



@keras.saving.register_keras_serializable(package="zoo")
class Composite(layers.Layer):
    """`mask * prediction + (1 - mask) * image`: known pixels come back unchanged.

    All three inputs are (B, H, W, C) / (B, H, W, 1) in [0, 1]; output (B, H, W, C) float32.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)

    def call(self, prediction, image, mask):
        prediction = ops.cast(prediction, "float32")
        image = ops.cast(image, "float32")
        mask = ops.cast(mask, "float32")
        return mask * prediction + (1.0 - mask) * image



@keras.saving.register_keras_serializable(package="zoo")
class AddResidual(layers.Layer):
    """`clip(image + correction, 0, 1)`: the network predicts a correction (as denoisers do).

    (B, H, W, C) image in [0, 1] and correction -> (B, H, W, C) float32 in [0, 1].
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)

    def call(self, image, correction):
        restored = ops.cast(image, "float32") + ops.cast(correction, "float32")
        return ops.clip(restored, 0.0, 1.0)


@keras.saving.register_keras_serializable(package="zoo")
class ZeroGate(layers.Layer):
    """`gate * x` with one learned scalar `gate` that starts at zero.

    (B, H, W, C) -> the same shape. After a randomly initialised layer it makes a
    correction that starts at exactly zero, as a zero-initialised layer does, while the
    features it scales start random (the gate's own gradient is not zero, so it opens).
    """

    def build(self, input_shape):
        self.gate = self.add_weight(shape=(), initializer="zeros", name="gate")

    def call(self, x):
        return x * ops.cast(self.gate, x.dtype)



@keras.saving.register_keras_serializable(package="zoo")
class SpatialSizeCheck(layers.Layer):
    """Pass-through that raises a clear error when H or W is not divisible by `factor`.

    Checks the sizes that are known when the graph is built or traced (always on
    JAX and in eager calls); a size that stays unknown is passed through unchecked.
    """

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, images):
        for axis, size in zip(("height", "width"), images.shape[1:3], strict=True):
            if isinstance(size, int) and size % self.factor:
                raise ValueError(f"Image {axis} {size} is not divisible by {self.factor} "
                                 f"(2**depth): pad or crop to a multiple of {self.factor}.")
        return images

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _shuffle_kernel(factor, channels):
    """(factor, factor, C, factor**2 * C) one-hot kernel: input channel c at offset
    (dy, dx) of a factor x factor block <-> channel (dy * factor + dx) * C + c
    (the order of TensorFlow's space_to_depth)."""
    kernel = np.zeros((factor, factor, channels, factor * factor * channels), np.float32)
    for dy in range(factor):
        for dx in range(factor):
            for c in range(channels):
                kernel[dy, dx, c, (dy * factor + dx) * channels + c] = 1.0
    return kernel


@keras.saving.register_keras_serializable(package="zoo")
class SpaceToDepth(layers.Layer):
    """Pixel unshuffle: (B, H, W, C) -> (B, H/f, W/f, f*f*C), every pixel kept.

    A stride-f convolution with a fixed one-hot kernel (no weights), so it exports
    as a plain CONV_2D that every TFLite runtime and int8 quantization handle exactly.
    """

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, images):
        kernel = _shuffle_kernel(self.factor, images.shape[-1])
        return ops.conv(images, ops.cast(kernel, images.dtype), strides=self.factor)

    def compute_output_shape(self, shape):
        f = self.factor
        return (shape[0], *(None if s is None else s // f for s in shape[1:3]), shape[3] * f * f)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="zoo")
class DepthToSpace(layers.Layer):
    """Pixel shuffle, the inverse of `SpaceToDepth`: (B, H, W, f*f*C) -> (B, f*H, f*W, C)."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, features):
        channels = features.shape[-1] // (self.factor * self.factor)
        kernel = _shuffle_kernel(self.factor, channels)
        return ops.conv_transpose(features, ops.cast(kernel, features.dtype),
                                  strides=self.factor, padding="valid")

    def compute_output_shape(self, shape):
        f = self.factor
        return (shape[0], *(None if s is None else s * f for s in shape[1:3]), shape[3] // (f * f))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="zoo")
class NoiseLevelMap(layers.Layer):
    """A per-image noise level as a constant channel appended to a feature map.

    (B, H, W, C) features and (B, 1) noise level (Gaussian sigma in image units,
    i.e. the 8-bit sigma / 255, in [0, 1]) -> (B, H, W, C + 1).
    """

    def call(self, features, noise_level):
        level = ops.reshape(ops.cast(noise_level, features.dtype), (-1, 1, 1, 1))
        return ops.concatenate([features, ops.ones_like(features[..., :1]) * level], axis=-1)


@keras.saving.register_keras_serializable(package="zoo")
class MeanPool2(layers.AveragePooling2D):
    """2 x 2 average pooling, stride 2: (B, H, W, C) -> (B, H/2, W/2, C).

    Traced for a TFLite export (`zoo.export_forms.tflite_forms`) it is a depthwise
    2 x 2 convolution with taps of 1/4, the same means: XNNPACK runs that in int8, where
    an int8 AVERAGE_POOL_2D falls back to TFLite's own kernel and splits the graph (the
    int8 `unet-denoise-photos` file's four pools cost 2 % of its time). A tap of
    1/4 is stored exactly by per-channel int8 weights.
    """

    def __init__(self, **kwargs):
        kwargs.pop("pool_size", None)
        kwargs.pop("strides", None)
        super().__init__(pool_size=2, strides=2, **kwargs)

    def call(self, inputs):
        if not tracing_for_tflite():
            return super().call(inputs)
        channels = inputs.shape[-1]
        taps = ops.cast(np.full((2, 2, channels, 1), 0.25, np.float32), inputs.dtype)
        return ops.depthwise_conv(inputs, taps, strides=2, padding=self.padding)


@keras.saving.register_keras_serializable(package="zoo")
class PadToMultiple(layers.Layer):
    """Pad H and W at the bottom and right up to the next multiples of `factor`.

    (B, H, W, C) -> (B, H', W', C). `mode` "reflect" mirrors the image (as
    `zoo.inference.apply_to_image` does, so both give the same pixels), "constant"
    pads zeros (a mask: the padding is known, never a hole). With `CropToSize` at the
    end, a model takes any size though its levels need multiples of 2**depth.
    Reflection needs H and W larger than the padding (at least `factor` pixels).
    """

    def __init__(self, factor, mode="reflect", **kwargs):
        super().__init__(**kwargs)
        self.factor, self.mode = int(factor), mode

    def call(self, images):
        shape = ops.shape(images)
        pad_h, pad_w = (-shape[1]) % self.factor, (-shape[2]) % self.factor
        if isinstance(pad_h, int) and isinstance(pad_w, int) and pad_h == pad_w == 0:
            return images  # a fixed-size export needs no pad op (TFLite runs it unaccelerated)
        return ops.pad(images, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], mode=self.mode)

    def compute_output_shape(self, shape):
        def up(size):
            return None if size is None else -(-size // self.factor) * self.factor

        return (shape[0], up(shape[1]), up(shape[2]), shape[3])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "mode": self.mode}


@keras.saving.register_keras_serializable(package="zoo")
class CropToSize(layers.Layer):
    """`features[:, :H, :W]` for the H and W of `reference`: undoes `PadToMultiple`.

    (B, H', W', C) features and (B, H, W, C') reference -> (B, H, W, C) float32.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)

    def call(self, features, reference):
        shape, own = ops.shape(reference), ops.shape(features)
        if all(isinstance(extent, int) for extent in (*shape[1:3], *own[1:3])) and \
                tuple(shape[1:3]) == tuple(own[1:3]):
            return ops.cast(features, "float32")  # nothing to crop: no slice op in an export
        return ops.cast(features[:, :shape[1], :shape[2], :], "float32")

    def compute_output_shape(self, features_shape, reference_shape):
        return (features_shape[0], reference_shape[1], reference_shape[2], features_shape[3])
