"""conv2d_same: the stride-1 input gradient of strided image convolutions against
tf.nn.conv2d."""

import numpy as np
import pytest
import tensorflow as tf
from kernels_testlib import BATCHES, assert_close, op_types, run_both, standard_transform_sizes

from lucid2.kernels import conv, kernel_choice

STEM_KERNEL, STEM_STRIDE, STEM_CHANNELS = 7, 2, 64  # InceptionV1's conv2d0


def _inputs(shape, kernel, channels_out, seed=0):
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.normal(size=shape).astype(np.float32))
    w = tf.constant(rng.normal(size=(kernel, kernel, shape[-1], channels_out)).astype(np.float32))
    return x, w


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("size", standard_transform_sizes())
def test_stem_convolution_matches_the_reference_at_every_transformed_size(size, batch):
    x, w = _inputs((batch, size, size, 3), STEM_KERNEL, STEM_CHANNELS, seed=size)
    results = run_both(lambda a, b: conv.conv2d_same(a, b, STEM_STRIDE), [x, w])
    # The forward pass is TensorFlow's own convolution on both paths.
    np.testing.assert_array_equal(results["fast"][0], results["reference"][0])
    assert_close(results, rtol=0, atol=0, grad_rtol=1e-5, grad_atol=1e-5)


@pytest.mark.parametrize("shape, kernel, stride", [
    ((2, 141, 140, 3), 7, 2), ((1, 125, 154, 3), 7, 2), ((1, 9, 8, 3), 7, 2),
    ((1, 10, 13, 2), 5, 3), ((1, 16, 16, 1), 4, 2), ((1, 1, 1, 3), 7, 2),
])
def test_odd_shapes_strides_and_kernels_match_the_reference(shape, kernel, stride):
    x, w = _inputs(shape, kernel, 5)
    results = run_both(lambda a, b: conv.conv2d_same(a, b, stride), [x, w])
    assert_close(results, rtol=0, atol=0, grad_rtol=1e-5, grad_atol=1e-5)


def test_the_fast_path_avoids_the_strided_backward_data_kernel():
    x, w = _inputs((1, 32, 32, 3), STEM_KERNEL, 8)
    with kernel_choice("fast"):
        fast = op_types(lambda a, b: conv.conv2d_same(a, b, 2), [x, w])
    with kernel_choice("reference"):
        reference = op_types(lambda a, b: conv.conv2d_same(a, b, 2), [x, w])
    assert "Conv2DBackpropInput" in reference and "Conv2DBackpropInput" not in fast


@pytest.mark.parametrize("channels, stride", [(conv.FAST_INPUT_GRAD_MAX_CHANNELS + 1, 2), (3, 1)])
def test_many_channels_or_stride_one_always_use_the_reference(channels, stride):
    x, w = _inputs((1, 16, 16, channels), 3, 4)
    with kernel_choice("fast"):
        ops = op_types(lambda a, b: conv.conv2d_same(a, b, stride), [x, w])
    assert "Conv2DBackpropInput" in ops
