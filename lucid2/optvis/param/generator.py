"""Learned priors: images drawn by a generator network from an optimized latent.

Instead of optimizing pixels (or their Fourier coefficients), :func:`generator`
optimizes the input of a trained image generator (a GAN's generator, a
decoder ...), so every image it can produce looks like the generator's training
data: the generator is the prior. Only the latent is trained; the generator's
own weights are read, never updated, and never appear in the param's
``trainable_variables``.

Any callable mapping a (batch, *latent_shape) float tensor to a
(batch, height, width, 3) image tensor works: a ``keras.Model`` or layer
(called with ``training=False``), a TF-Hub generator loaded with
``lucid2.modelzoo.generators.load_hub_generator``, or a plain function. Its
output range (``value_range``, ``(-1, 1)`` for the usual ``tanh`` output) is
mapped to [0, 1] and clipped there. One-channel (grayscale) generators are
shown as RGB by repeating the channel.
"""

from __future__ import annotations

from typing import Callable, Sequence

import keras
import tensorflow as tf

from lucid2.optvis import checks
from lucid2.optvis.param.base import ImageParam

# The usual GAN output: tanh, so (-1, 1).
DEFAULT_VALUE_RANGE = (-1.0, 1.0)
# The standard normal prior most generators are trained with.
DEFAULT_LATENT_SD = 1.0
IMAGE_RANK = 4
RGB_CHANNELS = 3
GRAY_CHANNELS = 1
GENERATOR_CHANNELS = (GRAY_CHANNELS, RGB_CHANNELS)
REQUIRED_OUTPUT = ("a float image batch (batch, height, width, 3) with channels last "
                   "(or 1 channel, shown as gray)")


def check_value_range(value_range) -> tuple[float, float]:
    """``value_range`` as a (low, high) pair of finite floats with low < high."""
    if isinstance(value_range, (str, bytes)):
        raise TypeError(f"value_range must be a (low, high) pair of numbers, got {value_range!r}.")
    try:
        low, high = value_range
    except (TypeError, ValueError):
        raise TypeError(
            f"value_range must be a (low, high) pair of numbers, got {value_range!r}.") from None
    low = checks.finite_float("value_range[0]", low)
    high = checks.finite_float("value_range[1]", high)
    if not low < high:
        raise ValueError(f"value_range must have low < high, got {value_range!r}.")
    return low, high


def _latent_shape(value) -> tuple[int, ...]:
    if checks.is_int(value):
        value = (value,)
    return checks.shape("latent_shape", value)


def _describe_generator(generator) -> str:
    name = getattr(generator, "name", None)
    kind = type(generator).__name__
    return f"the generator {name!r} ({kind})" if isinstance(name, str) and name else \
        f"the generator ({kind})"


def generate(generator: Callable, latent: tf.Tensor) -> tf.Tensor:
    """``generator(latent)``; Keras layers and models are called with ``training=False``
    (batch normalization uses its moving statistics, dropout is off)."""
    if isinstance(generator, keras.layers.Layer):
        return generator(latent, training=False)
    return generator(latent)


def _check_output(images, latent_shape: tuple[int, ...], what: str) -> tf.Tensor:
    """The generator's output for a (batch, *latent_shape) latent, checked to be images."""
    if not tf.is_tensor(images):
        raise TypeError(
            f"{what} returned {type(images).__name__} for latents of shape {latent_shape}; "
            f"param.generator needs {REQUIRED_OUTPUT}, as one tensor.")
    if not images.dtype.is_floating:
        raise TypeError(
            f"{what} returned {images.dtype.name} values; param.generator needs "
            f"{REQUIRED_OUTPUT} (integer pixels would stop the gradient).")
    shape = tuple(images.shape)
    if (len(shape) != IMAGE_RANK or shape[0] != latent_shape[0]
            or shape[-1] not in GENERATOR_CHANNELS or None in shape):
        raise ValueError(
            f"{what} returned shape {shape} for latents of shape {latent_shape}; "
            f"param.generator needs {REQUIRED_OUTPUT}, one image per latent "
            f"({latent_shape[0]} here) and a known height and width.")
    return images


