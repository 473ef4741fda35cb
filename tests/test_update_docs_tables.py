"""benchmarks/update_docs_tables.py replaces the documents' tables by header row."""

import json

from update_docs_tables import DOCUMENTS, RESULTS, generated_tables, replace_tables


def test_a_table_is_replaced_by_the_generated_table_with_its_header():
    text = "intro\n| a | b |\n|---|---|\n| 1 | 2 |\n\nmiddle\n| c |\n|---|\n| 3 |\nend"
    generated = {"| a | b |": ["| a | b |", "|---|---|", "| 5 | 6 |", "| 7 | 8 |"]}
    new, replaced = replace_tables(text, generated)
    assert new == ("intro\n| a | b |\n|---|---|\n| 5 | 6 |\n| 7 | 8 |\n\n"
                   "middle\n| c |\n|---|\n| 3 |\nend")
    assert replaced == {"| a | b |"}


def test_the_documents_quote_the_committed_quality_results():
    generated = generated_tables(json.loads(RESULTS.read_text()))
    found = set()
    for document in DOCUMENTS:
        text = document.read_text()
        new, replaced = replace_tables(text, generated)
        assert new == text, f"{document.name}: run python benchmarks/update_docs_tables.py"
        found |= replaced
    assert found == set(generated)
