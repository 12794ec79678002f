"""Multi-octave DeepDream on a photo, at the photo's own size (Mordvintsev et al., 2015).

    result = deepdream(InceptionV1(), "photo.jpg", "mixed4c", octaves=4)
    result.image.shape[:2] == photo's (height, width)
    result.metrics["mean_square_final"] / result.metrics["mean_square_photo"]

Octaves run from small to large: octave ``k`` of ``n`` is the photo scaled down by
``octave_scale ** (n - 1 - k)``, the last one the photo's own size. Each octave renders
:func:`lucid2.optvis.objectives.deepdream` (the layer's mean squared activation) for
``steps_per_octave`` steps, starting from the photo at that size plus the detail dreamed
so far (the previous octave's result minus the photo at its size, upscaled): the dream
grows from coarse to fine while the photo itself stays sharp.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from lucid2.optvis import checks, objectives
from lucid2.optvis.settings import RenderSettings
from lucid2.recipes.photo import common
from lucid2.recipes.photo.defaults import (DEFAULT_DEEPDREAM_LAYER, DEFAULT_DEEPDREAM_PARAM,
                                           DEFAULT_LEARNING_RATE, DEFAULT_OCTAVE_SCALE,
                                           DEFAULT_OCTAVES, DEFAULT_STEPS_PER_OCTAVE)
from lucid2.recipes.photo.result import PhotoResult

RECIPE = "deepdream"
RGB_CHANNELS = 3


def octave_sizes(height: int, width: int, octaves: int = DEFAULT_OCTAVES,
                 octave_scale: float = DEFAULT_OCTAVE_SCALE) -> list[tuple[int, int]]:
    """(height, width) of each octave, smallest first; the last is (height, width)."""
    height = checks.positive_int("height", height)
    width = checks.positive_int("width", width)
    octaves = checks.positive_int("octaves", octaves)
    octave_scale = checks.positive_float("octave_scale", octave_scale)
    if octave_scale <= 1:
        raise ValueError(f"octave_scale must be greater than 1 (each octave larger than the one "
                         f"before), got {octave_scale}.")
    result = []
    for k in range(octaves):
        shrink = octave_scale ** (octaves - 1 - k)
        result.append((max(1, round(height / shrink)), max(1, round(width / shrink))))
    return result


def check_octaves(model, layer: str, octave_hw: Sequence[tuple[int, int]],
                  transforms: Sequence[Callable]) -> None:
    """ValueError, before anything is compiled, when the smallest octave is too small for
    ``layer`` (after the transforms); the message says how to fix it."""
    height, width = octave_hw[0]
    common.check_fits(model, (layer,), height, width, transforms,
                      what=f"The smallest of {len(octave_hw)} octave(s)",
                      remedy="use fewer octaves, a smaller octave scale or a larger photo")


def _resize_signed(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """A signed (H, W, 3) array (the dreamed detail) resized bilinearly."""
    if values.shape[:2] == (height, width):
        return values
    return tf.image.resize(values[None], (height, width), method="bilinear").numpy()[0]


def deepdream(model, image, layer: str = DEFAULT_DEEPDREAM_LAYER, *,
              octaves: int = DEFAULT_OCTAVES, octave_scale: float = DEFAULT_OCTAVE_SCALE,
              steps_per_octave: int = DEFAULT_STEPS_PER_OCTAVE, size: int | None = None,
              learning_rate: float = DEFAULT_LEARNING_RATE,
              param: str = DEFAULT_DEEPDREAM_PARAM, decorrelate: bool = True,
              transforms: str | Sequence[Callable] | None = None,
              seed: int | None = None, verbose: bool = False,
              progress: common.Progress | None = None) -> PhotoResult:
    """DeepDreams ``layer`` on ``image``, octave by octave, at the photo's size.

    Args:
      model: a lucid2 model.
      image: the photo: a path, or an (H, W, 3) array (float in [0, 1] or uint8).
      layer: the layer whose mean squared activation grows.
      octaves: number of octaves (1: only the photo's size).
      octave_scale: size ratio of consecutive octaves (> 1).
      steps_per_octave: optimization steps per octave (capped by ``LUCID2_MAX_STEPS``).
      size: None (the photo's own size) or the longer side in pixels of the last octave.
      learning_rate, param, decorrelate, seed: as in
        :class:`~lucid2.optvis.settings.RenderSettings` (the seed is used for every octave).
        The default parameterization is "pixel": its updates are local, so the dream grows
        into the photo's details (a Fourier update spreads over the whole image).
      transforms: a transform list, or a name of
        :data:`~lucid2.optvis.defaults.TRANSFORM_NAMES`; default Lucid's standard ones.
      verbose, progress: a progress bar; a step counter for an app's Ctrl-C report.

    Returns:
      A :class:`PhotoResult` of the photo's size whose metrics hold
      ``mean_square_photo`` and ``mean_square_final`` (the layer's mean squared
      activation on the photo and on the result, untransformed), their ratio
      ``mean_square_growth``, and ``octave_sizes``.

    Raises:
      ValueError, TypeError: before anything is compiled: bad arguments, an unreadable
        photo, an unknown layer, or a smallest octave too small for the layer.
    """
    layer = checks.layer_name("layer", layer)
    chosen, transforms_label = common.chosen_transforms(transforms, common.standard_transforms)
    settings = RenderSettings(param=param, decorrelate=decorrelate, learning_rate=learning_rate,
                              steps=steps_per_octave, seed=seed)
    photo = common.photo_at_size(image, size)
    height, width = photo.shape[:2]
    plan = octave_sizes(height, width, octaves, octave_scale)
    common.check_layers(model, (layer,))
    check_octaves(model, layer, plan, chosen)
    objective = objectives.deepdream(layer)
    progress = progress or common.Progress()
    detail = np.zeros(plan[0] + (RGB_CHANNELS,), np.float32)
    dreamed = photo
    for octave_height, octave_width in plan:
        base = common.resize_photo(photo, octave_height, octave_width)
        start = np.clip(base + _resize_signed(detail, octave_height, octave_width), 0.0, 1.0)
        dreamed = common.render_image(model, objective, settings, height=octave_height,
                                      width=octave_width, init=start, transforms=chosen,
                                      verbose=verbose, progress=progress)
        detail = dreamed - base
    before = common.mean_square(model, photo, layer)
    after = common.mean_square(model, dreamed, layer)
    metrics = {"mean_square_photo": before, "mean_square_final": after,
               "mean_square_growth": after / before if before > 0 else float("inf"),
               "octave_sizes": [list(hw) for hw in plan], "steps_run": progress.steps_done}
    inputs = {"image": common.describe_image(image), "layer": layer, "octaves": len(plan),
              "octave_scale": octave_scale, "steps_per_octave": settings.steps, "size": size,
              "learning_rate": settings.learning_rate, "param": settings.param,
              "decorrelate": settings.decorrelate,
              "transforms": transforms_label, "seed": settings.seed}
    return PhotoResult(RECIPE, dreamed, metrics, inputs)
