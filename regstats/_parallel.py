"""Seeds, parallel maps and progress bars shared by CV, bootstrap and simulation.

Reproducibility rule: a task's random numbers come only from its own child SeedSequence
(``spawn_seeds``), and results are returned in task order, so the answer is the same for any
``n_jobs``.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import _validate as check


def spawn_seeds(seed: Any, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``seed`` (None, int, SeedSequence or Generator)."""
    return check.seed_sequence(seed).spawn(n)


def rng_of(seed: Any) -> np.random.Generator:
    """A Generator from a seed argument."""
    return np.random.default_rng(check.seed_sequence(seed))


class Progress:
    """A minimal text progress bar on stderr (no dependency); silent when ``enabled`` is False."""

    def __init__(self, total: int, desc: str = "", enabled: bool = False, stream=None) -> None:
        self.total = max(int(total), 1)
        self.desc = desc
        self.enabled = bool(enabled)
        self.stream = stream or sys.stderr
        self.done = 0
        self.start = time.perf_counter()
        self._last = -1.0

    def update(self, k: int = 1) -> None:
        self.done += k
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.done < self.total and now - self._last < 0.1:
            return
        self._last = now
        frac = self.done / self.total
        bar = "#" * int(30 * frac)
        el = now - self.start
        eta = el / frac - el if frac > 0 else 0.0
        self.stream.write(f"\r{self.desc} [{bar:<30}] {self.done}/{self.total} "
                          f"{el:5.1f}s elapsed, {eta:5.1f}s left")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def _workers(n_jobs: int, n_tasks: int) -> int:
    """Workers to start: joblib's count for ``n_jobs``, at most one per task and (except on a dask
    cluster) one per core; joblib would start all of ``n_jobs=1000`` for three tasks."""
    import joblib

    cores = joblib.cpu_count()
    want = n_jobs if n_jobs > 0 else max(cores + 1 + n_jobs, 1)
    backend = type(joblib.parallel.get_active_backend()[0]).__name__.lower()
    cap = n_tasks if "dask" in backend else min(n_tasks, cores)
    return max(1, min(want, cap))


def parallel_map(func: Callable[..., Any], tasks: Sequence[Any] | Iterable[Any], *, n_jobs: int = 1,
                 progress: bool = False, desc: str = "") -> list[Any]:
    """``[func(t) for t in tasks]``, in order, with joblib when ``n_jobs != 1``.

    ``n_jobs`` follows joblib (-1 = all cores).  Works with any joblib backend, including dask's
    (``with joblib.parallel_backend("dask"): ...``).
    """
    tasks = list(tasks)
    n_jobs = _workers(check.n_jobs(n_jobs), len(tasks))
    bar = Progress(len(tasks), desc=desc, enabled=progress)
    if n_jobs == 1 or len(tasks) <= 1:
        out = []
        for t in tasks:
            out.append(func(t))
            bar.update()
        return out
    from joblib import Parallel, delayed

    out = []
    for r in Parallel(n_jobs=n_jobs, return_as="generator")(delayed(func)(t) for t in tasks):
        out.append(r)
        bar.update()
    return out
