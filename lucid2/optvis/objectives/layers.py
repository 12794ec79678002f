"""Objectives on single units, channels, directions and classes of a layer.

Conventions (as in Lucid): activations are NHWC; ``x`` indexes the first
spatial axis (rows) and ``y`` the second (columns); the default position is the
center (for even sizes, the bottom-right of the central 2x2). Without
``batch=`` an objective is averaged over the batch; with ``batch=i`` it only
looks at image ``i``. (Lucid summed ``neuron`` and ``class_logit`` over the
batch instead of averaging; with one image, or with Adam's scale-invariant
steps, this makes no difference.)
"""

from __future__ import annotations

import difflib
from typing import Iterable, Sequence

import numpy as np
import tensorflow as tf

from lucid2.optvis import checks
from lucid2.optvis.objectives import model_checks
from lucid2.optvis.objectives.core import Context, Leaf, Objective, Sum

# Lucid's cosine-similarity weighting for direction objectives.
COSSIM_EPSILON = 1e-4
COSSIM_FLOOR = 0.1


def format_description(name: str, *args, **kwargs) -> str:
    """``Name [arg, arg, key=value]``, leaving out keyword arguments that are None."""
    parts = [_arg_text(a) for a in args]
    parts += [f"{k}={_arg_text(v)}" for k, v in kwargs.items() if v is not None]
    return f"{name} [{', '.join(parts)}]" if parts else name


def _arg_text(value) -> str:
    if isinstance(value, np.ndarray):
        return f"<vector of {value.shape[0]}>"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _select_batch(acts: tf.Tensor, batch: int | None) -> tf.Tensor:
    return acts if batch is None else acts[batch:batch + 1]


def _spatial_index(acts: tf.Tensor, axis: int, value: int | None):
    size = acts.shape[axis]
    if size is None:
        size = tf.shape(acts)[axis]
        return size // 2 if value is None else tf.minimum(value, size - 1)
    # Transforms may shrink the map below the size validated on the raw image.
    return size // 2 if value is None else min(value, size - 1)


def _at_position(acts: tf.Tensor, x: int | None, y: int | None) -> tf.Tensor:
    if acts.shape.rank != 4:
        raise ValueError(f"Position objectives need NHWC activations, got shape {acts.shape}.")
    row = _spatial_index(acts, 1, x)
    col = _spatial_index(acts, 2, y)
    return acts[:, row, col, :]


def _channel_means(acts: tf.Tensor) -> tf.Tensor:
    """The mean of every channel over the batch and all positions: (C,)."""
    return tf.reduce_mean(acts, axis=list(range(acts.shape.rank - 1)))


def neuron(layer: str, n: int, x: int | None = None, y: int | None = None,
           batch: int | None = None) -> Objective:
    """Activation of channel ``n`` of ``layer`` at one position (the center by default)."""
    checks.layer_name("layer", layer)
    n = checks.non_negative_int("channel", n)
    x = checks.optional_non_negative_int("x", x)
    y = checks.optional_non_negative_int("y", y)
    batch = checks.optional_non_negative_int("batch", batch)
    description = format_description("Neuron", layer, n, x=x, y=y, batch=batch)

    def fn(ctx: Context) -> tf.Tensor:
        values = _at_position(_select_batch(ctx(layer), batch), x, y)
        return tf.reduce_mean(values[:, n])

    def check(model, image_shape):
        model_checks.check_channel(model, layer, n, image_shape)
        model_checks.check_batch(batch, image_shape, description)
        model_checks.check_position(model, layer, x, y, image_shape, description)

    return Leaf(fn, description, layers=(layer,), check=check)


def channel(layer: str, n: int, batch: int | None = None) -> Objective:
    """Mean activation of channel ``n`` of ``layer`` over all positions."""
    checks.layer_name("layer", layer)
    n = checks.non_negative_int("channel", n)
    batch = checks.optional_non_negative_int("batch", batch)
    description = format_description("Channel", layer, n, batch=batch)

    def fn(ctx: Context) -> tf.Tensor:
        return ctx.cached(("channel_means", layer, batch),
                          lambda: _channel_means(_select_batch(ctx(layer), batch)))[n]

    def check(model, image_shape):
        model_checks.check_channel(model, layer, n, image_shape)
        model_checks.check_batch(batch, image_shape, description)

    return Leaf(fn, description, layers=(layer,), check=check)


