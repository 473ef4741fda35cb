"""zoo.visualize (feature maps, activation statistics, labelled grids) and `zoo inspect`."""

import argparse

import keras
import numpy as np
import pytest
from PIL import Image

import zoo
from zoo import visualize
from zoo_cli.inspect_model import cmd_inspect, fit_image
from zoo_cli.model_arguments import add_inspect_parser

pytestmark = pytest.mark.xdist_group("visualize")  # module fixtures run once


@pytest.fixture(scope="module")
def unet():
    return zoo.create_model("unet", filters=[4, 8])


@pytest.fixture(scope="module")
def inpainter():
    return zoo.create_model("conv_autoencoder_inpainter", filters=[4, 8])


@pytest.fixture(scope="module")
def gan():
    return zoo.create_model("dcgan", image_shape=(16, 16, 1), latent_dim=8,
                            generator_filters=[8, 4], discriminator_filters=[4, 8])


def _images(count, height=16, width=24, channels=3, seed=0):
    return np.random.default_rng(seed).random((count, height, width, channels), np.float32)


def test_layer_names_in_graph_order(unet, gan):
    names = visualize.layer_names(unet)
    assert names.index("encoder0_conv1") < names.index("encoder0_act2") \
        < names.index("bottleneck_act2") < names.index("decoder0_act2")
    assert "image" not in names  # inputs are not listed
    acts = visualize.layer_names(unet, kind="activation")
    assert acts[:2] == ["encoder0_act1", "encoder0_act2"] and set(acts) <= set(names)
    assert visualize.layer_names(gan)[0] == "projection_reshape"  # the generator
    assert visualize.layer_names(gan, part="discriminator")[0] == "down0_conv"
    with pytest.raises(ValueError, match="Unknown kind"):
        visualize.layer_names(unet, kind="dense")


def test_default_feature_maps_halve_per_level(unet, inpainter):
    image = _images(1)[0]
    maps = visualize.feature_maps(unet, image)
    assert list(maps) == ["encoder0_act2", "encoder1_act2", "bottleneck_act2"]
    assert [m.shape for m in maps.values()] == [(16, 24, 4), (8, 12, 8), (4, 6, 16)]
    assert all(m.dtype == np.float32 for m in maps.values())
    mask = np.zeros((16, 24, 1), np.float32)
    maps = visualize.feature_maps(inpainter, image, mask=mask)
    assert [m.shape for m in maps.values()] == [(16, 24, 4), (8, 12, 8), (4, 6, 16)]


def test_map_equals_a_manual_sub_model(unet):
    image = _images(1, seed=1)[0]
    layer = "encoder1_norm1"  # batch norm: inference mode matters
    manual = keras.Model(unet.input, unet.get_layer(layer).output)
    expected = keras.ops.convert_to_numpy(manual(image[None], training=False))[0]
    got = visualize.feature_maps(unet, image, layers=[layer])[layer]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_errors_name_the_problem(unet, inpainter, gan):
    image = _images(1)[0]
    with pytest.raises(ValueError, match=r"'nope' is not a layer .*encoder0_conv1, "):
        visualize.feature_maps(unet, image, layers=["nope"])
    with pytest.raises(ValueError, match="'projection' does not output a feature map"):
        visualize.feature_maps(gan, np.zeros(8, np.float32), layers=["projection"])
    with pytest.raises(ValueError, match="inpainting model: give a mask"):
        visualize.feature_maps(inpainter, image)
    with pytest.raises(ValueError, match="takes no mask"):
        visualize.feature_maps(unet, image, mask=np.zeros((16, 24, 1), np.float32))
    with pytest.raises(ValueError, match="divisible by 4"):
        visualize.feature_maps(unet, _images(1, height=18)[0])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        visualize.feature_maps(unet, image * 3)


def test_dcgan_generator_on_latents_discriminator_on_images(gan):
    maps = visualize.feature_maps(gan, np.zeros(8, np.float32))
    assert {name: m.shape for name, m in maps.items()} == {
        "projection_act": (4, 4, 8), "up0_act": (8, 8, 8), "up1_act": (16, 16, 4)}
    maps = visualize.feature_maps(gan, _images(1, 16, 16, 1)[0])
    assert [m.shape for m in maps.values()] == [(8, 8, 4), (4, 4, 8)]


