"""Relaxed lasso (regstats/relaxed.py) against least squares and recorded cv.glmnet(relax=TRUE)."""
from pathlib import Path as FilePath

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats.errors import ParameterError

from conftest import make_regression

FIX = FilePath(__file__).parent / "fixtures"


def test_gamma_zero_is_least_squares_on_the_active_set(rng):
    import statsmodels.api as sm

    df, _ = make_regression(rng, n=80, p=10)
    w = rng.uniform(0.5, 2.0, len(df))
    path = rs.lasso("y ~ .", df, weights=w, n_lambda=20)
    rp = path.relax()
    for k in (3, 8, 15):
        lam = path.lambdas[k]
        active = [c for c in path.column_names if path.coef.loc[lam, c] != 0]
        wls = sm.WLS(df["y"], sm.add_constant(df[active]), weights=w).fit()
        got = rp.coef.loc[(0.0, lam)]
        np.testing.assert_allclose(got[active].to_numpy(), wls.params[active].to_numpy(), rtol=1e-8)
        np.testing.assert_allclose(got["Intercept"], wls.params["const"], rtol=1e-8)
        assert (got.drop(["Intercept"] + active) == 0).all()
        # blends are linear in gamma; gamma = 1 is the lasso
        np.testing.assert_allclose(rp.coef.loc[(0.25, lam)].to_numpy(),
                                   0.25 * path.coef.loc[lam].to_numpy() + 0.75 * got.to_numpy(), rtol=1e-10)
        np.testing.assert_allclose(rp.coef.loc[(1.0, lam)].to_numpy(), path.coef.loc[lam].to_numpy(), rtol=1e-12)
        fit = rp.at(lam, 0.5)
        np.testing.assert_allclose(fit.params.to_numpy(), rp.coef.loc[(0.5, lam)].to_numpy(), rtol=1e-10)
        assert fit.df == len(active)


def test_relaxed_cv_matches_cvglmnet_relax():
    """glmnet's lambda = 0 refits are coordinate descent (inexact at the 1e-6 level even at thresh
    1e-14); ours are exact least squares, so gamma < 1 curves agree to 1e-4 and gamma = 1 to 1e-6."""
    data = pd.read_csv(FIX / "cvglmnet_lasso_data.csv")
    lam = pd.read_csv(FIX / "cvglmnet_lasso_curve.csv")["lambda"].to_numpy()
    ref = pd.read_csv(FIX / "cvglmnet_relaxed_curve.csv")
    sel = pd.read_csv(FIX / "cvglmnet_relaxed_selected.csv").iloc[0]
    path = rs.lasso("y ~ . - foldid", data, lambdas=lam, tol=1e-14)
    cv = path.relax().cv(foldid="foldid")
    t = cv.table.merge(ref, on=["gamma", "lambda"], validate="one_to_one")
    assert len(t) == len(ref) == len(cv.table)
    np.testing.assert_allclose(t["cv_mean"], t["cvm"], rtol=1e-4)
    np.testing.assert_allclose(t["cv_se"], t["cvsd"], rtol=1e-4)
    one = t[t["gamma"] == 1.0]
    np.testing.assert_allclose(one["cv_mean"], one["cvm"], rtol=1e-6)
    assert (cv.lambda_1se, cv.gamma_1se) == (sel["lambda_1se"], sel["gamma_1se"])
    assert cv.gamma_min == sel["gamma_min"]
    # glmnet's lambda_min sits in a block of lambdas whose gamma = 0 fits share every fold's active
    # set, so their CV errors are equal; glmnet's inexact refits break the tie, ours keep it and take
    # the largest lambda (glmnet's own tie rule)
    g0 = cv.table[cv.table["gamma"] == 0.0].set_index("lambda")["cv_mean"]
    assert g0[cv.lambda_min] == g0[sel["lambda_min"]] == g0.min()
    assert cv.lambda_min >= sel["lambda_min"]
    # gamma = 1 equals the plain CV
    plain = path.cv(foldid="foldid")
    np.testing.assert_allclose(cv.table[cv.table["gamma"] == 1.0]["cv_mean"], plain.table["cv_mean"], rtol=1e-12)
    assert "1se" in str(cv.summary()) and "<table" in cv._repr_html_()
    assert cv.best.lam == cv.lambda_1se and cv.at("min").lam == cv.lambda_min


def test_relaxed_n_jobs_and_bad_input(regdata):
    df, _ = regdata
    rp = rs.lasso("y ~ .", df, n_lambda=15).relax(gammas=[0, 0.5, 1])
    a = rp.cv(folds=4, seed=2)
    b = rp.cv(folds=4, seed=2, n_jobs=2)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    with pytest.raises(ParameterError, match="gammas must be"):
        rs.lasso("y ~ .", df, n_lambda=5).relax(gammas=[1.5])
    with pytest.raises(ParameterError, match="gamma must be a number in"):
        rp.at(0.1, 2.0)
    assert set(rp.to_frame().columns) == {"gamma", "lambda", "term", "estimate"}
    assert "Relaxed" in str(rp.summary())


def test_relaxed_wide_uses_minimum_norm(rng):
    df, _ = make_regression(rng, n=30, p=60, k=3)
    path = rs.lasso("y ~ .", df, lambda_min_ratio=1e-3, n_lambda=30)
    rp = path.relax(gammas=[0.0])
    assert np.all(np.isfinite(rp.coef.to_numpy()))
