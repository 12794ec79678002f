"""Shared-plus-separate parameterizations for batches that should look alike.

Lucid's diversity, alignment and interpolation notebooks give each image of
a batch its own Fourier image and add low-resolution tensors shared by the
whole batch, so coarse structure (layout, colors) is common and details are
free. For interpolation, further low-resolution tensors have one copy per
objective ("endpoint") and each frame mixes those copies with weights that
vary linearly across frames, so frame 0 is pulled towards the first
objective's layout and the last frame towards the last objective's.

API:

* :func:`interpolation_weights` (n_frames, n_endpoints) -> the mixing matrix;
  row ``k`` holds frame ``k``'s weights, which sum to 1 (for 2 endpoints,
  ``(1 - k / (n_frames - 1), k / (n_frames - 1))``). Interpolating
  objectives should use the same weights.
* :func:`interpolate_frames` (raw param with batch n_endpoints, n_frames) ->
  a raw param with batch n_frames.
* :func:`shared_image` (w, batch, ...) -> per-image Fourier image plus
  low-resolution tensors shared by the batch.
* :func:`image_interpolation` (w, n_objectives, n_frames, ...) -> per-frame
  Fourier image, shared low-resolution tensors and interpolated
  low-resolution tensors.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lucid2.optvis import checks
from lucid2.optvis.param.base import RawParam
from lucid2.optvis.param.color import VALID_RGB_MODES
from lucid2.optvis.param.images import RGB_CHANNELS, RGBImage, raw_start
from lucid2.optvis.param.lowres import lowres_tensor
from lucid2.optvis.param.spatial import DEFAULT_SD, fft_image, pixel_image

# Lucid's interpolation notebook: shared tensors at 1/2 ... 1/16 resolution,
# per-endpoint tensors at the two coarsest of them.
DEFAULT_SHARED_LEVELS = (2, 4, 8, 16)
DEFAULT_MIXED_LEVELS = (8, 16)


def interpolation_weights(n_frames: int, n_endpoints: int = 2) -> np.ndarray:
    """Piecewise-linear mixing weights, float32 (n_frames, n_endpoints), rows summing to 1.

    Frame 0 is entirely the first endpoint, the last frame entirely the last
    one; in between, each frame mixes the two nearest endpoints linearly.
    """
    n_frames = checks.positive_int("n_frames", n_frames)
    n_endpoints = checks.positive_int("n_endpoints", n_endpoints)
    if n_endpoints < 2:
        raise ValueError(f"Interpolation needs at least 2 endpoints, got {n_endpoints}.")
    if n_frames < n_endpoints:
        raise ValueError(
            f"n_frames ({n_frames}) must be at least the number of endpoints ({n_endpoints}).")
    position = np.arange(n_frames) * (n_endpoints - 1) / (n_frames - 1)
    lo = np.minimum(np.floor(position).astype(int), n_endpoints - 2)
    frac = position - lo
    weights = np.zeros((n_frames, n_endpoints), dtype=np.float64)
    weights[np.arange(n_frames), lo] = 1.0 - frac
    weights[np.arange(n_frames), lo + 1] += frac
    return weights.astype(np.float32)


class FrameInterpolation(RawParam):
    """A raw param whose n_frames images linearly mix the n_endpoints images of another."""

    def __init__(self, endpoints: RawParam, n_frames: int, name: str | None = None):
        if not isinstance(endpoints, RawParam):
            raise TypeError(
                f"interpolate_frames expects a raw param, got {type(endpoints).__name__}.")
        n_endpoints = endpoints.shape[0]
        self.weights = interpolation_weights(n_frames, n_endpoints)
        super().__init__((int(n_frames),) + endpoints.shape[1:], name=name)
        self.endpoints = endpoints

    def __call__(self) -> tf.Tensor:
        return tf.tensordot(self.weights, self.endpoints(), axes=1)


def interpolate_frames(endpoints: RawParam, n_frames: int) -> FrameInterpolation:
    """Mixes the batch of ``endpoints`` (one per endpoint) into ``n_frames`` frames linearly."""
    return FrameInterpolation(endpoints, n_frames)


def _levels_shape(batch: int, height: int, width: int, factor: int) -> tuple[int, int, int, int]:
    return (batch, max(height // factor, 1), max(width // factor, 1), RGB_CHANNELS)


def _unique(shape, sd, fft, decay_power, start=None) -> RawParam:
    if start is not None:
        if fft:
            return fft_image(shape, decay_power=decay_power, init=start)
        return pixel_image(shape, init_val=start)
    if fft:
        return fft_image(shape, sd=sd, decay_power=decay_power)
    return pixel_image(shape, sd=sd)


def _lowres(shape, underlying_shape, sd, starting: bool) -> RawParam:
    """A low-res tensor: random, or zero when the image starts from an init (which the
    per-image part then reproduces alone)."""
    if starting:
        return lowres_tensor(shape, underlying_shape, init=np.zeros(underlying_shape, np.float32))
    return lowres_tensor(shape, underlying_shape, sd=sd)


def shared_image(w: int, h: int | None = None, batch: int = 2, sd: float | None = None,
                 decorrelate: bool = True, fft: bool = True, decay_power: float = 1.0,
                 valid_rgb: str = "sigmoid",
                 shared_levels=DEFAULT_SHARED_LEVELS, init=None) -> RGBImage:
    """Per-image Fourier (or pixel) images plus low-res tensors shared by the batch.

    ``shared_levels`` are downsampling factors: factor k adds one
    (1, h // k, w // k, 3) variable upsampled to every image.
    ``init``: images to start from, as for :func:`image` (not together with ``sd``):
    the per-image parts start at them and the shared tensors at zero.
    """
    height, width = checks.height_width(w, h)
    batch = checks.positive_int("batch", batch)
    valid_rgb = checks.choice("valid_rgb", valid_rgb, VALID_RGB_MODES)
    shared_levels = checks.levels("shared_levels", shared_levels)
    shape = (batch, height, width, RGB_CHANNELS)
    start = raw_start(init, sd, shape, decorrelate=decorrelate, valid_rgb=valid_rgb)
    sd = checks.optional_sd(sd, DEFAULT_SD)
    raw = _unique(shape, sd, fft, decay_power, start)
    for factor in shared_levels:
        raw = raw + _lowres(shape, _levels_shape(1, height, width, factor), sd,
                            start is not None)
    return RGBImage(raw, decorrelate=decorrelate, valid_rgb=valid_rgb)


class InterpolationImage(RGBImage):
    """An :class:`RGBImage` for interpolation; ``frame_weights`` is (n_frames, n_objectives)."""

    def __init__(self, raw: RawParam, n_objectives: int, frame_weights: np.ndarray, **kwargs):
        super().__init__(raw, **kwargs)
        self.n_frames = raw.shape[0]
        self.n_objectives = int(n_objectives)
        self.frame_weights = frame_weights

    def _details(self) -> str:
        return f"n_objectives={self.n_objectives}, {super()._details()}"


def image_interpolation(w: int, h: int | None = None, n_objectives: int = 2, n_frames: int = 6,
                        sd: float | None = None, decorrelate: bool = True, fft: bool = True,
                        decay_power: float = 1.0, valid_rgb: str = "sigmoid",
                        shared_levels=DEFAULT_SHARED_LEVELS,
                        mixed_levels=DEFAULT_MIXED_LEVELS, init=None) -> InterpolationImage:
    """A batch of ``n_frames`` images for interpolating between ``n_objectives`` objectives.

    Each frame is: its own Fourier (or pixel) image + low-res tensors shared
    by all frames (``shared_levels``) + low-res tensors with one copy per
    objective, mixed across frames by :func:`interpolation_weights`
    (``mixed_levels``). The result's ``frame_weights`` is that mixing matrix.
    ``init``: images to start from, one for every frame or one per frame, as for
    :func:`image` (not together with ``sd``): the per-frame parts start at them and
    the low-res tensors at zero.
    """
    height, width = checks.height_width(w, h)
    n_objectives = checks.positive_int("n_objectives", n_objectives)
    n_frames = checks.positive_int("n_frames", n_frames)
    weights = interpolation_weights(n_frames, n_objectives)
    valid_rgb = checks.choice("valid_rgb", valid_rgb, VALID_RGB_MODES)
    shared_levels = checks.levels("shared_levels", shared_levels)
    mixed_levels = checks.levels("mixed_levels", mixed_levels)
    shape = (n_frames, height, width, RGB_CHANNELS)
    start = raw_start(init, sd, shape, decorrelate=decorrelate, valid_rgb=valid_rgb)
    sd = checks.optional_sd(sd, DEFAULT_SD)
    raw = _unique(shape, sd, fft, decay_power, start)
    for factor in shared_levels:
        raw = raw + _lowres(shape, _levels_shape(1, height, width, factor), sd,
                            start is not None)
    for factor in mixed_levels:
        endpoint_shape = (n_objectives, height, width, RGB_CHANNELS)
        endpoints = _lowres(endpoint_shape, _levels_shape(n_objectives, height, width, factor),
                            sd, start is not None)
        raw = raw + interpolate_frames(endpoints, n_frames)
    return InterpolationImage(raw, n_objectives, weights, decorrelate=decorrelate,
                              valid_rgb=valid_rgb)
