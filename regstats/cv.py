"""K-fold cross-validation of penalized paths, matching ``cv.glmnet`` (docs/conventions.md, docs/cv.md).

The full-data path fixes the lambda grid.  Each fold refits the same model on the other folds,
re-standardizing on those training rows only and warm-starting along the full grid, and predicts
its held-out rows.  With fold losses ``e_k`` (weighted mean loss of the held-out rows) and fold
weights ``W_k`` (the sum of the held-out rows' weights)::

    cv_mean = sum_k W_k e_k / sum_k W_k
    cv_se   = sqrt( (sum_k W_k (e_k - cv_mean)^2 / sum_k W_k) / (K - 1) )

exactly as ``cv.glmnet(..., grouped=TRUE)``.  ``lambda_min`` minimises ``cv_mean`` (the largest
such lambda on ties) and ``lambda_1se`` is the *largest* lambda with
``cv_mean <= cv_mean(lambda_min) + cv_se(lambda_min)``.

Work is split into one task per (repeat, fold) and run with
:func:`regstats._parallel.parallel_map`, so any joblib backend (processes, threads, dask) gives
the same numbers; fold assignments are drawn in the calling process from ``seed``.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from . import _validate as check
from . import engine
from ._parallel import parallel_map, spawn_seeds
from ._lam import CV_CHOICES, cv_choice, resolve_lam  # noqa: F401  (lam="1se" everywhere)
from ._summary import Summary
from ._types import FitLike, PathLike
from .active_set import relaxed_refit
from .design import row_vector
from .errors import ConvergenceWarning, DataError, DesignWarning, ParameterError, user_stacklevel
from .folds import _check_loss, _combine, _loss, cv_stats, loss_name, make_folds, select_lambdas

__all__ = ["cross_validate", "cross_validate_mixings", "make_folds", "CVResult", "ElasticNetCV"]

Loss = Literal["mse", "mae", "deviance", "class", "auc"]


# ------------------------------------------------------------------------------------------------
# fold assignment
# ------------------------------------------------------------------------------------------------
def _normalise_foldid(foldid: np.ndarray) -> np.ndarray:
    labels, codes = np.unique(foldid, return_inverse=True)
    if len(labels) < 2:
        raise ParameterError(f"foldid must have at least 2 distinct folds; got {len(labels)}")
    return codes.ravel() + 1


# ------------------------------------------------------------------------------------------------
# the picklable problem each fold task refits (a slim copy of what Path._refit uses)
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Problem:
    model: engine.Model                  # the arrays and options (see Path._refit)
    lambdas: np.ndarray
    gammas: np.ndarray | None = None     # relaxed fits (see regstats.relaxed)
    cross: engine.Cross | None = None    # full-data cross-products: folds down-date them


def _problem_of(path: "PathLike", tol: float | None = None, gammas: np.ndarray | None = None) -> _Problem:
    model = path._model
    if tol is not None:
        model = dataclasses.replace(model, tol=float(tol))
    return _Problem(model=model, lambdas=path.lambdas, gammas=gammas)


def _fold_task(task: tuple[_Problem, np.ndarray, np.ndarray]) -> tuple[Any, np.ndarray]:
    """Refit on the training rows (standardized on them), predict the held-out rows.

    Returns predictions (n_test x n_lambda, or n_gamma x n_test x n_lambda for relaxed fits), or
    the fold path's (coef, intercept) when that is smaller (see :func:`_predictions`), and the
    converged flags of the fold's path.  The same refit as :meth:`regstats.path.Path._refit`.
    """
    prob, train, test = task
    model = prob.model
    if prob.cross is not None and engine._wants_gram(len(train), model.X.shape[1]):
        prep = model.prepare_fold(train, test, prob.cross)  # Gram route: down-date, no O(n p^2)
    else:
        prep = model.prepare(train)
    sol = model.solve(prep, np.asarray(prob.lambdas))
    fit = (sol.coef, sol.intercept)
    if prob.gammas is None:
        # with more held-out rows than columns the coefficients are the smaller result to send
        # back from a worker, and the caller predicts
        return (fit if len(test) > model.X.shape[1] else _predictions(model, test, fit)), sol.converged
    pred = _predictions(model, test, fit)
    pred_ols = _predictions(model, test, relaxed_refit(prep, sol.beta, (sol.coef, sol.intercept)))
    g = prob.gammas[:, None, None]
    return g * pred[None] + (1.0 - g) * pred_ols[None], sol.converged


def _predictions(model: engine.Model, test: np.ndarray, result) -> np.ndarray:
    """A fold task's held-out predictions: as returned, or from its (coef, intercept) path."""
    if not isinstance(result, tuple):
        return result
    coef, intercept = result
    return model.predict_rows(test, coef, intercept)


