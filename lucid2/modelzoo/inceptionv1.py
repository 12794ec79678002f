"""GoogLeNet / InceptionV1 ("inception5h"), the network of the Feature Visualization article."""

from __future__ import annotations

import os

from lucid2 import kernels
from lucid2.modelzoo import inceptionv1_graph as graph
from lucid2.modelzoo.base import VisionModel
from lucid2.modelzoo.weights import load_weights

# Lucid's layers of interest, in order: what the article's appendix renders.
MAIN_LAYERS = ("conv2d0", "conv2d1", "conv2d2", "mixed3a", "mixed3b", "mixed4a", "mixed4b",
               "mixed4c", "mixed4d", "mixed4e", "mixed5a", "mixed5b")
LOGITS_LAYER = "softmax2_pre_activation"


def _layer_kinds() -> dict[str, str]:
    kinds = dict.fromkeys(("conv2d0", "conv2d1", "conv2d2"), "conv")
    for block, *_ in graph.MIXED_BLOCKS:
        kinds[block] = "mixed"
        kinds[f"{block}_pre_relu"] = "mixed_pre_relu"
    kinds.update({LOGITS_LAYER: "logits", "softmax2": "softmax",
                  "localresponsenorm0": "lrn", "localresponsenorm1": "lrn"})
    return kinds


class InceptionV1(VisionModel):
    """InceptionV1 with Lucid's layer names, taking [0, 1] RGB images of any size.

    Args:
      weights: "imagenet" (download, convert, verify and cache the pretrained
        weights; the environment variable ``LUCID2_INCEPTIONV1_WEIGHTS`` may name
        a local copy), a local path to ``tensorflow_inception_graph.pb``,
        ``inception5h.zip``, Lucid's ``InceptionV1.pb``, the per-tensor HDF5
        folder of soumith/inception.torch or lucid2's converted ``.npz``; or
        None for a randomly initialized network.
      cache_dir: where downloaded weights are cached (default: the Keras cache).
      download_timeout_s: for "imagenet" or a URL: seconds the whole download
        may take, every source and retry included (default:
        ``$LUCID2_DOWNLOAD_TIMEOUT``, else 60; ``math.inf`` for no limit).
      download_progress: show the download's progress on standard error; False
        for quiet.
      lrn_implementation: how the two local response normalizations are computed, with
        the same numbers: "auto" (TensorFlow's kernels on GPU, XLA-compiled on CPU),
        "xla", "ops" (plain TensorFlow ops, nothing compiled) or "tensorflow" (see
        :func:`lucid2.kernels.local_response_normalization`).

    The model maps its input to the network's own range, ``x * 255 - 117``,
    itself; ``value_range`` records that range as metadata.
    """

    main_layers = MAIN_LAYERS

    def __init__(self, weights: str | os.PathLike | None = "imagenet", *,
                 cache_dir: str | os.PathLike | None = None,
                 download_timeout_s: float | None = None, download_progress: bool = True,
                 lrn_implementation: str = "auto"):
        lrn_implementation = kernels.check_lrn_implementation(lrn_implementation)
        weight_set = None
        if weights is not None:
            # Weights are loaded and verified before the (slower) graph is built.
            weight_set = load_weights(weights, graph.weight_shapes(), cache_dir=cache_dir,
                                      download_timeout_s=download_timeout_s,
                                      download_progress=download_progress)
        keras_model = graph.build_inception_v1(lrn_implementation=lrn_implementation)
        if weight_set is not None:
            graph.assign_weights(keras_model, weight_set.tensors)
        super().__init__(
            keras_model, value_range=graph.IMAGE_VALUE_RANGE, channel_order="RGB",
            takes_unit_range=True, labels=weight_set.labels if weight_set else None,
            logits_layer=LOGITS_LAYER, layer_kinds=_layer_kinds(), name="InceptionV1")
        self.weights_source = weight_set.source if weight_set else None
