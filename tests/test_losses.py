"""zoo.losses against plain numpy / scikit-image re-implementations on tiny random data."""

import keras
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from zoo import losses

B, H, W, C, K = 3, 16, 16, 3, 4


def to_np(x):
    return keras.ops.convert_to_numpy(x)


def assert_float32(x):
    assert keras.backend.standardize_dtype(x.dtype) == "float32"
    assert np.all(np.isfinite(to_np(x)))


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    y_true = rng.random((B, H, W, C)).astype("float32")
    noise = 0.1 * rng.standard_normal((B, H, W, C))
    y_pred = np.clip(y_true + noise, 0, 1).astype("float32")
    mask = (rng.random((B, H, W, 1)) < 0.3).astype("float32")
    return y_true, y_pred, mask


@pytest.fixture
def seg_data():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, K, size=(2, 8, 8))
    logits = rng.standard_normal((2, 8, 8, K))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return labels, probs.astype("float32")


# ---- numpy references ---------------------------------------------------------------


def np_weighted(err, mask, hole_weight, valid_weight):
    w = (
        np.full(err.shape, valid_weight)
        if mask is None
        else (hole_weight * mask + valid_weight * (1 - mask))
    )
    return (w * err).reshape(len(err), -1).mean(axis=1)


def np_ssim(a, b):
    return np.array(
        [
            structural_similarity(
                x.astype("float64"),
                y.astype("float64"),
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                data_range=1.0,
                channel_axis=-1,
            )
            for x, y in zip(a, b, strict=True)
        ]
    )


def np_dice_loss(labels, probs, smooth=1.0):
    onehot = np.eye(probs.shape[-1])[labels]
    inter = (probs * onehot).sum(axis=(1, 2))
    total = probs.sum(axis=(1, 2)) + onehot.sum(axis=(1, 2))
    return 1 - ((2 * inter + smooth) / (total + smooth)).mean(axis=-1)


def np_cross_entropy(labels, probs):
    picked = np.take_along_axis(probs, labels[..., None], axis=-1)[..., 0]
    return -np.log(picked).mean(axis=(1, 2))


def softplus(x):
    return np.logaddexp(0.0, x)


NP_D_LOSS = {
    "bce": lambda r, f: softplus(-r).mean() + softplus(f).mean(),
    "hinge": lambda r, f: np.maximum(0, 1 - r).mean() + np.maximum(0, 1 + f).mean(),
    "lsgan": lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f**2).mean(),
}
NP_G_LOSS = {
    "bce": lambda f: softplus(-f).mean(),
    "hinge": lambda f: -f.mean(),
    "lsgan": lambda f: 0.5 * ((f - 1) ** 2).mean(),
}


# ---- functions -------------------------------------------------------------------


@pytest.mark.parametrize("fn, power", [(losses.masked_l1, 1), (losses.masked_mse, 2)])
@pytest.mark.parametrize("use_mask", [True, False])
def test_masked_errors(data, fn, power, use_mask):
    y_true, y_pred, mask = data
    mask = mask if use_mask else None
    err = np.abs(y_true - y_pred) ** power
    got = fn(y_true, y_pred, mask, hole_weight=6.0, valid_weight=0.5)
    assert_float32(got)
    assert got.shape == (B,)
    np.testing.assert_allclose(to_np(got), np_weighted(err, mask, 6.0, 0.5), rtol=1e-5)


@pytest.mark.parametrize("use_mask", [True, False])
def test_psnr_loss_is_minus_the_psnr_of_the_weighted_error(data, use_mask):
    y_true, y_pred, mask = data
    mask = mask if use_mask else None
    got = losses.psnr_loss(y_true, y_pred, mask, hole_weight=6.0, valid_weight=0.5)
    assert_float32(got)
    mse = np_weighted((y_true - y_pred) ** 2, mask, 6.0, 0.5)
    np.testing.assert_allclose(to_np(got), 10 * np.log10(mse), rtol=1e-5)
    np.testing.assert_allclose(to_np(losses.psnr_loss(y_true, y_true)), -100.0, rtol=1e-6)


def test_ssim_loss(data):
    y_true, y_pred, _ = data
    got = losses.ssim_loss(y_true, y_pred)
    assert_float32(got)
    np.testing.assert_allclose(to_np(got), 1 - np_ssim(y_true, y_pred), atol=1e-5)
    np.testing.assert_allclose(to_np(losses.ssim_loss(y_true, y_true)), 0.0, atol=1e-5)


def test_total_variation(data):
    images = data[0]
    dy = np.abs(images[:, 1:] - images[:, :-1]).mean(axis=(1, 2, 3))
    dx = np.abs(images[:, :, 1:] - images[:, :, :-1]).mean(axis=(1, 2, 3))
    got = losses.total_variation(images)
    assert_float32(got)
    np.testing.assert_allclose(to_np(got), dy + dx, rtol=1e-5)


@pytest.mark.parametrize("kind", losses.ADVERSARIAL_LOSSES)
def test_adversarial_losses(kind):
    rng = np.random.default_rng(2)
    real = (3 * rng.standard_normal((4, 5, 5, 1))).astype("float32")
    fake = (3 * rng.standard_normal((4, 5, 5, 1))).astype("float32")
    d = losses.discriminator_loss(real, fake, kind)
    g = losses.generator_loss(fake, kind)
    assert_float32(d)
    assert_float32(g)
    assert d.shape == () and g.shape == ()
    np.testing.assert_allclose(to_np(d), NP_D_LOSS[kind](real, fake), rtol=1e-5)
    np.testing.assert_allclose(to_np(g), NP_G_LOSS[kind](fake), rtol=1e-5)


