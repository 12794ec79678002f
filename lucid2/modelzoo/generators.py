"""Image generators from TF-Hub (or local SavedModels), for ``lucid2.optvis.param.generator``.

:func:`load_hub_generator` loads a generator with ``tensorflow_hub.load``, as
:func:`lucid2.modelzoo.loaders.load_hub` loads vision models, and returns a
:class:`HubGenerator`: a callable from a (batch, *latent_shape) float latent to
the module's images. Pass it to ``param.generator`` with its ``latent_shape``
and the module's output range::

    gen = load_hub_generator("https://tfhub.dev/google/progan-128/1")
    image_param = param.generator(gen, gen.latent_shape, value_range=(0, 1))

Without network access a remote handle cannot be fetched: the error names the
handle, what to download and where TF-Hub caches modules; download the module
elsewhere, unpack it, and pass the local directory instead of the handle.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Sequence

import tensorflow as tf

from lucid2.modelzoo.hub import restore_hub_module
from lucid2.modelzoo.loaders import (CALL_ENDPOINT, KIND_HUB, SERVING_SIGNATURE,
                                     TF1_HUB_SIGNATURE, traced_call)

# The endpoints tried, in order, when the caller names none: a TF2 module's __call__,
# a TF1 Hub module's "default" signature, a plain SavedModel's serving signature.
ENDPOINT_ORDER = (CALL_ENDPOINT, TF1_HUB_SIGNATURE, SERVING_SIGNATURE)
# The TF1 Hub convention for the main output of a signature.
DEFAULT_OUTPUT_KEY = "default"
class HubGenerator:
    """A restored generator function: ``gen(latent)`` returns its image tensor.

    Attributes:
      handle: where it was loaded from.
      endpoint: the function called ("__call__" or a signature's name).
      latent_shape: the latent's shape without the batch, when the module fixes it
        (else None: pass it to ``param.generator`` yourself).
      latent_input: the keyword the latent is passed as (None: positionally).
      output_key: which output is the image, for functions returning a dict.
      module: the restored object (it owns the generator's variables).
    """

    def __init__(self, function: Callable, *, handle: str, endpoint: str,
                 latent_shape: tuple[int, ...] | None, latent_input: str | None,
                 latent_dtype: tf.DType, output_key: str | None,
                 extra_inputs: Mapping[str, Any], pass_training: bool, owner: Any):
        self._function = function
        self.handle = handle
        self.endpoint = endpoint
        self.latent_shape = latent_shape
        self.latent_input = latent_input
        self.output_key = output_key
        self._latent_dtype = latent_dtype
        self._extra_inputs = dict(extra_inputs)
        self._pass_training = pass_training
        # The restored object owns the variables the function reads: keep it alive.
        self.module = owner
        self.name = f"{KIND_HUB} {handle!r} ({endpoint})"

    def __call__(self, latent) -> tf.Tensor:
        latent = tf.cast(latent, self._latent_dtype)
        kwargs = dict(self._extra_inputs)
        if self._pass_training:
            kwargs["training"] = False
        if self.latent_input is None:
            result = self._function(latent, **kwargs)
        else:
            result = self._function(**{self.latent_input: latent}, **kwargs)
        if isinstance(result, Mapping):
            if self.output_key not in result:
                raise ValueError(
                    f"{self.name} returned outputs {sorted(result)}; output_key "
                    f"{self.output_key!r} is not one of them.")
            return result[self.output_key]
        return result

    def __repr__(self) -> str:
        return f"HubGenerator({self.name}, latent_shape={self.latent_shape})"


def _static_latent_shape(spec) -> tuple[int, ...] | None:
    shape = spec.shape
    if shape.rank is None or shape.rank < 2 or None in shape[1:]:
        return None
    return tuple(int(d) for d in shape[1:])


def _check_latent_spec(spec, where: str) -> None:
    if not isinstance(spec, tf.TensorSpec) or not spec.dtype.is_floating:
        raise ValueError(
            f"{where} takes {spec!r} as its latent; a generator needs one float latent tensor "
            "(batch, ...).")


def _output_key(function, output_key: str | None, where: str) -> str | None:
    """Which output of a signature (a dict) is the image; None for a bare tensor."""
    outputs = getattr(function, "structured_outputs", None)
    if not isinstance(outputs, Mapping):
        return output_key
    keys = sorted(outputs)
    if output_key is None:
        if len(keys) == 1:
            return keys[0]
        if DEFAULT_OUTPUT_KEY in outputs:
            return DEFAULT_OUTPUT_KEY
        raise ValueError(f"{where} returns several outputs ({', '.join(keys)}); pass output_key= "
                         "naming the image.")
    if output_key not in outputs:
        raise ValueError(f"output_key {output_key!r} is not an output of {where}; its outputs "
                         f"are: {', '.join(keys)}.")
    return output_key


def _signature_generator(function, name: str, handle: str, owner, latent_input: str | None,
                         extra_inputs: Mapping[str, Any], output_key: str | None) -> HubGenerator:
    where = f"{KIND_HUB} {handle!r} (signature {name!r})"
    _, inputs = function.structured_input_signature
    unknown = sorted(set(extra_inputs) - set(inputs))
    if unknown:
        raise ValueError(f"extra_inputs {unknown} are not inputs of {where}; its inputs are: "
                         f"{', '.join(sorted(inputs))}.")
    free = [key for key in inputs if key not in extra_inputs]
    if latent_input is None:
        if len(free) != 1:
            raise ValueError(
                f"{where} takes the inputs {', '.join(sorted(inputs))}; name the latent with "
                "latent_input= and give the others fixed values with extra_inputs=.")
        latent_input = free[0]
    elif latent_input not in inputs:
        raise ValueError(f"latent_input {latent_input!r} is not an input of {where}; its inputs "
                         f"are: {', '.join(sorted(inputs))}.")
    missing = sorted(set(free) - {latent_input})
    if missing:
        raise ValueError(f"{where} also needs the inputs {', '.join(missing)}: give them fixed "
                         "values with extra_inputs=.")
    spec = inputs[latent_input]
    _check_latent_spec(spec, where)
    fixed = {key: tf.constant(value, dtype=inputs[key].dtype)
             for key, value in extra_inputs.items()}
    return HubGenerator(function, handle=handle, endpoint=name,
                        latent_shape=_static_latent_shape(spec), latent_input=latent_input,
                        latent_dtype=spec.dtype, output_key=_output_key(function, output_key,
                                                                        where),
                        extra_inputs=fixed, pass_training=False, owner=owner)


def _call_generator(function, name: str, handle: str, owner,
                    output_key: str | None) -> HubGenerator:
    where = f"{KIND_HUB} {handle!r} ({name})"
    concrete, specs, pass_training = traced_call(function, where, "latent", _check_latent_spec)
    shapes = {_static_latent_shape(spec) for spec in specs}
    return HubGenerator(function, handle=handle, endpoint=name,
                        latent_shape=shapes.pop() if len(shapes) == 1 else None,
                        latent_input=None, latent_dtype=specs[0].dtype,
                        output_key=_output_key(concrete[0], output_key, where),
                        extra_inputs={}, pass_training=pass_training, owner=owner)


def load_hub_generator(handle_or_path: str | os.PathLike, *, signature: str | None = None,
                       output_key: str | None = None, latent_input: str | None = None,
                       extra_inputs: Mapping[str, Any] | None = None,
                       tags: Sequence[str] | None = None) -> HubGenerator:
    """Loads an image generator from TF-Hub (a handle or a local directory).

    The module is loaded with ``tensorflow_hub.load`` (cached in ``TFHUB_CACHE_DIR``, see
    :func:`lucid2.modelzoo.hub.hub_cache_dir`). Its ``__call__`` is used (TF2 modules; called
    with ``training=False`` when it takes that flag), else its "default" signature (TF1 Hub
    modules such as ProGAN), else "serving_default".

    Args:
      handle_or_path: a TF-Hub handle (``https://tfhub.dev/...``,
        ``https://www.kaggle.com/models/...``) or a local module / SavedModel directory.
      signature: the signature (or "__call__") to call instead of the default.
      output_key: which output is the image when the function returns a dict
        (default: its only output, else "default").
      latent_input: the latent's input name, for a signature taking several inputs.
      extra_inputs: fixed values of the signature's other inputs, e.g. BigGAN's
        ``{"y": one_hot_class, "truncation": 0.5}`` (batch-shaped values must match
        the batch of ``param.generator``).
      tags: graph tags of a TF1 Hub module, passed to ``hub.load``.

    Raises:
      FileNotFoundError: a local path that is not a directory.
      lucid2.modelzoo.hub.HubDownloadError: a remote handle that cannot be fetched (no network): the
        message says what to download and where modules are cached.
      ValueError: no usable endpoint, or inputs / outputs that do not fit.
    """
    extra_inputs = dict(extra_inputs or {})
    if extra_inputs and signature == CALL_ENDPOINT:
        raise ValueError("extra_inputs are keyword inputs of a signature; __call__ takes the "
                         "latent only.")
    restored, handle = restore_hub_module(handle_or_path, tags=tags)
    signatures = dict(getattr(restored, "signatures", None) or {})
    has_call = hasattr(getattr(restored, CALL_ENDPOINT, None), "concrete_functions")
    available = list(signatures) + ([CALL_ENDPOINT] if has_call else [])
    if signature is None:
        if extra_inputs or latent_input is not None:
            # Keyword inputs belong to signatures: skip __call__.
            available_order = [n for n in ENDPOINT_ORDER if n in signatures]
        else:
            available_order = [n for n in ENDPOINT_ORDER if n in available]
        if not available_order and len(signatures) == 1:
            available_order = list(signatures)
        if not available_order:
            raise ValueError(
                f"{KIND_HUB} {handle!r} has no endpoint lucid2 can choose on its own "
                f"(available: {available or 'none'}); pass signature= naming one.")
        signature = available_order[0]
    if signature == CALL_ENDPOINT and has_call:
        return _call_generator(restored.__call__, CALL_ENDPOINT, handle, restored, output_key)
    if signature in signatures:
        return _signature_generator(signatures[signature], signature, handle, restored,
                                    latent_input, extra_inputs, output_key)
    raise ValueError(f"{KIND_HUB} {handle!r} has no signature {signature!r}; available: "
                     f"{available or 'none'}.")
