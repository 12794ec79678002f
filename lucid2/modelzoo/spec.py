"""What model to load, as a value: :class:`ModelSpec`, and :func:`load_from_spec`, which loads it.

A spec is checked and passed around (to command-line apps, appendix workers
on other machines) before anything heavy is built; it is small and picklable.
"""

from __future__ import annotations

import dataclasses

import keras

from lucid2.modelzoo.base import VisionModel
from lucid2.modelzoo.loaders import (DEFAULT_WEIGHTS, INCEPTIONV1_NAMES, keras_application_name,
                                     load)
from lucid2.modelzoo.preprocessing import Preprocessing, as_preprocessing


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What to load, not yet loaded.

    Attributes:
      model: "inceptionv1" (or "inception_v1", "googlenet"), "keras:NAME" (a
        ``keras.applications`` model such as "keras:ResNet50"), a ``.keras`` /
        ``.h5`` file, a SavedModel directory or a TF-Hub handle (see
        :func:`lucid2.modelzoo.load`).
      weights: InceptionV1 and keras: models only: "imagenet", a local path, or
        None for a randomly initialized network. Other models carry their own
        weights.
      value_range: the (low, high) pixel range the model expects; None for
        InceptionV1 and keras: models, which know their own, and when
        ``preprocessing`` is given; required for any other model otherwise.
      channel_order: "RGB" or "BGR" (with ``value_range``).
      preprocessing: the model's whole input convention instead of
        ``value_range`` and ``channel_order``: a
        :class:`~lucid2.modelzoo.preprocessing.Preprocessing`, or a named one
        ("tf", "caffe", "torch", ...), stored as the Preprocessing it names.

    A spec that gives both ``preprocessing`` and ``value_range`` (or a channel
    order other than RGB) is refused with a ValueError when it is made.
    """

    model: str
    weights: str | None = DEFAULT_WEIGHTS
    value_range: tuple[float, float] | None = None
    channel_order: str = "RGB"
    preprocessing: Preprocessing | None = None

    def __post_init__(self) -> None:
        if self.preprocessing is None:
            return
        # A frozen dataclass keeps the normalized value; Preprocessing pickles as plain numbers.
        object.__setattr__(self, "preprocessing", as_preprocessing(self.preprocessing))
        if self.value_range is not None or self.channel_order != "RGB":
            raise ValueError(
                f"ModelSpec({self.model!r}): give either preprocessing or value_range/"
                "channel_order, not both; the preprocessing holds its own value range and "
                "channel order.")

    @property
    def is_inceptionv1(self) -> bool:
        """True when the spec names lucid2's InceptionV1."""
        return self.model.strip().lower() in INCEPTIONV1_NAMES

    @property
    def keras_application_name(self) -> str | None:
        """NAME for a "keras:NAME" spec, else None."""
        return keras_application_name(self.model)

    @property
    def takes_weights(self) -> bool:
        """True when ``weights`` applies: InceptionV1 and keras: models."""
        return self.is_inceptionv1 or self.keras_application_name is not None


def load_from_spec(spec: ModelSpec, *, random_seed: int | None = None) -> VisionModel:
    """Builds the model ``spec`` names.

    Args:
      spec: what to load.
      random_seed: for a randomly initialized InceptionV1 or keras: model
        (``weights=None``), seeds Keras' random generators first, so that every
        process that loads the spec builds the same network. Ignored for other
        specs.
    """
    if spec.takes_weights:
        if spec.weights is None and random_seed is not None:
            keras.utils.set_random_seed(random_seed)
        return load(spec.model, weights=spec.weights)
    if spec.preprocessing is not None:
        return load(spec.model, preprocessing=spec.preprocessing)
    return load(spec.model, value_range=spec.value_range, channel_order=spec.channel_order)
