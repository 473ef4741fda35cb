"""`zoo list`, `zoo info`, `zoo quickstart` and `zoo demo`."""

import json
from pathlib import Path

from zoo.conventions import meaning


def _io_lines(model):
    """One line per input / output of a functional model: name, shape, dtype, range."""
    lines = []
    named = [("input", t.name, t) for t in model.inputs]
    named += [("output", n, t) for n, t in zip(model.output_names, model.outputs, strict=True)]
    for kind, name, tensor in named:
        shape = "(" + ", ".join("B" if d is None and i == 0 else str(d)
                                for i, d in enumerate(tensor.shape)) + ")"
        lines.append(f"  {kind:6} {name:13} {shape:22} {tensor.dtype:8} {meaning(name)}")
    return lines


def cmd_list(args):
    from zoo.registry import get_entry, list_models
    from zoo_cli.predict import print_presets

    if not args.task:
        print(f"{'architecture':28} {'family':10} {'task':18} summary")
        for name in list_models():
            entry = get_entry(name)
            print(f"{name:28} {entry.family:10} {entry.task:18} {entry.summary}")
        print()
    print_presets(args.task)
    return 0


def cmd_info(args):
    from zoo.registry import create_model, get_entry

    entry = get_entry(args.name)
    model = create_model(args.name)
    print(f"{entry.name}: {entry.summary}")
    print(f"family: {entry.family}   task: {entry.task}")
    print("default config:")
    for key, value in entry.config_keys().items():
        print(f"  {key} = {json.dumps(value)}")
    for part in model.networks():
        print(f"{part.name}: {part.count_params():,} parameters")
        print("\n".join(_io_lines(part)))
    return 0


def cmd_quickstart(args):
    from zoo_cli.quickstart import run_quickstart

    run_quickstart(Path(args.out), steps=args.steps)
    return 0


def cmd_demo(args):
    from zoo_cli.demo import run_demo

    run_demo(Path(args.out))
    return 0
