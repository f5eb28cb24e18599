"""The binomial and Poisson families behind the engine: a model refittable on any rows.

:class:`GLMModel` has the interface of :class:`regstats.engine.Model` (``n``, ``prepare(rows)``,
``solve(prep, lambdas)``, ``cross()``, ``predict_rows``), so cross-validation, the bootstrap and
stability selection refit a binomial or Poisson path exactly as they refit a gaussian one: each
fold or replicate re-standardizes on its own rows and solves the same objective
(:mod:`regstats.glm`).  The solution is an :class:`regstats.engine.Solution` whose ``rss`` is the
deviance over n and ``yy`` the null deviance over n, so ``r2`` is glmnet's deviance ratio.

Arrays only (no pandas, no formula), so a model pickles cheaply to joblib workers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import engine
from .family import Family
from .glm import _standardized, glm_path

__all__ = ["GLMModel", "GLMPrepared", "glm_df"]


@dataclass(frozen=True, eq=False)
class GLMPrepared:
    """The rows of a GLM fit with their standardization (the observation weights' means and sds).

    The attributes the statistics read from a gaussian :class:`regstats.engine.Prepared` (``x_mean``,
    ``x_scale``, ``w``, ``v``, ``constant``, ``excluded``, ``n``, ``p``) mean the same here; ``y`` is
    the response itself (0/1, proportions or counts), not a centred one.
    """

    raw: np.ndarray
    X: np.ndarray                # the rows' standardized design (x - m) / s, constant columns 0 (unweighted)
    y: np.ndarray
    offset: np.ndarray
    weights: np.ndarray | None   # the caller's observation weights of these rows (None: unit)
    x_mean: np.ndarray
    x_scale: np.ndarray
    w: np.ndarray                # weights normalised to sum n
    v: np.ndarray
    constant: np.ndarray
    intercept: bool
    standardize: bool
    family: Family
    rows: np.ndarray | None = None
    excluded: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.raw.shape[0] if self.rows is None else self.rows.shape[0]

    @property
    def p(self) -> int:
        return self.raw.shape[1]

    @property
    def raw_rows(self) -> np.ndarray:
        return self.raw if self.rows is None else self.raw[self.rows]


@dataclass(frozen=True, eq=False)
class GLMModel:
    """A binomial or Poisson model's raw arrays and options (see the module docstring)."""

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None
    offset: np.ndarray | None
    penalty_factor: np.ndarray | None
    standardize: bool
    intercept: bool
    l1_ratio: float
    tol: float
    max_iter: int
    family: Family

    @property
    def n(self) -> int:
        return self.X.shape[0]

    def prepare(self, rows: np.ndarray | None = None, *, y: np.ndarray | None = None,
                weights: np.ndarray | None = None, **_ignored) -> GLMPrepared:
        """The rows given (all when None), standardized on themselves, optionally with another
        response or weights.  (``gram=``/``compact=`` are the gaussian engine's; ignored.)"""
        X = np.asarray(self.X)
        sel = slice(None) if rows is None else np.asarray(rows, dtype=np.intp)
        if y is None:
            y = np.asarray(self.y)[sel]
        if weights is None and self.weights is not None:
            weights = np.asarray(self.weights)[sel]
        n = X.shape[0] if rows is None else len(sel)
        off = np.zeros(n) if self.offset is None else np.asarray(self.offset, dtype=float)[sel]
        y = np.asarray(y, dtype=float)
        w = engine.normalise_weights(weights, n)
        # standardized once here; solve() hands the result to glm_path instead of redoing it
        Xs, g = _standardized(X if rows is None else X[sel], y, w, self.penalty_factor, self.standardize,
                              self.intercept)
        return GLMPrepared(raw=X, X=Xs, y=y, offset=off,
                           weights=None if weights is None else np.asarray(weights, float), x_mean=g.x_mean,
                           x_scale=g.x_scale, w=w, v=g.v, constant=g.constant,
                           intercept=self.intercept, standardize=self.standardize, family=self.family,
                           rows=None if rows is None else sel, excluded=g.excluded)

    def cross(self) -> None:
        """No down-dated cross-products for GLMs (each fold is refitted from its rows)."""
        return None

    def solve(self, prep: GLMPrepared, lambdas: np.ndarray | None, *, tol: float | None = None,
              n_lambda: int = 100, lambda_min_ratio: float | None = None, **_ignored) -> engine.Solution:
        """The path on the prepared rows (glmnet's grid when ``lambdas`` is None).  Keywords of the
        gaussian engine (``beta0``, ``method``, ``exact``) are ignored: IRLS warm-starts itself."""
        # (glm_path reads only the shape of its X when given the standardized design)
        sol = glm_path(prep.X, prep.y, self.family, weights=prep.weights, offset=prep.offset,
                       penalty_factor=self.penalty_factor, standardize=self.standardize,
                       intercept=self.intercept, l1_ratio=self.l1_ratio,
                       lambdas=None if lambdas is None else np.asarray(lambdas, dtype=float),
                       n_lambda=n_lambda, lambda_min_ratio=lambda_min_ratio,
                       tol=self.tol if tol is None else float(tol), standardized=(prep.X, prep))
        n = prep.n
        L = len(sol.lambdas)
        return engine.Solution(lambdas=sol.lambdas, beta=sol.beta, coef=sol.coef, intercept=sol.intercept,
                               rss=sol.deviance / n, gaps=np.zeros(L), sweeps=np.asarray(sol.iterations),
                               converged=np.asarray(sol.converged), method="irls", yy=sol.null_deviance / n)

    def predict_rows(self, rows: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """Linear predictors (offset included) of ``rows`` for a path's (coef, intercept)."""
        eta = np.asarray(self.X)[rows] @ coef.T + intercept[None, :]
        if self.offset is not None:
            eta += np.asarray(self.offset)[rows][:, None]
        return eta


def glm_df(prep: GLMPrepared, sol: engine.Solution, l1_ratio: float) -> np.ndarray:
    """Effective degrees of freedom along a GLM path (intercept not counted).

    Lasso: the rank of the active columns (the number of nonzero coefficients in general position).
    Elastic net and ridge: ``trace((H_AA + lam (1 - a) V_A)^{-1} H_AA)`` with ``H = Xc' Q Xc / n``
    the Hessian of the loss at the solution on the standardized scale (``Q`` the IRLS weights
    ``w V(mu)``, ``Xc`` the columns centred by their Q-weighted means when there is an intercept),
    the usual first-order df of a penalized GLM (the linear smoother of the last IRLS step).
    """
    from .dof import gram_rank

    Xs = prep.X
    fam = prep.family
    a = float(l1_ratio)
    out = np.zeros(len(sol.lambdas))
    for k, lam in enumerate(sol.lambdas):
        b = sol.beta[k]
        act = np.flatnonzero((b != 0) & ~prep.constant)
        if act.size == 0:
            continue
        XA = Xs[:, act]
        eta = XA @ b[act] + (sol.intercept[k] + sol.coef[k] @ prep.x_mean) + prep.offset
        q = prep.w * fam.variance(fam.mean(eta))
        if prep.intercept:
            XA = XA - (q @ XA) / q.sum()
        H = (XA * q[:, None]).T @ XA / prep.n
        if a == 1.0:
            out[k] = float(gram_rank(H))
            continue
        R = lam * (1.0 - a) * prep.v[act]
        out[k] = float(np.trace(np.linalg.solve(H + np.diag(R), H)))
    return out


def fit_glm(design, data_frame, fam: Family, l1_ratio: float, lam_user, n_lambda: int, lambda_min_ratio,
            standardize: bool, w, v, offset, tol: float, max_iter: int
            ) -> tuple[GLMPrepared, engine.Solution, np.ndarray | None]:
    """The binomial or Poisson path of a built design, solved: ``(prepared, solution, offset of the
    rows used)``, from which :func:`regstats.path.elastic_net` (whose second half this is for these
    families: the arguments are validated there) builds the :class:`~regstats.path.Path`."""
    import warnings

    from ._warn import _warn_constant, _warn_unconverged
    from .design import row_vector
    from .errors import DesignWarning, user_stacklevel

    y = fam.check_response(design.y, design.spec.response)
    if fam.name == "poisson":
        frac = y != np.round(y)
        if frac.any():
            warnings.warn(f"the response {design.spec.response!r} has non-integer values (e.g. {y[frac][0]:g}) "
                          "for a Poisson model; fitted as given (the quasi-Poisson likelihood, as R's glm warns)",
                          DesignWarning, stacklevel=user_stacklevel())
    off = row_vector(offset, data_frame, design, "offset")
    names = design.column_names
    model = GLMModel(X=design.X, y=y, weights=w, offset=off, penalty_factor=v, standardize=standardize,
                     intercept=design.spec.intercept, l1_ratio=l1_ratio, tol=tol, max_iter=max_iter, family=fam)
    prep = model.prepare()
    _warn_constant(prep, names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sol = model.solve(prep, lam_user, n_lambda=n_lambda, lambda_min_ratio=lambda_min_ratio)
    for wmsg in caught:       # re-raised at the user's line, separation with its direction named
        text = str(wmsg.message)
        if "separated" in text:
            text = text.rstrip(".") + ". " + separating_direction(sol.beta[-1], names)
        warnings.warn(text, wmsg.category, stacklevel=user_stacklevel())
    if not caught:
        _warn_unconverged(sol)
    return prep, sol, off


def separating_direction(beta: np.ndarray, names, top: int = 5) -> str:
    """A sentence naming the direction along which a (nearly) separated binomial fit grows: the
    smallest lambda's coefficients on the standardized scale, normalised to length 1, largest first."""
    norm = float(np.sqrt(beta @ beta))
    if norm == 0:
        return ""
    d = beta / norm
    order = np.argsort(-np.abs(d))[:top]
    parts = ", ".join(f"{names[j]} {d[j]:+.2f}" for j in order if d[j] != 0)
    more = int(np.count_nonzero(d)) - len(order)
    return (f"The separating direction (the last fit's standardized coefficients, normalised to length 1): "
            f"{parts}{f' and {more} more' if more > 0 else ''}.")
