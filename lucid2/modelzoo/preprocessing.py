"""A network's input convention as a value: :class:`Preprocessing`.

lucid2 always hands a model float32 RGB images in [0, 1]. What the network was
trained on differs: ``[-1, 1]`` (TensorFlow-style), ``0..255`` BGR minus the
ImageNet mean (Caffe-style), ``[0, 1]`` normalized by the ImageNet mean and
standard deviation (PyTorch-style), and so on. A :class:`Preprocessing` says
which, and :meth:`Preprocessing.apply` maps [0, 1] RGB images onto it inside
the graph, so that gradients flow back to the images being optimized.

The order of operations is fixed: reorder the channels (RGB -> BGR when
asked), scale [0, 1] linearly onto ``value_range``, subtract ``mean``, divide
by ``std``. ``mean`` and ``std`` are therefore in the network's channel order
and in ``value_range`` units.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import keras

CHANNEL_ORDERS = ("RGB", "BGR")
# The range lucid2's images live in; a convention maps it onto the network's.
UNIT_RANGE = (0.0, 1.0)
SIGNED_UNIT_RANGE = (-1.0, 1.0)
PIXEL_RANGE = (0.0, 255.0)
# ImageNet statistics of [0, 1] RGB pixels (torchvision's normalization).
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
# ImageNet mean of 0..255 pixels in BGR order, as the Caffe models subtract it.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# A mean or std holds one value for every channel, or one per channel.
STAT_LENGTHS = (1, 3)
# The package name PreprocessingLayer is registered under for saving and loading models.
KERAS_PACKAGE = "lucid2"
VALUE_RANGE_EXAMPLES = "(0, 1), (-1, 1), (0, 255) or (-117, 138)"


def validate_value_range(value_range: Sequence[float]) -> tuple[float, float]:
    """Checks a (low, high) pair of finite numbers with low < high."""
    if isinstance(value_range, (str, bytes)):
        raise ValueError(
            f"value_range must be a pair of numbers (low, high), got {value_range!r}.")
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"value_range must be a pair of numbers (low, high), got {value_range!r}.") from None
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ValueError(
            f"value_range must be two finite numbers with low < high, got {value_range!r} "
            f"(for example {VALUE_RANGE_EXAMPLES}).")
    return low, high


def check_channel_order(channel_order: Any) -> str:
    """``channel_order`` as "RGB" or "BGR" (any case), or a ValueError saying what is allowed."""
    order = channel_order.strip().upper() if isinstance(channel_order, str) else channel_order
    if order not in CHANNEL_ORDERS:
        raise ValueError(f"channel_order must be one of {CHANNEL_ORDERS}, got {channel_order!r}.")
    return order


def _check_stat(name: str, values: Any) -> tuple[float, ...] | None:
    """``mean`` or ``std`` as a tuple of 1 or 3 finite floats (None stays None)."""
    if values is None:
        return None
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{name} must be 1 or 3 numbers, got {values!r}.")
    try:
        numbers = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be 1 or 3 numbers (one per channel, in the network's channel order), "
            f"got {values!r}.") from None
    if len(numbers) not in STAT_LENGTHS:
        raise ValueError(
            f"{name} must have 1 or 3 values (one for all channels, or one per channel in the "
            f"network's channel order), got {len(numbers)}: {values!r}.")
    if not all(math.isfinite(v) for v in numbers):
        raise ValueError(f"{name} must hold finite numbers, got {values!r}.")
    return numbers


def _format_numbers(values: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """A network's input convention: [0, 1] RGB images -> what the network receives.

    Attributes:
      value_range: (low, high): [0, 1] is mapped linearly onto it.
      mean: None, or 1 or 3 values subtracted after scaling, in the network's
        channel order and ``value_range`` units.
      std: None, or 1 or 3 positive values dividing after the mean is subtracted,
        in the same order and units.
      channel_order: "RGB" or "BGR"; channels are reordered first.

    The fields are checked when the object is made: a ValueError says what was
    wrong (a range with low >= high, a mean or std of the wrong length, a
    non-finite number, a std with a zero or a negative value).
    """

    value_range: tuple[float, float] = UNIT_RANGE
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    channel_order: str = "RGB"

    def __post_init__(self) -> None:
        # Normalized in place (lists -> float tuples, "bgr" -> "BGR"), so that equal conventions
        # compare, hash and pickle equal however they were written.
        object.__setattr__(self, "value_range", validate_value_range(self.value_range))
        object.__setattr__(self, "mean", _check_stat("mean", self.mean))
        std = _check_stat("std", self.std)
        if std is not None and not all(v > 0 for v in std):
            raise ValueError(
                f"std must be positive (it divides the input), got {self.std!r}; drop std= "
                "when the network is not normalized by a standard deviation.")
        object.__setattr__(self, "std", std)
        object.__setattr__(self, "channel_order", check_channel_order(self.channel_order))

    @classmethod
    def named(cls, name: str) -> Preprocessing:
        """A named convention (any case): one of :data:`NAMED_CONVENTIONS`.

        * "unit": [0, 1] RGB, passed through unchanged;
        * "tf": [-1, 1] RGB (e.g. keras.applications MobileNetV2, Inception V3);
        * "caffe": BGR in 0..255 minus the ImageNet mean (103.939, 116.779, 123.68)
          (e.g. keras.applications ResNet50, VGG16);
        * "torch": [0, 1] RGB minus the ImageNet mean (0.485, 0.456, 0.406), divided
          by its std (0.229, 0.224, 0.225) (e.g. DenseNet, torchvision models);
        * "raw": 0..255 RGB (e.g. EfficientNet, ConvNeXt, which normalize themselves).
        """
        if not isinstance(name, str):
            raise TypeError(f"A convention's name must be a string, got {type(name).__name__}.")
        key = name.strip().lower()
        if key not in _NAMED:
            raise ValueError(
                f"Unknown preprocessing convention {name!r}; the named conventions are "
                f"{', '.join(NAMED_CONVENTIONS)} (or give a Preprocessing(value_range=..., "
                "mean=..., std=..., channel_order=...)).")
        return _NAMED[key]

    @property
    def is_identity(self) -> bool:
        """True when the network takes [0, 1] RGB images as they are."""
        return self == IDENTITY

    @property
    def name(self) -> str | None:
        """The name of this convention in :data:`NAMED_CONVENTIONS`, or None."""
        return next((key for key, value in _NAMED.items() if value == self), None)

    def apply(self, images: Any) -> Any:
        """Maps [0, 1] RGB ``images`` (..., 3) to what the network receives (float32).

        Works on tensors and on symbolic Keras tensors alike, and is differentiable.
        """
        x = keras.ops.cast(images, "float32")
        if self.channel_order == "BGR":
            x = keras.ops.flip(x, axis=-1)
        low, high = self.value_range
        if (low, high) != UNIT_RANGE:
            # The same arithmetic as keras.layers.Rescaling(scale, offset): x * scale + offset.
            x = x * (high - low) + low
        if self.mean is not None:
            x = x - keras.ops.convert_to_tensor(self.mean, dtype="float32")
        if self.std is not None:
            x = x / keras.ops.convert_to_tensor(self.std, dtype="float32")
        return x

    def describe(self) -> str:
        """One readable line, e.g. "BGR, [0, 1] -> [0, 255], minus mean (103.939, ...)"."""
        low, high = self.value_range
        parts = [self.channel_order, f"[0, 1] -> [{low:g}, {high:g}]"]
        if self.mean is not None:
            parts.append(f"minus mean {_format_numbers(self.mean)}")
        if self.std is not None:
            parts.append(f"divided by std {_format_numbers(self.std)}")
        text = ", ".join(parts)
        return f"{self.name}: {text}" if self.name else text


IDENTITY = Preprocessing()
_NAMED = {
    "unit": IDENTITY,
    "tf": Preprocessing(value_range=SIGNED_UNIT_RANGE),
    "caffe": Preprocessing(value_range=PIXEL_RANGE, mean=CAFFE_MEAN_BGR, channel_order="BGR"),
    "torch": Preprocessing(mean=IMAGENET_MEAN_RGB, std=IMAGENET_STD_RGB),
    "raw": Preprocessing(value_range=PIXEL_RANGE),
}
NAMED_CONVENTIONS: tuple[str, ...] = tuple(_NAMED)


def as_preprocessing(value: Preprocessing | str) -> Preprocessing:
    """A :class:`Preprocessing`, or a named convention's (ValueError for unknown names)."""
    if isinstance(value, Preprocessing):
        return value
    if isinstance(value, str):
        return Preprocessing.named(value)
    raise TypeError(
        f"preprocessing must be a lucid2.modelzoo.Preprocessing or one of the names "
        f"{', '.join(NAMED_CONVENTIONS)}, got {type(value).__name__}.")


