"""A .tflite file run with ai-edge-litert (no TensorFlow): `TFLiteModel`.

A .tflite input whose size was left free is stored with size 1 (-1 in the shape
signature): the signature runner resizes it to the array given (what
`interpreter.resize_tensor_input(...)` + `allocate_tensors()` do by hand).
"""

import numpy as np


class TFLiteModel:
    """A .tflite file (or bytes) run one example at a time, as on a phone.

    `predict({name: float32 array (N, ...)})` returns the output (N, ...) as float32;
    int8 inputs and outputs are quantized / dequantized with the file's own scale
    and zero point.
    """

    def __init__(self, path_or_bytes, num_threads=1):
        from ai_edge_litert.interpreter import Interpreter

        if isinstance(path_or_bytes, bytes):
            self.interpreter = Interpreter(model_content=path_or_bytes, num_threads=num_threads)
        else:
            self.interpreter = Interpreter(model_path=str(path_or_bytes),
                                           num_threads=num_threads)
        self.runner = self.interpreter.get_signature_runner("serving_default")
        self.input_details = self.runner.get_input_details()
        self.output_details = self.runner.get_output_details()

    def _quantize(self, name, value):
        detail = self.input_details[name]
        if detail["dtype"] == np.float32:
            return value.astype(np.float32)
        scale, zero_point = detail["quantization"]
        info = np.iinfo(detail["dtype"])
        return np.clip(np.round(value / scale + zero_point), info.min, info.max).astype(
            detail["dtype"])

    def _dequantize(self, name, value):
        detail = self.output_details[name]
        if detail["dtype"] == np.float32:
            return value
        scale, zero_point = detail["quantization"]
        return (value.astype(np.float32) - zero_point) * scale

    def run_one(self, inputs):
        """{name: array with batch 1} -> {output name: float32 array with batch 1}."""
        outputs = self.runner(**{n: self._quantize(n, v) for n, v in inputs.items()})
        return {n: self._dequantize(n, v) for n, v in outputs.items()}

    def predict(self, inputs):
        """Outputs (the single output) for a batch, example by example."""
        count = len(next(iter(inputs.values())))
        rows = [self.run_one({n: v[i:i + 1] for n, v in inputs.items()}) for i in range(count)]
        (name,) = rows[0]
        return np.concatenate([row[name] for row in rows])
