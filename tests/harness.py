"""The shared test harness, run over every registered model with tiny configs.

`check_registered_model(name, tmp_path)` runs the checks every family must pass on its
registry entry's `tiny_config`, reading shapes and value ranges from the family's
contract and `zoo.conventions` (`test_every_model.py` runs it over `zoo.list_models()`);
each family's own test file calls the single checks for its knobs (the keras-hub
`TestCase.run_*_test` pattern). Checks run on the TensorFlow backend;
`test_backends.py` repeats build / predict / fit under JAX in a subprocess.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from training.synthetic import random_batch
from zoo.conventions import TASKS, value_range


def predict(model, x):
    """Model outputs as numpy (inference mode)."""
    return keras.ops.convert_to_numpy(model(x, training=False))


def randomize_weights(layer, rng, scale=0.2):
    """Give `layer` normal random weights (std `scale`) drawn from `rng`: makes a
    zero-initialised head (a residual correction, a blend) change the output."""
    layer.set_weights([rng.normal(0, scale, w.shape).astype("float32")
                       for w in layer.get_weights()])


def check_outputs(model, expected_shape, value_range, image_size=(32, 32)):
    """Output shape, dtype and value range at batch 1 and 2, and no NaNs.

    `expected_shape` excludes the batch axis; `value_range` is (low, high) or None.
    """
    for batch in (1, 2):
        x, _ = random_batch(model, batch, image_size=image_size, seed=batch)
        out = predict(model, x)
        assert out.shape == (batch, *expected_shape)
        assert out.dtype == np.float32
        assert np.all(np.isfinite(out))
        if value_range is not None:
            assert out.min() >= value_range[0] - 1e-6
            assert out.max() <= value_range[1] + 1e-6


def check_known_pixels_unchanged(model, image_size=(32, 32)):
    """An inpainter composites: pixels outside the hole equal the input exactly,
    and what the input holds under the hole does not change the output."""
    x, _ = random_batch(model, 2, image_size=image_size)
    out = predict(model, x)
    known = np.broadcast_to(x["mask"] == 0, out.shape)
    np.testing.assert_array_equal(out[known], x["image"][known])
    scribbled = dict(x, image=np.where(x["mask"] == 1, 1.0 - x["image"], x["image"]))
    np.testing.assert_allclose(predict(model, scribbled), out, atol=1e-6)


def check_config_round_trip(model):
    """`from_config(get_config())` rebuilds the same architecture, which then gives
    the same outputs once it has the same weights."""
    config = model.get_config()
    clone = model.__class__.from_config(config)
    assert clone.get_config() == config
    clone.set_weights(model.get_weights())
    x, _ = random_batch(model, 2)
    np.testing.assert_allclose(predict(clone, x), predict(model, x), atol=1e-6)


def check_keras_file_round_trip(model, tmp_path):
    """Save to `.keras` and load with `keras.saving.load_model` (no custom_objects)."""
    model.compile()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    if model.task == "generate":
        latent = np.random.default_rng(0).normal(size=(2, model.latent_dim)).astype("float32")
        np.testing.assert_allclose(predict(loaded, latent), predict(model, latent), atol=1e-6)
        assert loaded.adversarial_loss == model.adversarial_loss
        return
    x, _ = random_batch(model, 2)
    np.testing.assert_allclose(predict(loaded, x), predict(model, x), atol=1e-6)
    assert loaded.compiled and type(loaded.loss) is type(model.loss)


def _gradients(model, x, y):
    """Gradients of the model's training objective(s), keyed by variable path."""
    if model.own_train_step:  # a GAN: its two networks' losses
        from zoo.losses import discriminator_loss, generator_loss

        # Connectivity is checked with bce: under hinge the logit bias gets -1 + 1 = 0
        # while every margin is active, which is correct but not informative.
        latent = tf.random.normal((x.shape[0], model.latent_dim), seed=0)
        with tf.GradientTape(persistent=True) as tape:
            fake = model.generator(latent, training=True)
            fake_logits = model.discriminator(fake, training=True)
            d_loss = discriminator_loss(model.discriminator(x, training=True), fake_logits, "bce")
            g_loss = generator_loss(fake_logits, "bce")
        d_vars = model.discriminator.trainable_variables
        g_vars = model.generator.trainable_variables
        grads = tape.gradient(d_loss, d_vars) + tape.gradient(g_loss, g_vars)
        return dict(zip([v.path for v in d_vars + g_vars], grads, strict=True))
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x, y, y_pred)
    grads = tape.gradient(loss, model.trainable_variables)
    return dict(zip([v.path for v in model.trainable_variables], grads, strict=True))


def check_fit_step(model):
    """`compile()` with no arguments, then one `fit` step: finite losses, every weight
    changes, and every trainable weight has a non-zero finite gradient."""
    model.compile()
    x, y = random_batch(model, 4)
    for path, grad in _gradients(model, x, y).items():
        assert grad is not None, f"no gradient reaches {path}"
        grad = keras.ops.convert_to_numpy(grad)
        assert np.all(np.isfinite(grad)), f"non-finite gradient for {path}"
        assert np.any(grad != 0), f"zero gradient for {path}"
    before = [v.numpy().copy() for v in model.trainable_variables]
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    for name, values in history.history.items():
        assert np.all(np.isfinite(values)), f"{name} is not finite: {values}"
    for variable, old in zip(model.trainable_variables, before, strict=True):
        assert not np.array_equal(variable.numpy(), old), f"{variable.path} did not change"
    return history


def check_mixed_precision(build):
    """Under `mixed_float16`: float32 variables, float16 compute, float32 outputs,
    and a finite training step."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build()
        assert all(v.dtype == "float32" for v in model.weights)
        model.compile()
        x, y = random_batch(model, 2)
        history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
        assert all(np.all(np.isfinite(v)) for v in history.history.values())
        if model.task == "generate":
            x = np.zeros((2, model.latent_dim), "float32")
        assert keras.ops.convert_to_numpy(model(x)).dtype == np.float32
    finally:
        keras.config.set_dtype_policy(previous)


def check_bad_input_shape(model, bad_input, match):
    """A wrongly shaped input raises a ValueError whose message matches `match`."""
    with pytest.raises(ValueError, match=match):
        model.predict(bad_input, verbose=0)


def check_declared_outputs(model, image_size=(32, 32)):
    """`check_outputs` on the served network, with the shape its output declares (free
    sides at `image_size`) and the value range `zoo.conventions` gives the output's name."""
    served = model.served_network()
    (name,) = served.output_names
    sides = [side or size for side, size in zip(served.output_shape[1:3], image_size,
                                                 strict=True)]
    check_outputs(served, (*sides, *served.output_shape[3:]), value_range(name), image_size)


def check_registered_model(name, tmp_path):
    """Everything a registered family must pass, built from its `tiny_config`: declared
    outputs, composited known pixels (inpainters), config and `.keras` round trips, a
    `fit` step with `compile()`, and a mixed-precision step."""
    def build():
        return zoo.create_model(name, **zoo.get_entry(name).tiny_config)

    model = build()
    assert model.task in TASKS  # an instance's task (a U-Net's follows its head and inputs)
    check_declared_outputs(model)
    if model.task == "inpaint":
        check_known_pixels_unchanged(model)
    check_config_round_trip(model)
    check_keras_file_round_trip(model, tmp_path)
    check_fit_step(build())
    check_mixed_precision(build)
