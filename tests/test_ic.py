"""Information criteria and ridge leave-one-out (regstats/ic.py) against direct computation,
statsmodels, scikit-learn and brute-force refits."""
import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats import engine
from regstats.errors import ParameterError
from regstats.ic import _scaled_lasso, _scaled_lasso_lam0, ridge_loo

from conftest import make_regression


def _direct(path, sigma2):
    """AIC/BIC/Cp/GCV by hand from the original-scale coefficients."""
    X, y = path._design.X, path._design.y
    n = len(y)
    w = np.ones(n) if path._options.weights is None else path._options.weights * n / path._options.weights.sum()
    fitted = X @ path.coef[list(path.column_names)].to_numpy().T + path.coef["Intercept"].to_numpy()
    rss = (w[:, None] * (y[:, None] - fitted) ** 2).sum(0)
    k = path.table["df"].to_numpy() + 1
    ll = n * np.log(2 * np.pi * sigma2) + rss / sigma2
    return pd.DataFrame({"rss": rss, "aic": ll + 2 * k, "bic": ll + np.log(n) * k,
                         "cp": rss / n + 2 * k * sigma2 / n, "gcv": rss / n / (1 - k / n) ** 2})


@pytest.mark.parametrize("l1_ratio, weighted", [(1.0, False), (0.5, True), (0.0, False)])
def test_criteria_equal_direct_computation(rng, l1_ratio, weighted):
    df, _ = make_regression(rng, n=80, p=10)
    w = rng.uniform(0.3, 2.0, len(df)) if weighted else None
    path = rs.elastic_net("y ~ .", df, l1_ratio=l1_ratio, weights=w, n_lambda=30)
    ic = path.information_criteria(sigma2=1.7)
    ref = _direct(path, 1.7)
    for c in ("rss", "aic", "bic", "cp", "gcv"):
        np.testing.assert_allclose(ic.table[c], ref[c], rtol=1e-9, err_msg=c)
    for c in ("aic", "bic", "cp", "gcv"):
        assert ic.selected[c] == path.lambdas[int(np.argmin(ref[c].to_numpy()))]
    assert ic.sigma2 == 1.7 and ic.sigma2_method == "given"


def test_ols_noise_variance_equals_statsmodels(rng):
    import statsmodels.api as sm

    df, _ = make_regression(rng, n=90, p=8)
    path = rs.lasso("y ~ .", df, n_lambda=10)
    ic = path.information_criteria()          # auto -> ols since n >= 2 (p + 1)
    X = df.drop(columns="y").to_numpy()
    ols = sm.OLS(df["y"].to_numpy(), sm.add_constant(X)).fit()
    np.testing.assert_allclose(ic.sigma2, ols.scale, rtol=1e-10)
    assert "least squares" in ic.sigma2_method


def test_weighted_ols_noise_variance_equals_statsmodels_wls(rng):
    import statsmodels.api as sm

    df, _ = make_regression(rng, n=90, p=8)
    w = rng.uniform(0.5, 2, len(df))
    path = rs.lasso("y ~ .", df, weights=w, n_lambda=10)
    s2, _ = rs.ic.noise_variance(path, "ols")
    wls = sm.WLS(df["y"].to_numpy(), sm.add_constant(df.drop(columns="y").to_numpy()), weights=w * len(w) / w.sum()).fit()
    np.testing.assert_allclose(s2, wls.scale, rtol=1e-10)


def test_p_greater_than_n_works(rng):
    df, _ = make_regression(rng, n=50, p=120, k=4, noise=1.0)
    path = rs.lasso("y ~ .", df)
    ic = path.information_criteria()
    assert "scaled lasso" in ic.sigma2_method
    assert 0.4 < ic.sigma2 < 2.5                     # true noise variance 1
    assert np.all(np.isfinite(ic.table[["aic", "bic", "cp"]].to_numpy()))
    assert ic.table["gcv"].iloc[-1] == np.inf or np.isfinite(ic.table["gcv"].iloc[-1])
    sel = ic.at("bic")
    assert 0 < sel.n_nonzero < 50
    with pytest.raises(ParameterError, match="sigma2 must be 'scaled' or 'cv'"):
        path.information_criteria(sigma2="ols")
    icv = path.information_criteria(sigma2="cv", seed=1)
    cv = path.cv(folds=10, seed=1)
    k = cv.index_min
    expect = icv.table["rss"].iloc[k] / (50 - path.table["df"].iloc[k] - 1)
    np.testing.assert_allclose(icv.sigma2, expect, rtol=1e-12)


def test_scaled_lasso_fixed_point(rng):
    df, _ = make_regression(rng, n=60, p=100, k=3)
    path = rs.lasso("y ~ .", df, n_lambda=5)
    s2, lam = _scaled_lasso(path._prep)
    sol = engine.solve(path._prep, 1.0, np.array([lam]), tol=1e-12)
    np.testing.assert_allclose(s2, sol.rss[0], rtol=1e-6)                  # sigma^2 = RSS(lam)/n
    np.testing.assert_allclose(lam, np.sqrt(s2) * _scaled_lasso_lam0(60, 100), rtol=1e-6)
    # the quantile penalty solves L = -qnorm((L^4 + 2 L^2) / p) (to the iteration's 1e-3)
    from scipy.stats import norm

    L = _scaled_lasso_lam0(60, 100) / np.sqrt(2 / 60)
    assert abs(L + norm.ppf((L ** 4 + 2 * L ** 2) / 100)) < 5e-3


