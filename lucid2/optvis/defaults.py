"""The values a render uses unless told otherwise (Lucid's), and the names its settings accept.

The one place for these numbers: :mod:`lucid2.optvis.settings`,
:mod:`lucid2.optvis.render`, the apps and the recipes import them from here.
A module of constants only, so that importing it loads no TensorFlow (the
apps read it to define their flags).
"""

from __future__ import annotations

from typing import Any

DEFAULT_SIZE = 128  # image width and height in pixels
DEFAULT_BATCH = 1
DEFAULT_PARAM = "fft"  # Lucid's Fourier parameterization
DEFAULT_DECORRELATE = True  # optimize in ImageNet's decorrelated color space
DEFAULT_TRANSFORMS = "standard"  # Lucid's standard transforms
DEFAULT_LEARNING_RATE = 0.05  # Adam, as in Lucid and the article
DEFAULT_STEPS = 512  # the article's usual number of steps (it used 2560 for its final images)

PARAM_KINDS = ("fft", "pixel")
TRANSFORM_NAMES = ("standard", "article", "none")

# Render presets (lucid2.optvis.settings.PRESETS): each is Lucid's recipe with these fields
# of RenderSettings changed. Plain values here so that the apps can name the presets and
# resolve their steps without loading TensorFlow.
#
# "fast": Lucid's recipe in 128 steps instead of 512, with three changes: Adam without
# momentum (beta_1=0), twice the learning rate (0.1) and the standard transforms at 0.35
# of their movement (pad 4, jitter 3, scales 0.965-1.035, rotations within 3.5 degrees,
# jitter 1). Without momentum the activation rises much faster in the first hundred
# steps; the higher rate gives the images the contrast of Lucid's 512-step ones (at 0.05
# they stay grayer); lighter transforms let the image settle sooner. Each alone falls
# short (about 0.84-0.92 of Lucid's 512-step activation at 128 steps, where Lucid itself
# gets 0.85); together they reach it. benchmarks/render_quality.py measures it.
PRESET_CHANGES: dict[str, dict[str, Any]] = {
    "lucid": {},
    "fast": {"learning_rate": 0.1, "beta_1": 0.0, "transform_strength": 0.35, "steps": 128},
}
PRESET_NAMES = tuple(PRESET_CHANGES)
DEFAULT_PRESET = "lucid"  # the article's figures are reproduced with Lucid's recipe


def preset_value(name: str, field: str, default):
    """The preset ``name``'s value of a settings ``field`` (``default``: Lucid's);
    ValueError listing the presets for an unknown name."""
    if name not in PRESET_CHANGES:
        raise ValueError(f"Unknown render preset {name!r}; the presets are: "
                         f"{', '.join(PRESET_NAMES)}.")
    return PRESET_CHANGES[name].get(field, default)

