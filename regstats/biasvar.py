"""Bias-variance decomposition of a penalized path over lambda (docs/dof_biasvar.md).

For a fixed design, a true mean vector ``mu`` and independent noise ``y_i = mu_i + e_i`` with
``Var(e_i) = s_i^2``, the expected (weighted) in-sample prediction error of the fit at lambda,
measured at fresh responses ``y0_i`` on the same rows, splits into three parts::

    risk = 1/n sum_i w_i E(y0_i - yhat_i)^2 = noise + bias2 + variance
    noise    = 1/n sum_i w_i s_i^2
    bias2    = 1/n sum_i w_i (E yhat_i - mu_i)^2
    variance = 1/n sum_i w_i Var(yhat_i)

with weights normalised to sum n (all 1 without weights: plain means over rows).
This is the loss the fit minimises, so ``bias2`` and ``variance`` show what the penalty trades.

Noise model: a scalar ``sigma`` means ``s_i = sigma / sqrt(w_i)`` (weights are inverse variances,
the model under which weighted least squares is efficient; ``s_i = sigma`` without weights), so
that ``noise = sigma^2``; one sd per row can be given instead (e.g. homoscedastic noise with
weights).  Rows with weight 0 get ``s_i = sigma``; they affect neither the fit nor the averages.

Four estimators, one return type (:class:`BiasVariance`: a table over lambda with ``lambda, bias2,
variance, noise, risk, df``; the method, its assumptions and Monte Carlo standard errors are in
its ``attrs``; ``summary()`` explains the columns):

``"analytic"`` (ridge only)
    Ridge is a linear smoother.  On the prepared scale (centred with the weighted means, scaled,
    rows times sqrt(w)), with ``mt = W^{1/2} (mu - mubar_w)``, ``u = sqrt(w)``, ``D = diag(w_i s_i^2)``
    and the ridge hat matrix ``H = U diag(f) U'`` (unpenalized columns projected out,
    ``f_k = d_k^2 / (d_k^2 + n lam / s_y)`` (s_y the observed response scale, held fixed) for the
    singular values d of the penalized part scaled by
    its penalty factors, ``f = 1`` on the unpenalized part)::

        bias2    = ||(I - H) mt||^2 / n
        variance = trace((P0 + H) D (P0 + H)) / n,   P0 = u u'/n  (the intercept; 0 without one)

    Exact given mu and sigma.  ``df`` is ``trace(H)``, the path's df.
``"simulation"`` (any penalty)
    ``n_rep`` responses ``y* = mu + e*`` are drawn; the path is refitted to each on the same
    prepared design (standardization computed once, warm starts along the lambda grid) and the
    sample mean and variance of the fitted values give ``variance`` (divisor n_rep - 1) and
    ``bias2 = 1/n sum w (mean yhat - mu)^2 - variance / n_rep`` (unbiased; it can be slightly
    negative when the true bias is ~0).  ``df`` is the mean reported df over the replicates.
    ``attrs["mc"]`` has Monte Carlo standard errors (batch means over 20 fixed batches of
    replicates; conservative for ``bias2`` where the true bias is ~0), the Monte Carlo test error at fresh responses (an independent check of
    ``risk``; ``risk_test_diff_se`` is the standard error of ``risk - test_error``, the two
    sharing the replicate fits) and Efron's covariance df (see :func:`regstats.dof.simulate_df`).
``"bootstrap"`` (real data, truth unknown; fixed design)
    A residual bootstrap around the plug-in pilot fit (``reference=``): ``n_rep`` responses
    ``y* = mu_hat + e*``, with ``e*_i = u_J / sqrt(w_i)`` and u the pilot's sqrt(w)-scaled
    residuals, centred and rescaled to its df-corrected sigma, drawn with replacement; then as
    ``"simulation"``.  It estimates the same fixed-design quantities as ``"simulation"`` with the
    pilot fit as the truth, without assuming Gaussian noise.
``"oob_bootstrap"`` (real data, truth unknown; random design)
    ``n_rep`` pairs-bootstrap resamples of the rows; each refit (standardized on its own rows,
    same lambda grid) predicts its out-of-bag rows.  Per row, with ``m_i`` and ``v_i`` the mean and
    variance (divisor k_i - 1) of its k_i out-of-bag predictions::

        risk     = 1/n sum w_i ((y_i - m_i)^2 - v_i / k_i)   (OOB error of the averaged prediction)
        variance = 1/n sum w_i v_i
        noise    = sigma^2 from the reference fit (or the ``sigma`` given)
        bias2    = max(0, risk - noise - variance)

    Why: ``E (y_i - m_i)^2 = s_i^2 + bias_i^2 + Var(m_i) + v_i / k_i``, where ``Var(m_i)`` is the
    sampling variance of the averaged out-of-bag prediction (over the data) and ``v_i / k_i`` the
    Monte Carlo noise of averaging k_i resamples.  The bootstrap spread ``v_i`` stands in for the
    sampling variance (the bootstrap principle), so the noise and the variance are both taken out
    of the bias.  (mlxtend's ``bias_variance_decomp`` calls ``mean (y - m)^2`` the "bias", with
    noise and variance in it.)  The risk is an out-of-sample error, comparable to CV's
    ``cv_mean``; the mean OOB error of the single refits would count the variance twice (a
    bootstrap refit varies around the data fit, which itself varies around the truth).
    Assumptions: the reference fit's noise variance is right; the spread of refits on ~63.2%
    distinct rows approximates the sampling variance of the fit (it is somewhat larger, as for
    the leave-one-out bootstrap of Efron & Tibshirani 1997).  When the bias estimate is negative
    it is clipped at 0, and ``risk`` is then less than the sum of the parts;
    ``attrs["bias2_clipped"]`` lists the lambdas concerned.

Plug-in truth (``mu`` / ``sigma`` None), ``reference=``:

* ``"ols"``: the least-squares fit (lambda = 0) on the same design and weights: ``mu`` = its
  fitted values, ``sigma^2`` = weighted RSS / (n - rank - 1), unbiased for a linear model;
* ``"cv"``: the path's fit at CV's ``lambda_min`` (10 folds), ``sigma^2`` = weighted RSS /
  (n - df - 1) (Reid, Tibshirani & Friedman 2016);
* a number: the path's fit at that lambda, with the same df correction;
* ``"auto"`` (default): ``"ols"`` when n >= p + 11 (with the intercept), else ``"cv"``.

With a plug-in ``mu`` the "truth" is the reference fit, so ``bias2`` measures shrinkage relative
to it; ``attrs["mu_source"]`` says which was used.

``attrs["lambda_min_risk"]`` is the grid lambda with the smallest estimated risk, to compare with
cross-validation's ``lambda_min``.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _validate as check
from . import engine
from ._summary import Summary
from ._types import PathLike
from .dof import df_path
from .errors import ConvergenceWarning, ParameterError, user_stacklevel
from .replicates import (_batches, _blas_limit, _moments, _n_jobs, _noise_info, _reference_fit, _row_sd,
                         _run_batches, _seeds, _simulate_setup, _truth)

__all__ = ["bias_variance", "BiasVariance"]

Method = Literal["analytic", "simulation", "bootstrap", "oob_bootstrap"]
_METHODS = ("analytic", "simulation", "bootstrap", "oob_bootstrap")


# ---------------------------------------------------------------------------------------------
# simulation (the replicates of regstats.dof)
# ---------------------------------------------------------------------------------------------
def _batch_se(values: list[np.ndarray]) -> np.ndarray:
    if len(values) < 2:
        return np.full_like(values[0], np.nan)
    v = np.vstack(values)
    return v.std(axis=0, ddof=1) / np.sqrt(len(values))


def _simulation(path: Any, mu: Any, sigma: Any, n_rep: Any, seed: Any, n_jobs: Any, progress: bool,
                reference: Any, tol: Any, residual: bool = False) -> "BiasVariance":
    if residual and mu is not None:
        raise ParameterError("mu must be None for method='bootstrap' (the residual bootstrap resamples around "
                             "a pilot fit; with a known mu use method='simulation'); got an array")
    sim, info = _simulate_setup(path, mu, sigma, n_rep, seed, n_jobs, progress, reference, tol,
                                desc="bias_variance", df_fn=df_path, residual=residual)
    parts, c, mu_arr, sd, prob = sim["parts"], sim["c"], sim["mu"], sim["sd"], sim["prob"]
    w = prob.w
    R = sum(p["m"] for p in parts)
    bias2, variance = _moments(sim["sums"]["s1"], sim["sums"]["s2"], R, c, mu_arr, w)
    noise = float(w @ (sd * sd)) / prob.n
    risk = noise + bias2 + variance
    per = [p["moments"] for p in parts]
    T, dfr, err = sim["T"], sim["df_rep"], sim["err"]
    mc = pd.DataFrame({
        "bias2_se": _batch_se([b for b, _ in per]),
        "variance_se": _batch_se([v for _, v in per]),
        "risk_se": _batch_se([b + v for b, v in per]),
        "test_error": err.mean(axis=0),
        "test_error_se": err.std(axis=0, ddof=1) / np.sqrt(R),
        "risk_test_diff_se": _batch_se([b + v - p["err"].mean(axis=0) for (b, v), p in zip(per, parts)]),
        "df_se": dfr.std(axis=0, ddof=1) / np.sqrt(R),
        "df_cov": T.mean(axis=0),
        "df_cov_se": T.std(axis=0, ddof=1) / np.sqrt(R),
    }, index=pd.Index(prob.lambdas, name="lambda"))
    out = _frame(prob.lambdas, bias2, variance, noise, risk, dfr.mean(axis=0))
    if residual:
        assumptions = ("residual bootstrap around a pilot fit, fixed design: y* = pilot fitted values + "
                       "residuals of the pilot drawn with replacement (centred, rescaled to its df-corrected "
                       "sigma); bias2 is relative to the pilot fit, the unbiased estimate (squared deviation "
                       "of the mean fit minus variance / n_rep)")
    else:
        assumptions = ("known (or plug-in) mu and sigma, Gaussian noise, fixed design; bias2 is the "
                       "unbiased estimate (squared deviation of the mean fit minus variance / n_rep)")
    info.update({"assumptions": assumptions, "mc": mc, "n_batches": len(parts)})
    return _finish(out, path, "bootstrap" if residual else "simulation", info)


# ---------------------------------------------------------------------------------------------
# analytic (ridge)
# ---------------------------------------------------------------------------------------------
def _ridge_basis(prep: engine.Prepared) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(U, d, fixed): H(lam) = U diag(f) U' with f = 1 where fixed, else d^2 / (d^2 + n pen).

    ``pen`` is the ridge weight ``lam / s_y`` (``engine.ridge_weight`` at l1_ratio 0, s_y the observed
    response scale); the callers pass it, not the user's ``lam``.
    """
    keep = ~prep.constant
    X = prep.X[:, keep]
    v = prep.v[keep]
    free = v == 0
    blocks, ds, fixed = [], [], []
    X1 = X[:, ~free]
    if free.any():
        Uz, dz, _ = np.linalg.svd(X[:, free], full_matrices=False)
        rz = int((dz > dz.max() * max(X.shape) * np.finfo(float).eps).sum()) if dz.size else 0
        Qz = Uz[:, :rz]
        X1 = X1 - Qz @ (Qz.T @ X1)
        blocks.append(Qz)
        ds.append(np.ones(rz))
        fixed.append(np.ones(rz, dtype=bool))
    X1 = X1 / np.sqrt(v[~free])[None, :]
    U1, d1, _ = np.linalg.svd(X1, full_matrices=False)
    r1 = int((d1 > d1.max() * max(X.shape) * np.finfo(float).eps).sum()) if d1.size and d1.max() > 0 else 0
    blocks.append(U1[:, :r1])
    ds.append(d1[:r1])
    fixed.append(np.zeros(r1, dtype=bool))
    return np.hstack(blocks), np.concatenate(ds), np.concatenate(fixed)


