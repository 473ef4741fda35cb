# %% [markdown]
# # 4. Train a DCGAN with `fit`
#
# The zoo's DCGAN is a `keras.Model` holding a generator and a discriminator with its
# own `train_step`: `compile()` gives the standard setup (non-saturating BCE, Adam
# 2e-4 / 0.5 for both networks) and `fit(images)` trains both, logging `d_loss` and
# `g_loss`. We train one on scikit-learn's handwritten digits (upscaled to 32 x 32),
# watch a sample grid per epoch, and walk its latent space.
#
# `ZOO_NOTEBOOK_QUICK=1` trains 3 short epochs on a few hundred digits (what CI runs).

# %%
import os

# ZOO_NOTEBOOK_QUICK=1 (what CI runs) shrinks sizes, steps and counts so the notebook
# finishes in well under a minute; unset, it runs in full (a few minutes on a 2-core CPU).
QUICK = os.environ.get("ZOO_NOTEBOOK_QUICK", "0") == "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # quiet TensorFlow's C++ start-up logs
print("quick mode" if QUICK else "full mode")

# %%
import shutil
import tempfile
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

import zoo
from training import datasets
from training.callbacks import SampleGrid
from zoo import visualize

plt.rcParams["figure.dpi"] = 60 if QUICK else 80
keras.utils.set_random_seed(0)
WORK = Path(tempfile.mkdtemp(prefix="zoo-dcgan-"))
EPOCHS = 3 if QUICK else 15
BATCH = 64

# %% [markdown]
# ## Data
#
# `load_images("digits", "train", channels=1, image_size=(32, 32))`: 1581 digits,
# bright strokes on black, float32 in [0, 1].

# %%
digits = np.stack(datasets.load_images("digits", "train", channels=1, image_size=(32, 32)))
images = digits[:4 * BATCH] if QUICK else digits
print(f"{len(digits)} training digits {digits.shape[1:]}, training on {len(images)}")
plt.figure(figsize=(4, 4))
plt.imshow(visualize.sample_grid(images[:16], columns=4))
plt.title("real digits")
plt.axis("off")
plt.show()

# %% [markdown]
# ## Model
#
# The widths of the `dcgan-digits` preset's recipe: a generator from a 64-d latent
# through transposed convolutions to 32 x 32 x 1, and a strided-convolution
# discriminator.

# %%
gan = zoo.create_model("dcgan", image_shape=(32, 32, 1), latent_dim=64,
                       generator_filters=(128, 64, 32),
                       discriminator_filters=(32, 64, 128), seed=0)
gan.compile(jit_compile=not QUICK)  # XLA pays off over a longer run
print(f"generator {gan.generator.count_params():,} parameters, "
      f"discriminator {gan.discriminator.count_params():,}, latent {gan.latent_dim}")

# %% [markdown]
# ## Train, with a sample grid per epoch
#
# `SampleGrid("generate", ...)` draws the same 16 latent vectors through the generator
# at the end of every epoch and writes `samples/epoch_NNN.png`, so the grids show the
# same samples improving.

# %%
latents = np.random.default_rng(0).standard_normal((16, gan.latent_dim)).astype("float32")
started = time.perf_counter()
history = gan.fit(images, batch_size=BATCH, epochs=EPOCHS, verbose=2,
                  callbacks=[SampleGrid("generate", WORK / "samples", latents=latents)])
print(f"{EPOCHS} epochs in {time.perf_counter() - started:.0f} s")
grids = sorted((WORK / "samples").glob("epoch_*.png"))
print(f"sample grids written: {len(grids)}")

# %%
shown = [grids[i] for i in np.unique(np.linspace(0, len(grids) - 1, min(len(grids), 5))
                                    .round().astype(int))]
fig, axes = plt.subplots(1, len(shown) + 1, figsize=(3.2 * (len(shown) + 1), 3.6))
for ax, path in zip(axes, shown, strict=False):
    ax.imshow(np.asarray(Image.open(path)))
    ax.set_title(path.stem.replace("_", " "))
    ax.axis("off")
logs = history.history
axes[-1].plot(np.arange(1, EPOCHS + 1), logs["d_loss"], "o-", label="d_loss")
axes[-1].plot(np.arange(1, EPOCHS + 1), logs["g_loss"], "s-", label="g_loss")
axes[-1].set_xlabel("epoch")
axes[-1].set_xticks(np.arange(1, EPOCHS + 1))
axes[-1].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Latent-space interpolation
#
# Walking a straight line between two latent vectors (`lerp`), and along the great
# circle (`slerp`, which keeps the norm a Gaussian latent typically has), morphs one
# digit into another. A smooth morph means the generator learned a continuous space
# rather than memorizing digits. The last rows use the same latents with the
# `dcgan-digits` preset.

# %%
def lerp(a, b, t):
    return (1 - t) * a + t * b


def slerp(a, b, t):
    omega = np.arccos(np.clip(np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b)), -1, 1))
    if omega < 1e-6:
        return lerp(a, b, t)
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


STEPS = 9
pairs = np.random.default_rng(1).standard_normal((3, 2, gan.latent_dim)).astype("float32")
preset = zoo.load("dcgan-digits", compile=False)
rows, labels = [], []
for generator, owner in ((gan.generator, "this notebook"), (preset.generator, "preset")):
    for k, (a, b) in enumerate(pairs[:3 if owner == "this notebook" else 2]):
        for walk in (lerp, slerp):
            path = np.stack([walk(a, b, t) for t in np.linspace(0, 1, STEPS)])
            rows.append(generator.predict(path.astype("float32"), verbose=0))
            labels.append(f"{owner}, pair {k + 1}, {walk.__name__}")
plt.figure(figsize=(STEPS * 0.9, len(rows) * 0.95))
plt.imshow(visualize.sample_grid(np.concatenate(rows), columns=STEPS))
plt.yticks([(i + 0.5) * 34 for i in range(len(rows))], labels, fontsize=8)
plt.xticks([])
plt.title("latent interpolation, left to right")
plt.show()
print(f"interpolation rows: {len(rows)} x {STEPS} images")

# %%
shutil.rmtree(WORK)  # the temporary files; skip this cell to keep them

# %% [markdown]
# `zoo train dcgan_digits` runs the full recipe (30 epochs, XLA, TensorBoard, resume);
# `export.to_tflite(gan, ...)` exports the generator.
#
# Next: [look inside the models](05_look_inside.ipynb).
