"""The ``keras.applications`` models by name, each with its input convention, labels and layers.

``keras_application("ResNet50")`` builds Keras's ResNet50 (``weights`` go to Keras, which
downloads and caches them itself) and wraps it in a :class:`KerasApplication`: a
:class:`~lucid2.modelzoo.base.VisionModel` that knows

* the input convention the family's own ``preprocess_input`` implements, as a
  :class:`~lucid2.modelzoo.preprocessing.Preprocessing` (Caffe-style BGR minus the ImageNet
  mean for VGG and ResNet, [-1, 1] for the Inception, Xception, MobileNet V1/V2, NASNet and
  ResNetV2 families, the ImageNet mean and std for DenseNet). EfficientNet, EfficientNetV2,
  ConvNeXt and MobileNetV3 normalize inside the model (their ``preprocess_input`` does
  nothing): they take 0..255 RGB pixels;
* the layers worth visualizing (:meth:`KerasApplication.block_layers`): the block outputs,
  found by one rule on the layer names per family;
* the logits layer, when the classifier is built (with ``classifier_activation=None``, so
  that the last layer gives logits);
* the 1000 ImageNet class names in Keras's order (:attr:`KerasApplication.labels`), fetched
  on first use with ``keras.utils.get_file`` into Keras's cache, as Keras's own
  ``decode_predictions`` does.

:data:`KERAS_APPLICATIONS` names every constructor accepted, :data:`KERAS_FAMILIES` the
families. RegNet and ResNet-RS, which Keras 2 shipped, are not in Keras 3's
``keras.applications`` and so are not here.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import json
import os
import re
import warnings
from typing import Any, Sequence

import keras

from lucid2.modelzoo.base import LayerInfo, VisionModel
from lucid2.modelzoo.preprocessing import Preprocessing

# Keras's ImageNet class index (keras.applications.imagenet_utils.decode_predictions): the
# same URL, file name, cache folder and MD5 hash, so that one download serves both.
IMAGENET_CLASS_INDEX_URL = ("https://storage.googleapis.com/download.tensorflow.org/"
                            "data/imagenet_class_index.json")
IMAGENET_CLASS_INDEX_FILE = "imagenet_class_index.json"
IMAGENET_CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"
KERAS_CACHE_SUBDIR = "models"
IMAGENET_CLASSES = 1000
IMAGENET_WEIGHTS = "imagenet"
# An index entry is [WordNet id, class name].
CLASS_INDEX_ENTRY_LENGTH = 2
# Layers worth visualizing are image-shaped: (N, H, W, C).
FEATURE_MAP_RANK = 4
LOGITS_RANK = 2
IMAGE_CHANNELS = 3
# Keras builds the normalization into these models unless told not to; lucid2 keeps it.
IN_MODEL_PREPROCESSING_ARG = "include_preprocessing"
CLASSIFIER_ACTIVATION_ARG = "classifier_activation"
# Arguments keras_application sets itself.
OWN_ARGS = ("weights", "include_top", "input_shape")
CLOSE_MATCHES = 5
CLOSE_MATCH_CUTOFF = 0.6


class LabelsUnavailableError(OSError):
    """Keras's ImageNet class index could not be downloaded or read."""


