"""glmnet's objective for every l1_ratio: the ridge part of the penalty in units of y (s_y).

Oracles: R glmnet 4.1-6 paths and cv.glmnet curves on ISLR's Hitters and Credit in their own
units (``tests/fixtures/glmnet/``, recorded by ``record.R``), the KKT conditions solved exactly
on our support (numpy), closed forms, and the scale equivariance every answer must have.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path as FsPath

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats import engine
from regstats.errors import DesignWarning, ParameterError, RegstatsWarning

G = FsPath(__file__).parent / "fixtures" / "glmnet"

PATH_CASES = ["hitters_a1", "hitters_a0.5", "hitters_a0.2", "hitters_a0", "credit_a1", "credit_a0.5",
              "credit_a0.2", "credit_a0", "hitters_w_a0.5", "credit_pf_a0.5", "credit_pf_excl_a0.5",
              "hitters_noint_a0.5", "hitters_noint_a1", "hitters_noint_a0", "hitters_noint_nostd_a0.5"]
CV_CASES = [c for c in PATH_CASES if c.split("_")[0] in ("hitters", "credit") and c.count("_") == 1
            and not c.endswith("a1")]


def _case(case):
    return json.loads((G / f"{case}.json").read_text())


def _design(f):
    """The recorded design as a DataFrame x0..x{p-1}, y, and the keyword arguments of the case."""
    X = pd.read_csv(G / f"{f['dataset']}_X.csv")
    assert list(X.columns) == f["column_names"]
    y = pd.read_csv(G / f"{f['dataset']}_y.csv").iloc[:, 0].to_numpy()
    df = pd.DataFrame(X.to_numpy(), columns=[f"x{j}" for j in range(X.shape[1])]).assign(y=y)
    kw = {"l1_ratio": f["alpha"], "standardize": f["standardize"]}
    if f["penalty_factor"] is not None:
        v = np.array(f["penalty_factor"], dtype=float)
        if f["exclude0"] is not None:
            v[np.array(f["exclude0"])] = np.inf
        kw["penalty_factor"] = v
    if f["weights"] is not None:
        kw["weights"] = np.array(f["weights"], dtype=float)
    return df, "y ~ ." + ("" if f["intercept"] else " - 1"), kw


def _exact_on_support(prep, beta, lam, a):
    """The KKT-exact solution with the support and signs of ``beta`` (prepared scale), by one
    linear solve, and the largest KKT violation of the zeros at it (relative to lam)."""
    X, y, n, v, s_y = prep.X, prep.y, prep.n, prep.v, prep.y_scale
    S = np.flatnonzero(beta)
    Gm = X.T @ X / n
    c = X.T @ y / n
    exact = np.zeros_like(beta)
    if S.size:
        M = Gm[np.ix_(S, S)] + np.diag(lam * (1 - a) / s_y * v[S])
        exact[S] = np.linalg.solve(M, c[S] - lam * a * v[S] * np.sign(beta[S]))
    grad = c - Gm @ exact
    zero = np.setdiff1d(np.flatnonzero((v > 0) & ~prep.constant), S)
    viol = np.max(np.abs(grad[zero]) - lam * a * v[zero], initial=0.0) / lam
    return exact, viol


def _kkt(prep, beta, lam, a, s_y):
    """Largest KKT violation (relative to lam) of ``beta`` for the objective whose ridge part is
    lam (1 - a) / (2 s_y) b^2."""
    X, y, n = prep.X, prep.y, prep.n
    v = np.where(prep.constant, 0.0, prep.v)            # excluded columns: inf, fixed at 0
    g = -X.T @ (y - X @ beta) / n + lam * (1 - a) / s_y * v * beta
    live = ~prep.constant
    pen = (v > 0) & live
    nz = pen & (beta != 0)
    z = pen & (beta == 0)
    viol = np.zeros_like(g)
    viol[z] = np.maximum(np.abs(g[z]) - lam * a * v[z], 0.0)
    viol[nz] = np.abs(g[nz] + lam * a * v[nz] * np.sign(beta[nz]))
    viol[live & ~pen] = np.abs(g[live & ~pen])
    return float(viol.max() / lam)


# ------------------------------------------------------------------------------------------------
# paths against glmnet on data in its own units
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", PATH_CASES)
def test_default_grid_and_response_scale_equal_glmnets(case):
    f = _case(case)
    df, formula, kw = _design(f)
    path = rs.elastic_net(formula, df, **kw)
    np.testing.assert_allclose(path.lambdas, f["lambda"], rtol=1e-12)
    assert path._prep.y_scale == pytest.approx(f["y_scale"], rel=1e-13)


@pytest.mark.parametrize("case", PATH_CASES)
def test_path_is_kkt_exact_and_equals_glmnet(case):
    f = _case(case)
    df, formula, kw = _design(f)
    lam = np.array(f["lambda"])
    path = rs.elastic_net(formula, df, lambdas=lam, tol=1e-12, **kw)
    prep, sol, a = path._prep, path._solution, f["alpha"]
    s_y = prep.y_scale
    glm = np.array(f["beta"]) * prep.x_scale[None, :]      # glmnet's, on the standardized scale
    first = 1 if a == 0 else 0    # glmnet reports a ridge fit at 9.9e35 as its first lambda
    worst_exact = worst_glm = 0.0
    for k in range(first, len(lam)):
        exact, viol = _exact_on_support(prep, sol.beta[k], lam[k], a)
        assert viol < 1e-9
        worst_exact = max(worst_exact, np.abs(sol.beta[k] - exact).max() / s_y)
        # glmnet's answer solves our objective, s_y included, to its own accuracy (its thresh is
        # on coefficient changes: up to 1.2e-3 lam at the smallest lambdas; without s_y, 60-600 lam)
        assert _kkt(prep, glm[k], lam[k], a, s_y) < 5e-3
        worst_glm = max(worst_glm, np.abs(sol.beta[k] - glm[k]).max() / s_y)
    assert worst_exact < 1e-8
    assert worst_glm < 1e-4
    if f["intercept"]:
        np.testing.assert_allclose(sol.intercept[first:], np.array(f["a0"])[first:], rtol=1e-5, atol=1e-4 * s_y)
    np.testing.assert_allclose(sol.r2[first:], np.array(f["dev_ratio"])[first:], atol=1e-6)


@pytest.mark.parametrize("case", ["hitters_a0.5", "credit_a0.2", "hitters_a0"])
def test_glmnet_does_not_solve_the_unscaled_objective(case):
    """The fixtures discriminate: glmnet's coefficients violate the KKT conditions of the objective
    without s_y (the convention before) by orders of magnitude more than their accuracy."""
    f = _case(case)
    df, formula, kw = _design(f)
    lam = np.array(f["lambda"])
    prep = rs.elastic_net(formula, df, lambdas=lam, **kw)._prep
    glm = np.array(f["beta"]) * prep.x_scale[None, :]
    viol = max(_kkt(prep, glm[k], lam[k], f["alpha"], 1.0) for k in range(1, len(lam)))
    assert viol > 50


@pytest.mark.parametrize("case", CV_CASES)
def test_cv_equals_cvglmnet_in_own_units(case):
    f = _case(case)
    df, formula, kw = _design(f)
    lam = np.array(f["lambda"])
    path = rs.elastic_net(formula, df, lambdas=lam, tol=1e-12, **kw)
    foldid = pd.read_csv(G / f["foldid_file"]).iloc[:, 0].to_numpy()
    cv = path.cv(foldid=foldid)
    # glmnet's fold fits are exact to ~5e-7 (its thresh is on coefficient changes): the curves agree
    # to that, and the selected lambdas exactly
    np.testing.assert_allclose(cv.table["cv_mean"], f["cvm"], rtol=5e-6)
    np.testing.assert_allclose(cv.table["cv_se"], f["cvsd"], rtol=2e-5)
    assert cv.lambda_min == lam[f["index_min"] - 1]
    assert cv.lambda_1se == lam[f["index_1se"] - 1]


def test_ridge_and_enet_choose_interior_lambdas_on_hitters_and_credit():
    for name, formula in (("hitters", "Salary ~ ."), ("credit", "Balance ~ . - ID")):
        data = rs.load_dataset(name)
        for a in (0.0, 0.5):
            path = rs.elastic_net(formula, data, l1_ratio=a)
            cv = path.cv(folds=10, seed=1)
            k = int(np.flatnonzero(path.lambdas == cv.lambda_1se)[0])
            assert 0 < k < len(path.lambdas) - 1, (name, a, k)
            assert cv.best.r2 > 0.3, (name, a, cv.best.r2)


# ------------------------------------------------------------------------------------------------
# the units of y change no choice
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hitters_two_units():
    h = rs.load_dataset("hitters")
    small = h.assign(Salary=h["Salary"] / 1000.0)
    return h, small


@pytest.mark.parametrize("a", [0.0, 0.2, 0.5, 1.0])
def test_y_over_1000_scales_coefficients_and_lambdas_and_changes_no_choice(hitters_two_units, a):
    h, small = hitters_two_units
    big = rs.elastic_net("Salary ~ .", h, l1_ratio=a)
    sm = rs.elastic_net("Salary ~ .", small, l1_ratio=a)
    np.testing.assert_allclose(sm.lambdas, big.lambdas / 1000, rtol=1e-12)
    scale = np.abs(big.coef.to_numpy()).max()
    np.testing.assert_allclose(sm.coef.to_numpy() * 1000, big.coef.to_numpy(), rtol=1e-6, atol=1e-7 * scale)
    np.testing.assert_allclose(sm.table["df"], big.table["df"], rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(sm.table["n_nonzero"], big.table["n_nonzero"])
    cb, cs = big.cv(folds=10, seed=3), sm.cv(folds=10, seed=3)
    assert cs.lambda_min == pytest.approx(cb.lambda_min / 1000, rel=1e-12)
    assert cs.lambda_1se == pytest.approx(cb.lambda_1se / 1000, rel=1e-12)
    np.testing.assert_allclose(cs.table["cv_mean"] * 1e6, cb.table["cv_mean"], rtol=1e-6)
    assert cs.best.selected == cb.best.selected


def test_y_over_1000_changes_no_selection_or_p_value(hitters_two_units):
    h, small = hitters_two_units
    big = rs.lasso("Salary ~ .", h).cv(folds=5, seed=2).best
    sm = rs.lasso("Salary ~ .", small).cv(folds=5, seed=2).best
    assert sm.selected == big.selected
    ib, is_ = big.inference(seed=1), sm.inference(seed=1)
    np.testing.assert_allclose(is_.table["p_value"], ib.table["p_value"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(is_.table["estimate"] * 1000, ib.table["estimate"], rtol=1e-6)
    bb, bs = big.bootstrap(n_boot=20, seed=4), sm.bootstrap(n_boot=20, seed=4)
    np.testing.assert_array_equal(bs.to_frame()["selection_freq"], bb.to_frame()["selection_freq"])
    rb = rs.ridge("Salary ~ .", h).at(50.0).inference(method="ridge")
    rsm = rs.ridge("Salary ~ .", small).at(0.05).inference(method="ridge")
    np.testing.assert_allclose(rsm.table["p_value"], rb.table["p_value"], rtol=1e-8, atol=1e-14)
    sb = rs.elastic_net("Salary ~ .", h, l1_ratio=0.5).stability(seed=5, n_subsamples=20)
    ss = rs.elastic_net("Salary ~ .", small, l1_ratio=0.5).stability(seed=5, n_subsamples=20)
    assert ss.selected == sb.selected


def test_y_scale_holds_the_penalty_fixed(hitters_two_units):
    h, small = hitters_two_units
    s_y = rs.ridge("Salary ~ .", h)._prep.y_scale
    fixed = rs.ridge("Salary ~ .", h, lambdas=[10.0, 1.0], y_scale=s_y)
    default = rs.ridge("Salary ~ .", h, lambdas=[10.0, 1.0])
    np.testing.assert_array_equal(fixed.coef.to_numpy(), default.coef.to_numpy())
    # y_scale=1: the textbook ridge, lam ||b||^2 / 2 on the standardized scale
    one = rs.ridge("Salary ~ .", h, lambdas=[10.0], y_scale=1)
    prep = one._prep
    b = np.linalg.solve(prep.X.T @ prep.X / prep.n + 10.0 * np.eye(prep.p), prep.X.T @ prep.y / prep.n)
    np.testing.assert_allclose(one._solution.beta[0], b, rtol=1e-9)
    # a fixed y_scale is the same in every CV fold: refits use it
    assert fixed._model.y_scale == s_y and default._model.y_scale is None
    with pytest.raises(ParameterError, match="y_scale"):
        rs.ridge("Salary ~ .", h, y_scale=0)
    with pytest.raises(ParameterError, match="y_scale"):
        rs.ridge("Salary ~ .", h, y_scale="1")


# ------------------------------------------------------------------------------------------------
# standardization without an intercept; inf penalty factors
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(200, 6), (20, 600)])   # the Gram and the wide preparations
def test_scale_without_intercept_is_the_sd_about_the_weighted_mean(rng, weighted, shape):
    n, p = shape
    X = rng.standard_normal((n, p)) * np.arange(1, p + 1) + 10.0 * np.arange(p)
    y = X[:, :3] @ np.ones(3) + rng.standard_normal(n)
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    prep = engine.prepare(np.asfortranarray(X), y, weights=w, intercept=False)
    W = np.ones(n) if w is None else w * n / w.sum()
    m = W @ X / n
    sd = np.sqrt(W @ (X - m) ** 2 / n)
    np.testing.assert_allclose(prep.x_scale, sd, rtol=1e-10)
    np.testing.assert_array_equal(prep.x_mean, 0.0)
    assert prep.y_scale == pytest.approx(np.sqrt(W @ y ** 2 / n), rel=1e-12)   # about 0


def test_constant_column_without_intercept():
    rng = np.random.default_rng(0)
    X = np.column_stack([np.full(50, 3.0), rng.standard_normal(50)])
    y = 2.0 * X[:, 1] + 1.0
    # standardizing: a constant column has no scale, kept at 0 (glmnet); unstandardized it is fitted
    assert engine.prepare(X, y, intercept=False).constant.tolist() == [True, False]
    assert engine.prepare(X, y, intercept=False, standardize=False).constant.tolist() == [False, False]


@pytest.mark.parametrize("form", ["array", "dict"])
def test_inf_penalty_factor_excludes_like_glmnet(form):
    f = _case("credit_pf_excl_a0.5")
    df, formula, kw = _design(f)
    ex = np.array(f["exclude0"])
    if form == "dict":
        kw["penalty_factor"] = {f"x{j}": float(v) for j, v in enumerate(kw["penalty_factor"])}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DesignWarning)      # no false "constant column" warning
        path = rs.elastic_net(formula, df, lambdas=f["lambda"], tol=1e-12, **kw)
    assert np.all(path.coef[[f"x{j}" for j in ex]].to_numpy() == 0.0)
    assert np.all(np.isfinite(path.coef.to_numpy()))
    glm = np.array(f["beta"]) * path._prep.x_scale[None, :]
    assert np.abs(path._solution.beta - glm).max() / path._prep.y_scale < 1e-5
    np.testing.assert_allclose(path._prep.v[np.isfinite(path._prep.v)],
                               np.delete(np.array(f["penalty_factor_glmnet"]), ex), rtol=1e-14)
    # the statistics see the excluded columns as fixed at 0
    fit = path.at(path.lambdas[30])
    assert fit.df <= path.table["n_nonzero"].iloc[30]
    cv = path.cv(folds=5, seed=1)
    assert np.all(cv.best.coef.iloc[ex].to_numpy() == 0.0)


def test_inf_penalty_factor_errors():
    df = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [2.0, 1, 4, 3, 6], "y": [1.0, 3, 2, 5, 4]})
    with pytest.raises(ParameterError, match="at least one column penalized"):
        rs.lasso("y ~ a + b", df, penalty_factor=[np.inf, np.inf])
    with pytest.raises(ParameterError, match="penalty_factor"):
        rs.lasso("y ~ a + b", df, penalty_factor=[np.nan, 1.0])
    with pytest.raises(ParameterError, match="penalty_factor"):
        rs.lasso("y ~ a + b", df, penalty_factor={"a": -np.inf})


# ------------------------------------------------------------------------------------------------
# lam = 0 and rank-deficient designs
# ------------------------------------------------------------------------------------------------
def _dup_data(rng, n=40):
    x = rng.standard_normal((n, 3))
    df = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "x2": x[:, 2], "d0": x[:, 0], "d1": x[:, 1],
                       "s": x[:, 0] + x[:, 1]})
    df["y"] = 1.0 + x @ np.array([2.0, -1.0, 0.5]) + 0.3 * rng.standard_normal(n)
    return df                                        # 6 columns of rank 3


@pytest.mark.parametrize("standardize", [True, False])
def test_ridge_at_zero_is_minimum_norm_least_squares_with_df_rank(rng, standardize):
    df = _dup_data(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        path = rs.ridge("y ~ .", df, lambdas=[1.0, 0.0], standardize=standardize)
    prep = path._prep
    exact = np.linalg.pinv(prep.X) @ prep.y               # minimum norm on the solved scale
    np.testing.assert_allclose(path._solution.beta[1], exact, rtol=1e-8, atol=1e-10)
    assert np.abs(path.coef.to_numpy()).max() < 10
    assert path.table["df"].iloc[1] == pytest.approx(3.0, abs=1e-9)
    fit = path.at(0.0)
    X = df.drop(columns="y").to_numpy()
    ols = np.linalg.lstsq(np.column_stack([np.ones(len(df)), X]), df["y"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(fit.predict(df), np.column_stack([np.ones(len(df)), X]) @ ols, rtol=1e-9)


def test_zero_lambda_for_every_mixing_and_p_greater_than_n(rng):
    n, p = 15, 40
    X = rng.standard_normal((n, p))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)]).assign(y=X[:, 0] + rng.standard_normal(n))
    for a in (0.0, 0.5, 1.0):
        path = rs.elastic_net("y ~ .", df, l1_ratio=a, lambdas=[0.0])
        prep = path._prep
        np.testing.assert_allclose(path._solution.beta[0], np.linalg.pinv(prep.X) @ prep.y, rtol=1e-8, atol=1e-10)
        assert path._solution.r2[0] == pytest.approx(1.0, abs=1e-10)      # interpolates
    assert rs.ridge("y ~ .", df, lambdas=[0.0]).table["df"].iloc[0] == pytest.approx(n - 1, abs=1e-9)


def test_ridge_loo_undefined_at_an_interpolating_fit(rng):
    n, p = 15, 40
    X = rng.standard_normal((n, p))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)]).assign(y=X[:, 0] + rng.standard_normal(n))
    path = rs.ridge("y ~ .", df, lambdas=[10.0, 1.0, 0.1, 0.0])
    with pytest.warns(RegstatsWarning, match="interpolates"):
        loo = path.loo()
    assert np.isinf(loo.table["loo_mse"].iloc[-1]) and np.isinf(loo.table["gcv"].iloc[-1])
    assert np.all(np.isfinite(loo.table["loo_mse"].iloc[:-1]))
    assert loo.lambda_loo > 0 and loo.lambda_gcv > 0


def test_lasso_df_is_rank_of_active_columns(rng):
    """A duplicated active column: df = rank(X_A) = the divergence of the fit (the fitted values
    depend on the duplicates' sum only)."""
    import dataclasses

    n = 60
    x = rng.standard_normal((n, 3))
    X = np.column_stack([x, x[:, 0]])
    y = X[:, :3] @ np.array([2.0, -1.0, 0.5]) + rng.standard_normal(n)
    prep = engine.prepare(X, y)
    lams = engine.lambda_grid(prep, 1.0, 20)
    sol = engine.solve(prep, 1.0, lams, tol=1e-12)
    # the lasso's answer is not unique on duplicates; split the first one's weight between them
    beta = sol.beta.copy()
    beta[:, 3] = 0.3 * sol.beta[:, 0] + 0.3 * sol.beta[:, 3]
    beta[:, 0] = 0.7 * sol.beta[:, 0] + 0.7 * sol.beta[:, 3]
    from regstats.dof import df_at, df_path
    k = len(lams) - 1
    assert np.count_nonzero(beta[k]) == 4
    assert df_at(prep, beta[k], lams[k], 1.0) == 3.0
    assert df_path(prep, beta, lams, 1.0)[k] == 3.0
    # the divergence of the fitted values in y, by finite differences (the fit depends on y
    # through the active set's projection: 3 directions besides the intercept)
    model = engine.Model(X=X, y=y, weights=None, penalty_factor=None, standardize=True, intercept=True,
                         l1_ratio=1.0, tol=1e-13, max_iter=100_000)
    model = dataclasses.replace(model, y_scale=prep.y_scale)
    h, tr = 1e-6, 0.0
    for i in range(n):
        vals = []
        for s in (h, -h):
            yy = y.copy()
            yy[i] += s
            so = model.solve(model.prepare(y=yy), lams[k:])
            vals.append(so.intercept[0] + X[i] @ so.coef[0])
        tr += (vals[0] - vals[1]) / (2 * h)
    assert tr - 1 == pytest.approx(3.0, abs=1e-5)
    # in general position the rank is the nonzero count
    p3 = engine.prepare(x, y)
    s3 = engine.solve(p3, 1.0, lams, tol=1e-12)
    np.testing.assert_array_equal(df_path(p3, s3.beta, lams, 1.0), (s3.beta != 0).sum(axis=1))
