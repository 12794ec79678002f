"""RenderSettings: validation, what it builds, and renders equal to render_vis's."""

import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import golden_renders as golden

from lucid2.modelzoo import VisionModel
from lucid2.optvis import defaults, param, render, transform
from lucid2.optvis.settings import PRESETS, RenderSettings, preset

SIZE = 24
STEPS = 5


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(2)
    inputs = keras.Input((None, None, 3), name="images")
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="conv1_pre_relu")(inputs)
    x = keras.layers.ReLU(name="conv1")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv2")(x)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    logits = keras.layers.Dense(4, name="logits")(pooled)
    return VisionModel(keras.Model(inputs, logits), logits_layer="logits", name="tiny")


# ------------------------------------------------------------------ validation
def test_defaults_are_lucids_and_come_from_the_defaults_module():
    settings = RenderSettings()
    assert (settings.size, settings.batch, settings.param, settings.decorrelate,
            settings.transforms, settings.learning_rate, settings.steps, settings.seed) == (
        defaults.DEFAULT_SIZE, defaults.DEFAULT_BATCH, defaults.DEFAULT_PARAM,
        defaults.DEFAULT_DECORRELATE, defaults.DEFAULT_TRANSFORMS,
        defaults.DEFAULT_LEARNING_RATE, defaults.DEFAULT_STEPS, None)
    assert (settings.size, settings.learning_rate, settings.steps) == (128, 0.05, 512)
    assert render.DEFAULT_SIZE == settings.size
    assert render.DEFAULT_LEARNING_RATE == settings.learning_rate
    assert render.DEFAULT_THRESHOLDS == (settings.steps,)


@pytest.mark.parametrize("field,bad,error,message", [
    ("size", 0, ValueError, "size must be a positive integer, got 0"),
    ("size", 12.5, TypeError, "size must be a positive integer, got 12.5"),
    ("batch", -2, ValueError, "batch must be a positive integer, got -2"),
    ("batch", True, TypeError, "batch must be a positive integer, got True"),
    ("param", "cppn", ValueError, r"param must be one of \('fft', 'pixel'\), got 'cppn'"),
    ("decorrelate", "yes", TypeError, "decorrelate must be True or False, got 'yes'"),
    ("transforms", "all", ValueError,
     r"transforms must be one of \('standard', 'article', 'none'\), got 'all'"),
    ("learning_rate", 0.0, ValueError, "learning_rate must be a positive number, got 0.0"),
    ("learning_rate", float("inf"), ValueError, "learning_rate must be finite"),
    ("learning_rate", "fast", TypeError, "learning_rate must be a number, got 'fast'"),
    ("steps", 0, ValueError, "steps must be a positive integer, got 0"),
    ("seed", -1, ValueError, "seed must be a non-negative integer or None, got -1"),
    ("seed", 1.0, TypeError, "seed must be a non-negative integer or None, got 1.0"),
])
def test_bad_fields_name_the_field_the_value_and_what_is_allowed(field, bad, error, message):
    with pytest.raises(error, match=message):
        RenderSettings(**{field: bad})
    with pytest.raises(error, match=message):
        RenderSettings().replace(**{field: bad})


def test_values_are_normalized_and_the_settings_frozen():
    settings = RenderSettings(size=np.int64(32), batch=np.int32(2), param="FFT",
                              decorrelate=np.bool_(False), learning_rate=np.float32(0.5),
                              transforms="None", seed=np.int64(3))
    assert settings == RenderSettings(size=32, batch=2, param="fft", decorrelate=False,
                                      learning_rate=0.5, transforms="none", seed=3)
    assert type(settings.size) is int and type(settings.seed) is int
    assert type(settings.learning_rate) is float and type(settings.decorrelate) is bool
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.size = 64
    assert settings.to_dict()["transforms"] == "none"


def test_presets():
    assert preset("lucid") == RenderSettings() == PRESETS["lucid"]
    assert preset("lucid", steps=64, size=96) == RenderSettings(steps=64, size=96)
    with pytest.raises(ValueError, match="Unknown render preset 'quick'.*lucid"):
        preset("quick")
    with pytest.raises(TypeError):
        PRESETS["mine"] = RenderSettings()  # read-only


# ------------------------------------------------------------- what it builds
@pytest.mark.parametrize("kind,decorrelate", [("fft", True), ("fft", False), ("pixel", True),
                                              ("pixel", False)])
def test_make_param_is_param_image(kind, decorrelate):
    settings = RenderSettings(size=SIZE, batch=3, param=kind, decorrelate=decorrelate)
    keras.utils.set_random_seed(4)
    made = settings.make_param()
    keras.utils.set_random_seed(4)
    expected = param.image(SIZE, batch=3, fft=kind == "fft", decorrelate=decorrelate)
    assert made.describe() == expected.describe()
    images = np.asarray(made())
    assert images.shape == (3, SIZE, SIZE, 3)
    np.testing.assert_array_equal(images, np.asarray(expected()))


def test_make_transforms_by_name():
    assert RenderSettings(transforms="none").make_transforms() == []
    standard = RenderSettings(transforms="standard")
    assert standard.make_transforms() == list(transform.standard_transforms)
    assert standard.make_transforms() is not standard.make_transforms()  # a new list each call
    assert RenderSettings(transforms="article").make_transforms() == \
        list(transform.article_transforms)


