"""Reads Keras files and SavedModel directories, saying clearly what is wrong with a bad one.

Keras reports a ``.keras`` file that is not a zip archive as "File not found",
and h5py a damaged ``.h5`` as "file signature not found": both send users
looking in the wrong place. These checks name the path, what it is, and what
was expected, before Keras or TensorFlow get to read it.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any, Mapping

import h5py
import keras
import tensorflow as tf

KERAS_ZIP_SUFFIX = ".keras"
KERAS_HDF5_SUFFIXES = (".h5", ".hdf5")
KERAS_FILE_SUFFIXES = (KERAS_ZIP_SUFFIX,) + KERAS_HDF5_SUFFIXES
SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
# Every Keras 3 .keras archive holds the model's architecture under this name.
KERAS_ARCHIVE_CONFIG = "config.json"
# A whole-model Keras .h5 file carries this attribute; a save_weights() file does not.
HDF5_MODEL_CONFIG_ATTR = "model_config"
ZIP_MAGIC = b"PK\x03\x04"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# Entries of a directory named in a message; the rest are counted.
LISTED_ENTRIES = 8

EXPECTED_KERAS_ZIP = (
    "a zip archive holding config.json and model.weights.h5, as written by model.save('x.keras')")
EXPECTED_KERAS_HDF5 = (
    "an HDF5 file holding a whole model (its config and weights), as written by "
    "model.save('x.h5')")
EXPECTED_MODEL_DIR = (
    "a SavedModel directory (holding saved_model.pb, as written by tf.saved_model.save or "
    "model.export) or a directory holding one .keras file")
# Errors of keras.saving.load_model that mean damaged bytes, not a problem with the model's code.
_DAMAGED_FILE_ERRORS = (zipfile.BadZipFile, json.JSONDecodeError, EOFError, OSError)


def _expected(path: str) -> str:
    return EXPECTED_KERAS_ZIP if path.lower().endswith(KERAS_ZIP_SUFFIX) else EXPECTED_KERAS_HDF5


def _head(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(max(len(ZIP_MAGIC), len(HDF5_SIGNATURE)))


def _invalid(path: str, what_it_is: str) -> ValueError:
    return ValueError(f"{path!r} is not a valid Keras file: {what_it_is}. Expected "
                      f"{_expected(path)}.")


def check_keras_file(path: str) -> None:
    """Raises a ValueError naming ``path``, what it is and what was expected, unless it looks
    like a readable ``.keras`` / ``.h5`` / ``.hdf5`` model file."""
    size = os.path.getsize(path)
    if size == 0:
        raise _invalid(path, "it is empty (0 bytes; probably written incompletely, save the "
                             "model again)")
    head = _head(path)
    if path.lower().endswith(KERAS_ZIP_SUFFIX):
        _check_keras_zip(path, size, head)
    else:
        _check_keras_hdf5(path, size, head)


def _check_keras_zip(path: str, size: int, head: bytes) -> None:
    if not zipfile.is_zipfile(path):
        if head.startswith(HDF5_SIGNATURE):
            raise _invalid(path, "it is an HDF5 file with a .keras name (rename it to .h5)")
        if head.startswith(ZIP_MAGIC):
            raise _invalid(path, f"it starts as a zip archive but its end is missing ({size} "
                                 "bytes; truncated, e.g. by an interrupted copy or download)")
        raise _invalid(path, f"it is not a zip archive ({size} bytes of something else)")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    if KERAS_ARCHIVE_CONFIG not in names:
        raise _invalid(path, f"it is a zip archive without {KERAS_ARCHIVE_CONFIG} (it holds "
                             f"{_listing(names)})")


def _check_keras_hdf5(path: str, size: int, head: bytes) -> None:
    if head.startswith(ZIP_MAGIC):
        raise _invalid(path, "it is a zip archive, a .keras file with an .h5 name (rename it "
                             "to .keras)")
    try:
        with h5py.File(path, "r") as handle:
            has_model = HDF5_MODEL_CONFIG_ATTR in handle.attrs
    except OSError as error:
        if not head.startswith(HDF5_SIGNATURE):
            # h5py would say "file signature not found", which reads like a missing file.
            raise _invalid(path, f"h5py cannot open it as HDF5: it is not an HDF5 file ({size} "
                                 "bytes of something else)") from None
        raise _invalid(path, f"h5py cannot open it as HDF5 ({error}); it is truncated or "
                             "corrupt") from None
    if not has_model:
        raise ValueError(
            f"{path!r} holds weights only (no {HDF5_MODEL_CONFIG_ATTR}), as written by "
            "model.save_weights: build the model in code, call model.load_weights(path) and wrap "
            "it with lucid2.modelzoo.from_keras; or save the whole model with "
            "model.save('model.keras').")


def load_keras_file(path: str, custom_objects: Mapping[str, Any] | None = None) -> keras.Model:
    """Checks and loads a ``.keras`` / ``.h5`` model file (without compiling it)."""
    check_keras_file(path)
    try:
        # compile=False: optimizer and loss are irrelevant here and may need custom code.
        return keras.saving.load_model(path, compile=False, custom_objects=custom_objects)
    except _DAMAGED_FILE_ERRORS as error:
        raise _invalid(path, f"Keras could not read it ({type(error).__name__}: {error}); it is "
                             "probably corrupt or written incompletely") from None


def _listing(names) -> str:
    names = sorted(names)
    if not names:
        return "nothing"
    shown = ", ".join(names[:LISTED_ENTRIES])
    more = len(names) - LISTED_ENTRIES
    return shown + (f" and {more} more" if more > 0 else "")


def not_a_model_directory(path: str) -> ValueError:
    """The error for a directory that is neither a SavedModel nor holds a ``.keras`` file."""
    entries = [name + ("/" if os.path.isdir(os.path.join(path, name)) else "")
               for name in os.listdir(path)]
    hdf5_files = sorted(n for n in entries if n.lower().endswith(KERAS_HDF5_SUFFIXES))
    hint = (f" To load {hdf5_files[0]}, pass the file itself: "
            f"{os.path.join(path, hdf5_files[0])!r}." if hdf5_files else "")
    return ValueError(
        f"{path!r} is neither a Keras file ({', '.join(KERAS_FILE_SUFFIXES)}) nor a SavedModel "
        f"directory: it has no {' or '.join(SAVED_MODEL_FILES)} and no .keras file (it holds "
        f"{_listing(entries)}). Expected {EXPECTED_MODEL_DIR}.{hint}")


def restore_saved_model(path: str):
    """``tf.saved_model.load(path)``; a ValueError naming ``path`` when its files are unusable."""
    graph_files = [os.path.join(path, name) for name in SAVED_MODEL_FILES
                   if os.path.isfile(os.path.join(path, name))]
    if not graph_files:
        raise not_a_model_directory(path)
    if all(os.path.getsize(name) == 0 for name in graph_files):
        raise ValueError(
            f"{path!r} is not a valid SavedModel: {os.path.basename(graph_files[0])} is empty "
            "(0 bytes; probably written incompletely). Export the model again.")
    try:
        return tf.saved_model.load(path)
    except (OSError, ValueError) as error:
        # OSError: an unparsable saved_model.pb or missing variables; both mean damaged files.
        reason = str(error).strip().rstrip(".")
        raise ValueError(
            f"{path!r} has {os.path.basename(graph_files[0])} but TensorFlow cannot load it as "
            f"a SavedModel ({type(error).__name__}: {reason}). If files are missing or damaged "
            "(a truncated saved_model.pb, no variables/ folder), export the model again.") from None
