"""Inpainting hole masks: free-form brush strokes and boxes, deterministic given a
`numpy.random.Generator`.

Every mask is float32 (H, W, 1) with values exactly 0.0 or 1.0, 1 = hole (missing),
0 = known. Stroke widths and lengths are fractions of the image's shorter side, so a
preset looks the same at 64x64 and at 512x512. The stroke model follows DeepFill v2's
free-form masks (random walks of line segments drawn with a round brush); the
thin / medium / thick presets are in the spirit of LaMa's mask generators.

Pure numpy: this data path runs under any Keras backend, or none.
"""

import math

import numpy as np

MASK_PRESETS = {
    # Stroke presets: keyword arguments of `stroke_mask`. Widths and lengths are
    # fractions of the shorter image side (0.01 is about 2.5 px at 256x256).
    "thin": {  # scratches
        "max_strokes": 8,
        "vertex_range": (4, 12),
        "width_range": (0.01, 0.04),
        "length_range": (0.05, 0.25),
    },
    "medium": {
        "max_strokes": 5,
        "vertex_range": (4, 10),
        "width_range": (0.04, 0.1),
        "length_range": (0.05, 0.25),
    },
    "thick": {
        "max_strokes": 3,
        "vertex_range": (2, 6),
        "width_range": (0.1, 0.2),
        "length_range": (0.1, 0.3),
    },
    # One axis-aligned rectangle (`box_mask`).
    "box": {},
    # A rounded lump of a few overlapping ellipses, as removing an object leaves it.
    "blob": {},
    # One of these kinds, uniformly at random, per mask.
    "mixed": {"kinds": ("thin", "medium", "thick", "blob", "box")},
}

# A stroke turns by at most this angle (radians) at each vertex.
_MAX_TURN = 0.6 * math.pi
# A brush of radius >= sqrt(2) / 2 covers at least one pixel centre wherever it lands.
_MIN_RADIUS = 0.75
# random_mask stops drawing strokes after this many, or after this many strokes ended by
# overshooting the upper bound, and then grows the hole pixel by pixel instead.
_MAX_STROKES_PER_MASK = 64
_MAX_MISSES = 8
# How often an overshooting segment is halved before the stroke is ended.
_SHORTEN_TRIES = 4
_BOX_ASPECT = (1 / 3, 3.0)


def stroke_mask(rng, height, width, *, max_strokes, vertex_range, width_range, length_range):
    """(height, width, 1) float32 mask of 1 to `max_strokes` free-form brush strokes.

    Each stroke is a random walk from a uniform start point through `vertex_range`
    (inclusive) further vertices, i.e. as many line segments, turning by a random angle
    at each; it is drawn with one brush width from `width_range`, and segment lengths
    come from `length_range`. Widths and lengths are fractions of min(height, width);
    segments have round ends, so joints are round. The hole area is not controlled
    here; see `random_mask`.
    """
    if max_strokes < 1:
        raise ValueError(f"max_strokes must be at least 1, got {max_strokes}")
    hole = np.zeros((height, width), bool)
    for _ in range(int(rng.integers(1, max_strokes + 1))):
        for a, b, radius in _stroke_segments(
            rng, height, width, vertex_range, width_range, length_range
        ):
            window, new = _capsule(hole, a, b, radius)
            hole[window] |= new
    return hole[..., None].astype(np.float32)


def box_mask(rng, height, width, *, area_range):
    """(height, width, 1) float32 mask with one filled rectangle of 1s.

    The rectangle's area fraction lies in `area_range` (0 < low <= high <= 0.5) and its
    height / width ratio is drawn log-uniformly from [1/3, 3] where the image allows.
    Should no rectangle have an allowed pixel count (a very narrow range on a tiny
    image), the hole is grown from one pixel instead, so the bound always holds.
    """
    low, high = _check_area_range(area_range)
    kmin, kmax = _count_bounds(low, high, height, width)
    return _box(rng, height, width, kmin, kmax)[..., None].astype(np.float32)


