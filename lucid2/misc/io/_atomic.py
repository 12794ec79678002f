"""Atomic file writes: write a temporary file beside the target, then rename it."""

from __future__ import annotations

import os
import pathlib
import secrets
from typing import Callable


def atomic_write(path, write: Callable[[str], None]) -> pathlib.Path:
    """Calls ``write(temp_path)``, then moves the file to ``path`` in one step.

    A failure at any point removes the temporary file, so ``path`` either
    keeps its old content (or stays absent) or holds the complete new file.
    """
    path = pathlib.Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"Directory {str(path.parent)!r} does not exist.")
    # A fresh random name created by the writer itself, so the file gets the
    # usual permissions (mkstemp would make it private to the user).
    temp = str(path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        write(temp)
        os.replace(temp, path)
    except BaseException:
        try:
            os.remove(temp)
        except FileNotFoundError:
            pass
        raise
    return path
