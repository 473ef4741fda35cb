"""The standard objective shared by image-to-image models (inpainters, restoration U-Nets).

A model with a `mask` input trains on the hole-weighted reconstruction loss and
reports PSNR / SSIM on the hole as well as on the whole image. Keras losses and
metrics only see `(y_true, y_pred)`, so the mask is read from the inputs `x` in
`compute_loss` / `compute_metrics`, the extension points Keras 3 provides for
losses that depend on inputs.
"""

import keras
from keras import ops
from keras.saving import deserialize_keras_object

from zoo.losses import ReconstructionLoss
from zoo.metrics import PSNR, SSIM, MaskedPSNR, MaskedSSIM

DEFAULT_LEARNING_RATE = 1e-3


def replica_share(loss):
    """`loss` divided by the number of replicas under a tf.distribute strategy.

    The optimizer sums the replicas' gradients, so Keras divides its own losses by
    the replica count (and multiplies the logged value back); a loss computed
    outside Keras' path must do the same or it takes N-times steps.
    """
    if keras.backend.backend() != "tensorflow":
        return loss
    import tensorflow as tf  # noqa: PLC0415 - only on the TensorFlow backend

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


def standard_compile_parts(optimizer, loss, metrics):
    """(optimizer, loss or None for the standard one, whether the metrics are standard)
    for compile arguments in keras-hub's convention ("auto" = standard; None is taken as
    "auto" for the optimizer and the loss, which Keras cannot train without)."""
    if optimizer in ("auto", None):
        optimizer = keras.optimizers.Adam(learning_rate=DEFAULT_LEARNING_RATE)
    loss = None if loss in ("auto", None) else loss
    standard_metrics = isinstance(metrics, str) and metrics == "auto"
    return optimizer, loss, standard_metrics


def auto_metrics_in_config(model, config):
    """A compile config with `metrics="auto"` when the model's metrics are the standard
    ones, and [] for none (so that no file says None, which older files used for the
    standard metrics)."""
    if config is not None:
        if getattr(model, "_standard_metrics", False):
            config["metrics"] = "auto"
        elif config.get("metrics") is None:
            config["metrics"] = []
    return config


def compile_arguments_from_config(config):
    """The compile arguments of a saved compile config; `metrics: None` (files written
    before "auto") means the standard metrics, as it did then."""
    arguments = deserialize_keras_object(config)
    if arguments.get("metrics") is None:
        arguments["metrics"] = "auto"
    return arguments


class RestorationTraining:
    """Mixin for functional models whose output is a restored image in [0, 1]."""

    def _has_mask_input(self):
        return isinstance(self.input, dict) and "mask" in self.input

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """keras-hub's convention: "auto" (the default) is the standard part: Adam(1e-3),
        `ReconstructionLoss` (L1 + SSIM, hole-weighted when the model takes a mask) and
        PSNR / SSIM (plus hole PSNR / SSIM with a mask). Anything else replaces that part
        as in `keras.Model.compile`: `metrics=None` means no metrics."""
        optimizer, loss, standard_metrics = standard_compile_parts(optimizer, loss, metrics)
        loss = ReconstructionLoss() if loss is None else loss
        metrics = [PSNR(), SSIM()] if standard_metrics else metrics
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        hole_metrics = [MaskedPSNR(), MaskedSSIM()] if standard_metrics else []
        self._set_hole_metrics(hole_metrics if self._has_mask_input() else [])
        self._standard_metrics = standard_metrics

    def _set_hole_metrics(self, metrics):
        # Keras tracks Metric attributes in `_metrics` and keeps them when the attribute is
        # reassigned: untrack the previous compile's, or a recompiled model reports them.
        for old in getattr(self, "hole_metrics", []):
            if old in self._metrics:
                self._metrics.remove(old)
        self.hole_metrics = metrics

    def get_compile_config(self):
        """Keras' compile config, with `metrics="auto"` when they were the standard ones
        so that loading recreates the hole metrics too."""
        return auto_metrics_in_config(self, super().get_compile_config())

    def compile_from_config(self, config):
        """Recompile a loaded model with what it was compiled with (see `compile`)."""
        self.compile(**compile_arguments_from_config(config))
        self.optimizer.build(self.trainable_variables)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The hole-weighted loss when the model takes a mask and uses `ReconstructionLoss`;
        otherwise Keras' own. Weight regularization penalties are added either way.
        `sample_weight` is not supported together with the hole-weighted loss."""
        if not (isinstance(self.loss, ReconstructionLoss) and self._has_mask_input()):
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported with the hole-weighted loss; "
                             "compile with another loss to use it.")
        total = self.loss.with_mask(y, y_pred, x["mask"])
        for penalty in self.losses:
            total = total + ops.sum(ops.cast(penalty, "float32"))
        return replica_share(total)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        for metric in getattr(self, "hole_metrics", []):
            metric.update_state(y, y_pred, sample_weight=x["mask"])
        return super().compute_metrics(x, y, y_pred, sample_weight)
