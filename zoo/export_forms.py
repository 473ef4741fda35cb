"""Layers that take another form of the same function when traced for a TFLite export.

Some ops that TensorFlow runs fast on a CPU run slowly, or outside XNNPACK, in a
TFLite file, and the other way round. Inside `tflite_forms()` such layers trace the
form that suits TFLite: the hole fill's relaxation steps unrolled, the stencils of one
more fine level as sums of slices (`zoo.hole_fill`), 2 x 2 average pooling as a
depthwise convolution (`zoo.image_layers.MeanPool2`). The forms compute the same
values (float rounding apart); `export.tflite.convert_model` traces within the block.
"""

import contextlib

_ACTIVE = {"tflite": False, "int8_stencils": False}


@contextlib.contextmanager
def tflite_forms(int8_stencils=False):
    """Within the block, layers traced (called symbolically or in a tf.function) take
    their TFLite form. `int8_stencils`: the file quantizes the hole fill to int8, so its
    stencils trace as depthwise convolutions, whose kernels int8 stores exactly (each
    add of a sum of slices would be rounded to int8)."""
    previous = dict(_ACTIVE)
    _ACTIVE.update(tflite=True, int8_stencils=int8_stencils)
    try:
        yield
    finally:
        _ACTIVE.update(previous)


def tracing_for_tflite():
    """True inside `tflite_forms()`."""
    return _ACTIVE["tflite"]


def tracing_int8_stencils():
    """True inside `tflite_forms(int8_stencils=True)`."""
    return _ACTIVE["int8_stencils"]
