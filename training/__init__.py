"""Data and training utilities for the zoo's models.

`training.synthetic` makes random batches shaped for any zoo model (smoke tests,
the quick-start job). Built-in datasets, masks, noise, recipes and `zoo train`
build on it.
"""
