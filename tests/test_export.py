"""Export: every architecture to SavedModel and all four TFLite variants, builtins only,
verified against Keras; clear errors and nothing half-written on bad input."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.lite.tools import flatbuffer_utils

import zoo
from export import (
    QUANTIZATIONS,
    UnsupportedOpError,
    VerificationFailed,
    export_saved_model,
    representative_dataset,
    to_tflite,
)
from export import verify as verify_module
from export.runtime import TFLiteModel
from export.tflite import convert_model

pytestmark = pytest.mark.xdist_group("export")  # module fixtures run once

SIZE = (64, 64)
QUIET = dict(log=lambda message: None)


@pytest.fixture(scope="module")
def models():
    return {name: zoo.create_model(name) for name in zoo.list_models()}


def size_for(name):
    # a generator's image size is fixed by its latent input: the exporter picks it
    return None if zoo.create_model(name).task == "generate" else SIZE


@pytest.mark.parametrize("quantize", QUANTIZATIONS)
@pytest.mark.parametrize("name", sorted(zoo.list_models()))
def test_default_config_exports_builtins_only_and_matches_keras(models, name, quantize,
                                                                tmp_path):
    model = models[name]
    rep = representative_dataset(model, size_for(name), count=8) if quantize == "int8" else None
    path = tmp_path / f"{name}.tflite"
    report = to_tflite(model, path, quantize=quantize, representative_data=rep,
                       input_size=size_for(name), source=name, **QUIET)
    assert report["passed"] and path.is_file()
    sidecar = json.loads((tmp_path / f"{name}.tflite.json").read_text())
    assert not [op for op in sidecar["ops"] if op.startswith("Flex") or op == "CUSTOM"]
    served = model.served_network()  # the family's contract names what is exported
    expected_inputs = list(served.input) if isinstance(served.input, dict) else [
        served.inputs[0].name]
    assert [i["name"] for i in sidecar["inputs"]] == expected_inputs
    assert [o["name"] for o in sidecar["outputs"]] == ["image"]
    assert sidecar["quantization"] == quantize and sidecar["source"] == name
    assert len(sidecar["sha256"]) == 64
    saved = json.loads((tmp_path / f"{name}.tflite.verification.json").read_text())
    assert saved["psnr_vs_keras_db"] == report["psnr_vs_keras_db"]


def test_int8_io_records_scales_and_still_matches(models, tmp_path):
    model = models["unet"]
    rep = representative_dataset(model, SIZE, count=8)
    report = to_tflite(model, tmp_path / "u.tflite", quantize="int8", representative_data=rep,
                       input_size=SIZE, int8_io=True, **QUIET)
    sidecar = json.loads((tmp_path / "u.tflite.json").read_text())
    scale = sidecar["int8_tensors"]["inputs"]["image"]
    assert scale["dtype"] == "int8" and 0 < scale["scale"] < 0.01
    assert report["passed"]


def test_int8_keeps_the_hole_fill_in_float32_and_its_holes_match_keras(tmp_path, monkeypatch):
    """A fill with momentum compounds int8 rounding over its steps; the exporter keeps
    the fill's ops in float32 and quantizes the network around it."""
    from tensorflow.lite.python import convert as lite_convert

    quantized = []  # the calibrated model as the quantizer gets it
    quantize = lite_convert.mlir_quantize
    monkeypatch.setattr(lite_convert, "mlir_quantize", lambda calibrated, **kwargs: (
        quantized.append(bytes(calibrated)) or quantize(calibrated, **kwargs)))
    model = zoo.create_model("unet", filters=(4, 8), mask_input=True,
                             fill_holes=dict(levels=4, steps=2, biharmonic_steps=8,
                                             momentum=0.9))
    kernel = model.get_layer("to_image").kernel
    kernel.assign(np.random.default_rng(0).normal(0, 0.05, kernel.shape))
    rep = representative_dataset(model, SIZE, count=8)
    report = to_tflite(model, tmp_path / "f.tflite", quantize="int8", representative_data=rep,
                       input_size=SIZE, **QUIET)
    assert report["passed"] and report["hole_psnr_vs_keras_db"] > 40
    interpreter = tf.lite.Interpreter(model_path=str(tmp_path / "f.tflite"))
    tensors = interpreter.get_tensor_details()
    ops = interpreter._get_ops_details()

    def input_dtype(op):
        return tensors[op["inputs"][0]]["dtype"]

    # the relaxation steps in float32: sums of slices at the finest levels, a depthwise
    # convolution each below them; every U-Net convolution int8
    fill = model.get_layer("diffusion_fill")
    depthwise = [op for op in ops if op["op_name"] == "DEPTHWISE_CONV_2D"]
    assert len(depthwise) == _fill_steps(fill, first_level=3)
    sliced = [op for op in ops if op["op_name"] in ("SLICE", "STRIDED_SLICE")]
    assert len(sliced) >= 9 * _fill_steps(fill, last_level=3)  # a slice per tap: 9 or 13
    assert all(input_dtype(op) == np.float32 for op in depthwise + sliced)
    convolutions = [op for op in ops if op["op_name"] == "CONV_2D"]
    assert convolutions and all(input_dtype(op) == np.int8 for op in convolutions)
    # only the fill's tensors that the int8 network reads keep a calibrated range (the
    # quantizer's time grows with the square of the float32 tensors that have one)
    graph = flatbuffer_utils.convert_bytearray_to_object(quantized[0]).subgraphs[0]
    names = [tensor.name.decode() for tensor in graph.tensors]
    in_fill = {index for index, name in enumerate(names) if "diffusion_fill" in name}
    read_outside = {index for op in graph.operators if not set(op.outputs) <= in_fill
                    for index in op.inputs}
    ranged = {index for index in in_fill if graph.tensors[index].quantization is not None
              and graph.tensors[index].quantization.min is not None}
    assert len(in_fill) > 100 and ranged and ranged <= read_outside