def test_bad_sigma2(regdata):
    df, _ = regdata
    path = rs.lasso("y ~ .", df, n_lambda=5)
    with pytest.raises(ParameterError, match="sigma2 must be one of"):
        path.information_criteria(sigma2="mle")
    with pytest.raises(ParameterError, match="sigma2 must be a number"):
        path.information_criteria(sigma2=-1.0)
    with pytest.raises(ParameterError, match="criterion must be one of"):
        path.information_criteria().at("hqc")


def test_summary_and_frame(regdata):
    df, _ = regdata
    ic = rs.information_criteria(rs.lasso("y ~ .", df, n_lambda=20))
    text = str(ic.summary())
    assert "BIC" in text and "Noise variance" in text
    assert list(ic.to_frame().columns) == ["lambda", "df", "n_nonzero", "rss", "aic", "bic", "cp", "gcv"]
    assert "<table" in ic._repr_html_()


# ---- ridge leave-one-out -----------------------------------------------------------------------
def _brute_force_loo(path, w=None):
    prep = path._prep
    Xs = path._design.X / prep.x_scale          # the full-data column scaling, held fixed
    y = path._design.y
    n = len(y)
    out = np.empty((n, len(path.lambdas)))
    for i in range(n):
        m = np.arange(n) != i
        # the penalty held fixed, its response scale s_y included (a fixed-lambda statistic)
        pr = engine.prepare(Xs[m], y[m], weights=None if w is None else w[m], standardize=False,
                            y_scale=prep.y_scale)
        s = engine.solve(pr, 0.0, path.lambdas)
        out[i] = y[i] - (Xs[i] @ s.coef.T + s.intercept)
    return out


@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_loo_equals_brute_force_refits(rng, weighted):
    df, _ = make_regression(rng, n=35, p=6)
    w = rng.uniform(0.3, 2.0, len(df)) if weighted else None
    path = rs.ridge("y ~ .", df, weights=w, n_lambda=12)
    loo = path.loo()
    np.testing.assert_allclose(loo.loo_residuals, _brute_force_loo(path, w), rtol=1e-9, atol=1e-10)
    wn = np.ones(len(df)) if w is None else w * len(w) / w.sum()
    np.testing.assert_allclose(loo.table["loo_mse"], (wn[:, None] * loo.loo_residuals ** 2).mean(0), rtol=1e-12)


def test_ridge_loo_equals_sklearn_ridgecv(rng):
    from sklearn.linear_model import RidgeCV

    df, _ = make_regression(rng, n=40, p=7)
    path = rs.ridge("y ~ .", df, standardize=False, n_lambda=8)
    n = len(df)
    X, y = df.drop(columns="y").to_numpy(), df["y"].to_numpy()
    # leaving a row out of our objective (mean loss) is sklearn's alpha = (n - 1) * lam / s_y (sum
    # loss; s_y the observed sd of y, held fixed)
    alphas = (n - 1) * path.lambdas / y.std()
    ours = path.loo().loo_residuals ** 2
    for j, a in enumerate(alphas):
        m = RidgeCV(alphas=[a], store_cv_results=True).fit(X, y)
        np.testing.assert_allclose(ours[:, j], m.cv_results_[:, 0], rtol=1e-8)


def test_ridge_gcv_direct(rng):
    df, _ = make_regression(rng, n=50, p=5)
    path = rs.ridge("y ~ .", df, n_lambda=10)
    loo = ridge_loo(path)
    X = path._prep.X
    n = X.shape[0]
    for j, lam in enumerate(path.lambdas):
        pen = n * lam / path._design.y.std()
        H = np.ones((n, n)) / n + X @ np.linalg.solve(X.T @ X + pen * np.eye(X.shape[1]), X.T)
        r = path._design.y - H @ path._design.y
        gcv = (r @ r / n) / (1 - np.trace(H) / n) ** 2
        np.testing.assert_allclose(loo.table["gcv"].iloc[j], gcv, rtol=1e-9)
    assert loo.lambda_gcv == path.lambdas[int(np.argmin(loo.table["gcv"]))]
    assert loo.at("loo").lam == loo.lambda_loo
    assert "LOO" in str(loo.summary())


def test_ridge_loo_needs_ridge(regdata):
    df, _ = regdata
    with pytest.raises(ParameterError, match="path must be a ridge path"):
        rs.lasso("y ~ .", df, n_lambda=5).loo()


def test_works_where_lassolarsic_cannot(rng):
    from sklearn.linear_model import LassoLarsIC

    df, _ = make_regression(rng, n=40, p=60, k=3)
    X, y = df.drop(columns="y").to_numpy(), df["y"].to_numpy()
    with pytest.raises(ValueError):
        LassoLarsIC(criterion="bic").fit(X, y)          # needs n > p to estimate the noise
    ic = rs.lasso("y ~ .", df, n_lambda=30).information_criteria()
    assert np.isfinite(ic.sigma2) and np.isfinite(ic.selected["bic"])
