"""Saving dataset examples: labeled grids of patches (PNG) and the numbers (JSON).

Every grid names its rows (set, ranks and unit) and prints each patch's
activation under it, with the figures' drawing (:func:`labeled_grid`).
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Sequence

import numpy as np

from lucid2.misc.io import save_image
from lucid2.misc.io.atomic import atomic_write
from lucid2.recipes.dataset_examples.results import SETS, DatasetExamples, Example
from lucid2.recipes.layout import PADDING, labeled_grid, text_width

# Patches per grid row unless told otherwise: one row for the default k = 8.
MAX_GRID_COLUMNS = 8
# Pixels between the patches of bare (unlabeled) strips, such as the appendix pages'.
GRID_PADDING = 4
# Cells are at least this wide so that a caption such as "-1.234e-05" fits on one line;
# smaller patches are enlarged by a whole factor (every patch pixel stays a square block).
MIN_CELL_SIZE = 64
SET_TITLES = {"top": "top", "bottom": "bottom", "near_zero": "near zero"}
CAPTION_NOTE = "under each patch: its activation"


def activation_text(value: float) -> str:
    """The caption of an example: its activation with 4 significant digits."""
    return f"{value:.4g}"


def unit_name(result: DatasetExamples) -> str:
    """``"mixed4a:97"``, plus ``" at (x,y)"`` for a neuron (no space: wrapped as one word)."""
    name = f"{result.layer}:{result.channel}"
    if result.neuron is not None:
        name += f" at ({result.neuron[0]},{result.neuron[1]})"
    return name


def search_summary(result: DatasetExamples) -> str:
    """One line that says what was searched and what the numbers under the patches are."""
    if result.neuron is not None or result.grid is None:
        score = "the unit's value"
    else:
        score = f"the channel's spatial {result.reduce}" + (
            " (min for bottom)" if result.reduce == "max" else "")
    return f"{unit_name(result)} in {result.num_images} images, score: {score}; {CAPTION_NOTE}"


def rank_titles(name: str, count: int, ncols: int, unit: str = "") -> list[str]:
    """One title per grid row naming the ranks it holds: ``"top 1-8 of mixed4a:97"``, ...

    Ranks count from 1 in the order given; ``unit`` (when not empty) follows "of".
    """
    if count < 1 or ncols < 1:
        raise ValueError(f"count and ncols must be at least 1, got {count} and {ncols}.")
    suffix = f" of {unit}" if unit else ""
    titles = []
    for first in range(1, count + 1, ncols):
        last = min(first + ncols - 1, count)
        ranks = f"{first}" if first == last else f"{first}-{last}"
        titles.append(f"{name} {ranks}".strip() + suffix)
    return titles


def _cell_size(patch_side: int, captions: Sequence[str]) -> int:
    """The patch side, times the smallest whole factor that makes room for the captions."""
    room = max(MIN_CELL_SIZE, max(text_width(c) for c in captions) + 2 * PADDING)
    return patch_side * -(-room // patch_side)  # ceiling division


def example_grid(examples: Sequence[Example], ncols: int | None = None, *, name: str = "",
                 row_titles: Sequence[str] | None = None,
                 title: str | None = None) -> np.ndarray:
    """The patches of ``examples`` in a labeled grid, in their order (row by row), as uint8.

    Each patch has its activation under it; each row a title on the left
    (default: ``rank_titles(name, ...)``, e.g. "top 1-8"); ``title`` goes
    across the top. Patches are shown at their size, or enlarged by a whole
    factor when too small for their captions.

    Args:
      examples: e.g. ``result.top``; all patches have one size per search.
      ncols: patches per row (default: up to ``MAX_GRID_COLUMNS``).
      name: what the examples are, for the default row titles.
      row_titles: one title per row instead of the ranks.
      title: a line across the top (None for none).
    """
    if not examples:
        raise ValueError("No examples to draw.")
    patches = [e.patch for e in examples if e.patch is not None]
    if len(patches) != len(examples):
        raise ValueError("These examples have no patches: search with crops=True.")
    columns = ncols if ncols is not None else min(len(examples), MAX_GRID_COLUMNS)
    if columns < 1:
        raise ValueError(f"ncols must be at least 1, got {columns}.")
    n_rows = -(-len(examples) // columns)
    titles = list(row_titles) if row_titles is not None else rank_titles(name, len(examples),
                                                                         columns)
    if len(titles) != n_rows:
        raise ValueError(f"row_titles must have {n_rows} entries (one per row of {columns}), "
                         f"got {len(titles)}.")
    padded = list(examples) + [None] * (n_rows * columns - len(examples))
    rows = [padded[r * columns:(r + 1) * columns] for r in range(n_rows)]
    captions = [[activation_text(e.activation) if e is not None else None for e in row]
                for row in rows]
    side = max(max(patch.shape[:2]) for patch in patches)
    cell = _cell_size(side, [c for row in captions for c in row if c is not None])
    return labeled_grid([[e.patch if e is not None else None for e in row] for row in rows],
                        row_titles=titles, captions=captions, title=title, cell_size=cell)


def save_grid(examples: Sequence[Example], path: str | os.PathLike,
              ncols: int | None = None, *, name: str = "",
              row_titles: Sequence[str] | None = None,
              title: str | None = None) -> pathlib.Path:
    """Saves :func:`example_grid` of ``examples`` as a PNG (or ``.jpg``) at ``path``."""
    return save_image(example_grid(examples, ncols, name=name, row_titles=row_titles,
                                   title=title), path)


def set_grid(result: DatasetExamples, which: str) -> np.ndarray:
    """The grid of one set ("top", "bottom", "near_zero"): rows such as "top 1-8 of mixed4a:97"."""
    examples = result.examples(which)
    columns = min(len(examples), MAX_GRID_COLUMNS)
    return example_grid(examples, columns, title=search_summary(result),
                        row_titles=rank_titles(SET_TITLES[which], len(examples), columns,
                                               unit_name(result)))


def spectrum_grid(result: DatasetExamples) -> np.ndarray:
    """One labeled grid from minimum to maximum, as the article's spectrum figure reads.

    Rows: ``bottom`` (most negative first), ``near_zero`` sorted by value
    (slightly negative, then slightly positive), ``top`` reversed (maximum last).
    """
    rows = (list(result.bottom), sorted(result.near_zero, key=lambda e: (e.activation, e.index)),
            list(reversed(result.top)))
    width = max(len(r) for r in rows)
    if any(len(r) != width for r in rows):
        raise ValueError("The three sets must have the same length for a spectrum.")
    unit = unit_name(result)
    last = f"{width}-1" if width > 1 else "1"
    titles = [rank_titles("bottom", width, width, unit)[0], f"near zero of {unit}",
              f"top {last} of {unit}"]
    return example_grid([e for row in rows for e in row], width, row_titles=titles,
                        title=search_summary(result))


def save_spectrum(result: DatasetExamples, path: str | os.PathLike) -> pathlib.Path:
    """Saves :func:`spectrum_grid` of ``result`` as a PNG (or ``.jpg``) at ``path``."""
    return save_image(spectrum_grid(result), path)


def save_json(result: DatasetExamples, path: str | os.PathLike, **extra) -> pathlib.Path:
    """Writes ``result.to_dict()`` (plus ``extra`` keys) as indented JSON."""
    record = {**result.to_dict(), **extra}
    text = json.dumps(record, indent=2)

    def write(temp: str) -> None:
        pathlib.Path(temp).write_text(text + "\n", encoding="utf-8")

    return atomic_write(path, write)


def save_examples(result: DatasetExamples, output_dir: str | os.PathLike,
                  prefix: str | None = None) -> dict[str, pathlib.Path]:
    """Writes the top, bottom and near-zero grids, a spectrum grid and a JSON to ``output_dir``.

    Files are ``{prefix}_{top,bottom,near_zero,spectrum}.png`` and
    ``{prefix}.json``; the prefix defaults to ``{layer}_{channel}`` (plus the
    neuron position). The directory is created if needed. Returns the paths
    by name ("top", "bottom", "near_zero", "spectrum", "json").
    """
    directory = pathlib.Path(output_dir)
    directory.mkdir(parents=True, exist_ok=True)
    if prefix is None:
        prefix = f"{result.layer}_{result.channel}"
        if result.neuron is not None:
            prefix += f"_x{result.neuron[0]}_y{result.neuron[1]}"
    paths = {which: directory / f"{prefix}_{which}.png" for which in SETS}
    paths["spectrum"] = directory / f"{prefix}_spectrum.png"
    for which in SETS:
        save_image(set_grid(result, which), paths[which])
    save_spectrum(result, paths["spectrum"])
    paths["json"] = directory / f"{prefix}.json"
    save_json(result, paths["json"], grids={name: p.name for name, p in paths.items()
                                            if name != "json"})
    return paths