def test_bce_is_stable_for_large_logits():
    big = np.array([[100.0], [-100.0]], "float32")
    assert_float32(losses.discriminator_loss(big, -big, "bce"))
    np.testing.assert_allclose(to_np(losses.generator_loss(big, "bce")), 50.0, rtol=1e-5)


def test_unknown_adversarial_kind_raises():
    x = np.zeros((2, 1), "float32")
    with pytest.raises(ValueError, match="hinge"):
        losses.discriminator_loss(x, x, "wgan")
    with pytest.raises(ValueError, match="lsgan"):
        losses.generator_loss(x, "wgan")


def test_r1_penalty():
    grads = np.random.default_rng(3).standard_normal((3, 4, 4, 2)).astype("float32")
    want = 10.0 / 2 * (grads**2).sum(axis=(1, 2, 3)).mean()
    got = losses.r1_penalty(grads, gamma=10.0)
    assert_float32(got)
    np.testing.assert_allclose(to_np(got), want, rtol=1e-5)


@pytest.mark.parametrize("channel_axis", [False, True])
def test_dice_loss(seg_data, channel_axis):
    labels, probs = seg_data
    given = labels[..., None] if channel_axis else labels
    got = losses.dice_loss(given, probs)
    assert_float32(got)
    assert got.shape == (2,)
    np.testing.assert_allclose(to_np(got), np_dice_loss(labels, probs), rtol=1e-5)


# ---- loss classes ----------------------------------------------------------------


def test_reconstruction_loss(data):
    y_true, y_pred, mask = data
    loss = losses.ReconstructionLoss(ssim_weight=0.3, hole_weight=6.0, valid_weight=1.0)
    ssim_term = 0.3 * (1 - np_ssim(y_true, y_pred))
    plain = np.abs(y_true - y_pred).mean(axis=(1, 2, 3)) + ssim_term
    weighted = np_weighted(np.abs(y_true - y_pred), mask, 6.0, 1.0) + ssim_term

    got = loss(y_true, y_pred)
    assert_float32(got)
    np.testing.assert_allclose(to_np(got), plain.mean(), atol=1e-5)
    np.testing.assert_allclose(to_np(loss.call(y_true, y_pred)), plain, atol=1e-5)
    got_masked = loss.with_mask(y_true, y_pred, mask)
    assert_float32(got_masked)
    np.testing.assert_allclose(to_np(got_masked), weighted.mean(), atol=1e-5)


def test_reconstruction_loss_with_the_psnr_pixel_loss(data):
    y_true, y_pred, mask = data
    loss = losses.ReconstructionLoss(ssim_weight=0.0, hole_weight=6.0, pixel_loss="psnr")
    plain = 10 * np.log10(((y_true - y_pred) ** 2).mean(axis=(1, 2, 3)))
    weighted = 10 * np.log10(np_weighted((y_true - y_pred) ** 2, mask, 6.0, 1.0))
    np.testing.assert_allclose(to_np(loss.call(y_true, y_pred)), plain, rtol=1e-5)
    np.testing.assert_allclose(to_np(loss.with_mask(y_true, y_pred, mask)), weighted.mean(),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="Unknown pixel_loss 'l2'.*l1, psnr"):
        losses.ReconstructionLoss(pixel_loss="l2")


@pytest.mark.parametrize("channel_axis", [False, True])
def test_segmentation_loss(seg_data, channel_axis):
    labels, probs = seg_data
    given = labels[..., None] if channel_axis else labels
    loss = losses.SegmentationLoss(num_classes=K, dice_weight=0.5)
    want = np_cross_entropy(labels, probs) + 0.5 * np_dice_loss(labels, probs)
    got = loss(given, probs)
    assert_float32(got)
    np.testing.assert_allclose(to_np(got), want.mean(), rtol=1e-5)


def test_segmentation_loss_rejects_wrong_class_count(seg_data):
    labels, probs = seg_data
    with pytest.raises(ValueError, match="classes"):
        losses.SegmentationLoss(num_classes=K + 1)(labels, probs)


@pytest.mark.parametrize(
    "loss",
    [
        losses.ReconstructionLoss(ssim_weight=0.1, hole_weight=3.0, valid_weight=0.5, name="r"),
        losses.ReconstructionLoss(ssim_weight=0.0, pixel_loss="psnr"),
        losses.SegmentationLoss(num_classes=5, dice_weight=0.25, reduction="sum"),
    ],
    ids=lambda loss: type(loss).__name__,
)
def test_config_round_trip(loss):
    config = loss.get_config()
    assert type(loss).from_config(config).get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(restored) is type(loss)
    assert restored.get_config() == config


def test_mixed_precision_keeps_float32(data):
    y_true, y_pred, mask = data
    reference = to_np(losses.ReconstructionLoss().with_mask(y_true, y_pred, mask))
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        loss = losses.ReconstructionLoss()
        for pred in (y_pred, y_pred.astype("float16")):
            got = loss.with_mask(y_true, pred, mask)
            assert_float32(got)
            assert_float32(loss(y_true, pred))
            np.testing.assert_allclose(to_np(got), reference, atol=1e-3)
        assert_float32(losses.total_variation(y_pred.astype("float16")))
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
