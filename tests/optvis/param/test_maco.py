"""param.maco (MACO): shapes, the fixed magnitude, the phase as the only variable, seeding;
magnitude_spectrum on synthetic photos; resize_spectrum; the shipped default spectrum."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lucid2 import kernels
from lucid2.misc.io import save_image
from lucid2.optvis import param
from lucid2.optvis.param import maco_fft as maco_module
from lucid2.optvis.param.maco_fft import RAW_STD

ATOL = 1e-5  # float32 rounding, relative to magnitudes of order 1


def _radial_spectrum(height: int, width: int) -> np.ndarray:
    """A natural-image-like (3, height, width // 2 + 1) spectrum: 1 / f, per channel scaled."""
    freqs = param.rfft2d_freqs(height, width)
    base = 1.0 / np.maximum(freqs, 1.0 / max(height, width))
    return np.stack([base, 0.5 * base, 0.25 * base]).astype(np.float32)


def _raw_spectrum(raw: param.MacoFFT) -> np.ndarray:
    """The magnitudes of the real FFT of the raw tensor, (batch, 3, h, w // 2 + 1)."""
    return np.abs(np.fft.rfft2(raw.channels_first().numpy().astype(np.float64)))


# ------------------------------------------------------------------ the param
@pytest.mark.parametrize("size,batch,shape", [
    (16, 1, (1, 16, 16, 3)), ((12, 20), 2, (2, 12, 20, 3)), ((9, 7), 1, (1, 9, 7, 3)),
    ([6, 5], 3, (3, 6, 5, 3))])
def test_maco_shapes_dtype_and_range(size, batch, shape):
    image_param = param.maco(size, batch=batch)
    images = image_param()
    assert images.shape == shape and images.dtype == tf.float32
    values = images.numpy()
    assert values.min() >= 0 and values.max() <= 1 and values.std() > 0.01
    assert image_param.shape == shape


def test_only_the_phase_is_trainable():
    image_param = param.maco((10, 14), batch=2)
    raw = image_param.raw
    assert isinstance(raw, param.MacoFFT)
    assert [v.name for v in image_param.trainable_variables] == ["phase:0"]
    assert raw.phase.shape == (2, 3, 10, 14 // 2 + 1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(image_param() ** 2)
    (gradient,) = tape.gradient(loss, image_param.trainable_variables)
    assert gradient is not None and np.abs(gradient.numpy()).max() > 0
    assert not raw.magnitude.flags.writeable


@pytest.mark.parametrize("size", [16, (9, 12), (8, 7), (2, 2)])
def test_the_magnitude_is_fixed_whatever_the_phase(size):
    height, width = (size, size) if isinstance(size, int) else size
    spectrum = _radial_spectrum(height, width)
    image_param = param.maco(size, batch=2, spectrum=spectrum)
    raw = image_param.raw
    # The given spectrum is used as is (its grid is the image's), but for the mean.
    expected = spectrum.copy()
    expected[:, 0, 0] = 0
    np.testing.assert_allclose(raw.magnitude, expected, rtol=1e-6)
    rng = np.random.default_rng(0)
    for phase in (raw.phase.numpy(), rng.uniform(-10, 10, raw.phase.shape)):
        raw.phase.assign(phase.astype(np.float32))
        magnitudes = _raw_spectrum(raw)
        # Up to the normalization (one constant), the raw image's spectrum is the given one.
        np.testing.assert_allclose(magnitudes, np.broadcast_to(raw.output_scale * expected,
                                                           magnitudes.shape),
                                   atol=ATOL * raw.output_scale * expected.max(), rtol=1e-4)
        values = raw().numpy().astype(np.float64)
        np.testing.assert_allclose(values.std(axis=(1, 2, 3)), RAW_STD, rtol=1e-4)
        np.testing.assert_allclose(values.mean(axis=(1, 2)), 0, atol=1e-5)


def test_self_conjugate_columns_of_an_asymmetric_spectrum_are_symmetrized():
    spectrum = _radial_spectrum(8, 8)
    spectrum[:, 1, 0] *= 3  # frequency (+1/8, 0) but not (-1/8, 0)
    raw = param.maco(8, spectrum=spectrum).raw
    np.testing.assert_allclose(raw.magnitude[:, 1, 0], raw.magnitude[:, -1, 0])
    np.testing.assert_allclose(raw.magnitude[:, 1, 0], 2 * spectrum[:, 1, 0] / 3, rtol=1e-6)
    np.testing.assert_allclose(_raw_spectrum(raw)[0], raw.output_scale * raw.magnitude,
                               atol=ATOL * raw.output_scale * raw.magnitude.max())


@pytest.mark.parametrize("choice", ["fast", "reference"])
def test_phase_gradient_matches_finite_differences(choice):
    keras.utils.set_random_seed(1)
    raw = param.maco((6, 5), spectrum=_radial_spectrum(6, 5)).raw
    weights = tf.constant(np.random.default_rng(2).normal(size=(1, 6, 5, 3)), tf.float32)

    def loss() -> tf.Tensor:
        return tf.reduce_sum(raw() * weights)

    with kernels.kernel_choice(choice):
        with tf.GradientTape() as tape:
            value = loss()
        gradient = tape.gradient(value, raw.phase).numpy()
        start = raw.phase.numpy()
        step = 1e-2
        for index in [(0, 0, 1, 0), (0, 1, 2, 1), (0, 2, 0, 2), (0, 0, 5, 0), (0, 1, 3, 2)]:
            shifted = start.copy()
            shifted[index] += step
            raw.phase.assign(shifted)
            up = float(loss())
            shifted[index] -= 2 * step
            raw.phase.assign(shifted)
            down = float(loss())
            raw.phase.assign(start)
            assert gradient[index] == pytest.approx((up - down) / (2 * step), rel=2e-2,
                                                    abs=2e-3)


def test_seeded_phases_are_reproducible():
    keras.utils.set_random_seed(7)
    first = param.maco(12, batch=2)().numpy()
    keras.utils.set_random_seed(7)
    second = param.maco(12, batch=2)().numpy()
    keras.utils.set_random_seed(8)
    third = param.maco(12, batch=2)().numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, third)
    assert not np.allclose(first[0], first[1])  # each image has its own phases


def test_maco_renders_rgb_spectra_without_decorrelation():
    spectrum = _radial_spectrum(8, 8)
    image_param = param.maco(8, spectrum=spectrum, decorrelate=False)
    assert not image_param.decorrelate
    raw = image_param.raw.channels_first().numpy()  # (1, 3, 8, 8)
    np.testing.assert_allclose(image_param().numpy()[0], 1 / (1 + np.exp(-raw[0])).transpose(
        1, 2, 0), atol=1e-6)


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(size=0), ValueError, "positive integer"),
    (dict(size=1), ValueError, "at least 2 pixels"),
    (dict(size=(4, 1)), ValueError, "at least 2 pixels"),
    (dict(size="8"), TypeError, "int or a \\(height, width\\) pair"),
    (dict(size=(8, 8, 3)), TypeError, "int or a \\(height, width\\) pair"),
    (dict(size=8, batch=0), ValueError, "batch must be a positive integer"),
    (dict(size=8, spectrum=np.ones((8, 5))), ValueError, "\\(3, height, width // 2 \\+ 1\\)"),
    (dict(size=8, spectrum=np.ones((2, 8, 5))), ValueError, "\\(3, height"),
    (dict(size=8, spectrum=np.ones((3, 1, 5))), ValueError, "at least 2 x 2"),
    (dict(size=8, spectrum=-np.ones((3, 8, 5))), ValueError, "negative"),
    (dict(size=8, spectrum=np.full((3, 8, 5), np.nan)), ValueError, "finite"),
    (dict(size=8, spectrum="nope.npz"), FileNotFoundError, "does not exist"),
    (dict(size=8, spectrum=object()), TypeError, "array of magnitudes"),
    (dict(size=8, decorrelate=False), ValueError, "decorrelate=False"),
    (dict(size=8, decorrelate=1), TypeError, "True or False"),
])
def test_bad_arguments_are_refused_before_any_variable(kwargs, error, message, monkeypatch):
    created = []
    monkeypatch.setattr(maco_module.MacoFFT, "__init__",
                        lambda *args, **kw: created.append(args))
    with pytest.raises(error, match=message):
        param.maco(**kwargs)
    assert not created


