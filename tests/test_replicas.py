"""Two replicas (MirroredStrategy over two logical CPUs) train like one device.

Runs in a subprocess: logical devices must be configured before TensorFlow starts.
"""

import json
import os
import subprocess
import sys

import numpy as np

SCRIPT = """
import json
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import zoo
from training.synthetic import random_batch
from zoo.models.gan_train_steps import _replica_latents

def one_step(strategy):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = zoo.create_model("unet", filters=(4, 8), image_shape=(16, 16, 3),
                                 mask_input=True, normalization="instance")
        model.compile(optimizer=keras.optimizers.SGD(0.1))
    x, y = random_batch(model, 4, seed=1)
    loss = model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False).history["loss"]
    return loss, [np.asarray(w).tolist() for w in model.trainable_weights]

mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
two_loss, two_weights = one_step(mirrored)
one_loss, one_weights = one_step(tf.distribute.get_strategy())
with mirrored.scope():
    gan = zoo.create_model("dcgan", image_shape=(16, 16, 1), latent_dim=8,
                           generator_filters=(8, 4), discriminator_filters=(4, 8), seed=0)
latents = mirrored.experimental_local_results(
    mirrored.run(tf.function(lambda: _replica_latents(gan, 2, tf))))
with mirrored.scope():  # generator EMA: averaged and swapped in across two replicas
    gan.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5, use_ema=True,
                                                  ema_momentum=0.5))
gan.fit(np.random.default_rng(0).uniform(size=(8, 16, 16, 1)).astype("float32"),
        batch_size=4, epochs=2, verbose=0)
ema_swapped = all(np.array_equal(np.asarray(w), np.asarray(a)) for w, a in zip(
    gan.generator.trainable_variables, gan.g_optimizer._model_variables_moving_average))
print(json.dumps({"replicas": mirrored.num_replicas_in_sync, "ema_swapped": ema_swapped,
                  "two": [two_loss, two_weights], "one": [one_loss, one_weights],
                  "latents": [np.asarray(v).tolist() for v in latents]}))
"""


def run_script():
    env = dict(os.environ, KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_replicas_match_one_device_and_draw_their_own_latents():
    report = run_script()
    assert report["replicas"] == 2
    (two_loss, two_weights), (one_loss, one_weights) = report["two"], report["one"]
    # The hole-weighted loss is computed outside Keras' loss path: without dividing
    # it by the replica count the step (and the logged loss) would double.
    np.testing.assert_allclose(two_loss, one_loss, rtol=1e-5)
    for a, b in zip(two_weights, one_weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    first, second = (np.asarray(v) for v in report["latents"])
    assert first.shape == second.shape == (2, 8)
    assert not np.allclose(first, second), "both replicas drew the same latents"
    assert report["ema_swapped"], "generator weights are not the EMA after fit"
