"""Feature accentuation (Hamblin et al., 2024): start at a photo and raise an objective
while a pull keeps the image close to the photo, so that the result shows what the
feature responds to *in this photo*.

    result = accentuate(InceptionV1(), "dog.jpg", "mixed4a:97", pull=1000)
    result.metrics["objective_photo"], result.metrics["objective_final"]

What the render maximizes: ``objective - pull * penalty``, from the photo. The penalty
(:func:`accentuation_objective`) is, with ``pull_layer`` a layer name,
:func:`lucid2.optvis.objectives.content_loss` there: the squared distance between the
image's and the photo's activations at that layer, relative to the photo's (an
intermediate layer, as in the authors' code: the image may change its pixels but not what
the early layers see in it); with ``pull_layer="input"``,
:func:`~lucid2.optvis.objectives.input_diff`: the root-mean-square pixel difference.

The pull's weight is in the objective's units: a channel's mean activation on a photo is
of the order of tens in InceptionV1, hence the default of 1000 (the metrics report the
objective on the photo and on the result, and the penalty, to tune it). ``pull=0`` is a
plain render started at the photo.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from lucid2.optvis import checks, objectives
from lucid2.optvis.objectives import INPUT
from lucid2.optvis.settings import RenderSettings
from lucid2.recipes.photo import common
from lucid2.recipes.photo.defaults import (DEFAULT_ACCENTUATION_STEPS, DEFAULT_LEARNING_RATE,
                                           DEFAULT_PULL, DEFAULT_PULL_LAYER, DEFAULT_SIZE)
from lucid2.recipes.photo.result import PhotoResult

RECIPE = "accentuation"


def pull_penalty(reference: objectives.ReferenceImage,
                 pull_layer: str = DEFAULT_PULL_LAYER) -> objectives.Objective:
    """The penalty pulling toward ``reference``: content loss at ``pull_layer``, or the
    RMS pixel difference for ``"input"``."""
    pull_layer = checks.layer_name("pull_layer", pull_layer)
    if pull_layer == INPUT:
        return objectives.input_diff(reference)
    return objectives.content_loss(reference, pull_layer)


def accentuation_objective(objective, reference: objectives.ReferenceImage,
                           pull: float = DEFAULT_PULL,
                           pull_layer: str = DEFAULT_PULL_LAYER) -> objectives.Objective:
    """``objective - pull * pull_penalty(reference, pull_layer)``; the objective alone when
    ``pull`` is 0. ``objective`` is an Objective or a string such as ``"mixed4a:97"``."""
    objective = objectives.as_objective(objective)
    pull = checks.non_negative_float("pull", pull)
    penalty = pull_penalty(reference, pull_layer)
    return objective if pull == 0 else objective - pull * penalty


def accentuate(model, image, objective, *, pull: float = DEFAULT_PULL,
               pull_layer: str = DEFAULT_PULL_LAYER, size: int | None = DEFAULT_SIZE,
               steps: int = DEFAULT_ACCENTUATION_STEPS,
               learning_rate: float = DEFAULT_LEARNING_RATE, param: str = "fft",
               decorrelate: bool = True,
               transforms: str | Sequence[Callable] | None = None,
               seed: int | None = None, verbose: bool = False,
               progress: common.Progress | None = None) -> PhotoResult:
    """Accentuates ``objective`` in ``image``: a render from the photo, pulled toward it.

    Args:
      model: a lucid2 model.
      image: the photo: a path, or an (H, W, 3) array (float in [0, 1] or uint8).
      objective: what to raise: an Objective or a string (``"mixed4a:97"``).
      pull: the weight of the pull toward the photo (>= 0; 0: none).
      pull_layer: the layer whose activations the pull keeps close to the photo's, or
        ``"input"`` for the pixels (not used, nor checked, when ``pull`` is 0).
      size: the image's longer side in pixels (aspect ratio kept); None: the photo's own.
      steps, learning_rate, param, decorrelate, seed: as in
        :class:`~lucid2.optvis.settings.RenderSettings`.
      transforms: a transform list, or a name of
        :data:`~lucid2.optvis.defaults.TRANSFORM_NAMES`; default Lucid's standard ones.
      verbose, progress: a progress bar; a step counter for an app's Ctrl-C report.

    Returns:
      A :class:`PhotoResult` whose metrics hold ``objective_photo`` and
      ``objective_final`` (the objective on the photo and on the result, untransformed),
      ``penalty_final`` (the pull's penalty on the result, 0 on the photo; None without
      a pull) and
      ``pixel_distance`` (the RMS pixel difference from the photo).

    Raises:
      ValueError, TypeError: before anything is compiled.
    """
    chosen, transforms_label = common.chosen_transforms(transforms, common.standard_transforms)
    photo = common.photo_at_size(image, size)
    height, width = photo.shape[:2]
    settings = RenderSettings(size=max(height, width), param=param, decorrelate=decorrelate,
                              learning_rate=learning_rate, steps=steps, seed=seed)
    reference = objectives.reference_image(photo, name="photo")
    target = objectives.as_objective(objective)
    full = accentuation_objective(target, reference, pull, pull_layer)
    pulling = full is not target
    if pulling and pull_layer != INPUT:
        common.check_layers(model, (pull_layer,))
        common.check_fits(model, (pull_layer,), height, width, chosen)
    progress = progress or common.Progress()
    final = common.render_image(model, full, settings, height=height, width=width, init=photo,
                                transforms=chosen, verbose=verbose, progress=progress)
    metrics = {
        "objective_photo": target.evaluate(model, photo[None]),
        "objective_final": target.evaluate(model, final[None]),
        "penalty_final": (pull_penalty(reference, pull_layer).evaluate(model, final[None])
                          if pulling else None),
        "pixel_distance": float(np.sqrt(np.mean(np.square(final - photo)))),
        "steps_run": progress.steps_done,
    }
    inputs = {"image": common.describe_image(image), "objective": str(target),
              "pull": float(pull), "pull_layer": pull_layer, "size": size,
              "steps": settings.steps, "learning_rate": settings.learning_rate,
              "param": settings.param, "decorrelate": settings.decorrelate,
              "transforms": transforms_label, "seed": settings.seed}
    return PhotoResult(RECIPE, final, metrics, inputs)
