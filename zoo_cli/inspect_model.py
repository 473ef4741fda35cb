"""`zoo inspect`: a model's feature maps on an image file, as one labelled PNG.

    zoo inspect unet-denoise-natural photo.jpg -o maps.png            # default layers
    zoo inspect unet-inpaint-natural photo.jpg --mask hole.png -o maps.png --stats
    zoo inspect model.keras photo.png --layer encoder0_act2 --layer bottleneck_act2 -o m.png
    zoo inspect dcgan-digits -o maps.png                              # generator, latent seed 0
    zoo inspect unet-denoise-natural --list-layers

NAME is a preset (`zoo list`) or a .keras file. The image is shrunk so its long side is
at most --size pixels, then center-cropped to the largest multiple of what the model
needs (`zoo.inference.size_factor`); a model with a fixed input size gets the image
center-cropped to its aspect ratio and resized. For a DCGAN the generator is inspected
on a latent vector drawn with --seed when no IMAGE is given, and the discriminator on
IMAGE when one is. Errors are ValueError / FileNotFoundError with the reason.
"""

from pathlib import Path

import numpy as np

from zoo.presets import load_preset_or_file
from zoo_cli.model_arguments import INSPECT_SIZE


def _center_crop(array, height, width):
    top, left = (array.shape[0] - height) // 2, (array.shape[1] - width) // 2
    return array[top:top + height, left:left + width]


def fit_image(image, net, mask=None, max_size=INSPECT_SIZE):
    """`image` (H, W, C) [0, 1] (and `mask` (H, W, 1)) cropped / resized to a size `net`
    takes: long side <= max_size (shrunk, aspect kept), then center-cropped to multiples
    of the size factor; for a fixed-size net, cropped to its aspect ratio and resized."""
    from training.images import resize, resize_to_cover
    from zoo.inference import size_factor

    image_input = net.input["image"] if isinstance(net.input, dict) else net.input
    fixed = tuple(image_input.shape[1:3])
    height, width = image.shape[:2]
    if None not in fixed:
        ratio = fixed[1] / fixed[0]
        crop_h, crop_w = (height, round(height * ratio)) if width >= height * ratio \
            else (round(width / ratio), width)
        target = fixed
    else:
        factor = size_factor(net)
        if max_size and max(height, width) > max_size:
            shrink = max_size / max(height, width)
            height, width = max(1, round(height * shrink)), max(1, round(width * shrink))
            image = resize(image, height, width)
            mask = None if mask is None else resize(mask, height, width)
        image = resize_to_cover(image, factor, factor)
        mask = None if mask is None else resize_to_cover(mask, factor, factor)
        crop_h = image.shape[0] - image.shape[0] % factor
        crop_w = image.shape[1] - image.shape[1] % factor
        target = (crop_h, crop_w)
    image = resize(_center_crop(image, crop_h, crop_w), *target)
    if mask is not None:
        mask = (resize(_center_crop(mask, crop_h, crop_w), *target) > 0.5).astype(np.float32)
    return image, mask


def _channels(net):
    image_input = net.input["image"] if isinstance(net.input, dict) else net.input
    return image_input.shape[-1]


def inspect_model(name, image_path=None, output=None, layers=None, mask_path=None,
                  stats=False, channels=16, size=INSPECT_SIZE, seed=0):
    """Write the feature-map PNG (and return the stats rows when `stats`). Returns a
    summary dict: model, network, input size, layers, output path (and stats)."""
    from training.image_folder import load_image
    from zoo import visualize
    from zoo_lite.image_io import to_rgb8

    if output is None:
        raise ValueError("give -o OUTPUT.png for the feature-map picture.")
    if image_path is not None and not Path(image_path).is_file():
        raise FileNotFoundError(f"No such image: {image_path}")
    if mask_path is not None and not Path(mask_path).is_file():
        raise FileNotFoundError(f"No such mask: {mask_path}")
    model = load_preset_or_file(name)
    if visualize._is_dcgan(model):
        net = model.discriminator if image_path is not None else model.generator
    else:
        net = model
        if image_path is None:
            raise ValueError(f"{name} takes an image: give IMAGE (a PNG, JPEG, ... file).")
    needs_mask = visualize._needs_mask(net)
    if mask_path is not None and not needs_mask:
        raise ValueError(f"{name} is not an inpainting model and takes no --mask.")
    if needs_mask and mask_path is None:
        raise ValueError(f"{name} fills holes: give --mask MASK.png (white = hole).")

    if image_path is None:  # a DCGAN generator on one latent vector
        sample = np.random.default_rng(seed).standard_normal(model.latent_dim).astype(np.float32)
        mask = None
        generated = model.generator(sample[None], training=False)
        from keras import ops

        shown = ("generated", to_rgb8(ops.convert_to_numpy(generated))[0])
        size_text = f"latent seed {seed}"
    else:
        image = load_image(image_path, channels=_channels(net))
        mask = None
        if mask_path is not None:
            mask = (load_image(mask_path, channels=1) > 0.5).astype(np.float32)
            if mask.shape[:2] != image.shape[:2]:
                raise ValueError(f"mask {mask_path} is {mask.shape[1]}x{mask.shape[0]} but the "
                                 f"image is {image.shape[1]}x{image.shape[0]} (W x H): they "
                                 "must match.")
        sample, mask = fit_image(image, net, mask, max_size=size)
        shown_image = sample if mask is None else sample * (1.0 - mask)
        shown = ("input", to_rgb8(shown_image[None])[0])
        size_text = f"{sample.shape[1]}x{sample.shape[0]}"

    maps = visualize.feature_maps(net, sample, layers=layers, mask=mask)
    figure = visualize.feature_map_figure(maps, channels=channels,
                                          before=[(f"{shown[0]} ({size_text})", shown[1])])
    visualize.save_png(figure, output)
    summary = {"model": name, "network": net.name, "input": size_text,
               "layers": list(maps), "output": str(output)}
    if stats:
        summary["stats"] = visualize.activation_stats(net, sample[None], layers=layers,
                                                      mask=None if mask is None else mask[None])
    return summary


def cmd_inspect(args):
    from zoo import visualize

    if args.list_layers:
        model = load_preset_or_file(args.name)
        part = None
        if visualize._is_dcgan(model):
            part = "discriminator" if args.image is not None else "generator"
            print(f"{part} layers (inspected {'on IMAGE' if args.image else 'without IMAGE'}):")
        for layer in visualize.layer_names(model, part=part):
            print(layer)
        return 0
    if args.channels < 1:
        raise ValueError(f"--channels must be >= 1, got {args.channels}.")
    summary = inspect_model(args.name, args.image, args.output, layers=args.layer,
                            mask_path=args.mask, stats=args.stats, channels=args.channels,
                            size=args.size, seed=args.seed)
    if args.stats:
        print(visualize.format_stats(summary.pop("stats")))
    print(" ".join(f"{key}={','.join(v) if isinstance(v, list) else v}"
                   for key, v in summary.items()))
    return 0


