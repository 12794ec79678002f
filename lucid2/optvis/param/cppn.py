"""Compositional Pattern Producing Networks (CPPNs) as image parameterizations.

A CPPN maps each pixel's (x, y) coordinates through a small per-pixel
network (1x1 convolutions) to a color, so the image is as smooth and
structured as the network's function of position. This follows Lucid's
``cppn``: coordinates scaled to unit standard deviation, ``num_layers``
hidden layers with variance-scaling weights and N(0, 0.1) biases, and a
sigmoid output layer whose weights start at zero (a flat initial image).
"""

from __future__ import annotations

import math
from typing import Callable

import tensorflow as tf

from lucid2.optvis import checks
from lucid2.optvis.param.base import ImageParam

# Coordinates in [-sqrt(3), sqrt(3)] have unit standard deviation.
COORD_RANGE = math.sqrt(3.0)
BIAS_INIT_SD = 0.1
# TF1's variance_scaling draws from a normal truncated at 2 sd; dividing by
# this constant (the std of a unit normal truncated to [-2, 2]) restores the
# intended standard deviation.
TRUNCATED_NORMAL_STD = 0.87962566103423978
INSTANCE_NORM_EPSILON = 1e-6
# Statistics of atan(x) and atan(x)**2 for x ~ N(0, 1), which normalize the
# composite activation's outputs (Lucid's coefficients).
_ATAN_RMS, _ATAN_SQ_RMS = 0.67, 0.6
_ATAN_STD, _ATAN_SQ_MEAN, _ATAN_SQ_STD = 0.67, 0.45, 0.396
# Mean and std of relu(x) for x ~ N(0, 1).
_RELU_MEAN, _RELU_STD = 0.40, 0.58


def composite_activation(x: tf.Tensor) -> tf.Tensor:
    """[atan(x), atan(x)**2], each scaled to about unit RMS (doubles the channels)."""
    x = tf.atan(x)
    return tf.concat([x / _ATAN_RMS, x * x / _ATAN_SQ_RMS], axis=-1)


def composite_activation_unbiased(x: tf.Tensor) -> tf.Tensor:
    """[atan(x), atan(x)**2], each standardized to zero mean, unit std (doubles the channels)."""
    x = tf.atan(x)
    return tf.concat([x / _ATAN_STD, (x * x - _ATAN_SQ_MEAN) / _ATAN_SQ_STD], axis=-1)


def relu_normalized_activation(x: tf.Tensor) -> tf.Tensor:
    """relu(x) standardized to about zero mean and unit std."""
    return (tf.nn.relu(x) - _RELU_MEAN) / _RELU_STD


ACTIVATIONS: dict[str, tuple[Callable[[tf.Tensor], tf.Tensor], int]] = {
    # name: (function, output channels per input channel)
    "composite": (composite_activation, 2),
    "composite_unbiased": (composite_activation_unbiased, 2),
    "relu": (relu_normalized_activation, 1),
}
OUTPUT_CHANNELS = (1, 3, 4)


class CPPN(ImageParam):
    """A CPPN image param; every image of the batch shares the network (identical images)."""

    def __init__(self, width: int, height: int | None = None, batch: int = 1,
                 num_output_channels: int = 3, num_hidden_channels: int = 24,
                 num_layers: int = 8, activation: str = "composite", normalize: bool = False,
                 name: str | None = None):
        height, width = checks.height_width(width, height)
        batch = checks.positive_int("batch", batch)
        if isinstance(num_output_channels, bool) or num_output_channels not in OUTPUT_CHANNELS:
            raise ValueError(
                f"num_output_channels must be one of {OUTPUT_CHANNELS} (1 gray shown as RGB, "
                f"3 RGB, 4 RGBA), got {num_output_channels!r}.")
        hidden = checks.positive_int("num_hidden_channels", num_hidden_channels)
        num_layers = checks.non_negative_int("num_layers", num_layers)
        activation = checks.choice("activation", activation, ACTIVATIONS)
        super().__init__(batch, height, width, 4 if num_output_channels == 4 else 3, name=name)
        self.num_output_channels = int(num_output_channels)
        self.activation = activation
        self.normalize = bool(normalize)
        self._activation_fn, growth = ACTIVATIONS[activation]

        self.hidden_weights, self.hidden_biases = [], []
        fan_in = 2  # (x, y)
        for i in range(num_layers):
            sd = math.sqrt(1.0 / fan_in) / TRUNCATED_NORMAL_STD
            self.hidden_weights.append(tf.Variable(
                tf.random.truncated_normal((fan_in, hidden), stddev=sd), name=f"w{i}"))
            self.hidden_biases.append(tf.Variable(
                tf.random.normal((hidden,), stddev=BIAS_INIT_SD), name=f"b{i}"))
            fan_in = hidden * growth
        self.output_weights = tf.Variable(
            tf.zeros((fan_in, self.num_output_channels)), name="w_out")
        self.output_bias = tf.Variable(
            tf.random.normal((self.num_output_channels,), stddev=BIAS_INIT_SD), name="b_out")

    def _coordinates(self) -> tf.Tensor:
        ys = tf.linspace(-COORD_RANGE, COORD_RANGE, self.height)
        xs = tf.linspace(-COORD_RANGE, COORD_RANGE, self.width)
        y, x = tf.meshgrid(ys, xs, indexing="ij")
        return tf.stack([x, y], axis=-1)  # (h, w, 2)

    def __call__(self) -> tf.Tensor:
        net = self._coordinates()
        for w, b in zip(self.hidden_weights, self.hidden_biases, strict=True):
            net = tf.tensordot(net, w, axes=1) + b
            if self.normalize:
                mean, var = tf.nn.moments(net, axes=[0, 1], keepdims=True)
                net = (net - mean) * tf.math.rsqrt(var + INSTANCE_NORM_EPSILON)
            net = self._activation_fn(net)
        out = tf.sigmoid(tf.tensordot(net, self.output_weights, axes=1) + self.output_bias)
        if self.num_output_channels == 1:
            out = tf.tile(out, [1, 1, 3])
        return tf.tile(out[None], [self.batch, 1, 1, 1])

    def _details(self) -> str:
        return (f"layers={len(self.hidden_weights)}, activation={self.activation!r}"
                f"{', normalized' if self.normalize else ''}")


def cppn(width: int, batch: int = 1, num_output_channels: int = 3, num_hidden_channels: int = 24,
         num_layers: int = 8, activation: str = "composite", normalize: bool = False,
         height: int | None = None) -> CPPN:
    """A CPPN image param of ``width`` x ``height`` (square by default).

    Args:
      width, height: image size in pixels.
      batch: number of images; all share the network, so they are identical
        (as in Lucid). Use several CPPNs for different images.
      num_output_channels: 3 (RGB), 4 (RGBA) or 1 (gray, shown as RGB).
      num_hidden_channels: width of each hidden 1x1 layer.
      num_layers: number of hidden layers.
      activation: "composite" (Lucid's default), "composite_unbiased" or "relu".
      normalize: instance-normalize each hidden layer's pre-activations.
    """
    return CPPN(width, height=height, batch=batch, num_output_channels=num_output_channels,
                num_hidden_channels=num_hidden_channels, num_layers=num_layers,
                activation=activation, normalize=normalize)
