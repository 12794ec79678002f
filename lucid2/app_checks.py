"""What every lucid2 app does the same way around its work.

* :func:`check_output_file`, :func:`check_output_dir`: refuse an output that cannot be
  written (a missing folder, a file in the way, a read-only place) before the model loads,
  with an ``app.UsageError`` naming the path and the problem.
* :func:`app_main`: wraps an app's ``main``: Ctrl-C ends it with one line and exit status
  130, a full disk with one line and status 1; no traceback either way.
* :func:`reporting_steps`: inside it, Ctrl-C reports the optimization step reached.
* :func:`saving_to`, :func:`removing_new_files`: a full disk while saving names the output
  and the space needed, and leaves no part of a set of files behind.

An app-layer module: it imports no TensorFlow (``--help`` stays instant), and library
code must not import it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import pathlib
import secrets
import shutil
import sys
from typing import Callable, Iterator, TypeVar

from absl import app

from lucid2.misc.io import DISK_FULL_ERRNOS, format_bytes, free_bytes, is_disk_full

# 128 + SIGINT: what shells report for a program stopped by Ctrl-C.
EXIT_INTERRUPTED = 130
# Errors that mean "no room left": a full device, or the user's quota used up.
PROBE_PREFIX = ".lucid2-write-probe-"
NOTHING_WRITTEN = "nothing written"
INTERRUPTED = "interrupted"

Main = TypeVar("Main", bound=Callable[..., object])


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with the one line the app knows to say about it (the step reached, what was kept).

    A KeyboardInterrupt, so code that cleans up on Ctrl-C treats it as one.
    """

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class OutputFull(Exception):
    """The device filled up while an app saved its output; the message is the line to print."""


# ------------------------------------------------------------------ writability
def _nearest_existing(path: pathlib.Path) -> pathlib.Path:
    """``path`` or its closest ancestor that exists (as a file or a folder)."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return pathlib.Path(path.anchor or ".")


def _why_unwritable(error: OSError, folder: pathlib.Path) -> str:
    """What an OSError from creating a file in ``folder`` means, in words."""
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied in {str(folder)!r}"
    if error.errno == errno.EROFS:
        return f"{str(folder)!r} is on a read-only file system"
    if error.errno in DISK_FULL_ERRNOS:
        return f"the device of {str(folder)!r} is full"
    if error.errno == errno.ENOENT:
        # The folder exists (checked before), yet refuses new names: /proc and its kind.
        return f"{str(folder)!r} does not accept new files"
    return f"{str(folder)!r}: {error.strerror or error}"


def write_problem(folder: str | os.PathLike) -> str | None:
    """Why no file can be created in the existing ``folder``, or None when one can.

    Creates and removes a hidden file there: permission bits alone do not tell (root
    ignores them; read-only mounts, quotas and special file systems do not show in them).
    """
    folder = pathlib.Path(folder)
    probe = folder / f"{PROBE_PREFIX}{secrets.token_hex(8)}"
    try:
        descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        return _why_unwritable(error, folder)
    os.close(descriptor)
    try:
        os.remove(probe)
    except OSError as error:
        return f"a file created in {str(folder)!r} cannot be removed ({error.strerror})"
    return None


def check_output_file(path: str | os.PathLike, flag: str = "--output") -> pathlib.Path:
    """``path`` as a Path once a file can be written there; app.UsageError otherwise.

    Refused: an existing directory, a path whose folder is missing or is a file, and a
    folder where no file can be created. Nothing is left behind.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise app.UsageError(f"{flag}: {str(path)!r} is a directory, not a file.")
    folder = path.parent
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise app.UsageError(f"{flag}: {str(existing)!r} is a file, not a folder, so "
                             f"{str(path)!r} cannot be written.")
    if existing != folder:
        raise app.UsageError(f"{flag}: the folder {str(folder)!r} does not exist.")
    problem = write_problem(folder)
    if problem is not None:
        raise app.UsageError(f"{flag}: cannot write {str(path)!r}: {problem}.")
    return path


def check_output_dir(path: str | os.PathLike, flag: str = "--output_dir") -> pathlib.Path:
    """``path`` as a Path once files can be written in it; app.UsageError otherwise.

    A missing directory is fine when it can be created (its nearest existing ancestor is a
    writable folder); it is not created here, so a run refused later leaves nothing behind.
    """
    path = pathlib.Path(path)
    existing = _nearest_existing(path)
    if existing == path and not path.is_dir():
        raise app.UsageError(f"{flag}: {str(path)!r} exists and is not a directory.")
    if not existing.is_dir():
        raise app.UsageError(f"{flag}: {str(existing)!r} is a file, not a folder, so "
                             f"{str(path)!r} cannot be created.")
    problem = write_problem(existing)
    if problem is not None:
        what = "write in" if existing == path else "create"
        raise app.UsageError(f"{flag}: cannot {what} {str(path)!r}: {problem}.")
    return path


