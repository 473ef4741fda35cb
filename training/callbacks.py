"""Callbacks of a training run: sample grids, best checkpoint, a NaN guard that explains.

Keras' own `BackupAndRestore`, `CSVLogger` and `TensorBoard` do the rest (see
`training.run`).
"""

import csv
import importlib.util
import math
import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

from zoo_lite.image_io import (
    colorize_labels,
    image_grid,
    replaced_on_success,
    save_png,
    tile,
    to_rgb8,
    write_json,
)


def tensorboard_available():
    """TensorBoard logs need TensorFlow and the tensorboard package; a JAX-only
    machine may have neither."""
    return all(importlib.util.find_spec(name) is not None
               for name in ("tensorflow", "tensorboard"))


def render_samples(model, task, x, y, latents=None):
    """A uint8 grid showing what the model does now.

    inpaint / denoise: one row per example, columns degraded | restored | target;
    segment: image | predicted classes | true classes; generate: the images the
    generator makes from the fixed `latents`.
    """
    if task == "generate":
        images = model.generator.predict(latents, verbose=0)
        return tile(to_rgb8(images))
    prediction = model.predict(x, verbose=0)
    if task == "segment":
        predicted = np.argmax(prediction, axis=-1)
        return image_grid([to_rgb8(x), colorize_labels(predicted), colorize_labels(y)])
    if task == "inpaint":
        # Holes are shown in mid grey so the degraded column shows what is missing.
        degraded = x["image"] * (1 - x["mask"]) + 0.5 * x["mask"]
    else:
        degraded = x["image"] if isinstance(x, dict) else x  # a noise_level input rides along
    return image_grid([to_rgb8(degraded), to_rgb8(prediction), to_rgb8(y)])


class SampleGrid(keras.callbacks.Callback):
    """Saves `samples/epoch_NNN.png` every `every` epochs (and to TensorBoard when
    `tensorboard_dir` is given and TensorBoard is installed).

    `x`, `y`: a fixed validation batch (repair models); `latents`: fixed generator
    inputs (GAN), so successive grids show the same examples.
    """

    def __init__(self, task, out_dir, every=1, x=None, y=None, latents=None,
                 tensorboard_dir=None):
        super().__init__()
        self.task, self.out_dir, self.every = task, Path(out_dir), int(every)
        self.x, self.y, self.latents = x, y, latents
        self.tensorboard_dir = tensorboard_dir if tensorboard_available() else None
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        if self.every < 1 or (epoch + 1) % self.every:
            return
        grid = render_samples(self.model, self.task, self.x, self.y, self.latents)
        save_png(grid, self.out_dir / f"epoch_{epoch + 1:03d}.png")
        if self.tensorboard_dir is not None:
            self._write_tensorboard(grid, epoch)

    def _write_tensorboard(self, grid, epoch):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.tensorboard_dir))
        with self._writer.as_default():
            tf.summary.image("samples", grid[None], step=epoch + 1)
        self._writer.flush()


class EpochClock(keras.callbacks.Callback):
    """Appends `epoch,seconds,finished_unix` to a CSV at each epoch's end: how long the
    epoch took (training and validation) and when it finished, so a training curve can
    be drawn against hours of training across resumed runs and machines."""

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        finished = time.time()
        new = not self.path.exists()
        with open(self.path, "a") as handle:
            if new:
                handle.write("epoch,seconds,finished_unix\n")
            handle.write(f"{epoch},{finished - self._started:.2f},{finished:.0f}\n")


class RunBackup(keras.callbacks.BackupAndRestore):
    """Keras' `BackupAndRestore` (what `--resume` continues from), with two changes:

    - its weights and metadata are written through temporary names and renamed, so a
      kill while it saves leaves the previous epoch's backup whole, and the metadata
      records `schedule_offset` (`training.run.schedule_offset`);
    - it is kept when `fit` ends: the runner removes it only after `model.keras` and
      `metrics.json` are written, so a run killed in between resumes with no epoch left
      to train and only writes them.
    """

    def __init__(self, backup_dir, schedule_offset=0):
        super().__init__(str(backup_dir), delete_checkpoint=False)
        self.schedule_offset = int(schedule_offset)

    def _save_model(self):  # Keras' hook, called at each epoch's end
        with replaced_on_success(self._weights_path, ".partial.weights.h5") as temporary:
            self.model.save_weights(temporary)
        write_json({"epoch": self._current_epoch, "batch": self._last_batch_seen,
                    "schedule_offset": self.schedule_offset}, self._training_metadata_path)


class BestModel(keras.callbacks.Callback):
    """Saves the model to `path` (a `.keras` file) whenever `monitor` improves (lower is
    better); written to a temporary file and renamed, so a kill never leaves a broken
    checkpoint. `history`: the run's CSV log; a resumed run starts from the best value
    it holds, so its first epoch does not replace a better checkpoint."""

    def __init__(self, path, monitor="val_loss", history=None):
        super().__init__()
        self.path, self.monitor = Path(path), monitor
        self.best = _best_logged(history, monitor) if self.path.exists() else math.inf

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not value < self.best:
            return
        self.best = float(value)
        save_model_atomically(self.model, self.path)


