"""Running lucid2's absl apps from tests: as a program, and as parsed flags."""

from __future__ import annotations

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
