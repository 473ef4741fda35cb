"""The import graph points down only (DESIGN.md, "Layers"): image I/O, then the zoo core,
then training, then export, then the command line. Every import counts, including those
inside functions, so no cycle can hide in one."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("zoo", "training", "export", "zoo_cli")
LAYERS = ("zoo.image_io", "zoo", "training", "export", "zoo_cli")  # bottom to top


def layer_of(module):
    """Index in LAYERS of a project module's layer, None for other modules."""
    if module == "zoo.image_io" or module.startswith("zoo.image_io."):
        return 0
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
            for alias in node.names:  # `from zoo import image_io` imports zoo.image_io
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


def test_image_io_imports_no_project_module():
    path = ROOT / "zoo" / "image_io.py"
    assert not [name for name in imported_modules(path) if layer_of(name) is not None]
