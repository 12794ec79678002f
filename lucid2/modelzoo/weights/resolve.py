"""``load_weights``: InceptionV1 weights from a local copy, a URL, the cache or the web.

``weights="imagenet"`` resolves, in order:

1. ``$LUCID2_INCEPTIONV1_WEIGHTS``, when set: a local copy in any supported
   form, used as is (nothing downloaded, nothing cached);
2. the cache file ``<cache_dir>/inceptionv1_imagenet_v1.npz`` (``cache_dir``
   defaults to ``$KERAS_HOME/models/lucid2`` or ``~/.keras/models/lucid2``): a
   hit does no network work. A cached file that cannot be read or verified is
   deleted (with a warning) and downloaded again;
3. each of ``sources`` in turn (``DEFAULT_SOURCES``: the inception5h zip, Lucid's
   ``.pb``, then soumith/inception.torch's HDF5 files): the first that downloads,
   converts and verifies is written to the cache atomically (a failure to write
   the cache only warns). Downloads go to a temporary folder outside the cache,
   so the cache never holds a partial or unverified file.

All downloads of one call share one deadline (``download_timeout_s``, else
``$LUCID2_DOWNLOAD_TIMEOUT``, else a minute): when it runs out, no further
source is tried and the error says how to work offline.

``weights=None`` (random initialization) is the model builder's business: this
function refuses it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lucid2.modelzoo.weights import detect
from lucid2.modelzoo.weights.download import (DEADLINE_ARGUMENT, DEADLINE_ENV_VAR, Deadline,
                                              DeadlineExceeded, DownloadError, deadline_seconds,
                                              fetch_url, is_url)
from lucid2.modelzoo.weights.formats import RawWeights
from lucid2.modelzoo.weights.lucid2_file import (FORMAT_VERSION, read_lucid2_file,
                                                 write_lucid2_file)
from lucid2.modelzoo.weights.normalize import (normalize, normalize_labels,
                                               validate_expected_shapes)
from lucid2.modelzoo.weights.progress import DownloadProgress
from lucid2.modelzoo.weights.sources import DEFAULT_SOURCES, Source, fetch_source

IMAGENET = "imagenet"
ENV_VAR = "LUCID2_INCEPTIONV1_WEIGHTS"
KERAS_HOME_ENV = "KERAS_HOME"
CACHE_SUBDIR = ("models", "lucid2")
CACHE_FILE_NAME = f"inceptionv1_imagenet_v{FORMAT_VERSION}.npz"
_TEMP_PREFIX = "lucid2-weights-"
_URL_DEFAULT_NAME = "weights"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeightSet:
    """Verified weights, ready to assign to the model.

    Attributes:
      tensors: name -> float32 array in TensorFlow layout, exactly the names of
        the ``expected_shapes`` asked for.
      labels: 1008 class names (index 0 is the dummy class, 1001..1007 are
        ``unused_<i>``), or None when the source has none.
      source: where the tensors came from, for messages and provenance.
    """

    tensors: Mapping[str, np.ndarray]
    labels: tuple[str, ...] | None
    source: str

    @property
    def num_params(self) -> int:
        """Total number of scalars over all tensors."""
        return int(sum(t.size for t in self.tensors.values()))


def default_cache_dir() -> Path:
    """``$KERAS_HOME/models/lucid2``, else ``~/.keras/models/lucid2`` (as Keras, a temp
    folder's ``.keras`` when that is not writable)."""
    base = Path(os.environ.get(KERAS_HOME_ENV) or Path.home() / ".keras")
    probe = base if base.exists() else base.parent
    if not os.access(probe, os.W_OK):
        base = Path(tempfile.gettempdir()) / ".keras"
    return base.joinpath(*CACHE_SUBDIR)


def cache_path(cache_dir: str | os.PathLike | None = None) -> Path:
    """The converted-weights cache file for ``weights="imagenet"``."""
    return (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / CACHE_FILE_NAME


def _weight_set(raw: RawWeights, expected: Mapping[str, tuple[int, ...]]) -> WeightSet:
    tensors = normalize(raw, expected)
    labels = normalize_labels(raw.labels)
    return WeightSet(tensors, None if labels is None else tuple(labels), raw.source)


def load_local(path: str | os.PathLike,
               expected_shapes: Mapping[str, Sequence[int]]) -> WeightSet:
    """Loads and verifies weights from a local path in any supported form."""
    expected = validate_expected_shapes(expected_shapes)
    return _weight_set(detect.read_weights(path, expected), expected)


def load_url(url: str, expected_shapes: Mapping[str, Sequence[int]], *,
             download_timeout_s: float | None = None,
             download_progress: bool = True) -> WeightSet:
    """Downloads a single-file source (``.pb``, inception5h ``.zip`` or lucid2 ``.npz``)
    to a temporary folder and loads it; nothing is cached. ``download_timeout_s``
    and ``download_progress`` as for :func:`load_weights`."""
    expected = validate_expected_shapes(expected_shapes)
    deadline = Deadline(deadline_seconds(download_timeout_s))
    name = Path(urllib.parse.urlsplit(url).path).name or _URL_DEFAULT_NAME
    progress = _progress(download_progress)
    with tempfile.TemporaryDirectory(prefix=_TEMP_PREFIX) as workdir:
        try:
            path = fetch_url(url, Path(workdir) / name, deadline=deadline, progress=progress)
        finally:
            if progress is not None:
                progress.close()
        return _weight_set(detect.read_weights(path, expected), expected)


def _progress(download_progress: bool) -> DownloadProgress | None:
    if not isinstance(download_progress, bool):
        raise TypeError(f"download_progress must be True or False, got {download_progress!r}.")
    return DownloadProgress() if download_progress else None


def offline_advice(deadline_s: float | None = None) -> str:
    """How to do without the network (and, given the limit that ran out, how to wait longer)."""
    advice = (
        f"To work offline, get a copy of the weights elsewhere and set ${ENV_VAR} to its path "
        f"(or pass the path as weights=). Accepted forms:\n{detect.accepted_forms_text()}")
    if deadline_s is not None:
        advice += (
            f"\nOn a slow network, allow more than {deadline_s:g} s with {DEADLINE_ARGUMENT}= "
            f"or ${DEADLINE_ENV_VAR} (seconds, inf for no limit).")
    return advice


def _check_sources(sources: Sequence[Source]) -> tuple[Source, ...]:
    if isinstance(sources, (str, Source)) or not isinstance(sources, Sequence):
        raise TypeError("sources must be a sequence of Source objects.")
    if not sources or not all(isinstance(s, Source) for s in sources):
        raise TypeError(f"sources must be a non-empty sequence of Source objects, got {sources!r}.")
    return tuple(sources)


def _load_cached(path: Path, expected: Mapping[str, tuple[int, ...]]) -> WeightSet | None:
    if not path.is_file():
        return None
    try:
        return _weight_set(read_lucid2_file(path, expected), expected)
    except (ValueError, OSError) as error:
        _log.warning("Cached weights %s are unusable, downloading them again: %s", path, error)
        # A file we cannot delete is simply overwritten (or left) by the next cache write.
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def _store(path: Path, weight_set: WeightSet) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_lucid2_file(path, weight_set.tensors, weight_set.labels, weight_set.source)
    except OSError as error:
        _log.warning("Could not cache the weights in %s: %s", path, error)
    else:
        _log.info("Cached the InceptionV1 weights in %s", path)


def _load_imagenet(expected: Mapping[str, tuple[int, ...]], cache_dir,
                   sources: tuple[Source, ...], deadline_s: float,
                   progress: DownloadProgress | None) -> WeightSet:
    override = os.environ.get(ENV_VAR)
    if override:
        if not Path(override).exists():
            raise FileNotFoundError(
                f"${ENV_VAR} is set to {override!r}, which does not exist. Point it at a local "
                f"copy of the weights in one of these forms, or unset it:\n"
                f"{detect.accepted_forms_text()}")
        return load_local(override, expected)
    cache_file = cache_path(cache_dir)
    cached = _load_cached(cache_file, expected)
    if cached is not None:
        return cached
    deadline = Deadline(deadline_s)  # starts with the first request, after the cache
    failures = []
    try:
        for index, source in enumerate(sources):
            try:
                with tempfile.TemporaryDirectory(prefix=_TEMP_PREFIX) as workdir:
                    raw = fetch_source(source, workdir, expected, deadline=deadline,
                                       progress=progress)
                    weight_set = _weight_set(raw, expected)
            except DeadlineExceeded as error:
                # The time is spent for every source: stop here rather than warn three times.
                failures.append(f"{_describe(source)}: {_short(error, source)}")
                untried = ", ".join(_describe(s) for s in sources[index + 1:])
                if untried:
                    failures.append(f"not tried: {untried}")
                raise DownloadError(
                    f"Could not download the pretrained InceptionV1 weights within "
                    f"{deadline.describe()}:\n  - " + "\n  - ".join(failures)
                    + "\n" + offline_advice(deadline.seconds)) from None
            except (DownloadError, ValueError) as error:
                _log.warning("Weights source %s failed: %s", source.url, error)
                failures.append(f"{_describe(source)}: {error}")
                continue
            _store(cache_file, weight_set)
            return weight_set
    finally:
        if progress is not None:
            progress.close()
    raise DownloadError(
        "Could not get the pretrained InceptionV1 weights from any source:\n  - "
        + "\n  - ".join(failures) + "\n" + offline_advice())


def _describe(source: Source) -> str:
    return f"{source.url} ({source.kind})"


def _short(error: DeadlineExceeded, source: Source) -> str:
    """What a source got before the time ran out (the advice follows once, not per source)."""
    if error.detail is None:
        return str(error)
    return error.detail if error.url == source.url else f"{error.url} {error.detail}"


def load_weights(weights: str | os.PathLike, expected_shapes: Mapping[str, Sequence[int]], *,
                 cache_dir: str | os.PathLike | None = None,
                 sources: Sequence[Source] | None = None,
                 download_timeout_s: float | None = None,
                 download_progress: bool = True) -> WeightSet:
    """Loads verified InceptionV1 weights.

    Args:
      weights: ``"imagenet"`` (pretrained; see the module docstring for the
        order: ``$LUCID2_INCEPTIONV1_WEIGHTS``, cache, ``sources``), an http(s)
        URL of a single-file source (not cached), or a local path to a ``.pb``
        GraphDef, the inception5h ``.zip``, a soumith/inception.torch HDF5
        folder or a lucid2 ``.npz`` file. ``None`` (random initialization) must
        be handled by the caller and is refused here.
      expected_shapes: ``{name: shape}`` of the tensors wanted, in TensorFlow
        layout; other tensors of the source are ignored.
      cache_dir: folder of the cache file; defaults to :func:`default_cache_dir`.
      sources: download sources for ``"imagenet"``; defaults to ``DEFAULT_SOURCES``.
      download_timeout_s: seconds the whole download may take (every source,
        file and retry); default ``$LUCID2_DOWNLOAD_TIMEOUT``, else 60. ``inf``:
        no limit.
      download_progress: show the transfer on standard error (a bar on a
        terminal, else a line every few seconds); False for quiet.

    Raises:
      FileNotFoundError: a local path (or ``$LUCID2_INCEPTIONV1_WEIGHTS``) that does not exist.
      ValueError: an unsupported or corrupt file, or missing / misshapen / non-finite tensors.
      DownloadError: (an OSError) every source failed, or the time limit ran out; the
        message lists why each source failed and how to work offline.
    """
    expected = validate_expected_shapes(expected_shapes)
    deadline_s = deadline_seconds(download_timeout_s)
    progress = _progress(download_progress)
    if weights is None:
        raise ValueError(
            "weights=None means random initialization, which the model builder does itself; "
            "load_weights needs 'imagenet', a URL or a local path.")
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            f"weights must be 'imagenet', a URL or a path, got {type(weights).__name__}.")
    sources = DEFAULT_SOURCES if sources is None else _check_sources(sources)
    if isinstance(weights, str) and weights == IMAGENET:
        return _load_imagenet(expected, cache_dir, sources, deadline_s, progress)
    if isinstance(weights, str) and is_url(weights):
        return load_url(weights, expected, download_timeout_s=deadline_s,
                        download_progress=download_progress)
    if not Path(weights).exists():
        hint = " (did you mean 'imagenet'?)" if str(weights).lower() == IMAGENET else ""
        raise FileNotFoundError(
            f"weights={str(weights)!r} is not 'imagenet', not an http(s) URL and not an existing "
            f"path{hint}. A local copy can be:\n{detect.accepted_forms_text()}")
    return load_local(weights, expected)