def channels_per_image(units: Iterable[tuple[str, int]]) -> Objective:
    """Image ``i`` of the batch maximizes channel ``units[i] = (layer, n)``.

    The sum over ``i`` of ``channel(layer_i, n_i, batch=i)``: one render of a
    batch shows several channels, one per image. Its value and gradients are
    those of ``sum(...)`` over the same terms; the terms go into one flat
    :class:`Sum` at once, so hundreds of units build no deep tree and no
    repeated copies.
    """
    if isinstance(units, (str, bytes)):
        raise TypeError(f"units must be (layer, channel) pairs, got {units!r}.")
    terms = []
    for i, unit in enumerate(units):
        try:
            layer, n = unit
        except (TypeError, ValueError):
            raise TypeError(f"units must be (layer, channel) pairs, got {unit!r} at index "
                            f"{i}.") from None
        terms.append(channel(layer, n, batch=i))
    if not terms:
        raise ValueError("units must name at least one (layer, channel) pair.")
    return terms[0] if len(terms) == 1 else Sum(terms)


def deepdream(layer: str, batch: int | None = None) -> Objective:
    """Mean squared activation of the whole layer (Mordvintsev et al., 2015)."""
    checks.layer_name("layer", layer)
    batch = checks.optional_non_negative_int("batch", batch)
    description = format_description("Deepdream", layer, batch=batch)

    def fn(ctx: Context) -> tf.Tensor:
        return tf.reduce_mean(tf.square(_select_batch(ctx(layer), batch)))

    def check(model, image_shape):
        model_checks.check_batch(batch, image_shape, description)

    return Leaf(fn, description, layers=(layer,), check=check)


def _dot_cossim(acts: tf.Tensor, vec: tf.Tensor, cossim_pow: float) -> tf.Tensor:
    """Mean of <acts, vec>, optionally weighted by max(0.1, cos)^cossim_pow (Lucid's)."""
    dot = tf.reduce_sum(acts * vec, axis=-1)
    if cossim_pow == 0:
        return tf.reduce_mean(dot)
    acts_norm = tf.norm(acts, axis=-1)
    vec_norm = tf.norm(vec)
    cossim = dot / ((COSSIM_EPSILON + acts_norm) * (COSSIM_EPSILON + vec_norm))
    return tf.reduce_mean(dot * tf.maximum(COSSIM_FLOOR, cossim) ** cossim_pow)


def direction(layer: str, vec, cossim_pow: float = 0, batch: int | None = None) -> Objective:
    """Mean dot product of the activation vectors of ``layer`` with ``vec``.

    With ``cossim_pow > 0`` each dot product is weighted by the cosine
    similarity (floored at 0.1) to that power, favoring the direction itself
    over large activations in other directions.
    """
    checks.layer_name("layer", layer)
    vec = checks.vector("vec", vec)
    cossim_pow = checks.non_negative_float("cossim_pow", cossim_pow)
    batch = checks.optional_non_negative_int("batch", batch)
    description = format_description("Direction", layer, vec,
                                     cossim_pow=cossim_pow if cossim_pow else None, batch=batch)

    def fn(ctx: Context) -> tf.Tensor:
        return _dot_cossim(_select_batch(ctx(layer), batch), tf.constant(vec), cossim_pow)

    def check(model, image_shape):
        model_checks.check_vector_length(model, layer, vec, image_shape)
        model_checks.check_batch(batch, image_shape, description)

    return Leaf(fn, description, layers=(layer,), check=check)


