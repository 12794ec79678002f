"""The search: stream images through a model and keep the running top-k examples of its units.

One pass runs each batch through the model once and ranks it for every
requested channel of the layer at once (:func:`scan_layer`,
:func:`find_layer_examples`); :func:`find_examples` is that search for one
channel (or one neuron). Memory stays bounded whatever the number of images:
during the pass only the k best image indices, scores and positions per
channel and set (top, bottom, near zero) are kept, plus the pixels of the
selected images up to a budget; the pixels of the others are read again
afterwards, for the selected images only.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import tensorflow as tf

from lucid2.misc.io import load_image

from lucid2.modelzoo.base import VisionModel
from lucid2.optvis import checks
from lucid2.optvis import progress as progress_lib
from lucid2.recipes.dataset_examples.receptive_field import (ReceptiveField, UnknownLayerError,
                                                             fallback_receptive_field,
                                                             receptive_field as layer_field)
from lucid2.recipes.dataset_examples.results import SETS, DatasetExamples, Example
from lucid2.recipes.dataset_examples.sources import (ImageSource, UnreadableImagesError,
                                                     batches, check_readable,
                                                     describe_failures, resolve_images)

REDUCTIONS = ("max", "mean")
CENTER = "center"
# Patch size, as a fraction of the image, for layers without a receptive-field rule.
FALLBACK_PATCH_FRACTION = 0.5
SPATIAL_RANK = 4
VECTOR_RANK = 2
RGB_CHANNELS = 3
# The statistics computed per image, in the order of the last axis of `stats`.
STATS = ("max", "min", "mean")
# Pixels of selected images kept during a layer-wide pass; the selected images
# beyond it are read again after the pass. (find_examples keeps all of its at
# most 3 k images, so a dataset is iterated only once there.)
PIXEL_CACHE_BYTES = 256 * 2 ** 20
FLOAT32_BYTES = 4
# Relative tolerance when checking that an image read again is the one ranked.
CHECKSUM_RTOL = 1e-6


@dataclass(frozen=True)
class Unit:
    """A checked unit: channel ``channel`` of ``layer``, at ``position`` for a neuron."""

    layer: str
    channel: int
    neuron: tuple[int, int] | None
    grid: tuple[int, int] | None  # (rows, cols) of the layer; None for (N, C) layers


def _is_index(value, size: int) -> bool:
    return checks.is_int(value) and 0 <= value < size


def _layer_geometry(model: VisionModel, layer: str,
                    image_size: int) -> tuple[tuple[int, ...], tuple[int, int] | None]:
    """(output shape, grid) of ``layer`` for square ``image_size`` images; checks all three."""
    if not isinstance(model, VisionModel):
        raise TypeError(f"model must be a lucid2 VisionModel, got {type(model).__name__}; wrap a "
                        "Keras model with lucid2.modelzoo.from_keras(net, value_range=...).")
    model.check_layer(layer)
    image_size = checks.positive_int("image_size", image_size)
    shape = tuple(model.output_shape(layer, (1, image_size, image_size, 3)))
    if len(shape) not in (SPATIAL_RANK, VECTOR_RANK):
        raise ValueError(f"Layer {layer!r} has output shape {shape}; dataset examples need "
                         "(N, H, W, C) or (N, C).")
    grid = (int(shape[1]), int(shape[2])) if len(shape) == SPATIAL_RANK else None
    return shape, grid


def _check_neuron(neuron, layer: str, shape, grid, image_size: int) -> tuple[int, int] | None:
    if neuron is None:
        return None
    if grid is None:
        raise ValueError(f"Layer {layer!r} has no spatial positions (shape {shape}); "
                         "use neuron=None.")
    if isinstance(neuron, str):
        if neuron != CENTER:
            raise ValueError(f"neuron must be None, {CENTER!r} or (x, y), got {neuron!r}.")
        return grid[0] // 2, grid[1] // 2
    try:
        x, y = neuron
    except (TypeError, ValueError):
        raise ValueError(f"neuron must be None, {CENTER!r} or (x, y), got "
                         f"{neuron!r}.") from None
    for value, size, name in ((x, grid[0], "x (row)"), (y, grid[1], "y (column)")):
        if not _is_index(value, size):
            raise ValueError(
                f"neuron {name} must be an int in 0..{size - 1}: layer {layer!r} is "
                f"{grid[0]}x{grid[1]} for {image_size}px images; got {neuron!r}.")
    return int(x), int(y)


def check_unit(model: VisionModel, layer: str, channel: int, *,
               neuron: str | Sequence[int] | None = None, image_size: int = 224) -> Unit:
    """Checks that ``channel`` (and ``neuron``) exist in ``layer`` for the image size.

    Raises ValueError (an unknown layer names close matches) or TypeError; runs
    no images.
    """
    return _check_unit(model, layer, channel, neuron, image_size)[0]


def _check_unit(model, layer: str, channel, neuron, image_size) -> tuple[Unit, int]:
    """The checked unit and the layer's channel count."""
    shape, grid = _layer_geometry(model, layer, image_size)
    channels = shape[-1]
    if not _is_index(channel, channels):
        raise ValueError(f"channel must be an int in 0..{channels - 1} for layer {layer!r} "
                         f"({channels} channels), got {channel!r}.")
    position = _check_neuron(neuron, layer, shape, grid, image_size)
    return Unit(layer=layer, channel=int(channel), neuron=position, grid=grid), int(channels)


