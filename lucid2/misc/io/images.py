"""Saving and loading images with numpy and Pillow (no TensorFlow)."""

from __future__ import annotations

import pathlib
from typing import Sequence

import numpy as np
from PIL import Image

from lucid2.misc.io._arrays import UINT8_MAX, to_single_image, to_uint8
from lucid2.misc.io.atomic import atomic_write

# Pillow format names by file suffix.
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
JPEG_QUALITY = 95


def _format_for(path: pathlib.Path, formats: dict[str, str]) -> str:
    suffix = path.suffix.lower()
    if suffix not in formats:
        raise ValueError(
            f"Cannot tell the image format of {str(path)!r}: use one of the suffixes "
            f"{sorted(formats)}.")
    return formats[suffix]


def to_pil(array_or_batch) -> Image.Image:
    """A Pillow image of an (H, W, C) image or a tiled (N, H, W, C) batch (float or uint8)."""
    array = to_uint8(to_single_image(array_or_batch))
    if array.shape[-1] == 1:
        return Image.fromarray(array[..., 0])
    return Image.fromarray(array)


def save_image(array, path) -> pathlib.Path:
    """Saves an image, or a batch as a grid, atomically; the format follows the suffix.

    Args:
      array: (H, W), (H, W, C) or a batch (N, H, W, C) tiled by ``image_grid``;
        C is 1, 3 or 4. Floats are clipped to [0, 1]; uint8 is saved as is.
      path: a ``.png``, ``.jpg`` or ``.jpeg`` file. JPEG cannot store alpha.

    Returns:
      The path written. A failure leaves no partial file behind.
    """
    path = pathlib.Path(path)
    fmt = _format_for(path, IMAGE_FORMATS)
    pil = to_pil(array)
    if fmt == "JPEG" and pil.mode == "RGBA":
        raise ValueError(
            "JPEG has no alpha channel: save RGBA images as .png, or pass array[..., :3].")
    options = {"quality": JPEG_QUALITY} if fmt == "JPEG" else {}
    return atomic_write(path, lambda temp: pil.save(temp, format=fmt, **options))


def _check_size(size) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (size, size)
    if (not isinstance(size, Sequence) or len(size) != 2
            or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s <= 0
                   for s in size)):
        raise ValueError(f"size must be a positive int or a (height, width) pair, got {size!r}.")
    return int(size[0]), int(size[1])


def load_image(path, size=None) -> np.ndarray:
    """Loads an image file as float32 RGB (H, W, 3) in [0, 1].

    Args:
      path: any image Pillow reads; gray, palette and RGBA images are
        converted to RGB (alpha is dropped).
      size: optional (height, width), or one int for a square, to resize to
        with bilinear interpolation.
    """
    size = _check_size(size)
    with Image.open(path) as pil:
        rgb = pil.convert("RGB")
    if size is not None and (rgb.height, rgb.width) != size:
        rgb = rgb.resize((size[1], size[0]), resample=Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.float32) / UINT8_MAX
