"""keras.applications by name: conventions, block layers, logits, labels and renders per family.

Every family is built once per module (its smallest variant, ``weights=None``, no
classifier), so that the whole file builds 14 models plus three small classifiers.
"""

import functools
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.modelzoo import keras_applications as ka
from lucid2.modelzoo.keras_applications import (KERAS_APPLICATIONS, KERAS_FAMILIES,
                                                KerasApplication, LabelsUnavailableError,
                                                keras_application)
from lucid2.optvis import objectives, param, render

SEED = 0
TOLERANCE = 1e-5
RENDER_STEPS = 8
RENDER_SIZE = 64
# Keras's smallest inputs: 75 px for the Inception families, 71 for Xception.
LARGER_RENDER_SIZES = {"inception_v3": 80, "inception_resnet_v2": 80, "xception": 80}
# NASNet takes a fixed size; the render's size is given to it.
BUILD_ARGS = {"nasnet": {"input_shape": (RENDER_SIZE, RENDER_SIZE, 3)}}
MIN_BLOCK_LAYERS = 3
PIXEL_SCALE = 255.0
# Layers that normalize pixels when Keras puts the preprocessing inside the model.
IN_MODEL_NORMALIZERS = ("Rescaling", "Normalization")
FAMILIES = sorted(KERAS_FAMILIES)


def unit_images(shape, seed=SEED):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def render_size(family):
    return LARGER_RENDER_SIZES.get(family, RENDER_SIZE)


@pytest.fixture(scope="module")
def built():
    """The smallest variant of a family without weights or classifier, built once."""
    cache = {}

    def get(family):
        if family not in cache:
            keras.utils.set_random_seed(SEED)
            cache[family] = keras_application(KERAS_FAMILIES[family].smallest, weights=None,
                                              include_top=False, **BUILD_ARGS.get(family, {}))
        return cache[family]

    yield get
    cache.clear()
    keras.backend.clear_session()


@pytest.fixture(scope="module")
def classifier():
    """MobileNetV3Small with its (random) classifier: the head is Conv2D, Flatten, Activation."""
    keras.utils.set_random_seed(SEED)
    return keras_application("MobileNetV3Small", weights=None)


def first_layer_after_input(model):
    return next(layer for layer in model.keras_model.layers
                if not isinstance(layer, keras.layers.InputLayer))


# ------------------------------------------------------------------- the table
def test_the_table_names_every_constructor_keras_ships():
    shipped = {name for name in dir(keras.applications)
               if name[0].isupper() and callable(getattr(keras.applications, name))}
    assert set(KERAS_APPLICATIONS) == shipped
    assert len(KERAS_APPLICATIONS) == len(set(KERAS_APPLICATIONS))
    for name in KERAS_APPLICATIONS:
        assert ka.family_of(name).name in KERAS_FAMILIES


