"""Figure recipes on the real InceptionV1 weights (skipped cleanly without ../shared/data).

Every figure runs at a few steps on small images; the slow tests check what
the article says with enough steps: the diversity term makes a batch's Gram
matrices less alike without losing the target, the preconditioning curves
are recorded, frequency penalties and transforms lower the high-frequency
share of pixel renders.
"""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from lucid2.recipes.figures import (FIGURE_NAMES, diversity_figure, get_spec,
                                    preconditioning_figure, regularization_figure, run_figure,
                                    save_figure, steepest_descent_figure)
from lucid2.optvis.settings import PRESETS
from lucid2.recipes.figures.optimization import figure_settings, optimize_with_curve

SMOKE_STEPS = 4
SMOKE_SIZE = 64
PHOTOS = 6
# Figures that take more than a few seconds even at SMOKE_STEPS (several renders or a
# dataset search per unit) run with the slow tests.
SLOW_SMOKE = {"diversity", "preconditioning", "regularization", "dataset_vs_optimization",
              "teaser", "objectives", "interpolation", "spectrum", "maco"}
# The diversity check (see test_diversity_term_makes_the_batch_diverse).
DIVERSITY_STEPS = 64
DIVERSITY_SIZE = 128
CLEARLY_LOWER = 0.75  # similarity with the term must be below this fraction of without
MIN_ACTIVATION_RATIO = 0.5


@pytest.fixture(scope="module")
def photos(shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for path in sorted((shared_data / "imagenet-samples").iterdir())[:PHOTOS]:
        shutil.copy(path, folder)
    return folder


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_SMOKE
                                  else n for n in FIGURE_NAMES])
def test_every_figure_runs_and_writes_images_and_json(name, inception, photos, tmp_path):
    result = run_figure(name, inception, steps=SMOKE_STEPS, size=SMOKE_SIZE, seed=0,
                        images=photos)
    paths = save_figure(result, tmp_path)
    record = json.loads(paths["json"].read_text())
    assert record["figure"] == name and record["numbers"]
    if get_spec(name).steps is not None:
        assert record["settings"]["steps"] == SMOKE_STEPS
    composite = np.asarray(Image.open(paths["composite"]))
    assert composite.ndim == 3 and composite.shape[-1] == 3
    assert len(record["panels"]) == len(result.panels()) > 0
    for panel in record["panels"]:
        image = np.asarray(Image.open(tmp_path / panel["file"]))
        assert image.ndim == 3 and min(image.shape[:2]) > 0
        assert image.std() > 0, f"panel {panel['label']} is blank"
    optimized = [p for _, _, p in result.panels() if p.image.shape[:2] == (SMOKE_SIZE,
                                                                           SMOKE_SIZE)]
    assert optimized, "every figure shows at least one image of --size"


def test_steepest_descent_directions_are_ascent_directions_with_the_article_frequencies(
        inception):
    numbers = steepest_descent_figure(inception, size=SMOKE_SIZE).numbers["directions"]
    assert all(d["cosine_with_gradient"] > 0 for d in numbers.values())
    share = {name: d["high_frequency_share"] for name, d in numbers.items()}
    # The article: the decorrelated space reduces high frequencies, L-infinity increases them.
    assert share["L-infinity"] > share["L2"] > share["Fourier + decorrelated colors"]


def test_spectrum_orders_examples_from_negative_to_positive(inception, photos):
    numbers = run_figure("spectrum", inception, steps=SMOKE_STEPS, size=SMOKE_SIZE,
                         images=photos).numbers
    assert numbers["optimized"]["negative_mean"] < 0 < numbers["optimized"]["positive_mean"]
    columns = numbers["columns"]
    values = [[e["activation"] for e in columns[name]]
              for name in ("minimum", "slightly_negative", "slightly_positive", "maximum")]
    assert all(v < 0 for v in values[1]) and all(v >= 0 for v in values[2])
    flat = [v for column in values for v in column]
    assert min(flat) == values[0][0] and max(flat) == max(values[3])


