"""Bring your own model: wrap Keras models, Keras files, SavedModels and TF-Hub modules.

Every loader returns a :class:`~lucid2.modelzoo.base.VisionModel`, so a user's
network gets the same interface as InceptionV1: ``layer_names()``,
``get_layer``, ``layer_info``, ``layers()``, ``layers_table(input_size)``,
``submodel(names)`` (from [0, 1] RGB images), ``output_shape`` and
``predict``.

The caller must always say what input the network was trained on: its whole
convention as ``preprocessing`` (a :class:`~lucid2.modelzoo.preprocessing.Preprocessing`
with value range, mean, std and channel order, or a named one such as "tf",
"caffe" or "torch"), or the shorthands ``value_range`` and ``channel_order``.
lucid2 feeds [0, 1] RGB images and maps them onto that convention in one place,
inside the graph. A wrong range is the classic way to get meaningless
visualizations, so there is no default. Models whose convention is known
(InceptionV1, ``"keras:NAME"`` applications) take none.

What each source gives:

* a functional or Sequential ``keras.Model`` (:func:`from_keras`), or a
  ``.keras`` / ``.h5`` file: every layer, by its Keras name. Layers of a model
  nested inside another model are reached only through the nested model: wrap
  the inner model itself to reach them.
* a subclassed ``keras.Model``: whole-model prediction only; asking for an
  intermediate layer raises a ValueError saying why.
* a plain TensorFlow SavedModel (:func:`load_saved_model`): Keras 3 cannot
  rebuild layers from a SavedModel's graph, so the layers are the *outputs of
  the serving signature* (one layer per named output, e.g. ``logits``). Inner
  activations are reachable only when the signature exports them as outputs;
  asking for another layer raises a ValueError listing the outputs and saying
  how to export a model whose inner layers are reachable.
  A directory that holds a ``.keras`` file is loaded from that file instead,
  with all its layers.
* a TF-Hub handle or local hub-format SavedModel (:func:`load_hub`): loaded
  with ``tensorflow_hub.load`` (not ``hub.KerasLayer``, which is built on
  Keras 2) and called through the module's ``__call__`` (or a signature); the
  layers are the module's outputs, a dict output giving one layer per key.

:func:`load` picks the right one of these for a name, object, path or handle.
"""

from __future__ import annotations

import difflib
import inspect
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import keras
import tensorflow as tf

from lucid2.modelzoo.base import VisionModel
from lucid2.modelzoo.hub import REMOTE_PREFIXES, restore_hub_module
from lucid2.modelzoo.inceptionv1 import InceptionV1
from lucid2.modelzoo.keras_applications import keras_application
from lucid2.modelzoo.model_files import (KERAS_FILE_SUFFIXES, KERAS_ZIP_SUFFIX,
                                         SAVED_MODEL_FILES, load_keras_file, not_a_model_directory,
                                         restore_saved_model)
from lucid2.modelzoo.preprocessing import Preprocessing, check_channel_order, resolve_preprocessing

DEFAULT_WEIGHTS = "imagenet"  # what load() gives InceptionV1 unless told otherwise
# A TF1 Hub module directory carries this file next to its saved_model.pb.
TF1_HUB_MODULE_FILE = "tfhub_module.pb"
INCEPTIONV1_NAMES = ("inceptionv1", "inception_v1", "googlenet")
# "keras:ResNet50" names a keras.applications model (lucid2.modelzoo.keras_applications).
KERAS_APPLICATION_PREFIX = "keras:"
IMAGE_RANK = 4
IMAGE_CHANNELS = 3
# When a restored model returns several outputs and the caller names none,
# the first of these keys that exists is the model's prediction; "default" is
# the TF1 Hub convention, "output_0" what Keras' model.export produces.
PREFERRED_OUTPUT_KEYS = ("default", "logits", "predictions", "probabilities", "output_0", "output")
# Key given to a restored function's output when it returns a bare tensor.
SINGLE_OUTPUT_KEY = "output"
INPUT_LAYER_NAME = "images"
SERVING_SIGNATURE = "serving_default"
TF1_HUB_SIGNATURE = "default"
CALL_ENDPOINT = "__call__"
KIND_SAVED_MODEL = "SavedModel"
KIND_HUB = "TF-Hub module"
# Close matches suggested for a misspelled output name.
MAX_SUGGESTIONS = 5
SUGGESTION_CUTOFF = 0.6

