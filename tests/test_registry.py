import keras
import pytest

import zoo
from zoo.layers import level_filters


def test_the_three_shipped_families_are_registered_sorted():
    names = zoo.list_models()  # a further family adds to these without changing the test
    assert names == sorted(names)
    assert {"conv_autoencoder_inpainter", "dcgan", "unet"} <= set(names)
    families = {zoo.get_entry(name).family for name in names}
    assert {"inpainter", "gan", "unet"} <= families


def test_create_model_applies_config():
    model = zoo.create_model("unet", filters=8, depth=2, image_shape=(16, 16, 1))
    assert model.filters == (8, 16) and model.image_shape == (16, 16, 1)


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="Unknown model 'vae'.*conv_autoencoder_inpainter, dcgan"):
        zoo.create_model("vae")


def test_unknown_config_key_lists_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown config key\(s\) \['filter'\].*filters"):
        zoo.create_model("unet", filter=8)


@pytest.mark.parametrize("filters, depth, expected", [
    (8, 3, (8, 16, 32)), ((4, 6), None, (4, 6)), ((4, 6), 2, (4, 6)),
])
def test_level_filters(filters, depth, expected):
    assert level_filters(filters, depth) == expected


@pytest.mark.parametrize("kwargs, match", [
    (dict(activation="mish"), "Unknown activation 'mish'. Valid values: relu"),
    (dict(normalization="layer"), "Unknown normalization 'layer'"),
    (dict(upsampling="pixelshuffle"), "Unknown upsampling"),
    (dict(dropout=1.0), "dropout must be in"),
    (dict(l2=-1.0), "must be >= 0"),
    (dict(filters=8), "depth must be an int"),
])
def test_bad_knobs_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.create_model("conv_autoencoder_inpainter", **kwargs)


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_family_declares_its_contract(name):
    from zoo.conventions import TASKS

    model = zoo.create_model(name, **zoo.get_entry(name).tiny_config)
    assert model.count_params() < 50_000  # tiny: what the suites build for every family
    assert model.task in TASKS
    served = model.served_network()
    assert isinstance(served, keras.Model) and served in model.networks()
    assert isinstance(model.own_train_step, bool)
    assert model.own_train_step == (model.task == "generate")


@pytest.mark.parametrize("name", zoo.list_models())
def test_declared_variants_and_demo_config_build(name):
    entry = zoo.get_entry(name)
    tiny = zoo.create_model(name, **entry.tiny_config).count_params()
    for variant in entry.variants:
        config = {**entry.tiny_config, **variant}
        assert config != entry.tiny_config, variant  # it switches something on
        zoo.create_model(name, **config)  # test_backends.py fits it under JAX
    if entry.demo_config is not None:  # what `zoo quickstart` fits
        assert zoo.create_model(name, **entry.demo_config).count_params() > tiny


def test_an_entry_without_variants_or_demo_config_falls_back_to_tiny_config():
    from zoo import registry

    registry.register_model("test_only_plain", family="plain", task="denoise",
                            tiny_config=dict(width=2))(lambda width=1: width)
    try:
        entry = zoo.get_entry("test_only_plain")
        assert entry.variants == () and entry.demo_config is None
        assert entry.variant_configs() == [{"width": 2}]
    finally:
        del registry._REGISTRY["test_only_plain"]
