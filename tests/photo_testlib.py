"""What the photo recipe and app tests share: a tiny random network and small photos."""

from __future__ import annotations

import pathlib

import keras
import numpy as np
from PIL import Image

from lucid2.modelzoo import VisionModel

# A photo of this size (height x width) is large enough for the tiny model's layers after
# the standard transforms, and small enough for renders of a second.
PHOTO_HEIGHT, PHOTO_WIDTH = 40, 48
CHANNELS = 8
# The tiny network's layers: stride 1 and 2 convolutions, and the logits.
EARLY, LATE, LOGITS = "conv1", "conv2", "logits"


def tiny_model(seed: int = 0) -> VisionModel:
    """Two ReLU convolutions (the second of stride 4) and logits; any input size."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(CHANNELS, 3, padding="same", activation="relu", name=EARLY)(inputs)
    x = keras.layers.Conv2D(CHANNELS, 3, strides=4, padding="same", activation="relu",
                            name=LATE)(x)
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(3, name=LOGITS)(pooled)
    return VisionModel(keras.Model(inputs, logits), logits_layer=LOGITS, name="tiny")


def photo_array(height: int = PHOTO_HEIGHT, width: int = PHOTO_WIDTH,
                seed: int = 0) -> np.ndarray:
    """A smooth colorful float32 (height, width, 3) image in [0, 1] with some texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / max(width - 1, 1), y / max(height - 1, 1),
                     0.5 + 0.4 * np.sin(x / 3.0) * np.cos(y / 4.0)], axis=-1)
    noise = rng.uniform(-0.1, 0.1, base.shape).astype(np.float32)
    return np.clip(0.1 + 0.8 * base + noise, 0.0, 1.0).astype(np.float32)


def write_photo(path: pathlib.Path, height: int = PHOTO_HEIGHT, width: int = PHOTO_WIDTH,
                seed: int = 0) -> pathlib.Path:
    """:func:`photo_array` saved as an 8-bit PNG or JPEG (by suffix)."""
    pixels = np.round(photo_array(height, width, seed) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def run_main(app_module, *args: str) -> None:
    """An app's main on its own parsed flags, as ``python -m`` runs it."""
    from absl import flags

    values = flags.FlagValues()
    app_module.define_flags(values)
    values([app_module.__name__, *args])
    app_module.main([app_module.__name__], values)


def use_tiny_model(monkeypatch) -> list:
    """Makes the photo apps build the tiny model; returns the list of model specs asked."""
    from lucid2 import photo_app_flags

    asked: list = []
    monkeypatch.setattr(photo_app_flags, "build_model",
                        lambda spec: asked.append(spec) or tiny_model())
    return asked
