"""Standard losses of the zoo models, written with `keras.ops` for every backend.

Conventions (see DESIGN.md): images are float32 NHWC in [0, 1]; masks are
(B, H, W, 1) with 1 = hole (missing) and 0 = known. Per-sample functions return
shape (B,); adversarial losses and `r1_penalty` return scalars. Every function
casts its inputs to float32, so losses stay float32 under a `mixed_float16` policy.
"""

import keras
from keras import ops

ADVERSARIAL_LOSSES = ("bce", "hinge", "lsgan")


def _f32(x):
    return ops.cast(x, "float32")


def _weighted_error(error, mask, hole_weight, valid_weight):
    """Mean over H, W, C of `w * error`, w = hole_weight on holes, valid_weight elsewhere."""
    if mask is None:
        weights = valid_weight
    else:
        mask = _f32(mask)
        weights = hole_weight * mask + valid_weight * (1.0 - mask)
    return ops.mean(weights * error, axis=(1, 2, 3))


def masked_l1(y_true, y_pred, mask=None, hole_weight=1.0, valid_weight=1.0):
    """Per-sample weighted L1 error.

    The weighted absolute error is divided by H * W * C (not by the number of
    hole or valid pixels), as in Liu et al. 2018 (partial convolutions), so the
    hole and valid terms share one scale.

    Args:
        y_true: images (B, H, W, C), float in [0, 1].
        y_pred: images (B, H, W, C), float in [0, 1].
        mask: (B, H, W, 1), 1 = hole, 0 = known, broadcast over channels.
            `None` means every pixel is valid (weight `valid_weight`).
        hole_weight: weight of hole pixels.
        valid_weight: weight of known pixels.

    Returns:
        float32 tensor (B,), >= 0.
    """
    error = ops.abs(_f32(y_true) - _f32(y_pred))
    return _weighted_error(error, mask, hole_weight, valid_weight)


def masked_mse(y_true, y_pred, mask=None, hole_weight=1.0, valid_weight=1.0):
    """Per-sample weighted squared error; same shapes and weighting as `masked_l1`.

    Returns:
        float32 tensor (B,), >= 0.
    """
    error = ops.square(_f32(y_true) - _f32(y_pred))
    return _weighted_error(error, mask, hole_weight, valid_weight)


def psnr_loss(y_true, y_pred, mask=None, hole_weight=1.0, valid_weight=1.0):
    """Per-sample -PSNR in dB (max value 1) of the (hole/valid-weighted) mean squared error.

    Minimising its batch mean maximises the mean PSNR over images, the number the
    benchmarks report, so flat images (where a small error costs many dB) weigh as much
    as textured ones; L1 weighs every pixel alike. HINet (Chen et al., 2021) trains
    with this loss.

    Args:
        y_true: images (B, H, W, C) in [0, 1].
        y_pred: images (B, H, W, C) in [0, 1].
        mask, hole_weight, valid_weight: as for `masked_mse`.

    Returns:
        float32 tensor (B,), in [-100, 0] (-100 for identical images).
    """
    mse = masked_mse(y_true, y_pred, mask, hole_weight, valid_weight)
    return 10.0 * ops.log10(ops.maximum(mse, 1e-10))


PIXEL_LOSSES = {"l1": masked_l1, "psnr": psnr_loss}


def ssim_loss(y_true, y_pred, max_val=1.0):
    """Per-sample `1 - SSIM` (`keras.ops.image.ssim`: 11x11 Gaussian window, sigma 1.5).

    Args:
        y_true: images (B, H, W, C) in [0, max_val], H and W >= 11.
        y_pred: images (B, H, W, C) in [0, max_val].
        max_val: dynamic range of the pixel values.

    Returns:
        float32 tensor (B,) in [0, 2]; 0 for identical images.
    """
    ssim = ops.image.ssim(_f32(y_true), _f32(y_pred), max_val=max_val, data_format="channels_last")
    return 1.0 - ssim


def total_variation(images):
    """Per-sample anisotropic total variation, mean-normalised.

    `mean |x[:, i+1, j] - x[:, i, j]| + mean |x[:, i, j+1] - x[:, i, j]|`, each
    mean taken over its own (H-1) * W * C or H * (W-1) * C differences, so the
    value does not grow with image size.

    Args:
        images: (B, H, W, C) float, H and W >= 2.

    Returns:
        float32 tensor (B,), >= 0.
    """
    images = _f32(images)
    dy = ops.abs(images[:, 1:, :, :] - images[:, :-1, :, :])
    dx = ops.abs(images[:, :, 1:, :] - images[:, :, :-1, :])
    return ops.mean(dy, axis=(1, 2, 3)) + ops.mean(dx, axis=(1, 2, 3))


