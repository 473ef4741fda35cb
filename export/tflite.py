"""TFLite export with builtin ops only, in four variants.

    none      float32
    float16   float16 weights (float32 compute on CPU, half on GPU delegates)
    dynamic   int8 weights, float activations (dynamic-range quantization)
    int8      int8 weights and activations, calibrated on representative data;
              float32 input/output unless `int8_io`

Conversion goes through a SavedModel and `TFLiteConverter.from_saved_model` with
`TFLITE_BUILTINS` (plus `TFLITE_BUILTINS_INT8` for int8): never SELECT_TF_OPS,
which phone runtimes without the flex delegate cannot run (Keras'
`export(format="litert")` turns it on). The file is checked for flex and custom
ops after conversion.

int8 keeps some layers in float32 (`float_layer_names`). The in-graph hole fill
(`zoo.hole_fill.DiffusionFill`) runs up to a few hundred stencil steps, and with
momentum each step adds a multiple of the last change, so int8 rounding compounds: on
six validation crops the `unet-inpaint-photos` int8 file's holes were 22.8-31.7 dB from
Keras when the whole graph was int8, and 56-58 dB with the fill kept in float32, at
10 % more time (145.7 against 132.5 ms at 256 x 256, one thread, AVX2 machine). The
output layers after the last convolution cost no measurable time in float32, and in
int8 they rounded the output to an int8 grid (`benchmarks/int8_float_layers.py`).
"""

import re
import tempfile
import warnings
from pathlib import Path

from export.activation_ranges import PERCENTILES, narrowed_layer_names

QUANTIZATIONS = ("none", "float16", "dynamic", "int8")


class UnsupportedOpError(ValueError):
    """The model needs an op TFLite has no builtin for."""


def _layer_in(location, layer_names):
    """The Keras layer named in a graph location such as
    'functional_1/odd_layer_1/erfinv/Erfinv@...' (TF appends _N to scope names)."""
    for part in location.split("@")[0].split("/"):
        for name in layer_names:
            if re.fullmatch(re.escape(name) + r"(_\d+)?", part):
                return name
    return None


def _unsupported_ops(error, layer_names):
    """[(op, layer or None)] from a converter error's structured details."""
    found = []
    for detail in getattr(error, "errors", []):
        if not detail.operator.name:
            continue
        calls = [call.name for call in detail.location.call]
        layer = next((n for n in (_layer_in(c, layer_names) for c in calls) if n), None)
        found.append((detail.operator.name, layer))
    if not found:  # older converters: only the message
        found = [(op, None) for op in sorted(set(re.findall(r"\btf\.[A-Z][A-Za-z0-9_]*",
                                                            str(error))))]
    return found


def float_layer_names(network):
    """Names of the layers that int8 export keeps in float32: the hole fills, and the
    output layers after the network's last convolution (pixel shuffles, residual sums,
    gates, blends, the inpainters' composite, the crop back to the input's size), so
    the output is not rounded to an int8 grid after the network."""
    from zoo.hole_fill import DiffusionFill
    from zoo.image_layers import AddResidual, Composite, CropToSize, DepthToSpace, ZeroGate
    from zoo.smooth_blend import SmoothBlend

    kept = (DiffusionFill, AddResidual, Composite, CropToSize, DepthToSpace, ZeroGate,
            SmoothBlend)
    return [layer.name for layer in network.layers if isinstance(layer, kept)]


def _tensor_names(tflite_bytes):
    from ai_edge_litert.interpreter import Interpreter

    return [detail["name"] for detail in
            Interpreter(model_content=tflite_bytes).get_tensor_details()]


def _int8_calibrated(converter, float_layers, int8_io, representative_data, narrow_layers,
                     percentiles):
    """int8 conversion in two steps, calibrate then quantize, so that between them the
    activations of `narrow_layers` get percentile ranges (`export.activation_ranges`),
    and the nodes of `float_layers` stay float32.

    The steps of `tf.lite.experimental.QuantizationDebugger`'s
    `get_nondebug_quantized_model` (TFLite's selective quantization: calibrate, then
    quantize all but a denylist), without the instrumented debug model the debugger
    also builds, which cost 27 s more on the 8.6 M-parameter `unet-inpaint-photos`.
    """
    from tensorflow.lite.python import convert as lite_convert

    from export.activation_ranges import narrow_ranges

    converter.experimental_mlir_quantizer = True
    converter._experimental_calibrate_only = True
    calibrated = converter.convert()
    if narrow_layers:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*preserve_all_tensors")
            calibrated = narrow_ranges(calibrated, representative_data(), narrow_layers,
                                       percentiles)
    # the output tensor keeps its signature name (StatefulPartitionedCall:N), not the
    # layer's, so it is named here: else the final crop runs in int8
    nodes = [name for name in _tensor_names(calibrated)
             if _layer_in(name, float_layers) or name.startswith("StatefulPartitionedCall")
             ] if float_layers else []
    if nodes:
        calibrated = _without_float_only_ranges(calibrated, set(nodes))
    return lite_convert.mlir_quantize(
        calibrated, disable_per_channel=converter._experimental_disable_per_channel,
        fully_quantize=int8_io, denylisted_nodes=nodes)


