# %% [markdown]
# # 5. Look inside
#
# What do the layers compute? `zoo.visualize` gives each layer's feature maps for one
# input, activation statistics over a batch (dead ReLU units and channels), and
# pictures of both. We look at the denoiser's encoder, at what the inpainter's encoder
# sees around a hole, and at what the knobs every zoo model exposes (pooling, kernel
# size, L2, dropout) do to a short training run of a tiny U-Net denoiser.
#
# `ZOO_NOTEBOOK_QUICK=1` uses 64 x 64 images and a few training steps (what CI runs).

# %%
import os

# ZOO_NOTEBOOK_QUICK=1 (what CI runs) shrinks sizes, steps and counts so the notebook
# finishes in well under a minute; unset, it runs in full (a few minutes on a 2-core CPU).
QUICK = os.environ.get("ZOO_NOTEBOOK_QUICK", "0") == "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # quiet TensorFlow's C++ start-up logs
print("quick mode" if QUICK else "full mode")

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from matplotlib_inline.backend_inline import set_matplotlib_formats

import zoo
from training import datasets
from training.degradations import add_gaussian_noise
from training.images import resize
from training.masks import random_mask
from training.pipeline import BatchMaker
from training.sources import open_source
from training.tasks import Degradation
from zoo import visualize

plt.rcParams["figure.dpi"] = 60 if QUICK else 80
set_matplotlib_formats("jpeg", pil_kwargs={"quality": 85})  # photos: a smaller notebook
SIZE = 64 if QUICK else 256
CHANNELS_SHOWN = 8
photo = resize(datasets.load_images("natural", "test")[0], SIZE, SIZE)  # astronaut
noisy, _ = add_gaussian_noise(np.random.default_rng(0), photo, 25)

# %% [markdown]
# ## Feature maps of chosen layers
#
# `visualize.layer_names(model)` lists the layers whose output is a feature map;
# `default_layers` picks the last activation of each encoder resolution down to the
# bottleneck. `feature_maps(model, image, layers)` returns each layer's output for one
# image (inference mode). Each row: the first channels of one layer, each scaled to
# its own range.

# %%
denoiser = zoo.load("unet-denoise-natural", compile=False)
every = visualize.layer_names(denoiser)
activations = visualize.layer_names(denoiser, "activation")
print(f"{len(every)} feature-map layers, {len(activations)} of them activations; "
      f"first: {every[:6]}")
layers = visualize.default_layers(denoiser, image_shape=noisy.shape)
maps = visualize.feature_maps(denoiser, noisy, layers=layers)
for name, values in maps.items():
    print(f"{name:20} {values.shape}")

fig, axes = plt.subplots(len(maps), CHANNELS_SHOWN + 1,
                         figsize=(1.5 * (CHANNELS_SHOWN + 1), 1.6 * len(maps)))
