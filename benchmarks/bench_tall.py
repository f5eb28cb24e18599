"""Tall data (issue 21 item 10): `y ~ .` on n = 1e6, p = 50, the default lasso path plus 5-fold CV,
beside scikit-learn's ``LassoCV(cv=5)`` on the same array, each in its own process.

    python benchmarks/bench_tall.py                 # writes the tall section of reports/benchmarks.md
    python benchmarks/bench_tall.py --n 200000      # smaller, no report

Measured per tool, in a fresh process with single-threaded BLAS: the peak resident memory *above
the data* (the process's high-water mark, reset with ``/proc/self/clear_refs`` once the data are
in memory, minus the resident size at that moment) and the wall time of the fit.  regstats gets a
DataFrame (X's 50 columns plus y) and builds its own design matrix from the formula (one copy of X
is the design itself); scikit-learn gets the numpy array.  Also: the bootstrap's process tree
(n = 2e5, p = 20, 200 replicates, ``n_jobs=2``): the calling process's and each worker's peak.
"""
from __future__ import annotations

import argparse
import json
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

CHILD = r'''
import json, os, sys, time
import numpy as np
n, p, tool = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
rng = np.random.default_rng(1)
X = rng.standard_normal((n, p))
beta = np.zeros(p); beta[:5] = [2.0, -1.5, 1.0, 0.5, -0.5]
y = X @ beta + rng.standard_normal(n)
if tool == "regstats":
    import pandas as pd
    import regstats as rs
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)], copy=False)
    df["y"] = y
    del X
    rs.lasso("y ~ x0 + x1", df.head(200)).cv(folds=5, seed=1)      # load the kernels first
else:
    from sklearn.linear_model import LassoCV
    LassoCV(cv=5).fit(X[:200], y[:200])
open("/proc/self/clear_refs", "w").write("5")
base = status("VmRSS:")
t = time.perf_counter()
c0 = time.process_time()
if tool == "regstats":
    path = rs.lasso("y ~ .", df)
    t_path = time.process_time() - c0
    cv = path.cv(folds=5, seed=1)
    extra = {"path_s": t_path, "lambda_min": cv.lambda_min}
else:
    m = LassoCV(cv=5).fit(X, y)
    extra = {"lambda_min": float(m.alpha_)}
wall = time.perf_counter() - t
print(json.dumps({"tool": tool, "wall_s": wall, "cpu_s": time.process_time() - c0, "peak_above_bytes": status("VmHWM:") - base,
                  "data_bytes": n * p * 8, **extra}))
'''

BOOT = r'''
import json, os, sys, time, resource
import numpy as np, pandas as pd
import regstats as rs
from joblib.externals.loky import get_reusable_executor
n, p, n_boot = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(2)
X = rng.standard_normal((n, p)); y = X[:, :3] @ [1.0, -1.0, 0.5] + rng.standard_normal(n)
df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)]); df["y"] = y
fit = rs.lasso("y ~ .", df).at(0.01)
t = time.perf_counter()
fit.bootstrap(n_boot=n_boot, seed=1, n_jobs=2)
wall = time.perf_counter() - t
get_reusable_executor().shutdown(wait=True)     # the workers' peaks are counted once they exit
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"n_boot": n_boot, "wall_s": wall, "parent_peak": me, "largest_worker_peak": kids,
                  "data_bytes": X.nbytes}))
'''


def run(code: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--p", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-boot", action="store_true")
    ap.add_argument("--boot", nargs="+", type=int, default=[50, 200], help="n_boot values to measure")
    args = ap.parse_args()
    res: dict[str, list[dict]] = {"regstats": [], "sklearn": []}
    for _ in range(args.rounds):
        for tool in ("regstats", "sklearn"):
            r = run(CHILD, str(args.n), str(args.p), tool)
            res[tool].append(r)
            print(r, flush=True)
    best = {t: min(v, key=lambda d: d["cpu_s"]) for t, v in res.items()}
    peak = {t: max(d["peak_above_bytes"] for d in v) for t, v in res.items()}
    data = best["regstats"]["data_bytes"]
    boots = [] if args.no_boot else [run(BOOT, "200000", "20", str(b)) for b in args.boot]
    print(boots)
    if args.n != 1_000_000 or args.p != 50:
        return
    from _sections import write_section

    import numpy as np
    import sklearn

    mb = 1e6
    lines = [
        "<!-- tall:begin -->",
        "## Tall data: n = 1e6, p = 50 (`benchmarks/bench_tall.py`)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()} "
        f"({os.cpu_count()} cores, shared), Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}; single-threaded BLAS; each tool in a fresh process, "
        f"{args.rounds} rounds taking turns, the least CPU time and the largest peak. X is {data / mb:.0f} MB. "
        "regstats: `rs.lasso(\"y ~ .\", df)` (default path, 100 lambdas to 1e-4) then `.cv(folds=5)`, on a "
        "DataFrame (the formula layer builds the design from it); scikit-learn: "
        "`LassoCV(cv=5)` (100 alphas to 1e-3) on the numpy array. Peak = the process's resident "
        "high-water mark minus its resident size once the data were loaded.",
        "",
        "| tool | path + CV, CPU s | (wall s) | path alone, CPU s | peak above the data (MB) | peak / X |",
        "|---|---:|---:|---:|---:|---:|",
        f"| regstats | {best['regstats']['cpu_s']:.2f} | {best['regstats']['wall_s']:.2f} | "
        f"{best['regstats']['path_s']:.2f} | {peak['regstats'] / mb:.0f} | {peak['regstats'] / data:.2f}x |",
        f"| scikit-learn LassoCV | {best['sklearn']['cpu_s']:.2f} | {best['sklearn']['wall_s']:.2f} | - | "
        f"{peak['sklearn'] / mb:.0f} | {peak['sklearn'] / data:.2f}x |",
        "",
        f"Time ratio regstats / LassoCV (CPU seconds, less disturbed by the shared machine's other jobs): "
        f"{best['regstats']['cpu_s'] / best['sklearn']['cpu_s']:.2f}x. "
        "Targets (issue 21): peak above the data at most 1.5x X and at most scikit-learn's; path + CV "
        "at most 0.5x LassoCV's time.",
    ]
    if boots:
        b = boots[-1]
        lines += [
            "",
            f"Bootstrap, n = 2e5, p = 20 ({b['data_bytes'] / mb:.0f} MB of X), `n_jobs=2`, including the "
            "worker pool's start: peak resident memory of the calling process and of the larger worker, by "
            "the number of replicates:",
            "",
            "| n_boot | time (s) | calling process (MB) | largest worker (MB) |",
            "|---:|---:|---:|---:|",
        ] + [f"| {d['n_boot']} | {d['wall_s']:.1f} | {d['parent_peak'] / mb:.0f} | "
             f"{d['largest_worker_peak'] / mb:.0f} |" for d in boots]
    lines.append("<!-- tall:end -->")
    write_section("\n".join(lines) + "\n", ROOT / "reports" / "benchmarks.md", "<!-- tall:begin -->",
                  "<!-- tall:end -->")


if __name__ == "__main__":
    main()
