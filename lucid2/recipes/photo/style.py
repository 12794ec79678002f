"""Style transfer (Gatys et al., 2016): the content of one photo in the style of another.

    result = style_transfer(InceptionV1(), "photo.jpg", "painting.jpg", steps=512)
    result.metrics["style_loss_content"], result.metrics["style_loss_final"]

What the render maximizes: minus ``style_weight`` x
:func:`lucid2.optvis.objectives.style_loss` (the Gram matrices of the style image at the
style layers) minus ``content_weight`` x :func:`~lucid2.optvis.objectives.content_loss`
(the content photo's activations at the content layers). The image starts as the content
photo (``start="content"``; ``"noise"`` starts from random noise, as Gatys et al. did), in
the Fourier parameterization with decorrelated colors, under a small jitter;
the style image is scaled to cover the rendered image and cropped at the center.
"""

from __future__ import annotations

from typing import Callable, Sequence

from lucid2.optvis import checks, objectives, transform
from lucid2.optvis.settings import RenderSettings
from lucid2.recipes.photo import common
from lucid2.recipes.photo.defaults import (DEFAULT_CONTENT_WEIGHT, DEFAULT_LEARNING_RATE,
                                           DEFAULT_SIZE, DEFAULT_STYLE_STEPS,
                                           DEFAULT_STYLE_WEIGHT, STYLE_STARTS)
from lucid2.recipes.photo.result import PhotoResult

RECIPE = "style_transfer"
# A small jitter only: it keeps the optimization from pixel-grid patterns, while the
# image stays aligned with the content photo (the standard transforms' padding, scaling and
# rotation cost content and style alike: a sample photo's style loss fell 4.5x instead of
# 6.6x, at a lower content cosine).
STYLE_JITTER = 4


def style_transforms() -> list[Callable]:
    """The style transfer's default transforms (a new list)."""
    return [transform.jitter(STYLE_JITTER)]


def style_transfer_objective(content: objectives.ReferenceImage,
                             style: objectives.ReferenceImage, *,
                             style_layers: Sequence[str] = objectives.DEFAULT_STYLE_LAYERS,
                             content_layers: Sequence[str] = objectives.DEFAULT_CONTENT_LAYERS,
                             style_weight: float = DEFAULT_STYLE_WEIGHT,
                             content_weight: float = DEFAULT_CONTENT_WEIGHT,
                             ) -> objectives.Objective:
    """What :func:`style_transfer` maximizes: minus the weighted style and content losses
    (a term of weight 0 is left out; both 0 is refused)."""
    style_weight = checks.non_negative_float("style_weight", style_weight)
    content_weight = checks.non_negative_float("content_weight", content_weight)
    terms = []
    if style_weight:
        terms.append(style_weight * objectives.style_loss(style, style_layers))
    if content_weight:
        terms.append(content_weight * objectives.content_loss(content, content_layers))
    if not terms:
        raise ValueError("style_weight and content_weight are both 0: nothing to optimize.")
    return -objectives.Sum(terms) if len(terms) > 1 else -terms[0]


