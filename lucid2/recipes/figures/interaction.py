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

import numpy as np

from lucid2.recipes.figures import rendering
from lucid2.recipes.figures.result import FigureResult, Panel

RANDOM_DIRECTIONS_LAYER = "mixed4a"
RANDOM_DIRECTIONS_COUNT = 4
ADDITION_PAIRS: tuple[tuple[rendering.Unit, rendering.Unit], ...] = (
    (("mixed4a", 476), ("mixed4a", 460)),)
INTERPOLATION_START: rendering.Unit = ("mixed4a", 476)
INTERPOLATION_END: rendering.Unit = ("mixed4a", 460)
INTERPOLATION_FRAMES = 6
ALIGNMENT_LAYERS = ("mixed3b", "mixed4a")
ALIGNMENT_DECAY_RATIO = 5.0
ALIGNMENT_WEIGHT = 0.1


def _settings(steps: int, size: int, seed: int, **extra) -> dict:
    return {"steps": rendering.effective_steps(steps), "size": size, "seed": seed,
            "parameterization": "fft, decorrelated", "transforms": "standard", **extra}


def _check_common(steps, size, seed) -> tuple[int, int, int]:
    return (rendering.check_positive_int(steps, "steps"),
            rendering.check_positive_int(size, "size"), rendering.check_seed(seed))


def random_directions_figure(model, *, layer: str = RANDOM_DIRECTIONS_LAYER,
                             count: int = RANDOM_DIRECTIONS_COUNT,
                             steps: int = rendering.DEFAULT_STEPS,
                             size: int = rendering.DEFAULT_SIZE,
                             seed: int = rendering.DEFAULT_SEED) -> FigureResult:
    """Images maximizing random directions (standard normal vectors, drawn from ``seed``).

    Numbers: per direction, the direction objective (mean dot product of the
    activation vectors with the direction) and the cosine similarity between
    the image's mean activation vector and the direction.
    """
    steps, size, seed = _check_common(steps, size, seed)
    count = rendering.check_positive_int(count, "count")
    model.check_layer(layer)
    channels = model.output_shape(layer, (1, size, size, 3))[-1]
    from lucid2.optvis import objectives

    vectors = np.random.default_rng(seed).standard_normal((count, channels)).astype(np.float32)
    objective = sum(objectives.direction(layer, vectors[i], batch=i) for i in range(count))
    images = rendering.render(model, objective, rendering.image_param(size, batch=count),
                              steps=steps, seed=seed)[-1]
    acts = rendering.activations(model, images, [layer])[layer]
    records = []
    for i in range(count):
        mean_vector = acts[i].reshape(-1, channels).mean(axis=0)
        dots = acts[i].reshape(-1, channels) @ vectors[i]
        cosine = float(mean_vector @ vectors[i] / max(np.linalg.norm(mean_vector)
                                                       * np.linalg.norm(vectors[i]), 1e-12))
        records.append({"direction_objective": float(dots.mean()), "cosine": cosine,
                        "top_channels": [int(c) for c in np.argsort(-vectors[i])[:5]]})
    row = tuple(Panel(f"direction {i + 1}", images[i],
                      caption=f"cos {records[i]['cosine']:.2f}") for i in range(count))
    return FigureResult(
        name="random_directions",
        title=f"Random directions in {layer}'s activation space (captions: cosine of the mean "
              "activation with the direction)",
        grid=(row,), column_titles=tuple(f"Direction {i + 1}" for i in range(count)),
        numbers={"directions": records},
        settings=_settings(steps, size, seed, layer=layer, count=count,
                           vectors="standard normal, numpy default_rng(seed)"))


