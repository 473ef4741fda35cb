"""Exports written as a whole: the model (a .tflite file or a SavedModel folder), its
sidecar `NAME.json` and its report `NAME.verification.json` change together.

1. Everything is written into the hidden folder `.NAME.partial/` beside the target.
2. That folder is renamed `.NAME.commit/`: the commit point.
3. The old sidecar and report are removed, the new model is moved into place, then the
   new report, then the new sidecar; the folder is removed.

A kill before 2 leaves the old export as it was (the next export to the target removes
the partial folder); a kill after 2 leaves `.NAME.commit/`, whose step 3 the next export
to the target finishes first. A sidecar is only ever beside the model it describes, and
records its sha256 (`digest`): `read_sidecar` checks it. `--force` replaces only what
an export writes (see `check_target`). docs/guarantees.md, "Export", sums it up.
"""

import contextlib
import hashlib
import json
import numbers
import os
import re
import shutil
from pathlib import Path

from zoo.presets import sha256_of

SIDECAR, REPORT = ".json", ".verification.json"
# what TensorFlow (and TF Serving's assets.extra) puts in a SavedModel folder
SAVED_MODEL_ENTRIES = {"saved_model.pb", "saved_model.pbtxt", "fingerprint.pb",
                       "keras_metadata.pb", "variables", "assets", "assets.extra"}
# the keys by which an export's sidecar and report are recognised
JSON_KEYS = {SIDECAR: {"format", "inputs", "outputs"}, REPORT: {"variant", "passed"}}


def beside(path, suffix):
    """`path` with `suffix` appended to its name: u.tflite -> u.tflite.json."""
    path = Path(path)
    return path.with_name(path.name + suffix)


def _hidden(path, suffix):
    return path.with_name(f".{path.name}{suffix}")


def serving_target(path, serving_version=None):
    """`path`, or `path/N` with `serving_version` N (a whole number >= 0, the layout
    TensorFlow Serving expects)."""
    if serving_version is None:
        return Path(path)
    if not isinstance(serving_version, numbers.Integral) or isinstance(serving_version, bool) \
            or not 0 <= serving_version < 2**63:
        raise ValueError(f"serving version {serving_version!r} is not a whole number from 0 "
                         "to 2**63 - 1 (TensorFlow Serving's version numbers).")
    return Path(path) / str(int(serving_version))


def digest(path):
    """sha256 of a file's bytes; of a folder, over its files' relative paths and sha256s."""
    path = Path(path)
    if path.is_file():
        return sha256_of(path)
    lines = "".join(f"{p.relative_to(path).as_posix()} {sha256_of(p)}\n"
                    for p in sorted(path.rglob("*")) if p.is_file())
    return hashlib.sha256(lines.encode()).hexdigest()


def _is_saved_model(folder):
    """Whether `folder` holds a SavedModel and nothing else."""
    names = {p.name for p in folder.iterdir()}
    variables = folder / "variables"
    return bool(names & {"saved_model.pb", "saved_model.pbtxt"}) \
        and names <= SAVED_MODEL_ENTRIES \
        and (not variables.exists() or variables.is_dir() and not variables.is_symlink()
             and all(p.name.startswith("variables.") for p in variables.iterdir()))


def _what(path, kind):
    """None when `path` is what an export writes as `kind` ("tflite", "savedmodel",
    SIDECAR or REPORT), else what it is, in words."""
    if path.is_symlink():
        return "a symbolic link"
    if path.is_dir():
        if kind == "savedmodel" and _is_saved_model(path):
            return None
        names = sorted(p.name for p in path.iterdir())
        more = f", ... ({len(names)} in all)" if len(names) > 3 else ""
        return f"a folder holding {', '.join(names[:3])}{more}" if names else "an empty folder"
    if kind == "savedmodel":
        return "a file, not a SavedModel folder"
    try:
        if kind == "tflite":
            with open(path, "rb") as f:
                if f.read(8)[4:8] == b"TFL3":  # the flatbuffer's file identifier
                    return None
        else:
            data = json.loads(path.read_text())
            if isinstance(data, dict) and JSON_KEYS[kind] <= data.keys():
                return None
    except (OSError, UnicodeDecodeError, ValueError):
        pass
    return {"tflite": "a file that is not a TFLite model", SIDECAR: "a file that is not an "
            "export's sidecar", REPORT: "a file that is not an export's report"}[kind]


