"""One job per output directory: a second is refused, a stale lock is taken over, release."""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from appendix_testlib import CHANNELS, LAYER, cli_args, subprocess_env, tree

from lucid2.modelzoo import ModelSpec
from lucid2.recipes import appendix
from lucid2.recipes.appendix import AppendixError, LockOwner, OutputLock, Request, open_store
from lucid2.recipes.appendix.lock import LOCK_NAME

RANDOM = ModelSpec("inceptionv1", None, None, "RGB")
TIMEOUT = 60
RUN_TIMEOUT = 300
# Holds the lock of the directory argv[1] until its stdin closes.
HOLDER = textwrap.dedent("""
    import sys
    from lucid2.recipes.appendix import OutputLock, open_store
    with OutputLock(open_store(sys.argv[1])):
        print("locked", flush=True)
        sys.stdin.read()
""")
STARTED = "2020-01-02T03:04:05+00:00"


def _request(output, settings) -> Request:
    return Request(str(output), settings=settings, model=RANDOM, layers=(LAYER,))


def _unfinished_copy(reference_run, tmp_path, name: str = "out"):
    """The reference run with channel 30's record gone: batch 24-47 is left to do."""
    output = tmp_path / name
    shutil.copytree(reference_run, output)
    (output / "renders" / LAYER / "0030.json").unlink()
    return output


def _dead_pid() -> int:
    """The pid of a process that has ended (and been waited for)."""
    result = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                            capture_output=True, text=True, check=True, timeout=TIMEOUT)
    return int(result.stdout)


def test_two_jobs_on_one_output_directory_the_second_is_refused(
        reference_run, random_model, small_settings, tmp_path):
    output = _unfinished_copy(reference_run, tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(output)], env=subprocess_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        lock = json.loads((output / LOCK_NAME).read_text())
        assert lock["pid"] == holder.pid and lock["host"] == socket.gethostname()
        assert lock["started"].endswith("+00:00")
        before = tree(output, "")
        expected = (f"Another appendix job is writing to {output} (pid {holder.pid} on host "
                    f"{socket.gethostname()}, started {lock['started']}; lock file "
                    f"{output / LOCK_NAME}). Wait for it to finish")
        with pytest.raises(AppendixError, match=re.escape(expected)):
            appendix.run(_request(output, small_settings), model=random_model, stream=None)
        assert tree(output, "") == before  # nothing rendered, nothing removed, its lock kept
    finally:
        holder.communicate("", timeout=TIMEOUT)
    assert holder.returncode == 0 and not (output / LOCK_NAME).exists()
    appendix.run(_request(output, small_settings), model=random_model, stream=None)
    assert tree(output, "") == tree(reference_run, "")


def test_a_stale_lock_is_taken_over_with_a_message(reference_run, random_model, small_settings,
                                                   tmp_path):
    output = _unfinished_copy(reference_run, tmp_path)
    pid = _dead_pid()
    stale = LockOwner(pid=pid, host=socket.gethostname(), started=STARTED, token="0" * 16)
    (output / LOCK_NAME).write_bytes(stale.to_bytes())
    messages = io.StringIO()
    appendix.run(_request(output, small_settings), model=random_model, stream=None,
                 notices=messages)
    assert (f"Took over the stale lock of an interrupted job (pid {pid} on host "
            f"{socket.gethostname()}, started {STARTED})") in messages.getvalue()
    assert tree(output, "") == tree(reference_run, "")  # the lock file is gone too


