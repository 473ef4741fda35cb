"""Training throughput of the zoo's `fit` path against a plain keras.io training loop.

    python benchmarks/train_throughput.py                    # one recipe per family, ~15 min
    python benchmarks/train_throughput.py --recipes all      # the six shipped recipes
    python benchmarks/train_throughput.py --quick --repeats 1  # tiny models: checks it runs

For each recipe (model config, crop size and batch size of the shipped recipe) it
times four ways of training the same model on the same batches, in one process:

- **zoo fit, XLA off / on**: what `zoo train` does (`training.run.build_model` and
  `compile_model`: the model's standard loss and metrics, the recipe's optimizer and
  schedule), data from `EpochBatches` of `BatchMaker` batches fed through
  `to_tf_dataset` (a prefetching tf.data pipeline that makes each batch while the
  previous step runs), `model.fit` with the per-batch callbacks of a run
  (`FollowEpoch`, `NaNGuard`) and a timer. XLA is asked for explicitly
  (`jit_compile=True`): Keras' "auto" turns it on only with a GPU.
- **plain loop** (THE reference): the loop of the keras.io guide "Writing a training
  loop from scratch in TensorFlow", run eagerly: iterate a `tf.data.Dataset`, forward
  under `tf.GradientTape`, `tape.gradient`, `optimizer.apply`, metric updates. Same
  architecture and initial weights (same seed), the same loss object (the model's
  standard loss: `ReconstructionLoss`, `.with_mask(y, pred, mask)` for the inpainters,
  `SegmentationLoss` for segmentation), the same metrics as `compile()` sets, the same
  optimizer built by `training.optimizers.build_optimizer`. The DCGAN loop follows the
  keras.io DCGAN example (sample latents, discriminator step, generator step, two tapes)
  with the recipe's adversarial loss from `zoo.losses`.
- **tf.function loop**: the same step wrapped in `@tf.function` (the guide's
  "speeding it up" section), a stronger peer than the eager loop.

The reference loops read the same `BatchMaker` batches, generated into memory before
timing starts. That favours them: the zoo path makes its batches on the fly.

Timing: a warm-up epoch of `--warmup` steps (tracing / XLA compilation) is discarded,
then `--repeats` rounds, each timing one epoch of `--steps` steps of every path (paths
interleaved, their order rotated every round). A step time is the interval between
the ends of consecutive steps, the first measured from the start of the epoch's first
step, so it includes waiting for data and the per-step callbacks or Python overhead.
Each round's median step time is one run; the table shows the median over runs,
images/s = batch / that median, and ratios against the two loops measured in the same
process. Every path starts from the same weights, and `first_step_loss` in the JSON
shows they compute the same loss on the same first batch (the GAN's latents differ).

Results go to `--out` (JSON, written through a temporary file and a rename) with the
machine, versions and the exact command. TensorFlow backend only.
"""

import argparse
import dataclasses
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ.setdefault("KERAS_BACKEND", "tensorflow") != "tensorflow":
    sys.exit("benchmarks/train_throughput.py compares against a tf.GradientTape loop and "
             f"needs KERAS_BACKEND=tensorflow (got {os.environ['KERAS_BACKEND']!r}).")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench_common import load_average, machine_info, write_json  # noqa: E402

from training.callbacks import NaNGuard  # noqa: E402
from training.optimizers import build_optimizer  # noqa: E402
from training.pipeline import BatchMaker, EpochBatches, FollowEpoch, to_tf_dataset  # noqa: E402
from training.recipe import load_recipe  # noqa: E402
from training.run import apply_overrides, build_model, compile_model  # noqa: E402
from training.sources import open_source  # noqa: E402
from training.tasks import Degradation, model_image_shape, task_of  # noqa: E402

