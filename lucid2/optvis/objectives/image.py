"""Penalties on the images (or any layer): L1, L2, total variation, blur.

These return non-negative numbers measuring something unwanted. Objectives
are maximized, so SUBTRACT them, as in Lucid::

    channel("mixed4a", 97) - 1e-3 * L1(constant=0.5) - 1e-4 * total_variation()

``layer="input"`` (the default) means the untransformed parameterized images.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lucid2.optvis import checks
from lucid2.optvis.objectives import model_checks
from lucid2.optvis.objectives.core import INPUT, Context, Leaf, Objective
from lucid2.optvis.objectives.layers import format_description

L2_EPSILON = 1e-6  # keeps the gradient of the L2 norm finite at 0
BLUR_CENTER_WEIGHT = 1.0  # Lucid's 3x3 blur: centre 1, neighbours 0.5
BLUR_NEIGHBOUR_WEIGHT = 0.5


def L1(layer: str = INPUT, constant: float = 0,  # noqa: N802
       batch: int | None = None) -> Objective:
    """Sum of ``|layer - constant|``; a penalty to subtract."""
    checks.layer_name("layer", layer)
    constant = checks.finite_float("constant", constant)
    batch = checks.optional_non_negative_int("batch", batch)
    description = format_description("L1", layer, constant=constant or None, batch=batch)

    def fn(ctx: Context) -> tf.Tensor:
        values = ctx(layer)
        values = values if batch is None else values[batch]
        return tf.reduce_sum(tf.abs(values - constant))

    def check(model, image_shape):
        model_checks.check_batch(batch, image_shape, description)

    return Leaf(fn, description, layers=(layer,), check=check)


def L2(layer: str = INPUT, constant: float = 0, epsilon: float = L2_EPSILON,  # noqa: N802
       batch: int | None = None) -> Objective:
    """``sqrt(epsilon + sum((layer - constant)**2))``; a penalty to subtract."""
    checks.layer_name("layer", layer)
    constant = checks.finite_float("constant", constant)
    epsilon = checks.finite_float("epsilon", epsilon)
    batch = checks.optional_non_negative_int("batch", batch)
    description = format_description("L2", layer, constant=constant or None, batch=batch)

    def fn(ctx: Context) -> tf.Tensor:
        values = ctx(layer)
        values = values if batch is None else values[batch]
        return tf.sqrt(epsilon + tf.reduce_sum(tf.square(values - constant)))

    def check(model, image_shape):
        model_checks.check_batch(batch, image_shape, description)

    return Leaf(fn, description, layers=(layer,), check=check)


def total_variation(layer: str = INPUT) -> Objective:
    """Sum of absolute differences between neighbouring pixels, over the batch; a penalty.

    See Simonyan et al., 2014 (as ``tf.image.total_variation``).
    """
    checks.layer_name("layer", layer)
    description = format_description("TotalVariation", layer)

    def fn(ctx: Context) -> tf.Tensor:
        return tf.reduce_sum(tf.image.total_variation(ctx(layer)))

    return Leaf(fn, description, layers=(layer,))


def blur(images: tf.Tensor) -> tf.Tensor:
    """Lucid's 3x3 blur, normalized at the borders so that a constant image is unchanged."""
    channels = images.shape[-1]
    kernel = np.full((3, 3), BLUR_NEIGHBOUR_WEIGHT, np.float32)
    kernel[1, 1] = BLUR_CENTER_WEIGHT
    kernel = tf.constant(np.tile(kernel[:, :, None, None], (1, 1, channels, 1)))

    def conv(t):
        return tf.nn.depthwise_conv2d(t, kernel, strides=[1, 1, 1, 1], padding="SAME")

    return conv(images) / conv(tf.ones_like(images))


def blur_input_each_step() -> Objective:
    """``0.5 * sum((input - stop_gradient(blur(input)))**2)``; a penalty to subtract.

    Maximizing ``... - k * blur_input_each_step()`` with plain gradient steps
    of size 1 moves the images a fraction ``k`` towards their blurred version
    each step (Nguyen et al., 2015).
    """
    def fn(ctx: Context) -> tf.Tensor:
        images = ctx(INPUT)
        blurred = tf.stop_gradient(blur(images))
        return 0.5 * tf.reduce_sum(tf.square(images - blurred))

    return Leaf(fn, "BlurInputEachStep", layers=(INPUT,))
