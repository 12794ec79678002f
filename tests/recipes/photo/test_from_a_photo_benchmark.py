"""benchmarks/from_a_photo.py: its flag checks, its rows, and a short run on real weights."""

from __future__ import annotations

import pytest
from absl import app, flags
from program_testlib import load_benchmark


def _flags(module, *args):
    values = flags.FlagValues()
    module.define_flags(values)
    values(["from_a_photo", *args])
    return values


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("from_a_photo")


def test_rows_say_pass_fail_or_report(bench):
    passed = bench.Row("inversion", "dog.jpg", "cosine mixed4a", 0.83, ">= 0.8", True)
    assert passed.line().split()[-4:] == ["0.8300", ">=", "0.8", "PASS"]
    assert bench.Row("style", "a", "b", 0.1, "> 0.5", False).line().endswith("FAIL")
    assert bench.Row("style", "a", "b", "3x4", "report", None).line().endswith("-")


@pytest.mark.parametrize("args, message", [
    (["--checks=inversion,speed", "--photos=a.jpg", "--style=b.jpg"], "Unknown check"),
    (["--photos=/nonexistent/a.jpg", "--style=/nonexistent/b.jpg"], "Not found"),
])
def test_bad_flags_are_refused_before_the_model_loads(bench, args, message):
    with pytest.raises(app.UsageError, match=message):
        bench.main(["from_a_photo"], _flags(bench, *args))


@pytest.mark.slow
def test_a_short_run_prints_the_table(bench, shared_data, capsys):
    values = _flags(bench, f"--weights={shared_data / 'inception5h'}", "--steps=2",
                    "--checks=caricature,errors")
    bench.main(["from_a_photo"], values)  # may pass or fail at 2 steps; it must run
    out = capsys.readouterr().out
    assert "steps capped at 2" in out
    rows = [line for line in out.splitlines() if line.startswith(("caricature", "errors"))]
    assert len(rows) == 4 + 4
    assert all(line.split()[-1] == "PASS" for line in rows if line.startswith("errors"))
    assert "Unknown layer 'mixed9z'" in out and "does not exist" in out
