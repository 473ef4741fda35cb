"""U-Net: image-to-image repair (denoising, inpainting) and segmentation."""

import keras
from keras import layers

from zoo import layers as blocks
from zoo.hole_fill import DiffusionFill, fill_settings_from
from zoo.image_layers import (
    AddResidual,
    Composite,
    CropToSize,
    DepthToSpace,
    HideHoles,
    NoiseLevelMap,
    PadToMultiple,
    SpaceToDepth,
)
from zoo.losses import SegmentationLoss
from zoo.metrics import MeanDice, MeanIoU
from zoo.models.contract import SingleNetwork
from zoo.models.from_preset import FromPreset
from zoo.models.restoration import RestorationTraining, standard_compile_parts
from zoo.models.stored_config import StoredConfig
from zoo.registry import register_model
from zoo.smooth_blend import SmoothBlend, blend_block_sizes

HEADS = ("image", "segmentation")


@register_model("unet", family="unet", task="restore / segment",
                tiny_config=dict(filters=(4, 8), image_shape=(16, 16, 3), mask_input=True),
                variants=[dict(image_shape=(None, None, 3),
                               fill_holes=dict(levels=2, steps=1, biharmonic_steps=1)),
                          dict(image_shape=(None, None, 3), mask_input=False,
                               head="segmentation", num_classes=3)],
                demo_config=dict(image_shape=(32, 32, 3), filters=(16, 32), residual=True))
