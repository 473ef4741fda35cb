"""int8 calibration: outlier examples dropped, U-Net skip ranges equalized."""

import keras
import numpy as np

import zoo
from export.calibration import OUTLIER_RATIO, outlier_examples
from export.equalize import equalize_skip_ranges


def _unet(seed=0):
    keras.utils.set_random_seed(seed)
    return zoo.create_model("unet", filters=[4, 8], image_shape=(None, None, 3))


def test_an_example_far_beyond_the_others_is_dropped():
    model = _unet()
    images = np.random.default_rng(0).random((12, 16, 16, 3)).astype("float32") * 0.2
    images[5] *= 2000.0  # its activations are ~2000x the others'
    assert outlier_examples(model, images).tolist() == [5]
    assert outlier_examples(model, images[:5]).size == 0
    assert OUTLIER_RATIO < 2000


def test_equalized_unet_computes_the_same_with_matched_skip_ranges():
    model = _unet(1)
    upconv = model.get_layer("decoder0_upconv")  # make the up-sampled half 300x too wide
    upconv.kernel.assign(upconv.kernel * 300.0)
    images = np.random.default_rng(1).random((6, 16, 16, 3)).astype("float32")
    equalized, scales = equalize_skip_ranges(model, {"image": images})
    assert set(scales) == {"decoder0_upconv", "decoder1_upconv"}
    assert scales["decoder0_upconv"].max() < 0.1
    before, after = model.predict(images, verbose=0), equalized.predict(images, verbose=0)
    assert np.abs(before - after).max() < 1e-4
    concat = equalized.get_layer("decoder0_skip")
    up, skip = keras.Model(equalized.input, concat.input).predict(images, verbose=0)
    assert np.isclose(np.abs(up).max(), np.abs(skip).max(), rtol=1e-3)
    assert model.get_layer("decoder0_upconv").kernel is not equalized.get_layer(
        "decoder0_upconv").kernel  # the caller's model is left as it was


def test_models_without_skips_come_back_unchanged():
    model = zoo.create_model("conv_autoencoder_inpainter", filters=(4, 8))
    images = np.zeros((2, 16, 16, 3), "float32")
    same, scales = equalize_skip_ranges(model, {"image": images, "mask": images[..., :1]})
    assert same is model and scales == {}
