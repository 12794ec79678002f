"""Array checks and conversions shared by the image writers (numpy only)."""

from __future__ import annotations

import math

import numpy as np

UINT8_MAX = 255
IMAGE_CHANNELS = (1, 3, 4)


def as_array(images, name: str = "array") -> np.ndarray:
    """``images`` (numpy, list, or a tensor with ``__array__``) as a numeric numpy array."""
    array = np.asarray(images)
    if array.dtype == object:
        raise TypeError(f"{name} must be a numeric array of equal-shape images, got ragged data.")
    if array.dtype == np.uint8 or np.issubdtype(array.dtype, np.floating):
        return array
    raise TypeError(
        f"{name} must be float (values in [0, 1]) or uint8 (0..255), got dtype {array.dtype}.")


def check_image(array: np.ndarray, name: str = "image") -> np.ndarray:
    """A single image as (H, W, C) with C in {1, 3, 4}; a 2D array becomes (H, W, 1)."""
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in IMAGE_CHANNELS:
        raise ValueError(
            f"{name} must be (H, W), (H, W, C) or a batch (N, H, W, C) with C in "
            f"{IMAGE_CHANNELS}, got shape {array.shape}.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}.")
    return array


def to_uint8(array: np.ndarray) -> np.ndarray:
    """uint8 as is; floats clipped to [0, 1] and scaled to 0..255 (non-finite values rejected)."""
    if array.dtype == np.uint8:
        return array
    if not np.all(np.isfinite(array)):
        raise ValueError("Image values must be finite; got NaN or infinity.")
    return np.round(np.clip(array, 0.0, 1.0) * UINT8_MAX).astype(np.uint8)


def image_grid(batch, ncols: int | None = None, padding: int = 2,
               pad_value: float = 1.0) -> np.ndarray:
    """Tiles a batch (N, H, W, C) into one (rows*H + gaps, ncols*W + gaps, C) image.

    Args:
      batch: images (N, H, W, C), or a list of equal-shape (H, W, C) images;
        float in [0, 1] or uint8.
      ncols: images per row (default: ceil(sqrt(N))).
      padding: pixels between neighboring images (none around the border).
      pad_value: gap and empty-cell value in [0, 1] (scaled to 255 for uint8).

    Returns:
      An array of the input's dtype; a batch of one is that image unchanged.
    """
    array = as_array(batch, "batch")
    if array.ndim != 4 or array.shape[-1] not in IMAGE_CHANNELS:
        raise ValueError(
            f"batch must be (N, H, W, C) with C in {IMAGE_CHANNELS}, got shape {array.shape}.")
    n, h, w, c = array.shape
    if n == 0 or h == 0 or w == 0:
        raise ValueError(f"batch must hold at least one non-empty image, got shape {array.shape}.")
    if ncols is None:
        ncols = math.ceil(math.sqrt(n))
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols <= 0:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}.")
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"padding must be an int >= 0, got {padding!r}.")
    if not 0.0 <= float(pad_value) <= 1.0:
        raise ValueError(f"pad_value must be in [0, 1], got {pad_value!r}.")
    ncols = min(int(ncols), n)
    nrows = math.ceil(n / ncols)
    fill = round(pad_value * UINT8_MAX) if array.dtype == np.uint8 else pad_value
    grid = np.full((nrows * h + (nrows - 1) * padding, ncols * w + (ncols - 1) * padding, c),
                   fill, dtype=array.dtype)
    for i in range(n):
        row, col = divmod(i, ncols)
        top, left = row * (h + padding), col * (w + padding)
        grid[top:top + h, left:left + w] = array[i]
    return grid


def to_single_image(array_or_batch, name: str = "array") -> np.ndarray:
    """An image (H, W, C), or a batch (N, H, W, C) tiled by :func:`image_grid`, as (H, W, C)."""
    array = as_array(array_or_batch, name)
    if array.ndim == 4:
        array = image_grid(array)
    return check_image(array, name)
