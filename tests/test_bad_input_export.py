"""`zoo export` given bad input or killed (issue 21): numeric flags, what --force may
replace, and the export as a whole (model, sidecar, report) under a kill at any point.
Each case checks a one-line error naming the flag or path, and that nothing on disk was
changed or left behind. See docs/guarantees.md, "Export"."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from export import exporters, files, tflite
from zoo_cli.main import main

pytestmark = pytest.mark.xdist_group("export_bad_input")  # module fixture runs once

TFLITE_HEADER = b"\x1c\x00\x00\x00TFL3"  # how every .tflite flatbuffer starts
QUIET = dict(log=lambda message: None)


def tree(folder):
    """{relative path: bytes, None for a folder, '-> target' for a link} of everything
    under `folder`, hidden entries included."""
    entries = {}
    for path in sorted(Path(folder).rglob("*")):
        entries[path.relative_to(folder).as_posix()] = (
            f"-> {os.readlink(path)}" if path.is_symlink()
            else None if path.is_dir() else path.read_bytes())
    return entries


def fake_export(path, directory=False, tag="old"):
    """A previous export's three files, shaped as the exporters write them (no conversion:
    the bytes are a stand-in)."""
    if directory:
        (path / "variables").mkdir(parents=True)
        (path / "saved_model.pb").write_text(tag)
        (path / "variables" / "variables.index").write_text(tag)
    else:
        path.write_bytes(TFLITE_HEADER + tag.encode())
    sha = files.digest(path)
    files.beside(path, ".json").write_text(json.dumps(
        {"format": "savedmodel" if directory else "tflite", "inputs": [], "outputs": [],
         "sha256": sha, "tag": tag}))
    files.beside(path, ".verification.json").write_text(json.dumps(
        {"variant": "none", "passed": True, "sha256": sha, "tag": tag}))


def export_cli(args, capsys):
    """(exit code, stderr) of `zoo export ARGS`; argparse errors exit."""
    try:
        code = main(["export", *args])
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


def one_line(err):
    return len(err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def tiny():
    import zoo

    return zoo.create_model("unet", filters=(4, 8))


# --- flags --------------------------------------------------------------------------

TFL = ["unet", "--format", "tflite"]
INT8 = [*TFL, "--quantize", "int8"]
SM = ["unet", "--format", "savedmodel"]


@pytest.mark.parametrize("args, flag", [
    ([*TFL, "--size", "0", "0"], "--size"),
    ([*TFL, "--size", "-32", "32"], "--size"),
    ([*TFL, "--size", "100000", "100000"], "--size"),
    ([*TFL, "--size", "wide", "32"], "--size"),
    ([*TFL, "--size", "32.5", "32"], "--size"),
    ([*INT8, "--calibration-examples", "0"], "--calibration-examples"),
    ([*INT8, "--calibration-examples", "-4"], "--calibration-examples"),
    ([*INT8, "--calibration-examples", "1000000000"], "--calibration-examples"),
    ([*INT8, "--calibration-examples", "many"], "--calibration-examples"),
    ([*SM, "--serving-version", "-1"], "--serving-version"),
    ([*SM, "--serving-version", "v2"], "--serving-version"),
    ([*SM, "--serving-version", str(2**64)], "--serving-version"),
    ([*TFL, "--serving-version", "1"], "--serving-version"),        # ignored before
    ([*TFL, "--calibration-examples", "8"], "--calibration-examples"),  # ignored before
    ([*TFL, "--int8-io"], "--int8-io"),
])
def test_a_bad_flag_is_a_one_line_error_naming_it(args, flag, tmp_path, capsys):
    code, err = export_cli([*args, "-o", str(tmp_path / "out")], capsys)
    assert code == 2 and one_line(err) and flag in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("version", [-1, 1.5, True, "1", 2**63])
def test_the_python_api_checks_the_serving_version(version, tmp_path):
    with pytest.raises(ValueError, match="serving version"):
        files.serving_target(tmp_path / "served", version)


# --- what --force may replace -----------------------------------------------------------

def _photos(out):
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"\xff\xd8 a photo")
    return out


def _saved_model_and_notes(out):
    fake_export(out, directory=True)
    (out / "notes.txt").write_text("mine")
    return out


def _symlink(out):
    _photos(out.with_name("photos"))
    out.symlink_to(out.with_name("photos"))
    return out


def _user_json(out):
    out.with_name("my_photos.json").write_text('{"camera": "mine"}')
    return out.with_name("my_photos.json")


USER_THINGS = {
    "folder of photos": _photos,
    "empty folder": lambda out: out.mkdir() or out,
    "a photo": lambda out: out.write_bytes(b"\x89PNG a photo") and out,
    "saved model + a user file": _saved_model_and_notes,
    "symlink to photos": _symlink,
    "user json at the sidecar's path": _user_json,
}


@pytest.mark.parametrize("thing", USER_THINGS)
@pytest.mark.parametrize("fmt", ["tflite", "savedmodel"])
def test_force_never_replaces_what_an_export_did_not_write(fmt, thing, tmp_path, capsys):
    out = tmp_path / "my_photos"
    named = USER_THINGS[thing](out)
    before = tree(tmp_path)
    for force in ([], ["--force"]):
        code, err = export_cli(["unet", "--format", fmt, "--size", "32", "32", "-o", str(out),
                                *force], capsys)
        assert code == 2 and one_line(err), err
        assert f"{named} is" in err and "never replaces" in err
        assert "pass --force" not in err  # the message must not invite it
        assert tree(tmp_path) == before


@pytest.mark.parametrize("directory", [False, True])
def test_a_previous_export_needs_force(directory, tmp_path, capsys):
    out = tmp_path / ("served" if directory else "u.tflite")
    fake_export(out, directory)
    before = tree(tmp_path)
    code, err = export_cli(["unet", "--format", "savedmodel" if directory else "tflite",
                            "--size", "32", "32", "-o", str(out)], capsys)
    assert code == 2 and one_line(err) and f"{out} holds a previous export" in err
    assert "pass --force" in err and tree(tmp_path) == before


def test_force_replaces_a_previous_tflite_export_as_a_whole(tiny, tmp_path):
    out = tmp_path / "u.tflite"
    fake_export(out)
    (tmp_path / "keep.png").write_bytes(b"mine")
    report = exporters.to_tflite(tiny, out, input_size=(32, 32), force=True, **QUIET)
    sidecar = files.read_sidecar(out)  # checks the sidecar describes the new file
    assert out.read_bytes()[4:8] == b"TFL3" and "tag" not in sidecar
    assert report["sha256"] == sidecar["sha256"] == files.digest(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "keep.png", "u.tflite", "u.tflite.json", "u.tflite.verification.json"]


def test_force_replaces_only_its_serving_version(tiny, tmp_path):
    served = tmp_path / "served"
    fake_export(served / "1", directory=True)
    fake_export(served / "2", directory=True, tag="other version")
    (served / "README.txt").write_text("mine")
    others = {k: v for k, v in tree(served).items() if not k.startswith("1")}
    exporters.export_saved_model(tiny, served, input_size=(32, 32), serving_version=1,
                                 force=True, **QUIET)
    assert files.read_sidecar(served / "1")["format"] == "savedmodel"
    assert (served / "1" / "saved_model.pb").stat().st_size > 100
    assert {k: v for k, v in tree(served).items() if not k.startswith("1")} == others


# --- the export as a whole --------------------------------------------------------------

class Killed(BaseException):
    """The process dying: raised instead of a file operation, and by every later one, so
    no clean-up code runs either."""


def _kill_at(step, monkeypatch):
    """Make the `step`-th file operation of export/files.py (os.replace, os.unlink,
    shutil.rmtree) kill the 'process'."""
    state = {"count": 0, "dead": False}

    def wrap(real):
        def operation(*args, **kwargs):
            state["count"] += 1
            if state["dead"] or state["count"] == step:
                state["dead"] = True
                raise Killed
            return real(*args, **kwargs)
        return operation

    for module, name in ((os, "replace"), (os, "unlink"), (shutil, "rmtree")):
        monkeypatch.setattr(module, name, wrap(getattr(module, name)))
    return state


def _write_new(staging, name, directory, state):
    """What an exporter does in the staged folder; step 0 dies while writing."""
    if state["count"] == 0 and state.get("kill_while_writing"):
        state["dead"] = True
        raise Killed
    model = staging / name
    if directory:
        fake_export(model, directory=True, tag="new")
    else:
        fake_export(model, tag="new")


@pytest.mark.parametrize("step", range(9))
@pytest.mark.parametrize("directory", [False, True])
def test_a_kill_at_any_step_leaves_the_old_export_or_the_new_one(directory, step, tmp_path,
                                                                 monkeypatch):
    out = tmp_path / ("served" if directory else "u.tflite")
    fake_export(out, directory)
    (tmp_path / "keep.png").write_bytes(b"mine")
    state = _kill_at(step, monkeypatch)
    state["kill_while_writing"] = step == 0
    try:
        with files.staged_export(out, force=True, directory=directory) as staging:
            _write_new(staging, out.name, directory, state)
        killed = False
    except Killed:
        killed = True
    monkeypatch.undo()
    # a reader trusting only a sidecar that matches the model never sees a mix
    try:
        seen = files.read_sidecar(out)["tag"]
    except FileNotFoundError:  # killed within the last step: no sidecar yet
        seen = None
    assert seen in ("old", "new", None)
    report = files.beside(out, ".verification.json")
    if report.exists():
        assert json.loads(report.read_text())["sha256"] == files.digest(out)
    files.finish_interrupted(out)  # what the next export to `out` does first
    committed = not killed or step >= 2  # step 1 is the commit rename itself
    assert files.read_sidecar(out)["tag"] == ("new" if committed else "old")
    assert json.loads(report.read_text())["tag"] == ("new" if committed else "old")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["keep.png", out.name, f"{out.name}.json", f"{out.name}.verification.json"])


def test_a_sidecar_that_cannot_be_written_leaves_the_old_export(tiny, tmp_path,
                                                                monkeypatch):
    out = tmp_path / "u.tflite"
    fake_export(out)
    before = tree(tmp_path)

    def full_disk(data, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(exporters, "write_json", full_disk)
    with pytest.raises(OSError, match="No space left"):
        exporters.to_tflite(tiny, out, input_size=(32, 32), force=True, **QUIET)
    assert tree(tmp_path) == before


def test_a_failed_export_removes_the_folders_it_made(tiny, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("the converter failed")

    monkeypatch.setattr(tflite, "convert_model", broken)
    with pytest.raises(ValueError, match="converter failed"):
        exporters.to_tflite(tiny, tmp_path / "new" / "sub" / "u.tflite", input_size=(32, 32),
                            **QUIET)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("out, message", [
    ("a_file/u.tflite", "a_file is a file, not a folder"),
    ("a_file/deeper/u.tflite", "a_file is a file, not a folder"),
    (".", "name a file or a folder"),
])
def test_an_output_path_that_cannot_be_written(out, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a_file").write_text("mine")
    code, err = export_cli([*TFL, "--size", "32", "32", "-o", out], capsys)
    assert code == 2 and one_line(err) and message in err, err
    assert tree(tmp_path) == {"a_file": b"mine"}


def test_litter_of_killed_exports_is_removed_by_the_next_one(tmp_path):
    out = tmp_path / "u.tflite"
    for litter in (".u.tflite.partial", ".u.tflite.k3j4h5g6.partial"):  # now, older zoo
        (tmp_path / litter).mkdir()
        (tmp_path / litter / "u.tflite").write_bytes(TFLITE_HEADER + bytes(1000))
    (tmp_path / ".other.tflite.partial").mkdir()  # another target's: not ours to remove
    with files.staged_export(out) as staging:
        fake_export(staging / out.name, tag="new")
    assert files.read_sidecar(out)["tag"] == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.tflite.partial", "u.tflite", "u.tflite.json", "u.tflite.verification.json"]


CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path

    import zoo
    from export import exporters

    out, replace = Path(sys.argv[1]), os.replace

    def replace_then_die(source, target):  # dies right after the new model is moved in
        replace(source, target)
        if Path(target) == out:
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace_then_die
    exporters.to_tflite(zoo.create_model("unet", filters=(4, 8)), out, input_size=(32, 32),
                        force=True, log=lambda message: None)
""")


def test_sigkill_after_the_new_model_is_in_place_then_rerun(tmp_path):
    """The spot where a kill left a new .tflite beside the old sidecar."""
    out = tmp_path / "u.tflite"
    fake_export(out)
    child = subprocess.run([sys.executable, "-c", CHILD, str(out)], capture_output=True,
                           timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert out.read_bytes() != TFLITE_HEADER + b"old"  # the new model is in place
    with pytest.raises(FileNotFoundError, match="not a finished export"):
        files.read_sidecar(out)  # and no sidecar vouches for it yet, nor the old one
    files.finish_interrupted(out)  # the first thing the next export to it does
    assert files.read_sidecar(out)["format"] == "tflite" and "tag" not in files.read_sidecar(out)
    assert json.loads(files.beside(out, ".verification.json").read_text())["passed"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "u.tflite", "u.tflite.json", "u.tflite.verification.json"]
