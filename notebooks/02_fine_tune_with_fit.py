# %% [markdown]
# # 2. Fine-tune a preset with `model.fit`
#
# A preset is a plain compiled Keras model: fine-tuning is `fit`. Here the
# `unet-denoise-natural` preset is fine-tuned on a folder of images with its standard
# loss (L1 + SSIM) and metrics (PSNR, SSIM), with the callbacks a real run uses:
# sample grids, TensorBoard and a best-model checkpoint. The folder is made from the
# built-in `natural` photos and stands in for your own.
#
# `ZOO_NOTEBOOK_QUICK=1` trains a handful of steps on small crops (what CI runs).

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
from IPython.display import Markdown, display
from matplotlib_inline.backend_inline import set_matplotlib_formats
from PIL import Image

import zoo
from training import datasets
from training.callbacks import BestModel, SampleGrid
from training.image_folder import ImageFolder, split_folder
from training.pipeline import BatchMaker, EpochBatches, FollowEpoch
from training.recipe import load_recipe
from training.sources import open_source
from training.tasks import Degradation
from zoo.metrics import image_psnr
from zoo.presets import PRESETS_DIR

plt.rcParams["figure.dpi"] = 60 if QUICK else 80
set_matplotlib_formats("jpeg", pil_kwargs={"quality": 85})  # photos: a smaller notebook
keras.utils.set_random_seed(0)
WORK = Path(tempfile.mkdtemp(prefix="zoo-finetune-"))
print("files go to", WORK)

# %%
def show_grid(rows, size=3.0, cmap="gray"):
    """Plot rows of (title, image) pairs; images are (H, W, C) float in [0, 1]."""
    columns = max(len(row) for row in rows)
    fig, axes = plt.subplots(len(rows), columns, figsize=(size * columns, size * len(rows)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for r, row in enumerate(rows):
        for c, (title, image) in enumerate(row):
            image = np.clip(np.asarray(image, np.float32), 0, 1)
            image = image[..., 0] if image.shape[-1] == 1 else image
            axes[r][c].imshow(image, cmap=cmap, vmin=0, vmax=1)
            axes[r][c].set_title(title, fontsize=9)
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## Your image folder
#
# Any folder of jpg / png / webp / bmp files works (recursive; grayscale, RGB, RGBA and
# 16-bit files are converted). Here we write the eight built-in `natural` photos into
# one, half of them as JPEG.

# %%
photo_dir = WORK / "my_photos"
photo_dir.mkdir()
photos = datasets.load_images("natural", "train") + datasets.load_images("natural",
                                                                        "validation")
for i, photo in enumerate(photos):
    pixels = Image.fromarray(np.round(photo * 255).astype(np.uint8))
    if i % 2:
        pixels.save(photo_dir / f"photo_{i:02d}.jpg", quality=95)
    else:
        pixels.save(photo_dir / f"photo_{i:02d}.png")

folder = ImageFolder(photo_dir)
train_files, validation_files = split_folder(folder, validation_fraction=0.25, seed=0)
print(folder)
print("training files:  ", [folder.paths[i].name for i in train_files])
print("validation files:", [folder.paths[i].name for i in validation_files])

# %% [markdown]
# ## A dataset from the folder
#
# The preset's own recipe (shipped beside its weights) says how it was trained: crop
# size, batch size and noise levels. `open_source("folder", ...)` draws random crops
# (with flips, rotations and mild colour jitter for training); `BatchMaker` adds the
# noise; `EpochBatches` is a `keras.utils.PyDataset` that `fit` takes directly. The
# split is by file, so no validation crop is ever trained on.

# %%
recipe = load_recipe(PRESETS_DIR / "unet-denoise-natural" / "recipe.toml")
print("preset recipe:", recipe.data.crop_size, "crops, batch", recipe.data.batch_size,
      ", noise sigma", recipe.degradation.noise_sigma)

CROP = (48, 48) if QUICK else tuple(recipe.data.crop_size)
BATCH = 4 if QUICK else recipe.data.batch_size
EPOCHS = 2 if QUICK else 6
STEPS_PER_EPOCH = 3 if QUICK else 40
VALIDATION_BATCHES = 2 if QUICK else 8

noise = Degradation(noise_sigma=tuple(recipe.degradation.noise_sigma))
common = dict(crop_size=CROP, channels=3, path=str(photo_dir), validation_fraction=0.25,
              seed=0)
train = EpochBatches(BatchMaker("denoise", open_source("folder", "train", **common),
                                BATCH, noise, seed=0, split="train"),
                     steps=STEPS_PER_EPOCH)
validation = EpochBatches(
    BatchMaker("denoise", open_source("folder", "validation", augment=False, **common),
               BATCH, noise, seed=0, split="validation"),
    steps=VALIDATION_BATCHES, fixed_epoch=0)  # the same validation batches every epoch

noisy, clean = validation[0]
print(f"{len(train)} training batches per epoch of {noisy.shape}, "
      f"{len(validation)} validation batches")
show_grid([[("noisy", n), ("clean target", c)] for n, c in zip(noisy[:2], clean[:2],
                                                               strict=True)], size=2.5)

# %% [markdown]
# ## Fine-tune
#
# `zoo.load` returns the preset compiled with its standard loss and metrics. We
# measure it on the validation batches first, then recompile with a smaller learning
# rate (the loss and metrics stay the standard ones) and `fit`:
#
# - `FollowEpoch` tells the dataset which epoch starts (fresh crops every epoch);
# - `SampleGrid` writes `samples/epoch_NNN.png` (noisy | restored | clean) and the same
#   picture to TensorBoard;
# - `keras.callbacks.TensorBoard` logs the scalars;
# - `BestModel` keeps the best `.keras` checkpoint by validation loss (Keras'
#   `ModelCheckpoint(save_best_only=True)` works too).

# %%
model = zoo.load("unet-denoise-natural")  # compiled: L1 + SSIM loss, PSNR / SSIM metrics
before = model.evaluate(validation, return_dict=True, verbose=0)
print(f"validation PSNR before fine-tuning: {before['psnr']:.2f} dB")

model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-4))
log_dir = WORK / "logs"
best_path = WORK / "checkpoints" / "best.keras"
callbacks = [
    FollowEpoch(train, validation),
    SampleGrid("denoise", WORK / "samples", x=noisy[:4], y=clean[:4],
               tensorboard_dir=log_dir / "samples"),
    keras.callbacks.TensorBoard(str(log_dir), write_graph=False),
    BestModel(best_path, monitor="val_loss"),
]
started = time.perf_counter()
history = model.fit(train, validation_data=validation, epochs=EPOCHS, callbacks=callbacks,
                    shuffle=False, verbose=2)
