"""What optvis needs from a model: a small, explicit interface.

optvis never imports the model zoo. Any object with these members can be
rendered; :class:`lucid2.modelzoo.VisionModel` (InceptionV1, wrapped Keras,
SavedModel and TF-Hub models) provides them.

A model that only takes images of one size may say so with an optional
``input_size`` attribute, (height, width); otherwise :func:`fixed_input_size`
reads it from the Keras submodels' inputs.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import keras

from lucid2.optvis import checks

# Image inputs are (N, H, W, C).
IMAGE_RANK = 4
RGB_CHANNELS = 3


@runtime_checkable
class LayerInfoLike(Protocol):
    name: str
    channels: int | None
    kind: str


@runtime_checkable
class RenderableModel(Protocol):
    """A model whose submodels map [0, 1] RGB images (N, H, W, 3) to named layers."""

    name: str
    labels: list[str] | None
    logits_layer: str | None  # the layer giving class logits, for class objectives

    def check_layer(self, name: str) -> None:
        """Raises ValueError (with close matches) when ``name`` is not a layer."""

    def layer_info(self, name: str) -> LayerInfoLike:
        """Name, channel count and kind of a layer."""

    def submodel(self, layer_names: Sequence[str]) -> keras.Model:
        """A model from [0, 1] RGB images to a list of the named layers' outputs."""

    def output_shape(self, layer_name: str, image_shape: Sequence[int]) -> tuple:
        """The layer's output shape for an input shape; ValueError if too small."""


def require_renderable(model) -> RenderableModel:
    """Returns ``model`` if it has the interface, else raises a TypeError saying how to wrap it."""
    if isinstance(model, RenderableModel):
        return model
    if isinstance(model, keras.Model):
        raise TypeError(
            "render needs to know the input convention your Keras model expects: wrap it first, "
            "e.g. lucid2.modelzoo.from_keras(model, value_range=(-1, 1)) or "
            "from_keras(model, preprocessing='torch'); a keras.applications network by name: "
            "lucid2.modelzoo.keras_application('ResNet50').")
    raise TypeError(f"Expected a lucid2 model (e.g. lucid2.modelzoo.InceptionV1()), got "
                    f"{type(model).__name__}.")


def outputs_by_layer(layer_names: Sequence[str], outputs) -> dict:
    """A submodel's outputs keyed by the layer names it was built for (Keras returns a
    lone output unwrapped)."""
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return dict(zip(layer_names, outputs, strict=True))


def activations(model: RenderableModel, layer_names: Sequence[str], images) -> dict:
    """The outputs of ``layer_names`` for [0, 1] ``images``, by layer name (empty when no
    layer is named: nothing is computed)."""
    names = list(dict.fromkeys(layer_names))
    if not names:
        return {}
    return outputs_by_layer(names, model.submodel(names)(images, training=False))


def _static_hw(model: keras.Model) -> tuple[int, int] | None:
    """(height, width) of ``model``'s image input when both are static."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs or len(inputs) != 1:
        return None
    shape = tuple(inputs[0].shape)
    # Only an RGB input is the image input (a nested network may take feature maps).
    if len(shape) != IMAGE_RANK or shape[-1] != RGB_CHANNELS or None in shape[1:3]:
        return None
    return int(shape[1]), int(shape[2])


def fixed_input_size(model: RenderableModel,
                     layer_names: Sequence[str]) -> tuple[int, int] | None:
    """The one (height, width) the model takes, or None when it takes any size.

    From the model's optional ``input_size`` attribute, else from the submodel
    computing ``layer_names``: its image input, or the input of a Keras model
    nested in it (a wrapper that first maps [0, 1] images to the network's value
    range calls the network, with its own fixed input, as one layer). Only RGB
    inputs count: a nested network taking feature maps is not the image input.
    """
    stated = getattr(model, "input_size", None)
    if stated is not None:
        if checks.is_int(stated):
            stated = (stated, stated)
        height, width = checks.shape("input_size", stated, rank=2)
        return height, width
    if not layer_names:
        return None  # no layer is computed: the model never sees the images
    submodel = model.submodel(list(layer_names))
    if not isinstance(submodel, keras.Model):
        return None
    pending = [submodel]
    while pending:
        current = pending.pop(0)
        size = _static_hw(current)
        if size is not None:
            return size
        pending.extend(layer for layer in current.layers if isinstance(layer, keras.Model))
    return None
