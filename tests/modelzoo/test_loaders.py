"""Bring-your-own-model loaders: Keras models and files, SavedModels, TF-Hub modules, load()."""

import math
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.modelzoo import loaders
from lucid2.modelzoo.base import VisionModel
from lucid2.modelzoo.loaders import from_keras, load, load_hub, load_saved_model
from lucid2.modelzoo.preprocessing import Preprocessing
from lucid2.optvis import objectives

SEED = 0
TOLERANCE = 1e-5


def unit_images(shape, seed=SEED):
    """Random [0, 1] RGB images."""
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def to_range(images, value_range, channel_order="RGB"):
    """What a network expecting ``value_range`` / ``channel_order`` should receive."""
    low, high = value_range
    mapped = images * (high - low) + low
    return mapped[..., ::-1] if channel_order == "BGR" else mapped


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def tiny_cnn():
    """A functional CNN of any input size whose first layer passes pixels through."""
    keras.utils.set_random_seed(SEED)
    inputs = keras.Input((None, None, 3), name="pixels_in")
    x = keras.layers.Identity(name="pixels")(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(x)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dense(5, name="logits")(x)
    outputs = keras.layers.Softmax(name="probs")(x)
    return keras.Model(inputs, outputs, name="tiny")


@pytest.fixture(scope="module")
def sequential():
    keras.utils.set_random_seed(SEED)
    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="c"),
                             keras.layers.Flatten(name="f"), keras.layers.Dense(3, name="d")],
                            name="seq")


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="subclassed")
        self.conv = keras.layers.Conv2D(4, 3, name="conv")
        self.pool = keras.layers.GlobalAveragePooling2D(name="gap")
        self.dense = keras.layers.Dense(3, name="dense")

    def call(self, x):
        return self.dense(self.pool(self.conv(x)))


class DictModule(tf.Module):
    """A SavedModel-style module: pixels, a conv feature map and logits, by name."""

    def __init__(self):
        super().__init__()
        self.kernel = tf.Variable(tf.random.stateless_normal([3, 3, 3, 4], seed=[SEED, 1]))

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def __call__(self, x):
        features = tf.nn.relu(tf.nn.conv2d(x, self.kernel, 1, "SAME"))
        return {"pixels": tf.identity(x), "features": features,
                "logits": tf.reduce_mean(features, axis=[1, 2])}


class HubModule(tf.Module):
    """A hub-style module: fixed 8x8 input, a tensor output, an optional training flag."""

    SIZE = 8

    def __init__(self):
        super().__init__()
        self.weights = tf.Variable(tf.random.stateless_normal([3, 2], seed=[SEED, 2]))

    @tf.function
    def __call__(self, x, training=False):
        pooled = tf.reduce_mean(x, axis=[1, 2]) @ self.weights
        return pooled * 10.0 if training else pooled


class TwoOutputModule(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def __call__(self, x):
        return {"a": tf.reduce_mean(x, axis=[1, 2]), "b": tf.reduce_max(x, axis=[1, 2])}


class Uint8Module(tf.Module):
    """Takes uint8 images, as some hub classifiers do, and also returns a string."""

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
    def __call__(self, x):
        return {"mean": tf.reduce_mean(tf.cast(x, tf.float32), axis=[1, 2]),
                "name": tf.constant("uint8 module")}


@pytest.fixture(scope="module")
def saved_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "dict_module"
    module = DictModule()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.__call__})
    return path, module


@pytest.fixture(scope="module")
def hub_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("hub") / "hub_module"
    module = HubModule()
    spec = tf.TensorSpec([None, HubModule.SIZE, HubModule.SIZE, 3], tf.float32)
    for training in (False, True):
        module.__call__.get_concrete_function(spec, training)
    # Hub modules are used through __call__: save no signatures at all.
    tf.saved_model.save(module, str(path), signatures={})
    return path, module