@dataclasses.dataclass(frozen=True)
class KerasFamily:
    """keras.applications constructors that share an input convention and layer names.

    Attributes:
      name: the family, e.g. "resnet".
      variants: (constructor name, keras.applications module holding its
        ``preprocess_input``) pairs, smallest model first.
      convention: the named :class:`Preprocessing` the family's ``preprocess_input``
        implements ("caffe", "tf", "torch"), or "raw" (0..255 RGB) where Keras
        normalizes inside the model.
      in_model: True when Keras normalizes inside the model and ``preprocess_input``
        returns its input unchanged.
      block_pattern: a regular expression matched against whole layer names; the
        matches are the block outputs. Where it has a group named ``block``, only
        the last matching layer of each block (in graph order) is kept: the add
        that follows a projection, say.
      blocks: what :meth:`KerasApplication.block_layers` lists, in words.
    """

    name: str
    variants: tuple[tuple[str, str], ...]
    convention: str
    in_model: bool
    block_pattern: str
    blocks: str

    @property
    def preprocessing(self) -> Preprocessing:
        """The family's input convention as a :class:`Preprocessing`."""
        return Preprocessing.named(self.convention)

    @property
    def smallest(self) -> str:
        """The family's smallest constructor name."""
        return self.variants[0][0]

    def module(self, application: str) -> str:
        """The ``keras.applications`` module with ``application``'s ``preprocess_input``."""
        return dict(self.variants)[application]


def _same_module(module: str, *names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, module) for name in names)


_EFFICIENTNET_BLOCKS = r"(?P<block>block\d+[a-z])_(project_bn|add)|top_activation"
_FAMILIES = (
    KerasFamily("vgg", (("VGG16", "vgg16"), ("VGG19", "vgg19")), "caffe", False,
                r"block\d+_conv\d+", "every convolution (blockN_convM, after its ReLU)"),
    KerasFamily("resnet", _same_module("resnet", "ResNet50", "ResNet101", "ResNet152"),
                "caffe", False, r"conv\d+_block\d+_out",
                "every residual block's output (convN_blockM_out)"),
    KerasFamily("resnet_v2",
                _same_module("resnet_v2", "ResNet50V2", "ResNet101V2", "ResNet152V2"),
                "tf", False, r"conv\d+_block\d+_out|post_relu",
                "every residual block's output (convN_blockM_out) and post_relu"),
    KerasFamily("inception_v3", _same_module("inception_v3", "InceptionV3"), "tf", False,
                r"mixed\d+", "every Inception module's output (mixed0 .. mixed10)"),
    KerasFamily("inception_resnet_v2",
                _same_module("inception_resnet_v2", "InceptionResNetV2"), "tf", False,
                r"mixed_\d+[a-z]|block(35|17|8)_\d+_ac|conv_7b_ac",
                "the mixed_* modules, every residual block's output (blockK_N_ac) and "
                "conv_7b_ac"),
    KerasFamily("xception", _same_module("xception", "Xception"), "tf", False,
                r"block1_conv2_act|block\d+_sepconv1_act|block14_sepconv2_act",
                "the ReLU opening each block, i.e. the previous block's output "
                "(blockN_sepconv1_act; Keras leaves the residual adds unnamed), and the "
                "exit flow's activations (block14_sepconv1_act, block14_sepconv2_act)"),
    KerasFamily("mobilenet", _same_module("mobilenet", "MobileNet"), "tf", False,
                r"conv_pw_\d+_relu", "every depthwise-separable block's output (conv_pw_N_relu)"),
    KerasFamily("mobilenet_v2", _same_module("mobilenet_v2", "MobileNetV2"), "tf", False,
                r"(?P<block>expanded_conv|block_\d+)_(project_BN|add)|out_relu",
                "every inverted-residual block's output (block_N_add, or block_N_project_BN "
                "where there is no residual) and out_relu"),
    KerasFamily("mobilenet_v3",
                _same_module("mobilenet_v3", "MobileNetV3Small", "MobileNetV3Large"),
                "raw", True, r"(?P<block>expanded_conv(_\d+)?)_(project_bn|add)",
                "every inverted-residual block's output (expanded_conv_N_add, or "
                "expanded_conv_N_project_bn where there is no residual)"),
    KerasFamily("densenet", _same_module("densenet", "DenseNet121", "DenseNet169",
                                         "DenseNet201"),
                "torch", False, r"(?P<block>conv\d+)_block\d+_concat|pool\d+_pool|relu",
                "every dense block's output (its last convN_blockM_concat), every transition's "
                "output (poolN_pool) and the final relu"),
    KerasFamily("nasnet", _same_module("nasnet", "NASNetMobile", "NASNetLarge"), "tf", False,
                r"(normal|reduction)_concat_\w+",
                "every normal and reduction cell's output (normal_concat_N, "
                "reduction_concat_*)"),
    KerasFamily("efficientnet", _same_module("efficientnet", *(f"EfficientNetB{i}"
                                                                for i in range(8))),
                "raw", True, _EFFICIENTNET_BLOCKS,
                "every MBConv block's output (blockNx_add, or blockNx_project_bn where there "
                "is no residual) and top_activation"),
    KerasFamily("efficientnet_v2",
                _same_module("efficientnet_v2", "EfficientNetV2B0", "EfficientNetV2B1",
                             "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2S",
                             "EfficientNetV2M", "EfficientNetV2L"),
                "raw", True, _EFFICIENTNET_BLOCKS,
                "every (fused) MBConv block's output (blockNx_add, or blockNx_project_bn where "
                "there is no residual) and top_activation"),
    KerasFamily("convnext", _same_module("convnext", "ConvNeXtTiny", "ConvNeXtSmall",
                                         "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge"),
                "raw", True,
                r".+_(stem|downsampling_block_\d+|stage_\d+_block_\d+_(identity|stochastic_depth))",
                "the stem and each downsampling block (the stream entering each stage) and "
                "every block's residual branch (..._stage_S_block_B_identity); Keras adds the "
                "branch to the stream with an operation that is no layer, so the stream "
                "inside a stage has no name"),
)
KERAS_FAMILIES: dict[str, KerasFamily] = {family.name: family for family in _FAMILIES}
_FAMILY_OF = {name: family for family in _FAMILIES for name, _ in family.variants}
KERAS_APPLICATIONS: tuple[str, ...] = tuple(_FAMILY_OF)
# Names are accepted in any case ("resnet50"); none of them differ in case only.
_BY_LOWER = {name.lower(): name for name in KERAS_APPLICATIONS}


