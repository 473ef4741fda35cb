"""Image-quality and segmentation metrics, written with `keras.ops` for every backend.

Conventions (see DESIGN.md): images are float32 NHWC in [0, 1]; masks are
(B, H, W, 1) with 1 = hole (missing) and 0 = known. Per-image functions return
float32 tensors of shape (B,); metric results are float32 scalars.

Masked functions return NaN for an image with no hole pixels (the value is
undefined); the masked metric classes skip such images.
"""

import keras
import numpy as np
from keras import ops

_MSE_FLOOR = 1e-10  # identical images give 10 * log10(max_val**2 / 1e-10), not inf


def _f32(x):
    return ops.cast(x, "float32")


def _mask_or_nan(total, count):
    """`total / count`, NaN where `count` is 0."""
    return ops.where(count > 0, total / ops.maximum(count, 1e-12), float("nan"))


def psnr_of_mse(mse, max_val=1.0):
    """PSNR in dB of a mean squared error (a float or an array): 10 log10(max_val**2 /
    mse), with the MSE floored at 1e-10 so identical images give 100 dB (max_val 1),
    not infinity. Every PSNR in the zoo (metrics, export checks, benchmarks) is this."""
    return 10.0 * np.log10(max_val**2 / np.maximum(mse, _MSE_FLOOR))


def image_psnr(a, b, mask=None, max_val=1.0):
    """numpy: PSNR in dB of array `a` against `b` (any equal shapes, e.g. (H, W, C) or a
    batch taken as a whole), over the pixels where `mask` > 0.5 if given (a mask of
    shape (..., H, W, 1) or (..., H, W), broadcast over channels). A float; ValueError
    for a mask that selects no pixel."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"image shapes differ: {a.shape} and {b.shape}")
    error = (a - b) ** 2
    if mask is not None:
        mask = np.asarray(mask)
        if mask.ndim == error.ndim - 1:
            mask = mask[..., None]
        if mask.shape[:-1] != error.shape[:-1] or mask.shape[-1] not in (1, error.shape[-1]):
            raise ValueError(f"mask shape {mask.shape} does not fit images of {a.shape}")
        pixels = np.broadcast_to(mask > 0.5, error.shape)
        if not pixels.any():
            raise ValueError("the mask selects no pixel")
        error = error[pixels]
    return float(psnr_of_mse(error.mean(), max_val))


def image_ssim(a, b, mask=None, max_val=1.0):
    """numpy: SSIM of image `a` against `b`, (H, W, C) or (H, W) with sides >= 11, values
    in [0, max_val]: the mean of `ssim_map` (the window of `keras.ops.image.ssim`), or with
    a mask ((H, W) or (H, W, 1), > 0.5 = scored) its mean over the scored pixels at least
    5 pixels from the border (see `masked_ssim`). A float in [-1, 1]; ValueError for
    shapes that differ or a mask that selects no scorable pixel."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if a.shape != b.shape:
        raise ValueError(f"image shapes differ: {a.shape} and {b.shape}")
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    if mask is None:
        return float(ops.convert_to_numpy(ops.mean(ssim_map(a[None], b[None], max_val))))
    mask = np.asarray(mask)
    if mask.ndim == 2:
        mask = mask[..., None]
    if mask.shape != a.shape[:2] + (1,):
        raise ValueError(f"mask shape {mask.shape} does not fit images of {a.shape}")
    score = masked_ssim(a[None], b[None], (mask > 0.5).astype("float32")[None], max_val)
    score = float(ops.convert_to_numpy(score)[0])
    if np.isnan(score):
        raise ValueError("the mask selects no pixel at least 5 pixels from the border")
    return score


def label_mean_iou(pred_labels, true_labels, num_classes):
    """numpy: mean over the classes present in either (int arrays of one shape, values
    in [0, num_classes)) of |pred == k and true == k| / |pred == k or true == k|; the
    value `MeanIoU` gives for one image. A float in [0, 1]."""
    pred, true = np.asarray(pred_labels), np.asarray(true_labels)
    if pred.shape != true.shape:
        raise ValueError(f"label shapes differ: {pred.shape} and {true.shape}")
    for name, labels in (("pred_labels", pred), ("true_labels", true)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} values must lie in [0, {num_classes})")
    ious = [np.sum((pred == k) & (true == k)) / union for k in range(num_classes)
            if (union := np.sum((pred == k) | (true == k)))]
    if not ious:
        raise ValueError("no labels to score")
    return float(np.mean(ious))


def psnr(y_true, y_pred, max_val=1.0):
    """Per-image peak signal-to-noise ratio in dB, MSE taken over H, W and C.

    Args:
        y_true: images (B, H, W, C) in [0, max_val].
        y_pred: images (B, H, W, C) in [0, max_val].
        max_val: dynamic range of the pixel values.

    Returns:
        float32 tensor (B,). The MSE is clipped at 1e-10, so identical images
        give a large finite value (100 dB for max_val=1).
    """
    mse = ops.mean(ops.square(_f32(y_true) - _f32(y_pred)), axis=(1, 2, 3))
    return 10.0 * ops.log10(max_val**2 / ops.maximum(mse, _MSE_FLOOR))  # psnr_of_mse, in ops


