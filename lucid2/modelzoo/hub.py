"""Fetching TF-Hub modules: ``tensorflow_hub.load`` with errors that say what to do offline.

The one place lucid2 calls ``tensorflow_hub``: :func:`lucid2.modelzoo.load_hub` (vision
models) and :func:`lucid2.modelzoo.generators.load_hub_generator` (image generators) both
restore modules through :func:`restore_hub_module`. Without network access a remote handle
cannot be fetched; the error names the handle, what to download and where TF-Hub caches
modules, so the module can be fetched elsewhere and passed as a local directory.
"""

from __future__ import annotations

import http.client
import os
import tempfile
from typing import Any, Sequence

try:
    import tensorflow_hub as hub
except ImportError:  # a broken install; restore_hub_module() says what to install
    hub = None

REMOTE_PREFIXES = ("https://", "http://", "gs://")
# tfhub.dev / Kaggle serve a module as one .tar.gz archive at this query.
COMPRESSED_QUERY = "?tf-hub-format=compressed"
CACHE_ENV = "TFHUB_CACHE_DIR"
# Where tensorflow_hub caches downloads when TFHUB_CACHE_DIR is not set.
DEFAULT_CACHE_SUBDIR = "tfhub_modules"
# What a failed download raises: no network (OSError covers URLError, DNS and refused
# connections, timeouts), or a broken HTTP exchange.
DOWNLOAD_ERRORS = (OSError, http.client.HTTPException)


class HubDownloadError(ConnectionError):
    """A TF-Hub handle could not be fetched (no network): the message says what to download."""


def hub_cache_dir() -> str:
    """The directory where tensorflow_hub caches downloaded modules (``TFHUB_CACHE_DIR``)."""
    return os.environ.get(CACHE_ENV) or os.path.join(tempfile.gettempdir(), DEFAULT_CACHE_SUBDIR)


def _download_advice(handle: str, error: BaseException) -> str:
    archive = handle if handle.startswith("gs://") else handle.split("?")[0] + COMPRESSED_QUERY
    return (
        f"Could not fetch the TF-Hub module {handle!r} ({type(error).__name__}: {error}). "
        f"Without network access, download it on a machine that has it: {archive} is a "
        ".tar.gz archive of the module; unpack it into a directory and pass that directory "
        "instead of the handle. Downloaded modules "
        f"are cached in {hub_cache_dir()} (set {CACHE_ENV} to choose that directory; a module "
        "already in the cache loads without network).")


def restore_hub_module(handle_or_path: str | os.PathLike,
                       tags: Sequence[str] | None = None) -> tuple[Any, str]:
    """``tensorflow_hub.load`` of a handle or local directory, with clear errors.

    Returns the restored object and the handle as a string. Raises
    FileNotFoundError for a local path that is not a directory, and
    :class:`HubDownloadError` (saying what to download, and where modules are cached)
    when a remote handle cannot be fetched.
    """
    handle = os.fspath(handle_or_path)
    if not isinstance(handle, str):
        raise TypeError(f"handle_or_path must be a string or path, got {type(handle).__name__}.")
    remote = handle.startswith(REMOTE_PREFIXES)
    if not remote and not os.path.isdir(handle):
        raise FileNotFoundError(
            f"No TF-Hub module at {handle!r}: expected a handle such as https://tfhub.dev/... or "
            "https://www.kaggle.com/models/..., or a local hub-format SavedModel directory.")
    if hub is None:
        raise ImportError("Loading TF-Hub modules needs the tensorflow_hub package: pip install "
                          "tensorflow-hub.")
    try:
        return hub.load(handle, tags=tags), handle
    except DOWNLOAD_ERRORS as error:
        if not remote:
            raise
        raise HubDownloadError(_download_advice(handle, error)) from error