def application_name(name: str) -> str:
    """The constructor name ``name`` stands for (any case), or a ValueError with close matches."""
    if not isinstance(name, str):
        raise TypeError(f"A keras.applications name must be a string, got {type(name).__name__}.")
    key = name.strip()
    if key.lower() in _BY_LOWER:
        return _BY_LOWER[key.lower()]
    close = difflib.get_close_matches(key.lower(), list(_BY_LOWER), n=CLOSE_MATCHES,
                                      cutoff=CLOSE_MATCH_CUTOFF)
    hint = f" Did you mean: {', '.join(_BY_LOWER[c] for c in close)}?" if close else ""
    raise ValueError(
        f"Unknown keras.applications model {name!r}.{hint} The names are listed in "
        "lucid2.modelzoo.keras_applications.KERAS_APPLICATIONS (e.g. ResNet50, "
        "EfficientNetB0, ConvNeXtTiny).")


def family_of(name: str) -> KerasFamily:
    """The :class:`KerasFamily` of a constructor name (any case)."""
    return _FAMILY_OF[application_name(name)]


def block_layer_names(family: KerasFamily | str, layer_names: Sequence[str]) -> list[str]:
    """The names among ``layer_names`` (in graph order) that ``family``'s rule picks."""
    if isinstance(family, str):
        if family not in KERAS_FAMILIES:
            raise ValueError(f"Unknown family {family!r}; the families are "
                             f"{', '.join(KERAS_FAMILIES)}.")
        family = KERAS_FAMILIES[family]
    pattern = re.compile(family.block_pattern)
    picked: dict[str, str] = {}  # block key -> its last matching layer
    for name in layer_names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        block = match.groupdict().get("block")
        # Layers outside a keyed block are their own key (names are unique).
        key = f"block:{block}" if block is not None else f"layer:{name}"
        picked.pop(key, None)  # re-inserted: the order follows the kept layer
        picked[key] = name
    return list(picked.values())


