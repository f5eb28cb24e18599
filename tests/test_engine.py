"""Array-level engine: prepare (centre, scale, weight), lambda grid, solve."""
from __future__ import annotations

import numpy as np
import pytest

from regstats import engine


def _data(rng, n=200, p=6):
    X = rng.standard_normal((n, p)) * np.arange(1, p + 1) + 10.0 * np.arange(p)
    y = X @ rng.standard_normal(p) + rng.standard_normal(n) + 5.0
    return X, y


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(200, 6), (20, 600)])
def test_prepare_centres_scales_and_weights(rng, weighted, shape):
    X, y = _data(rng, *shape)
    n, p = X.shape
    w = rng.uniform(0.1, 3.0, n) if weighted else None
    prep = engine.prepare(X, y, weights=w)
    W = np.ones(n) if w is None else w * n / w.sum()
    m = W @ X / n
    s = np.sqrt(W @ (X - m) ** 2 / n)
    np.testing.assert_allclose(prep.x_mean, m, rtol=1e-12)
    np.testing.assert_allclose(prep.x_scale, s, rtol=1e-10)
    Xt = np.sqrt(W)[:, None] * (X - m) / s
    np.testing.assert_allclose(prep.X, Xt, atol=1e-10)
    np.testing.assert_allclose(prep.y, np.sqrt(W) * (y - W @ y / n), atol=1e-10)
    G, c = prep.gram
    np.testing.assert_allclose(G, Xt.T @ Xt / n, atol=1e-10)
    np.testing.assert_allclose(c, Xt.T @ prep.y / n, atol=1e-10)
    assert prep.raw is X or np.shares_memory(prep.raw, X)  # the design is not copied


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("intercept, standardize", [(True, True), (False, True), (True, False)])
def test_wide_prepare_reads_rows_in_place_and_matches_the_general_path(rng, weighted, intercept,
                                                                      standardize):
    # wide Fortran-ordered designs are prepared column by column from the selected rows (a CV
    # fold, a bootstrap sample with repeats) without copying them; the result must equal the
    # general path on the copied rows
    X, y = _data(rng, 60, 700)  # p > 500: the residual solver's preparation
    X[:, 7] = 3.5  # constant
    X = np.asfortranarray(X)
    rows = np.sort(rng.choice(60, 45, replace=True))
    w = rng.uniform(0.1, 3.0, 45) if weighted else None
    kw = dict(weights=w, intercept=intercept, standardize=standardize)
    wide = engine.prepare(X, y[rows], rows=rows, **kw)
    ref = engine.prepare(np.ascontiguousarray(X[rows]), y[rows], **kw)  # C order: general path
    assert wide.rows is not None and "X" in wide.__dict__ and wide.raw is X
    assert ref.rows is None and wide.n == ref.n == 45
    big = np.abs(X).max()  # centring cancels digits of the column's size (up to 7000 here)
    for name in ("x_mean", "x_scale", "y", "X"):
        np.testing.assert_allclose(getattr(wide, name), getattr(ref, name), rtol=1e-12, atol=1e-15 * big)
    np.testing.assert_array_equal(wide.constant, ref.constant)
    if intercept:  # without an intercept a constant column is an ordinary predictor
        assert wide.constant[7] and np.all(wide.X[:, 7] == 0)
    np.testing.assert_allclose(wide.raw_rows, X[rows])
    # the same pass computes what the residual solver needs first: x_j'x_j/n, X'y/n, X in 16 bits
    extra = wide.__dict__["wide"]
    Xw = wide.X
    np.testing.assert_allclose(extra.xx, np.einsum("ij,ij->j", Xw, Xw) / 45, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(extra.c, Xw.T @ wide.y / 45, rtol=1e-12, atol=1e-14 * np.abs(wide.y).max())
    codes, scale16, err16 = extra.compact
    assert codes.dtype == np.int16 and codes.flags.f_contiguous
    assert np.all(np.linalg.norm(Xw - codes * scale16, axis=0) <= err16)
    np.testing.assert_allclose(err16, np.linalg.norm(Xw - codes * scale16, axis=0), rtol=1e-3, atol=1e-14)
    np.testing.assert_array_equal(wide.xt_dot(wide.y), extra.c)
    # a one-lambda refit asks for no 16-bit copy (only a path's gradient passes use it)
    lean = engine.prepare(X, y[rows], rows=rows, compact=False, **kw)
    assert lean.__dict__["wide"].compact is None
    np.testing.assert_array_equal(lean.X, wide.X)


def test_prepare_no_standardize_no_intercept(rng):
    X, y = _data(rng)
    prep = engine.prepare(X, y, standardize=False, intercept=False)
    np.testing.assert_array_equal(prep.x_scale, 1.0)
    np.testing.assert_array_equal(prep.x_mean, 0.0)
    np.testing.assert_allclose(prep.X, X)
    assert prep.y_mean == 0.0


def test_constant_columns_flagged(rng):
    X, y = _data(rng)
    X[:, 2] = 7.25
    prep = engine.prepare(X, y)
    assert prep.constant.tolist() == [False, False, True, False, False, False]
    assert np.all(prep.X[:, 2] == 0)
    sol = engine.solve(prep, 1.0, engine.lambda_grid(prep, 1.0, 10))
    assert np.all(sol.coef[:, 2] == 0) and np.all(np.isfinite(sol.coef))


def test_penalty_factors_rescaled_to_p(rng):
    X, y = _data(rng)
    prep = engine.prepare(X, y, penalty_factor=[0, 1, 1, 2, 1, 1])
    assert prep.v.sum() == pytest.approx(6)
    assert prep.v[0] == 0


@pytest.mark.parametrize("a", [1.0, 0.5, 0.0])
def test_lambda_max_is_the_smallest_all_zero_lambda(rng, a):
    X, y = _data(rng, 100, 8)
    w = rng.uniform(0.5, 2, 100)
    prep = engine.prepare(X, y, weights=w, penalty_factor=[0, 1, 1, 1, 2, 1, 1, 0.5])
    lmax = engine.lambda_max(prep, a)
    r = prep.y - prep.X[:, [0]] @ np.linalg.lstsq(prep.X[:, [0]], prep.y, rcond=None)[0]
    expect = np.max(np.abs(prep.X[:, 1:].T @ r / 100) / (max(a, 1e-3) * prep.v[1:]))
    assert lmax == pytest.approx(expect, rel=1e-12)
    if a > 0:
        sol = engine.solve(prep, a, np.array([lmax, lmax * (1 - 1e-4)]), tol=1e-13)
        assert np.all(sol.beta[0, 1:] == 0) and sol.beta[0, 0] != 0
        assert np.count_nonzero(sol.beta[1, 1:]) >= 1


def test_grid_is_log_spaced_from_lambda_max(rng):
    X, y = _data(rng)
    prep = engine.prepare(X, y)
    g = engine.lambda_grid(prep, 1.0, 50, 1e-3)
    assert g[0] == pytest.approx(engine.lambda_max(prep, 1.0))
    np.testing.assert_allclose(np.diff(np.log(g)), np.log(1e-3) / 49, rtol=1e-12)
    assert engine.lambda_grid(prep, 1.0, 1).shape == (1,)


def test_solution_original_scale_and_r2(rng):
    X, y = _data(rng)
    prep = engine.prepare(X, y)
    lams = engine.lambda_grid(prep, 0.5, 20)
    sol = engine.solve(prep, 0.5, lams, tol=1e-12)
    np.testing.assert_allclose(sol.coef, sol.beta / prep.x_scale)
    fitted = sol.intercept[:, None] + sol.coef @ X.T
    rss = ((y[None, :] - fitted) ** 2).mean(axis=1)
    np.testing.assert_allclose(sol.rss, rss, rtol=1e-9)
    np.testing.assert_allclose(sol.r2, 1 - rss / y.var(), rtol=1e-9)
    assert sol.method == "gram" and sol.converged.all()


def test_methods_agree_and_ridge_svd_paths(rng):
    X, y = _data(rng, 300, 10)
    prep = engine.prepare(X, y)
    lams = engine.lambda_grid(prep, 0.0, 10)
    svd = engine.solve(prep, 0.0, lams)
    assert svd.method == "svd"
    cd = engine.solve(prep, 0.0, lams, method="gram", tol=1e-14)
    np.testing.assert_allclose(svd.beta, cd.beta, atol=1e-8)
    np.testing.assert_allclose(svd.rss, cd.rss, rtol=1e-9)
    wide = engine.prepare(*_data(rng, 30, 200))
    lw = engine.lambda_grid(wide, 0.0, 5)
    a_ = engine.solve(wide, 0.0, lw)
    b_ = engine.solve(wide, 0.0, lw, method="naive", tol=1e-14)
    np.testing.assert_allclose(a_.beta, b_.beta, atol=1e-7)


def test_warm_start_beta0_gives_same_answer(rng):
    X, y = _data(rng, 60, 80)
    prep = engine.prepare(X, y)
    lams = engine.lambda_grid(prep, 1.0, 20)
    full = engine.solve(prep, 1.0, lams, tol=1e-12)
    one = engine.solve(prep, 1.0, lams[10:11], tol=1e-12, beta0=full.beta[9])
    np.testing.assert_allclose(one.beta[0], full.beta[10], atol=1e-8)


def test_choose_method():
    class P:
        def __init__(self, n, p):
            self.n, self.p = n, p
            self.v = np.ones(p)
            self.constant = np.zeros(p, bool)
    assert engine.choose_method(P(1000, 50), 1.0) == "gram"
    assert engine.choose_method(P(100, 5000), 1.0) == "naive"
    assert engine.choose_method(P(100, 50), 0.0) == "svd"


@pytest.mark.parametrize("shape", [(400, 8), (40, 8)])
def test_ridge_svd_with_constant_column_of_another_penalty_factor(rng, shape):
    # a constant column with penalty factor 5: the others rescale to v0 = p / (p - 1 + 5) != 1,
    # and the closed forms must solve the objective at lam * v0 (checked against CD and a
    # direct solve of the normal equations)
    n, p = shape
    X, y = _data(rng, n, p)
    X[:, 3] = 2.0
    pf = np.ones(p)
    pf[3] = 5.0
    with np.errstate(all="ignore"):
        prep = engine.prepare(X, y, penalty_factor=pf)
    v0 = prep.v[0]
    assert abs(v0 - 1.0) > 0.1
    lams = engine.lambda_grid(prep, 0.0, 6)
    svd = engine.solve(prep, 0.0, lams)
    assert svd.method == "svd"
    cd = engine.solve(prep, 0.0, lams, method="gram", tol=1e-14)
    keep = ~prep.constant
    Xk = prep.X[:, keep]
    for k, lam in enumerate(lams):
        b = np.linalg.solve(Xk.T @ Xk / n + lam / prep.y_scale * v0 * np.eye(keep.sum()), Xk.T @ prep.y / n)
        np.testing.assert_allclose(svd.beta[k, keep], b, rtol=1e-8, atol=1e-10)
        rss = np.sum((prep.y - Xk @ b) ** 2) / n
        np.testing.assert_allclose(svd.rss[k], rss, rtol=1e-9)
    np.testing.assert_allclose(svd.beta, cd.beta, atol=1e-8)
    assert np.all(svd.beta[:, 3] == 0.0)


def test_ridge_with_unpenalized_column_converges_without_warning(rng):
    import warnings

    import regstats as rs
    from regstats.errors import ConvergenceWarning

    X, y = _data(rng, 120, 6)
    pf = np.ones(6)
    pf[0] = 0.0
    prep = engine.prepare(X, y, penalty_factor=pf)
    lams = engine.lambda_grid(prep, 0.0, 20)
    sol = engine.solve(prep, 0.0, lams)
    assert sol.method == "gram" and sol.converged.all()
    tight = engine.solve(prep, 0.0, lams, tol=1e-11)
    Xk = prep.X
    for k, lam in enumerate(lams[::5]):
        b = np.linalg.solve(Xk.T @ Xk / 120 + lam / prep.y_scale * np.diag(prep.v), Xk.T @ prep.y / 120)
        # the default tol bounds the duality gap (1e-7 of the null deviance), not the coefficients
        np.testing.assert_allclose(sol.beta[5 * k], b, rtol=1e-4, atol=1e-9)
        np.testing.assert_allclose(tight.beta[5 * k], b, rtol=1e-8, atol=1e-11)
    import pandas as pd
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)])
    df["y"] = y
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        path = rs.ridge("y ~ .", df, penalty_factor={"x0": 0})
    assert path.converged.all()