def _export_entries(path, directory):
    """[(path, kind)] of the model and its sidecar and report."""
    return [(path, "savedmodel" if directory else "tflite"),
            (beside(path, SIDECAR), SIDECAR), (beside(path, REPORT), REPORT)]


def _refuse_foreign(path, directory):
    """Raise when something other than an export's own file is at one of its paths;
    return the paths that hold a previous export's files."""
    existing = []
    for entry, kind in _export_entries(path, directory):
        if entry.exists() or entry.is_symlink():
            what = _what(entry, kind)
            if what:
                raise FileExistsError(
                    f"{entry} is {what}, which zoo export never replaces (--force replaces "
                    "only a previous export); choose another output path.")
            existing.append(entry)
    return existing


def check_target(path, force=False, directory=False):
    """Raise a clear one-line error when an export cannot be written at `path`: its folder
    is a file or not writable; something there is not a previous export (a user's folder or
    file is never replaced, `force` or not); a previous export is there and not `force`."""
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise ValueError(f"cannot write an export to {path}: name a file or a folder.")
    folder = next(p for p in (path.parent, *path.parent.parents) if p.exists())
    if not folder.is_dir():
        raise NotADirectoryError(f"cannot write {path}: {folder} is a file, not a folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write to {folder}: the folder is not writable.")
    existing = _refuse_foreign(path, directory)
    if existing and not force:
        raise FileExistsError(f"{existing[0]} holds a previous export; pass --force to replace "
                              "it (model, sidecar and report together).")


def finish_interrupted(path):
    """Remove the staging folders of exports to `path` killed before their commit point
    (also the `.NAME.XXXXXXXX.partial` of older zoo versions), and finish one killed after."""
    path = Path(path)
    if path.name in ("", ".", "..") or not path.parent.is_dir():
        return
    pattern = re.compile(rf"\.{re.escape(path.name)}(\.[a-z0-9_]{{8}})?\.partial")
    for entry in path.parent.iterdir():
        if pattern.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
    if _hidden(path, ".commit").is_dir():
        _install(path)


def _install(path):
    """Step 3: move the committed export into place. Safe to repeat after a kill at any
    point of it: each step looks at what is still in the commit folder."""
    commit = _hidden(path, ".commit")
    staged = commit / path.name
    if staged.exists():
        _refuse_foreign(path, staged.is_dir())
        for suffix in (SIDECAR, REPORT):  # never beside a model they do not describe
            beside(path, suffix).unlink(missing_ok=True)
        if staged.is_dir() and path.exists():  # a folder cannot be renamed over a folder
            os.replace(path, commit / ".replaced")
        os.replace(staged, path)
    for suffix in (REPORT, SIDECAR):  # the sidecar last: it vouches for the others
        if beside(staged, suffix).exists():
            os.replace(beside(staged, suffix), beside(path, suffix))
    shutil.rmtree(commit)


@contextlib.contextmanager
def staged_export(path, force=False, directory=False):
    """Yields an empty staging folder beside `path`. The block writes the model there as
    `staging / path.name` (a folder with `directory`), and its sidecar and report as
    `beside(model, SIDECAR)` and `beside(model, REPORT)`. When the block succeeds, they
    replace the export at `path` (model, sidecar and report: a previous export's sidecar
    and report go even when the block wrote none); when it fails, nothing at `path`
    changes and nothing is left behind."""
    path = Path(path)
    finish_interrupted(path)
    check_target(path, force, directory)
    created = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    partial = _hidden(path, ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.mkdir()
        yield partial
        check_target(path, force, directory)  # again: the conversion took a while
        os.replace(partial, _hidden(path, ".commit"))  # the commit point
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        for folder in created:  # deepest first; only those still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    _install(path)


def read_sidecar(path):
    """The sidecar of the export at `path`, after checking that it describes the model
    there (sha256); a clear error when the export is unfinished or the model changed."""
    path = Path(path)
    sidecar = beside(path, SIDECAR)
    if not sidecar.is_file() or _hidden(path, ".commit").exists():
        raise FileNotFoundError(f"{path} is not a finished export (no sidecar "
                                f"{sidecar.name}): export it again.")
    data = json.loads(sidecar.read_text())
    if not path.exists() or data.get("sha256") != digest(path):
        raise ValueError(f"{sidecar} does not describe {path} (sha256 differs): the model "
                         "was changed or its export interrupted; export it again.")
    return data