def _best_logged(history, monitor):
    """The lowest finite `monitor` value in a CSVLogger file, or inf."""
    if history is None or not Path(history).is_file():
        return math.inf
    with open(history, newline="") as handle:
        values = [float(row[monitor]) for row in csv.DictReader(handle)
                  if row.get(monitor) not in (None, "")]
    finite = [v for v in values if math.isfinite(v)]
    return min(finite, default=math.inf)


def save_model_atomically(model, path):
    """`model.save(path)` through a temporary `.keras` file in the same folder."""
    with replaced_on_success(path, ".partial.keras") as temporary:
        model.save(temporary)
    return path


class TrainingDiverged(RuntimeError):
    """The loss or the weights stopped being finite numbers."""


# A trained image model's weights are of order 1; weights past this size mean the updates
# ran away, even while a loss of clipped outputs stays finite.
WEIGHT_LIMIT = 1e8
# An epoch whose mean training loss is this many times the run's best epoch has collapsed:
# seen as an output clipped to a constant, where the clip passes no gradient and the run
# never recovers (a denoiser went from 0.033 to 0.34, an inpainter from 0.050 to 0.31).
COLLAPSE_FACTOR = 4.0
# A loss in decibels (-PSNR, `training.pixel_loss = "psnr"`) is negative and compared by
# difference: the same factor in error amplitude, 20 log10(4) = 12 dB.
COLLAPSE_DB = 20.0 * math.log10(COLLAPSE_FACTOR)


def largest_weight(model):
    """The largest absolute value among the model's floating-point weights (inf when one
    is NaN or infinite), in one reduction on the device."""
    values = [ops.max(ops.abs(ops.where(ops.isnan(w.value), math.inf, w.value)))
              for w in model.weights if "float" in str(w.dtype)]
    return float(ops.max(ops.stack(values))) if values else 0.0


class NaNGuard(keras.callbacks.Callback):
    """Stops a run that blew up before anything of it is saved, raising `TrainingDiverged`
    with a message saying what to try: at the first non-finite loss; at each epoch's end
    when a weight is NaN, infinite or larger than `WEIGHT_LIMIT` (outputs clipped to
    [0, 1] keep the loss finite while the weights run off); and when the epoch's mean
    `loss` is over `COLLAPSE_FACTOR` times the best epoch's of this run (or, for a loss
    in dB that is negative, `COLLAPSE_DB` above it; `history`, the
    run's CSV log, carries the best across --resume). The backup then still holds the last
    good epoch, for `--init-from` with a changed recipe.

    List it first: its `on_epoch_end` then runs before any callback that writes a
    checkpoint, the backup or a log row, so those keep the last good epoch.
    """

    def __init__(self, learning_rate=None, mixed_precision="none", history=None):
        super().__init__()
        self.learning_rate, self.mixed_precision = learning_rate, mixed_precision
        self.epoch = 0
        self.best_loss = _best_logged(history, "loss")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = {k: float(v) for k, v in (logs or {}).items()
               if k.endswith("loss") and not np.isfinite(float(v))}
        if bad:
            names = ", ".join(f"{k}={v}" for k, v in bad.items())
            self._stop(f"in epoch {self.epoch + 1}, batch {batch} the loss is not finite "
                       f"({names})")

    def on_epoch_end(self, epoch, logs=None):
        largest = largest_weight(self.model)
        if not math.isfinite(largest):
            self._stop(f"in epoch {epoch + 1} the weights became NaN or infinite")
        if largest > WEIGHT_LIMIT:
            self._stop(f"in epoch {epoch + 1} the weights grew to {largest:.3g} "
                       f"(limit {WEIGHT_LIMIT:g})")
        loss = (logs or {}).get("loss")
        if loss is None:  # a GAN logs its two losses, which trade off by design
            return
        loss, best = float(loss), self.best_loss
        if best > 0:
            collapsed, by = loss > COLLAPSE_FACTOR * best, f"{loss / best:.1f} times"
        else:
            collapsed, by = loss > best + COLLAPSE_DB, f"{loss - best:.1f} above"
        if collapsed:
            self._stop(f"in epoch {epoch + 1} the mean loss jumped to {loss:.4g}, {by} the "
                       f"best epoch's ({best:.4g}): the model collapsed")
        self.best_loss = min(best, loss)

    def _stop(self, what):
        hints = ["lower training.learning_rate"
                 + (f" (now {self.learning_rate:g})" if self.learning_rate else ""),
                 "set training.clipnorm (e.g. 1.0)"]
        if self.mixed_precision != "none":
            hints.append(f"turn off mixed precision (now {self.mixed_precision})")
        hints.append("check the data: images must be float32 in [0, 1]")
        raise TrainingDiverged(f"training diverged: {what}; nothing of this epoch was saved. "
                               f"Try: {'; '.join(hints)}; then train again (--init-from "
                               "this run folder starts from its last good epoch).")
