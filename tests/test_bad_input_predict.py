"""Bad input to `zoo predict` / `zoo generate` / `zoo images` and `apply_to_image` (issue 21).

Masks in every encoding people save are read as the holes they mean or refused with
one line naming the file; outputs never replace the input, an existing file only
with --force, and leave no *.partial behind; the Python API refuses NaN, out-of-range
values and wrong shapes with a ValueError that says what it expected.
"""

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo import presets
from zoo.inference import apply_to_image
from zoo_cli.main import main

pytestmark = pytest.mark.xdist_group("predict")  # module fixtures run once

SIZE = 32
HOLE = (slice(8, 20), slice(8, 20))


@pytest.fixture(scope="module")
def models():
    """Presets loaded once; `zoo predict` gets them from here (see `cached`)."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = zoo.load(name, compile=False)
        return cache[name]
    return get


@pytest.fixture
def cached(models, monkeypatch):
    monkeypatch.setattr(presets, "load_preset_or_file", models)


@pytest.fixture
def photo(tmp_path):
    pixels = np.random.default_rng(0).integers(30, 220, (SIZE, SIZE, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    return tmp_path / "photo.png"


def _hole(low=0, high=255, dtype=np.uint8):
    mask = np.full((SIZE, SIZE), low, dtype)
    mask[HOLE] = high
    return mask


def _rgb(background, stroke):
    mask = np.zeros((SIZE, SIZE, 3), np.uint8)
    mask[:] = background
    mask[HOLE] = stroke
    return mask


def _palette(white_index):
    indices = np.where(_hole(0, 1) == 1, white_index, 1 - white_index).astype(np.uint8)
    image = Image.frombytes("P", (SIZE, SIZE), indices.tobytes())
    colours = [0, 0, 0, 255, 255, 255] if white_index == 1 else [255, 255, 255, 0, 0, 0]
    image.putpalette(colours + [0] * (768 - 6))
    return image


def _alpha_hole():
    """A photo whose hole was erased to transparency."""
    rgba = np.random.default_rng(1).integers(0, 256, (SIZE, SIZE, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[HOLE + (3,)] = 0
    return Image.fromarray(rgba)


def _painted_layer():
    """White strokes painted on a transparent layer."""
    rgba = np.zeros((SIZE, SIZE, 4), np.uint8)
    rgba[HOLE] = 255
    return Image.fromarray(rgba)


def _antialiased():
    mask = _hole()
    mask[7, 8:20] = mask[20, 8:20] = 90  # soft edges above and below the hole
    mask[8, 8:20] = 200  # the hole's own top row is not quite white: still hole
    return Image.fromarray(mask)


READ_AS_HOLES = {
    "grey 0/255": lambda: Image.fromarray(_hole()),
    "grey 0/1": lambda: Image.fromarray(_hole(0, 1)),
    "grey 0/100 (under 128)": lambda: Image.fromarray(_hole(0, 100)),
    "grey 30/200": lambda: Image.fromarray(_hole(30, 200)),
    "red on black": lambda: Image.fromarray(_rgb(0, (255, 0, 0))),
    "dark blue on black": lambda: Image.fromarray(_rgb(0, (0, 0, 90))),
    "white on black RGB": lambda: Image.fromarray(_rgb(0, 255)),
    "16-bit 0/65535": lambda: Image.fromarray(_hole(0, 65535, np.uint16)),
    "16-bit 0/1": lambda: Image.fromarray(_hole(0, 1, np.uint16)),
    "1-bit": lambda: Image.fromarray(_hole(0, 255)).convert("1"),
    "palette white=1": lambda: _palette(1),
    "palette white=0": lambda: _palette(0),
    "grey+alpha opaque": lambda: Image.fromarray(_hole()).convert("LA"),
    "RGBA opaque": lambda: Image.fromarray(_rgb(0, 255)).convert("RGBA"),
    "RGBA hole in alpha": _alpha_hole,
    "RGBA strokes on transparent": _painted_layer,
    "anti-aliased edges": _antialiased,
}


def _expected_hole():
    hole = np.zeros((SIZE, SIZE), bool)
    hole[HOLE] = True
    return hole


@pytest.mark.parametrize("encoding", sorted(READ_AS_HOLES))
def test_masks_in_every_encoding_are_read_as_their_holes(encoding, photo, tmp_path, cached):
    mask_path = tmp_path / "mask.png"
    READ_AS_HOLES[encoding]().save(mask_path)
    target = tmp_path / "filled.png"
    assert main(["predict", "unet-inpaint-natural", str(photo), "--mask", str(mask_path),
                 "-o", str(target)]) == 0
    changed = np.any(np.asarray(Image.open(target)) != np.asarray(Image.open(photo)), axis=-1)
    hole = _expected_hole()
    assert not changed[~hole].any()  # known pixels come back unchanged
    assert changed[hole].mean() > 0.9  # the hole was filled, not left as it was


def test_a_jpeg_mask_is_read_as_its_hole(photo, tmp_path, cached):
    mask_path = tmp_path / "mask.jpg"
    Image.fromarray(_hole()).save(mask_path, quality=90)
    target = tmp_path / "filled.png"
    assert main(["predict", "unet-inpaint-natural", str(photo), "--mask", str(mask_path),
                 "-o", str(target)]) == 0
    changed = np.any(np.asarray(Image.open(target)) != np.asarray(Image.open(photo)), axis=-1)
    assert not changed[~_expected_hole()].any() and changed[_expected_hole()].mean() > 0.9


def _animated(path):
    frames = [Image.fromarray(_hole()), Image.fromarray(_hole(0, 128))]
    frames[0].save(path, save_all=True, append_images=frames[1:])


def _write(array_or_bytes):
    def write(path):
        if isinstance(array_or_bytes, bytes):
            path.write_bytes(array_or_bytes)
        else:
            Image.fromarray(array_or_bytes).save(path)
    return write


def _truncated(path):
    Image.fromarray(_hole()).save(path)
    path.write_bytes(path.read_bytes()[:60])


def _transparent(path):
    Image.fromarray(np.zeros((SIZE, SIZE, 4), np.uint8)).save(path)


REFUSED = {
    "all black": (_write(np.zeros((SIZE, SIZE), np.uint8)), "has no hole"),
    "all black 16-bit": (_write(np.zeros((SIZE, SIZE), np.uint16)), "has no hole"),
    "all black RGB": (_write(np.zeros((SIZE, SIZE, 3), np.uint8)), "has no hole"),
    "all white": (_write(np.full((SIZE, SIZE), 255, np.uint8)), "every pixel a hole"),
    "fully transparent": (_transparent, "every pixel a hole"),
    "a photo": (_write(np.random.default_rng(2).integers(0, 256, (SIZE, SIZE, 3),
                                                         dtype=np.uint8)), "mid-grey"),
    "label map 0-3": (_write((np.arange(SIZE * SIZE) % 4).astype(np.uint8)
                             .reshape(SIZE, SIZE)), "has no hole"),
    "animated": (_animated, "animated"),
    "truncated": (_truncated, "cannot be read"),
    "empty file": (_write(b""), "cannot be read"),
    "text file": (_write(b"not an image\n"), "cannot be read"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_masks_are_refused_naming_the_file(case, photo, tmp_path, capsys):
    write, message = REFUSED[case]
    mask_path = tmp_path / ("mask.gif" if case == "animated" else "mask.png")
    write(mask_path)
    before = mask_path.read_bytes()
    target = tmp_path / "out.png"
    assert main(["predict", "unet-inpaint-natural", str(photo), "--mask", str(mask_path),
                 "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(mask_path) in err
    assert mask_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["photo.png", mask_path.name])


def test_a_mask_of_another_size_is_refused(photo, tmp_path, capsys, cached):
    mask_path = tmp_path / "mask.png"
    Image.fromarray(_hole()[:-3]).save(mask_path)
    assert main(["predict", "unet-inpaint-natural", str(photo), "--mask", str(mask_path),
                 "-o", str(tmp_path / "out.png")]) == 2
    err = capsys.readouterr().err
    assert "must match" in err and str(mask_path) in err
    assert not (tmp_path / "out.png").exists()


# ---- outputs: never the input, an existing file only with --force, no litter ----

def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("target, flags, message", [
    ("photo.png", [], "is the input"),
    ("photo.png", ["--force"], "is the input"),
    ("sub/../photo.png", ["--force"], "is the input"),
    ("existing.png", [], "add --force"),
    ("folder.png", ["--force"], "is a folder"),
    ("out.jpg", [], "ending in .png"),
])
def test_predict_refuses_outputs_that_would_lose_a_file(target, flags, message, photo, tmp_path,
                                                          capsys):
    (tmp_path / "existing.png").write_bytes(b"keep me")
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "sub").mkdir()
    before = _files(tmp_path)
    assert main(["predict", "unet-denoise-natural", str(photo), "-o", str(tmp_path / target),
                 *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "-o" in err
    assert _files(tmp_path) == before


def test_predict_refuses_to_write_over_its_mask(photo, tmp_path, capsys):
    mask_path = tmp_path / "mask.png"
    Image.fromarray(_hole()).save(mask_path)
    before = _files(tmp_path)
    assert main(["predict", "unet-inpaint-natural", str(photo), "--mask", str(mask_path),
                 "-o", str(mask_path), "--force"]) == 2
    assert "is the input" in capsys.readouterr().err
    assert _files(tmp_path) == before


def test_predict_force_replaces_an_existing_output(photo, tmp_path, cached):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    assert main(["predict", "unet-denoise-natural", str(photo), "-o", str(target),
                 "--force"]) == 0
    assert Image.open(target).size == (SIZE, SIZE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png", "photo.png"]


@pytest.mark.parametrize("fault", [KeyboardInterrupt, OSError])
def test_an_interrupted_write_keeps_the_old_output_and_leaves_no_partial(
        fault, photo, tmp_path, cached, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def failing_save(self, fp, *args, **kwargs):
        with open(fp, "wb") as f:
            f.write(b"half a png")
        raise fault("No space left on device")
    monkeypatch.setattr(Image.Image, "save", failing_save)
    argv = ["predict", "unet-denoise-natural", str(photo), "-o", str(target), "--force"]
    if fault is KeyboardInterrupt:
        with pytest.raises(KeyboardInterrupt):
            main(argv)
    else:
        assert main(argv) == 2
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png", "photo.png"]


def test_generate_needs_force_for_an_existing_output(tmp_path, capsys):
    target = tmp_path / "grid.png"
    target.write_bytes(b"keep me")
    assert main(["generate", "dcgan-digits", "-n", "1", "-o", str(target)]) == 2
    assert "add --force" in capsys.readouterr().err
    assert target.read_bytes() == b"keep me"


IMAGES = ["images", "natural", "--split", "test", "--size", "16"]  # astronaut, flower


def test_images_leave_existing_files_alone_without_force(tmp_path, capsys):
    (tmp_path / "flower.png").write_bytes(b"my own flower")
    (tmp_path / "notes.txt").write_bytes(b"mine")
    before = _files(tmp_path)
    assert main([*IMAGES, "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "flower.png" in err and "--force" in err and str(tmp_path) in err
    assert _files(tmp_path) == before  # nothing written, not even astronaut.png


def test_images_force_replaces_only_their_own_names(tmp_path):
    (tmp_path / "flower.png").write_bytes(b"my own flower")
    (tmp_path / "notes.txt").write_bytes(b"mine")
    assert main([*IMAGES, "--force", "-o", str(tmp_path)]) == 0
    assert Image.open(tmp_path / "flower.png").size == (16, 16)
    assert (tmp_path / "notes.txt").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "astronaut.png", "flower.png", "notes.txt"]


def test_images_refuse_a_file_as_the_folder(tmp_path, capsys):
    (tmp_path / "photos").write_bytes(b"a file")
    assert main([*IMAGES, "-o", str(tmp_path / "photos")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert (tmp_path / "photos").read_bytes() == b"a file"


# ---- the Python API ----

@pytest.fixture(scope="module")
def clean():
    return np.random.default_rng(3).random((SIZE, SIZE, 3), dtype=np.float32)


def _with(image, value):
    image = image.copy()
    image[5, 7, 1] = value
    return image


@pytest.mark.parametrize("case, message", [
    ("nan", "NaN or infinite"),
    ("inf", "NaN or infinite"),
    ("-inf", "NaN or infinite"),
    ("0..255", "divide by 255"),
    ("4 channels", r"must be \(H, W, 3\)"),
    ("1 channel", r"must be \(H, W, 3\)"),
    ("batch", r"must be \(H, W, 3\)"),
    ("empty", r"H, W >= 1"),
    ("tile 0", "tile must be an int >= 1"),
    ("tile -8", "tile must be an int >= 1"),
    ("overlap -1", "overlap must be an int >= 0"),
])
def test_bad_images_raise_a_value_error_saying_what_is_expected(case, message, clean, models):
    image, kwargs = clean, {}
    if case in ("nan", "inf", "-inf"):
        image = _with(clean, float(case))
    elif case == "0..255":
        image = clean * 255
    elif case == "4 channels":
        image = np.concatenate([clean, clean[..., :1]], axis=-1)
    elif case == "1 channel":
        image = clean[..., :1]
    elif case == "batch":
        image = clean[None]
    elif case == "empty":
        image = clean[:0, :0]
    else:
        key, value = case.split()
        kwargs = {key: int(value)}
    with pytest.raises(ValueError, match=message) as error:
        apply_to_image(models("unet-denoise-natural"), image, **kwargs)
    assert "\n" not in str(error.value)
    if case == "nan":
        assert "row 5, column 7" in str(error.value)


@pytest.mark.parametrize("case, message", [
    ("0..255", r"mask values must be in \[0, 1\] \(1 = hole\).*divide by 255"),
    ("nan", "mask has 1 NaN or infinite"),
    ("3 channels", r"mask must be \(32, 32, 1\) or \(32, 32\)"),
    ("another size", r"mask must be \(32, 32, 1\)"),
    ("negative", r"mask values must be in \[0, 1\]"),
])
def test_bad_masks_raise_a_value_error_saying_what_is_expected(case, message, clean, models):
    mask = np.zeros((SIZE, SIZE, 1), np.float32)
    mask[HOLE] = 1
    if case == "0..255":
        mask = mask * 255
    elif case == "nan":
        mask[0, 0] = np.nan
    elif case == "3 channels":
        mask = np.repeat(mask, 3, axis=-1)
    elif case == "another size":
        mask = mask[:-1]
    elif case == "negative":
        mask = mask - 1
    with pytest.raises(ValueError, match=message):
        apply_to_image(models("unet-inpaint-natural"), clean, mask)


def test_a_fixed_size_model_names_its_size(clean):
    model = zoo.create_model("unet", image_shape=(64, 64, 3), filters=[4, 8])
    with pytest.raises(ValueError, match=r"exactly 64x64 .* got 32x32"):
        apply_to_image(model, clean)


@pytest.mark.parametrize("model", ["unet-denoise-natural", None])
def test_apply_to_image_refuses_what_is_not_an_image_model(model, clean):
    with pytest.raises(TypeError, match="apply_to_image takes a built zoo image model"):
        apply_to_image(model, clean)


KILLED_WHILE_WRITING = """
import os, signal, sys
from PIL import Image

