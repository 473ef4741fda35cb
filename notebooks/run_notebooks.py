"""Execute the notebooks top to bottom with nbclient; fail naming the notebook and cell.

    python notebooks/run_notebooks.py --quick             # CI-sized run, outputs discarded
    python notebooks/run_notebooks.py --in-place          # full run, outputs saved into the
                                                          # committed .ipynb files
    python notebooks/run_notebooks.py --quick 03 05       # only notebooks whose name has 03 / 05
    python notebooks/run_notebooks.py --quick --out DIR   # executed copies written to DIR

Each notebook runs in a fresh Python kernel with `ZOO_NOTEBOOK_QUICK` set to "1"
(`--quick`) or "0", its working directory this folder. Every notebook is run even when
an earlier one fails; the exit status is 1 when any cell raised (or timed out), and each
failure is reported as `NOTEBOOK: cell N raised NAME: message`.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

HERE = Path(__file__).resolve().parent
QUICK_VARIABLE = "ZOO_NOTEBOOK_QUICK"
CELL_TIMEOUT = 900  # seconds per cell; a full-mode training cell takes a few minutes


class NotebookFailed(RuntimeError):
    """A cell of a notebook raised, timed out, or its kernel died."""

    def __init__(self, message, notebook):
        super().__init__(message)
        self.notebook = notebook


def notebook_paths(selection=()):
    """The numbered notebooks in this folder, sorted; with `selection`, only those whose
    file name contains one of its strings."""
    paths = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if selection:
        paths = [p for p in paths if any(s in p.name for s in selection)]
    return paths


def _failed_cell(notebook):
    """(index, cell, error output) of the first code cell with an error output."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                return index, cell, output
    return None, None, None


def _first_line(cell):
    lines = [line for line in cell.source.splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def execute(path, quick, out_path=None, timeout=CELL_TIMEOUT):
    """Execute the notebook at `path`; returns `(executed notebook, seconds)`.

    quick: run with ZOO_NOTEBOOK_QUICK=1. out_path: where to write the executed
    notebook (the same path as `path` saves the outputs in place; None writes
    nothing). The notebook is written even when a cell fails, so the traceback can be
    read there. Raises `NotebookFailed` naming the notebook and the cell.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            record_timing=False, resources={"metadata": {"path": str(HERE)}})
    env = {**os.environ, QUICK_VARIABLE: "1" if quick else "0"}
    started = time.perf_counter()
    failure = None
    try:
        client.execute(env=env)
    except CellExecutionError as error:
        index, cell, output = _failed_cell(notebook)
        if cell is None:
            failure = f"{path.name}: a cell raised: {str(error).strip().splitlines()[-1]}"
        else:
            failure = (f"{path.name}: cell {index} ({_first_line(cell)!r}) raised "
                       f"{output.get('ename')}: {output.get('evalue')}")
    except CellTimeoutError as error:
        failure = f"{path.name}: a cell ran past {timeout} s: {str(error).strip()[:300]}"
    except DeadKernelError as error:
        failure = f"{path.name}: the kernel died: {error}"
    seconds = time.perf_counter() - started
    if out_path is not None:
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out_path)
    if failure:
        raise NotebookFailed(failure, notebook)
    return notebook, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="run only notebooks whose name contains one")
    parser.add_argument("--quick", action="store_true",
                        help=f"quick mode ({QUICK_VARIABLE}=1): small sizes, few steps")
    parser.add_argument("--in-place", action="store_true",
                        help="save the outputs into the notebooks themselves")
    parser.add_argument("--out", type=Path, help="write the executed notebooks to this folder")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    if args.in_place and args.out:
        parser.error("--in-place and --out exclude each other")
    paths = notebook_paths(args.names)
    if not paths:
        parser.error(f"no notebook matches {args.names}")
    failures, total = [], 0.0
    for path in paths:
        out_path = path if args.in_place else (args.out / path.name if args.out else None)
        print(f"{path.name}: running ({'quick' if args.quick else 'full'} mode)...", flush=True)
        started = time.perf_counter()
        try:
            _, seconds = execute(path, args.quick, out_path, args.timeout)
            print(f"{path.name}: ok in {seconds:.1f} s", flush=True)
        except NotebookFailed as error:
            seconds = time.perf_counter() - started
            failures.append(str(error))
            print(f"FAILED {error} ({seconds:.1f} s)", flush=True)
        total += seconds
    print(f"{len(paths) - len(failures)} passed, {len(failures)} failed in {total:.1f} s")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
