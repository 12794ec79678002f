"""Recognizes which supported form a local weights path is, and reads it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Collection

from lucid2.modelzoo.weights import formats, lucid2_file
from lucid2.modelzoo.weights.formats import RawWeights

FORM_GRAPHDEF = "graphdef"
FORM_ZIP = "zip"
FORM_HDF5 = "hdf5"
FORM_LUCID2 = "lucid2"

ACCEPTED_FORMS = (
    "a TensorFlow GraphDef file ending in .pb (tensorflow_inception_graph.pb, or Lucid's "
    "InceptionV1.pb)",
    "the inception5h .zip archive holding tensorflow_inception_graph.pb",
    "a folder of soumith/inception.torch per-tensor HDF5 files (the folder holding dump/, or "
    "dump/ itself)",
    "a lucid2 weights file (.npz) written by `python -m lucid2.convert_weights`",
)
_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_MAGIC_BYTES = max(len(_ZIP_MAGIC), len(_HDF5_MAGIC))


def accepted_forms_text() -> str:
    """The supported forms, one per line, for error messages."""
    return "\n".join(f"  - {form}" for form in ACCEPTED_FORMS)


def detect_format(path: str | os.PathLike) -> str:
    """Returns ``FORM_GRAPHDEF``, ``FORM_ZIP``, ``FORM_HDF5`` or ``FORM_LUCID2`` for ``path``.

    Zip archives and HDF5 files are recognized by content, GraphDefs (which have
    no signature) by the ``.pb`` suffix. Raises FileNotFoundError for a missing
    path and ValueError, listing the accepted forms, for anything else.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"No InceptionV1 weights at {path}: no such file or folder. Give one of:\n"
            f"{accepted_forms_text()}")
    if path.is_dir():
        if formats.hdf5_dump_dir(path) is not None:
            return FORM_HDF5
        raise ValueError(
            f"The folder {path} holds no {formats.HDF5_DUMP_DIR}/ folder and no "
            f"{formats.HDF5_SUFFIX} files, so it is not a weights source. Give one of:\n"
            f"{accepted_forms_text()}")
    with open(path, "rb") as handle:
        head = handle.read(_MAGIC_BYTES)
    if path.suffix.lower() == lucid2_file.SUFFIX or (
            head.startswith(_ZIP_MAGIC) and lucid2_file.is_lucid2_file(path)):
        return FORM_LUCID2
    if head.startswith(_ZIP_MAGIC):
        return FORM_ZIP
    if head.startswith(_HDF5_MAGIC):
        raise ValueError(
            f"{path} is a single HDF5 file; give the folder of per-tensor HDF5 files instead "
            f"(the folder holding {formats.HDF5_DUMP_DIR}/, or {formats.HDF5_DUMP_DIR}/ itself).")
    if path.suffix.lower() == formats.GRAPHDEF_SUFFIX:
        return FORM_GRAPHDEF
    raise ValueError(
        f"Cannot tell what kind of weights file {path} is (not a zip archive, not HDF5, no "
        f"{formats.GRAPHDEF_SUFFIX} suffix). Give one of:\n{accepted_forms_text()}")


def read_weights(path: str | os.PathLike, names: Collection[str] | None = None) -> RawWeights:
    """Reads any supported local form (see ``ACCEPTED_FORMS``); only ``names`` if given."""
    form = detect_format(path)
    if form == FORM_LUCID2:
        return lucid2_file.read_lucid2_file(path, names)
    if form == FORM_ZIP:
        return formats.read_zip(path, names)
    if form == FORM_HDF5:
        return formats.read_hdf5_dir(path, names)
    return formats.read_graphdef(path, names)
