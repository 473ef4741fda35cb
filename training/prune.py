"""Narrow a trained network by keeping each convolution's strongest channels: a warm
start for a faster model of the same layout.

    python -m training.prune SOURCE RECIPE -o OUT.keras
    zoo train RECIPE --init-from OUT.keras

SOURCE is a run folder or its snapshot, a preset name or a .keras file; RECIPE's
model must have SOURCE's layers (the same names and kinds) with as many or fewer
filters in each convolution. Each narrowed convolution keeps the output channels
whose filters have the largest L1 norms (filter pruning, Li et al. 2017, "Pruning
Filters for Efficient ConvNets"), and every layer that reads those channels
(directly, through activations and pooling, or as a slice of a skip concatenation)
keeps the matching input channels. Weights of unchanged shape are copied whole. The
narrow model starts near the wide one instead of at random, and training then
recovers what the dropped channels carried.

With `--refit N` each 3 x 3 and 1 x 1 convolution is then refitted in order, by least
squares on N examples of the recipe's training data: given the narrow model's own
input to that layer (which already lacks the dropped channels), its kernel and bias
are those that best reproduce the wide layer's output on the kept channels (layer-wise
reconstruction, as in He et al. 2017, "Channel Pruning for Accelerating Very Deep
Neural Networks", and Luo et al. 2017, ThiNet). Errors then do not compound down the
network as they do with the kept weights alone.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from training.snapshot import curve_sidecar, source_curve
from zoo_lite.image_io import write_json

CONVOLUTIONS = ("Conv2D", "Conv2DTranspose")


def _producer(tensor):
    return tensor._keras_history.operation


def channel_sources(layer):
    """The input channels of `layer` as [(convolution name or None, count)] segments in
    order: a segment named by a convolution holds that convolution's output channels
    (through channel-preserving layers and concatenations); None marks channels made
    elsewhere (inputs, reshuffles), which are never narrowed."""
    segments = []
    for tensor in layer._inbound_nodes[0].input_tensors:
        segments.extend(_tensor_sources(tensor))
    return segments


def _tensor_sources(tensor):
    from keras import layers

    # layers that keep each channel apart (subclasses too: zoo's MeanPool2)
    channelwise = (layers.LeakyReLU, layers.ReLU, layers.Activation, layers.AveragePooling2D,
                   layers.MaxPooling2D, layers.Dropout, layers.SpatialDropout2D,
                   layers.UpSampling2D, layers.Concatenate)
    op = _producer(tensor)
    if type(op).__name__ in CONVOLUTIONS:
        return [(op.name, int(tensor.shape[-1]))]
    if isinstance(op, channelwise):
        return channel_sources(op)
    return [(None, int(tensor.shape[-1]))]


def strongest_channels(kernel, count, transposed=False):
    """Indices (ascending) of the `count` output channels of `kernel` with the largest L1
    norms. Conv2D kernels are (kh, kw, in, out), Conv2DTranspose ones (kh, kw, out, in)."""
    axis = 2 if transposed else 3
    norms = np.abs(kernel).sum(axis=tuple(a for a in range(4) if a != axis))
    return np.sort(np.argsort(-norms, kind="stable")[:count])


def _input_indices(segments, kept):
    indices, offset = [], 0
    for name, count in segments:
        chosen = kept.get(name) if name is not None else None
        indices.append(offset + (chosen if chosen is not None else np.arange(count)))
        offset += count
    return np.concatenate(indices)


def prune_into(source, target):
    """Set `target`'s weights from `source`'s, narrowing convolutions where `target` has
    fewer filters. Both are Keras models with the same layer names and kinds; a layer
    of `target` missing from `source`, or a weight that is wider in `target`, is a
    ValueError. Returns {convolution name: kept output channel indices}."""
    wide = {layer.name: layer for layer in source.layers}
    kept = {}
    for layer in target.layers:
        if type(layer).__name__ not in CONVOLUTIONS:
            continue
        origin = _matching(wide, layer)
        transposed = type(layer).__name__ == "Conv2DTranspose"
        if layer.filters < origin.filters:
            kept[layer.name] = strongest_channels(np.asarray(origin.kernel), layer.filters,
                                                  transposed)
    for layer in target.layers:
        if not layer.weights:
            continue
        origin = _matching(wide, layer)
        if type(layer).__name__ in CONVOLUTIONS:
            _narrow_convolution(layer, origin, kept)
        else:
            for mine, theirs in zip(layer.weights, origin.weights, strict=True):
                if tuple(mine.shape) != tuple(theirs.shape):
                    raise ValueError(f"{layer.name}: weight {mine.name} is {tuple(mine.shape)} "
                                     f"here and {tuple(theirs.shape)} in the source; only "
                                     "convolutions can be narrowed.")
                mine.assign(np.asarray(theirs))
    return kept


def _matching(wide, layer):
    origin = wide.get(layer.name)
    if origin is None or type(origin) is not type(layer):
        raise ValueError(f"the source has no {type(layer).__name__} named {layer.name}.")
    return origin


def _narrow_convolution(layer, origin, kept):
    kernel = np.asarray(origin.kernel)
    transposed = type(layer).__name__ == "Conv2DTranspose"
    in_axis, out_axis = (3, 2) if transposed else (2, 3)
    inputs = _input_indices(channel_sources(origin), kept)
    outputs = kept.get(layer.name, np.arange(origin.filters))
    kernel = np.take(np.take(kernel, inputs, axis=in_axis), outputs, axis=out_axis)
    if kernel.shape != tuple(layer.kernel.shape):
        raise ValueError(f"{layer.name}: the source's kernel narrows to {kernel.shape}, "
                         f"not {tuple(layer.kernel.shape)}: the layouts differ.")
    layer.kernel.assign(kernel)
    if layer.use_bias:
        layer.bias.assign(np.asarray(origin.bias)[outputs])


def refit_convolutions(source, target, kept, inputs, ridge=1e-3, chunk=8):
    """Refit `target`'s stride-1 Conv2D layers, first to last, to reproduce `source`'s
    outputs (kept channels) from `target`'s own inputs on `inputs` ({name: array (N,
    ...)} for both models). The least-squares problem is ridge-regularised by `ridge`
    times the mean diagonal of its normal matrix. Returns {layer: RMS error relative to
    the source output's RMS} for each refitted layer."""
    import keras
    import tensorflow as tf

    count = len(next(iter(inputs.values())))
    errors = {}
    for layer in target.layers:
        if type(layer).__name__ != "Conv2D" or tuple(layer.strides) != (1, 1):
            continue
        origin = source.get_layer(layer.name)
        student = keras.Model(target.inputs, layer.input)
        teacher = keras.Model(source.inputs, origin.output)
        outputs = kept.get(layer.name, np.arange(origin.filters))
        size = layer.kernel_size
        normal = rhs = None
        for start in range(0, count, chunk):
            batch = {name: value[start:start + chunk] for name, value in inputs.items()}
            x = np.asarray(student.predict(batch, verbose=0), np.float64)
            y = np.asarray(teacher.predict(batch, verbose=0), np.float64)[..., outputs]
            patches = tf.image.extract_patches(x, [1, *size, 1], [1, 1, 1, 1], [1, 1, 1, 1],
                                               "SAME").numpy()
            rows = patches.reshape(-1, patches.shape[-1])
            rows = np.concatenate([rows, np.ones((len(rows), 1))], axis=1)  # the bias
            targets = y.reshape(-1, y.shape[-1])
            normal = rows.T @ rows if normal is None else normal + rows.T @ rows
            rhs = rows.T @ targets if rhs is None else rhs + rows.T @ targets
        damping = ridge * np.mean(np.diag(normal)) * np.eye(len(normal))
        solution = np.linalg.solve(normal + damping, rhs)
        layer.kernel.assign(solution[:-1].reshape(tuple(layer.kernel.shape)).astype("float32"))
        if layer.use_bias:
            layer.bias.assign(solution[-1].astype("float32"))
        fitted = np.asarray(keras.Model(target.inputs, layer.output).predict(batch, verbose=0))
        errors[layer.name] = float(np.sqrt(np.mean((fitted - y) ** 2)) /
                                   max(np.sqrt(np.mean(y ** 2)), 1e-12))
    return errors


def _validation_report(model, recipe, count):
    """A function printing a model's mean PSNR on `count` validation examples of
    `recipe`'s task at 128 x 128 (a no-op when `count` is 0)."""
    if not count:
        return lambda label, scored: None
    from training.pipeline import recipe_examples
    from zoo.metrics import image_psnr

    inputs, target = recipe_examples(model, recipe, (128, 128), count, "validation")

    def report(label, scored):
        restored = scored.predict(inputs, verbose=0)
        psnr = np.mean([image_psnr(*pair) for pair in zip(target, restored, strict=True)])
        print(f"validation PSNR, {label}: {psnr:.2f} dB ({count} examples)")

    return report


def load_source(source):
    """The model of `source`: a run folder or snapshot (its recipe's model with its
    latest weights), a preset name or a .keras file."""
    from training.run import build_model, load_initial_weights, run_recipe
    from zoo.presets import load_preset_or_file

    if not Path(source).is_dir():
        return load_preset_or_file(source)
    model = build_model(run_recipe(source))
    load_initial_weights(model, source)
    return model


def _source_training_curve(source):
    """The training curve behind `source` (as `load_source` takes it), or None."""
    from zoo.presets import metadata

    path = Path(source)
    if path.exists() or path.suffix == ".keras":
        return source_curve(path)
    return metadata(source).get("training_curve")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="run folder or snapshot, preset name or .keras file")
    parser.add_argument("recipe", help="recipe file or shipped recipe name")
    parser.add_argument("-o", "--out", type=Path, required=True, help="output .keras file")
    parser.add_argument("--refit", type=int, default=0, metavar="N",
                        help="refit the convolutions on N training examples (default 0: "
                             "keep the strongest channels' weights as they are)")
    parser.add_argument("--refit-size", type=int, default=256, metavar="PX",
                        help="side of the refit examples (default 256)")
    parser.add_argument("--validate", type=int, default=0, metavar="N",
                        help="print the PSNR of the source and of the narrow model (before "
                             "and after refitting) on N 128 px validation examples")
    args = parser.parse_args(argv)
    if args.out.suffix != ".keras":
        parser.error(f"--out must end in .keras, got {args.out}")

    from training.pipeline import recipe_examples
    from training.recipe import load_recipe
    from training.run import build_model

    source = load_source(args.source)
    recipe = load_recipe(args.recipe)
    target = build_model(recipe)
    kept = prune_into(source, target)
    report = _validation_report(target, recipe, args.validate)
    report("source", source)
    report("strongest channels", target)
    if args.refit:
        inputs, _ = recipe_examples(target, recipe, (args.refit_size, args.refit_size),
                                    args.refit, "train")
        errors = refit_convolutions(source, target, kept, inputs)
        print("relative RMS error after refitting: " + ", ".join(
            f"{name} {error:.3f}" for name, error in errors.items()))
        report("refitted", target)
    temporary = args.out.with_name(args.out.name + ".partial.keras")
    target.save(temporary)
    temporary.replace(args.out)
    curve = _source_training_curve(args.source)
    if curve is not None:  # `zoo train --init-from OUT` then charts the whole chain
        write_json(curve, curve_sidecar(args.out))
    narrowed = ", ".join(f"{name} {len(indices)}" for name, indices in kept.items())
    print(f"wrote {args.out}: {target.count_params():,} parameters (source "
          f"{source.count_params():,}); narrowed {narrowed or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
