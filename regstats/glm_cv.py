"""Cross-validation of binomial and Poisson paths on arrays: cv.glmnet's losses and statistics.

Each fold refits the path (the full data's lambdas) on the other folds, standardizing on them, and
predicts the held-out means ``mu``.  Per-row losses, as cv.glmnet computes them:

* ``"deviance"``: the unit deviance d(y, mu) (binomial means clipped to [1e-5, 1 - 1e-5]);
* ``"mse"``, ``"mae"``: squared and absolute error of mu; for the binomial family cv.glmnet sums
  them over the two columns of its class-indicator response, so they are twice the usual ones;
* ``"class"`` (binomial): misclassification at mu = 0.5;
* ``"auc"`` (binomial): one area under the ROC curve per fold (weighted Mann-Whitney), not per row.

The statistics are cv.glmnet's grouped ones (:func:`regstats.cv.cv_stats`); for ``"auc"`` larger
is better, so lambda_min maximises it and lambda_1se is the largest lambda within one standard
error of the best.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ParameterError
from .family import BINOMIAL, Family
from .folds import _combine, cv_stats, select_lambdas
from .glm import glm_path

__all__ = ["GLMCV", "glm_cross_validate", "held_out_means", "cv_of_means", "fold_stats", "row_losses", "weighted_auc"]

LOSSES = {"binomial": ("deviance", "class", "auc", "mse", "mae"), "poisson": ("deviance", "mse", "mae")}


@dataclass(frozen=True)
class GLMCV:
    lambdas: np.ndarray
    cv_mean: np.ndarray
    cv_se: np.ndarray
    lambda_min: float
    lambda_1se: float
    loss: str


def row_losses(fam: Family, y: np.ndarray, mu: np.ndarray, loss: str) -> np.ndarray:
    """Per-row losses (n x n_lambda) of held-out means ``mu`` (n x n_lambda)."""
    y = np.asarray(y, dtype=float)[:, None]
    if fam is BINOMIAL:
        mu = np.clip(mu, 1e-5, 1.0 - 1e-5)
        if loss == "class":
            return np.where(mu >= 0.5, 1.0 - y, y)
        if loss == "mse":
            return 2.0 * (y - mu) ** 2
        if loss == "mae":
            return 2.0 * np.abs(y - mu)
    elif loss == "mse":
        return (y - mu) ** 2
    elif loss == "mae":
        return np.abs(y - mu)
    return fam.unit_deviance(y, mu)


def weighted_auc(y: np.ndarray, score: np.ndarray, w: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for 0/1 ``y`` with weights: the weighted probability
    that a positive scores above a negative, ties counting one half."""
    pos, neg = y == 1, y == 0
    wp, wn = w[pos], w[neg]
    if wp.sum() <= 0 or wn.sum() <= 0:
        return np.nan
    order = np.argsort(score[neg], kind="stable")
    sn, cw = score[neg][order], np.concatenate([[0.0], np.cumsum(wn[order])])
    below = cw[np.searchsorted(sn, score[pos], side="left")]
    tied = cw[np.searchsorted(sn, score[pos], side="right")] - below
    return float(wp @ (below + 0.5 * tied)) / (wp.sum() * wn.sum())


def held_out_means(X: np.ndarray, y: np.ndarray, family: Family, foldid: np.ndarray, lambdas: np.ndarray, *,
                   l1_ratio: float = 1.0, weights: np.ndarray | None = None, offset: np.ndarray | None = None,
                   penalty_factor: np.ndarray | None = None, standardize: bool = True, intercept: bool = True,
                   tol: float = 1e-7) -> np.ndarray:
    """The held-out means (n x n_lambda): each fold's rows predicted by the path fitted on the others."""
    n = len(y)
    y = np.asarray(y, dtype=float)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    lambdas = np.asarray(lambdas, dtype=float)
    mu = np.empty((n, len(lambdas)))
    for k in np.unique(foldid):
        te = foldid == k
        tr = ~te
        sol = glm_path(X[tr], y[tr], family, weights=w[tr], offset=off[tr], penalty_factor=penalty_factor,
                       standardize=standardize, intercept=intercept, l1_ratio=l1_ratio, lambdas=lambdas,
                       tol=tol)
        mu[te] = family.mean(X[te] @ sol.coef.T + sol.intercept[None, :] + off[te, None])
    return mu


def _check_loss(family: Family, loss: str) -> None:
    if loss not in LOSSES.get(family.name, ()):
        raise ParameterError(f"loss must be one of {', '.join(map(repr, LOSSES.get(family.name, ())))} for the "
                             f"{family.name} family; got {loss!r}")


def fold_stats(family: Family, y: np.ndarray, mu: np.ndarray, foldid: np.ndarray, loss: str = "deviance",
               weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``cv_mean, cv_se, fold_errors (K x n_lambda), fold_weights (K)`` of held-out means ``mu``
    (n x n_lambda), cv.glmnet's grouped statistics (for ``"auc"`` one AUC per fold)."""
    _check_loss(family, loss)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    if loss != "auc":
        return cv_stats(row_losses(family, y, mu, loss), foldid, w)
    ks = np.unique(foldid)
    fold_auc = np.array([[weighted_auc(y[foldid == k], mu[foldid == k, j], w[foldid == k])
                          for j in range(mu.shape[1])] for k in ks])
    fw = np.array([w[foldid == k].sum() for k in ks])
    mean, se = _combine(fold_auc, fw)
    return mean, se, fold_auc, fw


def cv_of_means(family: Family, y: np.ndarray, mu: np.ndarray, foldid: np.ndarray, lambdas: np.ndarray,
                loss: str = "deviance", weights: np.ndarray | None = None) -> GLMCV:
    """cv.glmnet's statistics and choices from held-out means (see the module docstring)."""
    lambdas = np.asarray(lambdas, dtype=float)
    mean, se, _, _ = fold_stats(family, y, mu, foldid, loss, weights)
    i_min, i_1se = select_lambdas(lambdas, -mean if loss == "auc" else mean, se)
    return GLMCV(lambdas=lambdas, cv_mean=mean, cv_se=se, lambda_min=float(lambdas[i_min]),
                 lambda_1se=float(lambdas[i_1se]), loss=loss)


def glm_cross_validate(X: np.ndarray, y: np.ndarray, family: Family, foldid: np.ndarray, lambdas: np.ndarray, *,
                       loss: str = "deviance", weights: np.ndarray | None = None, **kw) -> GLMCV:
    """K-fold CV of a GLM path with fold labels ``foldid`` (see the module docstring); ``kw`` are
    :func:`held_out_means`' options."""
    _check_loss(family, loss)          # before the fold fits
    mu = held_out_means(X, y, family, foldid, lambdas, weights=weights, **kw)
    return cv_of_means(family, y, mu, foldid, lambdas, loss, weights)
