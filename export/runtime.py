"""Running exported models: TFLite through ai-edge-litert (`TFLiteModel`, defined in
`zoo_lite.tflite_model`, which needs no TensorFlow), SavedModels through TF."""

from zoo_lite.tflite_model import TFLiteModel  # noqa: F401 - the runtime export verifies with


def run_saved_model(path, inputs):
    """The single output of a SavedModel's `serving_default` signature (TensorFlow)."""
    import tensorflow as tf

    signature = tf.saved_model.load(str(path)).signatures["serving_default"]
    outputs = signature(**{n: tf.constant(v, tf.float32) for n, v in inputs.items()})
    (value,) = outputs.values()
    return value.numpy()