ACCEPTED_MODELS = (
    "'inceptionv1', 'keras:NAME' (a keras.applications model such as keras:ResNet50), a "
    "keras.Model, a path to a .keras/.h5 file or a SavedModel directory, "
    "or a TF-Hub handle such as https://tfhub.dev/... or https://www.kaggle.com/models/...")


# ---------------------------------------------------------------- validation
def _required_preprocessing(preprocessing, value_range, channel_order, what: str) -> Preprocessing:
    """The caller's input convention; a ValueError when none is given (there is no default)."""
    return resolve_preprocessing(preprocessing, value_range=value_range,
                                 channel_order=channel_order, required=True, what=what)


def keras_application_name(model: object) -> str | None:
    """NAME for a "keras:NAME" string (the prefix in any case), else None."""
    if not isinstance(model, str):
        return None
    text = model.strip()
    if not text.lower().startswith(KERAS_APPLICATION_PREFIX):
        return None
    name = text[len(KERAS_APPLICATION_PREFIX):].strip()
    if not name:
        raise ValueError(
            f"{model!r} names no Keras application: write keras:NAME with NAME a "
            "keras.applications constructor, e.g. keras:ResNet50.")
    return name


def _check_input_size(input_size) -> tuple[int, int] | None:
    if input_size is None:
        return None
    size = (input_size, input_size) if isinstance(input_size, int) else input_size
    try:
        height, width = size
    except (TypeError, ValueError):
        raise ValueError(
            f"input_size must be an int or a (height, width) pair, got {input_size!r}.") from None
    for value in (height, width):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(
                f"input_size must hold positive ints (height, width), got {input_size!r}.")
    return height, width


