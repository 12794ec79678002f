"""Starting parameterizations from given images: round trips, loading, resizing and errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2.kernels import kernel_choice
from lucid2.misc.io import ImageLoadError, load_image, save_image
from lucid2.optvis import param

# The promise: step 0 reproduces the image within one 8-bit level.
TOLERANCE = 1.0 / 255.0
# Pixels strictly inside (0, 1) come back up to float32 rounding (logits of decorrelated
# colors reach about 60, so a few ulps of that).
FLOAT_SLACK = 1e-4
HEIGHT, WIDTH = 17, 23  # odd sizes: the Fourier round trip must not assume even ones


def _photo(seed=0, batch=1, height=HEIGHT, width=WIDTH):
    """A photo-like test image: smooth gradients, noise, and saturated black and white."""
    rng = np.random.default_rng(seed)
    y, x = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    smooth = np.stack([x, y, 0.5 * (1 - x * y)], axis=-1)
    images = np.clip(smooth + rng.normal(0, 0.15, (batch, height, width, 3)), 0, 1)
    images[:, 0, :3] = 0.0  # pure black
    images[:, -1, -3:] = 1.0  # pure white
    return images.astype(np.float32)


def _errors(made, target, valid_rgb):
    """(max error on pixels the map reaches, max error on the others).

    Clipping reaches all of [0, 1]; the sigmoid stops one margin short of 0 and 1.
    """
    made = np.asarray(made, np.float64)
    target = np.asarray(target, np.float64)
    margin = param.SIGMOID_INIT_MARGIN if valid_rgb == "sigmoid" else 0.0
    reached = (target >= margin) & (target <= 1 - margin)
    error = np.abs(made - target)
    assert reached.any()
    return error[reached].max(), error[~reached].max(initial=0.0)


def _check_round_trip(made, target, valid_rgb):
    reached, saturated = _errors(made, target, valid_rgb)
    assert reached < FLOAT_SLACK
    assert saturated < param.SIGMOID_INIT_MARGIN + FLOAT_SLACK / 10
    assert max(reached, saturated) < TOLERANCE + FLOAT_SLACK / 10


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("fft", [True, False], ids=["fft", "pixel"])
@pytest.mark.parametrize("decorrelate", [True, False], ids=["decorrelated", "rgb"])
@pytest.mark.parametrize("valid_rgb", ["sigmoid", "clip"])
def test_image_reproduces_its_init(fft, decorrelate, valid_rgb):
    photo = _photo()
    p = param.image(WIDTH, HEIGHT, fft=fft, decorrelate=decorrelate, valid_rgb=valid_rgb,
                    init=photo)
    _check_round_trip(p(), photo, valid_rgb)


@pytest.mark.parametrize("choice", ["fast", "reference"])
def test_lucid_default_reproduces_its_init_on_both_kernel_paths(choice):
    photo = _photo(seed=1, height=32, width=32)
    with kernel_choice(choice):
        p = param.image(32, init=photo)
        _check_round_trip(p(), photo, "sigmoid")
        _check_round_trip(tf.function(p)(), photo, "sigmoid")


@pytest.mark.parametrize("height, width", [(16, 16), (17, 23), (9, 8), (1, 5)])
@pytest.mark.parametrize("decay_power", [0.0, 1.0, 1.5])
def test_fft_image_computes_its_raw_init(height, width, decay_power):
    raw = np.random.default_rng(2).normal(0, 3, (2, height, width, 4)).astype(np.float32)
    p = param.fft_image(raw.shape, decay_power=decay_power, init=raw)
    np.testing.assert_allclose(p(), raw, atol=1e-5)
    np.testing.assert_allclose(tf.transpose(p.channels_first(), (0, 2, 3, 1)), raw, atol=1e-5)


def test_laplacian_pyramid_starts_at_the_finest_level():
    photo = _photo(height=16, width=20)
    p = param.laplacian_pyramid_image(20, 16, n_levels=3, init=photo)
    _check_round_trip(p(), photo, "sigmoid")
    levels = sorted(p.trainable_variables, key=lambda v: -v.shape[1])
    assert [v.shape[1] for v in levels] == [16, 8, 4]
    assert all(not np.any(v.numpy()) for v in levels[1:])  # coarser levels start at zero
    raw = param.raw_from_images(photo)
    np.testing.assert_array_equal(levels[0].numpy(), raw)


@pytest.mark.parametrize("offset", [None, True, (0, 3, 1, 0)])
def test_lowres_tensor_init_of_either_shape(offset):
    keras.utils.set_random_seed(0)
    shape, underlying = (2, 16, 12, 3), (1, 4, 3, 3)
    source = param.lowres_tensor(shape, underlying, offset=offset, sd=1.0)
    # An underlying-shaped init is the variable itself.
    exact = param.lowres_tensor(shape, underlying, offset=offset,
                                init=source.underlying.numpy())
    np.testing.assert_array_equal(exact(), source())
    # A full-shaped init that an underlying tensor can make is fitted back exactly.
    fitted = param.lowres_tensor(shape, underlying, offset=offset, init=source())
    np.testing.assert_allclose(fitted.underlying.numpy(), source.underlying.numpy(), atol=1e-4)
    np.testing.assert_allclose(fitted(), source(), atol=1e-4)


def test_lowres_tensor_fit_of_finer_detail_is_the_least_squares_optimum():
    target = np.random.default_rng(3).normal(size=(1, 12, 10, 2)).astype(np.float32)
    fitted = param.lowres_tensor(target.shape, (1, 4, 5, 2), init=target)
    residual = fitted().numpy() - target
    assert np.abs(residual).max() > 0.1  # approximate: the fine detail is lost
    # At the optimum the residual is orthogonal to every direction the variable can take.
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(fitted() - target))
    gradient = tape.gradient(loss, fitted.underlying)
    assert np.abs(gradient.numpy()).max() < 1e-3


def test_batch_of_different_images_and_one_image_for_the_batch():
    photos = np.concatenate([_photo(seed=n) for n in range(3)])
    assert not np.array_equal(photos[0], photos[1])
    several = param.image(WIDTH, HEIGHT, batch=3, init=photos)
    _check_round_trip(several(), photos, "sigmoid")
    one = param.image(WIDTH, HEIGHT, batch=3, init=photos[1])
    _check_round_trip(one(), np.repeat(photos[1:2], 3, axis=0), "sigmoid")
    listed = param.image(WIDTH, HEIGHT, batch=3, fft=False, init=list(photos))
    _check_round_trip(listed(), photos, "sigmoid")


@pytest.mark.parametrize("valid_rgb", ["sigmoid", "clip"])
def test_grayscale_starts_from_luminance_and_alpha_starts_opaque(valid_rgb):
    photo = _photo()
    gray = param.image(WIDTH, HEIGHT, channels=1, valid_rgb=valid_rgb, init=photo)
    luminance = photo.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(gray(), np.repeat(luminance[..., None], 3, -1),
                               atol=TOLERANCE + 1e-6)
    rgba = param.image(WIDTH, HEIGHT, channels=4, fft=False, valid_rgb=valid_rgb, init=photo)
    out = rgba().numpy()
    _check_round_trip(out[..., :3], photo, valid_rgb)
    opaque = 1.0 if valid_rgb == "clip" else 1.0 - param.SIGMOID_INIT_MARGIN
    np.testing.assert_allclose(out[..., 3], opaque, atol=1e-6)


def test_shared_and_interpolation_images_start_from_init():
    photos = _photo(batch=3, height=16, width=16)
    shared = param.shared_image(16, batch=3, init=photos)
    _check_round_trip(shared(), photos, "sigmoid")
    frames = param.image_interpolation(16, n_frames=3, fft=False, init=photos[:1])
    _check_round_trip(frames(), np.repeat(photos[:1], 3, axis=0), "sigmoid")


# ---------------------------------------------------------- loading and resizing
def test_init_from_a_png_path_is_loaded_at_the_param_size(tmp_path):
    path = tmp_path / "photo.png"
    save_image(_photo(height=40, width=30)[0], path)
    expected = load_image(path, (HEIGHT, WIDTH))
    for init in (path, str(path), [path]):
        loaded = param.load_init(init, HEIGHT, WIDTH, batch=2)
        assert loaded.shape == (2, HEIGHT, WIDTH, 3) and loaded.dtype == np.float32
        np.testing.assert_array_equal(loaded, np.stack([expected, expected]))
    p = param.image(WIDTH, HEIGHT, init=path)
    _check_round_trip(p(), expected[None], "sigmoid")


def test_arrays_of_another_size_are_resized_and_uint8_scaled():
    big = _photo(height=60, width=46)
    loaded = param.load_init(big, 30, 23)
    expected = tf.image.resize(big, (30, 23), method="bilinear", antialias=True).numpy()
    np.testing.assert_allclose(loaded, np.clip(expected, 0, 1), atol=1e-6)
    assert np.all((loaded >= 0) & (loaded <= 1))
    as_bytes = np.round(big[0] * 255).astype(np.uint8)
    np.testing.assert_allclose(param.load_init(as_bytes, 60, 46)[0], as_bytes / 255.0,
                               atol=1e-7)
    same_size = param.load_init(big, 60, 46)
    np.testing.assert_array_equal(same_size, big)  # no resampling when the size matches


def test_real_photo_round_trip_with_lucids_default(shared_data):
    path = sorted((shared_data / "imagenet-samples").iterdir())[0]
    p = param.image(64, init=path)
    reached, saturated = _errors(p(), param.load_init(path, 64, 64), "sigmoid")
    assert reached < FLOAT_SLACK
    assert max(reached, saturated) < TOLERANCE + FLOAT_SLACK / 10


# ------------------------------------------------------------- optimization
@pytest.mark.parametrize("fft, valid_rgb", [(True, "sigmoid"), (False, "sigmoid"),
                                             (True, "clip")])
def test_steps_from_a_saturated_init_still_move_every_pixel(fft, valid_rgb):
    # Black and white squares: the hardest start for a sigmoid, whose slope at the margin
    # is about 1/255 of a level per raw unit (a float32 sigmoid at 0 or 1 has none).
    checker = np.kron((np.indices((4, 4)).sum(0) % 2), np.ones((4, 4)))
    photo = np.repeat(checker[None, ..., None], 3, axis=-1).astype(np.float32)
    p = param.image(16, fft=fft, valid_rgb=valid_rgb, init=photo)
    start = p().numpy()
    optimizer = keras.optimizers.Adam(learning_rate=0.05)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(p() - 0.5))  # pull every pixel towards gray
        optimizer.apply_gradients(zip(tape.gradient(loss, p.trainable_variables),
                                      p.trainable_variables))

    for _ in range(20):
        step()
    towards_gray = np.abs(start - 0.5) - np.abs(p().numpy() - 0.5)
    # Every pixel moved, by at least a twentieth of an 8-bit level (Lucid's default
    # Fourier param is the slowest: its steps are small in pixel space).
    assert towards_gray.min() > TOLERANCE / 20


# ------------------------------------------------------------------- errors
def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.png"):
        param.image(16, init=tmp_path / "missing.png")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ImageLoadError, match="notes.png"):
        param.image(16, init=text)
    with pytest.raises(FileNotFoundError, match=r"gone\.jpg"):
        param.load_init([_photo(height=16, width=16), tmp_path / "gone.jpg"], 16, 16)


@pytest.mark.parametrize("init, error, message", [
    (np.zeros((16, 16, 4)), ValueError, r"\(H, W\), \(H, W, 3\)"),
    (np.zeros((16, 16, 2)), ValueError, r"shape \(16, 16, 2\)"),
    (np.zeros((2, 3, 16, 16, 3)), ValueError, "shape"),
    (np.full((16, 16, 3), 1.5), ValueError, r"values in \[1.5, 1.5\]; .* \[0, 1\]"),
    (np.full((16, 16, 3), -0.1), ValueError, r"values in \[-0.1, -0.1\]"),
    (np.full((16, 16, 3), np.nan), ValueError, "NaN"),
    (np.full((16, 16, 3), np.inf), ValueError, "infinite"),
    (np.zeros((16, 16, 3), np.int32), TypeError, "int32"),
    (np.zeros((3, 16, 16, 3)), ValueError, "holds 3 images.*1 .*or the batch size, 2"),
    ({"pixels": 0}, TypeError, "path or an array"),
])
def test_bad_init_is_refused_before_any_variable(init, error, message):
    with pytest.raises(error, match=message):
        param.load_init(init, 16, 16, batch=2)
    with pytest.raises(error, match=message):
        param.image(16, batch=2, init=init)


def test_init_with_sd_and_raw_inits_of_the_wrong_shape():
    with pytest.raises(ValueError, match="either sd .* or init"):
        param.image(16, sd=0.1, init=_photo(height=16, width=16))
    with pytest.raises(ValueError, match="either sd .* or init"):
        param.laplacian_pyramid_image(16, sd=0.1, init=_photo(height=16, width=16))
    with pytest.raises(ValueError, match=r"init must have shape \(1, 8, 8, 3\), got \(8, 8, 3\)"):
        param.fft_image((1, 8, 8, 3), init=np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="finite"):
        param.fft_image((1, 8, 8, 3), init=np.full((1, 8, 8, 3), np.nan))
    with pytest.raises(ValueError, match=r"\(1, 2, 2, 3\) or \(1, 8, 8, 3\)"):
        param.lowres_tensor((1, 8, 8, 3), (1, 2, 2, 3), init=np.zeros((1, 4, 4, 3)))
    with pytest.raises(ValueError, match="either sd"):
        param.lowres_tensor((1, 8, 8, 3), (1, 2, 2, 3), sd=1.0, init=np.zeros((1, 2, 2, 3)))
    with pytest.raises(ValueError, match=r"init must have shape \(2, 8, 8, 3\)"):
        param.laplacian_pyramid((2, 8, 8, 3), init=np.zeros((1, 8, 8, 3)))


def test_starting_from_an_image_draws_no_random_numbers():
    keras.utils.set_random_seed(5)
    expected = param.image(16, batch=2)().numpy()
    keras.utils.set_random_seed(5)
    param.image(16, batch=2, init=_photo(height=16, width=16))
    param.laplacian_pyramid_image(16, init=_photo(height=16, width=16))
    np.testing.assert_array_equal(param.image(16, batch=2)().numpy(), expected)


# ------------------------------------------------------------- inverse maps
@pytest.mark.parametrize("decorrelate", [True, False])
@pytest.mark.parametrize("sigmoid", [True, False])
def test_from_valid_rgb_inverts_to_valid_rgb(decorrelate, sigmoid):
    colors = np.random.default_rng(4).uniform(0.01, 0.99, (50, 3)).astype(np.float32)
    raw = param.from_valid_rgb(colors, decorrelate=decorrelate, sigmoid=sigmoid)
    np.testing.assert_allclose(param.to_valid_rgb(raw, decorrelate=decorrelate,
                                                  sigmoid=sigmoid), colors, atol=1e-5)
    np.testing.assert_allclose(
        param.linear_decorrelate_color(param.inverse_decorrelate_color(colors)), colors,
        atol=1e-6)
    ends = param.inverse_squash(np.array([0.0, 1.0]), "sigmoid")
    margin = param.SIGMOID_INIT_MARGIN
    np.testing.assert_allclose(ends, [np.log(margin / (1 - margin)), np.log((1 - margin) / margin)])
