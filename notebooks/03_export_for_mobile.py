# %% [markdown]
# # 3. Export for mobile
#
# A preset goes to a **SavedModel** (servers: TF Serving, TensorFlow) and to **TFLite**
# (phones) in four variants: `none` (float32), `float16` weights, `dynamic` range (int8
# weights) and full `int8` (weights and activations, calibrated on representative
# data). Every export is verified: the file is run on a fixed batch and compared with
# Keras before it is renamed into place. Then we measure file size and latency, and
# run a `.tflite` with `ai-edge-litert`, the interpreter Android's LiteRT shares.
#
# `ZOO_NOTEBOOK_QUICK=1` exports at 64 x 64 instead of 256 x 256 (what CI runs).

# %%
import os

# ZOO_NOTEBOOK_QUICK=1 (what CI runs) shrinks sizes, steps and counts so the notebook
# finishes in well under a minute; unset, it runs in full (a few minutes on a 2-core CPU).
QUICK = os.environ.get("ZOO_NOTEBOOK_QUICK", "0") == "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # quiet TensorFlow's C++ start-up logs
print("quick mode" if QUICK else "full mode")

# %%
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from IPython.display import Markdown, display
from matplotlib_inline.backend_inline import set_matplotlib_formats

import export
import zoo
from export.runtime import TFLiteModel
from training import datasets
from training.images import resize
from training.masks import random_mask
from zoo.metrics import image_psnr

plt.rcParams["figure.dpi"] = 60 if QUICK else 80
set_matplotlib_formats("jpeg", pil_kwargs={"quality": 85})  # photos: a smaller notebook
tf.get_logger().setLevel("ERROR")  # no "Assets written to ..." lines from the converter
PRESET = "unet-inpaint-natural"
SIZE = (64, 64) if QUICK else (256, 256)
CALIBRATION_EXAMPLES = 16 if QUICK else 64
LATENCY_RUNS = 5 if QUICK else 30
WORK = Path(tempfile.mkdtemp(prefix="zoo-export-"))
model = zoo.load(PRESET, compile=False)
print(f"{PRESET}: inputs {[(n, t.shape) for n, t in model.input.items()]}, "
      f"output {model.output_names[0]} {model.output.shape}; files go to {WORK}")

# %% [markdown]
# ## SavedModel
#
# Exported with a free image size for servers; the `serving_default` signature takes
# named inputs (`image`, `mask`; 1 = hole) and returns the named output.

# %%
saved = export.export_saved_model(model, WORK / "saved_model", log=lambda *_: None)
print(f"SavedModel: {'PASS' if saved['passed'] else 'FAIL'}, max |saved - keras| "
      f"{saved['max_abs_error']:.2g}")

signature = tf.saved_model.load(str(WORK / "saved_model")).signatures["serving_default"]
print("inputs: ", signature.structured_input_signature[1])
print("outputs:", signature.structured_outputs)

# %% [markdown]
# ## TFLite, four variants
#
# `export.to_tflite` converts from a SavedModel with builtin ops only (no flex ops,
# which phones without the flex delegate cannot run), verifies the file against Keras
# and writes a sidecar JSON beside it. `int8` is calibrated on representative crops of
# the preset's training data (plus an all-black and an all-white image, which pin the
# input range). Tolerances (see the README): float32 within 1e-4, float16 >= 50 dB,
# dynamic >= 35 dB, int8 >= 30 dB PSNR against Keras; a file outside them raises
# `VerificationFailed` and is not written.

# %%
def quiet(*_):
    pass


representative = export.representative_dataset(model, SIZE, count=CALIBRATION_EXAMPLES)
reports, paths = {}, {}
for variant in export.QUANTIZATIONS:
    paths[variant] = WORK / f"{PRESET}-{variant}.tflite"
    started = time.perf_counter()
    reports[variant] = export.to_tflite(
        model, paths[variant], quantize=variant, input_size=SIZE,
        representative_data=representative if variant == "int8" else None, log=quiet)
    reports[variant]["seconds"] = time.perf_counter() - started

float_bytes = reports["none"]["file_bytes"]
rows = ["| variant | file | x float32 | max abs error | PSNR vs Keras | "
        "hole PSNR Keras / exported | tolerance | verified | export s |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|"]
for variant, r in reports.items():
    metric = r["task_metric"]
    tolerance = ", ".join(f"{k} {v:g}" for k, v in r["tolerance"].items())
    rows.append(f"| {variant} | {r['file_bytes'] / 1e6:.2f} MB | "
                f"{r['file_bytes'] / float_bytes:.3f} | {r['max_abs_error']:.2g} | "
                f"{r['psnr_vs_keras_db']:.1f} dB | {metric['keras']:.2f} / "
                f"{metric['exported']:.2f} dB | {tolerance} | "
                f"{'PASS' if r['passed'] else 'FAIL'} | {r['seconds']:.1f} |")
