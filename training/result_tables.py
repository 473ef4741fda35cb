"""Markdown tables of the quality benchmark's results (`benchmarks/quality.py`), as the
docs/benchmarks.md and the model cards show them. `results` is the benchmark's JSON dict."""

import numpy as np


def _f(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


def stroke_widths(results):
    """The stroke-width groups ("strokes-thin", ...) the inpainting results hold, in order
    (none in results measured before they were scored apart)."""
    first = next(iter(results["inpainting"].values()))
    return [group for group in first if group.startswith("strokes-")]


def inpainting_table(results):
    widths = stroke_widths(results)
    width_header = "".join(f"{w.removeprefix('strokes-')} PSNR | " for w in widths)
    lines = [f"| method | strokes PSNR (dB) | strokes SSIM | {width_header}box PSNR (dB) | "
             "box SSIM | s / image (strokes) |", "|---|---|---|" + "---|" * len(widths)
             + "---|---|---|"]
    for method, groups in results["inpainting"].items():
        s, b = groups["strokes"], groups["box"]
        width_cells = "".join(f"{_f(groups[w]['psnr'])} | " for w in widths)
        lines.append(f"| {method} | {_f(s['psnr'])} | {_f(s['ssim'], 3)} | {width_cells}"
                     f"{_f(b['psnr'])} | {_f(b['ssim'], 3)} | {_f(s['seconds'], 3)} |")
    return "\n".join(lines)


def _denoising_rows(by_method, crops):
    rows = []
    for method, by_sigma in by_method.items():
        cells = " | ".join(f"{_f(v['psnr'])} / {_f(v['ssim'], 3)}" for v in by_sigma.values())
        seconds = np.median([v["seconds"] for v in by_sigma.values()])
        rows.append(f"| {method} | {crops} | {cells} | {_f(seconds, 3)} |")
    return rows


def denoising_table(results):
    """Every method but BM3D on every crop, then every method on BM3D's subset."""
    every, subset = results["denoising"], results["denoising_bm3d_subset"]
    data = results["repair_data"]
    groups = list(next(iter(every.values())))
    header = " | ".join(f"{g} PSNR / SSIM" for g in groups)
    lines = [f"| method | crops | {header} | s / image |", "|---|---|" + "---|" * (len(groups) + 1)]
    lines += _denoising_rows(every, f"all {data['crops']}")
    lines += _denoising_rows(subset, f"BM3D subset ({data['bm3d_subset']['count']})")
    return "\n".join(lines)


def repair_data_text(results):
    """What the inpainting and denoising tables were measured on, in one paragraph."""
    d = results["repair_data"]
    subset, threads = d["bm3d_subset"], d.get("threads", {})
    low, high = d["stroke_area"]
    one_thread = ("one thread: TensorFlow intra-op {} / inter-op {}, OpenCV {}, OMP / MKL / "
                  "OpenBLAS 1".format(threads.get("tensorflow_intra_op", "-"),
                                      threads.get("tensorflow_inter_op", "-"),
                                      threads.get("opencv", "-")))
    kinds = [k.removeprefix("strokes-") for k in d["mask_kinds"] if k.startswith("strokes-")]
    return (f"Inpainting and denoising: {d['crops']} crops of {d['crop_size']} x "
            f"{d['crop_size']} from the {d['photos']} photos of the `{d['dataset']}` "
            f"**{d['split']}** split ({d['crops_per_photo']} per photo, each fully inside it, "
            f"positions from seed {d['crop_seed']}; crops sha256 "
            f"`{d['crops_sha256'][:16]}`). Masks: strokes {', '.join(kinds)} "
            f"({d['masks_per_kind']} per crop and width, hiding {low:.0%}-{high:.0%} of the "
            f"crop, seed {d['mask_seed']}) and a box, the {d['box']}. Gaussian noise sigma "
            f"{', '.join(str(s) for s in d['sigmas'])} (8-bit units, seed {d['noise_seed']}). "
            f"BM3D runs on crops {', '.join(str(c) for c in subset['crops'])} "
            f"({subset['rule']}, {subset['count']} crops); the other denoisers are "
            f"reported on every crop and again on that subset. Times: {d['timing']} "
            f"({one_thread}).")


def segmentation_table(results):
    lines = ["| method | scene size | mean IoU | s / image |", "|---|---|---|---|"]
    for method, v in results["segmentation"].items():
        size = v.get("scene_size", "-")
        lines.append(f"| {method} | {size} x {size} | {_f(v['mean_iou'], 3)} | "
                     f"{_f(v['seconds'], 3)} |")
    return "\n".join(lines)


def latency_table(results):
    lines = ["| preset | int8 .tflite, 1 thread (ms) | file (MB) | PSNR vs Keras (dB) | "
             "in the holes (dB) | verification |", "|---|---|---|---|---|---|"]
    for name, v in results["tflite_int8"].items():
        verdict = "pass" if v.get("verification_passed", True) else "**FAIL**"
        lines.append(f"| {name} | {v['seconds'] * 1000:.1f} | {v['file_bytes'] / 1e6:.2f} | "
                     f"{_f(v['psnr_vs_keras_db'], 1)} | "
                     f"{_f(v.get('hole_psnr_vs_keras_db'), 1)} | {verdict} |")
    return "\n".join(lines)


def generation_table(results):
    lines = ["| preset | model | FID | KID x 1000 | SWD x 1000 | NN distance ratio | "
             "near-copies |", "|---|---|---|---|---|---|---|"]
    for preset, models in results["generation"].items():
        for model, v in models.get("models", {}).items():
            lines.append(f"| {preset} | {model} | {_f(v['fid'])} | {_f(v['kid'] * 1000)} | "
                         f"{_f(v['swd'] * 1000)} | {_f(v['nn_ratio'])} | {v['near_copies']} |")
    return "\n".join(lines)


def tables(results):
    """All tables as markdown, in the order of docs/benchmarks.md."""
    data = results.get("repair_data", {})
    photos = (f"{data.get('dataset')} {data.get('split')} split, {data.get('crops')} crops "
              f"{data.get('crop_size')} x {data.get('crop_size')} of {data.get('photos')} photos")
    parts = [(f"Inpainting (masked PSNR / SSIM; {photos})", inpainting_table),
             (f"Denoising (PSNR / SSIM; {photos})", denoising_table),
             ("Segmentation (held-out shapes scenes)", segmentation_table),
             ("int8 TFLite latency", latency_table),
             ("Generation", generation_table)]
    out = []
    if data:
        out.append("\n" + repair_data_text(results))
    for title, table in parts:
        try:
            out.append(f"\n### {title}\n\n{table(results)}")
        except (KeyError, StopIteration):
            continue
    return "\n".join(out)
