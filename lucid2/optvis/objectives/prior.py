"""A penalty keeping a generator's latent near its prior (for ``param.generator``).

Optimizing a generator's latent freely can walk it far from the Gaussian the
generator was trained on, where its images stop looking natural. Subtracting
:func:`latent_prior` pulls the latent back::

    objective = channel("mixed4a", 97) - 0.1 * latent_prior(generator_param)
"""

from __future__ import annotations

import tensorflow as tf

from lucid2.optvis.objectives.core import Context, Leaf, Objective
from lucid2.optvis.param.generator import GeneratorImage


def latent_prior(generator_param: GeneratorImage) -> Objective:
    """Mean of ``(latent / latent_sd) ** 2`` over the latent; a penalty to SUBTRACT.

    This is twice the Gaussian prior's negative log density per latent value, up
    to a constant: about 1 for a draw from the prior, 0 at the prior's mean. It
    reads the param's latent variable, not the model, so it adds no layer to
    compute; it must be used with the param that is rendered.

    Args:
      generator_param: the :func:`lucid2.optvis.param.generator` param being optimized.
    """
    if not isinstance(generator_param, GeneratorImage):
        raise TypeError(
            "latent_prior needs the param.generator(...) param whose latent it penalizes, got "
            f"{type(generator_param).__name__}.")
    latent = generator_param.latent
    inverse_variance = 1.0 / generator_param.latent_sd ** 2

    def fn(ctx: Context) -> tf.Tensor:
        return tf.reduce_mean(tf.square(latent)) * inverse_variance

    description = f"LatentPrior [sd={generator_param.latent_sd:g}]"
    return Leaf(fn, description, layers=())
