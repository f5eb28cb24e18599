"""Penalized regression paths from a formula on a pandas DataFrame: :func:`elastic_net`, behind
the public ``rs.elastic_net`` / ``lasso`` / ``ridge`` (:mod:`regstats.api`).

The results are values: :class:`Path` (the whole lambda path) and :class:`Fit` (one lambda).
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import _validate as check
from . import engine
from ._summary import Summary
from ._warn import _check_gaussian_rows, _warn_unconverged
from .design import Design, as_frame, build_design, row_vector
from .dof import df_at, df_path
from .errors import DataError, ParameterError
from .family import GAUSSIAN, Family, family_of, on_scale

if TYPE_CHECKING:  # pragma: no cover
    from .biasvar import BiasVariance  # noqa: F401

__all__ = ["elastic_net", "Path", "Fit"]


def _caller_namespace() -> dict[str, Any]:
    """Variables of the first frame outside regstats, so formulas can use the caller's names."""
    frame = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("regstats"):
        frame = frame.f_back
    if frame is None:  # pragma: no cover
        return {}
    ns = dict(frame.f_globals)
    ns.update(frame.f_locals)
    return ns


def _penalty_vector(penalty_factor: Any, design: Design) -> np.ndarray | None:
    names = design.column_names
    p = len(names)
    if penalty_factor is None:
        return None
    if isinstance(penalty_factor, Mapping):
        v = np.ones(p)
        pos = {c: j for j, c in enumerate(names)}
        for key, val in penalty_factor.items():
            if key in pos:
                cols = [pos[key]]
            elif key in design.spec.terms:
                cols = [pos[c] for c in design.spec.terms[key]]
            else:
                raise ParameterError(
                    f"penalty_factor names {key!r}, which is neither a design column nor a formula term; "
                    f"terms are {list(design.spec.terms)[:20]}")
            v[cols] = check.real_in(f"penalty_factor[{key!r}]", val, 0.0, np.inf)  # inf: excluded
    else:
        if isinstance(penalty_factor, str) or (isinstance(penalty_factor, (list, tuple)) and any(
                isinstance(x, (str, bytes)) for x in penalty_factor)):
            key = penalty_factor if isinstance(penalty_factor, str) else "x1"
            raise ParameterError(f"penalty_factor must be numbers (one per design column) or a dict of "
                                 f"column/term names to numbers; got {penalty_factor!r}. To leave "
                                 f"{key!r} unpenalized write penalty_factor={{{key!r}: 0}}")
        try:
            v = np.asarray(penalty_factor, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ParameterError(f"penalty_factor must be numbers (one per design column) or a dict of "
                                 f"column/term names; got {type(penalty_factor).__name__}") from None
        if v.shape != (p,):
            raise ParameterError(f"penalty_factor must have one entry per design column ({p}) or be a dict "
                                 f"of column/term names; got length {v.size}")
        if np.any(np.isnan(v)) or np.any(v < 0):
            raise ParameterError(f"penalty_factor must be numbers >= 0 (inf excludes a column); got "
                                 f"{v[(v < 0) | np.isnan(v)][:5].tolist()}")
    fin = np.isfinite(v)
    if not np.any(fin & (v > 0)):
        raise ParameterError("penalty_factor must leave at least one column penalized (a factor > 0 and not "
                             "inf); got " + ("all zeros" if not np.any(v > 0) else "none penalized"))
    return v


def _duplicate_columns(X: np.ndarray, names: Sequence[str],
                       prep: engine.Prepared | None = None) -> list[tuple[str, str]]:
    """Pairs of identical design columns: candidates, then an exact check.

    Candidates are columns with equal means and scales whose correlation is 1 to rounding when the
    prepared Gram matrix exists (no pass over X), else neighbours in a random projection.
    """
    p = X.shape[1]
    if p < 2:
        return []
    if prep is not None and "gram" in prep.__dict__ and prep.unit_weights and prep.rows is None:
        G = prep.gram[0]
        d = np.sqrt(np.maximum(np.diag(G), 0.0))
        same = np.isclose(prep.x_mean[:, None], prep.x_mean[None, :], rtol=1e-12, atol=0.0)
        same &= np.isclose(prep.x_scale[:, None], prep.x_scale[None, :], rtol=1e-12, atol=0.0)
        corr1 = G >= (1.0 - 1e-9) * np.outer(d, d)
        const = prep.constant
        same &= np.where(const[:, None] & const[None, :], True, corr1 & ~const[:, None] & ~const[None, :])
        i_idx, j_idx = np.nonzero(np.triu(same, 1))
        cand = sorted(zip(i_idx.tolist(), j_idx.tolist()))
        # consecutive members of each group, as the projection below reports them
        nxt: dict[int, int] = {}
        for i, j in cand:
            if i not in nxt or j < nxt[i]:
                nxt[i] = j
        pairs = sorted(nxt.items())
    else:
        u = np.random.default_rng(0).standard_normal(X.shape[0])
        h = X.T @ u
        order = np.argsort(h, kind="stable")
        hs = h[order]
        tol = 1e-9 * (np.abs(hs[:-1]) + np.abs(hs[1:]) + 1e-300)
        close = np.flatnonzero(np.abs(np.diff(hs)) <= tol)
        pairs = [tuple(sorted((int(order[k]), int(order[k + 1])))) for k in close]
    dups = []
    seen: set[int] = set()
    for i, j in pairs:
        if j not in seen and np.array_equal(X[:, i], X[:, j]):
            dups.append((names[i], names[j]))
            seen.add(j)
    return dups


#: columns whose largest |value| is below this are refused: their squares (1e-320) are near the
#: smallest subnormal number and the variance keeps too few digits; 1e-160 still fits to 1e-7
_TINY_COLUMN = 1e-160


def _check_magnitudes(X: np.ndarray, names: Sequence[str]) -> None:
    """Refuse design columns whose sums of squares overflow, or underflow to nothing, in double
    precision, naming them and the fix; every other magnitude is fitted (the constancy check is
    relative to the column's size)."""
    if X.size == 0:
        return
    mag = np.maximum(X.max(axis=0), -X.min(axis=0))
    big = float(np.sqrt(np.finfo(float).max / max(X.shape[0], 1))) * 1e-3
    for bad, what, fix in ((mag > big, "large", "divide it by a power of ten"),
                           ((mag > 0) & (mag < _TINY_COLUMN), "small", "multiply it by a power of ten")):
        if bad.any():
            cols = [names[j] for j in np.flatnonzero(bad)]
            raise DataError(f"design column(s) {cols[:10]} have values too {what} for double precision "
                            f"(largest |value| {mag[bad][0]:.3g}): their sums of squares "
                            f"{'overflow' if what == 'large' else 'underflow'}; {fix} before fitting "
                            "(coefficients scale inversely, predictions do not change)")


@dataclass(frozen=True, eq=False)
class _Options:
    l1_ratio: float
    standardize: bool
    weights: np.ndarray | None
    penalty_factor: np.ndarray | None
    tol: float
    max_iter: int
    lambda_min_ratio: float | None
    user_lambdas: bool
    y_scale: float | None = None
    #: binomial / Poisson: the offset of the rows used (None: none) and its column name, if any
    offset: np.ndarray | None = None
    offset_name: str | None = None


@dataclass(frozen=True, eq=False)
class Path:
    """A penalized regression path: one solution per lambda.

    Attributes
    ----------
    formula : str
    l1_ratio : float
    lambdas : ndarray, decreasing.
    coef : DataFrame, index ``lambda``, columns ``Intercept`` (if any) then the design columns,
        original scale.
    table : DataFrame with ``lambda, df, n_nonzero, r2`` (r2 = fraction of null deviance explained),
        computed on first access and cached: the elastic-net df is a trace formula on the active
        set at every lambda, on wide problems costlier than the fit, so a fit does not pay for it
        until ``table`` (or ``at``, ``summary``, ``cv``, ...) is used.
    n_obs, n_dropped : rows used and rows dropped for missing values.
    """

    formula: str
    l1_ratio: float
    lambdas: np.ndarray
    coef: pd.DataFrame
    n_obs: int
    n_dropped: int
    standardize: bool
    column_names: tuple[str, ...]
    terms: Mapping[str, tuple[str, ...]]
    converged: np.ndarray
    method: str
    _design: Design = field(repr=False)
    _prep: engine.Prepared = field(repr=False)
    _solution: engine.Solution = field(repr=False)
    _options: _Options = field(repr=False)
    _data: pd.DataFrame = field(repr=False)
    #: the response family: ``"gaussian"``, ``"binomial"`` or ``"poisson"``
    family: str = "gaussian"
    #: binomial responses coded from labels: (level coded 0, level modelled as 1)
    levels: tuple[str, str] | None = None

    # -- basic views -------------------------------------------------------------------------
    @cached_property
    def table(self) -> pd.DataFrame:
        """``lambda, df, n_nonzero, r2``, one row per lambda (computed on first access, then cached)."""
        sol, prep = self._solution, self._prep
        if self.family != "gaussian":
            from .glm_model import glm_df

            dfs = glm_df(prep, sol, self.l1_ratio)
        else:
            # the Gram matrix is there when the solver used it (fixed by the problem's shape)
            gram = prep.gram[0] if "gram" in prep.__dict__ else None
            dfs = df_path(prep, sol.beta, self.lambdas, self.l1_ratio, gram=gram)
        return pd.DataFrame({"lambda": self.lambdas, "df": dfs, "n_nonzero": (sol.coef != 0).sum(axis=1),
                             "r2": sol.r2})

    @property
    def penalty(self) -> str:
        """``"lasso"``, ``"ridge"`` or ``"elastic net"``."""
        return "lasso" if self.l1_ratio == 1 else "ridge" if self.l1_ratio == 0 else "elastic net"

    @property
    def intercept(self) -> bool:
        return self._design.spec.intercept

    @property
    def response(self) -> str:
        return self._design.spec.response

    def to_frame(self) -> pd.DataFrame:
        """Tidy coefficients: one row per (lambda, term) with ``lambda, term, estimate``."""
        long = self.coef.reset_index().melt(id_vars="lambda", var_name="term", value_name="estimate")
        return long

    def at(self, lam: float) -> "Fit":
        """The fit at one lambda; off the grid it is solved exactly (warm-started from the grid).

        ``"lambda.1se"`` / ``"1se"`` / ``"lambda.min"`` / ``"min"`` need cross-validation:
        ``path.cv(...).at("1se")``.
        """
        lam = _lam_arg(lam)
        k = self._grid_index(lam)
        if k is not None:
            beta = self._solution.beta[k]
            coef = self._solution.coef[k]
            b0 = float(self._solution.intercept[k])
            rss = float(self._solution.rss[k])
            df = float(self.table["df"].iloc[k])
        else:
            sol = self._solve_off_grid(lam)
            beta, coef, b0, rss = sol.beta[0], sol.coef[0], float(sol.intercept[0]), float(sol.rss[0])
            if self.family != "gaussian":
                from .glm_model import glm_df

                df = float(glm_df(self._prep, sol, self.l1_ratio)[0])
            else:
                df = df_at(self._prep, beta, lam, self.l1_ratio)
        params = pd.Series(coef, index=list(self.column_names), name=lam)
        if self.intercept:
            params = pd.concat([pd.Series([b0], index=["Intercept"]), params])
        params.name = "estimate"
        yy = self._solution.yy
        r2 = 1.0 - rss / yy if yy > 0 else 0.0
        return self._fit(lam, params, df, r2, beta)

    def _fit(self, lam: float, params: pd.Series, df: float, r2: float, beta: np.ndarray) -> "Fit":
        """A :class:`Fit` of this path from its numbers (:meth:`at`, and the relaxed fits of
        :mod:`regstats.relaxed`): ``beta`` the coefficients on the prepared scale."""
        return Fit(lam=float(lam), l1_ratio=self.l1_ratio, params=params, df=float(df), r2=float(r2),
                   formula=self.formula, path=self, _beta=np.asarray(beta))

    def _grid_index(self, lam: float) -> int | None:
        hit = np.flatnonzero(np.isclose(self.lambdas, lam, rtol=1e-12, atol=0.0))
        return int(hit[0]) if hit.size else None

    def _solve_off_grid(self, lam: float) -> engine.Solution:
        above = np.flatnonzero(self.lambdas > lam)
        if self.family != "gaussian":
            # IRLS warm-starts along a grid: the path's lambdas above lam, then lam
            grid = np.concatenate([self.lambdas[above], [lam]])
            sol = self._model.solve(self._prep, grid)
            sol = engine._rows_of(sol, np.array([len(grid) - 1]), np.array([lam]))
            _warn_unconverged(sol)
            return sol
        beta0 = self._solution.beta[above[-1]] if above.size else None
        sol = engine.solve(self._prep, self.l1_ratio, np.array([lam]), tol=self._options.tol,
                           max_iter=self._options.max_iter, beta0=beta0)
        _warn_unconverged(sol)
        return sol

    def predict(self, newdata: pd.DataFrame | None = None, lam: float | Sequence[float] | None = None,
                type: str = "response", offset: Any = None) -> pd.DataFrame:
        """Predictions for new rows, one column per lambda (all grid lambdas when ``lam`` is None).

        ``newdata`` goes through the same formula transforms as the fit (factor levels, ``np.log``,
        interactions); None predicts the rows used in the fit.  Rows with missing values give NaN.
        ``type`` (binomial and Poisson, glmnet's): ``"response"`` (default: probabilities, or
        expected counts), ``"link"`` (log-odds, log-rate) or ``"class"`` (binomial: the more
        probable level, at probability 0.5).  ``offset``: the new rows' offset when the model has
        one given as an array (an offset column is read from ``newdata``).
        """
        X, index = self._rows_of(newdata)
        typ = check.choice("type", type, ("response", "link", "class"))
        if lam is None:
            lams = self.lambdas
            coef, b0 = self._solution.coef, self._solution.intercept
        else:
            lams = np.array([_lam_arg(l) for l in np.atleast_1d(np.asarray(lam, dtype=object))], dtype=float)
            fits = [self.at(float(l)) for l in lams]
            coef = np.array([f.params[list(self.column_names)].to_numpy() for f in fits])
            b0 = np.array([f.intercept for f in fits])
        pred = X @ coef.T + b0[None, :]
        if self.family != "gaussian":
            pred += self._offset_of(newdata, offset, len(index))[:, None]
        pred = on_scale(self.family, pred, typ, self.levels)
        out = pd.DataFrame(pred, index=index, columns=pd.Index(lams, name="lambda"))
        return out

    def _offset_of(self, newdata: Any, offset: Any, n: int) -> np.ndarray:
        """The offset of the rows predicted (zeros for a model without one)."""
        o = self._options
        if o.offset is None:
            if offset is not None:
                raise ParameterError("offset is for models fitted with an offset; this one has none")
            return np.zeros(n)
        if newdata is None:
            return o.offset if offset is None else np.asarray(offset, dtype=float)
        if offset is None and o.offset_name is not None:
            frame = as_frame(newdata, allow_empty=True, name="newdata")
            if o.offset_name not in frame.columns:
                raise DataError(f"newdata must have the offset column {o.offset_name!r}")
            return frame[o.offset_name].to_numpy(dtype=float)
        if offset is None:
            raise ParameterError("this model has an offset: give the new rows' offset, predict(newdata, offset=...)")
        arr = np.asarray(offset, dtype=float).ravel()
        if arr.shape != (n,):
            raise DataError(f"offset must have one entry per row of newdata ({n}); got {arr.size}")
        return arr

    def _rows_of(self, newdata: Any) -> tuple[np.ndarray, pd.Index]:
        """Design rows and index for ``newdata`` (a DataFrame or a dict of columns; None: the fit's rows)."""
        if newdata is None:
            return self._design.X, self._data.index[self._design.rows]
        frame = as_frame(newdata, allow_empty=True, name="newdata")
        return self._design.spec.transform(frame), frame.index

    def plot(self, cv: Any = None, *, ax: Any = None, xvar: str = "lambda", **kwargs: Any) -> Any:
        """Coefficient paths (glmnet's ``plot(fit)``), the largest labelled at the fitted end;
        returns the matplotlib Axes.  ``xvar="lambda"`` (log lambda) or ``"norm"`` (L1-norm
        fraction); ``cv`` marks its choices.  Keywords go to :func:`regstats.report.plots.plot_path`.
        """
        from .report.plots import plot_path

        return plot_path(self, cv=cv, ax=ax, xvar=xvar, **kwargs)

    # -- refitting on row subsets (used by CV, bootstrap and simulation) ------------------------
    def _refit(self, rows: np.ndarray | None = None, *, y: np.ndarray | None = None,
               lambdas: np.ndarray | None = None, weights: np.ndarray | None = None,
               tol: float | None = None, y_scale: float | None = None) -> tuple[engine.Prepared, engine.Solution]:
        """Refit the same model on a subset of the design rows (and/or another response).

        ``rows`` index the rows used in the fit (0..n_obs-1); ``y`` replaces the response of
        those rows; ``weights`` replace the (subset of the) fit's weights.  Standardization is
        recomputed on the rows given, and so is s_y unless ``y_scale`` (or the path's own) fixes it.
        The lambda grid defaults to this path's.
        """
        model = self._model
        if y_scale is not None and self.family == "gaussian":
            model = dataclasses.replace(model, y_scale=float(y_scale))
        prep = model.prepare(rows, y=y, weights=weights)
        return prep, model.solve(prep, self.lambdas if lambdas is None else lambdas, tol=tol)

    @property
    def _model(self) -> engine.Model:
        """The arrays and options every refit (CV fold, bootstrap replicate) starts from."""
        o = self._options
        if self.family != "gaussian":
            from .glm_model import GLMModel

            return GLMModel(X=self._design.X, y=self._design.y, weights=o.weights, offset=o.offset,
                            penalty_factor=o.penalty_factor, standardize=self.standardize,
                            intercept=self.intercept, l1_ratio=self.l1_ratio, tol=o.tol, max_iter=o.max_iter,
                            family=family_of(self.family))
        return engine.Model(X=self._design.X, y=self._design.y, weights=o.weights,
                            penalty_factor=o.penalty_factor, standardize=self.standardize,
                            intercept=self.intercept, l1_ratio=self.l1_ratio, tol=o.tol,
                            max_iter=o.max_iter, y_scale=o.y_scale)

    # -- statistics (each in its own module) --------------------------------------------------
    def cv(self, folds: int = 10, foldid: Any = None, seed: Any = None, n_jobs: int = 1, **kwargs: Any):
        """K-fold cross-validation over this path's lambdas (see :func:`regstats.cv.cross_validate`)."""
        from .cv import cross_validate

        n_jobs = check.n_jobs(n_jobs)
        return cross_validate(self, folds=folds, foldid=foldid, seed=seed, n_jobs=n_jobs, **kwargs)

    def bias_variance(self, method: str = "simulation", mu: Any = None, sigma: float | None = None,
                      n_rep: int = 200, seed: Any = None, n_jobs: int = 1, **kwargs: Any) -> pd.DataFrame:
        """Bias-variance decomposition over lambda (see :func:`regstats.biasvar.bias_variance`)."""
        from .biasvar import bias_variance

        self._gaussian_only("bias_variance()", "the decomposition is of squared error under gaussian noise")
        n_jobs = check.n_jobs(n_jobs)
        return bias_variance(self, method=method, mu=mu, sigma=sigma, n_rep=n_rep, seed=seed,
                             n_jobs=n_jobs, **kwargs)

    def stability(self, threshold: float = 0.75, pfer: float | None = None, seed: Any = None,
                  n_jobs: int = 1, **kwargs: Any):
        """Stability selection over the path (see :func:`regstats.bootstrap.stability_selection`)."""
        from .bootstrap import stability_selection

        n_jobs = check.n_jobs(n_jobs)
        return stability_selection(self, threshold=threshold, pfer=pfer, seed=seed, n_jobs=n_jobs, **kwargs)

    def information_criteria(self, sigma2: Any = "auto", **kwargs: Any):
        """AIC, BIC, Cp and GCV along the path (see :func:`regstats.ic.information_criteria`)."""
        from .ic import information_criteria

        return information_criteria(self, sigma2=sigma2, **kwargs)

    def loo(self):
        """Exact ridge leave-one-out and GCV from one SVD (see :func:`regstats.ic.ridge_loo`)."""
        from .ic import ridge_loo

        self._gaussian_only("loo()", "the closed form is that of a linear smoother")
        return ridge_loo(self)

    def relax(self, gammas: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0)):
        """Relaxed refits on each active set, glmnet's ``relax=TRUE`` (see :func:`regstats.relaxed.relax`)."""
        from .relaxed import relax

        return relax(self, gammas=gammas)

    def _gaussian_only(self, what: str, why: str) -> None:
        """A clear error for a statistic that exists for gaussian paths only."""
        if self.family != "gaussian":
            raise ParameterError(f"{what} is for gaussian models only ({why}); this path is {self.family}. "
                                 "For binomial and Poisson paths: cv(), table (df, deviance ratio), relax(), "
                                 "information_criteria(), stability(), and at(lam).bootstrap() / .inference()")

    # -- persistence ----------------------------------------------------------------------------
    def save(self, file: Any) -> None:
        """Save the path as JSON (formula, design recipe, lambdas, coefficients, options; no data, no
        pickle), written atomically; :func:`regstats.load` reads it back and predicts identically."""
        from .persist import save_path

        save_path(self, file)

    # -- presentation ---------------------------------------------------------------------------
    def summary(self, max_rows: int = 20) -> Summary:
        """Header facts and a thinned path table (at most ``max_rows`` lambdas)."""
        tab = self.table
        if len(tab) > max_rows:
            pick = np.unique(np.linspace(0, len(tab) - 1, max_rows).round().astype(int))
            tab = tab.iloc[pick]
        info = [
            ("Formula", self.formula),
            *_family_info(self),
            ("Penalty", f"{self.penalty} (l1_ratio = {self.l1_ratio:g})"),
            ("Observations", f"{self.n_obs} used, {self.n_dropped} dropped for missing values"),
            ("Design columns", f"{len(self.column_names)}" + (" + intercept" if self.intercept else "")),
            ("Standardize", str(self.standardize)),
            ("Lambdas", f"{len(self.lambdas)} from {self.lambdas[0]:.4g} to {self.lambdas[-1]:.4g}"),
            ("Solver", f"{self.method}; converged at {int(self.converged.sum())}/{len(self.lambdas)} lambdas"),
        ]
        return Summary(title=f"Penalized {_family_title(self)}path: {self.penalty}", info=info,
                       tables=[("Path", tab.reset_index(drop=True))], index=False)

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        fam = "" if self.family == "gaussian" else f" {self.family}"
        return (f"<Path{fam} {self.penalty} {self.formula!r}: {len(self.lambdas)} lambdas, "
                f"{len(self.column_names)} columns, {self.n_obs} rows>")


