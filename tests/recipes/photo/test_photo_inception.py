"""The photo recipes on InceptionV1's real weights, small and short (the full checks are
benchmarks/from_a_photo.py)."""

import numpy as np
import pytest

from lucid2.recipes.photo import accentuate, caricature, deepdream, invert, style_transfer

pytestmark = pytest.mark.slow

SIZE = 64


@pytest.fixture(scope="module")
def photos(shared_data):
    folder = shared_data / "imagenet-samples"
    return folder / "n02099601_golden_retriever.JPEG", folder / "n03590841_jack-o'-lantern.JPEG"


def test_inversion_recovers_the_photos_mixed4a(inception, photos):
    result = invert(inception, photos[0], "mixed4a", size=SIZE, steps=64, seed=0,
                    measure_layers=("mixed3b",))
    assert result.image.shape == (SIZE, 38, 3)  # the photo is 300 x 500 (width x height)
    assert result.metrics["cosine"] > 0.6
    assert result.metrics["cosine_at"]["mixed3b"] > 0.3


def test_caricature_exaggerates_in_the_photos_direction(inception, photos):
    result = caricature(inception, photos[0], ("mixed4a", "mixed4d"), size=SIZE, steps=32,
                        seed=0)
    assert result.metrics["min_norm_ratio"] > 1.0
    assert result.metrics["min_cosine"] > 0.5


def test_style_transfer_moves_toward_the_style(inception, photos):
    result = style_transfer(inception, photos[0], photos[1], size=SIZE, steps=64, seed=0)
    assert result.metrics["style_loss_drop"] > 1.5
    assert result.metrics["min_content_cosine"] > 0.5


def test_deepdream_grows_the_layer_at_the_photos_size(inception, photos):
    result = deepdream(inception, photos[0], "mixed4c", octaves=2, steps_per_octave=8,
                       size=96, seed=0)
    assert result.image.shape == (96, 58, 3)
    assert result.metrics["mean_square_growth"] > 1.5


def test_accentuation_raises_the_channel_and_stays_near_the_photo(inception, photos):
    free = accentuate(inception, photos[0], "mixed4a:97", pull=0, size=SIZE, steps=32, seed=0)
    pulled = accentuate(inception, photos[0], "mixed4a:97", size=SIZE, steps=32, seed=0)
    for result in (free, pulled):
        assert result.metrics["objective_final"] > result.metrics["objective_photo"]
    assert pulled.metrics["pixel_distance"] < free.metrics["pixel_distance"]
    assert np.isfinite(pulled.image).all()
