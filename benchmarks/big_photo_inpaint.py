"""A 12-megapixel photo with about 1 % of its pixels in brush strokes: `zoo predict` with an
inpainting preset against scikit-image's biharmonic fill and OpenCV's Telea on the same
photo and mask, one thread each, wall time, peak memory and masked PSNR.

    python benchmarks/big_photo_inpaint.py [--preset unet-inpaint-photos] [--megapixels 12]

The photo is the first test-split photo of the corpus (`zoo data fetch photos`), resized
(Lanczos) to 4000 x 3000; the mask is seeded brush strokes added until they cover the
target fraction. Each contestant runs in its own process, which reports its own peak
resident memory, so no run inherits another's:
- the peers' calls alone, on arrays already in memory (`classical_peers`);
- the peers' whole jobs, as a script does them: import what it needs, read the photo
  and mask PNGs, fill, write the result PNG (zlib level 3, as `zoo predict`);
- `zoo predict` through the real command line, timed from before its import: by
  default (`--runtime auto`) from the preset's TFLite tiles where it ships them, and
  with `--runtime keras` (TensorFlow's import and graph traces included);
- `apply_to_image` alone on the loaded preset, its graphs traced within the call.
`apply_to_image` and the TFLite tiles run the network only on the tiles that hold a
hole. Prints a table and writes benchmarks/results/big_photo_inpaint/PRESET.json.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from classical_peers import INPAINT_RADIUS
from PIL import Image

from training.masks import stroke_mask
from training.photo_data import photo_arrays
from zoo.metrics import image_psnr
from zoo_lite.image_io import PNG_COMPRESS_LEVEL, write_json

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "big_photo_inpaint"  # PRESET.json
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                     "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                                     "TF_NUM_INTEROP_THREADS")}

# A child process: run one peer on the saved photo and mask, print seconds and peak RSS.
PEER = """
import json, resource, sys, time
import numpy as np
from PIL import Image
sys.path.insert(0, {bench!r})
import classical_peers as peers
import cv2
cv2.setNumThreads(1)
image = np.asarray(Image.open({image!r}), np.float32) / 255
mask = (np.asarray(Image.open({mask!r})) > 127).astype(np.float32)[..., None]
started = time.perf_counter()
out = getattr(peers, {function!r})(image, mask)
seconds = time.perf_counter() - started
Image.fromarray((np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)).save({out!r})
print(json.dumps({{"seconds": seconds,
                   "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

# A peer's whole job as a script does it, timed from before its imports.
PEER_JOB = """
import time
started = time.perf_counter()
import json, resource
import numpy as np
from PIL import Image
{imports}
image = np.asarray(Image.open({image!r}).convert("RGB"))
hole = np.asarray(Image.open({mask!r})) > 127
filled = {fill}
Image.fromarray(filled).save({out!r}, compress_level={level})
print(json.dumps({{"seconds": time.perf_counter() - started,
                   "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
PEER_JOBS = {
    "OpenCV Telea": ("import cv2\ncv2.setNumThreads(1)",
                     "cv2.inpaint(image, hole.astype(np.uint8), {radius}, cv2.INPAINT_TELEA)"),
    "scikit-image biharmonic": (
        "from skimage.restoration import inpaint_biharmonic",
        "(np.clip(inpaint_biharmonic(image / 255.0, hole, channel_axis=-1), 0, 1) * 255 "
        "+ 0.5).astype(np.uint8)"),
}

# The preset through the real command line, timed and measured from inside the process.
PREDICT = """
import json, resource, sys, time
started = time.perf_counter()
from zoo_cli.main import main
code = main({argv!r})
print(json.dumps({{"code": code, "seconds": time.perf_counter() - started,
                   "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

# The Python call a script makes, like the peers' rows: the preset loaded and the photo
# read first, then `apply_to_image` timed (its graph traced within the call).
APPLY = """
import json, resource, time
import numpy as np
from PIL import Image
import zoo
from zoo.inference import apply_to_image
model = zoo.load({preset!r})
image = np.asarray(Image.open({image!r}), np.float32) / 255
mask = (np.asarray(Image.open({mask!r})) > 127).astype(np.float32)[..., None]
started = time.perf_counter()
apply_to_image(model, image, mask)
print(json.dumps({{"seconds": time.perf_counter() - started,
                   "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def big_photo(width, height):
    photo = Image.fromarray(photo_arrays("test")[0])
    return np.asarray(photo.resize((width, height), Image.LANCZOS))


def stroke_cover(rng, height, width, fraction, width_range=(0.003, 0.006),
                 length_range=(0.03, 0.08)):
    """(height, width) bool: brush strokes (widths and lengths as fractions of the short
    side; by default 0.3-0.6 % wide) added until they cover `fraction` of the pixels."""
    hole = np.zeros((height, width), bool)
    while hole.mean() < fraction:
        hole |= stroke_mask(rng, height, width, max_strokes=1, vertex_range=(4, 8),
                            width_range=width_range, length_range=length_range)[..., 0] > 0
    return hole


def run_child(code, env_extra):
    env = {**os.environ, **ONE_THREAD, **env_extra}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "process_seconds": wall}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="unet-inpaint-photos")
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--hole-fraction", type=float, default=0.01)
    parser.add_argument("--skip-biharmonic", action="store_true")
    args = parser.parse_args()
    width = int(round((args.megapixels * 1e6 * 4 / 3) ** 0.5))
    height = int(round(width * 3 / 4))
    rng = np.random.default_rng(0)
    folder = Path(tempfile.mkdtemp(prefix="big-photo-"))
    image_path, mask_path = folder / "photo.png", folder / "mask.png"
    Image.fromarray(big_photo(width, height)).save(image_path)
    hole = stroke_cover(rng, height, width, args.hole_fraction)
    Image.fromarray((hole * 255).astype(np.uint8)).save(mask_path)
    rows, outputs = {}, {}
    peers = [("OpenCV Telea", "inpaint_telea")]
    if not args.skip_biharmonic:
        peers.append(("scikit-image biharmonic", "inpaint_biharmonic"))
    for name, function in peers:
        rows[name] = run_child(PEER.format(bench=str(BENCH_DIR), image=str(image_path),
                                           mask=str(mask_path), function=function,
                                           out=str(folder / f"{function}.png")), {})
        outputs[name] = folder / f"{function}.png"
        imports, fill = PEER_JOBS[name]
        job = f"{name}, whole job"
        outputs[job] = folder / f"{function}-job.png"
        rows[job] = run_child(PEER_JOB.format(
            imports=imports, fill=fill.format(radius=INPAINT_RADIUS), image=str(image_path),
            mask=str(mask_path), out=str(outputs[job]), level=PNG_COMPRESS_LEVEL), {})
    for runtime in ("auto", "keras"):
        name = f"zoo predict {args.preset}" + ("" if runtime == "auto" else " --runtime keras")
        outputs[name] = folder / f"preset-{runtime}.png"
        argv = ["predict", args.preset, str(image_path), "--mask", str(mask_path),
                "-o", str(outputs[name]), "--runtime", runtime]
        rows[name] = run_child(PREDICT.format(argv=argv), {})
    rows[f"apply_to_image {args.preset}"] = run_child(
        APPLY.format(preset=args.preset, image=str(image_path), mask=str(mask_path)), {})
    original = np.asarray(Image.open(image_path), np.float32) / 255
    for name, path in outputs.items():
        filled = np.asarray(Image.open(path), np.float32) / 255
        rows[name]["hole_psnr"] = float(image_psnr(filled, original, hole[..., None]))
    tiles_result, keras_result = (np.asarray(Image.open(outputs[name]), np.float32) / 255
                                  for name in outputs if name.startswith("zoo predict"))
    tflite_vs_keras = float(image_psnr(tiles_result, keras_result, hole[..., None]))
    print(f"{width} x {height} ({width * height / 1e6:.1f} MP), holes {hole.mean():.2%}, "
          "one thread")
    print(f"{'':48} {'seconds':>9} {'process s':>10} {'peak MiB':>9} {'hole dB':>8}")
    for name, row in rows.items():
        psnr = f"{row['hole_psnr']:8.2f}" if "hole_psnr" in row else f"{'':8}"
        print(f"{name:48} {row['seconds']:9.1f} {row['process_seconds']:10.1f} "
              f"{row['peak_mib']:9.0f} {psnr}")
    print(f"zoo predict (auto) against --runtime keras, in the holes: {tflite_vs_keras:.1f} dB")
    write_json({
        "benchmark": "big_photo_inpaint",
        "command": "python benchmarks/big_photo_inpaint.py " + " ".join(sys.argv[1:]),
        "size": [width, height], "hole_fraction": float(hole.mean()), "threads": 1,
        "load_average": list(os.getloadavg()),
        "seconds": "'seconds': a peer's call on arrays in memory; a peer's whole job and "
                   "zoo predict from before their imports to the written PNG; "
                   "apply_to_image the call on a loaded preset; 'process_seconds' the "
                   "child's wall time; 'hole_psnr' masked PSNR (dB) against the photo",
        "auto_vs_keras_hole_psnr": tflite_vs_keras,
        "results": rows,
    }, RESULTS / f"{args.preset}.json")


if __name__ == "__main__":
    main()
