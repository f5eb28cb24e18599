"""Model selection without refits: information criteria along a path, and ridge leave-one-out / GCV.

Information criteria (Gaussian likelihood with noise variance ``sigma2`` fixed at an estimate, as
scikit-learn's ``LassoLarsIC`` and Zou, Hastie & Tibshirani 2007), at each lambda with weighted
residual sum of squares ``RSS`` (weights normalised to sum n) and ``k = df + 1`` parameters
(``df`` the effective degrees of freedom of docs/conventions.md, plus the intercept)::

    AIC = n log(2 pi sigma2) + RSS / sigma2 + 2 k
    BIC = n log(2 pi sigma2) + RSS / sigma2 + log(n) k
    Cp  = RSS / n + 2 k sigma2 / n                    (Mallows, on the prediction-error scale)
    GCV = (RSS / n) / (1 - k / n)^2                   (needs no sigma2; infinite when k >= n)

The noise variance (``sigma2=``):

* ``"ols"``: residual variance of the least-squares fit on all columns, ``RSS_ols / (n - rank - 1)``;
  unbiased, needs n > rank + 1.
* ``"scaled"``: the scaled lasso (Sun & Zhang 2012): iterate ``sigma = ||y - X b(sigma lam0)|| / sqrt(n)``
  to its fixed point, the lasso solved on the path's standardized design (its penalty factors
  kept), with Sun & Zhang's (2013) quantile penalty ``lam0 = sqrt(2/n) L``, ``L = -qnorm(k/p)``,
  ``k = L^4 + 2 L^2`` (as the R package scalreg); works when p >= n.
* ``"cv"``: Reid, Tibshirani & Friedman (2016): ``RSS(lambda_min) / (n - df(lambda_min) - 1)`` at the
  10-fold CV choice (``seed=`` makes it reproducible); works when p >= n.
* ``"auto"`` (default): ``"ols"`` when n >= 2 (p + 1), else ``"scaled"``.
* a positive number: a known noise variance.

Binomial and Poisson paths (likelihood, no noise variance): with the deviance ``D`` (weights
normalised to sum n) and the same ``k``, ``AIC = D + 2 k`` and ``BIC = D + log(n) k``; they differ
from -2 log-likelihood + penalty by a constant of the data only (the saturated model's), so they
choose the same lambda as R's ``AIC(glm)``-style criteria.  Cp and GCV are gaussian-only.

Ridge leave-one-out (:func:`ridge_loo`): from one SVD of the standardized design, exact LOO
residuals ``e_i / (1 - h_ii)`` of the ridge fit with the intercept refitted and the column scaling of
the full data held fixed (as scikit-learn's ``RidgeCV``).  Leaving row i out of our objective (which
averages the loss over the rows used) puts the penalty ``lam (n - w_i)`` on the sum scale, so each row
uses its own hat diagonal; the result equals refitting without row i exactly.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import _validate as check
from . import engine
from ._summary import Summary
from ._types import FitLike, PathLike
from .errors import ParameterError, RegstatsWarning, user_stacklevel

__all__ = ["information_criteria", "noise_variance", "ridge_loo", "InformationCriteria", "RidgeLOO"]

CRITERIA = ("aic", "bic", "cp", "gcv")


def _scaled_lasso_lam0(n: int, p: int) -> float:
    """Sun & Zhang's (2013) quantile-based penalty level ``sqrt(2/n) L``, ``L = -qnorm(k/p)`` with
    ``k = L^4 + 2 L^2`` solved by fixed-point iteration (as the R package scalreg); less biased
    than the universal ``sqrt(2 log(p) / n)``."""
    from scipy.stats import norm

    if p <= 1:
        return float(np.sqrt(2.0 / n) * 0.5)
    L, old = 0.1, 0.0
    for _ in range(1000):
        if abs(L - old) <= 1e-3:
            break
        k = L ** 4 + 2 * L ** 2
        old = L
        L = (-norm.ppf(min(k / p, 0.99)) + old) / 2.0
    return float(np.sqrt(2.0 / n) * L)


def _scaled_lasso(prep: engine.Prepared, max_iter: int = 100, tol: float = 1e-8) -> tuple[float, float]:
    """Sun & Zhang's scaled lasso on the prepared design: (sigma^2, final lambda)."""
    n, p = prep.n, int((~prep.constant).sum())
    lam0 = _scaled_lasso_lam0(n, p)
    sigma = np.sqrt(prep.yy)
    beta = None
    lam = sigma * lam0
    for _ in range(max_iter):
        lam = sigma * lam0
        sol = engine.solve(prep, 1.0, np.array([lam]), tol=1e-10, beta0=beta)
        beta = sol.beta[0]
        new = float(np.sqrt(max(sol.rss[0], 0.0)))
        if abs(new - sigma) <= tol * max(sigma, 1e-300):
            sigma = new
            break
        sigma = new
    lam = sigma * lam0
    return sigma * sigma, lam