@pytest.mark.parametrize("intercept, standardize", [(True, True), (False, True), (True, False)])
def test_fold_gram_by_downdate_equals_preparing_the_training_rows(rng, intercept, standardize):
    # CV folds on the Gram route down-date the full data's cross-products by the held-out rows;
    # the prepared fold must equal preparing the training rows directly (to rounding)
    X, y = _data(rng, 400, 8)
    X[:, 3] = 2.0  # constant
    model = engine.Model(X=np.asfortranarray(X), y=y, weights=None, penalty_factor=None,
                         standardize=standardize, intercept=intercept, l1_ratio=1.0, tol=1e-7,
                         max_iter=1000)
    cross = model.cross()
    assert cross is not None
    test = np.sort(rng.choice(400, 40, replace=False))
    train = np.setdiff1d(np.arange(400), test)
    fold = model.prepare_fold(train, test, cross)
    ref = model.prepare(train)
    for name in ("x_mean", "x_scale", "y"):
        np.testing.assert_allclose(getattr(fold, name), getattr(ref, name), rtol=1e-11, atol=1e-11)
    np.testing.assert_array_equal(fold.constant, ref.constant)
    G, c = fold.gram
    G0, c0 = ref.gram
    np.testing.assert_allclose(G, G0, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c, c0, rtol=1e-10, atol=1e-12)
    assert fold.n == ref.n == 360 and fold.y_mean == pytest.approx(ref.y_mean, rel=1e-12)
    lams = engine.lambda_grid(ref, 1.0, 20)
    np.testing.assert_allclose(model.solve(fold, lams).coef, model.solve(ref, lams).coef, atol=1e-9)
    # weighted models and wide designs keep the direct preparation
    assert engine.Model(X=X, y=y, weights=np.ones(400), penalty_factor=None, standardize=True,
                        intercept=True, l1_ratio=1.0, tol=1e-7, max_iter=1000).cross() is None
