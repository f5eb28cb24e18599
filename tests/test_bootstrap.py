"""Pairs bootstrap of a fit (regstats/bootstrap.py::bootstrap).

Oracles: each replicate refitted independently with scikit-learn's Lasso on the same resampled
rows (standardized by hand on the replicate), and the per-column statistics recomputed with
numpy from the draws.
"""
import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats._parallel import spawn_seeds
from regstats.bootstrap import Bootstrap
from regstats.errors import ParameterError

from conftest import make_regression


@pytest.fixture
def small(rng):
    df, beta = make_regression(rng, n=80, p=8, k=3)
    path = rs.lasso("y ~ .", df, tol=1e-10)
    return df, path, path.at(0.1)


def _sk_lasso_standardized(X, y, lam):
    from sklearn.linear_model import Lasso

    m, s = X.mean(axis=0), X.std(axis=0)
    Xs = (X - m) / s
    mod = Lasso(alpha=lam, fit_intercept=True, tol=1e-14, max_iter=200_000).fit(Xs, y)
    coef = mod.coef_ / s
    return np.concatenate([[mod.intercept_ - m @ coef], coef])


def test_replicates_match_sklearn_on_the_same_rows(small):
    df, path, fit = small
    boot = fit.bootstrap(n_boot=6, seed=11)
    X = df.drop(columns="y").to_numpy()
    y = df["y"].to_numpy()
    for k, s in enumerate(spawn_seeds(11, 6)):
        rows = np.random.default_rng(s).integers(0, len(y), len(y))
        ref = _sk_lasso_standardized(X[rows], y[rows], fit.lam)
        np.testing.assert_allclose(boot.draws.iloc[k].to_numpy(), ref, atol=2e-6, rtol=1e-5)


def test_statistics_are_those_of_the_draws(small):
    _, _, fit = small
    boot = fit.bootstrap(n_boot=60, seed=3, level=0.9)
    d = boot.draws.to_numpy()
    tab = boot.to_frame().set_index("term")
    assert list(boot.to_frame().columns) == ["term", "selection_freq", "mean", "sd", "ci_lower", "ci_upper",
                                             "sign_consistency", "estimate"]
    np.testing.assert_allclose(tab["selection_freq"], (d != 0).mean(axis=0))
    np.testing.assert_allclose(tab["mean"], d.mean(axis=0))
    np.testing.assert_allclose(tab["sd"], d.std(axis=0, ddof=1))
    np.testing.assert_allclose(tab["ci_lower"], np.quantile(d, 0.05, axis=0))
    np.testing.assert_allclose(tab["ci_upper"], np.quantile(d, 0.95, axis=0))
    pos, neg = (d > 0).sum(axis=0), (d < 0).sum(axis=0)
    with np.errstate(invalid="ignore"):
        sc = np.maximum(pos, neg) / (pos + neg)
    np.testing.assert_allclose(tab["sign_consistency"], sc)
    np.testing.assert_allclose(tab["estimate"], fit.params.to_numpy())
    assert tab.loc["Intercept", "selection_freq"] == 1.0


def test_same_numbers_for_any_n_jobs(small):
    _, _, fit = small
    a = fit.bootstrap(n_boot=40, seed=5, n_jobs=1)
    b = fit.bootstrap(n_boot=40, seed=5, n_jobs=2)
    np.testing.assert_array_equal(a.draws.to_numpy(), b.draws.to_numpy())
    c = fit.bootstrap(n_boot=40, seed=6)
    assert not np.array_equal(a.draws.to_numpy(), c.draws.to_numpy())


def test_strong_signal_is_stable_noise_is_not(rng):
    df, beta = make_regression(rng, n=200, p=10, k=2, noise=0.5)
    fit = rs.lasso("y ~ .", df).at(0.05)
    boot = fit.bootstrap(n_boot=100, seed=1)
    freq = boot.selection_freq
    assert freq[["x0", "x1"]].min() == 1.0
    assert boot.sign_consistency[["x0", "x1"]].min() == 1.0
    # the percentile interval of a strong coefficient covers the (shrunken) full-data estimate
    tab = boot.to_frame().set_index("term")
    assert (tab.loc[["x0", "x1"], "ci_lower"] <= tab.loc[["x0", "x1"], "estimate"]).all()
    assert (tab.loc[["x0", "x1"], "ci_upper"] >= tab.loc[["x0", "x1"], "estimate"]).all()


def test_factor_term_view(rng):
    n = 120
    df = pd.DataFrame({"g": rng.choice(["a", "b", "c"], n), "x": rng.standard_normal(n)})
    df["y"] = 1.5 * (df["g"] == "b") + df["x"] + rng.standard_normal(n)
    fit = rs.lasso("y ~ C(g) + x", df).at(0.05)
    boot = fit.bootstrap(n_boot=30, seed=2)
    tf = boot.term_frame().set_index("term")
    cols = list(fit.path.terms["C(g)"])
    assert tf.loc["C(g)", "n_columns"] == 2
    nz = boot.draws[cols] != 0
    assert tf.loc["C(g)", "selection_freq"] == pytest.approx(nz.any(axis=1).mean())
    assert tf.loc["C(g)", "mean_n_selected"] == pytest.approx(nz.sum(axis=1).mean())
    assert "Formula terms" in str(boot.summary())