def _check_channels(channels, count: int, layer: str) -> tuple[int, ...]:
    """The requested channels as distinct ints, in the order given (None: all)."""
    if channels is None:
        return tuple(range(count))
    allowed = (f"channels must be None (all) or a non-empty sequence of distinct ints in "
               f"0..{count - 1} for layer {layer!r} ({count} channels)")
    if isinstance(channels, (str, bytes)) or not isinstance(channels, (Iterable, np.ndarray)):
        raise TypeError(f"{allowed}, got {type(channels).__name__}.")
    values = list(np.asarray(channels).ravel().tolist()) if isinstance(channels, np.ndarray) \
        else list(channels)
    bad = [c for c in values if not _is_index(c, count)]
    if not values or bad:
        raise ValueError(f"{allowed}; got {bad[:5] if bad else 'an empty sequence'}.")
    if len(set(values)) != len(values):
        repeated = sorted({c for c in values if values.count(c) > 1})[:5]
        raise ValueError(f"{allowed}; these appear more than once: {repeated}.")
    return tuple(int(c) for c in values)


@dataclass(frozen=True)
class _Search:
    """A checked search request, before any image is read."""

    model: VisionModel
    layer: str
    channels: tuple[int, ...]
    layer_channels: int
    neuron: tuple[int, int] | None
    grid: tuple[int, int] | None
    k: int
    reduce: str
    batch_size: int
    image_size: int
    crops: bool
    field: ReceptiveField | None
    source: ImageSource

    def spatial_grid(self) -> tuple[int, int]:
        """The layer's (rows, cols), where a neuron implies one (_check_neuron refuses a
        neuron on an (N, C) layer before the search)."""
        if self.grid is None:
            raise RuntimeError(f"Layer {self.layer!r} has no spatial grid: it is (N, C).")
        return self.grid


def _prepare(model, layer: str, channels, images, *, checked: tuple[Unit, int] | None,
             neuron, k, reduce, batch_size, image_size, crops, receptive_field,
             stacklevel: int) -> _Search:
    """Checks every argument and resolves the images, decoding none of them.

    Image file headers are read until one is good (:func:`check_readable`), so
    a list of files none of which is an image fails here, before any compute.

    ``checked``: (unit, channel count) from :func:`_check_unit` when one
    channel was checked already; otherwise ``channels`` and ``neuron`` are
    checked here.
    """
    if checked is None:
        shape, grid = _layer_geometry(model, layer, image_size)
        channels = _check_channels(channels, shape[-1], layer)
        unit = Unit(layer=layer, channel=channels[0],
                    neuron=_check_neuron(neuron, layer, shape, grid, image_size), grid=grid)
        count = shape[-1]
    else:
        unit, count = checked
    k = checks.positive_int("k", k)
    batch_size = checks.positive_int("batch_size", batch_size)
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}.")
    if receptive_field is not None and not isinstance(receptive_field, ReceptiveField):
        raise TypeError("receptive_field must be a ReceptiveField or None, got "
                        f"{type(receptive_field).__name__}.")
    source = resolve_images(images)
    if source.paths is not None:
        check_readable(source.paths)
    field_ = (_layer_receptive_field(model, unit, image_size, receptive_field, stacklevel + 1)
              if crops else None)
    return _Search(model=model, layer=layer, channels=channels, layer_channels=int(count),
                   neuron=unit.neuron, grid=unit.grid, k=k, reduce=reduce,
                   batch_size=batch_size, image_size=int(image_size), crops=bool(crops),
                   field=field_, source=source)


