"""Vision models for lucid2: InceptionV1 with real weights, or any Keras / SavedModel / Hub model.

Every model is a :class:`VisionModel` taking float32 RGB images in [0, 1]; its
:class:`Preprocessing` (value range, mean, std, channel order) maps them to what
the network receives, inside the graph.
A :class:`ModelSpec` names a model without loading it; :func:`load_from_spec`
loads it. :func:`load_hub_generator` loads a TF-Hub image generator for
``lucid2.optvis.param.generator``.
"""

from lucid2.modelzoo.base import LayerInfo, VisionModel
from lucid2.modelzoo.generators import HubGenerator, load_hub_generator
from lucid2.modelzoo.hub import HubDownloadError
from lucid2.modelzoo.inceptionv1 import InceptionV1
from lucid2.modelzoo.keras_applications import (KERAS_APPLICATIONS, KerasApplication,
                                                keras_application)
from lucid2.modelzoo.loaders import (RestoredVisionModel, from_keras, load, load_hub,
                                     load_saved_model)
from lucid2.modelzoo.preprocessing import NAMED_CONVENTIONS, Preprocessing
from lucid2.modelzoo.spec import ModelSpec, load_from_spec

__all__ = ["KERAS_APPLICATIONS", "KerasApplication", "keras_application",
           "HubDownloadError", "HubGenerator", "InceptionV1", "LayerInfo", "ModelSpec",
           "NAMED_CONVENTIONS", "Preprocessing", "RestoredVisionModel", "VisionModel",
           "from_keras", "load", "load_from_spec", "load_hub", "load_hub_generator",
           "load_saved_model"]
