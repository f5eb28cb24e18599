"""Selective inference for the lasso at a fixed lambda (Lee, Sun, Sun & Taylor 2016).

Arrays only; :func:`regstats.inference.infer` (``method="selective"``) wraps it.  The quantities
are those of R's ``selectiveInference::fixedLassoInf``:

* the lasso ``1/2 ||y - X b||^2 + lam_sum sum_j v_j |b_j|`` on a prepared (centred, scaled,
  sqrt(weight)-weighted) design, ``lam_sum = n * lam`` (regstats' ``lam`` is per observation);
* conditioning on the selected set E and the signs s of its penalized coefficients, the event
  ``{A y <= b}`` (the polyhedral lemma);
* the target of column j in E: ``eta_j' mu`` with ``eta_j = X_E (X_E'X_E)^{-1} e_j``, the
  coefficient of the least-squares fit of the mean on the selected columns;
* ``eta_j' y`` given the event and ``z = (I - c eta') y`` is N(eta_j' mu, sigma^2 ||eta_j||^2)
  truncated to ``[vlo, vup]``;
* the pivot ``F(eta'y; mu)``, the truncated normal CDF, computed from log tails
  (:func:`scipy.special.log_ndtr`) on the side where the truncation region lies, so that it
  stays accurate far in the tails; the two-sided p-value is ``2 min(F(.; 0), 1 - F(.; 0))`` and the
  equal-tailed interval ends are the roots of ``F = 1 - alpha/2`` and ``F = alpha/2`` in mu,
  found by bracketing and Brent's method.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import log_ndtr

__all__ = ["polyhedron", "truncation_limits", "tn_cdf", "tn_interval", "fixed_lasso_inference"]


@dataclass(frozen=True)
class Polyhedron:
    """``{y : A y <= b}``, the lasso's selection event, and the selected set."""

    A: np.ndarray
    b: np.ndarray
    active: np.ndarray      # indices of E (penalized selected and unpenalized columns)
    signs: np.ndarray       # sign of each column of E (0 for unpenalized ones)


def polyhedron(X: np.ndarray, beta: np.ndarray, lam_sum: float, v: np.ndarray,
               usable: np.ndarray | None = None) -> Polyhedron:
    """The selection event of the lasso ``1/2||y - Xb||^2 + lam_sum sum v_j |b_j|`` at its solution.

    ``beta`` gives E (nonzero coefficients, plus every usable column with ``v_j = 0``) and the
    signs; ``usable`` marks columns that take part (False for constant or excluded ones).
    Rows of A: the sign of each penalized coefficient of E, then the two sides of the inactive
    columns' KKT inequality (Lee et al. 2016, Lemma 4.1; penalty factors as weights on lam).
    """
    p = X.shape[1]
    usable = np.ones(p, dtype=bool) if usable is None else np.asarray(usable, dtype=bool)
    free = usable & (v == 0)
    act = np.flatnonzero(usable & ((beta != 0) | free))
    ina = np.flatnonzero(usable & (beta == 0) & ~free)
    s = np.where(free[act], 0.0, np.sign(beta[act]))
    XE = X[:, act]
    G = XE.T @ XE
    Ginv = np.linalg.inv(G)
    XEp = Ginv @ XE.T                              # (X_E'X_E)^{-1} X_E'
    ws = lam_sum * v[act] * s                      # lam W_E s (0 for unpenalized)
    pen = s != 0
    # sign constraints: -s_j (XEp y)_j <= -s_j (Ginv ws)_j
    A1 = -(s[pen, None] * XEp[pen])
    b1 = -(s[pen] * (Ginv @ ws)[pen])
    if ina.size:
        XI = X[:, ina]
        R = XI.T - (XI.T @ XE) @ XEp                # X_I'(I - P_E)
        shift = XI.T @ (XEp.T @ ws)                 # X_I' X_E Ginv W_E s lam
        lim = lam_sum * v[ina]
        A = np.vstack([A1, R, -R])
        b = np.concatenate([b1, lim - shift, lim + shift])
    else:
        A, b = A1, b1
    return Polyhedron(A=A, b=b, active=act, signs=s)


def truncation_limits(A: np.ndarray, b: np.ndarray, y: np.ndarray, eta: np.ndarray
                      ) -> tuple[float, float]:
    """``[vlo, vup]`` of ``eta'y`` given ``A y <= b`` and ``z = y - eta (eta'y) / ||eta||^2``."""
    t = float(eta @ y)
    c = eta / float(eta @ eta)
    Ac = A @ c
    slack = b - A @ y                                # >= 0 on the event
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = slack / Ac + t                       # bound on t from each row
    pos, neg = Ac > 1e-12 * np.abs(Ac).max(initial=1.0), Ac < -1e-12 * np.abs(Ac).max(initial=1.0)
    vup = float(ratio[pos].min()) if pos.any() else math.inf
    vlo = float(ratio[neg].max()) if neg.any() else -math.inf
    return vlo, vup


