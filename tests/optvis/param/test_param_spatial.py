"""pixel_image, fft_image and rfft2d_freqs: shapes, scaling facts, init and errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.optvis import param
from lucid2.optvis.param.spatial import FFT_OUTPUT_DIVISOR


def test_rfft2d_freqs_matches_numpy_layout():
    freqs = param.rfft2d_freqs(4, 5)
    assert freqs.shape == (4, 3)
    assert freqs[0, 0] == 0
    np.testing.assert_allclose(freqs[0], [0, 0.2, 0.4])
    np.testing.assert_allclose(freqs[:, 0], [0, 0.25, 0.5, 0.25])


@pytest.mark.parametrize("shape", [(1, 8, 8, 3), (2, 7, 5, 3), (1, 6, 9, 1)])
def test_fft_image_shapes_including_odd_sizes(shape):
    p = param.fft_image(shape)
    assert p().shape == shape
    # (batch, channels, height, width // 2 + 1, real and imaginary part)
    assert p.spectrum.shape == (shape[0], shape[3], shape[1], shape[2] // 2 + 1, 2)


def test_fft_image_scaling_of_single_coefficients():
    p = param.fft_image((1, 8, 8, 1), decay_power=1.0)
    spectrum = np.zeros(p.spectrum.shape, np.float32)
    spectrum[0, 0, 0, 0, 0] = 1.0  # the DC coefficient
    p.spectrum.assign(spectrum)
    # DC: scale sqrt(64) / (1/8) = 64, irfft divides by 64, then by the constant.
    np.testing.assert_allclose(p().numpy(), 1.0 / FFT_OUTPUT_DIVISOR, rtol=1e-6)

    spectrum[...] = 0
    spectrum[0, 0, 0, 2, 0] = 1.0  # fx = 2/8 cycles per pixel along the width
    p.spectrum.assign(spectrum)
    x = p().numpy()[0, :, :, 0]
    scale = np.sqrt(64) / 0.25
    expected = 2 * scale / 64 * np.cos(2 * np.pi * 0.25 * np.arange(8)) / FFT_OUTPUT_DIVISOR
    np.testing.assert_allclose(x, np.tile(expected, (8, 1)), atol=1e-6)


@pytest.mark.parametrize("shape", [(1, 16, 16, 3), (2, 9, 12, 3), (1, 10, 7, 1)])
def test_fft_image_values_and_gradient_are_tensorflows_own(shape):
    p = param.fft_image(shape, decay_power=1.3)
    _, h, w, _ = shape
    upstream = tf.random.stateless_normal(shape, [3, 4])
    scale = p._scale / FFT_OUTPUT_DIVISOR

    def autodiff_image(pairs):
        # The same map as TensorFlow differentiates it: a complex tensor, the inverse FFT.
        spectrum = tf.complex(pairs[..., 0] * scale, pairs[..., 1] * scale)
        return tf.transpose(tf.signal.irfft2d(spectrum, fft_length=[h, w]), (0, 2, 3, 1))

    with tf.GradientTape() as tape:
        ours = p()
        loss = tf.reduce_sum(ours * upstream)
    our_gradient = tape.gradient(loss, p.spectrum)
    pairs = tf.convert_to_tensor(p.spectrum)
    with tf.GradientTape() as tape:
        tape.watch(pairs)
        theirs = autodiff_image(pairs)
        loss = tf.reduce_sum(theirs * upstream)
    their_gradient = tape.gradient(loss, pairs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)
    np.testing.assert_allclose(our_gradient.numpy(), their_gradient.numpy(), rtol=1e-5,
                               atol=1e-5)


def test_decay_power_zero_is_flat_spectrum_scale():
    p = param.fft_image((1, 4, 4, 1), decay_power=0.0)
    np.testing.assert_allclose(p._scale, 4.0)


def test_pixel_image_init_val_and_default_sd():
    init = np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3)
    p = param.pixel_image((1, 2, 2, 3), init_val=init)
    np.testing.assert_array_equal(p().numpy(), init)
    init[...] = 0  # the param keeps its own copy
    assert p().numpy().max() == 11
    keras.utils.set_random_seed(1)
    noise = param.pixel_image((1, 64, 64, 3))().numpy()
    assert 0.008 < noise.std() < 0.012


@pytest.mark.parametrize("call, error", [
    (lambda: param.pixel_image((1, 2, 2)), ValueError),
    (lambda: param.pixel_image((1, 2, 2, 3), init_val=np.zeros((1, 2, 2, 1))), ValueError),
    (lambda: param.pixel_image((1, 2, 2, 3), sd=0.1, init_val=np.zeros((1, 2, 2, 3))), ValueError),
    (lambda: param.pixel_image((1, 2, 2, 3), init_val=np.full((1, 2, 2, 3), np.nan)), ValueError),
    (lambda: param.fft_image((1, 0, 2, 3)), ValueError),
    (lambda: param.fft_image((1, 4, 4, 3), sd=float("inf")), ValueError),
    (lambda: param.fft_image((1, 4, 4, 3), decay_power="1"), TypeError),
])
def test_spatial_errors(call, error):
    with pytest.raises(error):
        call()


def test_raw_params_add_and_sum():
    a = param.pixel_image((1, 2, 2, 3), init_val=np.ones((1, 2, 2, 3)))
    b = param.pixel_image((1, 2, 2, 3), init_val=2 * np.ones((1, 2, 2, 3)))
    c = param.pixel_image((1, 2, 2, 3), init_val=3 * np.ones((1, 2, 2, 3)))
    total = sum([a, b, c])
    assert isinstance(total, param.SumParam) and len(total.parts) == 3
    np.testing.assert_array_equal(total().numpy(), 6.0)
    assert len(total.trainable_variables) == 3
    with pytest.raises(ValueError, match="same shape"):
        _ = a + param.pixel_image((1, 3, 3, 3))
    with pytest.raises(TypeError):
        _ = a + tf.ones((1, 2, 2, 3))
