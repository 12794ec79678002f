"""Argument checks shared by optvis, the recipes and the apps.

Every check raises before any variable or tensor is built, with a message
that names the argument, what it got and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable, Sequence

import numpy as np


def is_int(value) -> bool:
    """Whether ``value`` is an integer (Python or NumPy), not counting bools."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _int_at_least(name: str, value, minimum: int, allowed: str) -> int:
    if not is_int(value):
        raise TypeError(f"{name} must be {allowed}, got {value!r} ({type(value).__name__}).")
    if value < minimum:
        raise ValueError(f"{name} must be {allowed}, got {value}.")
    return int(value)


def positive_int(name: str, value) -> int:
    """``value`` as an int > 0, or a TypeError/ValueError naming ``name``."""
    return _int_at_least(name, value, 1, "a positive integer")


def non_negative_int(name: str, value) -> int:
    """``value`` as an int >= 0, or a TypeError/ValueError naming ``name``."""
    return _int_at_least(name, value, 0, "a non-negative integer")


def optional_positive_int(name: str, value) -> int | None:
    """None, or ``value`` as an int > 0 (e.g. an optional step count)."""
    return None if value is None else _int_at_least(name, value, 1,
                                                     "a positive integer or None")


def optional_non_negative_int(name: str, value) -> int | None:
    """None, or ``value`` as an int >= 0 (e.g. an optional random seed)."""
    return None if value is None else _int_at_least(name, value, 0,
                                                     "a non-negative integer or None")


def boolean(name: str, value) -> bool:
    """``value`` as a bool (Python or NumPy), or a TypeError naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__}).")
    return bool(value)


def finite_float(name: str, value) -> float:
    """``value`` as a finite float, or a TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}).")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value}.")
    return float(value)


def positive_float(name: str, value) -> float:
    """``value`` as a finite float > 0."""
    result = finite_float(name, value)
    if result <= 0:
        raise ValueError(f"{name} must be a positive number, got {value}.")
    return result


def non_negative_float(name: str, value) -> float:
    """``value`` as a finite float >= 0."""
    result = finite_float(name, value)
    if result < 0:
        raise ValueError(f"{name} must be a number >= 0, got {value}.")
    return result


def optional_sd(value, default: float) -> float:
    """The initial standard deviation: ``default`` for None, else a finite float > 0."""
    return default if value is None else positive_float("sd", value)


def choice(name: str, value, allowed: Iterable[str]) -> str:
    """``value`` lower-cased if it is one of ``allowed`` (case-insensitive)."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}.")
    return value.lower()


def shape(name: str, value, rank: int | None = None) -> tuple[int, ...]:
    """A shape as a tuple of positive ints, optionally of a given rank."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        try:
            value = tuple(value)
        except TypeError:
            raise TypeError(f"{name} must be a sequence of positive ints, got {value!r}.") from None
    if rank is not None and len(value) != rank:
        what = "(batch, height, width, channels)" if rank == 4 else f"of rank {rank}"
        raise ValueError(f"{name} must be {what}, got {tuple(value)!r}.")
    if len(value) == 0:
        raise ValueError(f"{name} must have at least one dimension, got {tuple(value)!r}.")
    return tuple(positive_int(f"{name}[{i}]", v) for i, v in enumerate(value))


def height_width(w, h) -> tuple[int, int]:
    """(height, width) from Lucid's ``(w, h=None)`` convention: h defaults to w."""
    width = positive_int("w", w)
    height = width if h is None else positive_int("h", h)
    return height, width


def levels(name: str, value) -> tuple[int, ...]:
    """A possibly empty sequence of positive int downsampling factors."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a sequence of positive ints, got {value!r}.")
    return tuple(positive_int(f"{name} entry", v) for v in value)


def layer_name(name: str, value) -> str:
    """``value`` if it is a non-empty string (a layer name), else a TypeError naming ``name``."""
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a layer name (a non-empty string), got {value!r}.")
    return value


def vector(name: str, value) -> np.ndarray:
    """A read-only float32 copy of a non-empty, finite 1-D vector."""
    array = np.array(value, dtype=np.float32)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D vector, got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite.")
    array.setflags(write=False)
    return array