def masked_psnr(y_true, y_pred, mask, max_val=1.0):
    """Per-image PSNR in dB with the MSE taken over hole pixels only.

    Args:
        y_true: images (B, H, W, C) in [0, max_val].
        y_pred: images (B, H, W, C) in [0, max_val].
        mask: (B, H, W, 1), 1 = hole, 0 = known; broadcast over channels.
        max_val: dynamic range of the pixel values.

    Returns:
        float32 tensor (B,); NaN for images without hole pixels.
    """
    y_true, y_pred, mask = _f32(y_true), _f32(y_pred), _f32(mask)
    channels = ops.cast(ops.shape(y_true)[-1], "float32")
    squared_error = ops.sum(mask * ops.square(y_true - y_pred), axis=(1, 2, 3))
    mse = _mask_or_nan(squared_error, channels * ops.sum(mask, axis=(1, 2, 3)))
    return 10.0 * ops.log10(max_val**2 / ops.maximum(mse, _MSE_FLOOR))


def _gaussian_blur_valid(images, filter_size, filter_sigma):
    """Separable Gaussian blur with 'valid' padding: (B, H, W, C) -> (B, H-f+1, W-f+1, C)."""
    x = np.arange(filter_size, dtype="float64") - (filter_size - 1) / 2.0
    gauss = np.exp(-(x**2) / (2.0 * filter_sigma**2))
    gauss = (gauss / gauss.sum()).astype("float32")
    channels = images.shape[-1]
    if channels is None:
        raise ValueError("ssim_map needs a known number of channels (last axis).")
    column = np.tile(gauss.reshape(filter_size, 1, 1, 1), (1, 1, channels, 1))
    row = np.tile(gauss.reshape(1, filter_size, 1, 1), (1, 1, channels, 1))
    images = ops.depthwise_conv(images, column, padding="valid", data_format="channels_last")
    return ops.depthwise_conv(images, row, padding="valid", data_format="channels_last")


