"""Data-parallel training: tf.distribute strategies on TensorFlow, DataParallel on JAX.

TensorFlow::

    strategy = make_strategy("multiworker")       # first thing: before any TF op runs
    with strategy_scope(strategy):                # model, compile(), optimizer inside
        model = zoo.create_model("unet", ...)
        model.compile()
    model.fit(prepare_dataset(dataset, strategy))  # dataset batched by the GLOBAL batch size
    with chief_or_temp_dir("runs/unet") as out:   # every worker saves; the chief's stays
        model.save(os.path.join(out, "model.keras"))

JAX: ``use_jax_data_parallel()``, then plain ``fit``.

Keras 3 ``fit`` under ``MultiWorkerMirroredStrategy`` fails out of the box
(keras#20585, tensorflow#72388): the Keras TF trainer calls ``strategy.reduce``
(1) on the whole ``(x, y)`` batch to build the model, but ``Strategy.reduce`` takes
one value, not a nest ("Attempt to convert a value (PerReplica...) to a Tensor"), and
(2) with ``axis=0`` on the scalar logs of every step ("Invalid reduction dimension 0
for input with 0 dimensions"). Single-worker strategies take other code paths.
``make_strategy("multiworker")`` returns a ``MultiWorkerMirroredStrategy`` whose
``reduce`` accepts nests and reduces scalars across replicas only: exactly what
Keras meant, and a no-op change for every call that worked before.

With it, two workers end with identical weights and the loss of a one-process run
on the same global batch (tests/test_multiworker.py). Caveats: numpy inputs to
``fit`` work too, but every worker must call ``keras.utils.set_random_seed`` with the
same seed so that the shuffles agree; ``BatchNormalization`` uses per-replica batch
statistics and, in Keras 3.15, does not synchronize its moving statistics, so each
worker keeps its own (the chief's are saved): per-sample normalization (``instance``)
avoids both.

This module imports TensorFlow and Keras inside its functions, so it imports under
``KERAS_BACKEND=jax`` without TensorFlow.
"""

import contextlib
import functools
import json
import os
import shutil
import tempfile

STRATEGIES = ("none", "mirrored", "multiworker")


def make_strategy(name="none"):
    """A tf.distribute strategy by name, or None for ``"none"``.

    ``"mirrored"``: ``MirroredStrategy`` over this machine's GPUs (the CPU without).
    ``"multiworker"``: ``MultiWorkerMirroredStrategy`` over the cluster in TF_CONFIG
    (one process per worker, every one running the same program), fixed for Keras 3
    ``fit`` (keras#20585, see the module docstring). Create it before any other
    TensorFlow op: it configures the collective ops at program start. Collectives
    use ``AUTO``: ring all-reduce over gRPC on CPUs, NCCL on GPUs.
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}; choose one of {STRATEGIES}.")
    if name == "none":
        return None
    import keras  # noqa: PLC0415

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"Strategy {name!r} is a tf.distribute strategy and needs the TensorFlow backend "
            f"(KERAS_BACKEND=tensorflow), not {keras.backend.backend()!r}. On JAX use "
            "training.distribute.use_jax_data_parallel() (keras.distribution.DataParallel).")
    import tensorflow as tf  # noqa: PLC0415

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if tf_config() is None:
        raise ValueError(
            'Strategy "multiworker" needs TF_CONFIG, set in each worker process, e.g. '
            'TF_CONFIG=\'{"cluster": {"worker": ["localhost:12345", "localhost:12346"]}, '
            '"task": {"type": "worker", "index": 0}}\' (index 1 in the second worker).')
    return _keras_multi_worker_strategy_class()()


@functools.cache
def _keras_multi_worker_strategy_class():
    import tensorflow as tf  # noqa: PLC0415

    class KerasMultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        """``MultiWorkerMirroredStrategy`` whose ``reduce`` takes what Keras 3 passes it.

        ``reduce`` maps over nested structures, and reduces a scalar across replicas
        even when asked for ``axis=0`` (a scalar has no axis 0): keras#20585.
        """

        def reduce(self, reduce_op, value, axis=None):
            parent = super()

            def reduce_one(per_replica):
                rank = self.experimental_local_results(per_replica)[0].shape.rank
                return parent.reduce(reduce_op, per_replica, None if rank == 0 else axis)

            return tf.nest.map_structure(reduce_one, value)

    return KerasMultiWorkerMirroredStrategy


def strategy_scope(strategy):
    """``strategy.scope()``, or a no-op context for None. Build and compile the model
    (and its optimizer) inside it, so their variables are mirrored."""
    return contextlib.nullcontext() if strategy is None else strategy.scope()


def tf_config():
    """TF_CONFIG parsed and checked, or None when it is not set."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error}): {raw!r}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not (isinstance(cluster, dict) and cluster.get("worker")
            and isinstance(task, dict) and "type" in task and "index" in task):
        raise ValueError(
            'TF_CONFIG must look like {"cluster": {"worker": ["host1:port", "host2:port"]}, '
            f'"task": {{"type": "worker", "index": 0}}}}; got {raw!r}')
    members, index = cluster.get(task["type"]), task["index"]
    if not (isinstance(members, list) and isinstance(index, int) and 0 <= index < len(members)):
        raise ValueError(f"TF_CONFIG task {task} is not in its cluster {cluster}.")
    return config


