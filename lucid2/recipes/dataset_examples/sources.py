"""Where dataset examples come from: image files, in-memory arrays or a ``tf.data.Dataset``.

Every source becomes one streaming ``tf.data`` pipeline of
``(index, image)`` batches, images float32 RGB in [0, 1] resized to
``image_size`` x ``image_size``; ``index`` is the image's position in the
source order, kept through the pipeline so that skipped files do not shift it.
"""

from __future__ import annotations

import glob
import os
import pathlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import tensorflow as tf

from lucid2.misc.io import ImageLoadError, load_image, read_image_header

# Suffixes Pillow reads that a directory search picks up (case-insensitive).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")
GLOB_CHARACTERS = "*?["
IMAGE_RANK = 3
BATCHED_IMAGE_RANK = 4
RGB_CHANNELS = 3
UINT8_MAX = 255.0
# Unreadable files named (with their reason) in a warning or an error; the rest are counted.
FAILURES_SHOWN = 5


class UnreadableImagesError(ValueError):
    """None of the image files could be read; the message names them and why."""


@dataclass(frozen=True)
class ImageSource:
    """Images to search, resolved but not read: file paths, or a dataset of images."""

    paths: tuple[str, ...] | None
    dataset: tf.data.Dataset | None
    count: int | None
    description: str

    def name(self, index: int) -> str | None:
        """The file of image ``index``, or None for in-memory images."""
        return self.paths[index] if self.paths is not None else None


def _has_glob(text: str) -> bool:
    return any(c in text for c in GLOB_CHARACTERS)


