"""Atomic file writing: a reader sees the old file or the new one, never half of one."""

import contextlib
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def replaced_on_success(path, suffix=".partial"):
    """Yields a temporary path in `path`'s folder; when the block succeeds it is renamed
    to `path` (readable by all, like a normally created file), else removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _json_value(value):
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return float(value)


def write_json(data, path):
    """JSON to `path`, atomically; numpy scalars and paths are written as plain values."""
    with replaced_on_success(path, ".json.partial") as temporary:
        temporary.write_text(json.dumps(data, indent=2, default=_json_value) + "\n")
    return Path(path)
