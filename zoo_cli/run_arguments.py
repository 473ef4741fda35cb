"""The arguments of the run commands (train, export, data, snapshot), declared without
importing keras or TensorFlow: `zoo_cli.main` builds the parser from them and imports a
command's module only to run it (`run="module:function"`)."""

from export.tflite import QUANTIZATIONS
from zoo_cli.arguments import at_least_one, whole_number

PRECISION_NAMES = {"float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}
STRATEGIES = ("none", "mirrored", "multiworker", "data_parallel")
MAX_SIZE = 4096  # zoo export --size: pixels per side
MAX_CALIBRATION_EXAMPLES = 1000  # held in memory at once; ~100 is plenty (DESIGN.md)
CORPORA = ("photos",)
# training.photo_corpus.default_root, in words (importing it would import keras)
CORPUS_ROOT_HELP = ("corpus folder (default: $XDG_CACHE_HOME/keras-image-zoo/photos, "
                    "~/.cache/keras-image-zoo/photos when XDG_CACHE_HOME is unset)")


def add_train_parser(subparsers):
    p = subparsers.add_parser(
        "train", help="train a model from a recipe (a TOML file or a shipped recipe's name)",
        description="Train a model from a recipe into a run folder holding its config, "
                    "checkpoints, logs, sample grids, the final .keras model and metrics.json.")
    p.add_argument("recipe", help="recipe file, or the name of a shipped recipe "
                                  "(`zoo train --list` shows them)", nargs="?")
    p.add_argument("--list", action="store_true", help="list the shipped recipes and exit")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=at_least_one,
                        help="total training steps (overrides the recipe)")
    length.add_argument("--epochs", type=at_least_one, help="epochs (overrides the recipe)")
    p.add_argument("-o", "--out", help="run folder (default: runs/RECIPE_NAME)")
    p.add_argument("--resume", action="store_true",
                   help="continue a killed run from its last finished epoch")
    p.add_argument("--backend", choices=("tensorflow", "jax"),
                   help="Keras backend to train with (default: KERAS_BACKEND or tensorflow)")
    p.add_argument("--mixed-precision", nargs="?", const="float16",
                   choices=tuple(PRECISION_NAMES), help="mixed precision compute dtype "
                   "(float16 with loss scaling, or bfloat16); variables stay float32")
    p.add_argument("--jit-compile", action="store_true",
                   help="compile train steps with XLA (TensorFlow; JAX always uses XLA)")
    p.add_argument("--init-from", metavar="PATH",
                   help="start from these weights: a run folder (its latest weights), a "
                        ".keras or a .weights.h5 file of the same model (fine-tuning, or a "
                        "recipe changed mid-way)")
    p.add_argument("--strategy", choices=STRATEGIES, default="none",
                   help="mirrored: all local GPUs (TensorFlow); multiworker: one process "
                        "per worker, configured by TF_CONFIG; data_parallel: all local "
                        "devices (JAX)")
    p.set_defaults(run="zoo_cli.train:cmd_train")
    return p


