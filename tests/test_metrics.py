"""zoo.metrics against scikit-image and plain numpy on tiny random data.

scikit-image settings that reproduce `keras.ops.image.ssim`:
`structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=1, channel_axis=-1)` (truncate=3.5 gives the same 11x11 window). With
`full=True` skimage returns a full-size map whose 5-pixel border comes from reflect
padding; its mean SSIM ignores that border, and `S[5:-5, 5:-5].mean(-1)` equals our
'valid' map.
"""

import keras
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from zoo import metrics

H, W, C, K = 20, 24, 3, 4
R = 5  # (filter_size - 1) // 2


def to_np(x):
    return keras.ops.convert_to_numpy(x)


def assert_float32(x):
    assert keras.backend.standardize_dtype(x.dtype) == "float32"


def make_images(batch, seed):
    rng = np.random.default_rng(seed)
    y_true = rng.random((batch, H, W, C)).astype("float32")
    y_pred = np.clip(y_true + 0.1 * rng.standard_normal(y_true.shape), 0, 1).astype("float32")
    mask = np.zeros((batch, H, W, 1), "float32")
    mask[:, 6:14, 4:16] = 1.0
    mask *= rng.random(mask.shape) < 0.7
    return y_true, y_pred, mask


def make_segmentation(batch, seed, num_classes=K):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, size=(batch, 6, 6))
    probs = rng.random((batch, 6, 6, num_classes)).astype("float32")
    probs /= probs.sum(-1, keepdims=True)
    return labels, probs


# ---- references ------------------------------------------------------------------


def sk_psnr(a, b):
    return np.array(
        [peak_signal_noise_ratio(x, y, data_range=1.0) for x, y in zip(a, b, strict=True)]
    )


def sk_ssim_full(a, b):
    """Per-image mean SSIM and full-size maps (H, W), channel-averaged."""
    values, maps = [], []
    for x, y in zip(a, b, strict=True):
        value, full = structural_similarity(
            x.astype("float64"),
            y.astype("float64"),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=-1,
            full=True,
        )
        values.append(value)
        maps.append(full.mean(axis=-1))
    return np.array(values), np.array(maps)


def sk_masked_psnr(a, b, mask):
    hole = np.broadcast_to(mask, a.shape).astype(bool)
    return np.array(
        [
            peak_signal_noise_ratio(x[m], y[m], data_range=1.0)
            for x, y, m in zip(a, b, hole, strict=True)
        ]
    )


def sk_masked_ssim(a, b, mask):
    _, maps = sk_ssim_full(a, b)
    hole = mask[:, R:-R, R:-R, 0].astype(bool)
    return np.array([s[R:-R, R:-R][m].mean() for s, m in zip(maps, hole, strict=True)])


def np_confusion(labels, probs, num_classes):
    cm = np.zeros((num_classes, num_classes))
    np.add.at(cm, (labels.ravel(), probs.argmax(-1).ravel()), 1)
    return cm


def np_mean_iou(cm):
    tp = np.diag(cm)
    denominator = cm.sum(0) + cm.sum(1) - tp
    present = denominator > 0
    return (tp[present] / denominator[present]).mean()


def np_mean_dice(cm):
    tp = np.diag(cm)
    denominator = cm.sum(0) + cm.sum(1)
    present = denominator > 0
    return (2 * tp[present] / denominator[present]).mean()


# ---- functions -------------------------------------------------------------------


def test_psnr():
    y_true, y_pred, _ = make_images(2, 0)
    got = metrics.psnr(y_true, y_pred)
    assert_float32(got)
    assert got.shape == (2,)
    np.testing.assert_allclose(to_np(got), sk_psnr(y_true, y_pred), rtol=1e-5)
    np.testing.assert_allclose(to_np(metrics.psnr(y_true, y_true)), 100.0, rtol=1e-6)


def test_masked_psnr():
    y_true, y_pred, mask = make_images(2, 1)
    got = metrics.masked_psnr(y_true, y_pred, mask)
    assert_float32(got)
    np.testing.assert_allclose(to_np(got), sk_masked_psnr(y_true, y_pred, mask), rtol=1e-5)
    empty = metrics.masked_psnr(y_true, y_pred, np.zeros_like(mask))
    assert np.all(np.isnan(to_np(empty)))


