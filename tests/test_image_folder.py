"""Users' image folders: scanning, corrupt files, mode / channel normalisation, errors,
splitting by file; and the `training.images` helpers underneath."""

import io

import numpy as np
import pytest
from PIL import Image

from training.image_folder import ImageDecodeError, ImageFolder, split_folder
from training.images import resize_to_cover, to_channels, to_float_image

RNG = np.random.default_rng(0)


def _rgb(height=12, width=16):
    return (RNG.random((height, width, 3)) * 255).astype(np.uint8)


def _jpeg_bytes(height=48, width=48):
    buffer = io.BytesIO()
    Image.fromarray(_rgb(height, width)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "deep" / "er").mkdir(parents=True)
    Image.fromarray(_rgb()).save(tmp_path / "a" / "rgb.png")
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[:5] = (255, 0, 0, 255)  # top half opaque red, bottom half fully transparent black
    Image.fromarray(rgba).save(tmp_path / "a" / "b" / "rgba.png")
    Image.fromarray(_rgb()[..., 0]).save(tmp_path / "a" / "b" / "gray.PNG")
    Image.fromarray(np.full((6, 7), 32768, np.uint16)).save(tmp_path / "deep" / "sixteen.png")
    Image.fromarray(_rgb()).convert("P").save(tmp_path / "palette.png")
    (tmp_path / "photo.JPG").write_bytes(_jpeg_bytes())
    Image.fromarray(_rgb()).save(tmp_path / "deep" / "er" / "pic.webp")
    Image.fromarray(_rgb()).save(tmp_path / "pic.bmp")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees on display
    Image.fromarray(_rgb(10, 20)).save(tmp_path / "rotated.jpeg", exif=exif)
    (tmp_path / "corrupt.png").write_bytes(RNG.integers(0, 256, 500, np.uint8).tobytes())
    data = _jpeg_bytes()
    (tmp_path / "a" / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_scan_skips_corrupt_files_with_a_warning(folder):
    with pytest.warns(UserWarning, match="skipped 1 of 11 unreadable"):
        images = ImageFolder(folder)
    # 9 good files + the truncated JPEG, whose header is fine; .txt is ignored.
    assert len(images) == 10
    assert [path.name for path, _ in images.skipped] == ["corrupt.png"]
    names = [p.relative_to(folder).as_posix() for p in images.paths]
    assert names == sorted(names) and "a/b/gray.PNG" in names and "photo.JPG" in names
    assert "ImageFolder(" in repr(images)


@pytest.mark.parametrize("channels", [1, 3])
def test_every_mode_becomes_float_in_unit_range(folder, channels):
    with pytest.warns(UserWarning):
        images = ImageFolder(folder, channels=channels, full_check=True)
    assert len(images) == 9  # full decoding also skips the truncated JPEG
    assert {p.name for p, _ in images.skipped} == {"corrupt.png", "truncated.jpg"}
    for image in images:
        assert image.dtype == np.float32 and image.ndim == 3 and image.shape[2] == channels
        assert 0.0 <= image.min() and image.max() <= 1.0
    by_name = {p.name: i for i, p in enumerate(images.paths)}
    rgba = images[by_name["rgba.png"]]
    assert np.allclose(rgba[5:], 1.0)  # transparent pixels composited over white
    expected_red = [0.299] if channels == 1 else [1.0, 0.0, 0.0]
    np.testing.assert_allclose(rgba[0, 0], expected_red, atol=1e-6)
    np.testing.assert_allclose(images[by_name["sixteen.png"]], 32768 / 65535, rtol=1e-6)
    assert images[by_name["rotated.jpeg"]].shape[:2] == (20, 10)  # EXIF orientation applied


def test_decode_failure_on_access_names_the_file(folder):
    with pytest.warns(UserWarning):
        images = ImageFolder(folder)
    index = [p.name for p in images.paths].index("truncated.jpg")
    with pytest.raises(ImageDecodeError, match="truncated.jpg.*full_check=True"):
        images[index]


def test_sequence_behaviour_and_min_size(folder):
    with pytest.warns(UserWarning):
        images = ImageFolder(folder, min_size=(40, 30), full_check=True)
    assert images[-1].shape == images[len(images) - 1].shape
    assert len(images[1:3]) == 2
    with pytest.raises(IndexError):
        images[len(images)]
    for image in images:
        assert image.shape[0] >= 40 and image.shape[1] >= 30
        assert 0.0 <= image.min() and image.max() <= 1.0


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        ImageFolder(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="got a file"):
        ImageFolder(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match=r"no \.jpg/\.jpeg/\.png/\.webp/\.bmp images under"):
        ImageFolder(tmp_path)
    (tmp_path / "x.png").write_bytes(b"not a png")
    (tmp_path / "y.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match="2 image files were found .* but none could be read"):
        ImageFolder(tmp_path)


def test_split_folder_by_file(folder):
    with pytest.warns(UserWarning):
        images = ImageFolder(folder)
    train, validation = split_folder(images, 0.2, seed=1)
    assert len(validation) == 2 and len(train) == 8
    assert set(train).isdisjoint(validation) and set(train) | set(validation) == set(range(10))
    again = split_folder(images, 0.2, seed=1)
    np.testing.assert_array_equal(again[1], validation)
    assert len(split_folder(2, 0.01)[1]) == 1 and len(split_folder(2, 0.01)[0]) == 1
    assert len(split_folder(1, 0.5)[1]) == 0
    with pytest.raises(ValueError, match="validation_fraction"):
        split_folder(images, 1.0)


# --- training.images --------------------------------------------------------------


def test_to_float_image_dtypes():
    assert to_float_image(np.full((2, 3), 255, np.uint8)).shape == (2, 3, 1)
    np.testing.assert_allclose(to_float_image(np.array([[65535]], np.uint16)), 1.0)
    assert to_float_image(np.array([[True, False]])).dtype == np.float32
    clipped = to_float_image(np.array([[-1.0, 2.0, np.nan]]))
    np.testing.assert_array_equal(clipped[..., 0], [[0, 1, 0]])
    with pytest.raises(TypeError, match="int64"):
        to_float_image(np.zeros((2, 2), np.int64))


def test_to_channels_and_resize_to_cover():
    gray = np.full((2, 2, 1), 0.25, np.float32)
    np.testing.assert_allclose(to_channels(gray, 3), 0.25)
    rgb = np.zeros((1, 1, 3), np.float32)
    rgb[..., 1] = 1.0
    np.testing.assert_allclose(to_channels(rgb, 1), 0.587, rtol=1e-6)
    la = np.array([[[0.0, 0.5]]], np.float32)  # black at half opacity over white
    np.testing.assert_allclose(to_channels(la, 3), 0.5)
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        to_channels(rgb, 2)
    image = np.random.default_rng(0).random((10, 20, 3)).astype(np.float32)
    assert resize_to_cover(image, 8, 16) is image
    covered = resize_to_cover(image, 30, 30)
    assert covered.shape == (30, 60, 3) and 0.0 <= covered.min() and covered.max() <= 1.0
