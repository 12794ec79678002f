"""Numbers that describe renders: how much of an image's power is high-frequency, and how
a render's activations compare with a photo's.

Feature visualizations optimized naively (pixels, no transforms) fill with
high-frequency patterns; Lucid's Fourier parameterization and transforms
suppress them. :func:`high_frequency_share` measures this on the grayscale
radial spectrum, so figures and tests can compare renders with one number.
:func:`activation_cosine` and :func:`activation_norm_ratio` measure feature
inversions and caricatures against their photo (untransformed, same size).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lucid2.optvis import model_api
from lucid2.optvis.objectives import ReferenceImage, reference_image

# ITU-R BT.601 luma weights: grayscale as the eye weights R, G, B.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])
NYQUIST = 0.5  # cycles per pixel
DEFAULT_CUTOFF = 0.5  # as a fraction of the Nyquist frequency


def grayscale(images: np.ndarray) -> np.ndarray:
    """(..., H, W, 3 or 4) RGB(A) -> (..., H, W) luma; (..., H, W) is returned as is."""
    array = np.asarray(images, dtype=np.float64)
    if array.ndim >= 3 and array.shape[-1] in (3, 4):
        return array[..., :3] @ LUMA_WEIGHTS
    if array.ndim >= 2:
        return array
    raise ValueError(f"Expected images (H, W[, C]) or (N, H, W[, C]), got shape {array.shape}.")


def radial_frequency(height: int, width: int) -> np.ndarray:
    """|f| in cycles per pixel for each entry of an (height, width) 2-D FFT."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    return np.sqrt(fx ** 2 + fy ** 2)


def high_frequency_share(images, cutoff: float = DEFAULT_CUTOFF) -> np.ndarray | float:
    """Share of the (mean-removed) grayscale power above ``cutoff`` x Nyquist.

    Args:
      images: one image (H, W[, C]) or a batch (N, H, W, C), RGB(A) values
        (any scale: the share does not depend on it).
      cutoff: the radial frequency threshold as a fraction of the Nyquist
        frequency (0.5 cycles per pixel); 0.5 means 0.25 cycles per pixel.

    Returns:
      A float in [0, 1] for one image, an array of N floats for a batch. The
      mean (DC) is removed first; a constant image has share 0. White noise
      has about 0.80 (the area of the spectrum beyond a quarter cycle per
      pixel); natural photos and good renders much less.
    """
    if not 0 < cutoff < np.sqrt(2):
        raise ValueError(f"cutoff must be in (0, sqrt(2)) (a fraction of Nyquist), got {cutoff}.")
    array = np.asarray(images)
    single = array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4))
    gray = grayscale(array)
    if single:
        gray = gray[None]
    if gray.ndim != 3:
        raise ValueError(f"Expected images (H, W[, C]) or (N, H, W[, C]), got shape {array.shape}.")
    gray = gray - gray.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(gray)) ** 2
    high = radial_frequency(*gray.shape[1:]) > cutoff * NYQUIST
    total = power.sum(axis=(1, 2))
    share = np.where(total > 0, (power * high).sum(axis=(1, 2)) / np.maximum(total, 1e-300), 0.0)
    return float(share[0]) if single else share


def _paired_activations(model, images, reference, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """Flattened (N, features) activations of ``images`` and of the reference resized to them."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[None]
    if not isinstance(reference, ReferenceImage):
        reference = reference_image(reference)
    batch, height, width = images.shape[:3]
    both = np.concatenate([images[..., :3], reference.resized(batch, height, width)])
    acts = np.asarray(model_api.activations(model, [layer], tf.constant(both))[layer])
    acts = acts.reshape(2, batch, -1).astype(np.float64)
    return acts[0], acts[1]


def activation_cosine(model, images, reference, layer: str) -> np.ndarray:
    """Per image, the cosine similarity of ``layer``'s activations for the image and for the
    reference (a :class:`~lucid2.optvis.objectives.ReferenceImage`, a path or an array,
    resized to the images' size); images and reference untransformed. 0 where one is all 0."""
    acts, ref = _paired_activations(model, images, reference, layer)
    norms = np.linalg.norm(acts, axis=1) * np.linalg.norm(ref, axis=1)
    dots = np.sum(acts * ref, axis=1)
    return np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)


def activation_norm_ratio(model, images, reference, layer: str) -> np.ndarray:
    """Per image, the norm of ``layer``'s activations for the image divided by the
    reference's (as :func:`activation_cosine`); > 1 where a caricature exaggerates."""
    acts, ref = _paired_activations(model, images, reference, layer)
    ref_norm = np.linalg.norm(ref, axis=1)
    if np.any(ref_norm == 0):
        raise ValueError(f"The reference's activations at {layer!r} are all zero; no ratio.")
    return np.linalg.norm(acts, axis=1) / ref_norm
