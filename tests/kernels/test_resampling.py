"""warp: the compiled gathers on a canvas against TensorFlow's ImageProjectiveTransformV3."""

import numpy as np
import pytest
import tensorflow as tf
from kernels_testlib import (BATCHES, RENDER_SIZE, assert_close, run_both,
                             standard_transform_sizes)

from lucid2 import kernels

FILL = 0.5


def _rotation_and_scale(batch: int, scale: float) -> tf.Tensor:
    """Per-image affine maps like the standard transforms': a rotation by a few degrees,
    a scale, and a shift (output pixel -> input position)."""
    angles = np.deg2rad(np.linspace(-9.0, 7.0, batch))
    shifts = np.linspace(-6.0, 5.0, batch)
    matrix = np.zeros((batch, 3, 3), np.float32)
    matrix[:, 0, :] = np.stack([np.cos(angles) / scale, -np.sin(angles) / scale, shifts], 1)
    matrix[:, 1, :] = np.stack([np.sin(angles) / scale, np.cos(angles) / scale, -shifts], 1)
    matrix[:, 2, 2] = 1.0
    return tf.constant(matrix)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("size", standard_transform_sizes())
def test_warp_matches_the_reference_at_every_transformed_size(size, batch):
    sizes = standard_transform_sizes()
    canvas = (max(sizes), max(sizes))
    images = tf.random.stateless_uniform([batch, RENDER_SIZE, RENDER_SIZE, 3], [size, batch])
    matrix = _rotation_and_scale(batch, size / RENDER_SIZE)
    results = run_both(
        lambda x: kernels.warp(x, matrix, tf.constant([size, size]), FILL, canvas), [images])
    assert results["fast"][0].shape == (batch, size, size, 3)
    # Sampling positions near 150 px carry ~1e-5 of float rounding into the weights.
    assert_close(results, rtol=0, atol=5e-5, grad_rtol=0, grad_atol=1e-4)
    assert np.abs(results["reference"][1][0]).max() > 0.5


@pytest.mark.parametrize("out_size", [(41, 37), (40, 52), (1, 9), (45, 53)])
def test_warp_matches_the_reference_for_rectangles_and_single_rows(out_size):
    images = tf.random.stateless_uniform([2, 30, 34, 3], [4, 5])
    matrix = _rotation_and_scale(2, 0.9)
    results = run_both(
        lambda x: kernels.warp(x, matrix, tf.constant(out_size), FILL, (45, 53)), [images])
    assert_close(results, rtol=0, atol=2e-5, grad_rtol=0, grad_atol=1e-4)


def test_without_a_canvas_or_static_sizes_warp_uses_tensorflows_kernel():
    matrix = _rotation_and_scale(1, 1.0)
    spec = tf.TensorSpec((1, None, None, 3))
    with kernels.kernel_choice("fast"):
        for canvas, signature in ((None, tf.TensorSpec((1, 8, 8, 3))), ((8, 8), spec)):
            fn = tf.function(lambda x, c=canvas: kernels.warp(x, matrix, tf.constant([8, 8]),
                                                               FILL, c),
                             input_signature=[signature])
            ops = {op.type for op in fn.get_concrete_function().graph.get_operations()}
            assert "ImageProjectiveTransformV3" in ops


def test_affine_inverse_inverts():
    matrix = _rotation_and_scale(4, 1.1)
    product = tf.matmul(matrix, kernels.affine_inverse(matrix))
    np.testing.assert_allclose(product.numpy(), np.broadcast_to(np.eye(3), (4, 3, 3)), atol=1e-6)
