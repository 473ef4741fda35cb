"""A classical first guess for holes, inside the graph: multigrid diffusion.

`DiffusionFill` fills each hole smoothly from its border, the way harmonic
inpainting does, but in a fixed number of cheap steps so that it runs inside a
Keras model (and its TFLite export) on any backend:

1. pull: average the known pixels (and the known fraction) down an image pyramid
   of 2 x 2 averages, so every level holds the mean of what is known around it;
2. push: from the coarsest level back up, upsample the coarser guess (nearest)
   and relax it with a few 3 x 3 binomial smoothing steps (harmonic), then a few
   5 x 5 damped biharmonic steps, each of which puts a level's known values back
   where that level has them (weighted by how much of the pixel is known).

The coarse levels carry colour into the middle of large holes (a 128 px box), and
the fine steps shape thin scratches; the biharmonic steps continue gradients across
a scratch instead of flattening them, as scikit-image's `inpaint_biharmonic` does.
A U-Net with `fill_holes=True` starts from this guess and learns only the correction.

The kernels are exact in int8: an int8 TFLite file stores a kernel as integers times
max|w| / 127, and the rounded binomial kernel sums to 1.008, a gain that compounds
over the steps inside a hole (8 levels x 16 steps: 20 dB vs Keras at worst on the
validation photos). Each kernel here is already integers / their sum, with its
largest tap 127, so it quantizes without error and still sums to 1 (43 dB).
"""

import keras
import numpy as np
from keras import layers, ops

from zoo.export_forms import tracing_for_tflite, tracing_int8_stencils

# Floor of the known fraction a level's mean is divided by. Far above float precision
# because an int8 TFLite file quantizes it with a step of 1/255: a smaller floor rounds to
# zero and the division fails. Means of pixels less known than this are weighted by their
# known fraction when used, so the floor changes the fill by less than 1/64.
_MIN_KNOWN = 1.0 / 64.0


# Damping of the biharmonic step x - omega * (laplacian applied twice) / 20: 1/20 is the
# largest step that is stable on a grid, and 0.5 of it was the best of 0.5 and 0.8 on the
# validation photos.
_BIHARMONIC_OMEGA = 0.5


def _int8_exact(kernel):
    """`kernel` rounded to integers with its largest |tap| 127, divided by their sum:
    per-channel int8 quantization (scale max|w| / 127) then keeps it exactly."""
    taps = np.round(kernel * 127.0 / np.abs(kernel).max())
    return taps / taps.sum()


def _smoothing_kernel():
    """3 x 3, about the binomial [1, 2, 1] x [1, 2, 1] / 16."""
    return _int8_exact(np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]))


def _biharmonic_kernel():
    """5 x 5: one damped step of biharmonic relaxation, identity - omega * L(L) / 20."""
    laplacian = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    twice = np.zeros((5, 5))
    for dy in range(3):
        for dx in range(3):
            twice[dy:dy + 3, dx:dx + 3] += laplacian[dy, dx] * laplacian
    identity = np.zeros((5, 5))
    identity[2, 2] = 1.0
    return _int8_exact(identity - _BIHARMONIC_OMEGA * twice / 20.0)


def _depthwise(kernel, channels):
    return np.tile(kernel.astype(np.float32)[:, :, None, None], (1, 1, channels, 1))


# How the relaxation steps apply their kernels: as sums of shifted slices (one multiply per
# distinct tap value) at the finest levels, where the pixels are (TensorFlow ran a 5 x 5
# depthwise convolution at 256 x 256 on one thread in 13.2 ms, the same sum of slices in
# 3.5 ms, when this was chosen), and as depthwise convolutions below them, where the time
# is the per-op cost and tracing a slice costs more than it saves (162 unrolled steps of
# slices took TensorFlow 12 s to trace against 5 s for depthwise convolutions). A TFLite
# export slices one level more: XNNPACK runs a depthwise convolution on three channels
# slowly (eight float32 5 x 5 steps at 256 x 256, one thread: as slices in 0.32x the time
# of depthwise convolutions, at 128, 64 and 32 px in 0.25-0.29x). Slicing the 64 px level
# too took unet-inpaint-photos' 256 px int8 file from 0.615x to 0.582x the time of all
# depthwise convolutions, and every level 0.576x; its export took 3.2 min, 5.7 with every
# level sliced, 2.0 with none (interleaved, benchmarks/tflite_interleaved.py). Only a file
# that quantizes the fill itself to int8
# (`zoo.export_forms.tflite_forms(int8_stencils=True)`; model exports keep the fill in
# float32) keeps depthwise convolutions, whose kernels int8 stores exactly, where each add
# of a sum of slices would be rounded to int8.
_SLICED_LEVELS = 2
_TFLITE_SLICED_LEVELS = 3


