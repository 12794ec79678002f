"""Recipes: ready-made uses of lucid2, such as the Feature Visualization article's figures.

Every figure family of the article is one call here (``teaser_figure``,
``diversity_figure``, ... or ``run_figure(name, model)``), returning a
:class:`FigureResult` that :func:`save_figure` writes as PNG and JSON.
Dataset examples live in :mod:`lucid2.recipes.dataset_examples`.
"""

from lucid2.recipes.figures import (FIGURE_NAMES, FIGURES, FigureResult, Panel,
                                    dataset_vs_optimization_figure, diversity_figure,
                                    enemy_figure, interpolation_figure, neuron_addition_figure,
                                    objectives_figure, preconditioning_figure,
                                    random_directions_figure, regularization_figure, run_figure,
                                    save_figure, spectrum_figure, steepest_descent_figure,
                                    teaser_figure)

__all__ = [
    "FIGURES", "FIGURE_NAMES", "FigureResult", "Panel", "dataset_vs_optimization_figure",
    "diversity_figure", "enemy_figure", "interpolation_figure", "neuron_addition_figure",
    "objectives_figure", "preconditioning_figure", "random_directions_figure",
    "regularization_figure", "run_figure", "save_figure", "spectrum_figure",
    "steepest_descent_figure", "teaser_figure",
]
