"""Write the user-journey notebooks from the code in this file.

    python notebooks/build_notebooks.py                 # rewrite all five (outputs cleared)
    python notebooks/run_notebooks.py --in-place        # then execute them and keep the outputs

The notebooks are generated so that they stay reproducible and reviewable as plain
Python: edit the cells here, rebuild, re-run. Rebuilding clears the outputs, so run
`run_notebooks.py --in-place` afterwards (full mode for the committed outputs).
`tests/test_notebooks.py` checks that the committed notebooks hold exactly these cells.

Every notebook reads `ZOO_NOTEBOOK_QUICK` ("1" = quick: small sizes, few steps, what CI
runs) in its first cell, writes its files under a fresh temporary folder, and reads
only files made by an earlier cell or shipped with the package.
"""

import sys
import textwrap
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

SETUP = '''
import os

# ZOO_NOTEBOOK_QUICK=1 (what CI runs) shrinks sizes, steps and counts so the notebook
# finishes in well under a minute; unset, it runs in full (a few minutes on a 2-core CPU).
QUICK = os.environ.get("ZOO_NOTEBOOK_QUICK", "0") == "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # quiet TensorFlow's C++ start-up logs
print("quick mode" if QUICK else "full mode")
'''

SHOW_GRID = '''
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


def psnr(a, b, where=None):
    """PSNR in dB of images in [0, 1], over the pixels where `where` (H, W, 1) is 1."""
    error = np.square(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    if where is not None:
        error = error[np.broadcast_to(np.asarray(where) > 0.5, error.shape)]
    return float(10 * np.log10(1.0 / max(error.mean(), 1e-12)))
'''


def md(text):
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(text):
    return nbformat.v4.new_code_cell(textwrap.dedent(text).strip())


# === 1. Pick a pretrained model =========================================================

