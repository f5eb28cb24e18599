"""The desparsified lasso's standard error by a linearization given the initial fit's support
(issue 16, fourth pass; an exploration, not a default).

The default se is sigma ||Z_j|| / |Z_j'X_j|.  The lasso's fitted values move with y as the projection
P_S on its support S (Tibshirani & Taylor 2012), so the debiased estimate's sensitivity to the noise is

    a_j = Z_j'(I - P_S) / Z_j'X_j  (+ e_j'(X_S'X_S)^{-1} X_S'  for j in S),

and this script compares se_j = sigma ||a_j|| with the default on the replications of
``simulate_coverage.py`` (same seeds and data; the default call's initial fit, sigma and nodewise
penalty, read from its ``details``)::

    python scripts/coverage_linearized_se.py --p 200 --reps 120
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import warnings

import numpy as np
from scipy import stats
from scipy.linalg import toeplitz

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
import regstats as rs  # noqa: E402
from _common import ks_uniform_clustered  # noqa: E402
from regstats import inference as I  # noqa: E402
from simulate_coverage import data  # noqa: E402

SEED = 16      # simulate_coverage.py's default seed


def one_rep(r: int, n: int, p: int, s0: int, chol: np.ndarray) -> dict:
    rng = np.random.default_rng([SEED, n, p, r])
    df, _, beta = data(rng, n, p, s0, chol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = rs.lasso("y ~ .", df)
        fit = path.cv(seed=r).best
        inf = fit.inference(seed=r)
        b = path.at(float(inf.details["initial_lambda"])).coef.to_numpy(dtype=float)
        Xc, yc, _ = I._centred(fit)
        D = I.desparsified_lasso(Xc, yc, b, sigma=float(inf.sigma),
                                 nodewise_lambda=float(inf.details["nodewise_lambda"][0]))
    S = np.flatnonzero(b)
    Z = D["Z"]
    zx = (Z * Xc).sum(axis=0)
    Q = np.linalg.qr(Xc[:, S])[0] if S.size else np.zeros((n, 0))
    RZ = Z - Q @ (Q.T @ Z)
    v = (RZ * RZ).sum(axis=0) / zx ** 2
    if S.size:
        v[S] += np.diag(np.linalg.inv(Xc[:, S].T @ Xc[:, S]))
    return {"z": (D["estimate"] - beta) / D["std_error"],
            "z_lin": (D["estimate"] - beta) / (float(inf.sigma) * np.sqrt(v))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=200)
    ap.add_argument("--reps", type=int, default=120)
    a = ap.parse_args(argv)
    n, p = 100, a.p
    s0 = 3 if p > n else 5
    chol = np.linalg.cholesky(toeplitz(0.5 ** np.arange(p)))
    recs = [one_rep(r, n, p, s0, chol) for r in range(a.reps)]
    q = stats.norm.ppf(0.975)
    print(f"n = {n}, p = {p}, s0 = {s0}, {a.reps} replications\n")
    print("| se | coverage_active | coverage_null | mean_z_active | sd_z_active | rms_z_null | pooled KS p | "
          "bootstrap-over-replications KS p |")
    print("|---|---|---|---|---|---|---|---|")
    for key, lab in (("z", "default, sigma ||Z_j|| / |Z_j'X_j|"), ("z_lin", "linearized, sigma ||a_j||")):
        Z = np.array([x[key] for x in recs])
        za, zn = Z[:, :s0], Z[:, s0:]
        k = ks_uniform_clustered(list(2 * stats.norm.sf(np.abs(zn))), n_boot=2000)
        print(f"| {lab} | {np.mean(np.abs(za) <= q):.3f} | {np.mean(np.abs(zn) <= q):.4f} | {za.mean():+.3f} | "
              f"{za.std(ddof=1):.3f} | {math.sqrt(float((zn ** 2).mean())):.3f} | {k['p_value_iid']:.2g} | "
              f"{k['p_value']:.2g} |")


if __name__ == "__main__":
    main()