def _score_function(search: _Search):
    """A compiled function: images -> per-image statistics (B, C) of the searched channels."""
    submodel = search.model.submodel(search.layer)
    size = search.image_size
    signature = [tf.TensorSpec((None, size, size, RGB_CHANNELS), tf.float32)]
    channels = list(search.channels)
    every_channel = channels == list(range(search.layer_channels))
    neuron, grid = search.neuron, search.grid

    @tf.function(input_signature=signature)
    def score(images):
        acts = submodel(images, training=False)
        if not every_channel:
            acts = tf.gather(acts, channels, axis=-1)
        if grid is None:
            acts = acts[:, None, None, :]
        flat = tf.reshape(acts, (tf.shape(acts)[0], -1, tf.shape(acts)[-1]))
        out = {"max": tf.reduce_max(flat, axis=1), "min": tf.reduce_min(flat, axis=1),
               "mean": tf.reduce_mean(flat, axis=1),
               # argmax/argmin return the first (row-major) of equal values.
               "argmax": tf.argmax(flat, axis=1), "argmin": tf.argmin(flat, axis=1)}
        if neuron is not None:
            out["neuron"] = acts[:, neuron[0], neuron[1], :]
        return out

    return score


def _ranking(stats: dict, search: _Search, which: str):
    """(score, flat position) per image and channel, each (B, C), for one set."""
    extreme = "min" if which == "bottom" else "max"
    flat = stats["arg" + extreme]
    if search.neuron is not None:
        row, col = search.neuron
        flat = np.full_like(flat, row * search.spatial_grid()[1] + col)
        return stats["neuron"], flat
    return (stats["mean"] if search.reduce == "mean" else stats[extreme]), flat


class _RunningTopK:
    """Per channel (column), the k best candidates seen so far, ordered by (key, index).

    Arrays are (n, C) or (n, C, ...): row i holds each channel's i-th best.
    """

    def __init__(self, k: int, which: str):
        self.k = k
        self.which = which
        self.arrays: dict[str, np.ndarray] | None = None

    def key(self, scores: np.ndarray) -> np.ndarray:
        if self.which == "top":
            return -scores
        return np.abs(scores) if self.which == "near_zero" else scores

    def update(self, batch: dict[str, np.ndarray]) -> None:
        """Merges a batch of candidates, arrays (B, C) or (B, C, ...) by name."""
        if self.arrays is None:
            merged = batch
        else:
            merged = {name: np.concatenate([self.arrays[name], batch[name]]) for name in batch}
        # lexsort's last key is the primary one; the image index breaks ties,
        # so the result does not depend on how the images were batched.
        order = np.lexsort((merged["index"], self.key(merged["score"])), axis=0)[:self.k]
        self.arrays = {name: np.take_along_axis(
            values, order.reshape(order.shape + (1,) * (values.ndim - order.ndim)), axis=0)
            for name, values in merged.items()}

    def best(self) -> dict[str, np.ndarray]:
        """The arrays of the k best candidates so far (after at least one update)."""
        if self.arrays is None:
            raise RuntimeError("_RunningTopK.best() before any update.")
        return self.arrays