def _keras_name(text: str) -> str:
    """``text`` made into a valid Keras layer/model name (no '/', no spaces)."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", text).strip("_.")
    return name or "model"


# --------------------------------------------------------------- Keras models
def from_keras(model: keras.Model, *, value_range: Sequence[float] | None = None,
               channel_order: str | None = None,
               preprocessing: Preprocessing | str | None = None,
               labels: Sequence[str] | None = None, logits_layer: str | None = None,
               name: str | None = None) -> VisionModel:
    """Wraps a Keras 3 model taking images (N, H, W, 3) as a :class:`VisionModel`.

    Args:
      model: a functional or Sequential ``keras.Model`` with one image input.
        A subclassed model is accepted too, but only whole-model prediction
        works: its intermediate layers have no graph to cut at.
      value_range: the (low, high) pixel range the model was trained on, e.g.
        (-1, 1) for ``keras.applications.MobileNetV2``. Required unless
        ``preprocessing`` is given.
      channel_order: "RGB" (default) or "BGR" (e.g. Caffe-style ResNet50 / VGG16).
      preprocessing: the whole input convention instead of ``value_range`` and
        ``channel_order``: a :class:`~lucid2.modelzoo.preprocessing.Preprocessing`
        (value range, mean, std, channel order) or a named one ("unit", "tf",
        "caffe", "torch", "raw").
      labels: optional class names, one per output unit.
      logits_layer: name of the layer giving class logits.
      name: a display name (default: the Keras model's name).
    """
    if isinstance(model, VisionModel):
        raise TypeError("model is already a lucid2 VisionModel; use it directly.")
    if not isinstance(model, keras.Model):
        raise _not_keras3(model)
    convention = _required_preprocessing(preprocessing, value_range, channel_order, "from_keras")
    _check_image_input(model)
    return VisionModel(model, preprocessing=convention, labels=labels, logits_layer=logits_layer,
                       name=name)


def _not_keras3(model: object) -> TypeError:
    """The error for a model that is not a Keras 3 one, with the way for Keras 2 models."""
    return TypeError(
        f"from_keras needs a Keras 3 keras.Model, got {type(model).__module__}."
        f"{type(model).__name__}. For a tf_keras (Keras 2) model, save it as a SavedModel and "
        "use lucid2.modelzoo.load_saved_model.")


def _check_image_input(model: keras.Model) -> None:
    """Raises a ValueError unless the model's graph has one (N, H, W, 3) input."""
    if isinstance(model, keras.Sequential):
        try:
            _ = model.inputs  # raises until the model knows its input shape
        except (AttributeError, ValueError):
            raise ValueError(
                f"Sequential model {model.name!r} has no input shape yet: start it with "
                "keras.Input(shape=(height, width, 3)) or call model.build((None, height, width, "
                "3)) first.") from None
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return  # subclassed: no graph, so nothing to check before calling it
    if not inputs:
        return
    if len(inputs) != 1:
        raise ValueError(
            f"Model {model.name!r} has {len(inputs)} inputs; lucid2 needs exactly one image input.")
    shape = tuple(inputs[0].shape)
    if len(shape) != IMAGE_RANK or shape[-1] not in (IMAGE_CHANNELS, None):
        raise ValueError(
            f"Model {model.name!r} takes inputs of shape {shape}; lucid2 needs images "
            f"(batch, height, width, {IMAGE_CHANNELS}) with channels last.")


def _load_keras_file(path: str, *, preprocessing: Preprocessing, labels, logits_layer, name,
                     custom_objects) -> VisionModel:
    model = load_keras_file(path, custom_objects)
    return from_keras(model, preprocessing=preprocessing, labels=labels,
                      logits_layer=logits_layer, name=name)


# ------------------------------------------------------- restored TF functions
@dataclass
class _Endpoint:
    """A restored TensorFlow function taking one image tensor."""

    function: Callable
    description: str
    input_keyword: str | None = None  # signatures take their input by name
    input_dtype: tf.DType = tf.float32
    spatial_size: tuple[int, int] | None = None
    pass_training: bool = False
    # The restored object owns the variables the function reads: keep it alive.
    owner: Any = field(default=None, repr=False)

    def __call__(self, images):
        kwargs = {"training": False} if self.pass_training else {}
        if self.input_keyword is not None:
            return self.function(**{self.input_keyword: images}, **kwargs)
        return self.function(images, **kwargs)


def _check_image_spec(spec, description: str) -> None:
    if not isinstance(spec, tf.TensorSpec):
        raise ValueError(f"{description} takes {spec!r}; lucid2 needs one image tensor input.")
    shape = spec.shape
    if shape.rank is not None and (shape.rank != IMAGE_RANK
                                   or shape[-1] not in (IMAGE_CHANNELS, None)):
        raise ValueError(
            f"{description} takes inputs of shape {shape}; lucid2 needs images "
            f"(batch, height, width, {IMAGE_CHANNELS}) with channels last.")
    if not (spec.dtype.is_floating or spec.dtype.is_integer):
        raise ValueError(f"{description} takes {spec.dtype.name} inputs; lucid2 needs numeric "
                         "image tensors.")


def _fixed_spatial_size(specs: Sequence[tf.TensorSpec]) -> tuple[int, int] | None:
    """(height, width) when every traced input spec fixes the same size, else None."""
    sizes = {tuple(spec.shape[1:3]) for spec in specs if spec.shape.rank == IMAGE_RANK}
    if len(sizes) == 1:
        size = sizes.pop()
        if None not in size:
            return int(size[0]), int(size[1])
    return None


def _signature_endpoint(function, description: str, owner) -> _Endpoint:
    args, kwargs = function.structured_input_signature
    inputs = {**{f"argument {i}": spec for i, spec in enumerate(args)}, **kwargs}
    if len(inputs) != 1:
        raise ValueError(
            f"{description} takes {len(inputs)} inputs ({', '.join(inputs)}); lucid2 needs a "
            "function with a single image input.")
    (keyword, spec), = inputs.items()
    _check_image_spec(spec, description)
    return _Endpoint(function, description, input_keyword=None if args else keyword,
                     input_dtype=spec.dtype, spatial_size=_fixed_spatial_size([spec]), owner=owner)


def traced_call(function, description: str, what: str,
                check_spec: Callable[[Any, str], None]) -> tuple[list, list, bool]:
    """What a restored ``__call__`` can be called with: its traced concrete functions, the
    spec of each one's first positional input (its ``what``, e.g. "image", checked with
    ``check_spec(spec, description)``) and whether it takes a ``training`` argument."""
    concrete = list(getattr(function, "concrete_functions", ()))
    if not concrete:
        raise ValueError(
            f"{description} was saved without any traced input signature, so it cannot be "
            "called; save it with @tf.function(input_signature=[...]) or export a signature.")
    specs = []
    for fn in concrete:
        args, _ = fn.structured_input_signature
        if not args:
            raise ValueError(f"{description} takes no positional {what} input.")
        check_spec(args[0], description)
        specs.append(args[0])
    try:
        pass_training = "training" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        pass_training = False
    return concrete, specs, pass_training


def _call_endpoint(function, description: str, owner) -> _Endpoint:
    _, specs, pass_training = traced_call(function, description, "image", _check_image_spec)
    return _Endpoint(function, description, input_dtype=specs[0].dtype,
                     spatial_size=_fixed_spatial_size(specs), pass_training=pass_training,
                     owner=owner)


def _has_call(obj) -> bool:
    return hasattr(getattr(obj, CALL_ENDPOINT, None), "concrete_functions")


def _select_endpoint(obj, signature: str | None, source: str, order: Sequence[str]) -> _Endpoint:
    """The function of a restored object to call, by name or by ``order`` of preference."""
    signatures = dict(getattr(obj, "signatures", None) or {})
    available = list(signatures) + ([CALL_ENDPOINT] if _has_call(obj) else [])
    if signature is None:
        candidates = [n for n in order if n in available]
        if not candidates and len(signatures) == 1:
            candidates = list(signatures)
        if not candidates:
            raise ValueError(
                f"{source} has no callable endpoint lucid2 can choose on its own (available: "
                f"{available or 'none'}); pass signature= naming one.")
        signature = candidates[0]
    if signature == CALL_ENDPOINT and _has_call(obj):
        return _call_endpoint(obj.__call__, f"{source} ({CALL_ENDPOINT})", obj)
    if signature in signatures:
        return _signature_endpoint(signatures[signature], f"{source} (signature {signature!r})",
                                   obj)
    attribute = getattr(obj, signature, None) if isinstance(signature, str) else None
    if hasattr(attribute, "concrete_functions"):
        # e.g. the "serve" endpoint of a Keras model.export() directory.
        return _call_endpoint(attribute, f"{source} ({signature})", obj)
    raise ValueError(f"{source} has no signature {signature!r}; available: {available}.")


class _RestoredFunctionLayer(keras.layers.Layer):
    """Calls a restored TensorFlow function; returns its outputs as a dict of tensors."""

    def __init__(self, endpoint: _Endpoint, **kwargs):
        super().__init__(trainable=False, **kwargs)
        self._endpoint = endpoint

    def call(self, images):
        # A wrong image size is caught earlier, by the model's fixed-size Input.
        x = images
        dtype = self._endpoint.input_dtype
        if dtype.is_integer:
            # Integer inputs cut the gradient: prediction works, optimization cannot.
            x = tf.saturate_cast(tf.round(x), dtype)
        elif dtype != x.dtype:
            x = tf.cast(x, dtype)
        return _as_output_dict(self._endpoint(x))


def _as_output_dict(result) -> dict[str, Any]:
    if isinstance(result, Mapping):
        items = list(result.items())
    elif isinstance(result, (list, tuple)):
        items = [(f"output_{i}", value) for i, value in enumerate(result)]
    else:
        items = [(SINGLE_OUTPUT_KEY, result)]
    # String outputs (e.g. class names of some hub modules) are not activations.
    return {str(key): value for key, value in items
            if tf.is_tensor(value) and (value.dtype.is_floating or value.dtype.is_integer)}


class RestoredVisionModel(VisionModel):
    """A :class:`VisionModel` around a SavedModel or TF-Hub function.

    Its layers are the function's outputs (one per output key); the model's
    prediction is ``primary_layer``. Built by :func:`load_saved_model` and
    :func:`load_hub`.
    """

    def __init__(self, keras_model: keras.Model, *, hidden_layer: str,
                 output_layers: Mapping[str, str], primary_layer: str | None, source: str,
                 source_kind: str = KIND_SAVED_MODEL, endpoint: str | None = None, **kwargs):
        # Set before the base class checks logits_layer, which may need them for its message.
        self.output_layers = dict(output_layers)
        self.primary_layer = primary_layer
        self.source = source
        self.source_kind = source_kind
        self.endpoint = endpoint or source
        super().__init__(keras_model, **kwargs)
        # The wrapper returns a dict of tensors, not one activation: only its
        # per-output Identity layers are meaningful layers.
        self._layers.pop(hidden_layer, None)

    def check_layer(self, name: str) -> None:
        """Raises a ValueError saying that only the function's outputs are layers, and how to
        export a model whose inner layers are reachable, when ``name`` is not one of them."""
        if not isinstance(name, str) or name in self._layers:
            super().check_layer(name)
            return
        outputs = sorted(self.output_layers.values())
        close = difflib.get_close_matches(name, outputs, n=MAX_SUGGESTIONS,
                                          cutoff=SUGGESTION_CUTOFF)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Model {self.name!r} has no layer {name!r}.{hint} {self.endpoint} exposes only its "
            f"outputs as layers: {', '.join(outputs)}. Keras 3 cannot rebuild the layers of a "
            f"{self.source_kind} from its TensorFlow graph, so an inner activation is reachable "
            f"only when the function returns it. To reach {name!r}, "
            + _reach_inner_layer_advice(name, self.source_kind))

    def full_model(self) -> keras.Model:
        """A model from [0, 1] RGB images to the primary output."""
        if self.primary_layer is None:
            raise ValueError(
                f"{self.source} returns several outputs ({', '.join(self.output_layers)}) and "
                "none is marked as the prediction: load it again with output_key=<one of them>, "
                "or use submodel(name) for a given output.")
        return self.submodel(self.primary_layer)


