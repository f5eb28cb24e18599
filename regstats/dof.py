"""Effective degrees of freedom of penalized linear fits (docs/conventions.md).

Definition
----------
Efron's (1986, 2004) covariance definition, for responses y_i with mean mu_i and independent
Gaussian noise of variance s_i^2::

    df_cov = sum_i cov(yhat_i, y_i) / s_i^2        (minus 1 for the intercept)

By Stein's lemma ``cov(yhat_i, y_i) = s_i^2 E[d yhat_i / d y_i]``, so
``df_cov = E[trace(J)] - 1`` with J the Jacobian of the fitted values in y.  The noise
variances cancel: the definition does not depend on whether the noise is homoscedastic or has
``s_i^2 = sigma^2 / w_i`` (weights as inverse variances, where it reads
``sum_i w_i cov(yhat_i, y_i) / sigma^2``, the weighted covariance penalty).

With observation weights w (normalised to sum n), the prepared problem works with
``Xt = W^{1/2} (X - 1 m') S^{-1}`` and ``yt = W^{1/2} (y - ybar_w)``, and the fitted values are
``yhat = 1 w'y / n + W^{-1/2} H_A W^{1/2} y`` with H_A the hat matrix of the active-set
problem on the prepared scale.  The first term has trace ``sum w_i / n = 1`` (the intercept,
not counted, as glmnet's ``df``) and ``W^{-1/2} H_A W^{1/2}`` is similar to H_A, so its trace is
``trace(H_A)`` whatever the weights.  Hence, on the prepared (centred, scaled, weighted) scale with
``G = Xt'Xt / n`` and rescaled penalty factors v:

* lasso (``l1_ratio = 1``): H_A is the projection on the active columns, so df is
  ``rank(X_A)``, an unbiased estimate of df_cov (Tibshirani & Taylor 2012); in general position
  the number of nonzero coefficients (Zou, Hastie & Tibshirani 2007), fewer when active columns
  are collinear (a duplicated column counts once);
* elastic net: ``trace((G_AA + lam (1 - a) / s_y V_A)^{-1} G_AA)``
  ``= trace(X_A (X_A'WX_A + W lam (1-a) / s_y V_A)^{-1} X_A'W)`` on the active set A (Tibshirani
  & Taylor 2012), again an unbiased estimate of df_cov;
* ridge (``l1_ratio = 0``, all penalty factors equal to v0): ``sum_j d_j^2 / (d_j^2 + n v0 lam / s_y)``
  with d the singular values of Xt -- exact, since ridge is a linear smoother; at lam = 0 the rank.

``s_y`` is the response scale of the penalty's ridge part, held at the fitted data's value
(``prep.y_scale``): a fixed-lambda statistic treats the penalty as fixed, so ridge stays a linear
smoother with the textbook trace.

Unpenalized columns (penalty factor 0) count fully, through the same trace; constant columns
(coefficient fixed at 0) do not count.  :func:`simulate_df` estimates df_cov by simulation, which
is how the formulas above are checked (``scripts/simulate_dof.py``, ``reports/dof_simulation.md``);
its replicates (the fixed design refitted to simulated responses, in batches) are those of the
simulated bias-variance decomposition, :func:`regstats.biasvar.bias_variance`.
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
from ._types import PathLike
from .engine import Prepared, _uniform_penalty, ridge_weight
from .errors import ConvergenceWarning, DataError, ParameterError, user_stacklevel

__all__ = ["df_at", "df_path", "simulate_df"]

#: active sets up to this size use one ``solve`` in the trace formula (less call overhead)
_SMALL = 80


def df_at(prep: Prepared, beta: np.ndarray, lam: float, l1_ratio: float,
          gram: np.ndarray | None = None) -> float:
    """Effective degrees of freedom of the fit ``beta`` (prepared scale) at one lambda.

    Parameters
    ----------
    prep : the prepared problem the fit was solved on.
    beta : coefficients on the prepared scale (length p).
    lam, l1_ratio : the penalty.
    gram : optional ``prep.X' prep.X / n`` (p x p), to avoid recomputing it along a path.

    Returns
    -------
    float
        ``rank(X_A)`` for the lasso, otherwise ``trace((G_AA + lam (1 - a) / s_y V_A)^{-1} G_AA)``
        on the active set A (see the module docstring); the intercept is not counted.
    """
    active = np.flatnonzero(beta != 0)
    if active.size == 0:
        return 0.0
    if gram is None:
        Gaa = _gram_of(prep, active)
    else:
        Gaa = gram[np.ix_(active, active)]
    if l1_ratio == 1.0:
        return float(gram_rank(Gaa))
    M = Gaa + np.diag(ridge_weight(prep, lam, l1_ratio) * prep.v[active])
    try:
        return float(np.trace(np.linalg.solve(M, Gaa)))
    except np.linalg.LinAlgError:
        return float(np.trace(np.linalg.pinv(M) @ Gaa))


def df_path(prep: Prepared, beta: np.ndarray, lambdas: np.ndarray, l1_ratio: float,
            gram: np.ndarray | None = None) -> np.ndarray:
    """Effective degrees of freedom at every lambda of a solved path (rows of ``beta``).

    Lasso: ``rank(X_A)``; ridge with equal penalty factors: ``sum d^2 / (d^2 + n v0 lam / s_y)``
    from one SVD; otherwise the elastic-net trace formula of :func:`df_at` at each lambda (the
    Gram matrix ``prep.X' prep.X / n`` is formed once, or taken from ``gram``).  The intercept is
    not counted.
    """
    lambdas = np.asarray(lambdas, dtype=float)
    if l1_ratio == 1.0:
        return _lasso_df_path(prep, beta, gram)
    if l1_ratio == 0.0 and _uniform_penalty(prep):
        keep = ~prep.constant
        d = solver.cut_singular(np.linalg.svd(prep.X[:, keep], compute_uv=False), max(prep.n, int(keep.sum())))
        v0 = prep.v[keep][0]
        return solver.ridge_df_svd(d, ridge_weight(prep, lambdas, 0.0) * v0, prep.n)
    nz = beta != 0
    union = np.flatnonzero(nz.any(axis=0))
    out = np.zeros(len(lambdas))
    if union.size == 0:
        return out
    # the Gram block of the columns ever active, formed once (BLAS) instead of X_A'X_A per lambda
    if gram is not None:
        GU = gram[np.ix_(union, union)]
    else:
        GU = _gram_of(prep, union)
    pos = np.full(prep.p, -1, dtype=np.int64)
    pos[union] = np.arange(union.size)
    prev = None
    eig = None
    for k, lam in enumerate(lambdas):
        active = np.flatnonzero(nz[k])
        if not active.size:
            continue
        vA = prep.v[active]
        same = prev is not None and np.array_equal(active, prev)
        if same and np.all(vA > 0):
            # the active set did not change: with H = V^{-1/2} G_AA V^{-1/2} = Q diag(e) Q',
            # trace((G_AA + c V)^{-1} G_AA) = sum e / (e + c), one eigen-decomposition per set
            if eig is None:
                sv = 1.0 / np.sqrt(vA)
                H = GU[np.ix_(pos[active], pos[active])] * sv[:, None] * sv[None, :]
                eig = np.maximum(np.linalg.eigvalsh(H), 0.0)
            cc = ridge_weight(prep, lam, l1_ratio)
            out[k] = float(np.sum(eig / (eig + cc))) if cc > 0 else float(np.count_nonzero(eig > 1e-12 * eig.max()))
        else:
            eig = None
            out[k] = _trace_df(GU, pos[active], ridge_weight(prep, lam, l1_ratio) * vA)
        prev = active
    return out


def gram_rank(G: np.ndarray) -> int:
    """``rank(X_A)`` from ``G = X_A'X_A / n``: the number of pivots above ``1e-10`` of their
    column's ``G_jj`` (G's rounding is ~1e-16 of it, so the cutoff separates exact collinearity,
    such as a duplicated column, from merely correlated columns).  A plain Cholesky factorization
    (LAPACK ``dpotrf``) settles the usual full-rank case; otherwise a pivoted one (``dpstrf``)."""
    from scipy.linalg.lapack import dpotrf, dpstrf

    m = G.shape[0]
    if m == 0:
        return 0
    d = np.diag(G)
    if np.any(d <= 0):
        return int(np.count_nonzero(d > 0)) if m == 1 else _pivoted_rank(G, dpstrf)
    L, info = dpotrf(G, lower=1, clean=0)
    if info == 0 and np.all(np.diag(L) ** 2 > 1e-10 * d):
        return m
    return _pivoted_rank(G, dpstrf)


def _pivoted_rank(G: np.ndarray, dpstrf) -> int:
    """Rank from a pivoted Cholesky factorization of the Gram matrix scaled to unit diagonal."""
    d = np.diag(G)
    s = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
    C = np.array(G * s[:, None] * s[None, :], dtype=float, order="F")
    _, _, rank, info = dpstrf(C, tol=1e-10, lower=1)
    return int(rank) if info >= 0 else G.shape[0]


def _lasso_df_path(prep: Prepared, beta: np.ndarray, gram: np.ndarray | None) -> np.ndarray:
    """``rank(X_A)`` at each lambda: the nonzero count where the active columns are in general
    position.  A set of columns inside one already found independent is independent too, so ranks
    are computed for the distinct active sets from the largest down, and only for those not
    contained in an independent set found before (along a path, a handful of factorizations)."""
    nz = beta != 0
    out = nz.sum(axis=1).astype(float)
    room = prep.n - int(prep.intercept)
    keys: dict[bytes, list[int]] = {}
    for k in range(len(out)):
        if out[k] > 0:
            keys.setdefault(np.packbits(nz[k]).tobytes(), []).append(k)
    sets = sorted(keys.values(), key=lambda ks: -out[ks[0]])
    union = np.flatnonzero(nz.any(axis=0))
    if gram is None and union.size <= 4000:
        gram, cols = _gram_of(prep, union), union        # one product for every set
    else:
        cols = np.arange(prep.p)
    pos = np.full(prep.p, -1, dtype=np.int64)
    pos[cols] = np.arange(cols.size)
    independent: list[np.ndarray] = []
    for ks in sets:
        mask = nz[ks[0]]
        if out[ks[0]] <= room and any(np.all(big[mask]) for big in independent):
            continue
        active = np.flatnonzero(mask)
        Gaa = gram[np.ix_(pos[active], pos[active])] if gram is not None else _gram_of(prep, active)
        r = gram_rank(Gaa)
        out[ks] = float(r)
        if r == active.size:
            independent.append(mask)
    return out


def _gram_of(prep: Prepared, cols: np.ndarray) -> np.ndarray:
    Xa = prep.X[:, cols]
    return (Xa.T @ Xa) / prep.n


def _trace_df(GU: np.ndarray, ix: np.ndarray, d: np.ndarray) -> float:
    """``trace((G + D)^{-1} G)`` for G = GU[ix, ix], D = diag(d) >= 0.

    Computed as ``m - sum_j d_j [(G + D)^{-1}]_jj``, the diagonal of the inverse being the squared
    column norms of L^{-1} for the Cholesky factor L of G + D (2m^3/3 flops instead of the
    ~3m^3 of ``solve(G + D, G)``); a singular G + D falls back to the pseudo-inverse.
    """
    from scipy.linalg import LinAlgError, cholesky
    from scipy.linalg.lapack import dtrtri

    Gaa = GU[np.ix_(ix, ix)]
    M = Gaa + np.diag(d)
    if ix.size <= _SMALL:
        # small blocks: one LAPACK call has less overhead than the factor + inverse
        return _df_from_solve(M, Gaa)
    try:
        L = cholesky(M, lower=True, check_finite=False)
        if not np.any(d > 0):
            return float(ix.size)
        # [(G + D)^{-1}]_jj = squared norm of column j of L^{-1} (one triangular inverse)
        Li, info = dtrtri(L, lower=1)
        if info == 0:
            val = float(ix.size - d @ np.einsum("ij,ij->j", Li, Li))
            if np.isfinite(val):
                return val
    except (LinAlgError, ValueError):
        pass
    return float(np.trace(np.linalg.pinv(M) @ Gaa))


def _df_from_solve(M: np.ndarray, Gaa: np.ndarray) -> float:
    try:
        return float(np.trace(np.linalg.solve(M, Gaa)))
    except np.linalg.LinAlgError:
        return float(np.trace(np.linalg.pinv(M) @ Gaa))


def simulate_df(path: "PathLike", mu: Any = None, sigma: Any = None, n_rep: int = 200, seed: Any = None,
                n_jobs: int = 1, *, progress: bool = False, reference: Any = "auto",
                tol: float | None = None) -> pd.DataFrame:
    """Efron's covariance degrees of freedom of a path, estimated by simulation.

    Responses ``y* = mu + eps*`` with independent ``eps*_i ~ N(0, s_i^2)`` are drawn ``n_rep``
    times on the path's design (same weights, penalty factors, standardization and lambda grid)
    and the path is refitted to each.  With ``c`` the fit to the noiseless response ``mu``
    (a fixed control that does not change the expectation), each replicate gives

        T = sum_i (yhat*_i - c_i) eps*_i / s_i^2  - [1 if the model has an intercept]

    whose mean is ``df_cov = sum_i cov(yhat_i, y_i) / s_i^2`` (intercept not counted), the
    definition the reported df estimates without bias.  Replicates are independent, so the Monte
    Carlo standard errors are exact ``sd / sqrt(n_rep)``.

    Parameters
    ----------
    path : :class:`regstats.Path`.
    mu : true mean of the response for the rows used in the fit (array of length ``n_obs`` or a
        column name of the data); None uses the plug-in of :func:`regstats.biasvar.bias_variance`.
    sigma : noise sd: a number (``s_i = sigma / sqrt(w_i)`` with weights, ``sigma`` without) or one
        sd per row; None uses the plug-in estimate.
    n_rep : number of simulated responses (>= 2).
    seed, n_jobs, progress : reproducibility (same numbers for any ``n_jobs``), parallel jobs
        (joblib), progress bar.
    reference : plug-in reference fit when ``mu``/``sigma`` are None (see
        :func:`regstats.biasvar.bias_variance`).
    tol : solver tolerance for the refits (default: the path's).

    Returns
    -------
    DataFrame
        One row per lambda: ``lambda``; ``df`` (the reported df of the path on its data);
        ``df_mean`` (mean of the reported df over the replicates, the quantity whose expectation
        equals df_cov); ``df_cov`` (the covariance estimate); ``se`` (Monte Carlo standard error
        of ``df_cov - df_mean``, from the paired replicates); ``z = (df_cov - df_mean) / se``.
        ``attrs`` holds ``sigma``, ``n_rep``, ``seed`` and the plug-in source of ``mu``.

    Examples
    --------
    >>> import regstats as rs
    >>> from regstats.dof import simulate_df
    >>> p = rs.ridge("lpsa ~ . - train", rs.load_dataset("prostate"), n_lambda=5)
    >>> tab = simulate_df(p, n_rep=50, seed=1)
    >>> list(tab.columns)
    ['lambda', 'df', 'df_mean', 'df_cov', 'se', 'z']
    """
    sim, info = _simulate_setup(path, mu, sigma, n_rep, seed, n_jobs, progress, reference, tol,
                                desc="simulate_df")
    T, dfr = sim["T"], sim["df_rep"]
    R = T.shape[0]
    diff = T - dfr
    se = diff.std(axis=0, ddof=1) / np.sqrt(R)
    df_cov = T.mean(axis=0)
    df_mean = dfr.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (df_cov - df_mean) / se, np.nan)
    out = pd.DataFrame({"lambda": path.lambdas, "df": path.table["df"].to_numpy(), "df_mean": df_mean,
                        "df_cov": df_cov, "se": se, "z": z})
    out.attrs.update(info)
    out.attrs["df_cov_se"] = T.std(axis=0, ddof=1) / np.sqrt(R)
    return out


# ---------------------------------------------------------------------------------------------
# replicates: the fixed design refitted to simulated responses (simulate_df; bias_variance shares it)
# ---------------------------------------------------------------------------------------------

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

    @classmethod
    def of(cls, path: Any, tol: float | None = None) -> "_Problem":
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
                   max_iter=path._options.max_iter, svd=svd, df_fixed=df_fixed, gram=gram)

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
            df = df_path(prep, beta, self.lambdas, self.l1_ratio, gram=self.gram)
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
                    reference: Any, tol: Any, desc: str, residual: bool = False
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate, find the truth, run the simulation; returns (pooled results, attrs info)."""
    n_rep = check.positive_int("n_rep", n_rep, minimum=2)
    n_jobs = _n_jobs(n_jobs)
    if tol is not None:
        tol = check.real_in("tol", tol, 0.0, 1.0, lo_open=True)
    ref_ss, rep_ss, entropy = _seeds(seed)
    mu_arr, sd, info = _truth(path, mu, sigma, reference, ref_ss)
    pool = _residual_pool(path, mu_arr, sd) if residual else None
    prob = _Problem.of(path, tol)
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
