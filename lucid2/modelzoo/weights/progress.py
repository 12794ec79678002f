"""Download progress: a bar on a terminal, otherwise a line every few seconds.

One :class:`DownloadProgress` serves every file of a download (the HDF5 source
has a hundred small ones), so that a log gets a line every few seconds in
all, not a few lines per file. Output goes to a text stream (standard error by
default), not to logging: logging shows nothing below WARNING unless the
program configures it, and a user waiting for 50 MB wants to see them move.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

BAR_WIDTH = 24
BAR_DONE = "#"
BAR_TODO = "."
# A terminal bar redrawn more often only costs time; a log line more often only costs space.
REDRAW_INTERVAL_S = 0.1
LINE_INTERVAL_S = 5.0
BYTES_PER_MB = 1_000_000
# Below this much elapsed time a transfer rate is noise.
MIN_RATE_ELAPSED_S = 0.5


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed or detached stream
        return False


def _megabytes(count: int) -> str:
    return f"{count / BYTES_PER_MB:.1f} MB"


class DownloadProgress:
    """Shows how downloads advance: bytes, the percentage when the length is known, the rate.

    On a terminal a bar is redrawn in place (call :meth:`close` at the end to
    finish its line); elsewhere (a log, a notebook's captured output) a line is
    written when the first download starts, then at most one every
    ``LINE_INTERVAL_S`` seconds, and a last one when a download that showed a
    line ends.

    Args:
      stream: where to write; default ``sys.stderr`` (read when writing, so that
        a redirected stderr is followed).
      interactive: draw a bar (True) or write lines (False); default: whether
        ``stream`` is a terminal.
      clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, stream: TextIO | None = None, *, interactive: bool | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self._stream = stream
        self._interactive = interactive
        self._clock = clock
        self._label = ""
        self._total: int | None = None
        self._received = 0
        self._started_at = 0.0
        self._last_output_at: float | None = None
        self._shown_this_file = False
        self._line_open = False  # a terminal bar without its newline yet
        self._bar_width = 0  # characters of the longest bar drawn on the open line

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def interactive(self) -> bool:
        return _is_terminal(self.stream) if self._interactive is None else self._interactive

    def start(self, label: str, total: int | None) -> None:
        """A download of ``total`` bytes (None: unknown) called ``label`` begins."""
        self._label, self._total, self._received = label, total, 0
        self._started_at = self._clock()
        self._shown_this_file = False
        self._show(force=not self.interactive and self._line_due())

    def update(self, received: int) -> None:
        """``received`` bytes of the current download have arrived."""
        self._received = received
        self._show(force=False)

    def finish(self) -> None:
        """The current download is complete."""
        if self.interactive or self._shown_this_file:
            self._show(force=True)

    def close(self) -> None:
        """Ends the terminal line, so that later output starts on a line of its own."""
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False
            self._bar_width = 0

    # ---------------------------------------------------------------- output
    def _line_due(self) -> bool:
        return (self._last_output_at is None
                or self._clock() - self._last_output_at >= LINE_INTERVAL_S)

    def _show(self, force: bool) -> None:
        interval = REDRAW_INTERVAL_S if self.interactive else LINE_INTERVAL_S
        now = self._clock()
        if not force and self._last_output_at is not None \
                and now - self._last_output_at < interval:
            return
        self._last_output_at = now
        self._shown_this_file = True
        if self.interactive:
            text = self._text(bar=True)
            # Pad with spaces: a shorter text must not leave the end of the last one visible.
            self.stream.write("\r" + text.ljust(self._bar_width))
            self._bar_width = max(self._bar_width, len(text))
            self._line_open = True
        else:
            self.stream.write(f"Downloading {self._text(bar=False)}\n")
        self.stream.flush()

    def _text(self, bar: bool) -> str:
        received, total = self._received, self._total
        elapsed = self._clock() - self._started_at
        rate = (f", {_megabytes(int(received / elapsed))}/s"
                if elapsed >= MIN_RATE_ELAPSED_S and received else "")
        if total:
            fraction = min(received / total, 1.0)
            amount = f"{_megabytes(received)} of {_megabytes(total)} ({fraction:.0%})"
            if bar:
                done = int(round(fraction * BAR_WIDTH))
                return (f"{self._label} [{BAR_DONE * done}{BAR_TODO * (BAR_WIDTH - done)}] "
                        f"{amount}{rate}")
        else:
            amount = f"{_megabytes(received)} (size unknown)"
        return f"{self._label}: {amount}{rate}"
