"""Figures pairing optimization with dataset examples.

* :func:`dataset_vs_optimization_figure`: the article's "Why visualize by
  optimization?" figure: mixed4a units 6, 240, 453 and 492, each optimized
  image beside the dataset examples that drive the unit most.
* :func:`spectrum_figure`: the article's "Diversity" opener for mixed4a unit
  492: a negative optimized image, dataset examples from the minimum through
  slightly negative and slightly positive to the maximum, and a positive
  optimized image. Negative values need the pre-ReLU layer, so it uses
  ``mixed4a_pre_relu``.

Dataset examples come from :func:`lucid2.recipes.dataset_examples.find_examples`
(receptive-field patches around each image's strongest spot).
"""

from __future__ import annotations

from lucid2.optvis.defaults import DEFAULT_PRESET
from lucid2.optvis import checks, objectives, progress
from lucid2.optvis.defaults import DEFAULT_SIZE, DEFAULT_STEPS
from lucid2.recipes.dataset_examples import DatasetExamples, find_examples
from lucid2.recipes.figures.optimization import (activations, channel_means, figure_settings,
                                                 settings_record)
from lucid2.recipes.figures.registry import DEFAULT_SEED
from lucid2.recipes.figures.result import FigureResult, Panel, grid_of
from lucid2.recipes.figures.units import LayerChannel, check_model_units, check_units, unit_label

COMPARISON_UNITS: tuple[LayerChannel, ...] = (
    ("mixed4a", 6), ("mixed4a", 240), ("mixed4a", 453), ("mixed4a", 492))
SPECTRUM_UNIT: LayerChannel = ("mixed4a_pre_relu", 492)
DEFAULT_EXAMPLES = 4  # dataset examples per unit in the comparison figure
DEFAULT_SPECTRUM_EXAMPLES = 2  # examples per spectrum column
# The near-zero set is searched this many times larger, so that both signs can be found.
NEAR_ZERO_POOL_FACTOR = 4
DATASET_IMAGE_SIZE = 224  # the network's training resolution

# Spectrum examples are ranked by the channel's spatial mean: a whole image's response has
# either sign, whereas its strongest spot is almost always positive.
SPECTRUM_SCORE = "mean"

SPECTRUM_COLUMNS = ("Negative optimized", "Minimum", "Slightly negative", "Slightly positive",
                    "Maximum", "Positive optimized")


def _search(model, unit: LayerChannel, images, k: int, reduce: str = "max") -> DatasetExamples:
    # The active reporter (an app's), or a silent one: a library call prints nothing.
    return find_examples(model, unit[0], unit[1], images, k=k, reduce=reduce,
                         image_size=DATASET_IMAGE_SIZE, progress=progress.current())


def _example_record(example) -> dict:
    return {"source": example.source, "index": example.index, "activation": example.activation,
            "position": example.position, "box": example.box}


def _require_images(images) -> None:
    if images is None:
        raise ValueError("This figure needs dataset images: pass images= (a folder, a glob, "
                         "a list of files or an array), e.g. the 'imagenet-samples' folder.")


def dataset_vs_optimization_figure(model, images=None, *,
                                   units=COMPARISON_UNITS, examples: int = DEFAULT_EXAMPLES,
                                   steps: int = DEFAULT_STEPS, size: int = DEFAULT_SIZE,
                                   seed: int = DEFAULT_SEED,
                                   preset: str = DEFAULT_PRESET) -> FigureResult:
    """For each unit: the optimized image, then its top dataset examples.

    Args:
      model: InceptionV1 (or any lucid2 model having the units' layers).
      images: what :func:`~lucid2.recipes.dataset_examples.find_examples` accepts
        (a folder, a glob, files, an array).
      units: (layer, channel) pairs; the article's mixed4a 6, 240, 453, 492.
      examples: dataset examples shown per unit.

    Numbers: per unit, the optimized image's channel mean and maximum, and the
    examples' sources and scores (the channel's spatial maximum, as
    ``find_examples`` ranks them), so the two can be compared.
    """
    _require_images(images)
    units = check_units(units)
    examples = checks.positive_int("examples", examples)
    render_settings = figure_settings(steps=steps, size=size, seed=seed, preset=preset,
                                      batch=len(units))
    check_model_units(model, units, size)

    optimized = render_settings.render(model, objectives.channels_per_image(units))
    rows, records = [], []
    for i, unit in enumerate(units):
        found = _search(model, unit, images, examples)
        acts = activations(model, optimized[i:i + 1], [unit[0]])[unit[0]][0, ..., unit[1]]
        records.append({"layer": unit[0], "channel": unit[1],
                        "optimized": {"mean": float(acts.mean()), "max": float(acts.max())},
                        "examples": [_example_record(e) for e in found.top],
                        "images_searched": found.num_images})
        label = unit_label(unit)
        row = [Panel(f"{label} optimized", optimized[i], caption="optimized")]
        for j, e in enumerate(found.top):
            if e.patch is None:  # _search cuts patches (crops=True)
                raise ValueError(f"The dataset examples of {label} have no patches.")
            row.append(Panel(f"{label} example {j + 1}", e.patch, caption=f"{e.activation:.3g}"))
        rows.append(row)
    grid = grid_of(rows)
    column_titles = ("Optimized",) + tuple(f"Dataset example {j + 1}"
                                           for j in range(len(grid[0]) - 1))
    return FigureResult(
        name="dataset_vs_optimization",
        title="Dataset examples beside optimized images (captions: the unit's activation)",
        grid=grid, column_titles=column_titles,
        row_titles=tuple(unit_label(u) for u in units),
        numbers={"units": records},
        settings=settings_record(render_settings, examples=examples,
                                 dataset_image_size=DATASET_IMAGE_SIZE,
                                 example_score="spatial maximum of the channel"))