def _reach_inner_layer_advice(layer: str, source_kind: str) -> str:
    """How to get a model whose layer ``layer`` lucid2 can reach (the end of a sentence)."""
    export = (
        "export a Keras model whose outputs include it, e.g. keras.Model(net.input, "
        f"{{{layer!r}: net.get_layer({layer!r}).output, 'output': net.output}}).export(path) "
        "(each output becomes a layer; load it with output_key='output'), or save the Keras "
        "model with net.save('model.keras') and load that file, which keeps every layer.")
    if source_kind == KIND_HUB:
        return ("load the original Keras model instead (from_keras, or a .keras file), or "
                + export)
    return export


def _wrap_endpoint(endpoint: _Endpoint, *, preprocessing: Preprocessing, input_size, output_key,
                   labels, logits_layer, name: str, source: str,
                   source_kind: str) -> RestoredVisionModel:
    size = input_size
    if size is not None and endpoint.spatial_size is not None and size != endpoint.spatial_size:
        raise ValueError(
            f"input_size {size} disagrees with {endpoint.description}, which takes "
            f"{endpoint.spatial_size[0]}x{endpoint.spatial_size[1]} images.")
    height, width = size or endpoint.spatial_size or (None, None)
    inputs = keras.Input(shape=(height, width, IMAGE_CHANNELS), dtype="float32",
                         name=INPUT_LAYER_NAME)
    wrapper = _RestoredFunctionLayer(endpoint, name=f"{_keras_name(name)}_function")
    raw = wrapper(inputs)
    if not raw:
        raise ValueError(f"{endpoint.description} returns no numeric outputs.")
    if output_key is not None and output_key not in raw:
        raise ValueError(
            f"output_key {output_key!r} is not an output of {endpoint.description}; its outputs "
            f"are: {', '.join(raw)}.")
    layer_names: dict[str, str] = {}
    taken = {INPUT_LAYER_NAME, wrapper.name}
    for key in raw:
        layer_name = _keras_name(key)
        while layer_name in taken:
            layer_name += "_output"
        taken.add(layer_name)
        layer_names[key] = layer_name
    tensors = {key: keras.layers.Identity(name=layer_names[key])(raw[key]) for key in raw}

    primary_key = output_key
    if primary_key is None:
        if len(raw) == 1:
            primary_key = next(iter(raw))
        else:
            primary_key = next((k for k in PREFERRED_OUTPUT_KEYS if k in raw), None)
    # Every output must be a model output, or Keras drops its layer from the
    # graph; which one is the prediction is kept separately (primary_layer).
    outputs = [tensors[key] for key in raw]
    keras_model = keras.Model(inputs, outputs[0] if len(outputs) == 1 else outputs,
                              name=_keras_name(name))
    if logits_layer is None and "logits" in layer_names:
        logits_layer = layer_names["logits"]
    return RestoredVisionModel(
        keras_model, hidden_layer=wrapper.name, output_layers=layer_names,
        primary_layer=layer_names[primary_key] if primary_key is not None else None,
        source=source, source_kind=source_kind, endpoint=endpoint.description,
        preprocessing=preprocessing, labels=labels,
        logits_layer=logits_layer, layer_kinds=dict.fromkeys(layer_names.values(), "output"),
        name=name)


