"""Progress of long loops (a render's steps, a dataset search's images): reporters.

A :class:`Reporter` is told ``start(total, label, unit)``, then ``update(done, values)``
as work gets done, then ``finish()``. Three kinds:

* :class:`ProgbarReporter`: a ``keras.utils.Progbar`` (count, bar, ETA, values), for a
  terminal; the label goes on the line above the bar.
* :class:`PeriodicReporter`: one self-contained line every ``PERIODIC_INTERVAL_SECONDS``
  (label, done/total, rate, ETA, values), for a log file or a pipe, where a bar's
  carriage returns would be noise; silent for work shorter than the interval.
* :class:`SilentReporter`: nothing.

:func:`for_stream` picks one for an output stream. An app makes a reporter active for
everything it runs with ``with progress.reporting(reporter):``; the loops that accept a
reporter (e.g. :meth:`lucid2.optvis.render.Renderer.run`) use the active one when their
caller passes none, so that recipes need not pass one through every call. Outside such a
block :func:`current` is silent. The active reporter is a ``contextvars.ContextVar``: a
new thread starts without one.

Reporters only read the values they show, and only when they show them, so reporting never
changes a computation and costs no device synchronisation per step.
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import sys
import time
from typing import Callable, Iterator, Mapping, SupportsFloat, TextIO

import keras

# A line every this many seconds when the output is not a terminal.
PERIODIC_INTERVAL_SECONDS = 5.0
# The bar is redrawn at most this often (Keras's own default interval).
BAR_INTERVAL_SECONDS = 0.05
# Labels longer than this are cut (with an ellipsis) so that a line stays a line.
LABEL_MAX_CHARS = 120
ELLIPSIS = "..."
SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86400
DEFAULT_UNIT = "step"
# Values between these are shown with four decimals, others in scientific notation.
SMALLEST_PLAIN = 1e-3
LARGEST_PLAIN = 1e6

# name -> value: anything float() reads (a scalar tensor is read only when shown).
Values = Mapping[str, SupportsFloat]


def format_duration(seconds: float) -> str:
    """``H:MM:SS`` (days as ``Dd H:MM:SS``); negative durations count as 0."""
    seconds = max(0, int(round(seconds)))
    days, rest = divmod(seconds, SECONDS_PER_DAY)
    hours, rest = divmod(rest, SECONDS_PER_HOUR)
    minutes, secs = divmod(rest, SECONDS_PER_MINUTE)
    text = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{days}d {text}" if days else text


def format_rate(per_second: float, unit: str) -> str:
    """``12.5 steps/s``, or ``3.2 s/step`` below one per second."""
    if per_second >= 1.0:
        return f"{per_second:,.1f} {unit}s/s"
    return f"{1.0 / per_second:,.1f} s/{unit}"


def format_number(value: float) -> str:
    """Four decimals (``12.3457``), or scientific notation for very small or large values."""
    if value == 0 or SMALLEST_PLAIN <= abs(value) < LARGEST_PLAIN:
        return f"{value:.4f}"
    return f"{value:.4e}"


def format_values(values: Values | None) -> str:
    """`` - name: 1.2346`` per value (read now: tensors are converted here, not before)."""
    if not values:
        return ""
    return "".join(f" - {name}: {format_number(float(value))}"
                   for name, value in values.items())


def short_label(label: str, max_chars: int = LABEL_MAX_CHARS) -> str:
    """``label`` on one line, cut to ``max_chars`` (ending in an ellipsis when cut)."""
    label = " ".join(label.split())
    if len(label) <= max_chars:
        return label
    return label[:max(max_chars - len(ELLIPSIS), 0)] + ELLIPSIS


def _check_total(total: int | None) -> int | None:
    if total is None:
        return None
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise ValueError(f"total must be a non-negative int or None (unknown), got {total!r}.")
    return total


class Reporter(abc.ABC):
    """Where a loop reports its progress: ``start``, ``update`` as it goes, ``finish``.

    A reporter can be reused: each ``start`` begins a new piece of work.
    """

    @abc.abstractmethod
    def start(self, total: int | None, label: str = "", unit: str = DEFAULT_UNIT) -> None:
        """Work of ``total`` units (None: unknown) begins; ``label`` says what it is, ``unit``
        what is counted (e.g. "step", "image")."""

    @abc.abstractmethod
    def update(self, done: int, values: Values | None = None) -> None:
        """``done`` units are done so far; ``values`` (name -> number, e.g. a scalar tensor)
        may be shown, read only when they are."""

    @abc.abstractmethod
    def finish(self) -> None:
        """The work ended (done or stopped by an error): the display is closed."""

    @contextlib.contextmanager
    def running(self, total: int | None, label: str = "",
                unit: str = DEFAULT_UNIT) -> Iterator[Reporter]:
        """``start`` on entry and ``finish`` on exit, even when the work raises."""
        self.start(total, label, unit)
        try:
            yield self
        finally:
            self.finish()


class SilentReporter(Reporter):
    """Reports nothing."""

    def start(self, total: int | None, label: str = "", unit: str = DEFAULT_UNIT) -> None:
        _check_total(total)

    def update(self, done: int, values: Values | None = None) -> None:
        pass

    def finish(self) -> None:
        pass


class ProgbarReporter(Reporter):
    """The label on a line, then a ``keras.utils.Progbar`` (count, bar, ETA, values).

    The bar is drawn at ``start`` (at 0) and redrawn at most every ``interval`` seconds,
    and at the end. The first update is given to the bar without drawing it: Keras then
    leaves the first unit out of its ETA (a render's first step includes its
    compilation), and the ETA it would draw there is exactly the one it overestimates.

    Args:
      stream: where it writes (None: ``sys.stdout`` at the time of each write).
      interval: seconds between redraws.
      clock: seconds, monotonic (a parameter for tests).
    """

    def __init__(self, stream: TextIO | None = None, interval: float = BAR_INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.interval = interval
        self._clock = clock
        self._bar: keras.utils.Progbar | None = None
        self._total: int | None = None
        self._updates = 0
        self._last_draw = 0.0
        self._line_open = False

    def _stream(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def _write(self, draw: Callable[[], None]) -> None:
        # Keras's Progbar writes to sys.stdout: point that at this reporter's stream.
        stream = self._stream()
        if stream is sys.stdout:
            draw()
        else:
            with contextlib.redirect_stdout(stream):
                draw()
        stream.flush()

    def start(self, total: int | None, label: str = "", unit: str = DEFAULT_UNIT) -> None:
        self._total = _check_total(total)
        self._updates = 0
        if label:
            stream = self._stream()
            print(short_label(label), file=stream, flush=True)
        # No stateless metrics: values are shown as they are, not averaged over the steps.
        # No interval of its own: this reporter decides when to draw.
        bar = keras.utils.Progbar(total, interval=0, stateless_metrics=[], unit_name=unit)
        self._bar = bar
        self._line_open = False
        if total:
            # Drawn now, so that the bar shows while a first step compiles.
            self._write(lambda: bar.update(0))
            self._line_open = True
        self._last_draw = self._clock()

    def update(self, done: int, values: Values | None = None) -> None:
        if self._bar is None:
            raise RuntimeError("ProgbarReporter.update before start.")
        now = self._clock()
        self._updates += 1
        final = self._total is not None and done >= self._total
        bar = self._bar
        if self._updates == 1 and not final:
            # Verbosity 0: Keras notes the time of the first unit but draws nothing.
            bar.verbose = 0
            try:
                bar.update(done)
            finally:
                bar.verbose = 1
            return
        if not final and now - self._last_draw < self.interval:
            return
        shown = [(name, float(value)) for name, value in (values or {}).items()]
        self._write(lambda: bar.update(done, values=shown))
        self._last_draw = now
        # Keras ends the line itself at the final update.
        self._line_open = not final

    def finish(self) -> None:
        if self._line_open:
            # Stopped before the end (an error, Ctrl-C): end the bar's line so that the
            # message that follows starts on its own.
            stream = self._stream()
            print(file=stream, flush=True)
        self._bar = None
        self._line_open = False


class PeriodicReporter(Reporter):
    """A line every ``interval`` seconds: label, done/total, rate, ETA, values; and a last
    line with the total time when any line was written.

    The rate leaves out the time before the first update (a render's first step includes
    its compilation). Work shorter than ``interval`` writes nothing.

    Args:
      stream: where lines go (None: ``sys.stdout`` at the time of each line).
      interval: seconds between lines (None: ``PERIODIC_INTERVAL_SECONDS``).
      clock: seconds, monotonic (a parameter for tests).
    """

    def __init__(self, stream: TextIO | None = None, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        if interval is None:
            interval = PERIODIC_INTERVAL_SECONDS
        if not interval > 0:
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}.")
        self.stream = stream
        self.interval = interval
        self._clock = clock
        self._reset(None, "", DEFAULT_UNIT)

    def _reset(self, total: int | None, label: str, unit: str) -> None:
        self.total = total
        self.label = short_label(label)
        self.unit = unit
        self.done = 0
        self.lines_written = 0
        self._started = self._clock()
        self._last_line = self._started
        self._first: tuple[int, float] | None = None  # (done, time) at the first update

    def start(self, total: int | None, label: str = "", unit: str = DEFAULT_UNIT) -> None:
        self._reset(_check_total(total), label, unit)

    def rate(self, now: float | None = None) -> float | None:
        """Units per second since the first update (None until two updates apart)."""
        now = self._clock() if now is None else now
        if self._first is None:
            return None
        first_done, first_time = self._first
        if self.done > first_done and now > first_time:
            return (self.done - first_done) / (now - first_time)
        return None

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Seconds left at the current rate; None when the total or the rate is unknown."""
        rate = self.rate(now)
        if self.total is None or rate is None:
            return None
        return max(self.total - self.done, 0) / rate

    def line(self, values: Values | None = None, now: float | None = None) -> str:
        """The progress line as it would be written now."""
        now = self._clock() if now is None else now
        if self.total is not None:
            percent = 100.0 * self.done / self.total if self.total else 100.0
            parts = [f"{self.done}/{self.total} {self.unit}s ({percent:.0f}%)"]
        else:
            parts = [f"{self.done} {self.unit}s"]
        rate = self.rate(now)
        if rate is not None:
            parts.append(format_rate(rate, self.unit))
        if self.total is not None:
            eta = self.eta_seconds(now)
            parts.append(f"ETA {format_duration(eta)}" if eta is not None else "ETA unknown")
        text = ", ".join(parts) + format_values(values)
        return f"{self.label}: {text}" if self.label else text

    def _emit(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stdout
        print(text, file=stream, flush=True)
        self.lines_written += 1

    def update(self, done: int, values: Values | None = None) -> None:
        now = self._clock()
        self.done = int(done)
        if self._first is None:
            self._first = (self.done, now)
        if now - self._last_line >= self.interval:
            self._emit(self.line(values, now))
            self._last_line = now

    def finish(self) -> None:
        if not self.lines_written:
            return
        elapsed = format_duration(self._clock() - self._started)
        total = f"/{self.total}" if self.total is not None else ""
        text = f"{self.done}{total} {self.unit}s in {elapsed}"
        self._emit(f"{self.label}: {text}" if self.label else text)


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):  # a closed or detached stream
        return False


