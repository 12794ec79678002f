"""The article's "Preconditioning and Parameterization" figures.

* :func:`preconditioning_figure`: the same objective optimized for the same
  number of steps with pixels, with Fourier coefficients, and with Fourier
  coefficients plus ImageNet color decorrelation; without and with
  transformation robustness. The JSON records the objective at every step,
  and on the untransformed image at evenly spaced checkpoints, so one can
  check the article's remark that the decorrelated space "develops faster".
* :func:`steepest_descent_figure`: at one fixed start image, the direction of
  steepest ascent of the objective (descent of the loss) under the L2 metric
  (the raw pixel gradient g), the L-infinity metric (sign(g)), and in the
  Fourier space without and with color decorrelation: with the image written
  as ``x = A(theta)`` for a linear map A, steepest ascent in ``theta`` moves
  ``x`` along ``A A^T g``. Each direction is shown as an image around gray.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lucid2.optvis.defaults import DEFAULT_PRESET
from lucid2.optvis import checks, objectives, param
from lucid2.optvis.defaults import DEFAULT_SIZE, DEFAULT_STEPS
from lucid2.optvis.metrics import high_frequency_share
from lucid2.optvis.settings import RenderSettings
from lucid2.recipes.layout import line_plot
from lucid2.recipes.figures.optimization import (CURVE_CHECKPOINTS, effective_steps,
                                                 figure_settings, optimize_with_curve,
                                                 settings_record)
from lucid2.recipes.figures.registry import DEFAULT_SEED
from lucid2.recipes.figures.result import FigureResult, Panel
from lucid2.recipes.figures.units import LayerChannel, check_model_units, check_units, unit_label

DEFAULT_UNIT: LayerChannel = ("mixed4a", 11)
# Pre-ReLU, so that the gradient at the start image is never cut off by a ReLU.
STEEPEST_DESCENT_UNIT: LayerChannel = ("mixed4a_pre_relu", 11)
# (name, RenderSettings.param, decorrelate) of each column.
PARAMETERIZATIONS = (("pixel", "pixel", False), ("fourier", "fft", False),
                     ("fourier_decorrelated", "fft", True))
PARAMETERIZATION_TITLES = {"pixel": "Pixels", "fourier": "Fourier",
                           "fourier_decorrelated": "Fourier + decorrelated colors"}
TRANSFORM_SETTINGS = ("none", "standard")  # RenderSettings.transforms of the rows
START_GRAY = 0.5
START_NOISE = 0.1  # standard deviation of the start image's noise around gray
DISPLAY_PERCENTILE = 99  # directions are scaled so this percentile of |d| reaches full contrast
MIN_NORM = 1e-30  # keeps the cosine of a zero direction finite


def _row_of_runs(model, objective, render_settings: RenderSettings) -> tuple[dict, list]:
    """One run per parameterization with the row's transforms: (numbers by name, panels)."""
    runs, panels = {}, []
    for name, kind, decorrelate in PARAMETERIZATIONS:
        run = optimize_with_curve(model, objective,
                                  render_settings.replace(param=kind, decorrelate=decorrelate),
                                  checkpoints=CURVE_CHECKPOINTS)
        runs[name] = {"curve": run["curve"], "clean": run["clean"],
                      "final": run["clean"][-1][1],
                      "high_frequency_share": float(high_frequency_share(run["images"][0]))}
        panels.append(Panel(f"{render_settings.transforms} {name}", run["images"][0],
                            caption=f"objective {runs[name]['final']:.3g}"))
    return runs, panels


