"""What model to load, as a value: :class:`ModelSpec`, and :func:`load_from_spec`, which loads it.

A spec is checked and passed around (to command-line apps, appendix workers
on other machines) before anything heavy is built; it is small and picklable.
"""

from __future__ import annotations

import dataclasses

import keras

from lucid2.modelzoo.base import VisionModel
from lucid2.modelzoo.loaders import DEFAULT_WEIGHTS, INCEPTIONV1_NAMES, load


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What to load, not yet loaded.

    Attributes:
      model: "inceptionv1" (or "inception_v1", "googlenet"), a ``.keras`` /
        ``.h5`` file, a SavedModel directory or a TF-Hub handle (see
        :func:`lucid2.modelzoo.load`).
      weights: InceptionV1 only: "imagenet", a local path, or None for a
        randomly initialized network. Other models carry their own weights.
      value_range: the (low, high) pixel range the model expects; None for
        InceptionV1, which knows its own, required for any other model.
      channel_order: "RGB" or "BGR".
    """

    model: str
    weights: str | None = DEFAULT_WEIGHTS
    value_range: tuple[float, float] | None = None
    channel_order: str = "RGB"

    @property
    def is_inceptionv1(self) -> bool:
        return self.model.strip().lower() in INCEPTIONV1_NAMES


def load_from_spec(spec: ModelSpec, *, random_seed: int | None = None) -> VisionModel:
    """Builds the model ``spec`` names.

    Args:
      spec: what to load.
      random_seed: for a randomly initialized InceptionV1 (``weights=None``),
        seeds Keras' random generators first, so that every process that
        loads the spec builds the same network. Ignored for other specs.
    """
    if spec.is_inceptionv1:
        if spec.weights is None and random_seed is not None:
            keras.utils.set_random_seed(random_seed)
        return load(spec.model, weights=spec.weights)
    return load(spec.model, value_range=spec.value_range, channel_order=spec.channel_order)
