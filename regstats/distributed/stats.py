"""Statistics of a :class:`~regstats.distributed.fit.DaskPath` from sufficient statistics: CV
(per-fold statistics, one pass), bootstrap (Poisson(1) weights, B weighted Gram matrices in one
pass), stability selection (hashed complementary halves, one pass), the desparsified lasso
(nodewise lasso on the Gram matrix, no pass) and the analytic ridge bias-variance (no pass).
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .. import _validate as check
from .. import engine
from .._types import DaskFitLike, DaskPathLike
from ..errors import ConvergenceWarning, DesignWarning, ParameterError, user_stacklevel
from . import passes
from .gram import NoRows, fold_loss, prepared, rows_needed
from .passes import _raise_bad


def _seed_int(seed: Any) -> int:
    """A 64-bit integer key from a seed (int, SeedSequence, Generator or None)."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and int(seed) >= 0:
        return int(seed)
    ss = check.seed_sequence(seed)
    return int(ss.generate_state(2, dtype=np.uint32).astype(np.uint64) @ np.array([1, 2 ** 32], dtype=np.uint64))


def _pass(path: "DaskPathLike", **job: Any) -> dict[str, Any]:
    import dataclasses

    extra = [job["fold_col"]] if job.get("fold_col") else []
    cols = list(path._columns) + [c for c in extra if c not in path._columns]
    res = passes.run(path._data, dataclasses.replace(path._job, **job), path._offsets, cols)
    _raise_bad(res["bad"], path.column_names, path.response, path._job.weights)
    return res


def _prep_of(path: "DaskPathLike", st: passes.Stats) -> engine.Prepared:
    o = path._options
    return prepared(st, intercept=path.intercept, standardize=path.standardize, penalty_factor=o.penalty_factor,
                    y_scale=o.y_scale, unit_weights=path._job.weights is None)


# ------------------------------------------------------------------------------------------------
# cross-validation
# ------------------------------------------------------------------------------------------------
def fold_statistics(path: "DaskPathLike", folds: int = 10, foldid: Any = None, seed: Any = None) -> tuple[list, passes.Stats]:
    """(fold labels, per-fold statistics) in one pass: folds from a column, or from a seeded hash
    of the row position (:func:`regstats.distributed.passes.hash_folds`)."""
    if foldid is not None:
        if not isinstance(foldid, str) or foldid not in path._data.columns:
            raise ParameterError(f"foldid must be a column name of the dask DataFrame; got {foldid!r}")
        if foldid in path.column_names:
            warnings.warn(f"foldid column {foldid!r} is also a predictor of the model; build the path "
                          f"with a formula that leaves it out (e.g. '. - {foldid}')", DesignWarning,
                          stacklevel=user_stacklevel())
        res = _pass(path, mode="folds", fold_col=foldid)
    else:
        folds = check.positive_int("folds", folds, minimum=2)
        if folds > path.n_obs:
            raise ParameterError(f"folds must be at most the number of rows ({path.n_obs}); got {folds}")
        res = _pass(path, mode="folds", n_slots=folds, seed=_seed_int(seed))
    groups = res["groups"]
    labels = sorted(groups)
    if len(labels) < 2:
        raise ParameterError(f"foldid must have at least 2 distinct folds; got {len(labels)}")
    st = groups[labels[0]]
    for lab in labels[1:]:
        s = groups[lab]
        st = passes.Stats(np.concatenate([st.rows, s.rows]), np.concatenate([st.W, s.W]),
                          np.concatenate([st.m, s.m]), np.concatenate([st.C, s.C]))
    return labels, st


def cross_validate(path: "DaskPathLike", folds: int = 10, foldid: Any = None, seed: Any = None, *,
                   loss: str = "mse", n_repeats: int = 1, groups: Any = None, tol: float | None = None,
                   progress: bool = False):
    """K-fold CV of a dask path, cv.glmnet's statistics (as :func:`regstats.cv.cross_validate`).

    One pass gathers each fold's statistics; a fold's training problem is the exact combination of
    the others, and its held-out mean squared error is a quadratic form in the fold's statistics.
    """
    loss = check.choice("loss", loss, ("mse", "mae"))
    if loss != "mse":
        raise rows_needed("loss='mae' (absolute errors are not a function of sums of squares)")
    if groups is not None:
        raise ParameterError("groups must be None on a dask path; give a fold column that keeps each group in "
                             "one fold as foldid= instead")
    if check.positive_int("n_repeats", n_repeats) != 1:
        raise ParameterError(f"n_repeats must be 1 on a dask path (one pass per repeat: call cv() with other "
                             f"seeds); got {n_repeats}")
    tol = path._options.tol if tol is None else check.real_in("tol", tol, 0.0, 1.0, lo_open=True)
    labels, st = fold_statistics(path, folds, foldid, seed)
    return cv_from_stats(path, st, tol)


