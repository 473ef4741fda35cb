"""Export zoo models to SavedModel and TFLite, and check they give the Keras answer.

    from export import to_tflite, export_saved_model, representative_dataset
    rep = representative_dataset(model, (256, 256))
    report = to_tflite(model, "inpainter.tflite", quantize="int8", representative_data=rep)

This package imports TensorFlow (converter) and ai-edge-litert (runtime); `zoo`
itself never does.
"""

from export.data import representative_dataset
from export.exporters import export_saved_model, to_tflite
from export.saved_model import to_saved_model
from export.tflite import QUANTIZATIONS, UnsupportedOpError
from export.verify import VerificationFailed

__all__ = ["QUANTIZATIONS", "UnsupportedOpError", "VerificationFailed", "export_saved_model",
           "representative_dataset", "to_saved_model", "to_tflite"]
