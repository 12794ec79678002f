"""A tensor parameterized by a lower-resolution variable, linearly upsampled."""

from __future__ import annotations

import numbers

import numpy as np
import tensorflow as tf

from lucid2.optvis import checks
from lucid2.optvis.param.base import RawParam, initial_value
from lucid2.optvis.param.spatial import DEFAULT_SD

# Where output sample i falls on the input axis:
#   "half_pixel": pixel centers aligned, (i + 0.5) * in / out - 0.5 (tf.image.resize);
#   "corners": first and last samples aligned, i * (in - 1) / (out - 1);
#   "legacy": i * in / out, TF1's resize_bilinear default that Lucid used
#             (shifts content by up to half an input pixel towards the origin).
ALIGN_MODES = ("half_pixel", "corners", "legacy")


def _sample_positions(in_size: int, out_size: int, align: str) -> np.ndarray:
    i = np.arange(out_size, dtype=np.float64)
    if align == "half_pixel":
        pos = (i + 0.5) * in_size / out_size - 0.5
    elif align == "corners":
        pos = i * (in_size - 1) / (out_size - 1) if out_size > 1 else np.zeros(1)
    else:
        pos = i * in_size / out_size
    return np.clip(pos, 0.0, in_size - 1)


def resize_linear_axis(t: tf.Tensor, axis: int, size: int, align: str = "half_pixel") -> tf.Tensor:
    """Linearly resamples one static-size axis of ``t`` to ``size`` entries (no antialiasing)."""
    align = checks.choice("align", align, ALIGN_MODES)
    in_size = t.shape[axis]
    if in_size is None:
        raise ValueError(f"Axis {axis} of a tensor of shape {t.shape} must have a static size.")
    if in_size == size:
        return t
    pos = _sample_positions(in_size, size, align)
    lo = np.floor(pos).astype(np.int32)
    hi = np.minimum(lo + 1, in_size - 1).astype(np.int32)
    frac_shape = [1] * t.shape.rank
    frac_shape[axis] = size
    frac = (pos - lo).astype(np.float32).reshape(frac_shape)
    return tf.gather(t, lo, axis=axis) * (1.0 - frac) + tf.gather(t, hi, axis=axis) * frac


def resize_linear_nd(t: tf.Tensor, shape, align: str = "half_pixel") -> tf.Tensor:
    """Resizes every axis of ``t`` to ``shape`` by separable linear interpolation.

    Linear interpolation is separable, so resizing one axis after the other
    equals N-linear interpolation (Lucid's ``resize_bilinear_nd``).
    """
    t = tf.convert_to_tensor(t)
    shape = checks.shape("shape", shape, rank=t.shape.rank)
    for axis, size in enumerate(shape):
        t = resize_linear_axis(t, axis, size, align)
    return t


def _normalize_offset(offset, shape, underlying_shape) -> tuple[int, ...]:
    rank = len(shape)
    if offset is None:
        return (0,) * rank
    entries = list(offset) if isinstance(offset, (list, tuple)) else [offset] * rank
    if len(entries) != rank:
        raise ValueError(f"offset must have one entry per dimension ({rank}), got {offset!r}.")
    result = []
    for n, entry in enumerate(entries):
        if entry is True:
            # Half the upsampling ratio: a shift of "90 degrees" of the low-res grid.
            entry = int(shape[n] / underlying_shape[n] / 2)
        elif entry is False or entry is None:
            entry = 0
        elif not isinstance(entry, numbers.Real):
            raise TypeError(f"offset entries must be ints or bools, got {entry!r}.")
        entry = int(entry)
        if not 0 <= entry <= shape[n]:
            raise ValueError(
                f"offset[{n}] must be between 0 and the output size {shape[n]}, got {entry}.")
        result.append(entry)
    return tuple(result)


