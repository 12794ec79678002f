"""The photo recipes on a tiny random network: what they return, what they measure, and
the errors they raise before rendering."""

import numpy as np
import pytest
from photo_testlib import EARLY, LATE, PHOTO_HEIGHT, PHOTO_WIDTH, photo_array, tiny_model, \
    write_photo

from lucid2.optvis import objectives
from lucid2.optvis.render import Renderer
from lucid2.recipes import photo as photo_recipes
from lucid2.recipes.photo import (accentuate, accentuation_objective, caricature, deepdream,
                                  invert, octave_sizes, style_transfer)
from lucid2.recipes.photo.common import Progress

STEPS = 12
SIZE = 32


@pytest.fixture(scope="module")
def tiny():
    return tiny_model()


@pytest.fixture
def photo_file(tmp_path):
    return write_photo(tmp_path / "photo.png")


def _no_render(monkeypatch):
    """Makes any render fail the test: errors must come before one starts."""
    def refuse(*args, **kwargs):
        pytest.fail("a render was started")

    monkeypatch.setattr(Renderer, "run", refuse)


# ------------------------------------------------------------------ inversion
def test_inversion_matches_the_photos_activations(tiny, photo_file):
    progress = Progress()
    result = invert(tiny, photo_file, LATE, size=SIZE, steps=40, seed=0, param="pixel",
                    measure_layers=(EARLY,), progress=progress)
    assert result.recipe == "inversion"
    assert result.image.shape == (27, 32, 3)  # 40 x 48 scaled to a longer side of 32
    assert set(result.metrics["cosine_at"]) == {LATE, EARLY}
    assert result.metrics["cosine"] == result.metrics["cosine_at"][LATE]
    # Rendered from noise toward the photo's activations: closer than a noise image.
    noise = np.random.default_rng(0).uniform(size=(27, 32, 3)).astype(np.float32)
    from lucid2.recipes.photo.common import cosine, photo_at_size
    photo = photo_at_size(photo_file, SIZE)
    assert result.metrics["cosine"] > cosine(tiny, noise, photo, LATE)
    assert result.metrics["steps_run"] == progress.steps_done == 40
    assert result.inputs["image"] == str(photo_file)
    assert result.inputs["layer"] == LATE and result.inputs["seed"] == 0


def test_inversion_is_reproducible_with_a_seed(tiny):
    photo = photo_array()
    first = invert(tiny, photo, LATE, size=SIZE, steps=4, seed=3)
    second = invert(tiny, photo, LATE, size=SIZE, steps=4, seed=3)
    np.testing.assert_array_equal(first.image, second.image)
    assert first.inputs["image"] == f"array of shape {photo.shape}"


# ----------------------------------------------------------------- caricature
def test_caricature_grows_the_activations_along_the_photos(tiny):
    result = caricature(tiny, photo_array(), (EARLY, LATE), size=SIZE, steps=STEPS, seed=0)
    assert result.image.shape == (27, 32, 3)
    for layer in (EARLY, LATE):
        assert result.metrics["norm_ratio"][layer] > 1.0
        assert result.metrics["cosine"][layer] > 0.5
    assert result.metrics["min_norm_ratio"] == min(result.metrics["norm_ratio"].values())
    assert result.inputs["layers"] == [EARLY, LATE]


# --------------------------------------------------------------------- style
def test_style_transfer_lowers_the_style_loss(tiny):
    content, style = photo_array(seed=0), photo_array(24, 24, seed=1)[::-1, :, ::-1].copy()
    result = style_transfer(tiny, content, style, style_layers=(EARLY, LATE),
                            content_layers=(LATE,), style_weight=5.0, size=SIZE, steps=30,
                            seed=0, transforms="none")
    numbers = result.metrics
    assert result.image.shape == (27, 32, 3)
    assert numbers["style_loss_final"] < numbers["style_loss_content"]
    assert numbers["style_loss_drop"] == pytest.approx(
        numbers["style_loss_content"] / numbers["style_loss_final"])
    assert -1.0 <= numbers["min_content_cosine"] <= 1.0
    assert set(numbers["content_cosine"]) == {LATE}
    assert result.inputs["start"] == "content" and result.inputs["transforms"] == "none"


def test_style_transfer_from_noise_differs_from_the_content_start(tiny):
    content, style = photo_array(seed=0), photo_array(seed=1)
    kwargs = dict(style_layers=(EARLY,), content_layers=(LATE,), size=SIZE, steps=2, seed=0)
    from_content = style_transfer(tiny, content, style, **kwargs)
    from_noise = style_transfer(tiny, content, style, start="noise", **kwargs)
    assert np.abs(from_content.image - from_noise.image).mean() > 0.05


# ------------------------------------------------------------------ deepdream
def test_octave_sizes_grow_to_the_photos_size():
    assert octave_sizes(100, 200, 3, 2.0) == [(25, 50), (50, 100), (100, 200)]
    assert octave_sizes(100, 200, 1) == [(100, 200)]
    with pytest.raises(ValueError, match="octave_scale must be greater than 1"):
        octave_sizes(100, 200, 3, 1.0)
    with pytest.raises(ValueError, match="octaves"):
        octave_sizes(100, 200, 0)


