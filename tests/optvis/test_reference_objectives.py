"""Objectives against a reference image: values, errors, and the shared random transforms."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from lucid2.modelzoo import VisionModel
from lucid2.optvis import metrics, objectives, param, render, transform
from lucid2.optvis.objectives import INPUT, Leaf

SIZE = 24


@pytest.fixture(scope="module")
def model():
    """A tiny model whose layer "pixels" is the input itself, then a conv and logits."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3))
    pixels = keras.layers.Activation("linear", name="pixels")(inputs)
    conv = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv")(pixels)
    pooled = keras.layers.GlobalAveragePooling2D()(conv)
    logits = keras.layers.Dense(3, name="logits")(pooled)
    return VisionModel(keras.Model(inputs, logits), logits_layer="logits", name="tiny")


def _photo(seed: int, size: int = SIZE) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = rng.uniform(0.1, 0.9, (4, 4, 3))
    return np.asarray(tf.image.resize(smooth[None], (size, size)), np.float32)[0]


def _exact_param(image: np.ndarray):
    """A parameterization whose images are exactly ``image`` (clip mode, no decorrelation)."""
    raw = param.pixel_image((1,) + image.shape, init_val=image[None] - 0.5)
    return param.as_image(raw, decorrelate=False, valid_rgb="clip")


# ------------------------------------------------------------------ values
def test_each_comparison_is_neutral_on_the_reference_itself(model):
    photo, other = _photo(0), _photo(1)
    ref = objectives.reference_image(photo, name="photo")
    assert objectives.activation_match(ref, ["conv", "pixels"]).evaluate(model, photo[None]) \
        == pytest.approx(1.0, abs=1e-5)
    for penalty in (objectives.style_loss(ref, ["conv", "pixels"]),
                    objectives.content_loss(ref, "conv")):
        assert penalty.evaluate(model, photo[None]) == pytest.approx(0.0, abs=1e-6)
        assert penalty.evaluate(model, other[None]) > 1e-3
    expected_rms = np.sqrt(np.mean((other - photo) ** 2))
    assert objectives.input_diff(ref).evaluate(model, other[None]) == pytest.approx(
        expected_rms, rel=1e-4)


def test_activation_match_grows_with_the_magnitude_along_the_reference(model):
    photo = _photo(2)
    ref = objectives.reference_image(photo)
    # "pixels" is linear: half the image has half the activations, in the same direction.
    half = objectives.activation_match(ref, "pixels", cossim_pow=3.0).evaluate(
        model, 0.5 * photo[None])
    assert half == pytest.approx(0.5, rel=1e-4)
    # Another direction loses by its cosine to the power.
    other = _photo(3)
    plain = objectives.activation_match(ref, "pixels", cossim_pow=0.0).evaluate(
        model, other[None])
    strict = objectives.activation_match(ref, "pixels", cossim_pow=4.0).evaluate(
        model, other[None])
    cosine = metrics.activation_cosine(model, other, photo, "pixels")[0]
    assert strict == pytest.approx(plain * cosine ** 4, rel=1e-4)


def test_reference_is_resized_and_shared_over_the_batch(model):
    photo = _photo(4, size=2 * SIZE)
    ref = objectives.reference_image(photo)
    resized = ref.resized(3, SIZE, SIZE)
    assert resized.shape == (3, SIZE, SIZE, 3)
    np.testing.assert_array_equal(resized[0], resized[2])
    # A resized copy of the image compares as equal after the same resize.
    value = objectives.content_loss(ref, "conv").evaluate(model, resized)
    assert value == pytest.approx(0.0, abs=1e-6)


def test_style_loss_weighs_layers_of_any_scale_alike(model):
    photo, other = _photo(5), _photo(6)
    ref = objectives.reference_image(photo)
    small = objectives.style_loss(ref, "pixels").evaluate(model, other[None])
    # Scaling image and reference scales the Gram matrices by 4 each: the ratio stays.
    ref_scaled = objectives.reference_image(0.5 * photo)
    scaled = objectives.style_loss(ref_scaled, "pixels").evaluate(model, 0.5 * other[None])
    assert scaled == pytest.approx(small, rel=1e-4)


def test_metrics_compare_activations_with_a_photo(model):
    photo = _photo(7)
    np.testing.assert_allclose(metrics.activation_cosine(model, 0.5 * photo, photo, "pixels"),
                               [1.0], rtol=1e-6)
    np.testing.assert_allclose(
        metrics.activation_norm_ratio(model, 0.5 * photo, photo, "pixels"), [0.5], rtol=1e-6)
    assert metrics.activation_cosine(model, _photo(8), photo, "pixels")[0] < 0.999