@pytest.mark.parametrize("name", KERAS_APPLICATIONS)
def test_every_variants_convention_is_its_modules_preprocess_input(name):
    family = ka.family_of(name)
    module = getattr(keras.applications, family.module(name))
    images = unit_images((2, 5, 7, 3))
    expected = module.preprocess_input(images * PIXEL_SCALE)
    mapped = np.asarray(family.preprocessing.apply(images))
    np.testing.assert_allclose(mapped, expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("family", FAMILIES)
def test_preprocess_equals_keras_preprocess_input(built, family):
    model = built(family)
    images = unit_images((2, 16, 16, 3))
    preprocess_input = getattr(keras.applications,
                               KERAS_FAMILIES[family].module(model.application)).preprocess_input
    keras_input = preprocess_input(images * PIXEL_SCALE)
    np.testing.assert_allclose(np.asarray(model.preprocess(images)), keras_input,
                               rtol=0, atol=TOLERANCE)
    normalizer = type(first_layer_after_input(model)).__name__
    if KERAS_FAMILIES[family].in_model:
        # Keras normalizes inside the model: it takes 0..255 pixels, preprocess_input is a no-op.
        np.testing.assert_array_equal(keras_input, images * PIXEL_SCALE)
        np.testing.assert_allclose(np.asarray(model.preprocess(images)), images * PIXEL_SCALE,
                                   rtol=0, atol=TOLERANCE)
        assert normalizer in IN_MODEL_NORMALIZERS
    else:
        assert normalizer not in IN_MODEL_NORMALIZERS


# --------------------------------------------------------------------- layers
@pytest.mark.parametrize("family", FAMILIES)
def test_block_layers_are_feature_maps_with_their_channel_counts(built, family):
    model = built(family)
    blocks = model.block_layers()
    assert len(blocks) >= MIN_BLOCK_LAYERS
    names = [info.name for info in blocks]
    assert names == [n for n in model.layer_names() if n in names]  # graph order
    size = render_size(family)
    outputs = model.submodel(names)(unit_images((1, size, size, 3)), training=False)
    for info, output in zip(blocks, outputs, strict=True):
        assert output.shape.rank == 4, info.name
        assert info.channels == output.shape[-1], info.name
    assert model.main_layers == tuple(names)  # what the appendix renders by default


def test_block_rule_keeps_the_last_layer_of_a_keyed_block():
    names = ["Conv1", "expanded_conv_project_BN", "block_1_project_BN", "block_2_project_BN",
             "block_2_add", "block_3_expand", "out_relu"]
    assert ka.block_layer_names("mobilenet_v2", names) == [
        "expanded_conv_project_BN", "block_1_project_BN", "block_2_add", "out_relu"]
    assert ka.block_layer_names("resnet", ["conv2_block1_add", "conv2_block1_out"]) == [
        "conv2_block1_out"]
    with pytest.raises(ValueError, match="resnet_v2"):
        ka.block_layer_names("resnet3", names)


# ---------------------------------------------------------------------- render
@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_a_middle_block_channel_renders_and_has_a_gradient(built, family):
    model = built(family)
    blocks = model.block_layers()
    layer = blocks[len(blocks) // 2].name
    size = render_size(family)
    images = tf.Variable(unit_images((1, size, size, 3)))
    with tf.GradientTape() as tape:
        activations = model.submodel(layer)(images, training=False)
        # The channel most active on the image, so that a ReLU cannot hide its gradient.
        channel = int(np.argmax(np.mean(np.asarray(activations), axis=(0, 1, 2))))
        value = tf.reduce_mean(activations[..., channel])
    gradient = np.asarray(tape.gradient(value, images))
    assert np.all(np.isfinite(gradient))
    assert np.any(gradient != 0)

    (rendered,) = render.render_vis(model, objectives.channel(layer, channel),
                                    param_f=lambda: param.image(size), transforms=[],
                                    thresholds=(RENDER_STEPS,), seed=SEED)
    assert rendered.shape == (1, size, size, 3)
    assert np.all(np.isfinite(rendered))
    assert rendered.min() >= 0 and rendered.max() <= 1


# ---------------------------------------------------------------------- logits
def test_the_classifier_gives_logits_from_its_last_dense_layer():
    keras.utils.set_random_seed(SEED)
    model = keras_application("EfficientNetB0", weights=None, include_top=True,
                              input_shape=(RENDER_SIZE, RENDER_SIZE, 3))
    last = model.keras_model.layers[-1]
    assert isinstance(last, keras.layers.Dense)
    assert model.logits_layer == last.name == "predictions"
    assert last.activation is keras.activations.linear
    logits = model.predict(unit_images((2, RENDER_SIZE, RENDER_SIZE, 3)))
    assert logits.shape == (2, 1000)
    assert not np.allclose(logits.sum(axis=-1), 1.0)  # no softmax


def test_a_conv_headed_classifier_gives_logits_from_its_last_layer(classifier):
    last = classifier.keras_model.layers[-1]
    assert classifier.logits_layer == last.name == "predictions"
    assert last.activation is keras.activations.linear
    assert classifier.layer_info(classifier.logits_layer).channels == 1000


def test_a_softmax_classifier_has_no_logits_layer():
    keras.utils.set_random_seed(SEED)
    model = keras_application("MobileNetV3Small", weights=None, input_shape=(64, 64, 3),
                              classifier_activation="softmax")
    assert model.logits_layer is None
    assert model.keras_model.layers[-1].activation is keras.activations.softmax


def test_without_the_classifier_there_is_no_logits_layer(built):
    assert built("mobilenet_v3").logits_layer is None


# --------------------------------------------------------------------- errors
@pytest.fixture
def no_build(monkeypatch):
    """Fails the test if any keras.applications constructor is called (keeping signatures)."""
    def refusing(constructor):
        @functools.wraps(constructor)
        def refuse(*args, **kwargs):
            raise AssertionError("a model was built before the arguments were checked")
        return refuse

    for name in KERAS_APPLICATIONS:
        monkeypatch.setattr(keras.applications, name,
                            refusing(getattr(keras.applications, name)))


def test_an_unknown_name_is_refused_with_close_matches(no_build):
    with pytest.raises(ValueError, match=r"ResNet50.*KERAS_APPLICATIONS") as error:
        keras_application("ResNet5")
    assert "Did you mean" in str(error.value)
    with pytest.raises(ValueError, match="EfficientNetB0"):
        keras_application("EfficientNetBO")
    with pytest.raises(TypeError, match="string"):
        keras_application(50)


def test_names_are_accepted_in_any_case():
    assert ka.application_name(" resnet50 ") == "ResNet50"
    assert ka.family_of("convnexttiny").name == "convnext"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"alpha2": 1.0}, ValueError, "alpha2.*minimalistic"),
    ({"include_preprocessing": False}, ValueError, "include_preprocessing"),
    ({"input_shape": (64, 64)}, ValueError, "height, width, 3"),
    ({"input_shape": (64, 64, 1)}, ValueError, "3 channels"),
    ({"input_shape": (0, 64, 3)}, ValueError, "positive"),
    ({"weights": 3}, TypeError, "weights"),
    ({"include_top": "yes"}, TypeError, "include_top"),
])
def test_bad_arguments_are_refused_before_building(no_build, kwargs, error, match):
    with pytest.raises(error, match=match):
        keras_application("MobileNetV3Small", **kwargs)


