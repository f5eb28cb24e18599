"""Make ``import regstats`` work from a read-only install (a container with no writable home).

numba caches the compiled solver next to its source (``regstats/solver/__pycache__``) or in the
user's cache folder (``$XDG_CACHE_HOME/numba``, ``~/.cache/numba``).  When neither is writable,
``@njit(cache=True)`` fails at import with "cannot cache function ...: no locator available".
:func:`ensure_numba_cache` runs before numba is imported: if neither place is writable (and the
user has not set ``NUMBA_CACHE_DIR``), it points ``NUMBA_CACHE_DIR`` at a private temporary folder
(``<tmp>/regstats-numba-cache-<uid>``, reused by later sessions); if no temporary folder can be
created, it turns numba's caching off.  Either way it warns once, and the solver is compiled as usual.
"""
from __future__ import annotations

import os
import stat
import sys
import tempfile
import warnings

__all__ = ["ensure_numba_cache"]

_done = False


def _writable(folder: str) -> bool:
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        return True
    except OSError:
        return False


def _user_cache() -> str:
    # numba's own rule (numba.misc.appdirs): an empty XDG_CACHE_HOME means a folder relative to the cwd
    base = os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    return os.path.join(base, "numba")


def _own_temp_folder() -> str | None:
    """``<tmp>/regstats-numba-cache-<uid>``, reused across sessions when it is a real folder owned by this
    user and closed to others (not a symlink someone planted); otherwise a new private temporary folder;
    None when no temporary folder can be created."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    if uid is not None:
        try:
            folder = os.path.join(tempfile.gettempdir(), f"regstats-numba-cache-{uid}")
            try:
                os.mkdir(folder, 0o700)
            except FileExistsError:
                pass
            st = os.lstat(folder)
            if stat.S_ISDIR(st.st_mode) and st.st_uid == uid and not st.st_mode & 0o077 and _writable(folder):
                return folder
        except OSError:
            pass
    try:
        return tempfile.mkdtemp(prefix="regstats-numba-cache-")
    except OSError:
        return None


def ensure_numba_cache() -> str:
    """Choose where numba caches the solver; returns ``"in-tree"``, ``"user"``, ``"env"``,
    ``"temporary"`` or ``"off"``."""
    global _done
    if os.environ.get("NUMBA_CACHE_DIR"):
        return "env"
    solver = os.path.join(os.path.dirname(os.path.abspath(__file__)), "solver", "__pycache__")
    if _writable(solver):
        return "in-tree"
    if _writable(_user_cache()):
        return "user"
    from .errors import RegstatsWarning

    tmp = _own_temp_folder()
    if tmp is not None:
        os.environ["NUMBA_CACHE_DIR"] = tmp
        if "numba" in sys.modules:                        # imported before regstats: tell its config too
            sys.modules["numba"].config.CACHE_DIR = tmp
        if not _done:
            warnings.warn(f"regstats: neither the package folder nor {_user_cache()!r} is writable; the "
                          f"compiled solver is cached in {tmp!r} (set NUMBA_CACHE_DIR to a writable folder "
                          "of your choice)", RegstatsWarning, stacklevel=3)
        _done = True
        return "temporary"
    import numba.core.caching as caching
    import numba.core.dispatcher as dispatcher

    def _no_cache(self: object) -> None:        # numba's NullCache: compile, do not store
        self._cache = caching.NullCache()      # type: ignore[attr-defined]

    dispatcher.Dispatcher.enable_caching = _no_cache  # type: ignore[method-assign]
    if not _done:
        warnings.warn("regstats: no writable folder for numba's cache (package folder, ~/.cache, temporary "
                      "folder); the solver is compiled at every start (set NUMBA_CACHE_DIR to a writable "
                      "folder to avoid it)", RegstatsWarning, stacklevel=3)
    _done = True
    return "off"
