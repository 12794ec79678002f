"""Readers for the forms in which the InceptionV1 ("inception5h") weights are published.

Each reader returns a :class:`RawWeights`: the tensors as stored (no layout
conversion), the class labels found next to them (or None) and the layout the
tensors are stored in. :func:`lucid2.modelzoo.weights.normalize.normalize`
turns them into lucid2's canonical TensorFlow layout and verifies them.

Readers raise ``ValueError`` naming the file when it is truncated, corrupt or
not of the expected kind.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Mapping

import h5py
import numpy as np
import tensorflow as tf
from google.protobuf.message import DecodeError

# TensorFlow layout: convolutions (KH, KW, IN, OUT), dense layers (IN, OUT).
LAYOUT_TF = "tf"
# soumith/inception.torch's dump (Caffe2 "NHWC"): convolutions (OUT, KH, KW, IN),
# dense layers (OUT, 1, 1, IN).
LAYOUT_CAFFE2 = "caffe2"
LAYOUTS = (LAYOUT_TF, LAYOUT_CAFFE2)

GRAPHDEF_NAME = "tensorflow_inception_graph.pb"
GRAPHDEF_SUFFIX = ".pb"
ZIP_LABELS_NAME = "imagenet_comp_graph_label_strings.txt"
HDF5_DUMP_DIR = "dump"
HDF5_SUFFIX = ".h5"
SYNSETS_NAME = "synsets.txt"
# synsets.txt: a dummy class 0 and the 1000 ImageNet classes; later lines are unrelated synsets.
SYNSETS_CLASS_LINES = 1001
LABELS_ENCODING = "utf-8"


@dataclass(frozen=True)
class RawWeights:
    """Tensors as a source stores them, before layout conversion and checks.

    Attributes:
      tensors: name -> array, in ``layout``.
      labels: class names as found (index 0 is inception5h's dummy class), or None.
      layout: ``LAYOUT_TF`` or ``LAYOUT_CAFFE2``.
      source: a human-readable description of where the tensors came from.
    """

    tensors: Mapping[str, np.ndarray]
    labels: tuple[str, ...] | None
    layout: str
    source: str


def parse_label_lines(text: str) -> tuple[str, ...]:
    """One label per line (inception5h's label file); trailing blank lines dropped."""
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return tuple(lines)


def parse_synsets(text: str) -> tuple[str, ...]:
    """``synsets.txt`` lines ("WNID name, synonyms") -> the text after the WNID, per class."""
    labels = []
    for line in text.splitlines()[:SYNSETS_CLASS_LINES]:
        parts = line.strip().split(maxsplit=1)
        labels.append(parts[1] if len(parts) == 2 else "".join(parts))
    return tuple(labels)


def decode_text(data: bytes, origin: str) -> str:
    """Decodes a label file, raising ValueError naming ``origin`` if it is not text."""
    try:
        return data.decode(LABELS_ENCODING)
    except UnicodeDecodeError as error:
        raise ValueError(f"Label file {origin} is not {LABELS_ENCODING} text ({error}).") from None


def graphdef_tensors(data: bytes, origin: str,
                     names: Collection[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays of the Const nodes of a serialized GraphDef (only ``names`` if given)."""
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"{origin} is not a valid TensorFlow GraphDef: the protobuf could not be parsed "
            f"({error}); the file is probably truncated or corrupt.") from None
    const_nodes = [node for node in graph_def.node if node.op == "Const"]
    if not const_nodes:
        raise ValueError(
            f"{origin} holds no Const nodes ({len(graph_def.node)} nodes in all): it is not a "
            "frozen TensorFlow GraphDef with weights (or it is corrupt).")
    tensors = {}
    for node in const_nodes:
        if names is not None and node.name not in names:
            continue
        try:
            tensors[node.name] = tf.make_ndarray(node.attr["value"].tensor)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Const node {node.name!r} of {origin} holds an unreadable tensor ({error}); "
                "the file is probably corrupt.") from None
    return tensors


def read_graphdef(path: str | os.PathLike, names: Collection[str] | None = None,
                  labels: tuple[str, ...] | None = None) -> RawWeights:
    """Reads a TensorFlow GraphDef ``.pb`` (``tensorflow_inception_graph.pb``, Lucid's
    ``InceptionV1.pb``): the Const nodes, named ``conv2d0_w``, ... in TensorFlow layout."""
    path = Path(path)
    tensors = graphdef_tensors(path.read_bytes(), str(path), names)
    return RawWeights(tensors, labels, LAYOUT_TF, f"{path} (TensorFlow GraphDef)")


def _pick_graphdef_member(members: list[str], origin: str) -> str:
    by_name = [m for m in members if Path(m).name == GRAPHDEF_NAME]
    candidates = by_name or [m for m in members if m.lower().endswith(GRAPHDEF_SUFFIX)]
    if len(candidates) != 1:
        what = "no" if not candidates else f"{len(candidates)} (ambiguous)"
        raise ValueError(
            f"Zip archive {origin} holds {what} {GRAPHDEF_SUFFIX} GraphDef files; expected "
            f"{GRAPHDEF_NAME} (members: {', '.join(members) or 'none'}).")
    return candidates[0]


def read_zip(path: str | os.PathLike, names: Collection[str] | None = None) -> RawWeights:
    """Reads the inception5h ``.zip``: its GraphDef and, if present, its label file."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
            member = _pick_graphdef_member(members, str(path))
            data = archive.read(member)
            label_members = [m for m in members if Path(m).name == ZIP_LABELS_NAME]
            labels = None
            if label_members:
                origin = f"{path}:{label_members[0]}"
                labels = parse_label_lines(decode_text(archive.read(label_members[0]), origin))
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise ValueError(
            f"{path} is not a readable zip archive ({error}); it is probably truncated or "
            "corrupt.") from None
    tensors = graphdef_tensors(data, f"{path}:{member}", names)
    return RawWeights(tensors, labels, LAYOUT_TF, f"{path} (inception5h zip, {member})")


def hdf5_dump_dir(path: str | Path) -> Path | None:
    """The folder of per-tensor ``.h5`` files for ``path`` (it or its ``dump/``), or None."""
    path = Path(path)
    if (path / HDF5_DUMP_DIR).is_dir():
        return path / HDF5_DUMP_DIR
    if path.is_dir() and any(path.glob(f"*{HDF5_SUFFIX}")):
        return path
    return None


def _read_hdf5_tensor(file: Path, name: str) -> np.ndarray:
    try:
        with h5py.File(file, "r") as handle:
            if name not in handle:
                raise ValueError(
                    f"{file} holds no dataset named {name!r} (it holds: "
                    f"{', '.join(handle.keys()) or 'nothing'}).")
            return np.asarray(handle[name][()])
    except OSError as error:
        raise ValueError(
            f"{file} is not a readable HDF5 file ({error}); it is probably truncated or "
            "corrupt.") from None


def read_hdf5_dir(path: str | os.PathLike, names: Collection[str] | None = None) -> RawWeights:
    """Reads soumith/inception.torch's per-tensor HDF5 files (``dump/NAME.h5``, dataset NAME).

    ``path`` is the folder holding ``dump/`` or ``dump/`` itself. Tensors stay in
    Caffe2 layout. Labels come from a ``synsets.txt`` beside ``dump/`` (or inside
    it) when there is one.
    """
    path = Path(path)
    dump = hdf5_dump_dir(path)
    if dump is None:
        raise ValueError(
            f"{path} holds neither a {HDF5_DUMP_DIR}/ folder nor {HDF5_SUFFIX} files, so it is "
            "not a soumith/inception.torch HDF5 dump.")
    files = sorted(dump.glob(f"*{HDF5_SUFFIX}"))
    if names is not None:
        files = [f for f in files if f.stem in names]
    tensors = {file.stem: _read_hdf5_tensor(file, file.stem) for file in files}
    labels = None
    for candidate in (dump.parent / SYNSETS_NAME, dump / SYNSETS_NAME):
        if candidate.is_file():
            labels = parse_synsets(decode_text(candidate.read_bytes(), str(candidate)))
            break
    return RawWeights(tensors, labels, LAYOUT_CAFFE2, f"{dump} (HDF5 per-tensor dump)")
