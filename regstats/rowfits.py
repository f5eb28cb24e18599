"""One model refitted on a subset of its rows: at one lambda, along its grid, or at a lambda chosen
by cross-validation inside the rows.

Arrays only (an :class:`regstats.engine.Model` and row indices), so the tasks pickle cheaply to
joblib workers.  :mod:`regstats.bootstrap` refits each replicate with them, and
:mod:`regstats.noise` the halves of refitted cross-validation.
"""
from __future__ import annotations

import numpy as np

from . import engine
from .folds import cv_stats, make_folds, select_lambdas

__all__ = ["coef_at", "coef_row", "cv_choose"]


def coef_at(model: engine.Model, rows: np.ndarray, lam: float, beta0: np.ndarray) -> np.ndarray:
    """Coefficients (intercept first when the model has one) refitted on ``rows`` at one lambda.

    One lambda from a warm start is cheapest with the residual-based kernel (O(n p) per pass):
    forming the Gram matrix alone costs O(n p^2), so the rows are prepared without it
    (``gram=False``; nor the 16-bit copy, which only a path's gradient passes use) and
    solved by the naive kernel (the tests check the result against
    ``Path._refit`` and scikit-learn).  Ridge uses the engine's exact SVD solve.
    """
    lams = np.array([lam])
    if model.l1_ratio == 0:
        sol = model.solve(model.prepare(rows), lams)
    else:
        sol = model.solve(model.prepare(rows, gram=False, compact=False), lams, beta0=beta0, method="naive",
                          exact=False)
    return coef_row(sol, 0, model.intercept)


def coef_row(sol: engine.Solution, k: int, intercept: bool) -> np.ndarray:
    return np.concatenate([[sol.intercept[k]], sol.coef[k]]) if intercept else sol.coef[k].copy()


def cv_choose(ref: engine.Model, rows: np.ndarray, lambdas: np.ndarray, folds: int, rule: str,
              rng: np.random.Generator) -> tuple[int, engine.Solution]:
    """Grouped K-fold CV inside ``rows`` (a bootstrap replicate, or one half of the data), with
    :mod:`regstats.folds`' fold dealing and cv.glmnet statistics (docs/conventions.md).

    The copies of a resampled row form one group, so they are never split between the training
    and the test part of a fold (which would leak the test rows into training).  Returns the
    chosen grid index and the path refitted on all of ``rows``.
    """
    k = min(folds, np.unique(rows).size)
    foldid = make_folds(rows.size, k, rng, groups=rows)
    raw = np.empty((rows.size, lambdas.size))
    for f in np.unique(foldid):
        test = foldid == f
        sol = ref.solve(ref.prepare(rows[~test]), lambdas)
        pred = ref.predict_rows(rows[test], sol.coef, sol.intercept)
        fam = getattr(ref, "family", None)       # binomial / Poisson models: cv.glmnet's deviance
        if fam is None:
            raw[test] = (ref.y[rows[test]][:, None] - pred) ** 2
        else:
            from .glm_cv import row_losses

            raw[test] = row_losses(fam, ref.y[rows[test]], fam.mean(pred), "deviance")
    w = None if ref.weights is None else ref.weights[rows]
    mean, se, _, _ = cv_stats(raw, foldid, w)
    i_min, i_1se = select_lambdas(lambdas, mean, se)
    full = ref.solve(ref.prepare(rows), lambdas)
    return (i_1se if rule == "1se" else i_min), full
