"""A full disk during the appendix: one line naming the path and the space, nothing partial."""

from __future__ import annotations

import errno
import os
import pickle
import shutil

import pytest
from appendix_testlib import (BATCH, LAYER, SEED, SIZE, STEPS, parse_app_flags, temporaries,
                              tree)

from lucid2.modelzoo import ModelSpec
from lucid2.recipes import appendix
from lucid2.recipes.appendix import OutputFull, Request, open_store
from lucid2.recipes.appendix import integrity
from lucid2.recipes.appendix import store as store_lib

RANDOM = ModelSpec("inceptionv1", None, None, "RGB")
# The render file (PNG or record, in writing order) whose write finds the disk full: the PNG
# of the third channel of batch 24-47.
FAILING_RENDER_WRITE = 5
NO_SPACE = "No space left on device"


def _full_after(count: int, calls: list):
    """atomic_write that writes half of the ``count``-th render file, then raises ENOSPC."""
    real = store_lib.atomic_write

    def atomic_write(path, write, **kwargs):
        if f"{os.sep}renders{os.sep}" in os.fspath(path):
            calls.append(os.fspath(path))
        if len(calls) != count:
            return real(path, write, **kwargs)

        def half_then_full(temp: str) -> None:
            write(temp)
            with open(temp, "r+b") as handle:
                handle.truncate(os.path.getsize(temp) // 2)
            raise OSError(errno.ENOSPC, NO_SPACE, temp)

        return real(path, half_then_full, **kwargs)

    return atomic_write


def test_disk_full_during_the_appendix_is_one_line_and_resumes(
        reference_run, random_model, tmp_path, monkeypatch):
    from lucid2 import appendix as appendix_app

    output = tmp_path / "full"
    shutil.copytree(reference_run, output)
    for channel in range(BATCH, 2 * BATCH):  # batch 24-47 is left to do
        for path in store_lib.render_paths(LAYER, channel):
            (output / path).unlink()
    calls: list[str] = []
    monkeypatch.setattr(store_lib, "atomic_write", _full_after(FAILING_RENDER_WRITE, calls))
    monkeypatch.setattr("lucid2.recipes.appendix.job.load_model", lambda spec: random_model)
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)
    values, rest = parse_app_flags(f"--output_dir={output}", f"--layers={LAYER}",
                                   f"--steps={STEPS}", f"--size={SIZE}",
                                   f"--channels_per_batch={BATCH}", f"--seed={SEED}",
                                   "--weights=none")
    with pytest.raises(SystemExit) as failed:
        appendix_app.main(rest, values)
    message = str(failed.value.code)
    failing = calls[FAILING_RENDER_WRITE - 1]
    assert failing == str(output / "renders" / LAYER / "0026.png")
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(f"lucid2.appendix: error: No space left on the device of "
                              f"{failing}: writing ")
    assert " KB failed (" in message and " free; the rest of the run needs about " in message
    assert message.endswith("Free some space and rerun the same command to resume.")
    # Nothing partial: no temporaries, and every file there is whole (only channels missing).
    assert temporaries(output) == []
    assert not (output / ".lucid2-appendix.lock").exists()
    problems = integrity.verify_output(str(output)).problems
    assert {p.channel for p in problems if p.path.startswith("renders/")} == \
        set(range(BATCH + 2, 2 * BATCH))
    assert all(p.kind == integrity.MISSING for p in problems if p.path.startswith("renders/"))

    monkeypatch.undo()
    request = Request(str(output), settings=appendix.Settings(
        steps=STEPS, size=SIZE, channels_per_batch=BATCH, seed=SEED), model=RANDOM,
        layers=(LAYER,))
    assert appendix.run(request, model=random_model, stream=None)["complete"]
    assert tree(output, "") == tree(reference_run, "")


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "No space left on the device of"),
                                         (errno.EDQUOT, "Disk quota exceeded for")])
def test_disk_full_in_the_store_names_the_file_and_the_space(tmp_path, monkeypatch, code,
                                                             words):
    store = open_store(str(tmp_path / "out"))
    store.write_bytes("manifest.json", b"old")

    def full(temp: str, data: bytes = b"") -> int:
        raise OSError(code, os.strerror(code), temp)

    monkeypatch.setattr(store_lib.pathlib.Path, "write_bytes", full)
    with pytest.raises(OutputFull) as failed:
        store.write_bytes("manifest.json", b"x" * 1500)
    path = str(tmp_path / "out" / "manifest.json")
    assert str(failed.value).startswith(f"{words} {path}: writing 1.5 KB failed (")
    assert failed.value.path == path and failed.value.needed == 1500
    assert failed.value.free is not None and failed.value.__cause__ is None
    # Beam may pickle a worker's error.
    assert str(pickle.loads(pickle.dumps(failed.value))) == str(failed.value)
    monkeypatch.undo()
    assert store.read_bytes("manifest.json") == b"old" and temporaries(tmp_path) == []


def test_disk_full_in_a_beam_worker_reaches_the_driver_as_one_line(tmp_path, monkeypatch):
    pytest.importorskip("apache_beam")
    from apache_beam.io.filesystem import BeamIOError
    from apache_beam.io.filesystems import FileSystems

    store = open_store(str(tmp_path / "out"), backend="beam")

    def full(path, *args, **kwargs):
        raise BeamIOError("create failed", {path: OSError(errno.ENOSPC, NO_SPACE, path)})

    monkeypatch.setattr(FileSystems, "create", full)
    with pytest.raises(OutputFull, match="No space left on the device of .*renders/x/0001.png"):
        store.write_bytes("renders/x/0001.png", b"png")
    # What a runner raises in the driver: the worker's error inside its own text.
    worker_error = OutputFull("/o/a.png", 2000, None)
    wrapped = RuntimeError("Pipeline failed: Traceback (most recent call last):\n  File x\n"
                           f"lucid2.recipes.appendix.store.OutputFull: {worker_error}\n"
                           " [while running 'Render']")
    assert store_lib.output_full_line(str(wrapped)) == (
        "No space left on the device of /o/a.png: writing 2.0 KB failed (the device is full). "
        "Free some space and rerun the same command to resume.")