# Shipped recipe -> family shown in the table; the default run takes one per family.
RECIPES = {
    "unet_inpaint_natural": "inpainting (U-Net)",
    "inpainter_natural": "inpainting (autoencoder)",
    "unet_denoise_natural": "denoising (U-Net)",
    "unet_segment_shapes": "segmentation (U-Net)",
    "dcgan_digits": "GAN (DCGAN 32px)",
    "dcgan_textures": "GAN (DCGAN 64px, SN)",
}
ZOO_OFF, ZOO_XLA, PLAIN, TF_FUNCTION = ("zoo fit", "zoo fit (XLA)", "plain loop",
                                        "tf.function loop")
PATHS = (ZOO_OFF, ZOO_XLA, PLAIN, TF_FUNCTION)
DEFAULT_RECIPES = ("unet_inpaint_natural", "unet_denoise_natural", "unet_segment_shapes",
                   "dcgan_digits")
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results" / "train_throughput.json"
QUICK = dict(crop=16, batch_size=2, steps=3, warmup=1)


# --- recipes and data -------------------------------------------------------------

def bench_recipe(name, crop=None, batch_size=None, quick=False):
    """The shipped recipe `name` with the benchmark's overrides (float32 always)."""
    recipe = load_recipe(name)
    config = dict(recipe.model.config)
    if quick:  # one level of tiny width: the same code paths in a fraction of the time
        for key, value in config.items():
            if key.endswith("filters") and isinstance(value, list | tuple):
                config[key] = [max(4, value[0] // 8)]
    if crop is not None:
        recipe = recipe.replace("data", crop_size=(crop, crop))
        if "image_shape" in config:
            config["image_shape"] = [crop, crop, config["image_shape"][-1]]
    if batch_size is not None:
        recipe = recipe.replace("data", batch_size=batch_size)
    recipe = recipe.replace("model", config=config)
    return recipe.replace("training", mixed_precision="none")


def batch_maker(recipe, model):
    """The training `BatchMaker` that `zoo train` builds for `recipe` and `model`."""
    data = recipe.data
    source = open_source(data.dataset, "train", crop_size=data.crop_size,
                         channels=model_image_shape(model)[2], augment=data.augment,
                         path=data.path, validation_fraction=data.validation_fraction,
                         seed=recipe.seed)
    degradation = Degradation(**dataclasses.asdict(recipe.degradation))
    return BatchMaker(task_of(model), source, data.batch_size, degradation, recipe.seed,
                      "train")


def stack_batches(batches):
    """A list of `(x, y)` or `x` batches -> one nest of arrays (the examples in order)."""
    return tf.nest.map_structure(lambda *parts: np.concatenate(parts), *batches)


def in_memory_dataset(batches, batch_size):
    """keras.io style: `from_tensor_slices(arrays).batch(batch_size)`."""
    return tf.data.Dataset.from_tensor_slices(stack_batches(batches)).batch(batch_size)


def fresh_model(recipe):
    """The recipe's model with the recipe's seed: every path starts from the same weights."""
    keras.utils.set_random_seed(recipe.seed)
    return build_model(recipe)


def _step_times(stamps):
    """Step times (s) from a run's start stamp followed by one stamp per step end."""
    return np.diff(np.asarray(stamps, dtype=np.float64)).tolist()


# --- the zoo path -----------------------------------------------------------------

class StepTimer(keras.callbacks.Callback):
    """Timestamps the start of the first training batch and the end of every batch
    (and keeps the first batch's logs)."""

    def __init__(self):
        super().__init__()
        self.stamps, self.first_logs = [], None

    def on_train_batch_begin(self, batch, logs=None):
        if not self.stamps:
            self.stamps.append(time.perf_counter())

    def on_train_batch_end(self, batch, logs=None):
        self.stamps.append(time.perf_counter())
        if self.first_logs is None:
            self.first_logs = {k: float(v) for k, v in (logs or {}).items()}


class ZooPath:
    """`zoo train`'s model, compile and data pipeline; `run(epoch)` times one epoch."""

    def __init__(self, recipe, jit_compile, warmup, steps):
        self.recipe = apply_overrides(recipe, jit_compile=jit_compile)
        training = self.recipe.training
        self.model = fresh_model(self.recipe)
        compile_model(self.model, self.recipe, training.epochs * training.steps_per_epoch)
        maker = batch_maker(self.recipe, self.model)
        workers = self.recipe.data.workers
        self.warm_batches = EpochBatches(maker, warmup, workers=workers)
        self.batches = EpochBatches(maker, steps, workers=workers)
        self.warm_dataset = to_tf_dataset(self.warm_batches)
        self.dataset = to_tf_dataset(self.batches)
        self.first_loss = None

    def _fit(self, dataset, batches, epoch):
        timer = StepTimer()
        callbacks = [FollowEpoch(batches), NaNGuard(self.recipe.training.learning_rate), timer]
        self.model.fit(dataset, initial_epoch=epoch, epochs=epoch + 1, callbacks=callbacks,
                       verbose=0)
        return timer

    def warm_up(self):
        timer = self._fit(self.warm_dataset, self.warm_batches, 0)
        logs = timer.first_logs
        self.first_loss = logs.get("loss", logs.get("d_loss"))

    def run(self, epoch):
        return _step_times(self._fit(self.dataset, self.batches, epoch).stamps)


# --- the keras.io reference loops -------------------------------------------------

def image_model_step(model, recipe, task):
    """The guide's `train_step(x, y)` for an image-to-image model (eager as written)."""
    from zoo.losses import ReconstructionLoss, SegmentationLoss
    from zoo.metrics import PSNR, SSIM, MaskedPSNR, MaskedSSIM, MeanDice, MeanIoU

    training = recipe.training
    optimizer = build_optimizer(training, training.epochs * training.steps_per_epoch)
    if task == "segment":
        loss_fn = SegmentationLoss(model.num_classes)
        metrics = [MeanIoU(model.num_classes), MeanDice(model.num_classes)]
    else:
        loss_fn = ReconstructionLoss()
        metrics = [PSNR(), SSIM()]
    hole_metrics = [MaskedPSNR(), MaskedSSIM()] if task == "inpaint" else []

    def train_step(x, y):
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            if task == "inpaint":
                loss_value = loss_fn.with_mask(y, pred, x["mask"])
            else:
                loss_value = loss_fn(y, pred)
            if model.losses:  # weight regularization, as in the guide
                loss_value += tf.add_n(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        for metric in metrics:
            metric.update_state(y, pred)
        for metric in hole_metrics:
            metric.update_state(y, pred, sample_weight=x["mask"])
        return loss_value

    return train_step


def gan_step(gan, recipe):
    """The keras.io DCGAN step: discriminator update, then generator update (two tapes)."""
    from zoo.losses import discriminator_loss, generator_loss

    training = recipe.training
    if training.r1_gamma > 0:
        raise NotImplementedError("the reference GAN loop has no R1 penalty (no shipped "
                                  "recipe uses one).")
    total = training.epochs * training.steps_per_epoch
    d_optimizer = build_optimizer(training, total, gan=True)
    g_optimizer = build_optimizer(training, total, gan=True)
    generator, discriminator = gan.generator, gan.discriminator
    kind, latent_dim = training.adversarial_loss, gan.latent_dim
    d_loss_metric, g_loss_metric = keras.metrics.Mean("d_loss"), keras.metrics.Mean("g_loss")
    seed_generator = keras.random.SeedGenerator(recipe.seed)

    def train_step(real_images):
        batch_size = tf.shape(real_images)[0]
        latents = keras.random.normal((batch_size, latent_dim), seed=seed_generator)
        generated_images = generator(latents, training=True)
        with tf.GradientTape() as tape:
            real_logits = discriminator(real_images, training=True)
            fake_logits = discriminator(generated_images, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits, kind)
            if discriminator.losses:
                d_loss += tf.add_n(discriminator.losses)
        grads = tape.gradient(d_loss, discriminator.trainable_weights)
        d_optimizer.apply(grads, discriminator.trainable_weights)

        latents = keras.random.normal((batch_size, latent_dim), seed=seed_generator)
        with tf.GradientTape() as tape:
            fake_logits = discriminator(generator(latents, training=True), training=True)
            g_loss = generator_loss(fake_logits, kind)
            if generator.losses:
                g_loss += tf.add_n(generator.losses)
        grads = tape.gradient(g_loss, generator.trainable_weights)
        g_optimizer.apply(grads, generator.trainable_weights)
        d_loss_metric.update_state(d_loss)
        g_loss_metric.update_state(g_loss)
        return d_loss

    return train_step


class LoopPath:
    """A keras.io training loop over in-memory batches, eager or in a `tf.function`."""

    def __init__(self, recipe, compiled, warm_batches, epoch_batches):
        self.recipe = recipe
        self.model = fresh_model(recipe)
        self.task = task_of(self.model)
        if self.task == "generate":
            step = gan_step(self.model, recipe)
        else:
            step = image_model_step(self.model, recipe, self.task)
        self.train_step = tf.function(step) if compiled else step
        self.warm_batches, self.epoch_batches = warm_batches, epoch_batches
        self.first_loss = None

    def _loop(self, batches):
        dataset = iter(in_memory_dataset(batches, self.recipe.data.batch_size))
        stamps = [time.perf_counter()]
        for batch in dataset:
            if self.task == "generate":
                loss_value = self.train_step(batch)
            else:
                x_batch_train, y_batch_train = batch
                loss_value = self.train_step(x_batch_train, y_batch_train)
            stamps.append(time.perf_counter())
            if self.first_loss is None:
                self.first_loss = float(loss_value)
        return stamps

    def warm_up(self):
        self._loop(self.warm_batches)

    def run(self, epoch):
        return _step_times(self._loop(self.epoch_batches[epoch]))


# --- one recipe -------------------------------------------------------------------

def measure_recipe(name, args, log):
    """Every path of one recipe: per-run median step times, interleaved across paths."""
    recipe = bench_recipe(name, args.crop, args.batch_size, args.quick)
    paths = {ZOO_OFF: ZooPath(recipe, False, args.warmup, args.steps),
             ZOO_XLA: ZooPath(recipe, True, args.warmup, args.steps)}
    zoo_path = paths[ZOO_OFF]
    epochs = range(1, args.repeats + 1)  # epoch 0 is the warm-up epoch, as in the zoo path
    started = time.perf_counter()
    warm = [zoo_path.warm_batches.batch_at(0, i) for i in range(args.warmup)]
    timed = {e: [zoo_path.batches.batch_at(e, i) for i in range(args.steps)] for e in epochs}
    log(f"  {name}: {args.warmup + args.steps * args.repeats} batches pre-generated for the "
        f"loops in {time.perf_counter() - started:.1f} s")
    paths[PLAIN] = LoopPath(recipe, False, warm, timed)
    paths[TF_FUNCTION] = LoopPath(recipe, True, warm, timed)
    for label, path in paths.items():
        started = time.perf_counter()
        path.warm_up()
        log(f"  {name}: {label}: warm-up epoch {time.perf_counter() - started:.1f} s")
    runs = {label: [] for label in paths}
    order = list(paths)
    for repeat, epoch in enumerate(epochs):
        rotated = order[repeat % len(order):] + order[:repeat % len(order)]
        for label in rotated:
            runs[label].append(paths[label].run(epoch))
        log(f"  {name}: run {repeat + 1}/{args.repeats}: " + ", ".join(
            f"{label} {statistics.median(runs[label][-1]) * 1e3:.1f} ms" for label in order))
    first_losses = {label: path.first_loss for label, path in paths.items()}
    return recipe, runs, first_losses


def summarize(name, recipe, runs, first_losses):
    """Rows of one recipe: median step, images/s and ratios vs the two loops."""
    batch = recipe.data.batch_size
    run_medians = {label: [statistics.median(steps) for steps in step_lists]
                   for label, step_lists in runs.items()}
    medians = {label: statistics.median(values) for label, values in run_medians.items()}
    images_per_s = {label: batch / median for label, median in medians.items()}
    rows = []
    for label, step_lists in runs.items():
        rows.append({
            "recipe": name, "family": RECIPES.get(name, name), "path": label,
            "xla": label == ZOO_XLA, "batch_size": batch,
            "crop_size": list(recipe.data.crop_size),
            "median_step_ms": medians[label] * 1e3,
            "run_step_ms": [t * 1e3 for t in run_medians[label]],
            "step_ms": [[round(t * 1e3, 3) for t in steps] for steps in step_lists],
            "images_per_s": images_per_s[label],
            "ratio_vs_plain_loop": images_per_s[label] / images_per_s[PLAIN],
            "ratio_vs_tf_function_loop": images_per_s[label] / images_per_s[TF_FUNCTION],
            "first_step_loss": first_losses[label],
        })
    return rows


def markdown_table(rows):
    lines = ["| family | recipe | path | XLA | median step ms | images/s | vs plain loop "
             "| vs tf.function loop |", "|---|---|---|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['family']} | `{r['recipe']}` | {r['path']} | "
                     f"{'on' if r['xla'] else 'off'} | {r['median_step_ms']:.1f} | "
                     f"{r['images_per_s']:.1f} | {r['ratio_vs_plain_loop']:.2f}x | "
                     f"{r['ratio_vs_tf_function_loop']:.2f}x |")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", default=",".join(DEFAULT_RECIPES),
                        help="comma-separated recipes (shipped names or TOML files), or "
                             f"'all' for {', '.join(RECIPES)} (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per path")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per run (default 5; 3 with --quick)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="steps of the discarded first epoch (default 1)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="override every recipe's batch size")
    parser.add_argument("--crop", type=int, default=None,
                        help="override every recipe's (square) crop size")
    parser.add_argument("--quick", action="store_true",
                        help="tiny widths, crop 16, batch 2, few steps: checks it runs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result file")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else dict(crop=None, batch_size=None, steps=5, warmup=1)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    names = [r.strip() for r in args.recipes.split(",") if r.strip()]
    args.recipes = list(RECIPES) if names == ["all"] else names
    if not args.recipes:
        parser.error("--recipes names no recipe.")
    if min(args.repeats, args.steps, args.warmup) < 1:
        parser.error("--repeats, --steps and --warmup must be >= 1.")
    return args


def main(argv=None):
    args = parse_args(argv)
    command = shlex.join(["python", "benchmarks/train_throughput.py",
                          *(sys.argv[1:] if argv is None else argv)])

    def log(message):
        print(message, file=sys.stderr, flush=True)

    started, load_before = time.perf_counter(), load_average()
    rows = []
    for name in args.recipes:
        recipe, runs, first_losses = measure_recipe(name, args, log)
        rows.extend(summarize(name, recipe, runs, first_losses))
        keras.backend.clear_session()
    seconds = time.perf_counter() - started
    table = markdown_table(rows)
    print(table)
    print(f"\n`{command}`: medians of {args.repeats} runs x {args.steps} steps "
          f"({args.warmup}-step warm-up epoch discarded), {seconds / 60:.1f} min.")
    result = {
        "benchmark": "train_throughput", "command": command,
        "settings": {"repeats": args.repeats, "steps": args.steps, "warmup": args.warmup,
                     "quick": args.quick, "batch_size_override": args.batch_size,
                     "crop_override": args.crop},
        "machine": machine_info(), "seconds": seconds,
        # Other work on the machine slows every path; the ratios are taken within one run.
        "load_average": {"start": load_before, "end": load_average()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "paths": {ZOO_OFF: "model.fit on to_tf_dataset(EpochBatches), jit_compile=False",
                  ZOO_XLA: "model.fit on to_tf_dataset(EpochBatches), jit_compile=True",
                  PLAIN: "keras.io GradientTape loop, eager, batches pre-generated in memory",
                  TF_FUNCTION: "the same loop step in @tf.function, batches in memory"},
        "rows": rows, "table": table,
    }
    write_json(result, args.out)
    log(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