class _PixelCache:
    """Pixels and checksums of the images selected so far.

    Checksums are kept for every selected image, pixels for at most ``limit``
    images (None: all); the pixels of the others are read again later.
    """

    def __init__(self, limit: int | None):
        self.limit = limit
        self.images: dict[int, np.ndarray] = {}
        self.checksums: dict[int, float] = {}

    def room(self) -> bool:
        return self.limit is None or len(self.images) < self.limit

    def add(self, index: int, image: np.ndarray) -> None:
        """Keeps ``image`` (read-only, not a view) if there is room."""
        if index not in self.images and self.room():
            self.images[index] = image

    @staticmethod
    def own(image: np.ndarray) -> np.ndarray:
        """A read-only copy: the batch it came from can be freed, and one image is
        shared by the examples of many channels, so no one may change it."""
        image = np.array(image, dtype=np.float32)
        image.flags.writeable = False
        return image

    def keep(self, selected: np.ndarray, index: np.ndarray, pixels: tf.Tensor) -> None:
        """Forgets what is no longer selected; keeps the selected images of a new batch."""
        chosen = set(selected.tolist())
        self.images = {i: v for i, v in self.images.items() if i in chosen}
        self.checksums = {i: v for i, v in self.checksums.items() if i in chosen}
        rows = [row for row, i in enumerate(index.tolist()) if i in chosen]
        if not rows:
            return
        values = pixels.numpy()
        for row in rows:
            i = int(index[row])
            self.checksums[i] = _checksum(values[row])
            if i not in self.images and self.room():
                self.add(i, self.own(values[row]))


def _checksum(image: np.ndarray) -> float:
    return float(np.sum(image, dtype=np.float64))


def _read_again(source: ImageSource, wanted: Sequence[int], image_size: int, batch_size: int,
                checksums: dict[int, float]) -> dict[int, np.ndarray]:
    """The pixels of images ``wanted`` (by index), read from the source again."""
    found: dict[int, np.ndarray] = {}
    if not wanted:
        return found
    if source.paths is not None:
        for i in wanted:
            path = source.paths[i]
            try:
                found[i] = load_image(path, size=(image_size, image_size))
            except Exception as error:  # reported with the file that failed, then re-raised
                raise ValueError(f"Could not read {path!r} again for its pixels after the "
                                 f"search: {error}") from error
    else:
        remaining = set(wanted)
        for indices, pixels in batches(source, image_size, batch_size):
            index = indices.numpy().tolist()
            rows = [row for row, i in enumerate(index) if i in remaining]
            if rows:
                values = pixels.numpy()
                for row in rows:
                    found[index[row]] = _PixelCache.own(values[row])
                    remaining.discard(index[row])
            if not remaining:
                break
    changed = [i for i in wanted if i not in found or not np.isclose(
        _checksum(found[i]), checksums[i], rtol=CHECKSUM_RTOL, atol=0.0)]
    if changed:
        raise ValueError(
            f"The images changed between the search and reading them again for their pixels "
            f"(image indices {changed[:5]}): a dataset must give the same images in the same "
            f"order on every iteration (no reshuffling), and files must not change meanwhile. "
            f"Search fewer channels at once to keep the pixels in memory during the pass.")
    for image in found.values():
        image.flags.writeable = False  # shared by the examples of many channels
    return found


