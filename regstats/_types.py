"""What the statistics use of a path and of a fit, as typing Protocols.

:mod:`regstats.path` hands its :class:`~regstats.path.Path` and :class:`~regstats.path.Fit` to
the statistics (:mod:`regstats.cv`, :mod:`regstats.relaxed`, :mod:`regstats.dof`,
:mod:`regstats.biasvar`, :mod:`regstats.ic`, ...), which sit below it: they name these protocols
instead of the classes, so no arrow runs back up.  A pandas path and a dask path (with the
attributes of :class:`DaskPathLike`) both answer them.
"""
from __future__ import annotations

from typing import Any, Mapping, Protocol

import numpy as np
import pandas as pd

from . import engine

__all__ = ["PathLike", "FitLike", "DaskPathLike", "DaskFitLike"]


class FitLike(Protocol):
    """A fit at one lambda (:class:`regstats.path.Fit`)."""

    lam: float
    l1_ratio: float
    params: pd.Series
    df: float
    r2: float
    formula: str
    path: PathLike
    _beta: np.ndarray      # the coefficients on the prepared scale

    @property
    def intercept(self) -> float: ...

    @property
    def coef(self) -> pd.Series: ...

    def predict(self, newdata: Any = None, type: str = "response", offset: Any = None) -> pd.Series: ...


class PathLike(Protocol):
    """A penalized path (:class:`regstats.path.Path`): its results, and the arrays every refit
    starts from."""

    formula: str
    l1_ratio: float
    lambdas: np.ndarray
    coef: pd.DataFrame
    n_obs: int
    n_dropped: int
    standardize: bool
    column_names: tuple[str, ...]
    terms: Mapping[str, tuple[str, ...]]
    family: str
    levels: tuple[str, str] | None
    _design: Any           # regstats.design.Design: X, y, rows, spec
    _prep: Any             # engine.Prepared (glm_model.GLMPrepared for binomial and Poisson)
    _solution: engine.Solution
    _options: Any          # the path's options: weights, penalty_factor, tol, max_iter, ...
    _data: Any             # the data fitted (a pandas DataFrame; a dask one on a dask path)

    @property
    def table(self) -> pd.DataFrame: ...

    @property
    def penalty(self) -> str: ...

    @property
    def intercept(self) -> bool: ...

    @property
    def response(self) -> str: ...

    @property
    def _model(self) -> engine.Model: ...

    def at(self, lam: float) -> FitLike: ...

    def cv(self, folds: int = 10, foldid: Any = None, seed: Any = None, n_jobs: int = 1, **kwargs: Any) -> Any: ...

    def _refit(self, rows: np.ndarray | None = None, *, y: np.ndarray | None = None,
               lambdas: np.ndarray | None = None, weights: np.ndarray | None = None, tol: float | None = None,
               y_scale: float | None = None) -> tuple[Any, engine.Solution]: ...

    def _fit(self, lam: float, params: pd.Series, df: float, r2: float, beta: np.ndarray) -> FitLike: ...


class DaskPathLike(PathLike, Protocol):
    """A path fitted on a dask DataFrame (:class:`regstats.distributed.DaskPath`): what a pass over
    the data needs."""

    _job: Any              # regstats.distributed.passes.Job
    _offsets: np.ndarray   # first data row of each partition
    _columns: tuple        # columns a pass reads
    _stats: Any            # the full data's statistics


class DaskFitLike(FitLike, Protocol):
    """A fit of a dask path (:class:`regstats.distributed.DaskFit`)."""

    path: DaskPathLike
