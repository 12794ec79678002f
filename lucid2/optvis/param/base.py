"""Base classes: raw (unconstrained) tensors and images in [0, 1].

TensorFlow 2 turns Lucid's graph-building functions into modules: the
variables are created once, at construction (the only place randomness is
used, through TF random ops that honour the global seed), and calling the
module computes the tensor again from the current variable values. Calls are
pure, so they can sit inside a ``tf.function`` and trace once.

Two kinds of modules exist:

* :class:`RawParam`: an unconstrained tensor of a fixed ``shape`` (a pixel
  grid, a Fourier spectrum, a low-resolution tensor ...). Raw params add up
  with ``+`` (and ``sum``), which is how shared-plus-separate
  parameterizations are written, as in Lucid.
* :class:`ImageParam`: what ``render`` optimizes, a float32
  (batch, height, width, channels) image in [0, 1] with 3 (RGB) or 4 (RGBA)
  channels. :func:`lucid2.optvis.param.as_image` turns a raw param into one.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

# The layouts a raw param may compute its tensor in (``RawParam.native_layout``).
CHANNELS_LAST = "channels_last"
CHANNELS_FIRST = "channels_first"


def _count_parameters(module: tf.Module) -> int:
    return int(sum(np.prod(v.shape) for v in module.trainable_variables))


def initial_value(name: str, value, shapes) -> np.ndarray:
    """``value`` as a finite float32 array of one of ``shapes`` (a raw param's start), or a
    ValueError naming ``name``."""
    shapes = [tuple(int(s) for s in shape) for shape in shapes]
    array = np.array(value, dtype=np.float32)
    if array.shape not in shapes:
        allowed = " or ".join(str(shape) for shape in dict.fromkeys(shapes))
        raise ValueError(f"{name} must have shape {allowed}, got {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite (it holds NaN or infinity).")
    return array


class RawParam(tf.Module):
    """An unconstrained tensor of a fixed shape computed from variables.

    Subclasses set ``shape`` and implement ``__call__``. A param that computes its
    tensor channels-first (the inverse FFT does) says so with ``native_layout`` and
    overrides :meth:`channels_first`, so that color mixing can read that layout and skip
    a transpose.
    """

    native_layout: str = CHANNELS_LAST

    def __init__(self, shape: tuple[int, ...], name: str | None = None):
        super().__init__(name=name)
        self.shape = tuple(int(s) for s in shape)

    def __call__(self) -> tf.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__.")

    def channels_first(self) -> tf.Tensor:
        """The tensor as (batch, channels, height, width)."""
        return tf.transpose(self(), (0, 3, 1, 2))

    def __add__(self, other: RawParam) -> SumParam:
        return SumParam([self, other])

    def __radd__(self, other) -> RawParam:
        # ``sum(params)`` starts from the int 0.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return SumParam([other, self])

    def describe(self) -> str:
        """A one-line summary: the class, shape and number of trainable values."""
        return (f"{type(self).__name__}(shape={self.shape}, "
                f"parameters={_count_parameters(self)})")

    def __repr__(self) -> str:
        return self.describe()


class SumParam(RawParam):
    """The sum of raw params of the same shape (shared-plus-separate parameterizations)."""

    def __init__(self, parts, name: str | None = None):
        flat: list[RawParam] = []
        for part in parts:
            if not isinstance(part, RawParam):
                raise TypeError(
                    "Only raw params (pixel_image, fft_image, lowres_tensor, ...) can be added, "
                    f"got {type(part).__name__}.")
            flat.extend(part.parts if isinstance(part, SumParam) else [part])
        shapes = {p.shape for p in flat}
        if len(shapes) != 1:
            raise ValueError(
                f"Raw params added together must have the same shape, got {sorted(shapes)}.")
        super().__init__(flat[0].shape, name=name)
        self.parts: list[RawParam] = flat

    def __call__(self) -> tf.Tensor:
        return tf.add_n([part() for part in self.parts])

    def describe(self) -> str:
        inner = " + ".join(type(p).__name__ for p in self.parts)
        return f"SumParam({inner}; shape={self.shape}, parameters={_count_parameters(self)})"


class ImageParam(tf.Module):
    """A batch of images in [0, 1] computed from trainable variables.

    Attributes:
      batch, height, width: the output's spatial layout.
      channels: 3 (RGB) or 4 (RGBA, alpha last). Grayscale parameterizations
        still return 3 identical channels.

    ``__call__()`` returns a float32 tensor of shape
    (batch, height, width, channels); ``trainable_variables`` are what an
    optimizer updates.
    """

    def __init__(self, batch: int, height: int, width: int, channels: int,
                 name: str | None = None):
        super().__init__(name=name)
        if channels not in (3, 4):
            raise ValueError(f"An image param has 3 (RGB) or 4 (RGBA) channels, got {channels}.")
        self.batch = int(batch)
        self.height = int(height)
        self.width = int(width)
        self.channels = int(channels)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(batch, height, width, channels) of the images ``__call__`` returns."""
        return (self.batch, self.height, self.width, self.channels)

    def __call__(self) -> tf.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__.")

    def _details(self) -> str:
        return ""

    def describe(self) -> str:
        """A one-line summary: class, output shape, trainable values and options."""
        details = self._details()
        return (f"{type(self).__name__}(shape={self.shape}, "
                f"parameters={_count_parameters(self)}{', ' + details if details else ''})")

    def __repr__(self) -> str:
        return self.describe()
