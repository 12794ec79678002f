"""One job per output directory: a lock file naming its owner (pid, host, start time).

:func:`.job.run` takes the lock before it writes anything and releases it when
it returns, fails or is interrupted (Ctrl-C). With a Beam runner the lock
covers the launching process, which prepares, waits for the pipeline and
finishes; the workers write only what its tasks give them.

A second job on the same output directory is refused, with the owner's pid,
host and start time. A lock whose process no longer runs on this host (a job
killed with SIGKILL, a machine that rebooted) is stale: the next job takes it
over and says so. Whether a process on another host still runs cannot be told
from here, so such a lock is refused, with the advice to delete the file when
no job runs there.

On a local disk the lock file also carries an exclusive ``flock`` while its
owner runs: two jobs starting at the same moment cannot both take it, and a
lock whose flock is free is stale even when its pid now belongs to another
process of this host. On object stores (gs://, s3://) the lock is
best-effort: written, then read back to see that no other job wrote its own
in between.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import secrets
import socket
from typing import Callable

from lucid2.recipes.appendix import store as store_lib
from lucid2.recipes.appendix.plan import AppendixError

try:
    import fcntl
except ImportError:  # Windows: the lock file's content alone decides
    fcntl = None  # type: ignore[assignment]  # an optional module: None when absent

LOCK_NAME = ".lucid2-appendix.lock"
LOCK_FILE_MODE = 0o644
# Opening the lock file again when its owner removed it just after we opened it.
LOCK_ATTEMPTS = 5
TOKEN_BYTES = 8
READ_CHUNK = 1 << 16


@dataclasses.dataclass(frozen=True)
class LockOwner:
    """The job that holds a lock.

    Attributes:
      pid: its process id.
      host: its host name.
      started: when it took the lock (ISO 8601, UTC).
      token: random; tells this job's lock from a later one with the same pid and host.
    """

    pid: int
    host: str
    started: str
    token: str

    @classmethod
    def current(cls) -> LockOwner:
        now = datetime.datetime.now(datetime.timezone.utc)
        return cls(pid=os.getpid(), host=socket.gethostname(),
                   started=now.isoformat(timespec="seconds"),
                   token=secrets.token_hex(TOKEN_BYTES))

    def to_bytes(self) -> bytes:
        return (json.dumps(dataclasses.asdict(self), indent=1) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> LockOwner | None:
        """The owner written in a lock file; None when it is not readable as one."""
        try:
            fields = json.loads(data.decode("utf-8"))
            return cls(pid=int(fields["pid"]), host=str(fields["host"]),
                       started=str(fields["started"]), token=str(fields["token"]))
        except (ValueError, UnicodeDecodeError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        return f"pid {self.pid} on host {self.host}, started {self.started}"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (True when that cannot be told)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return True  # os.kill(pid, 0) would send CTRL_C_EVENT there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, owned by another user
        return True
    return True


def is_stale(owner: LockOwner) -> bool:
    """Whether ``owner`` is a job of this host that no longer runs."""
    return owner.host == socket.gethostname() and not process_alive(owner.pid)


def read_owner(store: store_lib.Store) -> LockOwner | None:
    """The owner of the output's lock; None when there is none (or it is unreadable)."""
    try:
        return LockOwner.from_bytes(store.read_bytes(LOCK_NAME))
    except OSError:
        return None


