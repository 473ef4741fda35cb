"""Every model card and headline is what `benchmarks/quality.py --write-cards` writes from
the committed results, so a card's numbers are the benchmark's."""

import json
from pathlib import Path

import pytest

from zoo.presets import PRESETS_DIR, metadata, preset_names

ROOT = Path(__file__).resolve().parents[1]

from training import model_cards  # noqa: E402

RESULTS = json.loads((ROOT / "benchmarks" / "results" / "quality.json").read_text())


def _figure(name):
    found = [f for f in ("before_after.png", "samples.png") if (PRESETS_DIR / name / f).exists()]
    return found[0] if found else None


@pytest.mark.parametrize("name", preset_names())
def test_card_and_headline_follow_from_the_results(name):
    meta = metadata(name)
    card = (PRESETS_DIR / name / "README.md").read_text()
    assert card == model_cards.card_text(RESULTS, meta, _figure(name))
    assert meta["headline"] == model_cards.headline(RESULTS, meta)
    assert meta["sha256"] in card and f"{meta['training_steps']:,} steps" in card


@pytest.mark.parametrize("name", preset_names())
def test_a_card_says_what_would_close_each_missed_target(name):
    meta = metadata(name)
    int8 = model_cards.int8_quality_verdict(RESULTS, name)
    verdicts = (model_cards.VERDICTS[meta["task"]](RESULTS, name)
                + model_cards.latency_verdict(RESULTS, name)
                + int8 + model_cards.big_photo_verdict(name))
    card = (PRESETS_DIR / name / "README.md").read_text()
    missed = [line for line in verdicts if "missed" in line]
    assert ("## What would close the gap" in card) == bool(missed)
    assert all(line in card for line in verdicts)
    int8_closing = model_cards.CLOSING["int8_quality"][1:]  # its first letter is capitalized
    assert (int8_closing in card) == any("missed" in line for line in int8)


@pytest.mark.parametrize("table", ["repair_data_text", "inpainting_table", "denoising_table",
                                   "segmentation_table", "latency_table", "generation_table"])
def test_docs_quality_tables_are_the_benchmarks(table):
    from training import result_tables

    assert getattr(result_tables, table)(RESULTS) in (ROOT / "docs" / "benchmarks.md").read_text()


def test_readme_preset_table_and_docs_targets_are_the_benchmarks():
    assert model_cards.readme_table(RESULTS) in (ROOT / "README.md").read_text()
    assert model_cards.targets_summary(RESULTS) in (ROOT / "docs" / "benchmarks.md").read_text()


def test_int8_quality_verdict_compares_each_group_with_the_keras_model():
    results = {"inpainting": {"inp": {"strokes": {"psnr": 30.0}, "box": {"psnr": 20.0}}},
               "denoising": {"den (sigma given)": {"sigma-25": {"psnr": 35.0}}},
               "tflite_int8": {"inp": {"test_psnr": {"strokes": 29.9, "box": 19.5}},
                               "den": {"test_psnr": {"sigma-25": 34.8}},
                               "old": {"seconds": 0.1}}}
    (line,) = model_cards.int8_quality_verdict(results, "inp")
    assert "strokes 29.90 dB (-0.10), box 19.50 dB (-0.50)" in line
    assert "**missed by 0.20 dB**" in line
    (line,) = model_cards.int8_quality_verdict(results, "den")
    assert "sigma 25 34.80 dB (-0.20)" in line and "**met**" in line
    assert model_cards.int8_quality_verdict(results, "old") == []  # not scored by that run
    results["denoising"]["blind"] = {"sigma-25": {"psnr": 30.0}}  # no strength input
    results["tflite_int8"]["blind"] = {"test_psnr": {"sigma-25": 29.9}}
    (line,) = model_cards.int8_quality_verdict(results, "blind")
    assert "sigma 25 29.90 dB (-0.10)" in line and "**met**" in line


def test_inpainting_targets_follow_the_family():
    """The U-Net inpainter must beat the best peer by 1 dB (aim 2), the autoencoder must be
    at least level with it, on each group."""
    def results(gap):
        groups = ("strokes", "strokes-thin", "box")
        return {"inpainting": {"peer": {g: {"psnr": 30.0} for g in groups},
                               "unet-inpaint-photos": {g: {"psnr": 30.0 + gap} for g in groups},
                               "inpainter-photos": {g: {"psnr": 30.0 + gap} for g in groups}},
                "repair_data": {"peers": {"inpainting": ["peer"]}}}

    unet = model_cards.inpainting_verdicts(results(1.5), "unet-inpaint-photos")
    assert [line.split(": ")[0] for line in unet] == ["- strokes-thin", "- box"]
    assert all("Target +1 dB (aim +2): **met; aim missed by 0.50 dB**" in line for line in unet)
    (line, _) = model_cards.inpainting_verdicts(results(0.5), "unet-inpaint-photos")
    assert "**missed by 0.50 dB**" in line
    (line, _) = model_cards.inpainting_verdicts(results(0.1), "inpainter-photos")
    assert "+0.10 dB. Target at least level: **met**." in line
    (line, _) = model_cards.inpainting_verdicts(results(-0.2), "inpainter-photos")
    assert "**missed by 0.20 dB**" in line


def test_big_photo_verdict_compares_the_command_with_biharmonics_whole_job(tmp_path):
    def row(seconds):
        return {"seconds": seconds, "peak_mib": 2000.0, "process_seconds": seconds + 1}

    result = {"command": "python benchmarks/big_photo_inpaint.py --preset inp",
              "size": [4000, 3000], "hole_fraction": 0.0111, "auto_vs_keras_hole_psnr": 48.2,
              "results": {"scikit-image biharmonic": row(3.5),
                          "scikit-image biharmonic, whole job": row(5.5),
                          "zoo predict inp": row(6.1),
                          "zoo predict inp --runtime keras": row(17.6),
                          "apply_to_image inp": row(9.4)}}
    path = tmp_path / "big_photo_inpaint.json"
    path.write_text(json.dumps(result))
    (line,) = model_cards.big_photo_verdict("inp", path)
    assert "`zoo predict` 6.1 s" in line and "`--runtime keras` 17.6 s" in line
    assert "alone 9.4 s" in line and "48.2 dB" in line
    assert "vs 5.5 s for scikit-image biharmonic doing the same job" in line
    assert "the call alone 3.5 s" in line
    assert "12 MP photo (4000 x 3000) with 1.11 %" in line and "**missed**" in line
    assert "Masked PSNR" not in line  # a run that did not score the holes
    result["results"]["zoo predict inp"] = {**row(5.0), "hole_psnr": 40.5}
    result["results"]["scikit-image biharmonic, whole job"]["hole_psnr"] = 40.9
    path.write_text(json.dumps(result))
    assert "40.50 dB against biharmonic's 40.90" in model_cards.big_photo_verdict("inp", path)[0]
    result["results"]["zoo predict inp"] = row(5.0)  # slower than the call, faster than the job
    path.write_text(json.dumps(result))
    assert "**met**" in model_cards.big_photo_verdict("inp", path)[0]
    assert model_cards.big_photo_verdict("other", path) == []  # not run on that preset
    del result["results"]["scikit-image biharmonic, whole job"]  # a run before the job rows
    path.write_text(json.dumps(result))
    assert model_cards.big_photo_verdict("inp", path) == []
    assert model_cards.big_photo_verdict("inp", tmp_path / "absent.json") == []
