"""The import graph points down only (DESIGN.md, "Layers"): zoo_lite (image I/O, tiles,
the TFLite tiles; no Keras), then the zoo core, then training, then export, then the
command line. Every import counts, including those
inside functions, so no cycle can hide in one."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("zoo_lite", "zoo", "training", "export", "zoo_cli")
LAYERS = PACKAGES  # bottom to top


def layer_of(module):
    """Index in LAYERS of a project module's layer, None for other modules."""
    top = module.split(".")[0]
    return LAYERS.index(top) if top in PACKAGES else None


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path):
    """Every module `path` imports (absolute imports: the project uses no relative ones)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"
            yield node.module
            for alias in node.names:  # `from zoo import losses` imports zoo.losses
                yield f"{node.module}.{alias.name}"


SOURCES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_every_package_is_scanned():
    assert {module_name(p).split(".")[0] for p in SOURCES} == set(PACKAGES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    own = layer_of(module_name(path))
    upward = sorted({name for name in imported_modules(path)
                     if (layer := layer_of(name)) is not None and layer > own})
    assert not upward, f"{module_name(path)} (layer {LAYERS[own]}) imports {upward}"


def test_zoo_lite_imports_neither_keras_nor_tensorflow():
    """zoo_lite runs where Keras is not imported (`zoo predict` from TFLite tiles)."""
    for path in (ROOT / "zoo_lite").rglob("*.py"):
        heavy = sorted(name for name in imported_modules(path)
                       if name.split(".")[0] in ("keras", "tensorflow", "jax"))
        assert not heavy, f"{module_name(path)} imports {heavy}"
