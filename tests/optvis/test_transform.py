"""Transforms: shapes, exact small cases, gradients, seeding, tf.function reuse, errors."""

import numpy as np
import pytest
import tensorflow as tf

from lucid2.optvis import transform as T


def _rng(seed=0):
    return tf.random.Generator.from_seed(seed)


def _ramp(n=1, h=5, w=5, c=1):
    return np.arange(n * h * w * c, dtype=np.float32).reshape(n, h, w, c)


def test_pad_constant_values_and_shape():
    x = np.ones((2, 3, 4, 3), np.float32)
    out = T.pad(2)(x, _rng()).numpy()
    assert out.shape == (2, 7, 8, 3)
    np.testing.assert_array_equal(out[:, 2:5, 2:6], 1.0)
    assert np.all(out[:, :2] == 0.5) and np.all(out[:, :, -2:] == 0.5)
    zero = T.pad(1, constant_value=0.0)(x, _rng()).numpy()
    assert zero[0, 0, 0, 0] == 0.0


def test_pad_reflect_and_uniform():
    x = _ramp(h=3, w=3)
    out = T.pad(1, mode="reflect")(x, _rng()).numpy()[0, ..., 0]
    np.testing.assert_array_equal(out, np.pad(x[0, ..., 0], 1, mode="reflect"))
    uni = T.pad(1, constant_value="uniform")(np.zeros((3, 2, 2, 3), np.float32), _rng()).numpy()
    border = uni[:, 0, 0, 0]
    assert np.all((border > 0) & (border < 1)) and len(set(border)) == 3
    np.testing.assert_array_equal(uni[:, 1:3, 1:3], 0.0)
    for i in range(3):
        ring = np.concatenate([uni[i, 0].ravel(), uni[i, -1].ravel(), uni[i, :, 0].ravel()])
        np.testing.assert_array_equal(ring, border[i])


def test_jitter_zero_is_identity_and_crops_are_windows():
    x = _ramp(n=4, h=6, w=7)
    np.testing.assert_array_equal(T.jitter(0)(x, _rng()).numpy(), x)
    out = T.jitter(2)(x, _rng(3)).numpy()
    assert out.shape == (4, 4, 5, 1)
    offsets = set()
    for i in range(4):
        # Each output is a contiguous window of its own input.
        matches = [(dy, dx) for dy in range(3) for dx in range(3)
                   if np.array_equal(out[i], x[i, dy:dy + 4, dx:dx + 5])]
        assert len(matches) == 1
        offsets.add(matches[0])
    assert len(offsets) > 1  # per-image offsets


def test_rotate_zero_is_identity_and_90_matches_rot90():
    x = _ramp(n=2, h=6, w=6, c=3) / 100.0
    np.testing.assert_array_equal(T.random_rotate([0])(x, _rng()).numpy(), x)
    out = T.random_rotate([90])(x, _rng()).numpy()
    np.testing.assert_allclose(out, np.rot90(x, k=1, axes=(1, 2)), atol=1e-4)
    rad = T.random_rotate([np.pi / 2], units="radians")(x, _rng()).numpy()
    np.testing.assert_allclose(rad, out, atol=1e-5)


def test_rotate_fills_corners_and_is_per_image():
    x = np.zeros((8, 9, 9, 1), np.float32)
    out = T.random_rotate([45], fill_value=0.5)(x, _rng()).numpy()
    assert out[0, 0, 0, 0] == 0.5 and out[0, 4, 4, 0] == 0.0
    y = np.tile(_ramp(h=9, w=9) / 81.0, (8, 1, 1, 1))
    varied = T.random_rotate([-30, 0, 30])(y, _rng(1)).numpy()
    assert len({varied[i].tobytes() for i in range(8)}) > 1


def test_random_scale_sizes_follow_the_drawn_factor():
    x = np.ones((2, 10, 20, 3), np.float32)
    assert T.random_scale([0.5])(x, _rng()).shape == (2, 5, 10, 3)
    assert T.random_scale([1.25])(x, _rng()).shape == (2, 12, 25, 3)
    np.testing.assert_allclose(T.random_scale([1.5])(x, _rng()).numpy(), 1.0, atol=1e-6)
    sizes = {T.random_scale([0.5, 1.0, 2.0])(x, _rng(s)).shape[1] for s in range(20)}
    assert sizes == {5, 10, 20}


def test_crop_or_pad_to_centers():
    x = _ramp(h=4, w=6)
    out = T.crop_or_pad_to(2, 8)(x, _rng()).numpy()[0, ..., 0]
    assert out.shape == (2, 8)
    np.testing.assert_array_equal(out[:, 1:7], x[0, 1:3, :, 0])
    assert np.all(out[:, 0] == 0.5) and np.all(out[:, 7] == 0.5)