def _saved_model_dir(path: str) -> bool:
    return any(os.path.isfile(os.path.join(path, f)) for f in SAVED_MODEL_FILES)


def _display_name(path: str) -> str:
    return os.path.basename(os.path.normpath(path)) or "saved_model"


# ----------------------------------------------------------------- SavedModel
def load_saved_model(path: str | os.PathLike, *, value_range: Sequence[float] | None = None,
                     channel_order: str | None = None,
                     preprocessing: Preprocessing | str | None = None,
                     input_size: int | tuple[int, int] | None = None,
                     signature: str | None = None, output_key: str | None = None,
                     labels: Sequence[str] | None = None, logits_layer: str | None = None,
                     name: str | None = None,
                     custom_objects: Mapping[str, Any] | None = None) -> VisionModel:
    """Loads a Keras file or a TensorFlow SavedModel directory as a :class:`VisionModel`.

    * A ``.keras`` / ``.h5`` file, or a directory holding exactly one ``.keras``
      file: loaded with Keras, so every layer is reachable (``custom_objects``
      is passed to ``keras.saving.load_model``).
    * Any other SavedModel directory (``tf.saved_model.save``, Keras 3
      ``model.export``, Keras 2 ``model.save``): Keras 3 cannot rebuild its
      layers, so it is wrapped as one function whose *outputs* are the layers.
      The function is ``signature`` (default: "serving_default", else the
      object's ``__call__``, else its only signature). Inner activations are
      reachable only if the signature returns them.

    Args:
      path: the file or directory.
      value_range: the (low, high) pixel range the model expects. Required
        unless ``preprocessing`` is given.
      channel_order: "RGB" (default) or "BGR".
      preprocessing: the whole input convention instead of ``value_range`` and
        ``channel_order`` (as for :func:`from_keras`).
      input_size: image size (int or (height, width)) of a SavedModel whose
        function does not fix it; a function that fixes it must agree.
      signature: the SavedModel function to call (a signature name, or
        "__call__").
      output_key: which output is the model's prediction when there are
        several (default: the only one, else "default", "logits", ...).
      labels, logits_layer, name: as for :func:`from_keras`; a SavedModel
        output called "logits" is the logits layer unless told otherwise.
    """
    convention = _required_preprocessing(preprocessing, value_range, channel_order,
                                         "load_saved_model")
    size = _check_input_size(input_size)
    path = _existing_model_path(path)
    keras_file = _keras_file_in(path)
    if keras_file is not None:
        _reject_function_options(keras_file, input_size=input_size, signature=signature,
                                 output_key=output_key)
        return _load_keras_file(keras_file, preprocessing=convention, labels=labels,
                                logits_layer=logits_layer, name=name,
                                custom_objects=custom_objects)
    return _restore_saved_model(path, signature, preprocessing=convention, input_size=size,
                                output_key=output_key, labels=labels, logits_layer=logits_layer,
                                name=name)


