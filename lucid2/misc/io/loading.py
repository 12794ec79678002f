"""Reading image files of any Pillow mode as float32 RGB in [0, 1] (numpy and Pillow only).

The one loader behind :func:`load_image`, ``python -m lucid2.classify`` and the
dataset examples. How each Pillow mode becomes RGB in [0, 1]:

* 8-bit modes (:data:`EIGHT_BIT_MODES`: bilevel, gray, palette, RGB, CMYK,
  YCbCr, LAB, HSV, with or without alpha): Pillow's conversion to RGB, divided
  by 255. Alpha (and a palette's transparency) is dropped, not composited.
  (Pillow reads 16-bit color PNGs and TIFFs as 8-bit RGB.)
* 16-bit gray (``I;16``, ``I;16L``, ``I;16B``, ``I;16N``): divided by
  ``2**bits - 1``: 65535, or the depth a TIFF states (e.g. 12 bits: 4095).
* 32-bit integer gray (``I``): from a TIFF, by the depth and sign it states
  (BitsPerSample, SampleFormat; 32-bit signed: divided by ``2**31 - 1``); from
  anything else (PNG and PGM/PPM, which Pillow widens to 16 bits, or an
  in-memory image) as 16-bit, divided by 65535. Values below 0 or above that
  divisor are refused.
* float gray (``F``): taken as is; values must be finite and in [0, 1].

Gray images are repeated into the three channels. Anything else (an
unsupported mode, values out of range, a file Pillow cannot identify or decode,
a decompression bomb over twice ``PIL.Image.MAX_IMAGE_PIXELS``) raises
:class:`ImageLoadError`, which names the file; file-system errors (a missing file, no
permission) stay ``OSError``.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from lucid2.misc.io._arrays import UINT8_MAX

# Modes Pillow converts to RGB itself; their samples are 8-bit.
EIGHT_BIT_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB",
                   "HSV")
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
INT32_MODE = "I"
FLOAT_MODE = "F"
SUPPORTED_MODES = EIGHT_BIT_MODES + SIXTEEN_BIT_MODES + (INT32_MODE, FLOAT_MODE)
# The depth of 16-bit modes, and of 'I' images whose file states none.
DEFAULT_HIGH_BITS = 16
MAX_INT32_BITS = 32
# TIFF tags that state the depth and the sign of the samples.
TIFF_BITS_PER_SAMPLE = 258
TIFF_SAMPLE_FORMAT = 339
TIFF_SIGNED_INT = 2
RGB_CHANNELS = 3


class ImageLoadError(ValueError):
    """An image file that cannot be loaded as RGB in [0, 1]: unreadable, or refused.

    Attributes:
      source: the file (or the name given for an in-memory image).
      reason: why, without the file name.
      mode: the Pillow mode, when the file could be opened.
    """

    def __init__(self, source, reason: str, mode: str | None = None):
        self.source = os.fspath(source) if isinstance(source, os.PathLike) else str(source)
        self.reason = reason
        self.mode = mode
        super().__init__(f"Cannot load image {self.source!r}: {reason}")

    def __reduce__(self):
        # Rebuilt from its fields (the default would pass only the message).
        return type(self), (self.source, self.reason, self.mode)


@dataclass(frozen=True)
class ImageHeader:
    """What an image file's header says: Pillow format, mode and size."""

    format: str | None
    mode: str
    height: int
    width: int


def _is_file_system_error(error: BaseException) -> bool:
    # Pillow's own OSErrors (truncated or broken data) carry no errno; the
    # operating system's (missing file, no permission, a directory) do.
    return isinstance(error, OSError) and error.errno is not None


def _bomb_reason(error: Image.DecompressionBombError) -> str:
    return (f"{error} (The limit is 2 x PIL.Image.MAX_IMAGE_PIXELS: raise that only for files "
            "you trust.)")


def _unsupported_mode_reason(mode: str) -> str:
    return f"Pillow mode {mode!r} is not supported; supported modes: {', '.join(SUPPORTED_MODES)}."


