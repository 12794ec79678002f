"""Images in [0, 1]: Lucid's default ``image()`` and the raw-to-image wrapper."""

from __future__ import annotations

import tensorflow as tf

from lucid2.optvis import checks
from lucid2.optvis.param.base import CHANNELS_FIRST, ImageParam, RawParam
from lucid2.optvis.param.color import (COLOR_MEAN, GRAY, VALID_RGB_MODES,
                                       decorrelate_channels_first,
                                       decorrelated_sigmoid_channels_first,
                                       linear_decorrelate_color, squash)
from lucid2.optvis.param.pyramid import laplacian_pyramid
from lucid2.optvis.param.spatial import DEFAULT_SD, fft_image, pixel_image

RGB_CHANNELS = 3
SUPPORTED_CHANNELS = (1, 3, 4)


class RGBImage(ImageParam):
    """An image param that maps a raw param's channels to valid RGB(A).

    The raw channels are: 3 colors (or 1 gray level when ``grayscale``),
    followed by 1 alpha channel when ``alpha``. Colors optionally go through
    ImageNet color decorrelation, then every channel through the
    ``valid_rgb`` map ("sigmoid" or "clip"). Gray is repeated into 3 channels.
    """

    def __init__(self, raw: RawParam, decorrelate: bool = True, valid_rgb: str = "sigmoid",
                 alpha: bool = False, grayscale: bool = False, name: str | None = None):
        if not isinstance(raw, RawParam):
            raise TypeError(
                "as_image expects a raw param (pixel_image, fft_image, lowres_tensor, "
                f"laplacian_pyramid, or a sum of them), got {type(raw).__name__}.")
        valid_rgb = checks.choice("valid_rgb", valid_rgb, VALID_RGB_MODES)
        if len(raw.shape) != 4:
            raise ValueError(f"The raw param must be (batch, h, w, channels), got {raw.shape}.")
        batch, h, w, ch = raw.shape
        color_channels = 1 if grayscale else RGB_CHANNELS
        expected = color_channels + int(bool(alpha))
        if ch != expected:
            kind = "gray" if grayscale else "RGB"
            raise ValueError(
                f"A {kind} image{' with alpha' if alpha else ''} needs {expected} raw channels, "
                f"the raw param has {ch} (shape {raw.shape}).")
        super().__init__(batch, h, w, RGB_CHANNELS + int(bool(alpha)), name=name)
        self.raw = raw
        self.decorrelate = bool(decorrelate) and not grayscale
        self.valid_rgb = valid_rgb
        self.alpha = bool(alpha)
        self.grayscale = bool(grayscale)

    def __call__(self) -> tf.Tensor:
        if self.decorrelate and not self.alpha and self.raw.native_layout == CHANNELS_FIRST:
            # Lucid's default image: mix the colors straight from the inverse FFT's
            # channels-first output (one pass instead of a transpose and a mix).
            if self.valid_rgb == "sigmoid":
                return decorrelated_sigmoid_channels_first(self.raw.channels_first())
            colors = decorrelate_channels_first(self.raw.channels_first())
            return squash(colors, self.valid_rgb, COLOR_MEAN)
        t = self.raw()
        if self.grayscale:
            gray = squash(t[..., :1], self.valid_rgb, GRAY)
            rgb = tf.tile(gray, [1, 1, 1, RGB_CHANNELS])
            color_end = 1
        else:
            # Slice only when there is an alpha channel: the gradient of a slice keeping
            # every channel still costs a full copy (StridedSliceGrad) each step.
            colors = t if t.shape[-1] == RGB_CHANNELS else t[..., :RGB_CHANNELS]
            if self.decorrelate:
                colors = linear_decorrelate_color(colors)
            rgb = squash(colors, self.valid_rgb, COLOR_MEAN if self.decorrelate else GRAY)
            color_end = RGB_CHANNELS
        if not self.alpha:
            return rgb
        return tf.concat([rgb, squash(t[..., color_end:], self.valid_rgb, GRAY)], axis=-1)

    def _details(self) -> str:
        options = [f"raw={type(self.raw).__name__}", f"valid_rgb={self.valid_rgb!r}"]
        if self.grayscale:
            options.append("grayscale")
        elif self.decorrelate:
            options.append("decorrelated")
        if self.alpha:
            options.append("alpha")
        return ", ".join(options)


