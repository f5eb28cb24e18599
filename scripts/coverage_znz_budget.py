"""Larger Z&Z variance budgets on the p = 200 replications of ``simulate_coverage.py`` (issue 16).

The default's initial fit and sigma, the nodewise penalty by the Z&Z rule from the recorded CV
nodewise lambda (the ``nodewise_cv`` variant of the raw JSON) with budgets 2 (the default), 3 and 4.

    python scripts/coverage_znz_budget.py p200_0.json@0 p200_200.json@200 p200_250.json@250 p200_500.json@500

``file@start`` as in ``coverage_sigma_posthoc.py`` (replications seen twice are counted once).
"""
from __future__ import annotations

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
from coverage_sigma_posthoc import SEED, load  # noqa: E402
from regstats import _validate as check  # noqa: E402
from regstats import inference as I  # noqa: E402
from simulate_coverage import data  # noqa: E402

BUDGETS = (2.0, 3.0, 4.0)


def one_rep(r: int, n: int, p: int, s0: int, lam_cv: float, chol: np.ndarray) -> dict:
    rng = np.random.default_rng([SEED, n, p, r])
    df, _, beta = data(rng, n, p, s0, chol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = rs.lasso("y ~ .", df)
        fit = path.cv(seed=r).best
        Xc, yc, _ = I._centred(fit)
        cv_ss, _ = check.seed_sequence(r).spawn(2)       # the default's initial CV
        lam = float(path.cv(folds=10, seed=cv_ss).lambda_min)
        b = path.at(lam).coef.to_numpy(dtype=float)
        res = yc - Xc @ b
        sig = math.sqrt(float(res @ res) / (n - int(np.count_nonzero(b)) - 1))
        Xs = Xc / np.sqrt((Xc * Xc).mean(axis=0))
        out = {"lam": lam}
        for f in BUDGETS:
            lz = I._nodewise_znz_lambda(Xs, lam_cv, f)[0]
            D = I.desparsified_lasso(Xc, yc, b, sigma=sig, nodewise_lambda=lz)
            out[f] = {"z": (D["estimate"] - beta) / D["std_error"], "lz": lz,
                      "len": float(2 * stats.norm.ppf(0.975) * D["std_error"].mean())}
    return out


def main(argv):
    for key, byrep in load(argv).items():
        n, p, s0 = map(int, key.split("_"))
        chol = np.linalg.cholesky(toeplitz(0.5 ** np.arange(p)))
        idx = sorted(byrep)
        recs = [one_rep(r, n, p, s0, byrep[r]["nodewise_cv"]["nodewise_lambda"], chol) for r in idx]
        print(f"\n### n = {n}, p = {p}, s0 = {s0}: {len(idx)} replications\n")
        print("| Z&Z budget | median nodewise lambda | coverage_active | coverage_null | ks_p_null (pooled) | "
              "ks_p_null_one_per_rep | reject_null_5pct | mean_z_active | sd_z_active | mean CI length |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for f in BUDGETS:
            Z = np.array([x[f]["z"] for x in recs])
            za, zn = Z[:, :s0], Z[:, s0:]
            pn = 2 * stats.norm.sf(np.abs(zn))
            one = [pn[k, k % pn.shape[1]] for k in range(len(pn))]
            q = stats.norm.ppf(0.975)
            print(f"| {f:g} | {np.median([x[f]['lz'] for x in recs]):.4f} | {np.mean(np.abs(za) <= q):.3f} | "
                  f"{np.mean(np.abs(zn) <= q):.4f} | {stats.kstest(pn.ravel(), 'uniform').pvalue:.1e} | "
                  f"{stats.kstest(one, 'uniform').pvalue:.3f} | {np.mean(pn < 0.05):.4f} | {za.mean():+.3f} | "
                  f"{za.std(ddof=1):.3f} | {np.mean([x[f]['len'] for x in recs]):.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
