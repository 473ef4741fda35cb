"""Atomic file writing: a reader sees the old file or the new one, never half of one."""

import contextlib
import json
import os
from pathlib import Path


def temporary_name(path, suffix=".partial"):
    """The hidden name `path` is written under before its rename: `.NAME` + `suffix`
    (the suffix keeps the extension a writer may insist on, e.g. `.weights.h5`). One
    name per target, so what a killed write leaves is replaced by the next write of the
    same target instead of piling up."""
    path = Path(path)
    return path.with_name(f".{path.name}{suffix}")


@contextlib.contextmanager
def replaced_on_success(path, suffix=".partial"):
    """Yields `temporary_name(path, suffix)`; when the block succeeds it is renamed to
    `path` (mode 0644, like a normally created file), else removed. A SIGKILL in the
    block leaves only that hidden file. One writer per target at a time."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_name(path, suffix)
    if temporary.is_dir() and not temporary.is_symlink():
        raise IsADirectoryError(f"{temporary} is a folder; remove it to write {path.name}")
    try:
        temporary.unlink(missing_ok=True)  # a killed write's leftover, or a link: not followed
        yield temporary
        if temporary.exists():
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as error:
        # The user knows the target, not its hidden temporary name: name the target.
        if error.filename in (str(temporary), temporary) and error.strerror:
            raise OSError(error.errno, f"cannot write {path}: {error.strerror}") from None
        raise
    finally:
        temporary.unlink(missing_ok=True)


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