class LowresTensor(RawParam):
    """A tensor of ``shape`` computed by linearly resizing a variable of ``underlying_shape``."""

    def __init__(self, shape, underlying_shape, offset=None, sd: float | None = None,
                 align: str = "half_pixel", init=None, name: str | None = None):
        shape = checks.shape("shape", shape)
        underlying_shape = checks.shape("underlying_shape", underlying_shape)
        if len(shape) != len(underlying_shape):
            raise ValueError(
                f"shape {shape} and underlying_shape {underlying_shape} must have the same rank.")
        self.offset = _normalize_offset(offset, shape, underlying_shape)
        self.align = checks.choice("align", align, ALIGN_MODES)
        if init is not None:
            if sd is not None:
                raise ValueError("lowres_tensor takes either sd (random init) or init, not both.")
            init = initial_value("init", init, [underlying_shape, shape])
        sd = checks.optional_sd(sd, DEFAULT_SD)
        super().__init__(shape, name=name)
        self.underlying_shape = underlying_shape
        if init is None:
            start = tf.random.normal(underlying_shape, stddev=sd)
        elif init.shape == underlying_shape:
            start = init
        else:
            start = self._fit(init)
        self.underlying = tf.Variable(start, name="underlying")

    def _axis_matrix(self, axis: int) -> np.ndarray:
        """The (shape[axis], underlying_shape[axis]) linear map that ``__call__`` applies
        along ``axis``: its columns are the resized and shifted unit vectors."""
        units = resize_linear_axis(tf.eye(self.underlying_shape[axis]), 0, self.shape[axis],
                                   self.align)
        offset = self.offset[axis]
        if offset:
            units = tf.pad(units, [(offset, 0), (0, 0)], mode="SYMMETRIC")[:self.shape[axis]]
        return units.numpy().astype(np.float64)

    def _fit(self, target: np.ndarray) -> np.ndarray:
        """The underlying values whose upsampling is closest to ``target`` (least squares).

        Upsampling is linear and separable, one matrix per axis, so the least-squares fit is
        the target times each axis matrix's pseudo-inverse in turn.
        """
        fitted = target.astype(np.float64)
        for axis in range(len(self.shape)):
            inverse = np.linalg.pinv(self._axis_matrix(axis))
            fitted = np.moveaxis(np.tensordot(inverse, fitted, axes=([1], [axis])), 0, axis)
        return fitted.astype(np.float32)

    def __call__(self) -> tf.Tensor:
        t = resize_linear_nd(self.underlying, self.shape, self.align)
        if any(self.offset):
            # Shift by mirroring ``offset`` entries in front, then cut back to ``shape``.
            t = tf.pad(t, [(o, 0) for o in self.offset], mode="SYMMETRIC")
            t = t[tuple(slice(0, s) for s in self.shape)]
        return t


def lowres_tensor(shape, underlying_shape, offset=None, sd: float | None = None,
                  align: str = "half_pixel", init=None) -> LowresTensor:
    """A tensor parameterized by a lower-resolution variable, linearly upsampled (as in Lucid).

    Args:
      shape: shape of the resulting tensor, any rank (usually (batch, h, w, c)).
      underlying_shape: shape of the variable, same rank; every axis whose size
        differs is linearly resampled (a batch axis of 1 is shared by all images).
      offset: shifts the result like a phase: None/False for none, an int for
        every axis, True for half the upsampling ratio, or a list with one
        int/bool per axis. The shift mirrors content in at the start.
      sd: standard deviation of the variable's normal init (default 0.01).
      align: sample alignment, one of ``ALIGN_MODES``; "legacy" reproduces
        Lucid's TF1 resize exactly, the default "half_pixel" is centered.
      init: a start instead of random values (not together with ``sd``): an array of
        ``underlying_shape`` is the variable's exact start; an array of ``shape`` is
        fitted by least squares (exact when it is itself such an upsampled tensor,
        otherwise approximate: detail finer than the underlying grid is lost).
    """
    return LowresTensor(shape, underlying_shape, offset=offset, sd=sd, align=align, init=init)
