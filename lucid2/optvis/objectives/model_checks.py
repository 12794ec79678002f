"""Argument and model checks shared by the objective factories."""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np


def check_index(value, what: str, allow_none: bool = False) -> int | None:
    """A non-negative int (or None when allowed); TypeError/ValueError otherwise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be a non-negative integer, got {value!r}.")
    if value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value}.")
    return int(value)


def check_layer_name(value, what: str = "layer") -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{what} must be a layer name (a non-empty string), got {value!r}.")
    return value


def check_vector(vec, what: str = "vec") -> np.ndarray:
    """A read-only float32 copy of a 1-D direction vector."""
    array = np.array(vec, dtype=np.float32)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D vector, got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be finite.")
    array.setflags(write=False)
    return array


def layer_channels(model, layer: str, image_shape: Sequence[int] | None) -> int | None:
    """The channel count of ``layer``: from the model's metadata, else from its output shape."""
    model.check_layer(layer)
    channels = model.layer_info(layer).channels
    if channels is None and image_shape is not None:
        channels = model.output_shape(layer, image_shape)[-1]
    return channels


def check_channel(model, layer: str, n: int, image_shape: Sequence[int] | None) -> None:
    channels = layer_channels(model, layer, image_shape)
    if channels is not None and not 0 <= n < channels:
        raise ValueError(
            f"channel {n} out of range for {layer} ({channels} channels: 0..{channels - 1})")


def check_vector_length(model, layer: str, vec: np.ndarray,
                        image_shape: Sequence[int] | None) -> None:
    channels = layer_channels(model, layer, image_shape)
    if channels is not None and vec.shape[0] != channels:
        raise ValueError(
            f"direction vector has {vec.shape[0]} entries but {layer} has {channels} channels")


def check_batch(batch: int | None, image_shape: Sequence[int] | None, description: str) -> None:
    if batch is None or image_shape is None:
        return
    size = image_shape[0]
    if size is not None and batch >= size:
        raise ValueError(
            f"{description} targets batch={batch}, but the images have batch size {size} "
            f"(valid: 0..{size - 1}); use a parameterization with batch={batch + 1} or more.")


def check_min_batch(image_shape: Sequence[int] | None, minimum: int, description: str) -> None:
    if image_shape is None or image_shape[0] is None:
        return
    if image_shape[0] < minimum:
        raise ValueError(
            f"{description} compares images across the batch and needs batch size >= {minimum}, "
            f"got {image_shape[0]}.")


def check_position(model, layer: str, x: int | None, y: int | None,
                   image_shape: Sequence[int] | None, description: str) -> None:
    if image_shape is None or (x is None and y is None):
        return
    shape = model.output_shape(layer, image_shape)
    for value, axis, name in ((x, 1, "x (rows)"), (y, 2, "y (columns)")):
        size = shape[axis]
        if value is not None and size is not None and value >= size:
            raise ValueError(
                f"{description}: {name}={value} is outside {layer}, whose map is "
                f"{shape[1]}x{shape[2]} for images of shape {tuple(image_shape)} "
                f"(valid: 0..{size - 1}).")