print(f"fine-tuned {EPOCHS} epochs x {STEPS_PER_EPOCH} steps in "
      f"{time.perf_counter() - started:.0f} s")

# %% [markdown]
# ## Learning curves

# %%
logs = history.history
epochs = np.arange(1, len(logs["loss"]) + 1)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
curves = (("loss", "loss (L1 + SSIM)"), ("psnr", "PSNR (dB)"))
for ax, (key, label) in zip(axes, curves, strict=True):
    ax.plot(epochs, logs[key], "o-", label="training")
    ax.plot(epochs, logs[f"val_{key}"], "s-", label="validation")
    ax.axhline(before[key], color="gray", linestyle="--", label="preset, before")
    ax.set_xlabel("epoch")
    ax.set_xticks(epochs)
    ax.set_ylabel(label)
    ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## What the callbacks wrote
#
# The sample grid of the first and the last epoch (rows: examples; columns: noisy,
# restored, clean), the TensorBoard event files (`tensorboard --logdir` on that folder)
# and the checkpoint.

# %%
grids = sorted((WORK / "samples").glob("epoch_*.png"))
print(f"sample grids: {[p.name for p in grids]}")
fig, axes = plt.subplots(1, 2, figsize=(10, 6))
for ax, path in zip(axes, (grids[0], grids[-1]), strict=True):
    ax.imshow(np.asarray(Image.open(path)))
    ax.set_title(path.name)
    ax.axis("off")
plt.show()

for path in sorted(log_dir.rglob("events.out.tfevents.*")):
    print("TensorBoard:", path.relative_to(WORK))
print(f"checkpoint: {best_path.relative_to(WORK)} "
      f"({best_path.stat().st_size / 1e6:.1f} MB)")

# %% [markdown]
# ## Before / after
#
# The best checkpoint is a regular `.keras` file (`keras.saving.load_model` works after
# `import zoo`). Its validation metrics against the preset's, on the same batches:

# %%
tuned = keras.saving.load_model(best_path)
after = tuned.evaluate(validation, return_dict=True, verbose=0)
display(Markdown("\n".join(
    ["| metric | preset | fine-tuned (best checkpoint) | change |", "|---|---:|---:|---:|"]
    + [f"| {k} | {before[k]:.4f} | {after[k]:.4f} | {after[k] - before[k]:+.4f} |"
       for k in ("loss", "psnr", "ssim")])))
print(f"final validation PSNR: {after['psnr']:.2f} dB "
      f"(preset {before['psnr']:.2f} dB, change {after['psnr'] - before['psnr']:+.2f} dB)")

preset = zoo.load("unet-denoise-natural", compile=False)
restored = {"preset": preset.predict(noisy[:3], verbose=0),
            "fine-tuned": tuned.predict(noisy[:3], verbose=0)}
show_grid([[("noisy", noisy[i])]
           + [(f"{n} {image_psnr(r[i], clean[i]):.1f} dB", r[i]) for n, r in restored.items()]
           + [("clean", clean[i])] for i in range(3)], size=2.5)

# %%
shutil.rmtree(WORK)  # the temporary files; skip this cell to keep them

# %% [markdown]
# With only a few steps (quick mode) the change is noise; the full run fine-tunes a few
# hundred steps. For a long run on a GPU, `zoo train` does the same with a recipe
# (`dataset = "folder"`, `path = "my_photos/"`) and can resume a killed run.
#
# Next: [export the model for phones and servers](03_export_for_mobile.ipynb).