class GeneratorImage(ImageParam):
    """Images ``generator(latent)`` mapped from ``value_range`` to [0, 1]; only the latent trains.

    Attributes:
      latent: the trainable (batch, *latent_shape) variable.
      latent_shape, latent_sd, value_range: as given to :func:`generator`.
      generator_channels: 3, or 1 for a grayscale generator (repeated to RGB).
    """

    # The generator is a model (or holds one) with variables of its own: keep it out of
    # tf.Module's attribute walks, so trainable_variables (what render optimizes),
    # variables and submodules hold the latent only.
    _TF_MODULE_IGNORED_PROPERTIES = (ImageParam._TF_MODULE_IGNORED_PROPERTIES
                                     | frozenset({"_generator"}))

    def __init__(self, generator: Callable, latent_shape: int | Sequence[int], batch: int = 1,
                 value_range: Sequence[float] = DEFAULT_VALUE_RANGE,
                 latent_sd: float = DEFAULT_LATENT_SD, name: str | None = None):
        if not callable(generator):
            raise TypeError(
                "generator must be a keras.Model, a layer or a function mapping a batch of "
                f"latents to images, got {type(generator).__name__}.")
        latent_shape = _latent_shape(latent_shape)
        batch = checks.positive_int("batch", batch)
        low, high = check_value_range(value_range)
        latent_sd = checks.positive_float("latent_sd", latent_sd)
        what = _describe_generator(generator)
        start = tf.random.normal((batch,) + latent_shape, stddev=latent_sd)
        images = self._first_images(generator, start, low, high, what)
        _, height, width, channels = images.shape
        super().__init__(batch, height, width, RGB_CHANNELS, name=name)
        self._generator = generator
        self.latent_shape = latent_shape
        self.latent_sd = latent_sd
        self.value_range = (low, high)
        self.generator_channels = int(channels)
        self.latent = tf.Variable(start, name="latent")

    @staticmethod
    def _first_images(generator, start: tf.Tensor, low: float, high: float,
                      what: str) -> tf.Tensor:
        """One call on the initial latent, before any optimization: checks that the output
        is an image batch, finite, partly inside ``value_range``, and depends on the latent."""
        shape = tuple(start.shape)
        with tf.GradientTape() as tape:
            tape.watch(start)
            try:
                images = generate(generator, start)
            except (ValueError, TypeError, tf.errors.InvalidArgumentError) as error:
                raise ValueError(
                    f"Calling {what} on latents of shape {shape} failed: {error}. Check "
                    "latent_shape (the generator's input shape without the batch).") from error
            images = _check_output(images, shape, what)
            total = tf.reduce_sum(tf.cast(images, tf.float32))
        if not bool(tf.reduce_all(tf.math.is_finite(images))):
            raise ValueError(f"{what} returned NaN or infinite values for the initial latent.")
        inside = tf.logical_and(images >= low, images <= high)
        if not bool(tf.reduce_any(inside)):
            lowest, highest = float(tf.reduce_min(images)), float(tf.reduce_max(images))
            raise ValueError(
                f"{what} returned values in [{lowest:.3g}, {highest:.3g}], all outside "
                f"value_range {(low, high)}; clipped to [0, 1], no gradient would reach the "
                "latent. Give the generator's output range as value_range, e.g. (-1, 1) for "
                "tanh, (0, 1) for sigmoid.")
        if tape.gradient(total, start) is None:
            raise ValueError(
                f"The output of {what} does not depend on its input latent (no gradient reaches "
                "it), so there is nothing to optimize.")
        return images

    def __call__(self) -> tf.Tensor:
        low, high = self.value_range
        images = tf.cast(generate(self._generator, tf.identity(self.latent)), tf.float32)
        # The affine map takes value_range to [0, 1]; the clip catches generators whose
        # output can leave their nominal range (a linear last layer).
        images = tf.clip_by_value((images - low) * (1.0 / (high - low)), 0.0, 1.0)
        if self.generator_channels == GRAY_CHANNELS:
            images = tf.tile(images, [1, 1, 1, RGB_CHANNELS])
        return images

    @property
    def generator(self) -> Callable:
        """The generator (not trained)."""
        return self._generator

    def _details(self) -> str:
        gray = ", gray" if self.generator_channels == GRAY_CHANNELS else ""
        low, high = self.value_range
        return (f"latent_shape={self.latent_shape}, value_range=({low:g}, {high:g}), "
                f"latent_sd={self.latent_sd:g}{gray}")


def generator(generator: Callable, latent_shape: int | Sequence[int], batch: int = 1,
              value_range: Sequence[float] = DEFAULT_VALUE_RANGE,
              latent_sd: float = DEFAULT_LATENT_SD, name: str | None = None) -> GeneratorImage:
    """A learned-prior image param: optimize the latent of an image generator.

    The latent starts as a N(0, ``latent_sd``) draw (seed it with
    ``keras.utils.set_random_seed``, or ``render_vis(seed=...)`` with a
    ``param_f`` function). The generator is called once here, on that latent, so
    a generator that does not give an image batch fails now, with a message
    saying what it returned, and not after compiling a render.

    Args:
      generator: a ``keras.Model`` / layer (called with ``training=False``), a TF-Hub
        generator (``lucid2.modelzoo.generators.load_hub_generator``) or any callable
        mapping a float (batch, *latent_shape) tensor to a float
        (batch, height, width, 3) image tensor (1 channel is shown as gray RGB).
      latent_shape: the generator's input shape without the batch, e.g. 128 or (4, 4, 32).
      batch: number of images (one latent each).
      value_range: the generator's output range, mapped to [0, 1] (values outside
        are clipped): (-1, 1) for tanh outputs, (0, 1) for sigmoid outputs.
      latent_sd: standard deviation of the initial latent (the prior's scale);
        :func:`lucid2.optvis.objectives.latent_prior` measures the latent against it.
      name: the module's name.

    Raises:
      TypeError: ``generator`` is not callable, or returns something other than one
        float tensor.
      ValueError: bad sizes or ranges, a call that fails for this latent shape, an
        output that is not a (batch, height, width, 3 or 1) image batch, is not
        finite, lies wholly outside ``value_range``, or does not depend on the latent.
    """
    return GeneratorImage(generator, latent_shape, batch=batch, value_range=value_range,
                          latent_sd=latent_sd, name=name)