class LayerScan:
    """The outcome of one pass over a dataset: every searched channel's k best images, as numbers.

    Made by :func:`scan_layer`. It holds, per channel and set, the image
    indices, scores, positions and statistics of the examples, and the pixels
    of selected images up to a memory budget; :meth:`results` builds
    :class:`DatasetExamples`, reading the pixels of the other selected images
    again (only those). Attributes as in :class:`DatasetExamples`, plus
    ``channels`` (the channels searched, in order) and ``k``.
    """

    def __init__(self, search: _Search, sets: dict[str, dict[str, np.ndarray]],
                 cache: _PixelCache, num_images: int, skipped: tuple[str, ...]):
        self._search = search
        self._sets = sets
        self._cache = cache
        self._columns = {c: j for j, c in enumerate(search.channels)}
        self.model = search.model.name
        self.layer = search.layer
        self.channels = search.channels
        self.neuron = search.neuron
        self.reduce = search.reduce
        self.image_size = search.image_size
        self.grid = search.grid
        self.receptive_field = search.field
        self.k = search.k
        self.num_images = num_images
        self.skipped = skipped

    def __repr__(self) -> str:
        return (f"LayerScan(model={self.model!r}, layer={self.layer!r}, "
                f"channels={len(self.channels)}, k={self.k}, num_images={self.num_images})")

    def image_indices(self, channels: Iterable[int] | None = None) -> list[int]:
        """The sorted indices of the images that are examples of ``channels`` (None: all)."""
        columns = [self._column(c) for c in self._channel_list(channels)]
        picked = np.concatenate([arrays["index"][:, columns].ravel()
                                 for arrays in self._sets.values()])
        return sorted(set(picked.tolist()))

    def results(self, channels: Iterable[int] | None = None) -> dict[int, DatasetExamples]:
        """:class:`DatasetExamples` per channel (None: every channel searched), in order.

        The pixels of selected images not kept during the pass are read here,
        once per call, and kept for later calls while the memory budget allows.
        Images are shared between the examples of different channels (and are
        read-only).
        """
        channels = self._channel_list(channels)
        wanted = self.image_indices(channels)
        missing = [i for i in wanted if i not in self._cache.images]
        read = _read_again(self._search.source, missing, self.image_size,
                           self._search.batch_size, self._cache.checksums)
        images = {i: self._cache.images[i] for i in wanted if i in self._cache.images}
        images.update(read)
        for i, image in read.items():
            self._cache.add(i, image)
        return {c: self._result(c, images) for c in channels}

    def result(self, channel: int) -> DatasetExamples:
        """The :class:`DatasetExamples` of one channel."""
        return self.results([channel])[channel]

    def release_pixels(self) -> None:
        """Forgets the cached pixels; :meth:`results` reads them again when asked."""
        self._cache.images = {}

    def _channel_list(self, channels) -> list[int]:
        if channels is None:
            return list(self.channels)
        if isinstance(channels, (int, np.integer)):
            raise TypeError("channels must be a sequence of ints (use result(channel) for one).")
        values = [int(c) if isinstance(c, np.integer) else c for c in channels]
        for c in values:
            if isinstance(c, bool):
                raise TypeError(f"Channels must be ints, got {c!r}.")
            self._column(c)
        return values

    def _column(self, channel) -> int:
        try:
            return self._columns[channel]
        except (KeyError, TypeError):
            shown = list(self.channels[:8]) + (["..."] if len(self.channels) > 8 else [])
            raise ValueError(f"Channel {channel!r} was not searched in this scan of "
                             f"{self.layer!r} (channels {shown}).") from None

    def _result(self, channel: int, images: dict[int, np.ndarray]) -> DatasetExamples:
        column = self._column(channel)
        sets = {which: _examples(self._sets[which], column, self._search, images)
                for which in SETS}
        return DatasetExamples(
            model=self.model, layer=self.layer, channel=channel, neuron=self.neuron,
            reduce=self.reduce, image_size=self.image_size, grid=self.grid,
            receptive_field=self.receptive_field, num_images=self.num_images,
            skipped=self.skipped, **sets)


def progress_reporter(progress: bool | progress_lib.Reporter) -> progress_lib.Reporter:
    """The reporter of a search's ``progress`` argument: a Reporter itself; True: the active
    reporter (an app's, see :func:`lucid2.optvis.progress.reporting`), else a Keras
    progress bar; False: none."""
    if isinstance(progress, progress_lib.Reporter):
        return progress
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError("progress must be True, False or a lucid2.optvis.progress.Reporter, "
                        f"got {type(progress).__name__}.")
    if not progress:
        return progress_lib.SilentReporter()
    active = progress_lib.active_reporter()
    return active if active is not None else progress_lib.ProgbarReporter()


def _search_label(search: _Search) -> str:
    if len(search.channels) == 1:
        unit = f"{search.layer}:{search.channels[0]}"
    else:
        unit = f"{len(search.channels)} channels of {search.layer}"
    return f"Searching {search.source.description} for {unit}"


def _scan(search: _Search, cache_limit: int | None, progress: bool | progress_lib.Reporter,
          stacklevel: int) -> LayerScan:
    """The pass over the images: each batch runs through the model once, for all channels."""
    reporter = progress_reporter(progress)
    with reporter.running(search.source.count, _search_label(search), unit="image"):
        return _scan_reporting(search, cache_limit, reporter, stacklevel + 1)