def test_unpenalized_column_always_selected(rng):
    df, _ = make_regression(rng, n=60, p=5, k=1)
    fit = rs.lasso("y ~ .", df, penalty_factor={"x4": 0}).at(0.5)
    boot = fit.bootstrap(n_boot=20, seed=0)
    assert boot.selection_freq["x4"] == 1.0


def test_weighted_fit_replicates_use_the_weights(rng):
    df, _ = make_regression(rng, n=70, p=4, k=2)
    df["w"] = rng.uniform(0.5, 2, len(df))
    path = rs.lasso("y ~ x0 + x1 + x2 + x3", df, weights="w", tol=1e-10)
    fit = path.at(0.05)
    boot = fit.bootstrap(n_boot=3, seed=4)
    rows = np.random.default_rng(spawn_seeds(4, 3)[0]).integers(0, len(df), len(df))
    prep, sol = path._refit(rows=rows, lambdas=np.array([fit.lam]))
    np.testing.assert_allclose(boot.draws.iloc[0].to_numpy()[1:], sol.coef[0], atol=1e-6)
    np.testing.assert_allclose(boot.draws.iloc[0].to_numpy()[0], sol.intercept[0], atol=1e-6)


def test_cv_lambda_in_each_replicate(small):
    _, path, fit = small
    boot = fit.bootstrap(n_boot=4, seed=9, lam="cv", cv_folds=5)
    assert boot.lam_mode == "cv"
    assert np.all(np.isin(boot.lambdas, path.lambdas))
    again = fit.bootstrap(n_boot=4, seed=9, lam="cv", cv_folds=5, n_jobs=2)
    np.testing.assert_array_equal(boot.draws.to_numpy(), again.draws.to_numpy())
    one_se = fit.bootstrap(n_boot=4, seed=9, lam="cv", cv_folds=5, cv_rule="1se")
    assert np.all(one_se.lambdas >= boot.lambdas)


def test_cv_replicate_matches_cross_validate_on_the_resampled_data(small):
    from regstats.cv import make_folds

    df, path, fit = small
    boot = fit.bootstrap(n_boot=2, seed=21, lam="cv", cv_folds=5)
    for k, s in enumerate(spawn_seeds(21, 2)):
        rng = np.random.default_rng(s)
        rows = rng.integers(0, len(df), len(df))
        foldid = make_folds(len(rows), 5, rng, groups=rows)
        # duplicates of a row share a fold: no test row is also a training row
        for f in np.unique(foldid):
            assert not set(rows[foldid == f]) & set(rows[foldid != f])
        df_b = df.iloc[rows].reset_index(drop=True)
        path_b = rs.lasso("y ~ .", df_b, lambdas=path.lambdas, tol=1e-10)
        cv = path_b.cv(foldid=foldid)
        assert boot.lambdas[k] == pytest.approx(cv.lambda_min, rel=1e-12)
        np.testing.assert_allclose(boot.draws.iloc[k].to_numpy(), path_b.at(cv.lambda_min).params.to_numpy(),
                                   atol=1e-6)


def test_results_render(small):
    _, _, fit = small
    boot = fit.bootstrap(n_boot=10, seed=1)
    assert isinstance(boot, Bootstrap)
    assert "Bootstrap coefficient stability" in str(boot.summary())
    assert "<table" in boot._repr_html_()
    assert "selection_freq" in boot.summary().to_markdown()
    assert "Bootstrap" in repr(boot)


def test_progress_bar(small, capsys):
    _, _, fit = small
    fit.bootstrap(n_boot=5, seed=1, progress=True)
    assert "bootstrap" in capsys.readouterr().err


@pytest.mark.parametrize("kw, msg", [
    ({"n_boot": 1}, "n_boot must be an integer >= 2"),
    ({"n_boot": 2.5}, "n_boot must be"),
    ({"lam": "aic"}, "lam must be one of"),
    ({"level": 1.0}, "level must be a number in (0, 1)"),
    ({"n_jobs": 0}, "n_jobs must be a nonzero integer"),
    ({"cv_rule": "max"}, "cv_rule must be one of"),
    ({"cv_folds": 1}, "cv_folds must be an integer >= 2"),
    ({"seed": -1}, "seed must be"),
])
def test_bad_arguments(small, kw, msg):
    _, _, fit = small
    args = {"n_boot": 5, **kw}
    with pytest.raises(ParameterError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        fit.bootstrap(**args)