def _fill_steps(fill, first_level=0, last_level=None):
    """Relaxation steps of DiffusionFill `fill` at levels first_level to last_level - 1."""
    levels = range(first_level, fill.levels if last_level is None else last_level)
    return sum(sum(fill.steps_at(level)) for level in levels)


def test_a_fill_quantized_to_int8_keeps_its_stencils_as_depthwise_convolutions():
    """int8 stores the fill's kernels exactly; the adds of a sum of slices it would round."""
    model = zoo.create_model("unet", filters=(4, 8), mask_input=True,
                             fill_holes=dict(levels=4, steps=1, biharmonic_steps=2))
    rep = representative_dataset(model, SIZE, count=4)
    flat = convert_model(model, "int8", rep, SIZE, float_layers=())
    interpreter = tf.lite.Interpreter(model_content=flat)
    depthwise = [op for op in interpreter._get_ops_details()
                 if op["op_name"] == "DEPTHWISE_CONV_2D"]
    assert len(depthwise) == _fill_steps(model.get_layer("diffusion_fill"))


def test_a_presets_int8_float_layers_stay_float32_and_unknown_ones_are_named(tmp_path):
    model = zoo.create_model("unet", filters=(4, 8), residual=True)
    model.preset_int8_float_layers = ("decoder0_conv2",)  # what zoo.load sets
    rep = representative_dataset(model, SIZE, count=8)
    to_tflite(model, tmp_path / "p.tflite", quantize="int8", representative_data=rep,
              input_size=SIZE, **QUIET)
    interpreter = tf.lite.Interpreter(model_path=str(tmp_path / "p.tflite"))
    tensors = interpreter.get_tensor_details()
    convolutions = [op for op in interpreter._get_ops_details() if op["op_name"] == "CONV_2D"]
    weights = {tensors[op["inputs"][1]]["name"]: tensors[op["inputs"][1]]["dtype"]
               for op in convolutions}
    kept = [name for name in weights if "decoder0_conv2" in name]
    assert kept and all(weights[name] == np.float32 for name in kept)
    assert sum(dtype == np.int8 for dtype in weights.values()) == len(weights) - len(kept)
    model.preset_int8_float_layers = ("decoder9_conv2",)
    with pytest.raises(ValueError, match="No layer named decoder9_conv2"):
        to_tflite(model, tmp_path / "q.tflite", quantize="int8", representative_data=rep,
                  input_size=SIZE, **QUIET)
    assert not (tmp_path / "q.tflite").exists()