def pick_a_pretrained_model():
    return [
        md('''
        # 1. Pick a pretrained model

        The zoo ships its pretrained presets inside the package: no download, no account.
        This notebook lists them, loads an inpainter, the denoiser and the generators, runs
        them on two photos that no preset was trained or validated on (scikit-image's
        *astronaut* and scikit-learn's *flower*, the `natural` dataset's **test** split),
        and shows the numbers each model card reports.

        Set `ZOO_NOTEBOOK_QUICK=1` to run it on quarter-size photos (what CI does).
        '''),
        code(SETUP),
        code('''
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
        from zoo.presets import PRESETS_DIR

        plt.rcParams["figure.dpi"] = 60 if QUICK else 80
        set_matplotlib_formats("jpeg", pil_kwargs={"quality": 85})  # photos: a smaller notebook
        '''),
        code(SHOW_GRID),
        md('''
        ## The zoo

        `zoo.list_presets(task=None)` returns each preset's `metadata.json`: task, data,
        training steps, parameter count, the metrics measured on held-out validation data
        and the weights' sha256 (checked by `zoo.load`).
        '''),
        code('''
        presets = zoo.list_presets()
        rows = ["| preset | task | architecture | parameters | weights | validation metrics |",
                "|---|---|---|---:|---:|---|"]
        for meta in presets:
            measured = sorted(meta["validation_metrics"].items())
            metrics = ", ".join(f"{k} {v:.3g}" for k, v in measured)
            rows.append(f"| `{meta['name']}` | {meta['task']} | `{meta['architecture']}` | "
                        f"{meta['parameters']:,} | {meta['weights_bytes'] / 1e6:.1f} MB | "
                        f"{metrics or '-'} |")
        display(Markdown("\\n".join(rows)))
        print(f"{len(presets)} presets:", ", ".join(m["name"] for m in presets))
        print("inpainting presets:", [m["name"] for m in zoo.list_presets("inpaint")])
        '''),
        md('''
        ## Load

        `zoo.load(name)` builds the architecture from the preset's `config.json`, checks the
        weights' size and sha256, loads them and (by default) compiles the model with its
        standard loss and metrics, ready for `fit`. For inference alone, `compile=False`.
        '''),
        code('''
        inpainters = {name: zoo.load(name, compile=False)
                      for name in ("inpainter-natural", "unet-inpaint-natural")}
        denoiser = zoo.load("unet-denoise-natural", compile=False)
        generators = {name: zoo.load(name, compile=False)
                      for name in ("dcgan-digits", "dcgan-textures")}
        for name, model in {**inpainters, "unet-denoise-natural": denoiser, **generators}.items():
            print(f"{name:22} {type(model).__name__:26} {model.count_params():>10,} parameters")
        '''),
        md('''
        ## Held-out photos

        Repair models take any image size: `zoo.inference.apply_to_image` pads to a multiple
        of the network's size factor, tiles large images and crops the result back.
        '''),
        code('''
        names = ["astronaut", "flower"]
        photos = datasets.load_images("natural", "test")  # never trained or validated on
        if QUICK:
            photos = [resize(p, p.shape[0] // 4, p.shape[1] // 4) for p in photos]
        for name, photo in zip(names, photos, strict=True):
            print(f"{name}: {photo.shape[1]} x {photo.shape[0]} pixels (W x H)")
        '''),
        md('''
        ### Inpainting

        Brush-stroke holes over about 10 % of each photo (the mask is 1 in the hole). Both
        inpainters composite, so pixels outside the hole come back unchanged; the PSNR is
        measured inside the hole only.
        '''),
        code('''
        rng = np.random.default_rng(0)
        rows = []
        for name, photo in zip(names, photos, strict=True):
            mask = random_mask(rng, *photo.shape[:2], kind="medium", area_range=(0.08, 0.12))
            masked = photo * (1 - mask)
            filled = {n: apply_to_image(model, masked, mask) for n, model in inpainters.items()}
            scores = ", ".join(f"{n} {psnr(f, photo, mask):.2f} dB" for n, f in filled.items())
            print(f"{name}: hole {mask.mean():.1%} of the image; PSNR in the hole: "
                  f"black {psnr(masked, photo, mask):.2f} dB, {scores}")
            rows.append([(f"{name}: holes (white)", masked + mask),
                         *[(f"{n} {psnr(f, photo, mask):.1f} dB", f) for n, f in filled.items()],
                         ("original", photo)])
        show_grid(rows)
        '''),
        md('''
        ### Denoising

        Gaussian noise of sigma 25 (8-bit units); the denoiser was trained on sigma 0-50
        without being told the level.
        '''),
        code('''
        SIGMA = 25
        rows = []
        for name, photo in zip(names, photos, strict=True):
            noisy, _ = add_gaussian_noise(np.random.default_rng(1), photo, SIGMA)
            denoised = apply_to_image(denoiser, noisy)
            print(f"{name}: sigma {SIGMA}: PSNR noisy {psnr(noisy, photo):.2f} dB -> "
                  f"denoised {psnr(denoised, photo):.2f} dB")
            rows.append([(f"{name}: noisy (sigma {SIGMA})", noisy), ("denoised", denoised),
                         ("original", photo)])
        show_grid(rows, size=3.5)
        '''),
        md('''
        ### Generation

        A DCGAN preset draws from its latent space: `generate(n, seed)` returns `n` images
        in [0, 1]; the same seed gives the same images.
        '''),
        code('''
        fig, axes = plt.subplots(1, len(generators), figsize=(5 * len(generators), 5))
        for ax, (name, gan) in zip(axes, generators.items(), strict=True):
            samples = gan.generate(16, seed=0)
            print(f"{name}: {samples.shape[0]} samples of {samples.shape[1:]}, "
                  f"values in [{samples.min():.2f}, {samples.max():.2f}]")
            ax.imshow(visualize.sample_grid(samples, columns=4))
            ax.set_title(f"{name}: 16 samples, seed 0")
            ax.axis("off")
        plt.show()
        '''),
        md('''
        ## What the model cards say

        Each preset folder holds a model card (`README.md`) written by the quality
        benchmark: the preset next to the classical tools a user would pick instead, on the
        same held-out images. Its metadata records what it was trained on and for how long.
        '''),
        code('''
        def card_section(name, heading="## Quality on held-out data"):
            """The card's section under `heading`, up to the next section."""
            text = (PRESETS_DIR / name / "README.md").read_text()
            if heading not in text:
                return "(no such section in this card)"
            return text.split(heading, 1)[1].split("\\n## ", 1)[0].strip()


        for name in ("unet-inpaint-natural", "unet-denoise-natural", "dcgan-digits"):
            meta = zoo.presets.metadata(name)
            facts = (f"trained on `{meta['dataset']}` ({meta['trained_on_split']} split), "
                     f"{meta['training_steps']:,} steps of batch {meta['batch_size']} at "
                     f"{meta['crop_size'][0]} x {meta['crop_size'][1]}, "
                     f"{meta['train_seconds'] / 60:.0f} min on {meta['hardware']['cpu_count']} "
                     f"CPU cores")
            measured = sorted(meta["validation_metrics"].items())
            metrics = ", ".join(f"{k} {v:.3g}" for k, v in measured)
            display(Markdown(f"### `{name}`\\n\\n{meta['description']}\\n\\n{facts}; validation "
                             f"metrics: {metrics or 'none (a GAN)'}; headline: "
                             f"{meta.get('headline', '-')}\\n\\n{card_section(name)}"))
        '''),
        md('''
        Next: [fine-tune a preset on your own images](02_fine_tune_with_fit.ipynb).
        '''),
    ]


