"""Validation curves of the long training runs, against hours of training.

    python benchmarks/training_curves.py            # every snapshot under checkpoints/

Reads each `checkpoints/NAME/curve.json` (written by `zoo snapshot save`), prints the
last rows and the gain over the last doubling of training time (whether more training
still pays), and draws `benchmarks/results/training_curves.png` and a JSON summary.
A run warm-started from another (`zoo train --init-from`) carries that run's curve
(`warm_start`): hours count from the start of the chain, each segment drawn in turn.
"""

import argparse
import json
from pathlib import Path

from training.snapshot import chain_segments, doubling_gain

ROOT = Path(__file__).resolve().parent.parent
METRIC_BY_TASK = ("val_hole_psnr", "val_psnr")  # the first a run logs is its headline


def headline_metric(rows):
    for metric in METRIC_BY_TASK:
        if rows and metric in rows[-1]:
            return metric
    return None


def summarize(curve):
    rows = [row for _, part in chain_segments(curve) for row in part]
    metric = headline_metric(curve["rows"])
    rows = [row for row in rows if metric in row]
    last = rows[-1] if rows else {}
    return {"run": curve["run"], "recipe": curve["recipe"], "metric": metric,
            "warm_start_chain": [name for name, _ in chain_segments(curve)][:-1],
            "epochs": len(curve["rows"]), "steps": curve["rows"][-1]["step"] if curve["rows"]
            else None, "hours": last.get("hours"),
            "last": last.get(metric), "best": max((r[metric] for r in rows if metric in r),
                                                  default=None),
            "gain_over_last_doubling_db": doubling_gain(rows, metric)}


def plot(curves, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(11, 5))
    for curve in curves:
        metric = headline_metric(curve["rows"])
        color = None
        for number, (name, rows) in enumerate(chain_segments(curve)):
            points = [(r["hours"], r[metric]) for r in rows if r.get("hours") and metric in r]
            if points:
                label = (f"{curve['run']} ({metric})" if number == 0
                         else f"  then {name} (warm start)")
                line, = axis.plot(*zip(*points, strict=True), marker=".", color=color,
                                  linestyle="-" if number == len(chain_segments(curve)) - 1
                                  else ":", label=label)
                color = line.get_color()
    axis.set_xlabel("hours of training, warm-start chains end to end (2 CPU cores, shared)")
    axis.set_ylabel("validation PSNR (dB)")
    axis.grid(alpha=0.3)
    # beside the plot: the warm-start chains' entries would cover the curves
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", default=str(ROOT / "checkpoints"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "training_curves"))
    args = parser.parse_args()
    curves = [json.loads(p.read_text()) for p in sorted(Path(args.snapshots).glob("*/curve.json"))]
    if not curves:
        raise SystemExit(f"no curve.json under {args.snapshots}: run `zoo snapshot save` first")
    summary = [summarize(c) for c in curves]
    print(f"{'run':26} {'metric':14} {'epochs':>6} {'steps':>7} {'hours':>6} {'last':>6} "
          f"{'best':>6} {'gain/doubling':>13}")
    for s in summary:
        gain = s["gain_over_last_doubling_db"]
        print(f"{s['run']:26} {s['metric']:14} {s['epochs']:>6} {s['steps']:>7} "
              f"{s['hours'] or 0:>6.2f} {s['last']:>6.2f} {s['best']:>6.2f} "
              f"{'-' if gain is None else f'{gain:+.2f} dB':>13}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(
        {"command": "python benchmarks/training_curves.py", "runs": summary}, indent=1) + "\n")
    plot(curves, out.with_suffix(".png"))


if __name__ == "__main__":
    main()
