"""Notebook sources in the percent format (as jupytext writes it): plain Python files
where `# %%` starts a code cell and `# %% [markdown]` a markdown cell whose lines are
comments (`# text`, or `#` for an empty line).

    read_cells(path) -> [(kind, source)]      kind "code" or "markdown"
    write_cells(cells) -> text                the inverse: read_cells(write) == cells
"""

from pathlib import Path

CODE_MARKER = "# %%"
MARKDOWN_MARKER = "# %% [markdown]"


def read_cells(path):
    """The cells of a percent-format file, in order, each source without trailing blank
    lines."""
    cells, kind, lines = [], None, []
    for line in Path(path).read_text().splitlines():
        if line in (CODE_MARKER, MARKDOWN_MARKER):
            if kind is not None:
                cells.append(_cell(kind, lines))
            kind, lines = ("markdown" if line == MARKDOWN_MARKER else "code"), []
        elif kind is None:
            if line.strip():
                raise ValueError(f"{path}: text before the first '{CODE_MARKER}' marker")
        elif kind == "markdown":
            if line and line != "#" and not line.startswith("# "):
                raise ValueError(f"{path}: markdown cell line not commented: {line!r}")
            lines.append(line[2:])
        else:
            lines.append(line)
    if kind is not None:
        cells.append(_cell(kind, lines))
    return cells


def _cell(kind, lines):
    return kind, "\n".join(lines).strip("\n")


def write_cells(cells):
    """Percent-format text for [(kind, source)]."""
    blocks = []
    for kind, source in cells:
        if kind == "markdown":
            body = "\n".join(f"# {line}" if line else "#" for line in source.splitlines())
            blocks.append(f"{MARKDOWN_MARKER}\n{body}")
        else:
            blocks.append(f"{CODE_MARKER}\n{source}")
    return "\n\n".join(blocks) + "\n"
