"""Model cards (zoo/presets/NAME/README.md) and the headline in each preset's
metadata.json, written from the quality benchmark's results
(`python benchmarks/quality.py --write-cards`), so every number in a card is one the
benchmark printed."""

import json
import shutil
from pathlib import Path

from training import result_tables
from zoo.presets import PRESETS_DIR, metadata
from zoo_lite.image_io import replaced_on_success, write_json

# Inpainting: masked PSNR above the best classical peer, per stroke width and on the box,
# by architecture: (target, aim) in dB. The autoencoder family must be at least level.
INPAINT_MARGINS_DB = {"unet": (1.0, 2.0), "conv_autoencoder_inpainter": (0.0, None)}
DENOISE_TIME_RATIO = 1 / 50  # denoising: at most this fraction of BM3D's time (Keras)
INT8_DENOISE_TIME_RATIO = 1 / 200  # and for the int8 TFLite file
TOLD_TOLERANCE_DB = 0.05     # told sigma "at least as good as blind" within this
INT8_TOLERANCE_DB = 0.3      # an int8 file's test scores within this of its Keras model's
SEGMENT_TARGET = 0.95
REPAIR_TASKS = ("inpaint", "denoise")  # scored on the photos corpus' test crops

# What would close a missed target, per task (decided from how each was trained:
# minutes on a 2-core CPU, CPU-sized widths, few training photos).
CLOSING = {
    "inpaint": "train on many more photos (the `photos` corpus' train split, `zoo data "
               "fetch photos`; this preset saw the `{dataset}` train split) and for longer "
               "({steps:,} steps of {crop} px crops on a CPU here), on a GPU; larger crops "
               "(128-256 px) teach the model holes as large as the box",
    "denoise": "train on many more photos (the `photos` corpus' train split, `zoo data "
               "fetch photos`; this preset saw the `{dataset}` train split) and for longer "
               "({steps:,} steps of {crop} px crops on a CPU here)",
    "photos": "train longer: {steps:,} steps of {crop} px crops so far ({hours:.1f} h on 2 CPU "
              "cores, every run of its warm-start chain; validation PSNR {gain}); on a GPU "
              "from the crop pack (`zoo data pack photos`, "
              "docs/training.md) hours here are minutes there",
    "segment": "train longer (this preset saw {steps:,} steps) and on scenes of several "
               "sizes, so that it labels shapes at any scale",
    "generate": "train longer: this preset saw {steps:,} steps on a CPU; the shipped recipe "
                "runs 3,000",
    "latency": "latency: fewer float32 layers, a cheaper fill, fewer filters. An inpainter's "
               "in-graph fill takes about 29 ms of its int8 file at 256 x 256 on one thread "
               "(20 ms with `taper = 2`, `python benchmarks/fill_export_time.py`), and each "
               "decoder level kept in float32 adds to the network's int8 time "
               "(`python benchmarks/int8_float_layers.py --preset PRESET` scores and times "
               "the lists on validation crops); halving every level's filters took an "
               "int8 inpainting U-Net to 0.58x the time (16-32-64-128 against "
               "32-64-128-256, `training/recipes/unet_inpaint_photos.toml`), retrained "
               "after narrowing",
    "int8_quality": "int8 fidelity: keep in float32 the layers where the int8 error is made "
                    "(metadata.json's `int8_float_layers`, chosen on validation crops with "
                    "`python benchmarks/int8_float_layers.py --preset PRESET --variant "
                    "LAYER,LAYER`; docs/benchmarks.md, \"int8 against Keras\"), or fine-tune "
                    "with the int8 rounding simulated in training",
    "big_photo": "big photos: `zoo predict` fills them from the preset's int8 TFLite tiles "
                 "without importing TensorFlow (`python -m export.preset_tiles PRESET` "
                 "writes them); what is left is reading and writing the photo's PNGs and "
                 "the tiles that hold a hole (docs/benchmarks.md, \"A 12-megapixel photo "
                 "with strokes\")",
}


def _best_peer(table, peers, group, key="psnr"):
    name = max(peers, key=lambda p: table[p][group][key])
    return name, table[name][group][key]


