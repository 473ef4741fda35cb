"""A 12-megapixel photo with about 1 % of its pixels in brush strokes: `zoo predict` with an
inpainting preset against scikit-image's biharmonic fill and OpenCV's Telea on the same
photo and mask, one thread each, wall time and peak memory.

    python benchmarks/big_photo_inpaint.py [--preset unet-inpaint-natural] [--megapixels 12]

The photo is the first test-split photo of the corpus (`zoo data fetch photos`), resized
(Lanczos) to 4000 x 3000; the mask is seeded brush strokes added until they cover the
target fraction. Each contestant runs in its own process (`python -c ...` for the peers,
the real `zoo predict` command for the preset, TensorFlow's start-up included), which
reports its own peak resident memory, so no run inherits another's. A last child times
`apply_to_image` alone on the loaded preset: the call a script makes, timed as the peers'
calls are. `apply_to_image` runs the network only on the tiles that hold a hole. Prints a
table and writes benchmarks/results/big_photo_inpaint.json.
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
from PIL import Image

from training.masks import stroke_mask
from training.photo_data import photo_arrays
from zoo_lite.image_io import write_json

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "big_photo_inpaint.json"
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
    parser.add_argument("--preset", default="unet-inpaint-natural")
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
    rows = {}
    peers = [("OpenCV Telea", "inpaint_telea")]
    if not args.skip_biharmonic:
        peers.append(("scikit-image biharmonic", "inpaint_biharmonic"))
    for name, function in peers:
        rows[name] = run_child(PEER.format(bench=str(BENCH_DIR), image=str(image_path),
                                           mask=str(mask_path), function=function,
                                           out=str(folder / f"{function}.png")), {})
    argv = ["predict", args.preset, str(image_path), "--mask", str(mask_path),
            "-o", str(folder / "preset.png")]
    rows[f"zoo predict {args.preset}"] = run_child(PREDICT.format(argv=argv), {})
    rows[f"apply_to_image {args.preset}"] = run_child(
        APPLY.format(preset=args.preset, image=str(image_path), mask=str(mask_path)), {})
    print(f"{width} x {height} ({width * height / 1e6:.1f} MP), holes {hole.mean():.2%}, "
          "one thread")
    print(f"{'':40} {'seconds':>9} {'process s':>10} {'peak MiB':>9}")
    for name, row in rows.items():
        print(f"{name:40} {row['seconds']:9.1f} {row['process_seconds']:10.1f} "
              f"{row['peak_mib']:9.0f}")
    write_json({
        "benchmark": "big_photo_inpaint",
        "command": "python benchmarks/big_photo_inpaint.py " + " ".join(sys.argv[1:]),
        "size": [width, height], "hole_fraction": float(hole.mean()), "threads": 1,
        "load_average": list(os.getloadavg()),
        "seconds": "'seconds' is the call itself (for zoo predict, the whole command "
                   "including TensorFlow's import; for apply_to_image, the call on a loaded "
                   "preset, as the peers' rows); 'process_seconds' the child's wall time",
        "results": rows,
    }, RESULTS)


if __name__ == "__main__":
    main()
