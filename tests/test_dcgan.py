import numpy as np
import pytest

import zoo
from tests import harness

TINY = dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=(8, 4),
            discriminator_filters=(4, 8))


def build(**overrides):
    return zoo.create_model("dcgan", **{**TINY, **overrides})


def test_networks_outputs():
    gan = build()
    assert gan.generator.output_names == ["image"]
    assert gan.discriminator.output_names == ["logit"]
    latent = np.random.default_rng(0).normal(size=(2, 8)).astype("float32")
    images = harness.predict(gan, latent)
    assert images.shape == (2, 16, 16, 1) and 0 <= images.min() and images.max() <= 1
    assert harness.predict(gan, images).shape == (2, 1)
    harness.check_outputs(gan.discriminator, (1,), None)


@pytest.mark.parametrize("loss, r1_gamma, variant", [
    ("bce", 0.0, dict()),
    ("bce", 1.0, dict(spectral_norm=True, dropout=0.2, pooling="avg")),
    ("lsgan", 0.0, dict(upsampling="bilinear", generator_normalization="instance", l2=1e-4)),
])
def test_fit_trains_both_networks(loss, r1_gamma, variant):
    gan = build(**variant)
    gan.compile(loss=loss, r1_gamma=r1_gamma)
    gan.compile = lambda: None  # keep the chosen loss when the harness compiles
    history = harness.check_fit_step(gan)
    assert set(history.history) == {"d_loss", "g_loss"}
    assert int(gan.d_optimizer.iterations.numpy()) == int(gan.g_optimizer.iterations.numpy()) == 1


def test_hinge_loss_trains():
    # Under hinge the logit bias gradient is -1 + 1 = 0 while every margin is active,
    # so the harness's "every weight moves" check does not apply; check the rest.
    gan = build(spectral_norm=True)
    gan.compile(loss="hinge", r1_gamma=0.5)
    kernel = gan.discriminator.get_layer("down0_sn").layer.kernel
    before = kernel.numpy().copy()
    g_before = gan.generator.get_weights()
    x, _ = harness.random_batch(gan, 4)
    history = gan.fit(x, batch_size=4, epochs=1, verbose=0).history
    assert 1.5 < history["d_loss"][0] < 2.5  # relu(1 - D(x)) + relu(1 + D(G(z))) near D = 0
    assert not np.array_equal(kernel.numpy(), before)
    g_after = gan.generator.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(g_after, g_before, strict=True))


def test_generate_is_seeded():
    gan = build()
    first, again, other = gan.generate(3, seed=1), gan.generate(3, seed=1), gan.generate(3, seed=2)
    assert first.shape == (3, 16, 16, 1)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_each_network_rebuilds_from_its_config():
    gan = build()  # the whole GAN's round trips run in test_every_model.py
    harness.check_config_round_trip(gan.generator)
    harness.check_config_round_trip(gan.discriminator)


def test_bad_inputs():
    with pytest.raises(ValueError, match="fixed image_shape"):
        zoo.DCGANGenerator(image_shape=(None, None, 3))
    with pytest.raises(ValueError, match="Unknown adversarial loss 'wgan'"):
        build().compile(loss="wgan")
    gen = zoo.DCGANGenerator(image_shape=(16, 16, 1), filters=(8, 4))
    disc = zoo.DCGANDiscriminator(image_shape=(32, 32, 1), filters=(4, 8))
    with pytest.raises(ValueError, match="discriminator takes"):
        zoo.DCGAN(gen, disc)
    harness.check_bad_input_shape(build().generator, np.zeros((1, 5), "float32"), "shape")


def _fit_seeded(g_optimizer):
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    gan = build(seed=0)
    gan.compile(g_optimizer=g_optimizer)
    images = np.random.default_rng(0).uniform(size=(8, 16, 16, 1)).astype("float32")
    gan.fit(images, batch_size=4, epochs=2, verbose=0)
    return gan


def test_generator_ema_replaces_weights_when_fit_ends():
    import keras

    plain = _fit_seeded(keras.optimizers.Adam(2e-4, beta_1=0.5))
    averaged = _fit_seeded(keras.optimizers.Adam(2e-4, beta_1=0.5, use_ema=True,
                                                 ema_momentum=0.5))
    averages = averaged.g_optimizer._model_variables_moving_average
    for weight, average in zip(averaged.generator.trainable_variables, averages, strict=True):
        np.testing.assert_array_equal(weight.numpy(), average.numpy())
    # The average only changes what the generator ends with, not how training went.
    for a, b in zip(plain.discriminator.get_weights(), averaged.discriminator.get_weights(),
                    strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert any(not np.allclose(a, b) for a, b in zip(
        plain.generator.get_weights(), averaged.generator.get_weights(), strict=True))
