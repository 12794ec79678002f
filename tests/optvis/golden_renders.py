"""Seeded 64-step renders whose float32 bytes must not change when the code is refactored.

Run as a program to (re)compute the SHA-256 digests printed into ``golden_renders.json``;
``test_render_golden.py`` renders the same cases and compares.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import sys

import keras
import numpy as np

from lucid2.optvis import param, render, transform

STEPS = 64
OBJECTIVE = "mixed4a:476"
SIZE = 96
GOLDEN_FILE = pathlib.Path(__file__).with_name("golden_renders.json")
# (parameterization, batch, transforms)
CASES = [(kind, batch, transforms) for kind in ("fft", "pixel") for batch in (1, 4)
         for transforms in ("standard", "article")]
TRANSFORMS = {"standard": transform.standard_transforms,
              "article": transform.article_transforms}


def case_name(kind: str, batch: int, transforms: str) -> str:
    return f"{kind}-b{batch}-{transforms}"


def render_case(model, kind: str, batch: int, transforms: str) -> np.ndarray:
    """The final float32 image of one seeded case."""
    images = render.render_vis(
        model, OBJECTIVE,
        param_f=lambda: param.image(SIZE, batch=batch, fft=kind == "fft"),
        optimizer=lambda: keras.optimizers.Adam(0.05),
        transforms=TRANSFORMS[transforms], thresholds=(STEPS,), seed=0)
    return np.ascontiguousarray(images[-1], dtype=np.float32)


def digest(images: np.ndarray) -> str:
    return hashlib.sha256(images.tobytes()).hexdigest()


def main(weights: str) -> None:
    from lucid2.modelzoo import InceptionV1

    model = InceptionV1(weights=weights)
    digests = {case_name(*case): digest(render_case(model, *case)) for case in CASES}
    GOLDEN_FILE.write_text(json.dumps(digests, indent=2) + "\n")
    print(json.dumps(digests, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
