"""Before/after the s_y convention (commit 49b5f5b): ridge and elastic net with y in two units.

Writes ``reports/units.md``.  Run from the repository root:

    python scripts/units_before_after.py

"Before" is commit 8834781, the parent of the datasets commit that precedes the change: the
script checks it out as a git worktree in /tmp/regstats_old (removed at the end) and imports it
with ``PYTHONPATH``; "after" is this checkout's working tree.  Both run the same measurement code
(this file with ``--worker``) in a subprocess, which reports which ``regstats`` it imported and
returns JSON.  The data are the bundled CSVs of this checkout (the old code has no
``rs.load_dataset("hitters")``).  For ISLR's Hitters (``Salary ~ .``, thousands of dollars) and
Credit (``Balance ~ . - ID``, dollars), ridge and elastic net (l1_ratio 0.5), y as given and
y / 1000: the default path, ``path.cv(folds=10, seed=1)``, and the selection and fit at
lambda_min and lambda_1se.  Also ``rs.cv_elastic_net`` on Credit, and cv.glmnet's selection
from the R fixtures in tests/fixtures/glmnet (same lambdas, same fold ids) next to both versions.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from _common import md_table  # noqa: E402  (scripts run as files)

ROOT = Path(__file__).resolve().parents[1]
OLD_COMMIT = "8834781"
OLD_TREE = Path("/tmp/regstats_old")
DATA = ROOT / "regstats" / "datasets"
FIXTURES = ROOT / "tests" / "fixtures" / "glmnet"
SCALE = 1000.0  # the second unit: y / 1000

DATASETS = {
    "hitters": {"title": "Hitters", "formula": "Salary ~ .", "response": "Salary",
                "units": ("Salary in $1000s", "Salary in $ millions"),
                "coefs": ["Hits", "Walks", "CRBI"]},
    "credit": {"title": "Credit", "formula": "Balance ~ . - ID", "response": "Balance",
               "units": ("Balance in $", "Balance in $1000s"),
               "coefs": ["Income", "Limit", "Student[T.Yes]"]},
}
PENALTIES = {"ridge": 0.0, "elastic net": 0.5}


# ------------------------------------------------------------------------------------------------
# the worker: runs under whichever regstats is importable, prints JSON
# ------------------------------------------------------------------------------------------------
def _cv_record(cv, coefs: list[str], scale: float) -> dict:
    n = len(cv.lambdas)
    best, at_min = cv.best, cv.at("min")
    return {"n_lambda": n, "index_min": int(cv.index_min), "index_1se": int(cv.index_1se),
            "lambda_min": float(cv.lambda_min), "lambda_1se": float(cv.lambda_1se),
            "lambda_first": float(cv.lambdas[0]), "lambda_last": float(cv.lambdas[-1]),
            "r2_1se": float(best.r2), "r2_min": float(at_min.r2), "nonzero_1se": int(best.n_nonzero),
            "coef_1se": {c: float(best.coef[c]) * scale for c in coefs}}


def measure() -> dict:
    import regstats as rs

    out: dict = {"regstats_file": rs.__file__, "version": rs.__version__, "cells": [], "cvenet": [],
                 "glmnet": [], "warnings": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for key, spec in DATASETS.items():
            raw = pd.read_csv(DATA / f"{key}.csv")
            for unit, scale in ((0, 1.0), (1, SCALE)):
                data = raw.copy()
                data[spec["response"]] = data[spec["response"]] / scale
                for pen, a in PENALTIES.items():
                    path = rs.elastic_net(spec["formula"], data, l1_ratio=a)
                    cv = path.cv(folds=10, seed=1)
                    if unit == 0 and a == 0:  # least squares, for scale
                        X = np.column_stack([np.ones(path.n_obs), path._design.X])
                        y = np.asarray(path._design.y, dtype=float)
                        r = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
                        out.setdefault("ols_r2", {})[key] = float(1 - r @ r / np.sum((y - y.mean()) ** 2))
                    out["cells"].append({"dataset": key, "penalty": pen, "unit": unit,
                                         **_cv_record(cv, spec["coefs"], scale)})
                if key == "credit":
                    en = rs.cv_elastic_net(spec["formula"], data, seed=1, folds=10)
                    by = en.by_l1_ratio
                    out["cvenet"].append({"dataset": key, "unit": unit, "l1_ratio": float(en.l1_ratio_min),
                                          "l1_ratios": [float(x) for x in by["l1_ratio"]],
                                          "cv_min": [float(x) * scale**2 for x in by["cv_min"]],
                                          **_cv_record(en.cv, spec["coefs"], scale)})
            # cv.glmnet's selection on the same lambdas and fold ids (units as given)
            foldid = pd.read_csv(FIXTURES / f"{key}_foldid.csv")["foldid"].to_numpy()
            for pen, a in PENALTIES.items():
                fx = json.loads((FIXTURES / f"{key}_a{a:g}.json").read_text())
                path = rs.elastic_net(spec["formula"], raw, l1_ratio=a, lambdas=fx["lambda"])
                cv = path.cv(foldid=foldid)
                assert np.allclose(cv.lambdas, fx["lambda"], rtol=1e-14, atol=0)
                rel = np.max(np.abs(cv.table["cv_mean"].to_numpy() / np.asarray(fx["cvm"]) - 1))
                out["glmnet"].append({"dataset": key, "penalty": pen, "cvm_max_rel_diff": float(rel),
                                      "glmnet": {"lambda_min": fx["lambda_min"], "lambda_1se": fx["lambda_1se"],
                                                 "index_min": fx["index_min"] - 1,
                                                 "index_1se": fx["index_1se"] - 1},
                                      **_cv_record(cv, spec["coefs"], 1.0)})
    out["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return out


def run_worker(label: str, pythonpath: Path, expect: Path, cache_dir: str) -> dict:
    """Run ``measure`` in a fresh interpreter that imports regstats from ``pythonpath``."""
    env = dict(os.environ, PYTHONPATH=str(pythonpath), NUMBA_CACHE_DIR=cache_dir)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker"], env=env,
                          cwd=cache_dir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{label} worker failed:\n{proc.stderr}")
    res = json.loads(proc.stdout)
    got = Path(res["regstats_file"]).resolve()
    if expect.resolve() not in got.parents:
        raise RuntimeError(f"{label} worker imported {got}, expected a file under {expect}")
    res["seconds"] = time.perf_counter() - t0
    print(f"{label}: {res['seconds']:.0f} s ({got})", file=sys.stderr)
    return res


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


# ------------------------------------------------------------------------------------------------
# the report
# ------------------------------------------------------------------------------------------------
def _pos(i: int, n: int) -> str:
    return f"{i + 1}/{n}" + (" (last)" if i == n - 1 else "")


def _row(rec: dict, coefs: list[str]) -> dict:
    n = rec["n_lambda"]
    row = {"min at": _pos(rec["index_min"], n), "1se at": _pos(rec["index_1se"], n),
           "lambda_min": rec["lambda_min"], "lambda_1se": rec["lambda_1se"],
           "R² at min": rec["r2_min"], "R² at 1se": rec["r2_1se"], "nonzero at 1se": rec["nonzero_1se"]}
    row.update({f"{c} at 1se": rec["coef_1se"][c] for c in coefs})
    return row


def dataset_table(key: str, runs: dict) -> pd.DataFrame:
    spec = DATASETS[key]
    rows = []
    for pen in PENALTIES:
        for version, res in runs.items():
            for unit in (0, 1):
                rec = next(c for c in res["cells"]
                           if c["dataset"] == key and c["penalty"] == pen and c["unit"] == unit)
                rows.append({"penalty": pen, "version": version, "y": spec["units"][unit],
                             **_row(rec, spec["coefs"])})
    return pd.DataFrame(rows)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _get(res: dict, key: str, pen: str, unit: int) -> dict:
    return next(c for c in res["cells"] if c["dataset"] == key and c["penalty"] == pen and c["unit"] == unit)


def _unit_effect(res: dict) -> dict:
    """Across the four (dataset, penalty) pairs, y as given vs y / 1000: in how many pairs the
    selected grid positions differ, the largest factor between lambda_min (and lambda_1se) times
    1000 and the original's, the largest factor between the original-unit coefficients at
    lambda_1se, and the coefficients that change sign."""
    out = {"pairs": 0, "moved": 0, "lam": 1.0, "coef": 1.0, "flips": []}
    for key in DATASETS:
        for pen in PENALTIES:
            a, b = _get(res, key, pen, 0), _get(res, key, pen, 1)
            out["pairs"] += 1
            out["moved"] += a["index_min"] != b["index_min"] or a["index_1se"] != b["index_1se"]
            for k in ("lambda_min", "lambda_1se"):
                r = b[k] * SCALE / a[k]
                out["lam"] = max(out["lam"], r, 1 / r)
            for c, v in a["coef_1se"].items():
                w = b["coef_1se"][c]
                if v * w < 0:
                    out["flips"].append(f"{c} on {DATASETS[key]['title']} {pen}")
                elif v != 0 and w != 0:
                    out["coef"] = max(out["coef"], abs(w / v), abs(v / w))
    return out


def _rel_dev(res: dict) -> tuple[float, float]:
    """Largest relative deviation of lambda*1000 / lambda and of the coefficient pairs from 1."""
    lam_d, coef_d = 0.0, 0.0
    for key in DATASETS:
        for pen in PENALTIES:
            a, b = _get(res, key, pen, 0), _get(res, key, pen, 1)
            for k in ("lambda_min", "lambda_1se"):
                lam_d = max(lam_d, abs(b[k] * SCALE / a[k] - 1))
            for c, v in a["coef_1se"].items():
                coef_d = max(coef_d, abs(b["coef_1se"][c] - v) / abs(v))
    return lam_d, coef_d


def _y_scale(key: str) -> float:
    """glmnet's ys (the sd of y, divisor n, over the rows used), from the R fixture."""
    return float(json.loads((FIXTURES / f"{key}_a0.json").read_text())["y_scale"])