def inpainting_verdicts(results, name):
    table = results["inpainting"]
    peers = results["repair_data"]["peers"]["inpainting"]
    target, aim = INPAINT_MARGINS_DB[metadata(name)["architecture"]]
    goal = "at least level" if not target else f"+{target:g} dB" + (
        f" (aim +{aim:g})" if aim is not None else "")
    lines = []
    # the target holds for each stroke width where they were scored apart
    for group in (result_tables.stroke_widths(results) or ["strokes"]) + ["box"]:
        peer, peer_psnr = _best_peer(table, peers, group)
        mine = table[name][group]["psnr"]
        gap = mine - peer_psnr
        verdict = "met" if gap >= target else f"missed by {target - gap:.2f} dB"
        if aim is not None and gap >= target:
            verdict += "; aim " + ("met" if gap >= aim else f"missed by {aim - gap:.2f} dB")
        lines.append(f"- {group}: {mine:.2f} dB masked PSNR vs {peer_psnr:.2f} dB for the best "
                     f"classical peer ({peer}): {gap:+.2f} dB. Target {goal}: **{verdict}**.")
    return lines


def _denoise_lines(results, name):
    """Against BM3D on BM3D's own crops (the same crops and noise for both), at every
    sigma; the time targets for the Keras model and the int8 file; blind against told."""
    by_method = results["denoising_bm3d_subset"]
    count = results["repair_data"]["bm3d_subset"]["count"]
    lines = []
    for group in by_method[name]:
        mine, bm3d = by_method[name][group]["psnr"], by_method["BM3D"][group]["psnr"]
        gap = mine - bm3d
        verdict = "met" if gap >= 0 else f"missed by {-gap:.2f} dB"
        lines.append(f"- {group.replace('-', ' ')}, on the {count} crops BM3D ran on: "
                     f"{mine:.2f} dB vs BM3D {bm3d:.2f} dB ({gap:+.2f} dB). Target at or "
                     f"above BM3D: **{verdict}**.")
    mine, bm3d = by_method[name]["sigma-25"], by_method["BM3D"]["sigma-25"]
    keras_ratio = mine["seconds"] / bm3d["seconds"]
    tflite = results["tflite_int8"][name]["seconds"] / bm3d["seconds"]
    size = results["repair_data"]["crop_size"]
    lines += [f"- time per {size} x {size} crop, one thread, sigma 25: Keras "
              f"{mine['seconds']:.3f} s "
              f"({keras_ratio:.4f}x BM3D's {bm3d['seconds']:.2f} s). Target <= 1/50 = 0.02x: "
              f"**{'met' if keras_ratio <= DENOISE_TIME_RATIO else 'missed'}**.",
              f"- int8 TFLite {results['tflite_int8'][name]['seconds'] * 1000:.1f} ms "
              f"({tflite:.4f}x BM3D's time). Target <= 1/200 = 0.005x: "
              f"**{'met' if tflite <= INT8_DENOISE_TIME_RATIO else 'missed'}**."]
    told = results["denoising"].get(f"{name} (sigma given)")
    if told is not None:
        blind = results["denoising"][name]
        gaps = {g: told[g]["psnr"] - blind[g]["psnr"] for g in blind}
        worst = min(gaps.values())
        verdict = ("met" if worst >= -TOLD_TOLERANCE_DB
                   else f"missed by {-worst - TOLD_TOLERANCE_DB:.2f} dB")
        lines.append("- told the true sigma against blind, every crop: " + ", ".join(
            f"{g.replace('-', ' ')} {v:+.2f} dB" for g, v in gaps.items())
            + f". Target at least as good (within {TOLD_TOLERANCE_DB} dB, the noise of "
            f"one benchmark run): **{verdict}**.")
    return lines


def segmentation_verdicts(results, name):
    own = results["segmentation"][name]
    iou = own["mean_iou"]
    verdict = "met" if iou >= SEGMENT_TARGET else f"missed by {SEGMENT_TARGET - iou:.3f}"
    lines = [f"- mean IoU {iou:.3f} on held-out {own['scene_size']} x {own['scene_size']} "
             f"scenes (the size it was trained on). Target >= {SEGMENT_TARGET}: **{verdict}**."]
    for method, v in results["segmentation"].items():
        if method.startswith(name + " (") and v["scene_size"] != own["scene_size"]:
            lines.append(f"- on {v['scene_size']} x {v['scene_size']} scenes, whose shapes are "
                         f"{v['scene_size'] // own['scene_size']}x larger than any it saw: "
                         f"mean IoU {v['mean_iou']:.3f}. Run it on scenes at its own scale.")
    return lines


