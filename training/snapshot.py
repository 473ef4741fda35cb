"""Snapshots of long training runs: a small copy of a run folder that another machine
continues from.

    zoo snapshot save ~/zoo-runs/denoise checkpoints/unet_denoise_photos
    zoo snapshot restore checkpoints/unet_denoise_photos ~/zoo-runs/denoise
    zoo train unet_denoise_photos -o ~/zoo-runs/denoise --resume

A snapshot holds the run's config.json, logs (history.csv, clock.csv, and the curve
of the run it was warm-started from, `zoo train --init-from`), the BackupAndRestore
metadata, the latest weights *without the optimizer's moments* and stored as float16
(a sixth of the backup's size, which keeps a committed snapshot small), and
curve.json: validation metrics against steps and hours of training. A run resumed
from a snapshot continues its learning-rate schedule at the snapshot's step with a
fresh optimizer whose rate ramps up over a few hundred steps
(`training.optimizers.ContinuedSchedule`): restarting Adam's moments at full rate
would undo much of the training.
"""

import csv
import json
import shutil
import zipfile
from pathlib import Path

import h5py

BACKUP_WEIGHTS = Path("backup") / "latest.weights.h5"
BACKUP_METADATA = Path("backup") / "training_metadata.json"
WARM_START_CURVE = Path("logs") / "warm_start_curve.json"
LOG_FILES = (Path("logs") / "history.csv", Path("logs") / "clock.csv", WARM_START_CURVE)


def _read_csv(path):
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def training_curve(run_dir):
    """{"steps_per_epoch", "rows": [{"epoch", "step", "hours", <logged metrics>...}],
    "warm_start": the curve of the run it started from, or None}.

    `hours` is the cumulative duration of the epochs up to that one (logs/clock.csv;
    None where an epoch has no clock entry). Steps and hours count from this run's
    start; the warm-start chain says what came before.
    """
    run_dir = Path(run_dir)
    config = json.loads((run_dir / "config.json").read_text())
    steps = config["recipe"]["training"]["steps_per_epoch"]
    seconds = {int(row["epoch"]): float(row["seconds"])
               for row in _read_csv(run_dir / LOG_FILES[1])}
    rows, total, timed = [], 0.0, True
    for row in _read_csv(run_dir / LOG_FILES[0]):
        epoch = int(row.pop("epoch"))
        timed = timed and epoch in seconds
        total += seconds.get(epoch, 0.0)
        rows.append({"epoch": epoch, "step": (epoch + 1) * steps,
                     "hours": round(total / 3600, 4) if timed else None,
                     **{k: float(v) for k, v in row.items() if v not in ("", None)}})
    warm_start = run_dir / WARM_START_CURVE
    return {"run": run_dir.name, "recipe": config["recipe"].get("name"),
            "steps_per_epoch": steps, "rows": rows,
            "warm_start": json.loads(warm_start.read_text()) if warm_start.is_file() else None}


def chain_segments(curve):
    """[(run name, rows)] from the first run of `curve`'s warm-start chain to its own,
    each row's `hours` counted from the start of the chain."""
    chain = []
    while curve is not None:
        chain.insert(0, curve)
        curve = curve.get("warm_start")
    result, offset = [], 0.0
    for part in chain:
        rows = [{**row, "hours": None if row.get("hours") is None else row["hours"] + offset}
                for row in part["rows"]]
        result.append((part["run"], rows))
        offset = next((r["hours"] for r in reversed(rows) if r.get("hours")), offset)
    return result


def chain_totals(curve):
    """(steps, hours) of training over `curve`'s whole warm-start chain."""
    segments = chain_segments(curve)
    steps = sum(rows[-1]["step"] for _, rows in segments if rows)
    hours = next((r["hours"] for _, rows in reversed(segments) for r in reversed(rows)
                  if r.get("hours")), 0.0)
    return steps, hours


def doubling_gain(rows, metric):
    """The metric's change between half the rows' hours and their end (None if fewer than
    4 timed rows): whether doubling the training time still paid."""
    import numpy as np

    timed = [(r["hours"], r[metric]) for r in rows if r.get("hours") and metric in r]
    if len(timed) < 4:
        return None
    hours, values = np.array(timed).T
    half = np.searchsorted(hours, hours[-1] / 2)
    return float(values[-1] - values[min(half, len(values) - 1)])


def curve_sidecar(weights_file):
    """Where the training curve behind a .keras file made from other weights (by
    `training.prune`) is kept: beside it, NAME.curve.json."""
    return Path(weights_file).with_suffix(".curve.json")