def cv_from_stats(path: "DaskPathLike", st: passes.Stats, tol: float):
    """:class:`~regstats.cv.CVResult` from per-fold statistics (one slot per fold)."""
    from ..cv import CVResult
    from ..folds import _combine, select_lambdas

    loss = "mse"
    K, L = len(st.W), len(path.lambdas)
    err = np.full((K, L), np.nan)
    fw = st.W.copy()
    bad: set[float] = set()
    for k in range(K):
        keep = np.ones(K, dtype=bool)
        keep[k] = False
        prep = _prep_of(path, st.total(keep))
        sol = engine.solve(prep, path.l1_ratio, path.lambdas, tol=tol, max_iter=path._options.max_iter)
        bad.update(path.lambdas[~sol.converged].tolist())
        if fw[k] > 0:
            err[k] = fold_loss(st.slot(k), sol.coef, sol.intercept)
    if bad:
        shown = ", ".join(f"{x:.4g}" for x in sorted(bad, reverse=True)[:10])
        warnings.warn(f"in some cross-validation folds the solver did not reach its tolerance at {len(bad)} "
                      f"lambda(s): {shown}", ConvergenceWarning, stacklevel=user_stacklevel())
    mean, se = _combine(err, fw)
    i_min, i_1se = select_lambdas(path.lambdas, mean, se)
    lams = path.lambdas
    table = pd.DataFrame({"lambda": lams, "cv_mean": mean, "cv_se": se, "cv_lower": mean - se,
                          "cv_upper": mean + se, "n_nonzero": path.table["n_nonzero"].to_numpy(),
                          "df": path.table["df"].to_numpy()})
    reps = pd.DataFrame([{"repeat": 0, "lambda_min": lams[i_min], "lambda_1se": lams[i_1se]}])
    return CVResult(table=table, lambda_min=float(lams[i_min]), lambda_1se=float(lams[i_1se]), index_min=i_min,
                    index_1se=i_1se, loss=loss, n_folds=K, n_repeats=1,
                    foldid=NoRows("the fold id of every row (folds are hashed from row positions)"),
                    fold_errors=err[None], fold_weights=fw[None],
                    oof_predictions=NoRows("out-of-fold predictions"), repeats=reps,
                    grouped_by=None, path=path)


