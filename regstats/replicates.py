"""Replicates of a fitted path's fixed design: responses simulated from a known mean (or a pilot
fit) and noise level, the path refitted to each, in batches whose count depends on ``n_rep`` only
(so the results do not depend on ``n_jobs``).  :func:`regstats.dof.simulate_df` (Efron's covariance
degrees of freedom) and the simulated :func:`regstats.biasvar.bias_variance` are built on it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from . import _validate as check
from . import engine, solver
from ._parallel import Progress, parallel_map
from .errors import ConvergenceWarning, DataError, ParameterError, user_stacklevel


#: at most this many batches of replicates (fixed by n_rep only, so results do not depend on n_jobs)
_MAX_BATCHES = 20


_MIN_BATCH = 5


@dataclass(frozen=True, eq=False)
class _Problem:
    """The prepared design of a path, refittable to any response on the same rows.

    Standardization, the lambda grid and (for ridge with equal penalty factors) the SVD of the
    prepared design are computed once; each refit only re-centres the response.
    """

    prep: engine.Prepared
    Xs: np.ndarray          # n x p: (X - m) / s, constant columns zeroed (no sqrt(w))
    lambdas: np.ndarray
    l1_ratio: float
    tol: float
    max_iter: int
    svd: tuple | None       # (idx, U, d, Vt) for the ridge SVD path
    df_fixed: np.ndarray | None  # ridge: df does not depend on y
    gram: np.ndarray | None      # elastic net: X'X/n for the df trace formula
    df_fn: Any                   # the df formula, dof.df_path (passed in: this module sits below dof)

    @classmethod
    def of(cls, path: Any, df_fn: Any, tol: float | None = None) -> "_Problem":
        prep = path._prep
        X = np.asarray(path._design.X, dtype=float)
        Xs = (X - prep.x_mean[None, :]) / prep.x_scale[None, :]
        if prep.constant.any():
            Xs[:, prep.constant] = 0.0
        a = float(path.l1_ratio)
        svd = None
        idx = np.flatnonzero(~prep.constant)
        if engine.choose_method(prep, a) == "svd" and np.all(prep.v[idx] == 1.0):
            # the SVD of the fixed design, once (engine.solve would redo it for every response)
            U, d, Vt = solver.ridge_svd(prep.X[:, idx])
            svd = (idx, U, d, Vt)
        df_fixed = path.table["df"].to_numpy() if a == 0.0 else None
        gram = (prep.X.T @ prep.X) / prep.n if 0.0 < a < 1.0 and prep.p <= 2000 else None
        return cls(prep=prep, Xs=np.ascontiguousarray(Xs), lambdas=np.asarray(path.lambdas, float),
                   l1_ratio=a, tol=path._options.tol if tol is None else float(tol),
                   max_iter=path._options.max_iter, svd=svd, df_fixed=df_fixed, gram=gram, df_fn=df_fn)

    @property
    def w(self) -> np.ndarray:
        return self.prep.w

    @property
    def n(self) -> int:
        return self.prep.n

    def fit(self, y: np.ndarray, want_df: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fitted values (n_lambda x n), reported df (n_lambda) and convergence flags."""
        prep = self.prep
        ym = float(prep.w @ y) / prep.n if prep.intercept else 0.0
        yt = np.sqrt(prep.w) * (y - ym)
        L = len(self.lambdas)
        if self.svd is not None:
            idx, U, d, Vt = self.svd
            beta = np.zeros((L, prep.p))
            # the observed s_y is held fixed (a fixed-lambda statistic: ridge stays linear in y)
            beta[:, idx] = solver.ridge_path_svd(U, d, Vt, yt, engine.ridge_weight(prep, self.lambdas, 0.0))
            conv = np.ones(L, dtype=bool)
        else:
            new = dataclasses.replace(prep, y=yt, y_mean=ym)
            sol = engine.solve(new, self.l1_ratio, self.lambdas, tol=self.tol, max_iter=self.max_iter)
            beta, conv = sol.beta, sol.converged
        yhat = ym + beta @ self.Xs.T
        if self.df_fixed is not None:
            df = self.df_fixed
        elif want_df:
            df = self.df_fn(prep, beta, self.lambdas, self.l1_ratio, gram=self.gram)
        else:
            df = np.full(L, np.nan)
        return yhat, df, conv


