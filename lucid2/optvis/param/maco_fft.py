"""MACO: a Fourier parameterization that optimizes only the phase under a fixed magnitude.

After Fel et al., "Unlocking Feature Visualization for Deeper Networks with MAgnitude
Constrained Optimization" (NeurIPS 2023). Lucid's Fourier parameterization lets every
coefficient's magnitude grow, and deep units then fill the image with high-frequency
patterns; MACO keeps the magnitude of every coefficient at that of natural photos and
optimizes the phases only, so the render keeps a photo's energy per frequency.

What :func:`maco` computes, per image and color channel::

    raw = irfft2d(magnitude * scale * exp(i * phase))    # (height, width)
    image = sigmoid(decorrelate_colors(raw))              # as param.image does

* ``magnitude``: fixed, the average magnitude spectrum of photos in ImageNet's
  decorrelated color space (:func:`magnitude_spectrum`), linearly interpolated in
  frequency (cycles per pixel) onto the image's frequency grid (:func:`resize_spectrum`).
  The mean (the DC coefficient) is always 0: MACO images carry no mean of their own, so
  each channel's mean is the sigmoid's center, gray.
* ``phase``: the only variable, (batch, 3, height, width // 2 + 1), started uniform in
  [-pi, pi) (seed it with ``keras.utils.set_random_seed``). In the columns whose
  coefficients stand for their own conjugates (the first, and the last when the width is
  even) the antisymmetric part of the phase is used, so the spectrum is that of a real
  image and the inverse FFT keeps every magnitude exactly.
* ``scale``: one constant. With every magnitude fixed, Parseval's theorem fixes the
  image's energy whatever the phases, so the normalization of the MACO paper (the image
  standardized after the inverse FFT) is a constant, folded into the magnitudes: the raw
  image has mean 0 and standard deviation :data:`RAW_STD` at every step.

The default spectrum (:func:`default_spectrum`, the file ``maco_spectrum.npz`` beside
this module) was computed by :func:`save_spectrum` from the 50 ImageNet photos of the
project's shared test data (``imagenet-samples``, one photo per class) at 224 x 224,
with this command from the repository root (the shared data beside it)::

    python -c "from lucid2.optvis import param; \\
        param.save_spectrum('../shared/data/imagenet-samples', param.DEFAULT_SPECTRUM_FILE)"

Use your own photos the same way (``spectrum=param.magnitude_spectrum(photos, size)`` or
a saved file). MACO's transparency map (where the objective's gradient fell) comes from
the render: ``render_vis(..., transparency=True)``; its random crops are
:func:`lucid2.optvis.transform.random_crops` and :func:`lucid2.optvis.transform.maco_transforms`.
"""

from __future__ import annotations

import functools
import os
import pathlib
from typing import Any, Iterator

import numpy as np
import tensorflow as tf

from lucid2.kernels import ScaledInverseRFFT2D
from lucid2.misc.io import atomic_write, rgb_batch
from lucid2.optvis import checks
from lucid2.optvis.param.base import CHANNELS_FIRST, RawParam
from lucid2.optvis.param.color import inverse_decorrelate_color
from lucid2.optvis.param.images import RGBImage
from lucid2.optvis.param.init import resize_images

DEFAULT_SPECTRUM_FILE = pathlib.Path(__file__).with_name("maco_spectrum.npz")
# The photos' size when the default spectrum was computed: InceptionV1's input size.
DEFAULT_SPECTRUM_SIZE = 224
# The default spectrum is of colors in ImageNet's decorrelated space (what maco's
# ``decorrelate=True`` maps to RGB).
DEFAULT_SPECTRUM_DECORRELATED = True
SPECTRUM_KEY = "spectrum"
SPECTRUM_CHANNELS = 3
# A side of one pixel has no frequency but the mean, which MACO does not use.
MIN_SIDE = 2
# Standard deviation of the raw image (before color mixing and the sigmoid), over its
# pixels and channels: the MACO paper's standardization.
RAW_STD = 1.0
# The default spectrum is stored as float16, scaled so that its largest value is 1 (only
# relative magnitudes matter, see RAW_STD): a quarter of the float64 file.
STORED_DTYPE = np.float16


