"""Selective inference for the lasso at a fixed lambda (regstats/selective.py, method="selective").

Oracles: the closed form for an orthogonal design (the lasso soft-thresholds each column, so the
selected estimate is a normal truncated to [lam, inf) or (-inf, -lam], scipy's truncnorm);
scipy's log-space truncnorm far in the tails; the uniformity of the pivot over lasso selections
made by scikit-learn (a wrong polyhedron breaks it); statsmodels OLS for the estimate and sigma;
and conditional coverage by a small seeded simulation (the full one is
scripts/simulate_coverage.py -> reports/coverage.md).
"""
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import regstats as rs
from regstats import selective
from regstats.errors import ParameterError

from conftest import make_regression


def _orthogonal(rng, n, p):
    """Columns with mean 0, sd 1 (divisor n) and X'X = n I."""
    Z = rng.standard_normal((n, p))
    Z -= Z.mean(axis=0)
    Q, _ = np.linalg.qr(Z)
    return Q * math.sqrt(n)


def test_orthogonal_design_matches_the_truncated_normal_closed_form(rng):
    n, p, sigma, lam = 60, 4, 1.3, 0.25
    X = _orthogonal(rng, n, p)
    y = X @ np.array([0.6, -0.5, 0.0, 0.0]) + sigma * rng.standard_normal(n) + 3.0
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)]).assign(y=y)
    fit = rs.lasso("y ~ .", df, lambdas=[lam], tol=1e-14).at(lam)
    inf = fit.inference(method="selective", sigma=sigma, level=0.9)
    t = inf.table
    sd = sigma / math.sqrt(n)
    for term in t.index:
        j = int(term[1:])
        z = X[:, j] @ y / n                       # = the LS coefficient on E (orthogonal columns)
        a, b = (lam, np.inf) if z > 0 else (-np.inf, -lam)
        assert t.loc[term, "estimate"] == pytest.approx(z, rel=1e-10)
        assert t.loc[term, "std_error"] == pytest.approx(sd, rel=1e-10)
        assert t.loc[term, "trunc_lower"] == pytest.approx(a, rel=1e-8)
        assert t.loc[term, "trunc_upper"] == pytest.approx(b, rel=1e-8)

        def F(mu):
            return stats.truncnorm.cdf(z, (a - mu) / sd, (b - mu) / sd, loc=mu, scale=sd)

        P = F(0.0)
        assert t.loc[term, "p_value"] == pytest.approx(2 * min(P, 1 - P), rel=1e-7)
        lo = optimize.brentq(lambda m: F(m) - 0.95, z - 20 * sd, z + 20 * sd, xtol=1e-14)
        hi = optimize.brentq(lambda m: F(m) - 0.05, z - 20 * sd, z + 20 * sd, xtol=1e-14)
        assert t.loc[term, "ci_lower"] == pytest.approx(lo, rel=1e-7, abs=1e-10)
        assert t.loc[term, "ci_upper"] == pytest.approx(hi, rel=1e-7, abs=1e-10)
    assert set(t.index) == set(fit.selected)


@pytest.mark.parametrize("t, mu, a, b", [
    (10.3, 0.0, 10.0, np.inf),       # far in the upper tail: Phi(b) - Phi(a) is 0 in double precision
    (-12.2, 0.0, -np.inf, -12.0),    # far in the lower tail
    (5.01, -30.0, 5.0, 8.0),         # mu far below a bounded region
    (0.4, 0.1, -0.5, 2.0),           # an ordinary case
])
def test_log_tail_pivot_matches_scipy_truncnorm(t, mu, a, b):
    sd = 1.0
    F, S = (math.exp(v) for v in selective.tn_log_cdf(t, mu, sd, a, b))
    ref = stats.truncnorm(a - mu, b - mu, loc=mu, scale=sd)
    assert F == pytest.approx(ref.cdf(t), rel=1e-8, abs=1e-300)
    assert S == pytest.approx(ref.sf(t), rel=1e-8, abs=1e-300)
    assert 0 < F < 1


def test_interval_ends_are_exact_roots_in_the_tails():
    t, sd, a, b = 10.05, 1.0, 10.0, np.inf
    lo, hi = selective.tn_interval(t, sd, a, b, 0.95)
    assert np.isfinite(lo) and np.isfinite(hi) and lo < t < hi
    ref = stats.truncnorm
    assert ref.cdf(t, a - lo, b - lo, loc=lo) == pytest.approx(0.975, rel=1e-8)
    assert ref.cdf(t, a - hi, b - hi, loc=hi) == pytest.approx(0.025, rel=1e-8)


