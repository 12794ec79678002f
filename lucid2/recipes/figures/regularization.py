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

import numpy as np

from lucid2.recipes.figures import rendering
from lucid2.recipes.figures.result import FigureResult, Panel

DEFAULT_UNIT: rendering.Unit = ("mixed4a", 11)
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


def _check(unit, steps, size, seed, model):
    (unit,) = rendering.check_units([unit], "unit")
    steps = rendering.check_positive_int(steps, "steps")
    size = rendering.check_positive_int(size, "size")
    seed = rendering.check_seed(seed)
    rendering.check_model_units(model, [unit], size)
    return unit, steps, size, seed


def _pixel_param(size: int):
    return rendering.image_param(size, fft=False, decorrelate=False)


def _image_numbers(model, unit, image: np.ndarray) -> dict:
    from lucid2.optvis.metrics import high_frequency_share

    return {"high_frequency_share": float(high_frequency_share(image)),
            "activation": float(rendering.channel_means(model, image[None], unit)[0]),
            "distance_from_gray": float(np.mean(np.abs(image - GRAY)))}


def enemy_figure(model, *, unit: rendering.Unit = DEFAULT_UNIT,
                 learning_rates=ENEMY_LEARNING_RATES,
                 steps: int = rendering.DEFAULT_STEPS, size: int = rendering.DEFAULT_SIZE,
                 seed: int = rendering.DEFAULT_SEED) -> FigureResult:
    """Unregularized pixel optimization, one row per Adam learning rate, snapshots as columns.

    Numbers: per snapshot, the high-frequency share, the unit's activation and
    the pixels' mean distance from gray.
    """
    unit, steps, size, seed = _check(unit, steps, size, seed, model)
    rates = tuple(float(r) for r in learning_rates)
    if not rates or any(not np.isfinite(r) or r <= 0 for r in rates):
        raise ValueError(f"learning_rates must be positive numbers, got {learning_rates!r}.")
    from lucid2.optvis import objectives

    thresholds = rendering.step_thresholds(rendering.effective_steps(steps), ENEMY_SNAPSHOTS)
    rows, records = [], []
    for rate in rates:
        snapshots = rendering.render(model, objectives.channel(*unit), _pixel_param(size),
                                     steps=steps, seed=seed, transforms=[],
                                     learning_rate=rate, thresholds=thresholds)
        row, record = [], {"learning_rate": rate, "snapshots": []}
        for step, images in zip(thresholds, snapshots):
            numbers = _image_numbers(model, unit, images[0])
            record["snapshots"].append({"step": step, **numbers})
            row.append(Panel(f"lr {rate:g} step {step}", images[0],
                             caption=f"HF {numbers['high_frequency_share']:.2f}"))
        rows.append(tuple(row))
        records.append(record)
    return FigureResult(
        name="enemy",
        title=f"Unregularized pixel optimization of {rendering.unit_label(unit)} "
              "(captions: high-frequency share of the image's power)",
        grid=tuple(rows), column_titles=tuple(f"Step {t}" for t in thresholds),
        row_titles=tuple(f"Adam lr {r:g}" for r in rates), numbers={"runs": records},
        settings={"steps": rendering.effective_steps(steps), "size": size, "seed": seed,
                  "unit": list(unit), "parameterization": "pixels, sigmoid, no decorrelation",
                  "transforms": "none", "learning_rates": list(rates)})


def regularization_variants(unit: rendering.Unit, size: int) -> list[tuple[str, object, object]]:
    """(title, objective, transforms) of each variant: unregularized, L1, TV, blur, transforms.

    The penalties sum over pixels while the channel objective is a mean, so
    their weights scale with ``(PENALTY_REFERENCE_SIZE / size) ** 2`` to keep
    the same pull on each pixel at any size.
    """
    from lucid2.optvis import objectives, transform

    target = objectives.channel(*unit)
    scale = (PENALTY_REFERENCE_SIZE / size) ** 2
    return [
        ("Unregularized", target, []),
        ("L1", target - L1_WEIGHT * scale * objectives.L1(constant=GRAY), []),
        ("Total variation", target - TV_WEIGHT * scale * objectives.total_variation(), []),
        ("Blur each step", target - BLUR_WEIGHT * scale * objectives.blur_input_each_step(), []),
        ("Transformation robustness", target, list(transform.standard_transforms)),
    ]


def regularization_figure(model, *, unit: rendering.Unit = DEFAULT_UNIT,
                          steps: int = rendering.DEFAULT_STEPS,
                          size: int = rendering.DEFAULT_SIZE,
                          seed: int = rendering.DEFAULT_SEED) -> FigureResult:
    """The same pixel optimization with each regularizer; one column per variant.

    Numbers: per variant, the high-frequency share, the unit's mean
    activation and the mean distance of the pixels from gray (what L1 acts
    on) on the final image, and the share relative to the unregularized
    image.
    """
    unit, steps, size, seed = _check(unit, steps, size, seed, model)
    panels, records = [], []
    for title, objective, transforms in regularization_variants(unit, size):
        images = rendering.render(model, objective, _pixel_param(size), steps=steps, seed=seed,
                                  transforms=transforms)[-1]
        numbers = _image_numbers(model, unit, images[0])
        records.append({"variant": title, "objective": str(objective), **numbers})
        panels.append(Panel(title, images[0],
                            caption=f"HF {numbers['high_frequency_share']:.2f}, "
                                    f"act {numbers['activation']:.3g}"))
    baseline = records[0]["high_frequency_share"]
    for record in records:
        record["share_vs_unregularized"] = (record["high_frequency_share"] / baseline
                                            if baseline else None)
    return FigureResult(
        name="regularization",
        title=f"Regularization of pixel optimization of {rendering.unit_label(unit)} "
              "(captions: high-frequency share, activation)",
        grid=(tuple(panels),), column_titles=tuple(r["variant"] for r in records),
        numbers={"variants": records},
        settings={"steps": rendering.effective_steps(steps), "size": size, "seed": seed,
                  "unit": list(unit), "parameterization": "pixels, sigmoid, no decorrelation",
                  "penalty_weights": {
                      name: weight * (PENALTY_REFERENCE_SIZE / size) ** 2
                      for name, weight in (("L1", L1_WEIGHT), ("total_variation", TV_WEIGHT),
                                           ("blur_input_each_step", BLUR_WEIGHT))}})
