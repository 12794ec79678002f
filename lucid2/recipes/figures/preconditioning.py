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

from lucid2.recipes.figures import rendering
from lucid2.recipes.figures.layout import line_plot
from lucid2.recipes.figures.result import FigureResult, Panel

DEFAULT_UNIT: rendering.Unit = ("mixed4a", 11)
# Pre-ReLU, so that the gradient at the start image is never cut off by a ReLU.
STEEPEST_DESCENT_UNIT: rendering.Unit = ("mixed4a_pre_relu", 11)
PARAMETERIZATIONS = (("pixel", False, False), ("fourier", True, False),
                     ("fourier_decorrelated", True, True))
PARAMETERIZATION_TITLES = {"pixel": "Pixels", "fourier": "Fourier",
                           "fourier_decorrelated": "Fourier + decorrelated colors"}
TRANSFORM_SETTINGS = ("none", "standard")
CURVE_CHECKPOINTS = 16
START_GRAY = 0.5
START_NOISE = 0.1  # standard deviation of the start image's noise around gray
DISPLAY_PERCENTILE = 99  # directions are scaled so this percentile of |d| reaches full contrast


def preconditioning_figure(model, *, unit: rendering.Unit = DEFAULT_UNIT,
                           transforms: tuple[str, ...] = TRANSFORM_SETTINGS,
                           steps: int = rendering.DEFAULT_STEPS,
                           size: int = rendering.DEFAULT_SIZE,
                           seed: int = rendering.DEFAULT_SEED) -> FigureResult:
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
    (unit,) = rendering.check_units([unit], "unit")
    steps = rendering.check_positive_int(steps, "steps")
    size = rendering.check_positive_int(size, "size")
    seed = rendering.check_seed(seed)
    transforms = tuple(transforms)
    if not transforms or any(t not in TRANSFORM_SETTINGS for t in transforms):
        raise ValueError(f"transforms must be a non-empty selection of {TRANSFORM_SETTINGS}, "
                         f"got {transforms!r}.")
    rendering.check_model_units(model, [unit], size)
    from lucid2.optvis import objectives, transform
    from lucid2.optvis.metrics import high_frequency_share

    choices = {"none": [], "standard": list(transform.standard_transforms)}
    objective = objectives.channel(*unit)
    rows, row_titles, numbers, plots = [], [], {}, {}
    for setting in transforms:
        row, runs = [], {}
        for name, fft, decorrelate in PARAMETERIZATIONS:
            run = rendering.render_with_curve(
                model, objective, rendering.image_param(size, fft=fft, decorrelate=decorrelate),
                steps=steps, seed=seed, transforms=choices[setting],
                checkpoints=CURVE_CHECKPOINTS)
            runs[name] = {"curve": run["curve"], "clean": run["clean"],
                          "final": run["clean"][-1][1],
                          "high_frequency_share": float(high_frequency_share(run["images"][0]))}
            row.append(Panel(f"{setting} {name}", run["images"][0],
                             caption=f"objective {runs[name]['final']:.3g}"))
        pixel_final = runs["pixel"]["final"]
        beyond = [step for step, value in runs["fourier_decorrelated"]["clean"]
                  if value > pixel_final]
        lead = [[step, value - pixel] for (step, value), (_, pixel)
                in zip(runs["fourier_decorrelated"]["clean"], runs["pixel"]["clean"])][1:]
        numbers[setting] = {
            "runs": runs,
            "fourier_decorrelated_beats_pixel":
                runs["fourier_decorrelated"]["final"] > pixel_final,
            "fourier_decorrelated_minus_pixel": runs["fourier_decorrelated"]["final"] - pixel_final,
            "fourier_decorrelated_lead_by_checkpoint": lead,
            "fourier_decorrelated_ahead_fraction":
                float(np.mean([difference > 0 for _, difference in lead])) if lead else None,
            "first_step_beyond_pixel_final": beyond[0] if beyond else None}
        plots[setting] = {PARAMETERIZATION_TITLES[n]: runs[n]["curve"] for n, _, _ in
                          PARAMETERIZATIONS}
        rows.append(tuple(row))
        row_titles.append("no transforms" if setting == "none" else "standard transforms")
    extra = {f"curves_{setting}": line_plot(
        curves, title=f"{rendering.unit_label(unit)}, {setting} transforms: objective per step")
        for setting, curves in plots.items()}
    return FigureResult(
        name="preconditioning",
        title=f"Preconditioning: {rendering.unit_label(unit)} after "
              f"{rendering.effective_steps(steps)} steps in each space (captions: objective "
              "on the final image)",
        grid=tuple(rows), row_titles=tuple(row_titles),
        column_titles=tuple(PARAMETERIZATION_TITLES[n] for n, _, _ in PARAMETERIZATIONS),
        numbers=numbers, extra_images=extra,
        settings={"steps": rendering.effective_steps(steps), "size": size, "seed": seed,
                  "unit": list(unit), "optimizer": "Adam",
                  "learning_rate": rendering.DEFAULT_LEARNING_RATE,
                  "transforms": list(transforms), "curve_checkpoints": CURVE_CHECKPOINTS})


