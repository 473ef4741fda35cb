"""Keras 3 model zoo for image generation and repair.

    import zoo
    zoo.list_models()
    zoo.list_presets()                 # names of the pretrained presets in the package
    zoo.preset_info("unet-denoise-natural")      # its metadata: data, metrics, sha256
    denoiser = zoo.load("unet-denoise-natural")  # or UNet.from_preset(...), or a folder
    model = zoo.create_model("unet", image_shape=(64, 64, 3))
    model.compile()          # the model's standard loss, metrics and optimizer
    model.fit(x, y)

Images are float32 NHWC in [0, 1]; masks are (H, W, 1) with 1 = hole.
This package imports keras only, never tensorflow.
"""

from zoo import losses, metrics
from zoo.inference import apply_to_image
from zoo.models.autoencoder_inpainter import ConvAutoencoderInpainter
from zoo.models.dcgan import DCGAN, dcgan
from zoo.models.dcgan_networks import DCGANDiscriminator, DCGANGenerator
from zoo.models.gan_optimizers import GANOptimizers
from zoo.models.unet import UNet
from zoo.presets import PresetError, list_presets, load, preset_info
from zoo.registry import create_model, get_entry, list_models

__version__ = "0.1.0"

__all__ = [
    "DCGAN",
    "ConvAutoencoderInpainter",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "GANOptimizers",
    "PresetError",
    "UNet",
    "apply_to_image",
    "create_model",
    "dcgan",
    "get_entry",
    "list_models",
    "list_presets",
    "load",
    "losses",
    "metrics",
    "preset_info",
]
