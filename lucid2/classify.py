r"""Classifies images: the quick check that a model import (value range, channel order) is right.

  python -m lucid2.classify photo.jpg other.png --top_k=5
  python -m lucid2.classify photo.jpg --weights=/path/to/inception5h --json
  python -m lucid2.classify photo.jpg --model=/path/to/model.keras --value_range=-1,1
"""

from __future__ import annotations

import json
import os

from absl import app, flags

from lucid2 import app_checks, app_flags, app_output

FLAGS = flags.FLAGS
app_flags.define_model_flags()
flags.DEFINE_integer("top_k", 5, "How many classes to print per image.", lower_bound=1)
flags.DEFINE_integer("size", 224, "Images are resized (bilinear) to size x size.", lower_bound=1)
flags.DEFINE_bool("json", False, "Print one JSON object per image instead of a table.")
app_output.define_output_flags(quiet=False)


def _softmax(logits):
    import numpy as np

    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def _load_images(paths: list[str], size: int) -> list:
    """Every image as RGB resized to size x size; a UsageError naming each file that fails."""
    from lucid2.misc.io import ImageLoadError, load_image

    images, problems = [], []
    for path in paths:
        try:
            images.append(load_image(path, size=(size, size)))
        except (ImageLoadError, OSError) as error:
            # One line per run, however the decoder worded its message.
            problems.append(" ".join(str(error).split()))
    if problems:
        raise app.UsageError(f"{len(problems)} of {len(paths)} image(s) cannot be loaded: "
                             + " ".join(problems))
    return images


@app_checks.app_main("lucid2.classify")
def main(argv: list[str]) -> int:
    """Classifies each image argument; Ctrl-C ends it with one line."""
    paths = argv[1:]
    if not paths:
        raise app.UsageError("Give one or more image paths: python -m lucid2.classify IMAGE...")
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise app.UsageError(f"Image file(s) not found: {', '.join(missing)}")
    app_output.start()
    spec = app_flags.model_spec_from_flags()

    import numpy as np

    from lucid2.modelzoo import load_from_spec

    # The images are read before the model loads: a bad file fails in a moment.
    images = np.stack(_load_images(paths, FLAGS.size))
    model = load_from_spec(spec)
    outputs = model.predict(images)
    if outputs.ndim != 2:
        raise app.UsageError(f"The model's output has shape {outputs.shape}; classify needs "
                             "(N, classes) logits or probabilities.")
    # Outputs that already sum to one are probabilities; anything else is treated as logits.
    is_probability = np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3) and outputs.min() >= 0
    probabilities = outputs if is_probability else _softmax(outputs)
    labels = model.labels
    for path, probs in zip(paths, probabilities, strict=True):
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
    run()  # app.run exits with main's status
