"""`fit` builds and trains every family under a tf.distribute strategy (keras#20164)."""

import numpy as np
import pytest
import tensorflow as tf

import zoo
from training.synthetic import random_batch

CONFIGS = {name: zoo.get_entry(name).tiny_config for name in zoo.list_models()}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_fit_under_mirrored_strategy(name):
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = zoo.create_model(name, **CONFIGS[name])
        model.compile()
    x, y = random_batch(model, 8)
    before = [v.numpy().copy() for v in model.trainable_variables]
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0).history
    assert all(np.isfinite(values).all() for values in history.values())
    for variable, old in zip(model.trainable_variables, before, strict=True):
        assert not np.array_equal(variable.numpy(), old), f"{variable.path} did not change"
