"""Progress of an appendix run: channels done, the rate and the time left (ETA).

Both runners report with it: the in-process runner after each task, the Beam
driver from what it counts in the output directory (:mod:`.beam_pipeline`). A
line per report, the form :class:`lucid2.optvis.progress.PeriodicReporter` writes
(a task takes seconds to minutes: its end is the natural moment for a line). Within
a task, the in-process runner's renders report their steps through the reporter an
app made active (:func:`lucid2.optvis.progress.reporting`: a bar on a terminal);
Beam's workers run in other threads or processes and report none.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Callable, TextIO

from lucid2.optvis.progress import SECONDS_PER_HOUR, format_duration

__all__ = ["Progress", "format_duration"]


class Progress:
    """Channels done out of a total, the rate of this run and the time left (ETA).

    Args:
      total: channels this run has to do.
      stream: where lines go (default stderr); None prints nothing.
      clock: seconds, monotonic (a parameter for tests).
    """

    def __init__(self, total: int, stream: TextIO | None = sys.stderr,
                 clock: Callable[[], float] = time.monotonic):
        self.total = int(total)
        self.done = 0
        self.stream = stream
        self._clock = clock
        self._start = clock()
        self._lock = threading.Lock()

    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far; None before anything is done."""
        elapsed = self._clock() - self._start
        if self.done <= 0 or elapsed <= 0:
            return None
        return (self.total - self.done) * elapsed / self.done

    def channels_per_hour(self) -> float | None:
        elapsed = self._clock() - self._start
        return self.done * SECONDS_PER_HOUR / elapsed if self.done and elapsed > 0 else None

    def line(self, what: str = "") -> str:
        percent = 100.0 * self.done / self.total if self.total else 100.0
        parts = [f"{self.done}/{self.total} channels ({percent:.1f}%)"]
        if what:
            parts.append(what)
        rate = self.channels_per_hour()
        eta = self.eta_seconds()
        if rate is not None:
            parts.append(f"{rate:,.0f} channels/h")
        parts.append(f"ETA {format_duration(eta)}" if eta is not None else "ETA unknown")
        return "appendix: " + " | ".join(parts)

    def update(self, done: int, what: str = "") -> str:
        """Sets the count of channels done so far and reports it."""
        with self._lock:
            self.done = min(int(done), self.total)
            text = self.line(what)
        if self.stream is not None:
            print(text, file=self.stream, flush=True)
        return text

    def advance(self, count: int, what: str = "") -> str:
        return self.update(self.done + count, what)