# ------------------------------------------------------------- Keras models
def test_from_keras_gives_layer_access(tiny_cnn):
    model = from_keras(tiny_cnn, value_range=(-1, 1), logits_layer="logits")
    assert isinstance(model, VisionModel)
    assert model.layer_names() == ["pixels_in", "pixels", "conv", "relu", "pool", "gap", "logits",
                                   "probs"]
    assert model.get_layer("conv") is tiny_cnn.get_layer("conv")
    info = model.layer_info("conv")
    assert (info.name, info.channels, info.kind) == ("conv", 4, "conv")
    assert model.layer_info("logits").channels == 5
    assert [layer.name for layer in model.layers()] == model.layer_names()
    assert model.logits_layer == "logits"
    assert model.name == "tiny"
    assert from_keras(tiny_cnn, value_range=(-1, 1), name="mine").name == "mine"


@pytest.mark.parametrize("value_range, channel_order", [
    ((0, 1), "RGB"), ((-1, 1), "RGB"), ((0, 255), "BGR"), ((-117, 138), "bgr")])
def test_unit_rgb_input_reaches_the_network_in_its_range_and_order(tiny_cnn, value_range,
                                                                   channel_order):
    model = from_keras(tiny_cnn, value_range=value_range, channel_order=channel_order)
    images = unit_images((2, 5, 6, 3))
    received = np.asarray(model.submodel("pixels")(images))
    expected = to_range(images, value_range, channel_order.upper())
    np.testing.assert_allclose(received, expected, rtol=TOLERANCE, atol=1e-4)


def test_submodel_and_predict_equal_manual_computation(tiny_cnn):
    model = from_keras(tiny_cnn, value_range=(-1, 1))
    images = unit_images((5, 16, 16, 3))
    relu, logits = model.submodel(["relu", "logits"])(images)
    manual = keras.Model(tiny_cnn.input, [tiny_cnn.get_layer("relu").output,
                                          tiny_cnn.get_layer("logits").output])
    expected_relu, expected_logits = manual(to_range(images, (-1, 1)))
    np.testing.assert_allclose(relu, expected_relu, atol=TOLERANCE)
    np.testing.assert_allclose(logits, expected_logits, atol=TOLERANCE)
    predicted = model.predict(images, batch_size=2)
    np.testing.assert_allclose(predicted, tiny_cnn(to_range(images, (-1, 1))), atol=TOLERANCE)
    assert predicted.shape == (5, 5)


def test_layers_table_lists_output_shapes_for_the_input_size(tiny_cnn):
    model = from_keras(tiny_cnn, value_range=(0, 1))
    table = {name: (kind, shape) for name, kind, shape in model.layers_table(16)}
    assert "pixels_in" not in table
    assert table["conv"] == ("conv", (1, 16, 16, 4))
    assert table["pool"] == ("pool", (1, 8, 8, 4))
    assert table["logits"] == ("dense", (1, 5))
    wide = {name: shape for name, _, shape in model.layers_table((20, 12))}
    assert wide["pool"] == (1, 10, 6, 4)
    assert model.output_shape("relu", (3, 10, 10, 3)) == (3, 10, 10, 4)


def test_sequential_model(sequential):
    model = from_keras(sequential, value_range=(0, 255))
    assert model.layer_names() == ["c", "f", "d"]
    assert model.layers_table(8) == [("c", "conv", (1, 6, 6, 2)), ("f", "flatten", (1, 72)),
                                     ("d", "dense", (1, 3))]
    images = unit_images((2, 8, 8, 3))
    flat = keras.Model(sequential.inputs[0], sequential.get_layer("f").output)
    np.testing.assert_allclose(model.submodel("f")(images), flat(images * 255.0), rtol=TOLERANCE,
                               atol=1e-3)


