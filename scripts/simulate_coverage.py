"""Coverage of the desparsified-lasso intervals by simulation, and the speed of the bootstrap.

Writes ``reports/coverage.md``.  Run from the repository root::

    python scripts/simulate_coverage.py            # full table (about 20-30 minutes on 2 cores)
    python scripts/simulate_coverage.py --quick    # a few replications, to check that it runs

Design (as van de Geer et al. 2014 and hdi's lasso.proj): rows of X i.i.d. N(0, Sigma) with
Toeplitz Sigma_jk = rho^|j-k|, sparse truth (s0 = 3 active coefficients equal to 1, the rest 0),
y = X beta + N(0, 1).  The initial lasso is fitted at the scaled-lasso lambda
``sigma_hat * sqrt(2 log(p) / n)`` (hdi's choice); sigma from the scaled lasso; nodewise lasso
tuned by 10-fold CV over all nodewise regressions (hdi's default) unless stated.  Reported:
coverage of the 95% intervals for the active and the null coefficients separately, mean
interval length, and a Kolmogorov-Smirnov test of the pooled null p-values against U(0, 1).
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from scipy import stats
from scipy.linalg import toeplitz

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import regstats as rs  # noqa: E402
from regstats._parallel import parallel_map, spawn_seeds  # noqa: E402
from regstats.inference import scaled_lasso  # noqa: E402


def one_replication(task):
    seed, n, p, rho, s0, nodewise, sigma_rule = task
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(toeplitz(rho ** np.arange(p)))
    X = rng.standard_normal((n, p)) @ L.T
    beta = np.zeros(p)
    beta[:s0] = 1.0
    y = X @ beta + rng.standard_normal(n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = y
    path = rs.lasso("y ~ .", df)
    _, sig = scaled_lasso(path._prep.X, path._prep.y)
    fit = path.at(sig * math.sqrt(2 * math.log(p) / n))
    t0 = time.perf_counter()
    inf = fit.inference(nodewise_lambda=nodewise, sigma=sigma_rule, seed=seed)
    el = time.perf_counter() - t0
    t = inf.table
    lo, hi = t["ci_lower"].to_numpy(), t["ci_upper"].to_numpy()
    inside = (lo <= beta) & (beta <= hi)
    return {"cover_active": inside[:s0], "cover_null": inside[s0:], "len": hi - lo,
            "p_null": t["p_value"].to_numpy()[s0:], "p_active": t["p_value"].to_numpy()[:s0],
            "sigma": inf.sigma, "seconds": el}


def coverage_table(configs, reps, seed, n_jobs):
    rows = []
    for (n, p, rho, nodewise, sigma_rule) in configs:
        t0 = time.perf_counter()
        tasks = [(s, n, p, rho, 3, nodewise, sigma_rule) for s in spawn_seeds(np.random.SeedSequence([seed, n, p, int(rho * 100)]), reps)]
        res = parallel_map(one_replication, tasks, n_jobs=n_jobs)
        ca = np.concatenate([r["cover_active"] for r in res])
        cn = np.concatenate([r["cover_null"] for r in res])
        pn = np.concatenate([r["p_null"] for r in res])
        pa = np.concatenate([r["p_active"] for r in res])
        rows.append({
            "n": n, "p": p, "rho": rho, "nodewise": nodewise, "sigma": sigma_rule, "reps": reps,
            "coverage_active": ca.mean(), "mc_se_active": math.sqrt(ca.mean() * (1 - ca.mean()) / ca.size),
            "coverage_null": cn.mean(), "mc_se_null": math.sqrt(cn.mean() * (1 - cn.mean()) / cn.size),
            "mean_ci_length": float(np.mean([r["len"].mean() for r in res])),
            "ks_p_null": stats.kstest(pn, "uniform").pvalue,
            "reject_null_5pct": float((pn < 0.05).mean()),
            "power_active_5pct": float((pa < 0.05).mean()),
            "mean_sigma_hat": float(np.mean([r["sigma"] for r in res])),
            "seconds_per_fit": float(np.mean([r["seconds"] for r in res])),
        })
        print(f"  n={n} p={p} rho={rho} {nodewise}: active {ca.mean():.3f} null {cn.mean():.3f} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return pd.DataFrame(rows)


def speed(seed):
    rng = np.random.default_rng(seed)
    n, p = 1000, 100
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:10] = 1.0
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = X @ beta + rng.standard_normal(n)
    rs.lasso("y ~ .", df)  # warm up: load the compiled kernels in this process
    t0 = time.perf_counter()
    path = rs.lasso("y ~ .", df)
    t_path = time.perf_counter() - t0
    fit = path.at(path.lambdas[20])
    fit.bootstrap(n_boot=5, seed=0)  # compile / warm up
    out = []
    for n_jobs in (1, 2):
        t0 = time.perf_counter()
        boot = fit.bootstrap(n_boot=500, seed=1, n_jobs=n_jobs)
        out.append(("500 bootstrap refits at a fixed lambda", n_jobs, time.perf_counter() - t0))
    t0 = time.perf_counter()
    fit.bootstrap(n_boot=20, seed=1, lam="cv")
    out.append(("20 bootstrap refits with 10-fold CV inside each", 1, time.perf_counter() - t0))
    t0 = time.perf_counter()
    path.stability(seed=1)
    out.append(("stability selection, 50 complementary pairs (100 path fits on n/2 rows)", 1,
                time.perf_counter() - t0))
    t0 = time.perf_counter()
    fit.inference(seed=1)
    out.append(("desparsified lasso, nodewise CV", 1, time.perf_counter() - t0))
    t0 = time.perf_counter()
    fit.inference(nodewise_lambda="scaled")
    out.append(("desparsified lasso, scaled nodewise lasso", 1, time.perf_counter() - t0))
    tab = pd.DataFrame(out, columns=["task (n = 1000, p = 100)", "n_jobs", "seconds"])
    return tab, t_path, fit.n_nonzero


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=100, help="replications per setting (n >= p)")
    ap.add_argument("--reps-high", type=int, default=50, help="replications per setting (p > n)")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="a few replications only")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "reports", "coverage.md"))
    args = ap.parse_args(argv)
    reps, reps_high = (4, 2) if args.quick else (args.reps, args.reps_high)
    t_start = time.perf_counter()
    print("coverage, n = 200, p = 100", flush=True)
    low = coverage_table([(200, 100, 0.5, "cv", "scaled_lasso"), (200, 100, 0.9, "cv", "scaled_lasso"),
                          (200, 100, 0.9, "scaled", "scaled_lasso")], reps, args.seed, args.n_jobs)
    print("coverage, n = 100, p = 200", flush=True)
    high = coverage_table([(100, 200, 0.5, "cv", "scaled_lasso"), (100, 200, 0.9, "cv", "scaled_lasso")],
                          reps_high, args.seed, args.n_jobs)
    print("speed", flush=True)
    sp, t_path, nnz = speed(args.seed)
    cov = pd.concat([low, high], ignore_index=True)
    from regstats._summary import markdown_table

    fmt = cov.copy()
    for c in ["coverage_active", "mc_se_active", "coverage_null", "mc_se_null", "mean_ci_length", "reject_null_5pct",
              "power_active_5pct", "mean_sigma_hat"]:
        fmt[c] = fmt[c].map(lambda x: f"{x:.3f}")
    fmt["ks_p_null"] = fmt["ks_p_null"].map(lambda x: f"{x:.3g}")
    fmt["seconds_per_fit"] = fmt["seconds_per_fit"].map(lambda x: f"{x:.2f}")
    spf = sp.copy()
    spf["seconds"] = spf["seconds"].map(lambda x: f"{x:.2f}")
    lines = [
        "# Coverage of the desparsified-lasso intervals, and bootstrap speed",
        "",
        f"Generated by `python scripts/simulate_coverage.py{' --quick' if args.quick else ''}` on "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC (regstats {rs.__version__}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores, total {time.perf_counter() - t_start:.0f} s).",
        "",
        "## Design",
        "",
        "Rows of X i.i.d. N(0, Sigma), Toeplitz Sigma_jk = rho^|j-k|; s0 = 3 active coefficients equal to 1 "
        "(the first three columns, neighbours in the Toeplitz order), all others 0; y = X beta + N(0, 1). "
        "Initial lasso at the scaled-lasso lambda sigma_hat * sqrt(2 log(p) / n) (as hdi's `lasso.proj`); "
        "noise sd from the scaled lasso; nodewise lasso tuned by 10-fold CV over all nodewise regressions "
        "(`nodewise_lambda=\"cv\"`, hdi's default) or by a scaled lasso per column (`\"scaled\"`). "
        "Nominal level 95%. `mc_se_*` is the Monte Carlo standard error of the coverage (binomial). "
        "`ks_p_null` tests the pooled null p-values against U(0, 1); `reject_null_5pct` is the share of null "
        "p-values below 0.05 (nominal 0.05); `power_active_5pct` the share of active ones.",
        "",
        "## Coverage",
        "",
        markdown_table(fmt, index=False),
        "",
        "Reading the table: the null coefficients are covered at close to 95% and their p-values are close to "
        "uniform in every setting. The active coefficients are covered less often in the strongly correlated "
        "designs (rho = 0.9), most of all when p > n: the debiasing removes the lasso's bias only up to a "
        "remainder of order s0 log(p) / sqrt(n), which is not small at these sizes; the same pattern is reported "
        "by van de Geer et al. (2014, Table 1) and Dezeure et al. (2015). Note that the p-values with pooled "
        "thousands of null coefficients make the KS test very sensitive: small departures show up as small KS "
        "p-values even when the rejection rate is close to 5%.",
        "",
        "## Speed",
        "",
        f"n = 1000, p = 100, 10 true coefficients; the lasso path (100 lambdas) takes {t_path:.2f} s; the fit "
        f"used has {nnz} nonzero coefficients. Bootstrap refits at a fixed lambda solve one lambda from a warm "
        "start with the residual-based coordinate descent (no Gram matrix, no path).",
        "",
        markdown_table(spf, index=False),
        "",
        "The machine (2 cores) is shared by other processes, so timings are indicative. With `n_jobs=2` the "
        "joblib worker start-up (fresh processes importing numpy, pandas and the compiled kernels) eats most of "
        "the gain on a task this small; the numbers are identical for any `n_jobs`.",
        "",
    ]
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as fh:
        fh.write("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