# ------------------------------------------------------------------ labels
def parse_class_index(path: str | os.PathLike) -> list[str]:
    """Class names from a Keras class index file (``{"0": [wnid, name], ...}``), in index order.

    Underscores in names become spaces ("great_white_shark" -> "great white shark"), so
    that class objectives find classes by their ordinary names.

    Raises:
      LabelsUnavailableError: when the file cannot be read or is not such an index.
    """
    try:
        with open(path, encoding="utf-8") as file:
            index = json.load(file)
    except (OSError, ValueError) as error:
        raise LabelsUnavailableError(f"Cannot read the class index {os.fspath(path)!r}: "
                                     f"{error}") from error
    expected = [str(i) for i in range(len(index))] if isinstance(index, dict) else None
    if not index or expected is None or sorted(index, key=_index_key) != expected:
        raise LabelsUnavailableError(
            f"{os.fspath(path)!r} is not a class index: expected a JSON object with the keys "
            '"0" .. "N-1", each mapped to [WordNet id, class name].')
    names = []
    for key in expected:
        entry = index[key]
        if (not isinstance(entry, list) or len(entry) != CLASS_INDEX_ENTRY_LENGTH
                or not all(isinstance(part, str) for part in entry)):
            raise LabelsUnavailableError(
                f"Entry {key!r} of the class index {os.fspath(path)!r} is {entry!r}; expected "
                "[WordNet id, class name].")
        names.append(entry[1].replace("_", " "))
    return names


def _index_key(key: Any) -> tuple[int, str]:
    text = str(key)
    return (int(text), text) if text.isdigit() else (-1, text)


def imagenet_labels(cache_dir: str | os.PathLike | None = None) -> list[str]:
    """The 1000 ImageNet class names in the order of Keras's classifiers.

    Downloads Keras's ``imagenet_class_index.json`` with ``keras.utils.get_file`` (checked
    against its MD5 hash) into Keras's cache (``~/.keras/models``, or ``$KERAS_HOME``, or
    ``cache_dir``) the first time; later calls read the cached file without the network.
    To use it offline, copy the file there.

    Raises:
      LabelsUnavailableError: when the file can be neither found in the cache nor
        downloaded, or is not a 1000-class index.
    """
    try:
        path = keras.utils.get_file(
            IMAGENET_CLASS_INDEX_FILE, IMAGENET_CLASS_INDEX_URL, cache_subdir=KERAS_CACHE_SUBDIR,
            file_hash=IMAGENET_CLASS_INDEX_MD5,
            cache_dir=None if cache_dir is None else os.fspath(cache_dir))
    # Keras reports a failed download as a bare Exception (and a bad hash as a ValueError).
    except Exception as error:
        raise LabelsUnavailableError(
            f"Cannot get Keras's ImageNet class names from {IMAGENET_CLASS_INDEX_URL} "
            f"({error}). Without a network, copy {IMAGENET_CLASS_INDEX_FILE} into Keras's cache "
            f"(~/.keras/{KERAS_CACHE_SUBDIR}/, or $KERAS_HOME/{KERAS_CACHE_SUBDIR}/).") from error
    names = parse_class_index(path)
    if len(names) != IMAGENET_CLASSES:
        raise LabelsUnavailableError(
            f"{path!r} holds {len(names)} classes, not the {IMAGENET_CLASSES} of ImageNet.")
    return names


# ------------------------------------------------------------------- model
def _logits_layer(keras_model: keras.Model) -> str | None:
    """The last layer when it gives logits: a (N, classes) output with a linear activation."""
    last = keras_model.layers[-1]
    try:
        rank = len(last.output.shape)
    except (AttributeError, ValueError):
        return None
    if rank == LOGITS_RANK and getattr(last, "activation", None) is keras.activations.linear:
        return last.name
    return None


