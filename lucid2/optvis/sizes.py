"""Which image sizes a model can take, checked before a render compiles anything.

The model receives the images after the transforms, whose sizes the transforms
state (:func:`lucid2.optvis.transform.smallest_output_size` and
:func:`~lucid2.optvis.transform.largest_output_size`).

* A model with a fixed input size (e.g. a Keras model built on
  ``Input((224, 224, 3))`` with a Dense head) gets every other transformed size
  resized to its own (:func:`fit_to_model`).
* Refused: images too small for a requested layer: smaller than the layer's stride (the
  whole image falls into one position of the layer's map, which then mostly sees
  padding) or than its unpadded convolutions need, before or after the
  transforms. The message gives the smallest size that works, found with the
  model's ``output_shape`` (symbolic, no network run): doubling, then bisection.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Sequence

from lucid2.optvis import transform
from lucid2.optvis.model_api import RenderableModel, fixed_input_size

Size = tuple[int, int]

RGB_CHANNELS = 3
# Sizes whose difference every power-of-two stride divides, large enough for any layer:
# the stride is the step of the output size between them.
STRIDE_PROBE_SIZES = (512, 1024)
# The smallest-size search gives up above this side.
MAX_SEARCH_SIZE = 8192

# model -> {(layer, image shape): output shape}: a model's shapes do not change, and each
# costs a symbolic pass through the network (a tenth of a second for InceptionV1).
_SHAPES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# model -> the resizes already announced: each is said once per model, not once per render.
_TOLD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _text(hw: Sequence[int]) -> str:
    return f"{hw[0]}x{hw[1]}"


def transformed_sizes(transform_fn: transform.Transform,
                      hw: Size) -> tuple[Size, Size] | None:
    """(smallest, largest) (height, width) after ``transform_fn`` for images of size
    ``hw``, or None when the transform cannot tell. Raises ValueError when the images
    are too small for the transform."""
    smallest = transform.smallest_output_size(transform_fn, hw)
    largest = transform.largest_output_size(transform_fn, hw)
    if smallest is None or largest is None:
        return None
    return smallest, largest


def model_image_shape(image_shape: Sequence[int],
                      transform_fn: transform.Transform) -> tuple[int, int, int, int]:
    """The (N, H, W, 3) images the model receives when the transforms give one known size
    (e.g. ``crop_or_pad_to`` last, ``preserve_size`` or none), else the
    parameterization's (N, H, W, 3): the shape to validate an objective against."""
    batch, height, width = (int(s) for s in image_shape[:3])
    try:
        sizes = transformed_sizes(transform_fn, (height, width))
    except ValueError:
        sizes = None  # check_image_size reports it
    if sizes is not None and sizes[0] == sizes[1]:
        height, width = sizes[1]
    return batch, height, width, RGB_CHANNELS


def output_shape(model: RenderableModel, layer: str, image_shape: Sequence[int]) -> tuple:
    """``model.output_shape(layer, image_shape)``, remembered per model (failures are not)."""
    key = (layer, tuple(int(s) for s in image_shape))
    try:
        known = _SHAPES.setdefault(model, {})
    except TypeError:  # a model that cannot be weakly referenced: nothing remembered
        known = {}
    if key not in known:
        known[key] = tuple(model.output_shape(layer, key[1]))
    return known[key]


def layer_strides(model: RenderableModel, layer: str) -> tuple[int | None, int | None]:
    """How many image pixels one position of ``layer``'s map steps over, per spatial axis
    (None where the layer has no spatial map or the model cannot tell)."""
    small, large = STRIDE_PROBE_SIZES
    try:
        first = output_shape(model, layer, (1, small, small, RGB_CHANNELS))
        second = output_shape(model, layer, (1, large, large, RGB_CHANNELS))
    except ValueError:
        return None, None
    strides: list[int | None] = [None, None]
    if len(first) == len(second) == 4:
        for axis in (0, 1):
            a, b = first[axis + 1], second[axis + 1]
            if a is not None and b is not None and b > a:
                strides[axis] = max(1, round((large - small) / (b - a)))
    return strides[0], strides[1]


def size_problem(model: RenderableModel, layers: Sequence[str], batch: int, hw: Size,
                 transform_fn: transform.Transform) -> str | None:
    """Why images of size ``hw`` are too small for ``layers`` (before or after the
    transforms), or None when they fit."""
    for layer in layers:
        for side, stride, axis in zip(hw, layer_strides(model, layer), ("height", "width"),
                                      strict=True):
            if stride is not None and side < stride:
                return (f"layer {layer!r} has a stride of {stride} pixels: an image smaller "
                        f"than that (here {side} in {axis}) fills a single position of its "
                        "map, which then mostly sees padding")
        try:
            output_shape(model, layer, (batch, *hw, RGB_CHANNELS))
        except ValueError as error:
            return str(error)
    try:
        sizes = transformed_sizes(transform_fn, hw)
    except ValueError as error:
        return f"the transforms cannot take them: {error}"
    if sizes is not None and sizes[0] != tuple(hw):
        for layer in layers:
            try:
                output_shape(model, layer, (batch, *sizes[0], RGB_CHANNELS))
            except ValueError as error:
                return f"after the transforms they can be as small as {_text(sizes[0])}: {error}"
    return None


