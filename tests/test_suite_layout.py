"""The suite's own set-up: what keeps `python -m pytest -n 2` from paying a fixture twice."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_SCOPE = re.compile(r'scope="(module|session)"')


def test_pytest_distributes_by_group():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^addopts = ".*--dist loadgroup.*"', pyproject, flags=re.M)


@pytest.mark.parametrize("path", sorted((ROOT / "tests").glob("test_*.py")), ids=lambda p: p.name)
def test_a_module_with_shared_fixtures_runs_on_one_worker(path):
    """Under plain `--dist load` both workers take tests of a module and each builds its
    module-scoped fixtures (a benchmark run of 60-100 s was paid twice)."""
    source = path.read_text()
    if SHARED_SCOPE.search(source):
        assert _module_mark(source) == "xdist_group", f"{path.name}: mark it (see pyproject)"


def _module_mark(source):
    """Name of the mark in a top-level `pytestmark = pytest.mark.NAME(...)` (not one
    inside a string, such as a subprocess script), or None."""
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == "pytestmark"
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)):
            return node.value.func.attr
    return None
