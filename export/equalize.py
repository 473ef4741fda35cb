"""Rescale a U-Net's up-sampling convolutions so int8 keeps its skip connections.

TFLite's int8 `CONCATENATION` gives all its inputs one scale. In a U-Net decoder the
up-sampled half of each concatenation can span a far wider range than the encoder
features it is joined to: in the `unet-denoise-natural` preset, `decoder0_upconv`
reaches 1012 on some calibration crops (median over crops: 1.0) while the skip
features stay under 7. Sharing the wide scale (7.5 per int8 step) wipes out the skip
features, and the int8 file came out at 9 dB against Keras.

The up-sampling convolution is linear and feeds only the concatenation, whose output
feeds only the next convolution. Multiplying the up-sampling convolution's output
channel c (kernel and bias) by s_c and dividing the next convolution's weights on
input channel c by s_c leaves the network's function unchanged (cross-layer
equalization, Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization
and Bias Correction"), and with s_c = range(skip) / range(channel c) both halves of
the concatenation get the same range.
"""

import numpy as np

UPSAMPLING_SUFFIXES = ("_upconv", "_conv")  # transpose mode; nearest / bilinear mode


def _skip_concatenations(model):
    """[(up-sampling conv, concatenation, next conv)] of a zoo U-Net's decoder, by the
    layer names `zoo.layers` gives them (decoderL_upconv / _conv, _skip, _conv1)."""
    names = {layer.name for layer in model.layers}
    found = []
    for layer in model.layers:
        if not layer.name.startswith("decoder") or not layer.name.endswith("_skip"):
            continue
        level = layer.name.removesuffix("_skip")
        producer = next((level + s for s in UPSAMPLING_SUFFIXES if level + s in names), None)
        if producer and f"{level}_conv1" in names:
            found.append((model.get_layer(producer), layer, model.get_layer(f"{level}_conv1")))
    return found


def _per_channel_range(values):
    return np.abs(values).reshape(-1, values.shape[-1]).max(axis=0)


def equalize_skip_ranges(model, inputs, min_scale=1e-4):
    """A copy of `model` (a zoo U-Net) whose up-sampled concatenation halves are
    rescaled to the range of their skip features; other models come back as they are.

    Args:
        model: a zoo functional model (not changed).
        inputs: calibration inputs, {input name: float32 (N, H, W, C)} or an array.
        min_scale: lower bound on a channel's scale (dead channels keep their weights).
    Returns `(model, scales)`: the equalized copy (or `model`) and {layer: scales}.
    """
    import keras

    pairs = _skip_concatenations(model)
    if not pairs:
        return model, {}
    copy = model.__class__.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    probe = keras.Model(copy.input, [copy.get_layer(concat.name).input for _, concat, _ in pairs])
    if isinstance(inputs, dict) and not isinstance(copy.input, dict):
        inputs = inputs["image"]
    observed = probe.predict(inputs, verbose=0)
    scales = {}
    for (producer, _, consumer), (up, skip) in zip(pairs, observed, strict=True):
        channel_range = _per_channel_range(up)
        scale = np.maximum(np.abs(skip).max() / np.maximum(channel_range, 1e-12), min_scale)
        scale = np.where(channel_range > 0, scale, 1.0).astype(np.float32)
        up_layer, next_layer = copy.get_layer(producer.name), copy.get_layer(consumer.name)
        kernel = up_layer.kernel.numpy()
        # Conv2DTranspose kernels are (kh, kw, out, in); Conv2D kernels (kh, kw, in, out)
        out_axis = 2 if isinstance(up_layer, keras.layers.Conv2DTranspose) else 3
        shape = [1, 1, 1, 1]
        shape[out_axis] = -1
        up_layer.kernel.assign(kernel * scale.reshape(shape))
        if up_layer.use_bias:
            up_layer.bias.assign(up_layer.bias.numpy() * scale)
        next_kernel = next_layer.kernel.numpy()
        next_kernel[:, :, :len(scale), :] /= scale.reshape(1, 1, -1, 1)
        next_layer.kernel.assign(next_kernel)
        scales[producer.name] = scale
    return copy, scales
