"""Percentile ranges for an int8 file's activations.

The converter gives each activation the int8 range [min, max] of the values it saw on
the calibration examples. A few extreme values then set the step of all the others:
on 32 calibration examples of `unet-inpaint-photos` the min-max range of its
activations was 1.5 to 2.4 times the range holding 99.98 % of the values. So
each calibrated range is narrowed to a percentile range of the tensor's values on the
same examples (the rare values beyond are clipped, as a saturating activation would
clip them): of the candidate `PERCENTILES`, the one whose 256-level grid rounds and
clips the tensor's values with the least squared error.

On 22 validation crops of `unet-inpaint-photos` with its two finest decoder levels in
float32 (`benchmarks/int8_float_layers.py`), masked PSNR against Keras on strokes
(thick strokes, centre box):
- min / max: -0.38 dB (-0.76, -1.27);
- the 99.99th percentile for every tensor: -0.13 (-0.15, -0.36);
- 99.995 for every tensor: -0.09 (-0.11, -0.21); 99.999: -0.11 (-0.25, -0.26);
- the least-error choice: -0.07 (-0.11, -0.25); it took 99.995 for 15 tensors and
  99.999 for 34. With 128 calibration examples instead of 64: -0.09, against -0.13 for
  99.99 and for 99.995.
A fixed 99.9 clipped too much: -0.22 on strokes where 99.99 gave -0.10, in a trial that
also narrowed the network's input tensors.

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

# candidate percentiles for each tensor's range; 100 (the samples' min / max) was never
# the least-error choice on unet-inpaint-photos, nor were 99.9 to 99.99
PERCENTILES = (99.9, 99.95, 99.98, 99.99, 99.995, 99.999)
INT8_LEVELS = 256
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


def least_error_range(values, percentiles=PERCENTILES):
    """(low, high) with low <= 0 <= high: of the ranges between the [100 - p, p]
    percentiles of `values` (1-D float array) for each p in `percentiles` (widened to
    hold 0), the one whose grid of `INT8_LEVELS` values, from low to high, rounds and
    clips `values` with the least mean squared error."""
    # one call for every candidate: each call partitions all of `values`
    lows_highs = np.percentile(values, [q for p in percentiles for q in (100 - p, p)])
    best = None
    for low, high in lows_highs.reshape(-1, 2):
        low, high = min(float(low), 0.0), max(float(high), 0.0)
        step = max(high - low, 1e-12) / (INT8_LEVELS - 1)
        on_grid = np.clip(np.round((values - low) / step), 0, INT8_LEVELS - 1) * step + low
        error = float(np.mean((on_grid - values) ** 2))
        if best is None or error < best[0]:
            best = (error, low, high)
    return best[1], best[2]


def narrow_ranges(calibrated, examples, layer_names, percentiles=PERCENTILES, seed=0):
    """`calibrated` (.tflite bytes from a calibrate-only conversion, each activation
    holding its calibrated min / max) with the range of every activation of
    `layer_names` narrowed to `least_error_range(its values on examples,
    percentiles)` (`examples`: dicts {input name: float32 array of batch 1}). A range
    never widens, and keeps 0 inside it."""
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
        low, high = least_error_range(samples[index], percentiles)
        stats.min = np.array([max(float(stats.min[0]), low)], np.float32)
        stats.max = np.array([min(float(stats.max[0]), high)], np.float32)
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
