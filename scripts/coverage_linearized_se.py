"""The desparsified lasso's standard error and noise level, recombined on the same replications
(issue 16, fourth and fifth passes).

Per replication of ``simulate_coverage.py`` (same seeds and data) it runs the default call and
keeps what it needs to recompute z = (estimate - beta) / se for

* the standard error: ``"model"``, sigma ||Z_j|| / |Z_j'X_j| (van de Geer et al. 2014; hdi), or
  ``"linearized"``, sigma ||a_j|| with a_j the estimate's gradient in y given the initial fit's
  support S (``regstats.inference.linearized_variance``), or their average variance ("blend");
* sigma: the initial fit's residuals RSS / (n - nonzero - 1) (``sigma="residual"``), refitted
  cross-validation (``sigma="rcv"``, Fan, Guo & Hao 2012), or the true 1.

The debiased estimate does not depend on either choice, so every row uses the same estimates.
The fifth pass chose its default (linearized, RCV) on replications 650-869, disjoint from the
0-649 that ``simulate_coverage.py`` then reran with it::

    python scripts/coverage_linearized_se.py --p 200 --start 650 --reps 110 --json a.json
    python scripts/coverage_linearized_se.py --p 200 --start 760 --reps 110 --json b.json
    python scripts/coverage_linearized_se.py --p 200 --merge a.json b.json
"""
from __future__ import annotations

import argparse
import json
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
        D = I.desparsified_lasso(Xc, yc, b, sigma=1.0, nodewise_lambda=float(inf.details["nodewise_lambda"][0]))
    S = np.flatnonzero(b)
    zx = (D["Z"] * Xc).sum(axis=0)
    res = yc - Xc @ b
    return {"r": r, "nonzero": int(S.size), "error": (D["estimate"] - beta).tolist(),
            "unit_model": D["std_error"].tolist(),
            "unit_linearized": np.sqrt(I.linearized_variance(Xc, D["Z"], zx, S)).tolist(),
            "sigma_rcv": float(inf.sigma), "sigma_residual": math.sqrt(float(res @ res) / (n - S.size - 1))}


def table(recs: list, s0: int) -> str:
    q = stats.norm.ppf(0.975)
    E = np.array([x["error"] for x in recs])
    Um, Ul = np.array([x["unit_model"] for x in recs]), np.array([x["unit_linearized"] for x in recs])
    sig = {"residual": np.array([x["sigma_residual"] for x in recs]),
           "rcv": np.array([x["sigma_rcv"] for x in recs]), "true (1)": np.ones(len(recs))}
    out = [f"{len(recs)} replications; mean sigma: residual {sig['residual'].mean():.3f}, "
           f"rcv {sig['rcv'].mean():.3f}; mean nonzero of the initial fit "
           f"{np.mean([x['nonzero'] for x in recs]):.1f}\n",
           "| se | sigma | coverage_active | coverage_null | mean_z_active | sd_z_active | rms_z_null | "
           "pooled KS p | bootstrap-over-replications KS p |", "|---|---|---|---|---|---|---|---|---|"]
    for se_name, U in (("model", Um), ("blend (average variance)", np.sqrt(0.5 * (Um ** 2 + Ul ** 2))),
                       ("linearized", Ul)):
        for s_name, s in sig.items():
            Z = E / (s[:, None] * U)
            za, zn = Z[:, :s0], Z[:, s0:]
            pv = 2 * stats.norm.sf(np.abs(zn))
            k = ks_uniform_clustered(list(pv), n_boot=2000)
            out.append(f"| {se_name} | {s_name} | {np.mean(np.abs(za) <= q):.3f} | {np.mean(np.abs(zn) <= q):.4f} | "
                       f"{za.mean():+.3f} | {za.std(ddof=1):.3f} | {math.sqrt(float((zn ** 2).mean())):.4f} | "
                       f"{k['p_value_iid']:.2g} | {k['p_value']:.2g} |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=200)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--reps", type=int, default=120)
    ap.add_argument("--json", default=None, help="write the per-replication numbers here")
    ap.add_argument("--merge", nargs="+", default=None, help="print the table of these JSON files")
    a = ap.parse_args(argv)
    n, p = 100, a.p
    s0 = 3 if p > n else 5
    if a.merge:
        recs = {x["r"]: x for f in a.merge for x in json.load(open(f))}
        recs = [recs[k] for k in sorted(recs)]
    else:
        chol = np.linalg.cholesky(toeplitz(0.5 ** np.arange(p)))
        recs = []
        for r in range(a.start, a.start + a.reps):
            recs.append(one_rep(r, n, p, s0, chol))
            if a.json and len(recs) % 10 == 0:
                json.dump(recs, open(a.json, "w"))
        if a.json:
            json.dump(recs, open(a.json, "w"))
    print(f"n = {n}, p = {p}, s0 = {s0}\n")
    print(table(recs, s0))


if __name__ == "__main__":
    main()
