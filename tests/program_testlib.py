"""Running lucid2's programs from tests: the absl apps (as programs, and as parsed flags)
and the benchmark scripts (as modules)."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys
from types import ModuleType

from absl import flags

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
APP_TIMEOUT_SECONDS = 300


def run_app(module: str, *args: str, env_extra: dict[str, str] | None = None,
            timeout: float = APP_TIMEOUT_SECONDS) -> subprocess.CompletedProcess:
    """``python -m module args`` with this checkout on the path and TensorFlow quiet."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TF_CPP_MIN_LOG_LEVEL="2",
               **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def app_settings(app: ModuleType, *args: str):
    """The app's settings for ``args``: its flags defined on fresh FlagValues and parsed."""
    flag_values = flags.FlagValues()
    app.define_flags(flag_values)
    flag_values([app.__name__, *args])
    return app.settings_from_flags(flag_values)


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` imported as a module (benchmarks are scripts, not a package)."""
    path = REPO_ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
