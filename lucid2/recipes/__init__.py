"""Recipes: ready-made uses of lucid2, such as the Feature Visualization article's figures.

Every figure family of the article is one call here (``teaser_figure``,
``diversity_figure``, ... or ``run_figure(name, model)``), returning a
:class:`FigureResult` that :func:`save_figure` writes as PNG and JSON.
Dataset examples live in :mod:`lucid2.recipes.dataset_examples`; starting from a photo
(feature inversion, caricature, style transfer, DeepDream, feature accentuation) in
:mod:`lucid2.recipes.photo`.

The names below are imported on first use (see :mod:`lucid2.recipes.lazy_exports`),
so that the apps' ``--help`` and ``--list`` stay instant.
"""

from lucid2.recipes.lazy_exports import lazy_exports

LAZY_EXPORTS = {
    "FIGURES": "lucid2.recipes.figures",
    "FIGURE_NAMES": "lucid2.recipes.figures",
    "FigureResult": "lucid2.recipes.figures",
    "Panel": "lucid2.recipes.figures",
    "dataset_vs_optimization_figure": "lucid2.recipes.figures",
    "diversity_figure": "lucid2.recipes.figures",
    "enemy_figure": "lucid2.recipes.figures",
    "interpolation_figure": "lucid2.recipes.figures",
    "neuron_addition_figure": "lucid2.recipes.figures",
    "objectives_figure": "lucid2.recipes.figures",
    "preconditioning_figure": "lucid2.recipes.figures",
    "random_directions_figure": "lucid2.recipes.figures",
    "regularization_figure": "lucid2.recipes.figures",
    "run_figure": "lucid2.recipes.figures",
    "save_figure": "lucid2.recipes.figures",
    "spectrum_figure": "lucid2.recipes.figures",
    "steepest_descent_figure": "lucid2.recipes.figures",
    "teaser_figure": "lucid2.recipes.figures",
    "PhotoResult": "lucid2.recipes.photo",
    "accentuate": "lucid2.recipes.photo",
    "caricature": "lucid2.recipes.photo",
    "deepdream": "lucid2.recipes.photo",
    "invert": "lucid2.recipes.photo",
    "save_result": "lucid2.recipes.photo",
    "style_transfer": "lucid2.recipes.photo",
}
__getattr__, __dir__ = lazy_exports(__name__, LAZY_EXPORTS)
__all__ = sorted(LAZY_EXPORTS)
