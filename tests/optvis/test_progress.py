"""Progress reporters: the terminal bar, the periodic lines, silence, the active reporter,
and a render's steps reported through them."""

import io
import re
import threading

import keras
import numpy as np
import pytest
from progress_testlib import Recording

from lucid2.modelzoo import VisionModel
from lucid2.optvis import param, progress
from lucid2.optvis.render import OBJECTIVE_LABEL_CHARS, Renderer, render_vis

INTERVAL = 5.0
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FakeClock:
    """Seconds that move only when told."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TerminalIO(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class CountedValue:
    """A number that counts how often it is read (as a reporter reads a tensor)."""

    def __init__(self, value: float):
        self.value = value
        self.reads = 0

    def __float__(self) -> float:
        self.reads += 1
        return self.value


def _plain(text: str) -> str:
    """Terminal output as lines: colors removed, each carriage return or backspace run a
    line break, no empty lines."""
    return re.sub(r"[\r\x08\n]+", "\n", ANSI.sub("", text))


# ------------------------------------------------------------ periodic lines
def test_periodic_lines_every_interval_with_rate_and_eta():
    clock, stream = FakeClock(), io.StringIO()
    reporter = progress.PeriodicReporter(stream, interval=INTERVAL, clock=clock)
    reporter.start(100, "Rendering X", unit="step")
    clock.advance(3.0)  # the first step (compilation): left out of the rate
    reporter.update(1)
    for done in range(2, 41):
        clock.advance(0.125)  # 8 steps per second from here on
        reporter.update(done, {"objective": 2.5})
    lines = stream.getvalue().splitlines()
    # 3 s + 39 * 0.125 s: a line at the first update 5 s or more after the start.
    assert len(lines) == 1
    first_due = 1 + int(np.ceil((INTERVAL - 3.0) / 0.125))
    assert lines[0] == (f"Rendering X: {first_due}/100 steps ({first_due}%), 8.0 steps/s, "
                        f"ETA 0:00:{round((100 - first_due) / 8):02d} - objective: 2.5000")
    assert reporter.eta_seconds() == pytest.approx((100 - 40) / 8.0)
    clock.advance(INTERVAL)
    reporter.update(41)
    assert len(stream.getvalue().splitlines()) == 2
    reporter.finish()
    assert stream.getvalue().splitlines()[-1] == "Rendering X: 41/100 steps in 0:00:13"


def test_periodic_reporter_is_silent_for_short_work_and_unknown_totals_work():
    clock, stream = FakeClock(), io.StringIO()
    reporter = progress.PeriodicReporter(stream, interval=INTERVAL, clock=clock)
    with reporter.running(10, "short"):
        for done in range(1, 11):
            clock.advance(0.1)
            reporter.update(done)
    assert stream.getvalue() == ""
    reporter.start(None, "", unit="image")
    clock.advance(1.0)
    reporter.update(16)
    clock.advance(INTERVAL)
    reporter.update(32)
    assert stream.getvalue() == "32 images, 3.2 images/s\n"


def test_periodic_rate_below_one_per_second_reads_as_seconds_per_unit():
    clock, stream = FakeClock(), io.StringIO()
    reporter = progress.PeriodicReporter(stream, interval=INTERVAL, clock=clock)
    reporter.start(4, "slow")
    reporter.update(1)
    clock.advance(8.0)
    reporter.update(3)
    assert stream.getvalue() == "slow: 3/4 steps (75%), 4.0 s/step, ETA 0:00:04\n"


def test_values_are_read_only_when_shown():
    clock, stream = FakeClock(), io.StringIO()
    reporter = progress.PeriodicReporter(stream, interval=INTERVAL, clock=clock)
    value = CountedValue(1.0)
    reporter.start(1000, "x")
    for done in range(1, 101):
        clock.advance(0.01)
        reporter.update(done, {"objective": value})
    assert value.reads == 0
    clock.advance(INTERVAL)
    reporter.update(101, {"objective": value})
    assert value.reads == 1


@pytest.mark.parametrize("interval", [0, -1.0])
def test_periodic_interval_must_be_positive(interval):
    with pytest.raises(ValueError, match="interval must be a positive number"):
        progress.PeriodicReporter(io.StringIO(), interval=interval)


# ------------------------------------------------------------------ the bar
def test_terminal_bar_shows_label_count_rate_and_values():
    clock, stream = FakeClock(), TerminalIO()
    reporter = progress.ProgbarReporter(stream, clock=clock)
    with reporter.running(10, "Rendering X on 1 image(s) of 16x16"):
        assert _plain(stream.getvalue()).splitlines()[:2] == [
            "Rendering X on 1 image(s) of 16x16", " 0/10 ━━━━━━━━━━━━━━━━━━━━ 0s 0s/step"]
        shown = len(stream.getvalue())
        clock.advance(1.0)
        reporter.update(1, {"objective": 1.0})  # noted by Keras for its ETA, not drawn
        assert len(stream.getvalue()) == shown
        for done in range(2, 11):
            clock.advance(1.0)
            reporter.update(done, {"objective": float(done)})
    lines = [line.strip() for line in _plain(stream.getvalue()).splitlines() if line.strip()]
    assert [line.split("/")[0] for line in lines[1:]] == [str(n) for n in [0, *range(2, 11)]]
    assert re.fullmatch(r"5/10 ━+ \d+s \d+(us|ms|s)/step - objective: 5\.0000", lines[5])
    assert re.fullmatch(r"10/10 ━+ \d+s \d+(us|ms|s)/step - objective: 10\.0000", lines[-1])
    assert stream.getvalue().endswith("\n")


def test_terminal_bar_redraws_at_most_every_interval_and_reads_values_only_then():
    clock, stream = FakeClock(), TerminalIO()
    reporter = progress.ProgbarReporter(stream, clock=clock)
    value = CountedValue(3.0)
    reporter.start(1000, "")
    for done in range(1, 500):
        reporter.update(done, {"objective": value})  # the clock stands still: no redraw
    assert value.reads == 0
    clock.advance(2 * progress.BAR_INTERVAL_SECONDS)
    reporter.update(500, {"objective": value})
    assert value.reads == 1
    reporter.update(1000, {"objective": value})  # the last update is always drawn
    assert value.reads == 2


def test_terminal_bar_stopped_early_ends_its_line():
    clock, stream = FakeClock(), TerminalIO()
    reporter = progress.ProgbarReporter(stream, clock=clock)
    with pytest.raises(KeyboardInterrupt):
        with reporter.running(10, "x"):
            reporter.update(1)
            clock.advance(1.0)
            reporter.update(2)
            raise KeyboardInterrupt
    assert stream.getvalue().endswith("\n")
    assert "2/10" in _plain(stream.getvalue())


def test_terminal_bar_update_before_start_is_an_error():
    with pytest.raises(RuntimeError, match="before start"):
        progress.ProgbarReporter(io.StringIO()).update(1)


# ----------------------------------------------------------- choosing one
def test_for_stream_chooses_by_terminal_and_quiet():
    assert isinstance(progress.for_stream(TerminalIO()), progress.ProgbarReporter)
    assert isinstance(progress.for_stream(io.StringIO()), progress.PeriodicReporter)
    assert isinstance(progress.for_stream(TerminalIO(), quiet=True), progress.SilentReporter)


def test_silent_reporter_writes_nothing(capsys):
    reporter = progress.SilentReporter()
    with reporter.running(3, "label"):
        reporter.update(3, {"objective": 1.0})
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("total", [-1, 2.5, True])
def test_total_must_be_a_count_or_none(total):
    for reporter in (progress.SilentReporter(), progress.PeriodicReporter(io.StringIO()),
                     progress.ProgbarReporter(io.StringIO())):
        with pytest.raises(ValueError, match="total must be a non-negative int"):
            reporter.start(total)


def test_long_labels_are_cut_to_one_line():
    label = progress.short_label("Rendering " + "a + " * 100 + "\nend")
    assert len(label) == progress.LABEL_MAX_CHARS and label.endswith("...")
    assert "\n" not in label


def test_durations_and_numbers_are_formatted():
    assert progress.format_duration(0) == "0:00:00"
    assert progress.format_duration(3661.4) == "1:01:01"
    assert progress.format_duration(2 * 86400 + 5) == "2d 0:00:05"
    assert progress.format_number(12.34567) == "12.3457"
    assert progress.format_number(1.5e-5) == "1.5000e-05"
    assert progress.format_number(0.0) == "0.0000"


# ----------------------------------------------------------- the active one
def test_reporting_makes_a_reporter_active_and_restores_the_one_before():
    assert progress.active_reporter() is None
    assert isinstance(progress.current(), progress.SilentReporter)
    outer, inner = Recording(), Recording()
    with progress.reporting(outer):
        assert progress.current() is outer
        with progress.reporting(inner):
            assert progress.active_reporter() is inner
        assert progress.active_reporter() is outer
        seen_in_thread = []
        thread = threading.Thread(target=lambda: seen_in_thread.append(
            progress.active_reporter()))
        thread.start()
        thread.join()
        assert seen_in_thread == [None]  # a new thread starts without one
    assert progress.active_reporter() is None
    with pytest.raises(TypeError, match="reporter must be a lucid2.optvis.progress.Reporter"):
        with progress.reporting(print):
            pass


# ------------------------------------------------------------------ renders
@pytest.fixture(scope="module")
def tiny_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return VisionModel(keras.Model(inputs, keras.layers.Dense(3, name="logits")(x)),
                       logits_layer="logits", name="tiny")


def _renderer(model, seed=0):
    return Renderer(model, "conv:1", param_f=lambda: param.image(16, fft=False), transforms=[],
                    seed=seed)


def test_render_reports_its_steps_through_the_active_reporter(tiny_model, capsys):
    recording = Recording()
    with progress.reporting(recording):
        _renderer(tiny_model).run((2, 5))
    start, *updates, finish = recording.events
    assert start == ("start", 5, "Rendering Channel [conv, 1] on 1 image(s) of 16x16", "step")
    assert recording.updates() == [1, 2, 3, 4, 5]
    assert all(np.isfinite(event[2]["objective"]) for event in updates)
    assert finish == ("finish",)
    assert capsys.readouterr().out == ""


def test_a_long_objective_is_cut_in_the_label_which_keeps_the_size(tiny_model):
    renderer = Renderer(tiny_model, "conv:0 + 0.5*conv:1 + 0.25*conv:2 + 0.125*conv:3",
                        param_f=lambda: param.image(16, batch=2, fft=False), transforms=[])
    label = renderer.progress_label()
    assert label.startswith("Rendering Channel [conv, 0] + 0.5 * Channel [conv, 1]")
    assert label.endswith("... on 2 image(s) of 16x16")
    assert len(label) == len("Rendering  on 2 image(s) of 16x16") + OBJECTIVE_LABEL_CHARS


def test_render_reports_the_steps_it_runs_after_earlier_ones(tiny_model):
    renderer = _renderer(tiny_model)
    renderer.run((2,), progress=progress.SilentReporter())
    recording = Recording()
    renderer.run((6,), progress=recording)  # the argument wins over an active reporter
    assert recording.events[0][1] == 4 and recording.updates() == [1, 2, 3, 4]


def test_render_without_a_reporter_prints_nothing_and_verbose_shows_a_bar(tiny_model, capsys):
    render_vis(tiny_model, "conv:1", param_f=lambda: param.image(16, fft=False),
               transforms=[], thresholds=(3,), seed=0)
    assert capsys.readouterr().out == ""
    render_vis(tiny_model, "conv:1", param_f=lambda: param.image(16, fft=False),
               transforms=[], thresholds=(3,), seed=0, verbose=True)
    out = _plain(capsys.readouterr().out)
    assert out.startswith("Rendering Channel [conv, 1] on 1 image(s) of 16x16\n")
    assert re.search(r"3/3 ━+ \d+s \d+(us|ms|s)/step - objective: ", out)


def test_progress_does_not_change_the_render(tiny_model):
    quiet = _renderer(tiny_model).run((4,))[-1]
    with progress.reporting(progress.PeriodicReporter(io.StringIO(), interval=1e-9)):
        reported = _renderer(tiny_model).run((4,), progress=progress.ProgbarReporter(
            TerminalIO()))[-1]
    np.testing.assert_array_equal(quiet, reported)


def test_a_failing_render_still_finishes_its_report(tiny_model):
    class Failing(Recording):
        def update(self, done, values=None):
            super().update(done, values)
            if done == 2:
                raise KeyboardInterrupt

    recording = Failing()
    with pytest.raises(KeyboardInterrupt):
        _renderer(tiny_model).run((5,), progress=recording)
    assert recording.updates() == [1, 2] and recording.events[-1] == ("finish",)


def test_a_progress_that_is_not_a_reporter_is_refused_before_rendering(tiny_model):
    with pytest.raises(TypeError, match="progress must be a lucid2.optvis.progress.Reporter"):
        render_vis(tiny_model, "conv:1", progress=True)
    with pytest.raises(TypeError, match="progress must be"):
        _renderer(tiny_model).run((2,), progress="bar")