def generation_verdicts(results, name):
    models = results["generation"][name]["models"]
    mine, plain = models["zoo preset"]["fid"], models["keras.io reference"]["fid"]
    verdict = "met" if mine < plain else f"missed ({mine:.2f} vs {plain:.2f})"
    return [f"- FID {mine:.2f} vs {plain:.2f} for the plain keras.io DCGAN trained for the same "
            f"steps. Target better FID than the reference: **{verdict}**."]


def latency_verdict(results, name):
    """The int8 file against biharmonic: an inpainter's target (a denoiser's int8 time is
    judged against BM3D with its other targets)."""
    if name not in results.get("tflite_int8", {}) or name not in results["inpainting"]:
        return []
    seconds = results["tflite_int8"][name]["seconds"]
    biharmonic = results["inpainting"]["scikit-image biharmonic"]["strokes"]["seconds"]
    verdict = "met" if seconds < biharmonic else "missed"
    return [f"- int8 .tflite, one thread, 256 x 256: {seconds * 1000:.1f} ms vs "
            f"{biharmonic * 1000:.0f} ms for `inpaint_biharmonic` (one thread, median over the "
            f"stroke masks of 256 x 256 crops). Target faster: **{verdict}**."]


def int8_quality_verdict(results, name):
    """The int8 file's scores on the test cases against the Keras model's: within
    INT8_TOLERANCE_DB in every group (an inpainter's stroke widths and box; a denoiser at
    sigma 25, told the true sigma where it takes one). Empty where the run did not score
    the file."""
    scored = results.get("tflite_int8", {}).get(name, {}).get("test_psnr")
    if not scored:
        return []
    denoising = results["denoising"]
    table = (results["inpainting"].get(name) or denoising.get(f"{name} (sigma given)")
             or denoising[name])  # a denoiser without a strength input runs blind
    gaps = {group: psnr - table[group]["psnr"] for group, psnr in scored.items()}
    worst = min(gaps.values())
    verdict = "met" if worst >= -INT8_TOLERANCE_DB else \
        f"missed by {-worst - INT8_TOLERANCE_DB:.2f} dB"
    return ["- int8 .tflite on the same test cases against the Keras model: " + ", ".join(
        f"{group.replace('-', ' ')} {scored[group]:.2f} dB ({gap:+.2f})"
        for group, gap in gaps.items())
        + f". Target within {INT8_TOLERANCE_DB} dB: **{verdict}**."]


BIG_PHOTO_RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / \
    "big_photo_inpaint"


def big_photo_verdict(name, path=None):
    """`zoo predict` on a 12 MP photo with strokes against biharmonic on the same photo and
    mask (`benchmarks/big_photo_inpaint.py`), where that benchmark last ran this preset.
    The verdict compares like with like: the command against biharmonic's whole job (its
    imports, reading the photo and mask PNGs, the fill, writing the result PNG); the
    call alone is reported beside it. `path`: the result file (default: the preset's in
    BIG_PHOTO_RESULTS)."""
    path = path or BIG_PHOTO_RESULTS / f"{name}.json"
    if not path.is_file():
        return []
    result = json.loads(path.read_text())
    rows = result["results"]
    command = rows.get(f"zoo predict {name}")
    keras_command = rows.get(f"zoo predict {name} --runtime keras")
    call = rows.get(f"apply_to_image {name}")
    job, biharmonic = (rows.get("scikit-image biharmonic, whole job"),
                       rows.get("scikit-image biharmonic"))
    if not (command and keras_command and call and job and biharmonic):
        return []
    width, height = result["size"]
    verdict = "met" if command["seconds"] < job["seconds"] else "missed"
    quality = (f" Masked PSNR on this photo (a test photo stretched to 12 MP, smoother "
               f"than the crops above): {command['hole_psnr']:.2f} dB against biharmonic's "
               f"{job['hole_psnr']:.2f}." if "hole_psnr" in command and "hole_psnr" in job
               else "")
    return [f"- A {width * height / 1e6:.0f} MP photo ({width} x {height}) with "
            f"{result['hole_fraction'] * 100:.2f} % of its pixels in strokes, one thread "
            f"(`{result['command']}`): `zoo predict` {command['seconds']:.1f} s from its "
            f"import to the written PNG, from the preset's int8 TFLite tiles "
            f"({result['auto_vs_keras_hole_psnr']:.1f} dB from the Keras result in the "
            f"holes; `--runtime keras` {keras_command['seconds']:.1f} s, `apply_to_image` "
            f"alone {call['seconds']:.1f} s), peak memory {command['peak_mib']:,.0f} MiB, "
            f"vs {job['seconds']:.1f} s for scikit-image biharmonic doing the same job "
            f"(imports, reading both PNGs, the fill, writing the PNG; the call alone "
            f"{biharmonic['seconds']:.1f} s). Target faster: **{verdict}**.{quality}"]


