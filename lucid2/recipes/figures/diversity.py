"""The article's diversity figures: a batch optimized with and without a diversity term.

The article (footnote on the diversity term) penalizes the pairwise cosine
similarity of the channel Gram matrices of a layer; Lucid's notebook for
these figures renders ``channel(L, n) - 1e2 * diversity(L)`` on the unit's
own layer ``L`` with ``param.image(128, batch=4)``, 512 steps and the default
transforms. Lucid's diversity sums the similarity over ordered pairs and
divides by the batch size N, while lucid2's is minus the mean over pairs, so
Lucid's weight w corresponds to ``w * (N - 1)`` here (300 for a batch of 4):
:func:`lucid_equivalent_weight`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lucid2.optvis.defaults import DEFAULT_PRESET
from lucid2.optvis import checks, objectives
from lucid2.optvis.defaults import DEFAULT_SIZE, DEFAULT_STEPS
from lucid2.optvis.settings import RenderSettings
from lucid2.recipes.figures.optimization import activations, figure_settings, settings_record
from lucid2.recipes.figures.registry import DEFAULT_SEED
from lucid2.recipes.figures.result import FigureResult, Panel
from lucid2.recipes.figures.units import LayerChannel, check_model_units, check_units, unit_label

DIVERSITY_UNITS: tuple[LayerChannel, ...] = (
    ("mixed4a", 97), ("mixed4a", 143), ("mixed5a", 9), ("mixed4e", 55))
DIVERSITY_BATCH = 4
LUCID_DIVERSITY_WEIGHT = 1e2
GRAM_EPSILON = 1e-10


def lucid_equivalent_weight(batch: int, lucid_weight: float = LUCID_DIVERSITY_WEIGHT) -> float:
    """The weight of lucid2's ``diversity`` matching Lucid's ``- lucid_weight * diversity``."""
    return float(lucid_weight) * (batch - 1)


def gram_cosine_similarity(acts: np.ndarray) -> float:
    """Mean pairwise cosine similarity of the images' channel Gram matrices.

    ``acts`` is (N, H, W, C) with N >= 2; the mean runs over the N (N - 1)
    ordered pairs of different images. 1 means the same "style" everywhere.
    """
    acts = np.asarray(acts, dtype=np.float64)
    if acts.ndim != 4 or acts.shape[0] < 2:
        raise ValueError(f"Need activations (N, H, W, C) with N >= 2, got {acts.shape}.")
    n, channels = acts.shape[0], acts.shape[-1]
    flat = acts.reshape(n, -1, channels)
    grams = np.einsum("npc,npd->ncd", flat, flat).reshape(n, -1)
    grams /= np.maximum(np.linalg.norm(grams, axis=1, keepdims=True), GRAM_EPSILON)
    similarity = grams @ grams.T
    return float((similarity.sum() - np.trace(similarity)) / (n * (n - 1)))


def _without_and_with(model, unit: LayerChannel, layer: str, weight: float,
                      render_settings: RenderSettings) -> tuple[dict, list, list]:
    """Renders ``unit`` without and with the diversity term; (record, rows, row titles)."""
    target = objectives.channel(*unit)
    label = unit_label(unit)
    record: dict[str, Any] = {"layer": unit[0], "channel": unit[1], "diversity_layer": layer}
    rows, row_titles = [], []
    for key, objective in (("without", target),
                           ("with", target + weight * objectives.diversity(layer))):
        images = render_settings.render(model, objective)
        acts = activations(model, images, [layer, unit[0]])
        target_acts = acts[unit[0]][..., unit[1]]
        record[f"similarity_{key}"] = gram_cosine_similarity(acts[layer])
        record[f"activation_{key}"] = float(target_acts.mean())
        rows.append(tuple(Panel(f"{label} {key} diversity {i + 1}", images[i],
                                caption=f"{float(target_acts[i].mean()):.3g}")
                          for i in range(render_settings.batch)))
        kind = "simple optimization" if key == "without" else "with diversity"
        row_titles.append(f"{label}\n{kind}")
    record["activation_ratio"] = _ratio(record["activation_with"], record["activation_without"])
    return record, rows, row_titles


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _mean_record(records: list[dict]) -> dict:
    """The per-unit numbers averaged over the units."""
    means = {key: float(np.mean([r[key] for r in records]))
             for key in ("similarity_without", "similarity_with", "activation_without",
                         "activation_with")}
    summary: dict[str, float | None] = dict(means)
    summary["activation_ratio"] = _ratio(means["activation_with"], means["activation_without"])
    return summary


def diversity_figure(model, *, units=DIVERSITY_UNITS, batch: int = DIVERSITY_BATCH,
                     weight: float | None = None, diversity_layer: str | None = None,
                     steps: int = DEFAULT_STEPS, size: int = DEFAULT_SIZE,
                     seed: int = DEFAULT_SEED,
                     preset: str = DEFAULT_PRESET) -> FigureResult:
    """For each unit, a batch optimized for the channel alone and with the diversity term.

    Args:
      units: (layer, channel) pairs; the article's mixed4a 97 and 143,
        mixed5a 9, mixed4e 55.
      batch: images per batch (the article shows 4).
      weight: weight of ``+ weight * diversity(layer)``; default
        :func:`lucid_equivalent_weight` of Lucid's 1e2.
      diversity_layer: the layer whose Gram matrices are compared; default
        each unit's own layer (as Lucid's notebook does).

    Both renders of a unit start from the same seed, so they differ only by
    the term. Numbers (per unit and averaged): the mean pairwise Gram cosine
    similarity at the diversity layer and the mean target activation (the
    channel's spatial mean, averaged over the batch), without and with the
    term, measured on the final untransformed images.
    """
    units = check_units(units)
    batch = checks.positive_int("batch", batch)
    if batch < 2:
        raise ValueError(f"The diversity term compares images: batch must be >= 2, got {batch}.")
    weight = (lucid_equivalent_weight(batch) if weight is None
              else checks.non_negative_float("weight", weight))
    render_settings = figure_settings(steps=steps, size=size, seed=seed, preset=preset, batch=batch)
    check_model_units(model, units, size)
    if diversity_layer is not None:
        model.check_layer(diversity_layer)

    rows, row_titles, records = [], [], []
    for unit in units:
        record, unit_rows, unit_titles = _without_and_with(
            model, unit, diversity_layer or unit[0], weight, render_settings)
        records.append(record)
        rows += unit_rows
        row_titles += unit_titles
    return FigureResult(
        name="diversity",
        title="Diversity: the same unit optimized without and with a diversity term "
              "(captions: the image's mean activation)",
        grid=tuple(rows), column_titles=tuple(f"Image {i + 1}" for i in range(batch)),
        row_titles=tuple(row_titles), numbers={"units": records, "mean": _mean_record(records)},
        settings=settings_record(render_settings, batch=batch, weight=weight,
                                 lucid_weight=weight / (batch - 1),
                                 diversity_layer=diversity_layer or "the unit's own layer",
                                 parameterization="fft, decorrelated", transforms="standard"))
