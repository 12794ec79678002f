"""Saving dataset examples: grids of patches (PNG) and the numbers (JSON)."""

from __future__ import annotations

import json
import os
import pathlib
from typing import Sequence

import numpy as np

from lucid2.misc.io import image_grid, save_image
from lucid2.misc.io.atomic import atomic_write
from lucid2.recipes.dataset_examples.results import SETS, DatasetExamples, Example

# Patches per grid row unless told otherwise: one row for the default k = 8.
MAX_GRID_COLUMNS = 8
GRID_PADDING = 4


def save_grid(examples: Sequence[Example], path: str | os.PathLike,
              ncols: int | None = None) -> pathlib.Path:
    """Saves the patches of ``examples`` as one PNG grid, in their order (row by row).

    Args:
      examples: e.g. ``result.top``; all patches have one size per search.
      path: a ``.png`` (or ``.jpg``) file.
      ncols: patches per row (default: up to ``MAX_GRID_COLUMNS``).
    """
    if not examples:
        raise ValueError("No examples to save.")
    if any(e.patch is None for e in examples):
        raise ValueError("These examples have no patches: search with crops=True.")
    patches = np.stack([e.patch for e in examples])
    columns = ncols if ncols is not None else min(len(examples), MAX_GRID_COLUMNS)
    return save_image(image_grid(patches, ncols=columns, padding=GRID_PADDING), path)


def save_spectrum(result: DatasetExamples, path: str | os.PathLike) -> pathlib.Path:
    """One PNG from minimum to maximum, as the article's spectrum figure reads.

    Rows: ``bottom`` (most negative first), ``near_zero`` sorted by value
    (slightly negative, then slightly positive), ``top`` reversed (maximum last).
    """
    rows = (list(result.bottom), sorted(result.near_zero, key=lambda e: (e.activation, e.index)),
            list(reversed(result.top)))
    width = max(len(r) for r in rows)
    if any(len(r) != width for r in rows):
        raise ValueError("The three sets must have the same length for a spectrum.")
    return save_grid([e for row in rows for e in row], path, ncols=width)


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
        save_grid(result.examples(which), paths[which])
    save_spectrum(result, paths["spectrum"])
    paths["json"] = directory / f"{prefix}.json"
    save_json(result, paths["json"], grids={name: p.name for name, p in paths.items()
                                            if name != "json"})
    return paths
