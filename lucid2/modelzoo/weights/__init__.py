"""Pretrained InceptionV1 ("inception5h") weights: read, convert, verify, download, cache.

The entry point is :func:`load_weights`. This package knows nothing about the
Keras graph: callers pass the ``{name: shape}`` they need (TensorFlow layout),
e.g. ``lucid2.modelzoo.inceptionv1_graph.weight_shapes()``.
"""

from lucid2.modelzoo.weights.detect import ACCEPTED_FORMS, detect_format, read_weights
from lucid2.modelzoo.weights.download import (DEADLINE_ENV_VAR, DEFAULT_DEADLINE_S, Deadline,
                                              DeadlineExceeded, DownloadError, deadline_seconds,
                                              fetch_url)
from lucid2.modelzoo.weights.formats import (LAYOUT_CAFFE2, LAYOUT_TF, RawWeights,
                                             read_graphdef, read_hdf5_dir, read_zip)
from lucid2.modelzoo.weights.lucid2_file import read_lucid2_file, write_lucid2_file
from lucid2.modelzoo.weights.normalize import NUM_CLASSES, normalize, normalize_labels
from lucid2.modelzoo.weights.progress import DownloadProgress
from lucid2.modelzoo.weights.resolve import (ENV_VAR, IMAGENET, WeightSet, cache_path,
                                             default_cache_dir, load_local, load_url,
                                             load_weights, offline_advice)
from lucid2.modelzoo.weights.sources import DEFAULT_SOURCES, Source

__all__ = [
    "ACCEPTED_FORMS", "DEADLINE_ENV_VAR", "DEFAULT_DEADLINE_S", "DEFAULT_SOURCES", "Deadline",
    "DeadlineExceeded", "DownloadError", "DownloadProgress", "ENV_VAR", "IMAGENET",
    "LAYOUT_CAFFE2", "LAYOUT_TF", "NUM_CLASSES", "RawWeights", "Source", "WeightSet",
    "cache_path", "deadline_seconds", "default_cache_dir", "detect_format", "fetch_url",
    "load_local", "load_url", "load_weights", "normalize", "normalize_labels", "offline_advice",
    "read_graphdef", "read_hdf5_dir", "read_lucid2_file", "read_weights", "read_zip",
    "write_lucid2_file",
]
