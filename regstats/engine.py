"""Array-level elastic net: prepare (centre, scale, weight), lambda grid, solve a path.

Everything here takes and returns numpy arrays; the formula layer (``design``) and the result
objects (``path``) sit on either side.  CV, bootstrap and simulation code refit through
:func:`prepare` + :func:`solve` on row subsets, so standardization is always done on the rows
being fitted (as cv.glmnet does for each training fold).

Prepared problem: with weights w normalised to sum n, column means m_j and scales s_j (weighted,
divisor n), rows multiplied by sqrt(w):

    Xt[i, j] = sqrt(w_i) (x_ij - m_j) / s_j,      yt[i] = sqrt(w_i) (y_i - ybar)

so the objective becomes 1/(2n)||yt - Xt b||^2 + lam sum v_j ((1-a)/2 b_j^2 + a|b_j|), which the
kernels in ``regstats.solver`` solve.  Original-scale coefficients are b_j / s_j and the
intercept ybar - sum m_j b_j / s_j.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import solver

#: above this many columns the Gram matrix is not formed
GRAM_MAX_P = 2000


@dataclass(frozen=True)
class Prepared:
    """A centred, scaled, weighted problem ready for the kernels (all columns, constant ones zeroed)."""

    X: np.ndarray          # n x p, Fortran order
    y: np.ndarray          # n
    x_mean: np.ndarray     # p
    x_scale: np.ndarray    # p (1 for constant columns)
    y_mean: float
    w: np.ndarray          # weights normalised to sum n
    v: np.ndarray          # penalty factors rescaled to sum p
    constant: np.ndarray   # bool p: zero variance -> coefficient fixed at 0
    intercept: bool
    standardize: bool

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def p(self) -> int:
        return self.X.shape[1]

    @property
    def yy(self) -> float:
        """Null deviance over n: ||yt||^2 / n."""
        return float(self.y @ self.y) / self.n


def normalise_weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    return w * (n / w.sum())


def rescale_penalty(v: np.ndarray | None, p: int) -> np.ndarray:
    """Penalty factors rescaled to sum to p, as glmnet does."""
    if v is None:
        return np.ones(p)
    v = np.asarray(v, dtype=float)
    return v * (p / v.sum())


def prepare(X: np.ndarray, y: np.ndarray, *, weights: np.ndarray | None = None,
            penalty_factor: np.ndarray | None = None, standardize: bool = True,
            intercept: bool = True) -> Prepared:
    """Centre, scale and weight a design for the kernels (no validation: callers validate)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    w = normalise_weights(weights, n)
    if intercept:
        x_mean = (w @ X) / n
        y_mean = float(w @ y) / n
    else:
        x_mean = np.zeros(p)
        y_mean = 0.0
    Xc = X - x_mean
    ms = (w @ (Xc * Xc)) / n
    tiny = 1e-24 * np.maximum(1.0, (w @ (X * X)) / n)
    constant = ms <= tiny
    scale = np.sqrt(ms) if standardize else np.ones(p)
    scale = np.where(constant, 1.0, scale)
    sw = np.sqrt(w)
    Xt = np.asfortranarray(Xc * (sw / 1.0)[:, None] / scale[None, :])
    if constant.any():
        Xt[:, constant] = 0.0
    yt = sw * (y - y_mean)
    v = rescale_penalty(penalty_factor, p)
    return Prepared(X=Xt, y=yt, x_mean=x_mean, x_scale=scale, y_mean=y_mean, w=w, v=v,
                    constant=constant, intercept=intercept, standardize=standardize)


def _unpenalized_residual(prep: Prepared) -> np.ndarray:
    free = (prep.v == 0) & ~prep.constant
    if not free.any():
        return prep.y
    Xu = prep.X[:, free]
    coef, *_ = np.linalg.lstsq(Xu, prep.y, rcond=None)
    return prep.y - Xu @ coef


def lambda_max(prep: Prepared, l1_ratio: float) -> float:
    """Smallest lambda at which every penalized coefficient is zero (glmnet's lambda_max)."""
    r = _unpenalized_residual(prep)
    q = np.abs(prep.X.T @ r) / prep.n
    pen = (prep.v > 0) & ~prep.constant
    if not pen.any():
        return 0.0
    return float(np.max(q[pen] / (max(l1_ratio, 1e-3) * prep.v[pen])))


