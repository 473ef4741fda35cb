"""`to_tflite` and `export_saved_model`: convert, verify against Keras, write atomically.

Each export writes the artifact, a sidecar `<file>.json` (what a mobile developer
needs to wire the model up) and a verification report `<file>.verification.json`.
Verification runs on the staged file before it is renamed into place: an export
outside tolerance leaves nothing behind unless `allow_degraded`. The three appear
together (export/files.py): a kill leaves the old export or the new one.
"""

import datetime
from pathlib import Path

import keras
import numpy as np

from export import tflite
from export.calibration import OUTLIER_RATIO, outlier_examples
from export.data import example_batch
from export.equalize import equalize_skip_ranges
from export.files import REPORT, SIDECAR, beside, digest, serving_target, staged_export
from export.runtime import TFLiteModel, run_saved_model
from export.saved_model import write_saved_model
from export.signatures import (
    DEFAULT_SPATIAL_SIZE,
    check_spatial_size,
    describe,
    input_shapes,
    output_name,
    serving_model,
)
from export.verify import VerificationFailed, compare, format_report, weakest_psnr_db
from zoo_lite.image_io import write_json

VERIFY_EXAMPLES = 4


def default_input_size(model):
    """The model's fixed (H, W), or 256 x 256 for models that take any size."""
    shapes = input_shapes(model)
    image = shapes.get("image")
    if image is None:
        return None  # a generator: no spatial input
    return tuple(image[1:3]) if image[1] is not None else DEFAULT_SPATIAL_SIZE


def _keras_output(model, inputs):
    network = serving_model(model)
    x = inputs if isinstance(network.input, dict) else next(iter(inputs.values()))
    return np.asarray(network.predict(x, verbose=0), np.float32)


def _output_shape(model, shapes):
    """The serving output's shape for inputs of `shapes` ({name: shape}), inferred
    symbolically: a predict would trace the whole network again (seconds for a U-Net with
    the in-graph hole fill) only to read a shape. Free input dimensions stay None."""
    network = serving_model(model)
    specs = {n: keras.KerasTensor((1, *s[1:])) for n, s in shapes.items()}
    spec = network.compute_output_spec(
        specs if isinstance(network.input, dict) else next(iter(specs.values())))
    return tuple(spec.shape)


def _tensor_quantization(details):
    return {name: {"dtype": np.dtype(d["dtype"]).name,
                   "scale": float(d["quantization"][0]),
                   "zero_point": int(d["quantization"][1])}
            for name, d in details.items() if np.dtype(d["dtype"]) != np.float32}


