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

    def timed(name: str, func, passes: str, peer):
        base = peer() if peer is not None else float("nan")
        t = time.perf_counter()
        out = func()
        rows.append((name, time.perf_counter() - t, passes, base))
        print(f"{name}: {rows[-1][1]:.1f} s (bare read just before: {base:.1f} s)", flush=True)
        return out

    peers = iter([("sum", lambda: ddf.sum()), ("min", lambda: ddf.min()), ("max", lambda: ddf.max()),
                  ("mean", lambda: ddf.mean()), ("sum of squares", lambda: (ddf * ddf).sum()),
                  ("std", lambda: ddf.std()), ("count", lambda: ddf.count()), ("abs max", lambda: ddf.abs().max())])

    def read() -> float:
        """A bare read of every column (a new expression each time: no cached result)."""
        name, expr = next(peers)
        t = time.perf_counter()
        expr().compute()
        return time.perf_counter() - t

    cold = read()
    print(f"cold read: {cold:.1f} s", flush=True)
    path = timed("rs.lasso('y ~ .', ddf): path, 100 lambdas", lambda: rs.lasso("y ~ .", ddf), "1", read)
    cv = timed("path.cv(folds=10, seed=1)", lambda: path.cv(folds=10, seed=1), "1", read)
    fit = cv.best
    timed("path.information_criteria()", lambda: path.information_criteria(), "0", None)
    timed("fit.inference(initial='fit', nodewise_lambda='scaled')",
          lambda: fit.inference(initial="fit", nodewise_lambda="scaled"), "0", None)
    timed("fit.inference() (CV initial estimator and nodewise CV)", lambda: fit.inference(seed=1), "1", read)
    timed(f"fit.bootstrap(n_boot={args.n_boot})", lambda: fit.bootstrap(n_boot=args.n_boot, seed=1), "1", read)
    driver = _peak_mb()    # before the size measurement below reads a partition into this process
    # bytes a partition task sends up the reduction tree, per kind of pass (pickled)
    import dataclasses
    import pickle

    import pandas as pd

    from regstats.distributed import passes

    first = pd.read_parquet(sorted(Path(args.data).glob("*.parquet"))[0])
    sizes = {}
    for kind, job in (("fit", path._job), ("cv (10 folds)", dataclasses.replace(path._job, mode="folds", n_slots=10)),
                      (f"bootstrap (B = {args.n_boot})", dataclasses.replace(path._job, mode="bootstrap",
                                                                              n_slots=args.n_boot))):
        sizes[kind] = len(pickle.dumps(passes.partition_stats(first, 0, job)))
    rows_part = len(first)
    worker_peak = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    client.close()
    cluster.close()
    p = len(path.column_names)
    size = sum(f.stat().st_size for f in Path(args.data).glob("*.parquet"))
    lines = [BEGIN, "## dask backend: 10^7 x 20 on 2 workers x 1 GB (issue 19)", "",
             f"`benchmarks/bench_dask.py` on `benchmarks/make_tall_parquet.py`'s data: {path.n_obs:,} rows, "
             f"{p} predictors + response, {ddf.npartitions} parquet files ({size / 1e9:.2f} GB on disk, "
             f"{path.n_obs * (p + 1) * 8 / 1e9:.2f} GB as float64); LocalCluster(n_workers=2, "
             "threads_per_worker=1, memory_limit='1GB'); "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared with other jobs, run "
             f"with nice 10.  Times are wall-clock.  The peer is a bare read of every column "
             "(`ddf.min().compute()`, `ddf.max()`, ... a new expression each time, so no cached result) timed "
             f"just before each step in the same run, on the same loaded machine; the first (cold) read took "
             f"{cold:.1f} s.", "",
             "| step | passes over the data | seconds | bare read just before (s) | ratio |", "|---|---|---:|---:|---:|"]
    for name, t, ps, base in rows:
        ratio = f"{t / base:.2f}" if base == base else "-"
        lines.append(f"| {name} | {ps} | {t:.1f} | {base:.1f} | {ratio} |")
    lines += ["", "Peak resident memory (ru_maxrss): " + ", ".join(
        f"worker {i}: {v:.0f} MB" for i, v in enumerate(worker_peak.values())) + f"; driver: {driver:.0f} MB "
        "(the driver holds the p x p statistics and the solver, never rows).", ""]
    n_parts_1e9 = int(np.ceil(1e9 / rows_part))
    per_worker = (1e9 / 100) / (path.n_obs / 2)
    fit_t, cv_t = rows[0][1], rows[1][1]
    lines += ["**Projection to 10^9 rows on 100 workers** (same p, same partition size): "
              f"{n_parts_1e9:,} partitions of {rows_part:,} rows; each worker reads {per_worker:.0f}x the rows a "
              "worker read here, so a pass takes about that multiple of the times above (plus scheduling "
              f"{n_parts_1e9:,} tasks): fit ~{per_worker * fit_t:.0f} s, CV ~{per_worker * cv_t:.0f} s on this "
              "machine's per-core speed.  Bytes a partition task sends up the reduction tree (pickled, "
              "measured): " + ", ".join(f"{k}: {v / 1024:.1f} KB" for k, v in sizes.items()) +
              f"; in all, per pass: " + ", ".join(f"{k}: {v * n_parts_1e9 / 1e6:.0f} MB" for k, v in sizes.items()) +
              ", merged 8 to 1 at each level, so the driver receives one result of that size.  The driver's "
              "memory and the solve do not depend on n; a worker's peak is one partition and its "
              "32 768-row blocks.", "", END]
    write_section("\n".join(lines) + "\n", Path(args.out), BEGIN, END)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