def source_curve(path):
    """The curve of the run folder or snapshot `path` (a warm start's source); for a
    preset's weights file, the training curve in that preset's metadata.json (the chain
    the weights came from); for a .keras file, its `curve_sidecar`; None for any other
    weights file or a folder without logs."""
    path = Path(path)
    preset_metadata = path.parent / "metadata.json"
    if path.is_file() and preset_metadata.is_file():
        return json.loads(preset_metadata.read_text()).get("training_curve")
    if path.is_file() and curve_sidecar(path).is_file():
        return json.loads(curve_sidecar(path).read_text())
    if (path / "curve.json").is_file():
        return json.loads((path / "curve.json").read_text())
    if (path / "config.json").is_file() and (path / LOG_FILES[0]).is_file():
        return training_curve(path)
    return None


def compact_weights(source, dest):
    """Copy a .weights.h5 file without its optimizer state, float32 arrays as float16
    (Keras loads them back into float32 variables; the rounding is 5e-4 relative)."""
    import numpy as np

    with h5py.File(source, "r") as weights, h5py.File(dest, "w") as target:
        def copy(name, item):
            if name.split("/")[0] == "optimizer":
                return
            if isinstance(item, h5py.Dataset):
                data = item[()]
                target.create_dataset(name, data=data.astype(np.float16)
                                      if data.dtype == np.float32 else data)
            else:
                target.require_group(name).attrs.update(dict(item.attrs))

        weights.visititems(copy)
        target.attrs.update(dict(weights.attrs))


def _staging(dest):
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _swap_in(staging, dest):
    old = dest.with_name(dest.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    shutil.rmtree(old, ignore_errors=True)


def save_snapshot(run_dir, dest):
    """Write the snapshot of `run_dir` to `dest` (replaced as a whole: built beside it,
    then swapped in). Returns the curve dict."""
    run_dir, dest = Path(run_dir), Path(dest)
    finished = run_dir / "model.keras"
    if not (run_dir / BACKUP_WEIGHTS).is_file() and not finished.is_file():
        raise FileNotFoundError(f"{run_dir} has no {BACKUP_WEIGHTS} (written at the end of a "
                                "run's first epoch) and no model.keras")
    staging = _staging(dest)
    for name in (Path("config.json"), BACKUP_METADATA, *LOG_FILES):
        if (run_dir / name).is_file():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run_dir / name, staging / name)
    (staging / "backup").mkdir(exist_ok=True)
    if (run_dir / BACKUP_WEIGHTS).is_file():
        compact_weights(run_dir / BACKUP_WEIGHTS, staging / BACKUP_WEIGHTS)
    else:  # a finished run: its backup is gone, model.keras holds the same weights
        with zipfile.ZipFile(finished) as archive:
            (staging / "backup" / "full.weights.h5").write_bytes(
                archive.read("model.weights.h5"))
        compact_weights(staging / "backup" / "full.weights.h5", staging / BACKUP_WEIGHTS)
        (staging / "backup" / "full.weights.h5").unlink()
        epochs = _logged_epochs(run_dir)
        (staging / BACKUP_METADATA).write_text(json.dumps({"epoch": epochs, "batch": 0}))
    curve = {**training_curve(staging), "run": dest.name}
    (staging / "curve.json").write_text(json.dumps(curve, indent=1) + "\n")
    _swap_in(staging, dest)
    return curve


def _logged_epochs(folder):
    return len(_read_csv(Path(folder) / LOG_FILES[0]))


def restore_snapshot(snapshot, run_dir):
    """Copy a snapshot into `run_dir` so `zoo train ... --resume` continues from it.

    Refuses when `run_dir` already logged more epochs than the snapshot (its own
    backup is newer)."""
    snapshot, run_dir = Path(snapshot), Path(run_dir)
    if not (snapshot / BACKUP_WEIGHTS).is_file():
        raise FileNotFoundError(f"{snapshot} is not a run snapshot (no {BACKUP_WEIGHTS})")
    if _logged_epochs(run_dir) > _logged_epochs(snapshot):
        raise FileExistsError(f"{run_dir} holds {_logged_epochs(run_dir)} epochs, more than "
                              f"the snapshot's {_logged_epochs(snapshot)}; resume it directly")
    for name in (Path("config.json"), BACKUP_METADATA, BACKUP_WEIGHTS, *LOG_FILES):
        if (snapshot / name).is_file():
            (run_dir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(snapshot / name, run_dir / name)
    return run_dir