def test_style_loss_on_the_logits_layer_is_refused_before_compute(classifier):
    reference = objectives.reference_image(unit_images((1, 64, 64, 3)))
    objective = objectives.style_loss(reference, ["predictions"])
    with pytest.raises(ValueError, match=r"'predictions' gives rank-2"):
        render.Renderer(classifier, objective, param_f=lambda: param.image(64),
                        transforms=[], seed=SEED)


def test_a_neuron_of_the_logits_layer_is_refused_before_compute(classifier):
    with pytest.raises(ValueError, match=r"Neuron \[predictions, 3\] picks a position in "
                       r"predictions's map, but predictions gives 2-D outputs .*"
                       r"'predictions:n'"):
        render.Renderer(classifier, objectives.neuron("predictions", 3),
                        param_f=lambda: param.image(64), transforms=[], seed=SEED)
    # A unit of the logits layer as a channel (a class logit) is fine.
    render.Renderer(classifier, objectives.channel("predictions", 3),
                    param_f=lambda: param.image(64), transforms=[], seed=SEED)


# --------------------------------------------------------------------- labels
def write_index(path, names):
    path.write_text(json.dumps({str(i): [f"n{i:08d}", name] for i, name in enumerate(names)}))
    return path


def imagenet_names():
    return [f"class_{i}" for i in range(ka.IMAGENET_CLASSES)]


@pytest.fixture
def imagenet_model(classifier, monkeypatch):
    """The random classifier, claimed to carry ImageNet weights (nothing is downloaded)."""
    def no_download(*args, **kwargs):
        raise AssertionError("labels were fetched when the model was built")

    monkeypatch.setattr(keras.utils, "get_file", no_download)
    return KerasApplication(classifier.keras_model, "MobileNetV3Small", weights="imagenet")


def test_a_class_index_is_parsed_in_index_order(tmp_path):
    path = tmp_path / "index.json"
    path.write_text(json.dumps({"1": ["n2", "goldfish"], "0": ["n1", "tench"],
                                "2": ["n3", "great_white_shark"]}))
    assert ka.parse_class_index(path) == ["tench", "goldfish", "great white shark"]


@pytest.mark.parametrize("content", ['{"0": ["n1", "tench"], "2": ["n3", "shark"]}',
                                     '{"0": "tench"}', "[1, 2]", "{}", "not json"])
def test_a_malformed_class_index_is_refused(tmp_path, content):
    path = tmp_path / "index.json"
    path.write_text(content)
    with pytest.raises(LabelsUnavailableError):
        ka.parse_class_index(path)


def test_labels_are_fetched_on_first_use_from_keras_url(imagenet_model, tmp_path, monkeypatch):
    index = write_index(tmp_path / "imagenet_class_index.json", imagenet_names())
    calls = []

    def get_file(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs))
        return str(index)

    monkeypatch.setattr(keras.utils, "get_file", get_file)
    labels = imagenet_model.labels
    assert labels == [f"class {i}" for i in range(ka.IMAGENET_CLASSES)]
    assert imagenet_model.labels is labels  # fetched once
    assert len(calls) == 1
    fname, origin, kwargs = calls[0]
    assert (fname, origin) == ("imagenet_class_index.json", ka.IMAGENET_CLASS_INDEX_URL)
    assert kwargs["file_hash"] == ka.IMAGENET_CLASS_INDEX_MD5
    assert kwargs["cache_subdir"] == "models"
    assert objectives.resolve_label(labels, "class 7") == 7


def test_offline_labels_warn_once_and_are_none(imagenet_model, monkeypatch):
    calls = []

    def offline(*args, **kwargs):
        calls.append(args)
        raise Exception("URL fetch failure on https://...: None -- [Errno -3] name resolution")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.warns(UserWarning, match="no labels.*KERAS_HOME"):
        assert imagenet_model.labels is None
    assert imagenet_model.labels is None  # no second download attempt, no second warning
    assert len(calls) == 1
    with pytest.raises(LabelsUnavailableError, match="URL fetch failure"):
        imagenet_model.load_labels()
    assert len(calls) == 2


def test_a_class_index_without_1000_classes_is_refused(tmp_path, monkeypatch):
    index = write_index(tmp_path / "imagenet_class_index.json", ["tench", "goldfish"])
    monkeypatch.setattr(keras.utils, "get_file", lambda *args, **kwargs: str(index))
    with pytest.raises(LabelsUnavailableError, match="2 classes"):
        ka.imagenet_labels()


def test_models_without_an_imagenet_head_have_no_labels(built, classifier, monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("labels were fetched for a model without ImageNet classes")

    monkeypatch.setattr(keras.utils, "get_file", no_download)
    assert classifier.labels is None  # weights=None
    assert built("mobilenet_v3").labels is None  # no classifier
    with pytest.raises(LabelsUnavailableError, match="include_top=True"):
        classifier.load_labels()
    named = KerasApplication(classifier.keras_model, "MobileNetV3Small")
    named.labels = [f"unit {i}" for i in range(ka.IMAGENET_CLASSES)]  # labels given by hand
    assert named.load_labels()[3] == "unit 3"

