"""Seeds, parallel maps and progress bars shared by CV, bootstrap and simulation.

Reproducibility rule: a task's random numbers come only from its own child SeedSequence
(``spawn_seeds``), and results are returned in task order, so the answer is the same for any
``n_jobs``.
"""
from __future__ import annotations

import sys
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
    """A progress bar on stderr (``tqdm.auto``: a widget in notebooks, text in a console); silent
    when ``enabled`` is False.

    The first task of a run may include one-off work (numba loading or compiling its kernels in
    this process or a worker), so the clock that gives the rate and the time left restarts when
    the first update arrives: the estimate counts only the steady work.  The elapsed time shown is
    the whole run's.
    """

    def __init__(self, total: int, desc: str = "", enabled: bool = False, stream=None) -> None:
        self.total = max(int(total), 1)
        self.desc = desc
        self.enabled = bool(enabled)
        self.done = 0
        self._bar = None
        if self.enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, desc=desc, file=stream or sys.stderr, leave=True,
                             dynamic_ncols=True, mininterval=0.1)

    def update(self, k: int = 1) -> None:
        first = self.done == 0
        self.done += k
        bar = self._bar
        if bar is None:
            return
        if first and self.done < self.total:
            # restart the rate clock after the first task (see the class docstring): the tasks
            # done so far count as the bar's starting point, as tqdm's ``initial`` does
            # (the rate is tqdm's moving average over the updates since, so the elapsed time can
            # keep the run's start)
            started = bar.start_t
            bar.reset(total=self.total)
            bar.start_t = started
            bar.initial = bar.n = bar.last_print_n = self.done
            bar.refresh()
        else:
            bar.update(k)
        if self.done >= self.total:
            bar.close()
            self._bar = None

    def close(self) -> None:
        """Close the bar early (a run that stops before its last task)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class _OneThread:
    """``func`` run with single-threaded BLAS (picklable, for joblib workers)."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func

    def __call__(self, task: Any) -> Any:
        with one_blas_thread():
            return self.func(task)


_CONTROLLER = None


def one_blas_thread():
    """A context in which BLAS (OpenBLAS, MKL, BLIS) runs on one thread.

    A multi-threaded BLAS splits a dot product or a matrix product among its threads, and the
    rounding of the sum depends on how many there are: the same task would give numbers that
    differ in the last bits in the calling process (all cores) and in a joblib worker (joblib
    gives each worker cores / n_jobs threads).  Every task of :func:`parallel_map` runs inside
    this context, so results are bit-identical for any ``n_jobs`` and any number of cores.
    """
    global _CONTROLLER
    from threadpoolctl import ThreadpoolController

    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


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
    (``with joblib.parallel_backend("dask"): ...``).  Every task runs with single-threaded BLAS
    (:func:`one_blas_thread`), in the calling process as in a worker, so the results are the same
    bits for any ``n_jobs``; parallelism comes from the tasks.
    """
    tasks = list(tasks)
    n_jobs = _workers(check.n_jobs(n_jobs), len(tasks))
    bar = Progress(len(tasks), desc=desc, enabled=progress)
    try:
        if n_jobs == 1 or len(tasks) <= 1:
            out = []
            with one_blas_thread():
                for t in tasks:
                    out.append(func(t))
                    bar.update()
            return out
        from joblib import Parallel, delayed

        out = []
        one = _OneThread(func)
        for r in Parallel(n_jobs=n_jobs, return_as="generator")(delayed(one)(t) for t in tasks):
            out.append(r)
            bar.update()
        return out
    finally:
        bar.close()
