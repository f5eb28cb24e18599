"""Paths from formulas: glmnet fixtures, scikit-learn, statsmodels, closed forms, KKT, errors."""
from __future__ import annotations

import warnings
from pathlib import Path as FsPath

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats import engine
from regstats.errors import (ConvergenceWarning, DataError, DesignWarning, FormulaError, ParameterError,
                             RegstatsError, UnseenLevelError)

from conftest import make_regression

FIX = FsPath(__file__).parent / "fixtures"


def kkt_violation(prep: engine.Prepared, beta: np.ndarray, lam: float, a: float) -> float:
    """Largest violation of the elastic-net KKT conditions, relative to lam (prepared scale)."""
    X, y, n, v = prep.X, prep.y, prep.n, prep.v
    g = -X.T @ (y - X @ beta) / n + lam * (1 - a) / prep.y_scale * v * beta
    live = ~prep.constant
    pen = (v > 0) & live
    zero = beta == 0
    viol = np.zeros_like(g)
    viol[pen & zero] = np.maximum(np.abs(g[pen & zero]) - lam * a * v[pen & zero], 0)
    nz = pen & ~zero
    viol[nz] = np.abs(g[nz] + lam * a * v[nz] * np.sign(beta[nz]))
    viol[~pen & live] = np.abs(g[~pen & live])
    return float(viol.max() / max(lam, 1e-300))


# ------------------------------------------------------------------------------------------------
# recorded R glmnet output (tests/record_glmnet_fixtures.R)
# ------------------------------------------------------------------------------------------------
def _glmnet_case(case):
    coef = pd.read_csv(FIX / f"glmnet_path_{case}_coef.csv")
    data = pd.read_csv(FIX / f"glmnet_path_{case}_data.csv")
    pf = pd.read_csv(FIX / f"glmnet_path_{case}_pf.csv")
    return coef, data, pf


def test_fixture_stamp_names_versions():
    stamp = (FIX / "glmnet_path_stamp.txt").read_text()
    assert "R version" in stamp and "glmnet" in stamp


@pytest.mark.parametrize("case,l1_ratio,use_w", [("lasso", 1.0, False), ("lasso_weights_pf", 1.0, True),
                                                 ("enet", 0.5, False), ("ridge", 0.0, False)])
def test_matches_glmnet_path(case, l1_ratio, use_w):
    coef, data, pf = _glmnet_case(case)
    xcols = [c for c in data.columns if c not in ("y", "weights")]
    kw = {}
    if use_w:
        kw["weights"] = "weights"
        kw["penalty_factor"] = dict(zip(pf["column"], pf["penalty_factor"]))
    path = rs.elastic_net("y ~ " + " + ".join(xcols), data, l1_ratio=l1_ratio, tol=1e-12, **kw)
    k = len(coef)
    # the default grid is glmnet's (glmnet stops its path early; compare the lambdas it used)
    np.testing.assert_allclose(path.lambdas[:k], coef["lambda"].to_numpy(), rtol=1e-8, atol=0)
    start = 1 if l1_ratio == 0 else 0  # glmnet's ridge returns the null model at its first lambda
    _compare_standardized(path, coef, xcols, start)


def _compare_standardized(path, coef, xcols, start=0):
    """Coefficients on the standardized scale (what the penalty sees) agree with glmnet.

    Where glmnet's own answer is measurably off the optimum (its KKT residual above 1e-6 of
    lambda, as on the collinear mtcars design), the comparison is at glmnet's accuracy and our
    answer must satisfy the KKT conditions far more tightly than glmnet's.
    """
    k = len(coef)
    names = list(path.column_names)
    scale = pd.Series(path._prep.x_scale, index=names)[xcols].to_numpy()
    ours = path.coef.iloc[:k][xcols].to_numpy()[start:] * scale
    theirs = coef[xcols].to_numpy()[start:] * scale
    a = path.l1_ratio
    order = [xcols.index(c) for c in names]
    kkt_ours = max(kkt_violation(path._prep, path._solution.beta[i], lam, a)
                   for i, lam in enumerate(coef["lambda"]) if i >= start)
    kkt_glmnet = max(kkt_violation(path._prep, (coef[xcols].to_numpy()[i] * scale)[order], lam, a)
                     for i, lam in enumerate(coef["lambda"]) if i >= start)
    assert kkt_ours < 1e-9
    atol = 1e-6 if kkt_glmnet < 1e-6 else 1e-4
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=atol)
    # intercept = ybar - sum_j m_j b_j / s_j: its error is the coefficients' error times m_j / s_j
    prep = path._prep
    amp = 1.0 + np.abs(prep.x_mean / prep.x_scale).sum()
    np.testing.assert_allclose(path.coef["Intercept"].to_numpy()[:k][start:], coef["a0"].to_numpy()[start:],
                               rtol=0, atol=atol * amp)