class OutputLock:
    """The lock of an output directory, as a context manager::

        with OutputLock(store, log=print):
            ...  # this job alone writes to store

    Raises AppendixError on entering when another job holds it.
    """

    def __init__(self, store: store_lib.Store, log: Callable[[str], None] | None = None):
        self.store = store
        self.owner = LockOwner.current()
        self._log = log or (lambda message: None)
        self._fd: int | None = None
        self._held = False

    @property
    def path(self) -> str:
        return self.store.url(LOCK_NAME)

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    # ----------------------------------------------------------- acquire
    def acquire(self) -> None:
        if isinstance(self.store, store_lib.LocalStore) and fcntl is not None:
            if self._acquire_flocked():
                return
        self._acquire_by_content()

    def _acquire_flocked(self) -> bool:
        """Takes the lock with flock; False when this filesystem has no flock."""
        try:
            os.makedirs(self.store.root, exist_ok=True)
        except OSError as error:
            store_lib.raise_if_full(error, self.path, 0)
            raise AppendixError(f"Cannot write to the output directory {self.store.root!r}: "
                                f"{error}") from None
        for _ in range(LOCK_ATTEMPTS):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, LOCK_FILE_MODE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = LockOwner.from_bytes(_read_fd(fd))
                os.close(fd)
                raise self._busy(owner) from None
            except OSError:  # ENOLCK, EOPNOTSUPP: some network filesystems
                os.close(fd)
                return False
            if _same_file(fd, self.path):
                break
            # Its owner removed the file between our open and our flock: open the new one.
            os.close(fd)
        else:
            raise AppendixError(f"Could not lock {self.path}: other jobs keep replacing it.")
        try:
            data = _read_fd(fd)
            if data:
                self._check_previous(LockOwner.from_bytes(data), flock_free=True)
            _write_fd(fd, self.owner.to_bytes(), self.path)
        except BaseException:
            os.close(fd)  # releases the flock; the file stays for its owner
            raise
        self._fd, self._held = fd, True
        return True

    def _acquire_by_content(self) -> None:
        try:
            data = self.store.read_bytes(LOCK_NAME) if self.store.exists(LOCK_NAME) else b""
        except OSError:
            data = b""
        # An empty file is only ever seen while another job creates it (both ways write
        # the owner at once): nobody's lock yet.
        if data:
            self._check_previous(LockOwner.from_bytes(data), flock_free=False)
        self.store.write_bytes(LOCK_NAME, self.owner.to_bytes())
        back = read_owner(self.store)
        if back != self.owner:
            raise self._busy(back)  # another job wrote its lock after our check
        self._held = True

    def _check_previous(self, previous: LockOwner | None, flock_free: bool) -> None:
        """Takes over a stale lock (saying so); raises AppendixError for a live one."""
        if previous is None:
            if not flock_free:
                raise AppendixError(
                    f"{self.path} is not readable as a lock file. If no appendix job is "
                    "writing to this directory, delete it and rerun.")
            self._log(f"Took over an unreadable lock file ({self.path}) that no job holds.")
            return
        if previous.host != socket.gethostname():
            raise self._busy(previous)
        if is_stale(previous):
            reason = "its process is no longer running"
        elif flock_free:
            reason = "it no longer holds the lock (its pid belongs to another process now)"
        else:
            raise self._busy(previous)
        self._log(f"Took over the stale lock of an interrupted job ({previous.describe()}): "
                  f"{reason}.")

    def _busy(self, owner: LockOwner | None) -> AppendixError:
        who = owner.describe() if owner is not None else "owner unknown"
        here = owner is None or owner.host == socket.gethostname()
        advice = ("Wait for it to finish, or, if no job is running there, delete the lock "
                  "file and rerun." if here else
                  "This host cannot tell whether it still runs: wait for it to finish, or, if "
                  "no job is running there, delete the lock file and rerun.")
        return AppendixError(f"Another appendix job is writing to {self.store.root} ({who}; "
                             f"lock file {self.path}). {advice}")

    # ----------------------------------------------------------- release
    def release(self) -> None:
        """Removes the lock file if it is still this job's; safe to call twice."""
        if not self._held:
            return
        self._held = False
        try:
            if self._fd is not None:
                # Removed while the flock is held, so that no job locks the old file after.
                if _same_file(self._fd, self.path):
                    os.remove(self.path)
            elif read_owner(self.store) == self.owner:
                self.store.delete([LOCK_NAME])
        except OSError as error:  # must not hide the error the job may be ending with
            self._log(f"Could not remove the lock file {self.path}: {error}")
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _read_fd(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _write_fd(fd: int, data: bytes, path: str) -> None:
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except OSError as error:
        store_lib.raise_if_full(error, path, len(data))
        raise


def _same_file(fd: int, path: str) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    here = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)
