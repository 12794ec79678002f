"""Saving images with numpy and Pillow (no TensorFlow); loading is in ``loading``."""

from __future__ import annotations

import pathlib

from PIL import Image

from lucid2.misc.io._arrays import to_single_image, to_uint8
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
