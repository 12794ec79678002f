"""``lucid2.app_checks``: what every app does alike: unwritable output, Ctrl-C, full disk."""

import errno
import os
import pathlib
import subprocess
import sys

import pytest
from absl import app
from program_testlib import REPO_ROOT

from lucid2 import app_checks

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
# /proc exists on Linux and refuses new files, even to root.
PROC = pathlib.Path("/proc")
needs_proc = pytest.mark.skipif(not PROC.is_dir(), reason="no /proc on this system")
not_as_root = pytest.mark.skipif(IS_ROOT, reason="root ignores permission bits")


def _read_only_folder(tmp_path: pathlib.Path) -> pathlib.Path:
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def _left_in(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------- 1. unwritable output
def test_unwritable_output_file_accepted_where_writable_and_nothing_left(tmp_path):
    assert app_checks.check_output_file(tmp_path / "out.png") == tmp_path / "out.png"
    assert _left_in(tmp_path) == []  # the probe file is gone


@pytest.mark.parametrize("case, message", [
    pytest.param("proc", "cannot write '/proc/x.png': '/proc' does not accept new files",
                 marks=needs_proc),
    ("under_a_file", "is a file, not a folder, so '{tmp}/file.txt/x.png' cannot be written"),
    ("directory", "'{tmp}/dir.png' is a directory, not a file"),
    ("missing_folder", "the folder '{tmp}/missing/deeper' does not exist"),
    pytest.param("read_only", "cannot write '{tmp}/read_only/x.png': permission denied",
                 marks=not_as_root),
])
def test_unwritable_output_file_is_a_usage_error_naming_the_path(tmp_path, case, message):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "dir.png").mkdir()
    path = {"proc": PROC / "x.png", "under_a_file": tmp_path / "file.txt" / "x.png",
            "directory": tmp_path / "dir.png",
            "missing_folder": tmp_path / "missing" / "deeper" / "x.png",
            "read_only": (_read_only_folder(tmp_path) if case == "read_only" else tmp_path)
            / "x.png"}[case]
    with pytest.raises(app.UsageError) as error:
        app_checks.check_output_file(path, "--output")
    text = str(error.value)
    assert text.startswith("--output: ") and "\n" not in text
    assert message.format(tmp=tmp_path) in text


def test_unwritable_output_dir_accepts_a_creatable_folder_without_creating_it(tmp_path):
    target = tmp_path / "new" / "deeper"
    assert app_checks.check_output_dir(target) == target
    assert app_checks.check_output_dir(tmp_path) == tmp_path
    assert _left_in(tmp_path) == []


@pytest.mark.parametrize("case, message", [
    pytest.param("proc", "cannot write in '/proc': '/proc' does not accept new files",
                 marks=needs_proc),
    pytest.param("proc_child", "cannot create '/proc/out': '/proc' does not accept new files",
                 marks=needs_proc),
    ("file", "'{tmp}/file.txt' exists and is not a directory"),
    ("under_a_file", "'{tmp}/file.txt' is a file, not a folder, so '{tmp}/file.txt/out' "
                     "cannot be created"),
    pytest.param("read_only", "cannot write in '{tmp}/read_only': permission denied",
                 marks=not_as_root),
])
def test_unwritable_output_dir_is_a_usage_error_naming_the_path(tmp_path, case, message):
    (tmp_path / "file.txt").write_text("x")
    path = {"proc": PROC, "proc_child": PROC / "out", "file": tmp_path / "file.txt",
            "under_a_file": tmp_path / "file.txt" / "out",
            "read_only": _read_only_folder(tmp_path) if case == "read_only" else None}[case]
    with pytest.raises(app.UsageError) as error:
        app_checks.check_output_dir(path, "--output_dir")
    assert str(error.value).startswith("--output_dir: ")
    assert message.format(tmp=tmp_path) in str(error.value)


def test_unwritable_output_explains_the_errno():
    folder = pathlib.Path("out")
    reasons = {code: app_checks._why_unwritable(OSError(code, os.strerror(code)), folder)
               for code in (errno.EACCES, errno.EROFS, errno.ENOSPC, errno.ENOENT, errno.EIO)}
    assert reasons[errno.EACCES] == "permission denied in 'out'"
    assert reasons[errno.EROFS] == "'out' is on a read-only file system"
    assert reasons[errno.ENOSPC] == "the device of 'out' is full"
    assert reasons[errno.ENOENT] == "'out' does not accept new files"
    assert reasons[errno.EIO] == f"'out': {os.strerror(errno.EIO)}"


# ---------------------------------------------------------------------- 2. Ctrl-C
def _interrupting(exception: BaseException):
    def main(argv):
        raise exception
    return main


def test_ctrl_c_generic_line_and_exit_130(capsys):
    main = app_checks.app_main("lucid2.some_app")(_interrupting(KeyboardInterrupt()))
    with pytest.raises(SystemExit) as exit_info:
        main(["prog"])
    assert exit_info.value.code == app_checks.EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == "lucid2.some_app: interrupted; nothing written\n"