# === 2. Fine-tune with fit ==============================================================

def fine_tune_with_fit():
    return [
        md('''
        # 2. Fine-tune a preset with `model.fit`

        A preset is a plain compiled Keras model: fine-tuning is `fit`. Here the
        `unet-denoise-natural` preset is fine-tuned on a folder of images with its standard
        loss (L1 + SSIM) and metrics (PSNR, SSIM), with the callbacks a real run uses:
        sample grids, TensorBoard and a best-model checkpoint. The folder is made from the
        built-in `natural` photos and stands in for your own.

        `ZOO_NOTEBOOK_QUICK=1` trains a handful of steps on small crops (what CI runs).
        '''),
        code(SETUP),
        code('''
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
        from zoo.presets import PRESETS_DIR

        plt.rcParams["figure.dpi"] = 60 if QUICK else 80
        set_matplotlib_formats("jpeg", pil_kwargs={"quality": 85})  # photos: a smaller notebook
        keras.utils.set_random_seed(0)
        WORK = Path(tempfile.mkdtemp(prefix="zoo-finetune-"))
        print("files go to", WORK)
        '''),
        code(SHOW_GRID),
        md('''
        ## Your image folder

        Any folder of jpg / png / webp / bmp files works (recursive; grayscale, RGB, RGBA and
        16-bit files are converted). Here we write the eight built-in `natural` photos into
        one, half of them as JPEG.
        '''),
        code('''
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
        '''),
        md('''
        ## A dataset from the folder

        The preset's own recipe (shipped beside its weights) says how it was trained: crop
        size, batch size and noise levels. `open_source("folder", ...)` draws random crops
        (with flips, rotations and mild colour jitter for training); `BatchMaker` adds the
        noise; `EpochBatches` is a `keras.utils.PyDataset` that `fit` takes directly. The
        split is by file, so no validation crop is ever trained on.
        '''),
        code('''
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
        '''),
        md('''
        ## Fine-tune

        `zoo.load` returns the preset compiled with its standard loss and metrics. We
        measure it on the validation batches first, then recompile with a smaller learning
        rate (the loss and metrics stay the standard ones) and `fit`:

        - `FollowEpoch` tells the dataset which epoch starts (fresh crops every epoch);
        - `SampleGrid` writes `samples/epoch_NNN.png` (noisy | restored | clean) and the same
          picture to TensorBoard;
        - `keras.callbacks.TensorBoard` logs the scalars;
        - `BestModel` keeps the best `.keras` checkpoint by validation loss (Keras'
          `ModelCheckpoint(save_best_only=True)` works too).
        '''),
        code('''
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
        '''),
        md('''
        ## Learning curves
        '''),
        code('''
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
        '''),
        md('''
        ## What the callbacks wrote

        The sample grid of the first and the last epoch (rows: examples; columns: noisy,
        restored, clean), the TensorBoard event files (`tensorboard --logdir` on that folder)
        and the checkpoint.
        '''),
        code('''
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
        '''),
        md('''
        ## Before / after

        The best checkpoint is a regular `.keras` file (`keras.saving.load_model` works after
        `import zoo`). Its validation metrics against the preset's, on the same batches:
        '''),
        code('''
        tuned = keras.saving.load_model(best_path)
        after = tuned.evaluate(validation, return_dict=True, verbose=0)
        display(Markdown("\\n".join(
            ["| metric | preset | fine-tuned (best checkpoint) | change |", "|---|---:|---:|---:|"]
            + [f"| {k} | {before[k]:.4f} | {after[k]:.4f} | {after[k] - before[k]:+.4f} |"
               for k in ("loss", "psnr", "ssim")])))
        print(f"final validation PSNR: {after['psnr']:.2f} dB "
              f"(preset {before['psnr']:.2f} dB, change {after['psnr'] - before['psnr']:+.2f} dB)")

        preset = zoo.load("unet-denoise-natural", compile=False)
        restored = {"preset": preset.predict(noisy[:3], verbose=0),
                    "fine-tuned": tuned.predict(noisy[:3], verbose=0)}
        show_grid([[("noisy", noisy[i])]
                   + [(f"{n} {psnr(r[i], clean[i]):.1f} dB", r[i]) for n, r in restored.items()]
                   + [("clean", clean[i])] for i in range(3)], size=2.5)
        '''),
        code('''
        shutil.rmtree(WORK)  # the temporary files; skip this cell to keep them
        '''),
        md('''
        With only a few steps (quick mode) the change is noise; the full run fine-tunes a few
        hundred steps. For a long run on a GPU, `zoo train` does the same with a recipe
        (`dataset = "folder"`, `path = "my_photos/"`) and can resume a killed run.

        Next: [export the model for phones and servers](03_export_for_mobile.ipynb).
        '''),
    ]


