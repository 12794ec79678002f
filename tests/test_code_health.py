"""Code health: ``ruff check lucid2`` and ``mypy lucid2`` pass with the repository's settings.

The linters' settings are ``ruff.toml`` and the ``[mypy]`` sections of ``setup.cfg``
(both read from the repository root, where these tests run them). ruff and mypy come
with the test extra, so a missing one fails with the install command instead of
skipping. The last tests give each checker a file with one planted problem, so that
a passing run is known to mean something.
"""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = "lucid2"
INSTALL_HINT = 'pip install -e ".[test]"  (ruff and mypy are in the test and lint extras)'
# A cold mypy run (no cache) over lucid2/ takes about 15 s on two cores.
TOOL_TIMEOUT_S = 600


def _run(tool: str, *args: str | pathlib.Path) -> subprocess.CompletedProcess:
    """Runs ``python -m tool args`` from the repository root (so it reads its settings)."""
    if importlib.util.find_spec(tool) is None:
        pytest.fail(f"{tool} is not installed in this environment: {INSTALL_HINT}")
    return subprocess.run([sys.executable, "-m", tool, *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False)


def _report(result: subprocess.CompletedProcess) -> str:
    return (f"`{' '.join(map(str, result.args[2:]))}` exited with {result.returncode}:\n"
            f"{result.stdout}{result.stderr}")


def test_ruff_is_clean():
    result = _run("ruff", "check", "--output-format", "concise", PACKAGE)
    if result.returncode != 0:
        pytest.fail(_report(result), pytrace=False)


@pytest.mark.slow
def test_mypy_is_clean():
    result = _run("mypy", PACKAGE)
    if result.returncode != 0:
        pytest.fail(_report(result), pytrace=False)


def test_ruff_settings_catch_a_planted_problem(tmp_path):
    planted = tmp_path / "planted.py"
    long_line = "x = " + " + ".join(["1"] * 40)  # over the 100-character limit
    planted.write_text("import os\n\n\n"
                       "def pairs(a, b):\n"
                       "    return list(zip(a, b))\n\n\n"
                       f"{long_line}\n")
    result = _run("ruff", "check", "--config", REPO_ROOT / "ruff.toml", "--no-cache",
                  "--output-format", "concise", planted)
    assert result.returncode == 1, _report(result)
    found = {line.split(" ")[1] for line in result.stdout.splitlines()
             if line.startswith(str(planted))}
    assert {"F401", "B905", "E501"} <= found, _report(result)


def test_mypy_settings_catch_a_planted_problem(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("def untyped(x):\n"
                       "    total: int = x\n"
                       "    total = 'text'\n"  # found only because check_untyped_defs is on
                       "    return total\n")
    result = _run("mypy", "--config-file", REPO_ROOT / "setup.cfg",
                  "--cache-dir", tmp_path / "cache", planted)
    assert result.returncode == 1, _report(result)
    assert "planted.py:3: error" in result.stdout and "[assignment]" in result.stdout, \
        _report(result)