def _has_imagenet_head(keras_model: keras.Model, weights: str | None) -> bool:
    if weights != IMAGENET_WEIGHTS:
        return False
    if not keras_model.outputs:
        return False
    shape = tuple(keras_model.outputs[0].shape)
    return len(shape) == LOGITS_RANK and shape[-1] == IMAGENET_CLASSES


class KerasApplication(VisionModel):
    """A ``keras.applications`` model with its family's input convention, labels and layers.

    Made by :func:`keras_application`; wrapping a model built with the Keras
    constructor directly works too: ``KerasApplication(keras.applications.ResNet50(),
    "ResNet50", weights="imagenet")``.

    Args:
      keras_model: the model the ``keras.applications`` constructor returned.
      application: its constructor name (any case), e.g. "ResNet50".
      weights: what the model was built with ("imagenet", a weights file, or None);
        the ImageNet labels are offered for "imagenet" with a 1000-class head.
      name: a display name (default: the constructor name).

    Attributes:
      application: the constructor name, e.g. "ResNet50".
      family: the family, e.g. "resnet" (a key of :data:`KERAS_FAMILIES`).
      weights: as given.
      logits_layer: the last layer when it gives (N, classes) logits (the
        classifier built with ``classifier_activation=None``), else None.
    """

    def __init__(self, keras_model: keras.Model, application: str, *,
                 weights: str | None = None, name: str | None = None):
        self.application = application_name(application)
        family = _FAMILY_OF[self.application]
        self.family = family.name
        self.weights = weights
        if not isinstance(keras_model, keras.Model):
            raise TypeError(f"keras_model must be a keras.Model, got {type(keras_model).__name__}.")
        self._imagenet_head = _has_imagenet_head(keras_model, weights)
        self._labels_failed = False
        self._labels: list[str] | None = None
        super().__init__(keras_model, preprocessing=family.preprocessing,
                         logits_layer=_logits_layer(keras_model), name=name or self.application)

    @property
    def labels(self) -> list[str] | None:
        """The class names, or None.

        With ImageNet weights and the 1000-class head, Keras's ImageNet class
        names, fetched on first access (see :func:`imagenet_labels`). When they
        cannot be fetched (offline, say) this warns once and gives None, as for a
        model without labels; :meth:`load_labels` raises instead, and retries.
        """
        if self._labels is None and self._imagenet_head and not self._labels_failed:
            try:
                return self.load_labels()
            except LabelsUnavailableError as error:
                self._labels_failed = True
                warnings.warn(f"{self.name} has no labels: {error}", stacklevel=2)
        return self._labels

    @labels.setter
    def labels(self, value: Sequence[str] | None) -> None:
        self._labels = None if value is None else list(value)

    def load_labels(self) -> list[str]:
        """Fetches the ImageNet class names now (or returns the labels already known).

        Raises:
          LabelsUnavailableError: when they cannot be fetched, or the model has no
            ImageNet classifier (other weights, no top, or another class count).
        """
        if self._labels is not None:
            return self._labels
        if not self._imagenet_head:
            raise LabelsUnavailableError(
                f"{self.name} has no ImageNet classifier to name (weights={self.weights!r}, "
                f"output shape {tuple(self.keras_model.outputs[0].shape)}): the ImageNet labels "
                f"go with weights='imagenet' and include_top=True.")
        self._labels = imagenet_labels()
        self._labels_failed = False
        return self._labels

    def block_layers(self) -> list[LayerInfo]:
        """The layers worth visualizing (the family's block outputs), with channel counts.

        In graph order; only image-shaped (N, H, W, C) layers. See
        ``KERAS_FAMILIES[model.family].blocks`` for what they are.
        """
        names = block_layer_names(KERAS_FAMILIES[self.family], self.layer_names())
        return [self.layer_info(name) for name in names
                if len(self.get_layer(name).output.shape) == FEATURE_MAP_RANK]

    @property
    def main_layers(self) -> tuple[str, ...]:
        """The names of :meth:`block_layers`: what the appendix renders by default."""
        return tuple(info.name for info in self.block_layers())

    def __repr__(self) -> str:
        return (f"KerasApplication({self.application!r}, family={self.family!r}, "
                f"weights={self.weights!r}, preprocessing={self.preprocessing.describe()!r})")


