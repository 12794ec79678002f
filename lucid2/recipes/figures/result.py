"""What a figure recipe returns (:class:`FigureResult`) and how it is saved.

A figure is a grid of :class:`Panel` images (drawn with titles by
:func:`~lucid2.recipes.layout.labeled_grid`) plus the numbers it
measured. :func:`save_figure` writes, each file atomically (a crash leaves no
partial file):

* ``NAME.png``: the labeled composite;
* ``NAME_panels/RR_CC_LABEL.png``: every panel alone, at its own resolution;
* ``NAME_EXTRA.png``: extra images such as curve plots;
* ``NAME.json``: the numbers, the settings and the list of files (written last).
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import pathlib
import re
from typing import Any, Mapping, Sequence

import numpy as np

from lucid2.misc.io import save_image
from lucid2.misc.io.atomic import atomic_write
from lucid2.recipes.layout import labeled_grid

PANELS_SUFFIX = "_panels"
MAX_SLUG_LENGTH = 48


@dataclasses.dataclass(frozen=True)
class Panel:
    """One image of a figure.

    Attributes:
      label: what it shows, e.g. ``"mixed4a 97"``; names its PNG.
      image: float (H, W, 3) in [0, 1] (or uint8).
      caption: text drawn under the cell in the composite; default ``label``.
    """

    label: str
    image: np.ndarray = dataclasses.field(repr=False, compare=False)
    caption: str | None = None

    def __post_init__(self):
        if not isinstance(self.label, str) or not self.label:
            raise ValueError(f"A panel label must be a non-empty string, got {self.label!r}.")
        shape = np.shape(self.image)
        if len(shape) != 3 or shape[-1] not in (3, 4):
            raise ValueError(f"Panel {self.label!r}: the image must be (H, W, 3 or 4), got "
                             f"shape {shape}.")

    @property
    def shown_caption(self) -> str:
        return self.label if self.caption is None else self.caption


@dataclasses.dataclass(frozen=True)
class FigureResult:
    """The images and numbers of one figure.

    Attributes:
      name: the figure's name (``"diversity"``); names its files.
      title: one line describing the figure, drawn on top of the composite.
      grid: rows of panels (None for an empty cell), all rows of one length.
      column_titles, row_titles: titles drawn above / left of the grid (or empty).
      numbers: what the figure measured, JSON-friendly (numpy values are fine).
      settings: how it was made (steps, size, seed, units, weights of terms...).
      extra_images: further images by name (e.g. ``{"curves": plot}``).
    """

    name: str
    title: str
    grid: tuple[tuple[Panel | None, ...], ...]
    column_titles: tuple[str, ...] = ()
    row_titles: tuple[str, ...] = ()
    numbers: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    extra_images: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict,
                                                                repr=False)

    def __post_init__(self):
        if not re.fullmatch(r"[a-z0-9_]+", self.name or ""):
            raise ValueError(f"A figure name must be lowercase letters, digits and '_', got "
                             f"{self.name!r}.")
        grid = tuple(tuple(row) for row in self.grid)
        if not grid or not grid[0] or any(len(row) != len(grid[0]) for row in grid):
            raise ValueError("grid must hold rows of panels, all of the same (non-zero) length.")
        for row in grid:
            for cell in row:
                if cell is not None and not isinstance(cell, Panel):
                    raise TypeError(f"grid cells must be Panel or None, got {type(cell).__name__}.")
        if not any(isinstance(p, Panel) for row in grid for p in row):
            raise ValueError("grid must hold at least one panel.")
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "column_titles", tuple(self.column_titles))
        object.__setattr__(self, "row_titles", tuple(self.row_titles))
        if self.column_titles and len(self.column_titles) != len(grid[0]):
            raise ValueError(f"{len(self.column_titles)} column titles for {len(grid[0])} "
                             "columns.")
        if self.row_titles and len(self.row_titles) != len(grid):
            raise ValueError(f"{len(self.row_titles)} row titles for {len(grid)} rows.")
        for key in self.extra_images:
            if not re.fullmatch(r"[a-z0-9_]+", key):
                raise ValueError(f"extra image names must be lowercase letters, digits and "
                                 f"'_', got {key!r}.")

    def panels(self) -> list[tuple[int, int, Panel]]:
        """(row, column, panel) for every non-empty cell, row by row."""
        return [(r, c, p) for r, row in enumerate(self.grid) for c, p in enumerate(row)
                if p is not None]

    def composite(self) -> np.ndarray:
        """The labeled grid as a uint8 (H, W, 3) image."""
        return labeled_grid(
            [[p.image if p is not None else None for p in row] for row in self.grid],
            column_titles=self.column_titles, row_titles=self.row_titles,
            captions=[[p.shown_caption if p is not None else None for p in row]
                      for row in self.grid],
            title=self.title)


def to_jsonable(value: Any) -> Any:
    """``value`` with numpy scalars/arrays, tuples and paths turned into JSON types.

    Non-finite floats become None (JSON has no NaN or infinity).
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"Cannot store {type(value).__name__} in a figure's JSON: {value!r}.")


