"""What a photo recipe returns (:class:`PhotoResult`) and how it is saved (:func:`save_result`).

Every recipe of :mod:`lucid2.recipes.photo` returns one image and the numbers it
measured. :func:`save_result` writes them as ``NAME.png`` and ``NAME.json`` beside it,
each atomically; the JSON is written last, and a failure while writing it removes the new
PNG, so a PNG is never left without its JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
from typing import Any, Mapping

import numpy as np

from lucid2.misc.io import save_image
from lucid2.misc.io.atomic import atomic_write
from lucid2.recipes.figures.result import to_jsonable

PNG_SUFFIX = ".png"
JSON_SUFFIX = ".json"
RGB_CHANNELS = 3
IMAGE_RANK = 3


@dataclasses.dataclass(frozen=True)
class PhotoResult:
    """One image made from a photo, and what was measured on it.

    Attributes:
      recipe: which recipe made it (``"inversion"``, ``"caricature"``, ...).
      image: float32 (H, W, 3) in [0, 1].
      metrics: the numbers measured (JSON-friendly: numbers, strings, lists, dicts of them;
        numpy values are fine).
      inputs: what was asked: the photo(s) (paths, or the shape of an array), layers,
        steps, size, seed and the other settings.
    """

    recipe: str
    image: np.ndarray = dataclasses.field(repr=False, compare=False)
    metrics: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    inputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if not re.fullmatch(r"[a-z0-9_]+", self.recipe or ""):
            raise ValueError(f"A recipe name must be lowercase letters, digits and '_', got "
                             f"{self.recipe!r}.")
        image = np.asarray(self.image)
        if image.ndim != IMAGE_RANK or image.shape[-1] != RGB_CHANNELS:
            raise ValueError(f"PhotoResult {self.recipe!r}: the image must be (H, W, 3), got "
                             f"shape {image.shape}.")
        if not np.issubdtype(image.dtype, np.floating):
            raise TypeError(f"PhotoResult {self.recipe!r}: the image must be float in [0, 1], "
                            f"got dtype {image.dtype}.")
        object.__setattr__(self, "image", image.astype(np.float32, copy=False))
        object.__setattr__(self, "metrics", dict(self.metrics))
        object.__setattr__(self, "inputs", dict(self.inputs))

    def record(self) -> dict:
        """The JSON record (without the file name): recipe, image size, inputs, metrics."""
        height, width = self.image.shape[:2]
        return {"recipe": self.recipe, "height": int(height), "width": int(width),
                "inputs": to_jsonable(self.inputs), "metrics": to_jsonable(self.metrics)}


def json_path_for(png_path: str | os.PathLike) -> pathlib.Path:
    """The JSON file written beside ``png_path``: the same stem, ``.json``."""
    return pathlib.Path(png_path).with_suffix(JSON_SUFFIX)


def save_result(result: PhotoResult, png_path: str | os.PathLike) -> dict[str, pathlib.Path]:
    """Writes ``result.image`` to ``png_path`` and its record to the ``.json`` beside it.

    Returns ``{"png": path, "json": path}``. Raises ValueError for a path that is not a
    ``.png`` file, and TypeError for a metric or input JSON cannot store, before writing
    anything. The folder must exist.
    """
    if not isinstance(result, PhotoResult):
        raise TypeError(f"save_result expects a PhotoResult, got {type(result).__name__}.")
    png_path = pathlib.Path(png_path)
    if png_path.suffix.lower() != PNG_SUFFIX:
        raise ValueError(f"save_result writes a .png file, got {str(png_path)!r}.")
    json_path = json_path_for(png_path)
    record = {"image": png_path.name, **result.record()}
    text = json.dumps(record, indent=2, allow_nan=False) + "\n"  # fails before any write
    def write_json(temp: str) -> None:
        pathlib.Path(temp).write_text(text, encoding="utf-8")

    save_image(result.image, png_path)
    try:
        atomic_write(json_path, write_json)
    except BaseException:
        # A PNG without its JSON would look like a finished result.
        try:
            os.remove(png_path)
        except FileNotFoundError:
            pass
        raise
    return {"png": png_path, "json": json_path}


def load_record(png_or_json_path: str | os.PathLike) -> dict:
    """The JSON record saved beside a result's PNG (give either file)."""
    path = json_path_for(png_or_json_path)
    return json.loads(path.read_text(encoding="utf-8"))