def test_ctrl_c_reports_the_step_reached(capsys):
    def main(argv):
        with app_checks.reporting_steps(lambda: 37):
            raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exit_info:
        app_checks.app_main("lucid2.render")(main)(["prog"])
    assert exit_info.value.code == 130
    assert capsys.readouterr().err == "lucid2.render: interrupted at step 37; nothing written\n"


def test_ctrl_c_with_a_broken_step_counter_still_says_one_line():
    def broken() -> int:
        raise RuntimeError("the counter is gone")

    with pytest.raises(app_checks.Interrupted, match=r"^interrupted; nothing written$"):
        with app_checks.reporting_steps(broken):
            raise KeyboardInterrupt
    # An inner report (the more precise one) passes through unchanged.
    with pytest.raises(app_checks.Interrupted, match="^inner$"):
        with app_checks.reporting_steps(lambda: 5):
            raise app_checks.Interrupted("inner")


def test_ctrl_c_wrapper_passes_results_and_other_errors_through():
    wrap = app_checks.app_main("lucid2.x")
    assert wrap(lambda argv, extra=1: (argv, extra))(["a"], extra=2) == (["a"], 2)
    with pytest.raises(app.UsageError, match="bad flag"):
        wrap(_interrupting(app.UsageError("bad flag")))(["prog"])
    with pytest.raises(FileNotFoundError):
        wrap(_interrupting(FileNotFoundError(errno.ENOENT, "gone")))(["prog"])
    assert wrap(_interrupting).__name__ == "_interrupting"  # absl shows main's name


# ------------------------------------------------------------------- 3. disk full
def test_disk_full_inside_saving_to_names_the_output_and_the_space_needed(tmp_path):
    target = tmp_path / "w.npz"
    with pytest.raises(app_checks.OutputFull) as error:
        with app_checks.saving_to(target, needed_bytes=27_800_000):
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".w.tmp"))
    text = str(error.value)
    assert text.startswith(f"no space left to write '{target}': it needs about 27.8 MB, ")
    assert text.endswith(" free; nothing written.") and ".w.tmp" not in text
    with pytest.raises(app_checks.OutputFull, match=r"the device is full \(.* free\); kept x\."):
        with app_checks.saving_to(target, kept="kept x"):
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
    with pytest.raises(PermissionError):  # not a full disk: unchanged
        with app_checks.saving_to(target):
            raise PermissionError(errno.EACCES, "denied")


def test_disk_full_is_one_line_and_exit_1(tmp_path, capsys):
    wrap = app_checks.app_main("lucid2.render")

    def full_inside_saving_to(argv):
        with app_checks.saving_to(tmp_path / "v.png", needed_bytes=768):
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(SystemExit) as exit_info:
        wrap(full_inside_saving_to)(["prog"])
    assert str(exit_info.value.code).startswith(
        f"lucid2.render: error: no space left to write '{tmp_path / 'v.png'}': it needs about "
        "768 B, ")
    # Anywhere else (e.g. a download cache): the error's own file, or no name at all.
    with pytest.raises(SystemExit) as exit_info:
        wrap(_interrupting(OSError(errno.ENOSPC, "No space", str(tmp_path / "cache.part"))))(
            ["prog"])
    assert exit_info.value.code.startswith(
        f"lucid2.render: error: no space left to write '{tmp_path / 'cache.part'}': the device "
        "is full (")
    with pytest.raises(SystemExit) as exit_info:
        wrap(_interrupting(OSError(errno.ENOSPC, "No space")))(["prog"])
    assert exit_info.value.code == \
        "lucid2.render: error: no space left on the device: the device is full."
    assert capsys.readouterr().err == ""


def test_disk_full_removing_new_files_keeps_what_existed(tmp_path):
    (tmp_path / "old.png").write_bytes(b"old")
    (tmp_path / "old_panels").mkdir()
    with pytest.raises(OSError):
        with app_checks.removing_new_files(tmp_path):
            (tmp_path / "new.png").write_bytes(b"new")
            (tmp_path / "new_panels").mkdir()
            (tmp_path / "new_panels" / "00.png").write_bytes(b"new")
            (tmp_path / "old.png").write_bytes(b"replaced")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert _left_in(tmp_path) == ["old.png", "old_panels"]
    # A folder created for the output goes too, and so do its new parents.
    target = tmp_path / "made" / "out"
    with pytest.raises(KeyboardInterrupt):
        with app_checks.removing_new_files(target):
            target.mkdir(parents=True)
            (target / "a.json").write_text("{}")
            raise KeyboardInterrupt
    assert not (tmp_path / "made").exists()
    with app_checks.removing_new_files(tmp_path):  # success: everything stays
        (tmp_path / "kept.png").write_bytes(b"k")
    assert (tmp_path / "kept.png").exists()


@pytest.mark.parametrize("count, text", [(0, "0 B"), (999, "999 B"), (1000, "1.0 KB"),
                                         (27_800_000, "27.8 MB"), (3 * 10**12, "3.0 TB"),
                                         (5 * 10**15, "5.0 PB")])
def test_disk_full_sizes_in_words(count, text):
    assert app_checks.format_bytes(count) == text


def test_app_checks_imports_no_tensorflow():
    code = "import sys, lucid2.app_checks; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)), check=True)
    assert result.stdout.strip() == "False"
