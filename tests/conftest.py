"""Shared fixtures: the read-only data folder and quiet TensorFlow logs."""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


def shared_data_path() -> pathlib.Path | None:
    """``$LUCID2_SHARED_DATA`` or ``../shared/data`` beside the repository, if present."""
    configured = os.environ.get("LUCID2_SHARED_DATA")
    path = pathlib.Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    return path if (path / "inception5h").is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    """The shared data folder; skips the test cleanly when it is absent."""
    path = shared_data_path()
    if path is None:
        pytest.skip("shared data not found (set LUCID2_SHARED_DATA or place ../shared/data)")
    return path


@pytest.fixture(scope="session")
def inception(shared_data):
    """InceptionV1 on the real weights, built once per test session."""
    from lucid2.modelzoo import InceptionV1

    return InceptionV1(weights=shared_data / "inception5h")
