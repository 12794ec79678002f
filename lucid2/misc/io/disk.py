"""The space on disk, for errors that say what a full device needs."""

from __future__ import annotations

import errno
import os
import shutil

# What a full device looks like to a writer: no space left, or the user's quota used up.
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
BYTE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")
BYTES_PER_UNIT = 1000  # decimal units, as disks are sold and df -H reports


def format_bytes(count: int) -> str:
    """``count`` bytes in decimal units: ``"512 B"``, ``"27.8 MB"``."""
    value, unit = float(count), 0
    while value >= BYTES_PER_UNIT and unit < len(BYTE_UNITS) - 1:
        value /= BYTES_PER_UNIT
        unit += 1
    return f"{int(count)} B" if unit == 0 else f"{value:.1f} {BYTE_UNITS[unit]}"


def free_bytes(path: str | os.PathLike) -> int | None:
    """Free bytes on the device of a local ``path`` (or of its nearest existing ancestor);
    None when unknown."""
    folder = os.path.abspath(os.fspath(path))
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` is a write failing on a full device or quota."""
    return isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS
