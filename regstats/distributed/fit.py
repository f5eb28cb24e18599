"""``rs.lasso / ridge / elastic_net(formula, ddf)`` on a dask DataFrame: the path from one pass of
sufficient statistics (two when text columns need their factor levels learned first);
``rs.cv_elastic_net(formula, ddf)``: every mixing's path and CV from the same passes.

The result is a :class:`DaskPath`, a :class:`~regstats.path.Path` whose prepared problem is a
:class:`~regstats.distributed.gram.GramPrepared`; its statistics that need more data (CV,
bootstrap, stability) run one more pass each (:mod:`regstats.distributed.stats`).
See docs/distributed.md.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field, fields
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import _validate as check
from .. import engine
from ..design import build_design
from ..errors import DataError, FormulaError, ParameterError
from .._warn import _check_gaussian_rows, _warn_unconverged
from ..path import Fit, Path, _coef_frame, _Options, _caller_namespace, _penalty_vector
from . import passes
from .passes import _raise_bad
from .gram import NoRows, prepared, rows_needed

__all__ = ["is_dask_frame", "elastic_net", "cv_elastic_net", "DaskPath", "DaskFit", "MAX_P"]

#: most design columns on the dask path: each partition task returns (folds + 1) p x p matrices
#: (p = 1000: 8 MB each); beyond, bring the data into memory (or sample rows) and use pandas
MAX_P = 1000

#: rows of the first partition the design recipe is learned from (levels come from a pass)
_PROTOTYPE_ROWS = 200

_STATEFUL = re.compile(r"\b(center|standardize|scale|bs|cr|cc|te)\s*\(")


def is_dask_frame(data: Any) -> bool:
    """Whether ``data`` is a dask DataFrame (without importing dask)."""
    return type(data).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(data, "to_delayed") \
        and hasattr(data, "npartitions") and hasattr(data, "columns")


@dataclass(frozen=True, eq=False)
class _DaskDesign:
    """The design of a dask-backed path: the recipe and the counts, no rows."""

    spec: Any
    n_rows: int
    n_dropped: int

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(self.spec.column_names)

    @property
    def X(self) -> np.ndarray:
        raise rows_needed("the design matrix of the rows fitted")

    @property
    def y(self) -> np.ndarray:
        raise rows_needed("the response of the rows fitted")

    @property
    def rows(self) -> np.ndarray:
        raise rows_needed("the positions of the rows fitted")


def _prototype(ddf: Any, columns: Sequence[str], levels: Mapping[str, list]) -> pd.DataFrame:
    """A few rows to learn the design recipe from, text columns as categoricals of their levels."""
    with warnings.catch_warnings():   # dask warns when the first partition has fewer rows
        warnings.filterwarnings("ignore", message="Insufficient elements for `head`")
        head = ddf[list(columns)].head(_PROTOTYPE_ROWS, npartitions=1, compute=True)
        if len(head) == 0:   # an empty first partition: look further (a scan, rare)
            head = ddf[list(columns)].head(_PROTOTYPE_ROWS, npartitions=-1, compute=True)
    if len(head) == 0:
        raise DataError("the dask DataFrame has no rows")
    head = head.reset_index(drop=True)
    for c, cats in levels.items():
        if c in head.columns:
            head[c] = pd.Categorical(head[c].astype(object) if isinstance(head[c].dtype, pd.CategoricalDtype)
                                     else head[c], categories=list(cats))
    return head


def _check_magnitudes(amax: np.ndarray, names: Sequence[str], n: int) -> None:
    """:func:`regstats.path._check_magnitudes` from the columns' largest |value| (one pass)."""
    big = float(np.sqrt(np.finfo(float).max / max(n, 1))) * 1e-3
    for bad, what, fix in ((amax > big, "large", "divide it by a power of ten"),
                           ((amax > 0) & (amax < 1e-160), "small", "multiply it by a power of ten")):
        if bad.any():
            cols = [names[j] for j in np.flatnonzero(bad)]
            raise DataError(f"design column(s) {cols[:10]} have values too {what} for double precision "
                            f"(largest |value| {amax[bad][0]:.3g}); {fix} before fitting")