def _scan_reporting(search: _Search, cache_limit: int | None,
                    reporter: progress_lib.Reporter, stacklevel: int) -> LayerScan:
    """:func:`_scan`'s pass, telling ``reporter`` the images seen after each batch."""
    score = _score_function(search)
    keepers = {which: _RunningTopK(search.k, which) for which in SETS}
    cache = _PixelCache(cache_limit)
    source = search.source
    seen = 0
    # Files only: the indices read, so that the skipped files can be named. (Other sources
    # are not tracked: their memory stays bounded whatever the number of images.)
    track_seen = source.paths is not None
    seen_indices: set[int] = set()
    failures: dict[int, str] = {}
    width = len(search.channels)
    for indices, pixels in batches(source, search.image_size, search.batch_size, failures):
        stats = {name: value.numpy() for name, value in score(pixels).items()}
        index = indices.numpy()
        rows = np.broadcast_to(index[:, None], (len(index), width))
        columns = np.stack([stats[name] for name in STATS], axis=-1)
        for which, keeper in keepers.items():
            scores, flat = _ranking(stats, search, which)
            keeper.update({"score": scores.astype(np.float64), "index": rows, "flat": flat,
                           "stats": columns})
        selected = np.unique(np.concatenate([keeper.best()["index"].ravel()
                                             for keeper in keepers.values()]))
        cache.keep(selected, index, pixels)
        seen += len(index)
        if track_seen:
            seen_indices.update(index.tolist())
        reporter.update(seen)

    skipped: tuple[str, ...] = ()
    if source.paths is not None:
        failed = [(p, failures.get(i, "unreadable")) for i, p in enumerate(source.paths)
                  if i not in seen_indices]
        skipped = tuple(p for p, _ in failed)
        if seen == 0:
            raise UnreadableImagesError(f"None of the images could be read "
                                        f"({source.description}): {describe_failures(failed)}.")
        if skipped:
            warnings.warn(f"Skipped {len(skipped)} unreadable image file(s): "
                          f"{describe_failures(failed)}.", stacklevel=stacklevel + 1)
    if seen == 0:
        raise ValueError(f"None of the images were given: it is empty ({source.description}).")
    sets = {which: keeper.best() for which, keeper in keepers.items()}
    return LayerScan(search, sets, cache, num_images=seen, skipped=skipped)


