"""Images in [0, 1]: Lucid's default ``image()`` and the raw-to-image wrapper."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lucid2.optvis import checks
from lucid2.optvis.param.base import CHANNELS_FIRST, ImageParam, RawParam
from lucid2.optvis.param.color import (COLOR_MEAN, GRAY, VALID_RGB_MODES,
                                       decorrelate_channels_first,
                                       decorrelated_sigmoid_channels_first, from_valid_rgb,
                                       inverse_squash, linear_decorrelate_color, squash)
from lucid2.optvis.param.init import LUMA_WEIGHTS, load_init
from lucid2.optvis.param.pyramid import laplacian_pyramid
from lucid2.optvis.param.spatial import DEFAULT_SD, fft_image, pixel_image

RGB_CHANNELS = 3
SUPPORTED_CHANNELS = (1, 3, 4)
# Initial images have no alpha: it starts opaque.
OPAQUE = 1.0


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


def raw_from_images(images, *, decorrelate: bool = True, valid_rgb: str = "sigmoid",
                    alpha: bool = False, grayscale: bool = False) -> np.ndarray:
    """The raw float32 values that :class:`RGBImage` with these options maps to ``images``.

    The inverse of the color map of :func:`as_image`: ``images`` (..., 3) in [0, 1]
    become (..., 3) raw colors (or (..., 1): their Rec. 601 luminance when
    ``grayscale``), followed by an opaque alpha channel when ``alpha``. The image
    comes back within 1/255 (see :func:`lucid2.optvis.param.inverse_squash`).
    """
    valid_rgb = checks.choice("valid_rgb", valid_rgb, VALID_RGB_MODES)
    images = np.asarray(images, dtype=np.float64)
    if images.shape[-1:] != (RGB_CHANNELS,):
        raise ValueError(f"images must have {RGB_CHANNELS} channels in the last axis, got "
                         f"shape {images.shape}.")
    if grayscale:
        gray = images @ LUMA_WEIGHTS
        raw = inverse_squash(gray[..., None], valid_rgb, GRAY).astype(np.float32)
    else:
        raw = from_valid_rgb(images, decorrelate=decorrelate, sigmoid=valid_rgb == "sigmoid")
    if alpha:
        opaque = inverse_squash(np.full(raw.shape[:-1] + (1,), OPAQUE), valid_rgb, GRAY)
        raw = np.concatenate([raw, opaque.astype(np.float32)], axis=-1)
    return raw


def _raw_channels(channels, alpha) -> tuple[bool, bool, int]:
    if isinstance(channels, bool) or channels not in SUPPORTED_CHANNELS:
        raise ValueError(
            f"channels must be one of {SUPPORTED_CHANNELS} (1: grayscale shown as RGB, 3: RGB, "
            f"4: RGBA), got {channels!r}.")
    alpha = bool(alpha) or channels == 4
    grayscale = channels == 1
    return grayscale, alpha, (1 if grayscale else RGB_CHANNELS) + int(alpha)


def raw_start(init, sd, shape, *, decorrelate: bool = True, valid_rgb: str = "sigmoid",
              alpha: bool = False, grayscale: bool = False) -> np.ndarray | None:
    """The raw (batch, height, width, channels) start of an image param made from ``init``
    (None without one): :func:`load_init` then :func:`raw_from_images`.

    ``shape`` is the raw param's shape; ``sd`` must be None when ``init`` is given.
    """
    if init is None:
        return None
    if sd is not None:
        raise ValueError("Pass either sd (the random start's standard deviation) or init "
                         "(an image to start from), not both.")
    batch, height, width = shape[:3]
    return raw_from_images(load_init(init, height, width, batch), decorrelate=decorrelate,
                           valid_rgb=valid_rgb, alpha=alpha, grayscale=grayscale)


def image(w: int, h: int | None = None, batch: int = 1, sd: float | None = None,
          decorrelate: bool = True, fft: bool = True, alpha: bool = False, channels: int = 3,
          decay_power: float = 1.0, valid_rgb: str = "sigmoid", init=None) -> RGBImage:
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
      init: an image to start from instead of random noise (not together with
        ``sd``): an array, a path or a list of them, as :func:`load_init` takes,
        resized to (h, w); one image is used for the whole batch. At step 0 the
        param reproduces it within 1/255 (exactly but for float rounding, except
        that the sigmoid brings 0 and 1 in by :data:`SIGMOID_INIT_MARGIN`).
        Grayscale params start from its luminance; alpha starts opaque.

    Returns:
      An :class:`ImageParam`; call it for a (batch, h, w, 3 or 4) tensor.
    """
    height, width = checks.height_width(w, h)
    batch = checks.positive_int("batch", batch)
    valid_rgb = checks.choice("valid_rgb", valid_rgb, VALID_RGB_MODES)
    grayscale, alpha, raw_channels = _raw_channels(channels, alpha)
    shape = (batch, height, width, raw_channels)
    if not fft and checks.finite_float("decay_power", decay_power) != 1.0:
        raise ValueError("decay_power only applies to the Fourier parameterization (fft=True).")
    start = raw_start(init, sd, shape, decorrelate=decorrelate, valid_rgb=valid_rgb,
                      alpha=alpha, grayscale=grayscale)
    sd = checks.optional_sd(sd, DEFAULT_SD)
    if fft:
        if start is None:
            raw = fft_image(shape, sd=sd, decay_power=decay_power)
        else:
            raw = fft_image(shape, decay_power=decay_power, init=start)
    elif start is None:
        raw = pixel_image(shape, sd=sd)
    else:
        raw = pixel_image(shape, init_val=start)
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
                            valid_rgb: str = "sigmoid", init=None) -> RGBImage:
    """An RGB image param whose raw colors are a :func:`laplacian_pyramid`.

    ``init``: an image to start from, as for :func:`image` (not together with ``sd``):
    the finest level starts at its raw colors, the coarser levels at zero.
    """
    height, width = checks.height_width(w, h)
    batch = checks.positive_int("batch", batch)
    n_levels = checks.positive_int("n_levels", n_levels)
    valid_rgb = checks.choice("valid_rgb", valid_rgb, VALID_RGB_MODES)
    shape = (batch, height, width, RGB_CHANNELS)
    start = raw_start(init, sd, shape, decorrelate=decorrelate, valid_rgb=valid_rgb)
    raw = laplacian_pyramid(shape, n_levels=n_levels, sd=sd, init=start)
    return RGBImage(raw, decorrelate=decorrelate, valid_rgb=valid_rgb)
