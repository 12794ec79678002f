"""Streaming HTTP(S) downloads with one overall deadline, retries and a length check.

The policy constants are read at call time, so tests (or users) can change them
on the module. Only transient failures are retried (connection errors, time
outs, truncated bodies, HTTP 408/429/5xx); other HTTP errors such as 404 fail
at once so that the caller can move on to its next source.

A :class:`Deadline` bounds a whole download, retries and every file included:
``DEFAULT_DEADLINE_S`` unless a caller passes another limit or
``$LUCID2_DOWNLOAD_TIMEOUT`` sets one. Each socket operation (connect, the
wait for the answer, each read) may block only as long as the deadline
leaves, so that a server that accepts connections and never answers costs
the deadline once, not ``TIMEOUT_S`` per attempt and per source.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import hmac
import logging
import math
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable

import lucid2
from lucid2.modelzoo.weights.progress import DownloadProgress

TIMEOUT_S = 60.0  # longest silence of the server within one attempt (never past the deadline)
DEADLINE_ENV_VAR = "LUCID2_DOWNLOAD_TIMEOUT"
DEFAULT_DEADLINE_S = 60.0  # for a whole download: every attempt, source and file
DEADLINE_ARGUMENT = "download_timeout_s"
MAX_ATTEMPTS = 3
RETRY_DELAY_S = 2.0  # multiplied by the attempt number
CHUNK_BYTES = 1 << 20
ALLOWED_SCHEMES = ("http", "https")
RETRYABLE_HTTP_STATUS = frozenset({408, 429, 500, 502, 503, 504})
USER_AGENT = f"lucid2/{lucid2.__version__}"
# A socket timeout of 0 would mean "non-blocking": the last instant of a deadline gets this.
MIN_SOCKET_TIMEOUT_S = 1e-3

_log = logging.getLogger(__name__)


class DownloadError(OSError):
    """A download failed (after any retries)."""


class DeadlineExceeded(DownloadError):
    """The overall time limit of a download ran out; nothing more will be tried.

    Attributes:
      url: the file being downloaded when time ran out (None if unknown).
      detail: how far it got, e.g. "stopped after receiving 10 of 50 bytes (last error: ...)".
    """

    def __init__(self, message: str, *, url: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.url = url
        self.detail = detail


class _Transient(DownloadError):
    """A failure worth retrying."""


def deadline_seconds(download_timeout_s: float | None = None) -> float:
    """The overall download time limit in seconds, checked.

    ``download_timeout_s`` when given, else ``$LUCID2_DOWNLOAD_TIMEOUT`` when
    set, else ``DEFAULT_DEADLINE_S``. ``inf`` means no limit.
    """
    what, value = DEADLINE_ARGUMENT, download_timeout_s
    given: object = download_timeout_s  # as the user wrote it, for the message
    if value is None:
        text = os.environ.get(DEADLINE_ENV_VAR, "").strip()
        if not text:
            return float(DEFAULT_DEADLINE_S)
        what, given = f"${DEADLINE_ENV_VAR}", text
        try:
            value = float(text)
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or math.isnan(value) or value <= 0:
        raise ValueError(
            f"{what} must be a number of seconds > 0 (or inf for no limit), got {given!r}.")
    return float(value)


class Deadline:
    """One time limit shared by every request of a download.

    Args:
      seconds: the limit (``inf``: none).
      clock: seconds, monotonic.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        """Seconds left (<= 0 once expired)."""
        return self._end - self._clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def describe(self) -> str:
        """E.g. "the 60 s download time limit", for messages."""
        return f"the {self.seconds:g} s download time limit"

    def socket_timeout(self, stall_s: float) -> float:
        """How long the next socket operation may block: ``stall_s``, or less when the deadline
        is nearer; raises DeadlineExceeded when no time is left."""
        remaining = self.remaining()
        if remaining <= 0:
            raise DeadlineExceeded(f"{self.describe()} ran out")
        return max(MIN_SOCKET_TIMEOUT_S, min(stall_s, remaining))


def as_deadline(deadline: Deadline | float | None) -> Deadline:
    """``deadline`` itself, or a new one of that many seconds (None: :func:`deadline_seconds`)."""
    return deadline if isinstance(deadline, Deadline) else Deadline(deadline_seconds(deadline))


# ----------------------------------------------------------- bounded sockets
class _DeadlineConnectionMixin(http.client.HTTPConnection):
    """An HTTP(S) connection whose handshake and wait for the answer respect a deadline.

    ``sockets`` collects the connected sockets, so that the reader can shorten
    each read's timeout as the deadline nears (urllib closes its own reference
    to the connection before handing back the response).
    """

    def __init__(self, *args, deadline: Deadline, stall_s: float, sockets: list, **kwargs):
        super().__init__(*args, **kwargs)
        self._deadline = deadline
        self._stall_s = stall_s
        self._sockets = sockets

    def connect(self):
        self.timeout = self._deadline.socket_timeout(self._stall_s)
        super().connect()
        # The TCP (and TLS) handshake used part of the time; the answer gets the rest.
        self.sock.settimeout(self._deadline.socket_timeout(self._stall_s))
        self._sockets.append(self.sock)


class _DeadlineHTTPConnection(_DeadlineConnectionMixin, http.client.HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_DeadlineConnectionMixin, http.client.HTTPSConnection):
    pass


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, **connection_args):
        super().__init__()
        self._connection = functools.partial(_DeadlineHTTPConnection, **connection_args)

    def http_open(self, req):
        return self.do_open(self._connection, req)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    # No context given: http.client builds its default one (certificate checks on), as urlopen.
    def __init__(self, **connection_args):
        super().__init__()
        self._connection = functools.partial(_DeadlineHTTPSConnection, **connection_args)

    def https_open(self, req):
        return self.do_open(self._connection, req)


def is_url(text: str) -> bool:
    """Whether ``text`` is an http(s) URL."""
    return urllib.parse.urlsplit(str(text)).scheme.lower() in ALLOWED_SCHEMES


def check_url(url: str) -> str:
    """Returns ``url`` if it is http(s), else raises ValueError."""
    if not isinstance(url, str) or not is_url(url):
        raise ValueError(f"Expected an http:// or https:// URL, got {url!r}.")
    return url


def _label(url: str) -> str:
    return Path(urllib.parse.urlsplit(url).path).name or url


class _Attempt:
    """What one attempt got, for messages."""

    def __init__(self):
        self.received = 0
        self.expected: int | None = None

    def describe(self) -> str:
        if self.expected is None and not self.received:
            return "before the server sent any data"
        of = f" of {self.expected}" if self.expected is not None else ""
        return f"after receiving {self.received}{of} bytes"


def _fetch_once(url: str, part: Path, deadline: Deadline, stall_s: float, sha256: str | None,
                progress: DownloadProgress | None, attempt: _Attempt) -> int:
    sockets: list[socket.socket] = []
    # Per attempt: the handlers carry this download's deadline. Proxies work as with urlopen.
    connection_args = {"deadline": deadline, "stall_s": stall_s, "sockets": sockets}
    opener = urllib.request.build_opener(_DeadlineHTTPHandler(**connection_args),
                                         _DeadlineHTTPSHandler(**connection_args))
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with opener.open(request, timeout=deadline.socket_timeout(stall_s)) as response, \
                open(part, "wb") as out:
            length = response.headers.get("Content-Length")
            attempt.expected = int(length) if length and length.strip().isdigit() else None
            if progress is not None:
                progress.start(_label(url), attempt.expected)
            digest = hashlib.sha256()
            while True:
                timeout = deadline.socket_timeout(stall_s)
                for sock in sockets:
                    sock.settimeout(timeout)
                # read1: one socket read, so that the deadline is checked between reads even
                # when a slow server trickles bytes.
                chunk = response.read1(CHUNK_BYTES)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                attempt.received += len(chunk)
                if progress is not None:
                    progress.update(attempt.received)
    except DownloadError:
        raise
    except urllib.error.HTTPError as error:
        message = f"HTTP {error.code} {error.reason}"
        if error.code in RETRYABLE_HTTP_STATUS:
            raise _Transient(message) from None
        raise DownloadError(message) from None
    except http.client.IncompleteRead as error:
        raise _Transient(
            f"connection closed after {len(error.partial)} more bytes, "
            f"{error.expected} bytes still missing") from None
    except urllib.error.URLError as error:
        # Keep the first cause, which is "timed out" for a silent server.
        raise _Transient(f"{type(error).__name__}: {error.reason}") from None
    except (http.client.HTTPException, OSError) as error:
        raise _Transient(f"{type(error).__name__}: {error}") from None
    expected, received = attempt.expected, attempt.received
    if expected is not None and received != expected:
        raise _Transient(f"received {received} bytes, but Content-Length said {expected}")
    if sha256 is not None and not hmac.compare_digest(digest.hexdigest(), sha256.lower()):
        raise _Transient(f"SHA-256 {digest.hexdigest()} differs from the expected {sha256}")
    if progress is not None:
        progress.finish()
    return received


def _abandon(part: Path, progress: DownloadProgress | None) -> None:
    part.unlink(missing_ok=True)
    if progress is not None:
        progress.close()  # what follows (a warning, the error) starts on a line of its own


def _out_of_time(url: str, deadline: Deadline, attempt: _Attempt, error) -> DeadlineExceeded:
    detail = f"stopped {attempt.describe()} (last error: {error})"
    return DeadlineExceeded(
        f"Downloading {url} {detail}: {deadline.describe()} ran out. Allow more time with "
        f"{DEADLINE_ARGUMENT}= or ${DEADLINE_ENV_VAR} (seconds).", url=url, detail=detail)


def fetch_url(url: str, destination: str | os.PathLike, *, sha256: str | None = None,
              timeout_s: float | None = None, max_attempts: int | None = None,
              retry_delay_s: float | None = None, deadline: Deadline | float | None = None,
              progress: DownloadProgress | None = None) -> Path:
    """Downloads ``url`` to ``destination`` and returns it.

    The body streams into a ``.part`` file beside ``destination`` that is
    renamed only once complete: as long as Content-Length says (when sent) and
    with the SHA-256 hex digest ``sha256`` (when given). Defaults come from
    ``TIMEOUT_S``, ``MAX_ATTEMPTS`` and ``RETRY_DELAY_S``.

    Args:
      deadline: a :class:`Deadline` shared with other downloads, or the seconds
        this one may take in all, retries included; default
        :func:`deadline_seconds` (``$LUCID2_DOWNLOAD_TIMEOUT``, else a minute).
      progress: shows the transfer; None shows nothing.

    Raises DownloadError saying what went wrong: DeadlineExceeded (a
    DownloadError) when the deadline ran out.
    """
    check_url(url)
    timeout_s = TIMEOUT_S if timeout_s is None else timeout_s
    max_attempts = MAX_ATTEMPTS if max_attempts is None else max_attempts
    retry_delay_s = RETRY_DELAY_S if retry_delay_s is None else retry_delay_s
    if max_attempts < 1 or timeout_s <= 0 or retry_delay_s < 0:
        raise ValueError(
            "Need max_attempts >= 1, timeout_s > 0 and retry_delay_s >= 0, got "
            f"{max_attempts}, {timeout_s} and {retry_delay_s}.")
    deadline = as_deadline(deadline)
    destination = Path(destination)
    part = destination.with_name(destination.name + ".part")
    for attempt_number in range(1, max_attempts + 1):
        _log.info("Downloading %s (attempt %d of %d)", url, attempt_number, max_attempts)
        attempt = _Attempt()
        try:
            size = _fetch_once(url, part, deadline, timeout_s, sha256, progress, attempt)
        except _Transient as error:
            _abandon(part, progress)
            if deadline.expired:
                raise _out_of_time(url, deadline, attempt, error) from None
            if attempt_number == max_attempts:
                raise DownloadError(f"Downloading {url} failed {max_attempts} times; "
                                    f"last error: {error}.") from None
            delay = retry_delay_s * attempt_number
            if delay >= deadline.remaining():
                raise _out_of_time(url, deadline, attempt, error) from None
            _log.warning("Downloading %s failed (%s); retrying.", url, error)
            time.sleep(delay)
            continue
        except DeadlineExceeded as error:
            _abandon(part, progress)
            raise _out_of_time(url, deadline, attempt, error) from None
        except DownloadError as error:
            _abandon(part, progress)
            raise DownloadError(f"Downloading {url} failed: {error}.") from None
        except BaseException:
            _abandon(part, progress)
            raise
        os.replace(part, destination)
        _log.info("Downloaded %s (%d bytes)", url, size)
        return destination
    raise AssertionError("unreachable")  # the loop always returns or raises
