"""Running lucid2's programs from tests: the absl apps (as programs, and as parsed flags)
and the benchmark scripts (as modules)."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys
from types import ModuleType
from typing import Callable

import pytest
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


def run_app_after(setup: str, module: str, *args: str,
                  env_extra: dict[str, str] | None = None,
                  timeout: float = APP_TIMEOUT_SECONDS) -> subprocess.CompletedProcess:
    """Like :func:`run_app`, but runs the Python code ``setup`` in the app's process first
    (to inject a failure: a full disk, a Ctrl-C), then the app as ``python -m module``."""
    launch = (f"{setup}\nimport runpy, sys\nsys.argv = [{module!r}, *sys.argv[1:]]\n"
              f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), TF_CPP_MIN_LOG_LEVEL="2",
               **(env_extra or {}))
    return subprocess.run([sys.executable, "-c", launch, *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def app_exit(main: Callable[..., object], *args, **kwargs) -> SystemExit:
    """The SystemExit that ``main(*args, **kwargs)`` ends with (an app's main in-process).

    A Ctrl-C that escapes it fails the test: left to propagate, a KeyboardInterrupt would
    stop the whole pytest run instead.
    """
    try:
        main(*args, **kwargs)
    except SystemExit as exit_:
        return exit_
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the app's main: no one-line message, no exit status 130.")
    pytest.fail("The app's main returned; it should have exited.")


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
