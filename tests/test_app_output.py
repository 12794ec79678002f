"""``lucid2.app_output``: --quiet and --tf_logs, TensorFlow's start-up lines kept quiet
(respecting a level the user set), and the progress reporter an app makes active."""

import io
import os
import subprocess
import sys
import textwrap

import pytest
from absl import app, flags
from program_testlib import REPO_ROOT

from lucid2 import app_output
from lucid2.optvis import progress

TF_STARTUP_LINES = ("E0000", "cuInit", "I0000", "oneDNN", "absl::InitializeLog")
CHILD_TIMEOUT_S = 300


def _child(code: str, **env_extra: str) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter without the tests' TF_CPP_MIN_LOG_LEVEL."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **env_extra)
    if "TF_CPP_MIN_LOG_LEVEL" not in env_extra:
        env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=CHILD_TIMEOUT_S)


@pytest.mark.slow
def test_startup_lines_are_quiet_and_later_errors_still_show():
    result = _child("""
        import os, sys
        from lucid2 import app_output
        print(app_output.quiet_tensorflow_startup(), os.environ["TF_CPP_MIN_LOG_LEVEL"])
        import tensorflow as tf
        tf.constant(1.0) + 1.0  # the first op: where cuInit's line is logged
        print("python stderr after", file=sys.stderr, flush=True)
        os.write(2, b"fd 2 after\\n")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"True {app_output.QUIET_TF_LOG_LEVEL}\n"
    assert result.stderr == "python stderr after\nfd 2 after\n"


def test_tf_logs_or_a_level_the_user_set_change_nothing():
    code = """
        import os, sys
        from lucid2 import app_output
        print(app_output.quiet_tensorflow_startup(show_logs={show}),
              os.environ.get("TF_CPP_MIN_LOG_LEVEL"), "tensorflow" in sys.modules)
    """
    shown = _child(code.format(show=True))
    assert (shown.returncode, shown.stdout) == (0, "False None False\n"), shown.stderr
    user_set = _child(code.format(show=False), TF_CPP_MIN_LOG_LEVEL="0")
    assert (user_set.returncode, user_set.stdout) == (0, "False 0 False\n"), user_set.stderr


def test_nothing_changes_once_tensorflow_is_imported(monkeypatch):
    import tensorflow  # noqa: F401  (what the app may have imported already)

    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    assert app_output.quiet_tensorflow_startup() is False
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ


def _flags(*args: str, quiet: bool = True, verbose: bool = False) -> flags.FlagValues:
    values = flags.FlagValues()
    app_output.define_output_flags(values, quiet=quiet)
    if verbose:
        flags.DEFINE_bool("verbose", False, "A progress bar.", flag_values=values)
    values(["app", *args])
    return values


def test_output_flags_and_their_checks():
    assert app_output.is_quiet(_flags("--quiet")) and not app_output.is_quiet(_flags())
    without_quiet = _flags("--tf_logs", quiet=False)
    assert "quiet" not in without_quiet and not app_output.is_quiet(without_quiet)
    with pytest.raises(flags.UnrecognizedFlagError):
        _flags("--quiet", quiet=False)
    app_output.check_output_flags(_flags("--verbose", verbose=True))
    with pytest.raises(app.UsageError, match="--quiet hides the progress that --verbose shows"):
        app_output.check_output_flags(_flags("--quiet", "--verbose", verbose=True))


def test_the_reporter_follows_quiet_and_the_output(monkeypatch, capsys):
    assert isinstance(app_output.reporter(_flags("--quiet")), progress.SilentReporter)
    assert isinstance(app_output.reporter(_flags()), progress.PeriodicReporter)  # a capture

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    assert isinstance(app_output.reporter(_flags()), progress.ProgbarReporter)
    with app_output.showing_progress(_flags("--quiet")) as active:
        assert progress.active_reporter() is active
    assert progress.active_reporter() is None


def test_say_is_silenced_by_quiet(capsys):
    app_output.say("figure 1/2: teaser", _flags())
    app_output.say("not shown", _flags("--quiet"))
    assert capsys.readouterr().out == "figure 1/2: teaser\n"
