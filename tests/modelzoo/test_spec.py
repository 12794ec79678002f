"""ModelSpec and load_from_spec: what to load as a value, and the one function that loads it."""

import dataclasses
import pickle

import numpy as np
import pytest

from lucid2 import app_flags
from lucid2.modelzoo import ModelSpec, Preprocessing, load_from_spec
from lucid2.modelzoo import spec as spec_module


@pytest.fixture
def calls(monkeypatch):
    """What load_from_spec asks lucid2.modelzoo.load for (nothing is built)."""
    recorded = []
    monkeypatch.setattr(spec_module, "load",
                        lambda model, **kwargs: recorded.append((model, kwargs)) or "model")
    return recorded


def test_defaults_name_inceptionv1_on_imagenet():
    spec = ModelSpec("InceptionV1")
    assert (spec.weights, spec.value_range, spec.channel_order) == ("imagenet", None, "RGB")
    assert spec.is_inceptionv1 and ModelSpec(" googlenet ").is_inceptionv1
    assert not ModelSpec("net.keras", None, (0.0, 1.0), "BGR").is_inceptionv1
    assert pickle.loads(pickle.dumps(spec)) == spec  # travels to Beam workers
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.model = "other"


def test_app_flags_still_exports_the_class():
    assert app_flags.ModelSpec is ModelSpec
    with pytest.raises(AttributeError):
        app_flags.not_a_flag_helper  # noqa: B018


def test_load_from_spec_passes_what_each_kind_of_model_takes(calls):
    assert load_from_spec(ModelSpec("inceptionv1", weights="/w", value_range=None)) == "model"
    load_from_spec(ModelSpec("net.keras", weights="imagenet", value_range=(-1.0, 1.0),
                             channel_order="BGR"))
    assert calls == [("inceptionv1", {"weights": "/w"}),
                     ("net.keras", {"value_range": (-1.0, 1.0), "channel_order": "BGR"})]


def test_random_seed_seeds_only_a_random_inceptionv1(calls):
    def draw():
        return np.random.random()  # keras.utils.set_random_seed seeds NumPy too

    load_from_spec(ModelSpec("inceptionv1", weights=None), random_seed=3)
    first = draw()
    load_from_spec(ModelSpec("inceptionv1", weights=None), random_seed=3)
    assert draw() == first  # the same seed again: the same draws, so the same network
    load_from_spec(ModelSpec("inceptionv1", weights="imagenet"), random_seed=3)
    assert draw() != first  # real weights: nothing reseeded


def test_a_spec_carries_a_preprocessing_as_a_picklable_value(calls):
    spec = ModelSpec("net.keras", preprocessing="torch")
    assert spec.preprocessing == Preprocessing.named("torch")  # the name, stored as its value
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert spec == ModelSpec("net.keras", preprocessing=Preprocessing.named("torch"))
    custom = ModelSpec("net.keras", weights=None,
                       preprocessing=Preprocessing((0, 255), mean=(1, 2, 3), channel_order="BGR"))
    assert pickle.loads(pickle.dumps(custom)) == custom
    load_from_spec(spec)
    load_from_spec(custom)
    assert calls == [("net.keras", {"preprocessing": Preprocessing.named("torch")}),
                     ("net.keras", {"preprocessing": custom.preprocessing})]


@pytest.mark.parametrize("fields, error, says", [
    ({"preprocessing": "torch", "value_range": (0.0, 1.0)}, ValueError, "not both"),
    ({"preprocessing": "torch", "channel_order": "BGR"}, ValueError, "not both"),
    ({"preprocessing": "imagenet"}, ValueError, "Unknown preprocessing convention"),
    ({"preprocessing": 3}, TypeError, "preprocessing must be"),
])
def test_conflicting_or_unknown_preprocessing_is_refused(fields, error, says):
    with pytest.raises(error, match=says):
        ModelSpec("net.keras", **fields)


def test_keras_application_specs_pass_their_weights(calls):
    spec = ModelSpec("keras:ResNet50")
    assert spec.keras_application_name == "ResNet50" and spec.takes_weights
    assert not spec.is_inceptionv1 and ModelSpec("net.keras").keras_application_name is None
    load_from_spec(spec)
    load_from_spec(ModelSpec("keras:VGG16", weights="/w/vgg16.weights.h5"))
    assert calls == [("keras:ResNet50", {"weights": "imagenet"}),
                     ("keras:VGG16", {"weights": "/w/vgg16.weights.h5"})]


def test_random_seed_seeds_a_random_keras_application(calls):
    load_from_spec(ModelSpec("keras:ResNet50", weights=None), random_seed=5)
    first = np.random.random()
    load_from_spec(ModelSpec("keras:ResNet50", weights=None), random_seed=5)
    assert np.random.random() == first
    assert calls[-1] == ("keras:ResNet50", {"weights": None})