def _comparison(runs: dict) -> dict:
    """How Fourier + decorrelation compares with pixels along the clean checkpoints."""
    pixel_final = runs["pixel"]["final"]
    best = runs["fourier_decorrelated"]
    beyond = [step for step, value in best["clean"] if value > pixel_final]
    lead = [[step, value - pixel] for (step, value), (_, pixel)
            in zip(best["clean"], runs["pixel"]["clean"], strict=True)][1:]
    return {
        "runs": runs,
        "fourier_decorrelated_beats_pixel": best["final"] > pixel_final,
        "fourier_decorrelated_minus_pixel": best["final"] - pixel_final,
        "fourier_decorrelated_lead_by_checkpoint": lead,
        "fourier_decorrelated_ahead_fraction":
            float(np.mean([difference > 0 for _, difference in lead])) if lead else None,
        "first_step_beyond_pixel_final": beyond[0] if beyond else None}


def preconditioning_figure(model, *, unit: LayerChannel = DEFAULT_UNIT,
                           transforms: tuple[str, ...] = TRANSFORM_SETTINGS,
                           steps: int = DEFAULT_STEPS, size: int = DEFAULT_SIZE,
                           seed: int = DEFAULT_SEED,
                           preset: str = DEFAULT_PRESET) -> FigureResult:
    """Pixel vs Fourier vs Fourier + decorrelation at equal steps; a row per transform setting.

    Args:
      transforms: "none" and/or "standard" (Lucid's standard transforms).

    Numbers, per row and parameterization: ``curve`` (the optimized objective
    before each step), ``clean`` ([step, objective on the untransformed image]
    checkpoints), ``final`` and the final image's ``high_frequency_share``;
    per row, ``fourier_decorrelated_beats_pixel`` (whether, at equal steps,
    Fourier + decorrelation reaches a higher clean objective than pixels),
    ``fourier_decorrelated_lead_by_checkpoint`` ([step, its clean objective
    minus the pixel run's]), ``fourier_decorrelated_ahead_fraction`` (the
    share of those checkpoints where it leads) and
    ``first_step_beyond_pixel_final`` (the first checkpoint where it exceeds
    the pixel run's final value, or None).
    """
    (unit,) = check_units([unit], "unit")
    render_settings = figure_settings(steps=steps, size=size, seed=seed, preset=preset)
    transforms = tuple(transforms)
    if not transforms or any(t not in TRANSFORM_SETTINGS for t in transforms):
        raise ValueError(f"transforms must be a non-empty selection of {TRANSFORM_SETTINGS}, "
                         f"got {transforms!r}.")
    check_model_units(model, [unit], size)

    objective = objectives.channel(*unit)
    rows, row_titles, numbers, extra = [], [], {}, {}
    for setting in transforms:
        runs, panels = _row_of_runs(model, objective, render_settings.replace(transforms=setting))
        numbers[setting] = _comparison(runs)
        curves = {PARAMETERIZATION_TITLES[n]: runs[n]["curve"] for n, _, _ in PARAMETERIZATIONS}
        extra[f"curves_{setting}"] = line_plot(
            curves, title=f"{unit_label(unit)}, {setting} transforms: objective per step")
        rows.append(tuple(panels))
        row_titles.append("no transforms" if setting == "none" else "standard transforms")
    return FigureResult(
        name="preconditioning",
        title=f"Preconditioning: {unit_label(unit)} after "
              f"{effective_steps(render_settings.steps)} steps in each space (captions: "
              "objective on the final image)",
        grid=tuple(rows), row_titles=tuple(row_titles),
        column_titles=tuple(PARAMETERIZATION_TITLES[n] for n, _, _ in PARAMETERIZATIONS),
        numbers=numbers, extra_images=extra,
        settings=settings_record(render_settings, unit=list(unit), optimizer="Adam",
                                 learning_rate=render_settings.learning_rate,
                                 transforms=list(transforms),
                                 curve_checkpoints=CURVE_CHECKPOINTS))


def _display(direction: np.ndarray) -> np.ndarray:
    scale = np.percentile(np.abs(direction), DISPLAY_PERCENTILE)
    scale = scale if scale > 0 else 1.0
    return np.clip(0.5 + 0.5 * direction / scale, 0.0, 1.0).astype(np.float32)


