"""Atomic writing: an export either appears whole at its path or not at all."""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def check_target(path, force):
    """Raise a clear error when `path` cannot be written: it exists (without `force`) or
    its folder is not writable."""
    path = Path(path)
    if path.exists() and not force:
        raise FileExistsError(f"{path} already exists; pass --force to replace it.")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not os.access(parent, os.W_OK):
        raise PermissionError(f"cannot write to {parent}: the folder is not writable.")


@contextlib.contextmanager
def staged_path(path, force=False, directory=False):
    """Yields a temporary path beside `path`; when the block succeeds it is renamed to
    `path` (replacing an old one when `force`), when it fails it is removed."""
    path = Path(path)
    check_target(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial",
                                    dir=path.parent))
    target = staging if directory else staging / path.name
    try:
        yield target
        os.chmod(staging, 0o755)  # mkdtemp makes 0700
        _replace(target, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _replace(source, path):
    if path.is_dir() and not path.is_symlink():
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
        os.replace(source, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, path)