EXPORT_PSNR = '''
def psnr(a, b, where=None):
    """PSNR in dB of images in [0, 1], over the pixels where `where` (H, W, 1) is 1."""
    error = np.square(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    if where is not None:
        error = error[np.broadcast_to(np.asarray(where) > 0.5, error.shape)]
    return float(10 * np.log10(1.0 / max(error.mean(), 1e-12)))
'''


# === 3. Export for mobile ===============================================================

def export_for_mobile():
    return [
        md('''
        # 3. Export for mobile

        A preset goes to a **SavedModel** (servers: TF Serving, TensorFlow) and to **TFLite**
        (phones) in four variants: `none` (float32), `float16` weights, `dynamic` range (int8
        weights) and full `int8` (weights and activations, calibrated on representative
        data). Every export is verified: the file is run on a fixed batch and compared with
        Keras before it is renamed into place. Then we measure file size and latency, and
        run a `.tflite` with `ai-edge-litert`, the interpreter Android's LiteRT shares.

        `ZOO_NOTEBOOK_QUICK=1` exports at 64 x 64 instead of 256 x 256 (what CI runs).
        '''),
        code(SETUP),
        code('''
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
        '''),
        code(EXPORT_PSNR),
        md('''
        ## SavedModel

        Exported with a free image size for servers; the `serving_default` signature takes
        named inputs (`image`, `mask`; 1 = hole) and returns the named output.
        '''),
        code('''
        saved = export.export_saved_model(model, WORK / "saved_model", log=lambda *_: None)
        print(f"SavedModel: {'PASS' if saved['passed'] else 'FAIL'}, max |saved - keras| "
              f"{saved['max_abs_error']:.2g}")

        signature = tf.saved_model.load(str(WORK / "saved_model")).signatures["serving_default"]
        print("inputs: ", signature.structured_input_signature[1])
        print("outputs:", signature.structured_outputs)
        '''),
        md('''
        ## TFLite, four variants

        `export.to_tflite` converts from a SavedModel with builtin ops only (no flex ops,
        which phones without the flex delegate cannot run), verifies the file against Keras
        and writes a sidecar JSON beside it. `int8` is calibrated on representative crops of
        the preset's training data (plus an all-black and an all-white image, which pin the
        input range). Tolerances (see the README): float32 within 1e-4, float16 >= 50 dB,
        dynamic >= 35 dB, int8 >= 30 dB PSNR against Keras; a file outside them raises
        `VerificationFailed` and is not written.
        '''),
        code('''
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
        display(Markdown("\\n".join(rows)))
        print("verification: " + ", ".join(f"{v} {'PASS' if r['passed'] else 'FAIL'}"
                                           for v, r in reports.items()))
        '''),
        md('''
        The sidecar tells a mobile developer how to wire the file up: input names, shapes
        (batch 1), value range, the mask convention, and for int8 the quantized tensors.
        '''),
        code('''
        sidecar = json.loads((WORK / f"{PRESET}-int8.tflite.json").read_text())
        print(f"{sidecar['format']}, quantization {sidecar['quantization']}, "
              f"mask: {sidecar['mask_convention']}")
        for kind in ("inputs", "outputs"):
            for tensor in sidecar[kind]:
                print(f"{kind[:-1]:6} {json.dumps(tensor)}")
        print("int8 tensors:", sidecar["int8_tensors"])
        print("ops:", ", ".join(sidecar["ops"]))
        '''),
        md('''
        ## Size and latency

        One held-out photo (astronaut, never trained on) with a brush-stroke hole; the median
        of several runs of one example with `export.runtime.TFLiteModel` (ai-edge-litert,
        XNNPACK) at 1 and 2 threads, next to a direct Keras call on this 2-core CPU.
        '''),
        code('''
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
        display(Markdown("\\n".join(rows)))
        '''),
        md('''
        ## Run a `.tflite` with ai-edge-litert

        This is all a Python (or, with the same calls, an Android) app needs: an
        `Interpreter`, the `serving_default` signature runner, named float32 inputs in
        [0, 1]. The outputs match Keras:
        '''),
        code('''
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
                  f"PSNR vs keras {psnr(output[0], keras_output):.1f} dB, "
                  f"PSNR in the hole vs the photo {psnr(output[0], photo, mask):.2f} dB "
                  f"(keras {psnr(keras_output, photo, mask):.2f} dB)")

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
        '''),
        code('''
        shutil.rmtree(WORK)  # the temporary files; skip this cell to keep them
        '''),
        md('''
        The same exports from the shell: `zoo export unet-inpaint-natural --format tflite
        --quantize int8 -o inpainter.tflite` (and `--format savedmodel`).

        Next: [train a DCGAN with `fit`](04_train_a_dcgan.ipynb).
        '''),
    ]