def test_matches_glmnet_formula_with_factors():
    coef, _, _ = _glmnet_case("mtcars_formula")
    mtcars = rs.load_dataset("mtcars")
    path = rs.lasso("mpg ~ C(cyl) + wt * hp + np.log(disp)", mtcars, tol=1e-12)
    k = len(coef)
    np.testing.assert_allclose(path.lambdas[:k], coef["lambda"], rtol=1e-8)
    cols = [c for c in coef.columns if c not in ("lambda", "a0")]
    assert set(cols) == set(path.column_names)
    _compare_standardized(path, coef, cols)


# ------------------------------------------------------------------------------------------------
# optimality and independent oracles
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("shape", [(80, 12), (30, 70)])
def test_kkt_every_lambda_with_weights_and_penalty_factors(rng, l1_ratio, shape):
    n, p = shape
    df, _ = make_regression(rng, n=n, p=p, k=4, rho=0.6)
    w = rng.uniform(0.2, 3.0, n)
    pf = {f"x{j}": float(rng.uniform(0.3, 2.0)) for j in range(p)}
    pf["x1"] = 0.0  # unpenalized
    for tol in (1e-7, 1e-12):
        path = rs.elastic_net("y ~ .", df, l1_ratio=l1_ratio, weights=w, penalty_factor=pf, tol=tol)
        sol, prep = path._solution, path._prep
        worst = max(kkt_violation(prep, sol.beta[k], lam, l1_ratio) for k, lam in enumerate(path.lambdas))
        assert worst < (1e-2 if tol == 1e-7 else 1e-5)
        assert path.converged.all()
        assert np.all(path.coef["x1"].to_numpy() != 0)
        # the gap criterion: relative objective excess is tiny at the tight tolerance
        if tol == 1e-12:
            assert np.all(sol.gaps <= 1e-12 * sol.yy)


@pytest.mark.parametrize("method", ["gram", "naive"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.3])
def test_both_kernels_agree_and_are_exact(rng, method, l1_ratio):
    df, _ = make_regression(rng, n=60, p=90, k=6, rho=0.8)
    prep = engine.prepare(df.drop(columns="y").to_numpy(), df["y"].to_numpy())
    lams = engine.lambda_grid(prep, l1_ratio, 30)
    sol = engine.solve(prep, l1_ratio, lams, tol=1e-13, method=method)
    ref = engine.solve(prep, l1_ratio, lams, tol=1e-13, method="naive" if method == "gram" else "gram")
    np.testing.assert_allclose(sol.beta, ref.beta, atol=1e-7)
    assert max(kkt_violation(prep, sol.beta[k], lam, l1_ratio) for k, lam in enumerate(lams)) < 1e-5


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_matches_sklearn_enet_path(rng, l1_ratio):
    from sklearn.linear_model import enet_path

    df, _ = make_regression(rng, n=120, p=15, k=5)
    X = df.drop(columns="y").to_numpy()
    y = df["y"].to_numpy()
    Xs = (X - X.mean(0)) / X.std(0)          # 1/n convention, as ours
    ys = y - y.mean()
    std = pd.DataFrame(Xs, columns=[f"x{j}" for j in range(15)]).assign(y=ys)
    # scikit-learn's alpha is our lam with y_scale=1 (for the lasso whatever y_scale)
    path = rs.elastic_net("y ~ .", std, l1_ratio=l1_ratio, n_lambda=30, tol=1e-12, y_scale=1.0)
    _, sk, _ = enet_path(Xs, ys, l1_ratio=l1_ratio, alphas=path.lambdas, tol=1e-14, max_iter=100_000)
    np.testing.assert_allclose(path._solution.beta, sk.T, atol=1e-6)
    np.testing.assert_allclose(path.coef.drop(columns="Intercept").to_numpy(), sk.T, atol=1e-6)
    # by default the ridge part is lam (1 - a) / s_y: scikit-learn at the mapped (alpha, l1_ratio)
    s_y = ys.std()
    own = rs.elastic_net("y ~ .", std, l1_ratio=l1_ratio, lambdas=path.lambdas[5:8], tol=1e-12)
    f = l1_ratio + (1 - l1_ratio) / s_y
    _, sk2, _ = enet_path(Xs, ys, l1_ratio=l1_ratio / f, alphas=own.lambdas * f, tol=1e-14, max_iter=100_000)
    np.testing.assert_allclose(own._solution.beta, sk2.T, atol=1e-6)
    if l1_ratio < 1:
        assert s_y != pytest.approx(1.0, abs=1e-2)
        assert np.abs(own._solution.beta - sk.T[5:8]).max() > 1e-3