def style_transfer(model, content, style, *,
                   style_layers: Sequence[str] = objectives.DEFAULT_STYLE_LAYERS,
                   content_layers: Sequence[str] = objectives.DEFAULT_CONTENT_LAYERS,
                   style_weight: float = DEFAULT_STYLE_WEIGHT,
                   content_weight: float = DEFAULT_CONTENT_WEIGHT, start: str = "content",
                   size: int | None = DEFAULT_SIZE, steps: int = DEFAULT_STYLE_STEPS,
                   learning_rate: float = DEFAULT_LEARNING_RATE, param: str = "fft",
                   decorrelate: bool = True,
                   transforms: str | Sequence[Callable] | None = None,
                   seed: int | None = None, verbose: bool = False,
                   progress: common.Progress | None = None) -> PhotoResult:
    """Renders ``content`` in the style of ``style``.

    Args:
      model: a lucid2 model.
      content, style: the photos: paths, or (H, W, 3) arrays (float in [0, 1] or uint8).
      style_layers: the layers whose Gram matrices make the style (the default suits
        InceptionV1).
      content_layers: the layers whose activations keep the content.
      style_weight, content_weight: the losses' weights (non-negative, not both 0).
      start: "content" (start at the content photo) or "noise".
      size: the image's longer side in pixels (the content's aspect ratio is kept); None:
        the content photo's own size.
      steps, learning_rate, param, decorrelate, seed: as in
        :class:`~lucid2.optvis.settings.RenderSettings`.
      transforms: a transform list, or a name of
        :data:`~lucid2.optvis.defaults.TRANSFORM_NAMES` ("standard", "article", "none");
        default :func:`style_transforms` (a 4-pixel jitter).
      verbose, progress: a progress bar; a step counter for an app's Ctrl-C report.

    Returns:
      A :class:`PhotoResult` whose metrics hold ``style_loss_content`` (the style loss of
      the content photo itself), ``style_loss_final``, their ratio ``style_loss_drop``,
      ``content_loss_final``, ``content_cosine`` (by content layer, final image vs content
      photo) and ``min_content_cosine``; all on untransformed images of one size.

    Raises:
      ValueError, TypeError: before anything is compiled: bad arguments, an unreadable
        photo, a layer the model does not have, images too small for the layers.
    """
    style_names = common.layer_names(style_layers, "style_layers")
    content_names = common.layer_names(content_layers, "content_layers")
    start = checks.choice("start", start, STYLE_STARTS)
    chosen, transforms_label = common.chosen_transforms(transforms, style_transforms)
    settings = RenderSettings(size=DEFAULT_SIZE if size is None else size, param=param,
                              decorrelate=decorrelate, learning_rate=learning_rate,
                              steps=steps, seed=seed)
    content_photo = common.photo_at_size(content, size, "content")
    height, width = content_photo.shape[:2]
    # Fitted to the render's size here, once (scaled and cropped, not stretched): what is
    # optimized and what is measured against is the same array.
    style_photo = common.cover_crop(common.load_photo(style, "style"), height, width)
    common.check_layers(model, style_names + content_names)
    common.check_fits(model, style_names + content_names, height, width, chosen)
    content_ref = objectives.reference_image(content_photo, name="content")
    style_ref = objectives.reference_image(style_photo, name="style")
    objective = style_transfer_objective(content_ref, style_ref, style_layers=style_names,
                                         content_layers=content_names,
                                         style_weight=style_weight,
                                         content_weight=content_weight)
    progress = progress or common.Progress()
    final = common.render_image(
        model, objective, settings, height=height, width=width,
        init=content_photo if start == "content" else None, transforms=chosen,
        verbose=verbose, progress=progress)
    style_loss = objectives.style_loss(style_ref, style_names)
    loss_content = style_loss.evaluate(model, content_photo[None])
    loss_final = style_loss.evaluate(model, final[None])
    cosines = {name: common.cosine(model, final, content_photo, name) for name in content_names}
    metrics = {
        "style_loss_content": loss_content, "style_loss_final": loss_final,
        "style_loss_drop": loss_content / loss_final if loss_final > 0 else float("inf"),
        "content_loss_final": objectives.content_loss(content_ref, content_names).evaluate(
            model, final[None]),
        "content_cosine": cosines, "min_content_cosine": min(cosines.values()),
        "steps_run": progress.steps_done,
    }
    inputs = {"content": common.describe_image(content), "style": common.describe_image(style),
              "style_layers": list(style_names), "content_layers": list(content_names),
              "style_weight": style_weight, "content_weight": content_weight, "start": start,
              "size": size, "steps": settings.steps, "learning_rate": settings.learning_rate,
              "param": settings.param, "decorrelate": settings.decorrelate,
              "transforms": transforms_label,
              "seed": settings.seed}
    return PhotoResult(RECIPE, final, metrics, inputs)
