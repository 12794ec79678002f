"""Receptive fields of layers, derived from a model's Keras graph.

A unit of a convolutional layer sees a window of the input image: its
receptive field. :func:`receptive_field` walks the graph from the image input
to a layer and combines, per spatial axis, each layer's kernel, stride,
dilation and padding. Padding is resolved for the actual image size, because
TensorFlow's "same" padding of a strided layer depends on it.

Conventions: pixel ``i`` of an axis is centered at coordinate ``i``. A unit at
grid index ``(row, col)`` of the layer is centered at
``offset + stride * (row, col)`` and covers ``size`` pixels per axis around
that center (the theoretical receptive field: every pixel that can change the
unit, counting the zero padding outside the image).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import keras

# Layers that work on each position separately (or mix channels only): they
# leave the receptive field unchanged. Matched on the class name, so that
# user layers with these names and lucid2's own LocalResponseNorm work too.
POINTWISE_LAYERS = frozenset({
    "InputLayer", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    "BatchNormalization", "GroupNormalization", "LayerNormalization", "UnitNormalization",
    "Normalization", "Rescaling", "Identity", "Dropout", "SpatialDropout2D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "ActivityRegularization", "LocalResponseNorm",
})
CONV_LAYERS = frozenset({"Conv2D", "DepthwiseConv2D", "SeparableConv2D"})
POOL_LAYERS = frozenset({"MaxPooling2D", "AveragePooling2D"})
# Merges of equal-shape inputs; the unit's window is the union of the branches'.
MERGE_LAYERS = frozenset({"Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum",
                          "Minimum"})
CHANNEL_AXES = (-1, 3)
SPATIAL_AXES = 2


class UnknownLayerError(ValueError):
    """A layer on the path to the target layer has no known receptive-field rule."""


@dataclass(frozen=True)
class ReceptiveField:
    """Where the units of a layer look in the input image, per axis (rows, columns).

    Attributes:
      size: pixels covered by one unit.
      stride: pixels between the centers of neighboring units.
      offset: center of unit (0, 0), in pixel coordinates (pixel i is at i).
      exact: False for the fallback estimate used when the graph holds
        layers without a known rule.
    """

    size: tuple[float, float]
    stride: tuple[float, float]
    offset: tuple[float, float]
    exact: bool = True

    def center(self, row: int, col: int) -> tuple[float, float]:
        """Pixel coordinates (y, x) of the center of unit (row, col)."""
        return (self.offset[0] + self.stride[0] * row, self.offset[1] + self.stride[1] * col)

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """The whole window of unit (row, col): (top, left, bottom, right), bottom/right excluded.

        It may reach outside the image (into the padding).
        """
        edges = []
        for axis, center in enumerate(self.center(row, col)):
            half = (self.size[axis] - 1) / 2
            edges.append((math.floor(center - half), math.ceil(center + half) + 1))
        (top, bottom), (left, right) = edges
        return top, left, bottom, right

    def patch_box(self, row: int, col: int,
                  image_shape: Sequence[int]) -> tuple[int, int, int, int]:
        """The window of unit (row, col) made to fit an image of (height, width).

        The window keeps its size up to the image size and is shifted to lie
        inside the image, so a patch is always real image content of one size
        for all units. Returns (top, left, bottom, right), bottom/right excluded.
        """
        edges = []
        for axis, center in enumerate(self.center(row, col)):
            length = int(image_shape[axis])
            size = min(math.ceil(self.size[axis]), length)
            # Round half up, so the result does not depend on numpy's banker's rounding.
            start = math.floor(center - (size - 1) / 2 + 0.5)
            start = min(max(start, 0), length - size)
            edges.append((start, start + size))
        (top, bottom), (left, right) = edges
        return top, left, bottom, right

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        return {"size": list(self.size), "stride": list(self.stride), "offset": list(self.offset),
                "exact": self.exact}


@dataclass(frozen=True)
class _Axis:
    size: float
    stride: float
    offset: float
    length: int


def _pair(value) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    first, second = value
    return int(first), int(second)


def _float_pair(values: Iterable[float]) -> tuple[float, float]:
    first, second = values
    return float(first), float(second)


def _check_channels_last(layer) -> None:
    data_format = getattr(layer, "data_format", "channels_last")
    if data_format != "channels_last":
        raise UnknownLayerError(
            f"Layer {layer.name!r} uses data_format={data_format!r}; receptive fields are "
            "computed for channels_last (N, H, W, C) layers only.")


def _window(axis: _Axis, kernel: int, stride: int, dilation: int, padding: str) -> _Axis:
    extent = dilation * (kernel - 1) + 1
    if padding == "same":
        length = -(-axis.length // stride)
        pad_before = max((length - 1) * stride + extent - axis.length, 0) // 2
    elif padding == "valid":
        length = (axis.length - extent) // stride + 1
        pad_before = 0
    else:
        raise UnknownLayerError(f"Unsupported padding {padding!r}.")
    return _Axis(size=axis.size + (extent - 1) * axis.stride, stride=axis.stride * stride,
                 offset=axis.offset + ((extent - 1) / 2 - pad_before) * axis.stride,
                 length=length)


def _shift(axis: _Axis, before: int, after: int, sign: int) -> _Axis:
    """Zero padding (sign -1) or cropping (sign +1) of ``before``/``after`` units."""
    return _Axis(size=axis.size, stride=axis.stride,
                 offset=axis.offset + sign * before * axis.stride,
                 length=axis.length - sign * (before + after))


def _union(layer, axes: Sequence[_Axis]) -> _Axis:
    strides = {a.stride for a in axes}
    lengths = {a.length for a in axes}
    if len(strides) != 1 or len(lengths) != 1:
        raise UnknownLayerError(
            f"Layer {layer.name!r} merges inputs with different strides or sizes "
            f"({sorted(strides)}, {sorted(lengths)}); their windows cannot be combined.")
    low = min(a.offset - (a.size - 1) / 2 for a in axes)
    high = max(a.offset + (a.size - 1) / 2 for a in axes)
    return _Axis(size=high - low + 1, stride=axes[0].stride, offset=(low + high) / 2,
                 length=axes[0].length)


def _apply(layer, inputs: list[tuple[_Axis, _Axis]], pointwise: frozenset[str]):
    """The (rows, cols) state of ``layer``'s output from its inputs' states."""
    kind = type(layer).__name__
    if kind in pointwise or layer.name in pointwise:
        if len(inputs) != 1:
            raise UnknownLayerError(f"Pointwise layer {layer.name!r} has {len(inputs)} inputs.")
        return inputs[0]
    if kind in MERGE_LAYERS:
        if kind == "Concatenate" and layer.axis not in CHANNEL_AXES:
            raise UnknownLayerError(
                f"Concatenate layer {layer.name!r} joins along axis {layer.axis}, not channels.")
        return tuple(_union(layer, [state[i] for state in inputs]) for i in range(SPATIAL_AXES))
    if len(inputs) != 1:
        raise UnknownLayerError(f"Layer {layer.name!r} ({kind}) has {len(inputs)} inputs.")
    (rows, cols), = inputs
    if kind in CONV_LAYERS or kind in POOL_LAYERS:
        _check_channels_last(layer)
        conv = kind in CONV_LAYERS
        kernel = _pair(layer.kernel_size if conv else layer.pool_size)
        strides = _pair(layer.strides)
        dilation = _pair(layer.dilation_rate) if conv else (1, 1)
        padding = layer.padding.lower()
        return tuple(_window(axis, kernel[i], strides[i], dilation[i], padding)
                     for i, axis in enumerate((rows, cols)))
    if kind in ("ZeroPadding2D", "Cropping2D"):
        _check_channels_last(layer)
        amounts = layer.padding if kind == "ZeroPadding2D" else layer.cropping
        sign = -1 if kind == "ZeroPadding2D" else 1
        return tuple(_shift(axis, *_pair(amounts[i]), sign) for i, axis in enumerate((rows, cols)))
    raise UnknownLayerError(
        f"No receptive-field rule for layer {layer.name!r} of type {kind}. Known: convolutions "
        f"{sorted(CONV_LAYERS)}, pools {sorted(POOL_LAYERS)}, ZeroPadding2D, Cropping2D, merges "
        f"{sorted(MERGE_LAYERS)} and pointwise layers {sorted(POINTWISE_LAYERS)}. If {kind} "
        "works on each position separately, pass pointwise=[...] with its class or layer name.")


def _walk(output, known: dict[int, tuple[_Axis, _Axis]], pointwise: frozenset[str]):
    """The state of the KerasTensor ``output``, with ``known`` seeded by the input states.

    Iterative depth-first walk (deep networks would overflow Python's recursion
    limit); each tensor is resolved once.
    """
    stack = [output]
    while stack:
        tensor = stack[-1]
        if id(tensor) in known:
            stack.pop()
            continue
        operation, node_index, _ = tensor._keras_history
        if isinstance(operation, keras.layers.InputLayer):
            raise UnknownLayerError(
                f"The layer depends on input {operation.name!r}, which is not the image input.")
        parents = list(operation._inbound_nodes[node_index].input_tensors)
        missing = [p for p in parents if id(p) not in known]
        if missing:
            stack.extend(missing)
            continue
        states = [known[id(p)] for p in parents]
        if isinstance(operation, keras.Model):
            known[id(tensor)] = _nested(operation, states, pointwise)
        else:
            known[id(tensor)] = _apply(operation, states, pointwise)
        stack.pop()
    return known[id(output)]


def _nested(model: keras.Model, states, pointwise: frozenset[str]):
    """A model used as a layer: walk its own graph from its input."""
    if len(states) != 1 or len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UnknownLayerError(
            f"Nested model {model.name!r} must have one input and one output.")
    return _walk(model.outputs[0], {id(model.inputs[0]): states[0]}, pointwise)


def receptive_field(model, layer: str, image_size: int | Sequence[int] = 224, *,
                    pointwise: Iterable[str] = ()) -> ReceptiveField:
    """The receptive field of the units of ``layer`` for square or (height, width) images.

    Args:
      model: a :class:`~lucid2.modelzoo.VisionModel` with a functional Keras graph.
      layer: the layer name; its output must be (N, H, W, C).
      image_size: the input size, which decides TensorFlow's "same" padding.
      pointwise: extra layer class names or layer names that act on each
        position separately (for example a custom normalization layer).

    Raises:
      UnknownLayerError: (a ValueError) when a layer on the way has no known
        rule (e.g. upsampling, transposed convolution, reshapes, Lambda).
    """
    model.check_layer(layer)
    height, width = _pair(image_size)
    inputs = model.keras_model.inputs
    if len(inputs) != 1:
        raise UnknownLayerError(f"Model {model.name!r} must have exactly one image input.")
    image = (_Axis(1.0, 1.0, 0.0, height), _Axis(1.0, 1.0, 0.0, width))
    rows, cols = _walk(model.get_layer(layer).output, {id(inputs[0]): image},
                       POINTWISE_LAYERS | frozenset(pointwise))
    return ReceptiveField(size=(rows.size, cols.size), stride=(rows.stride, cols.stride),
                          offset=(rows.offset, cols.offset))


def fallback_receptive_field(grid_shape: Sequence[int], image_shape: Sequence[int],
                             fraction: float) -> ReceptiveField:
    """An estimate for layers without known rules: ``fraction`` of the image, around each cell.

    The grid of units is spread evenly over the image, so unit (row, col) is
    centered on its cell.
    """
    strides = [image_shape[i] / grid_shape[i] for i in range(SPATIAL_AXES)]
    return ReceptiveField(
        size=_float_pair(max(1, round(fraction * image_shape[i])) for i in range(SPATIAL_AXES)),
        stride=_float_pair(strides), offset=_float_pair((s - 1) / 2 for s in strides),
        exact=False)
