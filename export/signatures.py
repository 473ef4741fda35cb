"""What an exported model takes and returns: names, shapes, value ranges.

Signature names follow the zoo's conventions: inputs keep their names (`image`,
`mask`, `noise_level`, `latent`); outputs are renamed to what a mobile developer expects
(`inpainted` and `restored` become `image`). A DCGAN exports its generator.
"""

from zoo.conventions import meaning, value_range

DEFAULT_SPATIAL_SIZE = (256, 256)
OUTPUT_NAMES = {"inpainted": "image", "restored": "image", "segmentation": "segmentation",
                "image": "image", "logit": "logit"}


def serving_model(model):
    """The functional model that is exported: the family's `served_network()` (a DCGAN's
    generator), or the model itself when it is not a zoo model."""
    served = getattr(model, "served_network", None)
    return served() if served is not None else model


def input_shapes(model, input_size=None, batch_size=None):
    """{input name: shape with batch `batch_size` (None = any)}; `input_size` (H, W)
    fixes free spatial sizes.

    Raises ValueError when `input_size` contradicts a fixed size or is not divisible
    by what the model needs (checked by building the model at that size).
    """
    model = serving_model(model)
    shapes = {}
    for tensor in model.inputs:
        shape = list(tensor.shape)
        if len(shape) == 4 and input_size is not None:
            for axis, wanted in zip((1, 2), input_size, strict=True):
                if shape[axis] is not None and shape[axis] != wanted:
                    raise ValueError(f"--size {list(input_size)} does not match the model's "
                                     f"fixed input size {shape[1:3]}.")
                shape[axis] = int(wanted)
        shapes[tensor.name] = tuple([batch_size, *shape[1:]])
    return shapes


def check_spatial_size(model, input_size):
    """Raise a one-line ValueError when the model cannot take `input_size` (H, W): not
    divisible by its 2**depth, or (checked by one run) any other reason."""
    import numpy as np

    from zoo.image_layers import PadToMultiple, SpatialSizeCheck

    shapes = input_shapes(model, input_size)
    factors = [layer.factor for layer in serving_model(model).layers
               if isinstance(layer, PadToMultiple | SpatialSizeCheck)]
    for factor in factors:
        if any(size % factor for size in input_size):
            raise ValueError(f"size {list(input_size)} is not divisible by {factor} "
                             "(2**depth of the model); choose a multiple of it.")
    sample = {name: np.zeros((1, *shape[1:]), "float32") for name, shape in shapes.items()}
    model = serving_model(model)
    model(sample if isinstance(model.input, dict) else next(iter(sample.values())))


def output_name(model):
    """The signature name of the (single) output."""
    (name,) = serving_model(model).output_names
    return OUTPUT_NAMES.get(name, name)


def describe(name, shape, dtype="float32"):
    """One sidecar entry for an input or output."""
    entry = {"name": name, "shape": [d if d is not None else -1 for d in shape],
             "dtype": str(dtype)}
    if value_range(name) is not None:
        entry["value_range"] = value_range(name)
    if meaning(name):
        entry["convention"] = meaning(name)
    return entry
