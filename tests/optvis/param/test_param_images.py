"""image(), grayscale and alpha variants, colors, validation, seeding and tf.function use."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.optvis import param


def _values(p):
    return p().numpy()


@pytest.mark.parametrize("kwargs, shape", [
    (dict(w=16), (1, 16, 16, 3)),
    (dict(w=12, h=7, batch=3), (3, 7, 12, 3)),
    (dict(w=9, h=5, alpha=True), (1, 5, 9, 4)),
    (dict(w=9, channels=4), (1, 9, 9, 4)),
    (dict(w=8, channels=1), (1, 8, 8, 3)),
    (dict(w=8, fft=False), (1, 8, 8, 3)),
    (dict(w=8, fft=False, valid_rgb="clip"), (1, 8, 8, 3)),
])
def test_image_shapes_range_and_attributes(kwargs, shape):
    p = param.image(**kwargs)
    x = _values(p)
    assert isinstance(p, param.ImageParam)
    assert x.shape == shape and x.dtype == np.float32
    assert (p.batch, p.height, p.width, p.channels) == shape
    assert np.all((x >= 0) & (x <= 1))
    assert len(p.trainable_variables) == 1


def test_default_image_is_lucid_initial_noise():
    keras.utils.set_random_seed(3)
    x = _values(param.image(64, batch=2))
    # Lucid's start: near mid-gray, faint noise of a few thousandths.
    assert abs(x.mean() - 0.5) < 0.01
    assert 5e-4 < x.std() < 0.01


def test_fft_image_has_more_low_than_high_frequency_energy():
    keras.utils.set_random_seed(0)
    x = param.fft_image((1, 64, 64, 1))().numpy()[0, ..., 0]
    power = np.abs(np.fft.fft2(x)) ** 2
    freqs = np.sqrt(np.fft.fftfreq(64)[:, None] ** 2 + np.fft.fftfreq(64)[None] ** 2)
    low = power[(freqs > 0) & (freqs < 0.1)].mean()
    high = power[freqs > 0.4].mean()
    assert low > 10 * high


def test_same_seed_same_init_and_different_seed_differs():
    keras.utils.set_random_seed(7)
    a = _values(param.image(16, batch=2))
    keras.utils.set_random_seed(7)
    b = _values(param.image(16, batch=2))
    keras.utils.set_random_seed(8)
    c = _values(param.image(16, batch=2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_grayscale_has_identical_channels():
    for p in (param.image(10, channels=1), param.grayscale_image(10, fft=False)):
        x = _values(p)
        np.testing.assert_array_equal(x[..., 0], x[..., 1])
        np.testing.assert_array_equal(x[..., 0], x[..., 2])
        # One channel: the last axis of pixels, axis 1 of a spectrum (batch, channels, ...).
        assert p.trainable_variables[0].shape[-1] == 1 or p.trainable_variables[0].shape[1] == 1


def test_decorrelate_applies_the_normalized_color_matrix():
    raw = param.pixel_image((1, 2, 2, 3), init_val=np.full((1, 2, 2, 3), [0.3, -0.2, 0.1]))
    got = param.as_image(raw, decorrelate=True)().numpy()[0, 0, 0]
    colors = param.COLOR_CORRELATION_NORMALIZED @ np.array([0.3, -0.2, 0.1])
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-colors)), rtol=1e-6)
    plain = param.as_image(raw, decorrelate=False)().numpy()[0, 0, 0]
    np.testing.assert_allclose(plain, 1 / (1 + np.exp(-np.array([0.3, -0.2, 0.1]))), rtol=1e-6)
    # The largest column of the normalized matrix has unit norm.
    assert np.isclose(np.linalg.norm(param.COLOR_CORRELATION_NORMALIZED, axis=0).max(), 1.0)


def test_clip_mode_clips_and_is_centered():
    init = np.array([-2.0, 0.0, 0.25, 3.0], np.float32).reshape(1, 1, 4, 1) * np.ones(3)
    raw = param.pixel_image((1, 1, 4, 3), init_val=init)
    x = param.as_image(raw, decorrelate=False, valid_rgb="clip")().numpy()[0, 0, :, 0]
    np.testing.assert_allclose(x, [0.0, 0.5, 0.75, 1.0], atol=1e-7)


def test_constrain_l_inf_gradient_keeps_inward_steps_only():
    x = tf.constant([-2.0, 0.5, 2.0, 2.0])
    upstream = tf.constant([1.0, 1.0, 1.0, -1.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = param.constrain_l_inf(x)
    np.testing.assert_allclose(y.numpy(), [-1.0, 0.5, 1.0, 1.0])
    grad = tape.gradient(y, x, output_gradients=upstream).numpy()
    # Descent moves x by -grad: at -2 a grad of +1 pushes outward (zeroed), at 2
    # a grad of +1 pulls inward (kept), a grad of -1 pushes outward (zeroed).
    np.testing.assert_allclose(grad, [0.0, 1.0, 1.0, 0.0])


def test_alpha_channel_is_separate_from_colors():
    init = np.zeros((1, 1, 1, 4), np.float32)
    init[..., 3] = 2.0
    x = param.as_image(param.pixel_image((1, 1, 1, 4), init_val=init), alpha=True)().numpy()
    np.testing.assert_allclose(x[0, 0, 0], [0.5, 0.5, 0.5, 1 / (1 + np.exp(-2.0))], rtol=1e-6)


def test_gradients_reach_the_variables_and_change_the_image():
    p = param.image(16, batch=2)
    before = _values(p)
    opt = keras.optimizers.Adam(0.05)
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(p()[..., 0])
        grads = tape.gradient(loss, p.trainable_variables)
        assert all(g is not None for g in grads)
        opt.apply_gradients(zip(grads, p.trainable_variables))
    after = _values(p)
    assert after[..., 0].mean() > before[..., 0].mean() + 0.003


def test_call_inside_tf_function_traces_once():
    p = param.image(12, batch=2)

    @tf.function
    def render_step():
        return tf.reduce_mean(p())

    first = render_step()
    p.trainable_variables[0].assign_add(tf.ones_like(p.trainable_variables[0]))
    second = render_step()
    assert render_step.experimental_get_tracing_count() == 1
    assert first.numpy() != second.numpy()


def test_describe_mentions_shape_and_options():
    text = param.image(8, batch=2, alpha=True).describe()
    assert "(2, 8, 8, 4)" in text and "alpha" in text and "FFTImage" in text
    assert repr(param.image(8)) == param.image(8).describe()


@pytest.mark.parametrize("kwargs, error", [
    (dict(w=0), ValueError),
    (dict(w=-3), ValueError),
    (dict(w=8.0), TypeError),
    (dict(w=8, h=0), ValueError),
    (dict(w=8, batch=0), ValueError),
    (dict(w=8, sd=0), ValueError),
    (dict(w=8, sd=-1.0), ValueError),
    (dict(w=8, channels=2), ValueError),
    (dict(w=8, decay_power=-1), ValueError),
    (dict(w=8, fft=False, decay_power=2.0), ValueError),
    (dict(w=8, valid_rgb="tanh"), ValueError),
])
def test_image_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        param.image(**kwargs)


def test_as_image_checks_channels_and_type():
    with pytest.raises(ValueError, match="needs 3 raw channels"):
        param.as_image(param.pixel_image((1, 4, 4, 2)))
    with pytest.raises(TypeError, match="raw param"):
        param.as_image(tf.zeros((1, 4, 4, 3)))


def test_to_valid_rgb_on_tensors():
    t = tf.zeros((2, 3, 3, 3))
    np.testing.assert_allclose(param.to_valid_rgb(t, decorrelate=True).numpy(), 0.5)
    clipped = param.to_valid_rgb(t, decorrelate=True, sigmoid=False).numpy()
    np.testing.assert_allclose(clipped[0, 0, 0], param.COLOR_MEAN, rtol=1e-6)
    with pytest.raises(ValueError, match="3 channels"):
        param.to_valid_rgb(tf.zeros((1, 2, 2, 4)), decorrelate=True)
