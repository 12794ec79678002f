"""Figure recipes without the network: layout, FigureResult, saving, registry, checks."""

import json
import math

import numpy as np
import pytest
from PIL import Image

from lucid2.recipes.figures import (FIGURE_NAMES, RECIPES, FigureResult, Panel, get_spec,
                                    gram_cosine_similarity, labeled_grid, line_plot,
                                    lucid_equivalent_weight, run_figure, save_figure, to_jsonable)
from lucid2.recipes.figures import registry as registry_module
from lucid2.recipes.layout import GAP, wrap_text
from lucid2.recipes.figures.optimization import step_thresholds
from lucid2.recipes.figures.units import check_units

ISSUE_FIGURES = ("teaser", "objectives", "dataset_vs_optimization", "spectrum", "diversity",
                 "random_directions", "neuron_addition", "interpolation", "enemy",
                 "regularization", "preconditioning", "steepest_descent",
                 "maco")  # issue 13: Fourier and MACO side by side
WHITE = 255


def _image(value, size=16):
    return np.full((size, size, 3), value, np.float32)


def _result(**overrides):
    fields = dict(name="demo", title="A demo figure",
                  grid=((Panel("a", _image(0.0)), Panel("b", _image(1.0))),
                        (Panel("c", _image(0.25)), None)),
                  column_titles=("Left", "Right"), row_titles=("Top", "Bottom"),
                  numbers={"value": np.float32(1.5), "count": np.int64(3),
                           "bad": float("nan"), "array": np.arange(3)},
                  settings={"steps": 4})
    fields.update(overrides)
    return FigureResult(**fields)


# ------------------------------------------------------------------ layout
def test_labeled_grid_places_images_and_draws_titles():
    black = np.zeros((20, 20, 3), np.float32)
    plain = labeled_grid([[black, None]], cell_size=20)
    # No titles: one row of two 20 px cells with gaps around them.
    assert plain.shape == (20 + 2 * GAP, 2 * 20 + 3 * GAP, 3)
    assert (plain[GAP:GAP + 20, GAP:GAP + 20] == 0).all()  # the image
    assert (plain[GAP:GAP + 20, 2 * GAP + 20:2 * GAP + 40] == WHITE).all()  # the empty cell
    titled = labeled_grid([[black, None]], cell_size=20, column_titles=["Col A", "Col B"],
                          row_titles=["Row"], title="Title")
    assert titled.shape[0] > plain.shape[0] and titled.shape[1] > plain.shape[1]
    header_rows = titled.shape[0] - plain.shape[0]
    assert (titled[:header_rows] < WHITE).any()  # title and column titles were drawn
    assert (titled[:, :titled.shape[1] - plain.shape[1]] < WHITE).any()  # row title drawn


def test_labeled_grid_scales_images_to_the_cell():
    small = np.zeros((8, 4, 3), np.float32)  # tall: fills the height, centered horizontally
    grid = labeled_grid([[small]], cell_size=32)
    cell = grid[GAP:GAP + 32, GAP:GAP + 32]
    assert (cell[:, 8:24] == 0).all()
    assert (cell[:, :8] == WHITE).all() and (cell[:, 24:] == WHITE).all()


@pytest.mark.parametrize("kwargs,message", [
    (dict(cells=[[_image(0)], [_image(0), _image(0)]]), "cells must have"),
    (dict(cells=[[None]]), "at least one image"),
    (dict(cells=[]), "at least one row"),
    (dict(cells=[[_image(0)]], column_titles=["a", "b"]), "column_titles"),
    (dict(cells=[[_image(0)]], row_titles=["a", "b"]), "row_titles"),
    (dict(cells=[[_image(0)]], cell_size=0), "cell_size"),
])
def test_labeled_grid_rejects_bad_layouts(kwargs, message):
    with pytest.raises(ValueError, match=message):
        labeled_grid(**kwargs)


def test_wrap_text_respects_the_width():
    lines = wrap_text("a rather long title that cannot fit on one line", 60)
    assert len(lines) > 1 and " ".join(lines) == "a rather long title that cannot fit on one line"
    assert len(wrap_text("x" * 200, 40)) > 1  # one long word is broken too
    assert wrap_text("one\ntwo", 500) == ["one", "two"]


def test_line_plot_draws_each_curve_in_its_color():
    plot = line_plot({"up": [0, 1, 2, 3], "down": [3, 2, float("nan"), 0]}, title="t")
    assert plot.dtype == np.uint8 and plot.ndim == 3
    blue = np.all(plot == (31, 119, 180), axis=-1).sum()
    orange = np.all(plot == (255, 127, 14), axis=-1).sum()
    assert blue > 50 and orange > 50
    with pytest.raises(ValueError, match="at least one curve"):
        line_plot({})


# ------------------------------------------------------------ FigureResult
@pytest.mark.parametrize("overrides,error,message", [
    (dict(name="Bad Name"), ValueError, "lowercase"),
    (dict(grid=((Panel("a", _image(0)),), (Panel("b", _image(0)), None))), ValueError,
     "same"),
    (dict(grid=((None,),), column_titles=(), row_titles=()), ValueError, "at least one panel"),
    (dict(column_titles=("only one",)), ValueError, "column titles"),
    (dict(grid=(("not a panel", None),), row_titles=("r",)), TypeError, "Panel or None"),
    (dict(extra_images={"Bad-Key": _image(0)}), ValueError, "extra image names"),
])
def test_figure_result_validates(overrides, error, message):
    with pytest.raises(error, match=message):
        _result(**overrides)


def test_panel_needs_a_label_and_an_image():
    with pytest.raises(ValueError, match="label"):
        Panel("", _image(0))
    with pytest.raises(ValueError, match=r"\(H, W, 3 or 4\)"):
        Panel("x", np.zeros((4, 4)))


