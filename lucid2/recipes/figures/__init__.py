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

The names below are imported on first use (see :mod:`lucid2.recipes.lazy_exports`),
so that the apps' ``--help`` and ``--list`` stay instant.
"""

from lucid2.recipes.lazy_exports import lazy_exports

LAZY_EXPORTS = {
    "COMPARISON_UNITS": "lucid2.recipes.figures.dataset",
    "SPECTRUM_UNIT": "lucid2.recipes.figures.dataset",
    "dataset_vs_optimization_figure": "lucid2.recipes.figures.dataset",
    "spectrum_figure": "lucid2.recipes.figures.dataset",
    "DIVERSITY_UNITS": "lucid2.recipes.figures.diversity",
    "diversity_figure": "lucid2.recipes.figures.diversity",
    "gram_cosine_similarity": "lucid2.recipes.figures.diversity",
    "lucid_equivalent_weight": "lucid2.recipes.figures.diversity",
    "interpolation_figure": "lucid2.recipes.figures.interaction",
    "neuron_addition_figure": "lucid2.recipes.figures.interaction",
    "random_directions_figure": "lucid2.recipes.figures.interaction",
    "labeled_grid": "lucid2.recipes.layout",
    "maco_figure": "lucid2.recipes.figures.maco",
    "line_plot": "lucid2.recipes.layout",
    "objectives_figure": "lucid2.recipes.figures.objectives",
    "preconditioning_figure": "lucid2.recipes.figures.preconditioning",
    "steepest_descent_figure": "lucid2.recipes.figures.preconditioning",
    "DEFAULT_SEED": "lucid2.recipes.figures.registry",
    "FIGURES": "lucid2.recipes.figures.registry",
    "FIGURE_NAMES": "lucid2.recipes.figures.registry",
    "FigureSpec": "lucid2.recipes.figures.registry",
    "default_image_source": "lucid2.recipes.figures.registry",
    "get_spec": "lucid2.recipes.figures.registry",
    "enemy_figure": "lucid2.recipes.figures.regularization",
    "regularization_figure": "lucid2.recipes.figures.regularization",
    "FigureResult": "lucid2.recipes.figures.result",
    "Panel": "lucid2.recipes.figures.result",
    "save_figure": "lucid2.recipes.figures.result",
    "to_jsonable": "lucid2.recipes.figures.result",
    "RECIPES": "lucid2.recipes.figures.run",
    "run_figure": "lucid2.recipes.figures.run",
    "TEASER_GROUPS": "lucid2.recipes.figures.teaser",
    "teaser_figure": "lucid2.recipes.figures.teaser",
}
__getattr__, __dir__ = lazy_exports(__name__, LAZY_EXPORTS)
__all__ = sorted(LAZY_EXPORTS)
