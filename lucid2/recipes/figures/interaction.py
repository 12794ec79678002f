"""The article's "Interaction between Neurons" figures.

* :func:`random_directions_figure`: optimized images of random directions in
  a layer's activation space (the article also shows dataset examples for
  them; lucid2's dataset search works on channels, so only the optimized
  images are made here).
* :func:`neuron_addition_figure`: two units, each alone and jointly
  optimized (``channel(a) + channel(b)``).
* :func:`interpolation_figure`: frames interpolating from one unit to another
  with ``channel_interpolate``, the shared-plus-separate parameterization
  ``param.image_interpolation`` and an alignment term, as in Lucid's aligned
  interpolation notebook (alignment of mixed3b and mixed4a, decay ratio 5,
  weight 0.1).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from lucid2.optvis.defaults import DEFAULT_PRESET
from lucid2.optvis import checks, objectives, param
from lucid2.optvis.defaults import DEFAULT_SIZE, DEFAULT_STEPS
from lucid2.optvis.settings import RenderSettings
from lucid2.recipes.figures.optimization import (activations, channel_means, figure_settings,
                                                 settings_record)
from lucid2.recipes.figures.registry import DEFAULT_SEED
from lucid2.recipes.figures.result import FigureResult, Panel
from lucid2.recipes.figures.units import (RGB_CHANNELS, LayerChannel, check_model_units,
                                          check_units, unit_label)

RANDOM_DIRECTIONS_LAYER = "mixed4a"
RANDOM_DIRECTIONS_COUNT = 4
ADDITION_PAIRS: tuple[tuple[LayerChannel, LayerChannel], ...] = (
    (("mixed4a", 476), ("mixed4a", 460)),)
INTERPOLATION_START: LayerChannel = ("mixed4a", 476)
INTERPOLATION_END: LayerChannel = ("mixed4a", 460)
INTERPOLATION_FRAMES = 6
ALIGNMENT_LAYERS = ("mixed3b", "mixed4a")
ALIGNMENT_DECAY_RATIO = 5.0
ALIGNMENT_WEIGHT = 0.1
TOP_DIRECTION_CHANNELS = 5  # the largest entries of a direction, listed in the JSON
MIN_NORM = 1e-12  # keeps the cosine of a zero vector finite
ADDITION_IMAGES = ("first_alone", "second_alone", "joint")  # per pair, in batch order


def _record(render_settings: RenderSettings, **extra) -> dict:
    """The JSON settings of these figures: Lucid's parameterization and transforms unless
    ``extra`` says otherwise."""
    return settings_record(render_settings, **{"parameterization": "fft, decorrelated",
                                               "transforms": "standard", **extra})


def random_directions_figure(model, *, layer: str = RANDOM_DIRECTIONS_LAYER,
                             count: int = RANDOM_DIRECTIONS_COUNT,
                             steps: int = DEFAULT_STEPS, size: int = DEFAULT_SIZE,
                             seed: int = DEFAULT_SEED,
                             preset: str = DEFAULT_PRESET) -> FigureResult:
    """Images maximizing random directions (standard normal vectors, drawn from ``seed``).

    Numbers: per direction, the direction objective (mean dot product of the
    activation vectors with the direction) and the cosine similarity between
    the image's mean activation vector and the direction.
    """
    count = checks.positive_int("count", count)
    render_settings = figure_settings(steps=steps, size=size, seed=seed, preset=preset, batch=count)
    model.check_layer(layer)
    channels = model.output_shape(layer, (1, size, size, RGB_CHANNELS))[-1]

    rng = np.random.default_rng(render_settings.seed)
    vectors = rng.standard_normal((count, channels)).astype(np.float32)
    objective = sum(objectives.direction(layer, vectors[i], batch=i) for i in range(count))
    images = render_settings.render(model, objective)
    acts = activations(model, images, [layer])[layer]
    records = []
    for i in range(count):
        mean_vector = acts[i].reshape(-1, channels).mean(axis=0)
        dots = acts[i].reshape(-1, channels) @ vectors[i]
        cosine = float(mean_vector @ vectors[i] / max(np.linalg.norm(mean_vector)
                                                       * np.linalg.norm(vectors[i]), MIN_NORM))
        records.append({"direction_objective": float(dots.mean()), "cosine": cosine,
                        "top_channels": [int(c) for c in
                                         np.argsort(-vectors[i])[:TOP_DIRECTION_CHANNELS]]})
    row = tuple(Panel(f"direction {i + 1}", images[i],
                      caption=f"cos {records[i]['cosine']:.2f}") for i in range(count))
    return FigureResult(
        name="random_directions",
        title=f"Random directions in {layer}'s activation space (captions: cosine of the mean "
              "activation with the direction)",
        grid=(row,), column_titles=tuple(f"Direction {i + 1}" for i in range(count)),
        numbers={"directions": records},
        settings=_record(render_settings, layer=layer, count=count,
                         vectors="standard normal, numpy default_rng(seed)"))


def _check_pairs(pairs) -> tuple[tuple[LayerChannel, LayerChannel], ...]:
    try:
        pairs = tuple((tuple(a), tuple(b)) for a, b in pairs)
    except (TypeError, ValueError):
        raise ValueError(f"pairs must hold ((layer, channel), (layer, channel)) pairs, got "
                         f"{pairs!r}.") from None
    if not pairs:
        raise ValueError("pairs must hold at least one pair of units.")
    flat = check_units([u for pair in pairs for u in pair], "pairs")
    return tuple(zip(flat[::2], flat[1::2], strict=True))


def neuron_addition_figure(model, *,
                           pairs: Iterable[tuple[LayerChannel, LayerChannel]] = ADDITION_PAIRS,
                           steps: int = DEFAULT_STEPS, size: int = DEFAULT_SIZE,
                           seed: int = DEFAULT_SEED,
                           preset: str = DEFAULT_PRESET) -> FigureResult:
    """For each pair of units: unit 1 alone, unit 2 alone, and both jointly optimized.

    Numbers: the mean activation of both units on each of the three images,
    so one can see that the joint image drives both.
    """
    pairs = _check_pairs(pairs)
    per_pair = len(ADDITION_IMAGES)
    render_settings = figure_settings(steps=steps, size=size, seed=seed, preset=preset,
                                      batch=per_pair * len(pairs))
    check_model_units(model, [u for pair in pairs for u in pair], size)

    terms = []
    for p, (first, second) in enumerate(pairs):
        base = per_pair * p
        terms += [objectives.channel(*first, batch=base),
                  objectives.channel(*second, batch=base + 1),
                  objectives.channel(*first, batch=base + 2)
                  + objectives.channel(*second, batch=base + 2)]
    images = render_settings.render(model, sum(terms))
    rows, records = [], []
    for p, (first, second) in enumerate(pairs):
        shown = images[per_pair * p:per_pair * (p + 1)]
        a, b = channel_means(model, shown, first), channel_means(model, shown, second)
        records.append({"first": list(first), "second": list(second),
                        **{name: {"first_activation": float(a[i]),
                                  "second_activation": float(b[i])}
                           for i, name in enumerate(ADDITION_IMAGES)}})
        rows.append(tuple(Panel(f"{unit_label(first)} + {unit_label(second)} {name}", shown[i],
                                caption=f"{a[i]:.3g} / {b[i]:.3g}")
                          for i, name in enumerate(ADDITION_IMAGES)))
    return FigureResult(
        name="neuron_addition",
        title="Neuron addition: two units alone and jointly optimized (captions: activation of "
              "unit 1 / unit 2)",
        grid=tuple(rows), column_titles=("Unit 1", "Unit 2", "Jointly optimized"),
        row_titles=tuple(f"{unit_label(a)} + {unit_label(b)}" for a, b in pairs),
        numbers={"pairs": records}, settings=_record(render_settings))


def _interpolation_objective(start: LayerChannel, end: LayerChannel,
                             alignment_layers: tuple[str, ...],
                             alignment_weight: float) -> objectives.Objective:
    """``channel_interpolate`` from ``start`` to ``end`` plus the alignment terms."""
    objective = objectives.channel_interpolate(start[0], start[1], end[0], end[1])
    for layer in alignment_layers:
        objective = objective + alignment_weight * objectives.alignment(
            layer, decay_ratio=ALIGNMENT_DECAY_RATIO)
    return objective


def interpolation_figure(model, *, start: LayerChannel = INTERPOLATION_START,
                         end: LayerChannel = INTERPOLATION_END,
                         frames: int = INTERPOLATION_FRAMES,
                         alignment_layers=ALIGNMENT_LAYERS,
                         alignment_weight: float = ALIGNMENT_WEIGHT,
                         steps: int = DEFAULT_STEPS, size: int = DEFAULT_SIZE,
                         seed: int = DEFAULT_SEED,
                         preset: str = DEFAULT_PRESET) -> FigureResult:
    """Frames from ``start`` to ``end``: frame k maximizes (1 - w) start + w end, w = k / (F - 1).

    Uses ``param.image_interpolation`` (per-frame Fourier images plus shared
    and interpolated low-resolution tensors) and adds ``alignment_weight``
    times the alignment of each of ``alignment_layers`` (decay ratio 5).

    Numbers: per frame, the interpolation weight and both units' mean
    activations; per alignment layer, the mean squared activation difference
    between neighbouring frames.
    """
    render_settings = figure_settings(steps=steps, size=size, seed=seed, preset=preset)
    start, end = check_units([start, end], "start/end")
    frames = checks.positive_int("frames", frames)
    if frames < 2:
        raise ValueError(f"An interpolation needs at least 2 frames, got {frames}.")
    alignment_layers = tuple(alignment_layers)
    alignment_weight = checks.non_negative_float("alignment_weight", alignment_weight)
    check_model_units(model, [start, end], size)
    for layer in alignment_layers:
        model.check_layer(layer)

    objective = _interpolation_objective(start, end, alignment_layers, alignment_weight)
    images = render_settings.render(
        model, objective,
        param_f=lambda: param.image_interpolation(size, n_objectives=2, n_frames=frames))
    weights = param.interpolation_weights(frames, 2)[:, 1]
    first, second = channel_means(model, images, start), channel_means(model, images, end)
    acts = activations(model, images, alignment_layers) if alignment_layers else {}
    neighbour = {layer: [float(np.mean((a[k + 1] - a[k]) ** 2)) for k in range(frames - 1)]
                 for layer, a in acts.items()}
    row = tuple(Panel(f"frame {k + 1}", images[k], caption=f"{first[k]:.3g} / {second[k]:.3g}")
                for k in range(frames))
    return FigureResult(
        name="interpolation",
        title=f"Interpolation from {unit_label(start)} to {unit_label(end)} "
              "(captions: activation of start / end unit)",
        grid=(row,), column_titles=tuple(f"w = {w:.2f}" for w in weights),
        numbers={"frames": [{"weight": float(weights[k]), "start_activation": float(first[k]),
                             "end_activation": float(second[k])} for k in range(frames)],
                 "neighbour_mean_squared_difference": neighbour},
        settings=_record(render_settings, start=list(start), end=list(end), frames=frames,
                         alignment_layers=list(alignment_layers),
                         alignment_weight=alignment_weight,
                         alignment_decay_ratio=ALIGNMENT_DECAY_RATIO,
                         parameterization="image_interpolation (fft + shared low-res)"))