def test_a_spectrum_with_energy_only_at_the_mean_is_refused():
    spectrum = np.zeros((3, 8, 5), np.float32)
    spectrum[:, 0, 0] = 5.0
    with pytest.raises(ValueError, match="zero at every frequency but the mean"):
        param.maco(8, spectrum=spectrum)


def test_maco_fft_checks_the_magnitude_grid():
    with pytest.raises(ValueError, match=r"magnitude must have shape \(3, 8, 5\)"):
        param.MacoFFT((1, 8, 8, 3), np.ones((3, 8, 4)))


# ------------------------------------------------------------ resize_spectrum
def test_resize_keeps_values_at_the_same_frequency():
    source = _radial_spectrum(16, 16)
    resized = param.resize_spectrum(source, 32)
    assert resized.shape == (3, 32, 17) and resized.dtype == np.float32
    # Even target indices fall on the source's frequencies (cycles per pixel).
    source_rows = np.r_[0:8, 8:16]  # source rows ky = 0..7 and -8..-1
    target_rows = np.r_[0:16:2, 16:32:2]
    expected = source[:, source_rows][:, :, :9]
    got = resized[:, target_rows][:, :, 0:18:2]
    expected[:, 0, 0] = got[:, 0, 0] = 0
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert np.all(resized[:, 0, 0] == 0)
    # Odd target sizes: the monotone profile stays within the source's range.
    odd = param.resize_spectrum(source, (9, 11))
    assert odd.shape == (3, 9, 6) and np.all(odd[:, 1:] <= source.max())


