"""Unpenalized binomial and Poisson maximum likelihood (as R's ``glm``) on arrays.

The relaxed lasso's refits on an active set and the reports' ML column use it.  IRLS (Newton's
method on the log-likelihood) with step halving, from the intercept-only fit; separation (no finite
maximum) is a :class:`Separation` error rather than a fit with huge coefficients.
"""
from __future__ import annotations

import numpy as np

from .errors import ParameterError
from .family import family_of

__all__ = ["Separation", "ml_fit_arrays"]


class Separation(ParameterError):
    """Maximum likelihood has no finite solution (separated classes, or an all-zero count pattern)."""


def ml_fit_arrays(X: np.ndarray, y: np.ndarray, w: np.ndarray | None, offset: np.ndarray | None, intercept: bool,
          family: str, max_iter: int = 100, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray, float]:
    """Unpenalized binomial / Poisson maximum likelihood by IRLS with step halving.

    Returns (coef incl. intercept first, standard errors from the inverse Fisher information,
    deviance ratio).  Raises :class:`Separation` when the likelihood keeps rising toward an
    infinite coefficient (fitted probabilities reaching 0 or 1, or means reaching 0).
    """
    fam = family_of(family)
    n = X.shape[0]
    w = np.ones(n) if w is None else np.asarray(w, float) * n / np.sum(w)
    off = np.zeros(n) if offset is None else np.asarray(offset, float)
    A = np.column_stack([np.ones(n), X]) if intercept else X
    k = A.shape[1]
    if k > n:
        raise ParameterError(f"maximum likelihood needs at most n = {n} columns; got {k}")
    beta = np.zeros(k)
    if intercept:
        beta[0] = _null_intercept(y, w, off, family)
    d0 = fam.deviance(y, fam.mean(A @ beta + off), w)      # the null model's deviance

    def dev(b: np.ndarray) -> float:
        return fam.deviance(y, fam.mean(A @ b + off), w)

    d = d0
    converged = False
    for _ in range(max_iter):
        mu = fam.mean(A @ beta + off)
        q = w * fam.variance(mu)
        H = A.T @ (A * q[:, None])
        g = A.T @ (w * (y - mu))
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        t = 1.0
        while True:
            new = beta + t * step
            d_new = dev(new)
            if np.isfinite(d_new) and d_new <= d + 1e-12 * abs(d):
                break
            t /= 2
            if t < 1e-10:
                new, d_new = beta, d
                break
        beta, d_old, d = new, d, d_new
        if abs(d_old - d) <= tol * (abs(d) + 0.1):
            converged = True
            break
    eta = A @ beta + off
    mu = fam.mean(eta)
    if family == "binomial":
        extreme = np.abs(eta).max() > 30.0
    else:
        extreme = eta.min() < -30.0
    if not converged or extreme:
        raise Separation("no finite maximum-likelihood estimate: "
                          + ("the classes are (quasi-)separated by the columns (fitted probabilities reach 0 or 1)"
                             if family == "binomial" else "some expected counts go to 0 (a column pattern with only "
                                                          "zero counts)")
                          + "; the penalized fits above are finite")
    q = w * fam.variance(mu)
    H = A.T @ (A * q[:, None])
    rank = np.linalg.matrix_rank(H)
    se = np.sqrt(np.diag(np.linalg.inv(H))) if rank == k else np.full(k, np.nan)
    return beta, se, (1.0 - d / d0 if d0 > 0 else 0.0)


def _null_intercept(y: np.ndarray, w: np.ndarray, off: np.ndarray, family: str) -> float:
    """The intercept-only maximum-likelihood intercept (with the offset), by Newton's method."""
    fam = family_of(family)
    b = 0.0
    for _ in range(100):
        mu = fam.mean(b + off)
        g = float(np.sum(w * (y - mu)))
        h = float(np.sum(w * fam.variance(mu)))
        step = g / h
        b += step
        if abs(step) < 1e-12:
            break
    return b
