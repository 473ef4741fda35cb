"""`zoo.inference.apply_to_image` (any size, tiling) and `zoo predict` / `generate` / `list`."""

import numpy as np
import pytest
from PIL import Image

import zoo
from training.datasets import load_images
from training.degradations import add_gaussian_noise
from zoo.inference import apply_to_image
from zoo.metrics import image_psnr
from zoo_cli.main import main

pytestmark = pytest.mark.xdist_group("predict")  # module fixtures run once


@pytest.fixture(scope="module")
def photo():
    """A 100 x 140 crop of a validation photo (odd sizes: not multiples of 2**depth)."""
    coffee = load_images("natural", "validation")[0]
    return coffee[100:201, 150:287].copy()  # 101 x 137


@pytest.fixture(scope="module")
def denoiser():
    return zoo.load("unet-denoise-natural", compile=False)


def _save(array, path):
    Image.fromarray(np.round(np.clip(array, 0, 1) * 255).astype(np.uint8).squeeze()).save(path)
    return path


def test_any_size_comes_back_at_its_size_and_denoised(photo, denoiser):
    noisy = add_gaussian_noise(np.random.default_rng(0), photo, (25, 25))[0]
    out = apply_to_image(denoiser, noisy)
    assert out.shape == photo.shape
    assert image_psnr(out, photo) > image_psnr(noisy, photo) + 3


def test_tiles_join_like_one_pass(photo, denoiser):
    whole = apply_to_image(denoiser, photo, tile=512)
    tiled = apply_to_image(denoiser, photo, tile=64, overlap=16)
    assert tiled.shape == whole.shape
    assert np.mean(np.abs(tiled - whole)) < 0.01


def test_inpainting_keeps_known_pixels_and_checks_the_mask(photo):
    model = zoo.load("unet-inpaint-natural", compile=False)
    mask = np.zeros(photo.shape[:2] + (1,), np.float32)
    mask[30:60, 40:90] = 1
    out = apply_to_image(model, photo * (1 - mask), mask)
    known = mask[..., 0] == 0
    np.testing.assert_allclose(out[known], photo[known], atol=1e-5)
    assert (image_psnr(out[~known], photo[~known])
            > image_psnr(0 * photo[~known], photo[~known]) + 5)
    with pytest.raises(ValueError, match=r"mask must be \(101, 137, 1\)"):
        apply_to_image(model, photo, mask[:-1])
    with pytest.raises(ValueError, match="give a mask"):
        apply_to_image(model, photo)


def test_bad_images_are_named(denoiser):
    with pytest.raises(ValueError, match=r"values must be in \[0, 1\]"):
        apply_to_image(denoiser, np.full((32, 32, 3), 255.0, np.float32))
    with pytest.raises(ValueError, match=r"must be \(H, W, 3\)"):
        apply_to_image(denoiser, np.zeros((32, 32), np.float32))


def test_predict_cli_denoises_a_png(tmp_path, photo, capsys):
    noisy = add_gaussian_noise(np.random.default_rng(1), photo, (25, 25))[0]
    source = _save(noisy, tmp_path / "noisy.png")
    target = tmp_path / "out.png"
    assert main(["predict", "unet-denoise-natural", str(source), "-o", str(target)]) == 0
    out = np.asarray(Image.open(target), np.float32) / 255
    assert out.shape == photo.shape
    assert image_psnr(out, photo) > image_psnr(noisy, photo) + 3


def test_predict_cli_inpaints_and_rejects_a_wrong_mask(tmp_path, photo, capsys):
    source = _save(photo, tmp_path / "photo.png")
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[20:50, 30:70] = 1
    mask_path = _save(mask, tmp_path / "mask.png")
    target = tmp_path / "filled.png"
    assert main(["predict", "unet-inpaint-natural", str(source), "--mask", str(mask_path),
                 "-o", str(target)]) == 0
    filled = np.asarray(Image.open(target), np.float32) / 255
    assert filled.shape == photo.shape
    wrong = _save(mask[:-3], tmp_path / "small_mask.png")
    assert main(["predict", "unet-inpaint-natural", str(source), "--mask", str(wrong),
                 "-o", str(tmp_path / "x.png")]) == 2
    assert "must match" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_predict_cli_segments_a_shapes_scene(tmp_path, capsys):
    from training.datasets import shapes_scenes

    images, labels = shapes_scenes("test", 1, 96, 80)
    source = _save(images[0], tmp_path / "scene.png")
    target = tmp_path / "labels.png"
    assert main(["predict", "unet-segment-shapes", str(source), "-o", str(target)]) == 0
    assert np.asarray(Image.open(target)).shape == (96, 80, 3)
    assert "class_fractions" in capsys.readouterr().out


def test_generate_cli_writes_a_grid(tmp_path, capsys):
    target = tmp_path / "grid.png"
    assert main(["generate", "dcgan-digits", "-n", "4", "--seed", "3", "-o", str(target)]) == 0
    grid = np.asarray(Image.open(target))
    assert grid.shape == (2 * 32 + 2, 2 * 32 + 2, 3)
    assert grid.std() > 10  # not a blank image
    assert main(["generate", "unet-denoise-natural", "-o", str(tmp_path / "g.png")]) == 2
    assert "not a generator" in capsys.readouterr().err


def test_list_shows_presets_with_task_and_metric(capsys):
    assert main(["list", "--task", "denoise"]) == 0
    out = capsys.readouterr().out
    assert "unet-denoise-natural" in out and "denoise" in out
    assert "dcgan-digits" not in out
