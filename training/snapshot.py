"""Snapshots of long training runs: a small copy of a run folder that another machine
continues from.

    zoo snapshot save ~/zoo-runs/denoise checkpoints/unet_denoise_photos
    zoo snapshot restore checkpoints/unet_denoise_photos ~/zoo-runs/denoise
    zoo train unet_denoise_photos -o ~/zoo-runs/denoise --resume

A snapshot holds the run's config.json, logs (history.csv, clock.csv), the
BackupAndRestore metadata, the latest weights *without the optimizer's moments*
(a third of the backup's size, which keeps a committed snapshot small), and
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
LOG_FILES = (Path("logs") / "history.csv", Path("logs") / "clock.csv")


def _read_csv(path):
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def training_curve(run_dir):
    """{"steps_per_epoch", "rows": [{"epoch", "step", "hours", <logged metrics>...}]}.

    `hours` is the cumulative duration of the epochs up to that one (logs/clock.csv;
    None where an epoch has no clock entry).
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
    return {"run": run_dir.name, "recipe": config["recipe"].get("name"),
            "steps_per_epoch": steps, "rows": rows}


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
        shutil.copyfile(run_dir / BACKUP_WEIGHTS, staging / BACKUP_WEIGHTS)
    else:  # a finished run: its backup is gone, model.keras holds the same weights
        with zipfile.ZipFile(finished) as archive:
            (staging / BACKUP_WEIGHTS).write_bytes(archive.read("model.weights.h5"))
        epochs = _logged_epochs(run_dir)
        (staging / BACKUP_METADATA).write_text(json.dumps({"epoch": epochs, "batch": 0}))
    with h5py.File(staging / BACKUP_WEIGHTS, "a") as weights:
        if "optimizer" in weights:
            del weights["optimizer"]
    # h5py leaves the deleted group's bytes in the file; a copy drops them
    compact = staging / "backup" / "compact.weights.h5"
    with h5py.File(staging / BACKUP_WEIGHTS, "r") as source, h5py.File(compact, "w") as target:
        for key in source:
            source.copy(source[key], target, name=key)
        for key, value in source.attrs.items():
            target.attrs[key] = value
    compact.replace(staging / BACKUP_WEIGHTS)
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
