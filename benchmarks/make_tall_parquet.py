"""Write the 10^7 x 20 data set of the dask benchmark (issue 19): 20 float64 predictors and a
response (1.68 GB of float64 in all), in parquet files of 250 000 rows (42 MB partitions), from a seed.

    python benchmarks/make_tall_parquet.py [--rows 10000000] [--out /tmp/regstats_tall]

y = 1 + sum_j b_j x_j + e with b = (2, -1.5, 1, -0.5, 0.25, 0, ..., 0), x ~ N(0, 1) with
correlation 0.3 between neighbours, e ~ N(0, 1).  Written chunk by chunk: memory holds one file.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

P = 20
BETA = np.r_[2.0, -1.5, 1.0, -0.5, 0.25, np.zeros(P - 5)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--chunk", type=int, default=250_000)
    ap.add_argument("--out", default="/tmp/regstats_tall")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2026)
    for i, start in enumerate(range(0, args.rows, args.chunk)):
        m = min(args.chunk, args.rows - start)
        z = rng.standard_normal((m, P))
        X = z.copy()
        X[:, 1:] = np.sqrt(1 - 0.3 ** 2) * z[:, 1:] + 0.3 * z[:, :-1]
        y = 1.0 + X @ BETA + rng.standard_normal(m)
        df = pd.DataFrame(X, columns=[f"x{j}" for j in range(P)])
        df["y"] = y
        df.to_parquet(out / f"part-{i:04d}.parquet", index=False)
    print(f"wrote {args.rows} rows x {P + 1} columns to {out}")


if __name__ == "__main__":
    main()
