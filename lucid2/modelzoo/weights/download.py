"""Streaming HTTP(S) downloads with a timeout, retries and a length check.

The policy constants are read at call time, so tests (or users) can change them
on the module. Only transient failures are retried (connection errors, time
outs, truncated bodies, HTTP 408/429/5xx); other HTTP errors such as 404 fail
at once so that the caller can move on to its next source.
"""

from __future__ import annotations

import hashlib
import http.client
import hmac
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import lucid2

TIMEOUT_S = 60.0  # per connection attempt / socket read, not for the whole transfer
MAX_ATTEMPTS = 3
RETRY_DELAY_S = 2.0  # multiplied by the attempt number
CHUNK_BYTES = 1 << 20
ALLOWED_SCHEMES = ("http", "https")
RETRYABLE_HTTP_STATUS = frozenset({408, 429, 500, 502, 503, 504})
USER_AGENT = f"lucid2/{lucid2.__version__}"

_log = logging.getLogger(__name__)


class DownloadError(OSError):
    """A download failed (after any retries)."""


class _Transient(DownloadError):
    """A failure worth retrying."""


def is_url(text: str) -> bool:
    """Whether ``text`` is an http(s) URL."""
    return urllib.parse.urlsplit(str(text)).scheme.lower() in ALLOWED_SCHEMES


def check_url(url: str) -> str:
    """Returns ``url`` if it is http(s), else raises ValueError."""
    if not isinstance(url, str) or not is_url(url):
        raise ValueError(f"Expected an http:// or https:// URL, got {url!r}.")
    return url


def _fetch_once(url: str, part: Path, timeout_s: float, sha256: str | None) -> int:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response, \
                open(part, "wb") as out:
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.strip().isdigit() else None
            received = 0
            digest = hashlib.sha256()
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
    except urllib.error.HTTPError as error:
        message = f"HTTP {error.code} {error.reason}"
        if error.code in RETRYABLE_HTTP_STATUS:
            raise _Transient(message) from None
        raise DownloadError(message) from None
    except http.client.IncompleteRead as error:
        raise _Transient(
            f"connection closed after {len(error.partial)} more bytes, "
            f"{error.expected} bytes still missing") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        raise _Transient(f"{type(error).__name__}: {error}") from None
    if expected is not None and received != expected:
        raise _Transient(f"received {received} bytes, but Content-Length said {expected}")
    if sha256 is not None and not hmac.compare_digest(digest.hexdigest(), sha256.lower()):
        raise _Transient(f"SHA-256 {digest.hexdigest()} differs from the expected {sha256}")
    return received


def fetch_url(url: str, destination: str | os.PathLike, *, sha256: str | None = None,
              timeout_s: float | None = None, max_attempts: int | None = None,
              retry_delay_s: float | None = None) -> Path:
    """Downloads ``url`` to ``destination`` and returns it.

    The body streams into a ``.part`` file beside ``destination`` that is
    renamed only once complete: as long as Content-Length says (when sent) and
    with the SHA-256 hex digest ``sha256`` (when given). Defaults come from
    ``TIMEOUT_S``, ``MAX_ATTEMPTS`` and ``RETRY_DELAY_S``. Raises DownloadError
    saying what went wrong.
    """
    check_url(url)
    timeout_s = TIMEOUT_S if timeout_s is None else timeout_s
    max_attempts = MAX_ATTEMPTS if max_attempts is None else max_attempts
    retry_delay_s = RETRY_DELAY_S if retry_delay_s is None else retry_delay_s
    if max_attempts < 1 or timeout_s <= 0 or retry_delay_s < 0:
        raise ValueError(
            "Need max_attempts >= 1, timeout_s > 0 and retry_delay_s >= 0, got "
            f"{max_attempts}, {timeout_s} and {retry_delay_s}.")
    destination = Path(destination)
    part = destination.with_name(destination.name + ".part")
    for attempt in range(1, max_attempts + 1):
        _log.info("Downloading %s (attempt %d of %d)", url, attempt, max_attempts)
        try:
            size = _fetch_once(url, part, timeout_s, sha256)
        except _Transient as error:
            part.unlink(missing_ok=True)
            if attempt == max_attempts:
                raise DownloadError(f"Downloading {url} failed {max_attempts} times; "
                                    f"last error: {error}.") from None
            _log.warning("Downloading %s failed (%s); retrying.", url, error)
            time.sleep(retry_delay_s * attempt)
            continue
        except DownloadError as error:
            part.unlink(missing_ok=True)
            raise DownloadError(f"Downloading {url} failed: {error}.") from None
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        os.replace(part, destination)
        _log.info("Downloaded %s (%d bytes)", url, size)
        return destination
    raise AssertionError("unreachable")  # the loop always returns or raises
