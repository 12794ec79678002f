"""The search: stream images through a model and keep the running top-k examples of a unit.

Memory stays bounded whatever the number of images: per set of examples
(top, bottom, near zero) only the k best so far are kept, with their images;
each batch is merged into them and forgotten.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from lucid2.modelzoo.base import VisionModel
from lucid2.recipes.dataset_examples.receptive_field import (ReceptiveField, UnknownLayerError,
                                                             fallback_receptive_field,
                                                             receptive_field as layer_field)
from lucid2.recipes.dataset_examples.results import SETS, DatasetExamples, Example
from lucid2.recipes.dataset_examples.sources import batches, resolve_images

REDUCTIONS = ("max", "mean")
CENTER = "center"
# Patch size, as a fraction of the image, for layers without a receptive-field rule.
FALLBACK_PATCH_FRACTION = 0.5
SPATIAL_RANK = 4
VECTOR_RANK = 2
# The statistics computed per image, in the order of the columns of `stats`.
STATS = ("max", "min", "mean")


@dataclass(frozen=True)
class Unit:
    """A checked unit: channel ``channel`` of ``layer``, at ``position`` for a neuron."""

    layer: str
    channel: int
    neuron: tuple[int, int] | None
    grid: tuple[int, int] | None  # (rows, cols) of the layer; None for (N, C) layers


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(value)


def check_unit(model: VisionModel, layer: str, channel: int, *,
               neuron: str | Sequence[int] | None = None, image_size: int = 224) -> Unit:
    """Checks that ``channel`` (and ``neuron``) exist in ``layer`` for the image size.

    Raises ValueError (an unknown layer names close matches) or TypeError; runs
    no images.
    """
    if not isinstance(model, VisionModel):
        raise TypeError(f"model must be a lucid2 VisionModel, got {type(model).__name__}; wrap a "
                        "Keras model with lucid2.modelzoo.from_keras(net, value_range=...).")
    model.check_layer(layer)
    image_size = _positive_int(image_size, "image_size")
    shape = model.output_shape(layer, (1, image_size, image_size, 3))
    if len(shape) not in (SPATIAL_RANK, VECTOR_RANK):
        raise ValueError(f"Layer {layer!r} has output shape {shape}; dataset examples need "
                         "(N, H, W, C) or (N, C).")
    channels = shape[-1]
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) \
            or not 0 <= channel < channels:
        raise ValueError(f"channel must be an int in 0..{channels - 1} for layer {layer!r} "
                         f"({channels} channels), got {channel!r}.")
    grid = tuple(int(d) for d in shape[1:3]) if len(shape) == SPATIAL_RANK else None
    position = None
    if neuron is not None:
        if grid is None:
            raise ValueError(f"Layer {layer!r} has no spatial positions (shape {shape}); "
                             "use neuron=None.")
        if isinstance(neuron, str):
            if neuron != CENTER:
                raise ValueError(f"neuron must be None, {CENTER!r} or (x, y), got {neuron!r}.")
            position = (grid[0] // 2, grid[1] // 2)
        else:
            try:
                x, y = neuron
            except (TypeError, ValueError):
                raise ValueError(f"neuron must be None, {CENTER!r} or (x, y), got "
                                 f"{neuron!r}.") from None
            for value, size, name in ((x, grid[0], "x (row)"), (y, grid[1], "y (column)")):
                if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                        or not 0 <= value < size:
                    raise ValueError(
                        f"neuron {name} must be an int in 0..{size - 1}: layer {layer!r} is "
                        f"{grid[0]}x{grid[1]} for {image_size}px images; got {neuron!r}.")
            position = (int(x), int(y))
    return Unit(layer=layer, channel=int(channel), neuron=position, grid=grid)


def _score_function(model: VisionModel, unit: Unit, image_size: int):
    """A compiled function: images -> per-image statistics of the unit's channel."""
    submodel = model.submodel(unit.layer)
    signature = [tf.TensorSpec((None, image_size, image_size, 3), tf.float32)]

    @tf.function(input_signature=signature)
    def score(images):
        acts = submodel(images, training=False)[..., unit.channel]
        if unit.grid is None:
            acts = acts[:, None, None]
        flat = tf.reshape(acts, (tf.shape(acts)[0], -1))
        out = {"max": tf.reduce_max(flat, axis=1), "min": tf.reduce_min(flat, axis=1),
               "mean": tf.reduce_mean(flat, axis=1),
               # argmax/argmin return the first (row-major) of equal values.
               "argmax": tf.argmax(flat, axis=1), "argmin": tf.argmin(flat, axis=1)}
        if unit.neuron is not None:
            out["neuron"] = acts[:, unit.neuron[0], unit.neuron[1]]
        return out

    return score


