"""The `zoo` command: list and describe architectures, and the quick-start job."""

import argparse
import json
import sys
from pathlib import Path

VALUE_RANGES = {
    "image": "[0, 1]",
    "mask": "{0, 1}, 1 = hole",
    "latent": "N(0, 1)",
    "inpainted": "[0, 1]",
    "restored": "[0, 1]",
    "segmentation": "[0, 1], class probabilities summing to 1",
    "logit": "(-inf, inf), > 0 = real",
}


def _io_lines(model):
    """One line per input / output of a functional model: name, shape, dtype, range."""
    lines = []
    named = [("input", t.name, t) for t in model.inputs]
    named += [("output", n, t) for n, t in zip(model.output_names, model.outputs, strict=True)]
    for kind, name, tensor in named:
        shape = "(" + ", ".join("B" if d is None and i == 0 else str(d)
                                for i, d in enumerate(tensor.shape)) + ")"
        lines.append(f"  {kind:6} {name:13} {shape:22} {tensor.dtype:8} "
                     f"{VALUE_RANGES.get(name, '')}")
    return lines


def cmd_list(args):
    from zoo.preset_cli import print_presets
    from zoo.registry import get_entry, list_models

    if not args.task:
        print(f"{'architecture':28} {'family':10} {'task':18} summary")
        for name in list_models():
            entry = get_entry(name)
            print(f"{name:28} {entry.family:10} {entry.task:18} {entry.summary}")
        print()
    print_presets(args.task)
    return 0


def cmd_info(args):
    from zoo.models.dcgan import DCGAN
    from zoo.registry import create_model, get_entry

    entry = get_entry(args.name)
    model = create_model(args.name)
    print(f"{entry.name}: {entry.summary}")
    print(f"family: {entry.family}   task: {entry.task}")
    print("default config:")
    for key, value in entry.config_keys().items():
        print(f"  {key} = {json.dumps(value)}")
    parts = [model.generator, model.discriminator] if isinstance(model, DCGAN) else [model]
    for part in parts:
        print(f"{part.name}: {part.count_params():,} parameters")
        print("\n".join(_io_lines(part)))
    return 0


def cmd_quickstart(args):
    from zoo.quickstart import run_quickstart

    run_quickstart(Path(args.out), steps=args.steps)
    return 0


def cmd_demo(args):
    from zoo.demo import run_demo

    run_demo(Path(args.out))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="zoo", description="Keras 3 model zoo for image generation and repair.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the architectures and the pretrained presets",
                       description="List the registered architectures (family, task, "
                                   "summary) and the pretrained presets (task, size, "
                                   "headline metric).")
    p.add_argument("--task", choices=("inpaint", "denoise", "segment", "generate"),
                   help="only the presets of this task")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="default config, parameter count and I/O of a model",
                       description="Print an architecture's default config, parameter count, "
                                   "and input/output names, shapes, dtypes and value ranges.")
    p.add_argument("name", help="architecture name (see `zoo list`)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("quickstart", help="build, fit, save and reload every architecture",
                       description="The main job: for every architecture, build a small "
                                   "config, compile() it with its standard loss, fit it on "
                                   "built-in random data, save it to .keras, load it back "
                                   "and check the outputs match.")
    p.add_argument("-o", "--out", default="zoo-quickstart",
                   help="folder for the .keras files (default: zoo-quickstart)")
    p.add_argument("--steps", type=int, default=8, help="training steps per model (default: 8)")
    p.set_defaults(func=cmd_quickstart)

    p = sub.add_parser("demo", help="the pretrained demo: repair, generate, export to int8",
                       description="Repair a built-in photo with the inpainting and "
                                   "denoising presets, generate a sample grid, export the "
                                   "inpainter to int8 TFLite and verify it.")
    p.add_argument("-o", "--out", default="zoo-demo", help="output folder (default: zoo-demo)")
    p.set_defaults(func=cmd_demo)

    from export.cli import add_export_parser
    from training.data_cli import add_data_parser
    from training.images_cli import add_images_parser
    from training.snapshot import add_snapshot_parser
    from training.train_cli import add_train_parser
    from zoo.inspect_cli import add_inspect_parser
    from zoo.preset_cli import add_preset_parsers

    add_train_parser(sub)
    add_export_parser(sub)
    add_preset_parsers(sub)
    add_inspect_parser(sub)
    add_images_parser(sub)
    add_data_parser(sub)
    add_snapshot_parser(sub)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except (ValueError, OSError) as error:
        print(f"zoo: error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        from export.verify import VerificationFailed
        from training.callbacks import TrainingDiverged
        from training.photo_corpus import CorpusError

        if not isinstance(error, TrainingDiverged | VerificationFailed | CorpusError):
            raise
        print(f"zoo: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