for row, (name, values) in zip(axes, maps.items(), strict=True):
    row[0].imshow(noisy)
    row[0].set_title("input" if name == layers[0] else "", fontsize=8)
    row[0].set_ylabel(name, fontsize=8)
    for c, ax in enumerate(row[1:]):
        ax.imshow(values[..., c], cmap="magma")
        ax.set_title(f"{values.shape[0]}x{values.shape[1]} ch {c}", fontsize=7)
    for ax in row:
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle("unet-denoise-natural encoder on a noisy astronaut (sigma 25)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Per-layer activation statistics
#
# `activation_stats(model, images)` runs a batch of held-out validation crops through
# every activation layer: mean, spread, the fraction of units that are exactly zero
# (ReLU "off") and the channels that are zero everywhere (dead filters, wasted width).

# %%
crops = open_source("natural", "validation", (SIZE, SIZE), 3, augment=False)
sigma_25 = Degradation(noise_sigma=(25, 25))
batch, _ = BatchMaker("denoise", crops, 4 if QUICK else 16, sigma_25,
                      split="validation").batch(0, 0)
stats = visualize.activation_stats(denoiser, batch)
print(visualize.format_stats(stats))

fig, ax = plt.subplots(figsize=(11, 3.2))
positions = np.arange(len(stats))
ax.bar(positions - 0.2, [s["zero_fraction"] for s in stats], 0.4, label="zero units")
ax.bar(positions + 0.2, [s["dead_channel_fraction"] for s in stats], 0.4,
       label="dead channels")
ax.set_xticks(positions, [s["name"] for s in stats], rotation=60, ha="right", fontsize=8)
ax.set_ylabel("fraction")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## What the encoder sees in a masked region
#
# The inpainter zeroes the image under the hole and gets the mask as an input. We run
# its encoder on the same photo twice, without a hole and with one, and plot how much
# each layer's activations change (mean absolute difference over channels), with the
# hole outlined in cyan (the first column: the hole at that layer's resolution). The
# table compares positions whose patch holds hole pixels with the others. Early layers
# change only in and next to the hole; deeper layers, whose receptive fields are
# larger, carry the change further out: that context is what the decoder fills the
# hole from.

# %%
inpainter = zoo.load("inpainter-natural", compile=False)
mask = random_mask(np.random.default_rng(3), SIZE, SIZE, kind="thick",
                   area_range=(0.1, 0.15))
layers = visualize.default_layers(inpainter, image_shape=photo.shape)
whole = visualize.feature_maps(inpainter, photo, layers, mask=np.zeros_like(mask))
holed = visualize.feature_maps(inpainter, photo * (1 - mask), layers, mask=mask)

fig, axes = plt.subplots(len(layers), 4, figsize=(10, 2.5 * len(layers)))
print("mean |change| of the activations, at positions whose patch holds hole pixels "
      "and at the others")
print(f"{'layer':20} {'size':>7} {'at the hole':>12} {'elsewhere':>10}")
for r, (row, name) in enumerate(zip(axes, layers, strict=True)):
    size = whole[name].shape[0]
    factor = SIZE // size
    hole = mask[..., 0].reshape(size, factor, size, factor).mean(axis=(1, 3))
    change = np.abs(holed[name] - whole[name]).mean(axis=-1)
    at_hole, elsewhere = change[hole > 0], change[hole == 0]
    print(f"{name:20} {size:>4}x{size:<3}{at_hole.mean():>12.4f} "
          f"{elsewhere.mean() if elsewhere.size else float('nan'):>10.4f}")
    if r == 0:
        row[0].imshow(photo * (1 - mask) + mask)
        row[0].set_title("masked input (holes white)", fontsize=8)
    else:
        row[0].imshow(hole, cmap="gray", vmin=0, vmax=1)
        row[0].set_title(f"hole fraction at {size}x{size}", fontsize=8)
    panels = [(f"{name}: no hole", np.abs(whole[name]).mean(axis=-1)),
              ("with the hole", np.abs(holed[name]).mean(axis=-1)),
              ("|change|", change)]
    for ax, (title, image) in zip(row[1:], panels, strict=True):
        ax.imshow(image, cmap="magma")
        ax.contour(hole, levels=[0.5], colors="cyan", linewidths=1)
        ax.set_title(title, fontsize=8)
    for ax in row:
        ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The knobs, on a short training run
#
# A tiny residual U-Net denoiser (sigma 25) trained from the same initial seed on the
# same batches, changing one knob at a time: down-sampling by max pooling, average
# pooling or a strided convolution; 3 x 3 or 5 x 5 kernels; an L2 weight penalty;
# dropout. Validation PSNR on held-out crops after each epoch (the L2 run's training
# loss includes its weight penalty). Short runs favour what
# learns fastest, not what ends best: treat this as a way to see the knobs move
# things, and run longer (full mode, or `zoo train`) before choosing.

# %%
CROP = 32 if QUICK else 64
BATCH = 8 if QUICK else 16
EPOCHS = 2 if QUICK else 4
STEPS_PER_EPOCH = 2 if QUICK else 20
BASE = {"filters": (8, 16) if QUICK else (16, 32, 64), "residual": True}
KNOBS = {
    "max pool, 3x3 (baseline)": {},
    "avg pool": {"pooling": "avg"},
    "strided conv": {"pooling": "strided"},
    "5x5 kernels": {"kernel_size": 5},
    "L2 1e-3": {"l2": 1e-3},
    "dropout 0.2": {"dropout": 0.2},
}

noise = Degradation(noise_sigma=(25.0, 25.0))
maker = BatchMaker("denoise", open_source("natural", "train", (CROP, CROP), 3), BATCH,
                   noise, seed=0)
pairs = [maker.batch(0, i) for i in range(STEPS_PER_EPOCH)]
x_train = np.concatenate([x for x, _ in pairs])
y_train = np.concatenate([y for _, y in pairs])
x_val, y_val = BatchMaker("denoise", open_source("natural", "validation", (CROP, CROP), 3,
                                                 augment=False),
                          4 * BATCH, noise, split="validation").batch(0, 0)
noisy_psnr = 10 * np.log10(1 / np.mean(np.square(x_val - y_val)))

results = {}
for label, knobs in KNOBS.items():
    keras.utils.set_random_seed(0)
    model = zoo.create_model("unet", **BASE, **knobs)
    model.compile(run_eagerly=QUICK)  # a few quick steps: not worth tracing a graph
    started = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS,
                        validation_data=(x_val, y_val), shuffle=False, verbose=0)
    results[label] = {"parameters": model.count_params(), "history": history.history,
                      "seconds": time.perf_counter() - started}

rows = ["| knob | parameters | final training loss | validation PSNR | seconds |",
        "|---|---:|---:|---:|---:|"]
for label, r in results.items():
    rows.append(f"| {label} | {r['parameters']:,} | {r['history']['loss'][-1]:.4f} | "
                f"{r['history']['val_psnr'][-1]:.2f} dB | {r['seconds']:.1f} |")
display(Markdown("\n".join(rows)))
print(f"knob runs: {len(results)}, {EPOCHS} epochs x {STEPS_PER_EPOCH} steps of batch "
      f"{BATCH} at {CROP} x {CROP}; noisy input PSNR {noisy_psnr:.2f} dB")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8))
epochs = np.arange(1, EPOCHS + 1)
for label, r in results.items():
    left.plot(epochs, r["history"]["val_psnr"], "o-", label=label)
left.axhline(noisy_psnr, color="gray", linestyle="--", label="noisy input")
left.set_xlabel("epoch")
left.set_xticks(epochs)
left.set_ylabel("validation PSNR (dB)")
left.legend(fontsize=8)
labels = list(results)
finals = [results[k]["history"]["val_psnr"][-1] for k in labels]
right.barh(labels, finals)
right.set_xlim(min(noisy_psnr, *finals) - 1, None)
right.axvline(noisy_psnr, color="gray", linestyle="--")
right.set_xlabel("final validation PSNR (dB)")
right.invert_yaxis()
fig.tight_layout()
plt.show()

# %% [markdown]
# From the shell, `zoo inspect unet-denoise-natural photo.png --stats -o maps.png`
# writes the same feature maps as a PNG and prints the statistics table.