def is_chief():
    """True where files are written for real: without TF_CONFIG, on the "chief" task, or
    on worker 0 of a cluster that has no "chief"."""
    config = tf_config()
    if config is None:
        return True
    task_type, index = config["task"]["type"], config["task"]["index"]
    if "chief" in config["cluster"]:
        return task_type == "chief"
    return task_type == "worker" and index == 0


@contextlib.contextmanager
def chief_or_temp_dir(path):
    """Yields where this worker writes what belongs in directory `path`: `path` on the
    chief, a temporary directory (removed on exit) on the other workers.

    The TensorFlow guide has every worker save this way, because some savers run
    collective ops that hang unless all workers join in. Keras 3.15 ``model.save``
    to ``.keras`` also works on the chief alone (checked with two workers), but
    saving everywhere is the pattern that is safe for any saver.
    """
    if is_chief():
        os.makedirs(path, exist_ok=True)
        yield path
        return
    temp = tempfile.mkdtemp(prefix="worker-")
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def prepare_dataset(dataset, strategy):
    """`dataset` (a tf.data.Dataset batched by the global batch size) set up for
    `strategy`: each global batch is split across all replicas of all workers.

    Every worker builds the same dataset in the same order; sharding by DATA makes
    worker i take its slice of every global batch. The default AUTO policy tries
    FILE sharding first, which gives a worker whole files (or nothing) and warns on
    in-memory data. Keep the number of samples a multiple of the global batch (or
    ``drop_remainder=True``) so no replica gets an empty batch.
    """
    if strategy is None:
        return dataset
    import tensorflow as tf  # noqa: PLC0415

    options = tf.data.Options()
    policy = tf.data.experimental.AutoShardPolicy.DATA
    options.experimental_distribute.auto_shard_policy = policy
    return dataset.with_options(options)


def use_jax_data_parallel(devices=None):
    """Set and return ``keras.distribution.DataParallel`` over `devices` (default: all
    local devices) for the JAX backend; every later ``fit`` splits each batch across them.

    The global batch size must be divisible by the number of devices. On a CPU-only
    machine, ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (set before JAX
    starts) makes N CPU devices to try it.
    """
    import keras  # noqa: PLC0415

    if keras.backend.backend() != "jax":
        raise ValueError(
            "keras.distribution.DataParallel is for the JAX backend (KERAS_BACKEND=jax), "
            f"not {keras.backend.backend()!r}; on TensorFlow use make_strategy().")
    distribution = keras.distribution.DataParallel(
        devices=devices or keras.distribution.list_devices())
    keras.distribution.set_distribution(distribution)
    return distribution
