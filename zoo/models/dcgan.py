"""DCGAN: a generator and a discriminator trained adversarially by `fit(images)`."""

import keras
from keras import ops

from zoo.layers import check_choice
from zoo.losses import ADVERSARIAL_LOSSES
from zoo.models import gan_train_steps
from zoo.models.dcgan_networks import DCGANDiscriminator, DCGANGenerator
from zoo.models.from_preset import FromPreset
from zoo.models.gan_optimizers import GANOptimizers
from zoo.registry import register_model

SUPPORTED_BACKENDS = ("tensorflow", "jax")


def _dcgan_optimizer():
    # Radford et al. 2016: Adam, learning rate 2e-4, beta_1 0.5.
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


@keras.saving.register_keras_serializable(package="zoo")
class DCGAN(FromPreset, keras.Model):
    """Holds a generator and a discriminator; `fit(images)` trains both.

    `fit` takes images (B, H, W, C) float32 in [0, 1] (targets, if any, are
    ignored). Each step updates the discriminator once, then the generator once;
    `d_loss` and `g_loss` show in the progress bar. `generate(n, seed)` returns
    images (n, H, W, C) in [0, 1]. Calling the model on a latent batch (B, latent_dim)
    runs the generator; on an image batch it returns the discriminator's logits
    (B, 1), which is how `fit` builds it under a distribution strategy.

    Args:
        generator: a model mapping (B, latent_dim) to (B, H, W, C) in [0, 1].
        discriminator: a model mapping (B, H, W, C) to one logit (B, 1).
        seed: seed of the latent sampling during training (None: random).
    """

    def __init__(self, generator, discriminator, seed=None, **kwargs):
        super().__init__(**kwargs)
        image_shape = tuple(generator.output_shape[1:])
        if image_shape != tuple(discriminator.input_shape[1:]):
            raise ValueError(f"The generator makes images of shape {image_shape} but the "
                             f"discriminator takes {tuple(discriminator.input_shape[1:])}.")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.input_shape[-1])
        self.image_shape = image_shape
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=False):
        if len(inputs.shape) == 2:
            return self.generator(inputs, training=training)
        return self.discriminator(inputs, training=training)

    # === The contract (zoo.models.contract) ===
    task = "generate"
    own_train_step = True

    def served_network(self):
        """The generator: what is served and exported (latent in, image out)."""
        return self.generator

    def networks(self):
        return [self.generator, self.discriminator]

    def compile(self, d_optimizer=None, g_optimizer=None, loss="bce", r1_gamma=0.0, **kwargs):
        """Standard setup with no arguments: Adam(2e-4, beta_1=0.5) for both networks and
        the non-saturating BCE loss.

        Args:
            d_optimizer, g_optimizer: optimizers (instances, names or configs).
            loss: `bce` (non-saturating), `hinge` or `lsgan` (least squares).
            r1_gamma: weight of the R1 gradient penalty on real images (0 = off).
        """
        check_choice("adversarial loss", loss, ADVERSARIAL_LOSSES)
        if r1_gamma < 0:
            raise ValueError(f"r1_gamma must be >= 0, got {r1_gamma}.")
        if keras.backend.backend() not in SUPPORTED_BACKENDS:
            raise NotImplementedError(f"DCGAN training supports the {SUPPORTED_BACKENDS} "
                                      f"backends, not {keras.backend.backend()!r}.")
        d_optimizer = keras.optimizers.get(d_optimizer or _dcgan_optimizer())
        g_optimizer = keras.optimizers.get(g_optimizer or _dcgan_optimizer())
        if self.dtype_policy.name == "mixed_float16":
            # fit() only scales one optimizer's loss; scale both here.
            d_optimizer = _loss_scaled(d_optimizer)
            g_optimizer = _loss_scaled(g_optimizer)
        optimizers = GANOptimizers(d_optimizer, g_optimizer)
        optimizers.build_for(self.discriminator, self.generator)
        kwargs.pop("optimizer", None)
        super().compile(optimizer=optimizers, auto_scale_loss=False, **kwargs)
        self.adversarial_loss = loss
        self.r1_gamma = float(r1_gamma)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    @property
    def d_optimizer(self):
        return self.optimizer.d_optimizer

    @property
    def g_optimizer(self):
        return self.optimizer.g_optimizer

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker] if self.compiled else []

    def update_loss_trackers(self, d_loss, g_loss):
        """Record one step's losses; returns the running means as the logs dict."""
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, *args):
        if keras.backend.backend() == "jax":
            state, data = args
            return gan_train_steps.jax_train_step(self, state, _images(data))
        return gan_train_steps.tensorflow_train_step(self, _images(args[0]))

    def generate(self, n, seed=None):
        """`n` images as a numpy array (n, H, W, C) in [0, 1]; the same `seed` gives the
        same images."""
        latent = keras.random.normal((n, self.latent_dim), seed=seed)
        return ops.convert_to_numpy(self.generator(latent, training=False))

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            "d_optimizer": keras.optimizers.serialize(_unscaled(self.d_optimizer)),
            "g_optimizer": keras.optimizers.serialize(_unscaled(self.g_optimizer)),
            "loss": self.adversarial_loss,
            "r1_gamma": self.r1_gamma,
        }

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer"):
            config[key] = keras.optimizers.deserialize(config[key])
        self.compile(**config)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _images(data):
    images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
    return images


def _loss_scaled(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)


def _unscaled(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.inner_optimizer
    return optimizer


@register_model("dcgan", family="gan", task="generate",
                tiny_config=dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=(8, 4),
                                 discriminator_filters=(4, 8), seed=1),
                variants=[dict(spectral_norm=True)],
                demo_config=dict(image_shape=(32, 32, 1), latent_dim=32,
                                 generator_filters=(64, 32), discriminator_filters=(32, 64)))
def dcgan(image_shape=(32, 32, 3), latent_dim=128, generator_filters=(256, 128, 64),
          discriminator_filters=(64, 128, 256), depth=None, kernel_size=4,
          upsampling="transpose", pooling="strided", generator_activation="relu",
          discriminator_activation="leaky_relu", generator_normalization="batch",
          discriminator_normalization="none", spectral_norm=False, dropout=0.0,
          l1=0.0, l2=0.0, seed=None, name="dcgan"):
    """DCGAN generator + discriminator (latent -> image in [0, 1]), trained by `fit(images)`.

    Builds a `DCGAN` from a `DCGANGenerator` and a `DCGANDiscriminator` sharing
    `image_shape` (fixed; H, W divisible by 2**depth), `kernel_size`, dropout and
    regularization; see those classes for each knob.
    """
    generator = DCGANGenerator(
        image_shape=image_shape, latent_dim=latent_dim, filters=generator_filters, depth=depth,
        kernel_size=kernel_size, upsampling=upsampling, activation=generator_activation,
        normalization=generator_normalization, dropout=dropout, l1=l1, l2=l2,
        name="generator")
    discriminator = DCGANDiscriminator(
        image_shape=image_shape, filters=discriminator_filters, depth=depth,
        kernel_size=kernel_size, pooling=pooling, activation=discriminator_activation,
        normalization=discriminator_normalization, spectral_norm=spectral_norm,
        dropout=dropout, l1=l1, l2=l2, name="discriminator")
    return DCGAN(generator, discriminator, seed=seed, name=name)