def _slice_stencil(x, kernel):
    """`x` (B, H + k - 1, W + k - 1, C) correlated with the 2-D `kernel` (k, k) ('valid'):
    (B, H, W, C). Taps of equal value share one multiply."""
    size = kernel.shape[0]
    batch, rows, cols, channels = ops.shape(x)
    window = (batch, rows - size + 1, cols - size + 1, channels)
    offsets = {}
    for dy, dx in zip(*np.nonzero(kernel), strict=True):
        offsets.setdefault(float(kernel[dy, dx]), []).append((dy, dx))
    total = None
    for tap, where in offsets.items():
        shifted = [ops.slice(x, (0, int(dy), int(dx), 0), window) for dy, dx in where]
        term = sum(shifted[1:], shifted[0]) * tap
        total = term if total is None else total + term
    return total


def _repeat(step, times, state, as_loop):
    """`step` applied `times` times to `state`: in a loop op when `as_loop` (a traced
    graph then holds one step, not `times` copies of it: tracing the 162 unrolled steps
    took 7 of the 8 s of the first predict call of unet-inpaint-photos), else unrolled,
    as a TFLite export needs (XNNPACK runs no WHILE op)."""
    if as_loop and times > 1:
        return ops.fori_loop(0, times, lambda _, value: step(value), state)
    for _ in range(times):
        state = step(state)
    return state


def _repeat_edges(x, pad, axis):
    """`x` (B, H, W, C) with its first and last row (axis 1) or column (axis 2) repeated
    `pad` times on their side."""
    window = list(ops.shape(x))
    size, window[axis] = window[axis], 1
    start = [0, 0, 0, 0]
    first = ops.slice(x, start, window)
    start[axis] = size - 1
    last = ops.slice(x, start, window)
    return ops.concatenate([first] * pad + [x] + [last] * pad, axis=axis)


