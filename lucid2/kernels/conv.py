"""Strided "SAME" convolutions of few-channel images (InceptionV1's conv2d0 on RGB):
TensorFlow's convolution (the reference) and one whose input gradient is a stride-1
convolution (the fast path on CPU).

On CPU the strided backward-data kernel for a 3-channel input is slow, and very slow for
some image sizes (oneDNN picks a poor algorithm for them), which made render steps at
randomly scaled sizes about 1.5 times slower than at a fixed size.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lucid2.kernels.device import use_fast_kernels

# Strided convolutions with at most this many input channels (an image) take the fast
# input gradient; with more, TensorFlow's backward-data kernel is not the bottleneck.
FAST_INPUT_GRAD_MAX_CHANNELS = 4


def _phase_kernel(kernel: tf.Tensor, stride: int) -> tf.Tensor:
    """The (m, m, out, stride**2 * in) kernel of the input gradient in space-to-depth form.

    With the kernel zero-padded to ``m * stride`` taps, input pixel ``stride * p + r`` (in
    padded coordinates) receives ``sum_j dy[p - j] * kernel[stride * j + r]``: for each phase
    ``r`` a stride-1 correlation of ``dy`` with every ``stride``-th tap, flipped. Built with
    one gather of constant indices (a transpose of this 6-D layout is slow on CPU).
    """
    size_h, size_w, channels_in, channels_out = (int(d) for d in kernel.shape)
    taps_h, taps_w = -(-size_h // stride), -(-size_w // stride)
    j_h, j_w, out, r_h, r_w, c = np.meshgrid(
        np.arange(taps_h), np.arange(taps_w), np.arange(channels_out), np.arange(stride),
        np.arange(stride), np.arange(channels_in), indexing="ij")
    row = stride * (taps_h - 1 - j_h) + r_h
    col = stride * (taps_w - 1 - j_w) + r_w
    index = ((row * size_w + col) * channels_in + c) * channels_out + out
    zero = size_h * size_w * channels_in * channels_out  # the appended 0 for padded taps
    index = np.where((row < size_h) & (col < size_w), index, zero)
    flat = tf.concat([tf.reshape(kernel, [-1]), tf.zeros([1], kernel.dtype)], axis=0)
    return tf.gather(flat, index.reshape(taps_h, taps_w, channels_out, -1))


def strided_conv_input_grad(dy: tf.Tensor, kernel: tf.Tensor, input_shape: tf.Tensor,
                            stride: int) -> tf.Tensor:
    """Gradient of ``conv2d(x, kernel, stride, "SAME")`` with respect to ``x``.

    The same numbers as TensorFlow's ``Conv2DBackpropInput``, computed as a stride-1
    convolution producing ``stride**2 * in`` channels followed by ``depth_to_space``.
    """
    size_h, size_w = kernel.shape[0], kernel.shape[1]
    taps_h, taps_w = -(-size_h // stride), -(-size_w // stride)
    height, width = input_shape[1], input_shape[2]
    out_h, out_w = tf.shape(dy)[1], tf.shape(dy)[2]
    # "SAME" padding as TensorFlow places it: the smaller half before.
    pad_top = tf.maximum((out_h - 1) * stride + size_h - height, 0) // 2
    pad_left = tf.maximum((out_w - 1) * stride + size_w - width, 0) // 2
    # Enough rows after dy for the largest possible padding before x.
    after_h = -(-((size_h - 1) // 2) // stride)
    after_w = -(-((size_w - 1) // 2) // stride)
    padded = tf.pad(dy, [[0, 0], [taps_h - 1, after_h], [taps_w - 1, after_w], [0, 0]])
    phases = tf.nn.conv2d(padded, _phase_kernel(kernel, stride), 1, "VALID")
    full = tf.nn.depth_to_space(phases, stride)
    return full[:, pad_top:pad_top + height, pad_left:pad_left + width, :]


def _conv2d_fast_input_grad(inputs: tf.Tensor, kernel: tf.Tensor, stride: int) -> tf.Tensor:
    @tf.custom_gradient
    def conv(x, k):
        def grad(dy):
            dx = strided_conv_input_grad(dy, k, tf.shape(x), stride)
            dk = tf.raw_ops.Conv2DBackpropFilter(
                input=x, filter_sizes=tf.shape(k), out_backprop=dy,
                strides=[1, stride, stride, 1], padding="SAME")
            return dx, dk

        return tf.nn.conv2d(x, k, stride, "SAME"), grad

    return conv(inputs, kernel)


def conv2d_same(inputs: tf.Tensor, kernel: tf.Tensor, stride: int) -> tf.Tensor:
    """``tf.nn.conv2d(inputs, kernel, stride, "SAME")`` (NHWC; the reference).

    On the fast path, a strided convolution of at most
    ``FAST_INPUT_GRAD_MAX_CHANNELS`` input channels computes its input gradient with
    :func:`strided_conv_input_grad`; the forward pass and the kernel gradient are
    TensorFlow's.
    """
    inputs, kernel = tf.convert_to_tensor(inputs), tf.convert_to_tensor(kernel)
    channels = inputs.shape[-1]
    if (stride > 1 and channels is not None and channels <= FAST_INPUT_GRAD_MAX_CHANNELS
            and use_fast_kernels()):
        return _conv2d_fast_input_grad(inputs, kernel, stride)
    return tf.nn.conv2d(inputs, kernel, stride, "SAME")