def test_ridge_equals_closed_form_with_weights(rng):
    df, _ = make_regression(rng, n=70, p=10)
    X = df.drop(columns="y").to_numpy()
    y = df["y"].to_numpy()
    w = rng.uniform(0.5, 2.0, len(y))
    lams = [2.0, 0.5, 0.1, 0.01]
    path = rs.ridge("y ~ .", df, lambdas=lams, weights=w, standardize=False)
    W = w * len(w) / w.sum()
    xm, ym = W @ X / len(y), W @ y / len(y)
    Xc, yc = X - xm, y - ym
    n = len(y)
    for k, lam in enumerate(path.lambdas):
        s_y = np.sqrt(W @ yc ** 2 / n)        # the weighted sd of y: the ridge penalty is lam / s_y
        b = np.linalg.solve(Xc.T @ (W[:, None] * Xc) / n + lam / s_y * np.eye(10), Xc.T @ (W * yc) / n)
        np.testing.assert_allclose(path.coef.iloc[k, 1:].to_numpy(), b, rtol=1e-10, atol=1e-12)
        assert path.coef.iloc[k, 0] == pytest.approx(ym - xm @ b, rel=1e-10)


def test_ridge_unequal_penalty_factors_by_cd_is_exact(rng):
    df, _ = make_regression(rng, n=50, p=8)
    pf = [0.5, 1, 1, 2, 1, 1, 0, 1]
    path = rs.ridge("y ~ .", df, lambdas=[1.0, 0.1], penalty_factor=pf, standardize=False, tol=1e-13)
    X = df.drop(columns="y").to_numpy()
    y = df["y"].to_numpy()
    Xc, yc = X - X.mean(0), y - y.mean()
    v = np.array(pf, float) * 8 / sum(pf)
    for k, lam in enumerate(path.lambdas):
        b = np.linalg.solve(Xc.T @ Xc / 50 + lam / yc.std() * np.diag(v), Xc.T @ yc / 50)
        np.testing.assert_allclose(path.coef.iloc[k, 1:].to_numpy(), b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_small_lambda_equals_statsmodels_ols(rng, weighted):
    import statsmodels.api as sm

    df, _ = make_regression(rng, n=90, p=6, noise=0.5)
    X = df.drop(columns="y").to_numpy()
    y = df["y"].to_numpy()
    w = rng.uniform(0.5, 2, len(y)) if weighted else None
    ref = (sm.WLS(y, sm.add_constant(X), weights=w) if weighted else sm.OLS(y, sm.add_constant(X))).fit()
    for l1 in (1.0, 0.5, 0.0):
        path = rs.elastic_net("y ~ .", df, l1_ratio=l1, lambdas=[1e-11], weights=w, tol=1e-12)
        np.testing.assert_allclose(path.coef.iloc[0].to_numpy(), ref.params, rtol=1e-7, atol=1e-8)


def test_all_zero_at_lambda_max_nonzero_below(rng):
    df, _ = make_regression(rng, n=60, p=25)
    w = rng.uniform(0.3, 2, 60)
    for l1 in (1.0, 0.4):
        for kw in ({}, {"weights": w, "penalty_factor": {"x0": 0.0, "x3": 2.0}}):
            path = rs.elastic_net("y ~ .", df, l1_ratio=l1, n_lambda=5, tol=1e-12, **kw)
            lmax = path.lambdas[0]
            pen = [c for c in path.column_names if not (kw and c == "x0")]
            assert np.all(path.coef[pen].iloc[0].to_numpy() == 0)
            below = path.at(lmax * (1 - 1e-6))
            assert (below.coef[pen] != 0).sum() >= 1


def test_seed_cost_mapping():
    """README: the seed's (1/n) RSS + lam_s sum|w| is our lasso at lam = lam_s / 2, and
    (1/n) RSS + lam_s sum w^2 is our ridge at lam = lam_s * s_y, or at lam = lam_s with y_scale=1
    (standardize=False)."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(3)
    n, p = 40, 4
    X = rng.standard_normal((n, p))
    y = X @ np.array([1.5, -2.0, 0.0, 0.3]) + 0.5 * rng.standard_normal(n) + 1.0
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(y=y)
    lam_s = 0.4

    def seed_l1(theta):
        b0, w = theta[0], theta[1:]
        return np.mean((y - b0 - X @ w) ** 2) + lam_s * np.abs(w).sum()

    def seed_l2(theta):
        b0, w = theta[0], theta[1:]
        return np.mean((y - b0 - X @ w) ** 2) + lam_s * (w ** 2).sum()

    l1 = minimize(seed_l1, np.zeros(p + 1), method="Powell", options={"xtol": 1e-12, "ftol": 1e-15,
                                                                      "maxiter": 100_000})
    l2 = minimize(seed_l2, np.zeros(p + 1), method="BFGS", options={"gtol": 1e-12})
    lasso = rs.lasso("y ~ .", df, lambdas=[lam_s / 2], standardize=False, tol=1e-14).coef.iloc[0]
    s_y = y.std()                                  # divisor n
    ridge = rs.ridge("y ~ .", df, lambdas=[lam_s * s_y], standardize=False).coef.iloc[0]
    fixed = rs.ridge("y ~ .", df, lambdas=[lam_s], standardize=False, y_scale=1).coef.iloc[0]
    np.testing.assert_allclose(lasso.to_numpy(), l1.x, atol=1e-5)
    np.testing.assert_allclose(ridge.to_numpy(), l2.x, atol=1e-6)
    np.testing.assert_allclose(fixed.to_numpy(), l2.x, atol=1e-6)
    unscaled = rs.ridge("y ~ .", df, lambdas=[lam_s], standardize=False).coef.iloc[0]
    assert np.abs(unscaled.to_numpy() - l2.x).max() > 1e-2
    assert seed_l1(lasso.to_numpy()) <= l1.fun + 1e-12
    # and the mapping is not an accident: the other scaling gives a different answer
    other = rs.lasso("y ~ .", df, lambdas=[lam_s], standardize=False, tol=1e-14).coef.iloc[0]
    assert np.abs(other.to_numpy() - l1.x).max() > 1e-2


def test_default_grid_rules(rng):
    df, _ = make_regression(rng, n=30, p=50)
    wide = rs.lasso("y ~ .", df)
    assert len(wide.lambdas) == 100
    assert wide.lambdas[-1] / wide.lambdas[0] == pytest.approx(1e-2)
    tall = rs.lasso("y ~ x0 + x1 + x2", df)
    assert tall.lambdas[-1] / tall.lambdas[0] == pytest.approx(1e-4)
    assert np.all(np.diff(np.log(tall.lambdas)) == pytest.approx(np.log(1e-4) / 99))
    user = rs.lasso("y ~ .", df, lambdas=[0.01, 0.5, 0.1])
    np.testing.assert_array_equal(user.lambdas, [0.5, 0.1, 0.01])


def test_tight_tolerance_is_exact_on_collinear_design():
    diab = rs.load_dataset("diabetes")
    xs = [c for c in diab.columns if c != "y"]
    f = f"y ~ ({' + '.join(xs)})**2"
    path = rs.lasso(f, diab, tol=1e-12, n_lambda=40)
    prep, sol = path._prep, path._solution
    worst = max(kkt_violation(prep, sol.beta[k], lam, 1.0) for k, lam in enumerate(path.lambdas))
    assert worst < 1e-7


# ------------------------------------------------------------------------------------------------
# at, predict, results
# ------------------------------------------------------------------------------------------------
def test_at_off_grid_is_exact(rng):
    df, _ = make_regression(rng, n=80, p=30)
    path = rs.elastic_net("y ~ .", df, l1_ratio=0.7, n_lambda=20)
    lam = float(np.sqrt(path.lambdas[5] * path.lambdas[6]))
    fit = path.at(lam)
    assert kkt_violation(path._prep, fit._beta, lam, 0.7) < 1e-3
    alone = rs.elastic_net("y ~ .", df, l1_ratio=0.7, lambdas=[lam], tol=1e-13)
    np.testing.assert_allclose(fit.params.to_numpy(), alone.coef.iloc[0].to_numpy(), atol=1e-5)
    on_grid = path.at(path.lambdas[3])
    np.testing.assert_array_equal(on_grid.params.to_numpy(), path.coef.iloc[3].to_numpy())
    assert fit.df == pytest.approx((fit.coef != 0).sum() * 0 + fit.df)  # a float
    assert list(fit.params.index) == ["Intercept", *path.column_names]


def test_predict_through_formula_transforms_factors_and_nan_rows():
    mtcars = rs.load_dataset("mtcars")
    path = rs.lasso("mpg ~ C(cyl) + wt * hp + np.log(disp)", mtcars, n_lambda=10)
    fit = path.at(path.lambdas[5])
    new = mtcars.iloc[[0, 5, 10]].copy()
    new.loc[new.index[1], "wt"] = np.nan
    pred = fit.predict(new)
    X = np.column_stack([(new["cyl"] == 6).astype(float), (new["cyl"] == 8).astype(float), new["wt"],
                         new["hp"], new["wt"] * new["hp"], np.log(new["disp"])])
    names = ["C(cyl)[T.6]", "C(cyl)[T.8]", "wt", "hp", "wt:hp", "np.log(disp)"]
    manual = X @ fit.coef[names].to_numpy() + fit.intercept
    assert np.isnan(pred.iloc[1])
    np.testing.assert_allclose(pred.iloc[[0, 2]].to_numpy(), manual[[0, 2]], rtol=1e-12)
    allp = path.predict(new)
    assert allp.shape == (3, 10)
    np.testing.assert_allclose(allp.iloc[[0, 2], 5].to_numpy(), manual[[0, 2]], rtol=1e-12)
    # fitted values on the training rows equal the design times the coefficients
    np.testing.assert_allclose(path.predict(lam=path.lambdas[5]).iloc[:, 0].to_numpy(),
                               fit.predict().to_numpy(), rtol=1e-12)


def test_predict_unseen_level_raises():
    mtcars = rs.load_dataset("mtcars")
    path = rs.lasso("mpg ~ C(cyl) + wt", mtcars, n_lambda=5)
    new = mtcars.iloc[:2].copy()
    new["cyl"] = [4, 5]
    with pytest.raises(UnseenLevelError):
        path.predict(new)
    with pytest.raises(RegstatsError):
        path.at(path.lambdas[2]).predict(new)


def test_formula_fit_equals_matrix_fit(rng):
    df, _ = make_regression(rng, n=50, p=8)
    path = rs.lasso("y ~ .", df, n_lambda=15, tol=1e-12)
    prep = engine.prepare(df.drop(columns="y").to_numpy(), df["y"].to_numpy())
    sol = engine.solve(prep, 1.0, engine.lambda_grid(prep, 1.0, 15), tol=1e-12)
    np.testing.assert_allclose(path.coef.drop(columns="Intercept").to_numpy(), sol.coef, atol=1e-12)
    np.testing.assert_allclose(path.coef["Intercept"].to_numpy(), sol.intercept, atol=1e-12)


def test_results_table_summary_and_frames(rng):
    df, _ = make_regression(rng, n=50, p=8)
    path = rs.lasso("y ~ .", df, n_lambda=12)
    assert list(path.table.columns) == ["lambda", "df", "n_nonzero", "r2"]
    assert path.coef.index.name == "lambda" and path.coef.columns[0] == "Intercept"
    assert np.all(np.diff(path.table["r2"].to_numpy()) >= -1e-12)
    assert "lasso" in str(path.summary()) and "<table" in path._repr_html_()
    assert set(path.to_frame().columns) == {"lambda", "term", "estimate"}
    fit = path.at(path.lambdas[6])
    assert list(fit.to_frame().columns) == ["term", "estimate"]
    assert "<table" in fit._repr_html_()


@pytest.mark.parametrize("shape", [(60, 600), (200, 30)])
def test_table_df_computed_on_first_access(rng, monkeypatch, shape):
    """The elastic-net df (a trace formula per lambda) is not part of the fit: ``table`` computes it
    once, on first use, and gives the numbers the eager computation gave."""
    import pickle

    import regstats.path as path_module
    from regstats.dof import df_at, df_path

    calls = []

    def counting_df_path(*args, **kwargs):
        calls.append(1)
        return df_path(*args, **kwargs)

    monkeypatch.setattr(path_module, "df_path", counting_df_path)
    df, _ = make_regression(rng, n=shape[0], p=shape[1])
    path = rs.elastic_net("y ~ .", df, l1_ratio=0.5, n_lambda=20)
    assert calls == [] and "elastic net" in repr(path)
    unpickled = pickle.loads(pickle.dumps(path))  # before first access: computed where it is used
    prep, sol = path._prep, path._solution
    eager = df_path(prep, sol.beta, path.lambdas, 0.5, gram=prep.gram[0] if "gram" in prep.__dict__ else None)
    tab = path.table
    assert len(calls) == 1
    np.testing.assert_array_equal(tab["df"].to_numpy(), eager)
    np.testing.assert_array_equal(tab["lambda"].to_numpy(), path.lambdas)
    np.testing.assert_array_equal(tab["n_nonzero"].to_numpy(), (sol.coef != 0).sum(axis=1))
    np.testing.assert_array_equal(tab["r2"].to_numpy(), sol.r2)
    np.testing.assert_allclose(eager, [df_at(prep, b, lam, 0.5) for b, lam in zip(sol.beta, path.lambdas)],
                               rtol=1e-9, atol=1e-9)
    assert path.table is tab and path.at(path.lambdas[7]).df == eager[7] and "Path" in str(path.summary())
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(path)).table, tab)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(unpickled.table, tab)
    assert len(calls) == 2


def test_convergence_warning_names_lambdas(rng):
    df, _ = make_regression(rng, n=60, p=40, rho=0.9)
    with pytest.warns(ConvergenceWarning, match=r"did not reach its tolerance at \d+ lambda"):
        rs.lasso("y ~ .", df, max_iter=1, tol=1e-14)


def test_p_greater_than_n_works(rng):
    df, _ = make_regression(rng, n=25, p=300)
    path = rs.lasso("y ~ .", df)
    assert path.coef.shape == (100, 301)
    assert path.table["n_nonzero"].max() <= 25 + 1


# ------------------------------------------------------------------------------------------------
# bad inputs (issue 2, section 5)
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def small(rng):
    df, _ = make_regression(rng, n=30, p=5, k=3)
    return df


def test_unknown_column(small):
    with pytest.raises(FormulaError, match="nope"):
        rs.lasso("y ~ x0 + nope", small)


def test_non_numeric_response(small):
    df = small.assign(g=["a", "b", "c"] * 10)
    with pytest.raises(DataError, match="must be numeric"):
        rs.lasso("g ~ x0 + x1", df)


def test_no_rows_after_dropping_missing(small):
    df = small.copy()
    df.loc[::2, "x0"] = np.nan
    df.loc[1::2, "x1"] = np.nan
    with pytest.raises(DataError, match="no rows left"):
        rs.lasso("y ~ x0 + x1", df)


def test_missing_rows_dropped_and_counted(small):
    df = small.copy()
    df.loc[[0, 3], "x2"] = np.nan
    path = rs.lasso("y ~ .", df, n_lambda=5)
    assert path.n_dropped == 2 and path.n_obs == 28


def test_infinite_values(small):
    df = small.copy()
    df.loc[3, "x1"] = np.inf
    with pytest.raises(DataError, match="infinite"):
        rs.lasso("y ~ .", df)
    df = small.copy()
    df.loc[3, "y"] = -np.inf
    with pytest.raises(DataError, match="infinite"):
        rs.lasso("y ~ .", df)


def test_constant_column_warns_and_stays_zero(small):
    df = small.assign(k=5.0)
    with pytest.warns(DesignWarning, match="constant"):
        path = rs.lasso("y ~ .", df, n_lambda=10)
    assert np.all(path.coef["k"].to_numpy() == 0)
    assert np.all(np.isfinite(path.coef.to_numpy()))


@pytest.mark.parametrize("lams", [[0.1, -0.2], [np.nan], [np.inf, 0.1], []])
def test_bad_lambdas(small, lams):
    with pytest.raises(ParameterError, match="lambdas must be"):
        rs.lasso("y ~ .", small, lambdas=lams)


@pytest.mark.parametrize("a", [-0.1, 1.5, np.nan, "x"])
def test_l1_ratio_outside_unit_interval(small, a):
    with pytest.raises(ParameterError, match=r"l1_ratio must be a number in \[0, 1\]"):
        rs.elastic_net("y ~ .", small, l1_ratio=a)


def test_weights_wrong_length_or_negative(small):
    with pytest.raises(DataError, match="one entry per row"):
        rs.lasso("y ~ .", small, weights=np.ones(7))
    w = np.ones(30)
    w[4] = -1
    with pytest.raises(DataError, match="weights must be >= 0"):
        rs.lasso("y ~ .", small, weights=w)


def test_penalty_factor_unknown_name(small):
    with pytest.raises(ParameterError, match="penalty_factor"):
        rs.lasso("y ~ .", small, penalty_factor={"zzz": 0.0})
    with pytest.raises(ParameterError, match="penalty_factor"):
        rs.lasso("y ~ .", small, penalty_factor=[1, 1])


def test_penalty_factor_by_term(rng):
    mtcars = rs.load_dataset("mtcars")
    path = rs.lasso("mpg ~ C(cyl) + wt", mtcars, penalty_factor={"C(cyl)": 0.0}, n_lambda=5)
    assert np.all(path.coef[["C(cyl)[T.6]", "C(cyl)[T.8]"]].iloc[0].to_numpy() != 0)
    assert path.coef["wt"].iloc[0] == 0


def test_empty_data():
    with pytest.raises(DataError, match="empty"):
        rs.lasso("y ~ x", pd.DataFrame({"y": [], "x": []}))


def test_duplicate_columns_warn(small):
    df = small.assign(x0_copy=small["x0"])
    with pytest.warns(DesignWarning, match="duplicate"):
        rs.lasso("y ~ .", df, n_lambda=5)


def test_duplicate_columns_from_the_gram_matrix_match_the_projection(rng):
    # with the prepared Gram matrix the duplicate check needs no pass over X; both routes must
    # report the same pairs: a group of three, a pair of equal constant columns, a near-copy
    from regstats import engine
    from regstats.path import _duplicate_columns

    X = rng.standard_normal((300, 12))
    X[:, 4] = X[:, 1]
    X[:, 9] = X[:, 1]
    X[:, 6] = 2.5
    X[:, 11] = 2.5
    X[:, 7] = X[:, 2] * (1 + 1e-12)  # not identical
    X = np.asfortranarray(X)
    names = [f"x{j}" for j in range(12)]
    prep = engine.prepare(X, rng.standard_normal(300))
    assert "gram" in prep.__dict__
    with_gram = _duplicate_columns(X, names, prep)
    assert with_gram == _duplicate_columns(X, names) == [("x1", "x4"), ("x4", "x9"), ("x6", "x11")]


def test_constant_response_raises(small):
    with pytest.raises(DataError, match="constant"):
        rs.lasso("y ~ .", small.assign(y=1.0))


def test_other_bad_arguments(small):
    with pytest.raises(ParameterError, match="n_lambda"):
        rs.lasso("y ~ .", small, n_lambda=0)
    with pytest.raises(ParameterError, match="tol"):
        rs.lasso("y ~ .", small, tol=0)
    with pytest.raises(ParameterError, match="lam must be"):
        rs.lasso("y ~ .", small, n_lambda=5).at(-1.0)


def test_no_warnings_on_clean_data(small):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rs.elastic_net("y ~ .", small, l1_ratio=0.5)
