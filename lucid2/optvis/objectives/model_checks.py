"""Checks of an objective against a model: channels, vector lengths, batch targets, positions.

The objective factories check their arguments with :mod:`lucid2.optvis.checks` when they
are called; these run from :meth:`Objective.validate`, once the model and image shape are known.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

SPATIAL_RANK = 4  # (N, H, W, C) maps


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
    """A position objective needs a spatial map (N, H, W, C) holding the position."""
    if image_shape is None:
        return
    shape = model.output_shape(layer, image_shape)
    if len(shape) != SPATIAL_RANK:
        raise ValueError(
            f"{description} picks a position in {layer}'s map, but {layer} gives "
            f"{len(shape)}-D outputs {tuple(shape)}, not (N, H, W, C) maps; for a unit of a "
            f"layer without positions use its channel, e.g. channel({layer!r}, n) or "
            f"'{layer}:n'.")
    if x is None and y is None:
        return
    for value, axis, name in ((x, 1, "x (rows)"), (y, 2, "y (columns)")):
        size = shape[axis]
        if value is not None and size is not None and value >= size:
            raise ValueError(
                f"{description}: {name}={value} is outside {layer}, whose map is "
                f"{shape[1]}x{shape[2]} for images of shape {tuple(image_shape)} "
                f"(valid: 0..{size - 1}).")
