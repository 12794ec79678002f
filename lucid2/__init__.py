"""lucid2: feature visualization for TensorFlow 2 / Keras 3.

Importing this package is cheap on purpose: it imports no TensorFlow, builds no
tensors and touches no network. Import the submodules you need, for example
``from lucid2.modelzoo import InceptionV1`` or ``from lucid2.optvis import render``.
"""

__version__ = "0.1.0"
