"""Coverage of regstats' inference by simulation: the desparsified lasso's default call and the
lasso's selective (polyhedral) intervals.  Writes ``reports/coverage.md``.

Run from the repository root::

    python scripts/simulate_coverage.py                 # the tables in reports/coverage.md
    python scripts/simulate_coverage.py --quick         # a few replications, to check that it runs
    python scripts/simulate_coverage.py --part desparsified --reps 100 --json out.json
                                                        # one part, raw numbers to JSON (used for "before")

Design (issue 16): rows of X i.i.d. N(0, Sigma), Toeplitz Sigma_jk = 0.5^|j-k|, n = 100 with
p = 50, s0 = 5 and p = 200, s0 = 3; active coefficients equal to 1 (the first s0 columns), y = X beta + N(0, 1).

* Desparsified lasso, the default call ``rs.lasso(...).cv(seed=r).best.inference(seed=r)``:
  coverage of the 95% intervals for null and active coordinates, a Kolmogorov-Smirnov test of the
  pooled null p-values against U(0, 1), the mean sigma estimate.
* Selective inference at a fixed lambda (the lasso at ``lam = 2 sqrt(2 log(p) / n)``-ish, fixed in
  advance, see LAMBDA below) with sigma known and with the default sigma: conditional coverage of the
  projected target ``(X_E'X_E)^{-1} X_E' mu`` among the replications that select each variable, and the
  coverage of the naive OLS refit on the same replications.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from scipy import stats
from scipy.linalg import toeplitz

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import regstats as rs  # noqa: E402

SETTINGS = [(100, 50, 5), (100, 200, 3)]
ONLY_P: list[int] = []
RHO = 0.5


def data(rng, n, p, s0, chol):
    X = rng.standard_normal((n, p)) @ chol.T
    beta = np.zeros(p)
    beta[:s0] = 1.0
    y = X @ beta + rng.standard_normal(n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = y
    return df, X, beta


VARIANTS = ("default", "nodewise_cv", "znz_1.25")


def _score(inf, beta, s0):
    p = beta.size
    t = inf.table.loc[[f"x{j}" for j in range(p)]]
    inside = (t["ci_lower"].to_numpy() <= beta) & (beta <= t["ci_upper"].to_numpy())
    z = (t["estimate"].to_numpy() - beta) / t["std_error"].to_numpy()
    return {"cover_active": inside[:s0].tolist(), "cover_null": inside[s0:].tolist(),
            "p_null": t["p_value"].to_numpy()[s0:].tolist(), "z_active": z[:s0].tolist(),
            "sigma": float(inf.sigma), "length": float((t["ci_upper"] - t["ci_lower"]).mean()),
            "nodewise_lambda": float(inf.details["nodewise_lambda"][0])}


def desparsified_rep(r, n, p, s0, chol, seed, variants=VARIANTS):
    """One replication: the default call, and (``variants``) the same initial fit and sigma with the
    nodewise penalty of the other rules, given explicitly (the nodewise CV is shared, not re-run)."""
    from regstats import inference as _inf

    rng = np.random.default_rng([seed, n, p, r])
    df, X, beta = data(rng, n, p, s0, chol)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = rs.lasso("y ~ .", df).cv(seed=r).best
        inf = fit.inference(seed=r)
        out["default"] = _score(inf, beta, s0)
        out["default"]["initial_lambda"] = float(inf.details["initial_lambda"])
        if "nodewise_cv" in variants:
            lam_cv = float(inf.details["nodewise_lambda_cv"])
            out["nodewise_cv"] = _score(fit.inference(seed=r, nodewise_lambda=lam_cv), beta, s0)
        if "znz_1.25" in variants:
            Xc, _, _ = _inf._centred(fit)
            Xs = Xc / np.sqrt((Xc * Xc).mean(axis=0))
            lam_z = _inf._nodewise_znz_lambda(Xs, float(inf.details["nodewise_lambda_cv"]), 1.25)[0]
            out["znz_1.25"] = _score(fit.inference(seed=r, nodewise_lambda=lam_z), beta, s0)
    return out


def _row(n, p, s0, res, key, seconds=np.nan):
    res = [x[key] for x in res if key in x]
    ca = np.concatenate([x["cover_active"] for x in res])
    cn = np.concatenate([x["cover_null"] for x in res])
    pn = np.concatenate([x["p_null"] for x in res])
    za = np.concatenate([x["z_active"] for x in res])
    return {"n": n, "p": p, "s0": s0, "nodewise": key, "reps": len(res),
            "coverage_null": cn.mean(), "mc_se_null": math.sqrt(cn.mean() * (1 - cn.mean()) / cn.size),
            "coverage_active": ca.mean(), "mc_se_active": math.sqrt(ca.mean() * (1 - ca.mean()) / ca.size),
            "ks_p_null": stats.kstest(pn, "uniform").pvalue,
            # one null coordinate per replication (the k-th replication's (k mod #null)-th), independent
            # draws, unlike the pooled values of one replication, which share sigma-hat and the nodewise fits
            "ks_p_null_one_per_rep": stats.kstest([x["p_null"][k % len(x["p_null"])] for k, x in enumerate(res)],
                                                  "uniform").pvalue,
            "reject_null_5pct": float((pn < 0.05).mean()),
            "mean_z_active": float(za.mean()), "sd_z_active": float(za.std(ddof=1)),
            "mean_sigma_hat": float(np.mean([x["sigma"] for x in res])),
            "mean_ci_length": float(np.mean([x["length"] for x in res])),
            "seconds": seconds}


def desparsified_table(reps, seed, out_json=None, reps_high=None, start=0, variants=VARIANTS):
    """Replications ``start .. start + reps - 1`` per setting; raw results to ``out_json`` (merge
    several with ``--merge``)."""
    rows, raw = [], {}
    for n, p, s0 in SETTINGS:
        if ONLY_P and p not in ONLY_P:
            continue
        nrep = reps_high if (p > n and reps_high) else reps
        chol = np.linalg.cholesky(toeplitz(RHO ** np.arange(p)))
        t0 = time.perf_counter()
        res = []
        for r in range(start, start + nrep):
            res.append(desparsified_rep(r, n, p, s0, chol, seed, variants))
            if out_json and (r + 1 - start) % 10 == 0:        # partial results, for long runs
                raw[f"{n}_{p}_{s0}"] = res
                with open(out_json + ".partial", "w") as fh:
                    json.dump(raw, fh)
        raw[f"{n}_{p}_{s0}"] = res
        secs = time.perf_counter() - t0
        for key in VARIANTS:
            if key in res[0]:
                rows.append(_row(n, p, s0, res, key, secs))
                print(f"  desparsified n={n} p={p} [{key}]: null {rows[-1]['coverage_null']:.3f} "
                      f"active {rows[-1]['coverage_active']:.3f} KS {rows[-1]['ks_p_null']:.3g} "
                      f"sigma {rows[-1]['mean_sigma_hat']:.3f} ({secs:.0f} s)", flush=True)
        if out_json:
            with open(out_json, "w") as fh:
                json.dump(raw, fh)
    return pd.DataFrame(rows)


def merge_tables(files):
    """The table of several raw JSON files (disjoint replication ranges) of ``--part desparsified``."""
    raw = {}
    for f in files:
        with open(f) as fh:
            for k, v in json.load(fh).items():
                raw.setdefault(k, []).extend(v)
    rows = []
    for k, res in raw.items():
        n, p, s0 = map(int, k.split("_"))
        for key in VARIANTS:
            if key in res[0]:
                rows.append(_row(n, p, s0, res, key))
    return pd.DataFrame(rows).drop(columns="seconds")


def lam_fixed(n, p):
    """The fixed lambda of the selective simulation: sigma sqrt(2 log(p) / n) with sigma = 1 (known)."""
    return math.sqrt(2 * math.log(p) / n)


def selective_table(reps, seed):
    rows = []
    for n, p, s0 in SETTINGS:
        chol = np.linalg.cholesky(toeplitz(RHO ** np.arange(p)))
        lam = lam_fixed(n, p)
        t0 = time.perf_counter()
        rec = {k: [] for k in ("known", "default", "naive")}
        null_p = []
        for r in range(reps):
            rng = np.random.default_rng([seed, 7, n, p, r])
            df, X, beta = data(rng, n, p, s0, chol)
            fit = rs.lasso("y ~ .", df, lambdas=[lam], tol=1e-12).at(lam)
            if fit.n_nonzero == 0:
                continue
            mu = X @ beta
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                inf_k = fit.inference(method="selective", sigma=1.0)
                inf_d = fit.inference(method="selective")
                inf_n = fit.inference(method="naive_refit")
            terms = list(inf_k.table.index)
            idx = [int(t[1:]) for t in terms]
            XE = np.column_stack([np.ones(n), X[:, idx]])
            target = np.linalg.lstsq(XE, mu, rcond=None)[0][1:]
            for key, inf in (("known", inf_k), ("default", inf_d), ("naive", inf_n)):
                t = inf.table.loc[terms]
                cov = (t["ci_lower"].to_numpy() <= target) & (target <= t["ci_upper"].to_numpy())
                rec[key] += [(j, bool(c), j >= s0) for j, c in zip(idx, cov)]
            nulls = [k for k, j in enumerate(idx) if j >= s0 and abs(target[k]) < 1e-12]
            null_p += list(inf_k.table["p_value"].to_numpy()[nulls])
        for key, lab in (("known", "selective, sigma = 1 (known)"), ("default", "selective, default sigma"),
                         ("naive", "naive OLS refit")):
            d = pd.DataFrame(rec[key], columns=["j", "cover", "null"])
            for grp, sub in (("active", d[~d["null"]]), ("null (selected)", d[d["null"]]), ("all", d)):
                m = sub["cover"].mean() if len(sub) else np.nan
                rows.append({"n": n, "p": p, "s0": s0, "method": lab, "variables": grp, "selections": len(sub),
                             "coverage": m, "mc_se": math.sqrt(m * (1 - m) / len(sub)) if len(sub) else np.nan})
            # per-variable conditional coverage (variables selected at least 50 times)
            per = d.groupby("j")["cover"].agg(["mean", "size"])
            per = per[per["size"] >= 50]
            if len(per):
                z = (per["mean"] - 0.95) / np.sqrt(0.95 * 0.05 / per["size"])
                rows[-1]["per_variable_within_2se"] = f"{int((z.abs() <= 2).sum())}/{len(per)}"
        # KS of the known-sigma selective p-values of selected variables whose target is exactly 0
        ks = stats.kstest(null_p, "uniform").pvalue if len(null_p) > 10 else np.nan
        rows[-9]["null_p_ks"] = ks
        print(f"  selective n={n} p={p}: {time.perf_counter() - t0:.0f} s", flush=True)
        for row in rows[-9:]:
            print("   ", row, flush=True)
    return pd.DataFrame(rows)


def _md(df):
    from regstats._summary import markdown_table

    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda x: f"{x:.3g}")
    return markdown_table(out, index=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--reps-high", type=int, default=None, help="replications for p > n (default --reps)")
    ap.add_argument("--reps-selective", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--part", choices=("all", "desparsified", "selective"), default="all")
    ap.add_argument("--json", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--only-p", type=int, action="append", default=[], help="run only these p")
    ap.add_argument("--start", type=int, default=0, help="first replication (to split a run over processes)")
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help="desparsified: comma-separated, of " + ", ".join(VARIANTS) + " (default: all)")
    ap.add_argument("--merge", nargs="+", default=None, help="print the table of these raw JSON files")
    args = ap.parse_args(argv)
    ONLY_P[:] = args.only_p
    if args.merge:
        print(_md(merge_tables(args.merge)))
        return
    reps, reps_sel = (3, 20) if args.quick else (args.reps, args.reps_selective)
    t_start = time.perf_counter()
    des = sel = None
    if args.part in ("all", "desparsified"):
        des = desparsified_table(reps, args.seed, args.json, None if args.quick else args.reps_high,
                                 args.start, tuple(args.variants.split(",")))
        print(des.to_string(), flush=True)
    if args.part in ("all", "selective"):
        sel = selective_table(reps_sel, args.seed)
        print(sel.to_string(), flush=True)
    if args.out:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        with open(args.out, "w") as fh:
            fh.write(f"<!-- generated by scripts/simulate_coverage.py on {stamp}, "
                     f"{time.perf_counter() - t_start:.0f} s -->\n")
            if des is not None:
                fh.write(_md(des) + "\n\n")
            if sel is not None:
                fh.write(_md(sel) + "\n")


if __name__ == "__main__":
    main()