def test_resize_to_the_same_grid_only_zeroes_the_mean():
    source = _radial_spectrum(8, 10)
    resized = param.resize_spectrum(source, (8, 10))
    expected = source.copy()
    expected[:, 0, 0] = 0
    np.testing.assert_array_equal(resized, expected)


def test_resize_does_not_pull_low_frequencies_to_the_zero_mean():
    source = _radial_spectrum(8, 8)
    source[:, 0, 0] = 0  # as magnitude_spectrum gives it
    resized = param.resize_spectrum(source, 64)
    # Frequencies below the source's lowest (1/8) keep about its level, not half of it.
    assert np.all(resized[:, 1, 0] >= 0.9 * source[:, 1, 0].min())


# --------------------------------------------------------- magnitude_spectrum
def _stripes(height: int, width: int, cycles: int, axis: int) -> np.ndarray:
    """Gray (height, width, 3) stripes with ``cycles`` periods along ``axis`` (0: down)."""
    length = (height, width)[axis]
    wave = 0.5 + 0.25 * np.cos(2 * np.pi * cycles * np.arange(length) / length)
    gray = wave[:, None] * np.ones(width) if axis == 0 else np.ones(height)[:, None] * wave
    return np.repeat(gray[..., None], 3, axis=-1).astype(np.float32)


def test_spectrum_of_a_sinusoid_peaks_at_its_frequency():
    horizontal = _stripes(32, 32, 3, axis=1)
    spectrum = param.magnitude_spectrum(horizontal, 32, decorrelate=False, window=False)
    assert spectrum.shape == (3, 32, 17) and spectrum.dtype == np.float32
    expected = np.zeros((32, 17))
    expected[0, 3] = 0.25 * 32 * 32 / 2  # half of the cosine's energy in each of +-f
    for channel in spectrum:
        np.testing.assert_allclose(channel, expected, atol=1e-3)
    vertical = _stripes(32, 32, 5, axis=0)
    windowed = param.magnitude_spectrum(vertical, 32)  # decorrelated colors, Hann window
    channel = windowed[np.argmax(windowed.sum(axis=(1, 2)))]
    assert np.unravel_index(np.argmax(channel), channel.shape) in ((5, 0), (27, 0))
    assert windowed[:, 0, 0].tolist() == [0, 0, 0]


def test_spectrum_averages_over_photos_from_arrays_paths_and_folders(tmp_path):
    rng = np.random.default_rng(0)
    photos = rng.integers(0, 256, size=(3, 20, 24, 3), dtype=np.uint8)
    paths = [save_image(photo, tmp_path / f"photo{n}.png") for n, photo in enumerate(photos)]
    from_array = param.magnitude_spectrum(photos, 16)
    from_paths = param.magnitude_spectrum([str(p) for p in paths], 16)
    from_folder = param.magnitude_spectrum(tmp_path, 16)
    mixed = param.magnitude_spectrum([photos[0], paths[1], photos[2:]], 16)
    single = [param.magnitude_spectrum(photo, 16) for photo in photos]
    np.testing.assert_allclose(from_array, np.mean(single, axis=0), rtol=1e-5)
    for other in (from_paths, from_folder, mixed):
        np.testing.assert_allclose(other, from_array, rtol=1e-5)


