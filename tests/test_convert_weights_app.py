"""``python -m lucid2.convert_weights``: the output checked before the conversion, Ctrl-C and a
full disk in one line. Conversions themselves are tested in tests/modelzoo/weights."""

import errno
import os
import re

import numpy as np
import pytest
from absl import app, flags
from program_testlib import app_exit

from lucid2 import convert_weights
from lucid2.modelzoo import weights as weights_module
from lucid2.modelzoo.weights import WeightSet

TENSOR_SIZE = 1000  # float32: 4,000 bytes


@pytest.fixture
def run_main():
    """Calls main with the global flags parsed from ``args`` (absl's flags of this module)."""
    def run(*args: str) -> None:
        flags.FLAGS(["lucid2.convert_weights", *args])
        convert_weights.main(["lucid2.convert_weights"])

    yield run
    flags.FLAGS.unparse_flags()


def _no_conversion(*args, **kwargs):
    raise AssertionError("the output must be checked before the weights are loaded")


# --------------------------------------------------------- 1. unwritable output
@pytest.mark.parametrize("case, message", [
    ("proc", "--output: cannot write '/proc/w.npz': '/proc' does not accept new files"),
    ("under_a_file", "--output: '{tmp}/file.txt' is a file, not a folder"),
    ("directory", "--output: '{tmp}' is a directory, not a file"),
    ("missing_folder", "--output: the folder '{tmp}/missing' does not exist"),
])
def test_unwritable_output_is_refused_before_loading(tmp_path, monkeypatch, run_main, case,
                                                     message):
    monkeypatch.setattr(weights_module, "load_weights", _no_conversion)
    (tmp_path / "file.txt").write_text("x")
    output = {"proc": "/proc/w.npz", "under_a_file": tmp_path / "file.txt" / "w.npz",
              "directory": tmp_path, "missing_folder": tmp_path / "missing" / "w.npz"}[case]
    with pytest.raises(app.UsageError) as error:
        run_main("--source=imagenet", f"--output={output}")
    assert message.format(tmp=tmp_path) in str(error.value)


# ---------------------------------------------------------------------- 2. Ctrl-C
def test_ctrl_c_exits_130_with_one_line(tmp_path, monkeypatch, run_main, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(weights_module, "load_weights", interrupted)
    exit_info = app_exit(run_main, "--source=imagenet", f"--output={tmp_path / 'w.npz'}")
    assert exit_info.code == 130
    assert capsys.readouterr().err == "lucid2.convert_weights: interrupted; nothing written\n"
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------- 3. disk full
def test_disk_full_names_the_output_and_the_space_needed(tmp_path, monkeypatch, run_main):
    tensors = {"conv2d0_w": np.zeros(TENSOR_SIZE, np.float32)}
    monkeypatch.setattr(weights_module, "load_weights",
                        lambda source, shapes: WeightSet(tensors, None, "test"))

    def full_device(handle, **arrays):
        handle.write(b"PK partial")  # part of the archive gets out, then the device is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), handle.name)

    monkeypatch.setattr(np, "savez", full_device)
    output = tmp_path / "w.npz"
    exit_info = app_exit(run_main, "--source=imagenet", f"--output={output}")
    message = str(exit_info.code)
    assert re.fullmatch(
        rf"lucid2\.convert_weights: error: no space left to write '{re.escape(str(output))}': "
        r"it needs about 4\.0 KB, [0-9.]+ [KMGT]?B free; nothing written\.", message), message
    assert list(tmp_path.iterdir()) == []  # no file, no temporary
