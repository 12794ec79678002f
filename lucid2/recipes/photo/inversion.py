"""Feature inversion: an image, optimized from noise, whose activations at a layer match a
photo's (Mahendran & Vedaldi, 2015; Lucid's recipe).

    from lucid2.recipes.photo import invert, save_result

    result = invert(InceptionV1(), "dog.jpg", "mixed4a", steps=512, seed=0)
    save_result(result, "inv.png")          # inv.png and inv.json
    result.metrics["cosine"]                # mixed4a activations vs the photo's

What the render maximizes: :func:`lucid2.optvis.objectives.activation_match` of the photo
at the layer (the dot product with the photo's activations, times their cosine to the
power ``cossim_pow``), minus ``blur`` times Lucid's per-step blur penalty; under Lucid's
inversion transforms (:func:`~lucid2.recipes.photo.common.inversion_transforms`), in the
Fourier parameterization with decorrelated colors.
"""

from __future__ import annotations

from typing import Callable, Sequence

from lucid2.optvis import checks, objectives
from lucid2.recipes.photo import common
from lucid2.recipes.photo.defaults import (DEFAULT_INVERSION_BLUR, DEFAULT_INVERSION_COSSIM_POW,
                                           DEFAULT_INVERSION_LAYER, DEFAULT_LEARNING_RATE,
                                           DEFAULT_SIZE, DEFAULT_STEPS)
from lucid2.recipes.photo.result import PhotoResult

RECIPE = "inversion"


def inversion_objective(reference: objectives.ReferenceImage, layer: str,
                        cossim_pow: float = DEFAULT_INVERSION_COSSIM_POW,
                        blur: float = DEFAULT_INVERSION_BLUR) -> objectives.Objective:
    """What :func:`invert` maximizes: the activation match minus ``blur`` x the blur
    penalty (none when ``blur`` is 0)."""
    match = objectives.activation_match(reference, layer, cossim_pow=cossim_pow)
    if blur == 0:
        return match
    return match - blur * objectives.blur_input_each_step()


def invert(model, image, layer: str = DEFAULT_INVERSION_LAYER, *, size: int | None = DEFAULT_SIZE,
           steps: int = DEFAULT_STEPS, cossim_pow: float = DEFAULT_INVERSION_COSSIM_POW,
           blur: float = DEFAULT_INVERSION_BLUR, learning_rate: float = DEFAULT_LEARNING_RATE,
           param: str = "fft", decorrelate: bool = True,
           transforms: str | Sequence[Callable] | None = None,
           measure_layers: Sequence[str] = (), seed: int | None = None,
           verbose: bool = False, progress: common.Progress | None = None) -> PhotoResult:
    """Inverts ``image``'s activations at ``layer``: renders from noise an image whose
    activations there match the photo's.

    Args:
      model: a lucid2 model (e.g. ``InceptionV1()``).
      image: the photo: a path, or an (H, W, 3) array (float in [0, 1] or uint8).
      layer: the layer whose activations are matched.
      size: the rendered image's longer side in pixels (the photo's aspect ratio is
        kept); None for the photo's own size.
      steps: optimization steps (capped by ``LUCID2_MAX_STEPS``).
      cossim_pow: power of the cosine that weights the dot product (0: Lucid's plain dot
        product, which lets activations outgrow the photo's).
      blur: weight of Lucid's per-step blur penalty (0: none).
      learning_rate, param, decorrelate, seed: as in
        :class:`~lucid2.optvis.settings.RenderSettings`.
      transforms: a transform list, or a name of
        :data:`~lucid2.optvis.defaults.TRANSFORM_NAMES`; default Lucid's inversion
        transforms (:func:`~lucid2.recipes.photo.common.inversion_transforms`).
      measure_layers: further layers at which to report the cosine with the photo.
      verbose: show a progress bar.
      progress: counts the steps (for an app's Ctrl-C report).

    Returns:
      A :class:`PhotoResult` whose metrics hold ``cosine`` (at ``layer``, between the
      untransformed final image and the photo at the same size), ``cosine_at`` (by layer,
      ``layer`` and ``measure_layers``), ``objective`` (the final image's value) and
      ``steps_run``.

    Raises:
      ValueError, TypeError: a bad argument, an unreadable photo, an unknown layer, or an
        image too small for the layer, before anything is compiled.
    """
    layer = checks.layer_name("layer", layer)
    measured = common.layer_names((layer, *measure_layers), "measure_layers")
    cossim_pow = checks.non_negative_float("cossim_pow", cossim_pow)
    blur = checks.non_negative_float("blur", blur)
    prepared = common.prepare_photo_render(
        model, image, measured, size=size, steps=steps, learning_rate=learning_rate,
        param=param, decorrelate=decorrelate, transforms=transforms, seed=seed)
    settings = prepared.settings
    objective = inversion_objective(prepared.reference, layer, cossim_pow, blur)
    progress = progress or common.Progress()
    final = common.render_image(model, objective, settings, height=prepared.height,
                                width=prepared.width, init=None,
                                transforms=prepared.transforms, verbose=verbose,
                                progress=progress)
    cosines = {name: common.cosine(model, final, prepared.photo, name) for name in measured}
    metrics = {"cosine": cosines[layer], "cosine_at": cosines,
               "objective": objective.evaluate(model, final[None]),
               "steps_run": progress.steps_done}
    inputs = {"image": common.describe_image(image), "layer": layer, "size": size,
              "steps": settings.steps, "cossim_pow": cossim_pow, "blur": blur,
              "learning_rate": settings.learning_rate, "param": settings.param,
              "decorrelate": settings.decorrelate, "transforms": prepared.transforms_label,
              "seed": settings.seed}
    return PhotoResult(RECIPE, final, metrics, inputs)