def _existing_model_path(path: str | os.PathLike) -> str:
    """``path`` as a string, checked to exist; a ``saved_model.pb`` file stands for its folder."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No model at {path!r}: expected a .keras/.h5 file or a "
                                "SavedModel directory.")
    if os.path.isfile(path) and os.path.basename(path) in SAVED_MODEL_FILES:
        path = os.path.dirname(path) or "."
    return path


def _reject_function_options(keras_file: str, **options) -> None:
    """Raises a ValueError naming the SavedModel-function options given for a Keras file."""
    given = [k for k, v in options.items() if v is not None]
    if given:
        raise ValueError(
            f"{', '.join(given)} apply to SavedModel functions only, but {keras_file!r} is a "
            "Keras file whose layers and input shape come from the file.")


def _restore_saved_model(path: str, signature: str | None, *, preprocessing: Preprocessing,
                         input_size, output_key, labels, logits_layer, name) -> VisionModel:
    """A plain SavedModel directory restored with TensorFlow and wrapped as one function."""
    if not _saved_model_dir(path):
        raise not_a_model_directory(path)
    source = f"{KIND_SAVED_MODEL} {path!r}"
    restored = restore_saved_model(path)
    endpoint = _select_endpoint(restored, signature, source,
                                (SERVING_SIGNATURE, CALL_ENDPOINT, TF1_HUB_SIGNATURE))
    return _wrap_endpoint(endpoint, preprocessing=preprocessing, input_size=input_size,
                          output_key=output_key, labels=labels, logits_layer=logits_layer,
                          name=name or _display_name(path),
                          source=source, source_kind=KIND_SAVED_MODEL)


def _keras_file_in(path: str) -> str | None:
    """The Keras file ``path`` is, or the single ``.keras`` file in directory ``path``."""
    if os.path.isfile(path):
        if path.lower().endswith(KERAS_FILE_SUFFIXES):
            return path
        raise ValueError(
            f"{path!r} is not a Keras file (its name does not end in "
            f"{', '.join(KERAS_FILE_SUFFIXES)}) nor a SavedModel directory.")
    found = sorted(f for f in os.listdir(path) if f.lower().endswith(KERAS_ZIP_SUFFIX))
    if len(found) > 1:
        raise ValueError(
            f"{path!r} holds several Keras files ({', '.join(found)}); pass the one to load.")
    return os.path.join(path, found[0]) if found else None


# --------------------------------------------------------------------- TF-Hub
def load_hub(handle_or_path: str | os.PathLike, *, value_range: Sequence[float] | None = None,
             channel_order: str | None = None, preprocessing: Preprocessing | str | None = None,
             output_key: str | None = None,
             signature: str | None = None, input_size: int | tuple[int, int] | None = None,
             labels: Sequence[str] | None = None, logits_layer: str | None = None,
             name: str | None = None, tags: Sequence[str] | None = None) -> VisionModel:
    """Loads a TF-Hub model (handle, URL or local hub-format directory) as a :class:`VisionModel`.

    The module is loaded with ``tensorflow_hub.load`` (downloaded and cached
    by tensorflow_hub for a handle such as
    ``https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/classification/5``
    or ``https://www.kaggle.com/models/...``; set ``TFHUB_CACHE_DIR`` to choose
    the cache; without network, :class:`lucid2.modelzoo.hub.HubDownloadError` says
    what to download). ``hub.KerasLayer`` is not used because it is built on Keras 2
    (tf_keras) and does not mix with Keras 3 models.

    The module's ``__call__`` is used (TF2 "reusable SavedModel" convention,
    called with ``training=False`` when it accepts it); a TF1 Hub module is
    called through its "default" signature. The layers are the module's
    outputs: one layer called "output" for a single tensor, one per key for a
    dict. Inner activations are not reachable unless the module returns them.

    Limitations: a module that takes integer (uint8) images still predicts,
    but gradients do not flow through the rounding, so it cannot be
    visualized; modules that need several inputs are not supported.

    Args:
      handle_or_path: TF-Hub handle/URL or local directory.
      value_range: pixel range the module expects; most TF2 hub image models
        use (0, 1). Required unless ``preprocessing`` is given.
      channel_order: "RGB" (default) or "BGR".
      preprocessing: the whole input convention instead of ``value_range`` and
        ``channel_order`` (as for :func:`from_keras`).
      output_key: which output is the prediction when there are several.
      signature: call this signature (or "__call__") instead of the default.
      input_size: image size when the module does not fix it.
      labels, logits_layer, name: as for :func:`from_keras`.
      tags: graph tags of a TF1 Hub module, passed to ``hub.load``.
    """
    convention = _required_preprocessing(preprocessing, value_range, channel_order, "load_hub")
    size = _check_input_size(input_size)
    restored, handle = restore_hub_module(handle_or_path, tags=tags)
    source = f"{KIND_HUB} {handle!r}"
    endpoint = _select_endpoint(restored, signature, source,
                                (CALL_ENDPOINT, TF1_HUB_SIGNATURE, SERVING_SIGNATURE))
    return _wrap_endpoint(endpoint, preprocessing=convention, input_size=size,
                          output_key=output_key, labels=labels, logits_layer=logits_layer,
                          name=name or _hub_display_name(handle), source=source,
                          source_kind=KIND_HUB)


def _hub_display_name(handle: str) -> str:
    parts = [p for p in handle.rstrip("/").split("/") if p and not p.isdigit()]
    # ".../mobilenet_v2_100_224/classification/5" -> "mobilenet_v2_100_224_classification"
    return "_".join(parts[-2:]) if handle.startswith(REMOTE_PREFIXES) else _display_name(handle)


# ----------------------------------------------------------------- one entry
def load(model_or_path, *, value_range: Sequence[float] | None = None,
         channel_order: str | None = None, preprocessing: Preprocessing | str | None = None,
         weights: str | os.PathLike | None = DEFAULT_WEIGHTS, **kwargs) -> VisionModel:
    """One entry point for every kind of model (used by the command line's ``--model``).

    Accepts:
      * "inceptionv1" (any case; also "inception_v1", "googlenet"): lucid2's
        InceptionV1 with ``weights`` ("imagenet" by default, a local path, or
        None for random initialization; it knows its own input convention);
      * "keras:NAME", e.g. "keras:ResNet50": the ``keras.applications`` model
        NAME (:func:`lucid2.modelzoo.keras_applications.keras_application`),
        with ``weights`` passed to Keras ("imagenet", a weights file, or None);
        its preprocessing is known;
      * a :class:`VisionModel`: returned as is;
      * a ``keras.Model``: :func:`from_keras`;
      * a path to a ``.keras`` / ``.h5`` file or a SavedModel directory:
        :func:`load_saved_model` (a TF1 Hub module directory goes to
        :func:`load_hub`);
      * a TF-Hub handle (``https://tfhub.dev/...``,
        ``https://www.kaggle.com/models/...``, any http(s):// or gs:// URL):
        :func:`load_hub`.

    For any other model than these two, the input convention is required:
    ``preprocessing`` (a :class:`~lucid2.modelzoo.preprocessing.Preprocessing`
    or a named one), or ``value_range`` (and ``channel_order``). Other keyword
    arguments go to the loader chosen (e.g. ``labels``, ``input_size``,
    ``output_key``, ``signature``; ``include_top``, ``input_shape`` for keras:
    models).
    """
    convention_given = [name for name, value in (("value_range", value_range),
                                                 ("channel_order", channel_order),
                                                 ("preprocessing", preprocessing))
                        if value is not None]
    if isinstance(model_or_path, VisionModel):
        if convention_given or weights != DEFAULT_WEIGHTS or kwargs:
            raise ValueError("model_or_path is already a lucid2 VisionModel; it takes no "
                             "value_range, channel_order, preprocessing, weights or loader "
                             "options.")
        return model_or_path
    if isinstance(model_or_path, str) and model_or_path.strip().lower() in INCEPTIONV1_NAMES:
        return _load_inceptionv1(value_range, channel_order, preprocessing, weights, kwargs)
    application = keras_application_name(model_or_path)
    if application is not None:
        if convention_given:
            raise ValueError(
                f"keras:{application} knows its own preprocessing (the one Keras trained it "
                f"with); do not pass {', '.join(convention_given)} for it.")
        return keras_application(application, weights=None if weights is None
                                 else os.fspath(weights), **kwargs)
    if type(model_or_path).__module__.startswith("tf_keras"):
        raise _not_keras3(model_or_path)
    if not isinstance(model_or_path, (keras.Model, str, os.PathLike)):
        raise TypeError(f"Cannot load a model from {type(model_or_path).__name__}; expected "
                        f"{ACCEPTED_MODELS}.")
    if weights != DEFAULT_WEIGHTS:
        raise ValueError("weights applies to 'inceptionv1' and 'keras:NAME' models only; other "
                         "models carry their own.")
    what = f"load({model_or_path!r})" if not isinstance(model_or_path, keras.Model) else "load"
    convention = _required_preprocessing(preprocessing, value_range, channel_order, what)
    if isinstance(model_or_path, keras.Model):
        return from_keras(model_or_path, preprocessing=convention, **kwargs)
    path = os.fspath(model_or_path)
    if path.startswith(REMOTE_PREFIXES):
        return load_hub(path, preprocessing=convention, **kwargs)
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, TF1_HUB_MODULE_FILE)):
        return load_hub(path, preprocessing=convention, **kwargs)
    if os.path.exists(path):
        return load_saved_model(path, preprocessing=convention, **kwargs)
    if os.sep in path or "/" in path or path.lower().endswith(KERAS_FILE_SUFFIXES):
        raise FileNotFoundError(f"No model at {path!r}. Expected {ACCEPTED_MODELS}.")
    raise ValueError(f"Unknown model {path!r}. Expected {ACCEPTED_MODELS}.")


def _load_inceptionv1(value_range, channel_order, preprocessing, weights,
                      kwargs) -> VisionModel:
    if value_range is not None or preprocessing is not None:
        raise ValueError("InceptionV1 knows its own input convention (RGB, value range "
                         "(-117, 138)); do not pass value_range or preprocessing for it.")
    if channel_order is not None and check_channel_order(channel_order) != "RGB":
        raise ValueError("InceptionV1 takes RGB images; channel_order cannot be changed.")
    if kwargs:
        raise TypeError(f"InceptionV1 takes only weights=, got {', '.join(sorted(kwargs))}.")
    return InceptionV1(weights=weights)