# ------------------------------------------------------- shared transforms
def _transformed_gap(model, image, reference, transforms, compare):
    """The objective's first value: minus the largest gap between what the model saw of the
    images and of the reference (``compare`` picks the reference's tensor)."""
    ref = objectives.reference_image(reference)

    def gap(ctx):
        seen = ctx("pixels")
        return (-tf.reduce_max(tf.abs(seen - compare(ctx, ref, seen)))
                + 0.0 * tf.reduce_sum(ctx(INPUT)))

    objective = Leaf(gap, "gap", layers=("pixels", INPUT), references=(ref,))
    renderer = render.Renderer(model, objective, param_f=lambda: _exact_param(image),
                               transforms=transforms, seed=0)
    return -float(renderer.step())


def test_reference_sees_the_same_random_transform_as_the_images(model):
    photo = _photo(9)
    transforms = list(transform.standard_transforms)
    same = _transformed_gap(model, photo, photo, transforms,
                            lambda ctx, ref, seen: ctx.reference(ref, "pixels"))
    assert same < 1e-5
    # Controls: the transforms did move the images (against the untransformed reference,
    # cropped to what the model saw), and another reference is seen as different.
    moved = _transformed_gap(
        model, photo, photo, transforms,
        lambda ctx, ref, seen: tf.image.resize_with_crop_or_pad(
            ctx.reference(ref, INPUT), tf.shape(seen)[1], tf.shape(seen)[2]))
    assert moved > 0.05
    other = _transformed_gap(model, photo, _photo(10), transforms,
                             lambda ctx, ref, seen: ctx.reference(ref, "pixels"))
    assert other > 0.05


def test_a_render_moves_toward_the_reference(model):
    photo = _photo(11)
    ref = objectives.reference_image(photo)
    images = render.render_vis(
        model, -objectives.content_loss(ref, "conv") - objectives.input_diff(ref),
        param_f=lambda: param.image(SIZE), thresholds=(1, 48), seed=0,
        transforms=[transform.jitter(2)])
    start, end = (np.sqrt(np.mean((i[0] - photo) ** 2)) for i in images)
    assert end < 0.5 * start


# ------------------------------------------------------------------ errors
def test_bad_references_are_refused_with_what_is_allowed(tmp_path, model):
    with pytest.raises(FileNotFoundError):
        objectives.reference_image(tmp_path / "missing.png")
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match="notes.png"):
        objectives.reference_image(tmp_path / "notes.png")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        objectives.reference_image(np.full((8, 8, 3), 2.0))
    with pytest.raises(ValueError, match="NaN"):
        objectives.reference_image(np.full((8, 8, 3), np.nan))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        objectives.reference_image(np.zeros((8, 8, 5)))
    with pytest.raises(TypeError, match="reference_image"):
        objectives.activation_match(np.zeros((8, 8, 3)), "conv")
    ref = objectives.reference_image(_photo(12))
    with pytest.raises(ValueError, match="at least one layer"):
        objectives.style_loss(ref, [])
    with pytest.raises(ValueError, match="input_diff"):
        objectives.content_loss(ref, "input")


def test_a_reference_path_is_loaded(tmp_path, model):
    photo = (_photo(13) * 255).round().astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    ref = objectives.reference_image(tmp_path / "photo.png")
    assert ref.name == "photo.png"
    np.testing.assert_allclose(ref.images[0], photo / 255.0, atol=1e-6)


def test_render_checks_references_before_compiling(model):
    two = objectives.reference_image(np.stack([_photo(14), _photo(15)]))
    with pytest.raises(ValueError, match="holds 2 images"):
        render.Renderer(model, objectives.content_loss(two, "conv") * -1.0,
                        param_f=lambda: param.image(SIZE, batch=3))
    with pytest.raises(ValueError, match="rank-2"):
        render.Renderer(model, -objectives.style_loss(objectives.reference_image(_photo(16)),
                                                      "logits"),
                        param_f=lambda: param.image(SIZE))
    with pytest.raises(ValueError, match="not a layer|no layer|Unknown|unknown"):
        render.Renderer(model, -objectives.style_loss(objectives.reference_image(_photo(16)),
                                                      "mixed4a"),
                        param_f=lambda: param.image(SIZE))


def test_a_custom_objective_must_declare_its_reference(model):
    ref = objectives.reference_image(_photo(17))
    undeclared = Leaf(lambda ctx: tf.reduce_sum(ctx("conv") * ctx.reference(ref, "conv")),
                      "undeclared", layers=("conv",))
    with pytest.raises(ValueError, match="declare the references"):
        undeclared.evaluate(model, _photo(18)[None])
