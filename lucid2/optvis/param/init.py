"""Initial images: the photos a parameterization starts from, checked and resized.

:func:`load_init` turns what a user passes as ``init=`` (an array, a file path,
or a sequence of them) into a float32 (batch, height, width, 3) array in
[0, 1] at the parameterization's size. Everything is checked before any
variable is built; the parameterization then reproduces that array (not the
original, unresized image) at step 0.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from lucid2.misc.io import load_image, rgb_batch
from lucid2.optvis import checks

# Rec. 601 luma, the weights Pillow's conversion to gray ("L") uses.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float64)
# tf.image.resize's bilinear filter, widened when shrinking (antialias): each output pixel
# averages the input pixels it covers, as Pillow's bilinear resize of loaded files does.
RESIZE_METHOD = "bilinear"


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike))


def _from_path(path, height: int, width: int) -> np.ndarray:
    """A file as (1, height, width, 3) in [0, 1]; FileNotFoundError or ImageLoadError."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"The init image {os.fspath(path)!r} does not exist.")
    return load_image(path, (height, width))[None]


def resize_images(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """(N, H, W, C) images in [0, 1] resized to (N, height, width, C): bilinear, antialiased
    when shrinking; returned unchanged when already that size."""
    if images.shape[1:3] == (height, width):
        return images
    resized = tf.image.resize(images, (height, width), method=RESIZE_METHOD, antialias=True)
    # The filter's weights are convex; the clip only removes float rounding.
    return np.clip(resized.numpy(), 0.0, 1.0).astype(np.float32)


def _from_array(value, height: int, width: int, what: str) -> np.ndarray:
    """An image or batch array as (N, height, width, 3) float32 in [0, 1]."""
    return resize_images(rgb_batch(value, name=what), height, width)


def _from_one(value, height: int, width: int, what: str) -> np.ndarray:
    if _is_path(value):
        return _from_path(value, height, width)
    return _from_array(value, height, width, what)


def load_init(init, height: int, width: int, batch: int = 1) -> np.ndarray:
    """The images to start a parameterization from, as float32 (batch, height, width, 3).

    Args:
      init: an image array (H, W, 3) or a batch (N, H, W, 3) of floats in [0, 1]
        or uint8 values 0..255 (or gray: (H, W), (H, W, 1), (N, H, W, 1); as
        :func:`lucid2.misc.io.rgb_batch` takes); a path (str or PathLike) to an image
        file, read with :func:`lucid2.misc.io.load_image`; or a list or tuple of such
        images and paths (each one image or a batch), stacked in order. N images in
        all, where N is 1 (repeated for every image of the batch) or ``batch``.
      height, width: the parameterization's size; other sizes are resized (bilinear,
        antialiased when shrinking). The parameterization reproduces the result.
      batch: the parameterization's number of images.

    Raises:
      FileNotFoundError: a path that does not exist.
      lucid2.misc.io.ImageLoadError: a file that is not a loadable image (a ValueError).
      ValueError: wrong shape or channel count, values outside [0, 1], NaN or infinity,
        or a number of images that is neither 1 nor ``batch``.
      TypeError: anything else than arrays and paths, or an unsupported dtype.
    """
    height = checks.positive_int("height", height)
    width = checks.positive_int("width", width)
    batch = checks.positive_int("batch", batch)
    if isinstance(init, (list, tuple)) and init and all(
            _is_path(item) or isinstance(item, (np.ndarray, tf.Tensor)) for item in init):
        parts = [_from_one(item, height, width, f"init[{n}]") for n, item in enumerate(init)]
        images = np.concatenate(parts, axis=0)
    else:
        images = _from_one(init, height, width, "init")
    if len(images) == 1 and batch > 1:
        images = np.repeat(images, batch, axis=0)
    elif len(images) != batch:
        raise ValueError(f"init holds {len(images)} images; it must hold 1 (used for every "
                         f"image) or the batch size, {batch}.")
    return images
