"""The `photos` corpus: the fetch on tiny .deb packages built here (no network, no apt),
the manifest checks, `convert`'s downscaling rule, crop packs and `zoo data`."""

import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_containers import LZ4, PLAIN, eet_archive, rcc_archive
from training import photo_corpus
from training.photo_corpus import (
    CorpusError,
    apt_download,
    convert,
    fetch_corpus,
    image_path,
    load_manifest,
    original_path,
    split_images,
)
from training.photo_data import photo_arrays, write_pack
from zoo_cli.main import main as zoo

pytestmark = pytest.mark.xdist_group("photo_corpus")  # module fixtures run once

PHOTOS, VIEWS = ("zoo-test-photos", "1.0-1"), ("zoo-test-views", "2:2.0-1")


class Killed(BaseException):
    """What a kill looks like to the code it interrupts: nothing catches it."""


def scene(height, width, seed):
    """A smooth colour picture with some texture: compresses like a photo."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    phases = rng.uniform(0, 6, 3)
    rgb = [np.sin(7 * x + 5 * y + p) for p in phases]
    picture = 110 + 90 * np.stack(rgb, -1) + rng.normal(0, 6, (height, width, 3))
    return np.clip(picture, 0, 255).astype(np.uint8)


def encoded(array, format, **options):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=format, **options)
    return buffer.getvalue()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def build_deb(folder, package, version, files):
    """folder/PACKAGE_VERSION_all.deb (epoch dropped, as apt names it) holding `files`
    (path -> bytes) and its copyright file; dpkg-deb needs no root."""
    tree = folder / f"{package}.tree"
    files = {**files, f"usr/share/doc/{package}/copyright": f"{package}: test licence\n".encode()}
    for path, data in files.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(data)
    (tree / "DEBIAN").mkdir()
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: Tests <tests@example.org>\nDescription: photos for the corpus tests\n")
    deb = folder / f"{package}_{version.split(':')[-1]}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(tree), str(deb)],
                   check=True, capture_output=True)
    shutil.rmtree(tree)
    return deb


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    """Two tiny packages and the manifest records of their photos (name -> record), plus
    the original bytes by name: a plain JPEG, a PNG with alpha, a JPEG inside an .edj, a
    WebP inside an .rcc (train), and a JPEG of another package (validation)."""
    if shutil.which("dpkg-deb") is None or shutil.which("dpkg") is None:
        pytest.skip("dpkg-deb and dpkg are needed to build and unpack test packages")
    folder = tmp_path_factory.mktemp("debs")
    leaf = np.dstack([scene(48, 64, 1), np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))])
    originals = {"test-scene": encoded(scene(64, 96, 2), "JPEG", quality=90),
                 "test-leaf": encoded(leaf, "PNG"),
                 "test-wall": encoded(scene(72, 80, 3), "JPEG", quality=85),
                 "test-fish": encoded(scene(40, 56, 4), "WEBP", quality=60),
                 "views-lake": encoded(scene(60, 90, 5), "JPEG", quality=90)}
    edj = eet_archive([("edje/images/1", PLAIN, encoded(scene(18, 20, 3), "JPEG")),
                       ("edje/images/0", PLAIN, originals["test-wall"]),
                       ("edje_sources", LZ4, b"collections {}")])
    rcc = rcc_archive({"gcompris": {"fish": {"fish.webp": ("zlib", originals["test-fish"]),
                                             "README": b"fish.webp: CC0"}}})
    share = "usr/share/zoo-test"
    build_deb(folder, *PHOTOS, {f"{share}/scene.jpg": originals["test-scene"],
                                f"{share}/leaf.png": originals["test-leaf"],
                                f"{share}/Wall.edj": edj, f"{share}/fish.rcc": rcc})
    build_deb(folder, *VIEWS, {"usr/share/views/lake.jpg": originals["views-lake"]})

    def record(name, package, member, entry="", split="train"):
        return {"name": name, "package": package[0], "version": package[1], "member": member,
                "entry": entry, "license": f"CC0 ({name})", "sha256": sha256(originals[name]),
                "split": split}

    records = [record("test-scene", PHOTOS, f"{share}/scene.jpg"),
               record("test-leaf", PHOTOS, f"{share}/leaf.png"),
               record("test-wall", PHOTOS, f"{share}/Wall.edj", "edje/images/0"),
               record("test-fish", PHOTOS, f"{share}/fish.rcc", "gcompris/fish/fish.webp"),
               record("views-lake", VIEWS, "usr/share/views/lake.jpg", split="validation")]
    return folder, records, originals


def write_manifest(path, records):
    path.write_text(json.dumps({"description": "test photos", "photos": records}))
    return path


class FakeApt:
    """A `download` for fetch_corpus that copies the package's .deb from a folder (no
    network), counts its calls, and can be killed on a given package."""

    def __init__(self, folder, kill_on=None):
        self.folder, self.kill_on, self.calls = folder, kill_on, []

    def __call__(self, package, version, destination):
        self.calls.append(package)
        if package == self.kill_on:
            raise Killed(f"killed while downloading {package}")
        destination.mkdir(parents=True, exist_ok=True)
        (deb,) = self.folder.glob(f"{package}_*.deb")
        return Path(shutil.copy(deb, destination))


def fetch(root, manifest, apt, **options):
    lines = []
    return fetch_corpus(root, manifest=manifest, download=apt, progress=lines.append,
                        **options), lines


def taken_as_photos(root):
    """name -> image of every photo a reader of the corpus would use (split_images)."""
    found = {}
    for split in photo_corpus.SPLITS:
        for path in sorted((Path(root) / "images" / split).glob("*.png")):
            found[path.stem] = np.asarray(Image.open(path))
    return found


def assert_only_whole_photos(root, manifest):
    """Every image a reader would take is a manifest photo with its checked original and
    exactly `convert` of it: nothing half-written, nothing unchecked."""
    photos = {photo.name: photo for photo in load_manifest(manifest)}
    for name, image in taken_as_photos(root).items():
        original = original_path(root, photos[name]).read_bytes()
        assert sha256(original) == photos[name].sha256
        np.testing.assert_array_equal(image, convert(original))


# --- the fetch ---------------------------------------------------------------------------

def test_fetch_stores_every_photo_with_licences_and_attribution(debs, tmp_path):
    folder, records, originals = debs
    manifest = write_manifest(tmp_path / "manifest.json", records)
    apt = FakeApt(folder)
    report, lines = fetch(tmp_path / "corpus", manifest, apt)

    root = tmp_path / "corpus"
    assert report.complete and sorted(report.added) == sorted(originals) and not report.present
    assert apt.calls == [PHOTOS[0], VIEWS[0]]
    for photo in load_manifest(manifest):
        assert image_path(root, photo) == root / "images" / photo.split / f"{photo.name}.png"
        assert original_path(root, photo).read_bytes() == originals[photo.name]
    assert sorted(taken_as_photos(root)) == sorted(originals)
    assert_only_whole_photos(root, manifest)
    assert [p.stem for p in split_images(root, "validation")] == ["views-lake"]
    for package, _ in (PHOTOS, VIEWS):
        assert (root / "LICENSES" / package).read_text() == f"{package}: test licence\n"
    attribution = (root / "ATTRIBUTION.md").read_text()
    for record in records:
        assert f"| {record['name']} | {record['split']} | {record['package']} " in attribution
        assert record["license"] in attribution
    # downloads and unpacked packages are removed once their photos are stored
    assert not list((root / "downloads").glob("*.deb"))
    assert not list((root / "unpacked").iterdir())
    assert any("[1/2] zoo-test-photos 1.0-1: fetching 4 of 4 photos" in line for line in lines)


def test_rerun_downloads_nothing_and_reports_everything_present(debs, tmp_path):
    folder, records, originals = debs
    manifest = write_manifest(tmp_path / "manifest.json", records)
    apt = FakeApt(folder)
    fetch(tmp_path, manifest, apt)
    report, lines = fetch(tmp_path, manifest, apt)
    assert apt.calls == [PHOTOS[0], VIEWS[0]]  # from the first run only
    assert sorted(report.present) == sorted(originals)
    assert report.added == report.changed == report.missing == []
    assert lines == ["[1/2] zoo-test-photos 1.0-1: 4 photos present",
                     "[2/2] zoo-test-views 2:2.0-1: 1 photos present"]


def test_debs_folder_replaces_apt(debs, tmp_path):
    folder, records, originals = debs
    apt = FakeApt(folder, kill_on=PHOTOS[0])
    report, _ = fetch(tmp_path / "corpus", write_manifest(tmp_path / "m.json", records), apt,
                      debs=folder)
    assert report.complete and sorted(report.added) == sorted(originals)
    assert apt.calls == []
    assert sorted(p.name for p in folder.glob("*.deb")) == [  # the user's files stay
        "zoo-test-photos_1.0-1_all.deb", "zoo-test-views_2.0-1_all.deb"]


def test_changed_and_missing_photos_are_reported_and_never_written(debs, tmp_path):
    folder, records, _ = debs
    changed = {**records[0], "name": "test-changed", "sha256": "0" * 64}
    absent = {**records[0], "name": "test-absent", "member": "usr/share/zoo-test/gone.jpg"}
    no_entry = {**records[3], "name": "test-no-entry", "entry": "gcompris/fish/gone.webp"}
    lost = {**records[4], "name": "lost-lake", "package": "zoo-test-lost"}
    manifest = write_manifest(tmp_path / "m.json", [*records, changed, absent, no_entry, lost])

    def download(package, version, destination):
        if package == "zoo-test-lost":
            raise CorpusError(f"apt-get download {package}={version} failed")
        return FakeApt(folder)(package, version, destination)

    root = tmp_path / "corpus"
    report, lines = fetch(root, manifest, download)
    assert report.changed == ["test-changed"]
    assert sorted(report.missing) == ["lost-lake", "test-absent", "test-no-entry"]
    assert not report.complete
    assert sorted(report.added) == sorted(r["name"] for r in records)
    assert sorted(taken_as_photos(root)) == sorted(r["name"] for r in records)
    assert not list((root / "originals").glob("test-changed*"))
    assert any("test-changed: CHANGED" in line for line in lines)
    assert any("zoo-test-lost" in line and "MISSING" in line for line in lines)
    attribution = (root / "ATTRIBUTION.md").read_text()
    assert "test-scene" in attribution
    assert "test-changed" not in attribution and "lost-lake" not in attribution


@pytest.mark.parametrize("where", ["convert", "png write"])
def test_run_killed_midway_leaves_no_photo_a_rerun_would_take(debs, tmp_path, monkeypatch,
                                                              where):
    folder, records, originals = debs
    manifest = write_manifest(tmp_path / "m.json", records)
    root, calls = tmp_path / "corpus", []

    def third_call_dies(real):
        def wrapper(*args, **kwargs):
            calls.append(args)
            if len(calls) == 3:
                if where == "png write":  # half an image on disk, then the end
                    Path(args[1]).write_bytes(b"\x89PNG\r\n\x1a\n half")
                raise Killed(f"killed in {where} of the third photo")
            return real(*args, **kwargs)
        return wrapper

    if where == "convert":
        monkeypatch.setattr(photo_corpus, "convert", third_call_dies(photo_corpus.convert))
    else:
        monkeypatch.setattr(Image.Image, "save", third_call_dies(Image.Image.save))
    with pytest.raises(Killed):
        fetch(root, manifest, FakeApt(folder))
    monkeypatch.undo()
    assert sorted(taken_as_photos(root)) == ["test-leaf", "test-scene"]
    assert_only_whole_photos(root, manifest)
    # what SIGKILL leaves in the middle of atomic writes: temporary names, never *.png
    (root / "images" / "train" / "tmpkilled.png.partial").write_bytes(b"\x89PNG half")
    (root / "originals" / "tmpkilled.partial").write_bytes(b"\xff\xd8 half")

    apt = FakeApt(folder)
    report, _ = fetch(root, manifest, apt)
    assert report.complete
    assert sorted(report.present) == ["test-leaf", "test-scene"]
    assert sorted(report.added) == ["test-fish", "test-wall", "views-lake"]
    assert apt.calls == [PHOTOS[0], VIEWS[0]]
    assert sorted(taken_as_photos(root)) == sorted(originals)
    assert_only_whole_photos(root, manifest)
    assert "tmpkilled" not in [p.stem for p in split_images(root, "train")]


def test_run_killed_in_a_download_is_finished_by_the_rerun(debs, tmp_path):
    folder, records, originals = debs
    manifest = write_manifest(tmp_path / "m.json", records)
    with pytest.raises(Killed):
        fetch(tmp_path, manifest, FakeApt(folder, kill_on=VIEWS[0]))
    assert sorted(taken_as_photos(tmp_path)) == ["test-fish", "test-leaf", "test-scene",
                                                 "test-wall"]
    apt = FakeApt(folder)
    report, _ = fetch(tmp_path, manifest, apt)
    assert apt.calls == [VIEWS[0]]
    assert report.complete and report.added == ["views-lake"]
    assert sorted(taken_as_photos(tmp_path)) == sorted(originals)


def test_run_killed_while_copying_a_licence_is_finished_by_the_rerun(debs, tmp_path,
                                                                     monkeypatch):
    """The licence is copied before the photos: had it come after them, a run killed
    between the two would leave a package whose photos are all present and whose
    licence a rerun never writes."""
    folder, records, _ = debs
    manifest = write_manifest(tmp_path / "m.json", records)

    def die(*args):
        raise Killed("killed while copying the licence")

    monkeypatch.setattr(photo_corpus, "_copy_license", die)
    with pytest.raises(Killed):
        fetch(tmp_path, manifest, FakeApt(folder))
    monkeypatch.undo()
    report, _ = fetch(tmp_path, manifest, FakeApt(folder))
    assert report.complete
    assert (tmp_path / "LICENSES" / PHOTOS[0]).is_file()
    assert (tmp_path / "LICENSES" / VIEWS[0]).is_file()


def test_without_apt_the_error_names_the_package_and_the_way_out(debs, tmp_path, monkeypatch):
    _, records, _ = debs
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(CorpusError, match="gcompris-qt-data 3.1-2") as error:
        apt_download("gcompris-qt-data", "3.1-2", tmp_path)
    assert "--debs" in str(error.value) and "--list-packages" in str(error.value)

    report, lines = fetch(tmp_path / "corpus", write_manifest(tmp_path / "m.json", records),
                          apt_download)
    assert sorted(report.missing) == sorted(r["name"] for r in records)
    for package, version in (PHOTOS, VIEWS):
        assert any(f"MISSING: apt-get and dpkg are needed to fetch {package} {version}" in line
                   for line in lines)


# --- the manifest ------------------------------------------------------------------------

def test_manifest_with_a_duplicate_name_or_a_package_in_two_splits_is_refused(debs, tmp_path):
    folder, records, _ = debs
    twice = write_manifest(tmp_path / "twice.json", [*records, records[1]])
    with pytest.raises(CorpusError, match="'test-leaf' appears twice"):
        load_manifest(twice)
    straddling = write_manifest(tmp_path / "straddling.json",
                                [*records, {**records[0], "name": "x", "split": "test"}])
    with pytest.raises(CorpusError, match="'zoo-test-photos' gives photos to both 'train' "
                                          "and 'test'"):
        load_manifest(straddling)
    unknown = write_manifest(tmp_path / "unknown.json", [{**records[0], "split": "holdout"}])
    with pytest.raises(CorpusError, match="unknown split 'holdout'"):
        load_manifest(unknown)
    apt = FakeApt(folder)
    with pytest.raises(CorpusError, match="appears twice"):
        fetch(tmp_path / "corpus", twice, apt)
    assert apt.calls == [] and not (tmp_path / "corpus").exists()


def test_real_manifest_splits_by_whole_package_as_documented():
    photos = load_manifest()
    by_split = {}
    for photo in photos:
        by_split.setdefault(photo.split, {}).setdefault(photo.package, 0)
        by_split[photo.split][photo.package] += 1
    assert by_split["test"] == {"lxqt-themes": 11, "palapeli-data": 5,
                                "lomiri-wallpapers-20.04": 1}
    assert by_split["validation"] == {"plasma-workspace-wallpapers": 11}
    assert sum(by_split["train"].values()) == len(photos) - 28
    # the `natural` test photos `zoo demo` shows stay out of the corpus
    members = {photo.member for photo in photos}
    assert not members & {"data/astronaut.png", "datasets/images/flower.jpg"}


def test_list_packages_prints_every_package_of_the_manifest(capsys):
    assert zoo(["data", "fetch", "photos", "--list-packages"]) == 0
    printed = capsys.readouterr().out.splitlines()
    expected = sorted({f"{p.package} {p.version}" for p in load_manifest()})
    assert len(printed) == len(expected) == 11  # 9 Debian packages and 2 wheels (docs/photos.md)
    for line, package in zip(printed, expected, strict=True):
        # what to download from packages.debian.org, and what pip already installed
        pip = package.split()[0] in photo_corpus.WHEEL_PACKAGES
        assert line == package + (" (Python package: pip, not apt)" if pip else "")


# --- convert: what a training image is ---------------------------------------------------

def bits_per_pixel(data, array):
    return len(data) * 8 / (array.shape[0] * array.shape[1])


def test_convert_downscales_a_large_low_bpp_jpeg_at_least_2x():
    picture = scene(900, 1200, 6)
    data = encoded(picture, "JPEG", quality=30)
    assert bits_per_pixel(data, picture) < photo_corpus.COMPRESSED_BPP
    out = convert(data)
    assert out.dtype == np.uint8 and out.shape == (450, 600, 3)  # 900 / 768 alone: 1.17x


def test_convert_never_downscales_a_low_bpp_jpeg_below_128_px():
    picture = scene(200, 300, 7)
    data = encoded(picture, "JPEG", quality=30)
    assert bits_per_pixel(data, picture) < photo_corpus.COMPRESSED_BPP
    assert convert(data).shape == (128, 192, 3)
    small = scene(100, 150, 8)
    assert convert(encoded(small, "JPEG", quality=30)).shape == (100, 150, 3)


def test_convert_keeps_a_high_bpp_jpeg_and_caps_the_short_side():
    noisy = np.random.default_rng(9).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    data = encoded(noisy, "JPEG", quality=95)
    assert bits_per_pixel(data, noisy) > photo_corpus.COMPRESSED_BPP
    assert convert(data).shape == (200, 300, 3)
    big = np.random.default_rng(10).integers(0, 256, (800, 1000, 3), dtype=np.uint8)
    assert convert(encoded(big, "PNG")).shape == (768, 960, 3)


def test_convert_leaves_a_small_png_alone():
    picture = scene(90, 120, 11)
    np.testing.assert_array_equal(convert(encoded(picture, "PNG")), picture)


def test_convert_composites_alpha_over_white_and_makes_grey_rgb():
    rgba = np.zeros((4, 3, 4), np.uint8)
    rgba[..., 0] = 200                      # red
    rgba[0, :, 3], rgba[1, :, 3], rgba[2:, :, 3] = 0, 255, 128
    out = convert(encoded(rgba, "PNG"))
    assert out.dtype == np.uint8 and out.shape == (4, 3, 3)
    np.testing.assert_array_equal(out[0], 255)                      # transparent: white
    np.testing.assert_array_equal(out[1], [[200, 0, 0]] * 3)        # opaque: as is
    np.testing.assert_allclose(out[2], [[228, 127, 127]] * 3, atol=1)  # half: mixed
    grey = scene(20, 30, 12)[..., 0]
    out = convert(encoded(grey, "PNG"))
    assert out.shape == (20, 30, 3)
    for channel in range(3):
        np.testing.assert_array_equal(out[..., channel], grey)


def test_convert_applies_the_exif_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees clockwise to view
    data = encoded(scene(40, 60, 13), "JPEG", exif=exif)
    assert convert(data).shape == (60, 40, 3)


# --- crop packs --------------------------------------------------------------------------

def tiny_corpus(root):
    rng = np.random.default_rng(14)
    sizes = {"train": {"a": (40, 50), "b": (30, 30), "too-small": (10, 12)},
             "validation": {"v": (20, 24)}, "test": {"t": (30, 30)}}
    images = {}
    for split, photos in sizes.items():
        for name, shape in photos.items():
            images[name] = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
            path = root / "images" / split / f"{name}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[name]).save(path)
    return images


def is_window_of(crop, image):
    windows = np.lib.stride_tricks.sliding_window_view(image, crop.shape)
    return bool((windows == crop).all(axis=(-3, -2, -1)).any())


def test_pack_round_trip(tmp_path):
    images = tiny_corpus(tmp_path / "corpus")
    pack = tmp_path / "pack.npz"
    info = write_pack(pack, tmp_path / "corpus", side=16, train_crops=12, validation_crops=4,
                      seed=3)
    assert info["crop_side"] == 16 and info["train_photos"] == 2  # "too-small" is skipped
    train, validation = photo_arrays("train", pack), photo_arrays("validation", pack)
    assert len(train) == 12 and len(validation) == 4
    with np.load(pack) as stored:
        sources = list(stored["sources"])
        assert json.loads(str(stored["info"])) == info
    assert set(sources) <= {"a", "b"}
    for crop, source in zip(train, sources, strict=True):
        assert crop.shape == (16, 16, 3) and crop.dtype == np.uint8
        assert not crop.flags.writeable
        assert is_window_of(crop, images[source])
    assert all(is_window_of(crop, images["v"]) for crop in validation)

    again = tmp_path / "again.npz"
    write_pack(again, tmp_path / "corpus", side=16, train_crops=12, validation_crops=4, seed=3)
    np.testing.assert_array_equal(np.stack(photo_arrays("train", again)), np.stack(train))


def test_pack_holds_no_test_photos(tmp_path):
    tiny_corpus(tmp_path / "corpus")
    pack = tmp_path / "pack.npz"
    write_pack(pack, tmp_path / "corpus", side=16, train_crops=2, validation_crops=2)
    with pytest.raises(ValueError, match="not 'test' \\(test photos are read from the corpus"):
        photo_arrays("test", pack)
    assert len(photo_arrays("test", tmp_path / "corpus")) == 1  # the folder has them


def test_zoo_data_pack_writes_and_will_not_overwrite(tmp_path, capsys):
    tiny_corpus(tmp_path / "corpus")
    pack = tmp_path / "pack.npz"
    command = ["data", "pack", "photos", "-o", str(pack), "--root", str(tmp_path / "corpus"),
               "--side", "16", "--train-crops", "5", "--validation-crops", "3"]
    assert zoo(command) == 0
    assert "5 train crops from 2 photos, 3 validation crops, 16 px" in capsys.readouterr().out
    assert zoo(command) == 2
    assert "exists; pass --force" in capsys.readouterr().err