# ------------------------------------------------------------------ checks
def _size(size, name: str = "size") -> tuple[int, int]:
    """(height, width) from an int (a square) or a (height, width) pair, each >= MIN_SIDE."""
    if checks.is_int(size):
        pair = (size, size)
    elif isinstance(size, (tuple, list)) and len(size) == 2:
        pair = tuple(size)
    else:
        raise TypeError(f"{name} must be an int or a (height, width) pair, got {size!r}.")
    height, width = (checks.positive_int(name, side) for side in pair)
    if min(height, width) < MIN_SIDE:
        raise ValueError(f"{name} must be at least {MIN_SIDE} pixels on each side (a "
                         f"1-pixel side has no frequency but the mean), got {size!r}.")
    return height, width


def _checked_spectrum(spectrum, name: str = "spectrum") -> np.ndarray:
    """A magnitude spectrum as a float64 (3, rows, columns) array of finite values >= 0."""
    try:
        array = np.array(spectrum, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of magnitudes, got "
                        f"{type(spectrum).__name__}.") from None
    if (array.ndim != 3 or array.shape[0] != SPECTRUM_CHANNELS
            or min(array.shape[1:]) < MIN_SIDE):
        raise ValueError(
            f"{name} must be a (3, height, width // 2 + 1) magnitude spectrum (one per color "
            f"channel, on the real FFT's grid, at least {MIN_SIDE} x {MIN_SIDE}), got shape "
            f"{array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (it holds NaN or infinity).")
    if np.any(array < 0):
        raise ValueError(f"{name} holds negative values ({array.min():.3g}); magnitudes "
                         "are >= 0.")
    return array


def _spectrum_from(spectrum, name: str = "spectrum") -> np.ndarray:
    """An array or a path to a file written by :func:`save_spectrum`, checked."""
    if isinstance(spectrum, (str, os.PathLike)):
        return load_spectrum(spectrum)
    return _checked_spectrum(spectrum, name)


# --------------------------------------------------------------- spectra
def _interpolate_axis(values: np.ndarray, source: np.ndarray, target: np.ndarray,
                      axis: int) -> np.ndarray:
    """Linear interpolation of ``values`` along ``axis`` from the increasing coordinates
    ``source`` to ``target``; targets outside take the nearest end value."""
    index = np.clip(np.searchsorted(source, target, side="right") - 1, 0, len(source) - 2)
    left, right = source[index], source[index + 1]
    weight = np.clip((target - left) / (right - left), 0.0, 1.0)
    shape = [1] * values.ndim
    shape[axis] = -1
    weight = weight.reshape(shape)
    lower = np.take(values, index, axis=axis)
    upper = np.take(values, index + 1, axis=axis)
    return lower * (1.0 - weight) + upper * weight


def resize_spectrum(spectrum, size) -> np.ndarray:
    """A (3, rows, columns) magnitude spectrum on the real FFT grid of ``size`` images.

    Args:
      spectrum: magnitudes on the grid of ``np.fft.rfft2``: rows at ``np.fft.fftfreq(rows)``
        and columns from 0 to 0.5 cycles per pixel (``columns = width // 2 + 1`` of an
        even width).
      size: the target image size, an int or (height, width).

    Returns:
      float32 (3, height, width // 2 + 1), the magnitudes linearly interpolated in
        frequency (cycles per pixel, rows then columns; beyond the source's highest
        frequency its edge value), unchanged when the grid is already that size. The
        mean's entry [:, 0, 0] is 0; before interpolating it takes the average of its
        three nearest neighbors, so that frequencies below the source's lowest are not
        pulled toward 0.
    """
    height, width = _size(size)
    values = _checked_spectrum(spectrum).copy()
    _, rows, columns = values.shape
    if (rows, columns) != (height, width // 2 + 1):
        values[:, 0, 0] = (values[:, 1, 0] + values[:, -1, 0] + values[:, 0, 1]) / 3.0
        row_freqs = np.fft.fftfreq(rows)
        order = np.argsort(row_freqs, kind="stable")
        values = _interpolate_axis(values[:, order], row_freqs[order], np.fft.fftfreq(height),
                                   axis=1)
        column_freqs = np.arange(columns) / (2.0 * (columns - 1))
        values = _interpolate_axis(values, column_freqs, np.fft.rfftfreq(width), axis=2)
    values[:, 0, 0] = 0.0
    return values.astype(np.float32)


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike))


