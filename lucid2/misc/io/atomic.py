"""Atomic file writes: write a temporary file beside the target, flush it to disk, rename it."""

from __future__ import annotations

import os
import pathlib
import secrets
from typing import Callable


def default_temp_name(name: str) -> str:
    """A hidden, random temporary name for a file called ``name``."""
    return f".{name}.{secrets.token_hex(8)}.tmp"


def atomic_write(path, write: Callable[[str], object], *,
                 temp_name: Callable[[str], str] = default_temp_name,
                 sync_directory: bool = False) -> pathlib.Path:
    """Calls ``write(temp_path)``, then moves the file to ``path`` in one step.

    A failure at any point removes the temporary file, so ``path`` either
    keeps its old content (or stays absent) or holds the complete new file.
    The temporary file is synced to disk before the rename, so a crash right
    after it cannot leave an empty file behind. ``temp_name`` names the
    temporary file (callers that clean up leftovers of killed runs use their
    own recognizable names). ``sync_directory`` also syncs the folder after
    the rename, so that the new file survives a crash right after the call
    (one more disk flush: worth it for files that are expensive to make again).
    """
    path = pathlib.Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"Directory {str(path.parent)!r} does not exist.")
    # A fresh name created by the writer itself, so the file gets the usual
    # permissions (mkstemp would make it private to the user).
    temp = str(path.parent / temp_name(path.name))
    try:
        write(temp)
        descriptor = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temp, path)
    except BaseException:
        try:
            os.remove(temp)
        except FileNotFoundError:
            pass
        raise
    if sync_directory:
        _fsync_directory(path.parent)
    return path


def _fsync_directory(directory: pathlib.Path) -> None:
    # Some platforms cannot open folders; the rename is then as durable as they make it.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