def noise_variance(path: "PathLike", method: str | float = "auto", *, seed: Any = None) -> tuple[float, str]:
    """An estimate of the noise variance for a path's data: ``(sigma2, description)``.

    See the module docstring for the methods ``"auto"``, ``"ols"``, ``"scaled"``, ``"cv"``.
    """
    prep = path._prep
    n = prep.n
    icpt = 1 if path.intercept else 0
    if not isinstance(method, str):
        s2 = check.real_in("sigma2", method, 0.0, np.inf, lo_open=True, hi_open=True)
        return s2, "given"
    method = check.choice("sigma2", method, ("auto", "ols", "scaled", "cv"))
    keep = ~prep.constant
    p_eff = int(keep.sum())
    if method == "auto":
        method = "ols" if n >= 2 * (p_eff + icpt) else "scaled"
    if method == "ols":
        Xk = prep.X[:, keep]
        coef, _, rank, _ = np.linalg.lstsq(Xk, prep.y, rcond=None)
        dof = n - int(rank) - icpt
        if dof <= 0:
            raise ParameterError(f"sigma2 must be 'scaled' or 'cv' when n <= rank + 1 (least squares "
                                 f"interpolates); got 'ols' with n = {n}, rank = {int(rank)}")
        r = prep.y - Xk @ coef
        return float(r @ r) / dof, f"least squares on all columns, RSS / (n - {int(rank)} - {icpt})"
    if method == "scaled":
        s2, lam = _scaled_lasso(prep)
        return s2, f"scaled lasso (Sun & Zhang 2012/2013, quantile lam0), final lambda {lam:.4g}"
    cv = path.cv(folds=min(10, n), seed=seed)
    k = cv.index_min
    rss = float(path._solution.rss[k]) * n
    dof = n - float(path.table["df"].iloc[k]) - icpt
    if dof <= 0:
        raise ParameterError("sigma2 must be 'scaled' or a number here: the CV-chosen fit has no residual "
                             f"degrees of freedom; got 'cv' with df = {path.table['df'].iloc[k]:.3g}, n = {n}")
    return rss / dof, f"RSS at the 10-fold CV lambda_min ({cv.lambda_min:.4g}) / (n - df - {icpt})"


@dataclass(frozen=True, eq=False)
class InformationCriteria:
    """AIC, BIC, Cp and GCV along a path.

    Attributes
    ----------
    table : DataFrame ``lambda, df, n_nonzero, rss, aic, bic, cp, gcv``.
    selected : Series criterion -> chosen lambda (the minimiser; the largest lambda on ties).
    sigma2 : the noise variance used; ``sigma2_method`` says how it was obtained.
    """

    table: pd.DataFrame
    selected: pd.Series
    sigma2: float
    sigma2_method: str
    n_obs: int
    path: "PathLike" = field(repr=False)
    #: the criteria in ``table`` (binomial and Poisson paths: AIC and BIC)
    criteria: tuple[str, ...] = CRITERIA

    def at(self, criterion: str = "bic") -> "FitLike":
        """The fit at the lambda chosen by ``criterion`` (``"aic"``, ``"bic"``, ``"cp"``, ``"gcv"``)."""
        criterion = check.choice("criterion", criterion, self.criteria)
        return self.path.at(float(self.selected[criterion]))

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        rows = []
        for c in self.criteria:
            lam = float(self.selected[c])
            t = self.table[self.table["lambda"] == lam].iloc[0]
            rows.append({"criterion": c.upper() if c != "cp" else "Cp", "lambda": lam, "value": float(t[c]),
                         "df": float(t["df"]), "nonzero": int(t["n_nonzero"])})
        info = [("Formula", self.path.formula),
                ("Penalty", f"{self.path.penalty} (l1_ratio = {self.path.l1_ratio:g})"),
                ("Observations", str(self.n_obs))]
        if self.path.family == "gaussian":
            info.append(("Noise variance", f"{self.sigma2:.6g} ({self.sigma2_method})"))
            note = "AIC/BIC use the Gaussian likelihood at the stated noise variance."
        else:
            note = f"AIC = deviance + 2k, BIC = deviance + log(n) k ({self.path.family} likelihood)."
        return Summary(title="Information criteria along the path", info=info,
                       tables=[("Selected lambdas", pd.DataFrame(rows))], index=False,
                       notes=["k = effective df + 1 (intercept). " + note])

    def _repr_html_(self) -> str:
        return self.summary().to_html()


