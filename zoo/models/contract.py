"""What every zoo family declares about itself, read by the training, export and CLI
layers instead of checking classes:

    task              "inpaint", "denoise", "segment" or "generate" (zoo.conventions.TASKS)
    served_network()  the network that is served and exported (a GAN's generator)
    networks()        the networks `zoo info` describes
    own_train_step    True when `fit` runs the family's own train step (a GAN), whose
                      `compile` takes its own arguments

The two networks are methods, not properties: Keras' saving walks a model's attributes,
and a property would save the same network a second time under its name.

`SingleNetwork` gives the defaults of a family that is one functional network.
"""


class SingleNetwork:
    """Mixin: the contract of a family that serves and exports itself."""

    own_train_step = False

    def served_network(self):
        return self

    def networks(self):
        return [self]