def test_sequential_without_input_shape_is_refused():
    unbuilt = keras.Sequential([keras.layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match="no input shape"):
        from_keras(unbuilt, value_range=(0, 1))


def test_mobilenet_v2_layers_and_submodel():
    keras.utils.set_random_seed(SEED)
    network = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    model = from_keras(network, value_range=(-1, 1), logits_layer="predictions")
    assert len(model.layer_names()) == len(network.layers)
    table = {name: shape for name, _, shape in model.layers_table(96)}
    assert table["Conv1"] == (1, 48, 48, 32)
    assert table["block_6_expand_relu"] == (1, 12, 12, 192)
    assert table["out_relu"] == (1, 3, 3, 1280)
    assert table["predictions"] == (1, 1000)
    images = unit_images((1, 96, 96, 3))
    layer = network.get_layer("block_1_expand_relu")
    expected = keras.Model(network.input, layer.output)(to_range(images, (-1, 1)))
    np.testing.assert_allclose(model.submodel("block_1_expand_relu")(images), expected,
                               atol=1e-4)
    probabilities = model.predict(images)
    assert probabilities.shape == (1, 1000)
    assert math.isclose(float(probabilities.sum()), 1.0, rel_tol=1e-4)


def test_subclassed_model_predicts_but_has_no_intermediate_layers():
    keras.utils.set_random_seed(SEED)
    network = Subclassed()
    images = unit_images((2, 8, 8, 3))
    expected = np.asarray(network(to_range(images, (-1, 1))))
    model = from_keras(network, value_range=(-1, 1))
    np.testing.assert_allclose(model.predict(images), expected, atol=TOLERANCE)
    assert "dense" in model.layer_names()
    with pytest.raises(ValueError, match="subclassed"):
        model.submodel("dense")
    with pytest.raises(ValueError, match="subclassed"):
        model.layers_table(8)


# ------------------------------------------------------------------- errors
def test_unknown_layer_suggests_close_matches(tiny_cnn):
    model = from_keras(tiny_cnn, value_range=(0, 1))
    with pytest.raises(ValueError, match="Did you mean: conv"):
        model.submodel("conv1")
    with pytest.raises(ValueError, match="Unknown layer 'nonsense'"):
        model.layer_info("nonsense")


def test_value_range_is_required(tiny_cnn):
    for call in (lambda: from_keras(tiny_cnn),
                 lambda: from_keras(tiny_cnn, value_range=None, channel_order="BGR"),
                 lambda: load(tiny_cnn),
                 lambda: load("https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/"
                              "classification/5"),
                 lambda: load("/no/such/model.keras")):
        with pytest.raises(ValueError, match=r"value_range is required.*\(-1, 1\).*preprocessing="
                           r".*caffe, torch"):
            call()


@pytest.mark.parametrize("bad", [(1, 0), (0, 0), (0, math.inf), (math.nan, 1), (0,), (0, 1, 2),
                                 "0-1", (0, "x")])
def test_bad_value_ranges_are_refused(tiny_cnn, bad):
    with pytest.raises(ValueError, match="value_range"):
        from_keras(tiny_cnn, value_range=bad)


def test_bad_channel_order_and_bad_model_types(tiny_cnn):
    with pytest.raises(ValueError, match="channel_order"):
        from_keras(tiny_cnn, value_range=(0, 1), channel_order="BRG")
    with pytest.raises(TypeError, match="keras.Model"):
        from_keras(lambda x: x, value_range=(0, 1))
    with pytest.raises(TypeError, match="Cannot load a model from int"):
        load(3, value_range=(0, 1))
    model = from_keras(tiny_cnn, value_range=(0, 1))
    with pytest.raises(TypeError, match="already"):
        from_keras(model, value_range=(0, 1))


def test_keras2_models_get_advice_to_save_a_saved_model():
    tf_keras = pytest.importorskip("tf_keras")
    legacy = tf_keras.Sequential([tf_keras.layers.Dense(2, input_shape=(3,))])
    with pytest.raises(TypeError, match="tf_keras.*load_saved_model"):
        load(legacy, value_range=(0, 1))


def test_non_image_and_multi_input_models_are_refused():
    vector_in = keras.Input((10,))
    with pytest.raises(ValueError, match="channels last"):
        from_keras(keras.Model(vector_in, keras.layers.Dense(2)(vector_in)), value_range=(0, 1))
    gray_in = keras.Input((8, 8, 1))
    with pytest.raises(ValueError, match="channels last"):
        from_keras(keras.Model(gray_in, keras.layers.Conv2D(2, 3)(gray_in)), value_range=(0, 1))
    first, second = keras.Input((8, 8, 3)), keras.Input((8, 8, 3))
    two = keras.Model([first, second], keras.layers.Add()([first, second]))
    with pytest.raises(ValueError, match="2 inputs"):
        from_keras(two, value_range=(0, 1))


def test_predict_checks_image_rank_and_channels(tiny_cnn):
    model = from_keras(tiny_cnn, value_range=(0, 1))
    with pytest.raises(ValueError, match="rank 4"):
        model.predict(unit_images((8, 8, 3)))
    with pytest.raises(ValueError, match="3 channels"):
        model.predict(unit_images((1, 8, 8, 4)))


def test_nonexistent_paths_and_unknown_names(tmp_path):
    with pytest.raises(FileNotFoundError, match="No model"):
        load(tmp_path / "missing.keras", value_range=(0, 1))
    with pytest.raises(FileNotFoundError, match="No model"):
        load_saved_model(tmp_path / "missing", value_range=(0, 1))
    with pytest.raises(FileNotFoundError, match="No TF-Hub module"):
        load_hub(tmp_path / "missing", value_range=(0, 1))
    with pytest.raises(ValueError, match="Unknown model 'resnet9000'.*inceptionv1"):
        load("resnet9000", value_range=(0, 1))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="neither a Keras file"):
        load(tmp_path / "empty", value_range=(0, 1))
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ValueError, match="not a Keras file"):
        load(tmp_path / "notes.txt", value_range=(0, 1))


