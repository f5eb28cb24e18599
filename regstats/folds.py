"""Cross-validation's arithmetic, below any path: the losses of each family, fold assignment,
``cv.glmnet``'s grouped fold statistics and its lambda choices (docs/cv.md).

Arrays in, arrays out; :mod:`regstats.cv` (paths), :mod:`regstats.glm_cv` (binomial and Poisson
held-out means), :mod:`regstats.bootstrap` and the reports share them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _validate as check

__all__ = ["losses", "loss_name", "make_folds", "cv_stats", "select_lambdas"]


_LOSS_NAMES = {"mse": "Mean-Squared Error", "mae": "Mean Absolute Error", "class": "Misclassification Error",
               "auc": "AUC (area under the ROC curve; larger is better)"}
#: the losses of each family; the first is the default
_FAMILY_LOSSES = {"gaussian": ("mse", "mae"), "binomial": ("deviance", "class", "auc", "mse", "mae"),
                  "poisson": ("deviance", "mse", "mae")}


def losses(family: str = "gaussian") -> tuple[str, ...]:
    """The CV losses of a family (``"gaussian"``, ``"binomial"``, ``"poisson"``); the first is the default."""
    return _FAMILY_LOSSES[family]


def loss_name(loss: str, family: str = "gaussian") -> str:
    """The measure's name as reports print it (cv.glmnet's names)."""
    if loss == "deviance":
        return f"{family.capitalize()} Deviance"
    return _LOSS_NAMES[loss]


def _check_loss(loss: Any, family: str) -> str:
    allowed = _FAMILY_LOSSES[family]
    if loss is None:
        return allowed[0]
    return check.choice("loss", loss, allowed)


def make_folds(n: int, folds: int, rng: np.random.Generator, groups: np.ndarray | None = None,
               strata: np.ndarray | None = None) -> np.ndarray:
    """Fold labels 1..folds for ``n`` rows.

    Without groups this is cv.glmnet's ``sample(rep(seq(folds), length = n))``: fold sizes differ
    by at most one.  With ``strata`` (e.g. the classes of a binomial response) the rows of each
    stratum, in random order, are dealt to the folds in turn (continuing across strata), so every
    fold holds each stratum in proportion and fold sizes still differ by at most one.  With
    ``groups``, whole groups are dealt to folds: groups in random order, largest first (stable),
    each to the fold with the fewest rows so far, so a group's rows never straddle folds and fold
    sizes stay balanced.
    """
    if strata is not None:
        _, codes = np.unique(strata, return_inverse=True)
        order = np.concatenate([rng.permutation(np.flatnonzero(codes.ravel() == c)) for c in range(codes.max() + 1)])
        start = int(rng.integers(folds))
        out = np.empty(n, dtype=np.int64)
        out[order] = (start + np.arange(n)) % folds + 1
        return out
    if groups is None:
        return rng.permutation(np.arange(n) % folds) + 1
    levels, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    order = rng.permutation(len(levels))
    order = order[np.argsort(-counts[order], kind="stable")]
    load = np.zeros(folds)
    fold_of_level = np.empty(len(levels), dtype=np.int64)
    for g in order:
        k = int(np.argmin(load))
        fold_of_level[g] = k + 1
        load[k] += counts[g]
    return fold_of_level[inverse.ravel()]


def _loss(y: np.ndarray, pred: np.ndarray, loss: str) -> np.ndarray:
    r = y[:, None] - pred
    return r * r if loss == "mse" else np.abs(r)


def cv_stats(raw: np.ndarray, foldid: np.ndarray, weights: np.ndarray | None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """cv.glmnet's grouped statistics from per-row losses ``raw`` (n x n_lambda).

    Returns ``cv_mean, cv_se, fold_errors (K x n_lambda), fold_weights (K)``.
    """
    w = np.ones(raw.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    ks = np.unique(foldid)
    fold_err = np.empty((len(ks), raw.shape[1]))
    fold_w = np.empty(len(ks))
    for i, k in enumerate(ks):
        m = foldid == k
        wk = w[m]
        fold_w[i] = wk.sum()
        fold_err[i] = (wk @ raw[m]) / fold_w[i] if fold_w[i] > 0 else np.nan
    mean, se = _combine(fold_err, fold_w)
    return mean, se, fold_err, fold_w


def _combine(fold_err: np.ndarray, fold_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cv.glmnet's ``cv_mean`` and ``cv_se`` from fold losses and fold weights."""
    ok = fold_w > 0
    W = fold_w[ok].sum()
    mean = (fold_w[ok] @ fold_err[ok]) / W
    K = int(ok.sum())
    se = np.sqrt((fold_w[ok] @ (fold_err[ok] - mean) ** 2) / W / (K - 1))
    return mean, se


def select_lambdas(lambdas: np.ndarray, cv_mean: np.ndarray, cv_se: np.ndarray) -> tuple[int, int]:
    """Indices of lambda_min (largest lambda attaining the minimum) and lambda_1se (largest lambda
    within one standard error of the minimum), glmnet's ``getOptcv.glmnet``."""
    lambdas = np.asarray(lambdas)
    cmin = np.nanmin(cv_mean)
    i_min = int(np.flatnonzero(cv_mean <= cmin)[np.argmax(lambdas[cv_mean <= cmin])])
    bound = cv_mean[i_min] + cv_se[i_min]
    cand = np.flatnonzero(cv_mean <= bound)
    i_1se = int(cand[np.argmax(lambdas[cand])])
    return i_min, i_1se
