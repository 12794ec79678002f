"""Colors: ImageNet color decorrelation and the maps to valid RGB in [0, 1], and their
inverses (which start a parameterization from a given image)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lucid2 import kernels
from lucid2.optvis import checks

# Square root of ImageNet's RGB color correlation matrix, as published by Lucid.
COLOR_CORRELATION_SVD_SQRT = np.array(
    [[0.26, 0.09, 0.02],
     [0.27, 0.00, -0.05],
     [0.27, -0.09, 0.03]], dtype=np.float32)
# Normalized by the largest column norm so that no decorrelated direction is
# amplified (Lucid's normalization).
COLOR_CORRELATION_NORMALIZED = (
    COLOR_CORRELATION_SVD_SQRT / np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0)))
# ImageNet's mean color, the center of the clipped (non-sigmoid) decorrelated space.
COLOR_MEAN = np.array([0.48, 0.46, 0.41], dtype=np.float32)
# Center of the clipped space when colors are not decorrelated: mid-gray.
GRAY = 0.5

VALID_RGB_MODES = ("sigmoid", "clip")
# The inverse sigmoid of 0 and 1 is infinite, so images are clipped to
# [margin, 1 - margin] first: one 8-bit level, so black and white still come back within
# 1/255, and the sigmoid's slope there (about 1/255) keeps their gradients alive.
SIGMOID_INIT_MARGIN = 1.0 / 255.0


def linear_decorrelate_color(t: tf.Tensor) -> tf.Tensor:
    """Maps colors from the decorrelated space to RGB (times the normalized sqrt-correlation).

    ``t``'s last axis must have 3 channels.
    """
    t = tf.convert_to_tensor(t, dtype_hint=tf.float32)
    if t.shape.rank is not None and t.shape[-1] != 3:
        raise ValueError(f"Color decorrelation needs 3 channels in the last axis, got {t.shape}.")
    return tf.einsum("...c,rc->...r", t, COLOR_CORRELATION_NORMALIZED)


def decorrelate_channels_first(t: tf.Tensor) -> tf.Tensor:
    """:func:`linear_decorrelate_color` of a (batch, 3, height, width) tensor, returned as
    (batch, height, width, 3): the transpose and the mixing in one pass."""
    return kernels.mix_channels_first(t, COLOR_CORRELATION_NORMALIZED)


def decorrelated_sigmoid_channels_first(t: tf.Tensor) -> tf.Tensor:
    """``sigmoid(decorrelate_channels_first(t))``: (batch, 3, height, width) decorrelated
    colors to (batch, height, width, 3) RGB in [0, 1] (one compiled loop on CPU)."""
    return kernels.mix_sigmoid_channels_first(t, COLOR_CORRELATION_NORMALIZED)


@tf.custom_gradient
def constrain_l_inf(x: tf.Tensor):
    """Clips ``x`` to [-1, 1] while keeping gradients that lead back inside.

    Forward: ``x / max(1, |x|)``. Backward: the incoming gradient passes
    through unchanged (so clipped values can still move), except where
    ``|x| >= 1`` and a descent step ``x - lr * grad`` would push ``x`` further
    out: there it is zero. This assumes the gradient is of a loss being
    minimized (e.g. ``-objective``), which is how optimizers apply it.
    """
    y = x / tf.maximum(1.0, tf.abs(x))

    def grad(upstream):
        at_edge = tf.abs(x) >= 1.0
        outward = x * upstream < 0.0
        return tf.where(tf.logical_and(at_edge, outward), tf.zeros_like(upstream), upstream)

    return y, grad


def squash(t: tf.Tensor, valid_rgb: str = "sigmoid", center=GRAY) -> tf.Tensor:
    """Maps a raw tensor into [0, 1] by sigmoid, or by clipping ``t + center`` (L-infinity ball)."""
    valid_rgb = checks.choice("valid_rgb", valid_rgb, VALID_RGB_MODES)
    if valid_rgb == "sigmoid":
        return tf.sigmoid(t)
    return constrain_l_inf(2.0 * (t + center) - 1.0) / 2.0 + 0.5


def inverse_decorrelate_color(rgb) -> np.ndarray:
    """The inverse of :func:`linear_decorrelate_color`: RGB to decorrelated colors (float64).

    ``rgb``'s last axis must have 3 channels.
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.shape[-1:] != (3,):
        raise ValueError(f"Color decorrelation needs 3 channels in the last axis, got "
                         f"{rgb.shape}.")
    inverse = np.linalg.inv(COLOR_CORRELATION_NORMALIZED.astype(np.float64))
    return np.einsum("...r,cr->...c", rgb, inverse)


def inverse_squash(images, valid_rgb: str = "sigmoid", center=GRAY) -> np.ndarray:
    """The raw values that :func:`squash` maps to ``images`` (in [0, 1]), as float64.

    "sigmoid": the logit of the images clipped to [SIGMOID_INIT_MARGIN,
    1 - SIGMOID_INIT_MARGIN] (so 0 and 1 come back within that margin, all else
    exactly). "clip": ``images - center``, exact for every value in [0, 1].
    """
    valid_rgb = checks.choice("valid_rgb", valid_rgb, VALID_RGB_MODES)
    images = np.asarray(images, dtype=np.float64)
    if valid_rgb == "sigmoid":
        p = np.clip(images, SIGMOID_INIT_MARGIN, 1.0 - SIGMOID_INIT_MARGIN)
        return np.log(p) - np.log1p(-p)
    return images - np.asarray(center, dtype=np.float64)


def from_valid_rgb(images, decorrelate: bool = False, sigmoid: bool = True) -> np.ndarray:
    """The inverse of :func:`to_valid_rgb`: float32 raw values whose map is ``images``.

    ``images`` (..., 3) are in [0, 1]; the result is within 1/255 of them after
    :func:`to_valid_rgb` with the same options (see :func:`inverse_squash`).
    """
    center = COLOR_MEAN if decorrelate else GRAY
    raw = inverse_squash(images, "sigmoid" if sigmoid else "clip", center)
    if decorrelate:
        raw = inverse_decorrelate_color(raw)
    return raw.astype(np.float32)


def to_valid_rgb(t: tf.Tensor, decorrelate: bool = False, sigmoid: bool = True) -> tf.Tensor:
    """Maps the last (color) axis of a raw tensor to valid RGB in [0, 1].

    Args:
      t: raw tensor whose last axis holds 3 colors.
      decorrelate: interpret the colors as coordinates in ImageNet's
        decorrelated color space and map them to RGB first.
      sigmoid: constrain with a sigmoid (True) or by clipping with
        :func:`constrain_l_inf` (False). Clipping is centered on ImageNet's
        mean color when decorrelating (as in Lucid) and on mid-gray otherwise
        (Lucid used 0 there, which starts from a black image).
    """
    t = tf.convert_to_tensor(t, dtype_hint=tf.float32)
    if decorrelate:
        t = linear_decorrelate_color(t)
    return squash(t, "sigmoid" if sigmoid else "clip", COLOR_MEAN if decorrelate else GRAY)
