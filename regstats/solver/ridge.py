"""Ridge path from one SVD: exact at every lambda, no iteration.

For the prepared problem  min 1/(2n)||y - X b||^2 + lam/2 ||b||^2  with X = U diag(d) V',
b(lam) = V diag(d / (d^2 + n lam)) U'y  and  df(lam) = sum d^2 / (d^2 + n lam).
"""
from __future__ import annotations

import numpy as np


def ridge_svd(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD (U, d, Vt) of the prepared design."""
    U, d, Vt = np.linalg.svd(X, full_matrices=False)
    return U, d, Vt


def ridge_path_svd(U: np.ndarray, d: np.ndarray, Vt: np.ndarray, y: np.ndarray,
                   lambdas: np.ndarray) -> np.ndarray:
    """Coefficients (n_lambda x p) of the ridge path."""
    n = U.shape[0]
    uty = U.T @ y
    shrink = d[None, :] / (d[None, :] ** 2 + n * lambdas[:, None])
    return (shrink * uty[None, :]) @ Vt


def ridge_df_svd(d: np.ndarray, lambdas: np.ndarray, n: int) -> np.ndarray:
    """Effective degrees of freedom sum d^2/(d^2 + n lam) at each lambda."""
    d2 = d ** 2
    return (d2[None, :] / (d2[None, :] + n * np.asarray(lambdas)[:, None])).sum(axis=1)


def ridge_path_gram(G: np.ndarray, c: np.ndarray, lambdas: np.ndarray) -> np.ndarray:
    """Ridge path from the eigen-decomposition of G = X'X/n and c = X'y/n (for n >> p).

    b(lam) = V diag(1 / (e + lam)) V'c with G = V diag(e) V'.
    """
    e, V = np.linalg.eigh(G)
    e = np.maximum(e, 0.0)
    vc = V.T @ c
    return (vc[None, :] / (e[None, :] + np.asarray(lambdas)[:, None])) @ V.T