def _duplicates(prep: engine.Prepared, names: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs of design columns equal in the rows used, from the Gram matrix (equal means and
    scales, correlation 1 to rounding); the pandas path confirms on the rows, which we do not keep."""
    G = prep.gram[0]
    d = np.sqrt(np.maximum(np.diag(G), 0.0))
    out, seen = [], set()
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if j in seen or prep.constant[i] or prep.constant[j]:
                continue
            if (np.isclose(prep.x_mean[i], prep.x_mean[j], rtol=1e-12, atol=0.0)
                    and np.isclose(prep.x_scale[i], prep.x_scale[j], rtol=1e-12, atol=0.0)
                    and G[i, j] >= (1.0 - 1e-12) * d[i] * d[j]):
                out.append((names[i], names[j]))
                seen.add(j)
    return out


def gather(formula: str, ddf: Any, weights: str | None, _exclude: Sequence[str] = ()) -> tuple:
    """The design recipe and the full data's statistics: (design, job, pass result, columns read,
    passes made).  Independent of the penalty, so one gather serves every l1_ratio."""
    columns = [str(c) for c in ddf.columns]
    if weights is not None and (not isinstance(weights, str) or weights not in columns):
        raise ParameterError(f"weights must be a column name of the dask DataFrame; got {weights!r}")
    if _STATEFUL.search(formula):
        raise FormulaError(f"formula {formula!r} uses a stateful transform (center, standardize, scale, bs, "
                           "cr, cc, te), whose state the dask backend would learn from a few rows only; "
                           "compute the column in the dask DataFrame first")
    from ..design import _split_formula

    lhs, _ = _split_formula(formula)
    response = lhs.strip()
    passes.check_formula_response(response, columns)
    exclude = [c for c in (weights, *_exclude) if isinstance(c, str)]
    used = passes.columns_needed(ddf, formula, [response] + exclude)
    need, levels = passes.text_columns(ddf, [c for c in used if c not in (response, weights)])
    n_passes = 1
    if need:
        _, learned = passes.first_pass(ddf, need)
        levels.update(learned)
        n_passes += 1
    design = build_design(formula, _prototype(ddf, used, levels), namespace=_caller_namespace(),
                          exclude=exclude)
    names = list(design.column_names)
    p = len(names)
    if p > MAX_P:
        raise ParameterError(f"the design has {p} columns; the dask backend sums p x p Gram matrices per "
                             f"partition and fold and takes at most {MAX_P}. Fit it in memory instead "
                             "(ddf.compute() and the pandas path, whose residual solver handles wide "
                             "designs), or on a row sample")
    job = passes.Job(spec=design.spec, response=response, weights=weights, levels=levels, mode="one")
    res = passes.run(ddf, job, np.zeros(ddf.npartitions, dtype=np.int64), used)
    _raise_bad(res["bad"], names, response, weights)
    return design, job, res, used, n_passes


def elastic_net(formula: str, ddf: Any, l1_ratio: float = 0.5, *, lambdas: Sequence[float] | None = None,
                n_lambda: int = 100, lambda_min_ratio: float | None = None, standardize: bool = True,
                penalty_factor: Any = None, weights: str | None = None, tol: float = 1e-7,
                max_iter: int = 100_000, y_scale: float | None = None, family: str = "gaussian",
                offset: Any = None, _exclude: Sequence[str] = (), _gathered: tuple | None = None) -> "DaskPath":
    """:func:`regstats.elastic_net` on a dask DataFrame (same arguments; ``weights`` a column name)."""
    if family != "gaussian" or offset is not None:
        raise ParameterError(f"family must be 'gaussian' on a dask DataFrame (got {family!r}"
                             f"{', and an offset' if offset is not None else ''}): binomial and Poisson fits "
                             "need one pass per IRLS step, planned in docs/distributed.md; for now bring the "
                             "rows into memory (ddf.compute()) or fit a sample with the pandas path")
    if not isinstance(formula, str):
        raise FormulaError(f"formula must be a string such as 'y ~ x1 + x2'; got {type(formula).__name__}")
    from ..path import check_path_options

    a, n_lambda, lambda_min_ratio, tol, max_iter, lam_user, y_scale = check_path_options(
        l1_ratio, n_lambda, lambda_min_ratio, standardize, tol, max_iter, lambdas, y_scale)
    if _gathered is None:
        _gathered = gather(formula, ddf, weights, _exclude)
    design, job, res, used, n_passes = _gathered
    names = list(design.column_names)
    response = job.response
    groups = res.get("groups") or {}
    n_data = int(sum(res["lengths"]))
    if not groups:
        raise DataError(f"no rows left after dropping rows with missing values (all {n_data} had some)")
    st = groups[0]
    n = int(round(float(st.rows[0])))
    if weights is not None and not st.W[0] > 0:
        raise DataError("weights must not all be zero")
    _check_magnitudes(res["amax"], names, n)
    v = _penalty_vector(penalty_factor, design)
    prep = prepared(st, intercept=design.spec.intercept, standardize=bool(standardize), penalty_factor=v,
                    y_scale=y_scale, unit_weights=weights is None)
    _check_gaussian_rows(prep, names, _duplicates(prep, names), response)
    lams = lam_user if lam_user is not None else engine.lambda_grid(prep, a, n_lambda, lambda_min_ratio)
    sol = engine.solve(prep, a, lams, tol=tol, max_iter=max_iter)
    _warn_unconverged(sol)
    coef = _coef_frame(sol, design)
    opts = _Options(l1_ratio=a, standardize=bool(standardize), weights=None if weights is None else
                    NoRows("the per-row weights"), penalty_factor=v, tol=tol, max_iter=max_iter,
                    lambda_min_ratio=lambda_min_ratio, user_lambdas=lam_user is not None, y_scale=y_scale)
    lengths = np.asarray(res["lengths"], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return DaskPath(formula=formula, l1_ratio=a, lambdas=lams, coef=coef, n_obs=n, n_dropped=int(res["dropped"]),
                    standardize=bool(standardize), column_names=tuple(names), terms=dict(design.spec.terms),
                    converged=sol.converged, method=sol.method,
                    _design=_DaskDesign(spec=design.spec, n_rows=n_data, n_dropped=int(res["dropped"])),
                    _prep=prep, _solution=sol, _options=opts, _data=ddf, _job=job, _offsets=offsets,
                    _columns=tuple(used), _stats=st, _fit_passes=n_passes)


@dataclass(frozen=True, eq=False)
class DaskPath(Path):
    """A :class:`~regstats.path.Path` fitted on a dask DataFrame from sufficient statistics.

    Everything a Gram matrix determines works as on a pandas path (coefficients, ``table``,
    ``at``, ``information_criteria``, ``bias_variance(method="analytic")``); ``cv``,
    ``stability`` and ``Fit.bootstrap`` make one more pass over the data each.  What needs the rows
    themselves (fitted values of the training rows, refits on row subsets, residual-based
    statistics) raises :class:`~regstats.distributed.gram.RowsNeeded`; see docs/distributed.md.
    """

    _job: Any = field(repr=False, default=None)
    _offsets: np.ndarray = field(repr=False, default=None)     # first data row of each partition
    _columns: tuple = field(repr=False, default=())            # columns a pass reads
    _stats: Any = field(repr=False, default=None)              # the full data's statistics
    _fit_passes: int = field(repr=False, default=1)

    # -- what needs rows ----------------------------------------------------------------------
    @property
    def _model(self) -> engine.Model:
        raise rows_needed("refitting on row subsets")

    def _refit(self, *args: Any, **kwargs: Any):
        raise rows_needed("refitting on row subsets")

    def _rows_of(self, newdata: Any) -> tuple[np.ndarray, pd.Index]:
        if newdata is None:
            raise rows_needed("predicting the rows fitted (newdata=None)")
        return super()._rows_of(newdata)

    def predict(self, newdata: Any = None, lam: Any = None, **kwargs: Any) -> Any:
        """As :meth:`Path.predict`; a dask DataFrame ``newdata`` gives a lazy dask DataFrame."""
        if newdata is not None and is_dask_frame(newdata):
            base = super().predict
            lams = self.lambdas if lam is None else np.atleast_1d(np.asarray(lam, dtype=float))
            meta = pd.DataFrame({float(l): pd.Series(dtype=float) for l in lams})
            return newdata.map_partitions(lambda part: _flat(base(part, lam, **kwargs)), meta=meta)
        return super().predict(newdata, lam, **kwargs)

    def loo(self):
        raise rows_needed("ridge leave-one-out (per-row leverages)")

    def relax(self, gammas: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0)):
        raise rows_needed("the relaxed lasso's cross-validation")

    # -- statistics from more passes ---------------------------------------------------------------
    def at(self, lam: float) -> "DaskFit":
        fit = super().at(lam)
        return DaskFit(**{f.name: getattr(fit, f.name) for f in fields(fit)})

    def cv(self, folds: int = 10, foldid: Any = None, seed: Any = None, n_jobs: int = 1, **kwargs: Any):
        """K-fold CV from per-fold statistics gathered in one pass (:func:`regstats.distributed.stats.cross_validate`)."""
        from .stats import cross_validate

        return cross_validate(self, folds=folds, foldid=foldid, seed=seed, **kwargs)

    def bias_variance(self, method: str = "analytic", mu: Any = None, sigma: float | None = None,
                      n_rep: int = 200, seed: Any = None, n_jobs: int = 1, **kwargs: Any):
        """Analytic (ridge) bias-variance from the Gram matrix; the other methods refit rows."""
        from .stats import bias_variance

        return bias_variance(self, method=method, mu=mu, sigma=sigma, **kwargs)

    def stability(self, threshold: float = 0.75, pfer: float | None = None, seed: Any = None,
                  n_jobs: int = 1, **kwargs: Any):
        """Complementary-pairs stability selection with hashed halves, all in one pass."""
        from .stats import stability_selection

        return stability_selection(self, threshold=threshold, pfer=pfer, seed=seed, **kwargs)

    def save(self, file: Any) -> None:
        from ..persist import save_path

        save_path(self, file)

    def __repr__(self) -> str:
        return (f"<DaskPath {self.penalty} {self.formula!r}: {len(self.lambdas)} lambdas, "
                f"{len(self.column_names)} columns, {self.n_obs} rows>")


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [float(c) for c in frame.columns]
    return frame


@dataclass(frozen=True, eq=False)
class DaskFit(Fit):
    """A :class:`~regstats.path.Fit` of a :class:`DaskPath` (bootstrap and inference from statistics)."""

    def bootstrap(self, n_boot: int = 500, seed: Any = None, n_jobs: int = 1, **kwargs: Any):
        """Poisson(1)-weight bootstrap, the B weighted Gram matrices in one pass
        (:func:`regstats.distributed.stats.bootstrap`)."""
        from .stats import bootstrap

        return bootstrap(self, n_boot=n_boot, seed=seed, **kwargs)

    def inference(self, method: str = "desparsified", level: float = 0.95, **kwargs: Any):
        """Desparsified lasso (nodewise lasso on the Gram matrix) or ridge standard errors."""
        from .stats import inference

        return inference(self, method=method, level=level, **kwargs)


# ------------------------------------------------------------------------------------------------
# CV over (l1_ratio, lambda): one statistics pass and one fold pass for every l1_ratio
# ------------------------------------------------------------------------------------------------
def cv_elastic_net(formula: str, ddf: Any, l1_ratios: Any = (0.1, 0.5, 0.7, 0.9, 0.95, 0.99, 1.0),
                   folds: int = 10, foldid: Any = None, seed: Any = None, *, groups: Any = None,
                   n_repeats: int = 1, loss: Any = None, stratify: bool = False, **path_kwargs: Any):
    """:func:`regstats.cv_elastic_net` on a dask DataFrame: the full data's and the folds'
    statistics do not depend on the penalty, so every l1_ratio's path and CV come from the same two
    passes (three with text factors)."""
    from ..cv import check_l1_ratios, mixings_result
    from .stats import cv_from_stats, fold_statistics

    ratios = check_l1_ratios(l1_ratios)
    if loss not in (None, "mse"):
        raise rows_needed(f"loss={loss!r}")
    if groups is not None or stratify:
        raise ParameterError("groups and stratify are not available on a dask path; give a fold column as foldid=")
    if check.positive_int("n_repeats", n_repeats) != 1:
        raise ParameterError(f"n_repeats must be 1 on a dask path; got {n_repeats}")
    path_kwargs.pop("n_jobs", None)
    exclude = list(path_kwargs.pop("_exclude", ())) + ([foldid] if isinstance(foldid, str) else [])
    gathered = gather(formula, ddf, path_kwargs.get("weights"), exclude)
    paths = [elastic_net(formula, ddf, a, _exclude=exclude, _gathered=gathered, **path_kwargs) for a in ratios]
    _, st = fold_statistics(paths[0], folds, foldid, seed)
    results = tuple(cv_from_stats(p, st, p._options.tol) for p in paths)
    return mixings_result(ratios, results)
