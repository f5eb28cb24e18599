"""Other noise estimates on the replications of ``simulate_coverage.py --part desparsified``.

The debiased estimate does not depend on sigma, so for another estimate s the statistic is
``z * sigma_hat / s``; the scaled-lasso estimates are recomputed on the same data sets (same seeds).
Also: the default's active coverage by thirds of the initial (CV lambda_min) penalty.

    python scripts/coverage_sigma_posthoc.py p50.json@0 p200_0.json@0 p200_200.json@200 p200_250.json@250

``file@start``: a raw JSON file (or its ``.partial``) whose first replication is ``start``;
replications seen twice are counted once.
"""
from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
from scipy import stats
from scipy.linalg import toeplitz

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from regstats import inference as I  # noqa: E402

SEED = 16


def load(args):
    reps: dict[str, dict[int, dict]] = {}
    for arg in args:
        f, st = arg.rsplit("@", 1)
        with open(f) as fh:
            raw = json.load(fh)
        for key, res in raw.items():
            for k, x in enumerate(res):
                reps.setdefault(key, {}).setdefault(int(st) + k, x)
    return reps


def sigmas(r, n, p, s0):
    rng = np.random.default_rng([SEED, n, p, r])
    X = rng.standard_normal((n, p)) @ np.linalg.cholesky(toeplitz(0.5 ** np.arange(p))).T
    y = X[:, :s0].sum(axis=1) + rng.standard_normal(n)
    Xc, yc = X - X.mean(0), y - y.mean()
    Xs = Xc / Xc.std(0)
    b, s_q = I.scaled_lasso(Xs, yc, I.lam0_quantile(n, p))
    res = yc - Xs @ b
    s_qdf = math.sqrt(float(res @ res) / (n - int(np.count_nonzero(b)) - 1))
    _, s_u = I.scaled_lasso(Xs, yc, "univ")
    return {"quantile scaled lasso": s_q, "quantile scaled lasso, RSS/(n-nz-1)": s_qdf, "univ scaled lasso": s_u}


def main(argv):
    for key, byrep in load(argv).items():
        n, p, s0 = map(int, key.split("_"))
        idx = sorted(byrep)
        res = [byrep[i] for i in idx]
        sig = np.array([x["default"]["sigma"] for x in res])
        alt = [sigmas(r, n, p, s0) for r in idx]
        print(f"\n### n = {n}, p = {p}, s0 = {s0}: {len(idx)} replications\n")
        print("| nodewise | sigma | mean sigma | coverage_active | coverage_null | ks_p_null |")
        print("|---|---|---|---|---|---|")
        for var in ("default", "nodewise_cv"):
            z = np.array([x[var]["z_active"] for x in res])
            zn = stats.norm.isf(np.array([x[var]["p_null"] for x in res]) / 2)
            cands = {"CV-lasso residuals (default)": sig, "true (1)": np.ones_like(sig)}
            cands.update({k: np.array([a[k] for a in alt]) for k in alt[0]})
            for name, s in cands.items():
                f = (sig / s)[:, None]
                za, zn2 = np.abs(z * f), zn * f
                print(f"| {var} | {name} | {s.mean():.3f} | {np.mean(za < 1.96):.3f} | {np.mean(zn2 < 1.96):.4f} | "
                      f"{stats.kstest(2 * stats.norm.sf(zn2).ravel(), 'uniform').pvalue:.2g} |")
        lam = np.array([x["default"]["initial_lambda"] for x in res])
        z = np.array([x["default"]["z_active"] for x in res])
        q = np.quantile(lam, [0, 1 / 3, 2 / 3, 1])
        print("\n| initial lambda (CV lambda_min) | reps | mean sigma | coverage_active | mean z | sd z |")
        print("|---|---|---|---|---|---|")
        for lo, hi in zip(q[:-1], q[1:]):
            m = (lam >= lo) & (lam <= hi)
            print(f"| {lo:.3f}–{hi:.3f} | {m.sum()} | {sig[m].mean():.3f} | {np.mean(np.abs(z[m]) < 1.96):.3f} | "
                  f"{z[m].mean():+.3f} | {z[m].std(ddof=1):.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
