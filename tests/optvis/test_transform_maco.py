"""MACO's transforms: random_crops, random_noise and maco_transforms."""

import numpy as np
import pytest
import tensorflow as tf

from lucid2.optvis import transform


def _rng(seed: int = 0) -> tf.random.Generator:
    return tf.random.Generator.from_seed(seed)


def _ramp(batch: int = 2, height: int = 16, width: int = 20) -> tf.Tensor:
    """Images whose channel 0 is the column index, channel 1 the row, channel 2 the image."""
    rows, columns = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    images = [np.stack([columns, rows, np.full_like(rows, n)], axis=-1) for n in range(batch)]
    return tf.constant(np.stack(images), tf.float32)


def test_random_crops_shapes_and_order():
    images = _ramp()
    out = transform.random_crops(3)(images, _rng())
    assert out.shape == (6, 16, 20, 3) and out.dtype == tf.float32
    # Image-major: the crops of image 0, then those of image 1.
    np.testing.assert_allclose(out.numpy()[..., 2].reshape(6, -1).mean(axis=1),
                               [0, 0, 0, 1, 1, 1])
    sized = transform.random_crops(2, size=(8, 6))(images, _rng())
    assert sized.shape == (4, 8, 6, 3)


def test_crops_stay_inside_the_image_with_the_drawn_side():
    images = _ramp()
    out = transform.random_crops(5, min_fraction=0.5, max_fraction=0.5)(images, _rng(3)).numpy()
    for crop in out:
        columns, rows = crop[..., 0], crop[..., 1]
        assert columns.min() >= 0 and columns.max() <= 19 and rows.min() >= 0
        assert rows.max() <= 15
        # Half of the side: the (W - 1) pixel span becomes half as long.
        assert columns.max() - columns.min() == pytest.approx(0.5 * 19, abs=1e-3)
        assert rows.max() - rows.min() == pytest.approx(0.5 * 15, abs=1e-3)


def test_a_whole_image_crop_is_the_image():
    images = _ramp()
    out = transform.random_crops(1, min_fraction=1.0, max_fraction=1.0)(images, _rng())
    np.testing.assert_allclose(out.numpy(), images.numpy(), atol=1e-4)


def test_random_crops_are_seeded_and_differentiable():
    images = tf.Variable(_ramp())
    crops = transform.random_crops(2, min_fraction=0.3, max_fraction=0.6)
    np.testing.assert_array_equal(crops(images, _rng(1)).numpy(), crops(images, _rng(1)).numpy())
    assert not np.allclose(crops(images, _rng(1)).numpy(), crops(images, _rng(2)).numpy())
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(crops(images, _rng(1)))
    gradient = tape.gradient(total, images).numpy()
    # Only pixels under a crop get a gradient.
    assert gradient.max() > 0 and (gradient == 0).any()


def test_random_crops_inside_a_traced_function_with_unknown_sizes():
    crops = transform.random_crops(2)
    rng = _rng()
    traced = tf.function(lambda x: crops(x, rng),
                         input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)])
    assert traced(_ramp(1, 9, 7)).shape == (2, 9, 7, 3)


def test_random_noise_and_its_sizes():
    images = tf.zeros((2, 64, 64, 3))
    noisy = transform.random_noise(0.1)(images, _rng()).numpy()
    assert noisy.shape == (2, 64, 64, 3) and noisy.std() == pytest.approx(0.1, rel=0.05)
    np.testing.assert_array_equal(transform.random_noise(0.0)(images, _rng()).numpy(), 0)
    assert transform.largest_output_size(transform.random_noise(), (5, 6)) == (5, 6)


def test_crop_sizes_are_stated():
    crops = transform.random_crops(2)
    assert transform.largest_output_size(crops, (30, 40)) == (30, 40)
    assert transform.smallest_output_size(crops, (30, 40)) == (30, 40)
    sized = transform.random_crops(2, size=(8, 9))
    assert transform.largest_output_size(sized, (30, 40)) == (8, 9)
    assert transform.smallest_output_size(sized, None) == (8, 9)


def test_maco_transforms_compose():
    transforms = transform.maco_transforms(count=3, noise=0.0)
    assert len(transforms) == 2
    out = transform.compose(transforms)(_ramp(), _rng())
    assert out.shape == (6, 16, 20, 3)
    assert "random_crops(3" in repr(transforms[0]) and repr(transforms[1]) == "random_noise(0.0)"


@pytest.mark.parametrize("make,error,message", [
    (lambda: transform.random_crops(0), ValueError, "count must be a positive integer"),
    (lambda: transform.random_crops(2, min_fraction=0.8, max_fraction=0.5), ValueError,
     "min_fraction <= max_fraction <= 1"),
    (lambda: transform.random_crops(2, max_fraction=1.5), ValueError, "<= 1"),
    (lambda: transform.random_crops(2, min_fraction=0), ValueError, "positive number"),
    (lambda: transform.random_crops(2, size=(0, 4)), ValueError, "positive integer"),
    (lambda: transform.random_noise(-0.1), ValueError, ">= 0"),
    (lambda: transform.random_noise("x"), TypeError, "number"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()