def _row_vector(path: Any, value: Any, name: str) -> np.ndarray:
    """An array with one entry per row used in the fit, a Series over all rows of the data (the
    rows used are taken), or a column name of the data."""
    n = path.n_obs
    if isinstance(value, str):
        if value not in path._data.columns:
            raise ParameterError(f"{name} must be an array with one entry per row used ({n}) or a "
                                 f"column name of the data; got {value!r}")
        arr = path._data[value].to_numpy()[path._design.rows]
    elif isinstance(value, pd.Series) and len(value) == len(path._data) and len(value) != n:
        arr = value.to_numpy()[path._design.rows]     # a column of the full data: rows used
    else:
        arr = value.to_numpy() if isinstance(value, (pd.Series, pd.DataFrame)) else value
    try:
        arr = np.asarray(arr, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be numbers, one per row used ({n}); got {value!r}") from None
    if arr.shape != (n,):
        raise ParameterError(f"{name} must have one entry per row used in the fit ({n}); got length {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} must be finite; got {int((~np.isfinite(arr)).sum())} non-finite values")
    return arr


def _row_sd(path: Any, sigma: Any) -> np.ndarray:
    """Per-row noise sd: sigma / sqrt(w_i) for a scalar sigma (sigma where w_i = 0), or as given."""
    w = path._prep.w
    if isinstance(sigma, Real) and not isinstance(sigma, bool):
        s = check.real_in("sigma", sigma, 0.0, np.inf, lo_open=True, hi_open=True)
        sd = np.full(w.shape, s)
        pos = w > 0
        sd[pos] = s / np.sqrt(w[pos])
        return sd
    if isinstance(sigma, bool) or (np.ndim(sigma) == 0 and not isinstance(sigma, str)):
        raise ParameterError(f"sigma must be a positive number or one positive sd per row; got {sigma!r}")
    sd = _row_vector(path, sigma, "sigma")
    if np.any(sd <= 0):
        raise ParameterError(f"sigma must be positive; got {sd[sd <= 0][:5].tolist()}")
    return sd


def _reference_fit(path: Any, reference: Any, seed: np.random.SeedSequence) -> tuple[np.ndarray, float, str]:
    """Plug-in (mu_hat, sigma_hat, description) from a reference fit on the path's data."""
    prep = path._prep
    n = prep.n
    keep = ~prep.constant
    if isinstance(reference, str):
        reference = check.choice("reference", reference, ("auto", "ols", "cv"))
        if reference == "auto":
            reference = "ols" if n >= int(keep.sum()) + int(prep.intercept) + 10 else "cv"
    elif isinstance(reference, bool) or not isinstance(reference, Real):
        raise ParameterError(f"reference must be 'auto', 'ols', 'cv' or a lambda >= 0; got {reference!r}")
    y = np.asarray(path._design.y, dtype=float)
    if reference == "ols":
        Xk = prep.X[:, keep]
        coef, _, rank, _ = np.linalg.lstsq(Xk, prep.y, rcond=None)
        resid = prep.y - Xk @ coef
        dof = n - rank - int(prep.intercept)
        if dof <= 0:
            raise DataError(f"reference must leave residual degrees of freedom; got the least-squares fit "
                            f"with rank {rank} on {n} rows (use reference='cv')")
        Xs = (path._design.X - prep.x_mean) / prep.x_scale
        mu = prep.y_mean + Xs[:, keep] @ coef
        sigma = float(np.sqrt(resid @ resid / dof))
        return mu, sigma, f"least-squares fit (lambda = 0), sigma^2 = weighted RSS / {dof}"
    if reference == "cv":
        cvres = path.cv(folds=10, seed=seed)
        lam = float(cvres.lambda_min)
        desc = f"fit at CV lambda_min = {lam:.6g} (10 folds)"
    else:
        lam = check.real_in("reference", reference, 0.0, np.inf)
        desc = f"fit at lambda = {lam:.6g}"
    fit = path.at(lam)
    mu = fit.predict().to_numpy()
    r = y - mu
    dof = n - fit.df - int(prep.intercept)
    if dof <= 0:
        raise DataError(f"reference must leave residual degrees of freedom; got df = {fit.df:.3g} "
                        f"on {n} rows at lambda = {lam:.4g}")
    sigma = float(np.sqrt((prep.w * r * r).sum() / dof))
    return mu, sigma, desc + f", sigma^2 = weighted RSS / {dof:.4g}"


def _batches(n_rep: int) -> list[np.ndarray]:
    k = max(1, min(_MAX_BATCHES, n_rep // _MIN_BATCH))
    return np.array_split(np.arange(n_rep), k)


def _truth(path: Any, mu: Any, sigma: Any, reference: Any, seed: np.random.SeedSequence
           ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    mu_arr = None if mu is None else _row_vector(path, mu, "mu")
    info: dict[str, Any] = {}
    if mu_arr is None or sigma is None:
        mu_hat, sigma_hat, desc = _reference_fit(path, reference, seed)
    if mu_arr is None:
        mu_arr = mu_hat
        info["mu_source"] = "plug-in: " + desc
    else:
        info["mu_source"] = "given"
    if sigma is None:
        sigma = sigma_hat
        info["sigma_source"] = "plug-in: " + desc
    else:
        info["sigma_source"] = "given"
    sd = _row_sd(path, sigma)
    info.update(_noise_info(sigma, sd))
    return mu_arr, sd, info


def _noise_info(sigma: Any, sd: np.ndarray) -> dict[str, Any]:
    scalar = isinstance(sigma, Real) and not isinstance(sigma, bool)
    return {"sigma": float(sigma) if scalar else np.asarray(sd),
            "noise_model": ("sd_i = sigma / sqrt(w_i) (weights as inverse variances)" if scalar
                            else "one sd per row, as given")}


def _blas_limit(n: int, p: int) -> Any:
    """Single-threaded BLAS for the many small refits of a replicate loop (threads only add
    contention at these sizes, badly so on a shared machine); a no-op for large designs or
    without threadpoolctl."""
    if n * p > 2_000_000:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _sim_batch(task: tuple) -> dict[str, np.ndarray]:
    prob, mu, sd, c, seeds, pool = task
    with _blas_limit(prob.n, prob.prep.p):
        return _sim_loop(prob, mu, sd, c, seeds, pool)


def _draw(rng: np.random.Generator, sd: np.ndarray, pool: np.ndarray | None, w: np.ndarray) -> np.ndarray:
    """Noise: Gaussian with sd per row, or (residual bootstrap) standardized residuals drawn with
    replacement and divided by sqrt(w_i) (sd_i = sigma / sqrt(w_i))."""
    if pool is None:
        return sd * rng.standard_normal(sd.size)
    u = pool[rng.integers(0, pool.size, sd.size)]
    return np.where(w > 0, u / np.sqrt(np.where(w > 0, w, 1.0)), u)


def _sim_loop(prob: _Problem, mu: np.ndarray, sd: np.ndarray, c: np.ndarray, seeds: list,
              pool: np.ndarray | None = None) -> dict[str, np.ndarray]:
    L, n = c.shape
    w = prob.w
    inv_var = 1.0 / (sd * sd)
    s1 = np.zeros((L, n))
    s2 = np.zeros((L, n))
    m = len(seeds)
    T = np.empty((m, L))
    df_rep = np.empty((m, L))
    err = np.empty((m, L))
    bad = np.zeros(L, dtype=bool)
    icpt = 1.0 if prob.prep.intercept else 0.0
    for k, ss in enumerate(seeds):
        rng = np.random.default_rng(ss)
        eps = _draw(rng, sd, pool, w)
        eps_new = _draw(rng, sd, pool, w)
        yhat, df, conv = prob.fit(mu + eps)
        d = yhat - c
        s1 += d
        s2 += d * d
        T[k] = d @ (eps * inv_var) - icpt
        df_rep[k] = df
        r = (mu + eps_new)[None, :] - yhat
        err[k] = (r * r) @ w / n
        bad |= ~conv
    return {"s1": s1, "s2": s2, "T": T, "df_rep": df_rep, "err": err, "bad": bad, "m": m,
            "moments": _moments(s1, s2, m, c, mu, w)}


def _moments(s1: np.ndarray, s2: np.ndarray, m: int, c: np.ndarray, mu: np.ndarray, w: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """(bias2, variance) per lambda from shifted sums of m fitted-value vectors."""
    n = w.size
    mean = c + s1 / m
    var = np.maximum(s2 - s1 * s1 / m, 0.0) / (m - 1)
    variance = var @ w / n
    dev = mean - mu[None, :]
    bias2 = (dev * dev) @ w / n - variance / m
    return bias2, variance


def _seeds(seed: Any) -> tuple[np.random.SeedSequence, np.random.SeedSequence, Any]:
    root = check.seed_sequence(seed)
    ref_ss, rep_ss = root.spawn(2)
    return ref_ss, rep_ss, root.entropy


def _residual_pool(path: Any, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """The pilot fit's residuals on the sqrt(weight) scale, centred and rescaled to the noise sd
    (so that their mean square is the pilot's sigma^2, degrees of freedom included)."""
    w = path._prep.w
    y = np.asarray(path._design.y, dtype=float)
    pos = w > 0
    u = (np.sqrt(w) * (y - mu))[pos]
    u = u - u.mean()
    target = float(np.sqrt((w * sd * sd)[pos].mean()))
    rms = float(np.sqrt((u * u).mean()))
    return u * (target / rms) if rms > 0 else u


def _simulate_setup(path: Any, mu: Any, sigma: Any, n_rep: Any, seed: Any, n_jobs: Any, progress: bool,
                    reference: Any, tol: Any, desc: str, df_fn: Any, residual: bool = False
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate, find the truth, run the simulation; returns (pooled results, attrs info).  ``df_fn``:
    the df formula of each replicate (:func:`regstats.dof.df_path`)."""
    n_rep = check.positive_int("n_rep", n_rep, minimum=2)
    n_jobs = _n_jobs(n_jobs)
    if tol is not None:
        tol = check.real_in("tol", tol, 0.0, 1.0, lo_open=True)
    ref_ss, rep_ss, entropy = _seeds(seed)
    mu_arr, sd, info = _truth(path, mu, sigma, reference, ref_ss)
    pool = _residual_pool(path, mu_arr, sd) if residual else None
    prob = _Problem.of(path, df_fn, tol)
    c, _, conv = prob.fit(mu_arr, want_df=False)
    seeds = rep_ss.spawn(n_rep)
    tasks = [(prob, mu_arr, sd, c, [seeds[i] for i in b], pool) for b in _batches(n_rep)]
    sums, parts = _run_batches(_sim_batch, tasks, n_jobs, progress, desc)
    bad = ~conv
    for p in parts:
        bad |= p["bad"]
    if bad.any():
        shown = ", ".join(f"{x:.4g}" for x in prob.lambdas[bad][:10])
        warnings.warn(f"the solver did not reach its tolerance in some replicates at {int(bad.sum())} "
                      f"lambda(s): {shown}", ConvergenceWarning, stacklevel=user_stacklevel())
    pooled = {"T": np.vstack([p["T"] for p in parts]), "df_rep": np.vstack([p["df_rep"] for p in parts]),
              "err": np.vstack([p["err"] for p in parts]), "parts": parts, "sums": sums, "c": c,
              "mu": mu_arr, "sd": sd, "prob": prob}
    info.update({"n_rep": n_rep, "seed": entropy})
    return pooled, info


#: per-row arrays that are summed over batches (the rest of a batch's result is small and kept)
_SUMMED = ("s1", "s2", "cnt")


def _run_batches(func: Any, tasks: list, n_jobs: int, progress: bool, desc: str
                 ) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """Run the batches a few at a time, summing the large per-row arrays in batch order as the
    results arrive: memory holds one chunk of them, and the sums are the same for any n_jobs."""
    chunk = 1 if n_jobs == 1 else 4 * (n_jobs if n_jobs > 0 else (os.cpu_count() or 1))
    bar = Progress(len(tasks), desc=desc, enabled=progress)
    sums: dict[str, np.ndarray] = {}
    kept: list[dict[str, Any]] = []
    for start in range(0, len(tasks), chunk):
        for res in parallel_map(func, tasks[start:start + chunk], n_jobs=n_jobs):
            for key in _SUMMED:
                if key in res:
                    arr = res.pop(key)
                    sums[key] = arr if key not in sums else sums[key] + arr
            kept.append(res)
            bar.update()
    return sums, kept


def _n_jobs(n_jobs: Any) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or int(n_jobs) == 0:
        raise ParameterError(f"n_jobs must be a nonzero integer (joblib's convention); got {n_jobs!r}")
    return int(n_jobs)
