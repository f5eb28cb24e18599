"""Several fits side by side: penalized, relaxed and OLS coefficients in one table.

For binomial and Poisson paths the relaxed and unpenalized fits are maximum likelihood (IRLS, with
the path's weights and offset; standard errors from the Fisher information), as R's ``glm``; the
unpenalized column is named ``ML`` instead of ``OLS``.

In the spirit of statsmodels' ``summary_col`` and pyfixest's ``etable``: one column per model,
one row per term, standard errors in parentheses where a model has them, and the fit statistics
(lambda, df, nonzero coefficients, R-squared, rows) underneath.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._summary import Summary
from ..errors import ParameterError
from ..glm_ml import Separation, ml_fit_arrays

__all__ = ["compare", "Comparison", "ols_fit", "relaxed_fit", "ml_fit", "unpenalized_name"]


@dataclass(frozen=True)
class _Column:
    name: str
    estimate: pd.Series
    std_error: pd.Series | None
    stats: dict[str, float]
    kind: str


@dataclass(frozen=True, eq=False)
class Comparison:
    """Coefficients of several models side by side.

    Attributes
    ----------
    estimates : DataFrame, index = term (union of all models' terms, ``Intercept`` first),
        one column per model; NaN where a model has no such term.
    std_errors : same shape; NaN where a model reports no standard error (penalized fits).
    stats : DataFrame, index = statistic (``lambda``, ``df``, ``n_nonzero``, ``r2``, ``n_obs``),
        one column per model.
    kinds : model name -> ``"penalized"``, ``"relaxed"``, ``"ols"``, ``"inference"`` or ``"given"``.
    notes : model name -> why its column is empty (e.g. a maximum-likelihood fit under separation).
    """

    estimates: pd.DataFrame
    std_errors: pd.DataFrame
    stats: pd.DataFrame
    kinds: Mapping[str, str]
    notes: Mapping[str, str] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Tidy: ``model, term, estimate, std_error`` (one row per model and term present)."""
        est = self.estimates.stack(future_stack=True).rename("estimate")
        se = self.std_errors.stack(future_stack=True).rename("std_error")
        out = pd.concat([est, se], axis=1).reset_index()
        out.columns = ["term", "model", "estimate", "std_error"]
        out = out[out["estimate"].notna()]
        order = {m: i for i, m in enumerate(self.estimates.columns)}
        out = out.sort_values("model", key=lambda s: s.map(order), kind="stable")
        return out[["model", "term", "estimate", "std_error"]].reset_index(drop=True)

    def table(self, digits: int = 4) -> pd.DataFrame:
        """The display table: ``estimate (std_error)`` strings, fit statistics underneath."""
        from ._format import fmt

        rows = {}
        for term in self.estimates.index:
            cells = []
            for m in self.estimates.columns:
                e = self.estimates.at[term, m]
                s = self.std_errors.at[term, m]
                if pd.isna(e):
                    cells.append("")
                elif pd.isna(s):
                    cells.append(fmt(float(e), digits))
                else:
                    cells.append(f"{fmt(float(e), digits)} ({fmt(float(s), max(digits - 1, 2))})")
            rows[term] = cells
        for stat in self.stats.index:
            rows[stat] = ["" if pd.isna(v) else fmt(float(v), digits) for v in self.stats.loc[stat]]
        out = pd.DataFrame.from_dict(rows, orient="index", columns=list(self.estimates.columns))
        out.index.name = "term"
        return out

    def summary(self, digits: int = 4) -> Summary:
        notes = ["Standard errors in parentheses where the model has them; penalized estimates have none."]
        if "relaxed" in self.kinds.values():
            notes.append("Relaxed = least squares on the terms the penalized fit selected; its standard "
                         "errors are conditional on that selection and too small as unconditional ones.")
        if "ols" in self.kinds.values():
            ml = [m for m, k in self.kinds.items() if k == "ols" and m != "OLS"]
            notes.append("ML = unpenalized maximum likelihood on every design column (standard errors from the "
                         "Fisher information)." if ml else
                         "OLS = unpenalized least squares on every design column (classical standard errors).")
        notes += [f"{m}: {why}" for m, why in self.notes.items()]
        return Summary(title="Model comparison", tables=[("Coefficients (standard errors)", self.table(digits))],
                       notes=notes)

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __str__(self) -> str:
        return str(self.summary())

    def __repr__(self) -> str:
        return f"<Comparison of {len(self.estimates.columns)} models: {', '.join(map(str, self.estimates.columns))}>"


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray | None, intercept: bool
         ) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Weighted least squares: (coef incl. intercept first, std errors, r2, residual df)."""
    n = X.shape[0]
    w = np.ones(n) if w is None else np.asarray(w, float) * n / np.sum(w)
    A = np.column_stack([np.ones(n), X]) if intercept else X
    k = A.shape[1]
    if k > n:
        raise ParameterError(f"least squares needs at most n = {n} columns; got {k}")
    sw = np.sqrt(w)
    Aw, yw = A * sw[:, None], y * sw
    coef, _, rank, _ = np.linalg.lstsq(Aw, yw, rcond=None)
    resid = yw - Aw @ coef
    rss = float(resid @ resid)
    ybar = float(np.sum(w * y) / np.sum(w)) if intercept else 0.0
    tss = float(np.sum(w * (y - ybar) ** 2))
    dfr = n - int(rank)
    if rank < k or dfr <= 0:
        se = np.full(k, np.nan)
    else:
        sigma2 = rss / dfr
        cov = sigma2 * np.linalg.inv(Aw.T @ Aw)
        se = np.sqrt(np.diag(cov))
    return coef, se, (1.0 - rss / tss if tss > 0 else 0.0), dfr


def unpenalized_name(path: Any) -> str:
    """The name of the unpenalized column in :func:`compare`: ``"OLS"``, or ``"ML"`` for binomial and
    Poisson paths."""
    return "OLS" if getattr(path, "family", "gaussian") == "gaussian" else "ML"


def ml_fit(path: Any, columns: Sequence[str] | None = None) -> tuple[pd.Series, pd.Series, dict[str, float]]:
    """Unpenalized maximum likelihood (binomial or Poisson, as R's ``glm``) on the path's design (all
    columns, or ``columns``), with its weights and offset: (estimates, standard errors, statistics).

    The weights are the path's, normalised to sum n: the standard errors equal ``glm``'s with those
    weights (with binomial proportions and ``weights`` = trials, ``glm``'s use the trials as given).
    """
    X, y = path._design.X, path._design.y
    names = list(path.column_names)
    cols = names if columns is None else [c for c in names if c in set(columns)]
    idx = [names.index(c) for c in cols]
    o = path._options
    coef, se, r2 = ml_fit_arrays(X[:, idx], np.asarray(y, float), o.weights, o.offset, path.intercept, path.family)
    labels = (["Intercept"] if path.intercept else []) + cols
    stats = {"lambda": 0.0, "df": float(len(cols)), "n_nonzero": float(len(cols)), "r2": r2,
             "n_obs": float(path.n_obs)}
    return pd.Series(coef, index=labels), pd.Series(se, index=labels), stats


def ols_fit(path: Any, columns: Sequence[str] | None = None) -> tuple[pd.Series, pd.Series, dict[str, float]]:
    """Least squares on the path's design (all columns, or ``columns``), with the path's weights
    (maximum likelihood, :func:`ml_fit`, for binomial and Poisson paths).

    Returns (estimates, standard errors, statistics), indexed like ``fit.params``.
    """
    if getattr(path, "family", "gaussian") != "gaussian":
        return ml_fit(path, columns)
    X, y = path._design.X, path._design.y
    names = list(path.column_names)
    cols = names if columns is None else [c for c in names if c in set(columns)]
    idx = [names.index(c) for c in cols]
    coef, se, r2, _ = _wls(X[:, idx], y, path._options.weights, path.intercept)
    labels = (["Intercept"] if path.intercept else []) + cols
    stats = {"lambda": 0.0, "df": float(len(cols)), "n_nonzero": float(len(cols)), "r2": r2,
             "n_obs": float(path.n_obs)}
    return pd.Series(coef, index=labels), pd.Series(se, index=labels), stats


def relaxed_fit(fit: Any) -> tuple[pd.Series, pd.Series, dict[str, float]]:
    """Least squares (maximum likelihood for binomial and Poisson) on the columns a penalized fit
    selected (the relaxed lasso with gamma = 0)."""
    est, se, stats = ols_fit(fit.path, columns=list(fit.selected))
    stats["lambda"] = float(fit.lam)
    full = fit.params.index
    est = est.reindex(full).fillna(0.0)       # unselected columns stay at zero, as in glmnet's relax
    return est, se.reindex(full), stats


def _column(name: str, model: Any) -> _Column:
    from ..path import Fit

    if isinstance(model, Fit):
        stats = {"lambda": model.lam, "df": model.df, "n_nonzero": float(model.n_nonzero), "r2": model.r2,
                 "n_obs": float(model.path.n_obs)}
        return _Column(name, model.params.astype(float), None, stats, "penalized")
    if isinstance(model, pd.Series):
        return _Column(name, model.astype(float), None, {}, "given")
    if isinstance(model, tuple) and len(model) == 3:
        est, se, stats = model
        return _Column(name, est, se, dict(stats), "given")
    if hasattr(model, "to_frame"):
        df = model.to_frame()
        if {"term", "estimate"}.issubset(df.columns):
            est = pd.Series(df["estimate"].to_numpy(float), index=df["term"])
            se = pd.Series(df["std_error"].to_numpy(float), index=df["term"]) if "std_error" in df else None
            return _Column(name, est, se, {}, "inference")
    raise ParameterError("models must be Fits, inference results (to_frame() with term, estimate), "
                         f"Series or (estimate, std_error, stats) tuples; got {type(model).__name__}")


def _default_name(model: Any, i: int) -> str:
    from ..path import Fit

    if isinstance(model, Fit):
        return f"{model.path.penalty} (lambda={model.lam:.3g})"
    df = model.to_frame() if hasattr(model, "to_frame") else None
    if df is not None and "method" in df.columns and df["method"].notna().any():
        return str(df["method"].dropna().iloc[0])
    return f"model {i + 1}"


def compare(models: Sequence[Any] | Mapping[str, Any], *, relaxed: bool = False, ols: bool = False
            ) -> Comparison:
    """Coefficients of several models side by side (penalized, relaxed, OLS, inference results).

    Parameters
    ----------
    models : a list of models, or a dict ``{column title: model}``.  A model is a
        :class:`~regstats.Fit`, an inference result (``to_frame()`` with ``term, estimate,
        std_error``), a Series of coefficients, or a tuple ``(estimates, std_errors, stats)``.
    relaxed : add, after each penalized fit, its relaxed refit: least squares on the selected
        columns (standard errors conditional on the selection).
    ols : add unpenalized least squares on every design column of the first penalized fit's
        model (skipped, with a NaN column, when there are more columns than rows).

    Returns
    -------
    Comparison
        ``.estimates``, ``.std_errors``, ``.stats`` (DataFrames), ``.to_frame()`` (tidy),
        ``.summary()`` (text / HTML / Markdown / LaTeX).

    Examples
    --------
    >>> import regstats as rs
    >>> path = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate"))
    >>> tab = rs.compare({"lasso": path.at(0.1)}, relaxed=True, ols=True)
    >>> list(tab.estimates.columns)
    ['lasso', 'lasso relaxed', 'OLS']
    """
    from ..path import Fit

    items = list(models.items()) if isinstance(models, Mapping) else [
        (_default_name(m, i), m) for i, m in enumerate(models)]
    if not items:
        raise ParameterError("models must contain at least one model; got none")
    cols: list[_Column] = []
    notes: dict[str, str] = {}
    first_fit = None
    for name, m in items:
        col = _column(str(name), m)
        cols.append(col)
        if isinstance(m, Fit):
            first_fit = first_fit or m
            if relaxed:
                try:
                    est, se, st = relaxed_fit(m)
                except Separation as exc:
                    est = pd.Series(np.nan, index=m.params.index)
                    se, st = est.copy(), {"lambda": float(m.lam), "n_obs": float(m.path.n_obs)}
                    notes[f"{name} relaxed"] = str(exc)
                cols.append(_Column(f"{name} relaxed", est, se, st, "relaxed"))
    if ols:
        if first_fit is None:
            raise ParameterError("ols=True needs a penalized Fit among the models to define the design; got none")
        uname = unpenalized_name(first_fit.path)
        try:
            est, se, st = ols_fit(first_fit.path)
        except ParameterError as exc:
            est = pd.Series(np.nan, index=first_fit.params.index)
            se, st = est.copy(), {"n_obs": float(first_fit.path.n_obs)}
            notes[uname] = str(exc)
        cols.append(_Column(uname, est, se, st, "ols"))
    names = [c.name for c in cols]
    if len(set(names)) != len(names):
        raise ParameterError(f"model names must be distinct; got {names}")
    terms: list[str] = []
    for c in cols:
        terms += [str(t) for t in c.estimate.index if str(t) not in terms]
    if "Intercept" in terms:
        terms.remove("Intercept")
        terms.insert(0, "Intercept")
    est = pd.DataFrame({c.name: c.estimate.reindex(terms).to_numpy(dtype=float) for c in cols}, index=terms)
    se = pd.DataFrame({c.name: (c.std_error.reindex(terms).to_numpy(dtype=float) if c.std_error is not None
                                else np.full(len(terms), np.nan)) for c in cols}, index=terms)
    est.index.name = se.index.name = "term"
    stat_names = ["lambda", "df", "n_nonzero", "r2", "n_obs"]
    stats = pd.DataFrame({c.name: [c.stats.get(s, np.nan) for s in stat_names] for c in cols}, index=stat_names)
    stats.index.name = "statistic"
    return Comparison(estimates=est, std_errors=se, stats=stats, kinds={c.name: c.kind for c in cols},
                      notes=notes)
