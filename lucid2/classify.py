r"""Classifies images: the quick check that a model import (value range, channel order) is right.

  python -m lucid2.classify photo.jpg other.png --top_k=5
  python -m lucid2.classify photo.jpg --weights=/path/to/inception5h --json
  python -m lucid2.classify photo.jpg --model=/path/to/model.keras --value_range=-1,1
"""

from __future__ import annotations

import json
import os
import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model", "inceptionv1", "'inceptionv1', a .keras/.h5 file, a SavedModel "
                    "directory or a TF-Hub handle.")
flags.DEFINE_string("weights", "imagenet", "InceptionV1 weights: 'imagenet', a local path, or "
                    "'none' for random weights.")
flags.DEFINE_list("value_range", None, "low,high pixel range the model expects (required for "
                  "models other than inceptionv1), e.g. -1,1 or 0,255.")
flags.DEFINE_enum("channel_order", "RGB", ["RGB", "BGR"], "Channel order the model expects.")
flags.DEFINE_integer("top_k", 5, "How many classes to print per image.", lower_bound=1)
flags.DEFINE_integer("size", 224, "Images are resized (bilinear) to size x size.", lower_bound=1)
flags.DEFINE_bool("json", False, "Print one JSON object per image instead of a table.")


def _parse_value_range(values: list[str] | None) -> tuple[float, float] | None:
    if values is None:
        return None
    try:
        low, high = (float(v) for v in values)
    except ValueError:
        raise app.UsageError(f"--value_range must be two numbers 'low,high', got {values}.")
    return low, high


def _softmax(logits):
    import numpy as np

    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def main(argv: list[str]) -> int:
    paths = argv[1:]
    if not paths:
        raise app.UsageError("Give one or more image paths: python -m lucid2.classify IMAGE...")
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise app.UsageError(f"Image file(s) not found: {', '.join(missing)}")
    value_range = _parse_value_range(FLAGS.value_range)
    weights = None if FLAGS.weights.lower() == "none" else FLAGS.weights

    import numpy as np

    from lucid2.misc.io import load_image
    from lucid2.modelzoo.loaders import load

    model = load(FLAGS.model, value_range=value_range, channel_order=FLAGS.channel_order,
                 weights=weights)
    images = np.stack([load_image(p, size=(FLAGS.size, FLAGS.size)) for p in paths])
    outputs = model.predict(images)
    if outputs.ndim != 2:
        raise app.UsageError(f"The model's output has shape {outputs.shape}; classify needs "
                             "(N, classes) logits or probabilities.")
    # Outputs that already sum to one are probabilities; anything else is treated as logits.
    is_probability = np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3) and outputs.min() >= 0
    probabilities = outputs if is_probability else _softmax(outputs)
    labels = model.labels
    for path, probs in zip(paths, probabilities):
        top = np.argsort(-probs)[:FLAGS.top_k]
        rows = [{"class": int(k), "label": labels[k] if labels else f"class {k}",
                 "probability": float(probs[k])} for k in top]
        if FLAGS.json:
            print(json.dumps({"image": path, "top_k": rows}))
        else:
            print(path)
            for row in rows:
                print(f"  {row['class']:5d}  {row['probability']:.4f}  {row['label']}")
    return 0


def run() -> None:
    """Console entry point."""
    app.run(main)


if __name__ == "__main__":
    sys.exit(run())