def smallest_size(model: RenderableModel, layers: Sequence[str], batch: int,
                  transform_fn: transform.Transform) -> int | None:
    """The smallest side of square images that fit ``layers`` before and after the
    transforms, or None when none up to :data:`MAX_SEARCH_SIZE` does."""
    def fits(side: int) -> bool:
        return size_problem(model, layers, batch, (side, side), transform_fn) is None

    too_small, candidate = 0, 1
    while not fits(candidate):
        too_small, candidate = candidate, 2 * candidate
        if candidate > MAX_SEARCH_SIZE:
            return None
    while candidate - too_small > 1:
        middle = (too_small + candidate) // 2
        if fits(middle):
            candidate = middle
        else:
            too_small = middle
    return candidate


def fit_to_model(model: RenderableModel, layers: Sequence[str], image_shape: Sequence[int],
                 transform_fn: transform.Transform) -> transform.Transform:
    """The transforms a render uses for ``model``: ``transform_fn`` itself, or, for a model
    that takes one input size only (e.g. a Dense head on 224x224) which the transformed
    images of ``image_shape`` (N, H, W, C) would not have (or may not: transforms that
    cannot state their sizes), ``transform_fn`` followed by a differentiable
    :func:`~lucid2.optvis.transform.resize_to` that size. The resize is announced with a
    warning, once per model, image size and layers.

    Such a model gets its one size for every layer, its convolutions too (Keras checks
    the size at the model's input); to look at those at other scales, build the
    network without its head (e.g. ``include_top=False``).

    Raises ValueError when the images are too small for ``layers`` (see
    :func:`check_image_size`).
    """
    if not layers:
        return transform_fn  # the objective reads only the images: the model never sees them
    fixed = fixed_input_size(model, layers)
    if fixed is None:
        _check_not_too_small(model, layers, image_shape, transform_fn)
        return transform_fn
    height, width = fixed
    hw = (int(image_shape[1]), int(image_shape[2]))
    sizes = transformed_sizes(transform_fn, hw)
    if sizes is not None and sizes[0] == sizes[1] == tuple(fixed):
        return transform_fn
    given = ("the images after the transforms (sizes not stated)" if sizes is None else
             f"the {_text(sizes[0])} images it would receive after the transforms"
             if sizes[0] == sizes[1] else
             f"the {_text(sizes[0])} up to {_text(sizes[1])} images it would receive after "
             "the transforms")
    try:
        told = _TOLD.setdefault(model, set())
    except TypeError:  # a model that cannot be weakly referenced: said every time
        told = set()
    key = (tuple(fixed), given, tuple(layers))
    if key not in told:
        told.add(key)
        _announce_resize(model, fixed, given)
    return transform.compose([transform_fn, transform.resize_to(height, width)])


def _announce_resize(model: RenderableModel, fixed: Size, given: str) -> None:
    height, width = fixed
    warnings.warn(
        f"Model {getattr(model, 'name', type(model).__name__)!r} takes images of "
        f"{height}x{width} pixels only: {given} are resized to {height}x{width} "
        f"(transform.resize_to({height}, {width}) appended to the transforms).",
        UserWarning, stacklevel=4)


def check_image_size(model: RenderableModel, layers: Sequence[str], image_shape: Sequence[int],
                     transform_fn: transform.Transform) -> None:
    """Raises ValueError when the images of ``image_shape`` (N, H, W, C) are too small for
    ``layers`` before or after ``transform_fn``, naming the smallest size that works
    (models with a fixed input size are left to :func:`fit_to_model`)."""
    if not layers:
        return  # the objective reads only the images: the model never sees them
    if fixed_input_size(model, layers) is not None:
        return  # fit_to_model resizes to the one size it takes
    _check_not_too_small(model, layers, image_shape, transform_fn)


def _check_not_too_small(model: RenderableModel, layers: Sequence[str],
                         image_shape: Sequence[int], transform_fn: transform.Transform) -> None:
    batch, hw = int(image_shape[0]), (int(image_shape[1]), int(image_shape[2]))
    problem = size_problem(model, layers, batch, hw, transform_fn)
    if problem is None:
        return
    side = smallest_size(model, layers, batch, transform_fn)
    advice = (f"The smallest size that works is {side}x{side} pixels (e.g. param.image({side}))."
              if side is not None else f"No size up to {MAX_SEARCH_SIZE} pixels works.")
    raise ValueError(
        f"Images of {_text(hw)} pixels are too small for model "
        f"{getattr(model, 'name', type(model).__name__)!r}: {problem}. {advice}")