def _display(direction: np.ndarray) -> np.ndarray:
    scale = np.percentile(np.abs(direction), DISPLAY_PERCENTILE)
    scale = scale if scale > 0 else 1.0
    return np.clip(0.5 + 0.5 * direction / scale, 0.0, 1.0).astype(np.float32)


def _fourier_direction(gradient: np.ndarray, decorrelate: bool) -> np.ndarray:
    """``A A^T g`` for the linear map A: Fourier coefficients (-> decorrelated colors) -> image."""
    import tensorflow as tf

    from lucid2.optvis import param

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


def steepest_descent_figure(model, *, unit: rendering.Unit = STEEPEST_DESCENT_UNIT,
                            steps: int | None = None, size: int = rendering.DEFAULT_SIZE,
                            seed: int = rendering.DEFAULT_SEED) -> FigureResult:
    """Directions of steepest ascent of one objective at one start image, under four metrics.

    The start image is gray plus Gaussian noise (standard deviation
    ``START_NOISE``) drawn from ``seed``. ``steps`` is accepted for a uniform
    interface and not used: nothing is optimized.

    Numbers, per direction: the high-frequency share, and the cosine with the
    L2 gradient (positive: every one is an ascent direction).
    """
    (unit,) = rendering.check_units([unit], "unit")
    size = rendering.check_positive_int(size, "size")
    seed = rendering.check_seed(seed)
    if steps is not None:
        rendering.check_positive_int(steps, "steps")
    rendering.check_model_units(model, [unit], size)
    import tensorflow as tf

    from lucid2.optvis import objectives
    from lucid2.optvis.metrics import high_frequency_share

    rng = np.random.default_rng(seed)
    start = np.clip(START_GRAY + START_NOISE * rng.standard_normal((1, size, size, 3)),
                    0.0, 1.0).astype(np.float32)
    objective = objectives.channel(*unit)
    submodel = model.submodel([unit[0]])
    image = tf.Variable(start)
    with tf.GradientTape() as tape:
        acts = submodel(image, training=False)
        value = objective(objectives.Context({unit[0]: acts}, image, model))
    gradient = tape.gradient(value, image).numpy()
    directions = {"L2": gradient, "L-infinity": np.sign(gradient),
                  "Fourier": _fourier_direction(gradient, decorrelate=False),
                  "Fourier + decorrelated colors": _fourier_direction(gradient, decorrelate=True)}
    flat_gradient = gradient.ravel()
    records = {}
    for name, direction in directions.items():
        flat = direction.ravel()
        cosine = float(flat @ flat_gradient / max(np.linalg.norm(flat)
                                                   * np.linalg.norm(flat_gradient), 1e-30))
        records[name] = {"high_frequency_share": float(high_frequency_share(direction[0])),
                         "cosine_with_gradient": cosine}
    row = [Panel("start image", start[0], caption="start")]
    row += [Panel(name, _display(d[0]), caption=f"HF {records[name]['high_frequency_share']:.2f}")
            for name, d in directions.items()]
    return FigureResult(
        name="steepest_descent",
        title=f"Directions of steepest ascent of {rendering.unit_label(unit)} under different "
              "metrics (captions: high-frequency share)",
        grid=(tuple(row),), column_titles=("Start image",) + tuple(directions),
        numbers={"objective_at_start": float(value), "directions": records},
        settings={"size": size, "seed": seed, "unit": list(unit), "steps": None,
                  "start": f"gray {START_GRAY} + N(0, {START_NOISE}) noise, clipped",
                  "display": f"0.5 + 0.5 * d / percentile(|d|, {DISPLAY_PERCENTILE})"})
