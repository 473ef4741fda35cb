"""`training.prune`: a narrower U-Net warm-started from a wider one's strongest channels."""

import json

import numpy as np
import pytest

import zoo
from tests import harness
from training.prune import channel_sources, main, prune_into, strongest_channels
from training.snapshot import curve_sidecar, source_curve

DENOISER = dict(activation="leaky_relu", pooling="avg", normalization="none", residual=True,
                pixel_unshuffle=2, noise_level_input=True, smooth_blend=2)
WIDE, NARROW = (8, 16), (4, 8)


def _convolutions(model):
    return [layer for layer in model.layers
            if type(layer).__name__ in ("Conv2D", "Conv2DTranspose")]


def _wide_with_dead_channels(rng):
    """A wide denoiser whose convolutions that the narrow layout narrows have every
    other output channel zero (kernel and bias): those channels are 0 after leaky ReLU,
    pooling and the up-convolutions, so dropping them changes nothing."""
    wide = zoo.create_model("unet", filters=WIDE, **DENOISER)
    narrow = zoo.create_model("unet", filters=NARROW, **DENOISER)
    for layer in _convolutions(wide):
        harness.randomize_weights(layer, rng)
        if layer.filters == narrow.get_layer(layer.name).filters:
            continue
        kernel, bias = (np.asarray(w) for w in (layer.kernel, layer.bias))
        axis = 2 if type(layer).__name__ == "Conv2DTranspose" else 3
        dead = np.arange(1, layer.filters, 2)
        index = [slice(None)] * 4
        index[axis] = dead
        kernel[tuple(index)] = 0.0
        bias[dead] = 0.0
        layer.kernel.assign(kernel)
        layer.bias.assign(bias)
    return wide, narrow


def test_dropping_dead_channels_keeps_the_output():
    rng = np.random.default_rng(0)
    wide, narrow = _wide_with_dead_channels(rng)
    kept = prune_into(wide, narrow)
    assert all(np.array_equal(indices, np.arange(0, len(indices) * 2, 2))
               for indices in kept.values())
    image = rng.random((2, 32, 32, 3)).astype("float32")
    level = np.array([[0.1], [0.2]], "float32")
    inputs = {"image": image, "noise_level": level}
    np.testing.assert_allclose(narrow.predict(inputs, verbose=0),
                               wide.predict(inputs, verbose=0), atol=1e-5)


def test_skip_concatenations_narrow_both_of_their_parts():
    wide = zoo.create_model("unet", filters=WIDE, **DENOISER)
    sources = channel_sources(wide.get_layer("decoder0_conv1"))
    assert sources == [("decoder0_upconv", 8), ("encoder0_conv2", 8)]
    # the first convolution reads the unshuffled image and the noise map: never narrowed
    assert [name for name, _ in channel_sources(wide.get_layer("encoder0_conv1"))] == [None]


def test_the_strongest_filters_are_kept_in_order():
    kernel = np.zeros((3, 3, 2, 5), np.float32)
    kernel[..., [4, 1, 3]] = [3.0, 2.0, 1.0]
    np.testing.assert_array_equal(strongest_channels(kernel, 2), [1, 4])
    transposed = np.transpose(kernel, (0, 1, 3, 2))
    np.testing.assert_array_equal(strongest_channels(transposed, 2, transposed=True), [1, 4])


def test_a_wider_or_different_target_is_refused():
    wide = zoo.create_model("unet", filters=WIDE, **DENOISER)
    wider = zoo.create_model("unet", filters=(8, 32), **DENOISER)
    with pytest.raises(ValueError, match="narrows to"):
        prune_into(wide, wider)
    other = zoo.create_model("unet", filters=(4, 8, 16), **DENOISER)
    with pytest.raises(ValueError, match="the source has no"):
        prune_into(wide, other)


def test_the_command_writes_a_keras_file_that_init_from_loads(tmp_path, capsys):
    from training.recipe import load_recipe
    from training.run import build_model, load_initial_weights

    source = zoo.create_model("unet", filters=WIDE, **DENOISER)
    source_file = tmp_path / "wide.keras"
    source.save(source_file)
    wide_curve = {"run": "wide", "rows": [{"step": 250, "hours": 0.1, "val_psnr": 20.0}],
                  "warm_start": None}
    curve_sidecar(source_file).write_text(json.dumps(wide_curve))
    recipe_file = tmp_path / "narrow.toml"
    recipe_file.write_text(
        'description = "narrow"\n[model]\narchitecture = "unet"\nconfig = { filters = [4, 8], '
        'activation = "leaky_relu", pooling = "avg", normalization = "none", residual = true, '
        'pixel_unshuffle = 2, noise_level_input = true, smooth_blend = 2 }\n'
        '[data]\ndataset = "natural"\ncrop_size = [32, 32]\n'
        '[degradation]\nnoise_sigma = [0, 50]\n')
    out = tmp_path / "narrow.keras"
    assert main([str(source_file), str(recipe_file), "-o", str(out), "--validate", "2"]) == 0
    printed = capsys.readouterr().out
    assert "validation PSNR, source:" in printed
    assert "validation PSNR, strongest channels:" in printed
    model = build_model(load_recipe(recipe_file))
    load_initial_weights(model, out)
    expected = zoo.create_model("unet", filters=NARROW, **DENOISER)
    prune_into(source, expected)
    for mine, theirs in zip(model.weights, expected.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))
    assert not list(tmp_path.glob("*.partial*"))
    # the narrow file carries the curve of the weights it came from, for --init-from
    assert source_curve(out) == wide_curve


def test_refitting_brings_the_narrow_output_closer_to_the_wide_one():
    from training.prune import refit_convolutions

    rng = np.random.default_rng(2)
    wide = zoo.create_model("unet", filters=WIDE, **DENOISER)
    for layer in _convolutions(wide):
        harness.randomize_weights(layer, rng)
    narrow = zoo.create_model("unet", filters=NARROW, **DENOISER)
    kept = prune_into(wide, narrow)
    fit = {"image": rng.random((8, 32, 32, 3)).astype("float32"),
           "noise_level": rng.random((8, 1)).astype("float32") * 0.2}
    held_out = {"image": rng.random((4, 32, 32, 3)).astype("float32"),
                "noise_level": rng.random((4, 1)).astype("float32") * 0.2}
    expected = wide.predict(held_out, verbose=0)
    before = np.mean((narrow.predict(held_out, verbose=0) - expected) ** 2)
    errors = refit_convolutions(wide, narrow, kept, fit)
    after = np.mean((narrow.predict(held_out, verbose=0) - expected) ** 2)
    assert set(errors) >= {"encoder0_conv1", "decoder0_conv2", "to_image"}
    assert "decoder0_upconv" not in errors  # transposed convolutions keep their slices
    assert after < 0.8 * before  # 0.67x with these seeds