def test_ssim_map_matches_keras_and_skimage():
    y_true, y_pred, _ = make_images(2, 2)
    got = metrics.ssim_map(y_true, y_pred)
    assert_float32(got)
    assert got.shape == (2, H - 2 * R, W - 2 * R)
    values, maps = sk_ssim_full(y_true, y_pred)
    np.testing.assert_allclose(to_np(got), maps[:, R:-R, R:-R], atol=1e-5)
    keras_ssim = to_np(keras.ops.image.ssim(y_true, y_pred))
    np.testing.assert_allclose(to_np(got).mean(axis=(1, 2)), keras_ssim, atol=1e-5)
    np.testing.assert_allclose(keras_ssim, values, atol=1e-5)


def test_masked_ssim():
    y_true, y_pred, mask = make_images(2, 3)
    got = metrics.masked_ssim(y_true, y_pred, mask)
    assert_float32(got)
    np.testing.assert_allclose(to_np(got), sk_masked_ssim(y_true, y_pred, mask), atol=1e-5)
    border_only = np.zeros_like(mask)
    border_only[:, :R] = 1.0  # hole within the uncovered border: undefined
    assert np.all(np.isnan(to_np(metrics.masked_ssim(y_true, y_pred, border_only))))


def test_image_ssim_is_the_library_ssim_on_numpy_images():
    y_true, y_pred, mask = make_images(1, 4)
    values, _ = sk_ssim_full(y_true, y_pred)
    assert metrics.image_ssim(y_pred[0], y_true[0]) == pytest.approx(values[0], abs=1e-5)
    grey = metrics.image_ssim(y_pred[0, ..., 0], y_true[0, ..., 0])
    assert grey == pytest.approx(to_np(metrics._ssim(y_true[..., :1], y_pred[..., :1]))[0],
                                 abs=1e-5)
    expected = sk_masked_ssim(y_true, y_pred, mask)[0]
    assert metrics.image_ssim(y_pred[0], y_true[0], mask[0]) == pytest.approx(expected, abs=1e-5)
    assert metrics.image_ssim(y_pred[0], y_true[0], mask[0, ..., 0]) == pytest.approx(
        expected, abs=1e-5)


@pytest.mark.parametrize("case, message", [("shape", "shapes differ"),
                                           ("mask", "does not fit"),
                                           ("border", "no pixel")])
def test_image_ssim_refuses_what_it_cannot_score(case, message):
    y_true, y_pred, mask = make_images(1, 5)
    a, b, m = y_pred[0], y_true[0], mask[0]
    if case == "shape":
        b = b[:-1]
    elif case == "mask":
        m = m[:-1]
    else:
        m = np.zeros_like(m)
        m[:R] = 1.0
    with pytest.raises(ValueError, match=message):
        metrics.image_ssim(a, b, m)


# ---- metric classes --------------------------------------------------------------


@pytest.mark.parametrize(
    "metric, reference",
    [
        (metrics.PSNR(), sk_psnr),
        (metrics.SSIM(), lambda a, b: sk_ssim_full(a, b)[0]),
    ],
    ids=["psnr", "ssim"],
)
def test_image_metrics_accumulate(metric, reference):
    batches = [make_images(2, 4), make_images(3, 5)]
    for y_true, y_pred, _ in batches:
        metric.update_state(y_true, y_pred)
    want = np.concatenate([reference(a, b) for a, b, _ in batches]).mean()
    result = metric.result()
    assert_float32(result)
    np.testing.assert_allclose(to_np(result), want, rtol=1e-5)
    metric.reset_state()
    assert to_np(metric.result()) == 0.0


@pytest.mark.parametrize(
    "metric, reference",
    [(metrics.MaskedPSNR(), sk_masked_psnr), (metrics.MaskedSSIM(), sk_masked_ssim)],
    ids=["hole_psnr", "hole_ssim"],
)
def test_masked_metrics_accumulate_and_skip_empty_holes(metric, reference):
    first, second = make_images(2, 6), make_images(3, 7)
    second[2][1] = 0.0  # the second image of the second batch has no hole
    for y_true, y_pred, mask in (first, second):
        metric.update_state(y_true, y_pred, sample_weight=mask)
    with_hole = [x[[0, 2]] for x in second]
    want = np.concatenate([reference(*first), reference(*with_hole)]).mean()
    result = metric.result()
    assert_float32(result)
    np.testing.assert_allclose(to_np(result), want, rtol=1e-5)