# -------------------------------------------------------------- Keras files
@pytest.mark.parametrize("filename", ["tiny.keras", "tiny.h5"])
def test_keras_file_keeps_every_layer(tiny_cnn, tmp_path, filename):
    path = tmp_path / filename
    tiny_cnn.save(path)
    model = load(path, value_range=(-1, 1), labels=list("abcde"))
    assert model.layer_names() == from_keras(tiny_cnn, value_range=(0, 1)).layer_names()
    assert model.labels == list("abcde")
    images = unit_images((2, 16, 16, 3))
    np.testing.assert_allclose(model.predict(images), tiny_cnn(to_range(images, (-1, 1))),
                               atol=TOLERANCE)
    conv = keras.Model(tiny_cnn.input, tiny_cnn.get_layer("conv").output)
    np.testing.assert_allclose(model.submodel("conv")(images), conv(to_range(images, (-1, 1))),
                               atol=TOLERANCE)


def test_directory_with_a_keras_file_loads_its_layers(tiny_cnn, tmp_path):
    tiny_cnn.save(tmp_path / "model.keras")
    model = load_saved_model(tmp_path, value_range=(0, 1))
    assert "conv" in model.layer_names()
    with pytest.raises(ValueError, match="signature apply to SavedModel"):
        load_saved_model(tmp_path, value_range=(0, 1), signature="serving_default")
    tiny_cnn.save(tmp_path / "other.keras")
    with pytest.raises(ValueError, match="several Keras files"):
        load_saved_model(tmp_path, value_range=(0, 1))


