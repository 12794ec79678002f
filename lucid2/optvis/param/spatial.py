"""Spatial parameterizations: a pixel grid, or 2D Fourier coefficients.

Both return raw (unconstrained) tensors; :mod:`.color` maps them to valid RGB.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lucid2.kernels import ScaledInverseRFFT2D
from lucid2.optvis import checks
from lucid2.optvis.param.base import CHANNELS_FIRST, RawParam, initial_value

# Lucid's initial standard deviation of every parameterization's variables.
DEFAULT_SD = 0.01
# Lucid divides the inverse FFT's output by 4, an empirical constant that keeps
# the initial image small and step sizes similar to pixel-space optimization.
FFT_OUTPUT_DIVISOR = 4.0


class PixelImage(RawParam):
    """A raw tensor that is simply a variable of the requested shape (Lucid's ``naive``)."""

    def __init__(self, shape, sd: float | None = None, init_val=None, name: str | None = None):
        shape = checks.shape("shape", shape, rank=4)
        if init_val is not None and sd is not None:
            raise ValueError("pixel_image takes either sd (random init) or init_val, not both.")
        if init_val is not None:
            init = initial_value("init_val", init_val, [shape])
        else:
            init = tf.random.normal(shape, stddev=checks.optional_sd(sd, DEFAULT_SD))
        super().__init__(shape, name=name)
        self.pixels = tf.Variable(init, name="pixels")

    def __call__(self) -> tf.Tensor:
        return tf.identity(self.pixels)


def pixel_image(shape, sd: float | None = None, init_val=None) -> PixelImage:
    """A naive pixel parameterization of a (batch, height, width, channels) tensor.

    Args:
      shape: (batch, height, width, channels).
      sd: standard deviation of the random normal init (default 0.01).
      init_val: an explicit initial value of ``shape`` instead of random noise.
    """
    return PixelImage(shape, sd=sd, init_val=init_val)


def rfft2d_freqs(h: int, w: int) -> np.ndarray:
    """Frequency magnitudes (cycles per pixel) of the (h, w // 2 + 1) real 2D spectrum."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    return np.sqrt(fx * fx + fy * fy)


def _spectrum_of(raw: np.ndarray, output_scale: np.ndarray) -> np.ndarray:
    """The (batch, ch, h, w // 2 + 1, 2) coefficients whose scaled inverse FFT is ``raw``
    (batch, h, w, ch): its real spectrum divided by the per-frequency output scale."""
    h, w = raw.shape[1:3]
    channels_first = np.transpose(raw.astype(np.float64), (0, 3, 1, 2))
    # numpy's and TensorFlow's inverse real FFTs both divide by h * w, and the inverse of a
    # real image's spectrum drops only imaginary parts that are zero: the round trip is exact.
    spectrum = np.fft.rfft2(channels_first, s=(h, w)) / output_scale.astype(np.float64)
    return np.stack([spectrum.real, spectrum.imag], axis=-1).astype(np.float32)


class FFTImage(RawParam):
    """A raw tensor parameterized by its 2D Fourier coefficients, scaled by 1/f^decay_power.

    The variable holds the real and imaginary parts of the spectrum of every
    image and channel. Each coefficient is multiplied by
    ``sqrt(h * w) / max(f, 1 / max(h, w)) ** decay_power``: dividing by the
    frequency whitens natural-image-like spectra so that gradient steps act on
    all frequencies alike, and ``sqrt(h * w)`` makes the map energy-preserving
    (up to the constant divisor) so learning rates match pixel optimization.
    """

    def __init__(self, shape, sd: float | None = None, decay_power: float = 1.0,
                 init=None, name: str | None = None):
        shape = checks.shape("shape", shape, rank=4)
        decay_power = checks.finite_float("decay_power", decay_power)
        if decay_power < 0:
            raise ValueError(f"decay_power must be >= 0, got {decay_power}.")
        if init is not None:
            if sd is not None:
                raise ValueError("fft_image takes either sd (random init) or init, not both.")
            init = initial_value("init", init, [shape])
        sd = checks.optional_sd(sd, DEFAULT_SD)
        batch, h, w, ch = shape
        super().__init__(shape, name=name)
        freqs = rfft2d_freqs(h, w)
        scale = np.sqrt(w * h) / np.maximum(freqs, 1.0 / max(w, h)) ** decay_power
        self.decay_power = decay_power
        self._scale = scale.astype(np.float32)
        # The inverse FFT is linear, so the output divisor is folded into the coefficients'
        # scale: one multiplication fewer over the image, forward and backward.
        output_scale = (scale / FFT_OUTPUT_DIVISOR).astype(np.float32)
        self._inverse = ScaledInverseRFFT2D(output_scale, h, w)
        # Each coefficient's real and imaginary parts side by side (the last axis): that is
        # complex64's memory layout, so the inverse FFT reads the variable without copying.
        # Drawn in (real/imaginary, batch, channels, ...) order, then moved, so seeded
        # renders keep the start images they had with that earlier layout.
        if init is None:
            start = tf.random.normal((2, batch, ch) + freqs.shape, stddev=sd)
            start = tf.transpose(start, (1, 2, 3, 4, 0))
        else:
            start = _spectrum_of(init, output_scale)
        self.spectrum = tf.Variable(start, name="spectrum")

    native_layout = CHANNELS_FIRST

    def channels_first(self) -> tf.Tensor:
        """The raw tensor as (batch, channels, height, width), the inverse FFT's own layout."""
        return self._inverse(self.spectrum)

    def __call__(self) -> tf.Tensor:
        return tf.transpose(self.channels_first(), (0, 2, 3, 1))


def fft_image(shape, sd: float | None = None, decay_power: float = 1.0,
              init=None) -> FFTImage:
    """A Fourier-space parameterization of a (batch, height, width, channels) tensor.

    Args:
      shape: (batch, height, width, channels).
      sd: standard deviation of the random normal init of the coefficients (default 0.01).
      decay_power: coefficients are scaled by 1 / f**decay_power (0 gives white noise).
      init: an explicit initial raw tensor of ``shape`` instead of random coefficients: the
        coefficients start at its spectrum, so the param first computes ``init`` (up to
        float32 rounding). Not together with ``sd``.
    """
    return FFTImage(shape, sd=sd, decay_power=decay_power, init=init)
