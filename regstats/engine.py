"""Array-level elastic net: prepare (centre, scale, weight), lambda grid, solve a path.

Everything here takes and returns numpy arrays; the formula layer (``design``) and the result
objects (``path``) sit on either side.  CV, bootstrap and simulation code refit through
:func:`prepare` + :func:`solve` on row subsets, so standardization is always done on the rows
being fitted (as cv.glmnet does for each training fold).

Prepared problem: with weights w normalised to sum n, column means m_j and scales s_j (weighted,
divisor n), rows multiplied by sqrt(w):

    Xt[i, j] = sqrt(w_i) (x_ij - m_j) / s_j,      yt[i] = sqrt(w_i) (y_i - ybar)

so the objective becomes 1/(2n)||yt - Xt b||^2 + lam sum v_j ((1-a)/(2 s_y) b_j^2 + a|b_j|) with
s_y = ||yt|| / sqrt(n), the weighted sd of y (root mean square about 0 without an intercept;
glmnet's convention, so that lam is glmnet's lambda for every a).  The kernels in
``regstats.solver`` solve 1/(2n)||yt - Xt b||^2 + lam' sum v_j ((1-a')/2 b_j^2 + a'|b_j|); the same
objective with ``lam' = lam (a + (1-a)/s_y)`` and ``a' lam' = a lam`` (:func:`kernel_penalty`).
Original-scale coefficients are b_j / s_j and the intercept ybar - sum m_j b_j / s_j.

Without an intercept columns are not centred, but they are still scaled by their weighted sd about
the weighted mean (glmnet).  Penalty factors of ``inf`` exclude a column (its coefficient is fixed
at 0, as for a constant column); the finite factors are rescaled to sum to p with each excluded
column counted as 1 (glmnet's rule).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from . import solver

#: above this many columns the Gram matrix is not formed
GRAM_MAX_P = 2000


#: rows per block when centring on the fly (Gram matrix, column variances)
_BLOCK = 4096


@dataclass(frozen=True, eq=False)
class Wide:
    """What the wide preparation (:func:`_prepare_wide`) computes besides X, in the same pass."""

    xx: np.ndarray                  # x_j'x_j / n of the prepared columns
    c: np.ndarray                   # x_j'y / n
    # X in 16 bits for the solver's gradient passes (regstats.solver.naive._Gradient): int16 codes,
    # a scale and a bound on the rounding error's norm per column
    compact: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class Prepared:
    """A centred, scaled, weighted problem ready for the kernels (constant columns zeroed).

    The design is not copied when the Prepared is made: ``raw`` is the caller's matrix, and the
    prepared matrix ``X`` (n x p, Fortran order) and the Gram pair ``gram = (X'X/n, X'y/n)`` are
    built on first use and cached, each centring in row blocks so that no intermediate copy of
    the raw design is made.  The Gram-based solver (n >> p) never materializes ``X``.
    """

    raw: np.ndarray        # n x p, the design as given (not copied)
    y: np.ndarray          # n, prepared response sqrt(w) (y - ybar)
    x_mean: np.ndarray     # p
    x_scale: np.ndarray    # p (1 for constant columns)
    y_mean: float
    w: np.ndarray          # weights normalised to sum n
    v: np.ndarray          # penalty factors rescaled to sum p
    constant: np.ndarray   # bool p: coefficient fixed at 0 (zero variance, or excluded)
    intercept: bool
    standardize: bool
    unit_weights: bool = True
    rows: np.ndarray | None = None  # the rows of raw in use (None: all)
    #: s_y, the response scale of the ridge part of the penalty (see the module docstring)
    y_scale: float = 1.0
    #: bool p: excluded by an ``inf`` penalty factor (also set in ``constant``); None: none
    excluded: np.ndarray | None = None

    @property
    def raw_rows(self) -> np.ndarray:
        """The design rows in use (a copy when only some rows of ``raw`` are used)."""
        return self.raw if self.rows is None else self.raw[self.rows]

    @property
    def n(self) -> int:
        return self.raw.shape[0] if self.rows is None else self.rows.shape[0]

    @property
    def p(self) -> int:
        return self.raw.shape[1]

    @property
    def yy(self) -> float:
        """Null deviance over n: ||yt||^2 / n."""
        return float(self.y @ self.y) / self.n

    @cached_property
    def X(self) -> np.ndarray:
        """The prepared design sqrt(w_i) (x_ij - m_j) / s_j (Fortran order; constant columns 0)."""
        Xt = np.empty((self.n, self.p), order="F")
        np.subtract(self.raw_rows, self.x_mean[None, :], out=Xt)
        if not self.unit_weights:
            Xt *= np.sqrt(self.w)[:, None]
        Xt *= (1.0 / self.x_scale)[None, :]
        if self.constant.any():
            Xt[:, self.constant] = 0.0
        return Xt

    @cached_property
    def gram(self) -> tuple[np.ndarray, np.ndarray]:
        """``(G, c)`` with G = X'X/n (p x p) and c = X'y/n on the prepared scale."""
        if "X" in self.__dict__:
            Xt = self.__dict__["X"]
            G = (Xt.T @ Xt) / self.n
            return np.ascontiguousarray(0.5 * (G + G.T)), (Xt.T @ self.y) / self.n
        S, sxy, _ = _centred_cross(self.raw_rows, self.x_mean, self.y,
                                   None if self.unit_weights else np.sqrt(self.w))
        return _scaled_gram(S, sxy, self.x_scale, self.constant, self.n)

    def xt_dot(self, r: np.ndarray) -> np.ndarray:
        """X'r / n on the prepared scale (uses the cached prepared X or Gram when available)."""
        if r is self.y and "wide" in self.__dict__:
            return self.__dict__["wide"].c.copy()
        if r is self.y and ("gram" in self.__dict__ or "X" not in self.__dict__ and self.p <= GRAM_MAX_P
                            and self.n >= self.p):
            return self.gram[1].copy()
        return (self.X.T @ r) / self.n


