import importlib


def test_distribution_provides_the_three_import_packages():
    for name in ("zoo", "training", "export"):
        assert importlib.import_module(name).__doc__
