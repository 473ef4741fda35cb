"""A family defined here, in the tests, and nowhere else: registering it with its
contract (task, served network, tiny config) is enough for the shared harness, the
TFLite export with its verification, and `zoo info` to take it."""

import keras
import pytest
from keras import layers

import zoo
from tests import harness
from zoo import registry
from zoo.models.contract import SingleNetwork
from zoo.models.restoration import RestorationTraining
from zoo.models.stored_config import StoredConfig

NAME = "test_only_smoother"


@keras.saving.register_keras_serializable(package="zoo_tests")
class Smoother(SingleNetwork, RestorationTraining, StoredConfig, keras.Model):
    """Two convolutions that add a correction to the image (a test-only denoiser).

    Input `image` (B, H, W, C) in [0, 1]; output `restored`, same shape, in [0, 1].
    """

    task = "denoise"

    def __init__(self, image_shape=(None, None, 3), width=4, **kwargs):
        image = keras.Input(image_shape, name="image")
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name="conv")(image)
        x = layers.Conv2D(image_shape[-1], 3, padding="same", name="correction")(x)
        # float32 output under any dtype policy, as the conventions ask of every family
        restored = layers.Activation("sigmoid", dtype="float32", name="restored")(
            layers.Add()([image, x]))
        super().__init__(inputs=image, outputs=restored, **kwargs)
        self._store_config(image_shape=tuple(image_shape), width=width)


@pytest.fixture
def family():
    registry.register_model(NAME, family="smoother", task="denoise",
                            tiny_config=dict(image_shape=(16, 16, 3), width=4))(Smoother)
    try:
        yield zoo.create_model(NAME, **zoo.get_entry(NAME).tiny_config)
    finally:
        del registry._REGISTRY[NAME]


def test_the_harness_takes_a_family_it_has_never_seen(family, tmp_path):
    harness.check_registered_model(NAME, tmp_path)  # what test_every_model.py runs
    history = harness.check_fit_step(family)
    assert set(history.history) == {"loss", "psnr", "ssim"}  # the standard setup


def test_it_exports_and_zoo_info_describes_it(family, tmp_path, capsys):
    from export import to_tflite
    from zoo_cli.main import main

    report = to_tflite(family, tmp_path / "smoother.tflite", quantize="float16",
                       log=lambda line: None)
    assert report["passed"] and (tmp_path / "smoother.tflite").is_file()
    assert main(["info", NAME]) == 0
    out = capsys.readouterr().out
    assert "family: smoother" in out and "input  image" in out and "output restored" in out
    assert NAME in zoo.list_models()