def test_preconditioning_records_curves(inception):
    steps = 8
    result = preconditioning_figure(inception, transforms=("none",), steps=steps,
                                    size=SMOKE_SIZE)
    row = result.numbers["none"]
    assert set(row["runs"]) == {"pixel", "fourier", "fourier_decorrelated"}
    for run in row["runs"].values():
        assert len(run["curve"]) == steps and np.isfinite(run["curve"]).all()
        assert run["clean"][0][0] == 0 and run["clean"][-1][0] == steps
        assert run["final"] == run["clean"][-1][1]
    assert isinstance(row["fourier_decorrelated_beats_pixel"], bool)
    assert row["fourier_decorrelated_beats_pixel"] == (
        row["runs"]["fourier_decorrelated"]["final"] > row["runs"]["pixel"]["final"])
    lead = row["fourier_decorrelated_lead_by_checkpoint"]
    assert [step for step, _ in lead] == [step for step, _ in
                                          row["runs"]["pixel"]["clean"][1:]]
    assert row["fourier_decorrelated_ahead_fraction"] == np.mean([d > 0 for _, d in lead])
    assert set(result.extra_images) == {"curves_none"}


def test_max_steps_env_caps_the_recorded_curves(inception, monkeypatch):
    monkeypatch.setenv("LUCID2_MAX_STEPS", "3")
    settings = figure_settings(steps=50, size=SMOKE_SIZE, seed=0, transforms="none")
    run = optimize_with_curve(inception, "mixed4a:11", settings, checkpoints=2)
    assert len(run["curve"]) == 3 and [step for step, _ in run["clean"]] == [0, 1, 2, 3]
    assert run["images"].shape == (1, SMOKE_SIZE, SMOKE_SIZE, 3)
    # The curve is the objective before each step; the clean value at step 0 is the same
    # image without transforms, so the two agree.
    assert run["curve"][0] == pytest.approx(run["clean"][0][1], rel=1e-4)


@pytest.mark.slow
def test_diversity_term_makes_the_batch_diverse(inception):
    # The article's units, batch 4, 128 px and Lucid's weight (1e2, i.e. 300 here); 64
    # steps instead of 512 keep the test to a few minutes on a CPU, and the effect is
    # already stable there (see the report).
    result = diversity_figure(inception, steps=DIVERSITY_STEPS, size=DIVERSITY_SIZE)
    mean = result.numbers["mean"]
    assert mean["similarity_with"] < CLEARLY_LOWER * mean["similarity_without"]
    assert mean["activation_with"] >= MIN_ACTIVATION_RATIO * mean["activation_without"]
    for unit in result.numbers["units"]:
        assert unit["similarity_with"] < unit["similarity_without"]


@pytest.mark.slow
def test_preconditioning_develops_faster_at_equal_steps(inception):
    result = preconditioning_figure(inception, transforms=("none",), steps=64, size=SMOKE_SIZE)
    assert result.numbers["none"]["fourier_decorrelated_beats_pixel"]


@pytest.mark.slow
def test_regularizers_lower_the_high_frequency_share(inception):
    result = regularization_figure(inception, steps=128, size=SMOKE_SIZE)
    variants = {v["variant"]: v for v in result.numbers["variants"]}
    unregularized = variants["Unregularized"]
    for name in ("Total variation", "Blur each step", "Transformation robustness"):
        assert (variants[name]["high_frequency_share"]
                < unregularized["high_frequency_share"]), name
    # L1 is no frequency penalty: it pulls the pixels towards gray.
    assert variants["L1"]["distance_from_gray"] < unregularized["distance_from_gray"]


def test_a_figure_renders_with_the_preset_it_is_given(inception):
    records = {}
    for name in ("lucid", "fast"):
        result = run_figure("objectives", inception, steps=SMOKE_STEPS, size=SMOKE_SIZE,
                            seed=0, preset=name)
        records[name] = result.settings
        assert (records[name]["beta_1"], records[name]["learning_rate"],
                records[name]["transform_strength"]) == (
            PRESETS[name].beta_1, PRESETS[name].learning_rate,
            PRESETS[name].transform_strength)
    assert records["lucid"]["steps"] == records["fast"]["steps"] == SMOKE_STEPS
