"""The desparsified lasso's default standard error and noise level (issue 16, fifth pass).

Oracles: the gradient of the debiased estimate in y by central differences of scikit-learn lasso
refits (the linearized standard error); the model-based standard error when the nodewise
regressions are least squares (where the two must agree); refitted cross-validation rebuilt from
the public formula API and statsmodels OLS on the same halves and folds.
"""
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import regstats as rs
from regstats.errors import ParameterError
from regstats.folds import make_folds
from regstats.inference import InferenceWarning

from conftest import make_regression
from test_inference import _sk_lasso


@pytest.fixture
def data(rng):
    df, beta = make_regression(rng, n=90, p=7, k=3, rho=0.5)
    df["x3"] *= 10.0
    return df, rs.lasso("y ~ .", df, tol=1e-12)


def _nodewise_Z(Xs, lam):
    p = Xs.shape[1]
    Z = np.empty_like(Xs)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        Z[:, j] = Xs[:, j] - Xs[:, others] @ _sk_lasso(Xs[:, others], Xs[:, j], lam)
    return Z


def test_linearized_se_is_the_gradient_of_the_debiased_estimate(data):
    """se="linearized" (the default) is sigma ||d estimate / dy|| at the initial fit's lambda: the lasso
    refitted by scikit-learn at y +- h e_i for every row i, the nodewise Z held fixed (it does not
    depend on y).  The lasso is piecewise linear in y, so central differences are exact while its
    support holds."""
    df, path = data
    lam, node, sigma = 0.08, 0.07, 1.3
    inf = path.at(lam).inference(sigma=sigma, nodewise_lambda=node, initial="fit")
    assert inf.details["se"] == "linearized"
    X = df.drop(columns="y").to_numpy()
    y = df["y"].to_numpy()
    n = len(y)
    Xc = X - X.mean(0)
    sd = X.std(0)
    Xs = Xc / sd
    Z = _nodewise_Z(Xs, node)
    zx = (Z * Xc).sum(0)

    def debiased(v):
        vc = v - v.mean()
        b = _sk_lasso(Xs, vc, lam) / sd
        return b + Z.T @ (vc - Xc @ b) / zx

    np.testing.assert_allclose(debiased(y), inf.estimate.to_numpy(), rtol=1e-7, atol=1e-9)
    h = 1e-4
    J = np.array([(debiased(y + h * e) - debiased(y - h * e)) / (2 * h) for e in np.eye(n)])
    se = sigma * np.sqrt((J ** 2).sum(axis=0))
    np.testing.assert_allclose(inf.std_error.to_numpy(), se, rtol=1e-6)
    model = sigma * np.linalg.norm(Z, axis=0) / np.abs(zx)
    assert np.max(np.abs(se / model - 1)) > 0.05          # not the model-based one here
    assert any("by linearization" in note for note in inf.notes)


def test_linearized_equals_model_based_when_nodewise_regressions_are_least_squares(data):
    """With (nearly) unpenalized nodewise regressions Z_j is orthogonal to every other column, and the
    two standard errors are the same: the projection removes from a selected column's Z_j exactly
    what the least-squares term adds back."""
    _, path = data
    kw = dict(sigma=1.0, nodewise_lambda=1e-9, initial="fit")
    a = path.at(0.05).inference(**kw)
    b = path.at(0.05).inference(se="model", **kw)
    assert 0 < np.count_nonzero(path.at(0.05).coef) < 7
    np.testing.assert_allclose(a.std_error.to_numpy(), b.std_error.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.estimate.to_numpy(), b.estimate.to_numpy(), rtol=1e-12)


def test_linearized_falls_back_when_the_initial_fit_leaves_few_residual_df(rng):
    df, _ = make_regression(rng, n=30, p=60, k=2, noise=0.5)
    fit = rs.lasso("y ~ .", df).at(1e-3)
    assert 30 - fit.n_nonzero - 1 < 5
    inf = fit.inference(initial="fit", sigma=1.0, nodewise_lambda=0.2)
    ref = fit.inference(initial="fit", sigma=1.0, nodewise_lambda=0.2, se="model")
    assert inf.details["se"] == "model"
    pd.testing.assert_frame_equal(inf.table, ref.table)
    assert any("residual degrees of freedom" in note for note in inf.notes)


