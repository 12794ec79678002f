"""What an appendix run renders: its settings and its work items.

A work item is one batch of consecutive channels of one layer. Batches are
fixed by channel index (channels ``0..k-1``, ``k..2k-1``, ... for
``channels_per_batch = k``) and each item's random seed is derived from
``(seed, layer, first channel)`` only. So a channel's render depends only on
the settings, its layer and its index: never on which worker, run or order
rendered it, and a resumed or sharded run writes the same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Callable, Iterable, Mapping, Sequence

from lucid2.optvis import checks
from lucid2.optvis.defaults import (DEFAULT_DECORRELATE, DEFAULT_LEARNING_RATE, DEFAULT_PARAM,
                                    DEFAULT_SIZE, DEFAULT_STEPS, DEFAULT_TRANSFORMS,
                                    PARAM_KINDS, PRESET_NAMES, TRANSFORM_NAMES, preset_value)

DEFAULT_CHANNELS_PER_BATCH = 8
DEFAULT_SEED = 0
DEFAULT_EXAMPLES = 8
# Renderer seeds must be non-negative; 31 bits also suit every RNG they feed.
SEED_BITS = 31
TRANSFORM_CHOICES = TRANSFORM_NAMES
PARAM_CHOICES = PARAM_KINDS
PRESET_CHOICES = PRESET_NAMES
# The appendix renders thousands of channels: "fast" reaches Lucid's 512-step activation
# on every layer in 128 steps (benchmarks/render_quality.py; BUILD.md explains the choice).
DEFAULT_PRESET = "fast"
# Manifests written before presets existed rendered Lucid's recipe.
LEGACY_PRESET = "lucid"


class AppendixError(ValueError):
    """A problem with the request (layers, output directory, earlier run) found before rendering."""


def checked(check: Callable, name: str, value):
    """``check(name, value)`` (from lucid2.optvis.checks), its errors as AppendixError."""
    try:
        return check(name, value)
    except (TypeError, ValueError) as error:
        raise AppendixError(str(error)) from None


def _positive_int(value, name: str) -> int:
    return checked(checks.positive_int, name, value)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything that determines the pixels of a render (and must match on resume).

    Attributes:
      steps: optimization steps per render (None: the preset's).
      size: image width and height in pixels.
      channels_per_batch: channels rendered together, one image each, by one
        compiled step. Part of the settings because the random transforms are
        shared by the images of a batch.
      seed: the run's seed; each work item derives its own from it.
      preset: the render preset (:data:`lucid2.optvis.settings.PRESETS`) the
        renders start from: its Adam moments and transform strength, and the
        steps and learning rate unless given.
      learning_rate: Adam's learning rate (None: the preset's).
      param: "fft" (Lucid's default) or "pixel".
      decorrelate: optimize in ImageNet's decorrelated color space.
      transforms: "standard" (Lucid's), "article" or "none".
    """

    steps: int | None = None
    size: int = DEFAULT_SIZE
    channels_per_batch: int = DEFAULT_CHANNELS_PER_BATCH
    seed: int = DEFAULT_SEED
    learning_rate: float | None = None
    param: str = DEFAULT_PARAM
    decorrelate: bool = DEFAULT_DECORRELATE
    transforms: str = DEFAULT_TRANSFORMS
    preset: str = DEFAULT_PRESET

    def __post_init__(self):
        if self.preset not in PRESET_CHOICES:
            raise AppendixError(f"preset must be one of {PRESET_CHOICES}, got {self.preset!r}.")
        # Resolved now, so that the manifest records the numbers the renders use.
        if self.steps is None:
            object.__setattr__(self, "steps", preset_value(self.preset, "steps", DEFAULT_STEPS))
        if self.learning_rate is None:
            object.__setattr__(self, "learning_rate", preset_value(
                self.preset, "learning_rate", DEFAULT_LEARNING_RATE))
        _positive_int(self.steps, "steps")
        _positive_int(self.size, "size")
        _positive_int(self.channels_per_batch, "channels_per_batch")
        checked(checks.non_negative_int, "seed", self.seed)
        checked(checks.positive_float, "learning_rate", self.learning_rate)
        if self.param not in PARAM_CHOICES:
            raise AppendixError(f"param must be one of {PARAM_CHOICES}, got {self.param!r}.")
        if self.transforms not in TRANSFORM_CHOICES:
            raise AppendixError(
                f"transforms must be one of {TRANSFORM_CHOICES}, got {self.transforms!r}.")

    def to_dict(self) -> dict:
        """JSON-friendly form, as stored in the manifest and in every record."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> Settings:
        """The inverse of :meth:`to_dict`; unknown keys are an error. Settings recorded
        without a preset (before presets existed) are Lucid's."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise AppendixError(f"Unknown settings {unknown}; known: {sorted(names)}.")
        return cls(**{"preset": LEGACY_PRESET, **dict(data)})