@keras.saving.register_keras_serializable(package="zoo")
class DiffusionFill(layers.Layer):
    """Fill the holes of an image by multigrid diffusion from their borders.

    Inputs: image (B, H, W, C) in [0, 1] (its values under the hole are ignored) and
    mask (B, H, W, 1), 1 = hole. Output: (B, H, W, C) float32 in [0, 1], equal to the
    image where the mask is 0. A hole with no known pixel anywhere in the image is
    filled with 0.

    Args:
        levels: pyramid levels below full resolution; holes up to about 2**levels
            pixels across get colour from their border (8 covers 256 px).
        steps: binomial smoothing steps per level (>= 1).
        biharmonic_steps: damped biharmonic steps per level after those (>= 0).
        taper: the finest `taper` levels run fewer steps, halved at each level up to
            full resolution (there, steps / 2**taper, rounded up), because the
            upsampled coarser guess is already close and full-resolution steps are
            what an int8 file spends its time on.
        momentum: in [0, 1). Each biharmonic step after a level's first adds
            `momentum` times the previous step's change (heavy-ball relaxation), which
            speeds up the slowly converging smooth part of the fill by up to
            1 / (1 - momentum); 0 is plain damped relaxation.

    The defaults were chosen on the validation photos (coffee, camera at 256 px,
    `benchmarks/hole_fill.py`): 8 + 16 steps fill strokes 0.2 dB better than 16
    smoothing steps alone (17.90 vs 17.67 dB; scikit-image's biharmonic: 17.72), and a
    taper of 2 gives back 0.1 dB of that (17.80) for half the int8 time (40 vs 86 ms).
    Momentum 0.9 converges much further in the same steps: on 33 crops of the photo
    validation split (`benchmarks/inpaint_validation.py --fill`), masked PSNR thin /
    medium / thick strokes / box 32.43 / 29.95 / 27.54 / 24.23 dB against 32.09 /
    29.43 / 27.18 / 23.72 without it (scikit-image's biharmonic: 32.48 / 29.14 / 27.02
    / 22.28).
    """

    SETTINGS = ("levels", "steps", "biharmonic_steps", "taper", "momentum")  # config keys

    def __init__(self, levels=8, steps=8, biharmonic_steps=16, taper=2, momentum=0.0,
                 **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if levels < 1 or steps < 1 or biharmonic_steps < 0 or taper < 0:
            raise ValueError("levels and steps must be >= 1, biharmonic_steps and taper >= 0; "
                             f"got {levels}, {steps}, {biharmonic_steps} and {taper}.")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1); got {momentum}.")
        self.levels = levels
        self.steps = steps
        self.biharmonic_steps = biharmonic_steps
        self.taper = taper
        self.momentum = momentum
        self._pool = layers.AveragePooling2D(2, padding="same", dtype="float32")
        self._upsample = layers.UpSampling2D(2, interpolation="nearest", dtype="float32")

    def steps_at(self, level):
        """(smoothing steps, biharmonic steps) at `level` (0 = full resolution)."""
        divisor = 2 ** max(0, self.taper - level)
        return -(-self.steps // divisor), -(-self.biharmonic_steps // divisor)

    @staticmethod
    def _relax(x, kernel, as_slices):
        # Repeat the edge pixels (coarse levels can be 1 x 1: a 64 px crop has 6 levels,
        # the 7th and 8th stay 1 x 1) by concatenating edge slices, one concatenation per
        # axis. Not symmetric padding: it repeats the edge only one pixel deep, and XNNPACK
        # has no MIRROR_PAD kernel (with one-pixel rounds of it the 256 px int8 fill took
        # 74-120 ms instead of 36, benchmarks/hole_fill.py). Few slices, because each costs
        # milliseconds to trace in TensorFlow and the fill runs 162 relaxation steps, and
        # `ops.slice` rather than indexing, which traces slower (first predict call of
        # unet-inpaint-photos: median 4.95 s against 5.59 s over five runs each).
        pad = kernel.shape[0] // 2
        x = _repeat_edges(_repeat_edges(x, pad, axis=1), pad, axis=2)
        if as_slices:
            return _slice_stencil(x, kernel)
        return ops.depthwise_conv(x, _depthwise(kernel, x.shape[-1]), padding="valid")

    def build(self, image_shape, mask_shape=None):
        # Nothing to create (pooling and up-sampling hold no weights). Defined so that
        # Keras does not build the layer by tracing `call` when a model is built: 162 steps
        # took 3.7 s of the 4.5 s unet-inpaint-photos took to load.
        self.built = True

    def call(self, image, mask):
        image = ops.cast(image, "float32")
        known = 1.0 - ops.cast(mask, "float32")
        sums, weights = [image * known], [known]
        for _ in range(self.levels):
            sums.append(self._pool(sums[-1]))
            weights.append(self._pool(weights[-1]))
        guess = sums[-1] / ops.maximum(weights[-1], _MIN_KNOWN)
        for level in reversed(range(self.levels)):
            shape = ops.shape(sums[level])
            # a side of odd length was padded when pooled: crop the upsampled guess back
            guess = self._upsample(guess)[:, :shape[1], :shape[2]]
            # the known part of each step's result, and the share smoothing fills. The
            # known part is sums / max(weights, floor) * weights, written as sums *
            # min(1, weights / floor) = sums * (1 - relu(1 - weights / floor)): XNNPACK runs
            # neither DIV nor MAXIMUM in int8, and the 256 px int8 fill took 37.5 ms with
            # them at every level, 23.6 ms with this form (one thread).
            anchored = sums[level] * (1.0 - ops.relu(1.0 - weights[level] / _MIN_KNOWN))
            guess = self._relax_level(guess, anchored, 1.0 - weights[level], level)
        # biharmonic steps overshoot near sharp edges, as biharmonic inpainting does
        guess = ops.clip(guess, 0.0, 1.0)
        return image * known + (1.0 - known) * guess

    def _relax_level(self, guess, anchored, unknown, level):
        """`guess` (B, h, w, C) after `level`'s smoothing then biharmonic steps, each
        keeping `anchored` (the known part) and replacing the `unknown` share."""
        smoothing, biharmonic = _smoothing_kernel(), _biharmonic_kernel()
        smoothing_steps, biharmonic_steps = self.steps_at(level)
        runtime = not tracing_for_tflite()
        sliced_levels = _SLICED_LEVELS if runtime else _TFLITE_SLICED_LEVELS
        as_slices = level < sliced_levels and not tracing_int8_stencils()
        # one factor per channel, so that each step multiplies tensors of one shape: in a
        # TFLite file XNNPACK broadcasts a one-channel factor slowly (a 256 px step took
        # 3.7 ms with it, 2.5 ms without)
        unknown = ops.concatenate([unknown] * guess.shape[-1], axis=-1)
        carried = self.momentum * unknown  # the share of the last change carried on

        def smooth(guess):
            return anchored + unknown * self._relax(guess, smoothing, as_slices)

        def bend(state):
            guess, previous = state
            relaxed = anchored + unknown * self._relax(guess, biharmonic, as_slices)
            if self.momentum:
                relaxed = relaxed + carried * (guess - previous)
            return relaxed, guess

        guess = _repeat(smooth, smoothing_steps, guess, runtime)
        # the first step has no previous change: previous = guess carries zero
        return _repeat(bend, biharmonic_steps, (guess, guess), runtime)[0]

    def compute_output_spec(self, image, mask):
        return keras.KerasTensor(image.shape, dtype="float32")

    def get_config(self):
        return {**super().get_config(), **{name: getattr(self, name) for name in self.SETTINGS}}


def fill_settings_from(fill_holes):
    """DiffusionFill keyword arguments from `fill_holes` (True: the defaults; a dict: these
    settings), or None for no fill (False)."""
    if isinstance(fill_holes, bool):
        return {} if fill_holes else None
    if not isinstance(fill_holes, dict):
        raise ValueError(f"fill_holes must be True, False or a dict of DiffusionFill settings; "
                         f"got {fill_holes!r}.")
    unknown = sorted(set(fill_holes) - set(DiffusionFill.SETTINGS))
    if unknown:
        raise ValueError(f"Unknown fill_holes setting(s) {unknown}; expected some of "
                         f"{', '.join(DiffusionFill.SETTINGS)}.")
    return dict(fill_holes)