def _gcv(rss: np.ndarray, k: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(gcv, defined)``: (RSS / n) / (1 - k/n)^2 with k = df (+1 for the intercept); inf, never
    selected, where df + 1 = n (an interpolating fit)."""
    frac = 1.0 - k / n
    ok = frac > 1e-8
    return np.where(ok, (rss / n) / np.where(ok, frac, 1.0) ** 2, np.inf), ok


def _argmin_largest(lambdas: np.ndarray, values: np.ndarray) -> int:
    m = np.nanmin(values)
    cand = np.flatnonzero(values <= m)
    return int(cand[np.argmax(lambdas[cand])])


def information_criteria(path: "PathLike", sigma2: str | float = "auto", *, seed: Any = None
                         ) -> InformationCriteria:
    """AIC, BIC, Mallows' Cp and GCV over a path from its effective degrees of freedom.

    Parameters
    ----------
    path : a :class:`~regstats.path.Path`.
    sigma2 : ``"auto"`` (default), ``"ols"``, ``"scaled"``, ``"cv"`` or a known noise variance;
        see :mod:`regstats.ic`.  ``"scaled"`` and ``"cv"`` work when p >= n.
    seed : fold seed for ``sigma2="cv"``.

    Returns
    -------
    InformationCriteria

    Examples
    --------
    >>> import regstats as rs
    >>> ic = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate")).information_criteria()
    >>> list(ic.selected.index)
    ['aic', 'bic', 'cp', 'gcv']
    """
    if path.family != "gaussian":
        return _glm_criteria(path, sigma2)
    s2, how = noise_variance(path, sigma2, seed=seed)
    n = path.n_obs
    lams = path.lambdas
    rss = np.asarray(path._solution.rss, dtype=float) * n
    df = path.table["df"].to_numpy(dtype=float)
    k = df + (1.0 if path.intercept else 0.0)
    base = n * np.log(2.0 * np.pi * s2) + rss / s2
    gcv, _ = _gcv(rss, k, n)
    table = pd.DataFrame({"lambda": lams, "df": df, "n_nonzero": path.table["n_nonzero"].to_numpy(),
                          "rss": rss, "aic": base + 2.0 * k, "bic": base + np.log(n) * k,
                          "cp": rss / n + 2.0 * k * s2 / n, "gcv": gcv})
    sel = pd.Series({c: float(lams[_argmin_largest(lams, table[c].to_numpy())]) for c in CRITERIA},
                    name="lambda")
    return InformationCriteria(table=table, selected=sel, sigma2=float(s2), sigma2_method=how, n_obs=n,
                               path=path)


def _glm_criteria(path: "PathLike", sigma2: Any) -> InformationCriteria:
    """AIC and BIC of a binomial or Poisson path from its deviance (see the module docstring)."""
    if not (isinstance(sigma2, str) and sigma2 == "auto"):
        raise ParameterError(f"sigma2 is for gaussian paths (a {path.family} model has no noise variance); "
                             f"got {sigma2!r}")
    n = path.n_obs
    lams = path.lambdas
    dev = np.asarray(path._solution.rss, dtype=float) * n
    df = path.table["df"].to_numpy(dtype=float)
    k = df + (1.0 if path.intercept else 0.0)
    table = pd.DataFrame({"lambda": lams, "df": df, "n_nonzero": path.table["n_nonzero"].to_numpy(),
                          "deviance": dev, "aic": dev + 2.0 * k, "bic": dev + np.log(n) * k})
    crit = ("aic", "bic")
    sel = pd.Series({c: float(lams[_argmin_largest(lams, table[c].to_numpy())]) for c in crit}, name="lambda")
    return InformationCriteria(table=table, selected=sel, sigma2=float("nan"), sigma2_method="none", n_obs=n,
                               path=path, criteria=crit)


# ------------------------------------------------------------------------------------------------
# ridge leave-one-out and GCV from one SVD
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RidgeLOO:
    """Exact leave-one-out CV and GCV of a ridge path, without refits.

    Attributes
    ----------
    table : DataFrame ``lambda, loo_mse, gcv, df``.
    lambda_loo, lambda_gcv : the minimisers (largest lambda on ties).
    loo_residuals : array (n_obs x n_lambda) of ``y_i - yhat_(-i)``.
    """

    table: pd.DataFrame
    lambda_loo: float
    lambda_gcv: float
    loo_residuals: np.ndarray = field(repr=False)
    path: "PathLike" = field(repr=False)

    def at(self, which: str = "loo") -> "FitLike":
        """The fit at the ``"loo"`` or ``"gcv"`` choice."""
        which = check.choice("which", which, ("loo", "gcv"))
        return self.path.at(self.lambda_loo if which == "loo" else self.lambda_gcv)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        rows = []
        for name, lam, col in (("LOO", self.lambda_loo, "loo_mse"), ("GCV", self.lambda_gcv, "gcv")):
            t = self.table[self.table["lambda"] == lam].iloc[0]
            rows.append({"criterion": name, "lambda": lam, "value": float(t[col]), "df": float(t["df"])})
        return Summary(title="Ridge leave-one-out and GCV", info=[("Formula", self.path.formula),
                                                                  ("Observations", str(self.path.n_obs))],
                       tables=[("Selected lambdas", pd.DataFrame(rows))], index=False,
                       notes=["Exact leave-one-out with the intercept refitted and the full-data column "
                              "scaling held fixed; no refits (one SVD)."])

    def _repr_html_(self) -> str:
        return self.summary().to_html()


def ridge_loo(path: "PathLike") -> RidgeLOO:
    """Exact leave-one-out and GCV for a ridge path from one SVD (usually via ``path.loo()``).

    Parameters
    ----------
    path : a ridge path (``l1_ratio = 0``) with equal penalty factors.

    Returns
    -------
    RidgeLOO
    """
    prep = path._prep
    if path.l1_ratio != 0.0 or not engine._uniform_penalty(prep):
        raise ParameterError(f"path must be a ridge path (l1_ratio = 0, equal penalty factors); got "
                             f"l1_ratio = {path.l1_ratio:g}")
    n = prep.n
    keep = ~prep.constant
    v0 = float(prep.v[keep][0])
    U, d, _ = np.linalg.svd(prep.X[:, keep], full_matrices=False)
    d2 = d * d
    uty = U.T @ prep.y
    U2 = U * U
    w = prep.w
    sw = np.sqrt(w)
    h0 = w / n if path.intercept else np.zeros(n)
    lams = path.lambdas
    res = np.empty((n, len(lams)))
    loo_mse = np.empty(len(lams))
    interpolating = np.zeros(len(lams), dtype=bool)
    c_row = n - w      # leaving row i out: penalty lam / s_y * v0 * (n - w_i) on the sum scale
    for j, lam in enumerate(lams):
        C = engine.ridge_weight(prep, lam, 0.0) * v0 * c_row
        S = d2[None, :] / (d2[None, :] + C[:, None])
        h = h0 + (U2 * S).sum(axis=1)
        rt = prep.y - (U * S) @ uty
        # leverage 1 (an interpolating fit: lam = 0 with rank n - 1 or more): the left-out row
        # cannot be predicted from the others by this formula; its LOO error is undefined (inf)
        lev1 = (w > 0) & (h >= 1.0 - 1e-8)
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.where(w > 0, rt / (np.where(w > 0, sw, 1.0) * (1.0 - h)), np.nan)
        if lev1.any():
            e[lev1] = np.inf
            interpolating[j] = True
        res[:, j] = e
        loo_mse[j] = float(np.nansum(w * e * e)) / float(w[w > 0].sum())
    # rows with zero weight: the fit does not use them, so their LOO residual is the plain residual
    if np.any(w == 0):
        pred = path._design.X[w == 0] @ path._solution.coef.T + path._solution.intercept[None, :]
        res[w == 0] = path._design.y[w == 0, None] - pred
    df = path.table["df"].to_numpy(dtype=float)
    k = df + (1.0 if path.intercept else 0.0)
    rss = np.asarray(path._solution.rss, dtype=float) * n
    gcv, ok = _gcv(rss, k, n)
    if interpolating.any() or not ok.all():
        bad = lams[interpolating | ~ok]
        warnings.warn(f"ridge LOO/GCV undefined at {bad.size} lambda(s) ({', '.join(f'{x:.4g}' for x in bad[:5])}"
                      f"{' ...' if bad.size > 5 else ''}): the fit interpolates (leverage 1 or df + 1 = n); "
                      "reported as inf and never selected", RegstatsWarning, stacklevel=user_stacklevel())
    table = pd.DataFrame({"lambda": lams, "loo_mse": loo_mse, "gcv": gcv, "df": df})
    return RidgeLOO(table=table, lambda_loo=float(lams[_argmin_largest(lams, loo_mse)]),
                    lambda_gcv=float(lams[_argmin_largest(lams, gcv)]), loo_residuals=res, path=path)
