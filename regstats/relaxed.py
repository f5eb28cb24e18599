"""The relaxed lasso (glmnet's ``relax=TRUE``; Meinshausen 2007, Hastie, Tibshirani & Tibshirani 2020).

For each lambda of a path with active set ``A(lam)`` (the nonzero coefficients), the relaxed fit
is the unpenalized least-squares fit on ``A(lam)`` (with intercept and the path's weights), and
for ``gamma`` in [0, 1]::

    b_relaxed(lam, gamma) = gamma * b_penalized(lam) + (1 - gamma) * b_ols(A(lam))

so ``gamma = 1`` is the penalized path and ``gamma = 0`` the fully relaxed refit.  Cross-validation
runs over (lambda, gamma) on the same folds, each fold using its own active sets, as
``cv.glmnet(relax=TRUE)``.  When an active set has at least as many columns as there are rows,
least squares is not unique: regstats uses the minimum-norm solution (glmnet skips such lambdas,
its ``maxp = n - 3``).

Degrees of freedom: for the lasso every blend has df = |A| (both fits have divergence |A| for a
fixed active set); for the elastic net ``gamma * df_enet + (1 - gamma) * |A|``.

Binomial and Poisson paths (glmnet's ``relax=TRUE`` for GLMs): the refit is unpenalized maximum
likelihood on the active set (with the path's weights and offset, :mod:`regstats.glm_ml`), and the
blend is of the coefficients and intercepts, i.e. of the linear predictors.  Where the active set
separates the classes (no finite maximum, or more columns than rows) there is no refit: the
relaxed fit is the penalized one at that lambda, and :func:`relax` warns naming those lambdas.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import _validate as check
from ._summary import Summary
from ._types import FitLike, PathLike
from .active_set import _ml_refit, relaxed_refit
from .errors import ParameterError

__all__ = ["relax", "RelaxedPath", "RelaxedCV", "DEFAULT_GAMMAS"]

DEFAULT_GAMMAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _r2(path: "PathLike", coef: np.ndarray, b0: np.ndarray) -> np.ndarray:
    """Fraction of the null deviance explained by fits (rows of coef, b0) on the path's rows."""
    prep = path._prep
    X = path._design.X
    eta = X @ coef.T + b0[None, :]
    n = prep.n
    null = path._solution.yy * n
    if null <= 0:
        return np.zeros(coef.shape[0])
    if path.family == "gaussian":
        r = path._design.y[:, None] - eta
        dev = prep.w @ (r * r)
    else:
        fam = prep.family
        mu = fam.mean(eta + prep.offset[:, None])
        dev = prep.w @ fam.unit_deviance(path._design.y[:, None], mu)
    return 1.0 - dev / null