def test_a_lock_from_another_host_is_refused(reference_run, small_settings, tmp_path):
    output = _unfinished_copy(reference_run, tmp_path)
    other = LockOwner(pid=_dead_pid(), host="elsewhere.invalid", started=STARTED, token="1" * 16)
    (output / LOCK_NAME).write_bytes(other.to_bytes())
    with pytest.raises(AppendixError, match="on host elsewhere.invalid.*This host cannot tell "
                                            "whether it still runs.*delete the lock file"):
        appendix.run(_request(output, small_settings), stream=None)
    assert (output / LOCK_NAME).read_bytes() == other.to_bytes()


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_the_lock_is_released_on_errors_and_ctrl_c(reference_run, random_model, small_settings,
                                                   tmp_path, monkeypatch, error):
    output = _unfinished_copy(reference_run, tmp_path)

    def broken(job, **kwargs):
        assert json.loads((output / LOCK_NAME).read_text())["pid"] > 0  # held while it works
        raise error("stop")

    monkeypatch.setattr("lucid2.recipes.appendix.job.run_in_process", broken)
    with pytest.raises(error):
        appendix.run(_request(output, small_settings), model=random_model, stream=None)
    assert not (output / LOCK_NAME).exists()


@pytest.mark.parametrize("backend", ["local", "beam"])
def test_output_lock_on_each_store(tmp_path, backend):
    """The flock'ed local lock and the best-effort one of object stores (Beam's filesystems)."""
    if backend == "beam":
        pytest.importorskip("apache_beam")
    store = open_store(str(tmp_path / "out"), backend=backend)
    messages = []
    with OutputLock(store, log=messages.append) as lock:
        assert LockOwner.from_bytes(store.read_bytes(LOCK_NAME)) == lock.owner
        with pytest.raises(AppendixError, match="Another appendix job"):
            OutputLock(store).acquire()  # this very process holds it: still alive
    assert not store.exists(LOCK_NAME) and messages == []
    dead = LockOwner(pid=_dead_pid(), host=socket.gethostname(), started=STARTED, token="2" * 16)
    store.write_bytes(LOCK_NAME, dead.to_bytes())
    with OutputLock(store, log=messages.append):
        pass
    assert "its process is no longer running" in messages[0]
    store.write_bytes(LOCK_NAME, b"{not a lock")
    if backend == "beam":
        with pytest.raises(AppendixError, match="not readable as a lock file"):
            OutputLock(store).acquire()
    else:  # the flock tells that nobody holds it
        with OutputLock(store, log=messages.append):
            pass
        assert "unreadable lock file" in messages[-1]


def _records(output) -> int:
    folder = output / "renders" / LAYER
    return len(list(folder.glob("*.json"))) if folder.is_dir() else 0


@pytest.mark.slow
def test_cli_ctrl_c_releases_the_lock_and_sigkill_leaves_a_stale_one(tmp_path, reference_run):
    """Ctrl-C (SIGINT) ends the app with status 130 and no lock; after SIGKILL the next run
    takes the killed job's lock over and finishes with the same bytes."""
    output = tmp_path / "cli"
    for signal_number in (signal.SIGINT, signal.SIGKILL):
        before = _records(output)
        process = subprocess.Popen(cli_args(output), env=subprocess_env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + RUN_TIMEOUT
        try:
            # Signalled once this job has written records of its own.
            while _records(output) == before and process.poll() is None:
                assert time.monotonic() < deadline, "no record appeared in time"
                time.sleep(0.02)
        finally:
            process.send_signal(signal_number)
            _, stderr = process.communicate(timeout=TIMEOUT)
        assert _records(output) < CHANNELS, "the run was not interrupted mid-way"
        if signal_number == signal.SIGINT:
            assert process.returncode == 130, stderr[-3000:]
            # The one line that says what Ctrl-C kept is the app's error: standard error.
            assert "lucid2.appendix: interrupted" in stderr and "Traceback" not in stderr
            assert not (output / LOCK_NAME).exists()
        else:
            assert json.loads((output / LOCK_NAME).read_text())["pid"] == process.pid
    result = subprocess.run(cli_args(output), env=subprocess_env(), capture_output=True,
                            text=True, timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    # Taking a stale lock over is a notice (standard error, shown even with --quiet).
    assert f"Took over the stale lock of an interrupted job (pid {process.pid}" in result.stderr
    assert tree(output, "") == tree(reference_run, "")
