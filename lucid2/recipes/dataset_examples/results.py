"""Results of a dataset-example search: ranked :class:`Example` lists and their JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lucid2.recipes.dataset_examples.receptive_field import ReceptiveField

SETS = ("top", "bottom", "near_zero")


@dataclass(frozen=True)
class Example:
    """One dataset example.

    Attributes:
      index: position of the image in the source order.
      source: its file path, or None for in-memory and dataset images.
      activation: the ranking score (see :func:`find_examples`).
      position: (row, col) of the unit in the layer's grid that the patch is
        centered on; None for layers without positions.
      box: (top, left, bottom, right) of the patch in the image (bottom/right
        excluded); None without crops.
      image: the whole image as searched, float32 (S, S, 3) in [0, 1].
      patch: ``image[top:bottom, left:right]``, or None without crops.
      max, min, mean: the channel's spatial maximum, minimum and mean.
    """

    index: int
    source: str | None
    activation: float
    position: tuple[int, int] | None
    box: tuple[int, int, int, int] | None
    image: np.ndarray = field(repr=False, compare=False)
    patch: np.ndarray | None = field(repr=False, compare=False)
    max: float
    min: float
    mean: float

    def to_dict(self) -> dict:
        """JSON-friendly numbers (no pixels)."""
        return {"index": self.index, "source": self.source, "activation": self.activation,
                "position": list(self.position) if self.position is not None else None,
                "box": list(self.box) if self.box is not None else None,
                "max": self.max, "min": self.min, "mean": self.mean}


@dataclass(frozen=True)
class DatasetExamples:
    """The result of :func:`find_examples`: three ranked lists of :class:`Example`.

    ``top`` runs from the highest score down, ``bottom`` from the lowest up,
    ``near_zero`` from the smallest ``|score|`` up. ``skipped`` lists the files
    that could not be read.
    """

    model: str
    layer: str
    channel: int
    neuron: tuple[int, int] | None
    reduce: str
    image_size: int
    grid: tuple[int, int] | None
    receptive_field: ReceptiveField | None
    num_images: int
    skipped: tuple[str, ...]
    top: tuple[Example, ...]
    bottom: tuple[Example, ...]
    near_zero: tuple[Example, ...]

    def examples(self, which: str) -> tuple[Example, ...]:
        """One of the sets by name: "top", "bottom" or "near_zero"."""
        if which not in SETS:
            raise ValueError(f"which must be one of {SETS}, got {which!r}.")
        return getattr(self, which)

    def patches(self, which: str = "top") -> np.ndarray:
        """The patches of one set as one array (n, h, w, 3)."""
        examples = self.examples(which)
        patches = [e.patch for e in examples if e.patch is not None]
        if not patches or len(patches) != len(examples):
            raise ValueError(f"No patches for {which!r}: search with crops=True.")
        return np.stack(patches)

    def to_dict(self) -> dict:
        """Everything but the pixels, JSON-friendly."""
        rf = self.receptive_field
        return {"model": self.model, "layer": self.layer, "channel": self.channel,
                "neuron": list(self.neuron) if self.neuron is not None else None,
                "reduce": self.reduce, "image_size": self.image_size,
                "grid": list(self.grid) if self.grid is not None else None,
                "receptive_field": rf.to_dict() if rf is not None else None,
                "num_images": self.num_images, "skipped": list(self.skipped),
                **{name: [e.to_dict() for e in self.examples(name)] for name in SETS}}
