"""Ridge path from one SVD: exact at every lambda, no iteration.

For the prepared problem  min 1/(2n)||y - X b||^2 + lam/2 ||b||^2  with X = U diag(d) V',
b(lam) = V diag(d / (d^2 + n lam)) U'y  and  df(lam) = sum d^2 / (d^2 + n lam).
This is the textbook form; ``regstats.engine.kernel_penalty`` maps the user's ``(lam, l1_ratio)``,
whose ridge part is divided by s_y (docs/conventions.md), onto it (for ridge, lam here = lam / s_y).

Singular values below ``max(n, p) eps d_max`` (numpy's rank rule) count as 0: their directions are
rounding noise of a rank-deficient design, and at lam = 0 (or a tiny lam) keeping them would give
coefficients of order 1/eps instead of the minimum-norm solution.
"""
from __future__ import annotations

import numpy as np


def ridge_svd(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD (U, d, Vt) of the prepared design, singular values below the rank cutoff set to 0."""
    U, d, Vt = np.linalg.svd(X, full_matrices=False)
    return U, cut_singular(d, max(X.shape)), Vt


def cut_singular(d: np.ndarray, m: int) -> np.ndarray:
    """Singular values with those at most ``m eps max(d)`` set to 0 (numpy's ``matrix_rank`` rule)."""
    if d.size == 0:
        return d
    return np.where(d > d.max() * m * np.finfo(float).eps, d, 0.0)


def ridge_path_svd(U: np.ndarray, d: np.ndarray, Vt: np.ndarray, y: np.ndarray,
                   lambdas: np.ndarray) -> np.ndarray:
    """Coefficients (n_lambda x p) of the ridge path."""
    n = U.shape[0]
    uty = U.T @ y
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = np.where(d[None, :] > 0, d[None, :] / (d[None, :] ** 2 + n * lambdas[:, None]), 0.0)
    return (shrink * uty[None, :]) @ Vt


def ridge_df_svd(d: np.ndarray, lambdas: np.ndarray, n: int) -> np.ndarray:
    """Effective degrees of freedom sum d^2/(d^2 + n lam) at each lambda."""
    d2 = d ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(d2[None, :] > 0, d2[None, :] / (d2[None, :] + n * np.asarray(lambdas)[:, None]), 0.0)
    return f.sum(axis=1)


def ridge_path_gram(G: np.ndarray, c: np.ndarray, lambdas: np.ndarray) -> np.ndarray:
    """Ridge path from the eigen-decomposition of G = X'X/n and c = X'y/n (for n >> p).

    b(lam) = V diag(1 / (e + lam)) V'c with G = V diag(e) V'.
    """
    e, V = np.linalg.eigh(G)
    e = np.maximum(e, 0.0)
    # eigenvalues within G's rounding (p eps max e) are a rank deficiency, not a direction
    e = np.where(e > (e.max() if e.size else 0.0) * 10 * G.shape[0] * np.finfo(float).eps, e, 0.0)
    vc = V.T @ c
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(e[None, :] > 0, 1.0 / (e[None, :] + np.asarray(lambdas)[:, None]), 0.0)
    return (f * vc[None, :]) @ V.T