def test_spectrum_crops_photos_to_the_aspect_instead_of_stretching():
    wide = _stripes(32, 64, 8, axis=1)  # a period of 8 pixels
    spectrum = param.magnitude_spectrum(wide, 32, decorrelate=False, window=False)
    # The central 32x32 keeps the period of 8 pixels: 4 cycles, not 8.
    assert np.unravel_index(np.argmax(spectrum[0]), spectrum[0].shape) == (0, 4)


@pytest.mark.parametrize("images,size,error,message", [
    ([], 8, ValueError, "at least one photo"),
    ("missing.png", 8, FileNotFoundError, "does not exist"),
    (["missing.png"], 8, FileNotFoundError, "does not exist"),
    (42, 8, TypeError, "images must be"),
    (np.zeros((8, 8, 2)), 8, ValueError, "RGB"),
    (np.full((8, 8, 3), 2.0), 8, ValueError, "\\[0, 1\\]"),
    (np.zeros((8, 8, 3)), 1, ValueError, "at least 2 pixels"),
])
def test_spectrum_errors(images, size, error, message):
    with pytest.raises(error, match=message):
        param.magnitude_spectrum(images, size)


def test_spectrum_of_an_empty_folder_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="holds no photos"):
        param.magnitude_spectrum(tmp_path, 8)


# --------------------------------------------------------- files and default
def test_save_and_load_spectrum(tmp_path):
    photos = np.random.default_rng(1).uniform(size=(2, 12, 12, 3)).astype(np.float32)
    path = param.save_spectrum(photos, tmp_path / "spectrum.npz", size=12)
    loaded = param.load_spectrum(path)
    computed = param.magnitude_spectrum(photos, 12)
    assert loaded.shape == (3, 12, 7) and loaded.dtype == np.float32 and loaded.max() == 1
    np.testing.assert_allclose(loaded, computed / computed.max(), rtol=1e-3, atol=1e-4)
    with np.load(path) as data:
        assert data["images"] == 2 and data["size"].tolist() == [12, 12]
        assert bool(data["decorrelate"]) and bool(data["window"])
    from_file = param.maco(12, spectrum=path).raw.magnitude
    np.testing.assert_allclose(from_file, param.maco(12, spectrum=loaded).raw.magnitude)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        param.save_spectrum(photos, tmp_path / "no" / "spectrum.npz", size=12)
    np.savez(tmp_path / "other.npz", values=np.ones(3))
    with pytest.raises(ValueError, match="holds no 'spectrum'"):
        param.load_spectrum(tmp_path / "other.npz")


def test_default_spectrum_file_has_the_documented_content():
    spectrum = param.default_spectrum()
    assert spectrum.shape == (3, 224, 113) and spectrum.dtype == np.float32
    assert spectrum.max() == 1 and spectrum.min() >= 0 and np.all(spectrum[:, 0, 0] == 0)
    spectrum[:] = 0  # a copy: the next call is unchanged
    assert param.default_spectrum().max() == 1
    with np.load(param.DEFAULT_SPECTRUM_FILE) as data:
        assert int(data["images"]) == 50 and data["size"].tolist() == [224, 224]
        assert bool(data["decorrelate"]) and bool(data["window"])
    assert param.DEFAULT_SPECTRUM_FILE.stat().st_size < 300_000
    # A natural image's spectrum falls off with frequency.
    freqs = param.rfft2d_freqs(224, 224)
    spectrum = param.default_spectrum()
    low = spectrum[:, (freqs > 0) & (freqs < 0.05)].mean()
    high = spectrum[:, freqs > 0.3].mean()
    assert low > 10 * high


def test_default_spectrum_is_reproduced_from_the_shared_photos(shared_data, tmp_path):
    path = param.save_spectrum(shared_data / "imagenet-samples", tmp_path / "spectrum.npz")
    with np.load(path) as ours, np.load(param.DEFAULT_SPECTRUM_FILE) as shipped:
        for key in ("spectrum", "size", "images", "decorrelate", "window"):
            np.testing.assert_array_equal(ours[key], shipped[key])
