"""Confidence intervals and p-values that survive penalization.

:func:`infer` (``fit.inference()``) offers four methods, and every row of its table names the
method that made it:

``"desparsified"``
    The desparsified (debiased) lasso of Zhang & Zhang (2014) and van de Geer, Bühlmann, Ritov
    & Dezeure (2014), as R's ``hdi::lasso.proj``.  With an initial lasso estimate ``b``
    (default: the lasso at CV's lambda_min on the fit's path, hdi's default), residuals
    ``r = y - b0 - X b`` and, for each column j, the residual ``Z_j`` of a nodewise lasso of
    ``X_j`` on the other columns (an estimate of row j of the precision matrix),

        b_j^debiased = b_j + Z_j' r / Z_j' X_j,     se_j = sigma * ||a_j||,

    a_j the gradient of the estimate in y with the initial fit's support S held fixed,
    ``Z_j'(I - P_S) / Z_j'X_j`` (plus ``e_j'(X_S'X_S)^{-1} X_S'`` for j in S; ``se="linearized"``),
    or van de Geer et al.'s ``sigma * ||Z_j|| / |Z_j' X_j|`` (``se="model"``, hdi's), and
    ``(b_j^debiased - beta_j) / se_j`` is asymptotically standard normal when the truth is
    sparse, also when p > n.  The noise level sigma is by default refitted cross-validation
    (Fan, Guo & Hao 2012; :mod:`regstats.noise`), or the initial fit's residual sd with the df
    correction ``RSS / (n - nonzero - 1)`` (Reid, Tibshirani & Friedman 2016), or the scaled
    lasso (Sun & Zhang 2012; quantile lam0 of Sun & Zhang 2013), or given.  The
    nodewise penalty is by default the Z&Z rule (Zhang & Zhang 2014; hdi's ``do.ZnZ = TRUE``):
    cross-validation over all nodewise regressions (``hdi``'s ``lambda.min``), then lowered while
    the average variance factor ``||Z_j||^2 / (Z_j'X_j)^2`` stays below ``znz_factor`` (default 3)
    times its value there, which removes most of the bias the one-step correction leaves for
    active coefficients; or CV's lambda itself, a scaled lasso per column, or given.

``"ridge"``
    The exact standard errors of a ridge fit, ``Cov(b) = sigma^2 A X'X A`` with
    ``A = (X'X + n lam / s_y V)^{-1}`` (s_y the observed response scale of the penalty).  The ridge
    estimator is biased, ``E b - beta = -n lam / s_y A V beta``;
    the table states a plug-in estimate of that bias, and its intervals and p-values are centred
    on the shrunken estimate, so they do not have nominal coverage.

``"selective"``
    Lasso fits: polyhedral selective inference (Lee, Sun, Sun & Taylor 2016; R's
    ``selectiveInference::fixedLassoInf``) for the selected columns, conditional on the selected
    set and signs at the fit's lambda (:mod:`regstats.selective`).

``"naive_refit"``
    Ordinary least squares (statsmodels) refitted on the columns the fit selected, as if they had
    been chosen in advance.  Not valid after data-driven selection (too narrow, p-values too
    small); it warns, and says so in its label.

P-values are adjusted for multiple testing: Holm (family-wise error) in ``p_holm`` and
Benjamini–Hochberg (false discovery rate, statsmodels' ``multipletests``) in ``p_bh``; Holm is
computed by :func:`holm`, equal to statsmodels' (tested), which would call ``gc.collect()``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

import numpy as np
import pandas as pd

from . import _validate as check
from . import engine, solver
from ._summary import Summary
from .errors import ParameterError, RegstatsWarning, user_stacklevel
from .noise import RCV_MIN_ROWS, refitted_cv_sigma

__all__ = ["infer", "Inference", "scaled_lasso", "desparsified_lasso"]

_METHODS = ("desparsified", "ridge", "selective", "naive_refit")
METHOD_LABELS = {
    "desparsified": "desparsified lasso",
    "ridge": "ridge (biased)",
    "selective": "selective inference (polyhedral, conditional on the selected set and signs)",
    "naive_refit": "naive OLS refit on the selected columns (ignores the selection; not valid)",
}
_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "ci_lower", "ci_upper", "method"]

ZNZ_FACTOR = 3.0    # default variance budget of the Z&Z nodewise rule (see docs/uncertainty.md)
_TOL = 1e-10       # nodewise and scaled-lasso solves: tight, they are cheap on a Gram matrix
_MAX_SWEEPS = 100_000


class InferenceWarning(RegstatsWarning):
    """An interval or p-value could not be computed, or rests on a shaky assumption."""


# ---------------------------------------------------------------------------------------------
# array-level building blocks
# ---------------------------------------------------------------------------------------------
def _lasso_gram(G: np.ndarray, c: np.ndarray, yy: float, lambdas: np.ndarray,
                beta0: np.ndarray | None = None, tol: float = _TOL) -> tuple[np.ndarray, np.ndarray]:
    """Lasso path on a Gram matrix (all columns penalized equally): (betas L x p, rss/n)."""
    p = c.shape[0]
    b0 = np.zeros(p) if beta0 is None else np.ascontiguousarray(beta0, dtype=float)
    lambdas = np.ascontiguousarray(np.atleast_1d(lambdas), dtype=float)
    betas, _gaps, rss, _sw, _conv = solver.cd_path_gram(np.ascontiguousarray(G), np.ascontiguousarray(c),
                                                        float(yy), np.ones(p), 1.0, lambdas, b0, tol,
                                                        _MAX_SWEEPS, True)
    return betas, rss


def _scaled_lasso_gram(G: np.ndarray, c: np.ndarray, yy: float, lam0: float,
                       max_iter: int = 100, rtol: float = 1e-6) -> tuple[np.ndarray, float]:
    """Scaled lasso (Sun & Zhang 2012) on a Gram matrix: iterate ``lam = sigma lam0``,
    ``sigma = ||y - X b|| / sqrt(n)`` to the joint minimiser of
    ``||y - X b||^2 / (2 n sigma) + sigma / 2 + lam0 ||b||_1``."""
    sigma = math.sqrt(max(yy, 0.0))
    beta = np.zeros(c.shape[0])
    if sigma == 0:
        return beta, 0.0
    for _ in range(max_iter):
        betas, rss = _lasso_gram(G, c, yy, np.array([sigma * lam0]), beta)
        beta = betas[0]
        new = math.sqrt(max(float(rss[0]), 0.0))
        if abs(new - sigma) <= rtol * max(sigma, 1e-300):
            sigma = new
            break
        sigma = new
    return beta, sigma


def scaled_lasso(X: np.ndarray, y: np.ndarray, lam0: float | str = "univ") -> tuple[np.ndarray, float]:
    """Scaled lasso of centred ``y`` on centred, standardized ``X`` (no intercept).

    Parameters
    ----------
    X : (n, p) array, columns centred and scaled to unit variance (divisor n).
    y : (n,) array, centred.
    lam0 : ``"univ"`` for ``sqrt(2 log(p) / n)`` (``scalreg``'s ``lam0 = "univ"``) or a number.

    Returns
    -------
    (beta, sigma): coefficients on the scale of ``X`` and the noise estimate ``||y - X beta|| / sqrt(n)``.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    l0 = math.sqrt(2.0 * math.log(max(p, 2)) / n) if lam0 == "univ" else float(lam0)
    G = X.T @ X / n
    return _scaled_lasso_gram(G, X.T @ y / n, float(y @ y) / n, l0)


def _nodewise_grid(G: np.ndarray, n_lambda: int = 50, ratio: float = 1e-2) -> np.ndarray:
    """Log-spaced from the largest nodewise lambda_max (max off-diagonal |G_jk|) down to ``ratio`` of it."""
    off = np.abs(G - np.diag(np.diag(G)))
    lmax = float(off.max()) if off.size else 1.0
    return lmax * ratio ** (np.arange(n_lambda) / (n_lambda - 1))


def _node_lasso(G: np.ndarray, j: int, lam: float, beta0: np.ndarray | None = None) -> np.ndarray:
    """gamma_j: lasso of column j on the others at ``lam`` (returns p-vector with gamma[j] = 0)."""
    p = G.shape[0]
    others = np.r_[0:j, j + 1:p]
    Gs = G[np.ix_(others, others)]
    b0 = None if beta0 is None else beta0[others]
    betas, _ = _lasso_gram(Gs, G[others, j], G[j, j], np.array([lam]), b0)
    gamma = np.zeros(p)
    gamma[others] = betas[0]
    return gamma


def _nodewise_cv_lambda(Xs: np.ndarray, folds: int, rng: np.random.Generator,
                        n_lambda: int = 50, chunk: int = 10, patience: int = 5,
                        progress: bool = False) -> tuple[float, pd.DataFrame]:
    """hdi's ``cv.nodewise.bestlambda``: one lambda for all nodewise regressions, minimising the
    K-fold CV error averaged over the p regressions (``lambda.min``).

    The grid is walked from the largest lambda down in chunks of ``chunk`` values, warm-started,
    and the walk stops once the error has been above its running minimum for ``patience``
    consecutive lambdas: the dense end of the grid, where the nodewise fits are most expensive,
    is only computed when the CV error is still falling there.  The returned table has the
    lambdas visited.
    """
    n, p = Xs.shape
    G = Xs.T @ Xs / n
    # glmnet's lambda_min_ratio rule for the nodewise regressions (p - 1 predictors): 1e-4 when
    # they have more rows than predictors, else 1e-2; the same density per decade either way
    ratio = 1e-4 if n > p - 1 else 1e-2
    grid = _nodewise_grid(G, n_lambda * (2 if ratio < 1e-2 else 1), ratio)
    fold = rng.permutation(np.arange(n) % folds)
    parts = []
    for f in range(folds):
        test = fold == f
        Xtr, Xte = Xs[~test], Xs[test]
        mu = Xtr.mean(axis=0)
        Xtr = Xtr - mu
        Xte = Xte - mu
        parts.append((Xtr.T @ Xtr / Xtr.shape[0], Xte))
    from ._parallel import Progress

    warm = np.zeros((folds, p, p))
    err = np.zeros((folds, grid.size))
    n_chunks = -(-grid.size // chunk)
    bar = Progress(folds * n_chunks, desc="nodewise CV", enabled=progress)
    done = 0
    while done < grid.size:
        sl = slice(done, min(done + chunk, grid.size))
        for f, (Gtr, Xte) in enumerate(parts):
            for j in range(p):
                others = np.r_[0:j, j + 1:p]
                betas, _ = _lasso_gram(Gtr[np.ix_(others, others)], Gtr[others, j], Gtr[j, j], grid[sl],
                                       beta0=warm[f, j, others], tol=1e-7)
                warm[f, j, others] = betas[-1]
                pred = Xte[:, others] @ betas.T
                err[f, sl] += ((Xte[:, [j]] - pred) ** 2).mean(axis=0)
            bar.update()
        done = sl.stop
        mean = err[:, :done].mean(axis=0)
        if done - 1 - int(np.argmin(mean)) >= patience:
            bar.update(bar.total - bar.done)
            break
    err = err[:, :done] / p
    mean = err.mean(axis=0)
    k = int(np.argmin(mean))
    if k == grid.size - 1:
        warnings.warn(f"the nodewise CV error is smallest at the end of its grid (lambda = {grid[k]:.3g}, "
                      "1% of the largest); give nodewise_lambda explicitly to go lower", InferenceWarning,
                      stacklevel=user_stacklevel())
    table = pd.DataFrame({"lambda": grid[:done], "cv_mean": mean,
                          "cv_se": err.std(axis=0, ddof=1) / math.sqrt(folds)})
    return float(grid[k]), table


def _variance_factor(Xs: np.ndarray, G: np.ndarray, lambdas: np.ndarray, warm: np.ndarray) -> np.ndarray:
    """hdi's ``calcM``: for each lambda, the mean over columns of ``||Z_j||^2 / (Z_j' x_j)^2`` (the
    desparsified variance of coefficient j in units of sigma^2, standardized scale), Z_j the residual
    of the nodewise lasso at that lambda.  ``warm`` (p x p, column j's start) is updated in place."""
    n, p = Xs.shape
    M = np.zeros(lambdas.size)
    use = np.flatnonzero(np.diag(G) > 0)              # constant columns (zeroed) have no variance factor
    for j in use:
        others = np.r_[0:j, j + 1:p]
        betas, _ = _lasso_gram(G[np.ix_(others, others)], G[others, j], G[j, j], lambdas,
                               beta0=warm[others, j], tol=1e-9)
        warm[others, j] = betas[-1]
        Z = Xs[:, [j]] - Xs[:, others] @ betas.T            # n x L
        with np.errstate(divide="ignore", invalid="ignore"):     # an interpolating fit: Z = 0, factor inf
            M += np.nan_to_num((Z * Z).sum(axis=0) / ((Z * Xs[:, [j]]).sum(axis=0)) ** 2, nan=np.inf)
    return M / max(use.size, 1)


def _nodewise_znz_lambda(Xs: np.ndarray, lam_cv: float, factor: float, chunk: int = 3
                         ) -> tuple[float, float, float]:
    """The Z&Z rule (Zhang & Zhang 2014; hdi's ``improve.lambda.pick``, ``do.ZnZ = TRUE``): the
    smallest nodewise lambda on the nodewise CV grid at which the average variance factor
    :func:`_variance_factor` is still below ``factor`` times its value at CV's ``lam_cv``, refined by
    ten log-spaced values between that grid point and the next one (hdi: 100 linear values).
    A smaller nodewise penalty leaves the nodewise residuals Z_j more nearly orthogonal to the other
    columns, which shrinks the bias term ``Z_j' X_-j (beta - b)_-j / Z_j' x_j`` of the one-step
    correction, at the price of a larger variance.

    The grid is walked down from ``lam_cv`` in warm-started chunks of ``chunk`` lambdas and the
    walk stops at the first lambda over the budget (the variance factor grows as the penalty falls,
    steeply once the nodewise fits approach interpolation when p > n; hdi computes it on the whole
    grid and takes the smallest lambda under the budget anywhere).

    Returns (lambda, M(lambda) / M(lam_cv), M(lam_cv)).
    """
    n, p = Xs.shape
    G = Xs.T @ Xs / n
    ratio = 1e-4 if n > p - 1 else 1e-2
    full = _nodewise_grid(G, 50 * (2 if ratio < 1e-2 else 1), ratio)
    grid = np.r_[lam_cv, full[full < lam_cv * (1 - 1e-12)]]
    warm = np.zeros((p, p))
    top = full[full > lam_cv * (1 + 1e-12)][::4]
    if top.size:                       # warm start at lam_cv: every fourth lambda of the path above it
        _variance_factor(Xs, G, top, warm)
    m_cv = float(_variance_factor(Xs, G, grid[:1], warm)[0])
    best, best_m = lam_cv, m_cv
    k = 1
    while k < grid.size:
        sl = grid[k:k + chunk]
        saved = warm.copy()
        M = _variance_factor(Xs, G, sl, warm)
        ok = M < factor * m_cv
        if ok.all():
            best, best_m = float(sl[-1]), float(M[-1])
            k += sl.size
            continue
        i = int(np.argmin(ok))                         # first lambda over the budget
        if i > 0:
            best, best_m = float(sl[i - 1]), float(M[i - 1])
        # refine between best and the first lambda over the budget
        warm = saved
        if i > 0:
            _variance_factor(Xs, G, sl[:i], warm)
        fine = np.exp(np.linspace(math.log(best), math.log(float(sl[i])), 12)[1:-1])
        Mf = _variance_factor(Xs, G, fine, warm)
        okf = Mf < factor * m_cv
        if okf[0]:
            last = int(np.argmin(okf)) - 1 if not okf.all() else fine.size - 1
            best, best_m = float(fine[last]), float(Mf[last])
        break
    return best, best_m / m_cv, m_cv


def nodewise_penalty(X: np.ndarray, rule: str, folds: int, rng: np.random.Generator, znz_factor: float,
                     details: dict[str, Any], progress: bool = False, on: str = "") -> float:
    """The nodewise lasso's penalty by ``rule`` ``"cv"`` or ``"znz"`` on the standardized columns of
    ``X`` (the gaussian design, or the GLM's weighted one: ``on`` says which in the rule's text);
    records the CV table, CV's lambda, the variance ratio and the rule's description in ``details``."""
    sd = np.sqrt((X * X).mean(axis=0))
    Xs = X / np.where(sd > 0, sd, 1.0)
    lam_nw, cvtab = _nodewise_cv_lambda(Xs, folds, rng, progress=progress)
    details["nodewise_cv"] = cvtab
    details["nodewise_lambda_cv"] = lam_nw
    details["nodewise_rule"] = f"{folds}-fold CV (lambda.min){on}"
    if rule == "znz":
        lam_cv = lam_nw
        lam_nw, ratio, _ = _nodewise_znz_lambda(Xs, lam_cv, znz_factor)
        details["nodewise_variance_ratio"] = ratio
        details["nodewise_rule"] = (f"Z&Z rule{on}, variance budget {znz_factor:g} x that at {folds}-fold CV's "
                                    f"lambda.min ({lam_nw / lam_cv:.3g} x lambda.min, variance x {ratio:.3g})")
    return lam_nw


def desparsified_lasso(X: np.ndarray, y: np.ndarray, beta: np.ndarray, *, sigma: float,
                       nodewise_lambda: float | np.ndarray | None = None, lam0: float | None = None,
                       progress: bool = False, se: str = "model") -> dict[str, np.ndarray]:
    """Array-level desparsified lasso.

    Parameters
    ----------
    X : (n, p) centred design (rows already multiplied by sqrt(weight)), original column scale.
    y : (n,) centred response (same row weighting).
    beta : (p,) initial estimate on the scale of ``X``.
    sigma : noise standard deviation.
    nodewise_lambda : penalty of each nodewise lasso on the standardized columns (one number or
        one per column), or None to use a scaled lasso per column with ``lam0``.
    lam0 : scaled-lasso level for the nodewise regressions (default ``sqrt(2 log(p) / n)``).
    progress : show a progress bar over the p nodewise regressions.
    se : ``"model"``, sigma ||Z_j|| / |Z_j'X_j| (van de Geer et al. 2014; hdi), or ``"linearized"``,
        sigma times the norm of the estimate's gradient in y with the initial fit's support S held
        fixed (:func:`linearized_variance`).

    Returns
    -------
    dict with ``estimate, std_error, Z`` (the nodewise residuals, standardized scale),
    ``tau`` (nodewise residual sds) and ``lambdas`` (the nodewise penalties used).
    """
    n, p = X.shape
    sd = np.sqrt((X * X).mean(axis=0))
    ok = sd > 0
    Xs = np.where(ok, X / np.where(ok, sd, 1.0), 0.0)
    G = Xs.T @ Xs / n
    if lam0 is None:
        lam0 = math.sqrt(2.0 * math.log(max(p, 2)) / n)
    lams = np.full(p, np.nan)
    if nodewise_lambda is not None:
        lams[:] = np.broadcast_to(np.asarray(nodewise_lambda, dtype=float), (p,))
    from ._parallel import Progress

    bar = Progress(p, desc="nodewise lasso", enabled=progress)
    Gamma = np.zeros((p, p))
    for j in range(p):
        bar.update()
        if not ok[j]:
            continue
        if nodewise_lambda is None:
            others = np.r_[0:j, j + 1:p]
            g, tau = _scaled_lasso_gram(G[np.ix_(others, others)], G[others, j], G[j, j], lam0)
            Gamma[others, j] = g
            lams[j] = tau * lam0
        else:
            Gamma[:, j] = _node_lasso(G, j, float(lams[j]))
    Z = Xs - Xs @ Gamma
    zx = (Z * X).sum(axis=0)                    # Z_j' X_j on the original column scale
    znorm = np.sqrt((Z * Z).sum(axis=0))
    r = y - X @ beta
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(ok, beta + (Z.T @ r) / zx, np.nan)
        if se == "linearized":
            unit = np.sqrt(linearized_variance(X, Z, zx, np.flatnonzero(beta)))
        else:
            unit = znorm / np.abs(zx)
        se_ = np.where(ok, sigma * unit, np.nan)
    tau = np.sqrt((Z * Z).mean(axis=0))
    return {"estimate": est, "std_error": se_, "Z": Z, "tau": tau, "lambdas": lams}


def aliased_columns(X: np.ndarray) -> np.ndarray:
    """Columns of a centred design with more rows than columns that are linear combinations of the
    others (with the intercept): those with a nonzero loading on the null space of the standardized
    design, the singular values below numpy's ``matrix_rank`` tolerance.  Their coefficients in the
    full model are not identifiable.  Empty (all False) when p >= n, where every column is one."""
    n, p = X.shape
    sd = np.sqrt((X * X).mean(axis=0))
    ok = sd > 0
    out = np.zeros(p, dtype=bool)
    if ok.sum() == 0 or ok.sum() >= n:
        return out
    Xs = X[:, ok] / sd[ok]
    _, d, Vt = np.linalg.svd(Xs, full_matrices=False)
    null = d <= d[0] * max(Xs.shape) * np.finfo(float).eps
    if null.any():
        out[np.flatnonzero(ok)] = np.abs(Vt[null]).max(axis=0) > 1e-6
    return out


def aliased_from_gram(G: np.ndarray, n: int) -> np.ndarray:
    """:func:`aliased_columns` from the Gram matrix ``G = Xs'Xs / n`` of the standardized columns
    (zero rows and columns for constant ones), as the dask path has it.  The Gram matrix squares the
    condition number, so its null space is the eigenvalues below 1e-12 of the largest (singular
    values below 1e-6 of the largest, against numpy's rank tolerance for the design itself)."""
    p = G.shape[0]
    ok = np.diag(G) > 0
    out = np.zeros(p, dtype=bool)
    if ok.sum() == 0 or ok.sum() >= n:
        return out
    w, V = np.linalg.eigh(G[np.ix_(ok, ok)])
    null = w <= w[-1] * 1e-12
    if null.any():
        out[np.flatnonzero(ok)] = np.abs(V[:, null]).max(axis=1) > 1e-6
    return out


def _drop_aliased(alias: np.ndarray, out: dict[str, np.ndarray], names: list[str], notes: list[str]) -> None:
    """No estimate or interval for columns that are linear combinations of others (R's lm: NA)."""
    if not alias.any():
        return
    out["estimate"] = np.where(alias, np.nan, out["estimate"])
    out["std_error"] = np.where(alias, np.nan, out["std_error"])
    cols = [names[j] for j in np.flatnonzero(alias)]
    text = (f"no interval for column(s) {cols[:10]}: together they are linearly dependent (with the "
            "intercept), so their coefficients in the full model are not identifiable; drop one of them "
            "from the formula")
    notes.append(text[0].upper() + text[1:] + ".")
    warnings.warn(text, InferenceWarning, stacklevel=user_stacklevel())


def linearized_variance(X: np.ndarray, Z: np.ndarray, zx: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Variance of each debiased estimate in units of sigma^2, by its gradient in y at a fixed lambda.

    Near the data the lasso keeps its support S and signs, and moves with y as least squares on
    X_S (Tibshirani & Taylor 2012): ``b_S(y) = (X_S'X_S)^{-1} X_S'y`` plus a term fixed by lambda and
    the signs.  The debiased estimate
    ``b_j + Z_j'(y - X b) / Z_j'X_j`` then has gradient

        a_j = Z_j'(I - P_S) / Z_j'X_j  +  [j in S] e_j'(X_S'X_S)^{-1} X_S',

    the two parts orthogonal, so ||a_j||^2 = ||(I - P_S) Z_j||^2 / (Z_j'X_j)^2 + [j in S] (X_S'X_S)^{-1}_jj.
    ``X`` is the centred (weighted) design on its original scale, ``Z`` the nodewise residuals and
    ``zx`` = Z_j'X_j; a rank-deficient X_S is handled by its pseudo-inverse.
    """
    support = np.asarray(support, dtype=np.intp)
    if support.size == 0:
        return (Z * Z).sum(axis=0) / zx ** 2
    U, d, Vt = np.linalg.svd(X[:, support], full_matrices=False)
    keep = d > d[0] * max(X.shape[0], support.size) * np.finfo(float).eps
    U, d, Vt = U[:, keep], d[keep], Vt[keep]
    RZ = Z - U @ (U.T @ Z)
    v = (RZ * RZ).sum(axis=0) / zx ** 2
    v[support] += ((Vt / d[:, None]) ** 2).sum(axis=0)
    return v


# ---------------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Inference:
    """Estimates, standard errors, intervals and p-values for one fit.

    Attributes
    ----------
    formula, lam, l1_ratio : the fit.
    method : ``"desparsified"``, ``"ridge"``, ``"selective"`` or ``"naive_refit"``.
    level : confidence level of the intervals.
    table : DataFrame indexed by term: ``estimate, std_error, statistic, p_value, ci_lower,
        ci_upper, p_holm, p_bh, method`` (and ``bias`` for ridge).
    sigma : the noise standard deviation used, and ``sigma_method`` how it was estimated.
    details : method-specific facts (nodewise penalties, degrees of freedom, ...).
    notes : what the numbers mean and do not mean.
    """

    formula: str
    lam: float
    l1_ratio: float
    method: str
    level: float
    table: pd.DataFrame
    sigma: float
    sigma_method: str
    details: Mapping[str, Any] = field(default_factory=dict, repr=False)
    notes: tuple[str, ...] = ()

    @property
    def estimate(self) -> pd.Series:
        return self.table["estimate"]

    @property
    def std_error(self) -> pd.Series:
        return self.table["std_error"]

    @property
    def p_value(self) -> pd.Series:
        return self.table["p_value"]

    def conf_int(self) -> pd.DataFrame:
        """``ci_lower, ci_upper`` indexed by term."""
        return self.table[["ci_lower", "ci_upper"]]

    def to_frame(self) -> pd.DataFrame:
        """Tidy: ``term, estimate, std_error, statistic, p_value, ci_lower, ci_upper, method,
        p_holm, p_bh`` (+ ``bias`` for ridge)."""
        df = self.table.reset_index()
        rest = [c for c in df.columns if c not in _COLUMNS]
        return df[_COLUMNS + rest]

    def summary(self) -> Summary:
        info = [("Formula", self.formula),
                ("Method", METHOD_LABELS[self.method]),
                ("lambda", f"{self.lam:.6g} (l1_ratio = {self.l1_ratio:g})"),
                ("Noise sd (sigma)", f"{self.sigma:.4g} ({self.sigma_method})"),
                ("Confidence level", f"{self.level:.0%}")]
        if "nodewise_lambda" in self.details:
            nl = np.asarray(self.details["nodewise_lambda"], dtype=float)
            info.append(("Nodewise lambda", f"{self.details.get('nodewise_rule', '')}: "
                         + (f"{np.nanmedian(nl):.4g}" if np.allclose(nl, nl[0], equal_nan=True)
                            else f"median {np.nanmedian(nl):.4g}")))
        tab = self.to_frame().drop(columns="method")
        return Summary(title=f"Inference: {METHOD_LABELS[self.method]}", info=info,
                       tables=[("Coefficients", tab)], notes=list(self.notes), index=False)

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        return f"<Inference {METHOD_LABELS[self.method]}: {len(self.table)} terms, level {self.level:g}>"


def _finish(names: list[str], est: np.ndarray, se: np.ndarray, level: float, method: str,
            extra: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    pval = 2 * stats.norm.sf(np.abs(stat))
    tab = pd.DataFrame({"estimate": est, "std_error": se, "statistic": stat, "p_value": pval,
                        "ci_lower": est - z * se, "ci_upper": est + z * se,
                        "method": METHOD_LABELS[method]}, index=pd.Index(names, name="term"))
    _adjust(tab)
    for k, v in (extra or {}).items():
        tab[k] = v
    return tab


def holm(pvals: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values: ``max_{k<=i} min(1, (m - k + 1) p_(k))`` in sorted order.

    The same numbers as ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]`` (the
    tests check it); computed here because that branch of statsmodels calls ``gc.collect()`` on
    every call, which costs seconds in a session holding many objects.
    """
    p = np.asarray(pvals, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def _adjust(tab: pd.DataFrame) -> None:
    """Holm and Benjamini–Hochberg adjusted p-values over the non-intercept rows."""
    from statsmodels.stats.multitest import multipletests

    tab["p_holm"] = np.nan
    tab["p_bh"] = np.nan
    use = tab["p_value"].notna() & (tab.index != "Intercept")
    if use.any():
        pv = tab.loc[use, "p_value"].to_numpy()
        tab.loc[use, "p_holm"] = holm(pv)
        tab.loc[use, "p_bh"] = multipletests(pv, method="fdr_bh")[1]


# ---------------------------------------------------------------------------------------------
# the methods
# ---------------------------------------------------------------------------------------------
def _centred(fit: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centred, sqrt(weight)-weighted design on the original column scale, response, coefficients."""
    prep = fit.path._prep
    Xc = prep.X * prep.x_scale[None, :]
    Xc[:, prep.constant] = 0.0
    beta = fit.coef.to_numpy(dtype=float)
    return Xc, prep.y, beta


def _initial(fit: Any, initial: str, folds: int, cv_seed: Any) -> tuple[np.ndarray, str, float]:
    """The desparsified lasso's initial estimator: (coefficients on the original scale, description, lambda)."""
    if initial == "fit":
        return fit.coef.to_numpy(dtype=float), f"the fit's coefficients (lambda = {fit.lam:.4g})", float(fit.lam)
    cvres = fit.path.cv(folds=folds, seed=cv_seed)
    lam = float(cvres.lambda_min)
    init = fit.path.at(lam)
    return init.coef.to_numpy(dtype=float), f"{folds}-fold CV lambda_min = {lam:.4g} on the same path", lam


def _thin(dfres: int, n: int) -> bool:
    """The initial fit leaves too few residual degrees of freedom for its residuals (sigma) or its
    support's projection (the linearized se) to mean much."""
    return dfres < max(5, n // 10)


def _se_in_use(se: str, dfres: int, n: int, l1_ratio: float) -> str:
    """The desparsified standard error used for ``se``: the linearized one needs a lasso initial fit
    (an elastic net's fitted values are not a projection on its support) with enough residual df."""
    return "model" if se == "linearized" and (_thin(dfres, n) or l1_ratio < 1) else se


def _desparsified(fit: Any, level: float, sigma: Any, nodewise_lambda: Any, folds: int, seed: Any,
                  lam0: float | None, progress: bool = False, initial: str = "cv",
                  znz_factor: float = ZNZ_FACTOR, se: str = "linearized") -> Inference:
    Xc, yc, _ = _centred(fit)
    n, p = Xc.shape
    names = list(fit.path.column_names)
    initial = check.choice("initial", initial, ("cv", "fit"))
    se = check.choice("se", se, ("linearized", "model"))
    root = check.seed_sequence(seed)
    cv_ss, nw_ss, rcv_ss = root.spawn(3)
    beta, init_text, init_lam = _initial(fit, initial, folds, cv_ss)
    lam0_ = math.sqrt(2.0 * math.log(max(p, 2)) / n) if lam0 is None else float(lam0)
    dfres = n - int(np.count_nonzero(beta)) - int(fit.path.intercept)
    thin = _thin(dfres, n)
    details: dict[str, Any] = {}
    # noise level
    if sigma is None:
        sigma = "rcv" if n >= RCV_MIN_ROWS else "residual"
    if sigma == "rcv":
        from ._parallel import rng_of

        if n < RCV_MIN_ROWS:
            raise ParameterError(f"sigma='rcv' needs at least {RCV_MIN_ROWS} rows (two halves to select and refit "
                                 f"on); the fit has {n}")
        sig, rcv = refitted_cv_sigma(fit.path._model, fit.path.lambdas, folds, rng_of(rcv_ss))
        details.update(rcv)
        sig_text = (f"refitted cross-validation (Fan, Guo & Hao 2012): the lasso at {folds}-fold CV lambda_min "
                    "selects on one half of the rows, least squares on the other half, both ways "
                    f"({rcv['rcv_selected'][0]} and {rcv['rcv_selected'][1]} columns)")
    elif isinstance(sigma, str):
        sig_rule = check.choice("sigma", sigma, ("rcv", "residual", "scaled_lasso"))
        r = yc - Xc @ beta
        if sig_rule == "residual" and thin:
            sig_rule = "scaled_lasso"
            lam0_sig = lam0_quantile(n, p)
            fallback = (f" (the initial fit leaves {dfres} residual degrees of freedom, too few for "
                        "RSS / (n - nonzero - 1))")
        else:
            lam0_sig = lam0_ if lam0 is not None else lam0_quantile(n, p)
            fallback = ""
        if sig_rule == "scaled_lasso":
            sd = np.sqrt((Xc * Xc).mean(axis=0))
            Xs = Xc / np.where(sd > 0, sd, 1.0)
            _, sig = scaled_lasso(Xs, yc, lam0_sig)
            sig_text = f"scaled lasso, lam0 = {lam0_sig:.4g}" + fallback
        else:
            sig = math.sqrt(float(r @ r) / dfres)
            sig_text = (f"residuals of the initial fit, RSS / (n - nonzero - {int(fit.path.intercept)}) "
                        "(Reid, Tibshirani & Friedman 2016)")
    else:
        sig = check.real_in("sigma", sigma, 0.0, np.inf, lo_open=True)
        sig_text = "given"
    se_used = _se_in_use(se, dfres, n, fit.l1_ratio)
    details["se"] = se_used
    # nodewise penalty
    if isinstance(nodewise_lambda, str):
        rule = check.choice("nodewise_lambda", nodewise_lambda, ("znz", "cv", "scaled"))
        if rule in ("cv", "znz"):
            from ._parallel import rng_of

            lam_nw = nodewise_penalty(Xc, rule, folds, rng_of(nw_ss), znz_factor, details, progress)
            out = desparsified_lasso(Xc, yc, beta, sigma=sig, nodewise_lambda=lam_nw, progress=progress,
                                     se=se_used)
        else:
            out = desparsified_lasso(Xc, yc, beta, sigma=sig, nodewise_lambda=None, lam0=lam0_,
                                     progress=progress, se=se_used)
            details["nodewise_rule"] = f"scaled lasso per column, lam0 = {lam0_:.4g}"
    else:
        lam_nw = check.real_in("nodewise_lambda", nodewise_lambda, 0.0, np.inf, lo_open=True)
        out = desparsified_lasso(Xc, yc, beta, sigma=sig, nodewise_lambda=lam_nw, progress=progress, se=se_used)
        details["nodewise_rule"] = "given"
    details["nodewise_lambda"] = out["lambdas"]
    details["tau"] = out["tau"]
    details["initial"] = init_text
    details["initial_lambda"] = init_lam
    notes = ["Debiased estimates b + Z'r / Z'X (van de Geer et al. 2014); intervals and p-values are "
             "asymptotically valid for sparse truths, also when p > n.",
             f"Initial estimator b: {init_text}" + (" (hdi's default; not the fit's lambda, whose heavier "
                                                    "shrinkage leaves more bias than the debiasing removes)"
                                                    if initial == "cv" else "") + "."]
    if details.get("nodewise_variance_ratio") is not None:
        notes.append("Nodewise penalty: the Z&Z rule (Zhang & Zhang 2014; hdi's do.ZnZ) lowers CV's nodewise lambda "
                     "to remove the bias the correction leaves for nonzero coefficients; the intervals are wider "
                     f"(average variance x {details['nodewise_variance_ratio']:.3g}) and cover them.")
    if se_used == "linearized":
        notes.append(f"Standard errors by linearization: how much each debiased estimate moves with y while the "
                     f"initial fit keeps its {n - dfres - int(fit.path.intercept)} selected columns (Tibshirani & "
                     "Taylor 2012); unlike sigma ||Z_j|| / |Z_j'X_j| they count the noise that fit absorbs along "
                     "those columns.")
    elif se == "linearized" and fit.l1_ratio < 1:
        notes.append("Standard errors: sigma ||Z_j|| / |Z_j'X_j| (van de Geer et al. 2014); the linearization on "
                     "the initial fit's support is derived for lasso fits, where the fit moves with y as least "
                     "squares on its support.")
    elif se == "linearized":
        notes.append(f"Standard errors: sigma ||Z_j|| / |Z_j'X_j| (van de Geer et al. 2014), not linearized on the "
                     f"initial fit's support, which leaves only {dfres} residual degrees of freedom.")
    if fit.l1_ratio < 1:
        notes.append(f"The fit is not a lasso (l1_ratio = {fit.l1_ratio:g}); it is used as the initial "
                     "estimator, for which the theory is less developed.")
    bad = [names[j] for j in np.flatnonzero(~np.isfinite(out["std_error"]))]
    if bad:
        warnings.warn(f"no interval for constant column(s) {bad[:10]}: they have no variance in the rows used",
                      InferenceWarning, stacklevel=user_stacklevel())
    _drop_aliased(aliased_columns(Xc), out, names, notes)
    tab = _finish(names, out["estimate"], out["std_error"], level, "desparsified")
    return Inference(formula=fit.formula, lam=float(fit.lam), l1_ratio=float(fit.l1_ratio),
                     method="desparsified", level=level, table=tab, sigma=float(sig), sigma_method=sig_text,
                     details=details, notes=tuple(notes))


def _ridge(fit: Any, level: float, sigma: Any) -> Inference:
    if fit.l1_ratio != 0:
        raise ParameterError(f"method='ridge' needs a ridge fit (l1_ratio=0); got l1_ratio={fit.l1_ratio:g}")
    prep = fit.path._prep
    n = prep.n
    X = prep.X
    keep = ~prep.constant
    names = list(fit.path.column_names)
    Xk = X[:, keep]
    pen = n * engine.ridge_weight(prep, fit.lam, 0.0) * prep.v[keep]   # n lam v / s_y
    XtX = Xk.T @ Xk
    A = np.linalg.inv(XtX + np.diag(pen))
    b = A @ (Xk.T @ prep.y)
    H = Xk @ A @ Xk.T
    df_fit = float(np.trace(H))
    df_res = n - int(prep.intercept) - float(np.trace(2 * H - H @ H.T))
    r = prep.y - Xk @ b
    if isinstance(sigma, str):
        check.choice("sigma", sigma, ("residual", "scaled_lasso"))
        if sigma == "scaled_lasso":
            sd = np.sqrt((Xk * Xk).mean(axis=0))
            _, sig = scaled_lasso(Xk / sd, prep.y)
            sig_text = "scaled lasso, lam0 = sqrt(2 log(p) / n)"
        else:
            if df_res <= 0:
                raise ParameterError("sigma must be given or 'scaled_lasso' when the ridge fit leaves no residual "
                                     f"degrees of freedom; got n - 1 - tr(2H - HH') = {df_res:.3g}")
            sig = math.sqrt(float(r @ r) / df_res)
            sig_text = "ridge residuals, RSS / (n - 1 - tr(2H - HH'))"
    else:
        sig = check.real_in("sigma", sigma, 0.0, np.inf, lo_open=True)
        sig_text = "given"
    cov = sig ** 2 * A @ XtX @ A
    scale = prep.x_scale[keep]
    se = np.full(len(names), np.nan)
    est = np.zeros(len(names))
    bias = np.full(len(names), np.nan)
    se[keep] = np.sqrt(np.diag(cov)) / scale
    est[keep] = b / scale
    bias[keep] = -(A @ (pen * b)) / scale
    tab = _finish(names, est, se, level, "ridge", extra={"bias": bias})
    notes = ["Ridge estimates are biased toward zero: E(b) - beta = -(n lam / s_y) A V beta, "
             "A = (X'X + (n lam / s_y) V)^-1, s_y the response's sd. "
             "The 'bias' column plugs the ridge estimate in for beta, which understates the bias; intervals "
             "and p-values are centred on the shrunken estimate and do not have nominal coverage.",
             f"Effective degrees of freedom tr(H) = {df_fit:.3f}."]
    return Inference(formula=fit.formula, lam=float(fit.lam), l1_ratio=0.0, method="ridge", level=level,
                     table=tab, sigma=float(sig), sigma_method=sig_text,
                     details={"df": df_fit, "df_resid": df_res}, notes=tuple(notes))


def lam0_quantile(n: int, p: int) -> float:
    """The scaled lasso's ``lam0 = "quantile"`` of Sun & Zhang (2013), as R's ``scalreg``:
    ``sqrt(2 / n) L`` with L the damped fixed point of ``L = -qnorm(min(k / p, 0.99))``,
    ``k = L^4 + 2 L^2`` (``L = 0.5`` when p = 1)."""
    from .ic import _scaled_lasso_lam0

    return _scaled_lasso_lam0(n, p)


def _selective_sigma(X: np.ndarray, y: np.ndarray, intercept: bool, sigma: Any) -> tuple[float, str]:
    """fixedLassoInf's sigma: given, or the full least-squares residual sd when n >= 2p; for
    p > n/2 the scaled lasso (quantile lam0), consistent under sparsity (fixedLassoInf would use sd(y))."""
    n, p = X.shape
    if sigma is not None and not isinstance(sigma, str):
        return check.real_in("sigma", sigma, 0.0, np.inf, lo_open=True, hi_open=True), "given"
    if sigma is not None:
        check.choice("sigma", sigma, ("auto",))
    if n >= 2 * p:
        coef, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
        r = y - X @ coef
        dof = n - rank - int(intercept)
        return math.sqrt(float(r @ r) / dof), f"full least-squares residuals, RSS / (n - {rank} - {int(intercept)})"
    sd = np.sqrt((X * X).mean(axis=0))
    Xs = X / np.where(sd > 0, sd, 1.0)
    l0 = lam0_quantile(n, p)
    _, sig = scaled_lasso(Xs, y, l0)
    return float(sig), (f"scaled lasso, quantile lam0 = {l0:.4g} (Sun & Zhang 2013), because p > n/2 "
                        "(the full least-squares residual sd needs n >= 2p)")


def _selective(fit: Any, level: float, sigma: Any) -> Inference:
    from . import selective

    if fit.l1_ratio != 1:
        raise ParameterError(f"method='selective' needs a lasso fit (l1_ratio=1); got l1_ratio={fit.l1_ratio:g}")
    prep = fit.path._prep
    names = list(fit.path.column_names)
    X, y = prep.X, prep.y
    n = prep.n
    usable = ~prep.constant
    beta = np.asarray(fit._beta, dtype=float)
    sel_pen = usable & (beta != 0) & (prep.v > 0)
    if not sel_pen.any():
        raise ParameterError(f"fit must select at least one penalized column for method='selective'; got an "
                             f"empty model at lambda = {fit.lam:.4g}")
    if int((usable & ((beta != 0) | (prep.v == 0))).sum()) >= n - int(prep.intercept):
        raise ParameterError(f"fit must select fewer columns than rows for method='selective'; got "
                             f"{int(sel_pen.sum())} columns and {n} rows")
    sig, sig_text = _selective_sigma(X[:, usable], y, prep.intercept, sigma)
    out = selective.fixed_lasso_inference(X, y, beta, n * float(fit.lam), prep.v, sig, level, usable)
    act = out["active"]
    scale = prep.x_scale[act]
    rel = out["violation"] / max(n * float(fit.lam), 1e-300)
    if rel > 1e-4:
        warnings.warn(f"the fit breaks its own selection event by {rel:.2g} of n * lambda (solver tolerance); "
                      "refit with a smaller tol for exact truncation limits", InferenceWarning, stacklevel=4)
    est = out["estimate"] / scale
    se = out["sd"] / scale
    tab = pd.DataFrame({"estimate": est, "std_error": se, "statistic": est / se, "p_value": out["p_value"],
                        "ci_lower": out["ci_lower"] / scale, "ci_upper": out["ci_upper"] / scale,
                        "method": METHOD_LABELS["selective"]},
                       index=pd.Index([names[j] for j in act], name="term"))
    _adjust(tab)
    tab["trunc_lower"] = out["vlo"] / scale
    tab["trunc_upper"] = out["vup"] / scale
    tab["sign"] = out["signs"]
    notes = [f"Selective inference (Lee, Sun, Sun & Taylor 2016; R selectiveInference::fixedLassoInf) for the "
             f"{act.size} columns the lasso selected at lambda = {fit.lam:.4g} (fixedLassoInf's lambda = "
             f"n * lambda = {n * fit.lam:.4g}). Estimate: the least-squares coefficient on the selected "
             "columns; the interval covers the coefficient of the best linear fit of the mean on those columns "
             "(not a coefficient of the full model) with the stated probability, conditional on the selected set "
             "and signs. P-values are two-sided, 2 min(F, 1 - F) of the truncated-Gaussian pivot (fixedLassoInf "
             "reports the one-sided value in the direction of the sign).",
             "Valid at a lambda fixed in advance; with lambda chosen by cross-validation on the same data the "
             "conditioning ignores that choice.",
             "Unselected columns have no row. trunc_lower, trunc_upper: the truncation limits of the estimate."]
    if not np.isfinite(tab[["ci_lower", "ci_upper"]].to_numpy()).all():
        notes.append("An infinite interval end means the data are compatible with any value on that side once "
                     "the selection is accounted for (the estimate sits at its truncation limit).")
    return Inference(formula=fit.formula, lam=float(fit.lam), l1_ratio=1.0, method="selective", level=level,
                     table=tab, sigma=float(sig), sigma_method=sig_text,
                     details={"lambda_sum_scale": n * float(fit.lam), "violation": out["violation"]},
                     notes=tuple(notes))


class NaiveInferenceWarning(InferenceWarning):
    """The intervals ignore that the columns were selected on the same data."""


def _naive_refit(fit: Any, level: float) -> Inference:
    import statsmodels.api as sm

    path = fit.path
    names = list(path.column_names)
    sel = [j for j, c in enumerate(names) if fit.coef.iloc[j] != 0]
    X = path._design.X[:, sel]
    y = path._design.y
    cols = [names[j] for j in sel]
    if path.intercept:
        X = np.column_stack([np.ones(len(y)), X])
        cols = ["Intercept"] + cols
    if X.shape[1] == 0:
        raise ParameterError("fit must select at least one column for method='naive_refit'; got an empty model")
    if X.shape[1] >= X.shape[0]:
        raise ParameterError(f"fit must select fewer columns than rows for method='naive_refit'; got "
                             f"{X.shape[1]} columns and {X.shape[0]} rows")
    w = path._options.weights
    model = sm.WLS(y, X, weights=w) if w is not None else sm.OLS(y, X)
    res = model.fit()
    ci = np.asarray(res.conf_int(alpha=1 - level))
    tab = pd.DataFrame({"estimate": np.asarray(res.params), "std_error": np.asarray(res.bse),
                        "statistic": np.asarray(res.tvalues), "p_value": np.asarray(res.pvalues),
                        "ci_lower": ci[:, 0], "ci_upper": ci[:, 1],
                        "method": METHOD_LABELS["naive_refit"]}, index=pd.Index(cols, name="term"))
    _adjust(tab)
    warnings.warn("method='naive_refit' treats the selected columns as fixed in advance: its intervals are "
                  "too narrow and its p-values too small after the lasso chose them on the same data; use "
                  "method='selective' (conditional on the selection) or 'desparsified'", NaiveInferenceWarning,
                  stacklevel=4)
    notes = [f"Naive: OLS (statsmodels, t distribution) on the {len(sel)} columns selected at lambda = "
             f"{fit.lam:.4g}, as if they had been chosen in advance. The selection used the same data, so the "
             "intervals are too narrow and the p-values too small (a selected null coefficient is covered far "
             "less than the nominal rate); use method='selective' or 'desparsified' for valid ones."]
    if len(sel) < len(names):
        notes.append(f"{len(names) - len(sel)} unselected column(s) have no row.")
    return Inference(formula=fit.formula, lam=float(fit.lam), l1_ratio=float(fit.l1_ratio),
                     method="naive_refit", level=level, table=tab, sigma=float(np.sqrt(res.scale)),
                     sigma_method="OLS residuals of the selected model", details={"df_resid": float(res.df_resid)},
                     notes=tuple(notes))


def infer(fit: Any, method: Literal["desparsified", "ridge", "selective", "naive_refit"] = "desparsified",
          level: float = 0.95, *, sigma: str | float | None = None, initial: str = "cv",
          nodewise_lambda: str | float = "znz", folds: int = 10, seed: Any = None,
          lam0: float | None = None, progress: bool = False, znz_factor: float = ZNZ_FACTOR,
          se: str = "linearized") -> Inference:
    """Confidence intervals and p-values for a penalized fit.

    Parameters
    ----------
    fit : Fit
        ``path.at(lam)``.
    method : {"desparsified", "ridge", "selective", "naive_refit"}
        ``"desparsified"``: the debiased lasso, intervals for every coefficient.
        ``"ridge"``: exact standard errors of a ridge fit (biased; needs l1_ratio=0).
        ``"selective"``: lasso fits only; intervals for the selected coefficients, conditional on
        the selected set and signs at the fit's lambda (Lee et al. 2016, R's ``fixedLassoInf``).
        ``"naive_refit"``: OLS on the selected columns as if chosen in advance; not valid after
        selection (warns).  See the module documentation.
    level : float
        Confidence level of the intervals.
    sigma : None, str or float
        Noise sd.  None is each method's default: desparsified, ``"rcv"``, refitted
        cross-validation (Fan, Guo & Hao 2012: the lasso selects on one half of the rows, least
        squares on the other half estimates the variance, both ways; ``"residual"`` below 20 rows);
        ridge, ``"residual"``; selective, the full least-squares residual sd when n >= 2p, else the
        scaled lasso with the quantile lam0.  For desparsified, ``"residual"`` is the residuals of
        the initial fit, ``RSS / (n - nonzero - 1)`` (Reid, Tibshirani & Friedman 2016; hdi's
        choice), or the scaled lasso with scalreg's quantile lam0 when that fit leaves fewer than
        max(5, n/10) residual degrees of freedom.  ``"residual"`` and ``"scaled_lasso"`` choose for
        desparsified and ridge (the scaled lasso with ``lam0``, default the quantile lam0 for
        desparsified); a number is used as given.  Ignored by ``"naive_refit"`` (OLS residuals).
    initial : {"cv", "fit"}
        Desparsified only: the initial estimator.  ``"cv"`` (default, hdi's ``lasso.proj``): the
        lasso at ``folds``-fold CV's lambda_min on the fit's path; ``"fit"``: the fit's own
        coefficients.
    nodewise_lambda : {"znz", "cv", "scaled"} or float
        Desparsified only: penalty of the nodewise lasso regressions on the standardized columns;
        ``"cv"`` is one lambda for all of them minimising their ``folds``-fold CV error (``hdi``'s
        ``lasso.proj`` default); ``"znz"`` (default) starts there and takes the smallest lambda
        whose average variance factor is below ``znz_factor`` times CV's (hdi's ``do.ZnZ = TRUE``,
        there with 1.25); ``"scaled"`` a scaled lasso per column with ``lam0``.
    folds, seed : CV folds and seed for the initial CV and the nodewise CV (``"cv"``, ``"znz"``).
    lam0 : scaled-lasso level of the nodewise regressions (default ``sqrt(2 log(p) / n)``).
    progress : show progress bars for the nodewise CV and the nodewise regressions.
    znz_factor : float >= 1
        Variance budget of ``nodewise_lambda="znz"``: the average variance of the debiased
        estimates may grow to this multiple of its value at CV's nodewise lambda (default 3, chosen
        by simulation, docs/uncertainty.md; 1 gives CV's lambda).
    se : {"linearized", "model"}
        Desparsified only: ``"linearized"`` (default), sigma times the norm of the debiased
        estimate's gradient in y with the initial fit's selected columns held fixed (it accounts for
        the noise the initial fit absorbs along them; the model-based one when that fit leaves fewer
        than max(5, n/10) residual degrees of freedom, or is not a lasso: l1_ratio < 1);
        ``"model"``, sigma ||Z_j|| / |Z_j'X_j|
        (van de Geer et al. 2014; hdi's ``lasso.proj``).  The two agree when the nodewise
        regressions are nearly least squares (n well above p).

    Returns
    -------
    Inference

    Examples
    --------
    >>> import regstats as rs
    >>> fit = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate")).at(0.05)
    >>> inf = fit.inference(seed=1)
    >>> list(inf.to_frame().columns)[:8]
    ['term', 'estimate', 'std_error', 'statistic', 'p_value', 'ci_lower', 'ci_upper', 'method']
    >>> sel = fit.inference(method="selective")
    >>> sel.method
    'selective'
    """
    if method == "post_selection":
        raise ParameterError("method must be 'selective' (valid after the lasso selected) or 'naive_refit' (OLS "
                             "on the selected columns, not valid after selection); got 'post_selection', the "
                             "old name of 'naive_refit'")
    method = check.choice("method", method, _METHODS)
    level = check.real_in("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
    folds = check.positive_int("folds", folds, 2)
    if lam0 is not None:
        lam0 = check.real_in("lam0", lam0, 0.0, np.inf, lo_open=True)
    if method == "desparsified":
        znz_factor = check.real_in("znz_factor", znz_factor, 1.0, np.inf, hi_open=True)
        return _desparsified(fit, level, sigma, nodewise_lambda, folds, seed, lam0, bool(progress), initial,
                             znz_factor, se)
    if method == "ridge":
        return _ridge(fit, level, "residual" if sigma is None else sigma)
    if method == "selective":
        return _selective(fit, level, sigma)
    return _naive_refit(fit, level)


# ---------------------------------------------------------------------------------------------
# Fit.summary(bootstrap=..., inference=...)
# ---------------------------------------------------------------------------------------------
_SUMMARY_NAME = {"desparsified": "debiased", "ridge": "ridge_estimate", "selective": "ls_selected",
                 "naive_refit": "ols_estimate"}


def fit_summary_parts(fit: Any, bootstrap: Any = None, inference: Any = None
                      ) -> tuple[pd.DataFrame, list[tuple[str, str]], list[str]]:
    """The coefficient table, extra header lines and notes of ``Fit.summary`` when bootstrap
    and/or inference results of that fit are passed in.

    Columns: ``term, estimate`` (penalized), then ``selection_freq`` (bootstrap), then the
    inference estimate (``debiased`` for the desparsified lasso), ``ci_lower, ci_upper, p_value``.
    """
    from .bootstrap import Bootstrap

    table = fit.to_frame().set_index("term")
    info: list[tuple[str, str]] = []
    notes = ["estimate: the penalized coefficient, biased toward zero."]
    for name, res, cls in (("bootstrap", bootstrap, Bootstrap), ("inference", inference, Inference)):
        if res is None:
            continue
        if not isinstance(res, cls):
            raise ParameterError(f"{name} must be a {cls.__name__} result (from fit.{name}()); "
                                 f"got {type(res).__name__}")
        if res.formula != fit.formula or not np.isclose(res.lam, fit.lam, rtol=1e-10, atol=0.0):
            raise ParameterError(f"{name} must be computed from this fit (lambda = {fit.lam:.6g}); "
                                 f"got a result for lambda = {res.lam:.6g}")
    if bootstrap is not None:
        table["selection_freq"] = bootstrap.selection_freq.reindex(table.index)
        info.append(("Bootstrap", f"{bootstrap.n_boot} pairs-bootstrap replicates "
                                  f"(lambda {bootstrap.lam_mode})"))
        notes.append("selection_freq: share of bootstrap replicates in which the coefficient is nonzero.")
    if inference is not None:
        t = inference.table
        est = _SUMMARY_NAME[inference.method]
        table[est] = t["estimate"].reindex(table.index)
        table["ci_lower"] = t["ci_lower"].reindex(table.index)
        table["ci_upper"] = t["ci_upper"].reindex(table.index)
        table["p_value"] = t["p_value"].reindex(table.index)
        info.append(("Inference", f"{METHOD_LABELS[inference.method]}, {inference.level:.0%} intervals"))
        notes.extend(inference.notes)
    return table.reset_index(), info, notes