def _image_sources(images) -> list:
    """``images`` as a list of paths and arrays, each path checked to exist (a folder: the
    files in it, by name)."""
    if _is_path(images) and os.path.isdir(images):
        sources = sorted(entry for entry in pathlib.Path(images).iterdir()
                         if entry.is_file() and not entry.name.startswith("."))
        if not sources:
            raise ValueError(f"The folder {os.fspath(images)!r} holds no photos.")
    elif _is_path(images) or isinstance(images, (np.ndarray, tf.Tensor)):
        sources = [images]
    elif isinstance(images, (list, tuple)):
        sources = list(images)
    else:
        raise TypeError("images must be an image array (H, W, 3), a batch (N, H, W, 3), a "
                        "path, or a list of paths and arrays; got "
                        f"{type(images).__name__}.")
    if not sources:
        raise ValueError("images is empty: give at least one photo.")
    for source in sources:
        if _is_path(source) and not os.path.isfile(source):
            raise FileNotFoundError(f"The photo {os.fspath(source)!r} does not exist.")
    return sources


def _center_crop(batch: np.ndarray, height: int, width: int) -> np.ndarray:
    """The largest central part of (N, H, W, C) ``batch`` with the aspect ratio of
    ``height`` x ``width`` (so resizing does not stretch the photos' frequencies)."""
    rows, columns = batch.shape[1:3]
    if rows * width > columns * height:  # too tall
        kept = max(1, round(columns * height / width))
        top = (rows - kept) // 2
        return batch[:, top:top + kept]
    kept = max(1, round(rows * width / height))
    left = (columns - kept) // 2
    return batch[:, :, left:left + kept]


def _periodic_hann(length: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)


def _batches(sources: list, height: int, width: int) -> Iterator[np.ndarray]:
    """Each source as (N, height, width, 3) float32 in [0, 1], read one at a time."""
    for n, source in enumerate(sources):
        batch = rgb_batch(source, name=f"images[{n}]")
        yield resize_images(_center_crop(batch, height, width), height, width)


def magnitude_spectrum(images, size, *, decorrelate: bool = True,
                       window: bool = True) -> np.ndarray:
    """The average magnitude spectrum of photos, per color channel (what :func:`maco` fixes).

    Each photo is center-cropped to the aspect ratio of ``size``, resized to it
    (bilinear, antialiased), mapped to ImageNet's decorrelated color space (with
    ``decorrelate``; the inverse of the color mixing :func:`maco` applies), its mean
    removed per channel, multiplied by a 2-D periodic Hann window (with ``window``: the
    FFT sees the image as periodic, and a photo's edges would add a cross of strong
    horizontal and vertical frequencies), and transformed with ``np.fft.rfft2``. The
    magnitudes are averaged over all photos.

    Args:
      images: an image array (H, W, 3) or a batch (N, H, W, 3) of floats in [0, 1] or
        uint8 (as :func:`lucid2.misc.io.rgb_batch` takes), a path to an image file, a
        folder (every file in it, by name), or a list of paths and arrays (read one at a
        time), of any sizes.
      size: the images' size for the spectrum, an int or (height, width).
      decorrelate: the spectrum of decorrelated colors (for ``maco(decorrelate=True)``)
        instead of RGB.
      window: apply the Hann window.

    Returns:
      float32 (3, height, width // 2 + 1), >= 0, with 0 at the mean ([:, 0, 0]).

    Raises:
      TypeError, ValueError: a bad ``size``, no images, arrays of the wrong shape, dtype
        or range (checked before any photo is read).
      FileNotFoundError: a path that does not exist (checked before any photo is read).
      lucid2.misc.io.ImageLoadError: a file that is not an image.
    """
    return _average_spectrum(images, size, decorrelate, window)[0]


