"""Benchmark the lasso / elastic-net paths against scikit-learn and R glmnet (run on demand).

    python benchmarks/bench_path.py                      # A, B, C; writes reports/benchmarks.md
    python benchmarks/bench_path.py --problems C --repeat 5 --no-write

Problems from /work/shared/bench/problems.py (A: n=1000 p=5000; B: n=50000 p=200; C: diabetes with
all pairwise interactions).  100-lambda paths, the same grid for every tool (regstats' default grid
with lambda_min_ratio 1e-2 for A and 1e-3 for B and C), lasso and elastic net (l1_ratio 0.5).
For the elastic net every tool gets a unit-variance y (glmnet rescales y internally).

* regstats: the formula API (``rs.elastic_net(formula, df, ...)``) at default settings, timed end to
  end (design, standardization, path, coefficient table); warm (numba cache loaded).  The effective
  df of ``path.table`` (computed on its first access) is timed separately.
* scikit-learn: ``enet_path`` on X standardized with the 1/n convention (timed without that step),
  default tol, ``precompute=True`` on B.
* R glmnet: ``glmnet(x, y, lambda = grid, alpha = a)`` at its default thresh, timed inside R with
  ``system.time`` (user + system; data passed through a temporary binary file), one fit per
  Rscript process (the median of ten on C).
* The tools take turns: each round runs regstats, scikit-learn and glmnet once, so that load
  changes on the shared machine hit all of them alike; times are medians over ``--repeat`` rounds.
* gap: the worst relative objective excess over the best value any tool reached, at five path
  points (lambda indices 0, 24, 49, 74, 99), objective evaluated on the standardized problem.

All tools single-threaded (BLAS threads pinned to 1); CPU seconds, medians of ``--repeat`` runs.  Also:
first-call JIT cost (numba compile into an empty cache), ``y ~ .`` design build time on A, and
``import regstats`` + first fit in a new process.  Only the ``<!-- path:begin --> ...
<!-- path:end -->`` section of reports/benchmarks.md is (re)written.
"""
from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, "/work/shared/bench")
sys.path.insert(0, str(ROOT))

import regstats as rs  # noqa: E402
from regstats.design import build_design  # noqa: E402
from _sections import write_section  # noqa: E402  (scripts run as files)

RATIO = {"A": 1e-2, "B": 1e-3, "C": 1e-3}
POINTS = [0, 24, 49, 74, 99]
BEGIN, END = "<!-- path:begin -->", "<!-- path:end -->"

R_SCRIPT = r"""
suppressPackageStartupMessages(library(glmnet))
a <- commandArgs(TRUE); n <- as.integer(a[1]); p <- as.integer(a[2]); d <- a[3]
nl <- as.integer(a[4]); alpha <- as.numeric(a[5]); reps <- as.integer(a[6])
x <- matrix(readBin(file.path(d, "x.bin"), "double", n * p), n, p)
y <- readBin(file.path(d, "y.bin"), "double", n)
lam <- readBin(file.path(d, "lam.bin"), "double", nl)
times <- numeric(reps)
for (r in seq_len(reps)) {
  st <- system.time(fit <- glmnet(x, y, lambda = lam, alpha = alpha))
  times[r] <- st[["user.self"]] + st[["sys.self"]]
}
B <- as.matrix(coef(fit))
writeBin(as.vector(B), file.path(d, "coef.bin"))
cat(median(times), ncol(B), "\n")
"""


def _one(fn):
    """CPU seconds of this process for one call (single-threaded work: robust to a shared,
    loaded machine), and the result."""
    t = time.process_time()
    out = fn()
    return time.process_time() - t, out