def random_mask(rng, height, width, kind="mixed", area_range=(0.02, 0.25)):
    """(height, width, 1) float32 mask of `kind` (a key of `MASK_PRESETS`) whose hole
    fraction `mask.mean()` lies in `area_range`, with 0 < low <= high <= 0.5.

    How the bound is kept: a target pixel count is drawn uniformly from the counts the
    range allows, and strokes are added segment by segment until the hole reaches it.
    A segment that would push the hole past the upper bound is halved (up to 4 times)
    and otherwise ends its stroke, so the hole never exceeds the bound; a stroke ended
    that way once the hole is above the lower bound ends the mask. If the lower bound
    is still not reached after 64 strokes, or 8 strokes ended by overshooting (brush
    too wide for the room left), the hole grows by random pixels on its rim until it
    is. The number of strokes is bounded and each growth step adds at least one pixel,
    so this terminates. In this function the area target, not the preset's
    `max_strokes`, decides how many strokes a mask gets.

    Raises ValueError for a bad `area_range` or `kind`, and when no whole pixel count
    fits the range at this size: (0.1, 0.1) holds no count of a 16x16 image.
    """
    low, high = _check_area_range(area_range)
    if kind not in MASK_PRESETS:
        raise ValueError(f"Unknown mask kind {kind!r}; valid kinds: {sorted(MASK_PRESETS)}")
    kmin, kmax = _count_bounds(low, high, height, width)
    if kind == "mixed":
        kind = str(rng.choice(MASK_PRESETS["mixed"]["kinds"]))
    if kind == "box":
        hole = _box(rng, height, width, kmin, kmax)
    elif kind == "blob":
        hole = _blob(rng, height, width, kmin, kmax)
    else:
        hole = _strokes_in_range(rng, height, width, kmin, kmax, MASK_PRESETS[kind])
    return hole[..., None].astype(np.float32)


def random_masks(rng, count, height, width, kind="mixed", area_range=(0.02, 0.25)):
    """(count, height, width, 1) float32: `count` independent `random_mask` draws
    (with kind="mixed", each mask picks its own kind)."""
    masks = np.empty((count, height, width, 1), np.float32)
    for mask in masks:
        mask[...] = random_mask(rng, height, width, kind, area_range)
    return masks


def _check_area_range(area_range):
    low, high = (float(v) for v in area_range)
    for value in (low, high):
        if not 0 < value <= 0.5:
            raise ValueError(f"area_range values must lie in (0, 0.5], got {value} in "
                             f"area_range={tuple(area_range)}")
    if low > high:
        raise ValueError(f"area_range low {low} is above high {high} in "
                         f"area_range={tuple(area_range)}")
    return low, high


def _count_bounds(low, high, height, width):
    """Smallest and largest hole pixel counts k with low <= mask.mean() <= high.

    mask.mean() of a float32 0/1 mask is float32(k / n), which may round across a bound,
    so the counts are checked on exactly that value."""
    n = height * width

    def frac(k):
        return float(np.float32(k) / np.float32(n))

    kmin = math.ceil(low * n)
    while frac(kmin) < low:
        kmin += 1
    while kmin > 1 and frac(kmin - 1) >= low:
        kmin -= 1
    kmax = math.floor(high * n)
    while frac(kmax) > high:
        kmax -= 1
    while frac(kmax + 1) <= high:
        kmax += 1
    if kmin > kmax:
        raise ValueError(f"area_range=({low}, {high}) holds no whole number of pixels of a "
                         f"{height}x{width} image; widen it")
    return kmin, kmax


def _stroke_segments(rng, height, width, vertex_range, width_range, length_range):
    """Yield ((y0, x0), (y1, x1), radius) in pixels for each segment of one stroke."""
    side = min(height, width)
    segments = int(rng.integers(vertex_range[0], vertex_range[1] + 1))
    radius = max(rng.uniform(*width_range) * side / 2, _MIN_RADIUS)
    y, x = rng.uniform(0, height - 1), rng.uniform(0, width - 1)
    heading = rng.uniform(0, 2 * math.pi)
    turns = rng.uniform(-_MAX_TURN, _MAX_TURN, segments).tolist()
    lengths = (rng.uniform(*length_range, segments) * side).tolist()
    for turn, length in zip(turns, lengths, strict=True):
        heading += turn
        end_y, flip_y = _bounce(y + length * math.sin(heading), height - 1)
        end_x, flip_x = _bounce(x + length * math.cos(heading), width - 1)
        # The walk bounces off the border rather than sliding along it, which would
        # draw long holes hugging the image edge.
        if flip_y:
            heading = -heading
        if flip_x:
            heading = math.pi - heading
        yield (y, x), (end_y, end_x), radius
        y, x = end_y, end_x


def _bounce(value, upper):
    """Reflect `value` into [0, upper]; returns (value, whether it was reflected)."""
    if 0 <= value <= upper:
        return value, False
    value = -value if value < 0 else 2 * upper - value
    return min(max(value, 0.0), float(upper)), True


def _capsule(hole, a, b, radius):
    """Pixels within `radius` of segment a-b (a line with round caps) that are not yet
    hole: returns (window slices, boolean array of the new pixels in that window)."""
    h, w = hole.shape
    y0 = max(math.floor(min(a[0], b[0]) - radius), 0)
    y1 = min(math.ceil(max(a[0], b[0]) + radius) + 1, h)
    x0 = max(math.floor(min(a[1], b[1]) - radius), 0)
    x1 = min(math.ceil(max(a[1], b[1]) + radius) + 1, w)
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - a[0]
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] - a[1]
    dy, dx = b[0] - a[0], b[1] - a[1]
    length2 = dy * dy + dx * dx
    if length2 > 0:
        t = (ys * (dy / length2)) + (xs * (dx / length2))
        np.clip(t, 0, 1, out=t)
        ys = ys - t * dy
        xs = xs - t * dx
    window = (slice(y0, y1), slice(x0, x1))
    return window, (ys * ys + xs * xs <= radius * radius) & ~hole[window]