def save_half_then_die(self, fp, *args, **kwargs):
    with open(fp, "wb") as f:
        f.write(b"half a png")
    os.kill(os.getpid(), signal.SIGKILL)

Image.Image.save = save_half_then_die
from zoo_cli.main import main
main(sys.argv[1:])
"""


def test_a_sigkill_while_writing_leaves_the_old_output_and_one_hidden_file_the_next_run_replaces(
        photo, tmp_path):
    import signal
    import subprocess
    import sys

    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    argv = ["predict", "unet-denoise-natural", str(photo), "-o", str(target), "--force"]
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_WRITING, *argv],
                            capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.png.partial", "out.png",
                                                          "photo.png"]
    assert main(argv) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png", "photo.png"]
    assert Image.open(target).size == Image.open(photo).size


def _photo_of(array):
    return _write(np.asarray(array))


INPUT_IMAGES = {
    # file -> None (read and denoised: same size out) or the words of the one-line error
    "empty file": (_write(b""), "cannot be read"),
    "text file": (_write(b"not an image\n"), "cannot be read"),
    "truncated PNG": (_truncated, "cannot be read"),
    "16-bit grey": (_photo_of(np.random.default_rng(4).integers(0, 65535, (40, 50))
                              .astype(np.uint16)), None),
    "1 x 1 pixel": (_photo_of(np.full((1, 1, 3), 128, np.uint8)), None),
    "3 x 200 sliver": (_photo_of(np.random.default_rng(5).integers(0, 256, (3, 200, 3))
                                 .astype(np.uint8)), None),
    "RGBA": (_photo_of(np.random.default_rng(6).integers(0, 256, (30, 30, 4))
                       .astype(np.uint8)), None),
}


@pytest.mark.parametrize("case", INPUT_IMAGES)
def test_input_images_of_every_kind_are_read_or_refused_in_one_line(case, tmp_path, capsys,
                                                                    cached):
    write, message = INPUT_IMAGES[case]
    image = tmp_path / "in.png"
    write(image)
    out = tmp_path / "out.png"
    code = main(["predict", "unet-denoise-natural", str(image), "-o", str(out)])
    err = capsys.readouterr().err
    if message is None:
        assert code == 0, err
        with Image.open(image) as original, Image.open(out) as result:
            assert result.size == original.size and result.mode == "RGB"
    else:
        assert code == 2 and message in err and str(image) in err and err.count("\n") == 1
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"] + (
        ["out.png"] if message is None else [])


def test_an_image_too_large_to_decode_safely_is_refused(photo, tmp_path, capsys, cached,
                                                        monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # the photo is far over 2 x 100
    out = tmp_path / "out.png"
    code = main(["predict", "unet-denoise-natural", str(photo), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and str(photo) in err and err.count("\n") == 1, err
    assert not out.exists()