@contextlib.contextmanager
def _open(path) -> Iterator[Image.Image]:
    """The image at ``path``, opened (header read, pixels not yet decoded) and then closed."""
    try:
        pil = Image.open(path)
    except Image.DecompressionBombError as error:
        raise ImageLoadError(path, _bomb_reason(error)) from error
    except UnidentifiedImageError as error:
        raise ImageLoadError(
            path, "not an image file Pillow can identify (empty, text, damaged, or a format "
                  "Pillow does not read).") from error
    except Exception as error:
        if _is_file_system_error(error) or isinstance(error, MemoryError):
            raise
        # Pillow's format plugins raise many types on a damaged header.
        raise ImageLoadError(path, f"its header is damaged ({type(error).__name__}: "
                                   f"{error}).") from error
    with pil:
        yield pil


def read_image_header(path) -> ImageHeader:
    """Checks that ``path`` is an image this module loads, reading its header only.

    Cheap (no pixels are decoded), so it finds files Pillow cannot identify,
    decompression bombs and unsupported modes, but not damaged pixel data, nor
    'I' and 'F' values out of range.

    Raises:
      ImageLoadError: the file is not a loadable image.
      OSError: the file cannot be opened (missing, no permission).
    """
    with _open(path) as pil:
        _check_mode(pil, path)
        return ImageHeader(format=pil.format, mode=pil.mode, height=pil.height, width=pil.width)


def _check_size(size) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (size, size)
    if (not isinstance(size, Sequence) or len(size) != 2
            or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s <= 0
                   for s in size)):
        raise ValueError(f"size must be a positive int or a (height, width) pair, got {size!r}.")
    return int(size[0]), int(size[1])


def _tiff_tag(pil: Image.Image, tag: int) -> int | None:
    """The first value of a TIFF tag, or None (not a TIFF, or no such tag)."""
    if pil.format != "TIFF" or not hasattr(pil, "tag_v2"):
        return None
    value = pil.tag_v2.get(tag)
    if isinstance(value, tuple):
        value = value[0] if value else None
    return int(value) if isinstance(value, (int, np.integer)) else None


def _integer_range(pil: Image.Image) -> int:
    """The largest value of a 16-bit or 'I' image's depth (the value that means white)."""
    limit = DEFAULT_HIGH_BITS if pil.mode in SIXTEEN_BIT_MODES else MAX_INT32_BITS
    bits = _tiff_tag(pil, TIFF_BITS_PER_SAMPLE)
    if bits is None or not 1 <= bits <= limit:
        bits = DEFAULT_HIGH_BITS
    if _tiff_tag(pil, TIFF_SAMPLE_FORMAT) == TIFF_SIGNED_INT:
        bits -= 1
    return 2 ** bits - 1


def _gray_unit_values(pil: Image.Image, source) -> np.ndarray:
    """A 16-bit, 'I' or 'F' image as float32 (H, W) in [0, 1], or ImageLoadError."""
    if pil.mode == FLOAT_MODE:
        values = np.asarray(pil, dtype=np.float32)
        finite = np.isfinite(values)
        if not finite.all():
            raise ImageLoadError(source, "its float ('F') values include NaN or infinity; "
                                         "they must be finite and in [0, 1].", pil.mode)
        low, high = float(values.min()), float(values.max())
        if low < 0.0 or high > 1.0:
            raise ImageLoadError(
                source, f"its float ('F') values span [{low:g}, {high:g}]; float images must "
                        "be in [0, 1] (rescale them, or save 8- or 16-bit integers).", pil.mode)
        return values
    values = np.asarray(pil)
    white = _integer_range(pil)
    low, high = int(values.min()), int(values.max())
    if low < 0 or high > white:
        raise ImageLoadError(
            source, f"its {pil.mode!r} values span {low}..{high}, outside 0..{white} "
                    f"({white.bit_length()}-bit samples).", pil.mode)
    # float64 first: 32-bit values do not fit float32's mantissa.
    return (values.astype(np.float64) / white).astype(np.float32)