def item_seed(seed: int, layer: str, first_channel: int) -> int:
    """The seed of the work item starting at ``first_channel`` of ``layer``.

    A hash, so that it is stable across Python versions and processes (Python's
    own ``hash`` of strings is salted per process).
    """
    digest = hashlib.sha256(f"lucid2.appendix/{seed}/{layer}/{first_channel}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << SEED_BITS) - 1)


@dataclasses.dataclass(frozen=True)
class WorkItem:
    """One batch of consecutive channels of one layer, rendered together."""

    layer: str
    channels: tuple[int, ...]
    seed: int

    @property
    def first_channel(self) -> int:
        return self.channels[0]

    @property
    def label(self) -> str:
        """A short name for logs, e.g. ``mixed4a 8-15``."""
        first, last = self.channels[0], self.channels[-1]
        return f"{self.layer} {first}" if first == last else f"{self.layer} {first}-{last}"

    def to_dict(self) -> dict:
        return {"layer": self.layer, "channels": list(self.channels), "seed": self.seed}

    @classmethod
    def from_dict(cls, data: Mapping) -> WorkItem:
        return cls(layer=str(data["layer"]), channels=tuple(int(c) for c in data["channels"]),
                   seed=int(data["seed"]))


def plan_items(layer_channels: Mapping[str, int], channels_per_batch: int,
               seed: int) -> list[WorkItem]:
    """Every work item of the layers, in layer order then channel order.

    Args:
      layer_channels: layer name -> number of channels, in rendering order.
      channels_per_batch: channels per item; the last item of a layer may be shorter.
      seed: the run's seed.
    """
    channels_per_batch = _positive_int(channels_per_batch, "channels_per_batch")
    items = []
    for layer, count in layer_channels.items():
        count = _positive_int(count, f"the channel count of layer {layer!r}")
        for first in range(0, count, channels_per_batch):
            channels = tuple(range(first, min(first + channels_per_batch, count)))
            items.append(WorkItem(layer=layer, channels=channels,
                                  seed=item_seed(seed, layer, first)))
    return items


@dataclasses.dataclass(frozen=True)
class Task:
    """A work item and what is still missing for it: the renders and/or dataset examples."""

    item: WorkItem
    render: bool
    example_channels: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        return {"item": self.item.to_dict(), "render": self.render,
                "example_channels": list(self.example_channels)}

    @classmethod
    def from_dict(cls, data: Mapping) -> Task:
        return cls(item=WorkItem.from_dict(data["item"]), render=bool(data["render"]),
                   example_channels=tuple(int(c) for c in data["example_channels"]))


def pending_tasks(items: Iterable[WorkItem], rendered: Mapping[str, set[int]],
                  with_examples: Mapping[str, set[int]] | None) -> list[Task]:
    """The tasks still to do.

    An item whose channels are not all rendered is rendered again whole (its
    batch must be complete to give the same pixels); ``with_examples`` is None
    when no dataset was given.
    """
    tasks = []
    for item in items:
        done = rendered.get(item.layer, set())
        render = any(c not in done for c in item.channels)
        examples: tuple[int, ...] = ()
        if with_examples is not None:
            have = with_examples.get(item.layer, set())
            examples = tuple(c for c in item.channels if c not in have)
        if render or examples:
            tasks.append(Task(item=item, render=render, example_channels=examples))
    return tasks


def check_layer_names(layers: Sequence[str]) -> tuple[str, ...]:
    """Layer names as a tuple without duplicates (order kept); rejects empty lists."""
    if isinstance(layers, str):
        layers = [layers]
    names = []
    for name in layers:
        if not isinstance(name, str) or not name.strip():
            raise AppendixError(f"Layer names must be non-empty strings, got {name!r}.")
        if name.strip() not in names:
            names.append(name.strip())
    if not names:
        raise AppendixError("No layers to render: name at least one, e.g. --layers=mixed4a.")
    return tuple(names)
