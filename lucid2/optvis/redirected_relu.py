"""Lucid's redirected ReLU gradient, for any Keras model.

A random starting image may not make the unit being visualized fire at all;
then every ReLU on its path has a zero gradient and optimization never starts.
For the first few steps, rendering swaps each ReLU's gradient for one that,
where the true gradient is zero for a whole image, still lets through the
gradient that pushes a negative pre-activation *up* (and, for capped ReLUs
such as ReLU6, one above the cap *down*). Forward values never change.

Signs: the gradient arriving here is that of the LOSS being minimized
(minus the objective), so gradient descent moves a pre-activation ``x`` by
``-dy``: for ``x <= 0`` only ``dy < 0`` (pushing up) is let through.

:func:`redirected_relus` patches a Keras model's ReLUs on the instance while a
function is being traced, and restores them afterwards.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import keras
import tensorflow as tf

RELU6_CAP = 6.0


def _true_relu_grad(x: tf.Tensor, dy: tf.Tensor, max_value: float | None) -> tf.Tensor:
    # The fused kernels TensorFlow uses for its own ReLU gradients: one pass over dy.
    if max_value is None:
        return tf.raw_ops.ReluGrad(gradients=dy, features=x)
    if max_value == RELU6_CAP:
        return tf.raw_ops.Relu6Grad(gradients=dy, features=x)
    blocked = tf.logical_or(x <= 0, x >= max_value)
    return tf.where(blocked, tf.zeros_like(dy), dy)


def _redirected_grad(x: tf.Tensor, dy: tf.Tensor, max_value: float | None) -> tf.Tensor:
    zeros = tf.zeros_like(dy)
    relu_grad = _true_relu_grad(x, dy, max_value)
    below = x <= 0
    wrong_way = tf.logical_and(below, dy > 0)
    if max_value is not None:
        wrong_way = tf.logical_or(wrong_way, tf.logical_and(x >= max_value, dy < 0))
    redirected = tf.where(wrong_way, zeros, dy)
    rank = dy.shape.rank
    if rank is None or rank < 2:
        any_through = tf.reduce_any(tf.not_equal(relu_grad, 0))
    else:
        any_through = tf.reduce_any(tf.not_equal(relu_grad, 0), axis=list(range(1, rank)),
                                    keepdims=True)
    return tf.where(any_through, relu_grad, redirected)


def redirected_relu_grad(x: tf.Tensor, dy: tf.Tensor, redirect,
                         max_value: float | None = None) -> tf.Tensor:
    """The gradient of ``relu(x)`` (capped at ``max_value``) given the upstream ``dy``.

    When ``redirect`` is true, images (first axis) for which the true gradient
    is zero everywhere get the redirected gradient instead. ``x`` may be the
    ReLU's input or its output: both give the same gradient.
    """
    x = tf.convert_to_tensor(x)
    dy = tf.convert_to_tensor(dy, dtype=x.dtype)
    redirect = tf.cast(redirect, tf.bool)
    # A cond, not a select between both results: after the warm-up (nearly every
    # step of a render) only the true gradient is computed, at the cost of a plain ReLU's.
    return tf.cond(redirect, lambda: _redirected_grad(x, dy, max_value),
                   lambda: _true_relu_grad(x, dy, max_value))


def redirected_relu(x: tf.Tensor, redirect, max_value: float | None = None) -> tf.Tensor:
    """``relu(x)`` (capped at ``max_value``) whose gradient is redirected while ``redirect``."""
    redirect = tf.convert_to_tensor(redirect, tf.bool)

    @tf.custom_gradient
    def forward(inputs):
        outputs = tf.nn.relu(inputs)
        if max_value is not None:
            outputs = tf.minimum(outputs, tf.cast(max_value, outputs.dtype))

        def grad(dy):
            # The output decides exactly what the input would (y <= 0 iff x <= 0, y >= cap
            # iff x >= cap), and reading it, as TensorFlow's own ReLU gradient does, leaves
            # the pre-activation with one consumer, so Grappler still fuses the
            # convolution, bias and ReLU into one kernel.
            return redirected_relu_grad(outputs, dy, redirect, max_value)

        return outputs, grad

    return forward(x)


def _relu_functions() -> dict[int, float | None]:
    functions = {keras.activations.relu: None, keras.ops.relu: None, tf.nn.relu: None,
                 keras.activations.relu6: RELU6_CAP, keras.ops.relu6: RELU6_CAP,
                 tf.nn.relu6: RELU6_CAP}
    return {id(f): cap for f, cap in functions.items()}


def _walk_layers(model: keras.layers.Layer) -> Iterator[keras.layers.Layer]:
    seen: set[int] = set()
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        yield layer
        stack.extend(getattr(layer, "layers", []) or [])


_MISSING = object()


@contextlib.contextmanager
def redirected_relus(model: keras.Model, redirect: Callable[[], tf.Tensor]) -> Iterator[int]:
    """Within the block, the ReLUs of ``model`` (nested models included) redirect gradients.

    Patched: ``keras.layers.ReLU`` layers without negative slope or threshold,
    and layers whose ``activation`` is a ReLU or ReLU6 function (``Activation("relu")``,
    ``Conv2D(..., activation="relu")``). ``redirect()`` is called at each patched
    ReLU during the forward pass and gives a boolean tensor (read it from a
    variable so one traced function can switch). The patch is on the layer
    instances and is undone on exit, even after an error: trace inside the
    block, and the model object is unchanged afterwards. Yields the number of
    patched ReLUs.
    """
    relu_caps = _relu_functions()
    undo: list[tuple[keras.layers.Layer, str, object]] = []

    def patch(layer, attribute, value):
        undo.append((layer, attribute, layer.__dict__.get(attribute, _MISSING)))
        setattr(layer, attribute, value)

    try:
        for layer in _walk_layers(model):
            if isinstance(layer, keras.layers.ReLU):
                if float(layer.negative_slope) != 0 or float(layer.threshold) != 0:
                    continue
                cap = None if layer.max_value is None else float(layer.max_value)

                def call(inputs, *args, _cap=cap, **kwargs):
                    return redirected_relu(inputs, redirect(), _cap)

                patch(layer, "call", call)
            elif id(getattr(layer, "activation", None)) in relu_caps:
                cap = relu_caps[id(layer.activation)]

                def activation(inputs, _cap=cap):
                    return redirected_relu(inputs, redirect(), _cap)

                patch(layer, "activation", activation)
        yield len(undo)
    finally:
        for layer, attribute, old in reversed(undo):
            if old is _MISSING:
                delattr(layer, attribute)
            else:
                setattr(layer, attribute, old)
