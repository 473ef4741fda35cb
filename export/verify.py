"""Does the exported file give the Keras answer? Metrics, tolerances and the report.

Every export runs the exported artifact and the Keras model on the same fixed
batch and compares: the largest absolute difference and the PSNR of the exported
output against Keras' (outputs are in [0, 1]), plus the task metric of both
against the ground truth (PSNR in the hole, PSNR, mean IoU), so a user sees what
quantization costs on the task itself. An inpainter is also compared over its holes
alone, where its work is: a whole-image PSNR is mostly the known pixels it copies,
and it passed int8 files whose holes were 7-11 dB from Keras.
"""

import numpy as np

from zoo.metrics import image_psnr, label_mean_iou

# float32 must match Keras to rounding. The quantized variants are judged by the
# PSNR of their output against Keras': see the README "Export tolerances".
TOLERANCES = {
    "savedmodel": {"max_abs": 1e-4},
    "none": {"max_abs": 1e-4},
    "float16": {"min_psnr": 50.0},
    "dynamic": {"min_psnr": 35.0},
    "int8": {"min_psnr": 30.0},
}


class VerificationFailed(RuntimeError):
    """The exported model's output is outside the tolerance for its variant."""

    def __init__(self, message, report):
        super().__init__(message)
        self.report = report


def task_metric(task, output, inputs, target):
    """(name, value) of the task's metric of `output` against the ground truth."""
    if task == "inpaint":
        hole = inputs["mask"][..., 0] > 0.5
        return "hole_psnr", image_psnr(output[hole], target[hole])
    if task == "denoise":
        return "psnr", image_psnr(output, target)
    if task == "segment":
        return "mean_iou", label_mean_iou(np.argmax(output, axis=-1), target,
                                          output.shape[-1])
    return None, None


def compare(variant, keras_output, exported_output, task, inputs, target):
    """The report of one export: differences, task metrics, tolerance and verdict."""
    keras_output = np.asarray(keras_output, np.float32)
    exported_output = np.asarray(exported_output, np.float32)
    report = {
        "variant": variant,
        "examples": int(len(keras_output)),
        "max_abs_error": float(np.max(np.abs(exported_output - keras_output))),
        "psnr_vs_keras_db": image_psnr(exported_output, keras_output),
        "tolerance": TOLERANCES[variant],
    }
    if task == "inpaint":
        hole = inputs["mask"][..., 0] > 0.5
        report["hole_psnr_vs_keras_db"] = image_psnr(exported_output[hole], keras_output[hole])
    name, keras_value = task_metric(task, keras_output, inputs, target)
    if name:
        _, exported_value = task_metric(task, exported_output, inputs, target)
        report["task_metric"] = {"name": name, "keras": keras_value, "exported": exported_value}
    tolerance = TOLERANCES[variant]
    report["passed"] = bool(report["max_abs_error"] <= tolerance["max_abs"]
                            if "max_abs" in tolerance
                            else weakest_psnr_db(report) >= tolerance["min_psnr"])
    return report


def weakest_psnr_db(report):
    """The lower of the whole-image and (inpainting) hole PSNRs against Keras."""
    return min(report["psnr_vs_keras_db"],
               report.get("hole_psnr_vs_keras_db", report["psnr_vs_keras_db"]))


def format_report(report):
    """A short table of a report, for the terminal."""
    lines = [f"verification ({report['variant']}, {report['examples']} examples)",
             f"  max |exported - keras|   {report['max_abs_error']:.3g}",
             f"  PSNR exported vs keras   {report['psnr_vs_keras_db']:.1f} dB"]
    if "hole_psnr_vs_keras_db" in report:
        lines.append(f"  ... in the holes         {report['hole_psnr_vs_keras_db']:.1f} dB")
    metric = report.get("task_metric")
    if metric:
        lines.append(f"  {metric['name']:24} keras {metric['keras']:.4f}   "
                     f"exported {metric['exported']:.4f}")
    tolerance = ", ".join(f"{k} {v}" for k, v in report["tolerance"].items())
    lines.append(f"  tolerance {tolerance}: {'PASS' if report['passed'] else 'FAIL'}")
    return "\n".join(lines)
