"""Percentile activation ranges for int8 files (`export.activation_ranges`): which layers
are narrowed, and that their ranges in the file shrink while the image-valued ones keep
[0, 1]."""

import numpy as np
import pytest

import zoo
from export import representative_dataset
from export.activation_ranges import PERCENTILES, least_error_range, narrowed_layer_names
from export.signatures import serving_model
from export.tflite import convert_model, float_layer_names

pytestmark = pytest.mark.xdist_group("export")

SIZE = (64, 64)


@pytest.fixture(scope="module")
def inpainter():
    return zoo.create_model("unet", filters=(4, 8), mask_input=True, pixel_unshuffle=2,
                            fill_holes={"steps": 2, "biharmonic_steps": 2})


def test_narrowed_layers_start_at_the_first_weights_and_leave_out_the_output_layers(
        inpainter):
    network = serving_model(inpainter)
    names = narrowed_layer_names(network)
    order = [layer.name for layer in network.layers]
    assert names[0] == "encoder0_conv1"
    assert "pixel_unshuffle" not in names and "fill_and_mask" not in names
    assert "decoder0_conv2" in names and "to_image" in names
    assert not set(names) & set(float_layer_names(network))
    assert names == [name for name in order if name in names]  # graph order


def _activation_ranges(tflite_bytes):
    """{tensor name: (low, high)} of the file's int8 activations (not weights)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=tflite_bytes)
    ranges = {}
    for tensor in interpreter.get_tensor_details():
        scales = tensor["quantization_parameters"]["scales"]
        if tensor["dtype"] == np.int8 and len(scales) == 1 and "act" in tensor["name"]:
            zero = tensor["quantization_parameters"]["zero_points"][0]
            ranges[tensor["name"]] = (scales[0] * (-128 - zero), scales[0] * (127 - zero))
    return ranges


def test_percentile_ranges_are_narrower_than_min_max_and_cover_zero():
    # a denoiser without a hole fill: two conversions of it take a third of the time
    model = zoo.create_model("unet", filters=(4, 8), residual=True)
    data = representative_dataset(model, SIZE, count=8)
    narrowed = _activation_ranges(convert_model(model, "int8", data, SIZE))
    calibrated = _activation_ranges(convert_model(model, "int8", data, SIZE,
                                                  range_percentiles=None))
    assert narrowed and narrowed.keys() == calibrated.keys()
    widths = {name: (narrowed[name][1] - narrowed[name][0],
                     calibrated[name][1] - calibrated[name][0]) for name in narrowed}
    # int8 rounds a range to its grid: "not wider" allows one step
    assert all(new <= old * (1 + 2 / 255) for new, old in widths.values())
    assert any(new < 0.95 * old for new, old in widths.values())
    assert all(low <= 0 <= high for low, high in narrowed.values())


def _grid_error(values, low, high):
    """Mean squared error of rounding and clipping `values` to 256 levels in [low, high]."""
    step = (high - low) / 255
    return np.mean((np.clip(np.round((values - low) / step), 0, 255) * step + low
                    - values) ** 2)


def test_least_error_range_picks_the_candidate_that_rounds_best():
    rng = np.random.default_rng(0)
    heavy = rng.laplace(0.0, 1.0, 200_000)  # a tail whose rare values coarsen every step
    candidates = [tuple(np.percentile(heavy, [100 - p, p])) for p in PERCENTILES]
    errors = [_grid_error(heavy, low, high) for low, high in candidates]
    low, high = least_error_range(heavy)
    assert (low, high) == pytest.approx(candidates[int(np.argmin(errors))])
    assert heavy.min() < low < 0 < high < heavy.max()
    assert max(errors) > 1.2 * min(errors)  # the choice matters here
    # values all above zero and bounded: nearly their whole range, and 0
    low, high = least_error_range(rng.uniform(1.0, 2.0, 100_000))
    assert low == 0.0 and high > 1.999
    # a single candidate is a fixed percentile
    assert least_error_range(heavy, (99.0,)) == pytest.approx(
        tuple(np.percentile(heavy, [1.0, 99.0])))