@pytest.mark.parametrize("metric_cls", [metrics.MaskedPSNR, metrics.MaskedSSIM])
def test_masked_metrics_require_mask(metric_cls):
    y_true, y_pred, _ = make_images(1, 8)
    with pytest.raises(ValueError, match="sample_weight"):
        metric_cls().update_state(y_true, y_pred)


@pytest.mark.parametrize(
    "metric_cls, reference",
    [(metrics.MeanIoU, np_mean_iou), (metrics.MeanDice, np_mean_dice)],
    ids=["iou", "dice"],
)
@pytest.mark.parametrize("channel_axis", [False, True])
def test_segmentation_metrics(metric_cls, reference, channel_axis):
    num_classes = K + 1  # class K never occurs: it must not count in the mean
    metric = metric_cls(num_classes)
    batches = [make_segmentation(2, 9), make_segmentation(1, 10)]
    cm = np.zeros((num_classes, num_classes))
    for labels, probs in batches:
        probs = np.concatenate([probs, np.zeros_like(probs[..., :1])], axis=-1)
        metric.update_state(labels[..., None] if channel_axis else labels, probs)
        cm += np_confusion(labels, probs, num_classes)
    result = metric.result()
    assert_float32(result)
    np.testing.assert_allclose(to_np(result), reference(cm), rtol=1e-5)


def test_perfect_segmentation_scores_one():
    labels, probs = make_segmentation(2, 11)
    perfect = np.eye(K, dtype="float32")[labels]
    for metric in (metrics.MeanIoU(K), metrics.MeanDice(K)):
        metric.update_state(labels, perfect)
        np.testing.assert_allclose(to_np(metric.result()), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "metric",
    [
        metrics.PSNR(max_val=255.0, name="p"),
        metrics.SSIM(max_val=2.0),
        metrics.MaskedPSNR(name="hp"),
        metrics.MaskedSSIM(),
        metrics.MeanIoU(num_classes=3, ignore_class=0),
        metrics.MeanDice(num_classes=3, name="d"),
    ],
    ids=lambda metric: type(metric).__name__,
)
def test_config_round_trip(metric):
    config = metric.get_config()
    assert type(metric).from_config(config).get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
    assert type(restored) is type(metric)
    assert restored.get_config() == config


def test_default_names():
    names = [
        metrics.PSNR().name,
        metrics.SSIM().name,
        metrics.MaskedPSNR().name,
        metrics.MaskedSSIM().name,
        metrics.MeanIoU(2).name,
        metrics.MeanDice(2).name,
    ]
    assert names == ["psnr", "ssim", "hole_psnr", "hole_ssim", "iou", "dice"]


def test_psnr_with_a_mask_ignores_the_other_pixels():
    rng = np.random.default_rng(0)
    a = rng.random((32, 32, 3))
    mask = np.zeros((32, 32, 1))
    mask[8:20, 4:30] = 1
    b = np.where(mask > 0, a + 0.1, 1 - a)  # error 0.1 inside, large outside
    assert metrics.image_psnr(a, b, mask) == pytest.approx(20.0, abs=1e-4)
    assert metrics.image_psnr(a, b, mask[..., 0]) == pytest.approx(20.0, abs=1e-4)
    assert metrics.image_psnr(a, b) < 10
    same_in_hole = np.where(mask > 0, a, 0.0)
    assert metrics.image_psnr(a, same_in_hole, mask) == pytest.approx(100.0)  # MSE floor
    with pytest.raises(ValueError, match="mask shape"):
        metrics.image_psnr(a, b, np.ones((32, 64)))
    with pytest.raises(ValueError, match="no pixel"):
        metrics.image_psnr(a, b, np.zeros((32, 32)))


def test_mean_iou_by_hand():
    pred = np.array([[0, 0, 1], [1, 2, 2]])
    true = np.array([[0, 1, 1], [1, 2, 0]])
    # class 0: 1 / 3, class 1: 2 / 3, class 2: 1 / 2; class 3 is in neither: left out
    assert metrics.label_mean_iou(pred, true, 4) == pytest.approx(0.5)
    assert metrics.label_mean_iou(true, true, 4) == 1.0
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.label_mean_iou(pred, true[:, :2], 4)
    with pytest.raises(ValueError, match="lie in"):
        metrics.label_mean_iou(pred + 2, true, 4)