def shows(runs: dict) -> str:
    old, new = runs["before"], runs["after"]
    get = {(v, key, pen, u): _get(r, key, pen, u)
           for v, r in runs.items() for key in DATASETS for pen in PENALTIES for u in (0, 1)}

    def where(i: int, n: int) -> str:
        return "the last grid point" if i == n - 1 else f"{i + 1}/{n}"

    def at(r: dict) -> str:
        n = r["n_lambda"]
        return (f"lambda_min at {where(r['index_min'], n)} (R² {r['r2_min']:.3f}), lambda_1se at "
                f"{where(r['index_1se'], n)} (R² {r['r2_1se']:.3f})")

    def cf(r: dict, key: str) -> str:
        return "/".join(_fmt(r["coef_1se"][c]) for c in DATASETS[key]["coefs"])

    sh, sc = _y_scale("hitters"), _y_scale("credit")
    hr0, hr1 = get[("before", "hitters", "ridge", 0)], get[("before", "hitters", "ridge", 1)]
    he0, he1 = get[("before", "hitters", "elastic net", 0)], get[("before", "hitters", "elastic net", 1)]
    cr0, cr1 = get[("before", "credit", "ridge", 0)], get[("before", "credit", "ridge", 1)]
    ce0, ce1 = get[("before", "credit", "elastic net", 0)], get[("before", "credit", "elastic net", 1)]
    ar = get[("after", "hitters", "ridge", 0)]
    ae = get[("after", "hitters", "elastic net", 0)]
    acr = get[("after", "credit", "ridge", 0)]
    ace = get[("after", "credit", "elastic net", 0)]
    eff_o, eff_n = _unit_effect(old), _unit_effect(new)
    same_grid = all(np.isclose(get[("before",) + k][e], get[("after",) + k][e], rtol=1e-10, atol=0)
                    for k in [(key, pen, u) for key in DATASETS for pen in PENALTIES for u in (0, 1)]
                    for e in ("lambda_first", "lambda_last"))
    lam_d, coef_d = _rel_dev(new)
    parts = []
    parts.append(
        f"**Why the old answers moved.** At a given `lam` the old ridge term `lam (1-a)/2 b^2` is "
        f"s_y times glmnet's `lam (1-a)/(2 s_y) b^2`. s_y is {sh:.1f} for Salary in $1000s and "
        f"{sh / SCALE:.3f} in millions, {sc:.1f} for Balance in $ and {sc / SCALE:.3f} in $1000s. "
        + ("The default grid is the same in both versions and scales with y (it is set by the lasso "
           "part), so " if same_grid else "The default grids differ between the versions; ")
        + f"before, y in its original units put a ridge penalty {sh:.0f} (Hitters) or {sc:.0f} "
        f"(Credit) times glmnet's on every lambda of the grid, and y / 1000 {sh / SCALE:.2f} or "
        f"{sc / SCALE:.2f} times.")
    parts.append(
        f"**Before: ridge.** Hitters, Salary in $1000s: {at(hr0)}. Even the last, smallest lambda "
        f"leaves R² at {hr0['r2_min']:.3f} (least squares: {new['ols_r2']['hitters']:.3f}), so CV picks "
        f"the end of the grid, and the 1se fit's Hits/Walks/CRBI are {cf(hr0, 'hitters')} "
        f"($1000s per hit, walk, career RBI). "
        f"Salary in millions: {at(hr1)}, coefficients {cf(hr1, 'hitters')} (per $1000). Credit, Balance "
        f"in $: {at(cr0)}, least squares {new['ols_r2']['credit']:.3f}; in $1000s: {at(cr1)}; "
        f"Income/Limit/Student at 1se {cf(cr0, 'credit')} vs {cf(cr1, 'credit')}.")
    parts.append(
        f"**Before: elastic net.** With y in its original units the ridge part dominates: Hitters has "
        f"{at(he0)}, {he0['nonzero_1se']} nonzero at 1se, coefficients {cf(he0, 'hitters')}, "
        f"practically the ridge fit of the new code; in millions {at(he1)}, {he1['nonzero_1se']} "
        f"nonzero, {cf(he1, 'hitters')}. Credit: {ce0['nonzero_1se']} nonzero at 1se (lambda_1se at "
        f"{_pos(ce0['index_1se'], 100)}) in $ vs {ce1['nonzero_1se']} ({_pos(ce1['index_1se'], 100)}) "
        f"in $1000s. Over the four (dataset, penalty) pairs, dividing y by 1000 moved the selected "
        f"positions in {eff_o['moved']} of {eff_o['pairs']}, changed lambda (times 1000) by up to a "
        f"factor {eff_o['lam']:.0f} and coefficients by up to a factor {eff_o['coef']:.0f}"
        + (f", and flipped the sign of {', '.join(eff_o['flips'])}" if eff_o["flips"] else "") + ".")
    parts.append(
        f"**After: the units do not matter.** Hitters ridge: {at(ar)}, coefficients "
        f"{cf(ar, 'hitters')}; Hitters elastic net: {at(ae)}, {ae['nonzero_1se']} nonzero, "
        f"{cf(ae, 'hitters')}; Credit ridge: {at(acr)}; Credit elastic net: {at(ace)}, "
        f"{ace['nonzero_1se']} nonzero. Each is the same in both units: selected positions moved in "
        f"{eff_n['moved']} of {eff_n['pairs']} pairs, lambdas scale by 1000 to a relative "
        f"{lam_d:.0e} and the coefficients at lambda_1se agree to a relative {coef_d:.0e}. The new "
        f"ridge fits are closer to the old y / 1000 ones (ridge term {sh / SCALE:.2f} times glmnet's) "
        f"than to the old original-unit ones ({sh:.0f} times). "
        + (f"Ridge's lambda_min is still the last grid point on both datasets: the CV curve is still "
           f"falling at the end of the default ridge grid (glmnet's, down to 1e-4 of its lambda_max), "
           f"and cv.glmnet picks its last point too (last section); lambda_1se is at {_pos(ar['index_1se'], 100)} "
           f"on Hitters and {_pos(acr['index_1se'], 100)} on Credit."
           if ar["index_min"] == ar["n_lambda"] - 1 and acr["index_min"] == acr["n_lambda"] - 1 else ""))
    cv_old, cv_new = old["cvenet"], new["cvenet"]
    parts.append(
        f"**`rs.cv_elastic_net` on Credit** chose l1_ratio {cv_old[0]['l1_ratio']:g} with Balance in $ "
        f"and {cv_old[1]['l1_ratio']:g} in $1000s before (in $ the small l1_ratios were heavily "
        f"over-penalized: minimum CV MSE {cv_old[0]['cv_min'][0]:.0f} at 0.1 against "
        f"{min(cv_old[0]['cv_min']):.0f} at {cv_old[0]['l1_ratio']:g}); after it chooses {cv_new[0]['l1_ratio']:g} in both units. "
        f"The new choice is a near tie (minimum CV MSE {min(cv_new[0]['cv_min']):.0f} at "
        f"{cv_new[0]['l1_ratio']:g} against {cv_new[0]['cv_min'][-1]:.0f} for the lasso), but the same "
        f"tie in both units.")
    g_ok = all(r["index_min"] == r["glmnet"]["index_min"] and r["index_1se"] == r["glmnet"]["index_1se"]
               for r in new["glmnet"])
    g_old = sum(r["index_min"] == r["glmnet"]["index_min"] and r["index_1se"] == r["glmnet"]["index_1se"]
                for r in old["glmnet"])
    parts.append(
        f"**Against cv.glmnet** (last section): with the fixture's lambdas and fold ids the new code "
        f"{'selects the same lambda_min and lambda_1se as cv.glmnet in all four cases' if g_ok else 'does NOT always select what cv.glmnet selects'}"
        f", its CV curve within a relative "
        f"{max(r['cvm_max_rel_diff'] for r in new['glmnet']):.0e} of `cvm`; the old code matched "
        f"{g_old} of 4, its curves off by up to a factor "
        f"{1 + max(r['cvm_max_rel_diff'] for r in old['glmnet']):.0f}.")
    return "\n\n".join(parts)


