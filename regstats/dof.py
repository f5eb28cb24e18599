"""Effective degrees of freedom of penalized linear fits (DESIGN.md section 3.2).

The intercept is never counted (as glmnet's ``df``).  On the prepared scale (centred, scaled,
rows multiplied by sqrt(weight)) with G = X'X/n:

* lasso (``l1_ratio = 1``): the number of nonzero coefficients, an unbiased estimate of df
  (Zou, Hastie & Tibshirani 2007);
* elastic net: ``trace((G_AA + lam (1 - a) V_A)^{-1} G_AA)`` on the active set A
  (Tibshirani & Taylor 2012), which is ``trace(X_A (X_A'WX_A + W lam (1-a) V_A)^{-1} X_A'W)``;
* ridge (``l1_ratio = 0``, all penalty factors equal): ``sum_j d_j^2 / (d_j^2 + n lam)`` from the
  singular values d of the prepared design.

Unpenalized columns (penalty factor 0) count fully, through the same trace.
"""
from __future__ import annotations

import numpy as np

from . import solver
from .engine import Prepared, _uniform_penalty


def df_at(prep: Prepared, beta: np.ndarray, lam: float, l1_ratio: float) -> float:
    """Effective degrees of freedom of the fit ``beta`` (prepared scale) at one lambda."""
    active = np.flatnonzero(beta != 0)
    if l1_ratio == 1.0:
        return float(active.size)
    if active.size == 0:
        return 0.0
    Xa = prep.X[:, active]
    Gaa = (Xa.T @ Xa) / prep.n
    M = Gaa + np.diag(lam * (1.0 - l1_ratio) * prep.v[active])
    try:
        return float(np.trace(np.linalg.solve(M, Gaa)))
    except np.linalg.LinAlgError:
        return float(np.trace(np.linalg.pinv(M) @ Gaa))


def df_path(prep: Prepared, beta: np.ndarray, lambdas: np.ndarray, l1_ratio: float) -> np.ndarray:
    """Effective degrees of freedom at every lambda of a solved path (rows of ``beta``)."""
    lambdas = np.asarray(lambdas, dtype=float)
    if l1_ratio == 1.0:
        return (beta != 0).sum(axis=1).astype(float)
    if l1_ratio == 0.0 and _uniform_penalty(prep):
        keep = ~prep.constant
        d = np.linalg.svd(prep.X[:, keep], compute_uv=False)
        v0 = prep.v[keep][0]
        return solver.ridge_df_svd(d, lambdas * v0, prep.n)
    return np.array([df_at(prep, beta[k], lam, l1_ratio) for k, lam in enumerate(lambdas)])
