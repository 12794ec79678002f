"""TF-Hub generators: local modules made here load and render; remote handles fail offline
with advice."""

import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.modelzoo import from_keras, load_hub
from lucid2.modelzoo.generators import HubGenerator, load_hub_generator
from lucid2.modelzoo.hub import HubDownloadError, hub_cache_dir
from lucid2.optvis import objectives, param, render

LATENT = 6
SIZE = 8
SEED = 3
TOLERANCE = 1e-6
OFFLINE_HANDLE = "https://tfhub.dev/google/progan-128/1"
# A refused local connection stands for "no network": it fails at once.
UNREACHABLE_PROXY = "http://127.0.0.1:9"
OFFLINE_SECONDS = 30


class CallGenerator(tf.Module):
    """A TF2 hub-style generator: __call__(latent, training) -> (N, 8, 8, 3) in [0, 1]."""

    def __init__(self):
        super().__init__()
        self.kernel = tf.Variable(
            tf.random.stateless_normal([LATENT, SIZE * SIZE * 3], seed=[SEED, 1]))

    @tf.function(input_signature=[tf.TensorSpec([None, LATENT], tf.float32),
                                  tf.TensorSpec([], tf.bool)])
    def __call__(self, z, training=False):
        images = tf.sigmoid(tf.reshape(z @ self.kernel, [-1, SIZE, SIZE, 3]))
        return tf.cond(training, lambda: tf.zeros_like(images), lambda: images)


class SignatureGenerator(tf.Module):
    """A TF1-Hub-style generator: a "default" signature taking z and a fixed scale."""

    def __init__(self):
        super().__init__()
        self.kernel = tf.Variable(
            tf.random.stateless_normal([LATENT, SIZE * SIZE * 3], seed=[SEED, 2]))

    @tf.function(input_signature=[tf.TensorSpec([None, LATENT], tf.float32),
                                  tf.TensorSpec([], tf.float32)])
    def generate(self, z, scale):
        images = tf.tanh(scale * tf.reshape(z @ self.kernel, [-1, SIZE, SIZE, 3]))
        return {"default": images, "scale": tf.identity(scale)}


@pytest.fixture(scope="module")
def call_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("hub") / "call_generator"
    module = CallGenerator()
    # Hub modules are used through __call__: no signatures.
    tf.saved_model.save(module, str(path), signatures={})
    return path, module


@pytest.fixture(scope="module")
def signature_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("hub") / "signature_generator"
    module = SignatureGenerator()
    tf.saved_model.save(module, str(path), signatures={"default": module.generate})
    return path, module


def latents(batch=2):
    return tf.random.stateless_normal([batch, LATENT], seed=[SEED, 0])


def test_a_call_generator_loads_from_a_local_directory(call_dir):
    path, module = call_dir
    generator = load_hub_generator(path)
    assert isinstance(generator, HubGenerator)
    assert generator.latent_shape == (LATENT,) and generator.endpoint == "__call__"
    z = latents()
    # Called with training=False: the training branch would give zeros.
    np.testing.assert_allclose(generator(z), module(z, training=False), atol=TOLERANCE)
    assert "call_generator" in repr(generator)


def test_a_signature_generator_takes_fixed_extra_inputs(signature_dir):
    path, module = signature_dir
    generator = load_hub_generator(path, extra_inputs={"scale": 0.5})
    assert generator.endpoint == "default" and generator.latent_input == "z"
    assert generator.output_key == "default" and generator.latent_shape == (LATENT,)
    z = latents(3)
    np.testing.assert_allclose(generator(z), module.generate(z, tf.constant(0.5))["default"],
                               atol=TOLERANCE)


@pytest.mark.parametrize("kwargs, message", [
    ({}, r"takes the inputs scale, z; name the latent with latent_input="),
    ({"latent_input": "z"}, r"also needs the inputs scale.*extra_inputs"),
    ({"extra_inputs": {"scale": 1.0, "y": 1}}, r"extra_inputs \['y'\] are not inputs"),
    ({"extra_inputs": {"scale": 1.0}, "output_key": "pixels"},
     "output_key 'pixels' is not an output.*default, scale"),
    ({"latent_input": "w", "extra_inputs": {"scale": 1.0}}, "latent_input 'w' is not an input"),
    ({"signature": "serving_default"}, "no signature 'serving_default'; available"),
])
def test_signature_mistakes_are_explained(signature_dir, kwargs, message):
    path, _ = signature_dir
    with pytest.raises(ValueError, match=message):
        load_hub_generator(path, **kwargs)


def test_a_hub_generator_renders_with_only_its_latent_trained(call_dir, monkeypatch):
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)
    path, _ = call_dir
    generator = load_hub_generator(path)
    keras.utils.set_random_seed(SEED)
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="conv")(inputs)
    model = from_keras(keras.Model(inputs, conv), value_range=(0, 1))
    p = param.generator(generator, generator.latent_shape, batch=2, value_range=(0, 1))
    assert [id(v) for v in p.trainable_variables] == [id(p.latent)]
    kernel = generator.module.kernel.numpy().copy()
    objective = objectives.channel("conv", 0)
    start = objective.evaluate(model, p())
    images, = render.render_vis(model, objective, param_f=p, thresholds=(10,), transforms=[],
                                seed=SEED)
    assert images.shape == (2, SIZE, SIZE, 3)
    assert objective.evaluate(model, images) > start
    np.testing.assert_array_equal(generator.module.kernel.numpy(), kernel)


def test_a_missing_local_directory_is_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="No TF-Hub module at"):
        load_hub_generator(tmp_path / "missing")


@pytest.mark.parametrize("load", [
    load_hub_generator, lambda handle: load_hub(handle, value_range=(0, 1))],
    ids=["generator", "vision_model"])
def test_an_unreachable_handle_says_what_to_download(tmp_path, monkeypatch, load):
    cache = tmp_path / "hub_cache"
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    for variable in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(variable, UNREACHABLE_PROXY)
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    assert hub_cache_dir() == str(cache)
    started = time.monotonic()
    with pytest.raises(HubDownloadError) as error:
        load(OFFLINE_HANDLE)
    assert time.monotonic() - started < OFFLINE_SECONDS
    message = str(error.value)
    assert repr(OFFLINE_HANDLE) in message
    assert f"{OFFLINE_HANDLE}?tf-hub-format=compressed" in message
    assert "pass that directory" in message and str(cache) in message
    assert "TFHUB_CACHE_DIR" in message
    assert isinstance(error.value, ConnectionError)