def test_activation_stats_find_a_dead_layer():
    model = zoo.create_model("unet", filters=[4, 8])
    images = _images(3, seed=2)
    stats = visualize.activation_stats(model, images)
    assert [row["name"] for row in stats] == visualize.layer_names(model, "activation")
    row = stats[1]
    assert row["name"] == "encoder0_act2" and row["shape"] == (16, 24, 4)
    assert row["dead_channel_fraction"] < 1.0 and 0 < row["zero_fraction"] < 1
    values = np.stack([visualize.feature_maps(model, x, ["encoder0_act2"])["encoder0_act2"]
                       for x in images])
    for key, expected in (("mean", values.mean()), ("std", values.std()),
                          ("min", values.min()), ("max", values.max()),
                          ("zero_fraction", np.mean(values == 0))):
        assert row[key] == pytest.approx(float(expected), rel=1e-4, abs=1e-6), key

    conv = model.get_layer("encoder0_conv2")
    conv.set_weights([np.zeros_like(w) for w in conv.get_weights()])
    stats = {row["name"]: row for row in visualize.activation_stats(model, images, batch_size=2)}
    assert stats["encoder0_act2"]["dead_channel_fraction"] == 1.0
    assert stats["encoder0_act2"]["zero_fraction"] == 1.0
    assert stats["encoder0_act1"]["dead_channel_fraction"] < 1.0
    table = visualize.format_stats(list(stats.values()))
    assert "encoder0_act2" in table and "4/4" in table


def test_activation_stats_with_masks(inpainter):
    images = _images(2)
    stats = visualize.activation_stats(inpainter, images, layers=["bottleneck_act2"],
                                       mask=np.zeros((16, 24, 1), np.float32))
    assert stats[0]["shape"] == (4, 6, 16)
    with pytest.raises(ValueError, match="give a mask"):
        visualize.activation_stats(inpainter, images)


def test_feature_map_grid_tiles_normalized_channels():
    maps = np.random.default_rng(3).normal(size=(8, 12, 6)).astype(np.float32) * 50
    grid = visualize.feature_map_grid(maps, channels=4, scale=1)
    assert grid.shape == (2 * 8 + 2, 2 * 12 + 2, 3) and grid.dtype == np.uint8
    first = grid[:8, :12, 0]
    assert first.min() == 0 and first.max() == 255  # min-max normalized per channel
    assert (grid[8:10] == 255).all()  # the gap
    big = visualize.feature_map_grid(maps[:4, :4], channels=16)  # 6 channels, upscaled
    assert big.shape[0] > 4 * 2 and big.shape == visualize.feature_map_grid(
        maps[:4, :4], scale=visualize.MIN_TILE_SIDE // 4).shape
    assert visualize.feature_map_grid(np.zeros((4, 4, 2)), scale=1).max() == 255  # gaps only


def test_sample_grid_and_before_after_sizes():
    grid = visualize.sample_grid(_images(5, 8, 10, 1), columns=3)
    assert grid.shape == (2 * 8 + 2, 3 * 10 + 4, 3) and grid.dtype == np.uint8
    rows, height, width = 3, 20, 48
    columns = {"input": _images(rows, height, width), "model": _images(rows, height, width, 1),
               "target": _images(rows, height, width)}
    picture = visualize.before_after(columns)
    caption = visualize.caption_height()
    assert caption > 5
    assert picture.shape == (caption + rows * height + (rows - 1) * 2, 3 * width + 2 * 2, 3)
    np.testing.assert_array_equal(
        picture[caption:caption + height, :width],
        np.round(columns["input"][0] * 255).astype(np.uint8))
    assert (picture[:caption] < 128).any()  # the caption text is drawn
    narrow = visualize.before_after({"a long caption": _images(2, 8, 8)})
    assert narrow.shape[1] > 8  # widened to fit its caption
    with pytest.raises(ValueError, match="same"):
        visualize.before_after({"a": _images(2), "b": _images(3)})


def test_save_png_is_atomic_and_readable(tmp_path):
    path = visualize.save_png(visualize.sample_grid(_images(4, 8, 8)), tmp_path / "out" / "g.png")
    with Image.open(path) as image:
        assert image.size == (8 * 2 + 2, 8 * 2 + 2) and image.mode == "RGB"
    visualize.save_png(np.ones((5, 7), np.float32), path)  # float, grayscale; replaces
    with Image.open(path) as image:
        assert image.size == (7, 5)
    assert sorted(p.name for p in path.parent.iterdir()) == ["g.png"]


def test_fit_image_crops_to_multiples(unet):
    image = _images(1, 37, 50)[0]
    fitted, mask = fit_image(image, unet, np.zeros((37, 50, 1), np.float32), max_size=None)
    assert fitted.shape == (36, 48, 3) and mask.shape == (36, 48, 1)
    fitted, _ = fit_image(_images(1, 100, 300)[0], unet, max_size=64)
    assert fitted.shape[1] == 64 and fitted.shape[0] % 4 == 0


@pytest.fixture(scope="module")
def files(tmp_path_factory, unet, inpainter):
    folder = tmp_path_factory.mktemp("inspect")
    unet.save(folder / "unet.keras")
    inpainter.save(folder / "inpainter.keras")
    image = np.round(_images(1, 37, 50)[0] * 255).astype(np.uint8)
    Image.fromarray(image).save(folder / "photo.png")
    hole = np.zeros((37, 50), np.uint8)
    hole[10:20, 10:30] = 255
    Image.fromarray(hole).save(folder / "hole.png")
    return folder


def _cli(argv):
    parser = argparse.ArgumentParser(prog="zoo")
    add_inspect_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["inspect", *argv])
    assert args.run == "zoo_cli.inspect_model:cmd_inspect"
    return cmd_inspect(args)


