"""Export zoo models to SavedModel and TFLite, and check they give the Keras answer.

    from export import to_tflite, export_saved_model, representative_dataset
    rep = representative_dataset(model, (256, 256))
    report = to_tflite(model, "inpainter.tflite", quantize="int8", representative_data=rep)

This package imports TensorFlow (converter) and ai-edge-litert (runtime); `zoo`
itself never does.
"""

# Names are imported on first use (PEP 562): `export.tflite`'s constants, which the
# command line's argument declarations read, must not pull in TensorFlow.
_EXPORTS = {
    "representative_dataset": "export.data",
    "export_saved_model": "export.exporters",
    "to_tflite": "export.exporters",
    "to_saved_model": "export.saved_model",
    "QUANTIZATIONS": "export.tflite",
    "UnsupportedOpError": "export.tflite",
    "VerificationFailed": "export.verify",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'export' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__():
    return __all__