@keras.saving.register_keras_serializable(package="zoo")
class UNet(SingleNetwork, FromPreset, RestorationTraining, StoredConfig, keras.Model):
    """Encoder-decoder with skip connections for image repair or segmentation.

    Any H and W (at least pixel_unshuffle * 2**depth) are taken: inputs are padded at
    the bottom and right by reflection to multiples of that factor (masks with known
    pixels), and the output is cropped back, as `apply_to_image` does outside the model.
    A fixed `image_shape` must be a multiple of the factor.

    Inputs: `image` (B, H, W, C) float32 in [0, 1]; with `mask_input=True` a dict
    of `image` and `mask` (B, H, W, 1), 1 = hole, for inpainting (the image under
    the hole is zeroed, and the output composites known pixels back unchanged).
    With `fill_holes=True` as well, the holes are first filled by `DiffusionFill` (a
    classical smooth fill from the hole borders, computed in the graph), the network
    sees that fill and the mask, and predicts a correction to it (its last layer starts
    at zero, so an untrained model returns the classical fill). `fill_holes` may also be
    a dict of `DiffusionFill` settings (`levels`, `steps`, `biharmonic_steps`, `taper`):
    a shallower fill for small images, or a cheaper one to trace and run.

    With `noise_level_input=True` (denoising, image head) the model takes a dict of
    `image` and `noise_level` (B, 1): the Gaussian sigma of the noise in image units
    (8-bit sigma / 255, in [0, 1]), given to the network as a constant channel (as
    FFDNet does), so one model covers every strength and the user can set it.
    `pixel_unshuffle=f` (FFDNet's trick) turns each f x f block into f*f channels
    before the first level and back after the last: the network runs at 1/f the
    resolution, about f*f times fewer operations at the same widths.
    `smooth_blend=K` (denoising) mixes the output per pixel with the means of the
    noisy input over 4, 8, ... 2**(K+1) px blocks, with softmax weights the network
    predicts (`zoo.smooth_blend.SmoothBlend`): flat areas get the near noise-free
    block means, texture keeps the network's output. 2**(K+1) must divide
    pixel_unshuffle * 2**depth.

    Outputs by `head`:
        `image`: `restored` (B, H, W, C) float32 in [0, 1]. With `residual=True` the
            network predicts a correction added to the input and clipped to [0, 1]; its
            last layer starts at zero, so an untrained model returns its input.
            Standard loss L1 + SSIM (hole-weighted with a mask), metrics PSNR / SSIM.
        `segmentation`: `segmentation` (B, H, W, num_classes) softmax probabilities.
            Targets are integer class ids (B, H, W). Standard loss cross-entropy +
            Dice, metrics mean IoU / Dice.

    Args:
        image_shape: (H, W, C); H and W may be None.
        filters: filters per encoder level (list) or the first level's width (int, with depth).
        depth: number of 2x down-samplings (defaults to len(filters)).
        kernel_size, pooling (`max` / `avg` / `strided`), upsampling (`transpose` /
        `nearest` / `bilinear`), activation, normalization (`batch` / `instance` /
        `none`), dropout, l1, l2, convs_per_level: see zoo.layers.
    """

    def __init__(self, image_shape=(None, None, 3), filters=(32, 64, 128), depth=None,
                 kernel_size=3, pooling="max", upsampling="transpose", activation="relu",
                 normalization="batch", dropout=0.0, l1=0.0, l2=0.0, convs_per_level=2,
                 head="image", num_classes=2, residual=False, mask_input=False,
                 fill_holes=False, noise_level_input=False, pixel_unshuffle=1, smooth_blend=0,
                 **kwargs):
        # === Validation ===
        image_shape = tuple(image_shape)
        filters = blocks.level_filters(filters, depth)
        depth = len(filters)
        blocks.check_choice("head", head, HEADS)
        blocks.check_rate("dropout", dropout)
        blocks.check_pixel_unshuffle(pixel_unshuffle)
        size_factor = pixel_unshuffle * 2**depth
        blocks.check_spatial_size(image_shape, size_factor, "UNet")
        if head == "segmentation" and (mask_input or residual or noise_level_input):
            raise ValueError("mask_input, residual and noise_level_input apply to the image "
                             "head only.")
        if noise_level_input and mask_input:
            raise ValueError("noise_level_input is for denoising; it cannot be combined with "
                             "mask_input.")
        if not isinstance(smooth_blend, int) or smooth_blend < 0:
            raise ValueError(f"smooth_blend must be an int >= 0, got {smooth_blend!r}.")
        if smooth_blend and (head != "image" or mask_input):
            raise ValueError("smooth_blend is for denoising: the image head without "
                             "mask_input.")
        if smooth_blend and size_factor % blend_block_sizes(smooth_blend)[-1]:
            raise ValueError(f"smooth_blend={smooth_blend} averages "
                             f"{blend_block_sizes(smooth_blend)[-1]} px blocks, which must "
                             f"divide pixel_unshuffle * 2**depth = {size_factor}.")
        fill_settings = fill_settings_from(fill_holes)
        filling = fill_settings is not None
        if filling and not mask_input:
            raise ValueError("fill_holes needs mask_input=True (it fills the masked holes).")
        if filling and residual:
            raise ValueError("fill_holes already predicts a correction to the fill; "
                             "leave residual=False.")
        if head == "segmentation" and num_classes < 2:
            raise ValueError(f"num_classes must be >= 2 (softmax over classes), got {num_classes}.")
        regularizer = blocks.kernel_regularizer(l1, l2)
        block = dict(kernel_size=kernel_size, activation_name=activation,
                     normalization_kind=normalization, dropout=dropout,
                     regularizer=regularizer, convs=convs_per_level)

        # === Functional model ===
        image = keras.Input(image_shape, name="image")
        padded = PadToMultiple(size_factor, name="pad_image")(image)
        mask = keras.Input((*image_shape[:2], 1), name="mask") if mask_input else None
        padded_mask = (PadToMultiple(size_factor, "constant", name="pad_mask")(mask)
                       if mask_input else None)
        noise_level = keras.Input((1,), name="noise_level") if noise_level_input else None
        if filling:
            filled = DiffusionFill(name="diffusion_fill", **fill_settings)(padded, padded_mask)
            x = layers.Concatenate(name="fill_and_mask")([filled, padded_mask])
        else:
            x = HideHoles(name="hide_holes")(padded, padded_mask) if mask_input else padded
        if pixel_unshuffle > 1:
            x = SpaceToDepth(pixel_unshuffle, name="pixel_unshuffle")(x)
        if noise_level_input:
            x = NoiseLevelMap(name="noise_level_map")(x, noise_level)
        skips = []
        for level, width in enumerate(filters):
            x = blocks.conv_block(x, width, name=f"encoder{level}", **block)
            skips.append(x)
            x = blocks.downsample(x, pooling, filters=width, kernel_size=kernel_size,
                                  regularizer=regularizer, name=f"encoder{level}")
        x = blocks.conv_block(x, 2 * filters[-1], name="bottleneck", **block)
        for level in reversed(range(depth)):
            x = blocks.upsample(x, upsampling, filters=filters[level], kernel_size=kernel_size,
                                regularizer=regularizer, name=f"decoder{level}")
            x = layers.Concatenate(name=f"decoder{level}_skip")([x, skips[level]])
            x = blocks.conv_block(x, filters[level], name=f"decoder{level}", **block)

        if head == "segmentation":
            x = layers.Conv2D(num_classes * pixel_unshuffle**2, 1, name="to_classes")(x)
            if pixel_unshuffle > 1:
                x = DepthToSpace(pixel_unshuffle, name="pixel_shuffle")(x)
            output = layers.Activation("softmax", dtype="float32", name="segmentation_padded")(x)
            final_name = "segmentation"
        else:
            # A correction (fill or residual) starts at zero: the untrained model returns
            # its input (or the fill) instead of noise.
            features = x
            x = layers.Conv2D(image_shape[-1] * pixel_unshuffle**2, 1, name="to_image",
                              kernel_initializer="zeros" if filling or residual
                              else "glorot_uniform")(features)
            if pixel_unshuffle > 1:
                x = DepthToSpace(pixel_unshuffle, name="pixel_shuffle")(x)
            if filling:
                output = AddResidual(name="corrected_fill")(filled, x)
            elif residual:
                output = AddResidual(name="residual")(padded, x)
            else:
                output = layers.Activation("sigmoid", dtype="float32", name="prediction")(x)
            if smooth_blend:
                # Zero logits: the blend starts at the network's output (SmoothBlend).
                logits = layers.Conv2D((smooth_blend + 1) * pixel_unshuffle**2, 1,
                                       kernel_initializer="zeros", name="blend_logits")(features)
                if pixel_unshuffle > 1:
                    logits = DepthToSpace(pixel_unshuffle, name="blend_shuffle")(logits)
                output = SmoothBlend(smooth_blend, name="smooth_blend")(output, padded, logits)
            if mask_input:
                output = Composite(name="composite")(output, padded, padded_mask)
            final_name = "restored"
        output = CropToSize(name=final_name)(output, image)
        inputs = image
        if mask_input:
            inputs = {"image": image, "mask": mask}
        elif noise_level_input:
            inputs = {"image": image, "noise_level": noise_level}
        super().__init__(inputs=inputs, outputs=output, **kwargs)

        # === Config ===
        self._store_config(
            image_shape=image_shape, filters=filters, depth=depth, kernel_size=kernel_size,
            pooling=pooling, upsampling=upsampling, activation=activation,
            normalization=normalization, dropout=dropout, l1=l1, l2=l2,
            convs_per_level=convs_per_level, head=head, num_classes=num_classes,
            residual=residual, mask_input=mask_input, fill_holes=fill_holes,
            noise_level_input=noise_level_input, pixel_unshuffle=pixel_unshuffle,
            smooth_blend=smooth_blend,
        )

    @property
    def task(self):
        """The contract's task (zoo.models.contract): set by the head and the inputs."""
        if self.head == "segmentation":
            return "segment"
        return "inpaint" if self.mask_input else "denoise"

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """"auto" (the default) is the standard part for the head (see the class
        docstring); anything else replaces it as in `keras.Model.compile`."""
        if self.head == "image":
            return super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        optimizer, loss, standard_metrics = standard_compile_parts(optimizer, loss, metrics)
        keras.Model.compile(
            self, optimizer=optimizer,
            loss=SegmentationLoss(self.num_classes) if loss is None else loss,
            metrics=[MeanIoU(self.num_classes), MeanDice(self.num_classes)]
            if standard_metrics else metrics,
            **kwargs,
        )
        self._set_hole_metrics([])
        self._standard_metrics = standard_metrics
