"""The article's opening figure: from edges to objects, layer by layer.

The article groups GoogLeNet's layers as edges (conv2d0), textures
(mixed3a), patterns (mixed4a), parts (mixed4b, mixed4c) and objects
(mixed4d, mixed4e). It does not list the channels it shows; the default
units below are our picks, two per group, and can be replaced.
"""

from __future__ import annotations

from typing import Sequence

from lucid2.optvis.defaults import DEFAULT_PRESET
from lucid2.optvis import objectives
from lucid2.optvis.defaults import DEFAULT_SIZE, DEFAULT_STEPS
from lucid2.recipes.figures.optimization import channel_means, figure_settings, settings_record
from lucid2.recipes.figures.registry import DEFAULT_SEED
from lucid2.recipes.figures.result import FigureResult, Panel, grid_of
from lucid2.recipes.figures.units import LayerChannel, check_model_units, check_units, unit_label

# (group title, units); parts and objects take one unit from each of their two layers.
TEASER_GROUPS: tuple[tuple[str, tuple[LayerChannel, ...]], ...] = (
    ("Edges (conv2d0)", (("conv2d0", 23), ("conv2d0", 50))),
    ("Textures (mixed3a)", (("mixed3a", 47), ("mixed3a", 222))),
    ("Patterns (mixed4a)", (("mixed4a", 97), ("mixed4a", 476))),
    ("Parts (mixed4b, mixed4c)", (("mixed4b", 465), ("mixed4c", 447))),
    ("Objects (mixed4d, mixed4e)", (("mixed4d", 504), ("mixed4e", 55))),
)


def _check_groups(groups) -> tuple[tuple[str, tuple[LayerChannel, ...]], ...]:
    checked = []
    for group in groups:
        try:
            title, units = group
        except (TypeError, ValueError):
            raise ValueError(f"groups must hold (title, units) pairs, got {group!r}.") from None
        if not isinstance(title, str):
            raise ValueError(f"A group title must be a string, got {title!r}.")
        checked.append((title, check_units(units, f"units of group {title!r}")))
    if not checked:
        raise ValueError("groups must hold at least one (title, units) pair.")
    return tuple(checked)


def teaser_figure(model, *, groups: Sequence = TEASER_GROUPS,
                  steps: int = DEFAULT_STEPS, size: int = DEFAULT_SIZE,
                  seed: int = DEFAULT_SEED,
                  preset: str = DEFAULT_PRESET) -> FigureResult:
    """Channel visualizations from low to high layers, one column per group.

    All units are optimized together as one batch (image ``i`` maximizes unit
    ``i``; Adam's per-parameter steps keep the images independent), with
    Lucid's default parameterization and transforms.

    Numbers: each unit's mean channel activation on its final image.
    """
    groups = _check_groups(groups)
    units = [unit for _, group_units in groups for unit in group_units]
    render_settings = figure_settings(steps=steps, size=size, seed=seed, preset=preset,
                                      batch=len(units))
    check_model_units(model, units, size)
    images = render_settings.render(model, objectives.channels_per_image(units))
    records, columns, index = [], [], 0
    for title, group_units in groups:
        column = []
        for unit in group_units:
            activation = float(channel_means(model, images[index:index + 1], unit)[0])
            records.append({"group": title, "layer": unit[0], "channel": unit[1],
                            "activation": activation})
            column.append(Panel(unit_label(unit), images[index]))
            index += 1
        columns.append(column)
    height = max(len(c) for c in columns)
    rows = [[c[r] if r < len(c) else None for c in columns] for r in range(height)]
    return FigureResult(
        name="teaser", title="Feature visualization from edges to objects (InceptionV1)",
        grid=grid_of(rows), column_titles=tuple(title for title, _ in groups),
        numbers={"units": records},
        settings=settings_record(render_settings, parameterization="fft, decorrelated",
                                 transforms="standard", objective="channel mean"))
