"""``python -m lucid2.appendix``: an unwritable output refused with the flags, Ctrl-C's one line.

The job itself (resuming, refusing other settings, Beam) is tested in tests/recipes/appendix.
"""

import os

import pytest
from absl import app, flags
from program_testlib import app_exit

from lucid2 import appendix as appendix_app
from lucid2.recipes.appendix import progress as progress_module

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
# A small job on random weights: conv2d0's 64 channels in two batches of 32.
LAYER = "conv2d0"
BATCH = 32


def _flags(*args: str) -> tuple[flags.FlagValues, list[str]]:
    values = flags.FlagValues()
    appendix_app.define_flags(values)
    rest = appendix_app.parse_flags(["lucid2.appendix", *args], values)
    return values, rest


# --------------------------------------------------------- 1. unwritable output
@pytest.mark.parametrize("case, message", [
    ("proc", "--output_dir: cannot create '/proc/appendix': '/proc' does not accept new files"),
    ("file_url", "--output_dir: cannot create '/proc/appendix': '/proc' does not accept new "
                 "files"),
    ("file", "--output_dir: '{tmp}/file.txt' exists and is not a directory"),
    ("under_a_file", "--output_dir: '{tmp}/file.txt' is a file, not a folder, so "
                     "'{tmp}/file.txt/out' cannot be created"),
    pytest.param("read_only", "--output_dir: cannot create '{tmp}/read_only/out': permission "
                 "denied", marks=pytest.mark.skipif(IS_ROOT, reason="root ignores permissions")),
])
def test_unwritable_output_dir_is_refused_with_the_flags(tmp_path, case, message):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "read_only").mkdir(mode=0o555)
    output_dir = {"proc": "/proc/appendix", "file_url": "file:///proc/appendix",
                  "file": tmp_path / "file.txt", "under_a_file": tmp_path / "file.txt" / "out",
                  "read_only": tmp_path / "read_only" / "out"}[case]
    values, _ = _flags(f"--output_dir={output_dir}", "--weights=none")
    with pytest.raises(app.UsageError) as error:
        appendix_app.request_from_flags(values)
    assert message.format(tmp=tmp_path) in str(error.value)


def test_unwritable_output_dir_check_leaves_urls_to_beam(tmp_path):
    values, _ = _flags("--output_dir=gs://bucket/appendix", "--weights=none")
    assert appendix_app.request_from_flags(values).output_dir == "gs://bucket/appendix"
    values, _ = _flags(f"--output_dir={tmp_path / 'new'}", "--weights=none")
    assert appendix_app.request_from_flags(values).output_dir == str(tmp_path / "new")
    assert list(tmp_path.iterdir()) == []  # checked, not created


# ---------------------------------------------------------------------- 2. Ctrl-C
def test_ctrl_c_says_what_was_kept_and_exits_130(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)

    def interrupt_after_first_batch(progress, count, what=""):
        raise KeyboardInterrupt  # as the first batch's progress line is due: it is saved

    monkeypatch.setattr(progress_module.Progress, "advance", interrupt_after_first_batch)
    output = tmp_path / "appendix"
    values, rest = _flags(f"--output_dir={output}", f"--layers={LAYER}", "--steps=2",
                          "--size=32", f"--channels_per_batch={BATCH}", "--weights=none")
    exit_info = app_exit(appendix_app.main, rest, values)
    assert exit_info.code == 130
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == (f"lucid2.appendix: interrupted; {BATCH} finished channel(s) kept in "
                    f"{output}: rerun the same command to resume")


@pytest.mark.slow
def test_progress_lines_go_to_stdout_and_quiet_leaves_only_the_gallery(tmp_path, monkeypatch,
                                                                       capsys):
    monkeypatch.delenv("LUCID2_MAX_STEPS", raising=False)
    job = [f"--layers={LAYER}", "--steps=2", "--size=32", f"--channels_per_batch={BATCH}",
           "--weights=none"]
    values, rest = _flags(f"--output_dir={tmp_path / 'shown'}", *job)
    appendix_app.main(rest, values)
    lines = capsys.readouterr().out.splitlines()
    progress = [line for line in lines if " channels (" in line]
    assert [line.split(" | ")[0] for line in progress] == \
        [f"appendix: {BATCH}/64 channels (50.0%)", "appendix: 64/64 channels (100.0%)"]
    assert "ETA 0:" in progress[0] and lines[-1].startswith("Gallery: ")
    values, rest = _flags(f"--output_dir={tmp_path / 'quiet'}", *job, "--quiet")
    appendix_app.main(rest, values)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("Gallery: ") and "index.html" in out


def test_ctrl_c_before_rendering_says_so(tmp_path):
    assert appendix_app.interrupted_message(str(tmp_path / "nothing_yet")) == \
        "interrupted before any channel was rendered"
    assert appendix_app.interrupted_message("gs://bucket/appendix") == \
        "interrupted; the channels finished so far are kept: rerun the same command to resume"