def cvenet_table(runs: dict) -> pd.DataFrame:
    rows = []
    for version, res in runs.items():
        for r in res["cvenet"]:
            n = r["n_lambda"]
            best = {a: f"{m:.5g}" for a, m in zip(r["l1_ratios"], r["cv_min"])}
            rows.append({"version": version, "y": DATASETS["credit"]["units"][r["unit"]],
                         "chosen l1_ratio": f"{r['l1_ratio']:g}", "lambda_min": r["lambda_min"],
                         "lambda_1se": r["lambda_1se"], "1se at": _pos(r["index_1se"], n),
                         "R² at 1se": r["r2_1se"], "nonzero at 1se": r["nonzero_1se"],
                         "min CV MSE by l1_ratio ($²)": ", ".join(f"{a:g}: {m}" for a, m in best.items())})
    return pd.DataFrame(rows)


def glmnet_table(runs: dict) -> pd.DataFrame:
    rows = []
    for key in DATASETS:
        for pen in PENALTIES:
            g = next(r for r in runs["after"]["glmnet"] if r["dataset"] == key and r["penalty"] == pen)
            n = g["n_lambda"]
            gl = g["glmnet"]
            rows.append({"dataset": DATASETS[key]["title"], "penalty": pen, "source": "cv.glmnet (R fixture)",
                         "min at": _pos(gl["index_min"], n), "1se at": _pos(gl["index_1se"], n),
                         "lambda_min": gl["lambda_min"], "lambda_1se": gl["lambda_1se"],
                         "max rel. diff of cv_mean from cvm": "-"})
            for version, res in runs.items():
                r = next(x for x in res["glmnet"] if x["dataset"] == key and x["penalty"] == pen)
                rows.append({"dataset": DATASETS[key]["title"], "penalty": pen,
                             "source": f"{version}, foldid = the fixture's",
                             "min at": _pos(r["index_min"], n), "1se at": _pos(r["index_1se"], n),
                             "lambda_min": r["lambda_min"], "lambda_1se": r["lambda_1se"],
                             "max rel. diff of cv_mean from cvm": f"{r['cvm_max_rel_diff']:.1e}"})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(ROOT / "reports" / "units.md"))
    args = ap.parse_args()
    if args.worker:
        json.dump(measure(), sys.stdout)
        return

    t0 = time.perf_counter()
    head = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--", "regstats")
    old_full = git("rev-parse", OLD_COMMIT)
    if OLD_TREE.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(OLD_TREE)], check=True)
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(OLD_TREE), OLD_COMMIT],
                   check=True, capture_output=True)
    try:
        runs = {}
        with tempfile.TemporaryDirectory(prefix="units_numba_old_") as cache_old:
            runs["before"] = run_worker("before", OLD_TREE, OLD_TREE, cache_old)
        with tempfile.TemporaryDirectory(prefix="units_numba_new_") as cache_new:
            runs["after"] = run_worker("after", ROOT, ROOT / "regstats", cache_new)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(OLD_TREE)], check=True)
    elapsed = time.perf_counter() - t0

    tables = []
    for key, spec in DATASETS.items():
        raw = pd.read_csv(DATA / f"{key}.csv")
        n_used = int(raw[spec["response"]].notna().sum())
        tables.append(f"### {spec['title']}: `{spec['formula']}` ({n_used} rows used)\n\n"
                      + md_table(dataset_table(key, runs), ".4g"))
    warn = {v: r["warnings"] for v, r in runs.items()}
    warn_text = "; ".join(f"{v}: {'; '.join(w)}" for v, w in warn.items() if w) or "none"
    after_label = f"{head}" + (" plus uncommitted changes under regstats/" if dirty else "")

    text = f"""# Units of y: ridge and elastic net before and after the s_y convention

Generated by `python scripts/units_before_after.py` ({elapsed:.0f} s, Python
{platform.python_version()}, numpy {np.__version__}, regstats {runs['after']['version']}).
"Before" is commit {OLD_COMMIT} (run from a temporary git worktree), "after" is {after_label}.

**What changed.** Before, the ridge part of the penalty was `lam (1-a)/2 b^2`, fixed in the units
of the coefficients, so for ridge and the elastic net the meaning of `lam`, the chosen lambda and
the coefficients depended on the units of y.  After, it is `lam (1-a)/(2 s_y) b^2` with `s_y` the
(weighted) sd of y over the rows fitted (each CV fold its own), which is glmnet's convention: `lam`
is glmnet's lambda for every l1_ratio, and multiplying y by c multiplies the coefficients and
the lambdas by c and changes no choice.  The lasso (`a = 1`) is unaffected.

**What is run.** ISLR's Hitters (`Salary ~ .`, Salary in thousands of dollars) and Credit
(`Balance ~ . - ID`, Balance in dollars), from the CSVs bundled in `regstats/datasets/`; each with
y as given and y / 1000.  For ridge (`rs.ridge`) and elastic net (`rs.elastic_net(...,
l1_ratio=0.5)`): the default 100-lambda path and `path.cv(folds=10, seed=1)` (the same folds in
every run).  "min at" / "1se at" are the positions of lambda_min and lambda_1se on the grid,
counted from 1 as glmnet prints them (1 = the largest lambda); lambdas are in the units of the y
fitted; R² is the full-data fit's fraction of the deviance explained at lambda_min
(`cv.at("min").r2`) and lambda_1se (`cv.best.r2`); coefficients are at lambda_1se, in the original
units of y (the y / 1000 fit's multiplied by 1000), so equal numbers in a pair of rows mean the
same model.

## Results

{chr(10).join(t + chr(10) for t in tables)}
### `rs.cv_elastic_net` on Credit

Default l1_ratios (0.1, 0.5, 0.7, 0.9, 0.95, 0.99, 1), `folds=10, seed=1`; the l1_ratio with the
smallest CV error wins.  The last column is each l1_ratio's minimum CV mean squared error, converted to
dollars² for the y / 1000 rows.

{md_table(cvenet_table(runs), ".4g")}

## What it shows

{shows(runs)}

## Against cv.glmnet

The R fixtures `tests/fixtures/glmnet/{{hitters,credit}}_a{{0,0.5}}.json` hold cv.glmnet's selection
(glmnet 4.1-6, `thresh = 1e-14`) on the same designs with the fold ids in
`tests/fixtures/glmnet/<dataset>_foldid.csv`.  Here each version fits the path on the fixture's
`lambda` (`lambdas=`) and cross-validates with `path.cv(foldid=<that array>)`, y as given; the last
column compares the whole CV curve with glmnet's `cvm`.

{md_table(glmnet_table(runs), ".6g")}

Warnings raised during the runs: {warn_text}.
"""
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(text)
    print(f"wrote {args.out} ({elapsed:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
