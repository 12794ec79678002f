"""The maco figure (Fourier vs MACO on deep InceptionV1 units): its numbers, files and
checks on random weights under the step cap, the app, and (slow) the real weights."""

import json

import numpy as np
import pytest
from PIL import Image
from program_testlib import run_app

from lucid2.modelzoo import InceptionV1
from lucid2.recipes.figures import get_spec, save_figure
from lucid2.recipes.figures.maco import (COLUMN_TITLES, DEFAULT_CHANNELS, DEFAULT_CLASSES,
                                         maco_figure)
from lucid2.recipes.figures.registry import MACO_STEPS

CAP = "2"
SIZE = 64


@pytest.fixture(scope="module")
def random_inception():
    return InceptionV1(weights=None)


def _check_record(record: dict, size: int) -> None:
    for name in ("fourier", "maco"):
        numbers = record[name]
        assert np.isfinite(numbers["activation"])
        assert 0 <= numbers["high_frequency_share"] <= 1
    transparency = record["maco"]["transparency"]
    assert transparency["shape"] == [size, size]
    assert 0 <= transparency["min"] <= transparency["mean"] <= transparency["max"]
    assert transparency["max"] > 0


def test_figure_on_random_weights_under_the_step_cap(random_inception, monkeypatch, tmp_path):
    monkeypatch.setenv("LUCID2_MAX_STEPS", CAP)
    result = maco_figure(random_inception, units=[("mixed3a", 5)], classes=(), size=SIZE)
    assert result.name == "maco" and result.column_titles == COLUMN_TITLES
    assert result.settings["steps"] == int(CAP) and result.settings["size"] == SIZE
    (record,) = result.numbers["units"]
    assert record["unit"] == "mixed3a 5"
    _check_record(record, SIZE)
    summary = result.numbers["summary"]
    assert summary["maco"]["high_frequency_share"] == record["maco"]["high_frequency_share"]
    paths = save_figure(result, tmp_path)
    saved = json.loads(paths["json"].read_text())
    assert saved["numbers"]["units"][0]["maco"]["transparency"]["shape"] == [SIZE, SIZE]
    assert len(saved["panels"]) == 4
    for panel in saved["panels"]:
        image = np.asarray(Image.open(tmp_path / panel["file"]))
        assert image.shape == (SIZE, SIZE, 3) and image.std() > 0


def test_registry_entry():
    spec = get_spec("maco")
    assert spec.steps == MACO_STEPS == 256 and not spec.needs_images and spec.description


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(classes=[-1]), ValueError, "class index must be a non-negative integer"),
    (dict(classes=5), TypeError, "sequence of class indices"),
    (dict(units=[("mixed5b",)]), ValueError, "pairs"),
    (dict(steps=0), ValueError, "steps must be a positive integer"),
    (dict(seed=-1), ValueError, "seed must be a non-negative integer"),
    (dict(preset="nope"), ValueError, "preset"),
])
def test_bad_arguments_fail_before_the_model_is_used(kwargs, error, message):
    with pytest.raises(error, match=message):
        maco_figure(None, **kwargs)


@pytest.mark.parametrize("kwargs,message", [
    (dict(classes=[5000]), "Class 5000 is out of range"),
    (dict(units=[("mixed5b", 1024)]), "out of range"),
    (dict(units=[("nope", 1)]), "nope"),
])
def test_units_and_classes_are_checked_against_the_model(random_inception, kwargs, message):
    with pytest.raises(ValueError, match=message):
        maco_figure(random_inception, **kwargs)


@pytest.mark.slow
def test_default_rows_on_random_weights(random_inception, monkeypatch):
    monkeypatch.setenv("LUCID2_MAX_STEPS", "1")
    result = maco_figure(random_inception, size=SIZE)
    rows = len(DEFAULT_CHANNELS) + len(DEFAULT_CLASSES)
    assert len(result.grid) == rows == len(result.numbers["units"])
    assert result.row_titles[-1] == f"class {DEFAULT_CLASSES[-1]}"
    for record in result.numbers["units"]:
        _check_record(record, SIZE)


@pytest.mark.slow
def test_the_figures_app_makes_it(tmp_path):
    output = tmp_path / "out"
    result = run_app("lucid2.figures", "--figure=maco", f"--output_dir={output}",
                     "--weights=none", f"--size={SIZE}", "--quiet",
                     env_extra={"LUCID2_MAX_STEPS": "1"}, timeout=900)
    assert result.returncode == 0, result.stderr
    record = json.loads((output / "maco.json").read_text())
    assert record["figure"] == "maco" and record["settings"]["steps"] == 1
    assert (output / "maco.png").is_file()


@pytest.mark.slow
def test_maco_has_fewer_high_frequencies_on_the_real_weights(inception, monkeypatch):
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)
    result = maco_figure(inception, units=[("mixed5b", 100)], classes=[425], steps=32,
                         size=SIZE)
    assert result.row_titles[1].startswith("class 425 (flamingo")
    for record in result.numbers["units"]:
        _check_record(record, SIZE)
        # A photo's magnitude spectrum keeps MACO's images smooth; Fourier's fill up.
        assert (record["maco"]["high_frequency_share"]
                < 0.5 * record["fourier"]["high_frequency_share"])
        assert record["maco"]["activation"] > 0
