"""The Feature Visualization article's figures, one recipe per figure family.

Each ``*_figure(model, ...)`` call returns a :class:`FigureResult` (labeled
panels plus the numbers it measured); :func:`save_figure` writes
``NAME.png``, the panels and ``NAME.json``. By name::

    from lucid2.modelzoo import InceptionV1
    from lucid2.recipes.figures import run_figure, save_figure

    result = run_figure("diversity", InceptionV1(), steps=512)
    save_figure(result, "out/")

From the command line: ``python -m lucid2.figures --figure=diversity --output_dir=out``
(``--list`` names every figure).
"""

from lucid2.recipes.figures.dataset import (COMPARISON_UNITS, SPECTRUM_UNIT,
                                            dataset_vs_optimization_figure,
                                            default_image_source, spectrum_figure)
from lucid2.recipes.figures.diversity import (DIVERSITY_UNITS, diversity_figure,
                                              gram_cosine_similarity, lucid_equivalent_weight)
from lucid2.recipes.figures.interaction import (interpolation_figure, neuron_addition_figure,
                                                random_directions_figure)
from lucid2.recipes.figures.layout import labeled_grid, line_plot
from lucid2.recipes.figures.objectives import objectives_figure
from lucid2.recipes.figures.preconditioning import preconditioning_figure, steepest_descent_figure
from lucid2.recipes.figures.registry import (FIGURE_NAMES, FIGURES, FigureSpec, get_spec,
                                             run_figure)
from lucid2.recipes.figures.regularization import enemy_figure, regularization_figure
from lucid2.recipes.figures.result import FigureResult, Panel, save_figure, to_jsonable
from lucid2.recipes.figures.teaser import TEASER_GROUPS, teaser_figure

__all__ = [
    "COMPARISON_UNITS", "DIVERSITY_UNITS", "FIGURES", "FIGURE_NAMES", "SPECTRUM_UNIT",
    "TEASER_GROUPS", "FigureResult", "FigureSpec", "Panel", "dataset_vs_optimization_figure",
    "default_image_source", "diversity_figure", "enemy_figure", "get_spec",
    "gram_cosine_similarity", "interpolation_figure", "labeled_grid", "line_plot",
    "lucid_equivalent_weight", "neuron_addition_figure", "objectives_figure",
    "preconditioning_figure", "random_directions_figure", "regularization_figure",
    "run_figure", "save_figure", "spectrum_figure", "steepest_descent_figure", "teaser_figure",
    "to_jsonable",
]