def _check_kind(kind):
    if kind not in ADVERSARIAL_LOSSES:
        raise ValueError(
            f"Unknown adversarial loss kind {kind!r}; expected one of {ADVERSARIAL_LOSSES}."
        )


def discriminator_loss(real_logits, fake_logits, kind="bce"):
    """Discriminator loss on raw logits (no sigmoid applied by the discriminator).

    - "bce": `mean(softplus(-real)) + mean(softplus(fake))`, i.e. binary
      cross-entropy from logits with targets 1 (real) and 0 (fake), computed
      stably with softplus.
    - "hinge": `mean(relu(1 - real)) + mean(relu(1 + fake))`.
    - "lsgan": `0.5 * mean((real - 1)^2) + 0.5 * mean(fake^2)`.

    Args:
        real_logits: discriminator outputs on real images, any shape (B, ...).
        fake_logits: discriminator outputs on generated images, any shape (B, ...).
        kind: one of `ADVERSARIAL_LOSSES`.

    Returns:
        float32 scalar.
    """
    _check_kind(kind)
    real, fake = _f32(real_logits), _f32(fake_logits)
    if kind == "bce":
        return ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake))
    if kind == "hinge":
        return ops.mean(ops.relu(1.0 - real)) + ops.mean(ops.relu(1.0 + fake))
    return 0.5 * ops.mean(ops.square(real - 1.0)) + 0.5 * ops.mean(ops.square(fake))


def generator_loss(fake_logits, kind="bce"):
    """Generator loss on the discriminator's logits for generated images.

    - "bce": non-saturating `mean(softplus(-fake))` (= BCE from logits, target 1).
    - "hinge": `-mean(fake)`.
    - "lsgan": `0.5 * mean((fake - 1)^2)`.

    Args:
        fake_logits: discriminator outputs on generated images, any shape (B, ...).
        kind: one of `ADVERSARIAL_LOSSES`.

    Returns:
        float32 scalar.
    """
    _check_kind(kind)
    fake = _f32(fake_logits)
    if kind == "bce":
        return ops.mean(ops.softplus(-fake))
    if kind == "hinge":
        return -ops.mean(fake)
    return 0.5 * ops.mean(ops.square(fake - 1.0))


def r1_penalty(input_gradients, gamma):
    """R1 gradient penalty (Mescheder et al. 2018) from precomputed gradients.

    `gamma / 2 * mean_b(sum of squared entries of sample b)`. The gradient of the
    discriminator's real logits with respect to the real images is backend
    specific, so the caller computes it and passes it here.

    Args:
        input_gradients: (B, ...) gradients w.r.t. the real inputs.
        gamma: penalty weight, >= 0.

    Returns:
        float32 scalar, >= 0.
    """
    grads = _f32(input_gradients)
    per_sample = ops.sum(ops.reshape(ops.square(grads), (ops.shape(grads)[0], -1)), axis=1)
    return 0.5 * gamma * ops.mean(per_sample)


def _sparse_labels(labels):
    """(B, H, W) or (B, H, W, 1) class ids -> int32 (B, H, W)."""
    labels = ops.cast(labels, "int32")
    if len(labels.shape) == 4:
        labels = ops.squeeze(labels, axis=-1)
    return labels


def dice_loss(labels, probabilities, smooth=1.0):
    """Per-sample soft Dice loss, averaged over classes.

    For each sample and class k, with sums over H and W:
    `dice_k = (2 * sum(p_k * onehot_k) + smooth) / (sum(p_k) + sum(onehot_k) + smooth)`;
    the loss is `1 - mean_k(dice_k)`.

    Args:
        labels: int class ids (B, H, W) or (B, H, W, 1), in [0, K).
        probabilities: (B, H, W, K) softmax outputs in [0, 1].
        smooth: additive smoothing; keeps absent classes at dice 1.

    Returns:
        float32 tensor (B,) in [0, 1].
    """
    probabilities = _f32(probabilities)
    onehot = ops.one_hot(_sparse_labels(labels), probabilities.shape[-1], dtype="float32")
    intersection = ops.sum(probabilities * onehot, axis=(1, 2))
    total = ops.sum(probabilities, axis=(1, 2)) + ops.sum(onehot, axis=(1, 2))
    dice = (2.0 * intersection + smooth) / (total + smooth)
    return 1.0 - ops.mean(dice, axis=-1)


