"""The units a figure shows: channels of a layer, as ``(layer, channel)`` pairs.

A figure's ``unit=`` / ``units=`` arguments take plain pairs such as
``("mixed4a", 97)`` (:data:`LayerChannel`). They are not
:class:`lucid2.recipes.dataset_examples.Unit`, the dataset search's checked
unit, which also knows a neuron position and the layer's grid.
"""

from __future__ import annotations

from typing import Sequence

from lucid2.optvis import checks

LayerChannel = tuple[str, int]  # (layer, channel), e.g. ("mixed4a", 97)
RGB_CHANNELS = 3


def check_units(units, name: str = "units") -> tuple[LayerChannel, ...]:
    """A non-empty sequence of (layer, channel) pairs, as a tuple of tuples."""
    try:
        pairs = tuple(tuple(u) for u in units)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of (layer, channel) pairs, got "
                        f"{units!r}.") from None
    if not pairs:
        raise ValueError(f"{name} must name at least one (layer, channel) pair.")
    for pair in pairs:
        if (len(pair) != 2 or not isinstance(pair[0], str) or not checks.is_int(pair[1])
                or pair[1] < 0):
            raise ValueError(f"{name} must hold (layer, channel) pairs such as ('mixed4a', 97), "
                             f"got {pair!r}.")
    return tuple((layer, int(channel)) for layer, channel in pairs)


def check_model_units(model, units: Sequence[LayerChannel], size: int) -> None:
    """Raises ValueError when a layer is unknown or a channel is out of range for ``model``."""
    for layer, channel in units:
        model.check_layer(layer)
        channels = model.output_shape(layer, (1, size, size, RGB_CHANNELS))[-1]
        if channel >= channels:
            raise ValueError(f"Channel {channel} is out of range for layer {layer!r} "
                             f"({channels} channels).")


def unit_label(unit: LayerChannel) -> str:
    """``("mixed4a", 97)`` -> ``"mixed4a 97"``."""
    return f"{unit[0]} {unit[1]}"