def test_pivot_is_uniform_over_selections_made_by_scikit_learn(rng):
    """Given the selected set and signs, F(eta'y; eta'mu) is U(0, 1) (Lee et al. 2016, Thm 5.2).

    The selections come from scikit-learn's lasso, the polyhedron from regstats: a wrong
    polyhedron (or none: the naive pivot) is not uniform."""
    from sklearn.linear_model import Lasso

    n, p, sigma, lam = 30, 4, 1.0, 0.15
    C = 0.6 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.standard_normal((n, p)) @ np.linalg.cholesky(C).T
    X = (X - X.mean(0)) / X.std(0)
    mu = X @ np.array([0.35, 0.0, -0.2, 0.0])
    piv, naive = [], []
    for _ in range(1500):
        y = mu + sigma * rng.standard_normal(n)
        y = y - y.mean()
        b = Lasso(alpha=lam, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y).coef_
        if not np.any(b):
            continue
        out = selective.fixed_lasso_inference(X, y, b, n * lam, np.ones(p), sigma, 0.95)
        XE = X[:, out["active"]]
        target = np.linalg.solve(XE.T @ XE, XE.T @ mu)
        for k in range(target.size):
            piv.append(selective.tn_cdf(out["estimate"][k], target[k], out["sd"][k], out["vlo"][k], out["vup"][k]))
            naive.append(stats.norm.cdf((out["estimate"][k] - target[k]) / out["sd"][k]))
    assert len(piv) > 1000
    assert stats.kstest(piv, "uniform").pvalue > 0.01
    assert stats.kstest(naive, "uniform").pvalue < 1e-6


def test_conditional_coverage_small_simulation(rng):
    """Seeded miniature of the coverage study: among replications that select a variable, the
    selective interval covers its projected target at 95% (3 MC SE); the naive refit does not for
    the selected null variables."""
    n, p, lam = 50, 10, 0.3
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:2] = 0.5
    mu = X @ beta
    cover, cover_naive_null = [], []
    for _ in range(250):
        df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)]).assign(y=mu + rng.standard_normal(n))
        fit = rs.lasso("y ~ .", df, lambdas=[lam], tol=1e-12).at(lam)
        if fit.n_nonzero == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sel = fit.inference(method="selective", sigma=1.0).table
            nav = fit.inference(method="naive_refit").table.drop(index="Intercept")
        idx = [int(t[1:]) for t in sel.index]
        XE = np.column_stack([np.ones(n), X[:, idx]])
        target = np.linalg.lstsq(XE, mu, rcond=None)[0][1:]
        cover += list((sel["ci_lower"] <= target) & (target <= sel["ci_upper"]))
        ok = (nav["ci_lower"] <= target) & (target <= nav["ci_upper"])
        cover_naive_null += [c for c, j in zip(ok, idx) if j >= 2]
    m = np.mean(cover)
    assert abs(m - 0.95) <= 3 * math.sqrt(0.95 * 0.05 / len(cover))
    assert np.mean(cover_naive_null) < 0.85


def test_estimate_is_ols_on_the_selected_columns_and_scale_free(rng):
    import statsmodels.api as sm

    df, _ = make_regression(rng, n=80, p=6, k=3, rho=0.3)
    fit = rs.lasso("y ~ .", df, tol=1e-12).at(0.1)
    inf = fit.inference(method="selective")
    sel = list(inf.table.index)
    ols = sm.OLS(df["y"].to_numpy(), sm.add_constant(df[sel].to_numpy())).fit()
    np.testing.assert_allclose(inf.estimate.to_numpy(), ols.params[1:], rtol=1e-8)
    full = sm.OLS(df["y"].to_numpy(), sm.add_constant(df.drop(columns="y").to_numpy())).fit()
    assert inf.sigma == pytest.approx(math.sqrt(full.scale), rel=1e-10)      # n >= 2p: full LS sd
    assert "full least-squares" in inf.sigma_method
    # rescaling a column rescales its estimate and interval, not its p-value (standardize=True)
    df2 = df.assign(x0=df["x0"] * 10.0)
    inf2 = rs.lasso("y ~ .", df2, tol=1e-12).at(0.1).inference(method="selective")
    np.testing.assert_allclose(inf2.table["p_value"], inf.table["p_value"], rtol=1e-6)
    assert inf2.table.loc["x0", "ci_upper"] == pytest.approx(inf.table.loc["x0", "ci_upper"] / 10, rel=1e-6)
    assert inf.table["method"].str.startswith("selective").all()


def test_p_greater_than_half_n_uses_and_names_a_consistent_sigma(rng):
    df, _ = make_regression(rng, n=40, p=30, k=2, noise=0.5)
    inf = rs.lasso("y ~ .", df).at(0.15).inference(method="selective")
    assert "scaled lasso" in inf.sigma_method and "p > n/2" in inf.sigma_method
    assert 0.3 < inf.sigma < 0.8


def test_selective_needs_a_lasso_and_a_selection(data_small):
    df = data_small
    with pytest.raises(ParameterError, match="needs a lasso fit"):
        rs.elastic_net("y ~ .", df, l1_ratio=0.5).at(0.1).inference(method="selective")
    with pytest.raises(ParameterError, match="at least one penalized column"):
        rs.lasso("y ~ .", df).at(1e6).inference(method="selective")
    with pytest.raises(ParameterError, match="sigma must be a number in"):
        rs.lasso("y ~ .", df).at(0.1).inference(method="selective", sigma=-1.0)


