"""Optimizers and learning-rate schedules from a recipe's [training] section."""

import keras

# Model families' standard learning rates (zoo.models.restoration, Radford et al. 2016).
DEFAULT_LEARNING_RATE = 1e-3
GAN_LEARNING_RATE = 2e-4
GAN_BETA_1 = 0.5


def learning_rate_schedule(training, total_steps, base):
    """A float or a `keras.optimizers.schedules` object.

    constant: `base` throughout; cosine: linear warm-up from 0 over `warmup_steps`,
    then cosine decay to 0 at `total_steps`; exponential: decays to base / 10 at
    `total_steps` (no warm-up).
    """
    decay_steps = max(1, total_steps - training.warmup_steps)
    if training.schedule == "constant":
        if training.warmup_steps:
            return keras.optimizers.schedules.CosineDecay(
                0.0, decay_steps=decay_steps, alpha=1.0, warmup_target=base,
                warmup_steps=training.warmup_steps)
        return base
    if training.schedule == "cosine":
        if training.warmup_steps:
            return keras.optimizers.schedules.CosineDecay(
                0.0, decay_steps=decay_steps, warmup_target=base,
                warmup_steps=training.warmup_steps)
        return keras.optimizers.schedules.CosineDecay(base, decay_steps=decay_steps)
    if training.warmup_steps:
        raise ValueError("training.warmup_steps is not supported with the exponential "
                         "schedule; use cosine or constant.")
    return keras.optimizers.schedules.ExponentialDecay(base, decay_steps=decay_steps,
                                                       decay_rate=0.1)


def build_optimizer(training, total_steps, gan=False, ema=0.0):
    """The optimizer a recipe asks for; `gan` picks the DCGAN defaults (2e-4, beta_1 0.5).

    ema > 0 keeps an exponential moving average of the weights (Keras `use_ema`, momentum
    `ema`) that replaces them when `fit` ends.
    """
    base = training.learning_rate or (GAN_LEARNING_RATE if gan else DEFAULT_LEARNING_RATE)
    rate = learning_rate_schedule(training, total_steps, base)
    extra = {} if training.clipnorm is None else {"clipnorm": training.clipnorm}
    if ema:
        extra.update(use_ema=True, ema_momentum=ema)
    beta_1 = training.beta_1 if training.beta_1 is not None else (GAN_BETA_1 if gan else 0.9)
    if training.optimizer == "adam":
        return keras.optimizers.Adam(rate, beta_1=beta_1, **extra)
    if training.optimizer == "adamw":
        return keras.optimizers.AdamW(rate, beta_1=beta_1, weight_decay=training.weight_decay,
                                      **extra)
    if training.optimizer == "sgd":
        return keras.optimizers.SGD(rate, momentum=0.9, **extra)
    raise ValueError(f"Unknown optimizer {training.optimizer!r}.")