def test_deepdream_keeps_the_photos_size_and_grows_the_layer(tiny, photo_file):
    progress = Progress()
    result = deepdream(tiny, photo_file, LATE, octaves=2, octave_scale=1.25,
                       steps_per_octave=6, seed=0, progress=progress)
    assert result.image.shape == (PHOTO_HEIGHT, PHOTO_WIDTH, 3)
    numbers = result.metrics
    assert numbers["octave_sizes"] == [[32, 38], [PHOTO_HEIGHT, PHOTO_WIDTH]]
    assert numbers["mean_square_final"] > numbers["mean_square_photo"]
    assert numbers["mean_square_growth"] == pytest.approx(
        numbers["mean_square_final"] / numbers["mean_square_photo"])
    assert progress.steps_done == numbers["steps_run"] == 12


# --------------------------------------------------------------- accentuation
def test_accentuation_raises_the_objective_and_the_pull_keeps_it_near(tiny):
    photo = photo_array()
    target = objectives.channel(LATE, 2)
    free = accentuate(tiny, photo, target, pull=0, size=SIZE, steps=STEPS, seed=0)
    pulled = accentuate(tiny, photo, target, pull=100.0, pull_layer="input", size=SIZE,
                        steps=STEPS, seed=0)
    assert free.metrics["objective_final"] > free.metrics["objective_photo"]
    assert pulled.metrics["pixel_distance"] < free.metrics["pixel_distance"]
    assert pulled.metrics["penalty_final"] == pytest.approx(
        pulled.metrics["pixel_distance"], abs=1e-3)  # the pixel pull is the RMS difference
    assert pulled.inputs["objective"] == str(target)


def test_accentuation_objective_adds_the_pull_only_when_weighted():
    reference = objectives.reference_image(photo_array())
    plain = accentuation_objective("conv2:1", reference, pull=0)
    assert plain.references() == ()
    pulled = accentuation_objective("conv2:1", reference, pull=2.0, pull_layer=EARLY)
    assert pulled.references() == (reference,) and "ContentLoss" in str(pulled)
    with pytest.raises(ValueError, match="pull"):
        accentuation_objective("conv2:1", reference, pull=-1)


# -------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, message", [
    (lambda m, p: invert(m, p, "conv9", size=SIZE), "Unknown layer 'conv9'"),
    (lambda m, p: invert(m, p, LATE, size=3), "too small for 'conv2'"),
    (lambda m, p: invert(m, p, LATE, cossim_pow=-1), "cossim_pow"),
    (lambda m, p: caricature(m, p, (), size=SIZE), "at least one layer"),
    (lambda m, p: caricature(m, p, (EARLY, "nope"), size=SIZE), "Unknown layer 'nope'"),
    (lambda m, p: style_transfer(m, p, p, style_layers=("conv7",), content_layers=(LATE,)),
     "Unknown layer 'conv7'"),
    (lambda m, p: style_transfer(m, p, p, style_layers=(EARLY,), content_layers=(LATE,),
                                 style_weight=0, content_weight=0), "both 0"),
    (lambda m, p: style_transfer(m, p, p, style_layers=(EARLY,), content_layers=(LATE,),
                                 start="middle"), "start"),
    (lambda m, p: deepdream(m, p, LATE, octaves=5, octave_scale=2.0),
     "smallest of 5 octave"),
    (lambda m, p: deepdream(m, p, "conv3"), "Unknown layer 'conv3'"),
    (lambda m, p: accentuate(m, p, "conv2:99", pull=0, size=SIZE), "channel 99"),
    (lambda m, p: accentuate(m, p, "conv2:1", pull_layer="conv5", size=SIZE),
     "Unknown layer 'conv5'"),
    (lambda m, p: invert(m, np.zeros((2, 8, 8, 3), np.float32), LATE), "one image"),
    (lambda m, p: invert(m, "/nonexistent/photo.png", LATE), "No such file"),
])
def test_bad_input_is_refused_before_rendering(tiny, photo_file, monkeypatch, call, message):
    _no_render(monkeypatch)
    with pytest.raises((ValueError, TypeError, OSError), match=message):
        call(tiny, photo_file)


def test_the_package_exports_its_recipes_lazily():
    for name in photo_recipes.LAZY_EXPORTS:
        assert getattr(photo_recipes, name) is not None
    assert callable(photo_recipes.deepdream) and callable(photo_recipes.caricature)
    from lucid2 import recipes

    assert recipes.invert is invert and recipes.deepdream is deepdream


def test_the_inversion_blur_smooths_the_result(tiny):
    from lucid2.optvis.metrics import high_frequency_share

    photo = photo_array()
    kwargs = dict(size=SIZE, steps=20, seed=0, param="pixel", decorrelate=False,
                  transforms=[])
    sharp = invert(tiny, photo, LATE, **kwargs)
    smooth = invert(tiny, photo, LATE, blur=1.0, **kwargs)
    assert smooth.inputs["blur"] == 1.0
    assert high_frequency_share(smooth.image) < high_frequency_share(sharp.image)
