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
its replicates (the fixed design refitted to simulated responses, in batches: :mod:`regstats.replicates`)
are those of the simulated bias-variance decomposition, :func:`regstats.biasvar.bias_variance`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import solver
from ._types import PathLike
from .engine import Prepared, _uniform_penalty, ridge_weight
from .replicates import _simulate_setup

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
                                desc="simulate_df", df_fn=df_path)
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
