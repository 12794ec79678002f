"""The throughput benchmark runs and reports an extrapolated table (its numbers are not tested)."""

from __future__ import annotations

import re

import pytest
from absl import app, flags
from program_testlib import load_benchmark


def _flags(module, *args):
    values = flags.FlagValues()
    module.define_flags(values)
    values(["appendix_throughput", *args])
    return values


@pytest.mark.slow
def test_benchmark_prints_channels_per_hour_per_batch_size(capsys):
    module = load_benchmark("appendix_throughput")
    values = _flags(module, "--layer=conv2d0", "--size=32", "--steps=64", "--measure_steps=2",
                    "--channels_per_batch=1,3")
    module.main(["appendix_throughput"], values)
    out = capsys.readouterr().out
    assert "EXTRAPOLATED" in out and "2 steps" in out and "64 steps per render" in out
    rows = [line.split() for line in out.splitlines() if re.match(r"^\s+\d+\s", line)]
    assert [row[0] for row in rows] == ["1", "3"]
    for row in rows:
        assert float(row[4].replace(",", "")) > 0  # channels per hour


def test_benchmark_rejects_bad_batch_sizes():
    module = load_benchmark("appendix_throughput")
    with pytest.raises(app.UsageError, match="positive integers"):
        module.main(["appendix_throughput"], _flags(module, "--channels_per_batch=0"))
    with pytest.raises(app.UsageError, match="integers"):
        module.main(["appendix_throughput"], _flags(module, "--channels_per_batch=a"))
