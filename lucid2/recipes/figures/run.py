"""Runs the article's figures by name (:data:`RECIPES`, :func:`run_figure`)."""

from __future__ import annotations

from typing import Any, Callable

from lucid2.optvis.defaults import DEFAULT_PRESET, DEFAULT_STEPS, preset_value
from lucid2.recipes.figures.dataset import dataset_vs_optimization_figure, spectrum_figure
from lucid2.recipes.figures.diversity import diversity_figure
from lucid2.recipes.figures.maco import maco_figure
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
    "maco": maco_figure,
}

def run_figure(name: str, model, *, steps: int | None = None, size: int | None = None,
               seed: int = DEFAULT_SEED, images=None, preset: str = DEFAULT_PRESET
               ) -> FigureResult:
    """Runs figure ``name`` with its defaults, overridden by ``steps`` and ``size``.

    ``preset`` names the render settings the figure's renders start from
    (:data:`lucid2.optvis.settings.PRESETS`; the article's figures are Lucid's,
    the default). Without ``steps``, a figure renders its own default steps scaled
    as the preset scales Lucid's (``fast``: a quarter). ``images`` is required by
    figures that show dataset examples (``FIGURES[name].needs_images``) and
    ignored by the others.
    """
    spec = get_spec(name)
    preset_steps = preset_value(preset, "steps", DEFAULT_STEPS)  # checks the name
    kwargs: dict[str, Any] = {"size": spec.size if size is None else size, "seed": seed}
    chosen_steps = steps
    if chosen_steps is None and spec.steps is not None:
        chosen_steps = max(1, round(spec.steps * preset_steps / DEFAULT_STEPS))
    if chosen_steps is not None and spec.steps is not None:  # None: it optimizes nothing
        kwargs["steps"] = chosen_steps
        kwargs["preset"] = preset
    if spec.needs_images:
        if images is None:
            raise ValueError(f"Figure {name!r} shows dataset examples: pass images (a folder of "
                             "photos, a glob, files or an array).")
        return RECIPES[name](model, images, **kwargs)
    return RECIPES[name](model, **kwargs)
