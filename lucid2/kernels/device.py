"""The one decision between the fast kernels and their plain-TensorFlow references."""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator

import tensorflow as tf

AUTO = "auto"
FAST = "fast"
REFERENCE = "reference"
KERNEL_CHOICES = (AUTO, FAST, REFERENCE)

# A context variable, not a global flag: a test forcing one path cannot leak into another
# thread's tracing.
_choice = contextvars.ContextVar("lucid2_kernel_choice", default=AUTO)


def use_fast_kernels() -> bool:
    """Whether the kernels take their fast paths.

    "auto" (the default): fast when no GPU is visible. Every fast path was measured
    faster on CPU; with a GPU the references (TensorFlow's and cuDNN's kernels) run
    until a GPU measurement says otherwise. Read while tracing, never at import, so a
    ``tf.function`` keeps the choice it was traced with.
    """
    choice = _choice.get()
    if choice != AUTO:
        return choice == FAST
    return not tf.config.list_logical_devices("GPU")


def check_kernel_choice(choice) -> str:
    """``choice`` if it is one of :data:`KERNEL_CHOICES`, else a ValueError."""
    if choice not in KERNEL_CHOICES:
        raise ValueError(f"The kernel choice must be one of {KERNEL_CHOICES}, got {choice!r}.")
    return choice


@contextlib.contextmanager
def kernel_choice(choice: str) -> Iterator[None]:
    """Within the block, kernels traced (or run eagerly) take ``choice``: "fast",
    "reference" or "auto" (the device decides). For tests and benchmarks."""
    token = _choice.set(check_kernel_choice(choice))
    try:
        yield
    finally:
        _choice.reset(token)
