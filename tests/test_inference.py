"""Inference after penalization (regstats/inference.py).

Oracles: an independent numpy + scikit-learn implementation of the desparsified lasso (nodewise
lasso residuals, debiasing, standard errors), of the scaled lasso and of hdi's nodewise
cross-validation; the closed-form ridge covariance on the original scale; statsmodels OLS for
the post-selection fit; Holm and Benjamini-Hochberg written out by hand; and a small seeded
coverage simulation (the full one is scripts/simulate_coverage.py -> reports/coverage.md).
"""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import regstats as rs
from regstats.errors import ParameterError
from regstats.inference import Inference, scaled_lasso

from conftest import make_regression


def _sk_lasso(X, y, alpha):
    from sklearn.linear_model import Lasso

    return Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=500_000).fit(X, y).coef_


def _sk_scaled_lasso(X, y, lam0):
    n = len(y)
    sigma = np.sqrt(y @ y / n)
    b = np.zeros(X.shape[1])
    for _ in range(200):
        b = _sk_lasso(X, y, sigma * lam0)
        new = np.sqrt(np.sum((y - X @ b) ** 2) / n)
        if abs(new - sigma) < 1e-12:
            break
        sigma = new
    return b, new


def _oracle_desparsified(X, y, beta, sigma, node_lam=None, lam0=None, w=None):
    """Debiased lasso written out from van de Geer et al. (2014), nodewise lassos by sklearn.
    Weights: rows multiplied by sqrt(w) after weighted centring (w normalised to sum n)."""
    n, p = X.shape
    w = np.ones(n) if w is None else w * n / w.sum()
    sw = np.sqrt(w)[:, None]
    Xc = sw * (X - w @ X / n)
    yc = sw[:, 0] * (y - w @ y / n)
    Xs = Xc / np.sqrt((Xc ** 2).mean(axis=0))
    est, se = np.empty(p), np.empty(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        if node_lam is None:
            g, _ = _sk_scaled_lasso(Xs[:, others], Xs[:, j], lam0)
        else:
            g = _sk_lasso(Xs[:, others], Xs[:, j], node_lam)
        z = Xs[:, j] - Xs[:, others] @ g
        est[j] = beta[j] + z @ (yc - Xc @ beta) / (z @ Xc[:, j])
        se[j] = sigma * np.linalg.norm(z) / abs(z @ Xc[:, j])
    return est, se


@pytest.fixture
def data(rng):
    df, beta = make_regression(rng, n=90, p=7, k=3, rho=0.5)
    df["x3"] *= 10.0  # unequal scales: the estimates must come back on the original scale
    path = rs.lasso("y ~ .", df, tol=1e-12)
    return df, beta, path


def test_desparsified_matches_independent_implementation(data):
    df, _, path = data
    fit = path.at(0.08)
    inf = fit.inference(sigma=1.3, nodewise_lambda=0.07, initial="fit", se="model")
    X = df.drop(columns="y").to_numpy()
    est, se = _oracle_desparsified(X, df["y"].to_numpy(), fit.coef.to_numpy(), 1.3, node_lam=0.07)
    np.testing.assert_allclose(inf.estimate.to_numpy(), est, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(inf.std_error.to_numpy(), se, rtol=1e-7)
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(inf.table["ci_lower"], est - z * se, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(inf.table["p_value"], 2 * stats.norm.sf(np.abs(est / se)), rtol=1e-6, atol=1e-12)
    assert (inf.table["method"] == "desparsified lasso").all()


def test_desparsified_weighted(data, rng):
    df, _, _ = data
    df = df.assign(w=rng.uniform(0.3, 3.0, len(df)))
    path = rs.lasso("y ~ x0 + x1 + x2 + x3 + x4 + x5 + x6", df, weights="w", tol=1e-12)
    fit = path.at(0.06)
    inf = fit.inference(sigma=1.1, nodewise_lambda=0.05, initial="fit", se="model")
    X = df[[f"x{j}" for j in range(7)]].to_numpy()
    est, se = _oracle_desparsified(X, df["y"].to_numpy(), fit.coef.to_numpy(), 1.1, node_lam=0.05,
                                   w=df["w"].to_numpy())
    np.testing.assert_allclose(inf.estimate.to_numpy(), est, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(inf.std_error.to_numpy(), se, rtol=1e-7)


def test_desparsified_with_scaled_nodewise_lasso(data):
    df, _, path = data
    fit = path.at(0.05)
    n, p = len(df), 7
    lam0 = math.sqrt(2 * math.log(p) / n)
    inf = fit.inference(sigma=0.9, nodewise_lambda="scaled", initial="fit", se="model")
    X = df.drop(columns="y").to_numpy()
    est, se = _oracle_desparsified(X, df["y"].to_numpy(), fit.coef.to_numpy(), 0.9, lam0=lam0)
    np.testing.assert_allclose(inf.estimate.to_numpy(), est, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(inf.std_error.to_numpy(), se, rtol=1e-6)


def test_scaled_lasso_sigma_matches_independent_iteration(data):
    df, _, path = data
    X = df.drop(columns="y").to_numpy()
    y = df["y"].to_numpy()
    Xs = (X - X.mean(0)) / X.std(0)
    yc = y - y.mean()
    lam0 = math.sqrt(2 * math.log(X.shape[1]) / len(y))
    b_ref, s_ref = _sk_scaled_lasso(Xs, yc, lam0)
    b, s = scaled_lasso(Xs, yc)
    assert s == pytest.approx(s_ref, rel=1e-6)
    np.testing.assert_allclose(b, b_ref, atol=1e-6)
    inf = path.at(0.05).inference(nodewise_lambda=0.1, sigma="scaled_lasso", lam0=lam0)
    assert inf.sigma == pytest.approx(s_ref, rel=1e-6)
    assert "scaled lasso" in inf.sigma_method


def test_residual_sigma(data):
    df, _, path = data
    fit = path.at(0.05)
    inf = fit.inference(sigma="residual", nodewise_lambda=0.1, initial="fit")
    r = df["y"] - fit.predict()
    dfres = len(df) - fit.n_nonzero - 1
    assert inf.sigma == pytest.approx(math.sqrt((r ** 2).sum() / dfres), rel=1e-10)


def test_nodewise_cv_matches_independent_cv(data):
    from sklearn.linear_model import lasso_path

    df, _, path = data
    inf = path.at(0.05).inference(seed=7, folds=5, nodewise_lambda="cv")
    cvtab = inf.details["nodewise_cv"]
    X = df.drop(columns="y").to_numpy()
    Xs = (X - X.mean(0)) / X.std(0)
    n, p = Xs.shape
    G = Xs.T @ Xs / n
    lmax = np.abs(G - np.diag(np.diag(G))).max()
    # glmnet's lambda_min_ratio rule for p - 1 predictors, 50 lambdas per two decades
    ratio, N = (1e-4, 100) if n > p - 1 else (1e-2, 50)
    grid = lmax * ratio ** (np.arange(N) / (N - 1))
    m = len(cvtab)  # the walk down the grid stops 5 lambdas past the minimum
    np.testing.assert_allclose(cvtab["lambda"], grid[:m], rtol=1e-12)
    # seed 7's second child draws the nodewise folds (the first, the initial fit's CV folds)
    fold = np.random.default_rng(np.random.SeedSequence(7).spawn(2)[1]).permutation(np.arange(n) % 5)
    err = np.zeros(grid.size)
    for f in range(5):
        tr, te = Xs[fold != f], Xs[fold == f]
        mu = tr.mean(0)
        tr, te = tr - mu, te - mu
        for j in range(p):
            others = [k for k in range(p) if k != j]
            _, coefs, _ = lasso_path(tr[:, others], tr[:, j], alphas=grid, tol=1e-12, max_iter=100_000)
            err += ((te[:, [j]] - te[:, others] @ coefs) ** 2).mean(axis=0)
    err /= 5 * p
    np.testing.assert_allclose(cvtab["cv_mean"], err[:m], rtol=1e-5)
    assert inf.details["nodewise_lambda"][0] == pytest.approx(grid[np.argmin(err)], rel=1e-12)
    assert m == N or m - 1 - np.argmin(err[:m]) >= 5
    again = path.at(0.05).inference(seed=7, folds=5, nodewise_lambda="cv")
    pd.testing.assert_frame_equal(inf.table, again.table)


def _sk_variance_factor(Xs, lam):
    """hdi's calcM written out: mean over columns of ||z_j||^2 / (z_j'x_j)^2, sklearn nodewise lassos."""
    p = Xs.shape[1]
    m = 0.0
    for j in range(p):
        others = [k for k in range(p) if k != j]
        z = Xs[:, j] - Xs[:, others] @ _sk_lasso(Xs[:, others], Xs[:, j], lam)
        m += (z @ z) / (z @ Xs[:, j]) ** 2
    return m / p


def test_znz_nodewise_rule_against_independent_variance_factor(data):
    """The Z&Z rule (hdi's improve.lambda.pick): the smallest nodewise lambda below CV's whose average
    variance factor stays under znz_factor x its value at CV's lambda, to the refinement's resolution."""
    df, _, path = data
    f = 1.05
    inf = path.at(0.05).inference(seed=7, folds=5, znz_factor=f, sigma=1.0, se="model")
    cv = path.at(0.05).inference(seed=7, folds=5, nodewise_lambda="cv", sigma=1.0, se="model")
    lam_cv = inf.details["nodewise_lambda_cv"]
    lam = inf.details["nodewise_lambda"][0]
    assert lam_cv == cv.details["nodewise_lambda"][0]      # the same CV underneath
    assert lam < lam_cv and "Z&Z" in inf.details["nodewise_rule"]
    X = df.drop(columns="y").to_numpy()
    Xs = (X - X.mean(0)) / X.std(0)
    m_cv = _sk_variance_factor(Xs, lam_cv)
    m = _sk_variance_factor(Xs, lam)
    assert inf.details["nodewise_variance_ratio"] == pytest.approx(m / m_cv, rel=1e-6)
    assert m < f * m_cv <= _sk_variance_factor(Xs, 0.99 * lam)     # fine steps are 0.9916 x
    # same initial estimate and sigma: the smaller nodewise penalty widens every interval
    assert (inf.std_error > cv.std_error).all()
    est, se = _oracle_desparsified(X, df["y"].to_numpy(), path.at(inf.details["initial_lambda"]).coef.to_numpy(),
                                   1.0, node_lam=lam)
    np.testing.assert_allclose(inf.estimate.to_numpy(), est, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(inf.std_error.to_numpy(), se, rtol=1e-6)
    # factor 1: nothing below CV's lambda keeps the variance, so the rule returns CV's lambda
    one = path.at(0.05).inference(seed=7, folds=5, znz_factor=1.0, sigma=1.0, se="model")
    assert one.details["nodewise_lambda"][0] == lam_cv
    pd.testing.assert_frame_equal(one.table, cv.table)


def test_standard_error_is_van_de_geers_theta_sigma_theta(data):
    """se_j = sigma sqrt((Theta Sigma-hat Theta')_jj / n) with van de Geer et al.'s (2014) Theta-hat:
    rows (1, -gamma_j) / tau_j^2, tau_j^2 = ||x_j - X_-j gamma_j||^2 / n + lam ||gamma_j||_1 (standardized
    columns, sklearn's nodewise lassos), and the estimate b + Theta X'(y - X b) / n."""
    df, _, path = data
    lam, sigma = 0.1, 1.3
    fit = path.at(0.05)
    inf = fit.inference(sigma=sigma, nodewise_lambda=lam, initial="fit", se="model")
    X = df.drop(columns="y").to_numpy()
    y = df["y"].to_numpy()
    n, p = X.shape
    sd = X.std(0)
    Xs = (X - X.mean(0)) / sd
    yc = y - y.mean()
    Theta = np.zeros((p, p))
    for j in range(p):
        others = [k for k in range(p) if k != j]
        g = _sk_lasso(Xs[:, others], Xs[:, j], lam)
        r = Xs[:, j] - Xs[:, others] @ g
        tau2 = r @ r / n + lam * np.abs(g).sum()
        Theta[j, j] = 1 / tau2
        Theta[j, others] = -g / tau2
    b = fit.coef.to_numpy() * sd                        # standardized scale
    est = b + Theta @ Xs.T @ (yc - Xs @ b) / n
    se = sigma * np.sqrt(np.diag(Theta @ (Xs.T @ Xs / n) @ Theta.T) / n)
    np.testing.assert_allclose(inf.estimate.to_numpy() * sd, est, rtol=1e-6)
    np.testing.assert_allclose(inf.std_error.to_numpy() * sd, se, rtol=1e-6)


def test_p_greater_than_n(rng):
    df, beta = make_regression(rng, n=40, p=60, k=2, noise=0.5)
    path = rs.lasso("y ~ .", df)
    inf = path.at(0.1).inference(seed=1)
    t = inf.table
    assert len(t) == 60
    assert np.all(np.isfinite(t["estimate"])) and np.all(t["std_error"] > 0)
    assert t.loc["x0", "p_value"] < 1e-3 and t.loc["x1", "p_value"] < 1e-3


def test_progress_bars(data, capsys):
    _, _, path = data
    path.at(0.05).inference(seed=1, progress=True)
    err = capsys.readouterr().err
    assert "nodewise CV" in err and "nodewise lasso" in err


def test_adjusted_p_values_by_hand(data):
    _, _, path = data
    inf = path.at(0.05).inference(nodewise_lambda=0.1)
    pv = inf.table["p_value"].to_numpy()
    m = pv.size
    order = np.argsort(pv)
    holm = np.empty(m)
    holm[order] = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * pv[order]))
    bh = np.empty(m)
    bh[order] = np.minimum(1, np.minimum.accumulate((m / np.arange(m, 0, -1) * pv[order][::-1]))[::-1])
    np.testing.assert_allclose(inf.table["p_holm"], holm, rtol=1e-12)
    np.testing.assert_allclose(inf.table["p_bh"], bh, rtol=1e-12)


def test_holm_equals_statsmodels(rng):
    from statsmodels.stats.multitest import multipletests

    from regstats.inference import holm

    for m in (1, 2, 7, 50):
        pv = rng.uniform(size=m) ** 3
        pv[rng.integers(m)] = pv[0]  # a tie
        np.testing.assert_allclose(holm(pv), multipletests(pv, method="holm")[1], rtol=1e-15)


def test_coverage_small_simulation(rng):
    """Seeded miniature of scripts/simulate_coverage.py: Toeplitz design, sparse truth."""
    from scipy.linalg import toeplitz

    n, p, s, reps = 100, 25, 3, 20
    L = np.linalg.cholesky(toeplitz(0.5 ** np.arange(p)))
    cover_act, cover_null, p_null = [], [], []
    for r in range(reps):
        X = rng.standard_normal((n, p)) @ L.T
        beta = np.zeros(p)
        beta[:s] = 1.0
        df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
        df["y"] = X @ beta + rng.standard_normal(n)
        path = rs.lasso("y ~ .", df)
        _, sig = scaled_lasso(path._prep.X, path._prep.y)
        fit = path.at(sig * math.sqrt(2 * math.log(p) / n))
        t = fit.inference(seed=r, initial="fit").table
        inside = (t["ci_lower"].to_numpy() <= beta) & (beta <= t["ci_upper"].to_numpy())
        cover_act += list(inside[:s])
        cover_null += list(inside[s:])
        p_null += list(t["p_value"].to_numpy()[s:])
    assert 0.8 <= np.mean(cover_act) <= 1.0
    assert 0.92 <= np.mean(cover_null) <= 0.98
    assert stats.kstest(p_null, "uniform").pvalue > 0.01


def test_ridge_standard_errors_closed_form(rng):
    df, _ = make_regression(rng, n=60, p=5, k=2)
    df["x2"] *= 5
    lam = 0.3
    fit = rs.ridge("y ~ .", df, lambdas=[lam]).at(lam)
    inf = fit.inference(method="ridge", sigma=1.1)
    X = df.drop(columns="y").to_numpy()
    Xc = X - X.mean(0)
    yc = df["y"].to_numpy() - df["y"].mean()
    n = len(yc)
    pen = n * lam / yc.std()          # the ridge penalty is lam / s_y
    M = np.linalg.inv(Xc.T @ Xc + pen * np.diag(Xc.var(0)))
    b = M @ Xc.T @ yc
    cov = 1.1 ** 2 * M @ Xc.T @ Xc @ M
    np.testing.assert_allclose(inf.estimate.to_numpy(), b, rtol=1e-9)
    np.testing.assert_allclose(inf.estimate.to_numpy(), fit.coef.to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(inf.std_error.to_numpy(), np.sqrt(np.diag(cov)), rtol=1e-9)
    bias = -M @ (pen * np.diag(Xc.var(0)) @ b)
    np.testing.assert_allclose(inf.table["bias"].to_numpy(), bias, rtol=1e-8)
    assert (inf.table["method"] == "ridge (biased)").all()
    assert any("biased" in note for note in inf.notes)
    # residual sigma: RSS / (n - 1 - tr(2H - HH'))
    H = Xc @ M @ Xc.T
    r = yc - Xc @ b
    res = fit.inference(method="ridge", sigma="residual")
    assert res.sigma == pytest.approx(np.sqrt(r @ r / (n - 1 - np.trace(2 * H - H @ H.T))), rel=1e-9)


def test_ridge_tends_to_ols_as_lambda_vanishes(rng):
    import statsmodels.api as sm

    df, _ = make_regression(rng, n=50, p=4, k=2)
    fit = rs.ridge("y ~ .", df, lambdas=[1e-10]).at(1e-10)
    inf = fit.inference(method="ridge", sigma="residual")
    X = df.drop(columns="y").to_numpy()
    ols = sm.OLS(df["y"].to_numpy(), sm.add_constant(X)).fit()
    np.testing.assert_allclose(inf.std_error.to_numpy(), ols.bse[1:], rtol=1e-6)
    np.testing.assert_allclose(inf.estimate.to_numpy(), ols.params[1:], rtol=1e-6)


def test_naive_refit_is_statsmodels_ols_on_the_selected_columns_and_warns(data):
    import statsmodels.api as sm

    from regstats.inference import NaiveInferenceWarning

    df, _, path = data
    fit = path.at(0.15)
    with pytest.warns(NaiveInferenceWarning, match="method='selective'"):
        inf = fit.inference(method="naive_refit", level=0.9)
    sel = list(fit.selected)
    ols = sm.OLS(df["y"].to_numpy(), sm.add_constant(df[sel].to_numpy())).fit()
    t = inf.table
    assert list(t.index) == ["Intercept"] + sel
    np.testing.assert_allclose(t["estimate"], ols.params, rtol=1e-10)
    np.testing.assert_allclose(t["std_error"], ols.bse, rtol=1e-10)
    np.testing.assert_allclose(t["p_value"], ols.pvalues, rtol=1e-10)
    np.testing.assert_allclose(t[["ci_lower", "ci_upper"]], ols.conf_int(alpha=0.1), rtol=1e-10)
    assert t["method"].str.contains("naive").all() and t["method"].str.contains("not valid").all()
    assert np.isnan(t.loc["Intercept", "p_holm"])


def test_old_post_selection_name_points_to_the_two_new_ones(data):
    with pytest.raises(ParameterError, match="'selective'.*'naive_refit'"):
        data[2].at(0.15).inference(method="post_selection")


def test_to_frame_columns_and_rendering(data):
    _, _, path = data
    inf = path.at(0.05).inference(nodewise_lambda=0.1)
    assert isinstance(inf, Inference)
    cols = list(inf.to_frame().columns)
    assert cols[:8] == ["term", "estimate", "std_error", "statistic", "p_value", "ci_lower", "ci_upper", "method"]
    assert {"p_holm", "p_bh"} <= set(cols)
    assert "desparsified lasso" in str(inf.summary())
    assert "<table" in inf._repr_html_()
    assert "p_value" in inf.summary().to_markdown()
    assert list(inf.conf_int().columns) == ["ci_lower", "ci_upper"]


def test_fit_summary_gains_the_columns(data):
    _, _, path = data
    fit = path.at(0.05)
    boot = fit.bootstrap(n_boot=20, seed=1)
    inf = fit.inference(nodewise_lambda=0.1)
    s = fit.summary(bootstrap=boot, inference=inf)
    tab = s.tables[0][1].set_index("term")
    assert list(tab.columns) == ["estimate", "selection_freq", "debiased", "ci_lower", "ci_upper", "p_value"]
    np.testing.assert_allclose(tab.loc["x0", "debiased"], inf.estimate["x0"])
    np.testing.assert_allclose(tab.loc["x0", "selection_freq"], boot.selection_freq["x0"])
    assert np.isnan(tab.loc["Intercept", "debiased"])
    assert list(fit.summary(bootstrap=boot).tables[0][1].columns) == ["term", "estimate", "selection_freq"]
    assert list(fit.summary().tables[0][1].columns) == ["term", "estimate"]
    with pytest.raises(ParameterError, match="inference must be computed from this fit"):
        fit.summary(inference=path.at(0.02).inference(nodewise_lambda=0.1))
    with pytest.raises(ParameterError, match="bootstrap must be a Bootstrap"):
        fit.summary(bootstrap=inf)


@pytest.mark.parametrize("kw, msg", [
    ({"method": "bayes"}, "method must be one of"),
    ({"level": 0}, "level must be a number in"),
    ({"sigma": "mad"}, "sigma must be one of"),
    ({"sigma": -1.0}, "sigma must be a number in"),
    ({"nodewise_lambda": "aic"}, "nodewise_lambda must be one of"),
    ({"nodewise_lambda": 0.0}, "nodewise_lambda must be a number in"),
    ({"folds": 1}, "folds must be an integer >= 2"),
    ({"znz_factor": 0.5}, "znz_factor must be a number in"),
    ({"method": "ridge"}, "method='ridge' needs a ridge fit"),
])
def test_bad_arguments(data, kw, msg):
    _, _, path = data
    with pytest.raises(ParameterError, match=msg):
        path.at(0.05).inference(**kw)


def test_naive_refit_needs_a_selection(data):
    _, _, path = data
    with pytest.raises(ParameterError, match="fit must select at least one column"):
        rs.lasso("y ~ . - 1", data[0]).at(1e6).inference(method="naive_refit")


def test_default_initial_fit_is_the_cv_lasso_and_residual_sigma_its_df_corrected_residuals(data):
    df, _, path = data
    inf = path.at(0.15).inference(seed=3, nodewise_lambda=0.1, sigma="residual")
    cv_ss = np.random.SeedSequence(3).spawn(2)[0]
    lam = path.cv(folds=10, seed=cv_ss).lambda_min
    init = path.at(lam)
    r = df["y"] - init.predict()
    assert inf.details["initial_lambda"] == pytest.approx(lam, rel=1e-12)
    assert inf.sigma == pytest.approx(math.sqrt((r ** 2).sum() / (len(df) - init.n_nonzero - 1)), rel=1e-9)
    assert "Reid" in inf.sigma_method and any("lambda_min" in note for note in inf.notes)
    X = df.drop(columns="y").to_numpy()
    est, _ = _oracle_desparsified(X, df["y"].to_numpy(), init.coef.to_numpy(), inf.sigma, node_lam=0.1)
    np.testing.assert_allclose(inf.estimate.to_numpy(), est, rtol=1e-7, atol=1e-9)


def test_default_sigma_is_not_biased_upward(rng):
    """Issue 16: the old default (scaled lasso, lam0 = sqrt(2 log(p)/n)) averaged 1.07 for a true 1
    at n = 100, p = 50 (Toeplitz 0.5, s0 = 5), so null intervals over-covered."""
    from scipy.linalg import toeplitz

    n, p = 100, 50
    L = np.linalg.cholesky(toeplitz(0.5 ** np.arange(p)))
    sig = []
    for r in range(40):
        X = rng.standard_normal((n, p)) @ L.T
        df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
        df["y"] = X[:, :5].sum(axis=1) + rng.standard_normal(n)
        sig.append(rs.lasso("y ~ .", df).at(0.1).inference(seed=r, nodewise_lambda=0.2).sigma)
    assert 0.95 <= np.mean(sig) <= 1.03