# -------------------------------------------------------------------- disk full
def disk_full_message(target: str | os.PathLike | None, needed_bytes: int | None = None,
                      kept: str | None = NOTHING_WRITTEN) -> str:
    """One line: no room for ``target`` (None: unknown), what it needs (or that the device is
    full), the space left, and ``kept`` (what the output holds now; None: unknown)."""
    if target is None:
        line = "no space left on the device: the device is full"
    else:
        free = free_bytes(target)
        free_text = f"{format_bytes(free)} free" if free is not None else "free space unknown"
        if needed_bytes is not None:
            need = f"it needs about {format_bytes(needed_bytes)}, {free_text}"
        else:
            need = f"the device is full ({free_text})"
        line = f"no space left to write {os.fspath(target)!r}: {need}"
    return f"{line}; {kept}." if kept else f"{line}."


@contextlib.contextmanager
def saving_to(target: str | os.PathLike, *, needed_bytes: int | None = None,
              kept: str = NOTHING_WRITTEN) -> Iterator[None]:
    """Inside it, a full disk raises :class:`OutputFull` naming ``target`` (the output the app
    was told to write, rather than the temporary file the error names)."""
    try:
        yield
    except OSError as error:
        if not is_disk_full(error):
            raise
        raise OutputFull(disk_full_message(target, needed_bytes, kept)) from error


def _entry_names(directory: pathlib.Path) -> set[str]:
    try:
        return {entry.name for entry in os.scandir(directory)}
    except (FileNotFoundError, NotADirectoryError):
        return set()


@contextlib.contextmanager
def removing_new_files(directory: str | os.PathLike) -> Iterator[None]:
    """Inside it, a failure (Ctrl-C included) removes what was created in ``directory`` since
    it began (files, and new folders with their contents) and the folders created to hold it,
    so that a set of files (a figure: composite, panels folder, JSON) is saved whole or not
    at all. What existed before is kept. Only the directory's own listing is compared, so a
    large output folder costs one listing, not a walk."""
    directory = pathlib.Path(directory)
    missing = [folder for folder in (directory, *directory.parents) if not folder.exists()]
    before = _entry_names(directory)
    try:
        yield
    except BaseException:
        for name in _entry_names(directory) - before:
            path = directory / name
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    os.remove(path)
        for folder in missing:  # deepest first; rmdir keeps any that are not empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


# ---------------------------------------------------------------------- Ctrl-C
@contextlib.contextmanager
def reporting_steps(steps_done: Callable[[], int],
                    kept: str = NOTHING_WRITTEN) -> Iterator[None]:
    """Inside it, Ctrl-C becomes :class:`Interrupted` saying the step reached (``steps_done()``,
    e.g. ``lambda: renderer.steps_done``) and ``kept``."""
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt:
        try:
            step = int(steps_done())
        except Exception:  # the counter itself broke off: report without the step
            raise Interrupted(f"{INTERRUPTED}; {kept}") from None
        raise Interrupted(f"{INTERRUPTED} at step {step}; {kept}") from None


def app_main(name: str) -> Callable[[Main], Main]:
    """Decorates the ``main`` of the app ``name`` (e.g. ``"lucid2.render"``).

    Ctrl-C prints ``NAME: interrupted...`` (the :class:`Interrupted` detail, else "nothing
    written") and exits with status 130; a full disk prints ``NAME: error: no space left...``
    and exits with status 1. Neither shows a traceback.
    """

    def decorate(main: Main) -> Main:
        @functools.wraps(main)
        def wrapped(*args, **kwargs):
            try:
                return main(*args, **kwargs)
            except KeyboardInterrupt as interrupt:
                detail = (interrupt.detail if isinstance(interrupt, Interrupted)
                          else f"{INTERRUPTED}; {NOTHING_WRITTEN}")
                print(f"{name}: {detail}", file=sys.stderr, flush=True)
                raise SystemExit(EXIT_INTERRUPTED) from None
            except OutputFull as error:
                raise SystemExit(f"{name}: error: {error}") from None
            except OSError as error:
                if not is_disk_full(error):
                    raise
                # Not inside saving_to: the error's own file is the best name there is, and
                # what the output holds now is not known here.
                message = disk_full_message(error.filename, kept=None)
                raise SystemExit(f"{name}: error: {message}") from None

        return wrapped  # type: ignore[return-value]

    return decorate