# === 4. Train a DCGAN ===================================================================

def train_a_dcgan():
    return [
        md('''
        # 4. Train a DCGAN with `fit`

        The zoo's DCGAN is a `keras.Model` holding a generator and a discriminator with its
        own `train_step`: `compile()` gives the standard setup (non-saturating BCE, Adam
        2e-4 / 0.5 for both networks) and `fit(images)` trains both, logging `d_loss` and
        `g_loss`. We train one on scikit-learn's handwritten digits (upscaled to 32 x 32),
        watch a sample grid per epoch, and walk its latent space.

        `ZOO_NOTEBOOK_QUICK=1` trains 3 short epochs on a few hundred digits (what CI runs).
        '''),
        code(SETUP),
        code('''
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
        '''),
        md('''
        ## Data

        `load_images("digits", "train", channels=1, image_size=(32, 32))`: 1581 digits,
        bright strokes on black, float32 in [0, 1].
        '''),
        code('''
        digits = np.stack(datasets.load_images("digits", "train", channels=1, image_size=(32, 32)))
        images = digits[:4 * BATCH] if QUICK else digits
        print(f"{len(digits)} training digits {digits.shape[1:]}, training on {len(images)}")
        plt.figure(figsize=(4, 4))
        plt.imshow(visualize.sample_grid(images[:16], columns=4))
        plt.title("real digits")
        plt.axis("off")
        plt.show()
        '''),
        md('''
        ## Model

        The widths of the `dcgan-digits` preset's recipe: a generator from a 64-d latent
        through transposed convolutions to 32 x 32 x 1, and a strided-convolution
        discriminator.
        '''),
        code('''
        gan = zoo.create_model("dcgan", image_shape=(32, 32, 1), latent_dim=64,
                               generator_filters=(128, 64, 32),
                               discriminator_filters=(32, 64, 128), seed=0)
        gan.compile(jit_compile=not QUICK)  # XLA pays off over a longer run
        print(f"generator {gan.generator.count_params():,} parameters, "
              f"discriminator {gan.discriminator.count_params():,}, latent {gan.latent_dim}")
        '''),
        md('''
        ## Train, with a sample grid per epoch

        `SampleGrid("generate", ...)` draws the same 16 latent vectors through the generator
        at the end of every epoch and writes `samples/epoch_NNN.png`, so the grids show the
        same samples improving.
        '''),
        code('''
        latents = np.random.default_rng(0).standard_normal((16, gan.latent_dim)).astype("float32")
        started = time.perf_counter()
        history = gan.fit(images, batch_size=BATCH, epochs=EPOCHS, verbose=2,
                          callbacks=[SampleGrid("generate", WORK / "samples", latents=latents)])
        print(f"{EPOCHS} epochs in {time.perf_counter() - started:.0f} s")
        grids = sorted((WORK / "samples").glob("epoch_*.png"))
        print(f"sample grids written: {len(grids)}")
        '''),
        code('''
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
        '''),
        md('''
        ## Latent-space interpolation

        Walking a straight line between two latent vectors (`lerp`), and along the great
        circle (`slerp`, which keeps the norm a Gaussian latent typically has), morphs one
        digit into another. A smooth morph means the generator learned a continuous space
        rather than memorizing digits. The last rows use the same latents with the
        `dcgan-digits` preset.
        '''),
        code('''
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
        '''),
        code('''
        shutil.rmtree(WORK)  # the temporary files; skip this cell to keep them
        '''),
        md('''
        `zoo train dcgan_digits` runs the full recipe (30 epochs, XLA, TensorBoard, resume);
        `export.to_tflite(gan, ...)` exports the generator.

        Next: [look inside the models](05_look_inside.ipynb).
        '''),
    ]