def slug(text: str) -> str:
    """A file-name-safe form of a label: lowercase, runs of other characters as '_'."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return cleaned[:MAX_SLUG_LENGTH] or "panel"


def _write_json(record: dict, path: pathlib.Path) -> pathlib.Path:
    text = json.dumps(record, indent=2, allow_nan=False)

    def write(temp: str) -> None:
        pathlib.Path(temp).write_text(text + "\n", encoding="utf-8")

    return atomic_write(path, write)


def save_figure(result: FigureResult, output_dir: str | os.PathLike) -> dict[str, pathlib.Path]:
    """Writes the composite PNG, per-panel PNGs, extra images and ``NAME.json``.

    The directory (and the panels folder) is created if needed. Returns the
    paths by role: "composite", "json", "panel:R:C" for every panel and
    "extra:KEY" for every extra image.
    """
    if not isinstance(result, FigureResult):
        raise TypeError(f"save_figure expects a FigureResult, got {type(result).__name__}.")
    directory = pathlib.Path(output_dir)
    directory.mkdir(parents=True, exist_ok=True)
    record_numbers = to_jsonable(result.numbers)  # fails early on unstorable values
    record_settings = to_jsonable(result.settings)
    paths: dict[str, pathlib.Path] = {}
    paths["composite"] = save_image(result.composite(), directory / f"{result.name}.png")
    panel_dir = directory / f"{result.name}{PANELS_SUFFIX}"
    panel_dir.mkdir(exist_ok=True)
    panels = []
    for r, c, panel in result.panels():
        path = save_image(panel.image, panel_dir / f"{r:02d}_{c:02d}_{slug(panel.label)}.png")
        paths[f"panel:{r}:{c}"] = path
        panels.append({"row": r, "column": c, "label": panel.label,
                       "file": path.relative_to(directory).as_posix()})
    extras = {}
    for key, image in result.extra_images.items():
        path = save_image(image, directory / f"{result.name}_{key}.png")
        paths[f"extra:{key}"] = path
        extras[key] = path.name
    record = {"figure": result.name, "title": result.title,
              "composite": paths["composite"].name, "column_titles": list(result.column_titles),
              "row_titles": list(result.row_titles), "panels": panels, "extra_images": extras,
              "settings": record_settings, "numbers": record_numbers}
    paths["json"] = _write_json(record, directory / f"{result.name}.json")
    return paths


def grid_of(rows: Sequence[Sequence[Panel | None]]) -> tuple[tuple[Panel | None, ...], ...]:
    """Rows padded with None to the longest row's length (for ragged layouts)."""
    width = max(len(row) for row in rows)
    return tuple(tuple(row) + (None,) * (width - len(row)) for row in rows)
