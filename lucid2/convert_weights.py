"""Converts InceptionV1 weights from any supported source into lucid2's weights file.

  python -m lucid2.convert_weights --source=imagenet --output=inceptionv1.npz
  python -m lucid2.convert_weights --source=path/to/inception5h.zip --output=w.npz

``--source`` is ``imagenet`` (download, as ``InceptionV1(weights="imagenet")``
does), an http(s) URL of a ``.pb`` / ``.zip`` / lucid2 ``.npz``, or a local
``.pb``, ``.zip``, soumith/inception.torch HDF5 folder or lucid2 ``.npz``.
"""

from __future__ import annotations

import sys

from absl import app, flags

from lucid2.modelzoo.inceptionv1_graph import weight_shapes
from lucid2.modelzoo.weights import WeightSet, load_weights, write_lucid2_file

_SOURCE = flags.DEFINE_string(
    "source", None, "'imagenet', an http(s) URL, or a local .pb, .zip, HDF5 folder or .npz.")
_OUTPUT = flags.DEFINE_string("output", None, "The lucid2 weights file (.npz) to write.")
flags.mark_flags_as_required(["source", "output"])


def convert(source: str, output: str) -> WeightSet:
    """Loads and verifies all InceptionV1 tensors from ``source`` and writes them to ``output``."""
    weight_set = load_weights(source, weight_shapes())
    write_lucid2_file(output, weight_set.tensors, weight_set.labels, weight_set.source)
    return weight_set


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    try:
        weight_set = convert(_SOURCE.value, _OUTPUT.value)
    except (OSError, ValueError, TypeError) as error:
        # Bad input or no network: a message is more useful than a traceback here.
        sys.exit(f"convert_weights: {error}")
    labels = f"{len(weight_set.labels)} labels" if weight_set.labels else "no labels"
    print(f"Wrote {_OUTPUT.value}: {len(weight_set.tensors)} tensors, "
          f"{weight_set.num_params:,} parameters, {labels}, from {weight_set.source}")


if __name__ == "__main__":
    app.run(main)