def _ranking(stats: dict, unit: Unit, reduce: str, which: str):
    """(score, flat position) per image for one set."""
    extreme = "min" if which == "bottom" else "max"
    flat = stats["arg" + extreme]
    if unit.neuron is not None:
        columns = unit.grid[1]
        flat = np.full_like(flat, unit.neuron[0] * columns + unit.neuron[1])
        return stats["neuron"], flat
    return (stats["mean"] if reduce == "mean" else stats[extreme]), flat


class _RunningTopK:
    """The k best candidates seen so far, ordered by (key, index)."""

    def __init__(self, k: int, which: str):
        self.k = k
        self.which = which
        self.arrays: dict[str, np.ndarray] | None = None
        self.images: np.ndarray | None = None

    def key(self, scores: np.ndarray) -> np.ndarray:
        if self.which == "top":
            return -scores
        return np.abs(scores) if self.which == "near_zero" else scores

    def update(self, batch: dict[str, np.ndarray], images: np.ndarray) -> None:
        """Merges a batch of candidates (numbers in ``batch``, pixels in ``images``)."""
        if self.arrays is None:
            merged, kept = batch, 0
        else:
            merged = {name: np.concatenate([self.arrays[name], batch[name]]) for name in batch}
            kept = len(self.arrays["index"])
        # lexsort's last key is the primary one; the image index breaks ties,
        # so the result does not depend on how the images were batched.
        order = np.lexsort((merged["index"], self.key(merged["score"])))[:self.k]
        # Only the k winners' pixels are copied, not the whole batch.
        pixels = np.stack([self.images[i] if i < kept else images[i - kept] for i in order])
        self.arrays = {name: values[order] for name, values in merged.items()}
        self.images = pixels


def _progress_bar(count: int | None, progress: bool):
    return keras.utils.Progbar(count, unit_name="image") if progress else None


