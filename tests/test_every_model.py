"""The shared harness over every registered architecture (`zoo.list_models()`), from
its registry entry alone: a new family is tested by registering it."""

import pytest

import zoo
from tests import harness


@pytest.mark.parametrize("name", zoo.list_models())
def test_registered_model_passes_the_harness(name, tmp_path):
    harness.check_registered_model(name, tmp_path)
