r"""Train tiny zoo models for a few steps under a strategy; write weights and losses.

One process per worker, the same command in each, with its own TF_CONFIG::

    CLUSTER='"cluster": {"worker": ["localhost:12345", "localhost:12346"]}'
    TF_CONFIG="{$CLUSTER, \"task\": {\"type\": \"worker\", \"index\": 0}}" \
        python -m training.multiworker_demo --strategy multiworker --out runs/demo &
    TF_CONFIG="{$CLUSTER, \"task\": {\"type\": \"worker\", \"index\": 1}}" \
        python -m training.multiworker_demo --strategy multiworker --out runs/demo

``--strategy none`` is the single-process reference: same global batch, data order
and initial weights. Each run writes ``OUT/<model>-<strategy>-task<i>.npz``: final
weights ``w0``, ``w1``, ..., initial weights ``initial0``, ... and per-step logs
``log_<name>`` (running means, as ``fit`` shows them). The chief also saves
``OUT/<model>-<strategy>/model.keras``.
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf

import zoo
from training.distribute import (
    STRATEGIES,
    chief_or_temp_dir,
    make_strategy,
    prepare_dataset,
    strategy_scope,
    tf_config,
)
from training.synthetic import random_batch


def per_sample_config(name):
    """The registry entry's `tiny_config`, with every normalization argument that is
    "batch" there or by default (`normalization`, `generator_normalization`, ...) set
    to "instance": instance normalization is per sample, so splitting a batch across
    replicas changes nothing, where BatchNormalization would use per-replica batch
    statistics and keep per-worker moving statistics (Keras 3 does not synchronize
    them by default)."""
    entry = zoo.get_entry(name)
    config = {**entry.config_keys(), **entry.tiny_config}
    per_sample = {key: "instance" for key, value in config.items()
                  if key.endswith("normalization") and value == "batch"}
    return {**entry.tiny_config, **per_sample}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategy", choices=STRATEGIES, default="multiworker")
    parser.add_argument("--model", choices=zoo.list_models(), nargs="+", default=["unet"])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--global-batch", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    strategy = make_strategy(args.strategy)  # before any TF op: MWMS configures collectives
    config = tf_config()
    task = config["task"]["index"] if config else 0
    os.makedirs(args.out, exist_ok=True)
    for name in args.model:
        initial, final, logs = train(name, strategy, args)
        weights = {f"w{i}": w for i, w in enumerate(final)}
        weights.update({f"initial{i}": w for i, w in enumerate(initial)})
        np.savez(os.path.join(args.out, f"{name}-{args.strategy}-task{task}.npz"),
                 **weights, **logs)
        print("done", name, args.strategy, task, {k: float(v[-1]) for k, v in logs.items()})


def train(name, strategy, args):
    """Build, compile (SGD) and fit model `name`: its initial and final weights and its
    per-step logs."""
    keras.utils.set_random_seed(args.seed)
    with strategy_scope(strategy):
        model = zoo.create_model(name, **per_sample_config(name))
        if model.own_train_step:  # a GAN's compile takes its two optimizers
            model.compile(d_optimizer=keras.optimizers.SGD(args.learning_rate),
                          g_optimizer=keras.optimizers.SGD(args.learning_rate))
        else:
            model.compile(optimizer=keras.optimizers.SGD(args.learning_rate))
    x, y = random_batch(model, args.steps * args.global_batch, seed=args.seed)
    dataset = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    dataset = prepare_dataset(dataset.batch(args.global_batch), strategy)

    initial = model.get_weights()
    history = {}

    def record(batch, logs):
        for key, value in logs.items():
            history.setdefault(f"log_{key}", []).append(float(value))

    model.fit(dataset, epochs=1, verbose=0, shuffle=False,
              callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=record)])
    with chief_or_temp_dir(os.path.join(args.out, f"{name}-{args.strategy}")) as out:
        model.save(os.path.join(out, "model.keras"))
    return initial, model.get_weights(), {k: np.array(v) for k, v in history.items()}


if __name__ == "__main__":
    main()