def _gammas(gammas: Any) -> np.ndarray:
    try:
        g = np.atleast_1d(np.asarray(gammas, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise ParameterError(f"gammas must be numbers in [0, 1]; got {gammas!r}") from None
    if g.size == 0 or not np.all(np.isfinite(g)) or np.any((g < 0) | (g > 1)):
        raise ParameterError(f"gammas must be a non-empty sequence of numbers in [0, 1]; got {gammas!r}")
    return np.unique(g)


@dataclass(frozen=True, eq=False)
class RelaxedPath:
    """A penalized path with its relaxed (active-set least-squares) refits.

    Attributes
    ----------
    path : the penalized :class:`~regstats.path.Path`.
    gammas : the blend weights (1 = penalized, 0 = least squares on the active set).
    coef : DataFrame indexed by (gamma, lambda), columns ``Intercept`` then design columns.
    table : DataFrame ``gamma, lambda, df, n_nonzero, r2``.
    """

    path: "PathLike" = field(repr=False)
    gammas: np.ndarray
    coef: pd.DataFrame = field(repr=False)
    table: pd.DataFrame = field(repr=False)

    def at(self, lam: float, gamma: float) -> "FitLike":
        """The relaxed fit at (lam, gamma); off the lambda grid the penalized fit is solved exactly."""
        gamma = check.real_in("gamma", gamma, 0.0, 1.0)
        pen = self.path.at(lam)
        prep = self.path._prep
        bp = np.asarray(pen._beta, dtype=float)
        cp, ip = pen.coef.to_numpy(dtype=float)[None, :], np.array([pen.intercept])
        co, io = relaxed_refit(prep, bp[None, :], (cp, ip))
        coef = gamma * cp[0] + (1.0 - gamma) * co[0]
        b0 = gamma * ip[0] + (1.0 - gamma) * io[0]
        b = coef * prep.x_scale
        params = pd.Series(coef, index=list(self.path.column_names))
        if self.path.intercept:
            params = pd.concat([pd.Series([b0], index=["Intercept"]), params])
        params.name = "estimate"
        r2 = float(_r2(self.path, coef[None, :], np.array([b0]))[0])
        n_act = float(np.count_nonzero(bp))
        df = gamma * pen.df + (1.0 - gamma) * n_act
        return self.path._fit(pen.lam, params, df, r2, b)

    def predict(self, newdata: pd.DataFrame | None = None, lam: float | None = None,
                gamma: float = 0.0) -> pd.Series:
        """Predictions of the relaxed fit at (lam, gamma)."""
        if lam is None:
            raise ParameterError("lam must be a number >= 0; got None")
        return self.at(lam, gamma).predict(newdata)

    def cv(self, folds: int = 10, foldid: Any = None, seed: Any = None, n_jobs: int = 1, *,
           groups: Any = None, n_repeats: int = 1, loss: str | None = None, tol: float | None = None,
           progress: bool = False, stratify: bool = False) -> "RelaxedCV":
        """Cross-validate over (lambda, gamma), as ``cv.glmnet(relax=TRUE)``; arguments as
        :func:`regstats.cv.cross_validate`."""
        from .cv import _check_glm_folds, _problem_of, _resolve_foldids, _run_folds
        from .folds import _check_loss, _loss, cv_stats

        loss = _check_loss(loss, self.path.family)
        if tol is not None:
            tol = check.real_in("tol", tol, 0.0, 1.0, lo_open=True)
        foldids, gname = _resolve_foldids(self.path, folds, foldid, groups, n_repeats, seed, stratify)
        _check_glm_folds(self.path, foldids, loss)
        (preds,) = _run_folds([_problem_of(self.path, tol, gammas=self.gammas)], foldids, n_jobs=n_jobs,
                              progress=progress, desc="relaxed cross-validation")
        y, w = self.path._design.y, self.path._options.weights
        G, L = len(self.gammas), len(self.path.lambdas)
        mean = np.zeros((G, L))
        se = np.zeros((G, L))
        fam = None if self.path.family == "gaussian" else self.path._prep.family
        for r in range(len(foldids)):
            for g in range(G):
                if fam is None:
                    m, s, _, _ = cv_stats(_loss(y, preds[r, g], loss), foldids[r], w)
                else:
                    from .glm_cv import fold_stats

                    m, s, _, _ = fold_stats(fam, y, fam.mean(preds[r, g]), foldids[r], loss, w)
                mean[g] += m / len(foldids)
                se[g] += s / len(foldids)
        lams = np.tile(self.path.lambdas, G)
        gam = np.repeat(self.gammas, L)
        cm, cs = mean.ravel(), se.ravel()
        # (AUC: larger is better)
        cb = -cm if loss == "auc" else cm
        i_min = _pick(lams, gam, cb <= np.nanmin(cb))
        i_1se = _pick(lams, gam, cb <= cb[i_min] + cs[i_min])
        nz = np.tile(self.path.table["n_nonzero"].to_numpy(), G)
        table = pd.DataFrame({"gamma": gam, "lambda": lams, "cv_mean": cm, "cv_se": cs,
                              "cv_lower": cm - cs, "cv_upper": cm + cs, "n_nonzero": nz})
        return RelaxedCV(table=table, lambda_min=float(lams[i_min]), gamma_min=float(gam[i_min]),
                         lambda_1se=float(lams[i_1se]), gamma_1se=float(gam[i_1se]), loss=loss,
                         n_folds=int(len(np.unique(foldids[0]))), n_repeats=len(foldids), foldid=foldids,
                         oof_predictions=preds, grouped_by=gname, relaxed=self)

    def to_frame(self) -> pd.DataFrame:
        """Tidy coefficients: ``gamma, lambda, term, estimate``."""
        return self.coef.reset_index().melt(id_vars=["gamma", "lambda"], var_name="term", value_name="estimate")

    def summary(self, max_rows: int = 20) -> Summary:
        tab = self.table[self.table["gamma"] == self.gammas.min()]
        if len(tab) > max_rows:
            tab = tab.iloc[np.unique(np.linspace(0, len(tab) - 1, max_rows).round().astype(int))]
        info = [("Formula", self.path.formula),
                ("Penalty", f"relaxed {self.path.penalty} (l1_ratio = {self.path.l1_ratio:g})"),
                ("Gammas", ", ".join(f"{g:g}" for g in self.gammas)),
                ("Lambdas", f"{len(self.path.lambdas)}")]
        refit = "least squares" if self.path.family == "gaussian" else "maximum likelihood"
        return Summary(title="Relaxed penalized path", info=info,
                       tables=[(f"Path at gamma = {self.gammas.min():g}", tab.reset_index(drop=True))],
                       index=False, notes=[f"gamma = 1 is the penalized fit, gamma = 0 {refit} on "
                                           "its active set."])

    def _repr_html_(self) -> str:
        return self.summary().to_html()


def _pick(lams: np.ndarray, gam: np.ndarray, cand: np.ndarray) -> int:
    """glmnet's ``getOptcv.relaxed``: the candidate with the largest lambda, then largest gamma."""
    idx = np.flatnonzero(cand)
    order = np.lexsort((-gam[idx], -lams[idx]))
    return int(idx[order[0]])


@dataclass(frozen=True, eq=False)
class RelaxedCV:
    """Cross-validation of a relaxed path over (lambda, gamma).

    Attributes
    ----------
    table : DataFrame ``gamma, lambda, cv_mean, cv_se, cv_lower, cv_upper, n_nonzero``.
    lambda_min, gamma_min : the pair with the smallest cv_mean (largest lambda, then largest
        gamma, on ties); ``lambda_1se, gamma_1se`` the pair with the largest lambda (then gamma)
        whose cv_mean is within one SE of that minimum (glmnet's rule).
    oof_predictions : array (n_repeats x n_gamma x n_obs x n_lambda).
    """

    table: pd.DataFrame
    lambda_min: float
    gamma_min: float
    lambda_1se: float
    gamma_1se: float
    loss: str
    n_folds: int
    n_repeats: int
    foldid: np.ndarray = field(repr=False)
    oof_predictions: np.ndarray = field(repr=False)
    grouped_by: str | None = None
    relaxed: RelaxedPath = field(repr=False, default=None)  # type: ignore[assignment]

    @property
    def best(self) -> "FitLike":
        """The relaxed fit at (``lambda_1se``, ``gamma_1se``)."""
        return self.relaxed.at(self.lambda_1se, self.gamma_1se)

    def at(self, which: str = "1se") -> "FitLike":
        """The relaxed fit at the ``"min"`` or ``"1se"`` pair (``"lambda.min"`` / ``"lambda.1se"`` too)."""
        from ._lam import cv_choice

        if cv_choice(which, "which") == "min":
            return self.relaxed.at(self.lambda_min, self.gamma_min)
        return self.best

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def selection(self) -> pd.DataFrame:
        rows = []
        for name, lam, g in (("min", self.lambda_min, self.gamma_min), ("1se", self.lambda_1se, self.gamma_1se)):
            t = self.table[(self.table["lambda"] == lam) & (self.table["gamma"] == g)].iloc[0]
            rows.append({"gamma": g, "lambda": lam, "measure": float(t["cv_mean"]), "se": float(t["cv_se"]),
                         "nonzero": int(t["n_nonzero"])})
        return pd.DataFrame(rows, index=pd.Index(["min", "1se"], name="selected"))

    def summary(self) -> Summary:
        p = self.relaxed.path
        from .folds import loss_name

        info = [("Formula", p.formula), ("Penalty", f"relaxed {p.penalty}"),
                ("Measure", loss_name(self.loss, p.family)),
                ("Folds", f"{self.n_folds}" + (f" x {self.n_repeats} repeats" if self.n_repeats > 1 else "")),
                ("Gammas", ", ".join(f"{g:g}" for g in self.relaxed.gammas))]
        return Summary(title="Cross-validated relaxed fit", info=info, tables=[("Selected", self.selection())],
                       notes=["Ties and the 1se rule follow glmnet: largest lambda first, then largest gamma."])

    def _repr_html_(self) -> str:
        return self.summary().to_html()


def relax(path: "PathLike", gammas: Sequence[float] = DEFAULT_GAMMAS) -> RelaxedPath:
    """Relaxed refits of a path (usually via ``path.relax()``).

    Parameters
    ----------
    path : a penalized :class:`~regstats.path.Path`.
    gammas : blend weights in [0, 1]; 1 keeps the penalized fit, 0 is least squares on its
        active set.

    Returns
    -------
    RelaxedPath

    Examples
    --------
    >>> import regstats as rs
    >>> rp = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate")).relax()
    >>> rp.gammas.tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    import warnings

    from .errors import ConvergenceWarning, user_stacklevel

    g = _gammas(gammas)
    prep, sol = path._prep, path._solution
    if path.family == "gaussian":
        co, io = relaxed_refit(prep, sol.beta)
    else:
        co, io, failed = _ml_refit(prep, sol.beta, (sol.coef, sol.intercept))
        if failed.any():
            shown = ", ".join(f"{x:.4g}" for x in path.lambdas[failed][:8])
            warnings.warn(f"no finite maximum-likelihood refit on the active set at {int(failed.sum())} lambda(s) "
                          f"({shown}{' ...' if failed.sum() > 8 else ''}): the columns separate the classes (or "
                          "outnumber the rows); the relaxed fit there is the penalized one", ConvergenceWarning,
                          stacklevel=user_stacklevel())
    names = list(path.column_names)
    frames, rows = [], []
    n_act = (sol.beta != 0).sum(axis=1).astype(float)
    df_pen = path.table["df"].to_numpy()
    for gamma in g:
        coef = gamma * sol.coef + (1.0 - gamma) * co
        b0 = gamma * sol.intercept + (1.0 - gamma) * io
        cols = {}
        if path.intercept:
            cols["Intercept"] = b0
        mat = pd.DataFrame(coef, columns=names)
        frame = pd.concat([pd.DataFrame(cols), mat], axis=1)
        frame.index = pd.MultiIndex.from_arrays([np.full(len(path.lambdas), gamma), path.lambdas],
                                                names=["gamma", "lambda"])
        frames.append(frame)
        r2 = _r2(path, coef, b0)
        rows.append(pd.DataFrame({"gamma": gamma, "lambda": path.lambdas,
                                  "df": gamma * df_pen + (1.0 - gamma) * n_act,
                                  "n_nonzero": path.table["n_nonzero"].to_numpy(), "r2": r2}))
    return RelaxedPath(path=path, gammas=g, coef=pd.concat(frames), table=pd.concat(rows, ignore_index=True))