def as_image(raw: RawParam, *, decorrelate: bool = True, valid_rgb: str = "sigmoid",
             alpha: bool = False, grayscale: bool = False) -> RGBImage:
    """Wraps a raw (batch, h, w, c) param into an :class:`ImageParam` in [0, 1].

    ``c`` must be 3 (1 when ``grayscale``) plus 1 when ``alpha``. ``decorrelate``
    is ignored for grayscale images.
    """
    return RGBImage(raw, decorrelate=decorrelate, valid_rgb=valid_rgb, alpha=alpha,
                    grayscale=grayscale)


def _raw_channels(channels, alpha) -> tuple[bool, bool, int]:
    if isinstance(channels, bool) or channels not in SUPPORTED_CHANNELS:
        raise ValueError(
            f"channels must be one of {SUPPORTED_CHANNELS} (1: grayscale shown as RGB, 3: RGB, "
            f"4: RGBA), got {channels!r}.")
    alpha = bool(alpha) or channels == 4
    grayscale = channels == 1
    return grayscale, alpha, (1 if grayscale else RGB_CHANNELS) + int(alpha)


def image(w: int, h: int | None = None, batch: int = 1, sd: float | None = None,
          decorrelate: bool = True, fft: bool = True, alpha: bool = False, channels: int = 3,
          decay_power: float = 1.0, valid_rgb: str = "sigmoid") -> RGBImage:
    """Lucid's default image parameterization.

    Fourier coefficients scaled by 1/f**decay_power (``fft=True``) or plain
    pixels (``fft=False``), then ImageNet color decorrelation
    (``decorrelate=True``), then a sigmoid (``valid_rgb="sigmoid"``) or
    clipping (``valid_rgb="clip"``) into [0, 1].

    Args:
      w, h: width and height in pixels (``h`` defaults to ``w``).
      batch: number of images.
      sd: standard deviation of the random init (default 0.01).
      decorrelate: optimize colors in ImageNet's decorrelated color space.
      fft: Fourier (True) or pixel (False) parameterization.
      alpha: add a 4th, alpha channel.
      channels: 3 (RGB), 4 (RGBA, same as ``alpha=True``) or 1 (grayscale,
        returned as 3 identical channels; no decorrelation).
      decay_power: spectrum decay exponent (only with ``fft=True``).
      valid_rgb: "sigmoid" or "clip".

    Returns:
      An :class:`ImageParam`; call it for a (batch, h, w, 3 or 4) tensor.
    """
    height, width = checks.height_width(w, h)
    batch = checks.positive_int("batch", batch)
    sd = checks.optional_sd(sd, DEFAULT_SD)
    valid_rgb = checks.choice("valid_rgb", valid_rgb, VALID_RGB_MODES)
    grayscale, alpha, raw_channels = _raw_channels(channels, alpha)
    shape = (batch, height, width, raw_channels)
    if fft:
        raw = fft_image(shape, sd=sd, decay_power=decay_power)
    else:
        if checks.finite_float("decay_power", decay_power) != 1.0:
            raise ValueError("decay_power only applies to the Fourier parameterization (fft=True).")
        raw = pixel_image(shape, sd=sd)
    return RGBImage(raw, decorrelate=decorrelate, valid_rgb=valid_rgb, alpha=alpha,
                    grayscale=grayscale)


def grayscale_image(w: int, h: int | None = None, batch: int = 1, sd: float | None = None,
                    fft: bool = True, alpha: bool = False, decay_power: float = 1.0,
                    valid_rgb: str = "sigmoid") -> RGBImage:
    """A grayscale image param: one gray channel, returned as 3 identical RGB channels."""
    return image(w, h, batch=batch, sd=sd, decorrelate=False, fft=fft, alpha=alpha, channels=1,
                 decay_power=decay_power, valid_rgb=valid_rgb)


def laplacian_pyramid_image(w: int, h: int | None = None, batch: int = 1, n_levels: int = 4,
                            sd: float | None = None, decorrelate: bool = True,
                            valid_rgb: str = "sigmoid") -> RGBImage:
    """An RGB image param whose raw colors are a :func:`laplacian_pyramid`."""
    height, width = checks.height_width(w, h)
    batch = checks.positive_int("batch", batch)
    raw = laplacian_pyramid((batch, height, width, RGB_CHANNELS), n_levels=n_levels, sd=sd)
    return RGBImage(raw, decorrelate=decorrelate, valid_rgb=valid_rgb)
