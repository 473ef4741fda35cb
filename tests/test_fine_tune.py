"""Fine-tuning in two lines: `batches_for(model, data)` then `model.fit(batches)`; the
batches change every epoch without a callback, validation batches never do."""

import numpy as np
import pytest
from PIL import Image

import zoo
from training.datasets import load_images
from training.pipeline import batches_for

pytestmark = pytest.mark.xdist_group("fine_tune")  # module fixtures run once


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("my_photos")
    for index, image in enumerate(load_images("natural", "train")[:4]):
        Image.fromarray((image * 255).astype(np.uint8)).save(folder / f"photo{index}.png")
    return folder


def test_an_inpainter_fits_on_a_folder_with_new_batches_every_epoch(photo_folder):
    model = zoo.create_model("unet", filters=[4, 8], mask_input=True)
    model.compile()
    batches = batches_for(model, photo_folder, crop_size=(32, 32), batch_size=2, steps=2)
    first = batches[0]
    history = model.fit(batches, epochs=2, verbose=0).history
    assert len(history["loss"]) == 2 and batches.epoch == 2
    x0, y0 = first
    assert set(x0) == {"image", "mask"} and x0["image"].shape == (2, 32, 32, 3)
    assert not np.array_equal(batches.batch_at(1, 0)[1], y0)  # epoch 1 drew other crops


def test_a_denoiser_with_a_strength_input_gets_it_and_validation_stays_fixed():
    model = zoo.create_model("unet", filters=[4, 8], residual=True, noise_level_input=True)
    validation = batches_for(model, "natural", split="validation", crop_size=(32, 32),
                             batch_size=2, steps=1)
    (x, y), = [validation[0]]
    assert set(x) == {"image", "noise_level"} and x["noise_level"].shape == (2, 1)
    validation.on_epoch_end()
    np.testing.assert_array_equal(validation[0][1], y)


def test_an_unknown_dataset_is_named():
    model = zoo.create_model("unet", filters=[4, 8])
    with pytest.raises(ValueError, match="Unknown dataset 'no_such_folder'"):
        batches_for(model, "no_such_folder")