def find_examples(model: VisionModel, layer: str, channel: int, images, *,
                  neuron: str | Sequence[int] | None = None, k: int = 8, reduce: str = "max",
                  batch_size: int = 16, image_size: int = 224, crops: bool = True,
                  receptive_field: ReceptiveField | None = None,
                  progress: bool = True) -> DatasetExamples:
    """The images of a dataset that drive a channel (or neuron) up, down, and leave it near zero.

    Args:
      model: a :class:`~lucid2.modelzoo.VisionModel` (e.g. ``InceptionV1()``).
      layer: layer name; use a ``*_pre_relu`` layer to see negative values.
      channel: channel index in ``layer``.
      images: a directory (searched recursively), a glob pattern, an image
        file, a list of files, a ``tf.data.Dataset`` of images (H, W, 3) or
        batches, float in [0, 1] or uint8, or an array (N, H, W, 3). Streamed;
        any number of images.
      neuron: None for the whole channel; ``(x, y)`` for one position, with
        lucid2's neuron objective convention (x is the row, y the column), or
        "center".
      k: examples per set.
      reduce: the score of an image for a channel. "max" (default): the
        channel's strongest spot in the direction searched, as the article's
        examples show the spot that fires most: the spatial maximum for
        ``top`` and ``near_zero`` (smallest ``|max|``: the channel barely fires
        anywhere), the spatial minimum for ``bottom``. "mean": the spatial
        mean for all three. Ignored for a neuron (its value is the score) and
        for (N, C) layers.
      batch_size: images per forward pass; results do not depend on it.
      image_size: images are resized to image_size x image_size.
      crops: cut receptive-field patches around each example's position:
        the spatial argmax (top, near_zero) or argmin (bottom), or the neuron.
      receptive_field: override for the layer's receptive field. By default
        it is derived from the Keras graph; where a layer has no known rule a
        warning is given and each patch is ``FALLBACK_PATCH_FRACTION`` of the
        image around the unit's cell.
      progress: show a ``keras.utils.Progbar``.

    Ties are broken by image index, so the result is the same for any
    batch size. Files that cannot be read are skipped with a warning and
    listed in ``skipped``; a ValueError is raised when none can be read.
    """
    unit = check_unit(model, layer, channel, neuron=neuron, image_size=image_size)
    k = _positive_int(k, "k")
    batch_size = _positive_int(batch_size, "batch_size")
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}.")
    if receptive_field is not None and not isinstance(receptive_field, ReceptiveField):
        raise TypeError("receptive_field must be a ReceptiveField or None, got "
                        f"{type(receptive_field).__name__}.")
    source = resolve_images(images)
    field_ = _layer_receptive_field(model, unit, image_size, receptive_field) if crops else None

    score = _score_function(model, unit, image_size)
    keepers = {which: _RunningTopK(k, which) for which in SETS}
    bar = _progress_bar(source.count, progress)
    seen = 0
    seen_indices = set() if source.paths is not None else None
    for indices, pixels in batches(source, image_size, batch_size):
        stats = {name: value.numpy() for name, value in score(pixels).items()}
        index = indices.numpy()
        pixels = pixels.numpy()
        columns = np.stack([stats[name] for name in STATS], axis=1)
        for which, keeper in keepers.items():
            scores, flat = _ranking(stats, unit, reduce, which)
            keeper.update({"score": scores.astype(np.float64), "index": index, "flat": flat,
                           "stats": columns}, pixels)
        seen += len(index)
        if seen_indices is not None:
            seen_indices.update(index.tolist())
        if bar is not None:
            bar.add(len(index))

    skipped = ()
    if source.paths is not None:
        skipped = tuple(p for i, p in enumerate(source.paths) if i not in seen_indices)
        if skipped:
            shown = ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else "")
            warnings.warn(f"Skipped {len(skipped)} unreadable image file(s): {shown}",
                          stacklevel=2)
    if seen == 0:
        what = "could be read" if source.paths is not None else "were given: it is empty"
        raise ValueError(f"None of the images {what} ({source.description}).")
    sets = {which: _examples(keeper, unit, source, field_, crops)
            for which, keeper in keepers.items()}
    return DatasetExamples(
        model=model.name, layer=layer, channel=unit.channel, neuron=unit.neuron, reduce=reduce,
        image_size=image_size, grid=unit.grid, receptive_field=field_, num_images=seen,
        skipped=skipped, **sets)


def _layer_receptive_field(model, unit: Unit, image_size: int, override):
    if unit.grid is None:
        return None  # an (N, C) unit sees the whole image; patches are the image
    if override is not None:
        return override
    try:
        return layer_field(model, unit.layer, image_size)
    except UnknownLayerError as error:
        warnings.warn(f"{error} Using patches of {FALLBACK_PATCH_FRACTION:.0%} of the image "
                      "around each unit's cell instead.", stacklevel=3)
        return fallback_receptive_field(unit.grid, (image_size, image_size),
                                        FALLBACK_PATCH_FRACTION)


def _examples(keeper: _RunningTopK, unit: Unit, source, field_,
              crops: bool) -> tuple[Example, ...]:
    arrays = keeper.arrays
    result = []
    for i in range(len(arrays["index"])):
        image = keeper.images[i]
        position = None
        if unit.grid is not None:
            position = tuple(int(v) for v in divmod(int(arrays["flat"][i]), unit.grid[1]))
        box = patch = None
        if field_ is not None:
            box = field_.patch_box(*position, image.shape[:2])
            patch = image[box[0]:box[2], box[1]:box[3]]
        elif crops:  # an (N, C) unit: the patch is the whole image
            box, patch = (0, 0, image.shape[0], image.shape[1]), image
        stats = dict(zip(STATS, (float(v) for v in arrays["stats"][i])))
        index = int(arrays["index"][i])
        result.append(Example(index=index, source=source.name(index),
                              activation=float(arrays["score"][i]), position=position, box=box,
                              image=image, patch=patch, **stats))
    return tuple(result)