@pytest.fixture
def data_small(rng):
    return make_regression(rng, n=50, p=5, k=2)[0]


def _selection(df, lam, **kw):
    """Selected set and signs of the lasso refit (an unpenalized column's sign is not part of it)."""
    beta = rs.lasso("y ~ .", df, lambdas=[lam], tol=1e-14, **kw).at(lam).coef
    free = [c for c, v in kw.get("penalty_factor", {}).items() if v == 0]
    return tuple(0 if c in free else int(np.sign(b)) for c, b in beta.items())


def _boundary(df, d, lam, sel, step, kw):
    """Distance along y + s d (s >= 0, direction of step's sign) at which the lasso refit at lam
    changes its selected set or signs: exponential search, then bisection to 1e-9 of the step."""
    y = df["y"].to_numpy()

    def same(s):
        return _selection(df.assign(y=y + s * d), lam, **kw) == sel

    lo, hi = 0.0, step
    while same(hi):
        lo, hi = hi, 2 * hi
        if abs(hi) > 1e3 * abs(step):
            return math.copysign(math.inf, step)
    while abs(hi - lo) > 1e-9 * abs(step):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if same(mid) else (lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize("case", ["weights", "unpenalized", "both"])
def test_weights_and_unpenalized_columns_against_refits_along_the_line(rng, case):
    """Observation weights and penalty factor 0: the truncation limits are where refits of the
    lasso along the line y + s d change the selected set or the penalized columns' signs (d: the
    polyhedral lemma's direction, y = z + d t with z fixed and t the target's WLS estimate; in
    the weighted metric); estimate and sd are weighted least squares on the selected columns
    (statsmodels WLS); p-value and interval ends are scipy's truncnorm with those limits.  The
    unpenalized column is always selected and has no sign condition."""
    import statsmodels.api as sm

    df, _ = make_regression(rng, n=60, p=5, k=2, rho=0.3)
    data = df
    w = np.ones(len(df))
    refit_kw = {}
    if case in ("weights", "both"):
        w = rng.uniform(0.3, 3.0, len(df))
        w *= len(df) / w.sum()
        refit_kw["weights"] = w
    if case in ("unpenalized", "both"):
        refit_kw["penalty_factor"] = {"x4": 0.0}
    lam, sigma = 0.12, 1.0
    fit = rs.lasso("y ~ .", data, lambdas=[lam], tol=1e-14, **refit_kw).at(lam)
    inf = fit.inference(method="selective", sigma=sigma)
    t = inf.table
    sel_cols = list(t.index)
    if "penalty_factor" in refit_kw:
        assert "x4" in sel_cols and t.loc["x4", "sign"] == 0       # always in the model, no sign condition
    D = sm.add_constant(data[sel_cols].to_numpy())
    wls = sm.WLS(data["y"].to_numpy(), D, weights=w).fit()
    np.testing.assert_allclose(t["estimate"].to_numpy(), wls.params[1:], rtol=1e-8)
    C = np.linalg.inv(D.T @ (w[:, None] * D))
    np.testing.assert_allclose(t["std_error"].to_numpy(), sigma * np.sqrt(np.diag(C)[1:]), rtol=1e-8)
    # default sigma (n >= 2p): the full weighted least-squares residual sd (weights summing to n)
    full = sm.WLS(data["y"].to_numpy(), sm.add_constant(data.drop(columns="y").to_numpy()), weights=w).fit()
    assert fit.inference(method="selective").sigma == pytest.approx(math.sqrt(full.scale), rel=1e-9)
    sel = _selection(data, lam, **refit_kw)
    for i, term in enumerate(sel_cols):
        d = D @ C[:, i + 1] / C[i + 1, i + 1]    # y = z + d t (the polyhedral lemma), t the WLS estimate
        sd = t.loc[term, "std_error"]
        est = t.loc[term, "estimate"]
        up = est + _boundary(data, d, lam, sel, sd, refit_kw)
        lo = est + _boundary(data, d, lam, sel, -sd, refit_kw)
        for mine, oracle in ((t.loc[term, "trunc_lower"], lo), (t.loc[term, "trunc_upper"], up)):
            if math.isinf(oracle):
                assert mine == oracle
            else:
                assert mine == pytest.approx(oracle, abs=1e-7 * sd)
        a, b = (lo - 0.0) / sd, (up - 0.0) / sd
        P = stats.truncnorm.cdf(est, a, b, loc=0.0, scale=sd)
        assert t.loc[term, "p_value"] == pytest.approx(2 * min(P, 1 - P), rel=1e-5, abs=1e-12)
        F = lambda m: stats.truncnorm.cdf(est, (lo - m) / sd, (up - m) / sd, loc=m, scale=sd)  # noqa: E731
        if np.isfinite(t.loc[term, "ci_lower"]):
            assert F(t.loc[term, "ci_lower"]) == pytest.approx(0.975, abs=1e-6)
        if np.isfinite(t.loc[term, "ci_upper"]):
            assert F(t.loc[term, "ci_upper"]) == pytest.approx(0.025, abs=1e-6)