# ------------------------------------------- item 2: invalid Keras files and folders
def _half(path):
    data = path.read_bytes()
    return data[:len(data) // 2]


@pytest.fixture(scope="module")
def invalid_model_files(tiny_cnn, tmp_path_factory):
    """name -> (bytes, what the message must say), each written as that file name."""
    root = tmp_path_factory.mktemp("valid")
    tiny_cnn.save(root / "tiny.keras")
    tiny_cnn.save(root / "tiny.h5")
    tiny_cnn.save_weights(root / "tiny.weights.h5")
    noise = np.random.default_rng(SEED).bytes(4096)
    return {
        "model.keras": (noise, "not a zip archive"),
        "empty.keras": (b"", "empty"),
        "truncated.keras": (_half(root / "tiny.keras"), "truncated"),
        "hdf5_named.keras": ((root / "tiny.h5").read_bytes(), "rename it to .h5"),
        "model.h5": (noise, "cannot open it as HDF5"),
        "truncated.h5": (_half(root / "tiny.h5"), "truncated"),
        "empty.hdf5": (b"", "empty"),
        "zip_named.h5": ((root / "tiny.keras").read_bytes(), "rename it to .keras"),
        "weights_only.h5": ((root / "tiny.weights.h5").read_bytes(), "weights only"),
    }


@pytest.mark.parametrize("file_name", [
    "model.keras", "empty.keras", "truncated.keras", "hdf5_named.keras", "model.h5",
    "truncated.h5", "empty.hdf5", "zip_named.h5", "weights_only.h5"])
def test_invalid_keras_file_is_reported_as_invalid_not_as_missing(invalid_model_files, tmp_path,
                                                                   file_name):
    data, says = invalid_model_files[file_name]
    path = tmp_path / file_name
    path.write_bytes(data)
    with pytest.raises(ValueError) as info:
        load(path, value_range=(0, 1))
    message = str(info.value)
    assert repr(str(path)) in message and says in message
    assert "not found" not in message.lower()
    if file_name != "weights_only.h5":  # that one says what it holds and what to do instead
        assert "is not a valid Keras file" in message and "Expected" in message


def test_folder_that_is_not_a_saved_model_says_what_it_holds(tiny_cnn, tmp_path):
    folder = tmp_path / "exported"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a model")
    (folder / "assets").mkdir()
    tiny_cnn.save(folder / "model.h5")
    with pytest.raises(ValueError) as info:
        load(folder, value_range=(0, 1))
    message = str(info.value)
    assert "neither a Keras file" in message and "saved_model.pb" in message
    assert "assets/, model.h5, notes.txt" in message
    assert repr(str(folder / "model.h5")) in message  # what to pass instead


@pytest.mark.parametrize("damage", ["random", "truncated", "empty", "no_variables"])
def test_damaged_saved_model_folder_is_reported_as_invalid(saved_dir, tmp_path, damage):
    source, _ = saved_dir
    folder = tmp_path / "damaged"
    shutil.copytree(source, folder)
    graph = folder / "saved_model.pb"
    if damage == "random":
        graph.write_bytes(np.random.default_rng(SEED).bytes(2048))
    elif damage == "truncated":
        graph.write_bytes(_half(graph))
    elif damage == "empty":
        graph.write_bytes(b"")
    else:
        shutil.rmtree(folder / "variables")
    with pytest.raises(ValueError) as info:
        load(folder, value_range=(0, 1))
    message = str(info.value)
    assert repr(str(folder)) in message and "SavedModel" in message
    assert "export the model again" in message.lower()


# --------------------------------------------------------------- SavedModel
def test_saved_model_outputs_are_layers(saved_dir):
    path, module = saved_dir
    model = load(path, value_range=(0, 255), channel_order="BGR")
    assert sorted(model.layer_names()) == ["features", "images", "logits", "pixels"]
    assert model.layer_info("features").channels == 4
    assert model.layer_info("logits").kind == "output"
    assert model.logits_layer == "logits"
    images = unit_images((2, 6, 6, 3))
    network_input = to_range(images, (0, 255), "BGR")
    np.testing.assert_allclose(model.submodel("pixels")(images), network_input, atol=1e-3)
    expected = module(tf.constant(network_input))
    features, logits = model.submodel(["features", "logits"])(images)
    np.testing.assert_allclose(features, expected["features"], rtol=TOLERANCE, atol=1e-3)
    np.testing.assert_allclose(logits, expected["logits"], rtol=TOLERANCE, atol=1e-3)
    # Several outputs: "logits" is the prediction unless output_key says otherwise.
    np.testing.assert_allclose(model.predict(images), expected["logits"], rtol=TOLERANCE,
                               atol=1e-3)
    table = {name: shape for name, _, shape in model.layers_table((10, 14))}
    assert table == {"pixels": (1, 10, 14, 3), "features": (1, 10, 14, 4), "logits": (1, 4)}


def test_saved_model_output_key_and_signature_choice(saved_dir):
    path, _ = saved_dir
    model = load_saved_model(path, value_range=(0, 1), output_key="features")
    assert model.predict(unit_images((1, 5, 5, 3))).shape == (1, 5, 5, 4)
    with pytest.raises(ValueError, match="output_key 'nope'.*features"):
        load_saved_model(path, value_range=(0, 1), output_key="nope")
    with pytest.raises(ValueError, match="no signature 'serve'.*serving_default"):
        load_saved_model(path, value_range=(0, 1), signature="serve")


def test_saved_model_gradients_reach_the_input(saved_dir):
    path, _ = saved_dir
    model = load_saved_model(path, value_range=(-1, 1))
    images = tf.Variable(unit_images((1, 6, 6, 3)))
    with tf.GradientTape() as tape:
        objective = tf.reduce_sum(model.submodel("logits")(images)[:, 0])
    gradient = tape.gradient(objective, images)
    assert gradient is not None and float(tf.reduce_max(tf.abs(gradient))) > 0.0


def test_several_outputs_without_a_preferred_one_need_output_key(tmp_path):
    tf.saved_model.save(TwoOutputModule(), str(tmp_path / "two"))
    model = load_saved_model(tmp_path / "two", value_range=(0, 1))
    assert sorted(model.layer_names()) == ["a", "b", "images"]
    images = unit_images((1, 4, 4, 3))
    np.testing.assert_allclose(model.submodel("b")(images), images.max(axis=(1, 2)), atol=1e-6)
    with pytest.raises(ValueError, match="output_key"):
        model.predict(images)
    chosen = load_saved_model(tmp_path / "two", value_range=(0, 1), output_key="a")
    np.testing.assert_allclose(chosen.predict(images), images.mean(axis=(1, 2)), atol=1e-6)


def test_integer_inputs_are_rounded_and_string_outputs_dropped(tmp_path):
    tf.saved_model.save(Uint8Module(), str(tmp_path / "uint8"))
    model = load_saved_model(tmp_path / "uint8", value_range=(0, 255))
    assert model.layer_names() == ["images", "mean"]
    images = unit_images((2, 3, 3, 3))
    expected = np.round(images * 255.0).mean(axis=(1, 2))
    np.testing.assert_allclose(model.predict(images), expected, rtol=TOLERANCE)


def test_input_size_fixes_the_size_of_a_free_size_function(saved_dir):
    path, _ = saved_dir
    model = load_saved_model(path, value_range=(0, 1), input_size=(6, 7))
    assert ("features", "output", (1, 6, 7, 4)) in model.layers_table((6, 7))
    with pytest.raises(ValueError, match=r"\(None, 6, 7, 3\)"):
        model.predict(unit_images((1, 6, 6, 3)))
    for bad in (0, (6,), (6, -1), 6.5, "6x7"):
        with pytest.raises(ValueError, match="input_size"):
            load_saved_model(path, value_range=(0, 1), input_size=bad)


def test_saved_model_inner_layer_request_explains_signature_outputs(saved_dir, tiny_cnn,
                                                                    tmp_path):
    path, _ = saved_dir
    model = load_saved_model(path, value_range=(0, 1))
    requests = (lambda: model.submodel(["conv1"]), lambda: model.layer_info("conv1"),
                lambda: objectives.channel("conv1", 0).validate(model))
    for request in requests:
        with pytest.raises(ValueError) as info:
            request()
        message = str(info.value)
        assert "'conv1'" in message and "serving_default" in message
        assert "only its outputs" in message and "features, logits, pixels" in message
        assert "cannot rebuild" in message  # why
        assert ".export(path)" in message and "model.keras" in message  # how to do better
    with pytest.raises(ValueError, match="Did you mean: features"):
        model.submodel("featurs")
    # The advice works: an exported model whose outputs include the inner layer reaches it.
    probe = keras.Model(tiny_cnn.input, {"relu": tiny_cnn.get_layer("relu").output,
                                         "logits": tiny_cnn.get_layer("logits").output})
    probe.export(str(tmp_path / "probe"), verbose=False)
    exported = load(tmp_path / "probe", value_range=(0, 1), output_key="logits")
    assert exported.layer_info("relu").channels == 4
    hub_model = load_hub(path, value_range=(0, 1), output_key="logits")
    with pytest.raises(ValueError, match="TF-Hub module.*original Keras model"):
        hub_model.submodel("conv1")


def test_keras_export_directory(sequential, tmp_path):
    sequential.export(str(tmp_path / "exported"), verbose=False)
    model = load(tmp_path / "exported", value_range=(-1, 1))
    assert model.layer_names() == ["images", "output_0"]
    images = unit_images((2, 8, 8, 3))
    np.testing.assert_allclose(model.predict(images), sequential(to_range(images, (-1, 1))),
                               atol=TOLERANCE)
    assert model.layers_table(8) == [("output_0", "output", (1, 3))]


# ------------------------------------------------------------------- TF-Hub
def test_hub_module_called_through_call(hub_dir):
    path, module = hub_dir
    model = load_hub(path, value_range=(-1, 1))
    assert model.layer_names() == ["images", "output"]
    assert model.layers_table(HubModule.SIZE) == [("output", "output", (1, 2))]
    images = unit_images((3, HubModule.SIZE, HubModule.SIZE, 3))
    # training=False is passed: the training branch would scale by 10.
    expected = module(tf.constant(to_range(images, (-1, 1))), training=False)
    np.testing.assert_allclose(model.predict(images), expected, atol=TOLERANCE)
    with pytest.raises(ValueError, match=r"\(None, 8, 8, 3\)"):
        model.predict(unit_images((1, 9, 9, 3)))
    with pytest.raises(ValueError, match="disagrees"):
        load_hub(path, value_range=(0, 1), input_size=16)
    # load() reaches a hub-style directory (no signatures) through its __call__ too.
    via_load = load(path, value_range=(-1, 1))
    np.testing.assert_allclose(via_load.predict(images), expected, atol=TOLERANCE)


def test_hub_module_with_dict_outputs_via_load(saved_dir):
    path, module = saved_dir
    model = load_hub(path, value_range=(0, 1), output_key="features", name="dicty")
    assert model.name == "dicty"
    assert sorted(model.layer_names()) == ["features", "images", "logits", "pixels"]
    images = unit_images((1, 4, 4, 3))
    np.testing.assert_allclose(model.predict(images), module(tf.constant(images))["features"],
                               atol=TOLERANCE)


def test_load_routes_hub_handles_to_load_hub(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(loaders, "load_hub", lambda handle, **kw: calls.append((handle, kw)))
    for handle in ("https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/classification/5",
                   "https://www.kaggle.com/models/google/mobilenet-v2/tensorFlow2/100-224"):
        load(handle, value_range=(0, 1), output_key="logits")
        assert calls[-1] == (handle, {"preprocessing": Preprocessing(value_range=(0.0, 1.0)),
                                      "output_key": "logits"})
        load(handle, preprocessing="tf")
        assert calls[-1] == (handle, {"preprocessing": Preprocessing(value_range=(-1.0, 1.0))})
    tf1_module = tmp_path / "tf1_module"
    tf1_module.mkdir()
    for marker in ("saved_model.pb", "tfhub_module.pb"):
        (tf1_module / marker).write_bytes(b"")
    load(tf1_module, value_range=(0, 1))
    assert calls[-1][0] == str(tf1_module)


# --------------------------------------------------------------------- load
def test_load_inceptionv1_by_name(monkeypatch):
    created = []

    class FakeInceptionV1:
        def __init__(self, weights="imagenet"):
            created.append(weights)

    monkeypatch.setattr(loaders, "InceptionV1", FakeInceptionV1)
    assert isinstance(load("InceptionV1"), FakeInceptionV1)
    assert isinstance(load("inceptionv1", weights="/some/dir"), FakeInceptionV1)
    assert isinstance(load("inceptionv1", weights=None), FakeInceptionV1)
    assert created == ["imagenet", "/some/dir", None]  # None: random initialization
    for convention in ({"value_range": (0, 1)}, {"preprocessing": "torch"}):
        with pytest.raises(ValueError, match="own input convention.*-117, 138"):
            load("inceptionv1", **convention)
    with pytest.raises(ValueError, match="RGB"):
        load("inceptionv1", channel_order="BGR")


@pytest.mark.slow
def test_load_inceptionv1_with_real_weights(shared_data):
    model = load("InceptionV1", weights=shared_data / "inception5h")
    assert model.value_range == (-117.0, 138.0)
    assert model.layer_info("mixed4a").channels == 508


def test_load_passes_models_through(tiny_cnn):
    model = load(tiny_cnn, value_range=(0, 255), channel_order="BGR", logits_layer="logits")
    assert (model.value_range, model.channel_order, model.logits_layer) == (
        (0.0, 255.0), "BGR", "logits")
    assert load(model) is model
    with pytest.raises(ValueError, match="already"):
        load(model, value_range=(0, 1))
    with pytest.raises(ValueError, match="weights applies to 'inceptionv1' and 'keras:NAME'"):
        load(tiny_cnn, value_range=(0, 1), weights="/some/weights.npz")


# ----------------------------------------------------- input conventions
def test_saved_model_and_hub_take_a_whole_convention(saved_dir, hub_dir):
    path, module = saved_dir
    caffe = Preprocessing.named("caffe")
    model = load_saved_model(path, preprocessing="caffe")
    assert model.preprocessing == caffe
    images = unit_images((1, 5, 5, 3))
    expected = np.asarray(caffe.apply(images))
    np.testing.assert_allclose(model.submodel("pixels")(images), expected, atol=1e-4)
    np.testing.assert_allclose(model.preprocess(images), expected, atol=1e-4)
    np.testing.assert_allclose(model.predict(images), module(tf.constant(expected))["logits"],
                               rtol=TOLERANCE, atol=1e-3)
    hub_path, hub_module = hub_dir
    torch = Preprocessing.named("torch")
    hub_model = load(hub_path, preprocessing=torch)
    hub_images = unit_images((2, HubModule.SIZE, HubModule.SIZE, 3))
    np.testing.assert_allclose(hub_model.predict(hub_images),
                               hub_module(torch.apply(hub_images), training=False), atol=1e-4)
    with pytest.raises(ValueError, match="either preprocessing= or value_range="):
        load_hub(hub_path, preprocessing=torch, value_range=(0, 1))
    with pytest.raises(ValueError, match="Unknown preprocessing convention 'imagenet'"):
        load_saved_model(path, preprocessing="imagenet")


def test_keras_file_takes_a_convention(tiny_cnn, tmp_path):
    tiny_cnn.save(tmp_path / "tiny.keras")
    model = load(tmp_path / "tiny.keras", preprocessing=Preprocessing(mean=(0.5,), std=(0.25,)))
    images = unit_images((1, 6, 6, 3))
    np.testing.assert_allclose(model.submodel("pixels")(images), (images - 0.5) / 0.25,
                               atol=1e-5)


@pytest.fixture
def applications(monkeypatch):
    """What load() asks keras_application for (nothing is built)."""
    calls = []

    def fake(name, weights="imagenet", **kwargs):
        calls.append((name, weights, kwargs))
        return "application"

    monkeypatch.setattr(loaders, "keras_application", fake)
    return calls


def test_load_keras_applications_by_name(applications, tmp_path):
    assert load("keras:ResNet50") == "application"
    load(" Keras:mobilenetv2 ", weights=None, include_top=False, input_shape=(96, 96, 3))
    load("keras:VGG16", weights=tmp_path / "vgg16.weights.h5")
    assert applications == [
        ("ResNet50", "imagenet", {}),
        ("mobilenetv2", None, {"include_top": False, "input_shape": (96, 96, 3)}),
        ("VGG16", str(tmp_path / "vgg16.weights.h5"), {})]


@pytest.mark.parametrize("convention", [{"value_range": (0, 255)}, {"preprocessing": "caffe"},
                                        {"channel_order": "BGR"}])
def test_keras_applications_know_their_convention(applications, convention):
    with pytest.raises(ValueError, match=f"keras:ResNet50 knows its own preprocessing.*"
                                         f"{next(iter(convention))}"):
        load("keras:ResNet50", **convention)
    assert not applications
    with pytest.raises(ValueError, match="names no Keras application.*keras:ResNet50"):
        load("keras:")


def test_load_reaches_the_real_keras_applications():
    model = load("keras:MobileNetV2", weights=None, include_top=False, input_shape=(32, 32, 3),
                 alpha=0.35)
    assert model.preprocessing == Preprocessing.named("tf")
    images = unit_images((1, 32, 32, 3))
    np.testing.assert_allclose(model.submodel("Conv1")(images),
                               keras.Model(model.keras_model.input,
                                           model.keras_model.get_layer("Conv1").output)(
                                   images * 2.0 - 1.0), atol=1e-4)
