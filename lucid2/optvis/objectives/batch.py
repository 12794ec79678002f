"""Objectives that relate the images of a batch to each other."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lucid2.optvis import checks
from lucid2.optvis.objectives import model_checks
from lucid2.optvis.objectives.core import Context, Leaf, Objective
from lucid2.optvis.objectives.layers import format_description

GRAM_EPSILON = 1e-10  # keeps the normalization of an all-zero Gram matrix finite
ALIGNMENT_MAX_DISTANCE = 4  # Lucid compares each image with its next 4 neighbours


def _flat_grams(acts: tf.Tensor) -> tf.Tensor:
    """Unit-norm, flattened channel Gram matrices, one row per image: (N, C*C)."""
    channels = acts.shape[-1]
    flat = tf.reshape(acts, [tf.shape(acts)[0], -1, channels])
    grams = tf.matmul(flat, flat, transpose_a=True)
    grams = tf.reshape(grams, [tf.shape(acts)[0], -1])
    return tf.math.l2_normalize(grams, axis=-1, epsilon=GRAM_EPSILON)


def diversity(layer: str) -> Objective:
    """Minus the mean pairwise cosine similarity of the images' Gram matrices at ``layer``.

    The diversity term of the article (footnote 3), up to scale: it is at most 0
    and grows when the images of the batch differ in "style". ADD it to the
    objective, e.g. ``channel("mixed4a", 97) + 100 * diversity("mixed4a")``.
    (Lucid's ``diversity`` returns the similarity itself, summed over ordered
    pairs and divided by N, and is subtracted instead: Lucid's
    ``- w * diversity`` is lucid2's ``+ w * (N - 1) * diversity``.) Needs a
    batch of at least 2 images.
    """
    checks.layer_name("layer", layer)
    description = format_description("Diversity", layer)

    def fn(ctx: Context) -> tf.Tensor:
        n = ctx.batch_size
        grams = _flat_grams(ctx(layer))
        similarity = tf.matmul(grams, grams, transpose_b=True)
        off_diagonal = tf.reduce_sum(similarity) - tf.linalg.trace(similarity)
        return -off_diagonal / float(n * (n - 1))

    def check(model, image_shape):
        model_checks.check_min_batch(image_shape, 2, description)

    return Leaf(fn, description, layers=(layer,), check=check)


def alignment(layer: str, decay_ratio: float = 2) -> Objective:
    """Minus the mean squared difference of neighbouring images' activations at ``layer``.

    Images ``d`` apart in the batch (d = 1..4) are compared, with weight
    ``decay_ratio ** -d``. It is at most 0: ADD it to the objective (as in
    Lucid, whose ``alignment`` already returns the negated penalty), e.g.
    ``channel_interpolate(...) + 1e-1 * alignment("mixed4a")``.
    """
    checks.layer_name("layer", layer)
    decay_ratio = checks.positive_float("decay_ratio", decay_ratio)
    description = format_description("Alignment", layer,
                                     decay_ratio=decay_ratio if decay_ratio != 2 else None)

    def fn(ctx: Context) -> tf.Tensor:
        acts = ctx(layer)
        n = ctx.batch_size
        total = tf.constant(0.0, tf.float32)
        for distance in range(1, min(ALIGNMENT_MAX_DISTANCE, n - 1) + 1):
            diff = acts[distance:] - acts[:-distance]
            per_pair = tf.reduce_mean(tf.square(diff), axis=list(range(1, acts.shape.rank)))
            total += tf.reduce_sum(per_pair) / decay_ratio ** distance
        return -total

    return Leaf(fn, description, layers=(layer,))


def channel_interpolate(layer1: str, n1: int, layer2: str, n2: int) -> Objective:
    """Interpolates across the batch from channel ``layer1:n1`` to ``layer2:n2``.

    Image ``i`` of ``N`` maximizes ``(1 - w) * channel1 + w * channel2`` with
    ``w = i / (N - 1)``; the terms are summed over the batch (as Lucid does).
    Needs a batch of at least 2 images.
    """
    checks.layer_name("layer1", layer1)
    checks.layer_name("layer2", layer2)
    n1 = checks.non_negative_int("n1", n1)
    n2 = checks.non_negative_int("n2", n2)
    description = format_description("ChannelInterpolate", layer1, n1, layer2, n2)

    def fn(ctx: Context) -> tf.Tensor:
        n = ctx.batch_size
        weights = tf.constant(np.arange(n, dtype=np.float32) / (n - 1))
        first = ctx(layer1)[..., n1]
        second = ctx(layer2)[..., n2]
        axes1 = list(range(1, first.shape.rank))
        axes2 = list(range(1, second.shape.rank))
        return tf.reduce_sum((1 - weights) * tf.reduce_mean(first, axis=axes1)
                             + weights * tf.reduce_mean(second, axis=axes2))

    def check(model, image_shape):
        model_checks.check_channel(model, layer1, n1, image_shape)
        model_checks.check_channel(model, layer2, n2, image_shape)
        model_checks.check_min_batch(image_shape, 2, description)

    return Leaf(fn, description, layers=tuple(dict.fromkeys((layer1, layer2))), check=check)