def _logdiff(la: np.ndarray | float, lb: np.ndarray | float) -> np.ndarray:
    """log(exp(la) - exp(lb)) for la >= lb (-inf when equal)."""
    la, lb = np.asarray(la, float), np.asarray(lb, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = la + np.log1p(-np.exp(lb - la))
    return np.where(np.isneginf(lb), la, out)


def tn_log_cdf(t: float, mu: float, sd: float, a: float, b: float) -> tuple[float, float]:
    """(log F, log(1 - F)) of N(mu, sd^2) truncated to [a, b], at t, from log tails.

    The upper-tail form is used when the region lies above mu (``alpha + beta > 0`` in standard
    units), the lower-tail form otherwise, so neither side loses its digits to ``1 - x``.
    """
    al, be = (a - mu) / sd, (b - mu) / sd
    x = min(max((t - mu) / sd, al), be)
    if al + be > 0:                                  # region above mu: survival functions
        qa, qx, qb = log_ndtr(-al), log_ndtr(-x), log_ndtr(-be)
        d = _logdiff(qa, qb)
        return float(_logdiff(qa, qx) - d), float(_logdiff(qx, qb) - d)
    pa, px, pb = log_ndtr(al), log_ndtr(x), log_ndtr(be)
    d = _logdiff(pb, pa)
    return float(_logdiff(px, pa) - d), float(_logdiff(pb, px) - d)


def tn_cdf(t: float, mu: float, sd: float, a: float, b: float) -> float:
    """The truncated normal CDF (the selective pivot) at t."""
    return math.exp(tn_log_cdf(t, mu, sd, a, b)[0])


def _root(g, t: float, sd: float, direction: int) -> float:
    """The root of the decreasing-in-mu function g, searched from t in ``direction`` (-1 / +1)."""
    lo = t
    step = sd
    for _ in range(200):
        hi = t + direction * step
        if np.sign(g(hi)) != np.sign(g(lo)):
            a_, b_ = sorted((lo, hi))
            return float(optimize.brentq(g, a_, b_, xtol=1e-12 * max(sd, abs(t)), rtol=4 * np.finfo(float).eps,
                                         maxiter=500))
        lo = hi
        step *= 2.0
        if step > 1e12 * sd:
            break
    return direction * math.inf


def tn_interval(t: float, sd: float, a: float, b: float, level: float) -> tuple[float, float]:
    """Equal-tailed selective interval: mu with ``F(t; mu) = 1 - alpha/2`` (lower end) and
    ``F(t; mu) = alpha/2`` (upper end); ``F`` decreases in mu."""
    la = math.log((1.0 - level) / 2.0)

    def g_lo(mu: float) -> float:                    # log(1 - F) - log(alpha/2): increasing in mu
        return tn_log_cdf(t, mu, sd, a, b)[1] - la

    def g_hi(mu: float) -> float:                    # log F - log(alpha/2): decreasing in mu
        return tn_log_cdf(t, mu, sd, a, b)[0] - la

    return _root(g_lo, t, sd, -1), _root(g_hi, t, sd, +1)


def fixed_lasso_inference(X: np.ndarray, y: np.ndarray, beta: np.ndarray, lam_sum: float, v: np.ndarray,
                          sigma: float, level: float, usable: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per column of E: the least-squares estimate, its sd, the truncation limits, the two-sided
    p-value and the selective interval, on the scale of ``X`` (divide by the column scale for the
    original one).  ``violation`` is the largest amount by which the observed y breaks its own
    event (solver tolerance; ~0)."""
    poly = polyhedron(X, beta, lam_sum, v, usable)
    act = poly.active
    XE = X[:, act]
    XEp = np.linalg.solve(XE.T @ XE, XE.T)
    k = act.size
    out = {name: np.full(k, np.nan) for name in ("estimate", "sd", "vlo", "vup", "p_value",
                                                 "ci_lower", "ci_upper", "pivot")}
    viol = float(max(0.0, (poly.A @ y - poly.b).max(initial=0.0)))
    for i in range(k):
        eta = XEp[i]
        t = float(eta @ y)
        sd = sigma * math.sqrt(float(eta @ eta))
        vlo, vup = truncation_limits(poly.A, poly.b, y, eta)
        vlo, vup = min(vlo, t), max(vup, t)          # solver tolerance: the observation is inside
        lf, ls = tn_log_cdf(t, 0.0, sd, vlo, vup)
        pv = 2.0 * math.exp(min(lf, ls))
        lo, hi = tn_interval(t, sd, vlo, vup, level)
        out["estimate"][i], out["sd"][i], out["vlo"][i], out["vup"][i] = t, sd, vlo, vup
        out["p_value"][i], out["ci_lower"][i], out["ci_upper"][i] = min(pv, 1.0), lo, hi
        out["pivot"][i] = math.exp(lf)
    out["active"] = act
    out["signs"] = poly.signs
    out["violation"] = viol
    return out
