"""Bias-variance decomposition: analytic ridge against an explicit smoother matrix, simulation
against the analytic values and against Monte Carlo test error (z-scores on the Monte Carlo
standard errors), limits in lambda, bootstrap against a plain re-implementation, bad input."""
import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats.biasvar import bias_variance
from regstats.errors import ParameterError

from conftest import make_regression

COLUMNS = ["lambda", "bias2", "variance", "noise", "risk", "df"]


def _problem(rng, n=50, p=6, weights=False, nonlinear=False):
    df, beta = make_regression(rng, n=n, p=p, k=3)
    cols = [f"x{j}" for j in range(p)]
    X = df[cols].to_numpy()
    mu = 2.0 + X @ beta
    if nonlinear:  # a truth outside the model: bias does not vanish at lambda = 0
        mu = mu + 0.8 * np.sin(2 * X[:, 0])
    if weights:
        df["w"] = rng.uniform(0.3, 3.0, n)
    return df, mu


def _smoother(path):
    """Explicit n x n smoother matrices S(lam) on the original scale, from n unit-vector refits
    (the penalty held fixed: the observed s_y)."""
    n = path.n_obs
    X = path._design.X
    S = np.empty((len(path.lambdas), n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        _, sol = path._refit(y=e, y_scale=path._prep.y_scale)
        S[:, :, i] = sol.coef @ X.T + sol.intercept[:, None]
    return S


# the gram solver reports an infinite duality gap for ridge with an unpenalized column (its answer is
# still exact, as this test shows); the warning is the solver's to fix
@pytest.mark.filterwarnings("ignore::regstats.errors.ConvergenceWarning")
@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("pf", [None, {"x0": 0.0, "x1": 2.5}])
@pytest.mark.parametrize("per_row_sd", [False, True])
def test_analytic_equals_explicit_smoother(rng, weights, pf, per_row_sd):
    df, mu = _problem(rng, weights=weights, nonlinear=True)
    path = rs.ridge("y ~ .", df, weights="w" if weights else None, penalty_factor=pf, n_lambda=8,
                    tol=1e-10)
    n = path.n_obs
    w = df["w"].to_numpy() * n / df["w"].sum() if weights else np.ones(n)
    sd = rng.uniform(0.5, 2.0, n) if per_row_sd else 1.3 / np.sqrt(w)
    bv = bias_variance(path, "analytic", mu=mu, sigma=sd if per_row_sd else 1.3)
    assert list(bv.columns) == COLUMNS
    S = _smoother(path)
    bias2 = np.array([w @ (Sk @ mu - mu) ** 2 / n for Sk in S])
    var = np.array([w @ np.einsum("ij,j,ij->i", Sk, sd * sd, Sk) / n for Sk in S])
    np.testing.assert_allclose(bv["bias2"], bias2, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(bv["variance"], var, rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(bv["noise"], w @ sd ** 2 / n, rtol=1e-12)
    np.testing.assert_allclose(bv["risk"], bv["noise"] + bv["bias2"] + bv["variance"], rtol=1e-14)
    # df: the path's df and the trace of the smoother minus the intercept
    np.testing.assert_allclose(bv["df"], path.table["df"], rtol=1e-8)
    np.testing.assert_allclose(bv["df"], [np.trace(Sk) - 1 for Sk in S], rtol=1e-7, atol=1e-9)
    assert bv.attrs["method"] == "analytic" and bv.attrs["mc"] is None


@pytest.mark.parametrize("n, p, standardize", [(30, 50, True), (30, 50, False), (40, 6, False)])
def test_analytic_p_greater_than_n_and_unstandardized(rng, n, p, standardize):
    df, mu = _problem(rng, n=n, p=p, nonlinear=True)
    path = rs.ridge("y ~ .", df, n_lambda=6, standardize=standardize)
    bv = bias_variance(path, "analytic", mu=mu, sigma=1.0)
    S = _smoother(path)
    np.testing.assert_allclose(bv["bias2"], [((Sk @ mu - mu) ** 2).mean() for Sk in S], rtol=1e-9)
    np.testing.assert_allclose(bv["variance"], [(Sk * Sk).sum() / n for Sk in S], rtol=1e-9)


def test_analytic_without_intercept(rng):
    df, mu = _problem(rng, weights=True)
    path = rs.ridge("y ~ . - 1", df, weights="w", n_lambda=6)
    bv = bias_variance(path, "analytic", mu=mu, sigma=1.0)
    S = _smoother(path)
    n = path.n_obs
    w = df["w"].to_numpy() * n / df["w"].sum()
    sd = 1.0 / np.sqrt(w)
    np.testing.assert_allclose(bv["bias2"], [w @ (Sk @ mu - mu) ** 2 / n for Sk in S], rtol=1e-8)
    np.testing.assert_allclose(bv["variance"], [w @ np.einsum("ij,j,ij->i", Sk, sd * sd, Sk) / n for Sk in S],
                               rtol=1e-8)


@pytest.mark.parametrize("weights", [False, True])
def test_ridge_simulation_matches_analytic(rng, weights):
    df, mu = _problem(rng, weights=weights, nonlinear=True)
    path = rs.ridge("y ~ .", df, weights="w" if weights else None, n_lambda=10)
    an = bias_variance(path, "analytic", mu=mu, sigma=1.0)
    sim = bias_variance(path, "simulation", mu=mu, sigma=1.0, n_rep=400, seed=3)
    mc = sim.attrs["mc"]
    z_b = (sim["bias2"] - an["bias2"]).to_numpy() / mc["bias2_se"].to_numpy()
    z_v = (sim["variance"] - an["variance"]).to_numpy() / mc["variance_se"].to_numpy()
    assert np.all(np.abs(z_b) < 4) and np.all(np.abs(z_v) < 4), (z_b, z_v)
    np.testing.assert_allclose(sim["df"], an["df"], rtol=1e-10)
    np.testing.assert_allclose(sim["noise"], an["noise"], rtol=1e-12)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_risk_equals_monte_carlo_test_error(rng, l1_ratio):
    df, mu = _problem(rng, weights=True, nonlinear=True)
    path = rs.elastic_net("y ~ .", df, l1_ratio=l1_ratio, weights="w", n_lambda=10)
    sim = bias_variance(path, "simulation", mu=mu, sigma=0.8, n_rep=300, seed=4)
    mc = sim.attrs["mc"]
    z = (sim["risk"].to_numpy() - mc["test_error"].to_numpy()) / mc["risk_test_diff_se"].to_numpy()
    assert np.all(np.abs(z) < 4), z
    # the paired standard error is smaller than the unpaired one (the two share the replicate fits)
    assert np.all(mc["risk_test_diff_se"] < np.hypot(mc["test_error_se"], mc["risk_se"]))
    np.testing.assert_allclose(sim["risk"], sim["noise"] + sim["bias2"] + sim["variance"], rtol=1e-14)
    assert sim.attrs["lambda_min_risk"] == sim["lambda"].iloc[int(np.argmin(sim["risk"]))]


def test_limits_in_lambda(rng):
    """lambda -> 0 (n > p, linear truth): bias -> 0; lambda -> lambda_max: variance -> the
    intercept's sigma^2 / n (the penalized part of the variance vanishes)."""
    df, mu = _problem(rng, n=80)
    sigma = 1.0
    n = 80
    ridge = rs.ridge("y ~ .", df, lambdas=[1e6, 1e3, 1.0, 1e-3, 0.0])
    an = bias_variance(ridge, "analytic", mu=mu, sigma=sigma)
    assert an["bias2"].iloc[-1] == pytest.approx(0.0, abs=1e-20)
    assert an["variance"].iloc[0] == pytest.approx(sigma ** 2 / n, rel=1e-5)
    assert an["variance"].iloc[-1] == pytest.approx(sigma ** 2 * (1 + 6) / n, rel=1e-10)  # OLS: (p+1) sigma^2/n
    assert np.all(np.diff(an["bias2"]) <= 1e-15) and np.all(np.diff(an["variance"]) >= -1e-15)
    grid = rs.lasso("y ~ .", df, n_lambda=30).lambdas
    lasso = rs.lasso("y ~ .", df, lambdas=np.r_[10 * grid[0], grid])  # 10 x lambda_max: all-zero fits
    sim = bias_variance(lasso, "simulation", mu=mu, sigma=sigma, n_rep=200, seed=8)
    mc = sim.attrs["mc"]
    assert abs(sim["bias2"].iloc[-1]) < 4 * mc["bias2_se"].iloc[-1] + 1e-6
    assert sim["bias2"].iloc[-1] < 1e-3 * sim["bias2"].iloc[0]
    assert abs(sim["variance"].iloc[0] - sigma ** 2 / n) < 4 * mc["variance_se"].iloc[0]
    assert sim["df"].iloc[-1] == pytest.approx(6, abs=0.05)


def test_simulation_same_for_any_n_jobs(rng):
    df, mu = _problem(rng)
    path = rs.lasso("y ~ .", df, n_lambda=8)
    a = bias_variance(path, "simulation", mu=mu, sigma=1.0, n_rep=20, seed=9, n_jobs=1)
    b = bias_variance(path, "simulation", mu=mu, sigma=1.0, n_rep=20, seed=9, n_jobs=2)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.attrs["mc"], b.attrs["mc"])
    c = bias_variance(path, "bootstrap", n_rep=20, seed=9, n_jobs=1)
    d = bias_variance(path, "bootstrap", n_rep=20, seed=9, n_jobs=2)
    pd.testing.assert_frame_equal(c.table, d.table)


def test_path_method_delegates(rng):
    df, mu = _problem(rng)
    path = rs.lasso("y ~ .", df, n_lambda=5)
    a = path.bias_variance(mu=mu, sigma=1.0, n_rep=10, seed=1)
    b = bias_variance(path, "simulation", mu=mu, sigma=1.0, n_rep=10, seed=1)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert list(a.columns) == COLUMNS


def test_mu_as_series_over_all_rows_or_column_name(rng):
    df, mu = _problem(rng)
    df["mu"] = mu
    df.loc[3, "x2"] = np.nan            # a dropped row
    path = rs.ridge("y ~ . - mu", df, n_lambda=4)
    keep = np.flatnonzero(df["x2"].notna().to_numpy())
    a = bias_variance(path, "analytic", mu=mu[keep], sigma=1.0)
    b = bias_variance(path, "analytic", mu=df["mu"], sigma=1.0)
    c = bias_variance(path, "analytic", mu="mu", sigma=1.0)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.table, c.table)
    df["sd"] = 1.0
    d = bias_variance(path, "analytic", mu="mu", sigma="sd")     # one sd per row, from a column
    pd.testing.assert_frame_equal(a.table, d.table)
    assert d.attrs["noise_model"] == "one sd per row, as given"


def test_plug_in_truth(rng):
    df, _ = _problem(rng)
    path = rs.ridge("y ~ .", df, n_lambda=5)
    bv = bias_variance(path, "analytic")
    X = np.column_stack([np.ones(len(df)), df[[f"x{j}" for j in range(6)]].to_numpy()])
    y = df["y"].to_numpy()
    coef, rss, *_ = np.linalg.lstsq(X, y, rcond=None)
    assert bv.attrs["sigma"] == pytest.approx(np.sqrt(rss[0] / (len(y) - 7)), rel=1e-10)
    mu_ols = X @ coef
    ref = bias_variance(path, "analytic", mu=mu_ols, sigma=bv.attrs["sigma"])
    pd.testing.assert_frame_equal(bv.table, ref.table)
    assert "least-squares" in bv.attrs["mu_source"]
    at = bias_variance(path, "analytic", reference=float(path.lambdas[4]))
    fit = path.at(path.lambdas[4])
    r = y - fit.predict().to_numpy()
    assert at.attrs["sigma"] == pytest.approx(np.sqrt(r @ r / (len(y) - fit.df - 1)), rel=1e-10)


def test_plug_in_uses_cv_when_p_exceeds_n(rng):
    df, _ = _problem(rng, n=30, p=40)
    path = rs.lasso("y ~ .", df, n_lambda=20)
    bv = bias_variance(path, "simulation", n_rep=6, seed=1)
    assert bv.attrs["mu_source"].startswith("plug-in: fit at CV lambda_min")
    cv = path.cv(folds=10, seed=np.random.SeedSequence(1).spawn(2)[0])
    fit = path.at(cv.lambda_min)
    r = df["y"].to_numpy() - fit.predict().to_numpy()
    assert bv.attrs["sigma"] == pytest.approx(np.sqrt(r @ r / (30 - fit.df - 1)), rel=1e-10)


def test_bootstrap_matches_plain_reimplementation(rng):
    df, _ = _problem(rng, weights=True)
    path = rs.lasso("y ~ .", df, weights="w", n_lambda=6)
    B, sigma = 40, 0.9
    bv = bias_variance(path, "oob_bootstrap", sigma=sigma, n_rep=B, seed=12)
    assert list(bv.columns) == COLUMNS
    # the same resamples, drawn from the same child seeds, and a direct computation
    root = np.random.SeedSequence(12)
    _, rep = root.spawn(2)
    X, y = path._design.X, path._design.y
    n = len(y)
    w = df["w"].to_numpy() * n / df["w"].sum()
    preds = [[] for _ in range(n)]
    for ss in rep.spawn(B):
        rows = np.random.default_rng(ss).integers(0, n, n)
        oob = np.flatnonzero(np.bincount(rows, minlength=n) == 0)
        _, sol = path._refit(rows=rows)
        for i in oob:
            preds[i].append(sol.coef @ X[i] + sol.intercept)
    ok = np.array([len(p) >= 2 for p in preds])
    P = [np.array(preds[i]) for i in np.flatnonzero(ok)]
    wk = w[ok] / w[ok].sum()
    yk = y[ok]
    err = np.array([((yk[j] - Pi) ** 2).mean(axis=0) for j, Pi in enumerate(P)])
    var = np.array([Pi.var(axis=0, ddof=1) for Pi in P])
    m = np.array([Pi.mean(axis=0) for Pi in P])
    k = np.array([len(Pi) for Pi in P])[:, None]
    # risk: OOB error of the averaged prediction = mean OOB error of single refits - variance
    risk = wk @ ((yk[:, None] - m) ** 2 - var / k)
    np.testing.assert_allclose(bv["risk"], risk, rtol=1e-9)
    np.testing.assert_allclose(bv["risk"], wk @ err - wk @ var, rtol=1e-9)
    np.testing.assert_allclose(bv["variance"], wk @ var, rtol=1e-9)
    raw = risk - sigma ** 2 - wk @ var
    np.testing.assert_allclose(bv.attrs["bias2_raw"], raw, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(bv["bias2"], np.maximum(raw, 0), rtol=1e-9, atol=1e-12)
    # noise kept apart from bias, and the parts add up where nothing was clipped
    np.testing.assert_allclose(bv["noise"], sigma ** 2)
    keep = raw >= 0
    np.testing.assert_allclose(bv["risk"][keep], (bv["noise"] + bv["bias2"] + bv["variance"])[keep], rtol=1e-9)


def test_bootstrap_tracks_the_truth_on_simulated_data(rng):
    """With a known truth, the bootstrap's noise is near sigma^2 and its bias2 follows the
    simulation's true bias2: large at lambda_max, ~0 at small lambda (the variance is not
    counted as bias)."""
    df, mu = _problem(rng, n=200)
    path = rs.lasso("y ~ .", df, n_lambda=10)
    bv = bias_variance(path, "oob_bootstrap", n_rep=100, seed=2)
    truth = bias_variance(path, "simulation", mu=mu, sigma=1.0, n_rep=100, seed=2)
    assert bv["noise"].iloc[0] == pytest.approx(1.0, rel=0.25)
    assert bv["bias2"].iloc[0] == pytest.approx(truth["bias2"].iloc[0], rel=0.15)
    assert bv["bias2"].iloc[-1] < 0.05 * bv["variance"].iloc[-1] + 1e-3
    # where the fits are stable the bootstrap spread is close to the true sampling variance
    np.testing.assert_allclose(bv["variance"].iloc[-5:], truth["variance"].iloc[-5:], rtol=0.35)
    assert bv.attrs["lambda_min_risk"] < bv["lambda"].iloc[0]


@pytest.mark.parametrize("method, kwargs, match", [
    ("nope", {}, "method must be one of"),
    ("analytic", {}, "method must be 'simulation' or 'bootstrap'"),
    ("bootstrap", {"mu": "y"}, "mu must be None for method='bootstrap'"),
    ("simulation", {"sigma": 0.0}, "sigma must be a number in"),
    ("simulation", {"sigma": [1.0, 2.0]}, "sigma must have one entry per row"),
    ("simulation", {"mu": np.full(50, np.nan)}, "mu must be finite"),
    ("simulation", {"n_rep": 0}, "n_rep must be an integer >= 2"),
    ("simulation", {"n_jobs": 1.5}, "n_jobs must be a nonzero integer"),
    ("bootstrap", {"n_rep": "many"}, "n_rep must be an integer >= 2"),
    ("simulation", {"reference": -1.0}, "reference must be a number in"),
])
def test_bad_input(rng, method, kwargs, match):
    df, _ = _problem(rng)
    path = rs.lasso("y ~ .", df, n_lambda=4)
    with pytest.raises(ParameterError, match=match):
        bias_variance(path, method, **{"n_rep": 4, "seed": 0, **kwargs})


@pytest.mark.filterwarnings("ignore::regstats.errors.ConvergenceWarning")  # n = p: the path is near-singular
def test_reference_without_residual_df_is_an_error(rng):
    df, _ = _problem(rng, n=6, p=6)
    path = rs.lasso("y ~ .", df, n_lambda=4)
    with pytest.raises(rs.DataError, match="reference must leave residual degrees of freedom"):
        bias_variance(path, "simulation", reference="ols", n_rep=4, seed=0)


def test_seed_none_is_reproducible_from_attrs(rng, capsys):
    df, mu = _problem(rng)
    path = rs.lasso("y ~ .", df, n_lambda=5)
    a = bias_variance(path, "simulation", mu=mu, sigma=1.0, n_rep=10, seed=None, progress=True)
    b = bias_variance(path, "simulation", mu=mu, sigma=1.0, n_rep=10, seed=a.attrs["seed"])
    pd.testing.assert_frame_equal(a.table, b.table)
    assert "bias_variance" in capsys.readouterr().err


def test_result_object_summary_and_frame_access(rng):
    """Issue 17 item 6 and issue 16 item 5: a result with a summary; negative bias2 explained with its
    Monte Carlo SE; the replicate-mean df named next to the path's df."""
    from regstats.biasvar import BiasVariance

    data, mu = _problem(rng, n=80, p=6)
    sigma = 1.0
    path = rs.lasso("y ~ .", data, n_lambda=15)
    bv = bias_variance(path, "simulation", mu=mu, sigma=sigma, n_rep=40, seed=3)
    assert isinstance(bv, BiasVariance)
    assert list(bv.columns) == COLUMNS and len(bv) == 15
    np.testing.assert_allclose(bv["risk"], bv.table["risk"])
    frame = bv.to_frame()
    assert list(frame.columns) == COLUMNS + ["bias2_se", "variance_se", "risk_se", "df_path"]
    np.testing.assert_allclose(frame["bias2_se"], bv.attrs["mc"]["bias2_se"])
    np.testing.assert_allclose(frame["df_path"], path.table["df"])
    text = str(bv.summary())
    assert "bias2_se" in text and "df_path" in text and "mean reported df over the replicates" in text
    assert "<table" in bv._repr_html_() and "BiasVariance simulation" in repr(bv)
    # a negative bias2 is said to be Monte Carlo noise, with its size in SEs
    tab = bv.table.copy()
    tab.loc[0, "bias2"] = -abs(bv.attrs["mc"]["bias2_se"].iloc[0])
    neg = BiasVariance(table=tab, formula=bv.formula, df_path=bv.df_path)
    assert any("negative" in n and "Monte Carlo SE" in n for n in neg.notes())
    assert "negative" in str(neg.summary())
    an = bias_variance(rs.ridge("y ~ .", data, n_lambda=10), "analytic", mu=mu, sigma=sigma)
    assert an.to_frame()["bias2_se"].isna().all() and an.mc is None


def test_residual_bootstrap_estimates_the_fixed_design_variance(rng):
    """Issue 16 item 3: the pairs (out-of-bag) bootstrap's variance is 1.3-2.2x the fixed-design
    variance (it adds the design's variability); the residual bootstrap is near 1x."""
    ratios, ratios_oob = [], []
    for _ in range(3):
        data, beta = make_regression(rng, n=100, p=20, k=5)
        mu = 2.0 + data[[f"x{j}" for j in range(20)]].to_numpy() @ beta
        sigma = 1.0
        path = rs.lasso("y ~ .", data, n_lambda=30)
        truth = bias_variance(path, "simulation", mu=mu, sigma=sigma, n_rep=150, seed=1)
        boot = bias_variance(path, "bootstrap", n_rep=150, seed=2)
        oob = bias_variance(path, "oob_bootstrap", n_rep=150, seed=2)
        mid = slice(8, 30)
        ratios.append((boot["variance"].iloc[mid] / truth["variance"].iloc[mid]).median())
        ratios_oob.append((oob["variance"].iloc[mid] / truth["variance"].iloc[mid]).median())
        assert boot.method == "bootstrap" and "residual bootstrap" in boot.attrs["assumptions"]
        assert boot["noise"].iloc[0] == pytest.approx(boot.attrs["sigma"] ** 2)
    assert 0.75 <= np.mean(ratios) <= 1.25
    assert np.mean(ratios_oob) > 1.2


def test_plot_draws_the_result_with_monte_carlo_bands(rng):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from regstats.report import plots

    data, mu = _problem(rng, n=60, p=5)
    bv = bias_variance(rs.lasso("y ~ .", data, n_lambda=12), "simulation", mu=mu, sigma=1.0, n_rep=30, seed=4)
    fig, ax = plt.subplots()
    assert plots.plot_bias_variance(bv, ax=ax) is ax
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_allclose(lines["bias$^2$"].get_ydata(), bv["bias2"])
    assert len(ax.collections) == 2                       # +-2 SE bands for bias2 and variance
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    se = bv.to_frame()["bias2_se"].to_numpy()
    assert band.min() == pytest.approx(min((bv["bias2"] - 2 * se).min(), (bv["bias2"] + 2 * se).min()))
    plt.close(fig)
