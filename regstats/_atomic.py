"""Atomic output: write to a temporary file in the target's folder, then ``os.replace``.

A reader (or the user, after a crash, a kill or a full disk) sees either the old file or the
complete new one, never a half-written file.  A failed write raises :class:`OutputError`, one
line naming the path and the reason; the old file is left untouched and the temporary file is
removed.

>>> from regstats._atomic import write_text
>>> write_text("report.html", "<html>...</html>")     # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path as FilePath
from typing import IO, Any, Callable, Iterator

from .errors import RegstatsError

__all__ = ["OutputError", "atomic_open", "write_text", "write_bytes", "write_with", "replace_dir", "check_target"]

# test hook: a delay (seconds) between writing chunks, so a test can kill a write midway
_SLOW_ENV = "REGSTATS_TEST_SLOW_WRITE"


class OutputError(RegstatsError, OSError):
    """An output file or folder could not be written (full disk, read-only place, not a folder, ...)."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno).lower()
    return str(exc) or type(exc).__name__


def _fail(target: str | os.PathLike, exc: BaseException) -> OutputError:
    err = OutputError(f"cannot write {str(target)!r}: {_reason(exc)}")
    err.errno = getattr(exc, "errno", None)
    return err


def check_target(target: str | os.PathLike) -> FilePath:
    """The target as a Path, after the checks that need no writing: the parent is a folder and the
    target is not a folder.  Raises :class:`OutputError`."""
    path = FilePath(target)
    parent = path.parent if str(path.parent) else FilePath(".")
    if path.is_dir():
        raise _fail(path, OSError(errno.EISDIR, "is a directory"))
    for p in [parent, *parent.parents]:
        if p.exists():
            if not p.is_dir():
                raise OutputError(f"cannot write {str(target)!r}: {str(p)!r} is a file, not a folder")
            break
    return path


def _is_special(path: FilePath) -> bool:
    """An existing target that is not a regular file (a device such as /dev/null or /dev/stdout, a FIFO):
    it cannot be replaced, so it is written in place."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


class _SlowWriter:
    """Write in chunks with a pause between them (only under the test hook)."""

    def __init__(self, fh: IO[Any], delay: float) -> None:
        self._fh, self._delay = fh, delay

    def write(self, data: Any) -> int:
        import time

        n = 0
        for i in range(0, len(data), 4096):
            n += self._fh.write(data[i:i + 4096])
            self._fh.flush()
            time.sleep(self._delay)
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8",
                newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``target`` for writing; on success it replaces ``target``.

    The temporary file is named ``.<name>.<random>.tmp`` in the target's folder (so that
    ``os.replace`` is an atomic rename on the same file system), flushed and fsync'ed before the
    rename, and removed when anything fails.  The new file gets the permissions a plain ``open``
    would give it (the old file's mode when it is replaced).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb'; got {mode!r}")
    path = check_target(target)
    enc = None if mode == "wb" else encoding
    if _is_special(path):
        try:
            with open(path, mode, encoding=enc, newline=newline) as fh:
                yield fh
        except OSError as exc:
            raise _fail(target, exc) from None
        return
    parent = path.parent if str(path.parent) else FilePath(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise _fail(target, exc) from None
    try:
        try:
            old_mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            old_mode = 0o666 & ~_umask()
        os.chmod(tmp, old_mode)
        with os.fdopen(fd, mode, encoding=enc, newline=newline) as fh:
            delay = os.environ.get(_SLOW_ENV)
            yield _SlowWriter(fh, float(delay)) if delay else fh  # type: ignore[misc]
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _fail(target, exc) from None
        raise


def write_text(target: str | os.PathLike, text: str, encoding: str = "utf-8") -> FilePath:
    """Write ``text`` to ``target`` atomically; returns the target as a Path."""
    with atomic_open(target, "w", encoding=encoding) as fh:
        fh.write(text)
    return FilePath(target)


def write_bytes(target: str | os.PathLike, data: bytes) -> FilePath:
    """Write ``data`` to ``target`` atomically; returns the target as a Path."""
    with atomic_open(target, "wb") as fh:
        fh.write(data)
    return FilePath(target)


@contextlib.contextmanager
def replace_dir(target: str | os.PathLike) -> Iterator[FilePath]:
    """A temporary folder beside ``target`` to fill; on success it takes the place of ``target``.

    The old folder (if any) is renamed aside, the new one renamed in, then the old one removed;
    a failure while filling removes the temporary folder and leaves ``target`` untouched.
    """
    path = FilePath(target)
    parent = path.parent if str(path.parent) else FilePath(".")
    if path.exists() and not path.is_dir():
        raise OutputError(f"cannot write {str(target)!r}: it exists and is not a folder")
    check_target(parent / "x")
    try:
        tmp = FilePath(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise _fail(target, exc) from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            old = FilePath(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=parent))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _fail(target, exc) from None
        raise


def _umask() -> int:
    """The process umask, read without changing it where the system allows (threads may be writing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    u = os.umask(0)
    os.umask(u)
    return u


def write_with(target: str | os.PathLike, writer: Callable[[IO[Any]], Any], mode: str = "w") -> FilePath:
    """Call ``writer(fh)`` on a temporary file that then replaces ``target`` (e.g. ``df.to_csv``)."""
    with atomic_open(target, mode) as fh:
        writer(fh)
    return FilePath(target)
