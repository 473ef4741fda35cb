"""DCGAN generator and discriminator (Radford et al. 2016 layout)."""

import keras
from keras import layers

from zoo import layers as blocks
from zoo.models.stored_config import StoredConfig


def _fixed_shape(image_shape, depth, model_name):
    image_shape = tuple(image_shape)
    if len(image_shape) != 3 or None in image_shape:
        raise ValueError(f"{model_name} needs a fixed image_shape (H, W, C), got {image_shape}.")
    blocks.check_spatial_size(image_shape, 2**depth, model_name)
    return image_shape


@keras.saving.register_keras_serializable(package="zoo")
class DCGANGenerator(StoredConfig, keras.Model):
    """Maps a latent vector to an image: dense projection, then a stack of 2x up-samplings.

    Input `latent` (B, latent_dim) float32, drawn from N(0, 1). Output `image`
    (B, H, W, C) float32 in [0, 1] (sigmoid). H and W must be divisible by 2**depth;
    the projection produces an (H / 2**depth, W / 2**depth, filters[0]) grid.

    Args:
        image_shape: fixed (H, W, C).
        latent_dim: size of the latent vector.
        filters: filters per up-sampling level, coarse to fine (list), or the finest
            level's width (int, doubled at each coarser level, with `depth`).
        depth: number of 2x up-samplings (defaults to len(filters)).
        kernel_size: transposed-convolution kernel size (4 as in DCGAN).
        upsampling: `transpose`, `nearest` or `bilinear` (the generator's
            counterpart of the pooling knob).
        activation: hidden activation (ReLU in DCGAN).
        normalization: `batch` (DCGAN), `instance` or `none`.
        dropout, l1, l2: dropout rate after each level, kernel regularization.
    """

    def __init__(self, image_shape=(32, 32, 3), latent_dim=128, filters=(256, 128, 64),
                 depth=None, kernel_size=4, upsampling="transpose", activation="relu",
                 normalization="batch", dropout=0.0, l1=0.0, l2=0.0, **kwargs):
        # === Validation ===
        if isinstance(filters, int):
            filters = tuple(reversed(blocks.level_filters(filters, depth)))
        filters = blocks.level_filters(filters, depth)
        depth = len(filters)
        image_shape = _fixed_shape(image_shape, depth, "DCGANGenerator")
        blocks.check_rate("dropout", dropout)
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be >= 1, got {latent_dim}.")
        regularizer = blocks.kernel_regularizer(l1, l2)
        grid = (image_shape[0] // 2**depth, image_shape[1] // 2**depth, filters[0])

        # === Functional model ===
        latent = keras.Input((latent_dim,), name="latent")
        x = layers.Dense(grid[0] * grid[1] * grid[2], use_bias=normalization == "none",
                         kernel_regularizer=regularizer, name="projection")(latent)
        x = layers.Reshape(grid, name="projection_reshape")(x)
        norm = blocks.normalization(normalization, "projection_norm")
        x = norm(x) if norm is not None else x
        x = blocks.activation(activation, "projection_act")(x)
        for level, width in enumerate(filters):
            x = blocks.upsample(x, upsampling, filters=width, kernel_size=kernel_size,
                                regularizer=regularizer, name=f"up{level}")
            norm = blocks.normalization(normalization, f"up{level}_norm")
            x = norm(x) if norm is not None else x
            x = blocks.activation(activation, f"up{level}_act")(x)
            if dropout > 0:
                x = layers.Dropout(dropout, name=f"up{level}_dropout")(x)
        x = layers.Conv2D(image_shape[-1], kernel_size, padding="same",
                          kernel_regularizer=regularizer, name="to_image")(x)
        image = layers.Activation("sigmoid", dtype="float32", name="image")(x)
        super().__init__(inputs=latent, outputs=image, **kwargs)

        # === Config ===
        self._store_config(
            image_shape=image_shape, latent_dim=latent_dim, filters=filters, depth=depth,
            kernel_size=kernel_size, upsampling=upsampling, activation=activation,
            normalization=normalization, dropout=dropout, l1=l1, l2=l2,
        )


@keras.saving.register_keras_serializable(package="zoo")
class DCGANDiscriminator(StoredConfig, keras.Model):
    """Scores images as real or generated: strided convolutions, LeakyReLU, one logit.

    Input `image` (B, H, W, C) float32 in [0, 1]. Output `logit` (B, 1) float32,
    unbounded (> 0 means "real"). H and W must be divisible by 2**depth.

    Args:
        image_shape: fixed (H, W, C).
        filters: filters per level (list) or the first level's width (int, doubled per level).
        depth: number of 2x down-samplings (defaults to len(filters)).
        kernel_size: convolution kernel size (4 as in DCGAN).
        pooling: `strided` (a stride-2 convolution, DCGAN) or `max` / `avg` after a
            stride-1 convolution.
        activation: `leaky_relu` (slope 0.2, DCGAN) or another of zoo.layers.ACTIVATIONS.
        normalization: `none` (default, pairs with spectral norm), `batch` or `instance`.
        spectral_norm: wrap every convolution and the dense layer in
            `keras.layers.SpectralNormalization`.
        dropout: dropout rate after each level and before the logit.
        l1, l2: kernel regularization factors.
    """

    def __init__(self, image_shape=(32, 32, 3), filters=(64, 128, 256), depth=None,
                 kernel_size=4, pooling="strided", activation="leaky_relu", normalization="none",
                 spectral_norm=False, dropout=0.0, l1=0.0, l2=0.0, **kwargs):
        # === Validation ===
        filters = blocks.level_filters(filters, depth)
        depth = len(filters)
        image_shape = _fixed_shape(image_shape, depth, "DCGANDiscriminator")
        blocks.check_choice("pooling", pooling, blocks.POOLINGS)
        blocks.check_rate("dropout", dropout)
        regularizer = blocks.kernel_regularizer(l1, l2)

        def maybe_spectral(layer, name):
            if not spectral_norm:
                return layer
            return layers.SpectralNormalization(layer, dtype=layer.dtype_policy, name=name)

        # === Functional model ===
        image = keras.Input(image_shape, name="image")
        x = image
        for level, width in enumerate(filters):
            strides = 2 if pooling == "strided" else 1
            x = maybe_spectral(layers.Conv2D(width, kernel_size, strides=strides, padding="same",
                                             kernel_regularizer=regularizer,
                                             name=f"down{level}_conv"), f"down{level}_sn")(x)
            if pooling != "strided":
                x = blocks.downsample(x, pooling, filters=width, kernel_size=kernel_size,
                                      regularizer=regularizer, name=f"down{level}")
            # DCGAN leaves the first layer un-normalized.
            norm = blocks.normalization(normalization, f"down{level}_norm") if level else None
            x = norm(x) if norm is not None else x
            x = blocks.activation(activation, f"down{level}_act")(x)
            if dropout > 0:
                x = layers.Dropout(dropout, name=f"down{level}_dropout")(x)
        x = layers.Flatten(name="flatten")(x)
        dense = layers.Dense(1, kernel_regularizer=regularizer, dtype="float32",
                             name="logit_dense" if spectral_norm else "logit")
        logit = maybe_spectral(dense, "logit")(x)
        super().__init__(inputs=image, outputs=logit, **kwargs)

        # === Config ===
        self._store_config(
            image_shape=image_shape, filters=filters, depth=depth, kernel_size=kernel_size,
            pooling=pooling, activation=activation, normalization=normalization,
            spectral_norm=spectral_norm, dropout=dropout, l1=l1, l2=l2,
        )
