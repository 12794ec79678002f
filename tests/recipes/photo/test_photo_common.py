"""The photo recipes' shared pieces: sizes, crops, step counting, size checks."""

import numpy as np
import pytest
from photo_testlib import EARLY, LATE, photo_array, tiny_model, write_photo

from lucid2.optvis import objectives
from lucid2.optvis.settings import RenderSettings
from lucid2.recipes.photo import common
from lucid2.recipes.photo.defaults import PULL_PIXELS


@pytest.fixture(scope="module")
def tiny():
    return tiny_model()


@pytest.mark.parametrize("hw, size, expected", [
    ((300, 500), 224, (134, 224)), ((500, 300), 224, (224, 134)), ((64, 64), 32, (32, 32)),
    ((300, 500), None, (300, 500)), ((1, 1000), 100, (1, 100)), ((10, 20), 40, (20, 40)),
])
def test_fitted_size_scales_the_longer_side_and_keeps_the_aspect(hw, size, expected):
    assert common.fitted_size(*hw, size) == expected


def test_fitted_size_refuses_non_positive_sizes():
    with pytest.raises(ValueError, match="size"):
        common.fitted_size(10, 10, 0)


def test_photo_at_size_loads_paths_and_arrays_alike(tmp_path):
    path = write_photo(tmp_path / "p.png", 40, 48)
    from_file = common.photo_at_size(path, 24)
    from_array = common.photo_at_size(np.asarray(photo_array(40, 48)), 24)
    assert from_file.shape == from_array.shape == (20, 24, 3)
    assert from_file.dtype == np.float32
    np.testing.assert_allclose(from_file, from_array, atol=2 / 255)
    assert common.photo_at_size(path, None).shape == (40, 48, 3)


def test_load_photo_refuses_batches_and_missing_files(tmp_path):
    with pytest.raises(ValueError, match="must be one image, got a batch of 2"):
        common.load_photo(np.zeros((2, 8, 8, 3), np.float32), "content")
    with pytest.raises(FileNotFoundError):
        common.load_photo(tmp_path / "missing.png")


def test_cover_crop_fills_the_target_without_stretching():
    # A wide image with a bright centre column: scaled to cover a square and cropped, the
    # centre stays in the middle and the result is square.
    wide = np.zeros((20, 60, 3), np.float32)
    wide[:, 28:32] = 1.0
    square = common.cover_crop(wide, 10, 10)
    assert square.shape == (10, 10, 3)
    assert square[:, 4:6].mean() > 0.8 and square[:, :2].max() < 0.1
    tall = common.cover_crop(wide, 30, 10)  # covering 30 rows needs a 1.5x enlargement
    assert tall.shape == (30, 10, 3)


def test_inversion_transforms_are_lucids_five():
    assert len(common.inversion_transforms()) == 5
    assert common.inversion_transforms() is not common.inversion_transforms()


def test_progress_counts_steps_over_several_renders(tiny):
    photo = photo_array(32, 32)
    settings = RenderSettings(steps=3, seed=0, transforms="none", param="pixel")
    progress = common.Progress()
    assert progress.steps_done == 0
    for _ in range(2):
        image = common.render_image(tiny, objectives.deepdream(EARLY), settings, height=32,
                                    width=32, init=photo, progress=progress)
        assert image.shape == (32, 32, 3)
    assert progress.steps_done == 6


def test_check_fits_names_the_size_that_works(tiny):
    common.check_fits(tiny, (LATE,), 32, 32, [])
    with pytest.raises(ValueError, match=r"The photo at 3x3 pixels is too small for 'conv2'.*"
                                         r"shorter side needs at least 4 pixels: raise size"):
        common.check_fits(tiny, (LATE,), 3, 3, [])


def test_measurements_of_an_image_against_itself(tiny):
    photo = photo_array()
    assert common.cosine(tiny, photo, photo, LATE) == pytest.approx(1.0, abs=1e-6)
    assert common.norm_ratio(tiny, photo, photo, LATE) == pytest.approx(1.0, abs=1e-6)
    assert common.mean_square(tiny, photo, LATE) > 0


def test_the_pixel_pull_name_is_the_objectives_input():
    assert PULL_PIXELS == objectives.INPUT


def test_layer_names_drop_repeats_and_refuse_empty():
    assert common.layer_names(["a", "b", "a"]) == ("a", "b")
    assert common.layer_names("a") == ("a",)
    with pytest.raises(ValueError, match="at least one layer"):
        common.layer_names([])