def test_standard_transforms_turn_128_into_about_140():
    t = T.compose(T.standard_transforms)
    rng = _rng(5)
    x = tf.zeros((1, 128, 128, 3))
    sizes = [t(x, rng).shape[1] for _ in range(40)]
    assert 137 <= np.mean(sizes) <= 142
    # 144 px after pad and jitter, scaled by 0.9 ... 1.1 (floored), minus 4.
    assert min(sizes) >= 125 and max(sizes) <= 154


def test_article_transforms_keep_the_size():
    t = T.compose(T.article_transforms)
    for size in (64, 128):
        x = tf.random.uniform((2, size, size, 3))
        assert t(x, _rng()).shape == (2, size, size, 3)


@pytest.mark.parametrize("t", [
    T.pad(3), T.pad(2, mode="reflect"), T.jitter(3), T.random_scale([0.9, 1.1]),
    T.random_rotate([-10, 10]), T.crop_or_pad_to(10, 12), T.resize_to(10, 40),
    T.compose(T.standard_transforms), T.compose(T.article_transforms), T.collapse_alpha(),
])
def test_gradient_flows_to_the_input(t):
    channels = 4 if "alpha" in repr(t) else 3
    x = tf.Variable(tf.random.uniform((2, 32, 32, channels)))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(t(x, _rng()) ** 2)
    grad = tape.gradient(loss, x)
    assert grad is not None and float(tf.reduce_sum(tf.abs(grad))) > 0


def test_same_seed_gives_identical_outputs():
    t = T.compose(T.standard_transforms)
    x = tf.random.uniform((3, 40, 40, 3), seed=1)
    a, b = _rng(9), _rng(9)
    for _ in range(3):
        np.testing.assert_array_equal(t(x, a).numpy(), t(x, b).numpy())
    assert not np.array_equal(t(x, _rng(9)).numpy(), t(x, _rng(10)).numpy())


def test_no_retracing_across_draws_and_sizes():
    t = T.compose(T.standard_transforms)
    rng = _rng(2)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def step(images):
        return t(images, rng)

    shapes = {tuple(step(tf.zeros((1, s, s, 3))).shape) for s in (48, 48, 48, 64, 100)}
    assert len(shapes) > 1
    assert step.experimental_get_tracing_count() == 1
    fixed = tf.function(lambda images: t(images, rng))
    x = tf.random.uniform((1, 48, 48, 3))
    outs = [fixed(x).numpy() for _ in range(4)]
    assert fixed.experimental_get_tracing_count() == 1
    assert len({o.shape for o in outs}) > 1 or not np.array_equal(outs[0], outs[1])


def test_collapse_alpha():
    x = np.concatenate([np.full((2, 2, 2, 3), 0.3, np.float32),
                        np.ones((2, 2, 2, 1), np.float32)], axis=-1)
    np.testing.assert_allclose(T.collapse_alpha()(x, _rng()).numpy(), 0.3, atol=1e-7)
    with pytest.raises(ValueError, match="RGBA"):
        T.collapse_alpha()(np.zeros((1, 2, 2, 3), np.float32), _rng())


SIZE_CASES = [
    T.pad(3), T.pad(2, mode="reflect"), T.jitter(3), T.random_scale([0.5, 1.0, 1.3]),
    T.random_rotate([-10, 10]), T.crop_or_pad_to(10, 12), T.resize_to(10, 40),
    T.compose(T.standard_transforms),
    T.compose(T.article_transforms), T.preserve_size([T.pad(4), T.jitter(2)]),
    T.collapse_alpha(), T.compose([]),
]


@pytest.mark.parametrize("t", SIZE_CASES, ids=lambda t: repr(t).split("(")[0])
def test_every_transform_states_its_output_sizes(t):
    channels = 4 if "alpha" in repr(t) else 3
    hw = (21, 30)
    smallest, largest = T.smallest_output_size(t, hw), T.largest_output_size(t, hw)
    assert t.smallest_size(hw) == smallest and t.largest_size(hw) == largest
    seen = {tuple(t(tf.zeros((1, *hw, channels)), _rng(seed)).shape[1:3]) for seed in range(40)}
    for axis in (0, 1):
        assert smallest[axis] == min(s[axis] for s in seen)
        assert largest[axis] == max(s[axis] for s in seen)


