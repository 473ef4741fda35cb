"""Building blocks shared by the zoo's models: the knobs users tune.

Every helper takes plain strings and numbers so a model's `get_config()` stays
JSON, and every unknown choice raises a ValueError that lists the valid ones.
All blocks work on NHWC tensors.
"""

import keras
from keras import layers

from zoo.image_layers import MeanPool2

ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "selu", "swish", "tanh", "sigmoid", "linear")
NORMALIZATIONS = ("batch", "instance", "none")
POOLINGS = ("max", "avg", "strided")
UPSAMPLINGS = ("transpose", "nearest", "bilinear")


def check_choice(name, value, valid):
    """Raise a ValueError naming `name` and listing `valid` when `value` is not in it."""
    if value not in valid:
        raise ValueError(f"Unknown {name} {value!r}. Valid values: {', '.join(map(str, valid))}.")


def kernel_regularizer(l1=0.0, l2=0.0):
    """An L1/L2 weight penalty for conv and dense kernels, or None when both are 0."""
    if l1 < 0 or l2 < 0:
        raise ValueError(f"l1 and l2 must be >= 0, got l1={l1}, l2={l2}.")
    if l1 == 0 and l2 == 0:
        return None
    return keras.regularizers.L1L2(l1=l1, l2=l2)


def activation(name, layer_name=None, dtype=None):
    """A Keras activation layer for one of ACTIVATIONS (leaky_relu uses slope 0.2)."""
    check_choice("activation", name, ACTIVATIONS)
    if name == "leaky_relu":
        return layers.LeakyReLU(negative_slope=0.2, name=layer_name, dtype=dtype)
    return layers.Activation(name, name=layer_name, dtype=dtype)


def normalization(kind, layer_name=None):
    """BatchNormalization, instance normalization (GroupNormalization(groups=-1),
    the Keras 3 replacement for tensorflow-addons' InstanceNormalization) or None."""
    check_choice("normalization", kind, NORMALIZATIONS)
    if kind == "batch":
        return layers.BatchNormalization(name=layer_name)
    if kind == "instance":
        return layers.GroupNormalization(groups=-1, name=layer_name)
    return None


def conv_block(x, filters, *, kernel_size, activation_name, normalization_kind, dropout,
               regularizer, convs, name):
    """`convs` x (Conv2D 'same' -> normalization -> activation), then optional dropout.

    Shape: (B, H, W, C_in) -> (B, H, W, filters).
    """
    for i in range(convs):
        x = layers.Conv2D(
            filters, kernel_size, padding="same", use_bias=normalization_kind == "none",
            kernel_regularizer=regularizer, name=f"{name}_conv{i + 1}",
        )(x)
        norm = normalization(normalization_kind, f"{name}_norm{i + 1}")
        if norm is not None:
            x = norm(x)
        x = activation(activation_name, f"{name}_act{i + 1}")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


def downsample(x, pooling, *, filters, kernel_size, regularizer, name):
    """Halve H and W: max or average pooling, or a stride-2 convolution ('strided').

    Shape: (B, H, W, C) -> (B, H/2, W/2, C) (C = `filters` for 'strided').
    """
    check_choice("pooling", pooling, POOLINGS)
    if pooling == "max":
        return layers.MaxPooling2D(2, name=f"{name}_maxpool")(x)
    if pooling == "avg":
        return MeanPool2(name=f"{name}_avgpool")(x)
    return layers.Conv2D(filters, kernel_size, strides=2, padding="same",
                         kernel_regularizer=regularizer, name=f"{name}_strided")(x)


def upsample(x, mode, *, filters, kernel_size, regularizer, name):
    """Double H and W: a stride-2 transposed convolution ('transpose'), or
    nearest / bilinear up-sampling followed by a convolution (no checkerboard artefacts).

    Shape: (B, H, W, C) -> (B, 2H, 2W, filters).
    """
    check_choice("upsampling", mode, UPSAMPLINGS)
    if mode == "transpose":
        return layers.Conv2DTranspose(filters, kernel_size, strides=2, padding="same",
                                      kernel_regularizer=regularizer, name=f"{name}_upconv")(x)
    x = layers.UpSampling2D(2, interpolation=mode, name=f"{name}_upsample")(x)
    return layers.Conv2D(filters, kernel_size, padding="same", kernel_regularizer=regularizer,
                         name=f"{name}_conv")(x)


def check_spatial_size(image_shape, factor, model_name):
    """Raise when a fixed H or W in `image_shape` is not divisible by `factor`."""
    for axis, size in zip(("height", "width"), image_shape[:2], strict=True):
        if size is not None and size % factor:
            raise ValueError(
                f"{model_name}: image {axis} {size} is not divisible by {factor} "
                f"(2**depth). Use a size that is a multiple of {factor} or a smaller depth."
            )


def check_pixel_unshuffle(factor):
    """Raise unless `factor` (a model's pixel_unshuffle) is an int >= 1."""
    if not isinstance(factor, int) or factor < 1:
        raise ValueError(f"pixel_unshuffle must be an int >= 1, got {factor!r}.")


def level_filters(filters, depth):
    """Filters per level as a tuple of ints.

    `filters` is a list (one entry per level; `depth` must be None or equal its
    length) or an int (the first level's width, doubled at each of `depth` levels).
    """
    if isinstance(filters, int):
        if depth is None or depth < 1:
            raise ValueError(f"depth must be an int >= 1 when filters is an int, got {depth!r}.")
        return tuple(filters * 2**level for level in range(depth))
    filters = tuple(int(f) for f in filters)
    if not filters or min(filters) < 1:
        raise ValueError(f"filters must be a non-empty list of positive ints, got {filters!r}.")
    if depth is not None and depth != len(filters):
        raise ValueError(f"depth={depth} does not match the {len(filters)} levels in "
                         f"filters={list(filters)}; pass one or make them agree.")
    return filters


def check_rate(name, value):
    """Raise unless 0 <= value < 1 (dropout rates)."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}.")
