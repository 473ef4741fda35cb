"""Which layers an int8 .tflite keeps in float32: its quality against Keras, its time.

    python benchmarks/int8_float_layers.py [--preset unet-denoise-photos] [--quick]

Exports a repair preset to int8 TFLite at 256 x 256 three ways and scores each file on
crops of the `photos` VALIDATION split (2 per photo; never the test photos) next to the
Keras model: PSNR at sigma 25, told (a denoiser), or masked PSNR on the quality
benchmark's stroke masks (an inpainter); plus the one-thread time of one crop (median).

- "all int8": every layer quantized (`float_layers=()`);
- "output layers": `export.tflite.float_layer_names` in float32 (the hole fill and the
  output layers after the last convolution), what `zoo export` keeps for every model;
- "output layers + full-resolution decoder level": also the decoder level at full
  resolution and the last convolutions, where the output's precision is made;
- "output layers + the preset's int8_float_layers" (a preset that names some in its
  metadata.json): what `zoo export` keeps;
- `--variant LAYER,LAYER` (repeatable): the output layers plus the named layers.

Every file gets percentile activation ranges (`export.activation_ranges`), as `zoo
export` writes them; the row `zoo export` writes is marked, and repeated with the
calibrated min / max ranges.

`--quick` (the test suite) runs a small untrained denoiser on 64 px centre crops of the
package's natural photos. Prints a table and writes
benchmarks/results/int8_float_layers_PRESET.json.
"""

import argparse
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

import numpy as np  # noqa: E402
from bench_common import load_average, machine_info, warm_median_seconds, write_json  # noqa: E402

SIGMA = 25
LAST_CONVOLUTIONS = ("to_image", "blend_logits")


def full_resolution_level(network):
    """Names of the full-resolution decoder level's layers and the last convolutions."""
    return [layer.name for layer in network.layers
            if layer.name.startswith("decoder0_") or layer.name in LAST_CONVOLUTIONS]


def variants(model, extra=()):
    """{label: float_layers for `export.tflite.convert_model`}; `extra`: more variants,
    "LAYER,LAYER" each, the output layers plus those layers."""
    from export.signatures import serving_model
    from export.tflite import float_layer_names

    network = serving_model(model)
    default = float_layer_names(network)
    chosen = {"all int8": [], "output layers": default,
              "output layers + full-resolution decoder level":
                  default + [n for n in full_resolution_level(network) if n not in default]}
    preset_layers = [name for name in getattr(model, "preset_int8_float_layers", ())
                     if name not in default]
    if preset_layers:
        chosen["output layers + the preset's int8_float_layers"] = default + preset_layers
    names = {layer.name for layer in network.layers}
    for variant in extra:
        layers = [name for name in variant.split(",") if name]
        unknown = sorted(set(layers) - names)
        if unknown:
            raise SystemExit(f"--variant: no layer named {', '.join(unknown)} in "
                             f"{model.name}")
        chosen[f"output layers + {', '.join(layers)}"] = default + layers
    return chosen


def scorer(model, crops):
    """`score(run) -> (dB, {group: dB})`: the task's PSNR of `run(image, mask or sigma) ->
    image`, and per group (an inpainter's stroke widths and box)."""
    from quality_repair import int8_denoising_psnr, int8_inpainting_psnr

    if model.task == "inpaint":
        def score(run):
            groups = int8_inpainting_psnr(run, crops)
            return groups["strokes"], groups
        return score
    return lambda run: (int8_denoising_psnr(run, crops, SIGMA)[f"sigma-{SIGMA}"], {})


def feed(model, image, extra):
    """The model's inputs for one image: its mask, or the noise level of sigma `extra`."""
    from zoo.inference import takes_noise_level

    inputs = {"image": image[None]}
    if model.task == "inpaint":
        inputs["mask"] = extra[None]
    elif takes_noise_level(model):
        inputs["noise_level"] = np.full((1, 1), extra / 255.0, np.float32)
    return inputs