def _chunk_task(chunk: list) -> list:
    return [_fold_task(t) for t in chunk]


def _map_tasks(tasks: list, *, n_jobs: int, progress: bool, desc: str) -> list:
    """Run fold tasks in order.  In parallel, tasks are sent in one contiguous chunk per worker, so
    each worker receives the (large) design once rather than once per fold; results do not depend
    on the chunking."""
    n_jobs = check.n_jobs(n_jobs)
    if n_jobs == 1 or len(tasks) <= 1:
        return parallel_map(_fold_task, tasks, n_jobs=1, progress=progress, desc=desc)
    from joblib import effective_n_jobs

    workers = max(1, min(len(tasks), effective_n_jobs(n_jobs)))
    bounds = np.linspace(0, len(tasks), workers + 1).round().astype(int)
    chunks = [tasks[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    out = parallel_map(_chunk_task, chunks, n_jobs=n_jobs, progress=progress, desc=desc)
    return [r for chunk in out for r in chunk]


def _run_folds(problems: Sequence[_Problem], foldids: np.ndarray, *, n_jobs: int, progress: bool,
               desc: str, lazy: bool = False) -> list[Any]:
    """Out-of-fold predictions for every problem: arrays (n_repeats, [n_gamma,] n, n_lambda), or
    with ``lazy=True`` (not for relaxed fits) an :class:`_OOF` per problem, which keeps the fold
    tasks' results and forms predictions only on demand."""
    n = problems[0].model.n
    tasks, keys = [], []
    crosses: dict = {}
    for i, prob in enumerate(problems):
        m = prob.model
        key = (id(m.X), id(m.y), m.intercept, m.weights is None)
        if key not in crosses:
            crosses[key] = m.cross()
        if crosses[key] is not None:
            prob = dataclasses.replace(prob, cross=crosses[key])
        for r, fid in enumerate(foldids):
            for k in np.unique(fid):
                test = np.flatnonzero(fid == k)
                train = np.flatnonzero(fid != k)
                tasks.append((prob, train, test))
                keys.append((i, r, test))
    results = _map_tasks(tasks, n_jobs=n_jobs, progress=progress, desc=desc)
    _warn_unconverged(problems, keys, results)
    if lazy:
        return [_OOF(prob.model, np.asarray(prob.lambdas), foldids,
                     [(r, test, res[0]) for (j, r, test), res in zip(keys, results) if j == i])
                for i, prob in enumerate(problems)]
    out = []
    for prob in problems:
        shape = (len(foldids),) + ((len(prob.gammas),) if prob.gammas is not None else ()) + (n, len(prob.lambdas))
        out.append(np.full(shape, np.nan))
    for (i, r, test), (pred, conv) in zip(keys, results):
        out[i][r][..., test, :] = _predictions(problems[i].model, test, pred)
    return out


def _warn_unconverged(problems: Sequence[_Problem], keys: list, results: list) -> None:
    bad: dict[int, set[float]] = {}
    for (i, r, test), (pred, conv) in zip(keys, results):
        if not np.all(conv):
            bad.setdefault(i, set()).update(problems[i].lambdas[~conv].tolist())
    for i, lams in bad.items():
        shown = ", ".join(f"{x:.4g}" for x in sorted(lams, reverse=True)[:10])
        warnings.warn(f"in some cross-validation folds the solver did not reach its tolerance at "
                      f"{len(lams)} lambda(s): {shown}{' ...' if len(lams) > 10 else ''}",
                      ConvergenceWarning, stacklevel=user_stacklevel())


#: held-out rows predicted at a time (a block of predictions is rows x n_lambda numbers)
_ROW_BLOCK = 8192


class _OOF:
    """Out-of-fold predictions of a CV run, formed on demand from the fold tasks' results.

    Array-like (``shape``, ``[repeat]``, ``np.asarray``), so that ``CVResult.oof_predictions`` reads
    as before, but a CV run itself never holds the n x n_lambda predictions: the fold losses are
    accumulated over blocks of held-out rows (:meth:`fold_errors`).  On tall data (n = 1e6,
    100 lambdas) the predictions alone are 800 MB, twice a 50-column design.
    """

    def __init__(self, model: engine.Model, lambdas: np.ndarray, foldids: np.ndarray, parts: list) -> None:
        self.model = model
        self.lambdas = lambdas
        self.parts = parts            # (repeat, test rows, predictions or (coef, intercept))
        self.shape = (len(foldids), model.n, len(lambdas))
        self.ndim = 3
        self.dtype = np.dtype(float)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            r = int(key) % self.shape[0]
            out = np.full(self.shape[1:], np.nan)
            for rr, test, res in self.parts:
                if rr == r:
                    out[test, :] = _predictions(self.model, test, res)
            return out
        return np.asarray(self)[key]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        a = np.stack([self[r] for r in range(self.shape[0])])
        return a if dtype is None else a.astype(dtype)

    def fold_errors(self, r: int, foldid: np.ndarray, y: np.ndarray, w: np.ndarray | None, loss: str
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Repeat ``r``'s fold losses ``e_k`` (K x n_lambda) and weights ``W_k``, in the order of
        ``np.unique(foldid)``, from blocks of held-out rows (the numbers of :func:`cv_stats`)."""
        ks = np.unique(foldid)
        err = np.full((len(ks), self.shape[2]), np.nan)
        fw = np.zeros(len(ks))
        pos = {int(k): i for i, k in enumerate(ks)}
        for rr, test, res in self.parts:
            if rr != r or len(test) == 0:
                continue
            i = pos[int(foldid[test[0]])]
            total = np.zeros(self.shape[2])
            for s in range(0, len(test), _ROW_BLOCK):
                rows = test[s:s + _ROW_BLOCK]
                sub = res if not isinstance(res, tuple) else None
                pred = (sub[s:s + _ROW_BLOCK] if sub is not None else _predictions(self.model, rows, res))
                wb = np.ones(len(rows)) if w is None else w[rows]
                e = np.subtract(y[rows][:, None], pred, out=None if sub is not None else pred)
                total += wb @ (np.square(e, out=e) if loss == "mse" else np.abs(e, out=e))
                fw[i] += wb.sum()
            err[i] = total / fw[i] if fw[i] > 0 else np.nan
        return err, fw


# ------------------------------------------------------------------------------------------------
# the result
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CVResult:
    """Cross-validation of a penalized path.

    Attributes
    ----------
    table : DataFrame, one row per lambda: ``lambda, cv_mean, cv_se, cv_lower, cv_upper,
        n_nonzero, df`` (``n_nonzero`` and ``df`` of the full-data fit).
    lambda_min, lambda_1se : the selected penalties; ``index_min``, ``index_1se`` their 0-based
        positions on the grid.
    loss : ``"mse"`` or ``"mae"``.
    n_folds, n_repeats : folds per repeat and repeats.
    foldid : int array (n_repeats x n_obs), fold labels 1..K of the rows used in the fit.
    fold_errors : array (n_repeats x K x n_lambda) of fold losses ``e_k``; ``fold_weights``
        (n_repeats x K) the fold weights ``W_k``.
    oof_predictions : array-like (n_repeats x n_obs x n_lambda) of out-of-fold predictions (for
        binomial and Poisson paths the linear predictors, offset included; ``family.mean`` of them
        are the probabilities or expected counts):
        ``oof_predictions[r]`` or ``np.asarray(oof_predictions)``; formed on access from the fold
        fits (CV itself accumulates the fold losses over blocks of rows, see docs/cv.md).
    repeats : DataFrame, one row per repeat: ``repeat, lambda_min, lambda_1se`` (the spread of
        the selection under re-drawn folds).
    path : the full-data :class:`~regstats.path.Path`.
    """

    table: pd.DataFrame
    lambda_min: float
    lambda_1se: float
    index_min: int
    index_1se: int
    loss: str
    n_folds: int
    n_repeats: int
    foldid: np.ndarray = field(repr=False)
    fold_errors: np.ndarray = field(repr=False)
    fold_weights: np.ndarray = field(repr=False)
    oof_predictions: np.ndarray = field(repr=False)
    repeats: pd.DataFrame = field(repr=False)
    grouped_by: str | None = None
    path: "PathLike" = field(repr=False, default=None)  # type: ignore[assignment]

    @property
    def lambdas(self) -> np.ndarray:
        return self.table["lambda"].to_numpy()

    @property
    def cv_mean(self) -> pd.Series:
        return pd.Series(self.table["cv_mean"].to_numpy(), index=pd.Index(self.lambdas, name="lambda"),
                         name="cv_mean")

    @property
    def cv_se(self) -> pd.Series:
        return pd.Series(self.table["cv_se"].to_numpy(), index=pd.Index(self.lambdas, name="lambda"),
                         name="cv_se")

    @property
    def best(self) -> "FitLike":
        """The full-data fit at ``lambda_1se``."""
        return self.path.at(self.lambda_1se)

    def at(self, lam: str | float = "1se") -> "FitLike":
        """The full-data fit at a lambda: ``"lambda.1se"`` / ``"1se"`` (default), ``"lambda.min"`` /
        ``"min"`` (glmnet's ``s=``), or a number."""
        return self.path.at(self._lam(lam))

    def _lam(self, lam: str | float) -> float:
        return resolve_lam(lam, self)

    def oof(self, repeat: int = 0) -> pd.DataFrame:
        """Out-of-fold predictions of one repeat: rows of the data used, one column per lambda."""
        idx = self.path._data.index[self.path._design.rows]
        return pd.DataFrame(self.oof_predictions[repeat], index=idx,
                            columns=pd.Index(self.lambdas, name="lambda"))

    def predict(self, newdata: pd.DataFrame | None = None, lam: str | float = "1se") -> pd.Series:
        """Predictions of the full-data fit at ``lam``: ``"lambda.1se"`` / ``"1se"`` (default),
        ``"lambda.min"`` / ``"min"`` or a number, as glmnet's ``predict(cvfit, newx, s=)``."""
        return self.at(lam).predict(newdata)

    def coef(self, lam: str | float = "1se") -> pd.Series:
        """Original-scale coefficients (``Intercept`` first) at ``lam``, as glmnet's ``coef(cvfit, s=)``."""
        return self.at(lam).params

    def plot(self, *, ax: Any = None, **kwargs: Any) -> Any:
        """The CV curve with +-1 SE bars and both choices marked (glmnet's ``plot(cvfit)``); returns
        the matplotlib Axes.  Keywords go to :func:`regstats.report.plots.plot_cv`."""
        from .report.plots import plot_cv

        return plot_cv(self, ax=ax, **kwargs)

    def to_frame(self) -> pd.DataFrame:
        """The CV curve (a copy of :attr:`table`)."""
        return self.table.copy()

    def selection(self) -> pd.DataFrame:
        """glmnet's print: ``lambda, index, measure, se, nonzero`` for ``min`` and ``1se``."""
        rows = []
        for name, i in (("min", self.index_min), ("1se", self.index_1se)):
            t = self.table.iloc[i]
            rows.append({"lambda": float(t["lambda"]), "index": int(i), "measure": float(t["cv_mean"]),
                         "se": float(t["cv_se"]), "nonzero": int(t["n_nonzero"])})
        return pd.DataFrame(rows, index=pd.Index(["min", "1se"], name="selected"))

    def summary(self) -> Summary:
        p = self.path
        info = [("Formula", p.formula),
                ("Penalty", f"{p.penalty} (l1_ratio = {p.l1_ratio:g})"),
                ("Measure", loss_name(self.loss, p.family)),
                ("Folds", f"{self.n_folds}" + (f" x {self.n_repeats} repeats" if self.n_repeats > 1 else "")
                 + (f", grouped by {self.grouped_by!r}" if self.grouped_by else "")),
                ("Observations", f"{p.n_obs} used, {p.n_dropped} dropped for missing values"),
                ("Lambdas", f"{len(self.lambdas)} from {self.lambdas[0]:.4g} to {self.lambdas[-1]:.4g}")]
        tables = [("Selected lambdas", self.selection())]
        notes = ["index counts lambdas from 0 (glmnet's print counts from 1); the 1se rule picks the "
                 "largest lambda whose cv_mean is within one SE of the minimum."]
        if self.n_repeats > 1:
            r = self.repeats
            tables.append(("Selected lambda over repeats",
                           pd.DataFrame({"min": r["lambda_min"].describe()[["mean", "std", "min", "max"]],
                                         "1se": r["lambda_1se"].describe()[["mean", "std", "min", "max"]]}).T))
            notes.append("cv_mean and cv_se are averages over the repeats' curves.")
        return Summary(title="Cross-validated penalized regression", info=info, tables=tables, notes=notes)

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        return (f"<CVResult {self.path.penalty} {self.n_folds}-fold{' x%d' % self.n_repeats if self.n_repeats > 1 else ''}:"
                f" lambda_min={self.lambda_min:.4g}, lambda_1se={self.lambda_1se:.4g}>")


# ------------------------------------------------------------------------------------------------
# fold ids from the arguments
# ------------------------------------------------------------------------------------------------
def _resolve_foldids(path: "PathLike", folds: int, foldid: Any, groups: Any, n_repeats: int, seed: Any,
                     stratify: bool = False) -> tuple[np.ndarray, str | None]:
    n = path.n_obs
    if stratify and (foldid is not None or groups is not None):
        raise ParameterError("stratify=True deals rows to folds by class; it cannot be combined with foldid or groups")
    if stratify and path.family != "binomial":
        raise ParameterError(f"stratify=True stratifies folds by the classes of a binomial response; this path is "
                             f"{path.family}")
    n_repeats = check.positive_int("n_repeats", n_repeats)
    for name, val in (("foldid", foldid), ("groups", groups)):
        if isinstance(val, str) and val in path.column_names:
            warnings.warn(f"{name} column {val!r} is also a predictor of the model; build the path "
                          f"with a formula that leaves it out (e.g. '. - {val}')", DesignWarning, stacklevel=user_stacklevel())
    if foldid is not None:
        if groups is not None:
            raise ParameterError("groups must be None when foldid is given (foldid fixes the folds); "
                                 f"got {groups!r}")
        if n_repeats != 1:
            raise ParameterError(f"n_repeats must be 1 when foldid is given; got {n_repeats}")
        fid = row_vector(foldid, path._data, path._design, "foldid", numeric=False)
        if pd.isna(pd.Series(fid)).any():
            raise DataError("foldid has missing values in the rows used by the fit")
        return _normalise_foldid(fid)[None, :], None
    folds = check.positive_int("folds", folds, minimum=2)
    g = None
    gname = groups if isinstance(groups, str) else ("groups" if groups is not None else None)
    if groups is not None:
        g = row_vector(groups, path._data, path._design, "groups", numeric=False)
        if pd.isna(pd.Series(g)).any():
            raise DataError("groups has missing values in the rows used by the fit")
        n_groups = len(pd.unique(pd.Series(g)))
        if folds > n_groups:
            raise ParameterError(f"folds must be at most the number of groups ({n_groups}); got {folds}")
        g = pd.factorize(pd.Series(g))[0]
    elif folds > n:
        raise ParameterError(f"folds must be at most the number of rows ({n}); got {folds}")
    rngs = [np.random.default_rng(s) for s in spawn_seeds(seed, n_repeats)]
    strata = path._design.y >= 0.5 if stratify else None
    return np.array([make_folds(n, folds, r, g, strata) for r in rngs]), gname


def _summarise(path: "PathLike", preds: np.ndarray, foldids: np.ndarray, loss: str,
               grouped_by: str | None) -> CVResult:
    y = path._design.y
    w = path._options.weights
    means, ses, errs, fws, reps = [], [], [], [], []
    for r in range(len(foldids)):
        if path.family != "gaussian":
            from .family import family_of
            from .glm_cv import fold_stats

            fam = family_of(path.family)
            m, s, e, fw = fold_stats(fam, y, fam.mean(np.asarray(preds[r])), foldids[r], loss, w)
            # AUC: larger is better, so the choices maximise it (cv.glmnet)
            i0, i1 = select_lambdas(path.lambdas, -m if loss == "auc" else m, s)
        elif isinstance(preds, _OOF):
            e, fw = preds.fold_errors(r, foldids[r], y, None if w is None else np.asarray(w, dtype=float), loss)
            m, s = _combine(e, fw)
        else:
            m, s, e, fw = cv_stats(_loss(y, preds[r], loss), foldids[r], w)
        if path.family == "gaussian":
            i0, i1 = select_lambdas(path.lambdas, m, s)
        means.append(m), ses.append(s), errs.append(e), fws.append(fw)
        reps.append({"repeat": r, "lambda_min": path.lambdas[i0], "lambda_1se": path.lambdas[i1]})
    mean = np.mean(means, axis=0)
    se = np.mean(ses, axis=0)
    i_min, i_1se = select_lambdas(path.lambdas, -mean if loss == "auc" else mean, se)
    table = pd.DataFrame({"lambda": path.lambdas, "cv_mean": mean, "cv_se": se, "cv_lower": mean - se,
                          "cv_upper": mean + se, "n_nonzero": path.table["n_nonzero"].to_numpy(),
                          "df": path.table["df"].to_numpy()})
    return CVResult(table=table, lambda_min=float(path.lambdas[i_min]), lambda_1se=float(path.lambdas[i_1se]),
                    index_min=i_min, index_1se=i_1se, loss=loss, n_folds=int(len(np.unique(foldids[0]))),
                    n_repeats=len(foldids), foldid=foldids, fold_errors=np.array(errs),
                    fold_weights=np.array(fws), oof_predictions=preds, repeats=pd.DataFrame(reps),
                    grouped_by=grouped_by, path=path)


# ------------------------------------------------------------------------------------------------
# public functions
# ------------------------------------------------------------------------------------------------
def cross_validate(path: "PathLike", folds: int = 10, foldid: Any = None, seed: Any = None, n_jobs: int = 1, *,
                   groups: Any = None, n_repeats: int = 1, loss: Loss | None = None, tol: float | None = None,
                   progress: bool = False, stratify: bool = False) -> CVResult:
    """K-fold cross-validation over a path's lambdas, as ``cv.glmnet`` (usually via ``path.cv()``).

    Parameters
    ----------
    path : the full-data :class:`~regstats.path.Path`; its lambda grid is used in every fold.
    folds : number of folds K (>= 2) when ``foldid`` is not given.
    foldid : fold labels, an array with one entry per row (of the data or of the rows used) or a
        column name of the data.  Any K >= 2 distinct labels.
    seed : makes the fold assignment reproducible (None, int, SeedSequence or Generator).
    n_jobs : joblib workers (-1 = all cores); the numbers do not depend on it.  Under
        ``joblib.parallel_backend("dask")`` the folds run on a dask.distributed cluster.
    groups : array or column name; rows sharing a level always land in the same fold.
    n_repeats : repeated K-fold with independent fold draws; ``cv_mean`` and ``cv_se`` are the
        averages of the repeats' curves and ``repeats`` lists each repeat's selection.
    loss : gaussian: ``"mse"`` (default) or ``"mae"``.  Binomial: ``"deviance"`` (default),
        ``"class"`` (misclassification), ``"auc"`` (larger is better), ``"mse"``, ``"mae"``;
        Poisson: ``"deviance"`` (default), ``"mse"``, ``"mae"``.  Each as cv.glmnet's
        ``type.measure`` (binomial mse/mae are cv.glmnet's, twice the usual ones), weighted by the
        fit's observation weights.
    tol : solver tolerance for the fold refits (default: the path's).
    progress : show a progress bar.
    stratify : binomial: deal each class to the folds in turn, so every fold holds both classes
        in proportion (recommended for rare events and for ``loss="auc"``).

    Returns
    -------
    CVResult

    Notes
    -----
    Each fold re-standardizes on its training rows and reuses the full-data grid, warm-started,
    as ``cv.glmnet``, and computes its own s_y (the ridge part's response scale) from its training
    rows, as cv.glmnet rescales each training fold's y, so the curves equal
    ``cv.glmnet(..., foldid=)``'s for every ``l1_ratio``; ``y_scale=`` holds s_y fixed instead.

    Examples
    --------
    >>> import regstats as rs
    >>> cv = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate")).cv(folds=5, seed=1)
    >>> bool(cv.lambda_1se >= cv.lambda_min)
    True
    """
    loss = _check_loss(loss, path.family)
    if tol is not None:
        tol = check.real_in("tol", tol, 0.0, 1.0, lo_open=True)
    foldids, gname = _resolve_foldids(path, folds, foldid, groups, n_repeats, seed, stratify)
    _check_glm_folds(path, foldids, loss)
    (preds,) = _run_folds([_problem_of(path, tol)], foldids, n_jobs=n_jobs, progress=progress,
                          desc="cross-validation", lazy=path.family == "gaussian")
    return _summarise(path, preds, foldids, loss, gname)


def _check_glm_folds(path: "PathLike", foldids: np.ndarray, loss: str) -> None:
    """A binomial fold must leave both classes to train on (and, for AUC, hold both)."""
    if path.family != "binomial":
        return
    y = path._design.y
    for fid in foldids:
        for k in np.unique(fid):
            test = fid == k
            for rows, what in ((~test, "the training rows of"), (test, "")):
                if what == "" and loss != "auc":
                    continue
                yk = y[rows]
                if np.all(yk == yk[0]):
                    raise DataError(f"{what or 'the held-out rows of'} fold {int(k)} hold one class only "
                                    f"({path.response} = {yk[0]:g}); "
                                    + ("AUC needs both classes in every fold: " if loss == "auc" else "")
                                    + "use stratify=True or fewer folds")


@dataclass(frozen=True, eq=False)
class ElasticNetCV:
    """Cross-validation over (l1_ratio, lambda) with the same folds for every l1_ratio.

    Attributes
    ----------
    table : DataFrame ``l1_ratio, lambda, cv_mean, cv_se, n_nonzero, df`` (long form).
    by_l1_ratio : DataFrame, one row per l1_ratio: ``l1_ratio, lambda_min, lambda_1se,
        cv_min, cv_se_min``.
    l1_ratio_min : the mixing with the smallest CV error; ``lambda_min`` its minimising lambda
        and ``lambda_1se`` its one-SE lambda (the 1se rule is applied within the chosen mixing).
    results : tuple of :class:`CVResult`, one per l1_ratio (same fold ids).
    """

    table: pd.DataFrame
    by_l1_ratio: pd.DataFrame
    l1_ratio_min: float
    lambda_min: float
    lambda_1se: float
    results: tuple[CVResult, ...] = field(repr=False)

    @property
    def l1_ratios(self) -> np.ndarray:
        return self.by_l1_ratio["l1_ratio"].to_numpy()

    @property
    def cv(self) -> CVResult:
        """The CV result of the chosen l1_ratio."""
        return self.results[int(np.flatnonzero(self.l1_ratios == self.l1_ratio_min)[0])]

    @property
    def path(self) -> "PathLike":
        return self.cv.path

    @property
    def best(self) -> "FitLike":
        """The fit at (``l1_ratio_min``, ``lambda_1se``)."""
        return self.cv.best

    def at(self, lam: str | float = "1se") -> "FitLike":
        """The fit of the chosen l1_ratio at ``"lambda.1se"`` / ``"1se"``, ``"lambda.min"`` /
        ``"min"`` or a number."""
        return self.cv.at(lam)

    def predict(self, newdata: pd.DataFrame | None = None, lam: str | float = "1se") -> pd.Series:
        """Predictions of the chosen l1_ratio's fit at ``lam`` (as :meth:`CVResult.predict`)."""
        return self.cv.predict(newdata, lam)

    def coef(self, lam: str | float = "1se") -> pd.Series:
        """Coefficients of the chosen l1_ratio's fit at ``lam`` (as :meth:`CVResult.coef`)."""
        return self.cv.coef(lam)

    def plot(self, *, ax: Any = None, **kwargs: Any) -> Any:
        """The CV curve of the chosen l1_ratio (as :meth:`CVResult.plot`); returns the Axes."""
        return self.cv.plot(ax=ax, **kwargs)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        c = self.cv
        info = [("Formula", c.path.formula), ("Measure", loss_name(c.loss, c.path.family)),
                ("Folds", f"{c.n_folds} (the same for every l1_ratio)"),
                ("Chosen l1_ratio", f"{self.l1_ratio_min:g}"),
                ("lambda_min", f"{self.lambda_min:.6g}"), ("lambda_1se", f"{self.lambda_1se:.6g}")]
        return Summary(title="Cross-validated elastic net (l1_ratio and lambda)", info=info,
                       tables=[("By l1_ratio", self.by_l1_ratio), ("Chosen l1_ratio", c.selection())],
                       notes=["l1_ratio is chosen by the smallest cv_mean; the 1se rule is then applied "
                              "within that l1_ratio; index counts from 0."])

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        return (f"<ElasticNetCV {self.cv.path.formula!r}: {len(self.by_l1_ratio)} l1_ratios, "
                f"l1_ratio_min={self.l1_ratio_min:g}, lambda_min={self.lambda_min:.4g}, "
                f"lambda_1se={self.lambda_1se:.4g}>")


def check_l1_ratios(l1_ratios: Any) -> list[float]:
    """The candidate mixings of :func:`regstats.cv_elastic_net` (pandas and dask), validated, distinct and sorted."""
    try:
        ratios = [float(a) for a in np.atleast_1d(np.asarray(l1_ratios, dtype=float))]
    except (TypeError, ValueError):
        raise ParameterError(f"l1_ratios must be a sequence of numbers in [0, 1]; got {l1_ratios!r}") from None
    if not ratios:
        raise ParameterError(f"l1_ratios must be a non-empty sequence of numbers in [0, 1]; got {l1_ratios!r}")
    ratios = sorted(set(check.real_in("l1_ratios", a, 0.0, 1.0) for a in ratios))
    return ratios


def cross_validate_mixings(paths: Sequence["PathLike"], folds: int = 10, foldid: Any = None, seed: Any = None,
                           n_jobs: int = 1, *, groups: Any = None, n_repeats: int = 1, loss: Loss | None = None,
                           progress: bool = False, stratify: bool = False) -> ElasticNetCV:
    """Cross-validate paths of one formula and data that differ in ``l1_ratio`` (increasing), all
    on the same folds; the mixing with the best ``cv_mean`` wins (:func:`regstats.cv_elastic_net`,
    which fits the paths; arguments as :func:`cross_validate`)."""
    ratios = [p.l1_ratio for p in paths]
    loss = _check_loss(loss, paths[0].family)
    foldids, gname = _resolve_foldids(paths[0], folds, foldid, groups, n_repeats, seed, stratify)
    _check_glm_folds(paths[0], foldids, loss)
    preds = _run_folds([_problem_of(p) for p in paths], foldids, n_jobs=n_jobs, progress=progress,
                       desc="elastic-net cross-validation", lazy=paths[0].family == "gaussian")
    results = tuple(_summarise(p, pr, foldids, loss, gname) for p, pr in zip(paths, preds))
    return mixings_result(ratios, results, loss)


def mixings_result(ratios: Sequence[float], results: Sequence[CVResult], loss: str = "mse") -> ElasticNetCV:
    """One :class:`ElasticNetCV` from the CV results of each mixing's path (pandas and dask)."""
    long = pd.concat([r.table.assign(l1_ratio=a) for a, r in zip(ratios, results)], ignore_index=True)
    long = long[["l1_ratio"] + [c for c in long.columns if c != "l1_ratio"]]
    by = pd.DataFrame({"l1_ratio": list(ratios),
                       "lambda_min": [r.lambda_min for r in results],
                       "lambda_1se": [r.lambda_1se for r in results],
                       "cv_min": [float(r.table["cv_mean"].iloc[r.index_min]) for r in results],
                       "cv_se_min": [float(r.table["cv_se"].iloc[r.index_min]) for r in results]})
    # cv_min is the curve at each mixing's lambda_min: its best value (the largest for AUC)
    k = int(np.argmax(by["cv_min"].to_numpy()) if loss == "auc" else np.argmin(by["cv_min"].to_numpy()))
    return ElasticNetCV(table=long, by_l1_ratio=by, l1_ratio_min=ratios[k], lambda_min=results[k].lambda_min,
                        lambda_1se=results[k].lambda_1se, results=tuple(results))
