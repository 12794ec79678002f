"""Where the pretrained InceptionV1 weights are published, and how to fetch each source."""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Collection

from lucid2.modelzoo.weights import formats
from lucid2.modelzoo.weights.download import (Deadline, DownloadError, as_deadline, check_url,
                                              fetch_url)
from lucid2.modelzoo.weights.formats import RawWeights
from lucid2.modelzoo.weights.progress import DownloadProgress

INCEPTION5H_ZIP_URL = (
    "https://storage.googleapis.com/download.tensorflow.org/models/inception5h.zip")
LUCID_GRAPHDEF_URL = (
    "https://storage.googleapis.com/modelzoo/vision/other_models/InceptionV1.pb")
INCEPTION_TORCH_COMMIT = "8b9705fe4d1643a4cd6a23aebfe8d70c875ae31e"
INCEPTION_TORCH_DUMP_URL = (
    f"https://raw.githubusercontent.com/soumith/inception.torch/{INCEPTION_TORCH_COMMIT}/dump/")
INCEPTION_TORCH_SYNSETS_URL = (
    f"https://raw.githubusercontent.com/soumith/inception.torch/{INCEPTION_TORCH_COMMIT}/"
    "synsets.txt")

SHA256_HEX_DIGITS = 64
KIND_ZIP = "zip"
KIND_GRAPHDEF = "graphdef"
KIND_HDF5 = "hdf5"
KINDS = (KIND_ZIP, KIND_GRAPHDEF, KIND_HDF5)

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """One place to download the weights from.

    Attributes:
      kind: ``"zip"`` (the inception5h archive), ``"graphdef"`` (a ``.pb``) or
        ``"hdf5"`` (``url`` is the base of the per-tensor files: ``url + NAME.h5``).
      url: an http(s) URL.
      labels_url: optional label file, fetched best-effort (a failure only means
        no labels): one label per line for ``"graphdef"``, ``synsets.txt`` lines
        for ``"hdf5"``; ignored for ``"zip"``, which carries its own labels.
      sha256: optional hex digest of the downloaded file (``"zip"`` and
        ``"graphdef"`` only). A GraphDef has no checksum of its own, so only a
        digest catches damage inside its tensor bytes; the zip has CRC-32s.
    """

    kind: str
    url: str
    labels_url: str | None = None
    sha256: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Source kind must be one of {KINDS}, got {self.kind!r}.")
        check_url(self.url)
        if self.labels_url is not None:
            check_url(self.labels_url)
        if self.sha256 is not None:
            if self.kind == KIND_HDF5:
                raise ValueError("sha256 applies to single-file sources ('zip', 'graphdef').")
            if len(self.sha256) != SHA256_HEX_DIGITS or any(
                    c not in "0123456789abcdefABCDEF" for c in self.sha256):
                raise ValueError(
                    f"sha256 must be {SHA256_HEX_DIGITS} hex digits, got {self.sha256!r}.")


# Tried in this order by load_weights("imagenet"). No digests are pinned: they could not be
# computed offline. Damage is still caught by Content-Length, the zip's CRC-32s, protobuf
# parsing and normalize()'s shape and finiteness checks.
DEFAULT_SOURCES = (
    Source(KIND_ZIP, INCEPTION5H_ZIP_URL),
    Source(KIND_GRAPHDEF, LUCID_GRAPHDEF_URL),
    Source(KIND_HDF5, INCEPTION_TORCH_DUMP_URL, labels_url=INCEPTION_TORCH_SYNSETS_URL),
)


def _file_name(url: str, default: str) -> str:
    name = Path(urllib.parse.urlsplit(url).path).name
    return name or default


def _fetch_optional(url: str | None, destination: Path, *, deadline: Deadline,
                    progress: DownloadProgress | None) -> Path | None:
    if url is None:
        return None
    try:
        return fetch_url(url, destination, deadline=deadline, progress=progress)
    except DownloadError as error:
        # Also when the deadline ran out: the weights are here, only the labels are missing.
        _log.warning("No class labels: %s", error)
        return None


def fetch_source(source: Source, workdir: str | Path, names: Collection[str], *,
                 deadline: Deadline | float | None = None,
                 progress: DownloadProgress | None = None) -> RawWeights:
    """Downloads ``source`` into the (temporary) folder ``workdir`` and reads it.

    Only the tensors in ``names`` are read (for ``"hdf5"``, only they are
    downloaded). Every file shares ``deadline`` (see
    :func:`~lucid2.modelzoo.weights.download.fetch_url`). Raises DownloadError
    (DeadlineExceeded when the deadline ran out) or, for a corrupt download,
    ValueError.
    """
    workdir = Path(workdir)
    shared = as_deadline(deadline)
    if source.kind == KIND_ZIP:
        path = fetch_url(source.url, workdir / _file_name(source.url, "inception5h.zip"),
                         sha256=source.sha256, deadline=shared, progress=progress)
        raw = formats.read_zip(path, names)
    elif source.kind == KIND_GRAPHDEF:
        path = fetch_url(source.url, workdir / "graph.pb", sha256=source.sha256,
                         deadline=shared, progress=progress)
        labels_path = _fetch_optional(source.labels_url, workdir / "labels.txt",
                                      deadline=shared, progress=progress)
        labels = (formats.parse_label_lines(
            formats.decode_text(labels_path.read_bytes(), source.labels_url))
            if labels_path is not None and source.labels_url is not None else None)
        raw = formats.read_graphdef(path, names, labels=labels)
    else:
        dump = workdir / formats.HDF5_DUMP_DIR
        dump.mkdir()
        base = source.url if source.url.endswith("/") else source.url + "/"
        for name in sorted(names):
            file_name = f"{name}{formats.HDF5_SUFFIX}"
            fetch_url(urllib.parse.urljoin(base, urllib.parse.quote(file_name)), dump / file_name,
                      deadline=shared, progress=progress)
        _fetch_optional(source.labels_url, workdir / formats.SYNSETS_NAME, deadline=shared,
                        progress=progress)
        raw = formats.read_hdf5_dir(workdir, names)
    return RawWeights(raw.tensors, raw.labels, raw.layout, f"{source.url} ({source.kind})")