def image_to_rgb(pil: Image.Image, size=None, *, source="image") -> np.ndarray:
    """A Pillow image of any supported mode as float32 RGB (H, W, 3) in [0, 1].

    Args:
      pil: the image, decoded or not (see the module docstring for each mode).
      size: optional (height, width), or one int for a square, to resize to
        with bilinear interpolation.
      source: the file name (or a label) that errors name.

    Raises:
      ImageLoadError: unsupported mode, values out of range, or damaged data.
    """
    size = _check_size(size)
    _check_mode(pil, source)
    _decode(pil, source)
    # Some formats (GIF frames, icons) settle their mode only when decoded.
    mode = _check_mode(pil, source)
    if pil.width == 0 or pil.height == 0:
        raise ImageLoadError(source, f"it has no pixels ({pil.width} x {pil.height}).", mode)
    if mode in EIGHT_BIT_MODES:
        rgb = pil.convert("RGB")
        if size is not None and (rgb.height, rgb.width) != size:
            rgb = rgb.resize((size[1], size[0]), resample=Image.Resampling.BILINEAR)
        return np.asarray(rgb, dtype=np.float32) / UINT8_MAX
    gray = _gray_unit_values(pil, source)
    if size is not None and gray.shape != size:
        # Resized as 32-bit float, so 16-bit precision is not rounded to 8 bits.
        resized = Image.fromarray(gray).resize(
            (size[1], size[0]), resample=Image.Resampling.BILINEAR)
        # Bilinear weights are a convex combination; clip only float rounding.
        gray = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
    return np.repeat(gray[..., None], RGB_CHANNELS, axis=-1)


def _check_mode(pil: Image.Image, source) -> str:
    if pil.mode not in SUPPORTED_MODES:
        raise ImageLoadError(source, _unsupported_mode_reason(pil.mode), pil.mode)
    return pil.mode


def _decode(pil: Image.Image, source) -> None:
    """Decodes the pixels, turning Pillow's decoder errors into ImageLoadError."""
    try:
        pil.load()
    except Image.DecompressionBombError as error:
        raise ImageLoadError(source, _bomb_reason(error), pil.mode) from error
    except Exception as error:
        if _is_file_system_error(error) or isinstance(error, MemoryError):
            raise
        # Decoders raise OSError, SyntaxError, ValueError, EOFError, ... on damaged data.
        raise ImageLoadError(source, f"its image data is damaged or truncated "
                                     f"({type(error).__name__}: {error}).", pil.mode) from error


def load_image(path, size=None) -> np.ndarray:
    """Loads an image file as float32 RGB (H, W, 3) in [0, 1].

    Args:
      path: any image Pillow reads, in one of :data:`SUPPORTED_MODES` (8-bit,
        16-bit and float gray, palette, RGB(A), CMYK, ...; the module docstring
        gives the rule for each). Alpha is dropped.
      size: optional (height, width), or one int for a square, to resize to
        with bilinear interpolation.

    Raises:
      ImageLoadError: the file is not an image, is damaged, is a decompression
        bomb, or has an unsupported mode or out-of-range values.
      OSError: the file cannot be opened (e.g. FileNotFoundError).
      ValueError: a bad ``size``.
    """
    size = _check_size(size)
    with _open(path) as pil:
        return image_to_rgb(pil, size, source=path)


def rgb_batch(image, name: str = "image") -> np.ndarray:
    """An image given as a path or an array, as a float32 RGB batch (N, H, W, 3) in [0, 1].

    Args:
      image: a path (str or PathLike; read with :func:`load_image`), or an array:
        (H, W), (H, W, 1), (H, W, 3) or a batch (N, H, W, 1 or 3); uint8 (0..255)
        or float with finite values in [0, 1]. Gray is repeated into three channels.
      name: how messages call the image (e.g. ``"--style"``).

    Raises:
      ImageLoadError, OSError: as :func:`load_image`, for a path.
      TypeError, ValueError: an array of another dtype, shape or range.
    """
    if isinstance(image, (str, os.PathLike)):
        return load_image(image)[None]
    array = np.asarray(image)
    if array.dtype == object or not (array.dtype == np.uint8
                                     or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must be a path or an array of float (values in [0, 1]) or "
                        f"uint8 (0..255) pixels, got {type(image).__name__} of dtype "
                        f"{array.dtype}.")
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] not in (1, RGB_CHANNELS) or 0 in array.shape:
        raise ValueError(f"{name} must be (H, W), (H, W, 3) or a batch (N, H, W, 3) of RGB (or "
                         f"gray) pixels, got shape {np.shape(image)}.")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / UINT8_MAX
    else:
        array = array.astype(np.float32)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} holds NaN or infinite values; pixels must be in [0, 1].")
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(f"{name} has values in [{low:g}, {high:g}]; float pixels must be in "
                             "[0, 1] (divide 0..255 values by 255).")
    if array.shape[-1] == 1:
        array = np.repeat(array, RGB_CHANNELS, axis=-1)
    return np.ascontiguousarray(array)