def test_a_fixed_size_int8_unet_runs_its_pooling_as_depthwise_convolutions(tmp_path):
    # average pooling, mirror padding and slices run outside XNNPACK in int8: the export
    # traces the pools as depthwise convolutions and drops the pad and the crop that a
    # size already on the grid does not need (zoo.export_forms)
    model = zoo.create_model("unet", filters=(4, 8), pooling="avg", residual=True)
    rep = representative_dataset(model, SIZE, count=8)
    to_tflite(model, tmp_path / "u.tflite", quantize="int8", representative_data=rep,
              input_size=SIZE, **QUIET)
    ops = {op["op_name"] for op in
           tf.lite.Interpreter(model_path=str(tmp_path / "u.tflite"))._get_ops_details()}
    assert "DEPTHWISE_CONV_2D" in ops
    assert not ops & {"AVERAGE_POOL_2D", "MIRROR_PAD", "STRIDED_SLICE"}
    # the two forms of the pool agree, and are 2 x 2 means
    pool = model.get_layer("encoder0_avgpool")
    x = np.random.default_rng(0).random((1, 8, 8, 3)).astype("float32")
    from zoo.export_forms import tflite_forms

    with tflite_forms():
        as_depthwise = np.asarray(pool(x))
    np.testing.assert_allclose(as_depthwise, np.asarray(pool(x)), atol=1e-6)
    np.testing.assert_allclose(np.asarray(pool(x)), x.reshape(1, 4, 2, 4, 2, 3).mean((2, 4)),
                               atol=1e-6)


def test_inpainting_verification_fails_on_holes_far_from_keras():
    """Holes 1 % of the image: a whole-image PSNR alone would pass them."""
    keras_output = np.full((1, 100, 100, 3), 0.5, np.float32)
    mask = np.zeros((1, 100, 100, 1), np.float32)
    mask[:, :10, :10] = 1
    exported = keras_output.copy()
    exported[:, :10, :10] += 0.05
    report = verify_module.compare("int8", keras_output, exported, "inpaint",
                                   {"image": keras_output, "mask": mask}, keras_output)
    assert report["psnr_vs_keras_db"] > 30 > report["hole_psnr_vs_keras_db"]
    assert not report["passed"]


def test_int8_without_data_is_refused_and_writes_nothing(models, tmp_path):
    with pytest.raises(ValueError, match="int8 quantization needs representative data"):
        to_tflite(models["unet"], tmp_path / "u.tflite", quantize="int8", input_size=SIZE,
                  **QUIET)
    assert list(tmp_path.iterdir()) == []


def test_existing_export_needs_force(models, tmp_path):
    """A previous export (a TFL3 file) is replaced only with force; see
    tests/test_bad_input_export.py for what force never replaces."""
    path = tmp_path / "u.tflite"
    old = b"\x1c\x00\x00\x00TFL3 an older export"
    path.write_bytes(old)
    with pytest.raises(FileExistsError, match="--force"):
        to_tflite(models["unet"], path, input_size=SIZE, **QUIET)
    assert path.read_bytes() == old
    to_tflite(models["unet"], path, input_size=SIZE, force=True, **QUIET)
    assert path.read_bytes()[4:8] == b"TFL3" and path.read_bytes() != old


def test_failed_verification_leaves_nothing_unless_allowed(models, tmp_path, monkeypatch):
    monkeypatch.setitem(verify_module.TOLERANCES, "dynamic", {"min_psnr": 1000.0})
    path = tmp_path / "u.tflite"
    with pytest.raises(VerificationFailed, match="outside tolerance"):
        to_tflite(models["unet"], path, quantize="dynamic", input_size=SIZE, **QUIET)
    assert list(tmp_path.iterdir()) == []
    report = to_tflite(models["unet"], path, quantize="dynamic", input_size=SIZE,
                       allow_degraded=True, **QUIET)
    assert not report["passed"] and path.is_file()


def test_size_the_model_cannot_take_is_a_clear_error(models, tmp_path):
    with pytest.raises(ValueError, match="divisible"):
        to_tflite(models["unet"], tmp_path / "u.tflite", input_size=(60, 60), **QUIET)
    assert list(tmp_path.iterdir()) == []


