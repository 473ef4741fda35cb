"""SavedModel export: a `serving_default` signature with the zoo's names.

    inpainter / U-Net with mask   image, mask -> image
    U-Net with a noise level      image, noise_level -> image
    U-Net (image head)            image       -> image
    U-Net (segmentation head)     image       -> segmentation
    DCGAN                         latent      -> image        (the generator)

The batch size is dynamic; spatial sizes are dynamic unless `input_size` fixes
them. The folder loads with `tf.saved_model.load` in a process without zoo.
"""

from pathlib import Path

import keras

from export.files import serving_target, staged_export
from export.signatures import check_spatial_size, input_shapes, output_name, serving_model


def _serving_function(model, names, out):
    """A function whose parameter names become the signature's input names."""
    takes_dict = isinstance(model.input, dict)

    def run(inputs):
        return {out: model(inputs if takes_dict else inputs[names[0]], training=False)}

    if names == ["image", "mask"]:
        return lambda image, mask: run({"image": image, "mask": mask})
    if names == ["image", "noise_level"]:
        return lambda image, noise_level: run({"image": image, "noise_level": noise_level})
    if names == ["image"]:
        return lambda image: run({"image": image})
    if names == ["latent"]:
        return lambda latent: run({"latent": latent})
    raise ValueError(f"Cannot export a model with inputs {names}; zoo models take "
                     "image (+ mask or noise_level) or latent.")


def write_saved_model(model, path, input_size=None, batch_size=None):
    """Write `model`'s SavedModel to the folder `path` (which must not exist); the
    signature's batch dimension is `batch_size` (None = any)."""
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        raise ValueError("SavedModel export needs the TensorFlow backend "
                         "(KERAS_BACKEND=tensorflow).")
    if input_size is not None:
        check_spatial_size(model, input_size)
    network = serving_model(model)
    shapes = input_shapes(model, input_size, batch_size)
    names = list(shapes)
    archive = keras.export.ExportArchive()
    archive.track(network)
    archive.add_endpoint(
        name="serving_default",
        fn=_serving_function(network, names, output_name(model)),
        input_signature=[tf.TensorSpec(shapes[n], tf.float32, name=n) for n in names])
    archive.write_out(str(path), verbose=False)
    return Path(path)


def to_saved_model(model, path, input_size=None, serving_version=None, force=False):
    """Export `model` as a SavedModel folder at `path`, atomically.

    Args:
        model: a zoo model (a DCGAN exports its generator).
        path: the folder to create; with `serving_version` N the model goes to
            `path/N/`, the layout TensorFlow Serving expects.
        input_size: (H, W) to fix the spatial size; None keeps what the model has.
        force: replace a previous export there (never a folder holding anything else);
            its sidecar and report, which would not describe the new folder, go with it.
    Returns the folder holding `saved_model.pb`.
    """
    target = serving_target(path, serving_version)
    with staged_export(target, force=force, directory=True) as staging:
        write_saved_model(model, staging / target.name, input_size)
    return target
