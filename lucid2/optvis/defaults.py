"""The values a render uses unless told otherwise (Lucid's), and the names its settings accept.

The one place for these numbers: :mod:`lucid2.optvis.settings`,
:mod:`lucid2.optvis.render`, the apps and the recipes import them from here.
A module of constants only, so that importing it loads no TensorFlow (the
apps read it to define their flags).
"""

from __future__ import annotations

DEFAULT_SIZE = 128  # image width and height in pixels
DEFAULT_BATCH = 1
DEFAULT_PARAM = "fft"  # Lucid's Fourier parameterization
DEFAULT_DECORRELATE = True  # optimize in ImageNet's decorrelated color space
DEFAULT_TRANSFORMS = "standard"  # Lucid's standard transforms
DEFAULT_LEARNING_RATE = 0.05  # Adam, as in Lucid and the article
DEFAULT_STEPS = 512  # the article's usual number of steps (it used 2560 for its final images)

PARAM_KINDS = ("fft", "pixel")
TRANSFORM_NAMES = ("standard", "article", "none")
