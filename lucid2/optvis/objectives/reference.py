"""Objectives that compare the rendered images with a reference image (a photo).

Feature inversion, caricatures, style transfer and feature accentuation all
measure the optimized images against a fixed image. Wrap that image once with
:func:`reference_image`, then use it in any of these objectives::

    photo = reference_image("dog.jpg")
    obj = activation_match(photo, "mixed4a") - 0.5 * input_diff(photo)

Alignment: during rendering the reference is resized to the parameterization's
(height, width) and stacked onto the optimized images along the channel axis
before the random transforms, so every step's pad, jitter, scale and rotation
move the reference and the images identically; the model then sees both in one
batch, and ``ctx.reference(photo, layer)`` gives the reference's activations
under that same draw. ``ctx.reference(photo, "input")`` is the untransformed
reference. :meth:`Objective.evaluate` compares untransformed images.

Signs: :func:`activation_match` is maximized (ADD it); :func:`input_diff`,
:func:`style_loss` and :func:`content_loss` are non-negative penalties
(SUBTRACT them).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Sequence

import numpy as np
import tensorflow as tf

from lucid2.misc.io import rgb_batch
from lucid2.optvis import checks
from lucid2.optvis.objectives.core import INPUT, Context, Leaf, Objective
from lucid2.optvis.objectives.layers import format_description
from lucid2.optvis.param.init import resize_images

# Keeps norms and ratios finite for all-zero activations.
EPSILON = 1e-8
# A cosine below this is taken as this before a fractional power (negative cosines, possible
# on pre-ReLU layers, have no real fractional power).
COSINE_FLOOR = 1e-6
# Gatys et al.'s style layers, at the depths they used, in InceptionV1's names.
DEFAULT_STYLE_LAYERS = ("conv2d2", "mixed3a", "mixed3b", "mixed4a", "mixed4b", "mixed4c")
DEFAULT_CONTENT_LAYERS = ("mixed4b",)


@dataclasses.dataclass(frozen=True, eq=False)
class ReferenceImage:
    """A fixed image that objectives compare the rendered images with.

    Attributes:
      images: float32 (M, H, W, 3) in [0, 1]; M is 1 (compared with every image
        of the batch) or the render's batch size (image ``i`` with image ``i``).
      name: how descriptions call it.

    Two references are the same only if they are the same object, so an
    objective using one reference twice computes its activations once.
    """

    images: np.ndarray
    name: str

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(self.images.shape)

    def check_batch(self, batch: int) -> None:
        """ValueError unless the reference can go with a batch of ``batch`` images."""
        count = self.images.shape[0]
        if count not in (1, batch):
            raise ValueError(
                f"The reference {self.name!r} holds {count} images; a render of {batch} "
                f"image(s) needs 1 (shared by all) or {batch} (one per image).")

    def resized(self, batch: int, height: int, width: int) -> np.ndarray:
        """The reference as (batch, height, width, 3): resized (bilinear, antialiased) and
        repeated over the batch; ValueError when its own batch is neither 1 nor ``batch``."""
        self.check_batch(batch)
        images = resize_images(self.images, height, width)
        return np.ascontiguousarray(np.broadcast_to(images, (batch, height, width, 3)),
                                    dtype=np.float32)

    def __repr__(self) -> str:
        return f"ReferenceImage({self.name!r}, shape={self.shape})"


def reference_image(image, name: str | None = None) -> ReferenceImage:
    """Wraps a photo for the objectives of this module.

    Args:
      image: a path, or an array (H, W, 3) / (M, H, W, 3), float in [0, 1] or uint8
        (see :func:`lucid2.misc.io.rgb_batch`).
      name: for descriptions; default the file name, or "reference".
    """
    if name is None:
        name = (os.path.basename(os.fspath(image)) if isinstance(image, (str, os.PathLike))
                else "reference")
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}.")
    images = rgb_batch(image, name="the reference image")
    images.setflags(write=False)
    return ReferenceImage(images, name)


def _check_reference(reference) -> ReferenceImage:
    if not isinstance(reference, ReferenceImage):
        raise TypeError(
            "Expected a reference made by objectives.reference_image(photo), got "
            f"{type(reference).__name__}.")
    return reference


def _layer_list(layers) -> tuple[str, ...]:
    names = (layers,) if isinstance(layers, str) else tuple(layers)
    if not names:
        raise ValueError("layers must name at least one layer, e.g. 'mixed4a'.")
    for name in names:
        checks.layer_name("layers", name)
        if name == INPUT:
            raise ValueError("layers must be model layers; compare the images themselves with "
                             "input_diff(reference).")
    return tuple(dict.fromkeys(names))


def _flat(t: tf.Tensor) -> tf.Tensor:
    """(N, ...) to (N, features)."""
    return tf.reshape(t, tf.stack([tf.shape(t)[0], -1]))


def activation_match(reference: ReferenceImage, layers: str | Sequence[str],
                     cossim_pow: float = 1.0) -> Objective:
    """How much the images' activations point along the reference's; to MAXIMIZE.

    For each layer and image: ``dot(a, r) / |r|**2 * cos(a, r)**cossim_pow`` with
    ``a`` the image's and ``r`` the reference's activations (flattened). It is 1
    when the activations equal the reference's, grows when they are larger in the
    same direction (a caricature) and, with ``cossim_pow > 0``, favours direction
    over magnitude (Lucid's caricature objective, divided by ``|r|**2`` so that
    layers of any scale weigh alike). Averaged over layers, summed over images.
    """
    reference = _check_reference(reference)
    names = _layer_list(layers)
    power = checks.non_negative_float("cossim_pow", cossim_pow)
    description = format_description("ActivationMatch", ", ".join(names), reference.name,
                                     cossim_pow=power)

    def fn(ctx: Context) -> tf.Tensor:
        total = 0.0
        for name in names:
            acts, ref = _flat(ctx(name)), _flat(ctx.reference(reference, name))
            dot = tf.reduce_sum(acts * ref, axis=1)
            ref_sq = tf.reduce_sum(tf.square(ref), axis=1)
            value = dot / (ref_sq + EPSILON)
            if power:
                norms = tf.norm(acts, axis=1) * tf.sqrt(ref_sq)
                cosine = tf.maximum(dot / (norms + EPSILON), COSINE_FLOOR)
                value *= cosine ** power
            total += tf.reduce_sum(value)
        return total / len(names)

    return Leaf(fn, description, layers=names, references=(reference,))


def input_diff(reference: ReferenceImage) -> Objective:
    """Root-mean-square difference between the untransformed images and the reference;
    a penalty to SUBTRACT (the pull back toward a photo)."""
    reference = _check_reference(reference)
    description = format_description("InputDiff", reference.name)

    def fn(ctx: Context) -> tf.Tensor:
        images = ctx(INPUT)[..., :3]  # alpha, if any, is not compared
        return tf.sqrt(tf.reduce_mean(tf.square(images - ctx.reference(reference, INPUT)))
                       + EPSILON)

    return Leaf(fn, description, layers=(INPUT,), references=(reference,))


def gram_matrix(activations: tf.Tensor) -> tf.Tensor:
    """(N, H, W, C) activations to (N, C, C) Gram matrices, averaged over positions."""
    shape = tf.shape(activations)
    flat = tf.reshape(activations, tf.stack([shape[0], -1, shape[-1]]))
    positions = tf.cast(tf.shape(flat)[1], activations.dtype)
    return tf.matmul(flat, flat, transpose_a=True) / positions


def _check_4d(names: tuple[str, ...], what: str):
    def check(model, image_shape):
        if image_shape is None:
            return
        for name in names:
            rank = len(model.output_shape(name, image_shape))
            if rank != 4:
                raise ValueError(
                    f"{what} needs layers with (N, H, W, C) activations; {name!r} gives "
                    f"rank-{rank} outputs. Choose convolutional layers.")
    return check


def style_loss(reference: ReferenceImage,
               layers: str | Sequence[str] = DEFAULT_STYLE_LAYERS) -> Objective:
    """How far the images' Gram matrices are from the reference's (Gatys et al.); a
    penalty to SUBTRACT.

    Per layer: the mean squared difference of the Gram matrices divided by the mean
    square of the reference's Gram matrix, so that every layer weighs alike whatever
    its scale; averaged over layers and images (0 for the reference itself). The
    default layers suit InceptionV1; name others for other models.
    """
    reference = _check_reference(reference)
    names = _layer_list(layers)
    description = format_description("StyleLoss", ", ".join(names), reference.name)

    def fn(ctx: Context) -> tf.Tensor:
        total = 0.0
        for name in names:
            gram, ref_gram = gram_matrix(ctx(name)), gram_matrix(ctx.reference(reference, name))
            scale = tf.reduce_mean(tf.square(ref_gram), axis=[1, 2]) + EPSILON
            total += tf.reduce_mean(tf.reduce_mean(tf.square(gram - ref_gram), axis=[1, 2])
                                    / scale)
        return total / len(names)

    return Leaf(fn, description, layers=names, references=(reference,),
                check=_check_4d(names, "style_loss"))


def content_loss(reference: ReferenceImage,
                 layers: str | Sequence[str] = DEFAULT_CONTENT_LAYERS) -> Objective:
    """Mean squared difference between the images' and the reference's activations,
    divided by the reference's mean square (layers weigh alike), averaged over layers
    and images; a penalty to SUBTRACT."""
    reference = _check_reference(reference)
    names = _layer_list(layers)
    description = format_description("ContentLoss", ", ".join(names), reference.name)

    def fn(ctx: Context) -> tf.Tensor:
        total = 0.0
        for name in names:
            acts, ref = _flat(ctx(name)), _flat(ctx.reference(reference, name))
            scale = tf.reduce_mean(tf.square(ref), axis=1) + EPSILON
            total += tf.reduce_mean(tf.reduce_mean(tf.square(acts - ref), axis=1) / scale)
        return total / len(names)

    return Leaf(fn, description, layers=names, references=(reference,))