def direction_neuron(layer: str, vec, x: int | None = None, y: int | None = None,
                     cossim_pow: float = 0, batch: int | None = None) -> Objective:
    """Like :func:`direction`, at a single position (the center by default)."""
    checks.layer_name("layer", layer)
    vec = checks.vector("vec", vec)
    x = checks.optional_non_negative_int("x", x)
    y = checks.optional_non_negative_int("y", y)
    cossim_pow = checks.non_negative_float("cossim_pow", cossim_pow)
    batch = checks.optional_non_negative_int("batch", batch)
    description = format_description("DirectionNeuron", layer, vec, x=x, y=y,
                                     cossim_pow=cossim_pow if cossim_pow else None, batch=batch)

    def fn(ctx: Context) -> tf.Tensor:
        acts = _at_position(_select_batch(ctx(layer), batch), x, y)
        return _dot_cossim(acts, tf.constant(vec), cossim_pow)

    def check(model, image_shape):
        model_checks.check_vector_length(model, layer, vec, image_shape)
        model_checks.check_batch(batch, image_shape, description)
        model_checks.check_position(model, layer, x, y, image_shape, description)

    return Leaf(fn, description, layers=(layer,), check=check)


# ------------------------------------------------------------------- classes
def resolve_label(labels: Sequence[str] | None, label: str, model_name: str = "model") -> int:
    """Index of ``label`` in ``labels``: exact, then case-insensitive, then one of
    its comma-separated synonyms ("tabby" matches "tabby, tabby cat")."""
    if labels is None:
        raise ValueError(
            f"Class {label!r} was given by name, but {model_name} has no labels; "
            "give the class index instead.")
    if label in labels:
        return labels.index(label)
    wanted = label.strip().lower()
    for matcher in (lambda text: text.strip().lower() == wanted,
                    lambda text: wanted in (part.strip().lower() for part in text.split(","))):
        matches = [i for i, text in enumerate(labels) if matcher(text)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ValueError(
                f"Class name {label!r} is ambiguous in {model_name}'s labels: "
                f"{[labels[i] for i in matches[:5]]} (indices {matches[:5]}); give the index.")
    close = difflib.get_close_matches(label, list(labels), n=5, cutoff=0.6)
    hint = f" Close matches: {close}." if close else ""
    raise ValueError(f"Unknown class name {label!r} for {model_name}.{hint}")


def _logits_layer_of(model, layer: str | None) -> str:
    if layer is not None:
        return layer
    logits = getattr(model, "logits_layer", None)
    if logits is None:
        raise ValueError(
            f"Model {getattr(model, 'name', model)!r} has no logits_layer; give the layer "
            "explicitly, e.g. class_logit(208, layer='predictions_pre_softmax').")
    return logits


def _class_objective(kind: str, label: int | str, batch: int | None, layer: str | None,
                     probability: bool) -> Objective:
    if not isinstance(label, str) and not checks.is_int(label):
        raise TypeError(f"The class must be an index or a label string, got {label!r}.")
    index = None if isinstance(label, str) else checks.non_negative_int("class index", label)
    if layer is not None:
        checks.layer_name("layer", layer)
    batch = checks.optional_non_negative_int("batch", batch)
    description = format_description(kind, label, batch=batch, layer=layer)

    def class_index(model) -> int:
        if index is not None:
            return index
        # No index: the class was given by its label string.
        return resolve_label(getattr(model, "labels", None), str(label),
                             repr(getattr(model, "name", "the model")))

    def fn(ctx: Context) -> tf.Tensor:
        logits = _select_batch(ctx(_logits_layer_of(ctx.model, layer)), batch)
        scores = tf.nn.softmax(logits, axis=-1) if probability else logits
        return tf.reduce_mean(scores[..., class_index(ctx.model)])

    def check(model, image_shape):
        logits_layer = _logits_layer_of(model, layer)
        model_checks.check_channel(model, logits_layer, class_index(model), image_shape)
        model_checks.check_batch(batch, image_shape, description)

    return Leaf(fn, description, layers=lambda model: (_logits_layer_of(model, layer),),
                check=check)


def class_logit(label: int | str, batch: int | None = None, layer: str | None = None) -> Objective:
    """The logit of a class: an index, or a name looked up in ``model.labels``.

    Uses ``model.logits_layer`` unless ``layer`` is given.
    """
    return _class_objective("ClassLogit", label, batch, layer, probability=False)


def class_probability(label: int | str, batch: int | None = None,
                      layer: str | None = None) -> Objective:
    """The softmax probability of a class, computed from the logits layer."""
    return _class_objective("ClassProbability", label, batch, layer, probability=True)
