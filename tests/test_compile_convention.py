"""compile() follows keras-hub's convention: "auto" (the default) is the model's standard
part, anything else is Keras' own meaning (`metrics=None`: no metrics)."""

import keras
import numpy as np
import pytest

import zoo


def _metric_names(model):
    x = {"image": np.zeros((2, 16, 16, 3), "float32"), "mask": np.ones((2, 16, 16, 1),
                                                                       "float32")}
    return sorted(model.evaluate(x, x["image"], verbose=0, return_dict=True))


@pytest.fixture
def inpainter():
    return zoo.create_model("unet", filters=[4, 8], normalization="none", mask_input=True)


def test_auto_is_the_standard_setup_and_none_means_no_metrics(inpainter):
    inpainter.compile()
    assert _metric_names(inpainter) == ["hole_psnr", "hole_ssim", "loss", "psnr", "ssim"]
    # recompiled (as a fine-tune does): the standard hole metrics are gone too
    inpainter.compile(loss="mae", metrics=["mse"])
    assert _metric_names(inpainter) == ["loss", "mse"]
    fresh = zoo.create_model("unet", filters=[4, 8], normalization="none", mask_input=True)
    fresh.compile(metrics=None)
    assert _metric_names(fresh) == ["loss"]


def test_segmentation_head_follows_the_same_convention():
    model = zoo.create_model("unet", filters=[4, 8], head="segmentation", num_classes=3)
    model.compile(metrics=None)
    x, y = np.zeros((2, 16, 16, 3), "float32"), np.zeros((2, 16, 16), "int32")
    assert sorted(model.evaluate(x, y, verbose=0, return_dict=True)) == ["loss"]
    model.compile()
    assert len(model.evaluate(x, y, verbose=0, return_dict=True)) == 3  # loss, IoU, Dice


@pytest.mark.parametrize("metrics, expected", [
    ("auto", ["hole_psnr", "hole_ssim", "loss", "psnr", "ssim"]), (None, ["loss"])])
def test_saved_compile_setup_comes_back(inpainter, tmp_path, metrics, expected):
    inpainter.compile(metrics=metrics)
    inpainter.save(tmp_path / "m.keras")
    assert _metric_names(keras.saving.load_model(tmp_path / "m.keras")) == expected


def test_a_file_saved_before_auto_keeps_its_standard_metrics(inpainter):
    # files written before the "auto" convention stored metrics=None for the standard ones
    inpainter.compile()
    config = inpainter.get_compile_config()
    assert config["metrics"] == "auto"
    config["metrics"] = None
    inpainter.compile_from_config(config)
    assert _metric_names(inpainter) == ["hole_psnr", "hole_ssim", "loss", "psnr", "ssim"]
