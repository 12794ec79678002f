"""Local response normalization: TensorFlow's kernel (the reference) and an XLA-compiled
closed form (the fast path on CPU).

On CPU, TensorFlow's ``LRNGrad`` loops over every channel's window with a division and a
power per term (for InceptionV1's conv2d2, 192 channels, forward and gradient cost about
twice the closed form as TensorFlow ops and five times the compiled one). The closed-form
gradient is

    dx = g * n**-beta - 2 * alpha * beta * x * window_sum(g * y / n),
    n = bias + alpha * window_sum(x**2).
"""

from __future__ import annotations

import math

import tensorflow as tf

from lucid2.kernels.device import use_fast_kernels

LRN_IMPLEMENTATIONS = ("auto", "xla", "ops", "tensorflow")
# Each distinct input shape costs XLA a compilation (about 0.1 s). Rows (positions) are
# padded up to one of LRN_XLA_BUCKETS_PER_OCTAVE sizes per power of two (at most 25 % more
# rows), so the randomly scaled images of a render need a few shapes, not one per size.
LRN_XLA_BUCKETS_PER_OCTAVE = 4
LRN_XLA_MIN_ROWS = 64


def channel_window_sum(values: tf.Tensor, radius: int) -> tf.Tensor:
    """Sum over the ``2 * radius + 1`` channels centered on each channel (zeros beyond the ends).

    Built from power-of-two partial sums (window 11 = 8 + 2 + 1), so it costs a handful of
    element-wise additions and keeps the rounding of a direct sum.
    """
    channels = values.shape[-1]
    window = 2 * radius + 1
    rank = values.shape.rank
    padded = tf.pad(values, [[0, 0]] * (rank - 1) + [[radius, radius]])
    sums = {1: padded}
    width = 1
    while 2 * width <= window:
        previous = sums[width]
        sums[2 * width] = previous[..., :-width] + previous[..., width:]
        width *= 2
    total, offset = None, 0
    while width:
        if window & width:
            piece = sums[width][..., offset:offset + channels]
            total = piece if total is None else total + piece
            offset += width
        width //= 2
    return total


def _lrn_scale(norm: tf.Tensor, beta: float) -> tf.Tensor:
    return tf.math.rsqrt(norm) if beta == 0.5 else tf.pow(norm, -beta)


def _lrn_forward(x, depth_radius: int, bias: float, alpha: float, beta: float):
    """(LRN of x, its normalizer ``bias + alpha * window_sum(x**2)``)."""
    norm = alpha * channel_window_sum(tf.square(x), depth_radius) + bias
    return x * _lrn_scale(norm, beta), norm


def _lrn_backward(upstream, x, y, norm, depth_radius: int, alpha: float, beta: float):
    """The closed-form gradient of the module docstring."""
    return (upstream * _lrn_scale(norm, beta)
            - (2.0 * alpha * beta) * x * channel_window_sum(upstream * y / norm, depth_radius))


def _lrn_ops(inputs: tf.Tensor, depth_radius: int, bias: float, alpha: float,
             beta: float) -> tf.Tensor:
    @tf.custom_gradient
    def lrn(x):
        y, norm = _lrn_forward(x, depth_radius, bias, alpha, beta)

        def grad(upstream):
            return _lrn_backward(upstream, x, y, norm, depth_radius, alpha, beta)

        return y, grad

    return lrn(inputs)


# Module-level so that every model (and every render) shares one compilation cache.
_lrn_forward_xla = tf.function(_lrn_forward, jit_compile=True, autograph=False)
_lrn_backward_xla = tf.function(_lrn_backward, jit_compile=True, autograph=False)


def lrn_row_bucket(rows) -> tf.Tensor:
    """``rows`` rounded up to a multiple of ``2**(floor(log2(rows)) - 2)`` (at least
    ``LRN_XLA_MIN_ROWS``): 4 sizes per power of two."""
    rows = tf.maximum(tf.cast(rows, tf.int32), LRN_XLA_MIN_ROWS)
    octave = tf.cast(tf.math.floor(tf.math.log(tf.cast(rows, tf.float32)) / math.log(2.0)),
                     tf.int32)
    shift = tf.maximum(octave - int(math.log2(LRN_XLA_BUCKETS_PER_OCTAVE)), 0)
    quantum = tf.bitwise.left_shift(tf.constant(1, tf.int32), shift)
    return (rows + quantum - 1) // quantum * quantum


def _lrn_xla(inputs: tf.Tensor, depth_radius: int, bias: float, alpha: float,
             beta: float) -> tf.Tensor:
    channels = inputs.shape[-1]

    @tf.custom_gradient
    def lrn(x):
        shape = tf.shape(x)
        rows = tf.reduce_prod(shape[:-1])
        padding = [[0, lrn_row_bucket(rows) - rows], [0, 0]]
        padded = tf.pad(tf.reshape(x, [rows, channels]), padding)
        y, norm = _lrn_forward_xla(padded, depth_radius, bias, alpha, beta)

        def grad(upstream):
            g = tf.pad(tf.reshape(upstream, [rows, channels]), padding)
            dx = _lrn_backward_xla(g, padded, y, norm, depth_radius, alpha, beta)
            return tf.reshape(dx[:rows], shape)

        return tf.reshape(y[:rows], shape), grad

    return lrn(inputs)


def check_lrn_implementation(implementation) -> str:
    """``implementation`` if it names one of ``LRN_IMPLEMENTATIONS``, else a ValueError."""
    if implementation not in LRN_IMPLEMENTATIONS:
        raise ValueError(f"The LRN implementation must be one of {LRN_IMPLEMENTATIONS}, got "
                         f"{implementation!r}.")
    return implementation


def local_response_normalization(inputs: tf.Tensor, depth_radius: int, bias: float,
                                 alpha: float, beta: float,
                                 implementation: str = "auto") -> tf.Tensor:
    """``tf.nn.local_response_normalization`` (same numbers to float rounding).

    ``implementation``:

    * ``"auto"``: ``"xla"`` on the fast path (:func:`~lucid2.kernels.use_fast_kernels`),
      else ``"tensorflow"``;
    * ``"xla"``: forward and closed-form gradient each compiled by XLA into a few fused
      loops, on the positions flattened to rows and padded to a row bucket
      (:func:`lrn_row_bucket`);
    * ``"ops"``: the same formulas as TensorFlow ops (no compilation);
    * ``"tensorflow"``: TensorFlow's kernels, the reference (on GPU: cuDNN's).
    """
    implementation = check_lrn_implementation(implementation)
    inputs = tf.convert_to_tensor(inputs)
    if implementation == "auto":
        implementation = "xla" if use_fast_kernels() else "tensorflow"
    if implementation == "tensorflow":
        return tf.nn.local_response_normalization(inputs, depth_radius=depth_radius, bias=bias,
                                                  alpha=alpha, beta=beta)
    if inputs.shape[-1] is None:
        raise ValueError(f"The {implementation!r} LRN needs a known channel count, got "
                         f"shape {inputs.shape}.")
    if implementation == "xla":
        return _lrn_xla(inputs, depth_radius, bias, alpha, beta)
    return _lrn_ops(inputs, depth_radius, bias, alpha, beta)
