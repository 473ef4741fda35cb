"""The arguments of the model commands (list, info, quickstart, demo, predict, generate,
inspect, images), declared without importing keras: `zoo_cli.main` builds the parser
from them and imports a command's module only to run it (`run="module:function"`)."""

from training.masks import MASK_PRESETS
from zoo_cli.arguments import whole_number

DATASET_NAMES = ("natural", "textures", "digits", "faces", "shapes")  # zoo images
INSPECT_SIZE = 256   # zoo inspect: long side of the image the model sees
MAX_SIDE = 16384     # pixels: a tile or image side no model here needs more of
MAX_GRID = 1024      # zoo generate: images in one grid
MAX_SEED = 2**32 - 1


def add_model_parsers(subparsers):
    """list, info, quickstart, demo."""
    p = subparsers.add_parser("list", help="list the architectures and the pretrained presets",
                       description="List the registered architectures (family, task, "
                                   "summary) and the pretrained presets (task, size, "
                                   "headline metric).")
    p.add_argument("--task", choices=("inpaint", "denoise", "segment", "generate"),
                   help="only the presets of this task")
    p.set_defaults(run="zoo_cli.models:cmd_list")

    p = subparsers.add_parser("info", help="default config, parameter count and I/O of a model",
                       description="Print an architecture's default config, parameter count, "
                                   "and input/output names, shapes, dtypes and value ranges.")
    p.add_argument("name", help="architecture name (see `zoo list`)")
    p.set_defaults(run="zoo_cli.models:cmd_info")

    p = subparsers.add_parser("quickstart", help="build, fit, save and reload every architecture",
                       description="The main job: for every architecture, build a small "
                                   "config, compile() it with its standard loss, fit it on "
                                   "built-in random data, save it to .keras, load it back "
                                   "and check the outputs match.")
    p.add_argument("-o", "--out", default="zoo-quickstart",
                   help="folder for the .keras files (default: zoo-quickstart)")
    p.add_argument("--steps", type=whole_number(1, 10_000), default=8,
                   help="training steps per model (default: 8)")
    p.set_defaults(run="zoo_cli.models:cmd_quickstart")

    p = subparsers.add_parser("demo", help="the pretrained demo: repair, generate, export to int8",
                       description="Repair a built-in photo with the inpainting and "
                                   "denoising presets, generate a sample grid, export the "
                                   "inpainter to int8 TFLite and verify it.")
    p.add_argument("-o", "--out", default="zoo-demo", help="output folder (default: zoo-demo)")
    p.set_defaults(run="zoo_cli.models:cmd_demo")


def add_preset_parsers(subparsers):
    p = subparsers.add_parser(
        "predict", help="repair or segment an image with a preset or .keras model",
        description="Run an inpaint / denoise / segment preset on an image of any size "
                    "(padded and tiled to what the model takes, then cropped back) and write "
                    "the result as a PNG.")
    p.add_argument("name", help="preset name (see `zoo list`) or a .keras file (a `zoo "
                                "train` run's model.keras)")
    p.add_argument("input", help="image file (PNG, JPEG, ...)")
    p.add_argument("--mask", help="inpainting: mask image of the same size, white (or any "
                                  "colour) on black = hole; or transparent = hole")
    p.add_argument("--sigma", type=float,
                   help="denoisers with a noise strength input: the noise's Gaussian sigma in "
                        "8-bit units (0-255); default: estimated from the image")
    p.add_argument("-o", "--output", required=True, help="output PNG")
    p.add_argument("--force", action="store_true",
                   help="replace OUTPUT if it exists (never the input image or the mask)")
    p.add_argument("--tile", type=whole_number(1, MAX_SIDE),
                   help="tile side (default: the one the preset was "
                   "validated with, see its metadata.json inference_tile)")
    p.add_argument("--runtime", choices=("auto", "keras", "tflite"), default="auto",
                   help="inpainting presets that ship TFLite tiles (metadata.json "
                        "\"tflite_tiles\"; unet-inpaint-photos does): "
                        "tflite fills a photo larger than the preset's tile through "
                        "these int8 files, without importing Keras or TensorFlow (the "
                        "Keras result up to int8 rounding; TF_NUM_INTRAOP_THREADS sets "
                        "its threads); auto (default) does so where it can, keras never")
    p.set_defaults(run="zoo_cli.predict:cmd_predict")

    p = subparsers.add_parser(
        "generate", help="sample a grid of images from a generator preset",
        description="Draw N images from a DCGAN preset and tile them in a PNG.")
    p.add_argument("name", help="generator preset name (see `zoo list`)")
    p.add_argument("-n", type=whole_number(1, MAX_GRID), default=16,
                   help="number of images (default 16)")
    p.add_argument("--seed", type=whole_number(0, MAX_SEED), default=0,
                   help="latent seed (default 0)")
    p.add_argument("-o", "--output", required=True, help="output PNG")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.set_defaults(run="zoo_cli.predict:cmd_generate")


