"""Shared steps of the figure recipes: checked settings, renders, and measurements.

Renders go through :class:`lucid2.optvis.render.Renderer`, so the
``LUCID2_MAX_STEPS`` cap applies; loops that step by hand (to record curves)
apply it too through :func:`effective_steps`. Measurements evaluate
objectives and activations on the *untransformed* final images, without
redirected ReLU gradients: the numbers a reader would get by feeding the
PNGs back to the network.
"""

from __future__ import annotations

import numbers
from typing import Callable, Sequence

import numpy as np

DEFAULT_STEPS = 512  # the article's usual number of steps (it used 2560 for its final images)
DEFAULT_SIZE = 128
DEFAULT_SEED = 0
DEFAULT_LEARNING_RATE = 0.05  # Adam, as in the article

Unit = tuple[str, int]  # (layer, channel)


# ------------------------------------------------------------------ checks
def check_positive_int(value, name: str) -> int:
    """``value`` as an int > 0, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def check_seed(seed) -> int:
    """A non-negative int seed."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    return int(seed)


def check_units(units, name: str = "units") -> tuple[Unit, ...]:
    """A non-empty sequence of (layer, channel) pairs."""
    try:
        pairs = tuple(tuple(u) for u in units)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of (layer, channel) pairs, got "
                        f"{units!r}.") from None
    if not pairs:
        raise ValueError(f"{name} must name at least one (layer, channel) pair.")
    for pair in pairs:
        if (len(pair) != 2 or not isinstance(pair[0], str) or isinstance(pair[1], bool)
                or not isinstance(pair[1], numbers.Integral) or pair[1] < 0):
            raise ValueError(f"{name} must hold (layer, channel) pairs such as ('mixed4a', 97), "
                             f"got {pair!r}.")
    return tuple((layer, int(channel)) for layer, channel in pairs)


def check_model_units(model, units: Sequence[Unit], size: int) -> None:
    """Raises ValueError when a layer is unknown or a channel is out of range for ``model``."""
    for layer, channel in units:
        model.check_layer(layer)
        channels = model.output_shape(layer, (1, size, size, 3))[-1]
        if channel >= channels:
            raise ValueError(f"Channel {channel} is out of range for layer {layer!r} "
                             f"({channels} channels).")


def unit_label(unit: Unit) -> str:
    """``("mixed4a", 97)`` -> ``"mixed4a 97"``."""
    return f"{unit[0]} {unit[1]}"


def effective_steps(steps: int) -> int:
    """``steps`` capped by ``LUCID2_MAX_STEPS`` (as every render is)."""
    from lucid2.optvis.render import max_steps_from_env

    cap = max_steps_from_env()
    return steps if cap is None else min(steps, cap)


def step_thresholds(steps: int, fractions: Sequence[float]) -> tuple[int, ...]:
    """Strictly increasing step counts at ``fractions`` of ``steps`` (at least 1, last = steps)."""
    values = sorted({max(1, int(round(steps * f))) for f in fractions} | {steps})
    return tuple(values)


# ------------------------------------------------------------------ renders
def _optimizer(learning_rate: float) -> Callable:
    import keras

    return lambda: keras.optimizers.Adam(learning_rate=learning_rate)


def make_renderer(model, objective, param_f, *, seed: int, transforms=None,
                  learning_rate: float = DEFAULT_LEARNING_RATE):
    """A :class:`~lucid2.optvis.render.Renderer` with Adam(``learning_rate``)."""
    from lucid2.optvis.render import Renderer

    return Renderer(model, objective, param_f=param_f, optimizer=_optimizer(learning_rate),
                    transforms=transforms, seed=seed)


def render(model, objective, param_f, *, steps: int, seed: int, transforms=None,
           learning_rate: float = DEFAULT_LEARNING_RATE,
           thresholds: Sequence[int] | None = None) -> list[np.ndarray]:
    """Optimizes and returns the (N, H, W, 3) images at ``thresholds`` (default: ``steps``)."""
    renderer = make_renderer(model, objective, param_f, seed=seed, transforms=transforms,
                             learning_rate=learning_rate)
    return renderer.run(tuple(thresholds) if thresholds else (steps,))


def render_with_curve(model, objective, param_f, *, steps: int, seed: int, transforms=None,
                      learning_rate: float = DEFAULT_LEARNING_RATE,
                      checkpoints: int = 16) -> dict:
    """Optimizes step by step, recording the objective.

    Returns a dict with ``images`` (the final (N, H, W, 3) images), ``curve``
    (the optimized objective before each update: on the transformed images
    when there are transforms) and ``clean`` (``[step, value]`` pairs of the
    objective measured on the untransformed images at about ``checkpoints``
    evenly spaced steps, from step 0 to the last).
    """
    renderer = make_renderer(model, objective, param_f, seed=seed, transforms=transforms,
                             learning_rate=learning_rate)
    total = effective_steps(steps)
    every = max(1, total // checkpoints)
    clean = [[0, measure(model, objective, renderer.images())]]
    curve = []
    for step in range(1, total + 1):
        curve.append(float(renderer.step()))
        if step % every == 0 or step == total:
            clean.append([step, measure(model, objective, renderer.images())])
    renderer.check_finite()
    return {"images": renderer.images(), "curve": curve, "clean": clean}


# ------------------------------------------------------------ measurements
def activations(model, images: np.ndarray, layers: Sequence[str]) -> dict[str, np.ndarray]:
    """The activations of ``layers`` for ``images`` (N, H, W, 3) in [0, 1], as numpy."""
    import tensorflow as tf

    names = list(dict.fromkeys(layers))
    outputs = model.submodel(names)(tf.constant(np.asarray(images, np.float32)), training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return {name: np.asarray(out) for name, out in zip(names, outputs)}


def channel_means(model, images: np.ndarray, unit: Unit) -> np.ndarray:
    """Per-image spatial mean of one channel: (N,)."""
    acts = activations(model, images, [unit[0]])[unit[0]][..., unit[1]]
    return acts.reshape(acts.shape[0], -1).mean(axis=1)


def measure(model, objective, images) -> float:
    """The value of ``objective`` on untransformed ``images`` (no redirected ReLU)."""
    import tensorflow as tf

    from lucid2.optvis import objectives

    objective = objectives.as_objective(objective)
    images = tf.convert_to_tensor(np.asarray(images, np.float32))
    shape = tuple(images.shape)
    layers = objective.required_layers(model, shape)
    acts = activations(model, images.numpy(), layers) if layers else {}
    ctx = objectives.Context({k: tf.constant(v) for k, v in acts.items()}, images, model)
    return float(objective(ctx))


def image_param(size: int, *, batch: int = 1, fft: bool = True, decorrelate: bool = True):
    """A zero-argument function creating ``param.image(size, ...)`` (created after seeding)."""
    from lucid2.optvis import param

    return lambda: param.image(size, batch=batch, fft=fft, decorrelate=decorrelate)