def ridge_moments(prep: engine.Prepared, lambdas: np.ndarray, mu: np.ndarray, sd: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Exact (bias2, variance, df, noise) of ridge fits at ``lambdas`` (see the module docstring)."""
    w = prep.w
    n = prep.n
    u = np.sqrt(w)
    mubar = float(w @ mu) / n if prep.intercept else 0.0
    mt = u * (mu - mubar)
    Dg = w * sd * sd
    U, d, fixed = _ridge_basis(prep)
    lambdas = np.asarray(lambdas, dtype=float)
    d2 = d * d
    pen = engine.ridge_weight(prep, lambdas, 0.0)      # lam / s_y, s_y the observed one
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(fixed[None, :], 1.0, d2[None, :] / (d2[None, :] + n * pen[:, None]))
    f = np.nan_to_num(f, nan=0.0)
    cU = U.T @ mt
    resid_out = mt - U @ cU                       # part of mt outside span(U): never fitted
    bias2 = (resid_out @ resid_out + (((1.0 - f) * cU[None, :]) ** 2).sum(axis=1)) / n
    h2 = (U * U).T @ Dg                           # sum_j D_j U_jk^2
    var_h = (f * f) @ h2
    if prep.intercept:
        p0 = float(u @ (Dg * u)) / n              # trace(P0 D P0)
        cross = 2.0 * (f @ ((U.T @ (Dg * u)) * (U.T @ u))) / n
        variance = (p0 + var_h + cross) / n
    else:
        variance = var_h / n
    noise = float(Dg.sum()) / n
    return bias2, variance, f.sum(axis=1), noise


def _analytic(path: Any, mu: Any, sigma: Any, reference: Any, seed: Any) -> "BiasVariance":
    if path.l1_ratio != 0:
        raise ParameterError(f"method must be 'simulation' or 'bootstrap' for a {path.penalty} path "
                             f"(the analytic decomposition needs a linear smoother, l1_ratio = 0); got 'analytic'")
    ref_ss, _, entropy = _seeds(seed)
    mu_arr, sd, info = _truth(path, mu, sigma, reference, ref_ss)
    bias2, variance, df, noise = ridge_moments(path._prep, path.lambdas, mu_arr, sd)
    risk = noise + bias2 + variance
    out = _frame(path.lambdas, bias2, variance, noise, risk, df)
    info.update({"assumptions": "ridge is a linear smoother: exact given mu and sigma (fixed design)",
                 "mc": None, "n_rep": None, "seed": None})
    return _finish(out, path, "analytic", info)


# ---------------------------------------------------------------------------------------------
# bootstrap (truth unknown)
# ---------------------------------------------------------------------------------------------
def _boot_batch(task: tuple) -> dict[str, Any]:
    path, c, y, noise, tol, seeds = task
    with _blas_limit(*path._design.X.shape):
        res = _boot_loop(path, c, tol, seeds)
    enough = int((res["cnt"] >= 2).sum()) >= 2
    res["stats"] = _boot_stats(res["cnt"], res["s1"], res["s2"], c, y, path._prep.w, noise) if enough else None
    return res


def _boot_loop(path: Any, c: np.ndarray, tol: float | None, seeds: list) -> dict[str, np.ndarray]:
    X = np.asarray(path._design.X, dtype=float)
    L, n = c.shape
    cnt = np.zeros(n)
    s1 = np.zeros((L, n))
    s2 = np.zeros((L, n))
    bad = np.zeros(L, dtype=bool)
    for ss in seeds:
        rng = np.random.default_rng(ss)
        rows = rng.integers(0, n, n)
        oob = np.bincount(rows, minlength=n) == 0
        if not oob.any():
            continue
        _, sol = path._refit(rows=rows, tol=tol)
        bad |= ~sol.converged
        pred = sol.coef @ X[oob].T + sol.intercept[:, None]
        dlt = pred - c[:, oob]
        cnt[oob] += 1
        s1[:, oob] += dlt
        s2[:, oob] += dlt * dlt
    return {"cnt": cnt, "s1": s1, "s2": s2, "bad": bad}


def _boot_stats(cnt: np.ndarray, s1: np.ndarray, s2: np.ndarray, c: np.ndarray, y: np.ndarray,
                w: np.ndarray, noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ok = cnt >= 2
    k = cnt[ok]
    wk = w[ok] / w[ok].sum()
    mean = c[:, ok] + s1[:, ok] / k
    var = np.maximum(s2[:, ok] - s1[:, ok] ** 2 / k, 0.0) / (k - 1)
    dev2 = (y[ok][None, :] - mean) ** 2
    variance = var @ wk
    risk = (dev2 - var / k) @ wk
    bias2_raw = risk - noise - variance
    return bias2_raw, variance, risk


def _bootstrap(path: Any, mu: Any, sigma: Any, n_rep: Any, seed: Any, n_jobs: Any, progress: bool,
               reference: Any, tol: Any) -> "BiasVariance":
    if mu is not None:
        raise ParameterError("mu must be None for method='oob_bootstrap' (it estimates the decomposition when "
                             "the truth is unknown; with a known mu use method='simulation'); got an array")
    n_rep = check.positive_int("n_rep", n_rep, minimum=2)
    n_jobs = _n_jobs(n_jobs)
    if tol is not None:
        tol = check.real_in("tol", tol, 0.0, 1.0, lo_open=True)
    ref_ss, rep_ss, entropy = _seeds(seed)
    info: dict[str, Any] = {"mu_source": "unknown (bootstrap)"}
    if sigma is None:
        _, sigma, desc = _reference_fit(path, reference, ref_ss)
        info["sigma_source"] = "plug-in: " + desc
    else:
        info["sigma_source"] = "given"
    sd = _row_sd(path, sigma)
    info.update(_noise_info(sigma, sd))
    w = path._prep.w
    y = np.asarray(path._design.y, dtype=float)
    noise = float(w @ (sd * sd)) / path._prep.n
    sol = path._solution
    c = sol.coef @ np.asarray(path._design.X, dtype=float).T + sol.intercept[:, None]
    seeds = rep_ss.spawn(n_rep)
    tasks = [(path, c, y, noise, tol, [seeds[i] for i in b]) for b in _batches(n_rep)]
    sums, parts = _run_batches(_boot_batch, tasks, n_jobs, progress, "bias_variance")
    bad = np.zeros(len(path.lambdas), dtype=bool)
    for p in parts:
        bad |= p["bad"]
    if bad.any():
        shown = ", ".join(f"{x:.4g}" for x in path.lambdas[bad][:10])
        warnings.warn(f"the solver did not reach its tolerance in some bootstrap refits at {int(bad.sum())} "
                      f"lambda(s): {shown}", ConvergenceWarning, stacklevel=user_stacklevel())
    cnt = sums["cnt"]
    if int((cnt >= 2).sum()) < 2:
        raise ParameterError(f"n_rep must leave rows out of bag at least twice; got {n_rep}")
    bias2_raw, variance, risk = _boot_stats(cnt, sums["s1"], sums["s2"], c, y, w, noise)
    clipped = bias2_raw < 0
    bias2 = np.maximum(bias2_raw, 0.0)
    per = [p["stats"] for p in parts if p["stats"] is not None]
    if len(per) >= 2:
        mc = pd.DataFrame({"bias2_se": _batch_se([b for b, _, _ in per]),
                           "variance_se": _batch_se([v for _, v, _ in per]),
                           "risk_se": _batch_se([r for _, _, r in per])},
                          index=pd.Index(path.lambdas, name="lambda"))
    else:
        mc = None
    out = _frame(path.lambdas, bias2, variance, noise, risk, path.table["df"].to_numpy())
    info.update({
        "assumptions": ("truth unknown: noise = sigma^2 of the reference fit; risk = out-of-bag squared "
                        "error of the averaged prediction (Monte Carlo corrected), an out-of-sample error; "
                        "variance = spread of the out-of-bag predictions over resamples (fits on ~63.2% "
                        "distinct rows), standing in for the sampling variance of the fit; "
                        "bias2 = risk - noise - variance, clipped at 0; df = the full-data path's df"),
        "mc": mc, "n_rep": n_rep, "seed": entropy, "bias2_raw": bias2_raw,
        "bias2_clipped": path.lambdas[clipped], "oob_rows": int((cnt >= 2).sum()),
        "n_batches": len(parts)})
    if clipped.any():
        info["note"] = (f"bias2 was negative (clipped at 0) at {int(clipped.sum())} lambda(s): noise + "
                        "variance exceed the out-of-bag error of the averaged prediction there")
    return _finish(out, path, "oob_bootstrap", info)


# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------
def _frame(lambdas: np.ndarray, bias2: np.ndarray, variance: np.ndarray, noise: float, risk: np.ndarray,
           df: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"lambda": np.asarray(lambdas, float), "bias2": bias2, "variance": variance,
                         "noise": np.full(len(lambdas), noise), "risk": risk, "df": df})


def _finish(out: pd.DataFrame, path: Any, method: str, info: dict[str, Any]) -> "BiasVariance":
    k = int(np.nanargmin(out["risk"].to_numpy()))
    out.attrs.update({"method": method, "penalty": path.penalty, "l1_ratio": path.l1_ratio,
                      "n_obs": path.n_obs, "weighted": path._options.weights is not None})
    out.attrs.update(info)
    out.attrs["lambda_min_risk"] = float(out["lambda"].iloc[k])
    return BiasVariance(table=out, formula=path.formula, df_path=path.table["df"].to_numpy(dtype=float))


_METHOD_TEXT = {
    "analytic": "analytic (exact for ridge, a linear smoother; fixed design)",
    "simulation": "simulation (refits to y* = mu + Gaussian noise on the same design)",
    "bootstrap": "residual bootstrap (refits to y* = pilot fit + resampled residuals on the same design)",
    "oob_bootstrap": "pairs bootstrap, out of bag (random design: rows resampled; an out-of-sample risk)",
}


@dataclass(frozen=True, eq=False)
class BiasVariance:
    """A bias-variance decomposition over lambda (:func:`bias_variance`).

    Attributes
    ----------
    table : DataFrame, one row per lambda: ``lambda, bias2, variance, noise, risk, df`` (``df``:
        the mean reported df over the replicates for ``"simulation"`` and ``"bootstrap"``, the
        path's df otherwise); its ``attrs`` hold the method, assumptions, plug-in sources and the
        Monte Carlo standard errors (``attrs["mc"]``).
    formula : the model formula.
    df_path : the path's df on the observed response, per lambda.

    ``bv["risk"]``, ``bv.columns``, ``bv.iloc``, ``len(bv)`` and ``bv.attrs`` read the table, so
    code written for the earlier DataFrame return keeps working; :meth:`to_frame` adds the Monte
    Carlo standard errors and ``df_path``.
    """

    table: pd.DataFrame
    formula: str
    df_path: np.ndarray = dataclasses.field(repr=False)

    # the table's access, for callers of the earlier DataFrame return ------------------------------
    def __getitem__(self, key: Any) -> Any:
        return self.table[key]

    def __len__(self) -> int:
        return len(self.table)

    @property
    def columns(self) -> pd.Index:
        return self.table.columns

    @property
    def iloc(self) -> Any:
        return self.table.iloc

    @property
    def loc(self) -> Any:
        return self.table.loc

    @property
    def attrs(self) -> dict[str, Any]:
        return self.table.attrs

    # results ----------------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return str(self.table.attrs["method"])

    @property
    def mc(self) -> pd.DataFrame | None:
        """Monte Carlo standard errors indexed by lambda (None for ``"analytic"``)."""
        return self.table.attrs.get("mc")

    @property
    def lambda_min_risk(self) -> float:
        return float(self.table.attrs["lambda_min_risk"])

    def to_frame(self) -> pd.DataFrame:
        """``lambda, bias2, variance, noise, risk, df``, then ``bias2_se, variance_se, risk_se``
        (Monte Carlo standard errors; NaN for ``"analytic"``) and ``df_path`` (the path's df on the
        observed y; ``df`` is the mean over replicates for the Monte Carlo methods)."""
        out = self.table.copy()
        mc = self.mc
        for col in ("bias2_se", "variance_se", "risk_se"):
            out[col] = mc[col].to_numpy() if mc is not None and col in mc else np.nan
        out["df_path"] = self.df_path
        out.attrs = dict(self.table.attrs)
        return out

    def negative_bias2(self) -> np.ndarray:
        """The lambdas where the (unbiased) bias2 estimate is below 0."""
        b = self.table["bias2"].to_numpy()
        return self.table["lambda"].to_numpy()[b < 0]

    def notes(self) -> list[str]:
        """What the columns mean, and why a squared quantity can be printed negative."""
        at = self.table.attrs
        out = []
        if self.method in ("simulation", "bootstrap"):
            out.append("df: the mean reported df over the replicates (the df of a lasso depends on y, so it "
                       "differs from df_path, the path's df on the observed y).")
        neg = self.negative_bias2()
        if neg.size:
            mc = self.mc
            z = ""
            if mc is not None:
                b = self.table["bias2"].to_numpy()
                se = mc["bias2_se"].to_numpy()
                worst = float(np.nanmax(np.where(b < 0, -b / np.where(se > 0, se, np.nan), np.nan)))
                z = f"; the most negative is {worst:.1f} Monte Carlo SE below 0"
            out.append(f"bias2 is negative at {neg.size} lambda(s): it is the unbiased Monte Carlo estimate "
                       "(squared deviation of the mean fit minus variance / n_rep) of a squared bias near 0, "
                       f"and its noise can take it below 0 (see bias2_se){z}.")
        if at.get("bias2_clipped") is not None and len(at["bias2_clipped"]):
            out.append(str(at.get("note", "")))
        return [n for n in out if n]

    def summary(self, max_rows: int = 20) -> Summary:
        at = self.table.attrs
        info = [("Formula", self.formula), ("Method", _METHOD_TEXT.get(self.method, self.method))]
        for key, label in (("mu_source", "Mean mu"), ("sigma_source", "Noise sd sigma")):
            if key in at:
                val = str(at[key])
                if key == "sigma_source" and np.ndim(at.get("sigma")) == 0 and "sigma" in at:
                    val = f"{float(at['sigma']):.4g} ({val})"
                info.append((label, val))
        if at.get("n_rep"):
            info.append(("Replicates", str(at["n_rep"])))
        info.append(("Smallest risk at lambda", f"{self.lambda_min_risk:.6g}"))
        frame = self.to_frame()
        if len(frame) > max_rows:
            pick = np.unique(np.r_[np.linspace(0, len(frame) - 1, max_rows).round().astype(int),
                                   int(np.nanargmin(frame["risk"].to_numpy()))])
            frame = frame.iloc[pick]
        notes = [str(at.get("assumptions", ""))] + self.notes()
        return Summary(title="Bias-variance decomposition", info=info,
                       tables=[("Over lambda", frame.reset_index(drop=True))], notes=[n for n in notes if n],
                       index=False)

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        return (f"<BiasVariance {self.method}: {len(self.table)} lambdas, smallest risk at "
                f"lambda={self.lambda_min_risk:.4g}>")


def bias_variance(path: "PathLike", method: Method = "simulation", mu: Any = None, sigma: Any = None,
                  n_rep: int = 200, seed: Any = None, n_jobs: int = 1, *, progress: bool = False,
                  reference: Any = "auto", tol: float | None = None) -> BiasVariance:
    """Bias-variance decomposition of the fits along a path, one row per lambda.

    Parameters
    ----------
    path : :class:`regstats.Path`.
    method : ``"analytic"`` (ridge only; exact), ``"simulation"`` (any penalty; refits to
        ``y* = mu + e*``, Gaussian e*), ``"bootstrap"`` (residual bootstrap: refits to the pilot
        fit plus its resampled residuals on the same design; the fixed-design quantities of the
        other two, for real data) or ``"oob_bootstrap"`` (random design: out-of-bag predictions of
        pairs-bootstrap refits, an out-of-sample risk; its variance includes the design's
        variability).  See the module docstring for the formulas.
    mu : true mean of the response for the rows used (array of length ``n_obs``, Series or a
        column name of the data); None uses the plug-in reference fit.  Must be None for
        ``"bootstrap"`` and ``"oob_bootstrap"``.
    sigma : noise sd: a number (``sd_i = sigma / sqrt(w_i)`` with weights) or one sd per row;
        None uses the plug-in estimate.
    n_rep : replicates (simulation) or bootstrap resamples (>= 2; ignored by ``"analytic"``).
    seed : None, int, SeedSequence or Generator; the same numbers for any ``n_jobs``.
    n_jobs : joblib jobs (-1 = all cores).
    progress : show a progress bar.
    reference : plug-in reference fit when ``mu``/``sigma`` are None: ``"auto"`` (least squares
        when n >= p + 11, otherwise CV's lambda_min), ``"ols"``, ``"cv"`` or a lambda.
    tol : solver tolerance for the simulation and bootstrap refits (default: the path's).

    Returns
    -------
    BiasVariance
        ``.table`` (``bv["risk"]`` etc. read it) has columns ``lambda, bias2, variance, noise, risk,
        df`` (``risk = noise + bias2 + variance``, except for ``"oob_bootstrap"`` lambdas where
        ``bias2`` was clipped at 0); ``.to_frame()`` adds the Monte Carlo standard errors and the
        path's df; ``.summary()`` explains them.  The risk is in-sample (fresh responses on the same
        rows) except for ``"oob_bootstrap"`` (out-of-sample).  ``df`` is the mean reported df over
        the replicates for ``"simulation"`` and ``"bootstrap"`` (``df_path`` in ``to_frame()`` is the
        path's).  ``table.attrs``: ``method``,
        ``assumptions``, ``mu_source``, ``sigma_source``, ``sigma``, ``noise_model``, ``n_rep``,
        ``seed`` (the root entropy, to reproduce a ``seed=None`` run), ``lambda_min_risk`` (the
        grid lambda of smallest estimated risk) and ``mc`` (None for ``"analytic"``; otherwise a
        DataFrame indexed by lambda with Monte Carlo standard errors ``bias2_se, variance_se,
        risk_se`` and, for ``"simulation"``, the test error at fresh responses
        ``test_error, test_error_se, risk_test_diff_se``, the standard error of ``df``
        (``df_se``) and Efron's covariance df ``df_cov, df_cov_se``).

    Examples
    --------
    >>> import regstats as rs
    >>> p = rs.ridge("lpsa ~ . - train", rs.load_dataset("prostate"), n_lambda=20)
    >>> bv = p.bias_variance(method="analytic")
    >>> list(bv.columns)
    ['lambda', 'bias2', 'variance', 'noise', 'risk', 'df']
    >>> bool(abs(bv["risk"] - bv["noise"] - bv["bias2"] - bv["variance"]).max() < 1e-12)
    True
    """
    method = check.choice("method", method, _METHODS)
    if method == "analytic":
        return _analytic(path, mu, sigma, reference, seed)
    if method == "simulation":
        return _simulation(path, mu, sigma, n_rep, seed, n_jobs, progress, reference, tol)
    if method == "bootstrap":
        return _simulation(path, mu, sigma, n_rep, seed, n_jobs, progress, reference, tol, residual=True)
    return _bootstrap(path, mu, sigma, n_rep, seed, n_jobs, progress, reference, tol)