def _strokes_in_range(rng, height, width, kmin, kmax, preset):
    """(height, width) bool hole of strokes with a pixel count in [kmin, kmax]."""
    hole = np.zeros((height, width), bool)
    target = int(rng.integers(kmin, kmax + 1))
    count = misses = 0
    for _ in range(_MAX_STROKES_PER_MASK):
        overshot = False
        for a, b, radius in _stroke_segments(
            rng, height, width, preset["vertex_range"], preset["width_range"],
            preset["length_range"],
        ):
            for _ in range(_SHORTEN_TRIES + 1):
                window, new = _capsule(hole, a, b, radius)
                added = int(np.count_nonzero(new))
                if count + added <= kmax:
                    break
                b = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
            else:  # even the shortest try overshoots: end this stroke
                overshot = True
                misses += 1
                break
            hole[window] |= new
            count += added
            if count >= target:
                return hole
        if overshot and count >= kmin:  # near the upper bound and already in range
            return hole
        if misses >= _MAX_MISSES:
            break
    return _grow(rng, hole, count, kmin)


def _box(rng, height, width, kmin, kmax):
    """(height, width) bool with one rectangle whose pixel count is in [kmin, kmax]."""
    target = int(rng.integers(kmin, kmax + 1))
    aspect = math.exp(rng.uniform(math.log(_BOX_ASPECT[0]), math.log(_BOX_ASPECT[1])))
    ideal = math.sqrt(target * aspect)
    # Try box heights nearest the ideal first; the first that admits a width in range wins.
    for h in sorted(range(1, height + 1), key=lambda h: abs(h - ideal)):
        w_lo, w_hi = max(1, -(-kmin // h)), min(width, kmax // h)
        if w_lo <= w_hi:
            w = min(max(round(target / h), w_lo), w_hi)
            top = int(rng.integers(0, height - h + 1))
            left = int(rng.integers(0, width - w + 1))
            hole = np.zeros((height, width), bool)
            hole[top:top + h, left:left + w] = True
            return hole
    # No h x w product fits (a prime-like count on a tiny image): grow a blob instead.
    return _grow(rng, np.zeros((height, width), bool), 0, target)


def _blob(rng, height, width, kmin, kmax):
    """(height, width) bool: overlapping ellipses around one centre, [kmin, kmax] pixels.

    Ellipses (random axes and angle, each about a third of the target area) are added
    near the centre until the target count is reached; one that would pass `kmax` is
    shrunk (up to 4 times) or skipped, and the rim grows the rest if needed.
    """
    target = int(rng.integers(kmin, kmax + 1))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    centre = rng.uniform((0.2 * height, 0.2 * width), (0.8 * height, 0.8 * width))
    base = math.sqrt(target / (3 * math.pi))
    hole, count = np.zeros((height, width), bool), 0
    for _ in range(_MAX_STROKES_PER_MASK):
        if count >= target:
            break
        middle = centre + rng.normal(0, base, 2)
        radii = base * rng.uniform(0.6, 1.6, 2)
        angle = rng.uniform(0, math.pi)
        dy, dx = yy - middle[0], xx - middle[1]
        u = dx * math.cos(angle) + dy * math.sin(angle)
        v = -dx * math.sin(angle) + dy * math.cos(angle)
        for _ in range(_SHORTEN_TRIES):
            grown = hole | ((u / radii[0]) ** 2 + (v / radii[1]) ** 2 <= 1)
            if grown.sum() <= kmax:
                hole, count = grown, int(grown.sum())
                break
            radii = radii / 2
    return _grow(rng, hole, count, kmin)


def _grow(rng, hole, count, goal):
    """Add random pixels on the hole's 4-neighbour rim until it has `goal` pixels."""
    if count == 0 and goal > 0:
        hole.flat[int(rng.integers(hole.size))] = True
        count = 1
    while count < goal:
        rim = np.zeros_like(hole)
        rim[1:] |= hole[:-1]
        rim[:-1] |= hole[1:]
        rim[:, 1:] |= hole[:, :-1]
        rim[:, :-1] |= hole[:, 1:]
        candidates = np.flatnonzero(rim & ~hole)
        picked = rng.choice(candidates, size=min(goal - count, candidates.size), replace=False)
        hole.flat[picked] = True
        count += picked.size
    return hole