def _fourier_direction(gradient: np.ndarray, decorrelate: bool) -> np.ndarray:
    """``A A^T g`` for the linear map A: Fourier coefficients (-> decorrelated colors) -> image."""
    raw = param.fft_image(gradient.shape)

    def image_of_raw() -> tf.Tensor:
        out = raw()
        return param.linear_decorrelate_color(out) if decorrelate else out

    variable = raw.spectrum
    variable.assign(tf.zeros_like(variable))
    with tf.GradientTape() as tape:
        inner = tf.reduce_sum(image_of_raw() * tf.constant(gradient))
    variable.assign(tape.gradient(inner, variable))  # A^T g, since A is linear
    return image_of_raw().numpy()


def _start_image(size: int, seed: int) -> np.ndarray:
    """Gray plus Gaussian noise drawn from ``seed``, clipped to [0, 1]: (1, size, size, 3)."""
    rng = np.random.default_rng(seed)
    return np.clip(START_GRAY + START_NOISE * rng.standard_normal((1, size, size, 3)),
                   0.0, 1.0).astype(np.float32)


def _gradient(model, unit: LayerChannel, start: np.ndarray) -> tuple[float, np.ndarray]:
    """The channel objective at ``start`` and its gradient with respect to the pixels."""
    objective = objectives.channel(*unit)
    submodel = model.submodel([unit[0]])
    image = tf.Variable(start)
    with tf.GradientTape() as tape:
        acts = submodel(image, training=False)
        value = objective(objectives.Context({unit[0]: acts}, image, model))
    return float(value), tape.gradient(value, image).numpy()


def steepest_descent_figure(model, *, unit: LayerChannel = STEEPEST_DESCENT_UNIT,
                            steps: int | None = None, size: int = DEFAULT_SIZE,
                            seed: int = DEFAULT_SEED) -> FigureResult:
    """Directions of steepest ascent of one objective at one start image, under four metrics.

    The start image is gray plus Gaussian noise (standard deviation
    ``START_NOISE``) drawn from ``seed``. ``steps`` is accepted for a uniform
    interface and not used: nothing is optimized.

    Numbers, per direction: the high-frequency share, and the cosine with the
    L2 gradient (positive: every one is an ascent direction).
    """
    (unit,) = check_units([unit], "unit")
    size = checks.positive_int("size", size)
    seed = checks.non_negative_int("seed", seed)
    checks.optional_positive_int("steps", steps)
    check_model_units(model, [unit], size)

    start = _start_image(size, seed)
    value, gradient = _gradient(model, unit, start)
    directions = {"L2": gradient, "L-infinity": np.sign(gradient),
                  "Fourier": _fourier_direction(gradient, decorrelate=False),
                  "Fourier + decorrelated colors": _fourier_direction(gradient, decorrelate=True)}
    flat_gradient = gradient.ravel()
    records = {}
    for name, direction in directions.items():
        flat = direction.ravel()
        cosine = float(flat @ flat_gradient / max(np.linalg.norm(flat)
                                                   * np.linalg.norm(flat_gradient), MIN_NORM))
        records[name] = {"high_frequency_share": float(high_frequency_share(direction[0])),
                         "cosine_with_gradient": cosine}
    row = [Panel("start image", start[0], caption="start")]
    row += [Panel(name, _display(d[0]), caption=f"HF {records[name]['high_frequency_share']:.2f}")
            for name, d in directions.items()]
    return FigureResult(
        name="steepest_descent",
        title=f"Directions of steepest ascent of {unit_label(unit)} under different "
              "metrics (captions: high-frequency share)",
        grid=(tuple(row),), column_titles=("Start image",) + tuple(directions),
        numbers={"objective_at_start": value, "directions": records},
        settings={"size": size, "seed": seed, "unit": list(unit), "steps": None,
                  "start": f"gray {START_GRAY} + N(0, {START_NOISE}) noise, clipped",
                  "display": f"0.5 + 0.5 * d / percentile(|d|, {DISPLAY_PERCENTILE})"})
