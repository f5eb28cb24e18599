"""Unpenalized refits on the active sets of a penalized path: least squares (gaussian) or maximum
likelihood (binomial, Poisson, :mod:`regstats.glm_ml`), each distinct set solved once.

The relaxed lasso (:mod:`regstats.relaxed`) blends them with the penalized fits, and relaxed
cross-validation (:mod:`regstats.cv`) refits them in every fold.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import engine
from .errors import ParameterError

__all__ = ["relaxed_refit"]


def _ols_beta(prep: engine.Prepared, beta: np.ndarray) -> np.ndarray:
    """Least squares on the active sets of the rows of ``beta`` (prepared scale), cached by set."""
    out = np.zeros_like(beta)
    cache: dict[bytes, np.ndarray] = {}
    for k in range(beta.shape[0]):
        act = beta[k] != 0
        if not act.any():
            continue
        key = act.tobytes()
        if key not in cache:
            Xa = prep.X[:, act]
            cache[key], *_ = np.linalg.lstsq(Xa, prep.y, rcond=None)
        out[k, act] = cache[key]
    return out


def relaxed_refit(prep: Any, beta: np.ndarray, fallback: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Original-scale coefficients (n_lambda x p) and intercepts of the active-set refits: least
    squares, or maximum likelihood for a binomial / Poisson problem (``fallback``, the penalized
    (coef, intercept), where that has no finite solution; zeros when not given)."""
    if not isinstance(prep, engine.Prepared):
        return _ml_refit(prep, beta, fallback)[:2]
    b = _ols_beta(prep, beta)
    coef = b / prep.x_scale[None, :]
    b0 = prep.y_mean - coef @ prep.x_mean if prep.intercept else np.zeros(b.shape[0])
    return coef, b0


def _ml_refit(prep: Any, beta: np.ndarray, fallback: tuple[np.ndarray, np.ndarray] | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximum likelihood on each distinct active set of ``beta``'s rows (cached by set):
    (coef, intercepts, rows with no finite refit, which take ``fallback``'s values)."""
    from .glm_ml import ml_fit_arrays

    X = prep.raw_rows
    L, p = beta.shape
    coef, b0 = np.zeros((L, p)), np.zeros(L)
    failed = np.zeros(L, dtype=bool)
    cache: dict[bytes, tuple[np.ndarray, float] | None] = {}
    for k in range(L):
        act = (beta[k] != 0) & ~prep.constant
        key = act.tobytes()
        if key not in cache:
            try:
                est, _, _ = ml_fit_arrays(X[:, act], prep.y, prep.w, prep.offset, prep.intercept,
                                          prep.family.name)
                cache[key] = (est[int(prep.intercept):], float(est[0]) if prep.intercept else 0.0)
            except ParameterError:      # separation, or more columns than rows
                cache[key] = None
        got = cache[key]
        if got is None:
            failed[k] = True
            if fallback is not None:
                coef[k], b0[k] = fallback[0][k], fallback[1][k]
            continue
        coef[k, act], b0[k] = got
    return coef, b0, failed