def find_examples(model: VisionModel, layer: str, channel: int, images, *,
                  neuron: str | Sequence[int] | None = None, k: int = 8, reduce: str = "max",
                  batch_size: int = 16, image_size: int = 224, crops: bool = True,
                  receptive_field: ReceptiveField | None = None,
                  progress: bool | progress_lib.Reporter = True) -> DatasetExamples:
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
      progress: report the images searched: True for the reporter an app made active
        (:func:`lucid2.optvis.progress.reporting`), else a ``keras.utils.Progbar``;
        False for none; or a :class:`lucid2.optvis.progress.Reporter`.

    Ties are broken by image index, so the result is the same for any
    batch size. Files that cannot be read are skipped with a warning that
    names them and why, and listed in ``skipped``; an
    :class:`UnreadableImagesError` (a ValueError) is raised when none can be read.
    The images are read once (the pixels of the at most ``3 k`` examples are
    kept during the pass). To search many channels of a layer, use
    :func:`find_layer_examples`: one pass for all of them, same results.
    """
    checked = _check_unit(model, layer, channel, neuron, image_size)
    unit = checked[0]
    search = _prepare(model, layer, (unit.channel,), images, checked=checked, neuron=neuron, k=k,
                      reduce=reduce, batch_size=batch_size, image_size=image_size, crops=crops,
                      receptive_field=receptive_field, stacklevel=2)
    return _scan(search, cache_limit=None, progress=progress, stacklevel=2).result(unit.channel)


def scan_layer(model: VisionModel, layer: str, images, *,
               channels: Sequence[int] | None = None,
               neuron: str | Sequence[int] | None = None, k: int = 8, reduce: str = "max",
               batch_size: int = 16, image_size: int = 224, crops: bool = True,
               receptive_field: ReceptiveField | None = None,
               progress: bool | progress_lib.Reporter = True) -> LayerScan:
    """One pass over ``images`` that ranks them for many channels of ``layer`` at once.

    Each batch runs through the model once; the running top-k of every
    channel is updated together. Only numbers (image indices, scores,
    positions) are kept per channel, and the pixels of selected images up to
    ``PIXEL_CACHE_BYTES``; :meth:`LayerScan.results` turns the scan into
    :class:`DatasetExamples`, reading again the pixels of the selected images
    not kept (files: only those files; datasets and arrays: a pass without the
    model, so a dataset must give the same images on every iteration).

    Arguments as in :func:`find_examples`, with ``channels`` (None: every
    channel of the layer) instead of ``channel``; a ``neuron`` applies to
    every channel. Each channel's result is the one :func:`find_examples`
    gives for it.
    """
    return _scan_layer(model, layer, images, channels=channels, neuron=neuron, k=k,
                       reduce=reduce, batch_size=batch_size, image_size=image_size,
                       crops=crops, receptive_field=receptive_field, progress=progress,
                       stacklevel=3)


def _scan_layer(model, layer, images, *, channels, neuron, k, reduce, batch_size, image_size,
                crops, receptive_field, progress, stacklevel) -> LayerScan:
    search = _prepare(model, layer, channels, images, checked=None, neuron=neuron, k=k,
                      reduce=reduce, batch_size=batch_size, image_size=image_size, crops=crops,
                      receptive_field=receptive_field, stacklevel=stacklevel)
    image_bytes = search.image_size ** 2 * RGB_CHANNELS * FLOAT32_BYTES
    return _scan(search, cache_limit=max(PIXEL_CACHE_BYTES // image_bytes, 1),
                 progress=progress, stacklevel=stacklevel)


def find_layer_examples(model: VisionModel, layer: str, images, *,
                        channels: Sequence[int] | None = None,
                        neuron: str | Sequence[int] | None = None, k: int = 8,
                        reduce: str = "max", batch_size: int = 16, image_size: int = 224,
                        crops: bool = True, receptive_field: ReceptiveField | None = None,
                        progress: bool | progress_lib.Reporter = True,
                        ) -> dict[int, DatasetExamples]:
    """Dataset examples of many channels of ``layer`` from one pass over ``images``.

    Returns channel -> :class:`DatasetExamples`, exactly what
    :func:`find_examples` gives for each channel (same examples, order and
    scores), at the cost of about one search instead of one per channel.

    Args:
      model, layer, images, neuron, k, reduce, batch_size, image_size, crops,
        receptive_field, progress: as in :func:`find_examples`.
      channels: the channels to search (distinct ints); None for all.

    Memory: the whole images of all examples are held in the result (shared
    between channels); for thousands of channels over a large dataset, use
    :func:`scan_layer` and build results a few channels at a time.
    """
    scan = _scan_layer(model, layer, images, channels=channels, neuron=neuron, k=k,
                       reduce=reduce, batch_size=batch_size, image_size=image_size,
                       crops=crops, receptive_field=receptive_field, progress=progress,
                       stacklevel=3)
    return scan.results()


def _layer_receptive_field(model, unit: Unit, image_size: int, override, stacklevel: int):
    if unit.grid is None:
        return None  # an (N, C) unit sees the whole image; patches are the image
    if override is not None:
        return override
    try:
        return layer_field(model, unit.layer, image_size)
    except UnknownLayerError as error:
        warnings.warn(f"{error} Using patches of {FALLBACK_PATCH_FRACTION:.0%} of the image "
                      "around each unit's cell instead.", stacklevel=stacklevel + 1)
        return fallback_receptive_field(unit.grid, (image_size, image_size),
                                        FALLBACK_PATCH_FRACTION)


def _examples(arrays: dict[str, np.ndarray], column: int, search: _Search,
              images: dict[int, np.ndarray]) -> tuple[Example, ...]:
    """The examples of one set for the channel in ``column``, best first."""
    field_, grid, source = search.field, search.grid, search.source
    result = []
    for i in range(len(arrays["index"])):
        index = int(arrays["index"][i, column])
        image = images[index]
        position: tuple[int, int] | None = None
        if grid is not None:
            position = divmod(int(arrays["flat"][i, column]), grid[1])
        box: tuple[int, int, int, int] | None = None
        patch: np.ndarray | None = None
        if field_ is not None:
            if position is None:  # _layer_receptive_field gives none to an (N, C) layer
                raise RuntimeError(f"Layer {search.layer!r} has a receptive field but no grid.")
            box = field_.patch_box(*position, image.shape[:2])
            patch = image[box[0]:box[2], box[1]:box[3]]
        elif search.crops:  # an (N, C) unit: the patch is the whole image
            box, patch = (0, 0, image.shape[0], image.shape[1]), image
        stats = dict(zip(STATS, (float(v) for v in arrays["stats"][i, column]), strict=True))
        result.append(Example(index=index, source=source.name(index),
                              activation=float(arrays["score"][i, column]), position=position,
                              box=box, image=image, patch=patch, **stats))
    return tuple(result)
