"""The reference DCGAN for the quality benchmark: the plain keras.io way, no zoo code.

What a Keras user would write after reading the keras.io DCGAN example: a
`keras.Sequential` generator (Dense -> Reshape -> Conv2DTranspose stack with batch
normalization and LeakyReLU -> sigmoid convolution), a `keras.Sequential`
discriminator (strided Conv2D + LeakyReLU, Flatten, Dropout, a sigmoid Dense unit),
binary cross-entropy with slightly noisy labels, and a `keras.Model` subclass whose
`train_step` runs one discriminator and one generator update under `tf.GradientTape`.
Only the sizes follow the zoo presets (`REFERENCE_CONFIGS`: latent size and the
widths of zoo/presets/dcgan-*/recipe.toml) so that the benchmark compares training
setups of about the same capacity, at equal steps and batch size, on the same batches.

Where it differs from the zoo's recipes on purpose (it is the plain baseline): BCE
for both presets (the texture preset trains with the hinge loss), no spectral
normalization, LeakyReLU in the generator, a 5x5 output convolution, dropout in the
discriminator and 5% label noise as in the keras.io example. The optimizer is the
DCGAN paper's Adam(2e-4, beta_1=0.5), which the zoo uses as well.

TensorFlow backend only (the train step uses `tf.GradientTape`).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

# Latent size and widths per image shape, from the dcgan-digits / dcgan-textures recipes.
REFERENCE_CONFIGS = {
    (32, 32, 1): {"latent_dim": 64, "generator_filters": (128, 64, 32),
                  "discriminator_filters": (32, 64, 128)},
    (64, 64, 1): {"latent_dim": 100, "generator_filters": (128, 64, 32, 16),
                  "discriminator_filters": (16, 32, 64, 128)},
}
# The zoo presets' data: dataset, batch size, augmentation, seed (recipe.toml [data]).
ZOO_DATA = {
    "digits": {"image_shape": (32, 32, 1), "batch_size": 64, "augment": False},
    "textures": {"image_shape": (64, 64, 1), "batch_size": 32, "augment": True},
}
LABEL_NOISE = 0.05  # keras.io: "add random noise to the labels - important trick!"


def _widths(image_shape, generator_filters, discriminator_filters):
    """Filters per level, from the arguments or `REFERENCE_CONFIGS`; (tuple, tuple)."""
    config = REFERENCE_CONFIGS.get(tuple(image_shape), {})
    generator_filters = generator_filters or config.get("generator_filters")
    discriminator_filters = discriminator_filters or config.get("discriminator_filters")
    if not generator_filters or not discriminator_filters:
        raise ValueError(f"no reference widths for image_shape {tuple(image_shape)}; pass "
                         "generator_filters and discriminator_filters")
    depth = len(generator_filters)
    height, width = image_shape[:2]
    if height % 2**depth or width % 2**depth:
        raise ValueError(f"image_shape {tuple(image_shape)} is not divisible by 2**{depth}")
    return tuple(generator_filters), tuple(discriminator_filters)


def build_generator(image_shape, latent_dim, filters):
    """Sequential: latent (B, latent_dim) -> images (B, H, W, C) in [0, 1] (sigmoid).

    Dense to an (H / 2**L, W / 2**L, filters[0]) grid, then L = len(filters)
    Conv2DTranspose(4, stride 2) + BatchNormalization + LeakyReLU(0.2) levels,
    then a 5x5 sigmoid Conv2D to C channels.
    """
    height, width, channels = image_shape
    scale = 2 ** len(filters)
    stack = [keras.Input((latent_dim,)),
             layers.Dense(height // scale * width // scale * filters[0]),
             layers.Reshape((height // scale, width // scale, filters[0]))]
    for level_filters in filters:
        stack += [layers.Conv2DTranspose(level_filters, 4, strides=2, padding="same"),
                  layers.BatchNormalization(), layers.LeakyReLU(negative_slope=0.2)]
    stack.append(layers.Conv2D(channels, 5, padding="same", activation="sigmoid"))
    return keras.Sequential(stack, name="reference_generator")


def build_discriminator(image_shape, filters, dropout=0.2):
    """Sequential: images (B, H, W, C) in [0, 1] -> probability of "real" (B, 1).

    len(filters) Conv2D(4, stride 2) + LeakyReLU(0.2) levels, Flatten, Dropout, and a
    sigmoid Dense unit.
    """
    stack = [keras.Input(tuple(image_shape))]
    for width in filters:
        stack += [layers.Conv2D(width, 4, strides=2, padding="same"),
                  layers.LeakyReLU(negative_slope=0.2)]
    stack += [layers.Flatten(), layers.Dropout(dropout), layers.Dense(1, activation="sigmoid")]
    return keras.Sequential(stack, name="reference_discriminator")


class ReferenceGAN(keras.Model):
    """Generator + discriminator trained by `fit(images)`: one D step, then one G step.

    `fit` takes real images (B, H, W, C) in [0, 1]; `d_loss` and `g_loss` are logged.
    """

    def __init__(self, generator, discriminator, latent_dim, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def _latent(self, batch_size):
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def train_step(self, data):
        import tensorflow as tf

        real_images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        batch_size = tf.shape(real_images)[0]
        fake_images = self.generator(self._latent(batch_size), training=True)
        images = tf.concat([real_images, fake_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        labels += LABEL_NOISE * keras.random.uniform(tf.shape(labels),
                                                     seed=self.seed_generator)
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(images, training=True))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(
            zip(grads, self.discriminator.trainable_weights, strict=True))

        latent = self._latent(batch_size)
        with tf.GradientTape() as tape:
            judged = self.discriminator(self.generator(latent, training=True), training=True)
            g_loss = self.loss_fn(tf.ones((batch_size, 1)), judged)  # "these are real"
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(
            zip(grads, self.generator.trainable_weights, strict=True))

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


class _Batches(keras.utils.PyDataset):
    """`steps` batches: batch i is `batch_fn(i)`, (batch_size, H, W, C) float32."""

    def __init__(self, batch_fn, steps):
        super().__init__()
        self.batch_fn, self.steps = batch_fn, steps

    def __len__(self):
        return self.steps

    def __getitem__(self, index):
        return np.asarray(self.batch_fn(index), np.float32)


def array_batches(images, batch_size, seed=0):
    """batch_fn(step) -> (batch_size, H, W, C): images drawn uniformly (with replacement
    across the batch, as the zoo's sources draw) from `images` (N, H, W, C) in [0, 1]."""
    images = np.asarray(images, np.float32)
    if images.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C), got shape {images.shape}")

    def batch_fn(step):
        rng = np.random.default_rng([seed, step])
        return images[rng.integers(len(images), size=batch_size)]

    return batch_fn


