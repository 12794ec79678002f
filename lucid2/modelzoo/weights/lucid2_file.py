"""lucid2's own weights file: an uncompressed ``.npz`` written atomically.

Members: one float32 array per tensor under its name (``conv2d0_w``, ...), in
TensorFlow layout, plus metadata members whose names start with ``__``:
``__format__`` (the string ``FORMAT_NAME``), ``__version__`` (int),
``__source__`` (where the tensors came from) and, when labels are known,
``__labels__`` (an array of strings). It loads with ``allow_pickle=False``; the
zip container's CRC-32 catches corrupted bytes.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path
from typing import Any, Collection, Mapping, Sequence

import numpy as np

from lucid2.misc.io import atomic_write
from lucid2.modelzoo.weights.formats import LAYOUT_TF, RawWeights

FORMAT_NAME = "lucid2-inceptionv1-weights"
FORMAT_VERSION = 1
SUFFIX = ".npz"
META_PREFIX = "__"
_FORMAT_KEY = "__format__"
_VERSION_KEY = "__version__"
_SOURCE_KEY = "__source__"
_LABELS_KEY = "__labels__"
_ZIP_MAGIC = b"PK\x03\x04"


class _NotLucid2(ValueError):
    """A readable archive that is not (or not yet) a lucid2 weights file."""


def is_lucid2_file(path: str | Path) -> bool:
    """Whether ``path`` is a zip archive with lucid2's format marker (content is not checked)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return f"{_FORMAT_KEY}.npy" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _check_tensors(tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    arrays = {}
    for name, tensor in tensors.items():
        if not isinstance(name, str) or not name or name.startswith(META_PREFIX):
            raise ValueError(
                f"Tensor names must be non-empty strings not starting with {META_PREFIX!r}, "
                f"got {name!r}.")
        array = np.asarray(tensor)
        if array.dtype != np.float32:
            raise ValueError(f"Tensor {name!r} must be float32, got {array.dtype}.")
        arrays[name] = array
    if not arrays:
        raise ValueError("Refusing to write a weights file without tensors.")
    return arrays


def write_lucid2_file(path: str | Path, tensors: Mapping[str, np.ndarray],
                      labels: Sequence[str] | None, source: str) -> Path:
    """Writes lucid2's weights file atomically and returns its path.

    The data goes to a temporary file in the same folder, is read back and
    compared, flushed to disk, and only then renamed over ``path``
    (:func:`lucid2.misc.io.atomic_write`): readers see either the old file or
    the complete new one, never a partial one.
    """
    path = Path(path)
    arrays = _check_tensors(tensors)
    if labels is not None and (isinstance(labels, str)
                               or not all(isinstance(label, str) for label in labels)):
        raise TypeError("labels must be a sequence of strings or None.")
    directory = path.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"Cannot write {path}: the folder {directory} does not exist.")
    meta = {_FORMAT_KEY: np.array(FORMAT_NAME), _VERSION_KEY: np.array(FORMAT_VERSION),
            _SOURCE_KEY: np.array(str(source))}
    if labels is not None:
        meta[_LABELS_KEY] = np.array(list(labels), dtype=str)

    # Values typed Any: numpy's stub matches **arrays against savez's allow_pickle flag too.
    contents: dict[str, Any] = {**arrays, **meta}

    def write(temp: str) -> None:
        # A file handle, because np.savez appends ".npz" to a file name without it.
        with open(temp, "xb") as handle:
            np.savez(handle, **contents)
        _verify(Path(temp), arrays, labels)

    # The cache file is minutes of download and conversion: make the rename durable too.
    return atomic_write(path, write, sync_directory=True)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _verify(path: Path, arrays: Mapping[str, np.ndarray], labels: Sequence[str] | None) -> None:
    written = read_lucid2_file(path)
    same = (set(written.tensors) == set(arrays)
            and all(_same_bits(written.tensors[n], a) for n, a in arrays.items())
            and (written.labels == (None if labels is None else tuple(labels))))
    if not same:
        raise OSError(f"Verification of the freshly written {path} failed: the data read back "
                      "differs from the data written.")


def read_lucid2_file(path: str | os.PathLike, names: Collection[str] | None = None) -> RawWeights:
    """Reads lucid2's weights file (only ``names`` if given); ValueError if unreadable."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(len(_ZIP_MAGIC))
    if head != _ZIP_MAGIC:
        raise ValueError(f"{path} is not a lucid2 weights file (not an .npz / zip archive).")
    try:
        with np.load(path, allow_pickle=False) as archive:
            members = set(archive.files)
            if _FORMAT_KEY not in members or str(archive[_FORMAT_KEY]) != FORMAT_NAME:
                raise _NotLucid2(
                    f"{path} is an .npz archive but not a lucid2 weights file (no "
                    f"{_FORMAT_KEY} = {FORMAT_NAME!r} entry).")
            version = int(archive[_VERSION_KEY]) if _VERSION_KEY in members else None
            if version is None or version > FORMAT_VERSION:
                raise _NotLucid2(
                    f"{path} has lucid2 weights format version {version}; this lucid2 reads "
                    f"versions up to {FORMAT_VERSION} (upgrade lucid2 or convert again).")
            stored_source = str(archive[_SOURCE_KEY]) if _SOURCE_KEY in members else "unknown"
            labels = (tuple(str(label) for label in archive[_LABELS_KEY])
                      if _LABELS_KEY in members else None)
            wanted = sorted(m for m in members if not m.startswith(META_PREFIX)
                            and (names is None or m in names))
            tensors = {name: archive[name] for name in wanted}
    except _NotLucid2:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, ValueError) as error:
        raise ValueError(
            f"{path} is not a readable lucid2 weights file ({type(error).__name__}: {error}); "
            "it is probably truncated or corrupt.") from None
    return RawWeights(tensors, labels, LAYOUT_TF,
                      f"{path} (lucid2 weights file, from {stored_source})")