def neuron_addition_figure(model, *, pairs=ADDITION_PAIRS,
                           steps: int = rendering.DEFAULT_STEPS,
                           size: int = rendering.DEFAULT_SIZE,
                           seed: int = rendering.DEFAULT_SEED) -> FigureResult:
    """For each pair of units: unit 1 alone, unit 2 alone, and both jointly optimized.

    Numbers: the mean activation of both units on each of the three images,
    so one can see that the joint image drives both.
    """
    steps, size, seed = _check_common(steps, size, seed)
    try:
        pairs = tuple((tuple(a), tuple(b)) for a, b in pairs)
    except (TypeError, ValueError):
        raise ValueError(f"pairs must hold ((layer, channel), (layer, channel)) pairs, got "
                         f"{pairs!r}.") from None
    if not pairs:
        raise ValueError("pairs must hold at least one pair of units.")
    flat = rendering.check_units([u for pair in pairs for u in pair], "pairs")
    pairs = tuple(zip(flat[::2], flat[1::2]))
    rendering.check_model_units(model, flat, size)
    from lucid2.optvis import objectives

    terms = []
    for p, (first, second) in enumerate(pairs):
        base = 3 * p
        terms += [objectives.channel(*first, batch=base),
                  objectives.channel(*second, batch=base + 1),
                  objectives.channel(*first, batch=base + 2)
                  + objectives.channel(*second, batch=base + 2)]
    images = rendering.render(model, sum(terms), rendering.image_param(size, batch=len(terms)),
                              steps=steps, seed=seed)[-1]
    rows, records = [], []
    for p, (first, second) in enumerate(pairs):
        shown = images[3 * p:3 * p + 3]
        a, b = rendering.channel_means(model, shown, first), rendering.channel_means(model, shown,
                                                                                     second)
        names = ("first_alone", "second_alone", "joint")
        records.append({"first": list(first), "second": list(second),
                        **{name: {"first_activation": float(a[i]),
                                  "second_activation": float(b[i])}
                           for i, name in enumerate(names)}})
        rows.append(tuple(Panel(f"{rendering.unit_label(first)} + {rendering.unit_label(second)} "
                                f"{name}", shown[i], caption=f"{a[i]:.3g} / {b[i]:.3g}")
                          for i, name in enumerate(names)))
    return FigureResult(
        name="neuron_addition",
        title="Neuron addition: two units alone and jointly optimized (captions: activation of "
              "unit 1 / unit 2)",
        grid=tuple(rows), column_titles=("Unit 1", "Unit 2", "Jointly optimized"),
        row_titles=tuple(f"{rendering.unit_label(a)} + {rendering.unit_label(b)}"
                         for a, b in pairs),
        numbers={"pairs": records}, settings=_settings(steps, size, seed))


def interpolation_figure(model, *, start: rendering.Unit = INTERPOLATION_START,
                         end: rendering.Unit = INTERPOLATION_END,
                         frames: int = INTERPOLATION_FRAMES,
                         alignment_layers=ALIGNMENT_LAYERS,
                         alignment_weight: float = ALIGNMENT_WEIGHT,
                         steps: int = rendering.DEFAULT_STEPS, size: int = rendering.DEFAULT_SIZE,
                         seed: int = rendering.DEFAULT_SEED) -> FigureResult:
    """Frames from ``start`` to ``end``: frame k maximizes (1 - w) start + w end, w = k / (F - 1).

    Uses ``param.image_interpolation`` (per-frame Fourier images plus shared
    and interpolated low-resolution tensors) and adds ``alignment_weight``
    times the alignment of each of ``alignment_layers`` (decay ratio 5).

    Numbers: per frame, the interpolation weight and both units' mean
    activations; per alignment layer, the mean squared activation difference
    between neighbouring frames.
    """
    steps, size, seed = _check_common(steps, size, seed)
    start, end = rendering.check_units([start, end], "start/end")
    frames = rendering.check_positive_int(frames, "frames")
    if frames < 2:
        raise ValueError(f"An interpolation needs at least 2 frames, got {frames}.")
    alignment_layers = tuple(alignment_layers)
    if not np.isfinite(alignment_weight) or alignment_weight < 0:
        raise ValueError(f"alignment_weight must be a finite number >= 0, got "
                         f"{alignment_weight!r}.")
    rendering.check_model_units(model, [start, end], size)
    for layer in alignment_layers:
        model.check_layer(layer)
    from lucid2.optvis import objectives, param

    objective = objectives.channel_interpolate(start[0], start[1], end[0], end[1])
    for layer in alignment_layers:
        objective = objective + alignment_weight * objectives.alignment(
            layer, decay_ratio=ALIGNMENT_DECAY_RATIO)
    images = rendering.render(
        model, objective, lambda: param.image_interpolation(size, n_objectives=2,
                                                            n_frames=frames),
        steps=steps, seed=seed)[-1]
    weights = param.interpolation_weights(frames, 2)[:, 1]
    first = rendering.channel_means(model, images, start)
    second = rendering.channel_means(model, images, end)
    acts = rendering.activations(model, images, alignment_layers) if alignment_layers else {}
    neighbour = {layer: [float(np.mean((a[k + 1] - a[k]) ** 2)) for k in range(frames - 1)]
                 for layer, a in acts.items()}
    row = tuple(Panel(f"frame {k + 1}", images[k], caption=f"{first[k]:.3g} / {second[k]:.3g}")
                for k in range(frames))
    return FigureResult(
        name="interpolation",
        title=f"Interpolation from {rendering.unit_label(start)} to {rendering.unit_label(end)} "
              "(captions: activation of start / end unit)",
        grid=(row,), column_titles=tuple(f"w = {w:.2f}" for w in weights),
        numbers={"frames": [{"weight": float(weights[k]), "start_activation": float(first[k]),
                             "end_activation": float(second[k])} for k in range(frames)],
                 "neighbour_mean_squared_difference": neighbour},
        settings=_settings(steps, size, seed, start=list(start), end=list(end), frames=frames,
                           alignment_layers=list(alignment_layers),
                           alignment_weight=alignment_weight,
                           alignment_decay_ratio=ALIGNMENT_DECAY_RATIO,
                           parameterization="image_interpolation (fft + shared low-res)"))