def test_cli_writes_feature_map_png(files, tmp_path, capsys):
    out = tmp_path / "maps.png"
    assert _cli([str(files / "unet.keras"), str(files / "photo.png"), "-o", str(out),
                 "--stats"]) == 0
    printed = capsys.readouterr().out
    assert "encoder0_act1" in printed and "dead ch" in printed  # the stats table
    assert "layers=encoder0_act2,encoder1_act2,bottleneck_act2" in printed
    with Image.open(out) as picture:
        assert picture.mode == "RGB" and picture.size[1] > 3 * visualize.caption_height()
    assert _cli([str(files / "inpainter.keras"), str(files / "photo.png"), "--mask",
                 str(files / "hole.png"), "--layer", "encoder1_act1", "-o", str(out)]) == 0
    assert "layers=encoder1_act1" in capsys.readouterr().out


def test_cli_lists_layers(files, capsys):
    assert _cli([str(files / "unet.keras"), "--list-layers"]) == 0
    lines = capsys.readouterr().out.split()
    assert lines == visualize.layer_names(keras.saving.load_model(files / "unet.keras"))


def test_cli_errors(files, tmp_path):
    missing = tmp_path / "no-such-photo.png"
    args = argparse.Namespace(name=str(files / "unet.keras"), image=str(missing),
                              output=str(tmp_path / "m.png"), layer=None, mask=None,
                              stats=False, list_layers=False, channels=16, size=256, seed=0)
    with pytest.raises(FileNotFoundError, match="no-such-photo.png"):
        cmd_inspect(args)
    with pytest.raises(FileNotFoundError, match="missing.keras"):
        _cli([str(tmp_path / "missing.keras"), str(files / "photo.png"), "-o", "x.png"])
    with pytest.raises(ValueError, match="give --mask"):
        _cli([str(files / "inpainter.keras"), str(files / "photo.png"), "-o", "x.png"])
    with pytest.raises(ValueError, match="not a layer"):
        _cli([str(files / "unet.keras"), str(files / "photo.png"), "--layer", "nope",
              "-o", str(tmp_path / "m.png")])
    with pytest.raises(ValueError, match="Unknown model 'no-such-preset'"):
        _cli(["no-such-preset", str(files / "photo.png"), "-o", "x.png"])
    with pytest.raises(ValueError, match="-o"):
        _cli([str(files / "unet.keras"), str(files / "photo.png")])
    assert not (tmp_path / "m.png").exists()
