"""The noise level of a linear model by refitted cross-validation (Fan, Guo & Hao 2012).

The residuals of a lasso fit underestimate sigma when p > n: the columns the lasso selects are
partly those most correlated with the noise, so they absorb more of it than their number says
("spurious correlation"), and RSS / (n - nonzero - 1) comes out low -- by 2% on average at n = 100,
p = 200 in ``reports/coverage.md``, and by 10% in the data sets where cross-validation picks a
small lambda.  Refitted cross-validation separates the two uses of the data: the rows are split
into two halves at random; the lasso (lambda by ``folds``-fold CV inside the half, ``lambda_min``)
selects columns on one half, and a least-squares fit of the *other* half on those columns gives
an unbiased residual variance, since that half's noise played no part in the selection.  The two
halves swap roles, and sigma^2 is the average of the two variances.

When a half's selection leaves the other half fewer than ``max(5, n_half / 10)`` residual degrees
of freedom, the largest model on the half's lambda grid that leaves them is used instead (Fan, Guo &
Hao ask for a selected model small against n / 2).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import engine
from .rowfits import cv_choose

__all__ = ["refitted_cv_sigma", "RCV_MIN_ROWS"]

#: below this many rows the halves are too small to select and refit on (the callers fall back)
RCV_MIN_ROWS = 20


def _selected(model: engine.Model, rows: np.ndarray, lambdas: np.ndarray, folds: int,
              rng: np.random.Generator, limit: int) -> np.ndarray:
    """Columns the lasso selects on ``rows`` at CV's lambda_min inside them, at most ``limit``."""
    k, sol = cv_choose(model, rows, lambdas, folds, "min", rng)
    nz = np.count_nonzero(sol.coef, axis=1)
    if nz[k] > limit:
        ok = np.flatnonzero(nz[: k + 1] <= limit)
        if ok.size == 0:
            return np.zeros(0, dtype=np.intp)
        k = int(ok[-1])
    return np.flatnonzero(sol.coef[k])


def _refit_variance(model: engine.Model, rows: np.ndarray, cols: np.ndarray, w: np.ndarray) -> tuple[float, int]:
    """Weighted least squares of ``rows`` on ``cols`` (and the intercept): (RSS / residual df, df)."""
    X = np.asarray(model.X)[np.ix_(rows, cols)]
    if model.intercept:
        X = np.column_stack([np.ones(rows.size), X])
    sw = np.sqrt(w[rows])
    A = X * sw[:, None]
    b = np.asarray(model.y, dtype=float)[rows] * sw
    coef, _, rank, _ = np.linalg.lstsq(A, b, rcond=None)
    r = b - A @ coef
    dfres = rows.size - int(rank)
    return float(r @ r) / dfres, dfres


def refitted_cv_sigma(model: engine.Model, lambdas: np.ndarray, folds: int,
                      rng: np.random.Generator) -> tuple[float, dict[str, Any]]:
    """Refitted cross-validation's sigma for ``model``'s rows (lasso selection on its grid ``lambdas``).

    Returns sigma and a dict with each half's selected-model size and residual degrees of
    freedom.  Needs at least :data:`RCV_MIN_ROWS` rows.
    """
    n = model.n
    w = np.ones(n) if model.weights is None else np.asarray(model.weights, dtype=float)
    w = w * (n / w.sum())
    perm = rng.permutation(n)
    halves = (np.sort(perm[: n // 2]), np.sort(perm[n // 2:]))
    var, sizes, dfs = [], [], []
    for a, b in ((0, 1), (1, 0)):
        keep = max(5, halves[b].size // 10)
        limit = halves[b].size - keep - int(model.intercept)
        cols = _selected(model, halves[a], lambdas, min(folds, halves[a].size), rng, limit)
        v, dfres = _refit_variance(model, halves[b], cols, w)
        var.append(v)
        sizes.append(int(cols.size))
        dfs.append(dfres)
    return math.sqrt(0.5 * (var[0] + var[1])), {"rcv_selected": sizes, "rcv_df_resid": dfs}
