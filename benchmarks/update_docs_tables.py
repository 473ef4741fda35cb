"""Copy the quality benchmark's tables into the README and docs/benchmarks.md.

    python benchmarks/update_docs_tables.py [--results benchmarks/results/quality.json]

Each table that `training.result_tables.tables` and `training.model_cards.readme_table`
make from the results replaces the table in the documents whose header row is the same
(the README's preset table, the inpainting, denoising, segmentation, latency and
generation tables), so the documents quote the run the cards were written from. The
prose around the tables is left alone: read it again after a run. Prints what it
replaced and which generated tables no document holds.
"""

import argparse
import json
from pathlib import Path

from training import model_cards, result_tables
from zoo_lite.image_io import replaced_on_success

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "benchmarks.md")
RESULTS = ROOT / "benchmarks" / "results" / "quality.json"


def tables_in(text):
    """[(first line index, lines)] of the markdown tables (runs of lines starting '|')."""
    lines, found, start = text.split("\n"), [], None
    for index, line in enumerate([*lines, ""]):
        if line.startswith("|") and start is None:
            start = index
        elif not line.startswith("|") and start is not None:
            found.append((start, lines[start:index]))
            start = None
    return found


def replace_tables(text, generated):
    """(`text` with each table whose header row is a key of `generated` replaced by that
    table's lines, the set of headers replaced)."""
    lines, replaced = text.split("\n"), set()
    for start, table in reversed(tables_in(text)):
        new = generated.get(table[0])
        if new is not None:
            lines[start:start + len(table)] = new
            replaced.add(table[0])
    return "\n".join(lines), replaced


def generated_tables(results):
    """{header row: table lines} of every table the results make."""
    text = result_tables.tables(results) + "\n\n" + model_cards.readme_table(results)
    return {table[0]: table for _, table in tables_in(text)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    generated = generated_tables(json.loads(args.results.read_text()))
    found = set()
    for document in DOCUMENTS:
        text, replaced = replace_tables(document.read_text(), generated)
        found |= replaced
        if replaced:
            with replaced_on_success(document) as partial:
                partial.write_text(text)
        print(f"{document.relative_to(ROOT)}: {len(replaced)} table(s) replaced")
    for header in generated.keys() - found:
        print(f"in no document: {header}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