def for_stream(stream: TextIO | None = None, quiet: bool = False) -> Reporter:
    """The reporter for output to ``stream`` (None: ``sys.stdout``): silent when ``quiet``,
    a progress bar on a terminal, a line every few seconds otherwise."""
    if quiet:
        return SilentReporter()
    stream = sys.stdout if stream is None else stream
    if is_terminal(stream):
        return ProgbarReporter(stream)
    return PeriodicReporter(stream)


# ---------------------------------------------------------------- the active one
_ACTIVE: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar(
    "lucid2_progress_reporter", default=None)


@contextlib.contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Inside it, ``reporter`` is the active reporter (:func:`active_reporter`)."""
    if not isinstance(reporter, Reporter):
        raise TypeError("reporter must be a lucid2.optvis.progress.Reporter, e.g. "
                        f"progress.for_stream(sys.stdout); got {type(reporter).__name__}.")
    token = _ACTIVE.set(reporter)
    try:
        yield reporter
    finally:
        _ACTIVE.reset(token)


def active_reporter() -> Reporter | None:
    """The reporter made active by the innermost :func:`reporting` block, or None."""
    return _ACTIVE.get()


def current() -> Reporter:
    """The active reporter, or a silent one outside any :func:`reporting` block."""
    reporter = _ACTIVE.get()
    return reporter if reporter is not None else SilentReporter()