def list_image_files(images: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """The image files named by a directory, a glob pattern, a file or a list of files.

    A directory is searched recursively for files with one of
    :data:`IMAGE_SUFFIXES`; a glob (``*``, ``?``, ``[``; ``**`` recurses) takes
    every match that is a file, whatever its suffix. Results are sorted, so the
    image indices are reproducible. A list is taken as given, in its order.

    Raises:
      FileNotFoundError: a named file or directory does not exist.
      ValueError: nothing matched.
    """
    if isinstance(images, (str, os.PathLike)):
        text = os.fspath(images)
        if os.path.isdir(text):
            root = pathlib.Path(text)
            found = sorted(str(p) for p in root.rglob("*")
                           if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            what = f"directory {text!r} (suffixes {', '.join(IMAGE_SUFFIXES)})"
        elif _has_glob(text):
            found = sorted(p for p in glob.glob(text, recursive=True) if os.path.isfile(p))
            what = f"glob pattern {text!r}"
        elif os.path.isfile(text):
            return [text]
        else:
            raise FileNotFoundError(f"No such image file or directory: {text!r}.")
        if not found:
            raise ValueError(f"No images matched the {what}.")
        return found
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError("The list of image files is empty.")
        paths = []
        for item in images:
            if not isinstance(item, (str, os.PathLike)):
                raise TypeError(f"A list of images must hold file paths, got "
                                f"{type(item).__name__}.")
            paths.append(os.fspath(item))
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            shown = ", ".join(repr(p) for p in missing[:3])
            raise FileNotFoundError(f"{len(missing)} image file(s) not found: {shown}.")
        return paths
    raise TypeError(f"Cannot list image files from {type(images).__name__}.")


def _array_source(images) -> ImageSource:
    array = np.asarray(images)
    if array.ndim != BATCHED_IMAGE_RANK or array.shape[-1] != RGB_CHANNELS or len(array) == 0:
        raise ValueError(f"An image array must be (N, H, W, 3) with N >= 1, got {array.shape}.")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / UINT8_MAX
    elif np.issubdtype(array.dtype, np.floating):
        if not (np.all(np.isfinite(array)) and array.min() >= 0.0 and array.max() <= 1.0):
            raise ValueError(
                "Float images must be finite and in [0, 1]; divide 0..255 data by 255.")
        array = array.astype(np.float32)
    else:
        raise TypeError(f"Images must be float in [0, 1] or uint8, got dtype {array.dtype}.")
    return ImageSource(paths=None, dataset=tf.data.Dataset.from_tensor_slices(array),
                       count=len(array), description=f"{len(array)} in-memory images")


def _dataset_source(dataset: tf.data.Dataset) -> ImageSource:
    spec = dataset.element_spec
    if not isinstance(spec, tf.TensorSpec):
        raise TypeError(
            f"The dataset must yield image tensors, got elements {spec}. Keep only the images, "
            "e.g. dataset.map(lambda image, label: image).")
    rank = spec.shape.rank
    if rank not in (IMAGE_RANK, BATCHED_IMAGE_RANK) or spec.shape[-1] not in (RGB_CHANNELS, None):
        raise ValueError(
            "The dataset must yield RGB images (H, W, 3) or batches (N, H, W, 3), got "
            f"{spec.shape}.")
    if rank == BATCHED_IMAGE_RANK:
        dataset = dataset.unbatch()
    cardinality = int(dataset.cardinality())
    count = cardinality if cardinality >= 0 else None
    return ImageSource(paths=None, dataset=dataset, count=count,
                       description="a tf.data.Dataset")


def resolve_images(images) -> ImageSource:
    """Checks and resolves ``images`` without reading any pixels.

    Accepts a directory, a glob pattern, an image file, a list of files, a
    ``tf.data.Dataset`` of images (H, W, 3) or of batches (N, H, W, 3) — float
    in [0, 1] or uint8 — or an array (N, H, W, 3).
    """
    if isinstance(images, tf.data.Dataset):
        return _dataset_source(images)
    if isinstance(images, (str, os.PathLike, list, tuple)):
        paths = list_image_files(images)
        return ImageSource(paths=tuple(paths), dataset=None, count=len(paths),
                           description=f"{len(paths)} image files")
    if isinstance(images, np.ndarray) or hasattr(images, "__array__"):
        return _array_source(images)
    raise TypeError(
        f"images must be a directory, a glob pattern, a list of image files, a tf.data.Dataset "
        f"or an array (N, H, W, 3), got {type(images).__name__}.")


def describe_failures(failed: Sequence[tuple[str, str]]) -> str:
    """``'file' (why); ...`` for the first :data:`FAILURES_SHOWN` (file, reason) pairs."""
    shown = "; ".join(f"{path!r} ({reason.rstrip('.')})" for path, reason in
                      failed[:FAILURES_SHOWN])
    more = len(failed) - FAILURES_SHOWN
    return shown + (f"; and {more} more" if more > 0 else "")


def _reason(error: Exception) -> str:
    return error.reason if isinstance(error, ImageLoadError) else str(error)


def check_readable(paths: Sequence[str]) -> None:
    """Raises :class:`UnreadableImagesError` unless some file's header reads as a loadable image.

    Headers are read in order up to the first good one, so a usual folder costs
    one header; damaged files among good ones are skipped (with a warning) by
    the search instead.
    """
    failed = []
    for path in paths:
        try:
            read_image_header(path)
            return
        except (ImageLoadError, OSError) as error:
            failed.append((path, _reason(error)))
    raise UnreadableImagesError(f"None of the images could be read ({len(paths)} image files): "
                                f"{describe_failures(failed)}.")


def _to_unit_range(image: tf.Tensor) -> tf.Tensor:
    if image.dtype.is_integer:
        return tf.cast(image, tf.float32) / UINT8_MAX
    return tf.cast(image, tf.float32)


def batches(source: ImageSource, image_size: int, batch_size: int,
            failures: dict[int, str] | None = None) -> tf.data.Dataset:
    """``(indices, images)`` batches of ``source``; unreadable files are dropped.

    Files are read with :func:`lucid2.misc.io.load_image` (Pillow, bilinear
    resize; every mode it supports, 16-bit and float included), so each image
    is exactly what ``load_image(path, image_size)`` gives. Dataset images are
    resized with ``tf.image.resize`` (bilinear, antialiased) when their size
    differs.

    Args:
      failures: when given, why each dropped file could not be read is stored
        in it, by image index, as the pipeline runs.
    """
    size = (image_size, image_size)
    if source.paths is not None:
        def read(index, path):
            path = path.decode("utf-8")
            try:
                return load_image(path, size=size)
            except Exception as error:  # recorded for the caller, then dropped below
                if failures is not None:
                    failures[int(index)] = _reason(error)
                raise

        def load(index, path):
            image = tf.numpy_function(read, [index, path], tf.float32, stateful=False)
            return index, tf.ensure_shape(image, size + (RGB_CHANNELS,))

        indexed = tf.data.Dataset.from_tensor_slices(
            (np.arange(len(source.paths), dtype=np.int64), list(source.paths)))
        # A file that fails to decode becomes an error element; ignore_errors
        # drops it and the caller reports the indices that never arrived.
        pipeline = indexed.map(load, num_parallel_calls=tf.data.AUTOTUNE,
                               deterministic=True).ignore_errors()
    elif source.dataset is not None:
        def prepare(index, image):
            image = _to_unit_range(image)
            if tuple(image.shape[:2]) != size:
                image = tf.image.resize(image, size, method="bilinear", antialias=True)
            return index, tf.ensure_shape(image, size + (RGB_CHANNELS,))

        pipeline = source.dataset.enumerate().map(prepare, num_parallel_calls=tf.data.AUTOTUNE,
                                                  deterministic=True)
    else:
        raise ValueError(f"The image source {source.description!r} has neither file paths "
                         "nor a dataset.")
    return pipeline.batch(batch_size).prefetch(tf.data.AUTOTUNE)
