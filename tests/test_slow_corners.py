"""Issue 15's slow corners: lambdas far below the last knot, long user grids, p > n below the last
knot, and the first-task clock of the progress bar.  Oracles: the KKT conditions, LARS (scikit-learn's
``lars_path``) and the iteration counts (no wall-clock assertions)."""
from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats import engine
from regstats._parallel import Progress


def _kkt_lasso(prep, beta, lam):
    """Largest KKT violation over lam on the prepared scale (lasso)."""
    r = prep.y - prep.X @ beta
    q = prep.X.T @ r / prep.n
    zero = beta == 0
    out = 0.0
    if zero.any():
        out = max(out, float(np.max(np.abs(q[zero]))) - lam)
    if (~zero).any():
        out = max(out, float(np.max(np.abs(q[~zero] - lam * np.sign(beta[~zero])))))
    return out / lam


def _noise_free(rank=None, seed=0):
    rng = np.random.default_rng(seed)
    n, p = 300, 100
    X = rng.standard_normal((n, p)) if rank is None else rng.standard_normal((n, rank)) @ rng.standard_normal((rank, p))
    b = np.zeros(p)
    b[:5] = [3.0, -2.0, 1.5, 1.0, -1.0]
    return X, X @ b


@pytest.mark.parametrize("rank", [None, 10])
@pytest.mark.parametrize("lam", [1e-6, 1e-9])
def test_far_below_last_knot_noise_free(rank, lam):
    # issue 15 item 2: a cold start at a tiny lambda used every sweep of max_iter (or stopped on a
    # dense, inexact point); walked by stepping stones it ends on an exact active-set solution
    X, y = _noise_free(rank)
    prep = engine.prepare(X, y)
    sol = engine.solve(prep, 1.0, np.array([lam]))           # default tol: the gap contract
    assert sol.converged.all() and sol.gaps[0] <= 1e-7 * prep.yy
    assert sol.sweeps[0] < 1000
    sol = engine.solve(prep, 1.0, np.array([lam]), tol=1e-12)  # an exact path asked for
    assert sol.converged.all() and sol.sweeps[0] < 1000
    beta = sol.beta[0]
    assert _kkt_lasso(prep, beta, lam) < 1e-4
    assert np.count_nonzero(beta) <= (10 if rank else 100)
    if rank is None:
        assert np.count_nonzero(beta) == 5


def test_stepping_stones_grid():
    X, y = _noise_free()
    prep = engine.prepare(X, y)
    lmax = engine.lambda_max(prep, 1.0)
    lams = np.array([0.5 * lmax, 1e-3 * lmax])
    grid, pick, deep = engine._stepping_stones(prep, 1.0, lams, None)
    assert np.allclose(grid[pick], lams) and not deep
    steps = grid[1:] / grid[:-1]
    assert np.all(steps < 1) and np.all(steps >= engine._STONE_STEP * (1 - 1e-12))
    # a close grid gets no stones, a warm start none before its first lambda
    g2, p2, _ = engine._stepping_stones(prep, 1.0, lmax * np.geomspace(1, 0.5, 10), None)
    assert g2.size == 10 and np.array_equal(p2, np.arange(10))
    g3, _, _ = engine._stepping_stones(prep, 1.0, np.array([1e-3 * lmax]), np.ones(100))
    assert g3.size == 1
    # the answer at the asked lambdas equals a path solved on the walked grid itself
    a = engine.solve(prep, 1.0, lams, tol=1e-12)
    b = engine.solve(prep, 1.0, grid, tol=1e-12)
    assert np.allclose(a.beta, b.beta[pick], atol=1e-10)


def test_p_above_n_below_last_knot():
    # issue 15 item 4: 70 x 100, lambdas=[1e-6] stopped with a KKT violation of 0.5 lambda and
    # 97 nonzeros; a lasso solution has at most n - 1 (with an intercept) in general position
    rng = np.random.default_rng(0)
    X = rng.standard_normal((70, 100))
    y = rng.standard_normal(70)
    prep = engine.prepare(X, y)
    for lam in (1e-6, 1e-9):
        sol = engine.solve(prep, 1.0, np.array([lam]))
        assert sol.converged.all()
        assert np.count_nonzero(sol.beta[0]) <= 69
        assert _kkt_lasso(prep, sol.beta[0], lam) < 1e-3


def _ill_conditioned():
    # scikit-learn's test_lasso_lars_vs_lasso_cd_ill_conditioned problem
    from sklearn import linear_model

    rng = np.random.RandomState(42)
    n, m, k = 70, 100, 5
    X = rng.randn(n, m)
    w = np.zeros((m, 1))
    i = np.arange(0, m)
    rng.shuffle(i)
    w[i[:k]] = np.sign(rng.randn(k, 1)) * (rng.rand(k, 1) + 1)
    y = (X @ w + 0.2 * rng.rand(n, 1)).squeeze()
    alphas, _, coef = linear_model.lars_path(X, y, method="lasso")
    return X, y, alphas, coef


def test_long_user_grid_matches_lars():
    # issue 15 item 3: the 109 LARS knots at tol=1e-12 (18.6 s before; a fraction of a second now)
    X, y, alphas, coef = _ill_conditioned()
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    df["y"] = y
    path = rs.lasso("y ~ . - 1", df, standardize=False, lambdas=alphas, tol=1e-12)
    assert path.converged.all()
    assert np.abs(path.coef.to_numpy() - coef.T).max() < 1e-6


def test_progress_clock_restarts_after_first_task():
    # issue 15 item 1 / issue 17 item 6: the time left must not count the first task (numba
    # compiling or loading its kernels); the bar is tqdm's
    buf = io.StringIO()
    bar = Progress(4, desc="demo", enabled=True, stream=buf)
    t0 = bar._bar.start_t
    time.sleep(0.3)           # a slow first task
    bar.update()
    assert bar._bar.initial == 1 and bar._bar.start_t == t0
    assert bar._bar.format_dict["rate"] is None     # no rate yet: the first task does not count
    bar.update(3)
    assert bar._bar is None and "demo" in buf.getvalue() and "4/4" in buf.getvalue()


def test_first_run_compiles_each_kernel_once():
    # issue 15 item 1: the README's main job compiled the whole wide-path machinery again for the
    # bootstrap (the fixed-lambda refit went through the active-set Newton path) and six kernels
    # twice (a literal 0 argument is its own numba specialization).  In a fresh process: a fit, CV
    # and a bootstrap load only the Gram path's and the warm refit's kernels, one signature each.
    import subprocess
    import sys
    from pathlib import Path

    code = r"""
import numba, regstats as rs
from regstats.solver import cd, factor, standardize
d = rs.load_dataset("prostate")
p = rs.lasso("lpsa ~ . - train", d)
p.cv(folds=5, seed=1)
p.at(p.lambdas[30]).bootstrap(n_boot=5, seed=1)
used = {}
for mod in (cd, factor, standardize):
    for name in dir(mod):
        f = getattr(mod, name)
        if isinstance(f, numba.core.registry.CPUDispatcher) and f.signatures:
            used[mod.__name__.rsplit(".", 1)[1] + "." + name] = len(f.signatures)
print(sorted(used.items()))
"""
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(root)})
    used = dict(eval(out.stdout.strip().splitlines()[-1]))
    assert "cd.cd_path_gram" in used and "cd.cd_naive" in used
    assert all(k == 1 for k in used.values()), used
    assert not any(name.startswith(("factor.", "standardize.")) for name in used), used
