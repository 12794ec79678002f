"""What optvis needs from a model: a small, explicit interface.

optvis never imports the model zoo. Any object with these members can be
rendered; :class:`lucid2.modelzoo.VisionModel` (InceptionV1, wrapped Keras,
SavedModel and TF-Hub models) provides them.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import keras


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
            "render needs to know the value range your Keras model expects: wrap it first, e.g. "
            "lucid2.modelzoo.from_keras(model, value_range=(-1, 1)).")
    raise TypeError(
        f"Expected a lucid2 model (e.g. lucid2.modelzoo.InceptionV1()), got {type(model).__name__}.")
