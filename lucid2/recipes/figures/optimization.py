"""Optimization and measurement steps shared by the figure recipes.

A figure renders through :class:`~lucid2.optvis.settings.RenderSettings`
(:func:`figure_settings`), so the ``LUCID2_MAX_STEPS`` cap applies; loops
that step by hand (to record curves) apply it too, through
:func:`effective_steps`. Measurements evaluate objectives
(:meth:`~lucid2.optvis.objectives.Objective.evaluate`) and activations on the
*untransformed* final images, without redirected ReLU gradients: the numbers
a reader would get by feeding the PNGs back to the network.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import tensorflow as tf

from lucid2.optvis import checks, model_api, objectives, progress
from lucid2.optvis.render import max_steps_from_env
from lucid2.optvis import settings as settings_lib
from lucid2.optvis.defaults import DEFAULT_PRESET
from lucid2.optvis.settings import RenderSettings
from lucid2.recipes.figures.units import LayerChannel

CURVE_CHECKPOINTS = 16  # clean measurements along a recorded curve


def figure_settings(*, steps: int, size: int, seed: int, preset: str = DEFAULT_PRESET,
                    **changes) -> RenderSettings:
    """A figure's render settings: the ``preset`` (Lucid's recipe by default) with
    ``steps``, ``size`` and ``seed``.

    ``changes`` sets other fields (``batch``, ``param``, ``transforms``, ...).
    Unlike a plain render, a figure needs a seed. Raises TypeError or
    ValueError naming a bad field or preset before anything is built.
    """
    seed = checks.non_negative_int("seed", seed)
    return settings_lib.preset(preset, steps=steps, size=size, seed=seed, **changes)


def effective_steps(steps: int) -> int:
    """``steps`` capped by ``LUCID2_MAX_STEPS`` (as every render is)."""
    cap = max_steps_from_env()
    return steps if cap is None else min(steps, cap)


def step_thresholds(steps: int, fractions: Sequence[float]) -> tuple[int, ...]:
    """Strictly increasing step counts at ``fractions`` of ``steps`` (at least 1, last = steps)."""
    values = sorted({max(1, int(round(steps * f))) for f in fractions} | {steps})
    return tuple(values)


def optimize_with_curve(model, objective, settings: RenderSettings, *,
                        checkpoints: int = CURVE_CHECKPOINTS) -> dict:
    """Optimizes step by step, recording the objective.

    Returns a dict with ``images`` (the final (N, H, W, 3) images), ``curve``
    (the optimized objective before each update: on the transformed images
    when there are transforms) and ``clean`` (``[step, value]`` pairs of the
    objective evaluated on the untransformed images at about ``checkpoints``
    evenly spaced steps, from step 0 to the last).

    The steps are reported, as a render's are, to the active reporter
    (:func:`lucid2.optvis.progress.current`: an app's, else silent).
    """
    objective = objectives.as_objective(objective)
    renderer = settings.renderer(model, objective)
    total = effective_steps(settings.steps)
    every = max(1, total // checkpoints)
    clean = [[0, objective.evaluate(model, renderer.images())]]
    curve = []
    reporter = progress.current()
    with reporter.running(total, renderer.progress_label()):
        for step in range(1, total + 1):
            value = float(renderer.step())
            curve.append(value)
            if step % every == 0 or step == total:
                clean.append([step, objective.evaluate(model, renderer.images())])
            # After the clean measurement, so that the rate and ETA include it.
            reporter.update(step, {"objective": value})
    renderer.check_finite()
    return {"images": renderer.images(), "curve": curve, "clean": clean}


def activations(model, images: np.ndarray, layers: Sequence[str]) -> dict[str, np.ndarray]:
    """The activations of ``layers`` for ``images`` (N, H, W, 3) in [0, 1], as numpy."""
    found = model_api.activations(model, layers, tf.constant(np.asarray(images, np.float32)))
    return {name: np.asarray(out) for name, out in found.items()}


def channel_means(model, images: np.ndarray, unit: LayerChannel) -> np.ndarray:
    """Per-image spatial mean of one channel: (N,)."""
    acts = activations(model, images, [unit[0]])[unit[0]][..., unit[1]]
    return acts.reshape(acts.shape[0], -1).mean(axis=1)


def settings_record(settings: RenderSettings, **extra) -> dict:
    """What a figure's JSON says of its renders: the steps actually run, size, seed, the
    optimizer's and transforms' settings (which tell the preset), ``extra``."""
    return {"steps": effective_steps(settings.steps), "size": settings.size,
            "seed": settings.seed, "learning_rate": settings.learning_rate,
            "beta_1": settings.beta_1, "transform_strength": settings.transform_strength,
            **extra}
