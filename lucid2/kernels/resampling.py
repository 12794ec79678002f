"""Bilinear resampling of images by affine maps, with the gradient that rendering uses.

:func:`warp` is what the fused transforms of :mod:`lucid2.optvis.transform` run:
TensorFlow's ``ImageProjectiveTransformV3`` (the reference), or, on the fast path when
the sizes are static, the same arithmetic as XLA-compiled gathers on a fixed canvas. On
CPU TensorFlow's kernel runs on one thread for a render's image sizes.
"""

from __future__ import annotations

import tensorflow as tf

from lucid2.kernels.device import use_fast_kernels


def affine_inverse(matrix: tf.Tensor) -> tf.Tensor:
    """Inverses of (n, 3, 3) affine matrices (last row 0, 0, 1), in closed form."""
    a, b, c = matrix[:, 0, 0], matrix[:, 0, 1], matrix[:, 0, 2]
    d, e, f = matrix[:, 1, 0], matrix[:, 1, 1], matrix[:, 1, 2]
    det = a * e - b * d
    zeros, ones = tf.zeros_like(a), tf.ones_like(a)
    rows = [tf.stack([e, -b, b * f - c * e], axis=1) / det[:, None],
            tf.stack([-d, a, c * d - a * f], axis=1) / det[:, None],
            tf.stack([zeros, zeros, ones], axis=1)]
    return tf.stack(rows, axis=1)


def _sample_bilinear(images: tf.Tensor, transforms: tf.Tensor, height: int, width: int,
                     fill: float) -> tf.Tensor:
    """ImageProjectiveTransformV3's bilinear, constant-fill resampling with affine (n, 8)
    ``transforms`` into a (height, width) output, as four gathers; compiled by XLA into a
    few loops over the output, with no per-channel recomputation of the coordinates."""
    shape = tf.shape(images)
    n, in_h, in_w = shape[0], shape[1], shape[2]
    xs = tf.range(width, dtype=tf.float32)[None, None, :]
    ys = tf.range(height, dtype=tf.float32)[None, :, None]
    t = transforms[:, :, None, None]
    x = t[:, 0] * xs + t[:, 1] * ys + t[:, 2]
    y = t[:, 3] * xs + t[:, 4] * ys + t[:, 5]
    x_floor, y_floor = tf.floor(x), tf.floor(y)
    x_ceil, y_ceil = x_floor + 1.0, y_floor + 1.0
    column, row = tf.cast(x_floor, tf.int32), tf.cast(y_floor, tf.int32)
    pixels = tf.reshape(images, tf.stack([-1, tf.shape(images)[3]]))
    first = (tf.range(n) * in_h * in_w)[:, None, None]

    def read(r, c):
        inside = (r >= 0) & (r < in_h) & (c >= 0) & (c < in_w)
        index = first + tf.clip_by_value(r, 0, in_h - 1) * in_w + tf.clip_by_value(c, 0, in_w - 1)
        return tf.where(inside[..., None], tf.gather(pixels, index), fill)

    # TensorFlow's kernel's arithmetic, in its order (its numbers to float rounding).
    wx0, wx1 = (x_ceil - x)[..., None], (x - x_floor)[..., None]
    top = wx0 * read(row, column) + wx1 * read(row, column + 1)
    bottom = wx0 * read(row + 1, column) + wx1 * read(row + 1, column + 1)
    return (y_ceil - y)[..., None] * top + (y - y_floor)[..., None] * bottom


def _as_transforms(matrix: tf.Tensor) -> tf.Tensor:
    return tf.reshape(matrix, [-1, 9])[:, :8]


def _inverse_and_area(matrix: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(n, 8) transforms of the inverse maps of affine (n, 3, 3) ``matrix``, and the
    reciprocal of each map's area factor ``|det|``, shaped (n, 1, 1, 1)."""
    inverse = _as_transforms(affine_inverse(matrix))
    area = tf.abs(matrix[:, 0, 0] * matrix[:, 1, 1] - matrix[:, 0, 1] * matrix[:, 1, 0])
    return inverse, tf.reshape(1.0 / area, [-1, 1, 1, 1])


def _warp_forward(images, matrix, height: int, width: int, fill: float) -> tf.Tensor:
    return _sample_bilinear(images, _as_transforms(matrix), height, width, fill)


def _warp_backward(upstream, matrix, height: int, width: int) -> tf.Tensor:
    inverse, inverse_area = _inverse_and_area(matrix)
    return _sample_bilinear(upstream, inverse, height, width, 0.0) * inverse_area


# Module-level, so that every render shares one compilation cache. The matrices' inverses
# and areas are computed inside too: as TensorFlow ops they are dozens of tiny kernels.
_warp_forward_xla = tf.function(_warp_forward, jit_compile=True, autograph=False)
_warp_backward_xla = tf.function(_warp_backward, jit_compile=True, autograph=False)


def warp(images: tf.Tensor, matrix: tf.Tensor, size: tf.Tensor, fill: float,
          canvas: tuple[int, int] | None = None) -> tf.Tensor:
    """Bilinear resampling: output pixel (x, y) reads ``images`` at ``matrix @ (x, y, 1)``
    (affine (n, 3, 3) matrices).

    Its gradient is TensorFlow's for ImageProjectiveTransformV3 (the upstream gradient
    warped back by the inverse map) divided by the map's area factor ``|det|``: warping
    back gives every input pixel the weight of one output pixel, while an image scaled by
    ``s`` has ``s**2`` output pixels per input pixel, which is what resizing's own
    gradient sums.

    ``canvas``: a static (height, width) no smaller than any ``size``. Given one, with
    static input sizes, the fast path runs both directions as XLA-compiled gathers on the
    canvas (one shape, so one compilation per render), cropped to ``size``.
    """
    spatial = images.shape[1:3]
    if canvas is not None and spatial.is_fully_defined() and use_fast_kernels():
        in_h, in_w = spatial.as_list()

        @tf.custom_gradient
        def sample(x):
            def grad(upstream):
                margins = tf.stack([[0, 0], [0, canvas[0] - size[0]], [0, canvas[1] - size[1]],
                                    [0, 0]])
                return _warp_backward_xla(tf.pad(upstream, margins), matrix, in_h, in_w)

            out = _warp_forward_xla(x, matrix, canvas[0], canvas[1], fill)
            return out[:, :size[0], :size[1], :], grad

        return sample(images)

    flat = _as_transforms(matrix)
    inverse, inverse_area = _inverse_and_area(matrix)
    input_size = tf.shape(images)[1:3]

    def resample(x, transforms, out_size, fill_value):
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=x, transforms=transforms, output_shape=out_size, fill_value=fill_value,
            interpolation="BILINEAR", fill_mode="CONSTANT")

    @tf.custom_gradient
    def warp(x):
        def grad(upstream):
            return resample(upstream, inverse, input_size, 0.0) * inverse_area

        return resample(x, flat, size, fill), grad

    return warp(images)
