"""Preprocessing: a model's input convention as a value, applied inside every model's graph."""

import dataclasses
import math
import pickle

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.modelzoo import NAMED_CONVENTIONS, InceptionV1, Preprocessing, VisionModel, from_keras
from lucid2.modelzoo.preprocessing import PreprocessingLayer, resolve_preprocessing

SEED = 0
TOLERANCE = 1e-5
# Keras's own preprocess_input takes 0..255 pixels.
PIXEL_MAX = 255.0
# The conventions written out: [0, 1] RGB images -> what the network receives.
WRITTEN_OUT = {
    "unit": lambda x: x,
    "tf": lambda x: x * 2.0 - 1.0,
    "caffe": lambda x: x[..., ::-1] * 255.0 - np.array([103.939, 116.779, 123.68]),
    "torch": lambda x: (x - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225]),
    "raw": lambda x: x * 255.0,
}


def unit_images(shape, seed=SEED):
    """Random [0, 1] RGB images."""
    return np.random.default_rng(seed).random(shape).astype(np.float32)


@pytest.fixture(scope="module")
def pixel_net():
    """A functional network whose layer "pixels" shows what the network receives."""
    keras.utils.set_random_seed(SEED)
    inputs = keras.Input((None, None, 3), name="pixels_in")
    x = keras.layers.Identity(name="pixels")(inputs)
    x = keras.layers.Conv2D(2, 3, padding="same", name="conv")(x)
    outputs = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, outputs, name="pixel_net")


# ---------------------------------------------------------------- the math
def test_named_conventions_are_the_five_documented():
    assert NAMED_CONVENTIONS == ("unit", "tf", "caffe", "torch", "raw")
    assert set(WRITTEN_OUT) == set(NAMED_CONVENTIONS)


@pytest.mark.parametrize("name", NAMED_CONVENTIONS)
def test_each_named_convention_equals_its_numbers_written_out(name):
    images = unit_images((2, 3, 4, 3))
    convention = Preprocessing.named(name)
    received = convention.apply(tf.constant(images))
    assert received.dtype == tf.float32
    np.testing.assert_allclose(received, WRITTEN_OUT[name](images), rtol=TOLERANCE, atol=1e-4)


@pytest.mark.parametrize("name", ["tf", "caffe", "torch"])
def test_named_conventions_match_keras_preprocess_input(name):
    images = unit_images((1, 5, 5, 3), seed=1)
    expected = keras.applications.imagenet_utils.preprocess_input(images * PIXEL_MAX, mode=name)
    np.testing.assert_allclose(Preprocessing.named(name).apply(images), expected, rtol=TOLERANCE,
                               atol=1e-4)


def test_order_is_reorder_then_scale_then_mean_then_std():
    convention = Preprocessing(value_range=(-2.0, 6.0), mean=(1.0, 2.0, 3.0), std=(2.0, 4.0, 8.0),
                               channel_order="BGR")
    pixel = np.array([[[[0.0, 0.5, 1.0]]]], np.float32)  # R=0, G=0.5, B=1
    # BGR: (1, 0.5, 0) -> scaled by 8, offset -2: (6, 2, -2) -> minus mean: (5, 0, -5)
    # -> divided by std: (2.5, 0, -0.625).
    np.testing.assert_allclose(convention.apply(pixel)[0, 0, 0], [2.5, 0.0, -0.625], rtol=1e-6)


def test_one_value_mean_and_std_apply_to_every_channel():
    convention = Preprocessing(value_range=(0, 255), mean=[127.5], std=[127.5])
    images = unit_images((1, 2, 2, 3))
    np.testing.assert_allclose(convention.apply(images), images * 2.0 - 1.0, atol=1e-5)


def test_gradients_flow_through_apply_with_the_convention_scale():
    convention = Preprocessing.named("torch")
    images = tf.Variable(unit_images((1, 4, 4, 3)))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(convention.apply(images))
    gradient = tape.gradient(total, images).numpy()
    expected = np.broadcast_to(1.0 / np.array([0.229, 0.224, 0.225]), gradient.shape)
    np.testing.assert_allclose(gradient, expected, rtol=1e-5)


def test_apply_works_on_symbolic_keras_tensors():
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Lambda(Preprocessing.named("caffe").apply)(inputs)
    images = unit_images((1, 3, 3, 3))
    np.testing.assert_allclose(keras.Model(inputs, outputs)(images), WRITTEN_OUT["caffe"](images),
                               atol=1e-4)


