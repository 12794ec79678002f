"""mix_sigmoid_channels_first: one compiled loop against TensorFlow ops."""

import numpy as np
import pytest
import tensorflow as tf
from kernels_testlib import BATCHES, RENDER_SIZE, assert_close, run_both

from lucid2 import kernels

MATRIX = np.array([[0.6, 0.2, 0.05], [0.62, 0.0, -0.11], [0.62, -0.2, 0.07]], np.float32)
SIZES = [(RENDER_SIZE, RENDER_SIZE), (224, 224), (97, 131)]


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("height, width", SIZES)
def test_mix_sigmoid_matches_the_reference(height, width, batch):
    colors = tf.random.stateless_normal([batch, 3, height, width], [height, batch]) * 2.0
    results = run_both(lambda t: kernels.mix_sigmoid_channels_first(t, MATRIX), [colors])
    assert results["fast"][0].shape == (batch, height, width, 3)
    assert_close(results, rtol=0, atol=1e-6, grad_rtol=0, grad_atol=1e-6)


def test_mix_channels_first_is_the_transposed_matrix_product():
    colors = tf.random.stateless_normal([2, 3, 5, 4], [0, 1])
    expected = np.einsum("nchw,rc->nhwr", colors.numpy(), MATRIX)
    np.testing.assert_allclose(kernels.mix_channels_first(colors, MATRIX).numpy(), expected,
                               atol=1e-6)


@pytest.mark.parametrize("fn", [kernels.mix_channels_first, kernels.mix_sigmoid_channels_first])
def test_wrong_layouts_and_matrices_are_refused(fn):
    with pytest.raises(ValueError, match=r"\(batch, 3, height, width\)"):
        fn(tf.zeros((1, 4, 2, 2)), MATRIX)
    with kernels.kernel_choice("fast"), pytest.raises(ValueError, match="3x3"):
        kernels.mix_sigmoid_channels_first(tf.zeros((1, 3, 2, 2)), MATRIX[:2])
