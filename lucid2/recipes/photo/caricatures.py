"""Caricature: start at a photo and exaggerate what the layers see in it (Lucid's
caricature, started from the photo instead of noise).

    result = caricature(InceptionV1(), "dog.jpg", ("mixed4a", "mixed4d"), steps=256)
    result.metrics["norm_ratio"]["mixed4d"]   # > 1: larger activations than the photo's
    result.metrics["cosine"]["mixed4d"]       # ... pointing the same way

What the render maximizes: :func:`lucid2.optvis.objectives.activation_match` of the photo
at the layers. Its dot product rewards activations that grow along the photo's, and the
cosine factor (``cossim_pow``) keeps their direction; the image starts as the photo, under
Lucid's inversion transforms, in the Fourier parameterization with decorrelated colors.
"""

from __future__ import annotations

from typing import Callable, Sequence

from lucid2.optvis import checks, objectives
from lucid2.recipes.photo import common
from lucid2.recipes.photo.defaults import (DEFAULT_CARICATURE_COSSIM_POW,
                                           DEFAULT_CARICATURE_LAYERS, DEFAULT_CARICATURE_STEPS,
                                           DEFAULT_LEARNING_RATE, DEFAULT_SIZE)
from lucid2.recipes.photo.result import PhotoResult

RECIPE = "caricature"


def caricature(model, image, layers: str | Sequence[str] = DEFAULT_CARICATURE_LAYERS, *,
               size: int | None = DEFAULT_SIZE, steps: int = DEFAULT_CARICATURE_STEPS,
               cossim_pow: float = DEFAULT_CARICATURE_COSSIM_POW,
               learning_rate: float = DEFAULT_LEARNING_RATE, param: str = "fft",
               decorrelate: bool = True, transforms: str | Sequence[Callable] | None = None,
               seed: int | None = None, verbose: bool = False,
               progress: common.Progress | None = None) -> PhotoResult:
    """Exaggerates what ``layers`` see in ``image``, starting the render at the photo.

    Args:
      model: a lucid2 model.
      image: the photo: a path, or an (H, W, 3) array (float in [0, 1] or uint8).
      layers: one layer or several (their matches are averaged).
      size: the image's longer side in pixels (aspect ratio kept); None: the photo's own.
      steps: optimization steps (capped by ``LUCID2_MAX_STEPS``).
      cossim_pow: power of the cosine weighting the dot product: higher keeps the
        activations' direction closer to the photo's, 0 lets them wander.
      learning_rate, param, decorrelate, seed: as in
        :class:`~lucid2.optvis.settings.RenderSettings`.
      transforms: a transform list, or a name of
        :data:`~lucid2.optvis.defaults.TRANSFORM_NAMES`; default Lucid's inversion
        transforms (:func:`~lucid2.recipes.photo.common.inversion_transforms`).
      verbose, progress: a progress bar; a step counter for an app's Ctrl-C report.

    Returns:
      A :class:`PhotoResult` whose metrics hold, by layer, ``norm_ratio`` (the final
      image's activation norm over the photo's) and ``cosine`` (of their activations), both
      untransformed at the same size; ``min_norm_ratio`` and ``min_cosine`` over the layers.

    Raises:
      ValueError, TypeError: before anything is compiled (see :func:`invert`).
    """
    names = common.layer_names(layers)
    cossim_pow = checks.non_negative_float("cossim_pow", cossim_pow)
    prepared = common.prepare_photo_render(
        model, image, names, size=size, steps=steps, learning_rate=learning_rate, param=param,
        decorrelate=decorrelate, transforms=transforms, seed=seed)
    settings, photo = prepared.settings, prepared.photo
    objective = objectives.activation_match(prepared.reference, names, cossim_pow=cossim_pow)
    progress = progress or common.Progress()
    final = common.render_image(model, objective, settings, height=prepared.height,
                                width=prepared.width, init=photo,
                                transforms=prepared.transforms, verbose=verbose,
                                progress=progress)
    ratios = {name: common.norm_ratio(model, final, photo, name) for name in names}
    cosines = {name: common.cosine(model, final, photo, name) for name in names}
    metrics = {"norm_ratio": ratios, "cosine": cosines, "min_norm_ratio": min(ratios.values()),
               "min_cosine": min(cosines.values()), "steps_run": progress.steps_done}
    inputs = {"image": common.describe_image(image), "layers": list(names), "size": size,
              "steps": settings.steps, "cossim_pow": cossim_pow,
              "learning_rate": settings.learning_rate, "param": settings.param,
              "decorrelate": settings.decorrelate, "transforms": prepared.transforms_label,
              "seed": settings.seed}
    return PhotoResult(RECIPE, final, metrics, inputs)
