"""What the benchmarks share: machine facts, load average, a timing loop and the JSON writer."""

import os
import platform
import time

import keras
import numpy as np
import tensorflow as tf

from zoo_lite.image_io import write_json  # noqa: F401 - the benchmarks' atomic JSON writer


def machine_info(**extra):
    """Platform, CPUs, library versions and GPUs, plus `extra` entries."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    return {"platform": platform.platform(), "processor": platform.processor(),
            "machine": platform.machine(), "cpu_count": os.cpu_count(), "usable_cpus": usable,
            "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__,
            "backend": keras.backend.backend(),
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")], **extra}


def load_average():
    """1, 5 and 15 minute load averages (None where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def warm_median_seconds(run, repeats):
    """Median seconds of `repeats` calls of `run()`, after one untimed warm-up call
    (XNNPACK packs a .tflite's weights on its first call)."""
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return float(np.median(times))