def ssim_map(y_true, y_pred, max_val=1.0, filter_size=11, filter_sigma=1.5):
    """Local SSIM map, averaged over channels.

    Uses the same Gaussian window, constants (k1=0.01, k2=0.03) and 'valid'
    padding as `keras.ops.image.ssim`, so `mean(ssim_map(a, b), axis=(1, 2))`
    equals `keras.ops.image.ssim(a, b)`. Pixel (i, j) of the map is the SSIM of
    the window centred on input pixel (i + r, j + r), r = (filter_size - 1) // 2.

    Args:
        y_true: images (B, H, W, C) in [0, max_val], H and W >= filter_size.
        y_pred: images (B, H, W, C) in [0, max_val].
        max_val: dynamic range of the pixel values.
        filter_size: odd Gaussian window size.
        filter_sigma: Gaussian standard deviation.

    Returns:
        float32 tensor (B, H - filter_size + 1, W - filter_size + 1), values in [-1, 1].
    """
    a, b = _f32(y_true), _f32(y_pred)
    c1 = (0.01 * max_val) ** 2
    c2 = (0.03 * max_val) ** 2

    def blur(x):
        return _gaussian_blur_valid(x, filter_size, filter_sigma)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a * mu_a
    var_b = blur(b * b) - mu_b * mu_b
    cov = blur(a * b) - mu_a * mu_b
    numerator = (2.0 * mu_a * mu_b + c1) * (2.0 * cov + c2)
    denominator = (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    return ops.mean(numerator / denominator, axis=-1)


def masked_ssim(y_true, y_pred, mask, max_val=1.0, filter_size=11, filter_sigma=1.5):
    """Per-image mean of the local SSIM map over hole pixels.

    The map is 'valid'-sized (see `ssim_map`), so the mask is cropped by
    r = (filter_size - 1) // 2 pixels on every side to line up with window
    centres: hole pixels closer than r to the border are not counted.

    Args:
        y_true: images (B, H, W, C) in [0, max_val], H and W >= filter_size.
        y_pred: images (B, H, W, C) in [0, max_val].
        mask: (B, H, W, 1), 1 = hole, 0 = known.
        max_val, filter_size, filter_sigma: as for `ssim_map`.

    Returns:
        float32 tensor (B,) in [-1, 1]; NaN for images with no hole pixel
        left after cropping.
    """
    local = ssim_map(y_true, y_pred, max_val, filter_size, filter_sigma)
    mask = _f32(mask)[..., 0]
    r = (filter_size - 1) // 2
    if r > 0:
        mask = mask[:, r:-r, r:-r]
    return _mask_or_nan(ops.sum(local * mask, axis=(1, 2)), ops.sum(mask, axis=(1, 2)))


def _ssim(y_true, y_pred, max_val=1.0):
    """Per-image SSIM (B,) from `keras.ops.image.ssim`, computed in float32."""
    return ops.image.ssim(_f32(y_true), _f32(y_pred), max_val=max_val, data_format="channels_last")


@keras.saving.register_keras_serializable(package="zoo")
class PSNR(keras.metrics.MeanMetricWrapper):
    """Mean per-image PSNR (dB) over all images seen; inputs (B, H, W, C) in [0, max_val]."""

    def __init__(self, max_val=1.0, name="psnr", dtype=None):
        super().__init__(fn=psnr, name=name, dtype=dtype, max_val=max_val)
        self.max_val = max_val
        self._direction = "up"

    def get_config(self):
        return {"max_val": self.max_val, "name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="zoo")
class SSIM(keras.metrics.MeanMetricWrapper):
    """Mean per-image SSIM over all images seen; inputs (B, H, W, C) in [0, max_val].

    Per-image values come from `keras.ops.image.ssim` (11x11 Gaussian window,
    sigma 1.5, 'valid' padding), so H and W must be >= 11.
    """

    def __init__(self, max_val=1.0, name="ssim", dtype=None):
        super().__init__(fn=_ssim, name=name, dtype=dtype, max_val=max_val)
        self.max_val = max_val
        self._direction = "up"

    def get_config(self):
        return {"max_val": self.max_val, "name": self.name, "dtype": self.dtype}


class _HoleMean(keras.metrics.Mean):
    """Mean of a per-image masked value; the hole mask comes in as `sample_weight`."""

    def __init__(self, fn, max_val, name, dtype):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self.max_val = max_val
        self._direction = "up"

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulates over images that have a hole.

        Args:
            y_true: images (B, H, W, C) in [0, max_val].
            y_pred: images (B, H, W, C) in [0, max_val].
            sample_weight: the hole mask (B, H, W, 1), 1 = hole. Required.
        """
        if sample_weight is None:
            raise ValueError(
                f"{type(self).__name__} needs the hole mask (B, H, W, 1) as `sample_weight`."
            )
        values = self._fn(y_true, y_pred, sample_weight, max_val=self.max_val)
        has_hole = ops.logical_not(ops.isnan(values))
        values = ops.where(has_hole, values, 0.0)
        return super().update_state(values, sample_weight=ops.cast(has_hole, self.dtype))

    def get_config(self):
        return {"max_val": self.max_val, "name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="zoo")
class MaskedPSNR(_HoleMean):
    """Mean hole-only PSNR (dB) over images that have a hole (see `masked_psnr`).

    `update_state(y_true, y_pred, sample_weight=mask)`: the hole mask
    (B, H, W, 1) is passed as `sample_weight` and is required.
    """

    def __init__(self, max_val=1.0, name="hole_psnr", dtype=None):
        super().__init__(masked_psnr, max_val=max_val, name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="zoo")
class MaskedSSIM(_HoleMean):
    """Mean hole-only SSIM over images that have a hole (see `masked_ssim`).

    `update_state(y_true, y_pred, sample_weight=mask)`: the hole mask
    (B, H, W, 1) is passed as `sample_weight` and is required. Images whose
    hole lies entirely within 5 pixels of the border are skipped too.
    """

    def __init__(self, max_val=1.0, name="hole_ssim", dtype=None):
        super().__init__(masked_ssim, max_val=max_val, name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="zoo")
class MeanIoU(keras.metrics.MeanIoU):
    """Mean intersection-over-union from sparse labels and softmax probabilities.

    `update_state(y_true, y_pred, sample_weight=None)`: y_true int class ids
    (B, H, W) or (B, H, W, 1); y_pred probabilities (B, H, W, num_classes),
    turned into classes with argmax. The result (float32 scalar in [0, 1]) is
    the mean over classes present in labels or predictions.
    """

    def __init__(self, num_classes, name="iou", dtype=None, ignore_class=None):
        super().__init__(
            num_classes=num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=True,
            sparse_y_pred=False,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
        }


@keras.saving.register_keras_serializable(package="zoo")
class MeanDice(MeanIoU):
    """Mean Dice (F1) score, 2TP / (2TP + FP + FN), from the same confusion matrix.

    Inputs as for `MeanIoU`. The result (float32 scalar in [0, 1]) is the mean
    over classes present in labels or predictions.
    """

    def __init__(self, num_classes, name="dice", dtype=None, ignore_class=None):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class)

    def result(self):
        cm = ops.cast(self.total_cm, "float32")
        true_positives = ops.diagonal(cm)
        denominator = ops.sum(cm, axis=0) + ops.sum(cm, axis=1)  # 2TP + FP + FN
        present = ops.cast(denominator > 0, "float32")
        dice = ops.divide_no_nan(2.0 * true_positives, denominator)
        return ops.divide_no_nan(ops.sum(dice), ops.sum(present))