def lambda_grid(prep: Prepared, l1_ratio: float, n_lambda: int = 100,
                lambda_min_ratio: float | None = None) -> np.ndarray:
    """glmnet's default grid: n_lambda values log-spaced from lambda_max down to ratio * lambda_max."""
    if lambda_min_ratio is None:
        lambda_min_ratio = 1e-4 if prep.n >= prep.p else 1e-2
    lmax = lambda_max(prep, l1_ratio)
    if n_lambda == 1:
        return np.array([lmax])
    return lmax * lambda_min_ratio ** (np.arange(n_lambda) / (n_lambda - 1))


@dataclass(frozen=True)
class Solution:
    """A solved path on the prepared scale plus its original-scale coefficients."""

    lambdas: np.ndarray
    beta: np.ndarray        # n_lambda x p, prepared (standardized) scale
    coef: np.ndarray        # n_lambda x p, original scale
    intercept: np.ndarray   # n_lambda
    rss: np.ndarray         # ||yt - Xt b||^2 / n at each lambda
    gaps: np.ndarray
    sweeps: np.ndarray
    converged: np.ndarray
    method: str
    yy: float               # null deviance over n

    @property
    def r2(self) -> np.ndarray:
        """Fraction of the null deviance explained (glmnet's dev.ratio)."""
        if self.yy <= 0:
            return np.zeros_like(self.rss)
        return 1.0 - self.rss / self.yy


def _uniform_penalty(prep: Prepared) -> bool:
    v = prep.v[~prep.constant]
    return v.size > 0 and bool(np.all(v == v[0])) and v[0] > 0


def choose_method(prep: Prepared, l1_ratio: float) -> str:
    if l1_ratio == 0.0 and _uniform_penalty(prep):
        return "svd"
    if prep.p <= GRAM_MAX_P and prep.n >= prep.p:
        return "gram"
    if prep.p <= 500:
        return "gram"
    return "naive"


def solve(prep: Prepared, l1_ratio: float, lambdas: np.ndarray, *, tol: float = 1e-7,
          max_iter: int = 100_000, beta0: np.ndarray | None = None, method: str | None = None,
          exact: bool | None = None) -> Solution:
    """Solve the elastic net at each lambda (decreasing), warm-started along the path."""
    lambdas = np.ascontiguousarray(lambdas, dtype=float)
    a = float(l1_ratio)
    p = prep.p
    keep = ~prep.constant
    idx = np.flatnonzero(keep)
    method = method or choose_method(prep, a)
    if exact is None:
        exact = tol <= 1e-9
    nlam = len(lambdas)
    beta = np.zeros((nlam, p))
    yy = prep.yy
    if method == "svd":
        Xk = prep.X[:, idx]
        U, d, Vt = solver.ridge_svd(Xk)
        b = solver.ridge_path_svd(U, d, Vt, prep.y, lambdas)
        beta[:, idx] = b
        uty = U.T @ prep.y
        n = prep.n
        shrink = (n * lambdas[:, None]) / (d[None, :] ** 2 + n * lambdas[:, None])
        rss = (yy * n - uty @ uty + ((shrink * uty[None, :]) ** 2).sum(axis=1)) / n
        rss = np.maximum(rss, 0.0)
        gaps = np.zeros(nlam)
        sweeps = np.zeros(nlam, dtype=np.int64)
        conv = np.ones(nlam, dtype=bool)
    else:
        b0 = np.zeros(len(idx)) if beta0 is None else np.ascontiguousarray(beta0[idx], dtype=float)
        v = np.ascontiguousarray(prep.v[idx])
        if method == "gram":
            Xk = prep.X[:, idx]
            G = np.ascontiguousarray(Xk.T @ Xk) / prep.n
            c = (Xk.T @ prep.y) / prep.n
            # the active-set solve is cheap on a Gram matrix, so it is always tried there
            b, gaps, rss, sweeps, conv = solver.cd_path_gram(G, c, yy, v, a, lambdas, b0, tol,
                                                              max_iter, True)
        else:
            Xk = prep.X if idx.size == p else np.asfortranarray(prep.X[:, idx])
            b, gaps, rss, sweeps, conv = solver.cd_path_naive(Xk, prep.y, v, a, lambdas, b0, tol,
                                                               max_iter, bool(exact))
        beta[:, idx] = b
    coef = beta / prep.x_scale[None, :]
    intercept = prep.y_mean - coef @ prep.x_mean if prep.intercept else np.zeros(nlam)
    return Solution(lambdas=lambdas, beta=beta, coef=coef, intercept=intercept, rss=rss, gaps=gaps,
                    sweeps=sweeps, converged=conv, method=method, yy=yy)