# --------------------------------------------------------------- the value
def test_a_convention_is_a_frozen_normalized_picklable_value():
    convention = Preprocessing(value_range=[0, 255], mean=[103.939, 116.779, 123.68],
                               channel_order="bgr")
    assert convention == Preprocessing.named("CAFFE") == Preprocessing.named(" caffe ")
    assert convention.value_range == (0.0, 255.0) and convention.channel_order == "BGR"
    assert isinstance(convention.mean, tuple) and convention.std is None
    assert hash(convention) == hash(Preprocessing.named("caffe"))
    assert pickle.loads(pickle.dumps(convention)) == convention
    with pytest.raises(dataclasses.FrozenInstanceError):
        convention.mean = None  # type: ignore[misc]
    assert Preprocessing() == Preprocessing.named("unit") and Preprocessing().is_identity
    assert not Preprocessing.named("tf").is_identity


def test_describe_names_the_convention_and_its_numbers():
    assert Preprocessing.named("caffe").describe() == (
        "caffe: BGR, [0, 1] -> [0, 255], minus mean (103.939, 116.779, 123.68)")
    assert Preprocessing.named("torch").describe() == (
        "torch: RGB, [0, 1] -> [0, 1], minus mean (0.485, 0.456, 0.406), divided by std "
        "(0.229, 0.224, 0.225)")
    assert Preprocessing(value_range=(-117, 138)).describe() == "RGB, [0, 1] -> [-117, 138]"
    assert Preprocessing.named("tf").name == "tf" and Preprocessing((2, 3)).name is None


@pytest.mark.parametrize("fields, says", [
    ({"std": (1.0, 0.0, 1.0)}, "std must be positive"),
    ({"std": (0.0,)}, "std must be positive"),
    ({"std": (-0.2, 0.2, 0.2)}, "std must be positive"),
    ({"mean": (1.0, 2.0)}, "mean must have 1 or 3 values"),
    ({"std": (1.0, 1.0, 1.0, 1.0)}, "std must have 1 or 3 values"),
    ({"mean": ()}, "mean must have 1 or 3 values"),
    ({"mean": (math.nan, 0.0, 0.0)}, "mean must hold finite numbers"),
    ({"std": (math.inf,)}, "std must hold finite numbers"),
    ({"mean": "0.5"}, "mean must be 1 or 3 numbers"),
    ({"mean": ("a", 1, 2)}, "mean must be 1 or 3 numbers"),
    ({"value_range": (1.0, 0.0)}, "value_range must be two finite numbers with low < high"),
    ({"value_range": (0.0, math.inf)}, "value_range must be two finite numbers"),
    ({"value_range": (0.0, 1.0, 2.0)}, "value_range must be a pair"),
    ({"value_range": "0,1"}, "value_range must be a pair"),
    ({"channel_order": "BRG"}, r"channel_order must be one of \('RGB', 'BGR'\)"),
])
def test_bad_conventions_are_refused_when_made(fields, says):
    with pytest.raises(ValueError, match=says):
        Preprocessing(**fields)


def test_unknown_names_list_the_named_conventions():
    with pytest.raises(ValueError, match="Unknown preprocessing convention 'pytorch'.*unit, tf, "
                       "caffe, torch, raw"):
        Preprocessing.named("pytorch")
    with pytest.raises(TypeError, match="must be a string"):
        Preprocessing.named(None)  # type: ignore[arg-type]


def test_resolve_takes_a_convention_or_its_shorthands_never_both():
    assert resolve_preprocessing("tf") == Preprocessing.named("tf")
    assert resolve_preprocessing(value_range=(0, 255), channel_order="bgr") == Preprocessing(
        (0.0, 255.0), channel_order="BGR")
    assert resolve_preprocessing() == Preprocessing()
    with pytest.raises(ValueError, match="value_range is required"):
        resolve_preprocessing(required=True, what="here")
    with pytest.raises(ValueError, match="either preprocessing= or value_range=.*channel_order"):
        resolve_preprocessing("tf", channel_order="RGB")
    with pytest.raises(TypeError, match="must be a lucid2.modelzoo.Preprocessing"):
        resolve_preprocessing(3)  # type: ignore[arg-type]


def test_the_layer_round_trips_through_its_config():
    layer = PreprocessingLayer(Preprocessing.named("torch"), name="pre")
    copy = PreprocessingLayer.from_config(layer.get_config())
    assert copy.preprocessing == layer.preprocessing and copy.name == "pre"


