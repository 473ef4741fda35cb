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


# Steps over which the learning rate ramps up again after a restart without the
# optimizer's moments: Adam's first steps from zero moments move every weight by about the
# full learning rate, which undoes hours of training if taken at full rate.
RESTART_WARMUP_STEPS = 250


@keras.saving.register_keras_serializable(package="keras_image_zoo")
class ContinuedSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """`schedule` continued from step `offset` by an optimizer whose step counter starts
    again at 0 (a run resumed from a snapshot, which holds no optimizer state): the rate
    at step s is schedule(s + offset), ramped linearly from 0 over the first
    `warmup_steps` steps.

    The optimizer's own counter restarts rather than jumping to `offset` because Adam's
    bias correction reads it: at a counter of `offset` with zero moments, Adam's first
    updates would be about sqrt(1 / (1 - beta_2)) ~ 30 times too large.
    """

    def __init__(self, schedule, offset, warmup_steps=RESTART_WARMUP_STEPS):
        self.schedule, self.offset, self.warmup_steps = schedule, int(offset), int(warmup_steps)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        rate = (self.schedule(step + self.offset)
                if isinstance(self.schedule, keras.optimizers.schedules.LearningRateSchedule)
                else keras.ops.cast(self.schedule, "float32"))
        ramp = keras.ops.minimum(1.0, (step + 1.0) / max(1, self.warmup_steps))
        return rate * ramp

    def get_config(self):
        schedule = (keras.optimizers.schedules.serialize(self.schedule)
                    if isinstance(self.schedule, keras.optimizers.schedules.LearningRateSchedule)
                    else float(self.schedule))
        return {"schedule": schedule, "offset": self.offset, "warmup_steps": self.warmup_steps}

    @classmethod
    def from_config(cls, config):
        schedule = config["schedule"]
        if isinstance(schedule, dict):
            schedule = keras.optimizers.schedules.deserialize(schedule)
        return cls(schedule, config["offset"], config["warmup_steps"])


def build_optimizer(training, total_steps, gan=False, ema=0.0, schedule_offset=0):
    """The optimizer a recipe asks for; `gan` picks the DCGAN defaults (2e-4, beta_1 0.5).

    ema > 0 keeps an exponential moving average of the weights (Keras `use_ema`, momentum
    `ema`) that replaces them when `fit` ends. schedule_offset > 0: the run continues at
    that step of its schedule with a fresh optimizer (`ContinuedSchedule`).
    """
    base = training.learning_rate or (GAN_LEARNING_RATE if gan else DEFAULT_LEARNING_RATE)
    rate = learning_rate_schedule(training, total_steps, base)
    if schedule_offset:
        rate = ContinuedSchedule(rate, schedule_offset)
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