def normalise_weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    return w * (n / w.sum())


def rescale_penalty(v: np.ndarray | None, p: int) -> np.ndarray:
    """Penalty factors rescaled to sum to p, as glmnet does: an excluded column (``inf``) counts as
    1 in the sum and keeps the factor ``inf``."""
    if v is None:
        return np.ones(p)
    v = np.asarray(v, dtype=float)
    fin = np.isfinite(v)
    total = float(v[fin].sum()) + float((~fin).sum())
    return np.where(fin, v * (p / total), np.inf)


def excluded_of(v: np.ndarray | None, p: int) -> np.ndarray | None:
    """Columns excluded by an ``inf`` penalty factor (None when there are none)."""
    if v is None:
        return None
    ex = ~np.isfinite(np.asarray(v, dtype=float))
    return ex if ex.any() else None


def response_scale(yt: np.ndarray, n: int, y_scale: float | None = None) -> float:
    """s_y of a prepared response ``yt = sqrt(w) (y - ybar)``: ``||yt|| / sqrt(n)`` (the weighted sd,
    or the weighted root mean square about 0 without an intercept), or ``y_scale`` when given.
    A zero response (nothing to fit) gets 1."""
    if y_scale is not None:
        return float(y_scale)
    s = math.sqrt(float(yt @ yt) / n) if n > 0 else 0.0
    return s if s > 0 and math.isfinite(s) else 1.0


def kernel_penalty(prep: "Prepared", l1_ratio: float, lambdas: np.ndarray) -> tuple[float, np.ndarray]:
    """``(a', lam')`` for the kernels' objective ``lam' sum v ((1-a')/2 b^2 + a'|b|)`` equal to
    ``lam sum v ((1-a)/(2 s_y) b^2 + a|b|)``: ``lam' = lam (a + (1-a)/s_y)``, ``a' = a lam / lam'``."""
    a = float(l1_ratio)
    if a == 1.0:
        return 1.0, np.asarray(lambdas, dtype=float)
    f = a + (1.0 - a) / prep.y_scale
    return (0.0 if a == 0.0 else a / f), np.asarray(lambdas, dtype=float) * f


def ridge_weight(prep: "Prepared", lam: Any, l1_ratio: float) -> Any:
    """The coefficient of ``v_j b_j^2 / 2`` in the penalty: ``lam (1 - a) / s_y``."""
    return lam * (1.0 - float(l1_ratio)) / prep.y_scale


def _wants_gram(n: int, p: int) -> bool:
    """Whether the Gram solver will be used (so the Gram matrix is formed while preparing)."""
    return (p <= GRAM_MAX_P and n >= p) or p <= 500


def _sym(U: np.ndarray) -> np.ndarray:
    """The symmetric matrix whose upper triangle BLAS ``dsyrk`` filled."""
    return np.triu(U) + np.triu(U, 1).T


