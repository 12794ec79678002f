"""lowres_tensor, resize_linear_nd and laplacian_pyramid."""

import numpy as np
import pytest
import tensorflow as tf

from lucid2.optvis import param


def test_half_pixel_matches_tf_image_resize():
    x = tf.random.normal((1, 4, 6, 2))
    ours = param.resize_linear_nd(x, (1, 12, 18, 2))
    ref = tf.image.resize(x, (12, 18), method="bilinear")
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-5)


def test_legacy_matches_lucid_tf1_resize():
    x = tf.random.normal((1, 4, 6, 2))
    ours = param.resize_linear_nd(x, (1, 12, 18, 2), align="legacy")
    ref = tf.compat.v1.image.resize_bilinear(x, (12, 18), align_corners=False,
                                             half_pixel_centers=False)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-5)


def test_corners_interpolates_linearly_between_ends():
    x = tf.constant([0.0, 10.0])
    np.testing.assert_allclose(param.resize_linear_nd(x, (6,), align="corners").numpy(),
                               [0, 2, 4, 6, 8, 10], atol=1e-6)


def test_lowres_tensor_shares_a_batch_of_one():
    t = param.lowres_tensor((3, 8, 8, 3), (1, 2, 2, 3))
    x = t().numpy()
    assert x.shape == (3, 8, 8, 3)
    np.testing.assert_array_equal(x[0], x[1])
    np.testing.assert_array_equal(x[0], x[2])
    assert t.trainable_variables[0].shape == (1, 2, 2, 3)


def test_lowres_tensor_offset_shifts_with_mirrored_edge():
    base = param.lowres_tensor((6,), (6,))
    base.underlying.assign(np.arange(6, dtype=np.float32))
    shifted = param.lowres_tensor((6,), (6,), offset=2)
    shifted.underlying.assign(np.arange(6, dtype=np.float32))
    np.testing.assert_array_equal(shifted().numpy(), [1, 0, 0, 1, 2, 3])
    half = param.lowres_tensor((8,), (2,), offset=True)
    assert half.offset == (2,)
    assert param.lowres_tensor((8, 8), (2, 4), offset=[True, False]).offset == (2, 0)


def test_lowres_gradients_flow():
    t = param.lowres_tensor((1, 8, 8, 3), (1, 2, 2, 3))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(t())
    grad = tape.gradient(loss, t.trainable_variables)[0]
    # Every output pixel's weights sum to one, so the gradient totals the pixel count.
    np.testing.assert_allclose(grad.numpy().sum(), 8 * 8 * 3, rtol=1e-5)


@pytest.mark.parametrize("call, error", [
    (lambda: param.lowres_tensor((1, 8, 8, 3), (1, 2, 2)), ValueError),
    (lambda: param.lowres_tensor((1, 8, 8, 3), (1, 0, 2, 3)), ValueError),
    (lambda: param.lowres_tensor((8,), (2,), offset=9), ValueError),
    (lambda: param.lowres_tensor((8,), (2,), offset=[1, 2]), ValueError),
    (lambda: param.lowres_tensor((8,), (2,), align="cubic"), ValueError),
    (lambda: param.laplacian_pyramid((1, 8, 8, 3), n_levels=5), ValueError),
    (lambda: param.laplacian_pyramid((1, 8, 8, 3), n_levels=0), ValueError),
])
def test_lowres_errors(call, error):
    with pytest.raises(error):
        call()


def test_laplacian_pyramid_levels():
    p = param.laplacian_pyramid((2, 16, 12, 3), n_levels=3)
    shapes = sorted(v.shape.as_list() for v in p.trainable_variables)
    assert shapes == [[2, 4, 3, 3], [2, 8, 6, 3], [2, 16, 12, 3]]
    assert p().shape == (2, 16, 12, 3)
    image = param.laplacian_pyramid_image(16, batch=2)
    x = image().numpy()
    assert x.shape == (2, 16, 16, 3) and np.all((x >= 0) & (x <= 1))
