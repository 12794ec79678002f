"""The CPPN parameterization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.optvis import param


def test_cppn_initial_image_is_flat_and_batch_identical():
    keras.utils.set_random_seed(0)
    p = param.cppn(16, batch=2)
    x = p().numpy()
    assert x.shape == (2, 16, 16, 3) and p.channels == 3
    # Zero output weights: each channel is sigmoid(bias), constant over the image.
    np.testing.assert_allclose(x, np.broadcast_to(x[:1, :1, :1], x.shape), atol=1e-7)
    np.testing.assert_array_equal(x[0], x[1])
    # 8 hidden layers (w, b) + output (w, b).
    assert len(p.trainable_variables) == 18


def test_cppn_learns_structure():
    keras.utils.set_random_seed(1)
    p = param.cppn(12, num_layers=3, num_hidden_channels=8, activation="relu", normalize=True)
    opt = keras.optimizers.Adam(0.05)
    for _ in range(5):
        with tf.GradientTape() as tape:
            img = p()
            loss = -tf.reduce_mean(img[:, :6, :, 0]) + tf.reduce_mean(img[:, 6:, :, 0])
        grads = tape.gradient(loss, p.trainable_variables)
        opt.apply_gradients(zip(grads, p.trainable_variables))
    x = p().numpy()[0, ..., 0]
    assert x[:6].mean() > x[6:].mean() + 0.01


@pytest.mark.parametrize("channels, out", [(1, 3), (4, 4)])
def test_cppn_channels(channels, out):
    x = param.cppn(8, height=5, num_output_channels=channels)().numpy()
    assert x.shape == (1, 5, 8, out)
    if channels == 1:
        np.testing.assert_array_equal(x[..., 0], x[..., 2])


@pytest.mark.parametrize("kwargs", [
    dict(width=0), dict(width=8, num_output_channels=2), dict(width=8, activation="tanh"),
    dict(width=8, num_layers=-1), dict(width=8, num_hidden_channels=0)])
def test_cppn_errors(kwargs):
    with pytest.raises(ValueError):
        param.cppn(**kwargs)
