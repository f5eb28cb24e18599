"""Calibration and discrimination of binomial and Poisson fits: binned calibration, ROC curve, AUC.

Arrays in, DataFrames out.  The report uses the out-of-fold predictions of the cross-validation
(each row predicted by the fold fit that did not see it); :func:`cv_means` turns a CV result's
out-of-fold linear predictors into means at one lambda.

* :func:`calibration_table` — rows sorted by predicted mean and cut into bins of (nearly) equal
  size; per bin the mean prediction, the observed mean (a proportion for binomial) and a 95%
  interval for the observed mean (Wilson's score interval for a proportion; mean ± 1.96 sd/sqrt(n)
  for counts).  A calibrated model has observed ≈ predicted in every bin.
* :func:`roc_curve` — true- and false-positive rates at every distinct threshold of the scores,
  weighted; a response that is a proportion (``weights`` = trials) counts ``w y`` as positive and
  ``w (1 - y)`` as negative weight.
* :func:`auc` — the area under that curve: the weighted probability that a positive scores above
  a negative, ties counting one half (the Mann-Whitney statistic; cv.glmnet's ``type.measure="auc"``
  per fold).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError

__all__ = ["calibration_table", "roc_curve", "auc", "cv_means", "lambda_index"]

_Z = 1.959963984540054


def _arrays(y: Any, pred: Any, weights: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).ravel()
    pred = np.asarray(pred, dtype=float).ravel()
    if y.shape != pred.shape:
        raise ParameterError(f"y and the predictions must have the same length; got {y.size} and {pred.size}")
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != y.shape:
        raise ParameterError(f"weights must have one entry per row ({y.size}); got {w.size}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(pred)) and np.all(np.isfinite(w))):
        raise DataError("y, predictions and weights must be finite")
    return y, pred, w


def calibration_table(y: Any, pred: Any, weights: Any = None, *, bins: int = 10,
                      family: str = "binomial") -> pd.DataFrame:
    """Binned calibration: ``bin, n, pred_min, pred_max, predicted, observed, obs_lower, obs_upper``.

    Rows are sorted by ``pred`` and cut into ``bins`` groups of (nearly) equal size (fewer when
    there are fewer than 5 rows per bin).  ``predicted`` and ``observed`` are weighted means of the
    predictions and of ``y`` in the bin; ``obs_lower`` / ``obs_upper`` a 95% interval for the
    observed mean: Wilson's score interval for a binomial proportion (with the bin's row count), or
    mean ± 1.96 sd / sqrt(n) for a Poisson count.
    """
    y, pred, w = _arrays(y, pred, weights)
    if family not in ("binomial", "poisson"):
        raise ParameterError(f"family must be one of 'binomial', 'poisson'; got {family!r}")
    bins = int(bins)
    if bins < 1:
        raise ParameterError(f"bins must be an integer >= 1; got {bins}")
    n = y.size
    k = max(1, min(bins, n // 5))
    order = np.argsort(pred, kind="stable")
    rows = []
    for b, idx in enumerate(np.array_split(order, k), start=1):
        wb, yb, pb = w[idx], y[idx], pred[idx]
        sw = wb.sum()
        obs = float(wb @ yb / sw) if sw > 0 else np.nan
        m = idx.size
        if family == "binomial":
            p = min(max(obs, 0.0), 1.0)
            den = 1.0 + _Z ** 2 / m
            centre = (p + _Z ** 2 / (2 * m)) / den
            half = _Z * np.sqrt(p * (1 - p) / m + _Z ** 2 / (4 * m * m)) / den
            lo, hi = centre - half, centre + half
        else:
            sd = float(np.sqrt(wb @ (yb - obs) ** 2 / sw)) if sw > 0 else np.nan
            half = _Z * sd / np.sqrt(m)
            lo, hi = max(obs - half, 0.0), obs + half
        rows.append({"bin": b, "n": int(m), "pred_min": float(pb.min()), "pred_max": float(pb.max()),
                     "predicted": float(wb @ pb / sw) if sw > 0 else np.nan, "observed": obs,
                     "obs_lower": float(lo), "obs_upper": float(hi)})
    return pd.DataFrame(rows)


def _pos_neg(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if np.any((y < 0) | (y > 1)):
        raise DataError("a ROC curve needs a 0/1 (or proportion) response; got values outside [0, 1]")
    return w * y, w * (1.0 - y)


def roc_curve(y: Any, score: Any, weights: Any = None) -> pd.DataFrame:
    """``threshold, fpr, tpr``: the ROC curve from (0, 0) to (1, 1), one point per distinct score
    (predicting positive when the score is >= the threshold)."""
    y, s, w = _arrays(y, score, weights)
    pos, neg = _pos_neg(y, w)
    P, N = pos.sum(), neg.sum()
    if P <= 0 or N <= 0:
        raise DataError("a ROC curve needs both classes (positive and negative weight)")
    order = np.argsort(-s, kind="stable")
    s, pos, neg = s[order], pos[order], neg[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]     # the last row of each distinct score
    tp, fp = np.cumsum(pos)[last], np.cumsum(neg)[last]
    return pd.DataFrame({"threshold": np.r_[np.inf, s[last]], "fpr": np.r_[0.0, fp / N],
                         "tpr": np.r_[0.0, tp / P]})


def auc(y: Any, score: Any, weights: Any = None) -> float:
    """Area under the ROC curve (trapezoids between the distinct scores, so ties count one half)."""
    roc = roc_curve(y, score, weights)
    return float(np.trapezoid(roc["tpr"].to_numpy(), roc["fpr"].to_numpy()))


def lambda_index(cv: Any, lam: str | float) -> int:
    """Position on the CV grid of ``"min"``, ``"1se"`` or the grid lambda nearest a number."""
    if isinstance(lam, str):
        key = lam.replace("lambda.", "").replace("lambda_", "")
        if key not in ("min", "1se"):
            raise ParameterError(f"lam must be 'min', '1se' or a number; got {lam!r}")
        return int(cv.index_min if key == "min" else cv.index_1se)
    lams = np.asarray(cv.table["lambda"], dtype=float)
    return int(np.argmin(np.abs(np.log(lams) - np.log(float(lam)))))


def cv_means(cv: Any, lam: str | float = "1se", repeat: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, out-of-fold mean, weights) of a binomial or Poisson CV result at one lambda of its grid.

    The CV's out-of-fold predictions of a GLM are linear predictors (offset included); the means
    are their inverse link.  ``y`` is the response as fitted (0/1 for binomial), ``weights`` the
    fit's observation weights (ones when none).
    """
    from ..family import family_of

    path = cv.path
    if path.family == "gaussian":
        raise ParameterError("calibration and ROC are for binomial and Poisson models; this path is gaussian")
    k = lambda_index(cv, lam)
    eta = np.asarray(cv.oof_predictions[repeat])[:, k]
    mu = family_of(path.family).mean(eta)
    w = path._options.weights
    y = np.asarray(path._design.y, dtype=float)
    return y, mu, (np.ones_like(y) if w is None else np.asarray(w, dtype=float))
