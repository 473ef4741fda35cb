# %% [markdown]
# # 1. Pick a pretrained model
#
# The zoo ships its pretrained presets inside the package: no download, no account.
# This notebook lists them, loads an inpainter, the denoiser and the generators, runs
# them on two photos that no preset was trained or validated on (scikit-image's
# *astronaut* and scikit-learn's *flower*, the `natural` dataset's **test** split),
# and shows the numbers each model card reports.
#
# Set `ZOO_NOTEBOOK_QUICK=1` to run it on quarter-size photos (what CI does).

# %%
import os

# ZOO_NOTEBOOK_QUICK=1 (what CI runs) shrinks sizes, steps and counts so the notebook
# finishes in well under a minute; unset, it runs in full (a few minutes on a 2-core CPU).
QUICK = os.environ.get("ZOO_NOTEBOOK_QUICK", "0") == "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # quiet TensorFlow's C++ start-up logs
print("quick mode" if QUICK else "full mode")

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from matplotlib_inline.backend_inline import set_matplotlib_formats

import zoo
from training import datasets
from training.degradations import add_gaussian_noise
from training.images import resize
from training.masks import random_mask
from zoo import visualize
from zoo.inference import apply_to_image
from zoo.metrics import image_psnr
from zoo.presets import PRESETS_DIR

plt.rcParams["figure.dpi"] = 60 if QUICK else 80
set_matplotlib_formats("jpeg", pil_kwargs={"quality": 85})  # photos: a smaller notebook

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
# ## The zoo
#
# `zoo.list_presets(task=None)` names the presets; `zoo.preset_info(name)` returns a
# preset's `metadata.json`: task, data, training steps, parameter count, the metrics
# measured on held-out validation data and the weights' sha256 (checked by `zoo.load`).

# %%
presets = [zoo.preset_info(name) for name in zoo.list_presets()]
rows = ["| preset | task | architecture | parameters | weights | validation metrics |",
        "|---|---|---|---:|---:|---|"]
for meta in presets:
    measured = sorted(meta["validation_metrics"].items())
    metrics = ", ".join(f"{k} {v:.3g}" for k, v in measured)
    rows.append(f"| `{meta['name']}` | {meta['task']} | `{meta['architecture']}` | "
                f"{meta['parameters']:,} | {meta['weights_bytes'] / 1e6:.1f} MB | "
                f"{metrics or '-'} |")
display(Markdown("\n".join(rows)))
print(f"{len(presets)} presets:", ", ".join(m["name"] for m in presets))
print("inpainting presets:", zoo.list_presets("inpaint"))

# %% [markdown]
# ## Load
#
# `zoo.load(name)` builds the architecture from the preset's `config.json`, checks the
# weights' size and sha256, loads them and (by default) compiles the model with its
# standard loss and metrics, ready for `fit`. For inference alone, `compile=False`.

# %%
inpainters = {name: zoo.load(name, compile=False)
              for name in ("inpainter-natural", "unet-inpaint-natural")}
denoiser = zoo.load("unet-denoise-natural", compile=False)
generators = {name: zoo.load(name, compile=False)
              for name in ("dcgan-digits", "dcgan-textures")}
for name, model in {**inpainters, "unet-denoise-natural": denoiser, **generators}.items():
    print(f"{name:22} {type(model).__name__:26} {model.count_params():>10,} parameters")

# %% [markdown]
# ## Held-out photos
#
# Repair models take any image size: `zoo.inference.apply_to_image` pads to a multiple
# of the network's size factor, tiles large images and crops the result back.