def test_default_sigma_is_refitted_cross_validation(data):
    """Fan, Guo & Hao (2012), rebuilt from the public API: the same random halves and folds (seed 3's
    third child), a lasso path on each half over the fit's lambdas with CV's lambda_min inside it,
    statsmodels OLS of the other half on the selected columns, sigma^2 the average of the two."""
    df, path = data
    inf = path.at(0.15).inference(seed=3, nodewise_lambda=0.1)
    assert "Fan, Guo & Hao" in inf.sigma_method
    rng = np.random.default_rng(np.random.SeedSequence(3).spawn(3)[2])
    n = len(df)
    perm = rng.permutation(n)
    halves = (np.sort(perm[: n // 2]), np.sort(perm[n // 2:]))
    names = [c for c in df.columns if c != "y"]
    scales, sizes = [], []
    for a, b in ((0, 1), (1, 0)):
        rows = halves[a]
        foldid = make_folds(rows.size, 10, rng, groups=rows)
        half = rs.lasso("y ~ .", df.iloc[rows].reset_index(drop=True), lambdas=path.lambdas, tol=1e-12)
        coef = half.at(half.cv(foldid=foldid).lambda_min).coef
        sel = [c for c in names if coef[c] != 0]
        sizes.append(len(sel))
        other = df.iloc[halves[b]]
        res = sm.OLS(other["y"], sm.add_constant(other[sel]) if sel else np.ones((len(other), 1))).fit()
        scales.append(res.scale)
    assert inf.details["rcv_selected"] == sizes
    assert inf.sigma == pytest.approx(math.sqrt(np.mean(scales)), rel=1e-9)


def test_refitted_cv_sigma_ignores_the_scale_of_weights(data, rng):
    df, _ = data
    w = rng.uniform(0.5, 2.0, len(df))
    a = rs.lasso("y ~ .", df.assign(w=w), weights="w").at(0.1).inference(seed=1, nodewise_lambda=0.1)
    b = rs.lasso("y ~ .", df.assign(w=10 * w), weights="w").at(0.1).inference(seed=1, nodewise_lambda=0.1)
    assert a.sigma == pytest.approx(b.sigma, rel=1e-8)


def test_refitted_cv_needs_twenty_rows(rng):
    df, _ = make_regression(rng, n=18, p=3, k=1)
    fit = rs.lasso("y ~ .", df).at(0.05)
    inf = fit.inference(seed=1, nodewise_lambda=0.1)
    assert "Reid" in inf.sigma_method                    # the default falls back to the residuals
    with pytest.raises(ParameterError, match="at least 20 rows"):
        fit.inference(seed=1, nodewise_lambda=0.1, sigma="rcv")
    with pytest.raises(ParameterError, match="se must be one of"):
        fit.inference(se="sandwich")


def test_linearly_dependent_columns_get_no_interval(rng):
    """x2 = 2 x0 - x1 + 3 exactly: the three coefficients are not identifiable in the full model, so they
    get no estimate or interval (R's lm gives NA), with a warning; the linearized se would otherwise be
    the least-squares se given the lasso's support, which leaves out the collinear partner."""
    df, _ = make_regression(rng, n=80, p=5, k=2)
    df["x5"] = 2 * df["x0"] - df["x1"] + 3
    fit = rs.lasso("y ~ .", df).at(0.05)
    with pytest.warns(InferenceWarning, match="not identifiable"):
        inf = fit.inference(seed=1, nodewise_lambda=0.05)
    t = inf.table
    assert t.loc[["x0", "x1", "x5"], ["estimate", "std_error", "p_value"]].isna().all().all()
    assert t.loc[["x2", "x3", "x4"], "std_error"].notna().all()
    assert any("not identifiable" in note for note in inf.notes)
    glm = rs.lasso("z ~ . - y", df.assign(z=(df["y"] > df["y"].median()).astype(int)), family="binomial").at(0.02)
    with pytest.warns(InferenceWarning, match="not identifiable"):
        g = glm.inference(seed=1, nodewise_lambda=0.05)
    assert g.table.loc[["x0", "x1", "x5"], "estimate"].isna().all()


def test_aliased_columns_only_below_p_equals_n(rng):
    from regstats.inference import aliased_columns

    X = rng.standard_normal((30, 4))
    X[:, 3] = X[:, 0] - X[:, 1]
    X -= X.mean(0)
    np.testing.assert_array_equal(aliased_columns(X), [True, True, False, True])
    np.testing.assert_array_equal(aliased_columns(X[:, :3]), [False, False, False])
    wide = rng.standard_normal((10, 20))
    assert not aliased_columns(wide - wide.mean(0)).any()


def test_elastic_net_fits_keep_the_model_based_se(data):
    df, _ = data
    fit = rs.elastic_net("y ~ .", df, l1_ratio=0.5).at(0.05)
    inf = fit.inference(sigma=1.0, nodewise_lambda=0.07, initial="fit")
    ref = fit.inference(sigma=1.0, nodewise_lambda=0.07, initial="fit", se="model")
    assert inf.details["se"] == "model"
    pd.testing.assert_frame_equal(inf.table, ref.table)
    assert any("derived for lasso fits" in note for note in inf.notes)