# === 5. Look inside =====================================================================

def look_inside():
    return [
        md('''
        # 5. Look inside

        What do the layers compute? `zoo.visualize` gives each layer's feature maps for one
        input, activation statistics over a batch (dead ReLU units and channels), and
        pictures of both. We look at the denoiser's encoder, at what the inpainter's encoder
        sees around a hole, and at what the knobs every zoo model exposes (pooling, kernel
        size, L2, dropout) do to a short training run of a tiny U-Net denoiser.

        `ZOO_NOTEBOOK_QUICK=1` uses 64 x 64 images and a few training steps (what CI runs).
        '''),
        code(SETUP),
        code('''
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
        '''),
        md('''
        ## Feature maps of chosen layers

        `visualize.layer_names(model)` lists the layers whose output is a feature map;
        `default_layers` picks the last activation of each encoder resolution down to the
        bottleneck. `feature_maps(model, image, layers)` returns each layer's output for one
        image (inference mode). Each row: the first channels of one layer, each scaled to
        its own range.
        '''),
        code('''
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
        '''),
        md('''
        ## Per-layer activation statistics

        `activation_stats(model, images)` runs a batch of held-out validation crops through
        every activation layer: mean, spread, the fraction of units that are exactly zero
        (ReLU "off") and the channels that are zero everywhere (dead filters, wasted width).
        '''),
        code('''
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
        '''),
        md('''
        ## What the encoder sees in a masked region

        The inpainter zeroes the image under the hole and gets the mask as an input. We run
        its encoder on the same photo twice, without a hole and with one, and plot how much
        each layer's activations change (mean absolute difference over channels), with the
        hole outlined in cyan (the first column: the hole at that layer's resolution). The
        table compares positions whose patch holds hole pixels with the others. Early layers
        change only in and next to the hole; deeper layers, whose receptive fields are
        larger, carry the change further out: that context is what the decoder fills the
        hole from.
        '''),
        code('''
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
        '''),
        md('''
        ## The knobs, on a short training run

        A tiny residual U-Net denoiser (sigma 25) trained from the same initial seed on the
        same batches, changing one knob at a time: down-sampling by max pooling, average
        pooling or a strided convolution; 3 x 3 or 5 x 5 kernels; an L2 weight penalty;
        dropout. Validation PSNR on held-out crops after each epoch (the L2 run's training
        loss includes its weight penalty). Short runs favour what
        learns fastest, not what ends best: treat this as a way to see the knobs move
        things, and run longer (full mode, or `zoo train`) before choosing.
        '''),
        code('''
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
        display(Markdown("\\n".join(rows)))
        print(f"knob runs: {len(results)}, {EPOCHS} epochs x {STEPS_PER_EPOCH} steps of batch "
              f"{BATCH} at {CROP} x {CROP}; noisy input PSNR {noisy_psnr:.2f} dB")
        '''),
        code('''
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
        '''),
        md('''
        From the shell, `zoo inspect unet-denoise-natural photo.png --stats -o maps.png`
        writes the same feature maps as a PNG and prints the statistics table.
        '''),
    ]


NOTEBOOKS = {
    "01_pick_a_pretrained_model.ipynb": pick_a_pretrained_model,
    "02_fine_tune_with_fit.ipynb": fine_tune_with_fit,
    "03_export_for_mobile.ipynb": export_for_mobile,
    "04_train_a_dcgan.ipynb": train_a_dcgan,
    "05_look_inside.ipynb": look_inside,
}


def build(name):
    """The notebook `name` (a key of NOTEBOOKS) with its cells and no outputs."""
    cells = NOTEBOOKS[name]()
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:02d}"  # stable ids: rebuilding gives the same file
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def main(argv=None):
    names = argv if argv else list(NOTEBOOKS)
    for name in names:
        nbformat.validate(notebook := build(name))
        nbformat.write(notebook, HERE / name)
        print("wrote", HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
