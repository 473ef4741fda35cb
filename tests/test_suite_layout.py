"""The suite's own set-up: what keeps `python -m pytest -n 2` from paying a fixture twice."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_SCOPE = re.compile(r'scope="(module|session)"')
GROUPED = re.compile(r'^pytestmark = pytest\.mark\.xdist_group\("\w+"\)', flags=re.M)


def test_pytest_distributes_by_group():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^addopts = ".*--dist loadgroup.*"', pyproject, flags=re.M)


@pytest.mark.parametrize("path", sorted((ROOT / "tests").glob("test_*.py")), ids=lambda p: p.name)
def test_a_module_with_shared_fixtures_runs_on_one_worker(path):
    """Under plain `--dist load` both workers take tests of a module and each builds its
    module-scoped fixtures (a benchmark run of 60-100 s was paid twice)."""
    source = path.read_text()
    if SHARED_SCOPE.search(source):
        assert GROUPED.search(source), f"{path.name}: mark it xdist_group (see pyproject)"