@keras.saving.register_keras_serializable(package="zoo")
class ReconstructionLoss(keras.losses.Loss):
    """L1 (or -PSNR) + `ssim_weight` * (1 - SSIM), per sample, for images in [0, 1].

    `call(y_true, y_pred)` (used by `compile(loss=...)`) applies the pixel loss to
    (B, H, W, C) images (H, W >= 11). Models with a mask input call
    `with_mask(y_true, y_pred, mask)` from their `compute_loss`, which weighs hole
    pixels by `hole_weight` and known pixels by `valid_weight`.

    Args:
        ssim_weight: weight of the `1 - SSIM` term.
        hole_weight: L1 weight of hole pixels in `with_mask`.
        valid_weight: L1 weight of known pixels in `with_mask`.
        pixel_loss: "l1" (`masked_l1`) or "psnr" (`psnr_loss`, which has its own scale:
            give it ssim_weight 0).
        name, reduction, dtype: as for `keras.losses.Loss`.
    """

    def __init__(
        self,
        ssim_weight=0.2,
        hole_weight=6.0,
        valid_weight=1.0,
        pixel_loss="l1",
        name="reconstruction_loss",
        reduction="sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.ssim_weight = ssim_weight
        self.hole_weight = hole_weight
        self.valid_weight = valid_weight
        if pixel_loss not in PIXEL_LOSSES:
            raise ValueError(f"Unknown pixel_loss {pixel_loss!r}; expected one of "
                             f"{', '.join(PIXEL_LOSSES)}.")
        self.pixel_loss = pixel_loss

    def call(self, y_true, y_pred):
        """Per-sample loss (B,) from images (B, H, W, C)."""
        pixel = PIXEL_LOSSES[self.pixel_loss](y_true, y_pred)
        return pixel + self.ssim_weight * ssim_loss(y_true, y_pred)

    def with_mask(self, y_true, y_pred, mask):
        """Scalar: batch mean of the hole/valid-weighted pixel loss + `ssim_weight` * (1 - SSIM).

        Args:
            y_true, y_pred: images (B, H, W, C) in [0, 1].
            mask: (B, H, W, 1), 1 = hole, 0 = known.
        """
        pixel = PIXEL_LOSSES[self.pixel_loss](y_true, y_pred, mask, self.hole_weight,
                                              self.valid_weight)
        return ops.mean(pixel + self.ssim_weight * ssim_loss(y_true, y_pred))

    def get_config(self):
        return {
            **super().get_config(),
            "ssim_weight": self.ssim_weight,
            "hole_weight": self.hole_weight,
            "valid_weight": self.valid_weight,
            "pixel_loss": self.pixel_loss,
            "dtype": self.dtype,
        }


@keras.saving.register_keras_serializable(package="zoo")
class SegmentationLoss(keras.losses.Loss):
    """Sparse categorical cross-entropy + `dice_weight` * soft Dice loss, per sample.

    `call(y_true, y_pred)`: y_true int class ids (B, H, W) or (B, H, W, 1) in
    [0, num_classes); y_pred softmax probabilities (B, H, W, num_classes).
    Returns (B,): the per-pixel cross-entropy averaged over H, W, plus
    `dice_weight * dice_loss`.

    Args:
        num_classes: number of classes K.
        dice_weight: weight of the Dice term.
        name, reduction, dtype: as for `keras.losses.Loss`.
    """

    def __init__(
        self,
        num_classes,
        dice_weight=1.0,
        name="segmentation_loss",
        reduction="sum_over_batch_size",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.num_classes = num_classes
        self.dice_weight = dice_weight

    def call(self, y_true, y_pred):
        labels = _sparse_labels(y_true)
        probabilities = _f32(y_pred)
        if probabilities.shape[-1] not in (None, self.num_classes):
            raise ValueError(
                f"Expected y_pred with {self.num_classes} classes on the last axis, "
                f"got shape {probabilities.shape}."
            )
        ce = ops.sparse_categorical_crossentropy(labels, probabilities, from_logits=False)
        ce = ops.mean(ce, axis=(1, 2))
        return ce + self.dice_weight * dice_loss(labels, probabilities)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "dice_weight": self.dice_weight,
            "dtype": self.dtype,
        }
