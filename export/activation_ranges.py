"""Percentile ranges for an int8 file's activations.

The converter gives each activation the int8 range [min, max] of the values it saw on
the calibration examples. A few extreme values then set the step of all the others:
on 32 calibration examples of `unet-inpaint-photos` the min-max range of its
activations was 1.5 to 2.4 times the range holding 99.98 % of the values. So
the calibrated ranges are narrowed to the `PERCENTILE`-th percentiles of each tensor's
values on the same examples (the rare values beyond are clipped, as a saturating
activation would clip them), which on 22 validation crops brought the file from
-0.38 dB masked PSNR against Keras on strokes (-0.76 on thick strokes, -1.27 on the
centre box) to -0.13 (-0.15, -0.36). The 99.9th percentile clipped too much: -0.22 on
strokes where 99.99 gave -0.10, in a trial that also narrowed the network's input
tensors. `benchmarks/int8_float_layers.py` measures both forms.

Only learned feature maps are narrowed: the layers from the first one with weights on,
except the image-valued output layers (`export.tflite.float_layer_names`), whose
[0, 1] range must hold white. A preset's own float32 layers are narrowed too: left at
their min / max, the `unet-inpaint-photos` file was -0.45 dB, worse than with none of
them in float32 (-0.19). The converter still quantizes some of their tensors (the
file with them is 0.42 MB larger than without, where 230 k float32 weights would add
0.69 MB), and a range also sets the step where an int8 layer's output meets a float
one.
"""

import numpy as np

PERCENTILE = 99.99
SAMPLES_PER_EXAMPLE = 8000  # values drawn from each tensor of each example


def narrowed_layer_names(network):
    """Names of `network`'s layers whose int8 ranges `narrow_ranges` narrows."""
    from export.tflite import float_layer_names

    kept = set(float_layer_names(network))
    names, learned = [], False
    for layer in network.layers:
        learned = learned or bool(layer.weights)
        if learned and layer.name not in kept:
            names.append(layer.name)
    return names


def narrow_ranges(calibrated, examples, layer_names, percentile=PERCENTILE, seed=0):
    """`calibrated` (.tflite bytes from a calibrate-only conversion, each activation
    holding its calibrated min / max) with the range of every activation of
    `layer_names` narrowed to the [100 - percentile, percentile] percentiles of its
    values on `examples` (dicts {input name: float32 array of batch 1}). A range never
    widens, and keeps 0 inside it."""
    from tensorflow.lite.tools import flatbuffer_utils

    from export.tflite import _layer_in

    model = flatbuffer_utils.convert_bytearray_to_object(calibrated)
    graph = model.subgraphs[0]
    inputs = set(graph.inputs)
    targets = {}
    for index, tensor in enumerate(graph.tensors):
        stats = tensor.quantization
        if index in inputs or stats is None or stats.min is None or len(stats.min) != 1:
            continue
        if _layer_in(tensor.name.decode(), layer_names):
            targets[index] = stats
    if not targets:
        return calibrated
    samples = _tensor_samples(calibrated, examples, targets, seed)
    for index, stats in targets.items():
        low, high = np.percentile(samples[index], [100 - percentile, percentile])
        stats.min = np.array([max(float(stats.min[0]), min(float(low), 0.0))], np.float32)
        stats.max = np.array([min(float(stats.max[0]), max(float(high), 0.0))], np.float32)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _tensor_samples(calibrated, examples, indices, seed):
    """{tensor index: 1-D float32 values drawn from it on every example}."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=bytes(calibrated),
                              experimental_preserve_all_tensors=True)
    runner = interpreter.get_signature_runner()
    rng = np.random.default_rng(seed)
    drawn = {index: [] for index in indices}
    for example in examples:
        runner(**example)
        for index in indices:
            values = interpreter.get_tensor(index).ravel()
            drawn[index].append(values[rng.integers(0, values.size, SAMPLES_PER_EXAMPLE)])
    return {index: np.concatenate(values) for index, values in drawn.items()}
