"""Batches for `fit`: deterministic in (seed, split, epoch, index), on any backend.

`BatchMaker.batch(epoch, index)` is the single place batches come from. Two
wrappers hand them to Keras:

- `EpochBatches`, a `keras.utils.PyDataset`: needs no TensorFlow, so training
  runs under `KERAS_BACKEND=jax` (and works on TensorFlow too);
- `to_tf_dataset(batches)`: a `tf.data` pipeline that prefetches while the
  model trains (TensorFlow backend, and what tf.distribute strategies take).

Both read the epoch from `EpochBatches.epoch`. In a plain `fit` it advances by itself
at each epoch's end; the `FollowEpoch` callback sets it at the start of every epoch,
so a run resumed at epoch 5 (`zoo train --resume`) sees exactly the batches an
uninterrupted run sees at epoch 5: same seed, same batches.

`batches_for(model, "my_photos")` builds the whole chain for a model from a folder of
images or a dataset name: fine-tuning is that line and `model.fit(batches)`.
"""

from pathlib import Path

import keras
import numpy as np

from training.tasks import make_example_batch

SPLIT_STREAMS = {"train": 0, "validation": 1}


class BatchMaker:
    """Batches of `batch_size` examples for `task` drawn from `source`.

    Example `i` of epoch `e` depends only on (seed, split, e, i), never on what
    was drawn before, so any batch can be regenerated on its own.
    """

    def __init__(self, task, source, batch_size, degradation, seed=0, split="train",
                 noise_level=False):
        if split not in SPLIT_STREAMS:
            raise ValueError(f"Unknown split {split!r}; expected train or validation.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
        self.task, self.source, self.batch_size = task, source, int(batch_size)
        self.degradation, self.seed, self.split = degradation, int(seed), split
        self.noise_level = noise_level  # denoising x carries each image's sigma

    def batch(self, epoch, index):
        """`(x, y)` for batch `index` of `epoch`; `y` is None for generation."""
        rng = np.random.default_rng([self.seed, SPLIT_STREAMS[self.split], epoch, index])
        samples = [self.source.sample(rng) for _ in range(self.batch_size)]
        images = np.stack([image for image, _ in samples]).astype(np.float32)
        labels = None if samples[0][1] is None else np.stack([lab for _, lab in samples])
        return make_example_batch(self.task, rng, images, self.degradation, labels,
                                  noise_level=self.noise_level)


class EpochBatches(keras.utils.PyDataset):
    """`steps` batches per epoch from a `BatchMaker`, as a Keras `PyDataset`.

    `fixed_epoch` pins the epoch (validation data: the same batches every time).
    `workers` > 1 prepares batches in threads while the model trains.
    """

    def __init__(self, maker, steps, fixed_epoch=None, workers=1):
        super().__init__(workers=workers, use_multiprocessing=False)
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}.")
        self.maker, self.steps, self.fixed_epoch = maker, int(steps), fixed_epoch
        self.epoch = 0
        self.followed = False  # set by FollowEpoch, which then owns `epoch`
        self._in_epoch = False

    def __len__(self):
        return self.steps

    def batch_at(self, epoch, index):
        x, y = self.maker.batch(epoch if self.fixed_epoch is None else self.fixed_epoch, index)
        return x if y is None else (x, y)

    def __getitem__(self, index):
        if not 0 <= index < self.steps:
            raise IndexError(f"batch {index} out of range (0..{self.steps - 1})")
        return self.batch_at(self.epoch, index)

    def on_epoch_begin(self):
        self._in_epoch = True

    def on_epoch_end(self):
        """Keras calls this after each epoch (and once more when an iteration is reset,
        outside any epoch): a finished epoch moves on to the next epoch's batches."""
        if self._in_epoch and not self.followed:
            self.epoch += 1
        self._in_epoch = False


