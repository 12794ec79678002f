"""What lucid2's apps print around their work: ``--quiet``, ``--tf_logs``, progress.

* :func:`define_output_flags`: ``--quiet`` (no progress, only the final lines saying what
  was saved) and ``--tf_logs`` (TensorFlow's C++ start-up lines), defined once for all
  apps.
* :func:`quiet_tensorflow_startup`: each app's ``main`` calls it (through
  :func:`start`) before TensorFlow is first imported. TensorFlow writes lines such as
  ``I0000 ... oneDNN custom operations are on`` and ``E0000 ... failed call to cuInit:
  INTERNAL: CUDA error`` to the terminal on every start; the second reads like a failure
  on any machine without a GPU. They are kept quiet unless ``--tf_logs`` is given or the
  user set ``TF_CPP_MIN_LOG_LEVEL`` (then nothing is changed).
* :func:`showing_progress`: inside it, the renders and searches the app runs report
  their progress (a Keras progress bar on a terminal, a line every few seconds
  otherwise, nothing with ``--quiet``), see :mod:`lucid2.optvis.progress`.

An app-layer module: it imports no TensorFlow at import time (``--help`` stays instant).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING, Iterator

from absl import app, flags

if TYPE_CHECKING:
    from lucid2.optvis.progress import Reporter

TF_LOG_LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"
# FATAL only: the cuInit "error" of machines without a GPU is logged at level ERROR, and
# TensorFlow reads the level once, so it cannot be lowered after start-up. Real failures
# still reach the user as Python exceptions.
QUIET_TF_LOG_LEVEL = "3"
STDERR_FD = 2
QUIET_FLAG = "quiet"
TF_LOGS_FLAG = "tf_logs"
VERBOSE_FLAG = "verbose"


def define_output_flags(flag_values: flags.FlagValues = flags.FLAGS, *,
                        quiet: bool = True) -> None:
    """Defines ``--tf_logs`` and, when ``quiet`` (apps that run long jobs), ``--quiet``."""
    if quiet:
        flags.DEFINE_bool(QUIET_FLAG, False, "Print no progress: only the final lines saying "
                          "what was saved.", flag_values=flag_values)
    flags.DEFINE_bool(TF_LOGS_FLAG, False, "Show TensorFlow's C++ start-up log lines (kept "
                      f"quiet by default unless {TF_LOG_LEVEL_ENV} is set).",
                      flag_values=flag_values)


def is_quiet(flag_values: flags.FlagValues = flags.FLAGS) -> bool:
    """Whether ``--quiet`` was given (False for apps without the flag)."""
    return QUIET_FLAG in flag_values and bool(flag_values[QUIET_FLAG].value)


def check_output_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """app.UsageError for ``--quiet`` with ``--verbose`` (a progress bar)."""
    if (is_quiet(flag_values) and VERBOSE_FLAG in flag_values
            and flag_values[VERBOSE_FLAG].value):
        raise app.UsageError("--quiet hides the progress that --verbose shows: give one of "
                             "them, not both.")


@contextlib.contextmanager
def _stderr_discarded() -> Iterator[None]:
    """File descriptor 2 points at /dev/null inside (what C++ code writes there is lost);
    Python's ``sys.stderr`` is flushed first, and fd 2 restored after, even on errors."""
    sys.stderr.flush()
    try:
        saved = os.dup(STDERR_FD)
    except OSError:  # no stderr to redirect (closed): nothing to hide either
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, STDERR_FD)
        finally:
            os.close(null)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, STDERR_FD)
        os.close(saved)


def quiet_tensorflow_startup(show_logs: bool = False) -> bool:
    """Keeps TensorFlow's C++ start-up lines off the terminal; True when it did.

    Unless ``show_logs``, the user set ``TF_CPP_MIN_LOG_LEVEL``, or TensorFlow is already
    imported: sets ``TF_CPP_MIN_LOG_LEVEL`` to ``QUIET_TF_LOG_LEVEL`` (for the lines logged
    later, such as cuInit's) and imports TensorFlow with file descriptor 2 pointed at
    /dev/null (the lines written while it loads, before its logging is set up, ignore the
    level). Errors after the import are shown as usual; an import that fails raises its
    Python exception as usual.
    """
    if show_logs or TF_LOG_LEVEL_ENV in os.environ or "tensorflow" in sys.modules:
        return False
    os.environ[TF_LOG_LEVEL_ENV] = QUIET_TF_LOG_LEVEL
    with _stderr_discarded():
        import tensorflow  # noqa: F401  (the import is the point: its start-up lines)
    return True


def start(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """What an app's ``main`` does first, once it knows it will load TensorFlow: checks
    ``--quiet`` against ``--verbose`` and quiets TensorFlow's start-up unless
    ``--tf_logs``."""
    check_output_flags(flag_values)
    show = TF_LOGS_FLAG in flag_values and bool(flag_values[TF_LOGS_FLAG].value)
    quiet_tensorflow_startup(show_logs=show)


def reporter(flag_values: flags.FlagValues = flags.FLAGS) -> Reporter:
    """The progress reporter for the app's standard output: nothing with ``--quiet``, a
    progress bar on a terminal, a line every few seconds otherwise."""
    from lucid2.optvis import progress

    return progress.for_stream(sys.stdout, quiet=is_quiet(flag_values))


@contextlib.contextmanager
def showing_progress(flag_values: flags.FlagValues = flags.FLAGS) -> Iterator[Reporter]:
    """Inside it, the renders and searches the app runs report to :func:`reporter`."""
    from lucid2.optvis import progress

    with progress.reporting(reporter(flag_values)) as active:
        yield active


def say(text: str, flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Prints ``text`` (a line about the work, not a result) unless ``--quiet``."""
    if not is_quiet(flag_values):
        print(text, flush=True)
