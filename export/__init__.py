"""Exporters to SavedModel and TFLite (float32, float16, dynamic-range, int8) with
parity checks against Keras.

This package may import tensorflow; `zoo/` may not. The exporters themselves are
the subject of the export issue and land here.
"""
