"""One optimizer object that carries the discriminator's and the generator's optimizers."""

import keras


@keras.saving.register_keras_serializable(package="zoo")
class GANOptimizers(keras.optimizers.Optimizer):
    """The pair (d_optimizer, g_optimizer) seen by Keras as one optimizer.

    Keras trainers carry the state of one `model.optimizer` (the JAX trainer passes
    its variables through the jitted step; `.keras` files save them). Exposing both
    optimizers' variables here lets a GAN keep two optimizers and still be saved,
    resumed and trained on every backend. Its own update rule is never used: the
    GAN's train step applies `d_optimizer` and `g_optimizer` itself.
    """

    def __init__(self, d_optimizer, g_optimizer, name="gan_optimizers", **kwargs):
        kwargs.pop("learning_rate", None)
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self.d_optimizer = keras.optimizers.get(d_optimizer)
        self.g_optimizer = keras.optimizers.get(g_optimizer)

    @property
    def variables(self):
        return self.d_optimizer.variables + self.g_optimizer.variables

    @property
    def iterations(self):
        """Generator updates done so far (one per training step)."""
        return self.g_optimizer.iterations

    def build_for(self, discriminator, generator):
        """Create both optimizers' slots for the two networks' trainable variables."""
        self.d_optimizer.build(discriminator.trainable_variables)
        self.g_optimizer.build(generator.trainable_variables)
        self.built = True

    def build(self, variables):
        if not (self.d_optimizer.built and self.g_optimizer.built):
            raise ValueError("GANOptimizers is built by DCGAN.compile via build_for().")
        self.built = True

    def apply(self, grads, trainable_variables=None):
        raise TypeError("GANOptimizers has no update rule of its own: apply d_optimizer "
                        "and g_optimizer to the discriminator's and generator's gradients.")

    def finalize_variable_values(self, var_list):
        """At the end of `fit`, copy each network's moving average (an optimizer built
        with `use_ema=True`) into its weights.

        `var_list` is the whole GAN's; each optimizer overwrites only the variables it
        was built for, in the order it holds their averages.
        """
        for optimizer in (self.d_optimizer, self.g_optimizer):
            inner = getattr(optimizer, "inner_optimizer", optimizer)
            if inner.use_ema:
                inner.finalize_variable_values(inner._trainable_variables)

    def get_config(self):
        return {
            "name": self.name,
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer"):
            config[key] = keras.optimizers.deserialize(config[key], custom_objects=custom_objects)
        return cls(**config)
