"""Learned priors: param.generator optimizes only the latent of an image generator."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.modelzoo import from_keras
from lucid2.optvis import objectives, param, render
from lucid2.optvis.objectives.prior import latent_prior

LATENT = 8
SIZE = 16
SEED = 0
STEPS = 60
MIN_GAIN = 2.0
# The channel of the tiny model that the tiny generator's first latent draws weakly.
CHANNEL = 0
LEARNING_RATE = 0.1
PIXEL_TOLERANCE = 1e-6


def make_generator(channels=3, activation="tanh"):
    """A small decoder: 8 latent values -> 4x4x8 features -> (16, 16, channels) images."""
    keras.utils.set_random_seed(1)
    z = keras.Input((LATENT,))
    x = keras.layers.Dense(4 * 4 * 8)(z)
    x = keras.layers.Reshape((4, 4, 8))(x)
    x = keras.layers.UpSampling2D(SIZE // 4)(x)
    x = keras.layers.Conv2D(channels, 3, padding="same", activation=activation)(x)
    return keras.Model(z, x, name="tiny_generator")


def make_model():
    keras.utils.set_random_seed(SEED)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return from_keras(keras.Model(inputs, keras.layers.Dense(3, name="logits")(x)),
                      value_range=(0, 1), name="tiny")


@pytest.fixture(scope="module")
def generator():
    return make_generator()


@pytest.fixture(scope="module")
def model():
    return make_model()


def weights_of(keras_model):
    return [w.numpy().copy() for w in keras_model.weights]


# ------------------------------------------------------------------- basics
def test_images_are_the_generator_output_mapped_to_unit_range(generator):
    keras.utils.set_random_seed(SEED)
    p = param.generator(generator, LATENT, batch=3)
    assert isinstance(p, param.GeneratorImage)
    assert p.shape == (3, SIZE, SIZE, 3) and p.latent.shape == (3, LATENT)
    raw = generator(p.latent.numpy(), training=False).numpy()
    images = p().numpy()
    np.testing.assert_allclose(images, (raw + 1) / 2, atol=PIXEL_TOLERANCE)
    assert images.min() >= 0 and images.max() <= 1
    # Seeded like every other param: the same seed draws the same latent.
    keras.utils.set_random_seed(SEED)
    np.testing.assert_array_equal(param.generator(generator, (LATENT,), batch=3).latent.numpy(),
                                  p.latent.numpy())
    assert "latent_shape=(8,)" in p.describe() and "value_range=(-1, 1)" in p.describe()


def test_value_range_is_mapped_and_clipped():
    # A linear "generator": the latent value itself, everywhere, as 3 channels.
    def flat(z):
        return tf.tile(z[:, None, None, :1], [1, 4, 4, 3])

    p = param.generator(flat, 2, batch=4, value_range=(0, 255))
    p.latent.assign([[-10.0, 0], [0.0, 0], [51.0, 0], [300.0, 0]])
    np.testing.assert_allclose(p().numpy()[:, 0, 0, 0], [0, 0, 0.2, 1], atol=PIXEL_TOLERANCE)


def test_gray_generators_are_shown_as_rgb():
    keras.utils.set_random_seed(SEED)
    p = param.generator(make_generator(channels=1, activation="sigmoid"), LATENT,
                        value_range=(0, 1))
    images = p().numpy()
    assert images.shape == (1, SIZE, SIZE, 3) and p.generator_channels == 1
    np.testing.assert_array_equal(images[..., 0], images[..., 2])
    assert "gray" in p.describe()


def test_only_the_latent_is_a_variable_of_the_param(generator):
    p = param.generator(generator, LATENT, batch=2)
    assert generator.trainable_weights  # the generator has weights of its own ...
    # ... which the param does not expose to an optimizer.
    assert [id(v) for v in p.trainable_variables] == [id(p.latent)]
    assert [id(v) for v in p.variables] == [id(p.latent)]
    assert p.generator is generator
    # A tf.Module generator (restored hub modules are) stays out of the walk too.
    wrapped = param.generator(module_generator(), LATENT)
    assert wrapped.generator.trainable_variables
    assert [id(v) for v in wrapped.trainable_variables] == [id(wrapped.latent)]
    assert not wrapped.submodules


def module_generator():
    """A tf.Module generator with a variable of its own."""

    class Generator(tf.Module):
        def __init__(self):
            super().__init__(name="module_generator")
            self.kernel = tf.Variable(tf.random.normal((LATENT, 3)))

        def __call__(self, z):
            return tf.tanh(tf.tile((z @ self.kernel)[:, None, None, :], [1, 4, 4, 1]))

    return Generator()


def test_param_works_inside_tf_function(generator):
    p = param.generator(generator, LATENT)
    np.testing.assert_allclose(tf.function(p)().numpy(), p().numpy(), atol=PIXEL_TOLERANCE)


# ------------------------------------------------------------------ render
def test_render_raises_a_channel_and_updates_only_the_latent(generator, model, monkeypatch):
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)
    objective = objectives.channel("conv", CHANNEL)
    keras.utils.set_random_seed(SEED)
    p = param.generator(generator, LATENT)
    start_latent = p.latent.numpy().copy()
    start_value = objective.evaluate(model, p())
    before = weights_of(generator)
    images, = render.render_vis(model, objective, param_f=p, thresholds=(STEPS,),
                                transforms=[], seed=SEED,
                                optimizer=lambda: keras.optimizers.Adam(LEARNING_RATE))
    assert start_value > 0
    assert objective.evaluate(model, images) >= MIN_GAIN * start_value
    # The gradients reached the latent, and nothing of the generator moved.
    assert not np.allclose(p.latent.numpy(), start_latent)
    for old, new in zip(before, generator.weights):
        np.testing.assert_array_equal(old, new.numpy())
    np.testing.assert_allclose(images, p().numpy(), atol=PIXEL_TOLERANCE)


def test_render_accepts_a_param_function_seeded_by_render(generator, model, monkeypatch):
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)

    def run():
        return render.render_vis(model, objectives.channel("conv", CHANNEL),
                                 param_f=lambda: param.generator(generator, LATENT, batch=2),
                                 thresholds=(3,), seed=SEED)[-1]

    first, second = run(), run()
    assert first.shape == (2, SIZE, SIZE, 3)
    np.testing.assert_array_equal(first, second)


def test_latent_prior_pulls_the_latent_towards_the_prior(generator, model, monkeypatch):
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)
    keras.utils.set_random_seed(SEED)
    p = param.generator(generator, LATENT, latent_sd=2.0)
    penalty = latent_prior(p)
    expected = np.mean(p.latent.numpy() ** 2) / 4.0
    assert penalty.evaluate(model, p()) == pytest.approx(expected, rel=1e-5)
    assert "LatentPrior" in repr(penalty)

    def squared_latent(weight):
        keras.utils.set_random_seed(SEED)
        q = param.generator(generator, LATENT)
        objective = objectives.channel("conv", CHANNEL) - weight * latent_prior(q)
        render.render_vis(model, objective, param_f=q, thresholds=(STEPS,), transforms=[],
                          seed=SEED, optimizer=lambda: keras.optimizers.Adam(LEARNING_RATE))
        return float(np.mean(q.latent.numpy() ** 2))

    free, held = squared_latent(0.0), squared_latent(1.0)
    assert held < free
    # The penalty alone is an objective with a gradient: it shrinks the latent.
    keras.utils.set_random_seed(SEED)
    q = param.generator(generator, LATENT)
    start = float(np.mean(q.latent.numpy() ** 2))
    render.render_vis(model, -latent_prior(q), param_f=q, thresholds=(5,), transforms=[])
    assert float(np.mean(q.latent.numpy() ** 2)) < start


def test_latent_prior_needs_a_generator_param():
    with pytest.raises(TypeError, match=r"param.generator"):
        latent_prior(param.image(8))


# ------------------------------------------------------------------ errors
def calls_counter(fn):
    calls = []

    def wrapped(z):
        calls.append(z.shape)
        return fn(z)

    return wrapped, calls


@pytest.mark.parametrize("output, error, message", [
    (lambda z: tf.zeros((z.shape[0], 10)) + z[:, :1], ValueError, r"returned shape \(1, 10\)"),
    (lambda z: tf.zeros((z.shape[0], 4, 4, 2)) + z[:, :1, None, None], ValueError,
     r"returned shape \(1, 4, 4, 2\).*\(batch, height, width, 3\)"),
    (lambda z: tf.zeros((3, 4, 4, 3)) + z[:1, :1, None, None], ValueError,
     r"one image per latent \(1 here\)"),
    (lambda z: tf.cast(tf.zeros((z.shape[0], 4, 4, 3)), tf.uint8), TypeError, "uint8"),
    (lambda z: {"images": tf.zeros((z.shape[0], 4, 4, 3))}, TypeError, "returned dict"),
    (lambda z: z.numpy(), TypeError, "returned ndarray"),
    (lambda z: tf.zeros((z.shape[0], 4, 4, 3)), ValueError, "does not depend on its input"),
    (lambda z: tf.fill((z.shape[0], 4, 4, 3), np.nan) + z[:, :1, None, None], ValueError,
     "NaN"),
    (lambda z: 200.0 + tf.zeros((z.shape[0], 4, 4, 3)) + z[:, :1, None, None], ValueError,
     r"all outside value_range \(-1.0, 1.0\).*\(0, 1\) for sigmoid"),
])
def test_a_generator_that_does_not_give_images_is_refused_at_once(output, error, message):
    fn, calls = calls_counter(output)
    with pytest.raises(error, match=message):
        param.generator(fn, 4)
    assert calls == [(1, 4)]  # one call, on the initial latent


def test_a_wrong_latent_shape_says_so(generator):
    with pytest.raises(ValueError, match=r"latents of shape \(1, 5\) failed.*latent_shape"):
        param.generator(generator, 5)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"generator": "dcgan"}, TypeError, "generator must be"),
    ({"latent_shape": 0}, ValueError, "latent_shape"),
    ({"latent_shape": (4, -1)}, ValueError, r"latent_shape\[1\]"),
    ({"latent_shape": "8"}, TypeError, "latent_shape"),
    ({"batch": 0}, ValueError, "batch"),
    ({"value_range": (1, 1)}, ValueError, "low < high"),
    ({"value_range": (0, np.inf)}, ValueError, "finite"),
    ({"value_range": 1}, TypeError, "value_range"),
    ({"value_range": "0,1"}, TypeError, "value_range"),
    ({"latent_sd": 0}, ValueError, "latent_sd"),
])
def test_bad_arguments_are_refused_before_calling_the_generator(kwargs, error, message):
    fn, calls = calls_counter(lambda z: tf.zeros((z.shape[0], 4, 4, 3)) + z[:, :1, None, None])
    arguments = {"generator": fn, "latent_shape": 4, **kwargs}
    with pytest.raises(error, match=message):
        param.generator(**arguments)
    assert not calls
