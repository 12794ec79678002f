"""Lucid's Fourier parameterization beside MACO on deep InceptionV1 units.

MACO (Fel et al., "Unlocking Feature Visualization for Deeper Networks with MAgnitude
Constrained Optimization", NeurIPS 2023) keeps the magnitude spectrum of the image at
that of photos and optimizes the Fourier phases only (:func:`lucid2.optvis.param.maco`).
Each row is one unit (mixed5b channels, then class logits); the columns are:

* Fourier: Lucid's default render (``param.image``: Fourier coefficients, decorrelated
  colors, sigmoid; the standard transforms; Adam 0.05), through
  :class:`~lucid2.optvis.settings.RenderSettings` (another preset with ``preset=``);
* MACO: ``param.maco`` with its own transforms
  (:func:`lucid2.optvis.transform.maco_transforms`: random crops resized to the image's
  size, plus noise) and Adam at :data:`MACO_LEARNING_RATE`, the same number of steps;
* MACO's transparency map: the absolute gradient of the objective with respect to the
  image, summed over the steps (``Renderer(..., transparency=True)``), shown scaled to its
  :data:`DISPLAY_PERCENTILE` percentile;
* the MACO image faded to white where the map is low (the map as its opacity).

Numbers per unit and parameterization, on the untransformed final image: the
objective's value (``activation``: a channel's mean, or a class's logit) and the
:func:`~lucid2.optvis.metrics.high_frequency_share`; for MACO also the transparency
map's shape and range.
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np

from lucid2.optvis import checks, objectives, param, transform
from lucid2.optvis.defaults import DEFAULT_PRESET, DEFAULT_SIZE
from lucid2.optvis.metrics import high_frequency_share
from lucid2.optvis.render import Renderer
from lucid2.recipes.figures.optimization import effective_steps, figure_settings, settings_record
from lucid2.recipes.figures.registry import DEFAULT_SEED, MACO_STEPS
from lucid2.recipes.figures.result import FigureResult, Panel
from lucid2.recipes.figures.units import LayerChannel, check_model_units, check_units, unit_label

DEFAULT_CHANNELS: tuple[LayerChannel, ...] = (("mixed5b", 100), ("mixed5b", 411),
                                              ("mixed5b", 944))
# Class logits by their index in inception5h's outputs (1008 classes; the labels name them
# when the weights come with labels): flamingo and goldfish.
DEFAULT_CLASSES: tuple[int, ...] = (425, 450)
# Adam on the phases (radians): large steps, as MACO takes (Xplique: Nadam at 1.0 on
# standardized phases); 0.2 reached the highest activations of 0.05, 0.2 and 0.8 on
# mixed5b 100 and flamingo at 192 steps.
MACO_LEARNING_RATE = 0.2
DISPLAY_PERCENTILE = 99
COLUMN_TITLES = ("Fourier (Lucid)", "MACO", "MACO transparency", "MACO x transparency")
WHITE = 1.0


def _check_classes(classes) -> tuple[int, ...]:
    try:
        values = tuple(classes)
    except TypeError:
        raise TypeError(f"classes must be a sequence of class indices, got {classes!r}.") from None
    return tuple(checks.non_negative_int("class index", value) for value in values)


def _class_name(model, index: int) -> str:
    labels = getattr(model, "labels", None)
    if labels is not None and index < len(labels):
        return f"class {index} ({labels[index].split(',')[0]})"
    return f"class {index}"


def _check_model_classes(model, classes: Sequence[int], size: int) -> str | None:
    """The logits layer (None when there are no classes); ValueError for a bad class."""
    if not classes:
        return None
    logits_layer = getattr(model, "logits_layer", None)
    if logits_layer is None:
        raise ValueError("The maco figure's class rows need a model with a logits_layer; "
                         "pass classes=() for channels only.")
    count = model.output_shape(logits_layer, (1, size, size, 3))[-1]
    for index in classes:
        if index >= count:
            raise ValueError(f"Class {index} is out of range for {logits_layer!r} "
                             f"({count} classes).")
    return logits_layer


def _display(transparency: np.ndarray) -> np.ndarray:
    """A (H, W) map as a gray (H, W, 3) image: 0 black, its top percentile white."""
    scale = float(np.percentile(transparency, DISPLAY_PERCENTILE))
    shown = np.clip(transparency / scale, 0.0, 1.0) if scale > 0 else np.zeros_like(transparency)
    return np.repeat(shown[..., None], 3, axis=-1).astype(np.float32)


def _render_maco(model, objective, *, steps: int, size: int, seed: int) -> tuple[np.ndarray,
                                                                                 np.ndarray]:
    """The final MACO image (H, W, 3) and its transparency map (H, W)."""
    renderer = Renderer(model, objective, param_f=lambda: param.maco(size),
                        optimizer=lambda: keras.optimizers.Adam(MACO_LEARNING_RATE),
                        transforms=transform.maco_transforms(), seed=seed, transparency=True)
    images = renderer.run((steps,))[-1]
    return images[0], renderer.transparency_maps[-1][0]


def _measure(model, objective, image: np.ndarray) -> dict:
    return {"activation": objective.evaluate(model, image[None]),
            "high_frequency_share": float(high_frequency_share(image))}


def _caption(numbers: dict) -> str:
    return f"act {numbers['activation']:.3g}, HF {numbers['high_frequency_share']:.3f}"


def maco_figure(model, *, units: Sequence[LayerChannel] = DEFAULT_CHANNELS,
                classes: Sequence[int] = DEFAULT_CLASSES, steps: int = MACO_STEPS,
                size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED,
                preset: str = DEFAULT_PRESET) -> FigureResult:
    """Fourier vs MACO, one row per unit: ``units`` (channels) then ``classes`` (logits).

    ``preset`` names the Fourier column's render settings
    (:data:`lucid2.optvis.settings.PRESETS`, Lucid's by default); the MACO column keeps
    its own recipe (param, transforms, optimizer), for as many steps.

    Numbers: ``units``, one record per row (``unit``, ``fourier`` and ``maco``, each with
    ``activation`` and ``high_frequency_share``; ``maco`` also with ``transparency``:
    its ``shape``, ``min``, ``max`` and ``mean``), and ``summary``: the mean of each
    number per parameterization and the rows where MACO's high-frequency share is lower.
    """
    units = check_units(units)
    classes = _check_classes(classes)
    render_settings = figure_settings(steps=steps, size=size, seed=seed, preset=preset)
    check_model_units(model, units, size)
    logits_layer = _check_model_classes(model, classes, size)

    rows: list[tuple[str, objectives.Objective]] = [
        (unit_label(unit), objectives.channel(*unit)) for unit in units]
    rows += [(_class_name(model, index), objectives.class_logit(index)) for index in classes]
    steps_run = effective_steps(render_settings.steps)
    grid: list[tuple[Panel, ...]] = []
    records: list[dict] = []
    for label, objective in rows:
        fourier = render_settings.renderer(model, objective).run((render_settings.steps,))[-1][0]
        maco_image, transparency = _render_maco(model, objective, steps=render_settings.steps,
                                                size=render_settings.size, seed=seed)
        record: dict = {"unit": label, "fourier": _measure(model, objective, fourier),
                        "maco": _measure(model, objective, maco_image)}
        record["maco"]["transparency"] = {
            "shape": list(transparency.shape), "min": float(transparency.min()),
            "max": float(transparency.max()), "mean": float(transparency.mean())}
        records.append(record)
        shown = _display(transparency)
        faded = maco_image * shown + WHITE * (1.0 - shown)
        grid.append((Panel(f"{label} fourier", fourier, caption=_caption(record["fourier"])),
                     Panel(f"{label} maco", maco_image, caption=_caption(record["maco"])),
                     Panel(f"{label} transparency", shown, caption="transparency"),
                     Panel(f"{label} maco faded", faded.astype(np.float32),
                           caption="MACO x transparency")))
    summary: dict = {
        name: {key: float(np.mean([r[name][key] for r in records]))
               for key in ("activation", "high_frequency_share")}
        for name in ("fourier", "maco")}
    summary["maco_lower_high_frequency_share"] = [
        r["unit"] for r in records
        if r["maco"]["high_frequency_share"] < r["fourier"]["high_frequency_share"]]
    return FigureResult(
        name="maco",
        title=f"Fourier (Lucid) vs MACO (phase only, photo magnitude spectrum) after "
              f"{steps_run} steps each (captions: activation on the final image, "
              "high-frequency share)",
        grid=tuple(grid), row_titles=tuple(label for label, _ in rows),
        column_titles=COLUMN_TITLES,
        numbers={"units": records, "summary": summary},
        settings=settings_record(
            render_settings, units=[list(unit) for unit in units], classes=list(classes),
            logits_layer=logits_layer,
            fourier={"param": "image (fft, decorrelated)", "preset": preset,
                     "transforms": render_settings.transforms,
                     "transform_strength": render_settings.transform_strength,
                     "optimizer": "Adam", "learning_rate": render_settings.learning_rate,
                     "beta_1": render_settings.beta_1},
            maco={"param": "maco (default spectrum)", "transforms": "maco_transforms()",
                  "crops": transform.MACO_CROPS,
                  "crop_fractions": list(transform.MACO_CROP_FRACTIONS),
                  "noise": transform.MACO_NOISE, "optimizer": "Adam",
                  "learning_rate": MACO_LEARNING_RATE},
            transparency_display=f"scaled to its {DISPLAY_PERCENTILE}th percentile"))