def _median_time(fn, repeat):
    """Median CPU seconds over ``repeat`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t, out = _one(fn)  # keep only the last result alive
        times.append(t)
    return float(np.median(times)), out


def _objective(Xs, ys, b, lam, a):
    n = len(ys)
    r = ys - Xs @ b
    return 0.5 * (r @ r) / n + lam * (a * np.abs(b).sum() + 0.5 * (1 - a) * (b @ b))


def _glmnet_files(X, y, lams, tmp):
    np.asfortranarray(X).ravel(order="F").tofile(os.path.join(tmp, "x.bin"))
    np.ascontiguousarray(y).tofile(os.path.join(tmp, "y.bin"))
    np.ascontiguousarray(lams).tofile(os.path.join(tmp, "lam.bin"))
    Path(os.path.join(tmp, "run.R")).write_text(R_SCRIPT)


def _glmnet(shape, nlam, a, tmp, reps=1):
    """glmnet fits in a new R process: (median CPU seconds of ``reps`` fits inside R, coefficients)."""
    out = subprocess.run(["Rscript", os.path.join(tmp, "run.R"), str(shape[0]), str(shape[1]), tmp, str(nlam),
                          str(a), str(reps)], capture_output=True, text=True, check=True)
    t, k = out.stdout.split()
    B = np.fromfile(os.path.join(tmp, "coef.bin")).reshape(int(k), shape[1] + 1)
    return float(t), B[:, 1:]  # original-scale slopes, one row per lambda


def bench_problem(name: str, repeat: int, do_r: bool, do_sk: bool) -> list[dict]:
    from problems import make

    df, formula, _ = make(name)
    rows = []
    for a in (1.0, 0.5):
        data = df
        if a < 1:
            data = df.copy()
            y0 = data["y"].to_numpy()
            data["y"] = y0 / y0.std()
        path = rs.elastic_net(formula, data, l1_ratio=a, lambda_min_ratio=RATIO[name])  # warm-up
        lams = path.lambdas
        prep = path._prep
        Xraw = path._design.X
        Xs = (Xraw - prep.x_mean) / prep.x_scale
        ys = prep.y
        from regstats.dof import df_path

        gram = prep.gram[0] if "gram" in prep.__dict__ else None
        t_df, _ = _median_time(lambda: df_path(prep, path._solution.beta, lams, a, gram=gram), repeat)
        res = {"problem": name, "penalty": "lasso" if a == 1 else "enet(0.5)", "df": t_df,
               "method": path.method, "nnz_last": int(path.table["n_nonzero"].iloc[-1])}
        if do_sk:
            from sklearn.linear_model import enet_path

            kw = {"precompute": True} if name == "B" else {}
        do_r = do_r and shutil.which("Rscript") is not None
        # the tools take turns, one run each per round, so that a change in the shared machine's
        # load affects all of them alike; medians over the rounds
        times: dict[str, list] = {"regstats": [], "sklearn": [], "glmnet": []}
        betas = {}
        with tempfile.TemporaryDirectory() as tmp:
            if do_r:
                _glmnet_files(Xraw, path._design.y, lams, tmp)
            for k in range(repeat):
                t, path = _one(lambda: rs.elastic_net(formula, data, l1_ratio=a, lambda_min_ratio=RATIO[name]))
                times["regstats"].append(t)
                if do_sk and (name != "A" or k == 0):  # scikit-learn on A: one run (5 s each)
                    t, out = _one(lambda: enet_path(Xs, ys, l1_ratio=a, alphas=lams, **kw))
                    times["sklearn"].append(t)
                    betas["sklearn"] = out[1].T
                if do_r:
                    # C takes milliseconds: ten fits per R process (system.time counts in ms)
                    t, B = _glmnet(Xraw.shape, len(lams), a, tmp, reps=10 if name == "C" else 1)
                    times["glmnet"].append(t)
                    if B.shape[0] == len(lams):
                        betas["glmnet"] = B * prep.x_scale
        betas["regstats"] = path._solution.beta
        for tool, ts in times.items():
            if ts:
                res[tool] = float(np.median(ts))
        obj = {k: np.array([_objective(Xs, ys, b[i], lams[i], a) for i in POINTS]) for k, b in betas.items()}
        best = np.min(np.vstack(list(obj.values())), axis=0)
        for k, f in obj.items():
            res[f"gap_{k}"] = float(np.max((f - best) / best))
        rows.append(res)
        print(res, flush=True)
    return rows


def jit_and_startup() -> dict:
    """First-call JIT cost (empty numba cache) and import + first fit in a fresh process."""
    code = ("import time; t0 = time.perf_counter(); import regstats as rs; t1 = time.perf_counter(); "
            "d = rs.load_dataset('diabetes'); rs.lasso('y ~ .', d); rs.elastic_net('y ~ .', d); "
            "t2 = time.perf_counter(); print(t1 - t0, t2 - t1)")
    code_wide = ("import time, numpy as np, pandas as pd; "
                 "df = pd.DataFrame(np.random.default_rng(0).standard_normal((100, 600))); "
                 "df.columns = [f'x{j}' for j in range(600)]; df['y'] = df['x0'] + df['x1']; "
                 "t0 = time.perf_counter(); import regstats as rs; rs.lasso('y ~ .', df); "
                 "print(time.perf_counter() - t0)")
    env = dict(os.environ)
    out: dict = {}
    with tempfile.TemporaryDirectory() as cache:
        env_cold = dict(env, NUMBA_CACHE_DIR=cache)
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", code], env=env_cold, capture_output=True, text=True, check=True)
        out["cold_total"] = time.perf_counter() - t
        imp, fit = map(float, r.stdout.split())
        out["cold_import"], out["cold_fit"] = imp, fit
        r = subprocess.run([sys.executable, "-c", code_wide], env=env_cold, capture_output=True, text=True,
                           check=True)
        out["cold_wide_fit"] = float(r.stdout.split()[0])
    warm = []
    for _ in range(3):
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        warm.append((time.perf_counter() - t, *map(float, r.stdout.split())))
    warm = np.median(np.array(warm), axis=0)
    out["warm_total"], out["warm_import"], out["warm_fit"] = map(float, warm)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    out["python_startup"] = time.perf_counter() - t
    if shutil.which("Rscript"):
        t = time.perf_counter()
        subprocess.run(["Rscript", "-e", "suppressPackageStartupMessages(library(glmnet)); "
                        "d <- read.csv('%s'); x <- as.matrix(d[, names(d) != 'y']); f <- glmnet(x, d$y)"
                        % (ROOT / "regstats" / "datasets" / "diabetes.csv")], check=True, capture_output=True)
        out["r_startup_fit"] = time.perf_counter() - t
    return out


def design_time_A(repeat: int) -> float:
    from problems import make

    df, formula, _ = make("A")
    build_design(formula, df)
    return _median_time(lambda: build_design(formula, df), repeat)[0]


def render(rows: list[dict], extra: dict, design_a: float | None) -> str:
    import numba
    import sklearn

    r_ver = ""
    if shutil.which("Rscript"):
        r_ver = subprocess.run(["Rscript", "-e", "cat(R.version.string, '; glmnet', "
                                "as.character(packageVersion('glmnet')))"], capture_output=True,
                               text=True).stdout.strip()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [BEGIN, "## Lasso / elastic-net paths (`benchmarks/bench_path.py`)", "",
             f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()} "
             f"({os.cpu_count()} cores, shared; 1-minute load average at the end {load:.1f}), "
             f"Python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
             f"scikit-learn {sklearn.__version__}, {r_ver}. Single-threaded BLAS everywhere; times are CPU "
             "seconds (process time; R: user + system from system.time), because the machine is shared and loaded; "
             "the tools take turns, one run each per round, and the times are medians over the rounds (scikit-learn "
             "on A: one run). regstats is timed through the formula "
             "API end to end; the others on prepared matrices. gap = worst relative objective excess over "
             "the best value any tool reached at lambda indices 0, 24, 49, 74, 99.", "",
             "| problem | penalty | regstats s | then path.table (df) s | glmnet s | scikit-learn s | regstats / glmnet "
             "| regstats / sklearn | gap regstats | gap glmnet | gap sklearn | nonzero at last lambda |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def f(x, fmt="{:.3f}"):
        return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else fmt.format(x)

    for r in rows:
        g, s = r.get("glmnet"), r.get("sklearn")
        lines.append(
            f"| {r['problem']} | {r['penalty']} | {f(r['regstats'])} | {f(r['df'])} | {f(g)} | {f(s)} | "
            f"{f(r['regstats'] / g if g else None, '{:.2f}')} | {f(r['regstats'] / s if s else None, '{:.2f}')} | "
            f"{f(r.get('gap_regstats'), '{:.1e}')} | {f(r.get('gap_glmnet'), '{:.1e}')} | "
            f"{f(r.get('gap_sklearn'), '{:.1e}')} | {r['nnz_last']} |")
    lines += ["", "Targets (issue 2): A at most 0.7x glmnet; B no slower than scikit-learn with a precomputed "
              "Gram; C within 2x glmnet; all at gap <= 1e-6. \"then path.table (df)\": the effective degrees of "
              "freedom of the path table (`regstats.dof.df_path`; for the elastic net the trace formula), which "
              "glmnet and scikit-learn do not compute; regstats computes it on the first access of "
              "`path.table`, so it is not part of the fit time.", ""]
    if design_a is not None:
        lines.append(f"* `y ~ .` design build on A (1000 x 5000): {design_a:.3f} s.")
    if extra:
        lines.append(f"* First call with an empty numba cache (JIT compile): import {extra['cold_import']:.2f} s + "
                     f"lasso and elastic-net fits on diabetes {extra['cold_fit']:.2f} s "
                     f"(a naive-kernel fit, p > n, in another cold process: {extra['cold_wide_fit']:.2f} s).")
        lines.append(f"* New process, cache warm: `import regstats` {extra['warm_import']:.2f} s + first lasso and "
                     f"elastic-net fits {extra['warm_fit']:.2f} s; whole process {extra['warm_total']:.2f} s "
                     f"(bare Python start-up {extra['python_startup']:.2f} s). "
                     + (f"R `library(glmnet)` + read + fit, whole process: {extra['r_startup_fit']:.2f} s."
                        if "r_startup_fit" in extra else ""))
    lines.append(END)
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", nargs="+", default=["C", "B", "A"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-sklearn", action="store_true")
    ap.add_argument("--no-startup", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "benchmarks.md")
    a = ap.parse_args(argv)
    rows = []
    for p in a.problems:
        rows += bench_problem(p, a.repeat, not a.no_r, not a.no_sklearn)
    design_a = design_time_A(a.repeat) if "A" in a.problems else None
    extra = {} if a.no_startup else jit_and_startup()
    text = render(rows, extra, design_a)
    print(text)
    if not a.no_write:
        write_section(text, a.out, BEGIN, END)


if __name__ == "__main__":
    main()