def test_an_op_without_builtin_names_the_op_and_layer(tmp_path):
    @keras.saving.register_keras_serializable(package="test_export")
    class ErfInverse(keras.layers.Layer):
        def call(self, x):
            return keras.ops.erfinv(keras.ops.clip(x, -0.5, 0.5))

    image = keras.Input((16, 16, 3), name="image")
    model = keras.Model(image, ErfInverse(name="odd_layer")(image))
    with pytest.raises(UnsupportedOpError, match=r"tf\.Erfinv in layer 'odd_layer'"):
        to_tflite(model, tmp_path / "odd.tflite", **QUIET)
    assert list(tmp_path.iterdir()) == []


SERVE_SCRIPT = """
import json, sys
import numpy as np
import tensorflow as tf
data = np.load(sys.argv[2])
signature = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
outputs = signature(image=tf.constant(data["image"]), mask=tf.constant(data["mask"]))
np.save(sys.argv[3], outputs["image"].numpy())
print(json.dumps({"zoo_imported": any(m.split(".")[0] in ("zoo", "training", "export")
                                      for m in sys.modules)}))
"""


def test_saved_model_serves_without_zoo_in_tf_serving_layout(models, tmp_path):
    model = models["conv_autoencoder_inpainter"]
    report = export_saved_model(model, tmp_path / "served", serving_version=3, **QUIET)
    assert report["passed"] and (tmp_path / "served" / "3" / "saved_model.pb").is_file()
    rng = np.random.default_rng(0)
    image = rng.random((2, 48, 80, 3), dtype=np.float32)  # any size divisible by 8
    mask = (rng.random((2, 48, 80, 1)) > 0.7).astype(np.float32)
    np.savez(tmp_path / "in.npz", image=image, mask=mask)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", SERVE_SCRIPT, str(tmp_path / "served" / "3"),
                           str(tmp_path / "in.npz"), str(tmp_path / "out.npy")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"zoo_imported": False}
    expected = model.predict({"image": image, "mask": mask}, verbose=0)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-5)


def test_tflite_runtime_resizes_a_free_batch(models, tmp_path):
    to_tflite(models["unet"], tmp_path / "u.tflite", input_size=SIZE, **QUIET)
    runtime = TFLiteModel(tmp_path / "u.tflite", num_threads=2)
    images = np.random.default_rng(1).random((3, *SIZE, 3), dtype=np.float32)
    np.testing.assert_allclose(runtime.predict({"image": images}),
                               models["unet"].predict(images, verbose=0), atol=1e-4)


@pytest.mark.parametrize("quantize", ["float16", "int8"])
def test_denoiser_with_noise_level_exports_it_as_a_named_input(quantize, tmp_path):
    """The strength input survives into the TFLite and SavedModel signatures (and the
    smooth blend's pooling and bilinear resizing convert to builtins and verify)."""
    import tensorflow as tf

    model = zoo.create_model("unet", filters=(4, 8), residual=True, noise_level_input=True,
                             pixel_unshuffle=2, smooth_blend=2)
    for name in ("to_image", "blend_logits"):  # zero-started: make them matter
        kernel = model.get_layer(name).kernel
        kernel.assign(np.random.default_rng(0).normal(0, 0.05, kernel.shape))
    rep = representative_dataset(model, SIZE, count=8) if quantize == "int8" else None
    path = tmp_path / "denoiser.tflite"
    report = to_tflite(model, path, quantize=quantize, representative_data=rep,
                       input_size=SIZE, source="denoiser", **QUIET)
    assert report["passed"]
    sidecar = json.loads((tmp_path / "denoiser.tflite.json").read_text())
    assert [i["name"] for i in sidecar["inputs"]] == ["image", "noise_level"]
    if quantize == "int8":
        saved = export_saved_model(model, tmp_path / "saved", **QUIET)
        assert saved["passed"]
        serving = tf.saved_model.load(str(tmp_path / "saved")).signatures["serving_default"]
        assert sorted(serving.structured_input_signature[1]) == ["image", "noise_level"]
