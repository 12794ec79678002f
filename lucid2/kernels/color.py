"""Color mixing of channels-first images: TensorFlow ops (the reference) and, on the fast
path, the transpose, the 3x3 mixing and the sigmoid as one XLA-compiled loop each way.

Separate TensorFlow ops cost several passes over the image and a batched 3x3 matrix
product in each direction.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lucid2.kernels.device import use_fast_kernels

COLORS = 3
ColorMatrix = tuple[tuple[float, float, float], ...]


def _check_channels_first(t: tf.Tensor) -> tf.Tensor:
    t = tf.convert_to_tensor(t, dtype_hint=tf.float32)
    if t.shape.rank != 4 or t.shape[1] != COLORS:
        raise ValueError(f"Expected (batch, 3, height, width) colors, got shape {t.shape}.")
    return t


def _as_key(matrix) -> ColorMatrix:
    """The matrix as nested Python floats: a compiled function's static argument (its
    float32 values are exact in Python floats)."""
    values = np.asarray(matrix, dtype=np.float32)
    if values.shape != (COLORS, COLORS):
        raise ValueError(f"The color matrix must be 3x3, got shape {values.shape}.")
    return tuple((float(red), float(green), float(blue)) for red, green, blue in values)


def mix_channels_first(t: tf.Tensor, matrix) -> tf.Tensor:
    """(batch, 3, height, width) colors times ``matrix.T``, as (batch, height, width, 3).

    One batched matrix product reads the channels-first layout directly, so the
    transpose to channels-last and the mixing cost one pass (and one in the gradient).
    """
    t = _check_channels_first(t)
    matrix = np.asarray(matrix, dtype=np.float32)
    shape = tf.shape(t)
    flat = tf.reshape(t, tf.stack([shape[0], COLORS, shape[2] * shape[3]]))
    mixed = tf.matmul(flat, matrix.T, transpose_a=True)
    return tf.reshape(mixed, tf.stack([shape[0], shape[2], shape[3], COLORS]))


def _mix(colors: tf.Tensor, matrix: np.ndarray) -> tf.Tensor:
    """``colors @ matrix.T`` over a last axis of 3, as three multiply-adds (which XLA
    fuses with what surrounds them; a 3x3 matrix product kernel costs far more)."""
    return (colors[..., 0:1] * matrix[:, 0] + colors[..., 1:2] * matrix[:, 1]
            + colors[..., 2:3] * matrix[:, 2])


def _mix_sigmoid(t: tf.Tensor, key: ColorMatrix) -> tf.Tensor:
    return tf.sigmoid(_mix(tf.transpose(t, (0, 2, 3, 1)), np.asarray(key, np.float32)))


def _mix_sigmoid_grad(upstream: tf.Tensor, images: tf.Tensor, key: ColorMatrix) -> tf.Tensor:
    mixed_grad = upstream * images * (1.0 - images)
    return tf.transpose(_mix(mixed_grad, np.asarray(key, np.float32).T), (0, 3, 1, 2))


# Module-level, so that every render shares one compilation cache.
_mix_sigmoid_xla = tf.function(_mix_sigmoid, jit_compile=True, autograph=False)
_mix_sigmoid_grad_xla = tf.function(_mix_sigmoid_grad, jit_compile=True, autograph=False)


def mix_sigmoid_channels_first(t: tf.Tensor, matrix) -> tf.Tensor:
    """``sigmoid(mix_channels_first(t, matrix))``: (batch, 3, height, width) colors to
    (batch, height, width, 3) values in [0, 1]."""
    t = _check_channels_first(t)
    if not use_fast_kernels():
        return tf.sigmoid(mix_channels_first(t, matrix))
    key = _as_key(matrix)

    @tf.custom_gradient
    def fused(x):
        images = _mix_sigmoid_xla(x, key)
        return images, lambda upstream: _mix_sigmoid_grad_xla(upstream, images, key)

    return fused(t)