# ------------------------------------------------- in every model's graph
@pytest.mark.parametrize("name", NAMED_CONVENTIONS)
def test_preprocess_is_what_the_first_layer_receives(pixel_net, name):
    model = from_keras(pixel_net, preprocessing=name)
    images = unit_images((2, 6, 5, 3))
    received = np.asarray(model.submodel("pixels")(images))
    np.testing.assert_allclose(model.preprocess(images), received, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(received, WRITTEN_OUT[name](images), rtol=TOLERANCE, atol=1e-4)
    # The whole model too: its prediction is the network on the preprocessed images.
    np.testing.assert_allclose(model.predict(images), pixel_net(model.preprocess(images)),
                               atol=TOLERANCE)


def test_gradients_reach_the_images_through_preprocess_and_submodels(pixel_net):
    model = from_keras(pixel_net, preprocessing="caffe")
    images = tf.Variable(unit_images((1, 4, 4, 3)))
    with tf.GradientTape(persistent=True) as tape:
        direct = tf.reduce_sum(model.preprocess(images)[..., 0])  # the network's B channel
        through_graph = tf.reduce_sum(model.submodel("pixels")(images)[..., 0])
    for total in (direct, through_graph):
        gradient = tape.gradient(total, images).numpy()
        # B is the last RGB channel, scaled by 255.
        np.testing.assert_allclose(gradient[..., 2], 255.0, rtol=1e-6)
        np.testing.assert_allclose(gradient[..., :2], 0.0)


def test_preprocess_checks_the_image_shape(pixel_net):
    model = from_keras(pixel_net, preprocessing="tf")
    with pytest.raises(ValueError, match="rank 4"):
        model.preprocess(unit_images((4, 4, 3)))
    with pytest.raises(ValueError, match="3 channels"):
        model.preprocess(unit_images((1, 4, 4, 1)))


def test_vision_model_takes_a_convention_or_its_shorthands(pixel_net):
    by_name = VisionModel(pixel_net, preprocessing="caffe")
    assert by_name.preprocessing == Preprocessing.named("caffe")
    assert (by_name.value_range, by_name.channel_order) == ((0.0, 255.0), "BGR")
    shorthand = VisionModel(pixel_net, value_range=(-1, 1))
    assert shorthand.preprocessing == Preprocessing.named("tf")
    assert VisionModel(pixel_net).preprocessing.is_identity
    assert "caffe: BGR" in repr(by_name)
    for conflicting in ({"value_range": (0, 255)}, {"channel_order": "BGR"}):
        with pytest.raises(ValueError, match="either preprocessing= or value_range="):
            VisionModel(pixel_net, preprocessing="caffe", **conflicting)
        with pytest.raises(ValueError, match="either preprocessing= or value_range="):
            from_keras(pixel_net, preprocessing=Preprocessing.named("caffe"), **conflicting)


def test_a_unit_range_model_is_not_preprocessed_twice(pixel_net):
    # A network that maps [0, 1] itself: preprocessing is its metadata, not an extra layer.
    model = VisionModel(pixel_net, preprocessing="raw", takes_unit_range=True)
    images = unit_images((1, 3, 3, 3))
    np.testing.assert_allclose(model.submodel("pixels")(images), images)
    np.testing.assert_allclose(model.preprocess(images), images * 255.0, rtol=1e-6)


@pytest.fixture(scope="module")
def random_inception():
    keras.utils.set_random_seed(SEED)
    return InceptionV1(weights=None)


def test_inceptionv1_convention_is_its_networks_own_scaling(random_inception):
    assert random_inception.preprocessing == Preprocessing(value_range=(-117.0, 138.0))
    images = unit_images((1, 8, 8, 3))
    # "to_value_range" is the layer InceptionV1's graph maps [0, 1] with itself.
    own_scaling = random_inception.submodel("to_value_range")(images)
    np.testing.assert_allclose(random_inception.preprocess(images), own_scaling, rtol=1e-6,
                               atol=1e-4)
    np.testing.assert_allclose(own_scaling, images * 255.0 - 117.0, rtol=1e-6, atol=1e-4)


def test_a_submodel_with_its_preprocessing_saves_and_loads(pixel_net, tmp_path):
    model = from_keras(pixel_net, preprocessing="torch")
    submodel = model.submodel("pixels")
    submodel.save(tmp_path / "sub.keras")
    loaded = keras.saving.load_model(tmp_path / "sub.keras")
    images = unit_images((1, 4, 4, 3))
    np.testing.assert_allclose(loaded(images), submodel(images), atol=1e-6)