def resolve_preprocessing(preprocessing: Preprocessing | str | None = None, *,
                          value_range: Sequence[float] | None = None,
                          channel_order: str | None = None, required: bool = False,
                          what: str = "the model") -> Preprocessing:
    """The convention a caller gave, either as ``preprocessing`` or as its shorthands.

    ``value_range`` and ``channel_order`` are shorthands for
    ``Preprocessing(value_range, channel_order=...)``; giving them together with
    ``preprocessing`` is a ValueError. When nothing is given, ``required``
    decides: a ValueError asking for the range, or [0, 1] RGB.
    """
    if preprocessing is not None:
        given = [name for name, value in (("value_range", value_range),
                                          ("channel_order", channel_order)) if value is not None]
        if given:
            raise ValueError(
                f"{what}: give either preprocessing= or value_range=/channel_order=, not both "
                f"(got preprocessing={preprocessing!r} and {', '.join(given)}); a Preprocessing "
                "holds its own value range and channel order.")
        return as_preprocessing(preprocessing)
    if value_range is None:
        if required:
            raise ValueError(
                f"{what}: value_range is required: give the (low, high) pixel range the network "
                f"was trained on, for example {VALUE_RANGE_EXAMPLES}, or its whole input "
                f"convention as preprocessing= (a Preprocessing, or one of "
                f"{', '.join(NAMED_CONVENTIONS)}). lucid2 feeds [0, 1] RGB images and maps them "
                "onto it; a wrong range silently spoils every visualization.")
        value_range = UNIT_RANGE
    return Preprocessing(value_range=validate_value_range(value_range),
                         channel_order="RGB" if channel_order is None else channel_order)


@keras.saving.register_keras_serializable(package=KERAS_PACKAGE)
class PreprocessingLayer(keras.layers.Layer):
    """A Keras layer applying a :class:`Preprocessing` (the first layer of every submodel).

    It has no weights; it saves and loads with the model (``get_config``).
    """

    def __init__(self, preprocessing: Preprocessing | str, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.preprocessing = as_preprocessing(preprocessing)

    def call(self, images):
        return self.preprocessing.apply(images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        convention = dataclasses.asdict(self.preprocessing)
        return {**super().get_config(), "preprocessing": convention}

    @classmethod
    def from_config(cls, config: dict) -> PreprocessingLayer:
        convention = Preprocessing(**config.pop("preprocessing"))
        return cls(convention, **config)
