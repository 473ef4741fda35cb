"""The `zoo` command. Parsing imports neither keras nor TensorFlow (`zoo --help`, a typo
or a bad flag answers at once); a command's module is imported only to run it.

User errors (ValueError, OSError and the runtime errors named in USER_RUNTIME_ERRORS)
print one line, `zoo: error: ...`, and exit 2 (1 for the runtime ones); anything else
is a bug and shows its traceback. TensorFlow's native start-up lines are held back
(zoo_cli.native_logs) unless `zoo --verbose COMMAND` asks for them.
"""

import importlib
import sys

from zoo_cli.arguments import OneLineParser
from zoo_cli.model_arguments import (
    add_images_parser,
    add_inspect_parser,
    add_model_parsers,
    add_preset_parsers,
)
from zoo_cli.native_logs import held_back
from zoo_cli.run_arguments import (
    add_data_parser,
    add_export_parser,
    add_snapshot_parser,
    add_train_parser,
)

# Runtime errors that describe the user's situation, not a bug: a run that diverged, an
# export outside tolerance, a corpus that could not be fetched. "module:class".
USER_RUNTIME_ERRORS = ("training.callbacks:TrainingDiverged",
                       "export.verify:VerificationFailed",
                       "training.photo_corpus:CorpusError")


def build_parser():
    parser = OneLineParser(
        prog="zoo", description="Keras 3 model zoo for image generation and repair.")
    parser.add_argument("--verbose", action="store_true",
                        help="also show TensorFlow's native log lines (oneDNN, CUDA start-up)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_model_parsers(subparsers)
    add_train_parser(subparsers)
    add_export_parser(subparsers)
    add_preset_parsers(subparsers)
    add_inspect_parser(subparsers)
    add_images_parser(subparsers)
    add_data_parser(subparsers)
    add_snapshot_parser(subparsers)
    return parser


def command_function(spec):
    """The function named by a parser's `run="module:function"`."""
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def _is_user_error(error):
    return isinstance(error, (ValueError, OSError)) or (
        isinstance(error, RuntimeError) and _is_user_runtime_error(error))


def _is_user_runtime_error(error):
    # An error's class is loaded if the error was raised: look it up without importing.
    for spec in USER_RUNTIME_ERRORS:
        module, name = spec.split(":")
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(error, getattr(loaded, name)):
            return True
    return False


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        if args.verbose:
            return command_function(args.run)(args)
        with held_back(_is_user_error):
            return command_function(args.run)(args)
    except (ValueError, OSError) as error:
        print(f"zoo: error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        if not _is_user_runtime_error(error):
            raise
        print(f"zoo: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