def add_inspect_parser(subparsers):
    """Add the `inspect` sub-command to `zoo`'s sub-parsers."""
    p = subparsers.add_parser(
        "inspect", help="feature maps and activation statistics of a model on an image",
        description="Run a preset or .keras model on an image file and write its feature "
                    "maps (the first channels of each chosen layer, each min-max normalized) "
                    "as one labelled PNG. Default layers: the last layer of each encoder "
                    "resolution level. --stats prints mean / std / range, the fraction of "
                    "zeros (dead ReLU units) and of dead channels per layer. A DCGAN is "
                    "inspected through its generator (latent --seed) without IMAGE and "
                    "through its discriminator with one.")
    p.add_argument("name", help="preset name (see `zoo list`) or a .keras file")
    p.add_argument("image", nargs="?", help="image file (PNG, JPEG, ...)")
    p.add_argument("--layer", action="append", metavar="LAYER",
                   help="layer to show (repeatable; see --list-layers)")
    p.add_argument("--mask", help="inpainting: mask image of the same size, white = hole")
    p.add_argument("-o", "--output", help="output PNG")
    p.add_argument("--stats", action="store_true",
                   help="print activation statistics (all activation layers unless --layer)")
    p.add_argument("--list-layers", action="store_true",
                   help="print the layers with feature maps and exit")
    p.add_argument("--channels", type=whole_number(1, 1024), default=16,
                   help="channels shown per layer (default 16)")
    p.add_argument("--size", type=whole_number(0, MAX_SIDE), default=INSPECT_SIZE,
                   help=f"shrink the image so its long side is at most this (default "
                        f"{INSPECT_SIZE}; 0 keeps it)")
    p.add_argument("--seed", type=whole_number(0, MAX_SEED), default=0,
                   help="DCGAN latent seed (default 0)")
    p.set_defaults(run="zoo_cli.inspect_model:cmd_inspect")
    return p


def add_images_parser(subparsers):
    p = subparsers.add_parser(
        "images", help="write built-in images as PNG files (optionally noisy or with holes)",
        description="Write the images of a built-in dataset split to a folder as PNG "
                    "files: stand-ins for your own photos. --noise adds Gaussian noise, "
                    "--holes cuts holes and writes each mask beside its image (white = "
                    "hole). The same seed gives the same files.")
    p.add_argument("dataset", choices=DATASET_NAMES)
    p.add_argument("--split", default="train", choices=("train", "validation", "test"),
                   help="which split (default: train; natural and shapes have a test split)")
    p.add_argument("-n", "--count", type=int,
                   help="at most this many images (shapes: how many scenes; default 8)")
    p.add_argument("--size", type=int,
                   help="centre-crop to a square and resize to SIZE x SIZE pixels")
    p.add_argument("--noise", type=float, metavar="SIGMA",
                   help="add Gaussian noise of this sigma (8-bit units, 0-255)")
    p.add_argument("--holes", choices=sorted(MASK_PRESETS),
                   help="cut holes of this kind (about 10%% of each image) and write masks")
    p.add_argument("--seed", type=whole_number(0, MAX_SEED), default=0,
                   help="noise / hole seed (default: 0)")
    p.add_argument("-o", "--out", required=True, help="output folder (created if missing)")
    p.add_argument("--force", action="store_true",
                   help="replace files of the same names already in the folder (other files "
                        "in it are never touched)")
    p.set_defaults(run="zoo_cli.images:cmd_images")
    return p