def test_standard_transforms_state_125_to_154_pixels_for_128():
    t = T.compose(T.standard_transforms)
    # 144 px after pad and jitter, scaled by 0.9 ... 1.1 (floored), minus 4.
    assert T.smallest_output_size(t, (128, 128)) == (125, 125)
    assert T.largest_output_size(t, (128, 128)) == (154, 154)
    assert T.largest_output_size(T.compose(T.article_transforms), (96, 64)) == (96, 64)


def test_unknown_and_impossible_output_sizes():
    def plain(images, rng):
        return images

    assert T.largest_output_size(plain, (8, 8)) is None
    assert T.smallest_output_size(T.compose([T.pad(2), plain]), (8, 8)) is None
    assert T.largest_output_size(T.jitter(2), None) is None
    # crop_or_pad_to gives its size whatever it receives.
    assert T.largest_output_size(T.compose([plain, T.crop_or_pad_to(8, 9)]), (5, 5)) == (8, 9)
    assert T.smallest_output_size(T.crop_or_pad_to(8, 9), None) == (8, 9)
    assert T.largest_output_size(T.compose([plain, T.resize_to(8, 9)]), (5, 5)) == (8, 9)
    # A user's affine transform that states only its largest size.
    assert T.largest_output_size(RandomShift(1.0), (6, 7)) == (6, 7)
    assert T.smallest_output_size(RandomShift(1.0), (6, 7)) is None
    with pytest.raises(ValueError, match="larger than 8"):
        T.largest_output_size(T.jitter(8), (8, 20))
    with pytest.raises(ValueError, match="larger than 8"):
        T.smallest_output_size(T.preserve_size([T.jitter(8)]), (8, 20))
    with pytest.raises(ValueError, match="larger than 4"):
        T.largest_output_size(T.pad(4, mode="reflect"), (4, 8))
    with pytest.raises((TypeError, ValueError)):
        T.largest_output_size(T.jitter(2), (0, 8))


@pytest.mark.parametrize("call, error", [
    (lambda: T.pad(-1), ValueError),
    (lambda: T.pad(2.5), TypeError),
    (lambda: T.pad(2, mode="edge"), ValueError),
    (lambda: T.pad(2, constant_value="gray"), ValueError),
    (lambda: T.jitter(-2), ValueError),
    (lambda: T.random_scale([]), ValueError),
    (lambda: T.random_scale([1.0, 0.0]), ValueError),
    (lambda: T.random_scale(1.1), TypeError),
    (lambda: T.random_rotate([5], units="turns"), ValueError),
    (lambda: T.random_rotate([5], fill_mode="mirror"), ValueError),
    (lambda: T.crop_or_pad_to(0, 5), ValueError),
    (lambda: T.resize_to(5, 0), ValueError),
    (lambda: T.resize_to(5.5, 5), TypeError),
    (lambda: T.compose(T.jitter(2)), TypeError),
    (lambda: T.compose([T.jitter(2), 3]), TypeError),
])
def test_constructor_errors(call, error):
    with pytest.raises(error):
        call()


def test_call_errors():
    with pytest.raises(TypeError, match="Generator"):
        T.jitter(2)(np.zeros((1, 8, 8, 3), np.float32), 0)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        T.jitter(2)(np.zeros((8, 8, 3), np.float32), _rng())
    with pytest.raises(TypeError, match="float"):
        T.jitter(2)(np.zeros((1, 8, 8, 3), np.int32), _rng())
    with pytest.raises(ValueError, match="larger than 8"):
        T.jitter(8)(np.zeros((1, 8, 8, 3), np.float32), _rng())
    with pytest.raises(ValueError, match="larger than 4"):
        T.pad(4, mode="reflect")(np.zeros((1, 4, 8, 3), np.float32), _rng())


def test_param_through_transforms_in_one_tf_function():
    from lucid2.optvis import param

    image = param.image(32, batch=2)
    t = T.compose(T.standard_transforms)
    rng = _rng(4)
    variables = image.trainable_variables

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(t(image(), rng)[..., 1])
        grads = tape.gradient(loss, variables)
        for v, g in zip(variables, grads):
            v.assign_sub(0.5 * g)
        return loss

    losses = [float(step()) for _ in range(4)]
    assert step.experimental_get_tracing_count() == 1
    assert losses[-1] < losses[0]