def evaluate(model, calibration_data, crops, size, repeats, extra=()):
    """[{variant, float_layers, psnr_db, vs_keras_db, seconds, file_bytes}], Keras first."""
    from quality import int8_runner

    from export import tflite
    from export.exporters import _prepare_int8
    from export.runtime import TFLiteModel

    score = scorer(model, crops)

    def keras_run(image, extra):
        return np.asarray(model(feed(model, image, extra), training=False))[0]

    keras_db, keras_groups = score(keras_run)
    rows = [{"variant": "Keras", "float_layers": None, "psnr_db": keras_db,
             "groups_db": keras_groups, "vs_keras_db": 0.0, "seconds": None,
             "file_bytes": None}]
    converted, calibration, _ = _prepare_int8(model, calibration_data, lambda message: None)
    example = feed(model, crops[0][1], np.zeros((size, size, 1), np.float32)
                   if model.task == "inpaint" else SIGMA)
    chosen = variants(model, extra)
    exported = set(chosen["output layers"]) | set(getattr(model, "preset_int8_float_layers",
                                                           ()))
    runs = [(label, float_layers, tflite.PERCENTILES) for label, float_layers in chosen.items()]
    runs += [(f"{label}, min / max ranges", float_layers, None)
             for label, float_layers in chosen.items() if set(float_layers) == exported]
    for label, float_layers, percentiles in runs:
        data = tflite.convert_model(converted, "int8", calibration, (size, size),
                                    float_layers=float_layers, range_percentiles=percentiles)
        runtime = TFLiteModel(data, num_threads=1)
        psnr, groups = score(int8_runner(runtime, example))
        rows.append({"variant": label, "float_layers": float_layers,
                     "range_percentiles": percentiles,
                     "zoo_export": set(float_layers) == exported and percentiles is not None,
                     "psnr_db": psnr,
                     "groups_vs_keras_db": {group: value - keras_groups[group]
                                            for group, value in groups.items()},
                     "vs_keras_db": psnr - keras_db, "file_bytes": len(data),
                     "seconds": warm_median_seconds(lambda r=runtime: r.run_one(example),
                                                    repeats)})
    return rows


def quick_setup(size):
    """(untrained small denoiser, calibration data, 64 px centre crops of the package's
    natural photos): the test suite's stand-in for a preset and the corpus."""
    import zoo
    from export.data import representative_dataset
    from training.datasets import NATURAL_PHOTOS, load_images
    from training.images import center_square

    model = zoo.create_model("unet", filters=(4, 8), residual=True, pixel_unshuffle=2,
                             noise_level_input=True, smooth_blend=2)
    names = NATURAL_PHOTOS["validation"]
    crops = [(name, center_square(image, size)) for name, image in
             zip(names, load_images("natural", split="validation"), strict=True)]
    return model, representative_dataset(model, (size, size), count=8), crops


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="unet-denoise-photos")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true",
                        help="a small untrained denoiser on 64 px crops (script check)")
    parser.add_argument("--variant", action="append", default=[], metavar="LAYER,LAYER",
                        help="one more variant: the output layers plus these")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    load_start = load_average()
    if args.quick:
        size = 64
        model, calibration_data, crops = quick_setup(size)
    else:
        from quality_repair import photo_crops

        from export.data import representative_dataset
        from zoo_cli.export_model import load_preset_for_export

        size = 256
        model, _, recipe = load_preset_for_export(args.preset)
        calibration_data = representative_dataset(model, (size, size), count=64,
                                                   recipe=recipe)
        crops, _ = photo_crops(split="validation", per_photo=2)
    rows = evaluate(model, calibration_data, crops, size, args.repeats, args.variant)
    by_group = any(row.get("groups_vs_keras_db") for row in rows)
    print(f"| {args.preset}{' (quick)' if args.quick else ''} | PSNR (dB) | vs Keras (dB) | "
          "int8 ms, 1 thread | file MB |" + (" vs Keras by group (dB) |" if by_group else "")
          + "\n|---|---|---|---|---|" + ("---|" if by_group else ""))
    for row in rows:
        timing = "-" if row["seconds"] is None else f"{row['seconds'] * 1e3:.1f}"
        size_mb = "-" if row["file_bytes"] is None else f"{row['file_bytes'] / 1e6:.2f}"
        label = row["variant"] + (" (zoo export)" if row.get("zoo_export") else "")
        groups = ", ".join(f"{group} {gap:+.2f}" for group, gap in
                           row.get("groups_vs_keras_db", {}).items() if group != "strokes")
        print(f"| {label} | {row['psnr_db']:.2f} | {row['vs_keras_db']:+.2f} | "
              f"{timing} | {size_mb} |" + (f" {groups} |" if groups else ""))
    out = args.out or BENCH_DIR / "results" / f"int8_float_layers_{args.preset}.json"
    write_json({"benchmark": "int8_float_layers", "preset": args.preset, "quick": args.quick,
                "crops": len(crops), "size": size, "sigma": SIGMA, "repeats": args.repeats,
                "rows": rows, "machine": machine_info(),
                "load_average": {"start": load_start, "end": load_average()}}, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
