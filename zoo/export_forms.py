"""Layers that take another form of the same function when traced for a TFLite export.

Some ops that TensorFlow runs fast on a CPU run slowly, or outside XNNPACK, in a
TFLite file, and the other way round. Inside `tflite_forms()` such layers trace the
form that suits TFLite: the hole fill's stencils as depthwise convolutions instead of
sums of slices (`zoo.hole_fill`), 2 x 2 average pooling as a depthwise convolution
(`zoo.image_layers.MeanPool2`). Both forms compute the same values (float rounding
apart); `export.tflite.convert_model` traces within the block.
"""

import contextlib

_ACTIVE = {"tflite": False}


@contextlib.contextmanager
def tflite_forms():
    """Within the block, layers traced (called symbolically or in a tf.function) take
    their TFLite form."""
    previous = _ACTIVE["tflite"]
    _ACTIVE["tflite"] = True
    try:
        yield
    finally:
        _ACTIVE["tflite"] = previous


def tracing_for_tflite():
    """True inside `tflite_forms()`."""
    return _ACTIVE["tflite"]
