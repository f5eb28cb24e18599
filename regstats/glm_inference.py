"""Desparsified-lasso inference for binomial and Poisson fits (van de Geer, Buhlmann, Ritov & Dezeure 2014).

The one-step estimator of a penalized GLM fit ``b`` (hdi's ``lasso.proj(family = "binomial")``)::

    b_hat = b + Theta X' (y - mu) / n,        Var(b_hat_j) ~ phi (Theta Sigma_W Theta')_jj / n

with ``Sigma_W = X' W X / n`` the Fisher information per row at ``b`` (``W = diag(w_i V(mu_i))``,
the IRLS weights; the columns centred by their W-weighted means when the model has an intercept)
and ``Theta`` its nodewise-lasso inverse.  This is the gaussian desparsified lasso
(:func:`regstats.inference.desparsified_lasso`) applied to the weighted design ``W^{1/2} Xc`` with
the working residuals ``(y - mu) / V(mu)^{1/2}`` (times ``w^{1/2}``) and noise level
``sigma = phi^{1/2}``: the dispersion ``phi`` is 1 for the binomial and Poisson likelihoods
(``dispersion="pearson"`` estimates it for overdispersed counts).

Defaults as for gaussian fits: the initial fit is the lasso at the 10-fold CV ``lambda_min`` of the
same path (deviance loss), and one nodewise penalty by the Z&Z rule (CV's nodewise lambda lowered
while the average variance factor stays below ``znz_factor`` times CV's; docs/uncertainty.md), or
``nodewise_lambda="cv"`` (hdi's default) or a number.  Intervals are
on the log-odds (log-rate) scale, and exponentiated for odds (rate) ratios.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _validate as check
from .errors import ParameterError
from .family import family_of

__all__ = ["glm_desparsified"]


def glm_desparsified(fit: Any, level: float = 0.95, *, nodewise_lambda: Any = "znz", folds: int = 10,
                     seed: Any = None, dispersion: Any = None, initial: str = "cv", progress: bool = False,
                     znz_factor: float | None = None):
    """Desparsified-lasso intervals and p-values of a binomial or Poisson fit (module docstring).

    ``dispersion``: None (1, the likelihood's), ``"pearson"`` (Pearson's chi^2 / (n - nonzero - 1) at
    the initial fit) or a positive number.
    """
    from .inference import (ZNZ_FACTOR, Inference, _drop_aliased, _finish, aliased_columns, desparsified_lasso,
                            nodewise_penalty)
    from ._parallel import rng_of

    path = fit.path
    fam = family_of(path.family)
    initial = check.choice("initial", initial, ("cv", "fit"))
    root = check.seed_sequence(seed)
    cv_ss, nw_ss = root.spawn(2)
    if initial == "cv":
        cvres = path.cv(folds=folds, seed=cv_ss)
        init = path.at(cvres.lambda_min)
        init_text = f"{folds}-fold CV lambda_min = {cvres.lambda_min:.4g} on the same path (deviance)"
    else:
        init = fit
        init_text = f"the fit's coefficients (lambda = {fit.lam:.4g})"
    prep = path._prep
    X = np.asarray(path._design.X, dtype=float)
    y = np.asarray(path._design.y, dtype=float)
    n, p = X.shape
    beta = init.coef.to_numpy(dtype=float)
    eta = X @ beta + init.intercept + prep.offset
    mu = fam.mean(eta)
    V = fam.variance(mu)
    q = prep.w * V                                   # IRLS weights (w normalised to sum n)
    if path.intercept:
        Xc = X - (q @ X) / q.sum()
    else:
        Xc = X.copy()
    Xc[:, prep.constant] = 0.0
    sq = np.sqrt(q)
    Xw = Xc * sq[:, None]
    rw = np.sqrt(prep.w) * (y - mu) / np.sqrt(V)      # working residuals on the weighted scale
    nnz = int(np.count_nonzero(beta))
    if dispersion is None:
        phi, phi_text = 1.0, f"1 ({path.family} likelihood)"
    elif isinstance(dispersion, str):
        check.choice("dispersion", dispersion, ("pearson",))
        dfres = n - nnz - int(path.intercept)
        if dfres <= 0:
            raise ParameterError("dispersion='pearson' needs residual degrees of freedom; the initial fit "
                                 f"has {nnz} nonzero coefficients for {n} rows")
        phi = float(rw @ rw) / dfres
        phi_text = f"Pearson chi^2 / (n - nonzero - {int(path.intercept)}) = {phi:.4g}"
    else:
        phi = check.real_in("dispersion", dispersion, 0.0, np.inf, lo_open=True)
        phi_text = "given"
    details: dict[str, Any] = {"initial": init_text, "initial_lambda": float(init.lam)}
    if isinstance(nodewise_lambda, str):
        rule = check.choice("nodewise_lambda", nodewise_lambda, ("znz", "cv"))
        factor = ZNZ_FACTOR if znz_factor is None else check.real_in("znz_factor", znz_factor, 1.0, np.inf,
                                                                      hi_open=True)
        lam_nw = nodewise_penalty(Xw, rule, folds, rng_of(nw_ss), factor, details, progress, " on the weighted design")
    else:
        lam_nw = check.real_in("nodewise_lambda", nodewise_lambda, 0.0, np.inf, lo_open=True)
        details["nodewise_rule"] = "given"
    out = desparsified_lasso(Xw, Xw @ beta + rw, beta, sigma=math.sqrt(phi), nodewise_lambda=lam_nw,
                             progress=progress)
    details["nodewise_lambda"] = out["lambdas"]
    details["tau"] = out["tau"]
    details["dispersion"] = phi
    names = list(path.column_names)
    extra: list[str] = []
    _drop_aliased(aliased_columns(Xw), out, names, extra)
    tab = _finish(names, out["estimate"], out["std_error"], level, "desparsified")
    ratio = "odds_ratio" if path.family == "binomial" else "rate_ratio"
    tab[ratio] = np.exp(tab["estimate"])
    tab[f"{ratio}_lower"] = np.exp(tab["ci_lower"])
    tab[f"{ratio}_upper"] = np.exp(tab["ci_upper"])
    scale = "log-odds" if path.family == "binomial" else "log-rate"
    notes = (f"Debiased estimates b + Theta X'(y - mu)/n of a {path.family} lasso (van de Geer et al. 2014; "
             f"hdi's lasso.proj): intervals on the {scale} scale, and exponentiated in {ratio}_lower/upper; "
             "asymptotically valid for sparse truths, also when p > n.",
             f"Initial estimator b: {init_text}.",
             f"Dispersion: {phi_text}.", *extra)
    return Inference(formula=fit.formula, lam=float(fit.lam), l1_ratio=float(fit.l1_ratio), method="desparsified",
                     level=level, table=tab, sigma=math.sqrt(phi), sigma_method=f"dispersion {phi_text}",
                     details=details, notes=notes)