VERDICTS = {"inpaint": inpainting_verdicts, "denoise": _denoise_lines,
            "segment": segmentation_verdicts, "generate": generation_verdicts}
TABLES = {"inpaint": result_tables.inpainting_table, "denoise": result_tables.denoising_table,
          "segment": result_tables.segmentation_table, "generate": result_tables.generation_table}
FIGURE = {"inpaint": "inpaint_strokes", "denoise": "denoise_sigma-25",
          "segment": "segmentation", "generate": "generated_{name}"}
USAGE = {
    "inpaint": "zoo predict {name} photo.png --mask mask.png -o filled.png   # white = hole",
    "denoise": "zoo predict {name} noisy.png -o clean.png",
    "segment": "zoo predict {name} scene.png -o labels.png",
    "generate": "zoo generate {name} -n 16 --seed 0 -o grid.png",
}


def headline(results, meta):
    name, task = meta["name"], meta["task"]
    if task == "inpaint":
        return f"strokes masked PSNR {results['inpainting'][name]['strokes']['psnr']:.2f} dB"
    if task == "denoise":
        return f"PSNR {results['denoising'][name]['sigma-25']['psnr']:.2f} dB at sigma 25"
    if task == "segment":
        own = results["segmentation"][name]
        return f"mean IoU {own['mean_iou']:.3f} ({own['scene_size']} px scenes)"
    return f"FID {results['generation'][name]['models']['zoo preset']['fid']:.2f}"


def card_text(results, meta, figure_name):
    name, task = meta["name"], meta["task"]
    config = json.loads((PRESETS_DIR / name / "config.json").read_text())
    hardware = meta["hardware"]
    lines = [f"# {name}", "", meta["description"], "",
             "| | |", "|---|---|",
             f"| task | {task} |",
             f"| architecture | `{config['architecture']}` {json.dumps(config['config'])} |",
             f"| parameters | {meta['parameters']:,} ({meta['weights_bytes'] / 1e6:.1f} MB "
             "weights) |",
             f"| trained on | `{meta['dataset']}` train split, {meta['training_steps']:,} steps "
             f"of batch {meta['batch_size']} at {meta['crop_size'][0]} x "
             f"{meta['crop_size'][1]} ([recipe.toml](recipe.toml)){_chain_text(meta)} |",
             f"| hardware | {hardware['backend']} backend, {hardware['cpu_count']} CPU cores, "
             f"no GPU, {meta['train_seconds'] / 60:.0f} min |",
             f"| validation metrics | {_metrics(meta['validation_metrics'])} |",
             f"| Keras | {meta['keras_version']} |",
             f"| weights sha256 | `{meta['sha256']}` |", "",
             "## Use", "", "```python", "import zoo", f'model = zoo.load("{name}")', "```", "",
             "```bash", USAGE[task].format(name=name), "```", "",
             "## Quality on held-out data", "",
             f"From `{results['command']}` ({results['machine']['cpu_count']} CPU cores, "
             "timings on one thread); the evaluation images were never trained on or used to "
             "choose anything.", "",
             *([result_tables.repair_data_text(results), ""] if task in REPAIR_TASKS else []),
             TABLES[task](results), "", "Targets:", ""]
    # Each target's verdict lines, with what would close it if one of them is missed.
    verdicts = [(VERDICTS[task](results, name), _closing_text(task, meta)),
                (latency_verdict(results, name), CLOSING["latency"]),
                (int8_quality_verdict(results, name), CLOSING["int8_quality"]),
                (big_photo_verdict(name), CLOSING["big_photo"])]
    lines += [*(line for verdict, _ in verdicts for line in verdict), ""]
    if figure_name:
        lines += ["## Before / after", "", f"![before and after]({figure_name})", ""]
    closing = [text for verdict, text in verdicts if any("missed" in line for line in verdict)]
    if closing:
        lines += ["## What would close the gap", "",
                  *[f"- {text[0].upper() + text[1:]}." for text in closing], ""]
    return "\n".join(lines)