def _centred_cross(X: np.ndarray, mean: np.ndarray, yc: np.ndarray,
                   sw: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(D'D, D'yc, column sums of D)`` for ``D = sw (X - mean)``, in row blocks each centred
    exactly (BLAS ``dsyrk``), so that no n x p copy of X is made."""
    from scipy.linalg.blas import dsyrk

    p = X.shape[1]
    G = np.zeros((p, p), order="F")
    c = np.zeros(p)
    dsum = np.zeros(p)
    for s in range(0, X.shape[0], _BLOCK):
        D = X[s:s + _BLOCK] - mean[None, :]
        if sw is not None:
            D *= sw[s:s + _BLOCK, None]
        D = np.asfortranarray(D)
        G = dsyrk(1.0, D, beta=1.0, c=G, trans=1, lower=0, overwrite_c=1)
        c += D.T @ yc[s:s + _BLOCK]
        dsum += D.sum(axis=0)
    return _sym(G), c, dsum


def _is_constant(var: np.ndarray, mean: np.ndarray, intercept: bool = True, standardize: bool = True,
                 excluded: np.ndarray | None = None) -> np.ndarray:
    """Columns whose coefficient is fixed at 0: with an intercept, those whose variance ``var``
    (about the weighted mean ``mean``) is negligible against their size (glmnet keeps them at 0);
    without one, the zero columns, and when standardizing also those of no variance (no scale);
    and the ``excluded`` ones."""
    ms0 = var + mean * mean
    # relative to the column's own size: a column of 1e-160s is not constant (scale-free check)
    if intercept:
        const = var <= 1e-24 * ms0
    else:
        const = ms0 <= 0.0
        if standardize:
            const |= var <= 1e-24 * ms0
    return const if excluded is None else const | excluded


def _centred_ms(X: np.ndarray, mean: np.ndarray, sw: np.ndarray | None) -> np.ndarray:
    """Weighted mean squares about ``mean`` (divisor n), each row block centred exactly."""
    n = X.shape[0]
    ms = np.zeros(X.shape[1])
    for s in range(0, n, _BLOCK):
        D = X[s:s + _BLOCK] - mean[None, :]
        if sw is not None:
            D *= sw[s:s + _BLOCK, None]
        ms += np.einsum("ij,ij->j", D, D)
    return ms / max(n, 1)


def _scale_of(ms: np.ndarray, constant: np.ndarray, standardize: bool) -> np.ndarray:
    """Column scales: standard deviations (divisor n) when standardizing, else 1; constant ones 1."""
    return np.where(constant, 1.0, np.sqrt(ms) if standardize else 1.0)


def _scaled_gram(S: np.ndarray, sxy: np.ndarray, scale: np.ndarray, constant: np.ndarray,
                 n: int) -> tuple[np.ndarray, np.ndarray]:
    """The Gram pair on the prepared scale from centred cross-products: ``S / (n s s')`` and
    ``sxy / (n s)``, constant columns zeroed, the matrix exactly symmetric (C order)."""
    inv = 1.0 / scale
    G = S * inv[:, None]
    G *= inv[None, :]
    G /= n
    c = sxy * (inv / n)
    if constant.any():
        G[constant, :] = 0.0
        G[:, constant] = 0.0
        c[constant] = 0.0
    return np.ascontiguousarray(0.5 * (G + G.T)), c


def _centred_response(y: np.ndarray, w: np.ndarray, unit: bool, intercept: bool) -> tuple[float, np.ndarray]:
    """``(ybar, sqrt(w) (y - ybar))`` (ybar the weighted mean; 0 without intercept)."""
    y_mean = float(y.sum() if unit else w @ y) / y.shape[0] if intercept else 0.0
    yt = y - y_mean
    return y_mean, (yt if unit else np.sqrt(w) * yt)


def prepare(X: np.ndarray, y: np.ndarray, *, weights: np.ndarray | None = None,
            penalty_factor: np.ndarray | None = None, standardize: bool = True,
            intercept: bool = True, gram: bool | None = None,
            rows: np.ndarray | None = None, compact: bool = True, y_scale: float | None = None) -> Prepared:
    """Centre, scale and weight a design for the kernels (no validation: callers validate).

    ``gram=None`` forms the Gram matrix while preparing when the Gram solver will be used;
    ``gram=False`` never does (a one-lambda warm-started refit is cheaper with the residual
    kernel than forming an O(n p^2) Gram matrix).

    ``X`` is not copied (it must not be modified afterwards).  Means are one pass; weighted
    variances (divisor n) are a second pass over row blocks, each centred exactly.  When the
    Gram solver will be used (n >> p), that second pass forms the centred Gram matrix with BLAS
    (``dsyrk``) and the variances are read off its diagonal, so X is read twice in all.  When the
    residual solver will be used (wide designs) and X is in Fortran order, the prepared design is
    formed at once instead, column by column in one pass (:func:`_prepare_wide`).  ``rows``: use
    only these rows of X (CV folds, bootstrap samples), read in place instead of copied.
    ``compact=False``: no 16-bit copy of a wide X (it serves the gradient passes of a path; a
    one-lambda refit never uses it).  ``y_scale``: s_y held fixed (None: s_y of the rows used).
    """
    from scipy.linalg.blas import dsyrk

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = (X.shape[0] if rows is None else len(rows)), X.shape[1]
    if rows is not None:
        rows = np.asarray(rows, dtype=np.intp)
    # (a one-lambda refit of a tall design, gram=False and compact=False, goes by numpy: the
    # one-pass kernel pays off for wide paths, and a first run need not compile it for this use)
    if ((gram is False or gram is None and not _wants_gram(n, p)) and X.flags.f_contiguous and n > 0
            and not (gram is False and not compact and n >= p)):
        return _prepare_wide(X, y, rows, weights, penalty_factor, standardize, intercept, compact, y_scale)
    if rows is not None:
        X = X[rows]
    unit = weights is None
    w = normalise_weights(weights, n)
    sw = None if unit else np.sqrt(w)
    gram = _wants_gram(n, p) if gram is None else bool(gram)
    direct = gram and unit and X.flags.f_contiguous
    xty = None
    if direct and n > 0:
        # column sums and X'y in one pass over X (the Gram route below reads X once more)
        S = X.T @ np.column_stack((np.ones(n), y))
        col_sum, xty = S[:, 0], S[:, 1]
    if intercept:
        x_mean = (col_sum if xty is not None else X.sum(axis=0) if unit else w @ X) / n
    else:
        x_mean = np.zeros(p)
    y_mean, yt = _centred_response(y, w, unit, intercept)
    fast = False
    if direct:
        # uncentred Gram straight from the caller's matrix (no copy), then G - n m m'.  The
        # subtraction loses log10(max m^2/var) digits, so it is kept only when that is <= 3.
        G = _sym(dsyrk(1.0, X, trans=1, lower=0))
        ms = np.diag(G) / n - x_mean * x_mean
        if np.all(x_mean * x_mean <= 1e3 * np.maximum(ms, 1e-300)):
            G -= n * np.outer(x_mean, x_mean)
            # X'(y - ybar) = X'y - ybar X'1 loses log10(ybar^2 / var y) digits more: <= 3 too
            if xty is not None and y_mean * y_mean <= 1e3 * max(float(yt @ yt) / max(n, 1), 1e-300):
                c = xty - y_mean * col_sum
            else:
                c = X.T @ yt
            fast = True
    if gram and not fast:
        G, c, _ = _centred_cross(X, x_mean, yt, sw)
    if intercept:
        # weighted variances (mean squares about x_mean)
        var, mean = (np.diag(G) / n if gram else _centred_ms(X, x_mean, sw)), x_mean
    else:
        # no centring, but the scale is still the sd about the weighted mean (glmnet)
        mean = (X.sum(axis=0) if unit else w @ X) / max(n, 1)
        var = _centred_ms(X, mean, sw)
    excluded = excluded_of(penalty_factor, p)
    constant = _is_constant(var, mean, intercept, standardize, excluded)
    scale = _scale_of(var, constant, standardize)
    v = rescale_penalty(penalty_factor, p)
    prep = Prepared(raw=X, y=yt, x_mean=x_mean, x_scale=scale, y_mean=y_mean, w=w, v=v,
                    constant=constant, intercept=intercept, standardize=standardize, unit_weights=unit,
                    y_scale=response_scale(yt, n, y_scale), excluded=excluded)
    if gram:
        prep.__dict__["gram"] = _scaled_gram(G, c, scale, constant, n)
    return prep


def _prepare_wide(X, y, rows, weights, penalty_factor, standardize, intercept, compact=True,
                  y_scale=None) -> Prepared:
    """:func:`prepare` for the residual (wide) solver: the prepared design is formed at once,
    column by column in one pass over ``X`` (:func:`regstats.solver.standardize_columns`),
    reading only ``rows`` (no copy of the selected rows)."""
    n_all, p = X.shape
    r = np.arange(n_all, dtype=np.intp) if rows is None else rows
    n = r.shape[0]
    unit = weights is None
    w = normalise_weights(weights, n)
    y_mean, yt = _centred_response(y, w, unit, intercept)
    # Fortran order, allocated by numpy (see standardize_columns); the 16-bit copy is for the
    # solver's gradient passes (regstats.solver.naive)
    Xp = np.empty((p, n)).T
    compact = compact and solver.wants_compact(n, p)
    X16 = np.empty((p, n), dtype=np.int16).T if compact else np.empty((0, 0), np.int16)
    scale16, err16 = np.zeros(p if compact else 0), np.zeros(p if compact else 0)
    Xp, x_mean, var, constant, xx, c = solver.standardize_columns(
        X, r, w, bool(intercept), bool(standardize), yt, Xp, X16, scale16, err16)
    excluded = excluded_of(penalty_factor, p)
    if excluded is not None:
        constant = constant | excluded
        Xp[:, excluded] = 0.0
        xx[excluded] = 0.0
        c[excluded] = 0.0
        if compact:
            X16[:, excluded] = 0
            scale16[excluded] = 0.0
            err16[excluded] = 0.0
    scale = _scale_of(var, constant, standardize)
    prep = Prepared(raw=X, y=yt, x_mean=x_mean, x_scale=scale, y_mean=y_mean, w=w,
                    v=rescale_penalty(penalty_factor, p), constant=constant, intercept=intercept,
                    standardize=standardize, unit_weights=unit, rows=rows,
                    y_scale=response_scale(yt, n, y_scale), excluded=excluded)
    prep.__dict__["X"] = Xp
    prep.__dict__["wide"] = Wide(xx=xx, c=c, compact=(X16, scale16, err16) if compact else None)
    return prep


def _columns(prep: Prepared, idx: np.ndarray) -> np.ndarray:
    """Prepared columns idx (n x len(idx)) without materializing the whole prepared design."""
    if "X" in prep.__dict__:
        return prep.X[:, idx]
    D = (prep.raw_rows[:, idx] - prep.x_mean[idx]) / prep.x_scale[idx]
    if not prep.unit_weights:
        D *= np.sqrt(prep.w)[:, None]
    D[:, prep.constant[idx]] = 0.0
    return D


def _unpenalized_residual(prep: Prepared) -> np.ndarray:
    free = (prep.v == 0) & ~prep.constant
    if not free.any():
        return prep.y
    Xu = _columns(prep, np.flatnonzero(free))
    coef, *_ = np.linalg.lstsq(Xu, prep.y, rcond=None)
    return prep.y - Xu @ coef


def lambda_max(prep: Prepared, l1_ratio: float) -> float:
    """Smallest lambda at which every penalized coefficient is zero (glmnet's lambda_max)."""
    pen = (prep.v > 0) & ~prep.constant
    if not pen.any():
        return 0.0
    if "gram" in prep.__dict__:
        # from the same Gram matrix the solver uses, so the solution at lambda_max is exactly 0
        G, c = prep.gram
        q = c.copy()
        free = np.flatnonzero((prep.v == 0) & ~prep.constant)
        if free.size:
            coef, *_ = np.linalg.lstsq(G[np.ix_(free, free)], c[free], rcond=None)
            q = c - G[:, free] @ coef
        q = np.abs(q)
    else:
        q = np.abs(prep.xt_dot(_unpenalized_residual(prep)))
    return float(np.max(q[pen] / (max(l1_ratio, 1e-3) * prep.v[pen])))


def default_min_ratio(n: int, p: int) -> float:
    """glmnet's default ``lambda_min_ratio``: 1e-4 when n >= p, else 1e-2."""
    return 1e-4 if n >= p else 1e-2


def lambda_grid(prep: Prepared, l1_ratio: float, n_lambda: int = 100,
                lambda_min_ratio: float | None = None) -> np.ndarray:
    """glmnet's default grid: n_lambda values log-spaced from lambda_max down to ratio * lambda_max."""
    if lambda_min_ratio is None:
        lambda_min_ratio = default_min_ratio(prep.n, prep.p)
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
    """Solve the elastic net at each lambda (decreasing), warm-started along the path.

    ``lam = 0`` is least squares, the minimum-norm solution when the design is rank-deficient
    (:func:`least_squares`), whatever the method.
    """
    lambdas = np.ascontiguousarray(lambdas, dtype=float)
    zero = lambdas == 0.0
    if zero.any():
        return _with_least_squares(prep, l1_ratio, lambdas, zero, tol=tol, max_iter=max_iter, beta0=beta0,
                                   method=method, exact=exact)
    a = float(l1_ratio)
    chosen = method is None
    method = method or choose_method(prep, a)
    if method != "svd" and a > 0.0 and _walkable(lambdas):
        grid, pick, deep = _stepping_stones(prep, a, lambdas, beta0)
        if chosen and deep and method == "gram" and prep.n * prep.p <= _NAIVE_SWITCH_MAX:
            method = "naive"
        if grid.shape[0] > lambdas.shape[0]:
            sol = solve(prep, a, grid, tol=tol, max_iter=max_iter, beta0=beta0, method=method, exact=exact)
            return _rows_of(sol, pick, lambdas)
    # the kernels' parametrization of the same objective (s_y folded into lam and a)
    ak, lams_k = kernel_penalty(prep, a, lambdas)
    p = prep.p
    keep = ~prep.constant
    idx = np.flatnonzero(keep)
    if exact is None:
        exact = tol <= 1e-9
    nlam = len(lambdas)
    beta = np.zeros((nlam, p))
    yy = prep.yy
    if method == "svd":
        n = prep.n
        # the penalized columns share one rescaled factor v0 (!= 1 when a constant column carries
        # another factor): the closed forms solve the objective at lam * v0 / s_y
        lams_v = lams_k * prep.v[idx][0]
        if n >= 10 * idx.size:
            # n >> p: eigen-decomposition of the Gram matrix (same closed form, no n x p SVD)
            G, c = prep.gram
            Gk = G[np.ix_(idx, idx)] if idx.size < p else G
            b = solver.ridge_path_gram(Gk, c[idx], lams_v)
            rss = yy - 2.0 * (b @ c[idx]) + np.einsum("kj,jl,kl->k", b, Gk, b)
        else:
            Xk = prep.X[:, idx] if idx.size < p else prep.X
            U, d, Vt = solver.ridge_svd(Xk)
            b = solver.ridge_path_svd(U, d, Vt, prep.y, lams_v)
            uty = U.T @ prep.y
            shrink = (n * lams_v[:, None]) / (d[None, :] ** 2 + n * lams_v[:, None])
            rss = (yy * n - uty @ uty + ((shrink * uty[None, :]) ** 2).sum(axis=1)) / n
        beta[:, idx] = b
        rss = np.maximum(rss, 0.0)
        gaps = np.zeros(nlam)
        sweeps = np.zeros(nlam, dtype=np.int64)
        conv = np.ones(nlam, dtype=bool)
    else:
        b0 = np.zeros(len(idx)) if beta0 is None else np.ascontiguousarray(beta0[idx], dtype=float)
        v = np.ascontiguousarray(prep.v[idx])
        if method == "gram":
            G, c = prep.gram
            if idx.size < p:
                G = np.ascontiguousarray(G[np.ix_(idx, idx)])
                c = np.ascontiguousarray(c[idx])
            b, gaps, rss, sweeps, conv = solver.cd_path_gram(G, c, yy, v, ak, lams_k, b0, tol,
                                                              max_iter, bool(exact))
        else:
            Xk = prep.X if idx.size == p else np.asfortranarray(prep.X[:, idx])
            wide = prep.__dict__.get("wide") if idx.size == p else None
            b, gaps, rss, sweeps, conv = solver.cd_path_naive(Xk, prep.y, v, ak, lams_k, b0, tol,
                                                               max_iter, bool(exact), wide)
        beta[:, idx] = b
    coef = beta / prep.x_scale[None, :]
    intercept = prep.y_mean - coef @ prep.x_mean if prep.intercept else np.zeros(nlam)
    return Solution(lambdas=lambdas, beta=beta, coef=coef, intercept=intercept, rss=rss, gaps=gaps,
                    sweeps=sweeps, converged=conv, method=method, yy=yy)


#: a grid step below this factor (or a cold start this far below lambda_max) is walked in steps
_STONE_GAP = 0.1
#: the factor between the inserted lambdas (four per decade)
_STONE_STEP = 10.0 ** -0.25
#: largest n * p for which a grid below the default grid's end switches the Gram method to the
#: residual (active-set Newton) method; 1e7 is an 80 MB prepared design
_NAIVE_SWITCH_MAX = 1e7


def _walkable(lambdas: np.ndarray) -> bool:
    """Whether a grid is positive and decreasing (what :func:`_stepping_stones` walks)."""
    return lambdas.size > 0 and bool(lambdas[-1] > 0.0) and bool(np.all(np.diff(lambdas) <= 0.0))


def _stepping_stones(prep: Prepared, a: float, lambdas: np.ndarray, beta0: np.ndarray | None
                     ) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(grid, pick, deep)``: the lambdas to solve, with stepping stones inserted, the positions of
    the asked lambdas in it, and whether the grid reaches two decades below the end of the
    default grid (where :func:`solve` prefers the active-set Newton method).

    Warm starts are what make a path cheap: coordinate descent started far from the solution, at
    a lambda orders of magnitude below lambda_max (or below the previous lambda), can spend its
    whole sweep budget there (a noise-free or rank-deficient problem at ``lam = 1e-9``).  Such a
    gap is walked instead, four lambdas per decade, from lambda_max on a cold start; the solutions
    at the inserted lambdas are dropped.  The same path to the same tolerance, reached in steps.
    """
    lmax = lambda_max(prep, a)
    ratio = default_min_ratio(prep.n, prep.p)
    # (two decades of margin: a CV fold's or bootstrap sample's lambda_max differs from the full
    # data's, whose default grid it solves)
    deep = bool(lmax > 0 and lambdas[-1] < 1e-2 * ratio * lmax)
    cold = beta0 is None or not np.any(beta0)
    starts = np.concatenate([[lmax if cold else lambdas[0]], lambdas[:-1]])
    pieces, pick, k = [], np.empty(lambdas.shape[0], dtype=np.intp), 0
    for i, (hi, lo) in enumerate(zip(starts, lambdas)):
        if (i > 0 or cold) and hi > 0 and lo < _STONE_GAP * hi:
            m = int(np.ceil(np.log(lo / hi) / np.log(_STONE_STEP)))
            stones = hi * _STONE_STEP ** np.arange(1 if i > 0 else 0, m)
            stones = stones[stones > lo * (1.0 + 1e-9)]
            pieces.append(stones)
            k += stones.shape[0]
        pieces.append(np.array([lo]))
        pick[i] = k
        k += 1
    return np.concatenate(pieces), pick, deep


def _rows_of(sol: Solution, pick: np.ndarray, lambdas: np.ndarray) -> Solution:
    """The rows ``pick`` of a solved path (the asked lambdas among the stepping stones)."""
    return Solution(lambdas=lambdas, beta=sol.beta[pick], coef=sol.coef[pick], intercept=sol.intercept[pick],
                    rss=sol.rss[pick], gaps=sol.gaps[pick], sweeps=sol.sweeps[pick],
                    converged=sol.converged[pick], method=sol.method, yy=sol.yy)


def least_squares(prep: Prepared) -> tuple[np.ndarray, float]:
    """``(beta, rss)``: the minimum-norm least-squares fit of the prepared problem (lam = 0), with
    singular values below ``max(n, p) eps d_max`` cut off (numpy's ``lstsq``/``matrix_rank`` rule),
    and its ``||yt - Xt b||^2 / n``."""
    idx = np.flatnonzero(~prep.constant)
    beta = np.zeros(prep.p)
    if idx.size == 0:
        return beta, prep.yy
    Xk = _columns(prep, idx)
    b, *_ = np.linalg.lstsq(Xk, prep.y, rcond=None)
    beta[idx] = b
    r = prep.y - Xk @ b
    return beta, float(r @ r) / prep.n


def _with_least_squares(prep: Prepared, l1_ratio: float, lambdas: np.ndarray, zero: np.ndarray,
                        **kw: Any) -> Solution:
    """:func:`solve` with the lambdas equal to 0 (at the end of a decreasing grid) solved as least
    squares and the others by the path solver."""
    pos = np.flatnonzero(~zero)
    b_ls, rss_ls = least_squares(prep)
    nlam = len(lambdas)
    beta = np.tile(b_ls, (nlam, 1))
    rss = np.full(nlam, rss_ls)
    gaps = np.zeros(nlam)
    sweeps = np.zeros(nlam, dtype=np.int64)
    conv = np.ones(nlam, dtype=bool)
    method = kw.get("method") or choose_method(prep, float(l1_ratio))
    if pos.size:
        sol = solve(prep, l1_ratio, lambdas[pos], **kw)
        beta[pos], rss[pos], gaps[pos] = sol.beta, sol.rss, sol.gaps
        sweeps[pos], conv[pos], method = sol.sweeps, sol.converged, sol.method
    coef = beta / prep.x_scale[None, :]
    intercept = prep.y_mean - coef @ prep.x_mean if prep.intercept else np.zeros(nlam)
    return Solution(lambdas=lambdas, beta=beta, coef=coef, intercept=intercept, rss=rss, gaps=gaps,
                    sweeps=sweeps, converged=conv, method=method, yy=prep.yy)


@dataclass(frozen=True, eq=False)
class Cross:
    """Centred cross-products of a model's full data (see :meth:`Model.cross`)."""

    C: np.ndarray      # sum (x_i - m)(x_i - m)'
    cxy: np.ndarray    # sum (x_i - m)(y_i - ybar)
    mean: np.ndarray   # m (0 without intercept)
    ybar: float
    rsum: np.ndarray   # sum (x_i - m), ~0 up to rounding
    ysum: float        # sum (y_i - ybar)


@dataclass(frozen=True, eq=False)
class Model:
    """A model's raw arrays and options, refittable on any subset of its rows.

    Arrays only (no pandas, no formula), so it pickles cheaply to joblib workers.  CV folds,
    bootstrap replicates and :meth:`regstats.path.Path._refit` all refit through it, so every
    refit re-standardizes on its own rows in exactly the same way.
    """

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None
    penalty_factor: np.ndarray | None
    standardize: bool
    intercept: bool
    l1_ratio: float
    tol: float
    max_iter: int
    #: s_y held fixed for every refit (None: each refit uses the s_y of its own rows)
    y_scale: float | None = None

    @property
    def n(self) -> int:
        return self.X.shape[0]

    def prepare(self, rows: np.ndarray | None = None, *, y: np.ndarray | None = None,
                weights: np.ndarray | None = None, gram: bool | None = None,
                compact: bool = True) -> Prepared:
        """Prepare the rows given (all when None), optionally with another response / weights."""
        # joblib hands large arrays to workers as np.memmap; plain ndarrays keep numba on its
        # cached specializations (a memmap is another numba type, compiled afresh per worker)
        X = np.asarray(self.X)
        if y is None:
            y = np.asarray(self.y) if rows is None else np.asarray(self.y)[rows]
        if weights is None and self.weights is not None:
            weights = np.asarray(self.weights) if rows is None else np.asarray(self.weights)[rows]
        return prepare(X, np.asarray(y, dtype=float), weights=weights, penalty_factor=self.penalty_factor,
                       standardize=self.standardize, intercept=self.intercept, gram=gram, rows=rows,
                       compact=compact, y_scale=self.y_scale)

    def cross(self) -> "Cross | None":
        """The full data's centred cross-products, for :meth:`prepare_fold` (None: not applicable).

        Only for unit weights and designs on the Gram route, where a fold's Gram matrix is then a
        down-date by its held-out rows instead of a new O(n p^2) product.
        """
        X = np.asarray(self.X)
        n, p = X.shape
        if self.weights is not None or not _wants_gram(n - max(1, n // 5), p) or n < 2:
            return None
        y = np.asarray(self.y, dtype=float)
        m = X.mean(axis=0) if self.intercept else np.zeros(p)
        ybar = float(y.mean()) if self.intercept else 0.0
        C, cxy, rsum = _centred_cross(X, m, y - ybar)
        return Cross(C=C, cxy=cxy, mean=m, ybar=ybar, rsum=rsum, ysum=float((y - ybar).sum()))

    def prepare_fold(self, train: np.ndarray, test: np.ndarray, cross: "Cross") -> Prepared:
        """:meth:`prepare` of the training rows (the complement of ``test``) by down-dating the full
        data's cross-products ``cross`` with the held-out rows: O(n_test p^2) instead of
        O(n_train p^2), the same numbers to rounding.
        """
        from scipy.linalg.blas import dsyrk

        X = np.asarray(self.X)
        y = np.asarray(self.y, dtype=float)
        p = X.shape[1]
        nt = len(train)
        V = np.asfortranarray(X[test] - cross.mean[None, :])
        yv = y[test] - cross.ybar
        S = cross.C - _sym(dsyrk(1.0, V, trans=1, lower=0))
        sxy = cross.cxy - V.T @ yv
        if self.intercept:
            d = (cross.rsum - V.sum(axis=0)) / nt        # training mean minus the full mean
            e = (cross.ysum - float(yv.sum())) / nt
            S -= nt * np.outer(d, d)
            sxy -= nt * d * e
            x_mean, y_mean = cross.mean + d, cross.ybar + e
        else:
            x_mean, y_mean = np.zeros(p), 0.0
        ms = np.maximum(np.diag(S) / nt, 0.0)
        if self.intercept:
            var, mean = ms, x_mean
        else:
            # the scale is the sd about the training mean, exactly (no centring without intercept)
            mean = X[train].mean(axis=0)
            var = _centred_ms(X[train], mean, None)
        excluded = excluded_of(self.penalty_factor, p)
        constant = _is_constant(var, mean, self.intercept, self.standardize, excluded)
        scale = _scale_of(var, constant, self.standardize)
        yt = y[train] - y_mean
        prep = Prepared(raw=X, y=yt, x_mean=x_mean, x_scale=scale, y_mean=y_mean,
                        w=np.ones(nt), v=rescale_penalty(self.penalty_factor, p), constant=constant,
                        intercept=self.intercept, standardize=self.standardize, unit_weights=True,
                        rows=np.asarray(train, dtype=np.intp), y_scale=response_scale(yt, nt, self.y_scale),
                        excluded=excluded)
        prep.__dict__["gram"] = _scaled_gram(S, sxy, scale, constant, nt)
        return prep

    def predict_rows(self, rows: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """Fitted values of ``rows`` (rows x n_lambda) for a path's (coef, intercept)."""
        out = np.asarray(self.X)[rows] @ coef.T
        out += intercept[None, :]
        return out

    def solve(self, prep: Prepared, lambdas: np.ndarray, *, tol: float | None = None,
              beta0: np.ndarray | None = None, method: str | None = None,
              exact: bool | None = None) -> Solution:
        """Solve the prepared rows along ``lambdas`` with this model's penalty and tolerances."""
        return solve(prep, self.l1_ratio, np.asarray(lambdas, dtype=float),
                     tol=self.tol if tol is None else float(tol), max_iter=self.max_iter, beta0=beta0,
                     method=method, exact=exact)