def test_to_jsonable_converts_numpy_and_non_finite_values():
    record = to_jsonable({"a": np.float32(0.5), "b": (np.int64(2), float("inf")),
                          "c": np.array([[1, 2]]), "d": np.bool_(True)})
    assert record == {"a": 0.5, "b": [2, None], "c": [[1, 2]], "d": True}
    json.dumps(record, allow_nan=False)
    with pytest.raises(TypeError, match="Cannot store"):
        to_jsonable({"x": object()})


def test_save_figure_writes_composite_panels_extras_and_json(tmp_path):
    result = _result(extra_images={"curves": _image(0.5, 8)})
    paths = save_figure(result, tmp_path / "out")
    composite = np.asarray(Image.open(paths["composite"]))
    assert paths["composite"].name == "demo.png"
    assert composite.shape == result.composite().shape
    record = json.loads(paths["json"].read_text())
    assert record["figure"] == "demo" and record["composite"] == "demo.png"
    assert record["numbers"] == {"value": 1.5, "count": 3, "bad": None, "array": [0, 1, 2]}
    assert record["settings"] == {"steps": 4}
    assert [(p["row"], p["column"], p["label"]) for p in record["panels"]] == [
        (0, 0, "a"), (0, 1, "b"), (1, 0, "c")]
    for panel in record["panels"]:
        image = np.asarray(Image.open(tmp_path / "out" / panel["file"]))
        assert image.shape == (16, 16, 3)
    assert np.asarray(Image.open(paths["panel:0:1"])).min() == WHITE  # panel "b" is white
    assert (tmp_path / "out" / record["extra_images"]["curves"]).is_file()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "demo.json", "demo.png", "demo_curves.png", "demo_panels"]


def test_save_figure_writes_nothing_when_numbers_cannot_be_stored(tmp_path):
    with pytest.raises(TypeError, match="Cannot store"):
        save_figure(_result(numbers={"x": object()}), tmp_path)
    assert list(tmp_path.iterdir()) == []


# -------------------------------------------------------------- registry
def test_registry_has_every_figure_of_the_issue():
    assert set(FIGURE_NAMES) == set(ISSUE_FIGURES)
    # The catalog and the recipes name the same figures, in the same order.
    assert tuple(RECIPES) == FIGURE_NAMES
    for name in FIGURE_NAMES:
        spec = get_spec(name)
        assert spec.name == name and callable(RECIPES[name]) and spec.description
    assert get_spec("spectrum").needs_images and not get_spec("teaser").needs_images
    assert get_spec("steepest_descent").steps is None and get_spec("diversity").steps == 512
    with pytest.raises(ValueError, match="Unknown figure 'nope'.*teaser"):
        get_spec("nope")


def test_run_figure_requires_images_for_dataset_figures():
    with pytest.raises(ValueError, match="dataset examples: pass images"):
        run_figure("dataset_vs_optimization", model=None)


@pytest.mark.parametrize("name,kwargs,message", [
    ("teaser", dict(steps=0), "steps must be a positive integer"),
    ("diversity", dict(size=-1), "size must be a positive integer"),
    ("enemy", dict(seed=-2), "seed must be a non-negative integer"),
])
def test_bad_settings_fail_before_any_work(name, kwargs, message):
    # model=None: the checks must come before the model is touched.
    with pytest.raises(ValueError, match=message):
        run_figure(name, model=None, **kwargs)


def test_diversity_rejects_a_batch_of_one():
    from lucid2.recipes.figures import diversity_figure
    with pytest.raises(ValueError, match="batch must be >= 2"):
        diversity_figure(None, batch=1)


@pytest.mark.parametrize("units", [[("mixed4a", -1)], [("mixed4a",)], [], [(4, 97)]])
def test_check_units_rejects_malformed_units(units):
    with pytest.raises(ValueError):
        check_units(units)


def test_step_thresholds_are_increasing_and_end_at_steps():
    assert step_thresholds(512, (1 / 16, 1 / 4, 1)) == (32, 128, 512)
    assert step_thresholds(2, (1 / 16, 1 / 4, 1)) == (1, 2)


# ---------------------------------------------------------------- numbers
def test_gram_cosine_similarity():
    rng = np.random.default_rng(0)
    same = np.repeat(rng.random((1, 3, 3, 5)), 4, axis=0)
    assert math.isclose(gram_cosine_similarity(same), 1.0, rel_tol=1e-9)
    # Images using disjoint channels have orthogonal Gram matrices.
    disjoint = np.zeros((2, 3, 3, 4))
    disjoint[0, ..., :2] = rng.random((3, 3, 2))
    disjoint[1, ..., 2:] = rng.random((3, 3, 2))
    assert gram_cosine_similarity(disjoint) == pytest.approx(0.0, abs=1e-12)
    # Mean over ordered pairs: one identical pair among three images.
    three = np.concatenate([disjoint, disjoint[:1]])
    assert gram_cosine_similarity(three) == pytest.approx(2 / 6)
    with pytest.raises(ValueError, match="N >= 2"):
        gram_cosine_similarity(same[:1])


def test_lucid_equivalent_weight():
    assert lucid_equivalent_weight(4) == 300.0
    assert lucid_equivalent_weight(2, 10.0) == 10.0


def test_default_image_source_follows_the_environment(tmp_path, monkeypatch):
    (tmp_path / "imagenet-samples").mkdir()
    monkeypatch.setenv("LUCID2_SHARED_DATA", str(tmp_path))
    assert registry_module.default_image_source() == tmp_path / "imagenet-samples"
