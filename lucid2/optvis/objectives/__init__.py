"""Objectives for feature visualization: what rendering maximizes.

An :class:`Objective` maps a :class:`Context` (the layer activations of the
transformed batch, and the untransformed images as ``ctx("input")``) to a
scalar that rendering MAXIMIZES. Objectives are immutable and combine with
``+ - * /`` (by numbers and by other objectives); ``sum([...])`` of thousands
of terms works. Before anything compiles, :meth:`Objective.validate` checks
layer names (suggesting close matches), channel indices, batch targets and
positions against the model.

Sign conventions (as in Lucid): penalties (:func:`L1`, :func:`L2`,
:func:`total_variation`, :func:`blur_input_each_step`) are non-negative and
are SUBTRACTED, e.g. ``channel("mixed4a", 97) - 1e-3 * L1(constant=0.5)``;
:func:`diversity` and :func:`alignment` are at most 0 and are ADDED.

Batches: :func:`channels_per_image` makes image ``i`` of the batch show
channel ``units[i]`` (one render, several channels).

Photos: :func:`reference_image` wraps an image that :func:`activation_match`
(feature inversion, caricatures), :func:`input_diff`, :func:`style_loss` and
:func:`content_loss` compare the rendered images with, under the same random
transforms (see :mod:`.reference`). :func:`latent_prior` keeps a generator's latent
(``param.generator``) near its prior.

Strings: ``as_objective("mixed4a:97")`` is ``channel("mixed4a", 97)``;
``"mixed4a"`` is ``deepdream("mixed4a")``; sums and weights such as
``"0.5*mixed4a:476 - mixed3b:5"`` are accepted (see :data:`GRAMMAR`).
"""

from lucid2.optvis.objectives.batch import alignment, channel_interpolate, diversity
from lucid2.optvis.objectives.core import (INPUT, Constant, Context, Leaf, Objective, Product,
                                           Quotient, ReferenceActivations, Scale, Sum,
                                           split_reference_activations)
from lucid2.optvis.objectives.image import L1, L2, blur_input_each_step, total_variation
from lucid2.optvis.objectives.layers import (channel, channels_per_image, class_logit,
                                             class_probability, deepdream, direction,
                                             direction_neuron, neuron, resolve_label)
from lucid2.optvis.objectives.parsing import GRAMMAR, as_objective, parse_objective
from lucid2.optvis.objectives.prior import latent_prior
from lucid2.optvis.objectives.reference import (DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS,
                                                ReferenceImage, activation_match, content_loss,
                                                gram_matrix, input_diff, reference_image,
                                                style_loss)

__all__ = [
    "DEFAULT_CONTENT_LAYERS", "DEFAULT_STYLE_LAYERS", "GRAMMAR", "INPUT", "Constant", "Context",
    "L1", "L2", "Leaf", "Objective", "Product", "Quotient", "ReferenceActivations",
    "ReferenceImage", "Scale", "Sum", "activation_match", "alignment", "as_objective",
    "blur_input_each_step", "channel", "channel_interpolate", "channels_per_image",
    "class_logit", "class_probability", "content_loss", "deepdream", "diversity", "direction",
    "direction_neuron", "gram_matrix", "input_diff", "latent_prior", "neuron", "parse_objective",
    "reference_image", "resolve_label", "split_reference_activations", "style_loss",
    "total_variation",
]
