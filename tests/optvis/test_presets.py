"""Render presets: values of RenderSettings and nothing else; the fast preset's fields."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.modelzoo import VisionModel
from lucid2.optvis import render, transform
from lucid2.optvis.settings import (FAST, PRESETS, RenderSettings, preset, scaled_transforms)

SIZE = 24
STEPS = 6
OBJECTIVE = "conv2:1 + 0.5*conv1:3"


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


def small(name: str, **changes) -> RenderSettings:
    return preset(name, size=SIZE, steps=STEPS, **changes)


# --------------------------------------------------------- presets are settings
def test_the_presets_are_lucid_and_fast_and_lucid_is_the_default():
    assert list(PRESETS) == ["lucid", "fast"]
    assert PRESETS["lucid"] == RenderSettings()
    assert PRESETS["fast"] is FAST
    assert all(type(settings) is RenderSettings for settings in PRESETS.values())


def test_presets_differ_only_in_their_settings():
    lucid, fast = PRESETS["lucid"], PRESETS["fast"]
    differing = {name for name, value in fast.to_dict().items()
                 if lucid.to_dict()[name] != value}
    assert differing == {"learning_rate", "beta_1", "transform_strength", "steps"}
    # Every field is a settings field: giving fast all of lucid's values gives lucid.
    assert fast.replace(**lucid.to_dict()) == lucid
    assert lucid.replace(**fast.to_dict()) == fast


def test_a_preset_with_another_preset_s_fields_renders_that_preset(tiny):
    """Nothing but the fields decides a render: fast with lucid's fields renders lucid's
    bytes, and lucid with fast's fields renders fast's."""
    lucid, fast = small("lucid", seed=3), small("fast", seed=3)
    np.testing.assert_array_equal(fast.replace(**lucid.to_dict()).render(tiny, OBJECTIVE),
                                  lucid.render(tiny, OBJECTIVE))
    np.testing.assert_array_equal(lucid.replace(**fast.to_dict()).render(tiny, OBJECTIVE),
                                  fast.render(tiny, OBJECTIVE))


def test_fast_render_is_render_vis_with_the_fast_pieces(tiny):
    fast = small("fast", seed=5)
    expected = render.render_vis(
        tiny, OBJECTIVE, param_f=fast.make_param,
        optimizer=lambda: keras.optimizers.Adam(fast.learning_rate, beta_1=fast.beta_1,
                                                beta_2=fast.beta_2),
        transforms=scaled_transforms("standard", fast.transform_strength),
        thresholds=(STEPS,), seed=5)[-1]
    np.testing.assert_array_equal(fast.render(tiny, OBJECTIVE), expected)


def test_seeded_fast_render_is_reproducible(tiny):
    first = small("fast", seed=11).render(tiny, OBJECTIVE)
    second = small("fast", seed=11).render(tiny, OBJECTIVE)
    assert first.shape == (1, SIZE, SIZE, 3)
    np.testing.assert_array_equal(first, second)
    other = small("fast", seed=12).render(tiny, OBJECTIVE)
    assert np.abs(other - first).max() > 1e-3


def test_fast_and_lucid_renders_differ(tiny):
    fast = small("fast", seed=1).render(tiny, OBJECTIVE)
    lucid = small("lucid", seed=1).render(tiny, OBJECTIVE)
    assert np.abs(fast - lucid).max() > 1e-3


def test_an_unknown_preset_is_refused_with_the_list_of_presets():
    with pytest.raises(ValueError, match=r"Unknown render preset 'quick'; the presets are: "
                                         r"lucid, fast\."):
        preset("quick")
    with pytest.raises(ValueError, match="the presets are: lucid, fast"):
        preset("Fast")  # names are exact
    with pytest.raises(TypeError):
        PRESETS["mine"] = RenderSettings()  # read-only


def test_preset_changes_are_validated():
    assert preset("fast", steps=64).steps == 64
    assert preset("fast", steps=64).transform_strength == FAST.transform_strength
    with pytest.raises(ValueError, match="beta_1 must be in"):
        preset("fast", beta_1=1.0)


# ------------------------------------------------------------------ the new fields
@pytest.mark.parametrize("field,bad,error,message", [
    ("beta_1", 1.0, ValueError, r"beta_1 must be in \[0, 1\) \(a moment decay of Adam\), "
                                r"got 1.0"),
    ("beta_1", -0.1, ValueError, r"beta_1 must be in \[0, 1\)"),
    ("beta_2", float("nan"), ValueError, "beta_2 must be finite"),
    ("beta_2", "high", TypeError, "beta_2 must be a number, got 'high'"),
    ("transform_strength", 0.0, ValueError,
     "transform_strength must be a positive number, got 0.0"),
    ("transform_strength", None, TypeError, "transform_strength must be a number, got None"),
])
def test_bad_new_fields_name_the_field_the_value_and_what_is_allowed(field, bad, error,
                                                                      message):
    with pytest.raises(error, match=message):
        RenderSettings(**{field: bad})


def test_transform_strength_has_no_effect_without_transforms():
    assert RenderSettings(transforms="none", transform_strength=0.5).make_transforms() == []
    # A preset's strength carries over when a variant switches the transforms back on.
    variant = FAST.replace(transforms="none").replace(transforms="standard")
    assert variant == FAST


def test_new_fields_default_to_lucid_s_optimizer_and_transforms():
    settings = RenderSettings()
    optimizer = settings.make_optimizer()
    assert (settings.beta_1, settings.beta_2, settings.transform_strength) == (0.9, 0.999, 1.0)
    default = keras.optimizers.Adam(0.05)
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (
        default.beta_1, default.beta_2, default.epsilon)
    # Strength 1 is the named list itself: the very transform objects.
    assert all(a is b for a, b in zip(settings.make_transforms(),
                                      transform.standard_transforms, strict=True))
    article = RenderSettings(transforms="article").make_transforms()
    assert all(a is b for a, b in zip(article, transform.article_transforms, strict=True))


def test_fast_optimizer_has_its_betas():
    optimizer = FAST.make_optimizer()
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert optimizer.beta_1 == FAST.beta_1 == 0.0
    assert float(optimizer.learning_rate) == pytest.approx(FAST.learning_rate)


def _standard_at(strength: float) -> list[str]:
    """The standard list at ``strength``, as its transforms' descriptions."""
    return [repr(t) for t in scaled_transforms("standard", strength)]


