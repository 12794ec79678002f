"""A vision model as lucid2 sees it: [0, 1] RGB images in, named layers out.

Every model in lucid2, whether InceptionV1 or a user's own network, is a
:class:`VisionModel`. It records the network's input convention (a
:class:`~lucid2.modelzoo.preprocessing.Preprocessing`: value range, mean and
std, channel order), so that callers always feed float32 RGB images in [0, 1]
and the mapping to what the network expects happens in exactly one place,
inside the graph. It gives access to layers by name and builds (and caches)
functional submodels that stop at the deepest layer requested.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import keras
import numpy as np

from lucid2.modelzoo.preprocessing import Preprocessing, PreprocessingLayer, resolve_preprocessing

IMAGE_RANK = 4
IMAGE_CHANNELS = 3
# The layer that maps [0, 1] RGB images to the network's input, first in every submodel.
PREPROCESSING_LAYER = "preprocessing"


@dataclass(frozen=True)
class LayerInfo:
    """Metadata of one named layer: its name, channel count and kind."""

    name: str
    channels: int | None
    kind: str


def check_image_shape(shape: Sequence[int | None], *, name: str = "images") -> None:
    """Raises a clear ValueError unless ``shape`` is (N, H, W, 3)."""
    shape = tuple(shape)
    if len(shape) != IMAGE_RANK:
        raise ValueError(
            f"{name} must have rank 4 (N, H, W, 3), got shape {shape}; "
            "add a batch dimension with images[None] for a single image.")
    if shape[-1] != IMAGE_CHANNELS:
        raise ValueError(
            f"{name} must have 3 channels (RGB) in the last axis, got shape {shape}.")


def validate_images(images, *, name: str = "images") -> np.ndarray:
    """Returns ``images`` as float32 (N, H, W, 3), or raises a clear ValueError."""
    array = np.asarray(images)
    check_image_shape(array.shape, name=name)
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}.")
    return array.astype(np.float32, copy=False)


def _layer_kind(layer: keras.layers.Layer) -> str:
    kinds = {
        "Conv2D": "conv", "DepthwiseConv2D": "conv", "SeparableConv2D": "conv",
        "Dense": "dense", "ReLU": "relu", "Activation": "activation",
        "Concatenate": "concat", "MaxPooling2D": "pool", "AveragePooling2D": "pool",
        "GlobalAveragePooling2D": "pool", "BatchNormalization": "norm",
        "InputLayer": "input", "Softmax": "softmax", "Add": "add",
    }
    return kinds.get(type(layer).__name__, type(layer).__name__.lower())


def _channels(layer: keras.layers.Layer) -> int | None:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return None
    last = shape[-1] if shape else None
    return int(last) if last is not None else None


class VisionModel:
    """A Keras model plus what lucid2 needs to know about it.

    Args:
      keras_model: a functional or Sequential ``keras.Model`` taking images.
      preprocessing: the network's input convention, a
        :class:`~lucid2.modelzoo.preprocessing.Preprocessing` or a named one
        ("unit", "tf", "caffe", "torch", "raw"); default [0, 1] RGB.
      value_range: shorthand for ``Preprocessing(value_range=...)``: the (low,
        high) range of pixel values the network expects. Not with ``preprocessing``.
      channel_order: shorthand: "RGB" or "BGR", the channel order the network
        expects. Not with ``preprocessing``.
      takes_unit_range: True when ``keras_model`` already maps [0, 1] RGB
        images to its own input itself (as lucid2's InceptionV1 does); the
        preprocessing is then metadata only, never applied a second time.
      labels: optional class names, one per output unit.
      logits_layer: name of the layer giving class logits (for class objectives).
      layer_kinds: optional overrides of the kind reported per layer name.
      name: a display name.
    """

    def __init__(self, keras_model: keras.Model, *,
                 preprocessing: Preprocessing | str | None = None,
                 value_range: Sequence[float] | None = None, channel_order: str | None = None,
                 takes_unit_range: bool = False, labels: Sequence[str] | None = None,
                 logits_layer: str | None = None, layer_kinds: Mapping[str, str] | None = None,
                 name: str | None = None):
        if not isinstance(keras_model, keras.Model):
            raise TypeError(f"keras_model must be a keras.Model, got {type(keras_model).__name__}.")
        self.preprocessing = resolve_preprocessing(
            preprocessing, value_range=value_range, channel_order=channel_order,
            what=f"VisionModel({keras_model.name!r})")
        self.keras_model = keras_model
        self.takes_unit_range = takes_unit_range
        self.labels = list(labels) if labels is not None else None
        self.name = name or keras_model.name
        self._layer_kinds = dict(layer_kinds or {})
        # Keyed by layer names (see submodel), or "<full>" for full_model.
        self._submodels: dict[tuple[str, ...] | str, keras.Model] = {}
        self._layers = {layer.name: layer for layer in keras_model.layers}
        self._graph_inputs = self._functional_inputs(keras_model)
        if logits_layer is not None:
            self.check_layer(logits_layer)
        self.logits_layer = logits_layer

    @property
    def value_range(self) -> tuple[float, float]:
        """The (low, high) range [0, 1] is mapped onto (before any mean and std)."""
        return self.preprocessing.value_range

    @property
    def channel_order(self) -> str:
        """The channel order the network expects, "RGB" or "BGR"."""
        return self.preprocessing.channel_order

    def preprocess(self, images: Any) -> Any:
        """Exactly what the network receives for [0, 1] RGB ``images`` (N, H, W, 3), as a
        float32 tensor; differentiable, so a gradient reaches ``images``.

        For a model that maps [0, 1] itself (``takes_unit_range``, e.g. InceptionV1)
        this is what its own first layer computes.
        """
        shape = images.shape if hasattr(images, "shape") else np.shape(images)
        if getattr(shape, "rank", 0) is not None:  # a traced tensor may have no known rank
            check_image_shape(shape)
        return self.preprocessing.apply(images)

    # ----------------------------------------------------------------- layers
    @staticmethod
    def _functional_inputs(model: keras.Model):
        try:
            inputs = model.inputs
        except (AttributeError, ValueError):
            return None
        if not inputs:
            return None
        # A single input is passed as a tensor, not a one-element list, so that
        # Keras sees the same structure the model was built with.
        return inputs[0] if len(inputs) == 1 else inputs

    def layer_names(self) -> list[str]:
        """Names of all layers, in graph order."""
        return list(self._layers)

    def get_layer(self, name: str) -> keras.layers.Layer:
        """The Keras layer called ``name``; unknown names get close matches suggested."""
        self.check_layer(name)
        return self._layers[name]

    def check_layer(self, name: str) -> None:
        """Raises a ValueError naming close matches when ``name`` is not a layer."""
        if not isinstance(name, str):
            raise TypeError(f"A layer name must be a string, got {type(name).__name__}.")
        if name in self._layers:
            return
        close = difflib.get_close_matches(name, list(self._layers), n=5, cutoff=0.6)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Unknown layer {name!r} in model {self.name!r}.{hint} "
            "List the layers with model.layer_names() or model.layers_table().")

    def layer_info(self, name: str) -> LayerInfo:
        """Name, channel count and kind of one layer."""
        layer = self.get_layer(name)
        kind = self._layer_kinds.get(name) or _layer_kind(layer)
        return LayerInfo(name=name, channels=_channels(layer), kind=kind)

    def layers(self) -> list[LayerInfo]:
        """Metadata of every layer, in graph order."""
        return [self.layer_info(name) for name in self._layers]

    def layers_table(self, input_size: int | tuple[int, int] = 224) -> list[tuple[str, str, tuple]]:
        """(name, kind, output shape) of every layer for an input of ``input_size``.

        Shapes are inferred symbolically, without running the network.
        """
        height, width = (input_size, input_size) if isinstance(input_size, int) else input_size
        names = [n for n in self._layers if self._layer_kinds.get(n) != "input"
                 and _layer_kind(self._layers[n]) != "input"]
        model = self.submodel(names)
        specs = model.compute_output_spec(keras.KerasTensor((1, height, width, 3)))
        return [(n, self.layer_info(n).kind, tuple(s.shape))
                for n, s in zip(names, specs, strict=True)]

    # -------------------------------------------------------------- submodels
    def _unit_range_input(self):
        """A new [0, 1] RGB input and the tensor the network consumes."""
        inputs = keras.Input(shape=(None, None, 3), name="images", dtype="float32")
        if self.takes_unit_range or self.preprocessing.is_identity:
            return inputs, inputs
        return inputs, PreprocessingLayer(self.preprocessing, name=PREPROCESSING_LAYER)(inputs)

    def submodel(self, layer_names: str | Sequence[str]) -> keras.Model:
        """A cached ``keras.Model`` from [0, 1] RGB images to the named layers.

        A single name gives a model with one output, a list gives a list of
        outputs in the same order. Only the layers the outputs depend on are
        computed.
        """
        single = isinstance(layer_names, str)
        names: tuple[str, ...] = ((layer_names,) if isinstance(layer_names, str)
                                  else tuple(layer_names))
        if not names:
            raise ValueError("submodel() needs at least one layer name.")
        for name in names:
            self.check_layer(name)
        key = names + (("<single>",) if single else ())
        if key not in self._submodels:
            self._submodels[key] = self._build_submodel(names, single)
        return self._submodels[key]

    def _build_submodel(self, names: tuple[str, ...], single: bool) -> keras.Model:
        if self._graph_inputs is None:
            raise ValueError(
                f"Model {self.name!r} is a subclassed Keras model without a functional graph, so "
                "its intermediate layers cannot be reached. Wrap a functional or Sequential "
                "model, or a SavedModel / TF-Hub model with lucid2.modelzoo.load().")
        outputs = [self._layers[n].output for n in names]
        inner = keras.Model(self._graph_inputs, outputs[0] if single else outputs,
                            name=f"{self.name}_to_{names[-1]}")
        if self.takes_unit_range:
            return inner
        inputs, x = self._unit_range_input()
        return keras.Model(inputs, inner(x), name=f"{self.name}_unit_to_{names[-1]}")

    def output_shape(self, layer_name: str, image_shape: Sequence[int]) -> tuple:
        """Output shape of ``layer_name`` for images of ``image_shape`` (N, H, W, 3).

        Raises a ValueError when the image is too small for that layer.
        """
        model = self.submodel(layer_name)
        try:
            spec = model.compute_output_spec(keras.KerasTensor(tuple(image_shape)))
        except Exception as error:  # shape errors come as several types
            raise ValueError(
                f"Images of shape {tuple(image_shape)} do not fit layer {layer_name!r} of "
                f"{self.name!r}: {error}") from None
        shape = tuple(spec.shape)
        if any(d is not None and d <= 0 for d in shape):
            raise ValueError(
                f"Images of shape {tuple(image_shape)} are too small for layer {layer_name!r} of "
                f"{self.name!r} (its output would be {shape}); use larger images.")
        return shape

    # ------------------------------------------------------------ prediction
    def __call__(self, images, training: bool = False):
        """Runs the whole model on [0, 1] RGB images (N, H, W, 3)."""
        return self.full_model()(images, training=training)

    def full_model(self) -> keras.Model:
        """A model from [0, 1] RGB images to the network's outputs."""
        if self.takes_unit_range:
            return self.keras_model
        if "<full>" not in self._submodels:
            inputs, x = self._unit_range_input()
            self._submodels["<full>"] = keras.Model(inputs, self.keras_model(x),
                                                    name=f"{self.name}_unit")
        return self._submodels["<full>"]

    def predict(self, images, batch_size: int = 32) -> np.ndarray:
        """Model outputs for [0, 1] RGB images, computed in batches."""
        array = validate_images(images)
        model = self.full_model()
        outputs = [np.asarray(model(array[i:i + batch_size], training=False))
                   for i in range(0, len(array), batch_size)]
        return np.concatenate(outputs, axis=0)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name!r}, preprocessing="
                f"{self.preprocessing.describe()!r}, layers={len(self._layers)})")