display(Markdown("\n".join(rows)))
print("verification: " + ", ".join(f"{v} {'PASS' if r['passed'] else 'FAIL'}"
                                   for v, r in reports.items()))

# %% [markdown]
# The sidecar tells a mobile developer how to wire the file up: input names, shapes
# (batch 1), value range, the mask convention, and for int8 the quantized tensors.

# %%
sidecar = json.loads((WORK / f"{PRESET}-int8.tflite.json").read_text())
print(f"{sidecar['format']}, quantization {sidecar['quantization']}, "
      f"mask: {sidecar['mask_convention']}")
for kind in ("inputs", "outputs"):
    for tensor in sidecar[kind]:
        print(f"{kind[:-1]:6} {json.dumps(tensor)}")
print("int8 tensors:", sidecar["int8_tensors"])
print("ops:", ", ".join(sidecar["ops"]))

# %% [markdown]
# ## Size and latency
#
# One held-out photo (astronaut, never trained on) with a brush-stroke hole; the median
# of several runs of one example with `export.runtime.TFLiteModel` (ai-edge-litert,
# XNNPACK) at 1 and 2 threads, next to a direct Keras call on this 2-core CPU.

# %%
photo = datasets.load_images("natural", "test")[0]  # astronaut, 512 x 512
photo = resize(photo, *SIZE)
mask = random_mask(np.random.default_rng(0), *SIZE, kind="medium", area_range=(0.08, 0.12))
inputs = {"image": (photo * (1 - mask))[None], "mask": mask[None]}


def median_ms(function, *args, runs=LATENCY_RUNS):
    """Median wall time of `function(*args)` in milliseconds, after one warm-up call."""
    function(*args)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


keras_ms = median_ms(model, inputs)
rows = ["| variant | file | 1 thread | 2 threads | vs Keras call (2 threads) |",
        "|---|---:|---:|---:|---:|"]
for variant, path in paths.items():
    ms = [median_ms(TFLiteModel(path, num_threads=t).run_one, inputs) for t in (1, 2)]
    rows.append(f"| {variant} | {path.stat().st_size / 1e6:.2f} MB | {ms[0]:.1f} ms | "
                f"{ms[1]:.1f} ms | {ms[1] / keras_ms:.2f}x |")
rows.append(f"| Keras `model(x)` | - | - | {keras_ms:.1f} ms | 1.00x |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## Run a `.tflite` with ai-edge-litert
#
# This is all a Python (or, with the same calls, an Android) app needs: an
# `Interpreter`, the `serving_default` signature runner, named float32 inputs in
# [0, 1]. The outputs match Keras:

# %%
keras_output = np.asarray(model.predict(inputs, verbose=0))[0]
outputs = {}
for variant, path in paths.items():
    interpreter = Interpreter(model_path=str(path), num_threads=2)
    runner = interpreter.get_signature_runner("serving_default")
    if variant == "none":
        for name, detail in runner.get_input_details().items():
            print(f"input {name}: shape {detail['shape']}, {detail['dtype'].__name__}")
    (output,) = runner(image=inputs["image"], mask=inputs["mask"]).values()
    outputs[variant] = output[0]
    print(f"{variant:8} max |tflite - keras| {np.abs(output[0] - keras_output).max():.4f}, "
          f"PSNR vs keras {image_psnr(output[0], keras_output):.1f} dB, "
          f"PSNR in the hole vs the photo {image_psnr(output[0], photo, mask):.2f} dB "
          f"(keras {image_psnr(keras_output, photo, mask):.2f} dB)")

difference = np.abs(outputs["int8"] - keras_output).max(axis=-1, keepdims=True)
panels = [("input (holes white)", inputs["image"][0] + mask), ("Keras", keras_output),
          *[(f"tflite {v}", o) for v, o in outputs.items()],
          ("|int8 - Keras| x 10", np.clip(10 * difference, 0, 1))]
fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.9))
for ax, (title, image) in zip(axes, panels, strict=True):
    image = np.clip(image, 0, 1)
    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0,
              vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()
plt.show()

# %%
shutil.rmtree(WORK)  # the temporary files; skip this cell to keep them

# %% [markdown]
# The same exports from the shell: `zoo export unet-inpaint-natural --format tflite
# --quantize int8 -o inpainter.tflite` (and `--format savedmodel`).
#
# Next: [train a DCGAN with `fit`](04_train_a_dcgan.ipynb).
