import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One TensorFlow compute thread per process (inherited by the subprocesses and notebook
# kernels tests start): `-n 2` already runs two workers on CI's two cores, and with
# TensorFlow's default of a thread per core each the threads contended. Measured on this
# 2-core machine, the same day: suite 13m56 with the default, 10m53 with one thread.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
