"""Shared by the simulation scripts: the simulated design and a Markdown table writer."""
from __future__ import annotations

import numpy as np
import pandas as pd


def design(rng, n, p, k=5, rho=0.5, snr=2.0, nonlinear=0.0):
    """Toeplitz (rho) Gaussian design, k nonzero coefficients, weights column ``w``.

    Returns (data, mu, sigma): ``mu`` the true mean (plus ``nonlinear * sin(2 x0)``, a part no
    linear model captures), ``sigma`` the noise sd giving signal-to-noise ``snr``.
    """
    X = np.empty((n, p))
    X[:, 0] = rng.standard_normal(n)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho * rho) * rng.standard_normal(n)
    beta = np.zeros(p)
    beta[:k] = rng.uniform(1, 2, k) * rng.choice([-1, 1], k)
    mu = 1.0 + X @ beta + nonlinear * np.sin(2 * X[:, 0])
    sigma = float(np.sqrt(np.var(mu) / snr))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["w"] = rng.uniform(0.25, 4.0, n)
    df["y"] = mu + sigma * rng.standard_normal(n)
    return df, mu, sigma


def md_table(df: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """A Markdown table with floats formatted by ``floatfmt``."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in df.iterrows():
        cells = [format(v, floatfmt) if isinstance(v, (float, np.floating)) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ks_uniform_clustered(pvalues_by_rep, n_boot: int = 4000, seed: int = 0, grid: int = 4000) -> dict:
    """Kolmogorov-Smirnov test of pooled p-values against U(0, 1) when the values of one replication
    are dependent (they share sigma-hat, the initial fit and the nodewise fits) and replications are
    independent.

    The statistic is the pooled one, D = sup_t |F_hat(t) - t|, on ``grid`` equally spaced t in (0, 1).
    Its null distribution is taken from a bootstrap over whole replications (the clusters):
    D* = sup_t |F_hat*(t) - F_hat(t)| with F_hat* the pooled CDF of a resample of the replications,
    which keeps the dependence within a replication (the empirical process of clustered data; Kosorok
    2008, ch. 2 and 10; a cluster bootstrap as in Cameron, Gelbach & Miller 2008). With independent
    values it agrees with the usual KS test; :func:`scipy.stats.kstest` on the pooled values treats
    every value as an independent draw and over-rejects when they are positively dependent.

    Returns ``{"D", "p_value", "p_value_iid", "reps", "values", "design_effect"}``: the bootstrap p
    value, the usual (independence) one, and the ratio of the bootstrap variance of F_hat(0.05) to
    its binomial variance under independence.
    """
    from scipy import stats as _st

    P = [np.asarray(v, dtype=float) for v in pvalues_by_rep]
    R = len(P)
    t = (np.arange(grid) + 0.5) / grid
    C = np.array([np.searchsorted(np.sort(v), t, side="right") for v in P], dtype=float)  # R x grid
    m = np.array([v.size for v in P], dtype=float)
    F = C.sum(axis=0) / m.sum()
    D = float(np.abs(F - t).max())
    rng = np.random.default_rng(seed)
    Dstar = np.empty(n_boot)
    f05 = np.empty(n_boot)
    k05 = int(np.searchsorted(t, 0.05))
    for b0 in range(0, n_boot, 500):
        W = rng.multinomial(R, np.full(R, 1.0 / R), size=min(500, n_boot - b0)).astype(float)
        Fb = (W @ C) / (W @ m)[:, None]
        Dstar[b0:b0 + W.shape[0]] = np.abs(Fb - F).max(axis=1)
        f05[b0:b0 + W.shape[0]] = Fb[:, k05]
    pooled = np.concatenate(P)
    return {"D": D, "p_value": float((1 + np.sum(Dstar >= D)) / (n_boot + 1)),
            "p_value_iid": float(_st.kstest(pooled, "uniform").pvalue), "reps": R, "values": int(m.sum()),
            "design_effect": float(f05.var() / (t[k05] * (1 - t[k05]) / m.sum()))}
