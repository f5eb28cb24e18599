"""Write the example reports of ``reports/`` from the bundled datasets.

    python -m regstats.report.examples            # into ./reports
    python -m regstats.report.examples OUTDIR
    python -m regstats.report.examples OUTDIR example_pima_binomial     # one of them

Each example is written as HTML (self-contained) and Markdown (figures in ``<name>_files/``).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path as FilePath
from typing import Any

from ..datasets import load_dataset

#: name -> (dataset, formula, report options)
EXAMPLES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "example_prostate_lasso": ("prostate", "lpsa ~ . - train", dict(penalty="lasso")),
    "example_diabetes_elastic_net": ("diabetes", "y ~ .", dict(penalty="elastic-net", l1_ratio=0.5)),
    "example_mtcars_ridge": ("mtcars", "mpg ~ C(cyl) + wt * hp + np.log(disp) + am",
                             dict(penalty="ridge")),
    # glmnet's default grid ends where the CV error still falls; the report says so, and this follows it
    "example_hitters_ridge": ("hitters", "Salary ~ .", dict(penalty="ridge", lambda_min_ratio=1e-6)),
    "example_credit_lasso": ("credit", "Balance ~ . - ID", dict(penalty="lasso")),
    # logistic lasso: P(type = 'Yes'); calibration and ROC from the out-of-fold predictions
    "example_pima_binomial": ("pima", "type ~ .", dict(penalty="lasso", family="binomial")),
}


def main(argv: list[str] | None = None) -> int:
    """Write every example report into the directory given (default ``reports``)."""
    from . import report

    args = sys.argv[1:] if argv is None else argv
    out = FilePath(args[0] if args else "reports")
    out.mkdir(parents=True, exist_ok=True)
    names = args[1:] or list(EXAMPLES)
    unknown = [n for n in names if n not in EXAMPLES]
    if unknown:
        sys.stderr.write(f"unknown example(s) {unknown}; choose from {list(EXAMPLES)}\n")
        return 2
    for name in names:
        dataset, formula, opts = EXAMPLES[name]
        t0 = time.perf_counter()
        rep = report(formula, load_dataset(dataset), source=dataset, seed=1, folds=10, n_boot=200,
                     out=out / f"{name}.html", **opts)
        rep.save(out / f"{name}.md")
        sys.stderr.write(f"{name}: {time.perf_counter() - t0:.1f} s -> {out / name}.html, .md\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
