"""Runs the article's figures by name (:data:`RECIPES`, :func:`run_figure`)."""

from __future__ import annotations

from typing import Callable

from lucid2.recipes.figures.dataset import dataset_vs_optimization_figure, spectrum_figure
from lucid2.recipes.figures.diversity import diversity_figure
from lucid2.recipes.figures.interaction import (interpolation_figure, neuron_addition_figure,
                                                random_directions_figure)
from lucid2.recipes.figures.objectives import objectives_figure
from lucid2.recipes.figures.preconditioning import preconditioning_figure, steepest_descent_figure
from lucid2.recipes.figures.registry import DEFAULT_SEED, get_spec
from lucid2.recipes.figures.regularization import enemy_figure, regularization_figure
from lucid2.recipes.figures.result import FigureResult
from lucid2.recipes.figures.teaser import teaser_figure

# Figure name -> recipe, in the catalog's order.
RECIPES: dict[str, Callable[..., FigureResult]] = {
    "teaser": teaser_figure,
    "objectives": objectives_figure,
    "dataset_vs_optimization": dataset_vs_optimization_figure,
    "spectrum": spectrum_figure,
    "diversity": diversity_figure,
    "random_directions": random_directions_figure,
    "neuron_addition": neuron_addition_figure,
    "interpolation": interpolation_figure,
    "enemy": enemy_figure,
    "regularization": regularization_figure,
    "preconditioning": preconditioning_figure,
    "steepest_descent": steepest_descent_figure,
}

def run_figure(name: str, model, *, steps: int | None = None, size: int | None = None,
               seed: int = DEFAULT_SEED, images=None) -> FigureResult:
    """Runs figure ``name`` with its defaults, overridden by ``steps`` and ``size``.

    ``images`` is required by figures that show dataset examples
    (``FIGURES[name].needs_images``) and ignored by the others.
    """
    spec = get_spec(name)
    kwargs = {"size": spec.size if size is None else size, "seed": seed}
    chosen_steps = spec.steps if steps is None else steps
    if chosen_steps is not None:  # None: the figure optimizes nothing
        kwargs["steps"] = chosen_steps
    if spec.needs_images:
        if images is None:
            raise ValueError(f"Figure {name!r} shows dataset examples: pass images (a folder of "
                             "photos, a glob, files or an array).")
        return RECIPES[name](model, images, **kwargs)
    return RECIPES[name](model, **kwargs)