# %%
names = ["astronaut", "flower"]
photos = datasets.load_images("natural", "test")  # never trained or validated on
if QUICK:
    photos = [resize(p, p.shape[0] // 4, p.shape[1] // 4) for p in photos]
for name, photo in zip(names, photos, strict=True):
    print(f"{name}: {photo.shape[1]} x {photo.shape[0]} pixels (W x H)")

# %% [markdown]
# ### Inpainting
#
# Brush-stroke holes over about 10 % of each photo (the mask is 1 in the hole). Both
# inpainters composite, so pixels outside the hole come back unchanged; the PSNR is
# measured inside the hole only.

# %%
rng = np.random.default_rng(0)
rows = []
for name, photo in zip(names, photos, strict=True):
    mask = random_mask(rng, *photo.shape[:2], kind="medium", area_range=(0.08, 0.12))
    masked = photo * (1 - mask)
    filled = {n: apply_to_image(model, masked, mask) for n, model in inpainters.items()}
    scores = ", ".join(f"{n} {image_psnr(f, photo, mask):.2f} dB" for n, f in filled.items())
    print(f"{name}: hole {mask.mean():.1%} of the image; PSNR in the hole: "
          f"black {image_psnr(masked, photo, mask):.2f} dB, {scores}")
    rows.append([(f"{name}: holes (white)", masked + mask),
                 *[(f"{n} {image_psnr(f, photo, mask):.1f} dB", f) for n, f in filled.items()],
                 ("original", photo)])
show_grid(rows)

# %% [markdown]
# ### Denoising
#
# Gaussian noise of sigma 25 (8-bit units); the denoiser was trained on sigma 0-50
# without being told the level.

# %%
SIGMA = 25
rows = []
for name, photo in zip(names, photos, strict=True):
    noisy, _ = add_gaussian_noise(np.random.default_rng(1), photo, SIGMA)
    denoised = apply_to_image(denoiser, noisy)
    print(f"{name}: sigma {SIGMA}: PSNR noisy {image_psnr(noisy, photo):.2f} dB -> "
          f"denoised {image_psnr(denoised, photo):.2f} dB")
    rows.append([(f"{name}: noisy (sigma {SIGMA})", noisy), ("denoised", denoised),
                 ("original", photo)])
show_grid(rows, size=3.5)

# %% [markdown]
# ### Generation
#
# A DCGAN preset draws from its latent space: `generate(n, seed)` returns `n` images
# in [0, 1]; the same seed gives the same images.

# %%
fig, axes = plt.subplots(1, len(generators), figsize=(5 * len(generators), 5))
for ax, (name, gan) in zip(axes, generators.items(), strict=True):
    samples = gan.generate(16, seed=0)
    print(f"{name}: {samples.shape[0]} samples of {samples.shape[1:]}, "
          f"values in [{samples.min():.2f}, {samples.max():.2f}]")
    ax.imshow(visualize.sample_grid(samples, columns=4))
    ax.set_title(f"{name}: 16 samples, seed 0")
    ax.axis("off")
plt.show()

# %% [markdown]
# ## What the model cards say
#
# Each preset folder holds a model card (`README.md`) written by the quality
# benchmark: the preset next to the classical tools a user would pick instead, on the
# same held-out images. Its metadata records what it was trained on and for how long.

# %%
def card_section(name, heading="## Quality on held-out data"):
    """The card's section under `heading`, up to the next section."""
    text = (PRESETS_DIR / name / "README.md").read_text()
    if heading not in text:
        return "(no such section in this card)"
    return text.split(heading, 1)[1].split("\n## ", 1)[0].strip()


for name in ("unet-inpaint-natural", "unet-denoise-natural", "dcgan-digits"):
    meta = zoo.presets.metadata(name)
    facts = (f"trained on `{meta['dataset']}` ({meta['trained_on_split']} split), "
             f"{meta['training_steps']:,} steps of batch {meta['batch_size']} at "
             f"{meta['crop_size'][0]} x {meta['crop_size'][1]}, "
             f"{meta['train_seconds'] / 60:.0f} min on {meta['hardware']['cpu_count']} "
             f"CPU cores")
    measured = sorted(meta["validation_metrics"].items())
    metrics = ", ".join(f"{k} {v:.3g}" for k, v in measured)
    display(Markdown(f"### `{name}`\n\n{meta['description']}\n\n{facts}; validation "
                     f"metrics: {metrics or 'none (a GAN)'}; headline: "
                     f"{meta.get('headline', '-')}\n\n{card_section(name)}"))

# %% [markdown]
# Next: [fine-tune a preset on your own images](02_fine_tune_with_fit.ipynb).