def add_export_parser(subparsers):
    p = subparsers.add_parser(
        "export", help="export a model to SavedModel or TFLite, verified against Keras",
        description="Export a pretrained preset, a registered architecture (default "
                    "config) or a .keras file "
                    "to SavedModel or builtins-only TFLite, run the exported file against "
                    "Keras on a fixed batch, and write a sidecar JSON and a verification "
                    "report beside it. Exits 1 when the export is outside tolerance.")
    p.add_argument("model", metavar="NAME_OR_PATH",
                   help="preset or architecture name (see `zoo list`) or a .keras file")
    p.add_argument("--format", choices=("savedmodel", "tflite"), required=True)
    p.add_argument("--quantize", choices=QUANTIZATIONS, default="none",
                   help="TFLite variant (default: none = float32)")
    p.add_argument("--size", type=whole_number(1, MAX_SIZE), nargs=2, metavar=("H", "W"),
                   help="input height and width (TFLite default: a repair preset's "
                        "inference tile, a segmentation preset's training scene size, "
                        "else the model's own size or 256 256; SavedModel default: any "
                        "size)")
    p.add_argument("-o", "--out", required=True, help="output file (.tflite) or folder")
    p.add_argument("--force", action="store_true",
                   help="replace a previous export at OUT (with its sidecar and report); "
                        "anything else there is never replaced")
    p.add_argument("--allow-degraded", action="store_true",
                   help="keep an export that fails verification")
    p.add_argument("--int8-io", action="store_true",
                   help="int8 input/output tensors (with --quantize int8)")
    p.add_argument("--serving-version", type=whole_number(0, 2**63 - 1), metavar="N",
                   help="SavedModel in OUT/N/, the TensorFlow Serving layout")
    p.add_argument("--calibration-examples", metavar="N",
                   type=whole_number(1, MAX_CALIBRATION_EXAMPLES),
                   help=f"int8 calibration examples, 1 to {MAX_CALIBRATION_EXAMPLES} "
                        "(default: 64)")
    p.set_defaults(run="zoo_cli.export_model:cmd_export")
    return p


def add_data_parser(subparsers):
    p = subparsers.add_parser(
        "data", help="build the photo corpus (from Debian packages) or pack training crops",
        description="Build the `photos` corpus of real photographs from Debian packages "
                    "and Python wheels (every file checked against the manifest's sha256), "
                    "or pack its training crops into one .npz file for another machine.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    fetch = actions.add_parser(
        "fetch", help="download, extract and check the corpus (safe to rerun)",
        description="apt-get download each source package, dpkg -x it (no root needed), "
                    "extract the photos (also from .edj and .rcc archives), check each "
                    "sha256, and write RGB PNGs per split, the licences and ATTRIBUTION.md. "
                    "A rerun finishes what a killed run left and reports what is missing.")
    fetch.add_argument("corpus", choices=CORPORA)
    fetch.add_argument("--root", help=CORPUS_ROOT_HELP)
    fetch.add_argument("--debs", help="folder of already downloaded .deb files to use")
    fetch.add_argument("--keep-downloads", action="store_true",
                       help="keep the .deb files and unpacked packages after extraction")
    fetch.add_argument("--list-packages", action="store_true",
                       help="print the source packages and versions, fetch nothing")
    fetch.set_defaults(run="zoo_cli.data:cmd_fetch")

    pack = actions.add_parser(
        "pack", help="write training and validation crops to one .npz (see training.photo_data)",
        description="Random crops (by area, fixed seed) of the train and validation photos, "
                    "uint8, compressed: a recipe trains from it with data.path = the file.")
    pack.add_argument("corpus", choices=CORPORA)
    pack.add_argument("-o", "--out", required=True, help="output .npz file")
    pack.add_argument("--root", help=CORPUS_ROOT_HELP)
    pack.add_argument("--side", type=whole_number(16, 1024), default=128,
                      help="crop side in pixels (default 128)")
    pack.add_argument("--train-crops", type=whole_number(1, 100_000), default=1100,
                      help="default 1100")
    pack.add_argument("--validation-crops", type=whole_number(1, 10_000), default=64,
                      help="default 64")
    pack.add_argument("--seed", type=whole_number(0, 2**32 - 1), default=0)
    pack.add_argument("--force", action="store_true", help="replace an existing file")
    pack.set_defaults(run="zoo_cli.data:cmd_pack")


def add_snapshot_parser(subparsers):
    p = subparsers.add_parser(
        "snapshot", help="save a long run's weights and curve for another machine, or restore",
        description="save RUN DEST: copy a run folder's config, logs, latest weights (no "
                    "optimizer state) and its training curve to DEST. restore SNAPSHOT RUN: "
                    "put a snapshot into a run folder so `zoo train ... --resume` continues.")
    p.add_argument("action", choices=("save", "restore"))
    p.add_argument("source", help="run folder (save) or snapshot folder (restore)")
    p.add_argument("dest", help="snapshot folder (save) or run folder (restore)")
    p.set_defaults(run="zoo_cli.snapshot:cmd_snapshot")