# ----------------------------------------------- fusion: a user's own transform
class RandomShift(T.AffineTransform):
    """A user-written transform: shifts each image by its own fractional offset in
    [-limit, limit] pixels (bilinear, constant fill)."""

    def __init__(self, limit: float, fill: float = 0.5):
        self.limit, self.fill = limit, fill

    def _draw(self, rng, n):
        return rng.uniform(tf.stack([2, n]), -self.limit, self.limit)

    def apply(self, images, rng):
        shape = tf.shape(images)
        dx, dy = tf.unstack(self._draw(rng, shape[0]))
        ones, zeros = tf.ones_like(dx), tf.zeros_like(dx)
        flat = tf.stack([ones, zeros, dx, zeros, ones, dy, zeros, zeros], axis=1)
        out = tf.raw_ops.ImageProjectiveTransformV3(
            images=images, transforms=flat, output_shape=shape[1:3], fill_value=self.fill,
            interpolation="BILINEAR", fill_mode="CONSTANT")
        out.set_shape(images.shape)
        return out

    def affine(self, rng, geometry):
        dx, dy = tf.unstack(self._draw(rng, geometry.n))
        ones, zeros = tf.ones_like(dx), tf.zeros_like(dx)
        rows = [tf.stack([ones, zeros, dx], 1), tf.stack([zeros, ones, dy], 1),
                tf.stack([zeros, zeros, ones], 1)]
        return tf.stack(rows, axis=1), geometry

    def largest_size(self, hw):
        return hw

    def border_after(self, border):
        if border is None or border.fill != self.fill:
            return None
        return T.Border(border.fill, border.margin - np.ceil(self.limit))


def _fused_and_separate(transforms, images, seed):
    rngs = [tf.random.Generator.from_seed(seed) for _ in range(2)]
    a = T.compose(transforms)(images, rngs[0])
    b = T.compose(transforms, fuse=False)(images, rngs[1])
    np.testing.assert_array_equal(rngs[0].state.numpy(), rngs[1].state.numpy())
    assert a.shape == b.shape
    return a.numpy(), b.numpy()


def test_a_users_affine_transform_joins_the_fused_resampling():
    transforms = [T.pad(8), RandomShift(2.5), T.random_scale([0.9, 1.1]), T.jitter(2)]
    assert [len(step) for step in T.compose(transforms).steps] == [4]
    # Smooth and fading into the fill at the edges, like a render's images.
    window = np.outer(np.hanning(40), np.hanning(40))[None, :, :, None].astype(np.float32)
    images = 0.5 + 0.3 * window * tf.image.resize(
        tf.random.stateless_normal([2, 6, 6, 3], [0, 1]), (40, 40))
    for seed in range(3):
        # Shifts alone: one bilinear interpolation either way, so the same numbers.
        a, b = _fused_and_separate([T.pad(8), RandomShift(2.5), T.jitter(2)], images, seed)
        np.testing.assert_allclose(a, b, atol=1e-5)
        # With a scale: one interpolation instead of two, close but not equal (the
        # standard transforms differ as much).
        a, b = _fused_and_separate(transforms, images, seed)
        assert np.abs(a - b).mean() < 1e-3 and np.abs(a - b).max() < 0.05
        assert not np.array_equal(a, b)


def test_a_transform_that_refuses_the_border_or_is_not_affine_ends_the_run():
    other_fill = [T.pad(8), RandomShift(2.5, fill=0.1), T.random_scale([0.9, 1.1])]
    assert [len(step) for step in T.compose(other_fill).steps] == [1, 1, 1]
    plain = [T.pad(8), T.random_rotate([5]), lambda images, rng: images, T.jitter(2)]
    assert [len(step) for step in T.compose(plain).steps] == [2, 1, 1]
    # A scale needs padding at the border: after a rotation there is none left.
    rotated_first = [T.pad(8), T.random_rotate([5]), T.random_scale([0.9, 1.1])]
    assert [len(step) for step in T.compose(rotated_first).steps] == [2, 1]


def test_resize_to_resamples_bilinearly_to_a_static_size():
    ramp = np.broadcast_to(np.linspace(0, 1, 8, dtype=np.float32)[None, None, :, None],
                           (1, 4, 8, 3))
    out = T.resize_to(4, 16)(ramp, _rng())
    assert out.shape == (1, 4, 16, 3)
    np.testing.assert_allclose(out.numpy(), tf.image.resize(ramp, (4, 16)).numpy(), atol=1e-7)
    assert np.all(np.diff(out.numpy()[0, 0, :, 0]) >= 0)  # a ramp stays a ramp
    rng = _rng()
    unknown = tf.function(lambda x: T.resize_to(5, 6)(x, rng),
                          input_signature=[tf.TensorSpec((1, None, None, 3), tf.float32)])
    assert unknown.get_concrete_function().structured_outputs.shape == (1, 5, 6, 3)
