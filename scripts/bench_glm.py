"""Binomial (and Poisson) paths: regstats.glm beside R glmnet's default path, in one run (issue 18).

    nice -n 10 python scripts/bench_glm.py            # writes the glm section of reports/benchmarks.md
    python scripts/bench_glm.py --no-write --problems B --reps 1

Problems A (n=1000, p=5000) and B (n=50000, p=200) of /work/shared/bench/problems.py with
y := (y > median(y)) for the binomial path, and for the Poisson path y := a Poisson count with log
mean 0.5 * the standardized linear response (seeded).  Each tool fits its default path (100
lambdas, glmnet's lambda_min_ratio rule, glmnet's early stop when the deviance ratio grows by less
than 1e-5: regstats with ``fdev=1e-5``) three times; CPU seconds (user + system, single-threaded
BLAS), the median.  R runs in a child process on the same arrays (written once as raw doubles),
timed inside R around ``glmnet()`` alone.  KKT: the largest violation of the penalized problem's
optimality conditions over lambda, at each lambda of each answer (:func:`regstats.glm.glm_kkt` on
the standardized design); regstats is run at its default tol (1e-7: KKT to 1e-5 lambda).  glmnet
is also run once with ``thresh = TIGHT`` (1e-14), where its KKT comes closest to regstats'.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
BENCH = Path("/work/shared/bench")

from regstats.family import BINOMIAL, POISSON  # noqa: E402
from regstats.glm import _standardized, glm_kkt, glm_path  # noqa: E402

R_SCRIPT = r"""
suppressPackageStartupMessages(library(glmnet))
a <- commandArgs(trailingOnly = TRUE)
n <- as.integer(a[2]); p <- as.integer(a[3]); reps <- as.integer(a[5]); thresh <- as.numeric(a[6])
X <- matrix(readBin(paste0(a[1], "_X.bin"), "double", n * p), n, p)
y <- readBin(paste0(a[1], "_y.bin"), "double", n)
ts <- numeric(reps)
for (r in seq_len(reps)) {
  t0 <- proc.time()
  f <- glmnet(X, y, family = a[4], thresh = thresh)
  t1 <- proc.time() - t0
  ts[r] <- t1[["user.self"]] + t1[["sys.self"]]
}
writeBin(as.vector(as.matrix(f$beta)), paste0(a[1], "_beta.bin"))
writeBin(f$a0, paste0(a[1], "_a0.bin"))
writeBin(f$lambda, paste0(a[1], "_lambda.bin"))
cat(sprintf("{\"cpu\": [%s], \"version\": \"%s\"}\n", paste(ts, collapse = ", "), packageVersion("glmnet")))
"""


#: glmnet's thresh for the second, tight run (its KKT comes closest to regstats' 1e-5 lambda there:
#: binomial A 7e-6, B 5e-5 lambda; thresh 1e-13 leaves B at 3e-4)
TIGHT = 1e-14

#: the solver before the single-precision steps on tall designs (this bench, run 2026-12-07
#: 22:52 UTC): family, problem -> (s, glmnet s)
BEFORE = {("binomial", "A"): (0.597, 0.717), ("binomial", "B"): (1.336, 2.632),
          ("poisson", "A"): (3.285, 1.691), ("poisson", "B"): (1.166, 1.932)}


def problem(name: str, family: str):
    sys.path.insert(0, str(BENCH))
    from problems import make

    df, _, _ = make(name)
    y = df.pop("y").to_numpy()
    X = np.asfortranarray(df.to_numpy())
    if family == "binomial":
        return X, (y > np.median(y)).astype(float)
    z = (y - y.mean()) / y.std()
    return X, np.random.default_rng(18).poisson(np.exp(0.5 * z)).astype(float)


def kkt_all(fam, X, y, lambdas, a0, coef):
    """Largest KKT violation / lambda at each lambda of an original-scale path (a0, coef)."""
    n = len(y)
    w = np.ones(n)
    Xs, prep = _standardized(X, y, w, None, True, True)
    beta = coef * prep.x_scale[None, :]
    b0 = a0 + coef @ prep.x_mean
    return np.array([glm_kkt(fam, Xs, y, w, np.zeros(n), b0[k], beta[k], lambdas[k], 1.0, prep.v, prep.constant)
                     for k in range(len(lambdas))])


def run_r(X, y, family, reps, tmp: Path, thresh: float = 1e-7):
    stem = tmp / "p"
    X.ravel(order="F").tofile(f"{stem}_X.bin")
    y.tofile(f"{stem}_y.bin")
    rs = tmp / "bench.R"
    rs.write_text(R_SCRIPT)
    out = subprocess.run(["Rscript", str(rs), str(stem), str(X.shape[0]), str(X.shape[1]), family, str(reps),
                          repr(thresh)],
                         capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    lam = np.fromfile(f"{stem}_lambda.bin")
    beta = np.fromfile(f"{stem}_beta.bin").reshape(len(lam), X.shape[1])
    return res, lam, np.fromfile(f"{stem}_a0.bin"), beta


def run_ours(X, y, fam, reps):
    ts = []
    for _ in range(reps):
        t0 = time.process_time()
        sol = glm_path(X, y, fam, fdev=1e-5)
        ts.append(time.process_time() - t0)
    return ts, sol


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="AB")
    ap.add_argument("--families", default="binomial,poisson")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    # compile the kernels outside the timings
    Xw, yw = problem("B", "binomial")
    glm_path(Xw[:500], yw[:500], BINOMIAL, n_lambda=5)
    glm_path(Xw[:500], np.minimum(yw[:500] * 3, 5), POISSON, n_lambda=5)
    rows = []
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for fname in args.families.split(","):
            fam = BINOMIAL if fname == "binomial" else POISSON
            for name in args.problems:
                X, y = problem(name, fname)
                rres, rlam, ra0, rbeta = run_r(X, y, fname, args.reps, Path(tmp))
                tres, tlam, ta0, tbeta = run_r(X, y, fname, 1, Path(tmp), TIGHT)
                k_t = kkt_all(fam, X, y, tlam, ta0, tbeta)
                ts, sol = run_ours(X, y, fam, args.reps)
                k_ours = kkt_all(fam, X, y, sol.lambdas, sol.intercept, sol.coef)
                k_r = kkt_all(fam, X, y, rlam, ra0, rbeta)
                row = dict(family=fname, problem=name, n=X.shape[0], p=X.shape[1],
                           ours=float(np.median(ts)), glmnet=float(np.median(rres["cpu"])),
                           n_ours=len(sol.lambdas), n_glmnet=len(rlam), kkt_ours=float(k_ours.max()),
                           kkt_glmnet=float(k_r.max()), kkt_glmnet_med=float(np.median(k_r)),
                           ours_all=ts, glmnet_all=rres["cpu"], version=rres["version"],
                           glmnet_tight=float(tres["cpu"][0]), kkt_glmnet_tight=float(k_t.max()),
                           kkt_glmnet_tight_med=float(np.median(k_t)))
                row["ratio"] = row["ours"] / row["glmnet"]
                row["ratio_tight"] = row["ours"] / row["glmnet_tight"]
                rows.append(row)
                print(json.dumps(row), flush=True)
    load1 = os.getloadavg()
    if not args.no_write:
        write(rows, load0, load1, args.reps)
    return rows


def write(rows, load0, load1, reps):
    from _sections import write_section

    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    target = {"A": 0.7, "B": 0.5}
    lines = [
        "<!-- glm:begin -->",
        "## Binomial and Poisson paths against R glmnet (issue 18; `scripts/bench_glm.py`)",
        "",
        f"Run {now} on {platform.machine()} ({os.cpu_count()} cores, shared: load average "
        f"{load0[0]:.1f} at the start, {load1[0]:.1f} at the end), Python {platform.python_version()}, "
        f"numpy {np.__version__}, R glmnet {rows[0]['version']}; single-threaded BLAS; CPU seconds "
        f"(user + system), median of {reps}, warm numba cache, both on the same arrays in the same run. "
        "Default paths: 100 lambdas down to glmnet's lambda_min_ratio, both stopping early by glmnet's "
        "rule (deviance ratio growing by < 1e-5; regstats `fdev=1e-5`). Binomial y := (y > median y); "
        "Poisson y ~ Poisson(exp(0.5 z)), z the standardized simulated response. KKT = the largest "
        "violation of the optimality conditions over lambda at any lambda of the answer (median for "
        "glmnet in brackets): regstats at its default tol (KKT within 1e-5 lambda), glmnet at its default "
        "`thresh = 1e-7`.",
        "",
        "| family | problem | n x p | regstats s | glmnet s | ratio | target | before: regstats / glmnet s "
        "(ratio) | lambdas (ours / glmnet) | KKT regstats | KKT glmnet | glmnet thresh 1e-14 s (1 run) "
        "| ratio to it | its KKT |",
        "|---|---|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        t = f"<= {target[r['problem']]}x" if r["family"] == "binomial" and r["problem"] in target else "-"
        bo, bg = BEFORE.get((r["family"], r["problem"]), (float("nan"), float("nan")))
        lines.append(f"| {r['family']} | {r['problem']} | {r['n']} x {r['p']} | {r['ours']:.3f} | "
                     f"{r['glmnet']:.3f} | "
                     f"{r['ratio']:.2f}x | {t} | {bo:.3f} / {bg:.3f} ({bo / bg:.2f}x) | {r['n_ours']} / "
                     f"{r['n_glmnet']} | {r['kkt_ours']:.1e} | {r['kkt_glmnet']:.1e} ({r['kkt_glmnet_med']:.0e}) | "
                     f"{r['glmnet_tight']:.3f} | {r['ratio_tight']:.2f}x | {r['kkt_glmnet_tight']:.1e} "
                     f"({r['kkt_glmnet_tight_med']:.0e}) |")
    met = [f"{r['problem']} {'met' if r['ratio'] <= target[r['problem']] else 'not met'} ({r['ratio']:.2f}x)"
           for r in rows if r["family"] == "binomial" and r["problem"] in target]
    lines += ["", f"Targets against glmnet's default (binomial: 0.7x on A, 0.5x on B): {', '.join(met)}. The two "
              "tools do not do the same work: glmnet's default answers are 1e-3 to 0.3 lambda away from "
              "optimality (its KKT column), regstats' within 1e-5 lambda. With `thresh = 1e-14` glmnet comes "
              "within 7e-6 lambda on binomial A but not on B or Poisson (4e-5 to 7e-5; 1e-13 leaves 3e-4 on "
              "binomial B), and is then several times slower than regstats (the 'ratio to it' column; one glmnet "
              "run each, as it is slow). Both tools' times vary by up to a third between runs on this shared "
              "machine (glmnet on binomial A took 0.42 to 1.07 s, on B 2.2 to 2.7 s, in the runs of 2026-12-07 "
              "22:10-23:10 UTC), so compare the ratios of one run. \"before\": the previous solver in the run "
              "of 2026-12-07 22:52 UTC (its own glmnet times beside it). What changed since (`docs/path.md`, "
              "\"Binomial and Poisson paths: the solver\"): on tall designs (n >= 4096; binomial and Poisson "
              "B, not A), once every step reads all of X, a lambda's first k - 1 steps (k: the last lambda's "
              "step count) are passes over a float32 copy of X (sums in double precision; the gradient as the "
              "exact one at the last double-precision pass plus X32'(r - r_base)/n, so its error is X's "
              "rounding times the change of the residuals), the rest double precision with the linear "
              "predictor formed afresh, and every lambda is declared converged only on a double-precision "
              "gradient (the KKT column is of the answer, in double precision); extensions of T take their "
              "Gram rows from the float32 copy. Binomial B: the same 139 steps and KKT values, 47 of the steps "
              "in single precision at ~half the cost, ~1.0 s against ~1.15 s for the previous solver in "
              "interleaved profiling runs at a lower load than this bench's. Where the time goes now (CPU seconds from a profile of one path), binomial A "
              "(~0.45 s, unchanged): model solves 0.08, Gram refreshes 0.08, extensions 0.07, BFGS updates "
              "0.05, passes over T's columns 0.05, outside checks 0.025, standardization 0.03, the rest "
              "bookkeeping; 2.2 steps per lambda. B (~1.0 s): the late lambdas (every column in T, two or three "
              "steps, the last exact) 13-23 ms each, ~0.4 s; the nine where T grows from 45 to 200 columns "
              "~0.35 s; refreshes 0.25 s in all. Tried and not kept: refreshing the Gram matrix after a step "
              "that cut the violation by less than 10x or 5x (instead of 20x) now that steps are cheaper (151 "
              "steps, no less time); earlier: a BFGS update by the move between the last two solutions, "
              "lengthening a lambda's first step, a double-precision Gram matrix. Poisson A (~3 s): most "
              "lambdas refresh the Gram matrix after their first step and then factorize the ~870-column face "
              "afresh (model solves 1.1 s, refreshes 0.9 s).",
              "", "Before issue 18's solver (the IRLS loop around the gaussian engine, re-preparing the "
              "design at every step): 22-28 s on binomial A.", "<!-- glm:end -->"]
    write_section("\n".join(lines) + "\n", ROOT / "reports" / "benchmarks.md", "<!-- glm:begin -->",
                  "<!-- glm:end -->")


if __name__ == "__main__":
    main()
