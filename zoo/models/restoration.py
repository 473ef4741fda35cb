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


class RestorationTraining:
    """Mixin for functional models whose output is a restored image in [0, 1]."""

    def _has_mask_input(self):
        return isinstance(self.input, dict) and "mask" in self.input

    def compile(self, optimizer=None, loss=None, metrics=None, **kwargs):
        """With no arguments: Adam(1e-3), `ReconstructionLoss` (L1 + SSIM, hole-weighted
        when the model takes a mask) and PSNR / SSIM (plus hole PSNR / SSIM with a mask).
        Any argument given replaces that part of the standard setup."""
        optimizer = optimizer or keras.optimizers.Adam(learning_rate=DEFAULT_LEARNING_RATE)
        standard_metrics = metrics is None
        loss = loss or ReconstructionLoss()
        metrics = [PSNR(), SSIM()] if standard_metrics else metrics
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        hole_metrics = [MaskedPSNR(), MaskedSSIM()] if standard_metrics else []
        self.hole_metrics = hole_metrics if self._has_mask_input() else []
        self._standard_metrics = standard_metrics

    def get_compile_config(self):
        """Keras' compile config, with `metrics=None` when they were the standard ones
        so that loading recreates the hole metrics too."""
        config = super().get_compile_config()
        if config is not None and getattr(self, "_standard_metrics", False):
            config["metrics"] = None
        return config

    def compile_from_config(self, config):
        """Recompile a loaded model with what it was compiled with (see `compile`)."""
        self.compile(**deserialize_keras_object(config))
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