def _chain_text(meta):
    runs = (meta.get("warm_start_chain") or {}).get("runs", [])
    if len(runs) < 2:
        return ""
    return (f", over {len(runs)} runs each warm-started from the one before "
            f"({' -> '.join(runs)}; curve in metadata.json)")


def _closing_text(task, meta):
    if meta["dataset"] == "photos" and task in REPAIR_TASKS and meta.get("training_curve"):
        from training.snapshot import chain_segments, doubling_gain

        rows = [row for _, part in chain_segments(meta["training_curve"]) for row in part]
        metric = "val_hole_psnr" if task == "inpaint" else "val_psnr"
        gain = doubling_gain(rows, metric)
        return CLOSING["photos"].format(
            steps=meta["training_steps"], crop=meta["crop_size"][0],
            hours=meta["train_seconds"] / 3600,
            gain="no curve" if gain is None else
            f"{gain:+.2f} dB over the last doubling of training time, `training_curve` in "
            "metadata.json")
    return CLOSING[task].format(steps=meta["training_steps"], crop=meta["crop_size"][0],
                                dataset=meta["dataset"])


def _metrics(metrics):
    return ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()) or "-"


def write_all(results, figures):
    """Write each preset's README.md (and copy its figure beside it); record the headline
    metric in metadata.json. Returns the paths written."""
    written = []
    for meta in (metadata(n) for n in sorted(p.name for p in PRESETS_DIR.iterdir()
                                              if (p / "metadata.json").is_file())):
        folder = PRESETS_DIR / meta["name"]
        key = FIGURE[meta["task"]].format(name=meta["name"])
        figure_name = None
        if key in figures:
            figure_name = "before_after.png" if meta["task"] != "generate" else "samples.png"
            with replaced_on_success(folder / figure_name, ".png.partial") as tmp:
                shutil.copyfile(figures[key], tmp)
        text = card_text(results, meta, figure_name)
        with replaced_on_success(folder / "README.md", ".md.partial") as tmp:
            Path(tmp).write_text(text)
        meta["headline"] = headline(results, meta)
        write_json(meta, folder / "metadata.json")
        written.append(folder / "README.md")
    return written


def _peer_summary(results, meta):
    """The best classical peer's number on the preset's headline test, as text."""
    name, task = meta["name"], meta["task"]
    if task == "inpaint":
        table = results["inpainting"]
        peer, value = _best_peer(table, results["repair_data"]["peers"]["inpainting"], "strokes")
        return f"{value:.2f} dB ({peer})"
    if task == "denoise":
        subset = results["denoising_bm3d_subset"]
        count = results["repair_data"]["bm3d_subset"]["count"]
        return (f"{subset['BM3D']['sigma-25']['psnr']:.2f} dB (BM3D, on {count} of the crops; "
                f"the preset {subset[name]['sigma-25']['psnr']:.2f} dB on those)")
    if task == "segment":
        peer = next(m for m in results["segmentation"] if m != name)
        return f"{results['segmentation'][peer]['mean_iou']:.3f} ({peer})"
    return (f"FID {results['generation'][name]['models']['keras.io reference']['fid']:.2f} "
            "(keras.io DCGAN, same steps)")


def readme_table(results):
    """The README's preset table: one row per preset, headline metric next to the peer's."""
    lines = ["| preset | task | parameters | weights MB | held-out result | best peer | "
             "card |", "|---|---|---:|---:|---|---|---|"]
    for name in sorted(p.name for p in PRESETS_DIR.iterdir() if (p / "metadata.json").is_file()):
        meta = metadata(name)
        lines.append(f"| `{name}` | {meta['task']} | {meta['parameters']:,} | "
                     f"{meta['weights_bytes'] / 1e6:.1f} | {headline(results, meta)} | "
                     f"{_peer_summary(results, meta)} | [card](zoo/presets/{name}/README.md) |")
    return "\n".join(lines)


def targets_summary(results):
    """The list of targets in docs/benchmarks.md: one verdict line per preset and target, in
    the cards' words, each prefixed with the preset's name."""
    lines = []
    for name in sorted(p.name for p in PRESETS_DIR.iterdir() if (p / "metadata.json").is_file()):
        task = metadata(name)["task"]
        verdicts = VERDICTS[task](results, name) + latency_verdict(results, name)
        lines += [f"- `{name}`, {line[2:]}" for line in verdicts if "**" in line]
    return "\n".join(lines)

