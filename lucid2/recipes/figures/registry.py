"""Figure names -> recipe functions and their defaults; :func:`run_figure` runs one by name."""

from __future__ import annotations

import dataclasses
from typing import Callable

from lucid2.optvis.defaults import DEFAULT_SIZE, DEFAULT_STEPS
from lucid2.recipes.figures.dataset import dataset_vs_optimization_figure, spectrum_figure
from lucid2.recipes.figures.diversity import diversity_figure
from lucid2.recipes.figures.interaction import (interpolation_figure, neuron_addition_figure,
                                                random_directions_figure)
from lucid2.recipes.figures.objectives import objectives_figure
from lucid2.recipes.figures.optimization import DEFAULT_SEED
from lucid2.recipes.figures.preconditioning import preconditioning_figure, steepest_descent_figure
from lucid2.recipes.figures.regularization import enemy_figure, regularization_figure
from lucid2.recipes.figures.result import FigureResult
from lucid2.recipes.figures.teaser import teaser_figure


@dataclasses.dataclass(frozen=True)
class FigureSpec:
    """A figure of the article.

    Attributes:
      name: the figure's name (``--figure=NAME``, ``NAME.png``, ``NAME.json``).
      function: the recipe, ``function(model, [images,] *, steps, size, seed)``.
      description: one line for ``--list``.
      steps: default optimization steps (None: the figure optimizes nothing).
      size: default image size in pixels.
      needs_images: whether it takes dataset images.
    """

    name: str
    function: Callable[..., FigureResult]
    description: str
    steps: int | None = DEFAULT_STEPS
    size: int = DEFAULT_SIZE
    needs_images: bool = False


_SPECS = (
    FigureSpec("teaser", teaser_figure, "Edges, textures, patterns, parts and objects, from "
               "conv2d0 to mixed4e."),
    FigureSpec("objectives", objectives_figure, "Neuron, channel, layer (DeepDream), class "
               "logit and class probability objectives."),
    FigureSpec("dataset_vs_optimization", dataset_vs_optimization_figure, "mixed4a 6, 240, "
               "453, 492: dataset examples beside optimized images.", needs_images=True),
    FigureSpec("spectrum", spectrum_figure, "mixed4a 492 from negative optimized through "
               "dataset examples to positive optimized.", needs_images=True),
    FigureSpec("diversity", diversity_figure, "mixed4a 97 and 143, mixed5a 9, mixed4e 55: a "
               "batch of 4 without and with the diversity term."),
    FigureSpec("random_directions", random_directions_figure, "Random directions in mixed4a's "
               "activation space."),
    FigureSpec("neuron_addition", neuron_addition_figure, "Two units alone and jointly "
               "optimized (mixed4a 476 + 460)."),
    FigureSpec("interpolation", interpolation_figure, "Interpolating from mixed4a 476 to 460 "
               "with shared parameters and alignment."),
    FigureSpec("enemy", enemy_figure, "Unregularized pixel optimization: high-frequency "
               "noise."),
    FigureSpec("regularization", regularization_figure, "Frequency penalization (L1, total "
               "variation, blur) and transformation robustness."),
    FigureSpec("preconditioning", preconditioning_figure, "Pixels vs Fourier vs Fourier + "
               "color decorrelation at equal steps, with objective curves."),
    FigureSpec("steepest_descent", steepest_descent_figure, "Steepest-ascent directions under "
               "the L2 and L-infinity metrics and in the decorrelated space.", steps=None),
)
FIGURES: dict[str, FigureSpec] = {spec.name: spec for spec in _SPECS}
FIGURE_NAMES: tuple[str, ...] = tuple(FIGURES)


def get_spec(name: str) -> FigureSpec:
    """The spec of figure ``name``; ValueError listing the names for an unknown one."""
    if name not in FIGURES:
        raise ValueError(f"Unknown figure {name!r}; the figures are: {', '.join(FIGURE_NAMES)}.")
    return FIGURES[name]


def run_figure(name: str, model, *, steps: int | None = None, size: int | None = None,
               seed: int = DEFAULT_SEED, images=None) -> FigureResult:
    """Runs figure ``name`` with its defaults, overridden by ``steps`` and ``size``.

    ``images`` is required by figures that show dataset examples
    (``FIGURES[name].needs_images``) and ignored by the others.
    """
    spec = get_spec(name)
    kwargs = {"size": spec.size if size is None else size, "seed": seed}
    if spec.steps is not None or steps is not None:
        kwargs["steps"] = spec.steps if steps is None else steps
    if spec.needs_images:
        if images is None:
            raise ValueError(f"Figure {name!r} shows dataset examples: pass images (a folder of "
                             "photos, a glob, files or an array).")
        return spec.function(model, images, **kwargs)
    return spec.function(model, **kwargs)
