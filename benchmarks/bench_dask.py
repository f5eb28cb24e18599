"""The dask backend on 10^7 x 20 (issue 19): time and peak memory of a lasso path, 10-fold CV,
the desparsified lasso and a Poisson bootstrap on a LocalCluster of 2 workers limited to 1 GB
each, against a bare ``ddf.sum().compute()`` timed in the same run; writes its section of
reports/benchmarks.md.

    python benchmarks/make_tall_parquet.py            # once: /tmp/regstats_tall, 1.68 GB
    nice -n 10 python benchmarks/bench_dask.py [--data /tmp/regstats_tall] [--n-boot 10]
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._sections import write_section  # noqa: E402

BEGIN, END = "<!-- bench_dask:begin -->", "<!-- bench_dask:end -->"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/regstats_tall")
    ap.add_argument("--n-boot", type=int, default=10)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "reports" / "benchmarks.md"))
    args = ap.parse_args()
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import regstats as rs

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="1GB", processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    ddf = dd.read_parquet(args.data)
    rows = []

    def timed(name: str, func, passes: str):
        t = time.perf_counter()
        out = func()
        rows.append((name, time.perf_counter() - t, passes))
        print(f"{name}: {rows[-1][1]:.1f} s", flush=True)
        return out

    timed("ddf.sum().compute() (the peer: one bare read)", lambda: ddf.sum().compute(), "1")
    timed("ddf.sum().compute() again", lambda: ddf.sum().compute(), "1")
    path = timed("rs.lasso('y ~ .', ddf): path, 100 lambdas", lambda: rs.lasso("y ~ .", ddf), "1")
    cv = timed("path.cv(folds=10, seed=1)", lambda: path.cv(folds=10, seed=1), "1")
    fit = cv.best
    timed("path.information_criteria()", lambda: path.information_criteria(), "0")
    timed("fit.inference(initial='fit', nodewise_lambda='scaled')",
          lambda: fit.inference(initial="fit", nodewise_lambda="scaled"), "0")
    timed(f"fit.bootstrap(n_boot={args.n_boot})", lambda: fit.bootstrap(n_boot=args.n_boot, seed=1), "1")
    worker_peak = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    driver = _peak_mb()
    client.close()
    cluster.close()
    base = rows[1][1]
    p = len(path.column_names)
    size = sum(f.stat().st_size for f in Path(args.data).glob("*.parquet"))
    lines = [BEGIN, "## dask backend: 10^7 x 20 on 2 workers x 1 GB (issue 19)", "",
             f"`benchmarks/bench_dask.py` on `benchmarks/make_tall_parquet.py`'s data: {path.n_obs:,} rows, "
             f"{p} predictors + response, {ddf.npartitions} parquet files ({size / 1e9:.2f} GB on disk, "
             f"{path.n_obs * (p + 1) * 8 / 1e9:.2f} GB as float64); LocalCluster(n_workers=2, "
             "threads_per_worker=1, memory_limit='1GB'); "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with other jobs, run "
             f"with nice 10.  Times are wall-clock; ratio = time / the second bare `ddf.sum().compute()`.", "",
             "| step | passes over the data | seconds | ratio to a bare read |", "|---|---|---:|---:|"]
    for name, t, ps in rows:
        lines.append(f"| {name} | {ps} | {t:.1f} | {t / base:.2f} |")
    lines += ["", "Peak resident memory (ru_maxrss): " + ", ".join(
        f"worker {i}: {v:.0f} MB" for i, v in enumerate(worker_peak.values())) + f"; driver: {driver:.0f} MB "
        "(the driver holds the p x p statistics and the solver, never rows).", "", END]
    write_section("\n".join(lines) + "\n", Path(args.out), BEGIN, END)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
