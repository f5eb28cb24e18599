"""The public fitting functions, one door for every data backend: :func:`elastic_net`,
:func:`lasso`, :func:`ridge` and :func:`cv_elastic_net` fit a pandas DataFrame with
:mod:`regstats.path` (cross-validated by :mod:`regstats.cv`) and a dask DataFrame with
:mod:`regstats.distributed`, which is imported only then.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd

from . import path
from .cv import ElasticNetCV, Loss, check_l1_ratios, cross_validate_mixings
from .errors import ArgumentError
from .family import family_of
from .path import Path

__all__ = ["elastic_net", "lasso", "ridge", "cv_elastic_net"]

_OBJECTIVE = """
    The objective, for penalty mixing ``l1_ratio = a`` and penalty level ``lam`` (glmnet's, for
    every ``a``)::

        minimize_{b0, b}  1/(2W) sum_i w_i (y_i - b0 - x_i'b)^2
                          + lam * sum_j v_j (a |b_j| + (1 - a)/(2 s_y) b_j^2)

    with weights ``w`` normalised to sum n, penalty factors ``v`` rescaled to sum to the number of
    columns, ``s_y`` the weighted sd of y (the root mean square about 0 without an intercept; or
    ``y_scale``), and (``standardize=True``) columns scaled to unit weighted variance before
    solving; coefficients are reported on the original scale.  glmnet's ``alpha`` is our
    ``l1_ratio`` and its ``lambda`` our ``lam``; multiplying y by c multiplies the coefficients
    and the lambdas by c and changes nothing else.  scikit-learn's ``alpha`` is our ``lam`` for
    the lasso, and for ``l1_ratio < 1`` with ``y_scale=1``.  See docs/conventions.md.
"""


def _is_dask(data: Any) -> bool:
    """A dask DataFrame (checked by module name: dask is imported only for one)."""
    return type(data).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(data, "to_delayed")


def elastic_net(formula: str, data: pd.DataFrame, l1_ratio: float = 0.5, *,
                lambdas: Sequence[float] | None = None, n_lambda: int = 100,
                lambda_min_ratio: float | None = None, standardize: bool = True,
                penalty_factor: Mapping[str, float] | Sequence[float] | None = None,
                weights: str | Sequence[float] | None = None, tol: float = 1e-7,
                max_iter: int = 100_000, y_scale: float | None = None, family: str = "gaussian",
                offset: str | Sequence[float] | None = None, **unknown: Any) -> Path:
    """Fit an elastic-net path from a formula.

    Parameters
    ----------
    formula : patsy formula, e.g. ``"y ~ x1 + C(g) + np.log(x2)"``; ``"y ~ ."`` uses every other
        column and ``"y ~ . - x3"`` drops one.  Names from the caller's namespace and ``np`` work.
    data : DataFrame.  Rows with missing values in the variables used are dropped (and counted).
        A dask DataFrame runs the gaussian model from sufficient statistics (docs/distributed.md).
    l1_ratio : mixing ``a`` in [0, 1]: 1 is the lasso, 0 ridge.
    lambdas : penalty levels to use as given (sorted decreasing); default is glmnet's grid:
        ``n_lambda`` values log-spaced from ``lambda_max`` down to ``lambda_min_ratio * lambda_max``
        (``lambda_min_ratio`` defaults to 1e-4 when n >= p, else 1e-2).
    standardize : scale columns to unit weighted variance (divisor W) before solving.
    penalty_factor : per design column (array or dict) or per formula term (dict); 0 leaves a
        column unpenalized, ``inf`` excludes it (coefficient fixed at 0, glmnet's ``exclude``).
        Rescaled to sum to the number of columns, each excluded column counted as 1 (glmnet).
    weights : observation weights (array or column name), normalised to sum n.
    tol : stop when the duality gap is at most ``tol`` times the null deviance / n.  With
        ``tol <= 1e-9`` the solver also finishes with an exact active-set solve.
    max_iter : coordinate sweeps allowed per lambda.
    y_scale : s_y, the response scale of the ridge part of the penalty, held fixed; None (the
        default) uses the weighted sd of y over the rows fitted (root mean square about 0 without
        an intercept), as glmnet does, and each CV fold or bootstrap refit its own.  ``y_scale=1``
        gives the textbook penalty ``lam ((1 - a)/2 b^2 + a |b|)`` (scikit-learn's).
    family : ``"gaussian"`` (least squares, the default), ``"binomial"`` (logistic) or
        ``"poisson"`` (log-linear counts): glmnet's penalized likelihood, see Notes.  A binomial
        response is 0/1, bool, a proportion (with ``weights`` = trials) or a two-level factor or
        string column, whose first level in sorted order (a categorical's own order) is 0, as in R.
    offset : binomial and Poisson: a column name or array added to the linear predictor with
        coefficient 1, e.g. ``np.log(exposure)`` for rates.

    Returns
    -------
    Path
    """
    _exclude = unknown.pop("_exclude", ())  # columns '.' leaves out (fold ids, groups): cv_elastic_net
    _refuse_unknown("elastic_net", unknown)
    fam = family_of(family)
    if _is_dask(data):  # the dask backend (regstats/distributed): sufficient statistics, no rows
        from .distributed import elastic_net as dask_elastic_net

        return dask_elastic_net(formula, data, l1_ratio, lambdas=lambdas, n_lambda=n_lambda,
                                lambda_min_ratio=lambda_min_ratio, standardize=standardize,
                                penalty_factor=penalty_factor, weights=weights, tol=tol, max_iter=max_iter,
                                y_scale=y_scale, family=fam.name, offset=offset, _exclude=_exclude)
    return path.elastic_net(formula, data, l1_ratio=l1_ratio, lambdas=lambdas, n_lambda=n_lambda,
                            lambda_min_ratio=lambda_min_ratio, standardize=standardize,
                            penalty_factor=penalty_factor, weights=weights, tol=tol, max_iter=max_iter,
                            y_scale=y_scale, family=fam.name, offset=offset, _exclude=_exclude)


elastic_net.__doc__ = str(elastic_net.__doc__) + """
    Notes
    -----""" + _OBJECTIVE


_GLMNET_HINT = ("regstats calls glmnet's alpha `l1_ratio` and its lambda `lam` / `lambdas` "
                "(lambdas= fixes the path's grid; path.at(lam) or path.predict(newdata, lam=) takes one lambda)")
_RENAMED = {"alpha": "l1_ratio", "lam": "lambdas", "lambda_": "lambdas", "nlambda": "n_lambda",
            "lambda_min": "lambda_min_ratio", "penalty.factor": "penalty_factor", "thresh": "tol",
            "maxit": "max_iter", "intercept": "the formula ('- 1' or '+ 0' drops the intercept)",
            "exclude": "penalty_factor={name: inf}", "alphas": "lambdas", "l1_ratios": "l1_ratio"}


def _refuse_unknown(func: str, unknown: Mapping[str, Any]) -> None:
    """A clear error for keyword arguments the function does not take (glmnet's and
    scikit-learn's names first)."""
    if not unknown:
        return
    import difflib
    import inspect

    known = [q for q in inspect.signature(elastic_net).parameters if q not in ("formula", "data")]
    hints = []
    for key in unknown:
        if key in _RENAMED:
            hints.append(f"{key}= -> {_RENAMED[key]}")
        else:
            close = difflib.get_close_matches(key, known, n=1)
            if close:
                hints.append(f"{key}= -> {close[0]}=")
    if func in ("lasso", "ridge") and "l1_ratio" in unknown:
        hints.append(f"{func}() fixes l1_ratio; call elastic_net(formula, data, l1_ratio=...) for another mix")
    raise ArgumentError(f"{func}() got unexpected keyword argument(s) {sorted(unknown)}; {_GLMNET_HINT}"
                        + (f". Did you mean: {'; '.join(hints)}?" if hints else ""))


def _public_signature(func: Any) -> None:
    """Show the full signature without the catch-all that turns glmnet's names into clear errors."""
    import inspect

    sig = inspect.signature(func)
    func.__signature__ = sig.replace(parameters=[q for q in sig.parameters.values()
                                                 if q.kind is not inspect.Parameter.VAR_KEYWORD])


def lasso(formula: str, data: pd.DataFrame, *, lambdas: Sequence[float] | None = None, n_lambda: int = 100,
          lambda_min_ratio: float | None = None, standardize: bool = True,
          penalty_factor: Mapping[str, float] | Sequence[float] | None = None,
          weights: str | Sequence[float] | None = None, tol: float = 1e-7, max_iter: int = 100_000,
          y_scale: float | None = None, family: str = "gaussian", offset: str | Sequence[float] | None = None,
          **unknown: Any) -> Path:
    """Lasso path: :func:`elastic_net` with ``l1_ratio=1`` (glmnet's ``alpha = 1``).

    The objective is ``1/(2W) sum_i w_i (y_i - b0 - x_i'b)^2 + lam sum_j v_j |b_j|`` (s_y cancels);
    ``lam`` is glmnet's ``lambda`` and scikit-learn's ``Lasso(alpha=)``.  Every argument is as in
    :func:`elastic_net`.

    Examples
    --------
    >>> import regstats as rs
    >>> path = rs.lasso("Salary ~ . - League", rs.load_dataset("hitters"))
    >>> path.coef.shape[0]
    100
    """
    _refuse_unknown("lasso", unknown)
    return elastic_net(formula, data, l1_ratio=1.0, lambdas=lambdas, n_lambda=n_lambda,
                       lambda_min_ratio=lambda_min_ratio, standardize=standardize,
                       penalty_factor=penalty_factor, weights=weights, tol=tol, max_iter=max_iter,
                       y_scale=y_scale, family=family, offset=offset)


def ridge(formula: str, data: pd.DataFrame, *, lambdas: Sequence[float] | None = None, n_lambda: int = 100,
          lambda_min_ratio: float | None = None, standardize: bool = True,
          penalty_factor: Mapping[str, float] | Sequence[float] | None = None,
          weights: str | Sequence[float] | None = None, tol: float = 1e-7, max_iter: int = 100_000,
          y_scale: float | None = None, family: str = "gaussian", offset: str | Sequence[float] | None = None,
          **unknown: Any) -> Path:
    """Ridge path: :func:`elastic_net` with ``l1_ratio=0`` (glmnet's ``alpha = 0``), exact from one SVD.

    The objective is ``1/(2W) sum_i w_i (y_i - b0 - x_i'b)^2 + lam/(2 s_y) sum_j v_j b_j^2``, glmnet's;
    ``y_scale=1`` gives the textbook ``lam/2 sum b_j^2`` (scikit-learn's ``Ridge(alpha = n lam)``).
    Every argument is as in :func:`elastic_net`.  glmnet reports the null model at its first lambda
    for ridge; the ridge solution there is not zero, and regstats reports the solution.
    """
    _refuse_unknown("ridge", unknown)
    return elastic_net(formula, data, l1_ratio=0.0, lambdas=lambdas, n_lambda=n_lambda,
                       lambda_min_ratio=lambda_min_ratio, standardize=standardize,
                       penalty_factor=penalty_factor, weights=weights, tol=tol, max_iter=max_iter,
                       y_scale=y_scale, family=family, offset=offset)


for _f in (elastic_net, lasso, ridge):
    _public_signature(_f)
del _f


def cv_elastic_net(formula: str, data: pd.DataFrame, l1_ratios: Sequence[float] = (0.1, 0.5, 0.7, 0.9, 0.95, 0.99, 1.0),
                   folds: int = 10, foldid: Any = None, seed: Any = None, n_jobs: int = 1, *,
                   groups: Any = None, n_repeats: int = 1, loss: Loss | None = None, progress: bool = False,
                   stratify: bool = False, **path_kwargs: Any) -> ElasticNetCV:
    """Choose both the elastic-net mixing and the penalty by K-fold CV.

    One path per ``l1_ratio`` (each with its own glmnet grid, or ``lambdas=`` if given), all
    cross-validated on the same folds; the ``l1_ratio`` with the smallest ``cv_mean`` wins.

    Parameters
    ----------
    formula, data : as :func:`regstats.elastic_net`.
    l1_ratios : candidate mixings in [0, 1].
    folds, foldid, seed, n_jobs, groups, n_repeats, loss, progress : as :func:`regstats.cv.cross_validate`.
    **path_kwargs : passed to :func:`regstats.elastic_net` (``weights``, ``penalty_factor``,
        ``lambdas``, ``n_lambda``, ``standardize``, ``tol``, ...).

    Returns
    -------
    ElasticNetCV
    """
    if _is_dask(data):  # the dask backend: one statistics pass and one fold pass for every l1_ratio
        from .distributed import cv_elastic_net as dask_cv_elastic_net

        return dask_cv_elastic_net(formula, data, l1_ratios, folds, foldid, seed, groups=groups,
                                   n_repeats=n_repeats, loss=loss, stratify=stratify, **path_kwargs)
    ratios = check_l1_ratios(l1_ratios)
    exclude = list(path_kwargs.pop("_exclude", ())) + [c for c in (foldid, groups) if isinstance(c, str)]
    paths = [elastic_net(formula, data, l1_ratio=a, _exclude=exclude, **path_kwargs) for a in ratios]
    return cross_validate_mixings(paths, folds, foldid, seed, n_jobs, groups=groups, n_repeats=n_repeats, loss=loss,
                                  progress=progress, stratify=stratify)