def _average_spectrum(images, size, decorrelate, window) -> tuple[np.ndarray, int]:
    """:func:`magnitude_spectrum` and the number of photos it averaged."""
    height, width = _size(size)
    decorrelate = checks.boolean("decorrelate", decorrelate)
    window = checks.boolean("window", window)
    sources = _image_sources(images)
    taper = np.outer(_periodic_hann(height), _periodic_hann(width))[None, :, :, None]
    total = np.zeros((SPECTRUM_CHANNELS, height, width // 2 + 1))
    count = 0
    for batch in _batches(sources, height, width):
        raw = inverse_decorrelate_color(batch) if decorrelate else batch.astype(np.float64)
        raw = raw - raw.mean(axis=(1, 2), keepdims=True)
        if window:
            raw = raw * taper
        total += np.abs(np.fft.rfft2(np.moveaxis(raw, -1, 1))).sum(axis=0)
        count += len(batch)
    spectrum = total / count
    spectrum[:, 0, 0] = 0.0
    return spectrum.astype(np.float32), count


def save_spectrum(images, path: str | os.PathLike, size=DEFAULT_SPECTRUM_SIZE, *,
                  decorrelate: bool = True, window: bool = True) -> pathlib.Path:
    """Computes :func:`magnitude_spectrum` of ``images`` and writes it to ``path`` (.npz).

    The file holds ``spectrum`` (float16, scaled so that its largest value is 1),
    ``size`` ((height, width)), ``images`` (how many photos), ``decorrelate`` and
    ``window``; it is written atomically. Read it with :func:`load_spectrum`, or pass the
    path as ``maco(spectrum=...)``. The module's docstring gives the command that wrote
    the default spectrum.
    """
    height, width = _size(size)
    path = pathlib.Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"The folder {str(path.parent)!r} for the spectrum file does "
                                "not exist.")
    spectrum, count = _average_spectrum(images, (height, width), decorrelate, window)
    peak = float(spectrum.max())
    if peak <= 0:
        raise ValueError("The photos' spectrum is all zero (constant images); nothing to "
                         "save.")

    def write(temp: str) -> None:
        with open(temp, "wb") as handle:
            arrays: dict[str, Any] = {SPECTRUM_KEY: (spectrum / peak).astype(STORED_DTYPE),
                                      "size": np.array([height, width]),
                                      "images": np.array(count),
                                      "decorrelate": np.array(bool(decorrelate)),
                                      "window": np.array(bool(window))}
            np.savez_compressed(handle, **arrays)

    return atomic_write(path, write)


def load_spectrum(path: str | os.PathLike) -> np.ndarray:
    """The spectrum of a file written by :func:`save_spectrum`, as float32 (3, rows, columns)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"The spectrum file {os.fspath(path)!r} does not exist.")
    with np.load(path) as data:
        if SPECTRUM_KEY not in data:
            raise ValueError(f"{os.fspath(path)!r} holds no {SPECTRUM_KEY!r} array (write "
                             "spectrum files with save_spectrum).")
        spectrum = data[SPECTRUM_KEY]
    return _checked_spectrum(spectrum, f"the spectrum in {os.fspath(path)!r}").astype(np.float32)


@functools.lru_cache(maxsize=1)
def _default_spectrum() -> np.ndarray:
    spectrum = load_spectrum(DEFAULT_SPECTRUM_FILE)
    spectrum.setflags(write=False)
    return spectrum


def default_spectrum() -> np.ndarray:
    """The shipped spectrum: float32 (3, 224, 113), decorrelated colors, largest value 1.

    Computed from 50 ImageNet photos by :func:`save_spectrum` (see the module's
    docstring for the command). A new array on every call.
    """
    return _default_spectrum().copy()


# ------------------------------------------------------------- the param
def _self_conjugate_columns(width: int) -> list[int]:
    """The columns of the real FFT grid whose coefficients are their own conjugates' row
    mirrors: the first (frequency 0) and, for even widths, the last (the Nyquist one)."""
    return [0, width // 2] if width % 2 == 0 else [0]


def _column_weights(width: int) -> np.ndarray:
    """How many coefficients of the full spectrum each real FFT column stands for."""
    weights = np.full(width // 2 + 1, 2.0)
    weights[_self_conjugate_columns(width)] = 1.0
    return weights


class MacoFFT(RawParam):
    """A raw (batch, height, width, channels) tensor: the inverse real FFT of a fixed
    magnitude with trainable phases (see the module's docstring).

    Attributes:
      phase: the variable, (batch, channels, height, width // 2 + 1) radians.
      magnitude: float32 (channels, height, width // 2 + 1), the fixed magnitudes as used
        (mean 0, the self-conjugate columns made symmetric in frequency).
      output_scale: the constant the magnitudes are multiplied by: the raw tensor's real
        FFT has magnitude ``output_scale * magnitude`` and standard deviation
        :data:`RAW_STD`.
    """

    native_layout = CHANNELS_FIRST

    def __init__(self, shape, magnitude, name: str | None = None):
        shape = checks.shape("shape", shape, rank=4)
        batch, height, width, channels = shape
        _size((height, width), "shape's (height, width)")
        grid = (channels, height, width // 2 + 1)
        magnitude = _checked_spectrum(magnitude, "magnitude")
        if magnitude.shape != grid:
            raise ValueError(f"magnitude must have shape {grid} for {height}x{width} images "
                             f"(resize_spectrum gives it), got {magnitude.shape}.")
        magnitude[:, 0, 0] = 0.0
        mirror = (-np.arange(height)) % height
        for column in _self_conjugate_columns(width):
            # A real image's coefficients at (ky, column) and (-ky, column) are conjugates:
            # equal magnitudes.
            magnitude[:, :, column] = 0.5 * (magnitude[:, :, column]
                                             + magnitude[:, mirror, column])
        energy = float(np.sum(magnitude ** 2 * _column_weights(width)))
        if energy <= 0:
            raise ValueError("magnitude is zero at every frequency but the mean; MACO needs "
                             "some energy to place.")
        # Parseval: the raw tensor's mean square over pixels and channels is this energy
        # divided by (height * width) ** 2 * channels; its mean is 0.
        self.output_scale = RAW_STD * height * width * np.sqrt(channels / energy)
        super().__init__(shape, name=name)
        self.magnitude = magnitude.astype(np.float32)
        self.magnitude.setflags(write=False)
        self._inverse = ScaledInverseRFFT2D(
            (magnitude * self.output_scale).astype(np.float32), height, width)
        self._mirror = tf.constant(mirror, dtype=tf.int32)
        self._even_width = width % 2 == 0
        start = tf.random.uniform((batch, channels) + grid[1:], -np.pi, np.pi)
        self.phase = tf.Variable(start, name="phase")

    def _hermitian(self, column: tf.Tensor) -> tf.Tensor:
        """The antisymmetric part (in frequency) of one self-conjugate column's phases."""
        return 0.5 * (column - tf.gather(column, self._mirror, axis=2))

    def effective_phase(self) -> tf.Tensor:
        """The phases the spectrum uses: the variable, with the self-conjugate columns
        made antisymmetric so that the spectrum is that of a real image."""
        phase = self.phase
        first = self._hermitian(phase[..., :1])
        if not self._even_width:
            return tf.concat([first, phase[..., 1:]], axis=-1)
        last = self._hermitian(phase[..., -1:])
        return tf.concat([first, phase[..., 1:-1], last], axis=-1)

    def channels_first(self) -> tf.Tensor:
        """The raw tensor as (batch, channels, height, width), the inverse FFT's layout."""
        phase = self.effective_phase()
        # cos and sin side by side: the (real, imaginary) pairs the inverse FFT reads.
        return self._inverse(tf.stack([tf.cos(phase), tf.sin(phase)], axis=-1))

    def __call__(self) -> tf.Tensor:
        return tf.transpose(self.channels_first(), (0, 2, 3, 1))


def maco(size, batch: int = 1, spectrum=None, *, decorrelate: bool = True) -> RGBImage:
    """MACO's image param: phase-only optimization under a fixed magnitude spectrum.

    Args:
      size: an int (square images) or (height, width), at least 2 x 2.
      batch: the number of images.
      spectrum: the magnitudes to keep: a (3, rows, columns) array on the real FFT grid
        (:func:`magnitude_spectrum` of your photos, any size: :func:`resize_spectrum`
        interpolates it onto the images' grid) or the path of a :func:`save_spectrum`
        file. None: :func:`default_spectrum` (50 ImageNet photos, decorrelated colors).
      decorrelate: the spectrum is of ImageNet's decorrelated colors, mixed to RGB as
        :func:`lucid2.optvis.param.image` does; False: of RGB itself (then give a
        spectrum computed with ``magnitude_spectrum(..., decorrelate=False)``).

    Returns:
      An :class:`~lucid2.optvis.param.RGBImage` over a :class:`MacoFFT`, computing
        (batch, height, width, 3) images in [0, 1] (sigmoid); its only trainable variable
        is the phase.

    Raises:
      TypeError, ValueError: a bad size or batch, a spectrum of the wrong shape, negative
        or not finite, or ``decorrelate=False`` without a spectrum, before any variable
        is created.
    """
    height, width = _size(size)
    batch = checks.positive_int("batch", batch)
    decorrelate = checks.boolean("decorrelate", decorrelate)
    if spectrum is None:
        if not decorrelate:
            raise ValueError(
                "The default spectrum is of decorrelated colors; with decorrelate=False pass "
                "a spectrum of RGB photos: magnitude_spectrum(photos, size, "
                "decorrelate=False).")
        spectrum = _default_spectrum()
    magnitude = resize_spectrum(_spectrum_from(spectrum), (height, width))
    raw = MacoFFT((batch, height, width, SPECTRUM_CHANNELS), magnitude)
    return RGBImage(raw, decorrelate=decorrelate, valid_rgb="sigmoid")