@dataclass(frozen=True, eq=False)
class Fit:
    """The fit at one lambda.

    Attributes
    ----------
    lam, l1_ratio : the penalty.
    params : Series of original-scale coefficients indexed by design column name
        (``Intercept`` first when the model has one).
    df : effective degrees of freedom (intercept not counted).
    r2 : fraction of the null deviance explained.
    """

    lam: float
    l1_ratio: float
    params: pd.Series
    df: float
    r2: float
    formula: str
    path: Path = field(repr=False)
    _beta: np.ndarray = field(repr=False)

    @property
    def intercept(self) -> float:
        return float(self.params["Intercept"]) if "Intercept" in self.params.index else 0.0

    @property
    def coef(self) -> pd.Series:
        """Coefficients without the intercept."""
        return self.params[list(self.path.column_names)]

    @property
    def n_nonzero(self) -> int:
        return int((self.coef != 0).sum())

    @property
    def selected(self) -> tuple[str, ...]:
        """Design columns with a nonzero coefficient."""
        c = self.coef
        return tuple(c.index[c != 0])

    def predict(self, newdata: pd.DataFrame | None = None, type: str = "response",
                offset: Any = None) -> pd.Series:
        """Predictions for new rows (same formula transforms); None gives the fitted values.

        Binomial and Poisson: ``type="response"`` (probabilities / expected counts, the default),
        ``"link"`` (log-odds / log-rate) or ``"class"`` (binomial); ``offset`` as in
        :meth:`Path.predict`."""
        path = self.path
        typ = check.choice("type", type, ("response", "link", "class"))
        X, index = path._rows_of(newdata)
        eta = X @ self.coef.to_numpy() + self.intercept
        if path.family != "gaussian":
            eta += path._offset_of(newdata, offset, len(index))
        eta = on_scale(path.family, eta, typ, path.levels)
        return pd.Series(eta, index=index, name="prediction")

    def to_frame(self) -> pd.DataFrame:
        """Tidy coefficients: ``term, estimate``, and for binomial (Poisson) fits ``odds_ratio``
        (``rate_ratio``) = exp(estimate), the multiplicative effect of a unit change (the
        intercept's: the odds or the rate at x = 0)."""
        out = pd.DataFrame({"term": self.params.index, "estimate": self.params.to_numpy()})
        ratio = _RATIO_NAMES.get(self.path.family)
        if ratio is not None:
            out[ratio] = np.exp(out["estimate"].to_numpy())
        return out

    def plot(self, *, ax: Any = None, **kwargs: Any) -> Any:
        """The coefficient paths of the fit's path with this fit's lambda marked; returns the
        matplotlib Axes.  Keywords go to :func:`regstats.report.plots.plot_path`."""
        from .report.plots import plot_path

        return plot_path(self.path, ax=ax, mark=self.lam, **kwargs)

    def bootstrap(self, n_boot: int = 500, seed: Any = None, n_jobs: int = 1, **kwargs: Any):
        """Pairs-bootstrap coefficient stability (see :func:`regstats.bootstrap.bootstrap`)."""
        from .bootstrap import bootstrap

        n_jobs = check.n_jobs(n_jobs)
        return bootstrap(self, n_boot=n_boot, seed=seed, n_jobs=n_jobs, **kwargs)

    def inference(self, method: str = "desparsified", level: float = 0.95, **kwargs: Any):
        """Confidence intervals and p-values valid after penalization (see :mod:`regstats.inference`)."""
        from .inference import infer

        if self.path.family != "gaussian":
            if method != "desparsified":
                raise ParameterError(f"method={method!r} is for gaussian models only; a {self.path.family} fit "
                                     "has method='desparsified' (van de Geer et al. 2014)")
            from .glm_inference import glm_desparsified

            level = check.real_in("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
            return glm_desparsified(self, level=level, **kwargs)
        return infer(self, method=method, level=level, **kwargs)

    def summary(self, bootstrap: Any = None, inference: Any = None) -> Summary:
        """Header facts and the coefficient table.

        Results are frozen values, so uncertainty computed separately is passed in rather than
        cached on the fit: ``fit.summary(bootstrap=fit.bootstrap(...), inference=fit.inference())``
        adds the bootstrap selection frequency and the inference estimate (debiased, for the
        desparsified lasso), its interval and p-value next to the penalized estimate.
        """
        info = [("Formula", self.formula),
                *_family_info(self.path),
                ("Penalty", f"{self.path.penalty} (l1_ratio = {self.l1_ratio:g})"),
                ("lambda", f"{self.lam:.6g}"),
                ("Degrees of freedom", f"{self.df:.3f}"),
                ("Nonzero coefficients", f"{self.n_nonzero} of {len(self.path.column_names)}"),
                (("R-squared (deviance explained)" if self.path.family == "gaussian" else
                  "Deviance explained (deviance ratio)"), f"{self.r2:.4f}"),
                ("Observations", f"{self.path.n_obs} used, {self.path.n_dropped} dropped")]
        table = self.to_frame()
        notes = ["Penalized estimates are biased toward zero; use fit.inference() for "
                 "intervals that account for the penalty."]
        ratio = _RATIO_NAMES.get(self.path.family)
        if ratio is not None:
            notes.append(f"{ratio} = exp(estimate): the factor by which the "
                         f"{'odds' if ratio == 'odds_ratio' else 'expected count'} change per unit of the column.")
        if bootstrap is not None or inference is not None:
            from .inference import fit_summary_parts

            table, more_info, notes = fit_summary_parts(self, bootstrap, inference)
            info += more_info
        return Summary(title=f"Penalized {_family_title(self.path)}fit: {self.path.penalty}", info=info,
                       tables=[("Coefficients (original scale)", table)], index=False, notes=notes)

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        return f"<Fit {self.path.penalty} lambda={self.lam:.4g}: {self.n_nonzero} nonzero, df={self.df:.2f}>"


_RATIO_NAMES = {"binomial": "odds_ratio", "poisson": "rate_ratio"}


def _family_title(path: Path) -> str:
    return {"binomial": "logistic ", "poisson": "Poisson "}.get(path.family, "")


def _family_info(path: Path) -> list[tuple[str, str]]:
    """Header lines naming a non-gaussian family, what is modelled, and the offset."""
    if path.family == "gaussian":
        return []
    if path.family == "binomial":
        what = (f"P({path.response} = {path.levels[1]!r}) (level {path.levels[0]!r} is 0)" if path.levels
                else f"P({path.response} = 1)")
        info = [("Family", "binomial (logit link)"), ("Modelled", what)]
    else:
        info = [("Family", "Poisson (log link)"), ("Modelled", f"E[{path.response}]")]
    o = path._options
    if o.offset is not None:
        info.append(("Offset", o.offset_name or "given as an array"))
    return info


def _lam_arg(lam: Any) -> float:
    """One lambda of a path (not cross-validated): a number >= 0; ``"1se"`` and the like are an
    error that says how to cross-validate (the one helper: :func:`regstats._lam.resolve_lam`)."""
    from ._lam import resolve_lam

    return resolve_lam(lam, None)


def _coef_frame(sol: engine.Solution, design: Any) -> pd.DataFrame:
    """A solved path's original-scale coefficients, one row per lambda, ``Intercept`` first (a
    DataError if the solver produced non-finite numbers)."""
    if not (np.all(np.isfinite(sol.coef)) and np.all(np.isfinite(sol.intercept))):
        raise DataError("the solver produced non-finite coefficients; check the data for extreme values")
    cols = (["Intercept"] if design.spec.intercept else []) + list(design.column_names)
    coef_mat = np.column_stack([sol.intercept, sol.coef]) if design.spec.intercept else sol.coef
    return pd.DataFrame(coef_mat, index=pd.Index(sol.lambdas, name="lambda"), columns=cols)


def check_path_options(l1_ratio: Any, n_lambda: Any, lambda_min_ratio: Any, standardize: Any, tol: Any,
                       max_iter: Any, lambdas: Any, y_scale: Any) -> tuple:
    """:func:`elastic_net`'s numeric options validated (the pandas and the dask paths share it):
    ``(a, n_lambda, lambda_min_ratio, tol, max_iter, lambdas or None, y_scale)``."""
    a = check.real_in("l1_ratio", l1_ratio, 0.0, 1.0)
    n_lambda = check.positive_int("n_lambda", n_lambda)
    if lambda_min_ratio is not None:
        lambda_min_ratio = check.real_in("lambda_min_ratio", lambda_min_ratio, 0.0, 1.0, lo_open=True,
                                         hi_open=True)
    if not isinstance(standardize, (bool, np.bool_)):
        raise ParameterError(f"standardize must be True or False; got {standardize!r}")
    tol = check.real_in("tol", tol, 0.0, 1.0, lo_open=True)
    max_iter = check.positive_int("max_iter", max_iter)
    lam_user = check.lambdas(lambdas) if lambdas is not None else None
    if y_scale is not None:
        y_scale = check.real_in("y_scale", y_scale, 0.0, np.inf, lo_open=True, hi_open=True)
    return a, n_lambda, lambda_min_ratio, tol, max_iter, lam_user, y_scale


def elastic_net(formula: str, data: pd.DataFrame, l1_ratio: float = 0.5, *,
                lambdas: Sequence[float] | None = None, n_lambda: int = 100,
                lambda_min_ratio: float | None = None, standardize: bool = True,
                penalty_factor: Mapping[str, float] | Sequence[float] | None = None,
                weights: str | Sequence[float] | None = None, tol: float = 1e-7,
                max_iter: int = 100_000, y_scale: float | None = None, family: str = "gaussian",
                offset: str | Sequence[float] | None = None, _exclude: Sequence[str] = ()) -> Path:
    """:func:`regstats.elastic_net` on a pandas DataFrame (or a dict of columns): the same
    arguments, and ``_exclude``, the columns ``'.'`` leaves out (fold ids, groups:
    :func:`regstats.cv_elastic_net`)."""
    fam = family_of(family)
    a, n_lambda, lambda_min_ratio, tol, max_iter, lam_user, y_scale = check_path_options(
        l1_ratio, n_lambda, lambda_min_ratio, standardize, tol, max_iter, lambdas, y_scale)
    # string column names, so weights="0" finds an integer-named column (a non-string formula is
    # reported first: rs.lasso(X, y) is a formula mistake, not a data one)
    data_frame = as_frame(data) if isinstance(formula, str) else data
    exclude = [c for c in (weights, offset, *_exclude) if isinstance(c, str)]
    levels = None
    if fam is not GAUSSIAN:
        if y_scale is not None:
            raise ParameterError(f"y_scale is for gaussian models (the {fam.name} family has no response scale)")
        data_frame, levels = _code_response(formula, data_frame, fam)
    elif offset is not None:
        raise ParameterError("offset is for binomial and Poisson models (family='binomial' or 'poisson'); "
                             "for a gaussian model subtract it from the response")
    design = build_design(formula, data_frame, namespace=_caller_namespace(), exclude=exclude)
    w = row_vector(weights, data_frame, design, "weights")
    if w is not None:
        if np.any(w < 0):
            raise DataError("weights must be >= 0; got negative values")
        if not np.any(w > 0):
            raise DataError("weights must not all be zero")
    v = _penalty_vector(penalty_factor, design)
    names = design.column_names
    _check_magnitudes(design.X, names)
    if fam is not GAUSSIAN:
        from .glm_model import fit_glm

        prep, sol, off = fit_glm(design, data_frame, fam, a, lam_user, n_lambda, lambda_min_ratio,
                                 bool(standardize), w, v, offset, tol, max_iter)
        lams = sol.lambdas
    else:
        prep = engine.prepare(design.X, design.y, weights=w, penalty_factor=v, standardize=bool(standardize),
                              intercept=design.spec.intercept, y_scale=y_scale)
        _check_gaussian_rows(prep, names, _duplicate_columns(design.X, names, prep), design.spec.response)
        lams = lam_user if lam_user is not None else engine.lambda_grid(prep, a, n_lambda, lambda_min_ratio)
        sol = engine.solve(prep, a, lams, tol=tol, max_iter=max_iter)
        _warn_unconverged(sol)
        off = None
    coef = _coef_frame(sol, design)
    opts = _Options(l1_ratio=a, standardize=bool(standardize), weights=w, penalty_factor=v, tol=tol,
                    max_iter=max_iter, lambda_min_ratio=lambda_min_ratio, user_lambdas=lam_user is not None,
                    y_scale=y_scale, offset=off, offset_name=offset if isinstance(offset, str) else None)
    return Path(formula=formula, l1_ratio=a, lambdas=lams, coef=coef, n_obs=len(design.rows),
                n_dropped=design.n_dropped, standardize=bool(standardize), column_names=tuple(names),
                terms=dict(design.spec.terms), converged=sol.converged, method=sol.method,
                _design=design, _prep=prep, _solution=sol, _options=opts, _data=data_frame,
                family=fam.name, levels=levels)


def _code_response(formula: str, data: pd.DataFrame, fam: Family) -> tuple[pd.DataFrame, tuple[str, str] | None]:
    """A binomial response column given as labels (strings, a categorical, booleans) coded 0/1 as R
    does, in a shallow copy of the data; the levels (coded 0, coded 1) or None."""
    from .design import _split_formula
    from .family import BINOMIAL, code_binary_column

    if fam is not BINOMIAL or not isinstance(formula, str):
        return data, None
    lhs, _ = _split_formula(formula)
    if lhs not in data.columns:
        return data, None
    col = data[lhs]
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return data, None
    coded, levels = code_binary_column(col, lhs)
    data = data.copy(deep=False)
    data[lhs] = coded
    return data, levels
