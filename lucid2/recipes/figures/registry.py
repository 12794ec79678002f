"""The article's figures by name: what ``--list`` shows and each figure's defaults.

Nothing here loads TensorFlow, so the figures app can list and check figures
instantly; :mod:`lucid2.recipes.figures.run` maps the names to the recipes.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

from lucid2.optvis.defaults import DEFAULT_SIZE, DEFAULT_STEPS

DEFAULT_SEED = 0  # figures are reproducible unless told otherwise
# The maco figure's steps: Xplique's default for MACO (both columns get as many).
MACO_STEPS = 256
SHARED_IMAGES = pathlib.Path("data") / "imagenet-samples"


@dataclasses.dataclass(frozen=True)
class FigureSpec:
    """A figure of the article.

    Attributes:
      name: the figure's name (``--figure=NAME``, ``NAME.png``, ``NAME.json``); its
        recipe is ``lucid2.recipes.figures.run.RECIPES[name]``,
        ``recipe(model, [images,] *, steps, size, seed)``.
      description: one line for ``--list``.
      steps: default optimization steps (None: the figure optimizes nothing).
      size: default image size in pixels.
      needs_images: whether it takes dataset images.
    """

    name: str
    description: str
    steps: int | None = DEFAULT_STEPS
    size: int = DEFAULT_SIZE
    needs_images: bool = False


_SPECS = (
    FigureSpec("teaser", "Edges, textures, patterns, parts and objects, from "
               "conv2d0 to mixed4e."),
    FigureSpec("objectives", "Neuron, channel, layer (DeepDream), class "
               "logit and class probability objectives."),
    FigureSpec("dataset_vs_optimization", "mixed4a 6, 240, "
               "453, 492: dataset examples beside optimized images.", needs_images=True),
    FigureSpec("spectrum", "mixed4a 492 from negative optimized through "
               "dataset examples to positive optimized.", needs_images=True),
    FigureSpec("diversity", "mixed4a 97 and 143, mixed5a 9, mixed4e 55: a "
               "batch of 4 without and with the diversity term."),
    FigureSpec("random_directions", "Random directions in mixed4a's "
               "activation space."),
    FigureSpec("neuron_addition", "Two units alone and jointly "
               "optimized (mixed4a 476 + 460)."),
    FigureSpec("interpolation", "Interpolating from mixed4a 476 to 460 "
               "with shared parameters and alignment."),
    FigureSpec("enemy", "Unregularized pixel optimization: high-frequency "
               "noise."),
    FigureSpec("regularization", "Frequency penalization (L1, total "
               "variation, blur) and transformation robustness."),
    FigureSpec("preconditioning", "Pixels vs Fourier vs Fourier + "
               "color decorrelation at equal steps, with objective curves."),
    FigureSpec("steepest_descent", "Steepest-ascent directions under "
               "the L2 and L-infinity metrics and in the decorrelated space.", steps=None),
    FigureSpec("maco", "Fourier vs MACO (phase-only optimization under a photo magnitude "
               "spectrum) on mixed5b channels and two class logits, with MACO's "
               "transparency maps.", steps=MACO_STEPS),
)
FIGURES: dict[str, FigureSpec] = {spec.name: spec for spec in _SPECS}
FIGURE_NAMES: tuple[str, ...] = tuple(FIGURES)


def get_spec(name: str) -> FigureSpec:
    """The spec of figure ``name``; ValueError listing the names for an unknown one."""
    if name not in FIGURES:
        raise ValueError(f"Unknown figure {name!r}; the figures are: {', '.join(FIGURE_NAMES)}.")
    return FIGURES[name]


def default_image_source() -> pathlib.Path | None:
    """The test photos of the shared data folder, if present.

    Looks in ``$LUCID2_SHARED_DATA/imagenet-samples``, then
    ``../shared/data/imagenet-samples`` beside the repository, then relative to
    the current directory.
    """
    candidates = []
    configured = os.environ.get("LUCID2_SHARED_DATA")
    if configured:
        candidates.append(pathlib.Path(configured) / SHARED_IMAGES.name)
    repo = pathlib.Path(__file__).resolve().parents[3]
    candidates.append(repo.parent / "shared" / SHARED_IMAGES)
    candidates.append(pathlib.Path("..") / "shared" / SHARED_IMAGES)
    for path in candidates:
        if path.is_dir():
            return path
    return None