def test_make_optimizer_is_a_fresh_adam():
    settings = RenderSettings(learning_rate=0.25)
    first, second = settings.make_optimizer(), settings.make_optimizer()
    assert isinstance(first, keras.optimizers.Adam) and first is not second
    assert not first.built
    assert float(first.learning_rate) == pytest.approx(0.25)


def test_renderer_uses_the_settings(tiny):
    settings = RenderSettings(size=SIZE, batch=2, param="pixel", steps=STEPS, seed=0)
    renderer = settings.renderer(tiny, "conv2:1")
    assert isinstance(renderer, render.Renderer)
    assert renderer.image_shape == (2, SIZE, SIZE, 3)
    assert isinstance(renderer.optimizer, keras.optimizers.Adam)
    interpolation = settings.renderer(
        tiny, "conv2:1", param_f=lambda: param.image_interpolation(SIZE, n_frames=3))
    assert interpolation.image_shape == (3, SIZE, SIZE, 3)


# ----------------------------------------------------------- starting from a photo
def _photos(batch, size):
    rng = np.random.default_rng(9)
    y, x = np.meshgrid(np.linspace(0, 1, size), np.linspace(0, 1, size), indexing="ij")
    smooth = np.stack([x, y, 1 - x * y], axis=-1)
    return np.clip(smooth + rng.normal(0, 0.1, (batch, size, size, 3)), 0, 1).astype(np.float32)


@pytest.mark.parametrize("kind,decorrelate,batch", [("fft", True, 2), ("pixel", False, 1)])
def test_param_from_starts_the_settings_render_at_the_photo(tiny, kind, decorrelate, batch):
    settings = RenderSettings(size=SIZE, batch=batch, param=kind, decorrelate=decorrelate,
                              transforms="none", steps=STEPS, seed=0)
    photos = _photos(batch, 2 * SIZE)  # resized to the settings' size
    factory = settings.param_from(photos)
    expected = param.load_init(photos, SIZE, SIZE, batch)
    made = factory()
    assert made.shape == (batch, SIZE, SIZE, 3)
    assert made.describe() == param.image(SIZE, batch=batch, fft=kind == "fft",
                                          decorrelate=decorrelate).describe()
    np.testing.assert_allclose(made(), expected, atol=1.0 / 255)
    renderer = settings.renderer(tiny, "conv2:1", param_f=factory)
    np.testing.assert_allclose(renderer.images(), expected, atol=1.0 / 255)  # step 0
    renderer.run((STEPS,))
    assert np.abs(renderer.images() - expected).max() > 1.0 / 255  # and it optimizes


def test_param_from_checks_the_photo_at_once(tmp_path):
    settings = RenderSettings(size=SIZE, batch=2)
    with pytest.raises(ValueError, match="holds 3 images"):
        settings.param_from(_photos(3, SIZE))
    with pytest.raises(FileNotFoundError, match="nowhere.png"):
        settings.param_from(tmp_path / "nowhere.png")
    with pytest.raises(ValueError, match="NaN"):
        settings.param_from(np.full((SIZE, SIZE, 3), np.nan))


# ----------------------------------------------------------- same as render_vis
@pytest.mark.parametrize("kind,batch,transforms", [("fft", 1, "standard"), ("pixel", 2, "none"),
                                                   ("fft", 2, "article")])
def test_seeded_render_equals_render_vis_with_the_same_arguments(tiny, kind, batch, transforms):
    settings = RenderSettings(size=SIZE, batch=batch, param=kind, decorrelate=True,
                              transforms=transforms, learning_rate=0.1, steps=STEPS, seed=7)
    via_settings = settings.render(tiny, "conv2:1 + 0.5*conv1:3")
    lists = {"standard": transform.standard_transforms,
             "article": transform.article_transforms, "none": []}
    via_render_vis = render.render_vis(
        tiny, "conv2:1 + 0.5*conv1:3",
        param_f=lambda: param.image(SIZE, batch=batch, fft=kind == "fft", decorrelate=True),
        optimizer=lambda: keras.optimizers.Adam(learning_rate=0.1),
        transforms=lists[transforms], thresholds=(STEPS,), seed=7)[-1]
    assert via_settings.shape == (batch, SIZE, SIZE, 3)
    np.testing.assert_array_equal(via_settings, via_render_vis)


@pytest.mark.slow
@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")),
                    reason="the stored digests are CPU results")
@pytest.mark.parametrize("case", [("fft", 4, "standard"), ("pixel", 1, "article")],
                         ids=lambda case: golden.case_name(*case))
def test_settings_give_the_stored_golden_renders(inception, case):
    kind, batch, transforms = case
    settings = RenderSettings(size=golden.SIZE, batch=batch, param=kind, transforms=transforms,
                              steps=golden.STEPS, seed=0)
    images = np.ascontiguousarray(settings.render(inception, golden.OBJECTIVE), np.float32)
    stored = json.loads(golden.GOLDEN_FILE.read_text())
    assert golden.digest(images) == stored[golden.case_name(*case)]
