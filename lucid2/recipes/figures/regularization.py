"""The article's "Enemy of Feature Visualization" and "Spectrum of Regularization" figures.

* :func:`enemy_figure`: unregularized optimization of pixels (no Fourier
  parameterization, no color decorrelation, no transforms) at a few learning
  rates, snapshotted as it goes: the image fills with high-frequency noise.
* :func:`regularization_figure`: the same objective and pixel
  parameterization with frequency penalization (L1, total variation, blur
  each step) or transformation robustness (Lucid's standard transforms).
  Learned priors are out of scope.

Both report :func:`lucid2.optvis.metrics.high_frequency_share` (the share of
the image's power above half the Nyquist frequency) of every image, and the
unit's mean activation. The article does not name the unit of these
figures; the default is mixed4a unit 11, the unit of its first example.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lucid2.optvis.defaults import DEFAULT_PRESET
from lucid2.optvis import checks, objectives
from lucid2.optvis.defaults import DEFAULT_SIZE, DEFAULT_STEPS
from lucid2.optvis.metrics import high_frequency_share
from lucid2.optvis.settings import RenderSettings
from lucid2.recipes.figures.optimization import (channel_means, effective_steps, figure_settings,
                                                 settings_record, step_thresholds)
from lucid2.recipes.figures.registry import DEFAULT_SEED
from lucid2.recipes.figures.result import FigureResult, Panel
from lucid2.recipes.figures.units import LayerChannel, check_model_units, check_units, unit_label

DEFAULT_UNIT: LayerChannel = ("mixed4a", 11)
ENEMY_LEARNING_RATES = (0.01, 0.05)
ENEMY_SNAPSHOTS = (1 / 16, 1 / 4, 1)  # fractions of the steps
# Penalty weights at 128 x 128 pixels (subtracted from the channel-mean objective), of
# the order of Lucid's regularization notebook. Measured on mixed4a 11 after 256 steps
# at 128 px, the high-frequency share goes from 0.54 (unregularized) to 0.52 (L1: it
# pulls towards gray rather than against high frequencies), 0.14 (total variation) and
# 0.35 (blur), while the unit's activation stays within 5%.
PENALTY_REFERENCE_SIZE = 128
GRAY = 0.5  # L1's constant: the penalty pulls pixels towards mid-gray
L1_WEIGHT = 0.05
TV_WEIGHT = 0.25
BLUR_WEIGHT = 1.0
PIXEL_PARAMETERIZATION = "pixels, sigmoid, no decorrelation"


def _pixel_settings(unit, steps, size, seed, model, preset) -> tuple[LayerChannel, RenderSettings]:
    """The checked unit, and unregularized pixel settings: no decorrelation, no transforms."""
    (unit,) = check_units([unit], "unit")
    render_settings = figure_settings(steps=steps, size=size, seed=seed, preset=preset,
                                      param="pixel",
                                      decorrelate=False, transforms="none")
    check_model_units(model, [unit], size)
    return unit, render_settings


def _image_numbers(model, unit, image: np.ndarray) -> dict:
    return {"high_frequency_share": float(high_frequency_share(image)),
            "activation": float(channel_means(model, image[None], unit)[0]),
            "distance_from_gray": float(np.mean(np.abs(image - GRAY)))}


def enemy_figure(model, *, unit: LayerChannel = DEFAULT_UNIT,
                 learning_rates=ENEMY_LEARNING_RATES,
                 steps: int = DEFAULT_STEPS, size: int = DEFAULT_SIZE,
                 seed: int = DEFAULT_SEED,
                 preset: str = DEFAULT_PRESET) -> FigureResult:
    """Unregularized pixel optimization, one row per Adam learning rate, snapshots as columns.

    Numbers: per snapshot, the high-frequency share, the unit's activation and
    the pixels' mean distance from gray.
    """
    unit, render_settings = _pixel_settings(unit, steps, size, seed, model, preset)
    rates = tuple(checks.positive_float("learning_rates entry", r) for r in learning_rates)
    if not rates:
        raise ValueError(f"learning_rates must name at least one rate, got {learning_rates!r}.")

    thresholds = step_thresholds(effective_steps(render_settings.steps), ENEMY_SNAPSHOTS)
    rows, records = [], []
    for rate in rates:
        renderer = render_settings.replace(learning_rate=rate).renderer(
            model, objectives.channel(*unit))
        row: list[Panel] = []
        record: dict[str, Any] = {"learning_rate": rate, "snapshots": []}
        for step, images in zip(thresholds, renderer.run(thresholds), strict=True):
            numbers = _image_numbers(model, unit, images[0])
            record["snapshots"].append({"step": step, **numbers})
            row.append(Panel(f"lr {rate:g} step {step}", images[0],
                             caption=f"HF {numbers['high_frequency_share']:.2f}"))
        rows.append(tuple(row))
        records.append(record)
    return FigureResult(
        name="enemy",
        title=f"Unregularized pixel optimization of {unit_label(unit)} "
              "(captions: high-frequency share of the image's power)",
        grid=tuple(rows), column_titles=tuple(f"Step {t}" for t in thresholds),
        row_titles=tuple(f"Adam lr {r:g}" for r in rates), numbers={"runs": records},
        settings=settings_record(render_settings, unit=list(unit),
                                 parameterization=PIXEL_PARAMETERIZATION, transforms="none",
                                 learning_rates=list(rates)))


def regularization_variants(unit: LayerChannel,
                            size: int) -> list[tuple[str, objectives.Objective, str]]:
    """(title, objective, transforms) of each variant: unregularized, L1, TV, blur, transforms.

    ``transforms`` is a :class:`~lucid2.optvis.settings.RenderSettings` transform
    name. The penalties sum over pixels while the channel objective is a mean,
    so their weights scale with ``(PENALTY_REFERENCE_SIZE / size) ** 2`` to
    keep the same pull on each pixel at any size.
    """
    target = objectives.channel(*unit)
    scale = (PENALTY_REFERENCE_SIZE / size) ** 2
    return [
        ("Unregularized", target, "none"),
        ("L1", target - L1_WEIGHT * scale * objectives.L1(constant=GRAY), "none"),
        ("Total variation", target - TV_WEIGHT * scale * objectives.total_variation(), "none"),
        ("Blur each step", target - BLUR_WEIGHT * scale * objectives.blur_input_each_step(),
         "none"),
        ("Transformation robustness", target, "standard"),
    ]


def regularization_figure(model, *, unit: LayerChannel = DEFAULT_UNIT,
                          steps: int = DEFAULT_STEPS, size: int = DEFAULT_SIZE,
                          seed: int = DEFAULT_SEED,
                          preset: str = DEFAULT_PRESET) -> FigureResult:
    """The same pixel optimization with each regularizer; one column per variant.

    Numbers: per variant, the high-frequency share, the unit's mean
    activation and the mean distance of the pixels from gray (what L1 acts
    on) on the final image, and the share relative to the unregularized
    image.
    """
    unit, render_settings = _pixel_settings(unit, steps, size, seed, model, preset)
    panels, records = [], []
    for title, objective, transforms in regularization_variants(unit, render_settings.size):
        images = render_settings.replace(transforms=transforms).render(model, objective)
        numbers = _image_numbers(model, unit, images[0])
        records.append({"variant": title, "objective": str(objective), **numbers})
        panels.append(Panel(title, images[0],
                            caption=f"HF {numbers['high_frequency_share']:.2f}, "
                                    f"act {numbers['activation']:.3g}"))
    baseline = records[0]["high_frequency_share"]
    for record in records:
        record["share_vs_unregularized"] = (record["high_frequency_share"] / baseline
                                            if baseline else None)
    scale = (PENALTY_REFERENCE_SIZE / render_settings.size) ** 2
    return FigureResult(
        name="regularization",
        title=f"Regularization of pixel optimization of {unit_label(unit)} "
              "(captions: high-frequency share, activation)",
        grid=(tuple(panels),), column_titles=tuple(r["variant"] for r in records),
        numbers={"variants": records},
        settings=settings_record(render_settings, unit=list(unit),
                                 parameterization=PIXEL_PARAMETERIZATION,
                                 penalty_weights={
                                     "L1": L1_WEIGHT * scale,
                                     "total_variation": TV_WEIGHT * scale,
                                     "blur_input_each_step": BLUR_WEIGHT * scale}))