def zoo_batches(dataset, batch_size=None, seed=0, steps_per_epoch=100, augment=None):
    """batch_fn(step) -> the batch the zoo's training run of the preset sees at `step`.

    The batches of `zoo train` for `dataset` ("digits" or "textures"): the same
    `open_source` train source (32x32 digits, or 64x64 texture crops) and the same
    `BatchMaker`, with batch `step` = batch `step % steps_per_epoch` of epoch
    `step // steps_per_epoch`. `batch_size` and `augment` default to the preset
    recipe's (`ZOO_DATA`), `seed` and `steps_per_epoch` must match the run's recipe
    (the presets use 0 and 100).
    """
    from training.pipeline import BatchMaker
    from training.sources import open_source
    from training.tasks import Degradation

    if dataset not in ZOO_DATA:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(ZOO_DATA)}")
    data = ZOO_DATA[dataset]
    height, width, channels = data["image_shape"]
    source = open_source(dataset, "train", crop_size=(height, width), channels=channels,
                         augment=data["augment"] if augment is None else augment, seed=seed)
    maker = BatchMaker("generate", source, batch_size or data["batch_size"], Degradation(),
                       seed=seed, split="train")

    def batch_fn(step):
        images, _ = maker.batch(step // steps_per_epoch, step % steps_per_epoch)
        return images

    return batch_fn


def train_reference(images_or_batch_fn, image_shape, latent_dim, steps, batch_size, seed=0,
                    generator_filters=None, discriminator_filters=None, learning_rate=2e-4,
                    verbose=0):
    """Train the reference DCGAN for `steps` steps; returns the generator (a keras.Sequential).

    images_or_batch_fn: real images (N, H, W, C) float32 in [0, 1], drawn as random
    batches of `batch_size` (`array_batches`), or a function step -> (B, H, W, C) such
    as `zoo_batches(...)` (then `batch_size` is only checked against its batches).
    image_shape: (H, W, C); latent_dim: latent size. Widths default to
    `REFERENCE_CONFIGS[image_shape]`. Adam(learning_rate, beta_1=0.5) for both networks.
    Seeded: weights, latents and label noise follow `seed`.
    """
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("the reference DCGAN uses tf.GradientTape: set "
                           f"KERAS_BACKEND=tensorflow (got {keras.backend.backend()!r})")
    image_shape = tuple(image_shape)
    g_filters, d_filters = _widths(image_shape, generator_filters, discriminator_filters)
    batch_fn = (images_or_batch_fn if callable(images_or_batch_fn)
                else array_batches(images_or_batch_fn, batch_size, seed))
    first = np.asarray(batch_fn(0))
    if first.shape != (batch_size, *image_shape):
        raise ValueError(f"batches are {first.shape}, expected {(batch_size, *image_shape)}")
    keras.utils.set_random_seed(seed)
    gan = ReferenceGAN(build_generator(image_shape, latent_dim, g_filters),
                       build_discriminator(image_shape, d_filters), latent_dim, seed=seed)
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
                loss_fn=keras.losses.BinaryCrossentropy())
    gan.fit(_Batches(batch_fn, steps), epochs=1, verbose=verbose)
    return gan.generator


def generate(generator, n, seed=0, batch_size=256):
    """`n` images from `generator`: float32 (n, H, W, C) in [0, 1]; latents N(0, 1) drawn
    from numpy with `seed`, so the same seed gives the same images."""
    latent_dim = generator.input_shape[-1]
    latent = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)
    images = generator.predict(latent, batch_size=batch_size, verbose=0)
    return np.clip(images, 0.0, 1.0).astype(np.float32)
