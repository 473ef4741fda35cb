"""Write each user-journey notebook from its source, the percent-format `.py` beside it.

    python notebooks/build_notebooks.py                 # rewrite all five (outputs cleared)
    python notebooks/run_notebooks.py --in-place        # then execute them and keep the outputs

`NN_name.py` is the notebook as plain Python (`# %%` code cells, `# %% [markdown]`
commented markdown; `percent_format.py`), so it reads and diffs as code and jupytext
opens it too. Rebuilding clears the outputs, so run `run_notebooks.py --in-place`
afterwards (full mode for the committed outputs). `tests/test_notebooks.py` checks that
the committed notebooks hold exactly their sources' cells.

Every notebook reads `ZOO_NOTEBOOK_QUICK` ("1" = quick: small sizes, few steps, what CI
runs) in its first cell, writes its files under a fresh temporary folder, and reads
only files made by an earlier cell or shipped with the package.
"""

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # percent_format sits beside this script

from percent_format import read_cells  # noqa: E402

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
NOTEBOOKS = {f"{path.stem}.ipynb": path for path in sorted(HERE.glob("[0-9][0-9]_*.py"))}


def build(name):
    """The notebook `name` (a key of NOTEBOOKS) with its source's cells and no outputs."""
    cells = [nbformat.v4.new_markdown_cell(source) if kind == "markdown"
             else nbformat.v4.new_code_cell(source)
             for kind, source in read_cells(NOTEBOOKS[name])]
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:02d}"  # stable ids: rebuilding gives the same file
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def main(argv=None):
    names = argv if argv else list(NOTEBOOKS)
    for name in names:
        nbformat.validate(notebook := build(name))
        nbformat.write(notebook, HERE / name)
        print("wrote", HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