def _spectrum_columns(found: DatasetExamples, examples: int) -> dict[str, list]:
    """The dataset examples of each spectrum column, from the minimum to the maximum."""
    near = sorted(found.near_zero, key=lambda e: (e.activation, e.index))
    negative = [e for e in reversed(near) if e.activation < 0][:examples]
    positive = [e for e in near if e.activation >= 0][:examples]
    return {"Minimum": list(found.bottom[:examples]), "Slightly negative": negative,
            "Slightly positive": positive, "Maximum": list(reversed(found.top[:examples]))}


def _spectrum_rows(optimized, means, columns: dict[str, list], examples: int) -> list[list]:
    """Rows of panels: the optimized images on the first row only, examples below each other."""
    rows = []
    for r in range(examples):
        row: list[Panel | None] = [
            Panel("negative optimized", optimized[0], caption=f"mean {means[0]:.3g}")
            if r == 0 else None]
        for title, chosen in columns.items():
            row.append(Panel(f"{title} {r + 1}", chosen[r].patch,
                             caption=f"{chosen[r].activation:.3g}") if r < len(chosen) else None)
        row.append(Panel("positive optimized", optimized[1], caption=f"mean {means[1]:.3g}")
                   if r == 0 else None)
        rows.append(row)
    return rows


def spectrum_figure(model, images=None, *, unit: LayerChannel = SPECTRUM_UNIT,
                    examples: int = DEFAULT_SPECTRUM_EXAMPLES,
                    steps: int = DEFAULT_STEPS, size: int = DEFAULT_SIZE,
                    seed: int = DEFAULT_SEED,
                    preset: str = DEFAULT_PRESET) -> FigureResult:
    """The spectrum of a unit's activations, from negative optimized to positive optimized.

    Columns: negative optimized, minimum, slightly negative, slightly
    positive, maximum (dataset examples), positive optimized. Examples are
    ranked by the channel's spatial mean over the image; "slightly"
    negative/positive are those closest to zero from below/above. Patches
    are cut around the channel's strongest spot (weakest for the minimum).
    A column may have fewer examples than asked when the dataset has too few
    of that sign (the JSON lists what was found).
    """
    _require_images(images)
    (unit,) = check_units([unit], "unit")
    examples = checks.positive_int("examples", examples)
    render_settings = figure_settings(steps=steps, size=size, seed=seed, preset=preset, batch=2)
    check_model_units(model, [unit], size)

    layer, channel = unit
    objective = (-objectives.channel(layer, channel, batch=0)
                 + objectives.channel(layer, channel, batch=1))
    optimized = render_settings.render(model, objective)
    means = channel_means(model, optimized, unit)
    found = _search(model, unit, images, examples * NEAR_ZERO_POOL_FACTOR, reduce=SPECTRUM_SCORE)
    columns = _spectrum_columns(found, examples)
    numbers = {"optimized": {"negative_mean": float(means[0]), "positive_mean": float(means[1])},
               "columns": {title.lower().replace(" ", "_"): [_example_record(e) for e in chosen]
                           for title, chosen in columns.items()},
               "images_searched": found.num_images}
    return FigureResult(
        name="spectrum",
        title=f"Spectrum of activations of {layer} {channel} (captions: the unit's activation)",
        grid=grid_of(_spectrum_rows(optimized, means, columns, examples)),
        column_titles=SPECTRUM_COLUMNS, numbers=numbers,
        settings=settings_record(render_settings, unit=list(unit), examples=examples,
                                 dataset_image_size=DATASET_IMAGE_SIZE,
                                 example_score="spatial mean of the channel"))