def _sidecar(model, path, export_format, quantize, input_size, source, runtime=None,
             notes=None):
    import zoo

    batch = 1 if export_format == "tflite" else None  # see export.tflite.convert_model
    shapes = input_shapes(model, input_size, batch)
    out = output_name(model)
    out_shape = (batch, *_output_shape(model, shapes)[1:])
    sidecar = {
        "source": source,
        "format": export_format,
        "quantization": quantize,
        "inputs": [describe(n, s) for n, s in shapes.items()],
        "outputs": [describe(out, out_shape)],
        "mask_convention": "1 = hole (to fill), 0 = known" if "mask" in shapes else None,
        "sha256": digest(path),  # of the file, or of the SavedModel folder's files
        "zoo_version": zoo.__version__,
        "keras_version": keras.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if runtime is not None:
        sidecar["int8_tensors"] = {
            "inputs": _tensor_quantization(runtime.input_details),
            "outputs": _tensor_quantization(runtime.output_details)}
        sidecar["ops"] = tflite.op_names(Path(path).read_bytes())
    sidecar.update(notes or {})
    return sidecar


def _check_verdict(report, allow_degraded, log):
    log(format_report(report))
    if not report["passed"] and not allow_degraded:
        weakest = weakest_psnr_db(report)
        where = " in the holes" if report.get("hole_psnr_vs_keras_db") == weakest else ""
        raise VerificationFailed(
            f"the exported {report['variant']} model is outside tolerance "
            f"(PSNR vs Keras {weakest:.1f} dB{where}, max abs error "
            f"{report['max_abs_error']:.3g}); nothing was written. Pass --allow-degraded "
            "to keep it anyway.", report)


def to_tflite(model, path, quantize="none", representative_data=None, input_size=None,
              int8_io=False, force=False, allow_degraded=False, source=None, recipe=None,
              notes=None, log=print):
    """Export a zoo model to a builtins-only .tflite file at `path`, verified.

    Args:
        model: a zoo model (a DCGAN exports its generator).
        quantize: "none", "float16", "dynamic" or "int8".
        representative_data: int8 calibration data, a callable returning an iterable
            of {input name: array with batch 1} (see `export.data.representative_dataset`).
        input_size: (H, W) of the exported input; default: the model's fixed size, or
            256 x 256. A file with a free size needs `resize_tensor_input` to run.
        int8_io: int8 input and output tensors (int8 only); the scales are in the sidecar.
        force: replace an existing file. allow_degraded: keep a file that fails
            verification. source: what to record as the source in the sidecar.
        recipe: the `training.recipe.Recipe` the model came from (its data is used for
            verification).
        notes: extra sidecar fields (a preset's inference tile, for example).
    Returns the verification report (a dict).
    """
    input_size = input_size or default_input_size(model)
    if input_size is not None:
        check_spatial_size(model, input_size)
    with staged_export(path, force=force) as staging:
        staged = staging / Path(path).name
        log(f"converting to TFLite ({quantize})...")
        converted, calibration = model, None
        if quantize == "int8" and representative_data is not None:
            converted, representative_data, calibration = _prepare_int8(
                model, representative_data, log)
        data = tflite.convert_model(converted, quantize, representative_data, input_size,
                                    int8_io)
        tflite.check_builtins_only(data)
        staged.write_bytes(data)
        log("verifying against Keras...")
        inputs, target, task = example_batch(model, input_size, VERIFY_EXAMPLES, recipe=recipe)
        runtime = TFLiteModel(staged)
        report = compare(quantize, _keras_output(model, inputs), runtime.predict(inputs),
                         task, inputs, target)
        _check_verdict(report, allow_degraded, log)
        report["file_bytes"] = staged.stat().st_size
        if calibration is not None:
            report["calibration"] = calibration
        _write_sidecars(staged, report, _sidecar(model, staged, "tflite", quantize,
                                                 input_size, source, runtime, notes))
    return report


def export_saved_model(model, path, input_size=None, serving_version=None, force=False,
                       allow_degraded=False, source=None, recipe=None, notes=None, log=print):
    """Export a SavedModel folder at `path` (or `path/N` with `serving_version`),
    verified against Keras; sidecar (plus `notes`) and report are written beside it."""
    target = serving_target(path, serving_version)
    check_size = input_size or default_input_size(model)
    with staged_export(target, force=force, directory=True) as staging:
        staged = staging / target.name
        log("writing SavedModel...")
        write_saved_model(model, staged, input_size)
        log("verifying against Keras...")
        inputs, target_values, task = example_batch(model, check_size, VERIFY_EXAMPLES,
                                                    recipe=recipe)
        report = compare("savedmodel", _keras_output(model, inputs),
                         run_saved_model(staged, inputs), task, inputs, target_values)
        _check_verdict(report, allow_degraded, log)
        _write_sidecars(staged, report, _sidecar(model, staged, "savedmodel", "none",
                                                 input_size, source, notes=notes))
    return report


def _write_sidecars(staged, report, sidecar):
    """The report and the sidecar beside the staged model; both record its sha256, so a
    reader can tell they describe the model beside them (export.files.read_sidecar)."""
    report["sha256"] = sidecar["sha256"]
    write_json(report, beside(staged, REPORT))
    write_json(sidecar, beside(staged, SIDECAR))


def _prepare_int8(model, representative_data, log):
    """(model to convert, calibration data, summary): outlier examples dropped (see
    export/calibration.py), then a U-Net's skip ranges equalized (export/equalize.py)."""
    network = serving_model(model)
    inputs = _stacked(representative_data)
    feed = inputs if isinstance(network.input, dict) else next(iter(inputs.values()))
    dropped = outlier_examples(network, feed)
    keep = np.setdiff1d(np.arange(len(next(iter(inputs.values())))), dropped)
    inputs = {name: value[keep] for name, value in inputs.items()}
    if len(dropped):
        log(f"calibration: dropped {len(dropped)} of {len(dropped) + len(keep)} examples "
            f"whose activations reach over {OUTLIER_RATIO:g}x the typical peak")
    converted, scales = equalize_skip_ranges(model, inputs)
    if converted is not model:  # a copy: keep what a preset says its int8 file keeps
        converted.preset_int8_float_layers = getattr(model, "preset_int8_float_layers", ())
    if scales:
        log(f"equalized {len(scales)} skip connections for int8 (same function, matched "
            "ranges)")

    def calibration_data():
        for i in range(len(keep)):
            yield {name: value[i:i + 1] for name, value in inputs.items()}

    summary = {"examples": int(len(keep)), "dropped_outliers": int(len(dropped)),
               "equalized_skips": len(scales)}
    return converted, calibration_data, summary


def _stacked(representative_data):
    """{input name: (N, ...)} from a representative-data callable's batch-1 examples."""
    examples = list(representative_data())
    return {name: np.concatenate([example[name] for example in examples])
            for name in examples[0]}
