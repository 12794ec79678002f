"""Converts InceptionV1 weights from any supported source into lucid2's weights file.

  python -m lucid2.convert_weights --source=imagenet --output=inceptionv1.npz
  python -m lucid2.convert_weights --source=path/to/inception5h.zip --output=w.npz

``--source`` is ``imagenet`` (download, as ``InceptionV1(weights="imagenet")``
does), an http(s) URL of a ``.pb`` / ``.zip`` / lucid2 ``.npz``, or a local
``.pb``, ``.zip``, soumith/inception.torch HDF5 folder or lucid2 ``.npz``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from absl import app, flags

from lucid2 import app_checks, app_output

if TYPE_CHECKING:
    from lucid2.modelzoo.weights import WeightSet

APP_NAME = "lucid2.convert_weights"

# required=True: absl refuses a missing flag, and the holders' values are typed str.
_SOURCE = flags.DEFINE_string(
    "source", None, "'imagenet', an http(s) URL, or a local .pb, .zip, HDF5 folder or .npz.",
    required=True)
_OUTPUT = flags.DEFINE_string("output", None, "The lucid2 weights file (.npz) to write.",
                              required=True)
app_output.define_output_flags(quiet=False)


def convert(source: str, output: str) -> WeightSet:
    """Loads and verifies all InceptionV1 tensors from ``source`` and writes them to ``output``.

    A full disk raises :class:`lucid2.app_checks.OutputFull` saying the space needed; the
    file is written whole or not at all.
    """
    # Imported here, not at the top, so that --help loads no TensorFlow.
    from lucid2.modelzoo.inceptionv1_graph import weight_shapes
    from lucid2.modelzoo.weights import load_weights, write_lucid2_file

    weight_set = load_weights(source, weight_shapes())
    # The .npz is stored uncompressed: about the tensors' own size.
    needed = sum(tensor.nbytes for tensor in weight_set.tensors.values())
    with app_checks.saving_to(output, needed_bytes=needed):
        write_lucid2_file(output, weight_set.tensors, weight_set.labels, weight_set.source)
    return weight_set


@app_checks.app_main(APP_NAME)
def main(argv: list[str]) -> None:
    """Checks the output, converts; Ctrl-C and a full disk end it with one line."""
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    # Before a download or a conversion that takes a while.
    app_checks.check_output_file(_OUTPUT.value, "--output")
    app_output.start()
    try:
        weight_set = convert(_SOURCE.value, _OUTPUT.value)
    except (OSError, ValueError, TypeError) as error:
        if app_checks.is_disk_full(error):
            raise  # e.g. while downloading: app_main's line names the file and the free space
        # Bad input or no network: a message is more useful than a traceback here.
        sys.exit(f"{APP_NAME}: error: {error}")
    labels = f"{len(weight_set.labels)} labels" if weight_set.labels else "no labels"
    print(f"Wrote {_OUTPUT.value}: {len(weight_set.tensors)} tensors, "
          f"{weight_set.num_params:,} parameters, {labels}, from {weight_set.source}")


if __name__ == "__main__":
    app.run(main)