def degraded_examples(task, dataset, split, size, count, *, channels=3, degradation=None,
                      seed=0, noise_level=False, path=None):
    """`(inputs, target)`: `count` un-augmented crops of `size` = (H, W) from `dataset`'s
    `split`, made into one batch of `task` as training makes them: inputs {name: float32
    array (count, ...)}, the image (count, H, W, C) in [0, 1] among them, and the target
    (the clean crops; labels for segmentation)."""
    from training.sources import open_source
    from training.tasks import Degradation

    source = open_source(dataset, split, tuple(size), channels, augment=False, path=path)
    x, y = BatchMaker(task, source, count, degradation or Degradation(), seed=seed,
                      split=split, noise_level=noise_level).batch(0, 0)
    inputs = x if isinstance(x, dict) else {"image": x}
    return {k: np.asarray(v, np.float32) for k, v in inputs.items()}, y


def recipe_examples(model, recipe, size, count, split, *, channels=3, seed=0):
    """`degraded_examples` from `recipe`'s dataset and degradation, for `model`'s task
    (with its noise-level input where it has one)."""
    from training.tasks import Degradation, task_of
    from zoo.inference import takes_noise_level

    return degraded_examples(task_of(model), recipe.data.dataset, split, size, count,
                             channels=channels,
                             degradation=Degradation(**recipe.degradation.__dict__),
                             seed=seed, noise_level=takes_noise_level(model),
                             path=recipe.data.path)


def batches_for(model, data, *, split="train", crop_size=(64, 64), batch_size=8, steps=100,
                degradation=None, seed=0, augment=None):
    """`steps` batches per epoch for fitting (or validating) `model`: crops of
    `crop_size` from `data`, degraded for the model's task (holes for an inpainter,
    Gaussian noise, with its sigma as `noise_level` where the model takes one, for a
    denoiser; labels for a segmenter).

    Args:
        model: a zoo repair or segmentation model (its task, channels and inputs are
            read from it).
        data: a folder of images (split by whole files, `training.image_folder`) or a
            dataset name (`training.datasets.DATASETS`).
        split: "train" (augmented, a new draw every epoch) or "validation" (the same
            batches every epoch).
        degradation: a `training.tasks.Degradation` (default: its defaults: mixed
            masks covering 2-25 % of a crop, sigma 0-50).
    Returns: an `EpochBatches` (a `keras.utils.PyDataset`) for `model.fit`.
    """
    from training.sources import open_source
    from training.tasks import Degradation, model_image_shape, task_of
    from zoo.inference import takes_noise_level

    task = task_of(model)
    channels = model_image_shape(model)[2]
    name, path = ("folder", str(data)) if Path(str(data)).is_dir() else (str(data), None)
    validation = split == "validation"
    source = open_source(name, split, crop_size=tuple(crop_size), channels=channels,
                         augment=not validation if augment is None else augment, path=path,
                         seed=seed)
    maker = BatchMaker(task, source, batch_size, degradation or Degradation(), seed, split,
                       task == "denoise" and takes_noise_level(model))
    return EpochBatches(maker, steps, fixed_epoch=0 if validation else None)


def to_tf_dataset(batches):
    """The batches of an `EpochBatches` as a `tf.data.Dataset` (TensorFlow) that makes
    `batches.workers` batches in parallel and prefetches while the model trains.

    Batch `i` is `batches.batch_at(batches.epoch, i)`, a pure function of the epoch and
    the index, so parallel calls keep the same batches in the same order. The epoch
    is read when a batch is made; Keras starts each epoch's iterator after
    `FollowEpoch` has set it.
    """
    import tensorflow as tf

    structure = batches.batch_at(0, 0)
    example = tf.nest.flatten(structure)

    def make(index):
        return tf.nest.flatten(batches.batch_at(batches.epoch, int(index)))

    def fetch(index):
        tensors = tf.numpy_function(make, [index], [tf.as_dtype(a.dtype) for a in example])
        for tensor, array in zip(tensors, example, strict=True):
            tensor.set_shape((None, *array.shape[1:]))
        return tf.nest.pack_sequence_as(structure, tensors)

    dataset = tf.data.Dataset.range(len(batches)).map(
        fetch, num_parallel_calls=max(1, batches.workers), deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


class FollowEpoch(keras.callbacks.Callback):
    """Tells the datasets which epoch starts (also after `BackupAndRestore` resumes)."""

    def __init__(self, *datasets):
        super().__init__()
        self.datasets = [d for d in datasets if d is not None]
        for dataset in self.datasets:
            dataset.followed = True

    def on_epoch_begin(self, epoch, logs=None):
        for dataset in self.datasets:
            dataset.epoch = epoch
