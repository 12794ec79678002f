"""The figures' own loops report their progress to the active reporter, and only to it: the
hand-stepped curves (optimize_with_curve) and the dataset searches of the dataset figures."""

import keras
import numpy as np
import pytest
from PIL import Image
from progress_testlib import Recording

from lucid2.modelzoo import from_keras
from lucid2.optvis import progress
from lucid2.recipes.figures import dataset_vs_optimization_figure
from lucid2.recipes.figures.optimization import figure_settings, optimize_with_curve

STEPS = 3
SIZE = 64
CHANNELS = 4
PHOTOS = 5
PHOTO_PIXELS = 48
UNITS = (("conv", 0), ("conv", 2))


@pytest.fixture(scope="module")
def tiny():
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(CHANNELS, 5, strides=2, padding="same", activation="relu",
                            name="conv",
                            kernel_initializer=keras.initializers.RandomNormal(seed=0),
                            bias_initializer=keras.initializers.RandomNormal(seed=1))(inputs)
    out = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return from_keras(keras.Model(inputs, out, name="tiny_figures"), value_range=(0, 1))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(5)
    for i in range(PHOTOS):
        pixels = rng.integers(0, 256, (PHOTO_PIXELS, PHOTO_PIXELS + 4 * i, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"photo{i}.png")
    return root


@pytest.fixture(autouse=True)
def no_step_cap(monkeypatch):
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)


def _settings():
    return figure_settings(steps=STEPS, size=SIZE, seed=0, transforms="none")


def test_a_recorded_curve_reports_each_step_and_its_objective(tiny, capsys):
    recording = Recording()
    with progress.reporting(recording):
        run = optimize_with_curve(tiny, "conv:1", _settings(), checkpoints=2)
    [(total, label, unit)] = recording.starts()
    assert (total, unit) == (STEPS, "step")
    assert label.startswith("Rendering ") and label.endswith(f"of {SIZE}x{SIZE}")
    updates = [event for event in recording.events if event[0] == "update"]
    assert [done for _, done, _ in updates] == list(range(1, STEPS + 1))
    # The value shown at each step is the curve's (the objective before that update).
    assert [values["objective"] for _, _, values in updates] == run["curve"]
    assert recording.events[-1] == ("finish",)
    assert capsys.readouterr().out == ""


def test_a_recorded_curve_prints_nothing_without_an_active_reporter(tiny, capsys):
    run = optimize_with_curve(tiny, "conv:1", _settings(), checkpoints=2)
    assert len(run["curve"]) == STEPS
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_the_dataset_figure_reports_its_searches_to_the_active_reporter_only(tiny, photos,
                                                                             capsys):
    recording = Recording()
    with progress.reporting(recording):
        dataset_vs_optimization_figure(tiny, str(photos), units=UNITS, examples=2,
                                       steps=STEPS, size=SIZE)
    starts = recording.starts()
    # The batch render first, then one search per unit, counted in images.
    assert starts[0][0] == STEPS and starts[0][2] == "step"
    searches = [start for start in starts if start[2] == "image"]
    assert [total for total, _, _ in searches] == [PHOTOS] * len(UNITS)
    for (_, label, _), (layer, channel) in zip(searches, UNITS, strict=True):
        assert label.endswith(f" for {layer}:{channel}")
    assert capsys.readouterr().out == ""
    # A library call outside any reporting block prints nothing (no bar of the search's own).
    dataset_vs_optimization_figure(tiny, str(photos), units=UNITS, examples=2, steps=STEPS,
                                   size=SIZE)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