# ------------------------------------------------------------------------------------------------
# bootstrap and stability selection: weighted Gram matrices of all replicates in one pass
# ------------------------------------------------------------------------------------------------
def bootstrap(fit: "DaskFitLike", n_boot: int = 500, seed: Any = None, *, lam: str = "fixed", level: float = 0.95,
              tol: float | None = None, progress: bool = False, **kwargs: Any):
    """Bootstrap of a dask fit with Poisson(1) weights (the m-out-of-n-free "Poisson bootstrap").

    Replicate b weights row i by ``k_bi ~ Poisson(1)`` drawn from a seeded hash of (seed, b, row
    position), so the result does not depend on the partitioning; its weighted Gram matrix is
    gathered with all others in one pass, then refitted at the fit's lambda, warm-started from the
    fit.  Equal in law to the pairs bootstrap as n grows (a multinomial(n, 1/n) count per row).
    """
    from ..bootstrap import Bootstrap

    if kwargs:
        bad = sorted(k for k in kwargs if k != "cv_folds" and k != "cv_rule")
        if bad:
            raise ParameterError(f"bootstrap() got unexpected keyword argument(s) {bad}")
    n_boot = check.positive_int("n_boot", n_boot, 2)
    if check.choice("lam", lam, ("fixed", "cv")) == "cv":
        raise ParameterError("lam must be 'fixed' on a dask path (a CV inside every replicate would need "
                             "n_boot x folds Gram matrices); got 'cv'")
    level = check.real_in("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
    path = fit.path
    res = _pass(path, mode="bootstrap", n_slots=n_boot, seed=_seed_int(seed))
    st = res["slots"]
    tol = path._options.tol if tol is None else float(tol)
    beta0 = np.asarray(fit._beta, dtype=float)
    coefs = np.empty((n_boot, len(fit.params)))
    for b in range(n_boot):
        prep = _boot_prep(path, st.slot(b))
        sol = engine.solve(prep, path.l1_ratio, np.array([fit.lam]), tol=tol, max_iter=path._options.max_iter,
                           beta0=beta0)
        coefs[b] = np.concatenate([[sol.intercept[0]], sol.coef[0]]) if path.intercept else sol.coef[0]
    draws = pd.DataFrame(coefs, columns=list(fit.params.index))
    draws.index.name = "replicate"
    v = path._prep.v
    penalized = tuple(c for c, vj in zip(path.column_names, v) if vj > 0)
    return Bootstrap(formula=fit.formula, lam=float(fit.lam), l1_ratio=float(fit.l1_ratio), lam_mode="fixed",
                     level=level, n_boot=n_boot, estimate=fit.params.copy(), draws=draws,
                     lambdas=np.full(n_boot, float(fit.lam)), terms=dict(path.terms), penalized=penalized)


def _boot_prep(path: "DaskPathLike", st: passes.Stats) -> engine.Prepared:
    o = path._options
    return prepared(st, intercept=path.intercept, standardize=path.standardize, penalty_factor=o.penalty_factor,
                    y_scale=o.y_scale, unit_weights=False)


class _SlotModel:
    """What :func:`regstats.bootstrap._stab_chunk` needs of a model: prepare a subsample (here a
    slot of statistics) and solve it along the path."""

    def __init__(self, path: "DaskPathLike", st: passes.Stats) -> None:
        self.path, self.st = path, st

    def prepare(self, k: int) -> engine.Prepared:
        return _boot_prep(self.path, self.st.slot(k))

    def solve(self, prep: engine.Prepared, lambdas: np.ndarray) -> engine.Solution:
        o = self.path._options
        return engine.solve(prep, self.path.l1_ratio, lambdas, tol=o.tol, max_iter=o.max_iter)


def stability_selection(path: "DaskPathLike", threshold: float | None = 0.75, pfer: float | None = None, *,
                        q: float | None = None, n_subsamples: int | None = None, sampling: str = "complementary",
                        assumption: str = "none", seed: Any = None, progress: bool = False):
    """Complementary-pairs stability selection (as :func:`regstats.bootstrap.stability_selection`)
    with each pair's halves split by a hashed bit of the row position: the halves hold about n/2
    rows each (binomially, not exactly), and all 2B subsample Gram matrices come from one pass."""
    from ..bootstrap import Stability, _stab_chunk, stability_parameters

    if check.choice("sampling", sampling, ("complementary", "subsample")) != "complementary":
        raise ParameterError("sampling must be 'complementary' on a dask path (hashed complementary halves); "
                             "got 'subsample'")
    n_subsamples = 50 if n_subsamples is None else check.positive_int("n_subsamples", n_subsamples)
    if threshold is not None and q is None and pfer is None:
        pfer = 1.0
    names = list(path.column_names)
    pen = path._prep.v > 0
    p = int(pen.sum())
    assumption = check.choice("assumption", assumption, ("none", "unimodal"))
    par = stability_parameters(p, threshold=threshold, q=q, pfer=pfer, assumption=assumption,
                               B=max(n_subsamples, 2))
    res = _pass(path, mode="halves", n_slots=2 * n_subsamples, seed=_seed_int(seed))
    lambdas = np.asarray(path.lambdas, dtype=float)
    nz, sel = _stab_chunk((_SlotModel(path, res["slots"]), lambdas, list(range(2 * n_subsamples)), par["q"], pen))
    pen_names = [c for c, k in zip(names, pen) if k]
    prob = pd.Series(sel[:, pen].mean(axis=0), index=pen_names, name="selection_prob")
    paths = pd.DataFrame(nz[:, :, pen].mean(axis=0), index=pd.Index(lambdas, name="lambda"), columns=pen_names)
    return Stability(formula=path.formula, threshold=par["threshold"], q=par["q"], pfer=par["pfer"],
                     pfer_specified=par["pfer_specified"], p=p, sampling="complementary",
                     n_subsamples=2 * n_subsamples, selection_prob=prob, probabilities=paths,
                     mean_selected=float(sel.sum(axis=1).mean()),
                     unpenalized=tuple(c for c, k in zip(names, pen) if not k), assumption=assumption)


# ------------------------------------------------------------------------------------------------
# inference: the desparsified lasso on the Gram matrix
# ------------------------------------------------------------------------------------------------
def inference(fit: "DaskFitLike", method: str = "desparsified", level: float = 0.95, *, sigma: Any = None,
              initial: str = "cv", nodewise_lambda: Any = "cv", folds: int = 10, seed: Any = None,
              lam0: float | None = None, progress: bool = False, se: str = "linearized"):
    """:meth:`regstats.path.Fit.inference` for a dask fit: ``"desparsified"`` from the Gram matrix
    (and, for ``initial="cv"`` or ``nodewise_lambda="cv"``, one pass of fold statistics shared by
    both), ``"ridge"`` from the pseudo-rows; the other methods need rows."""
    from .. import inference as inf

    method = check.choice("method", method, inf._METHODS)
    level = check.real_in("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
    if method == "ridge":
        if sigma == "scaled_lasso":
            raise ParameterError("sigma must be 'residual' or a number for method='ridge' on a dask path")
        return inf._ridge(fit, level, "residual" if sigma is None else sigma)
    if method != "desparsified":
        raise rows_needed(f"method={method!r}")
    folds = check.positive_int("folds", folds, 2)
    initial = check.choice("initial", initial, ("cv", "fit"))
    se_rule = check.choice("se", se, ("linearized", "model"))
    if sigma == "rcv":
        raise rows_needed("sigma='rcv' (refitted cross-validation)")
    path = fit.path
    prep = path._prep
    n = prep.n
    p = prep.p
    names = list(path.column_names)
    root = check.seed_sequence(seed)
    cv_ss, nw_ss = root.spawn(2)
    fold_st = None
    cv_nodes = isinstance(nodewise_lambda, str) and check.choice("nodewise_lambda", nodewise_lambda,
                                                                  ("cv", "scaled")) == "cv"
    if cv_nodes and path._job.weights is not None:
        raise ParameterError("nodewise_lambda must be 'scaled' or a number on a weighted dask path (the pandas "
                             "path's nodewise CV splits sqrt(weight)-scaled rows); got 'cv'")
    if initial == "cv" or cv_nodes:
        _, fold_st = fold_statistics(path, folds, None, cv_ss)
    if initial == "cv":
        cvres = cv_from_stats(path, fold_st, path._options.tol)
        lam = float(cvres.lambda_min)
        beta = path.at(lam).coef.to_numpy(dtype=float)
        init_text, init_lam = f"{folds}-fold CV lambda_min = {lam:.4g} on the same path (hashed folds)", lam
    else:
        beta = fit.coef.to_numpy(dtype=float)
        init_text, init_lam = f"the fit's coefficients (lambda = {fit.lam:.4g})", float(fit.lam)
    # the centred, sqrt(weight)-weighted design on the original scale: Gc = Xc'Xc / n, Xc'yc / n
    G, c = prep.gram
    s = np.where(prep.constant, 0.0, prep.x_scale)
    Gc = G * np.outer(s, s)
    cc = c * s
    sd = np.sqrt(np.maximum(np.diag(Gc), 0.0))
    ok = sd > 0
    inv = np.where(ok, 1.0 / np.where(ok, sd, 1.0), 0.0)
    Gs = Gc * np.outer(inv, inv)
    cs = cc * inv
    yy = prep.yy
    lam0_ = math.sqrt(2.0 * math.log(max(p, 2)) / n) if lam0 is None else float(lam0)
    rss = n * (yy - 2.0 * float(beta @ cc) + float(beta @ Gc @ beta))
    if sigma is None:
        sigma = "residual"
    dfres = n - int(np.count_nonzero(beta)) - int(path.intercept)
    if isinstance(sigma, str):
        rule = check.choice("sigma", sigma, ("residual", "scaled_lasso"))
        fallback = ""
        if rule == "residual" and inf._thin(dfres, n):
            rule, l0s = "scaled_lasso", inf.lam0_quantile(n, p)
            fallback = f" (the initial fit leaves {dfres} residual degrees of freedom)"
        else:
            l0s = lam0_ if lam0 is not None else inf.lam0_quantile(n, p)
        if rule == "scaled_lasso":
            _, sig = inf._scaled_lasso_gram(Gs, cs, yy, l0s)
            sig_text = f"scaled lasso, lam0 = {l0s:.4g}" + fallback
        else:
            sig = math.sqrt(max(rss, 0.0) / dfres)
            sig_text = (f"residuals of the initial fit, RSS / (n - nonzero - {int(path.intercept)}) "
                        "(Reid, Tibshirani & Friedman 2016)")
    else:
        sig = check.real_in("sigma", sigma, 0.0, np.inf, lo_open=True)
        sig_text = "given"
    details: dict[str, Any] = {}
    lams = np.full(p, np.nan)
    if cv_nodes:
        lam_nw, details["nodewise_cv"] = _nodewise_cv(path, fold_st, sd, ok)
        lams[:] = lam_nw
        details["nodewise_rule"] = f"{folds}-fold CV (lambda.min, hashed folds)"
    elif isinstance(nodewise_lambda, str):
        details["nodewise_rule"] = f"scaled lasso per column, lam0 = {lam0_:.4g}"
    else:
        lams[:] = check.real_in("nodewise_lambda", nodewise_lambda, 0.0, np.inf, lo_open=True)
        details["nodewise_rule"] = "given"
    Gamma = np.zeros((p, p))
    for j in range(p):
        if not ok[j]:
            continue
        if np.isnan(lams[j]):
            others = np.r_[0:j, j + 1:p]
            g, tau = inf._scaled_lasso_gram(Gs[np.ix_(others, others)], Gs[others, j], Gs[j, j], lam0_)
            Gamma[others, j] = g
            lams[j] = tau * lam0_
        else:
            Gamma[:, j] = inf._node_lasso(Gs, j, float(lams[j]))
    M = np.eye(p) - Gamma                      # Z = Xs M
    GM = Gs @ M
    zx = n * np.einsum("ij,ij->j", M, Gs * sd[None, :])      # Z_j'X_j = n M_j' Gs_j sd_j
    zz = n * np.einsum("ij,ij->j", M, GM)                    # Z_j'Z_j
    xr = n * (cs - Gs @ (sd * beta))                          # Xs'r
    se_rule = inf._se_in_use(se_rule, dfres, n, fit.l1_ratio)
    details["se"] = se_rule
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(ok, beta + (M.T @ xr) / zx, np.nan)
        if se_rule == "linearized":
            unit = np.sqrt(np.maximum(_linearized_from_gram(Gs, sd, M, zz, zx, np.flatnonzero(beta), n), 0.0))
        else:
            unit = np.sqrt(np.maximum(zz, 0.0)) / np.abs(zx)
        se = np.where(ok, sig * unit, np.nan)
    details.update({"nodewise_lambda": lams, "tau": np.sqrt(np.maximum(zz, 0.0) / n), "initial": init_text,
                    "initial_lambda": init_lam})
    notes = ["Debiased estimates b + Z'r / Z'X (van de Geer et al. 2014), computed from the Gram matrix of a "
             "dask path (the nodewise residuals Z are never formed); asymptotically valid for sparse truths.",
             f"Initial estimator b: {init_text}."]
    if fit.l1_ratio < 1:
        notes.append(f"The fit is not a lasso (l1_ratio = {fit.l1_ratio:g}); it is used as the initial "
                     "estimator, for which the theory is less developed.")
    bad = [names[j] for j in np.flatnonzero(~np.isfinite(se))]
    if bad:
        warnings.warn(f"no interval for constant column(s) {bad[:10]}: they have no variance in the rows used",
                      inf.InferenceWarning, stacklevel=user_stacklevel())
    res = {"estimate": est, "std_error": se}
    inf._drop_aliased(inf.aliased_from_gram(Gs, n), res, names, notes)
    tab = inf._finish(names, res["estimate"], res["std_error"], level, "desparsified")
    return inf.Inference(formula=fit.formula, lam=float(fit.lam), l1_ratio=float(fit.l1_ratio),
                         method="desparsified", level=level, table=tab, sigma=float(sig), sigma_method=sig_text,
                         details=details, notes=tuple(notes))


def _linearized_from_gram(Gs: np.ndarray, sd: np.ndarray, M: np.ndarray, zz: np.ndarray, zx: np.ndarray,
                          support: np.ndarray, n: int) -> np.ndarray:
    """:func:`regstats.inference.linearized_variance` from the Gram matrix: with Z = Xs M and
    X_S = Xs_S sd_S, ||P_S Z_j||^2 = (Z'X_S)_j (X_S'X_S)^+ (X_S'Z)_j, all from Gs = Xs'Xs / n."""
    if support.size == 0:
        return zz / zx ** 2
    ZX = n * (M.T @ Gs[:, support]) * sd[support][None, :]             # Z'X_S
    A = n * Gs[np.ix_(support, support)] * np.outer(sd[support], sd[support])   # X_S'X_S
    w, V = np.linalg.eigh(A)
    keep = w > w[-1] * max(n, support.size) * np.finfo(float).eps
    Ainv = (V[:, keep] / w[keep]) @ V[:, keep].T
    v = (zz - np.einsum("ij,jk,ik->i", ZX, Ainv, ZX)) / zx ** 2
    v[support] += np.diag(Ainv)
    return v


def _nodewise_cv(path: "DaskPathLike", st: passes.Stats, sd: np.ndarray, ok: np.ndarray,
                 n_lambda: int = 50) -> tuple[float, pd.DataFrame]:
    """hdi's ``cv.nodewise.bestlambda`` from per-fold statistics (unit weights): one lambda for
    all nodewise regressions on the standardized columns, minimising their K-fold CV error
    averaged over the p regressions; the whole grid is walked (it is cheap on Gram matrices)."""
    from .. import inference as inf

    p = path._prep.p
    n = path.n_obs
    inv = np.where(ok, 1.0 / np.where(ok, sd, 1.0), 0.0)
    full = st.total()
    Gfull = full.C[0][:p, :p] / full.W[0] * np.outer(inv, inv)
    ratio = 1e-4 if n > p - 1 else 1e-2
    grid = inf._nodewise_grid(Gfull, n_lambda * (2 if ratio < 1e-2 else 1), ratio)
    K = len(st.W)
    err = np.zeros((K, grid.size))
    for k in range(K):
        keep = np.ones(K, dtype=bool)
        keep[k] = False
        tr = st.total(keep)
        Gtr = tr.C[0][:p, :p] / tr.W[0] * np.outer(inv, inv)
        te = st.slot(k)
        Cte = te.C[0][:p, :p] * np.outer(inv, inv)
        dm = (te.m[0][:p] - tr.m[0][:p]) * inv
        Wte = te.W[0]
        for j in range(p):
            others = np.r_[0:j, j + 1:p]
            betas, _ = inf._lasso_gram(Gtr[np.ix_(others, others)], Gtr[others, j], Gtr[j, j], grid, tol=1e-7)
            A = np.zeros((grid.size, p))
            A[:, j] = 1.0
            A[:, others] = -betas
            err[k] += np.einsum("li,ij,lj->l", A, Cte, A) / Wte + (A @ dm) ** 2
    err /= p
    mean = err.mean(axis=0)
    i = int(np.argmin(mean))
    table = pd.DataFrame({"lambda": grid, "cv_mean": mean, "cv_se": err.std(axis=0, ddof=1) / math.sqrt(K)})
    return float(grid[i]), table


# ------------------------------------------------------------------------------------------------
# analytic bias-variance (ridge) from the Gram matrix
# ------------------------------------------------------------------------------------------------
def bias_variance(path: "DaskPathLike", method: str = "analytic", mu: Any = None, sigma: Any = None, *,
                  reference: Any = "auto", seed: Any = None, **kwargs: Any):
    """The exact ridge bias-variance (:func:`regstats.biasvar.bias_variance`, ``method="analytic"``)
    from the Gram matrix, with the plug-in truth of a reference fit (least squares, or the fit at a
    lambda, or at CV's lambda_min): its fitted values lie in the column space, so every term is a
    quadratic form in the eigen-decomposition of the Gram matrix.  A given ``mu`` (one value per
    row) and the simulation and bootstrap methods need the rows."""
    from .. import biasvar as bv

    method = check.choice("method", method, bv._METHODS)
    if method != "analytic":
        raise rows_needed(f"bias_variance(method={method!r}) (refits to new responses on the same rows)")
    if mu is not None:
        raise rows_needed("bias_variance with a given mu (one value per row)")
    if path.l1_ratio != 0:
        raise ParameterError(f"method must be 'simulation' or 'bootstrap' for a {path.penalty} path "
                             f"(the analytic decomposition needs a linear smoother, l1_ratio = 0); got 'analytic'")
    prep = path._prep
    n = prep.n
    keep = ~prep.constant
    v = prep.v[keep]
    if np.any(v == 0):
        raise ParameterError("penalty_factor must be > 0 for every column for the analytic bias-variance on a "
                             "dask path")
    if isinstance(reference, str):
        reference = check.choice("reference", reference, ("auto", "ols", "cv"))
        if reference == "auto":
            reference = "ols" if n >= int(keep.sum()) + int(prep.intercept) + 10 else "cv"
    G, c = prep.gram
    if reference == "ols":
        Xk = prep.X[:, keep]
        coef, _, rank, _ = np.linalg.lstsq(Xk, prep.y, rcond=None)
        r = prep.y - Xk @ coef
        dof = n - rank - int(prep.intercept)
        b = np.zeros(prep.p)
        b[keep] = coef
        rss = float(r @ r)
        desc = f"least-squares fit (lambda = 0), sigma^2 = weighted RSS / {dof}"
    else:
        if reference == "cv":
            lam = float(path.cv(folds=10, seed=seed).lambda_min)
            desc = f"fit at CV lambda_min = {lam:.6g} (10 folds, hashed)"
        else:
            lam = check.real_in("reference", reference, 0.0, np.inf)
            desc = f"fit at lambda = {lam:.6g}"
        fit = path.at(lam)
        b = np.asarray(fit._beta, dtype=float)
        rss = n * (prep.yy - 2.0 * float(b @ c) + float(b @ G @ b))
        dof = n - fit.df - int(prep.intercept)
    if dof <= 0:
        raise ParameterError("reference must leave residual degrees of freedom")
    sig = float(np.sqrt(rss / dof))
    if sigma is None:
        sigma_source = "plug-in: " + desc
    else:
        sig = check.real_in("sigma", sigma, 0.0, np.inf, lo_open=True, hi_open=True)
        sigma_source = "given"
    # X1 = X_k V^(-1/2): n G1 = Q diag(d^2) Q'; U'mt = d Q' V^(1/2) b (mt = X b lies in span(X))
    sv = 1.0 / np.sqrt(v)
    G1 = G[np.ix_(keep, keep)] * np.outer(sv, sv)
    e, Q = np.linalg.eigh(n * G1)
    e, Q = e[::-1], Q[:, ::-1]
    d = np.sqrt(np.maximum(e, 0.0))
    r1 = int((d > d.max() * max(n, int(keep.sum())) * np.finfo(float).eps).sum()) if d.size and d.max() > 0 else 0
    d, Q = d[:r1], Q[:, :r1]
    cU = d * (Q.T @ (np.sqrt(v) * b[keep]))
    lambdas = np.asarray(path.lambdas, dtype=float)
    pen = engine.ridge_weight(prep, lambdas, 0.0)
    f = (d * d)[None, :] / ((d * d)[None, :] + n * pen[:, None])
    bias2 = (((1.0 - f) * cU[None, :]) ** 2).sum(axis=1) / n
    s2 = sig * sig
    variance = s2 * ((1.0 if prep.intercept else 0.0) + (f * f).sum(axis=1)) / n
    noise = s2
    out = bv._frame(lambdas, bias2, variance, noise, noise + bias2 + variance, f.sum(axis=1))
    info = {"mu_source": "plug-in: " + desc, "sigma_source": sigma_source, "sigma": sig,
            "noise_model": "sd_i = sigma / sqrt(w_i) (weights as inverse variances)",
            "assumptions": "ridge is a linear smoother: exact given mu and sigma (fixed design); from the Gram "
                           "matrix of a dask path",
            "mc": None, "n_rep": None, "seed": None}
    return bv._finish(out, path, "analytic", info)