def _check_input_shape(input_shape: Any) -> tuple[int | None, int | None, int] | None:
    if input_shape is None:
        return None
    if isinstance(input_shape, (str, bytes)):
        raise TypeError(f"input_shape must be (height, width, 3), got {input_shape!r}.")
    try:
        height, width, channels = input_shape
    except (TypeError, ValueError):
        raise ValueError(f"input_shape must be (height, width, 3), got {input_shape!r}.") from None
    for value in (height, width):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value <= 0):
            raise ValueError(f"input_shape must be (height, width, 3) with positive ints (or "
                             f"None) for height and width, got {input_shape!r}.")
    if channels != IMAGE_CHANNELS:
        raise ValueError(f"input_shape must end with 3 channels (RGB), got {input_shape!r}.")
    return height, width, channels


def keras_application(name: str, weights: str | None = IMAGENET_WEIGHTS, *,
                      include_top: bool = True,
                      input_shape: tuple[int | None, int | None, int] | None = None,
                      **kwargs: Any) -> KerasApplication:
    """Builds the ``keras.applications`` model ``name`` (e.g. "ResNet50") for lucid2.

    Args:
      name: a constructor name from :data:`KERAS_APPLICATIONS` (any case).
      weights: passed to Keras: "imagenet" (downloaded and cached by Keras), the path
        of a weights file, or None for random initialization.
      include_top: build the classifier. It is built with ``classifier_activation=None``
        (unless given), so that its last layer gives logits: ``model.logits_layer``.
      input_shape: (height, width, 3); Keras's default when None (which for the
        classifier, or for NASNet, is the family's fixed training size).
      **kwargs: other arguments of the Keras constructor (``pooling``, ``classes``,
        ``alpha``, ...). ``include_preprocessing=False`` is refused: lucid2 keeps the
        normalization Keras builds into EfficientNetV2, ConvNeXt and MobileNetV3.

    Returns:
      A :class:`KerasApplication` taking [0, 1] RGB images.

    Raises:
      ValueError / TypeError: for an unknown name (with close matches), an argument the
        constructor does not take, or a malformed ``input_shape``, before anything is
        built.
    """
    application = application_name(name)
    if weights is not None and not isinstance(weights, str):
        raise TypeError(f"weights must be 'imagenet', a weights file path or None, got "
                        f"{type(weights).__name__}.")
    if not isinstance(include_top, bool):
        raise TypeError(f"include_top must be True or False, got {include_top!r}.")
    input_shape = _check_input_shape(input_shape)
    constructor = getattr(keras.applications, application)
    accepted = inspect.signature(constructor).parameters
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        allowed = sorted(set(accepted) - set(OWN_ARGS))
        raise ValueError(f"keras.applications.{application} takes no argument(s) "
                         f"{', '.join(unknown)} here; it takes {', '.join(allowed)} (and "
                         "weights, include_top, input_shape, which keras_application names).")
    if kwargs.get(IN_MODEL_PREPROCESSING_ARG, True) is not True:
        raise ValueError(
            f"{IN_MODEL_PREPROCESSING_ARG}=False is not supported: lucid2 feeds [0, 1] images "
            f"mapped to 0..255, and {application} normalizes them itself. To feed another "
            "convention, build the model yourself and wrap it with "
            "lucid2.modelzoo.from_keras(model, preprocessing=...).")
    if include_top and CLASSIFIER_ACTIVATION_ARG in accepted:
        kwargs.setdefault(CLASSIFIER_ACTIVATION_ARG, None)
    keras_model = constructor(weights=weights, include_top=include_top, input_shape=input_shape,
                              **kwargs)
    return KerasApplication(keras_model, application, weights=weights)