def test_scaled_standard_transforms_scale_every_random_amount():
    half = _standard_at(0.5)
    assert half[0] == repr(transform.pad(6, mode="constant", constant_value=0.5))
    assert half[1] == repr(transform.jitter(4))
    assert half[2] == repr(transform.random_scale([1 + (s - 1) / 2
                                                   for s in transform.STANDARD_SCALES]))
    assert half[3] == repr(transform.random_rotate([a / 2 for a in transform.STANDARD_ANGLES]))
    assert half[4] == repr(transform.jitter(2))
    # The amounts at strength 1 are the standard list's own: a strength just above 1
    # rounds every pixel amount back to it.
    near_one = _standard_at(1.0 + 1e-9)
    standard = [repr(t) for t in transform.standard_transforms]
    assert [near_one[i] for i in (0, 1, 4)] == [standard[i] for i in (0, 1, 4)]


def test_scaled_article_transforms_keep_the_input_size():
    article = scaled_transforms("article", 0.5)
    assert len(article) == 1
    images = np.random.default_rng(0).random((2, 40, 40, 3)).astype(np.float32)
    out = transform.compose(article)(images, tf.random.Generator.from_seed(1))
    assert out.shape == (2, 40, 40, 3)
    assert "pad(8" in repr(article[0]) and "jitter(4)" in repr(article[0])


def test_weaker_transforms_move_the_image_less():
    images = np.random.default_rng(3).random((4, 32, 32, 3)).astype(np.float32)
    sizes = {}
    for strength in (1.0, 0.35):
        composed = transform.compose(scaled_transforms("standard", strength))
        sizes[strength] = composed(images, tf.random.Generator.from_seed(0)).shape[1]
    # The padding (minus the jitters) grows the images; less of it at lower strength.
    assert sizes[0.35] < sizes[1.0]


def test_settings_fields_are_all_documented():
    doc = RenderSettings.__doc__
    for field in dataclasses.fields(RenderSettings):
        assert f"{field.name}:" in doc, field.name


def test_an_unknown_preset_is_refused_with_the_list():
    with pytest.raises(ValueError, match="Unknown render preset 'quick'; the presets are: "
                       "lucid, fast"):
        preset("quick")