def _without_float_only_ranges(calibrated, float_nodes):
    """`calibrated` with no calibrated range on the tensors of `float_nodes` that only
    float32 nodes read: those never become int8, and the quantizer's time grows with
    the square of the kept-float tensors that carry a range (on `unet-inpaint-photos`,
    whose fill makes 5,500 of them, 47 s against 4 s without, for the same file). A
    tensor an int8 node reads keeps its range, which sets its quantize step, and so do
    the graph's inputs and outputs (int8 in files with `int8_io`)."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(calibrated)
    graph = model.subgraphs[0]
    names = [tensor.name.decode() for tensor in graph.tensors]
    kept = {int(index) for index in list(graph.inputs) + list(graph.outputs)}
    for operator in graph.operators:
        if not all(names[index] in float_nodes for index in operator.outputs):
            kept.update(int(index) for index in operator.inputs if index >= 0)
    for index, tensor in enumerate(graph.tensors):
        if names[index] in float_nodes and index not in kept:
            tensor.quantization = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def convert_saved_model(saved_model_dir, quantize="none", representative_data=None,
                        int8_io=False, layer_names=(), float_layers=(), narrow_layers=(),
                        range_percentiles=None):
    """The .tflite bytes of a SavedModel's `serving_default` signature.

    `representative_data` (int8 only): a callable returning an iterable of dicts
    {input name: float32 array of batch 1}. `layer_names` lets an unsupported op's
    error name the Keras layer that made it. `float_layers`: names of layers an int8
    file computes in float32. `narrow_layers`: layers whose int8 activation ranges are
    percentile ranges of their values (one of `range_percentiles` each,
    `export.activation_ranges`) instead of their min / max.
    """
    import tensorflow as tf

    if quantize not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantization {quantize!r}; expected one of "
                         f"{', '.join(QUANTIZATIONS)}.")
    if quantize == "int8" and representative_data is None:
        raise ValueError("int8 quantization needs representative data to calibrate on "
                         "(representative_data=...); none was given.")
    if int8_io and quantize != "int8":
        raise ValueError("int8_io applies to int8 quantization only.")
    converter = tf.lite.TFLiteConverter.from_saved_model(
        str(saved_model_dir), signature_keys=["serving_default"])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        converter.representative_dataset = representative_data
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                               tf.lite.OpsSet.TFLITE_BUILTINS]
        if int8_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    try:
        with warnings.catch_warnings():
            # The converter calibrates int8 with TF's own (deprecated) interpreter.
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
            if quantize == "int8" and (float_layers or narrow_layers):
                return _int8_calibrated(converter, float_layers, int8_io,
                                        representative_data, narrow_layers,
                                        range_percentiles)
            return converter.convert()
    except Exception as error:  # the converter raises several error types
        ops = _unsupported_ops(error, layer_names)
        if not ops:
            raise
        named = "; ".join(f"{op} in layer {layer!r}" if layer else op for op, layer in ops[:5])
        raise UnsupportedOpError(
            f"the model needs ops TFLite has no builtin kernel for: {named}. Builtins-only "
            "export never uses flex (SELECT_TF_OPS) ops; change the layer that makes them "
            "(e.g. another activation).") from None


def op_names(tflite_bytes):
    """Names of the operators in a .tflite flatbuffer (e.g. CONV_2D, FlexErf)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=tflite_bytes)
    return sorted({op["op_name"] for op in interpreter._get_ops_details()})


def check_builtins_only(tflite_bytes):
    """Raise UnsupportedOpError when the file holds a flex or custom op."""
    bad = [name for name in op_names(tflite_bytes)
           if name.startswith("Flex") or name.upper() in ("CUSTOM", "DELEGATE")]
    if bad:
        raise UnsupportedOpError(f"the .tflite file holds non-builtin ops: {', '.join(bad)}.")


def convert_model(model, quantize="none", representative_data=None, input_size=None,
                  int8_io=False, float_layers=None, range_percentiles=PERCENTILES):
    """.tflite bytes of a zoo model (via a temporary SavedModel at `input_size`).

    `float_layers`: names of layers an int8 file computes in float32; default:
    `float_layer_names` plus a preset's own list (`preset_int8_float_layers`, from its
    metadata.json "int8_float_layers"); () quantizes every layer.
    `range_percentiles`: an int8 file's learned activations get the range between two
    percentiles of their calibration values, 100 - p and p for the p of these that
    rounds the values with the least error (`export.activation_ranges`); (p,) for one
    fixed p; None: their calibrated min / max.

    The batch is fixed at 1: with a free batch dimension the converter leaves shapes
    to be computed at run time (a Conv2DTranspose's output shape among them), and
    XNNPACK then splits the graph, which made dynamic-range files 5-30x slower.
    `TFLiteModel.predict` runs a batch one example at a time.
    """
    from export.saved_model import write_saved_model
    from export.signatures import serving_model
    from zoo.export_forms import tflite_forms
    from zoo.hole_fill import DiffusionFill

    network = serving_model(model)
    layers = [layer.name for layer in network.layers]
    if float_layers is None:
        float_layers = float_layer_names(network)
        float_layers += [name for name in getattr(model, "preset_int8_float_layers", ())
                         if name not in float_layers]
    unknown = sorted(set(float_layers) - set(layers))
    if unknown:
        raise ValueError(f"No layer named {', '.join(unknown)} to keep in float32 in "
                         f"{network.name}.")
    int8_fill = quantize == "int8" and any(
        isinstance(layer, DiffusionFill) and layer.name not in float_layers
        for layer in network.layers)
    narrow_layers = (narrowed_layer_names(network)
                     if quantize == "int8" and range_percentiles is not None else ())
    # the TFLite forms of the layers that have one (zoo.export_forms)
    with tempfile.TemporaryDirectory() as folder, tflite_forms(int8_stencils=int8_fill):
        saved = write_saved_model(model, Path(folder) / "saved_model", input_size,
                                  batch_size=1)
        return convert_saved_model(saved, quantize, representative_data, int8_io, layers,
                                   float_layers, narrow_layers, range_percentiles)
