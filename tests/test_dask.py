"""The dask backend (issue 19): the same formula on a dask DataFrame gives the pandas path's numbers
from sufficient statistics.  Oracles: the pandas path on the same rows (coefficients, df, CV with
the same folds, information criteria, inference, analytic bias-variance) and, for the hashed
bootstrap, the pandas path weighted by the same Poisson counts."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats.errors import DataError, FormulaError, ParameterError

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from regstats.distributed import RowsNeeded, halves, hash_folds, poisson_weights  # noqa: E402

TIGHT = 1e-10


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                       dashboard_address=":0")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n, p = 1200, 6
    X = rng.standard_normal((n, p)) + 5.0          # large means: the statistics must not cancel
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["g"] = rng.choice(["lo", "mid", "hi"], n)
    df["y"] = 3 + X @ np.r_[1.0, -0.8, 0.5, 0, 0, 0] + 0.7 * (df["g"] == "hi") + rng.standard_normal(n)
    df.loc[[3, 40], "x1"] = np.nan
    df.loc[7, "y"] = np.nan
    df["w"] = rng.uniform(0.2, 3.0, n)
    df["fold"] = hash_folds(np.arange(n), 5, 3)
    return df


def test_default_scheduler_no_client(data):
    """Without a distributed client dask's default (threaded) scheduler runs the same passes."""
    if distributed.client._get_global_client() is not None:  # pragma: no cover
        pytest.skip("a global client is active")
    P = rs.lasso("y ~ . - fold - w", data)
    D = rs.lasso("y ~ . - fold - w", dd.from_pandas(data, npartitions=3))
    _close(D.coef.to_numpy(), P.coef.to_numpy())


def _close(a, b, tol=TIGHT):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(1.0, float(np.nanmax(np.abs(a))))
    assert a.shape == b.shape
    assert np.nanmax(np.abs(a - b)) <= tol * scale, np.nanmax(np.abs(a - b))


CASES = [
    ("lasso", "y ~ . - fold - w", {}),
    ("lasso", "y ~ x0 + x1 + C(g) + np.log(x2) + x3:x4", {"weights": "w"}),
    ("ridge", "y ~ . - fold - w", {"weights": "w"}),
    ("enet", "y ~ x0 * x1 + g + x5 - 1", {}),
]


def _fit(kind, formula, data, kw):
    if kind == "enet":
        return rs.elastic_net(formula, data, 0.4, **kw)
    return getattr(rs, kind)(formula, data, **kw)


@pytest.mark.parametrize("kind,formula,kw", CASES)
def test_path_and_cv_equal_pandas(client, data, kind, formula, kw):
    P = _fit(kind, formula, data, kw)
    D = _fit(kind, formula, dd.from_pandas(data, npartitions=4), kw)
    assert (D.n_obs, D.n_dropped, D.column_names) == (P.n_obs, P.n_dropped, P.column_names)
    _close(D.lambdas, P.lambdas)
    _close(D.coef.to_numpy(), P.coef.to_numpy())
    _close(D.table[["df", "n_nonzero", "r2"]].to_numpy(), P.table[["df", "n_nonzero", "r2"]].to_numpy())
    cp, cd = P.cv(foldid="fold"), D.cv(foldid="fold")
    _close(cd.table[["cv_mean", "cv_se"]].to_numpy(), cp.table[["cv_mean", "cv_se"]].to_numpy())
    _close(cd.fold_errors, cp.fold_errors)
    assert (cd.index_min, cd.index_1se) == (cp.index_min, cp.index_1se)
    ip, idk = P.information_criteria(), D.information_criteria()
    assert abs(idk.sigma2 / ip.sigma2 - 1) < TIGHT
    _close(idk.table.drop(columns="lambda").to_numpy(), ip.table.drop(columns="lambda").to_numpy())


def test_hashed_folds_are_cv_with_that_foldid(client, data):
    """cv(folds, seed) folds by a seeded hash of the row position: pandas with those fold ids agrees,
    and the partitioning does not matter."""
    f = "y ~ . - fold - w"
    P = rs.lasso(f, data)
    fid = hash_folds(np.arange(len(data)), 4, 99)
    cp = P.cv(foldid=fid)
    for parts in (1, 5):
        cd = rs.lasso(f, dd.from_pandas(data, npartitions=parts)).cv(folds=4, seed=99)
        _close(cd.table["cv_mean"], cp.table["cv_mean"])
        assert cd.index_1se == cp.index_1se
    assert set(np.unique(fid)) == {1, 2, 3, 4}


def test_inference_equals_pandas(client, data):
    f = "y ~ . - fold - w"
    P, D = rs.lasso(f, data), rs.lasso(f, dd.from_pandas(data, npartitions=3))
    lam = float(P.lambdas[25])
    # the same standard errors (linearized, and model-based); sigma: the dask default is "residual"
    for kw in ({"initial": "fit", "nodewise_lambda": 0.05, "sigma": "residual"},
               {"initial": "fit", "nodewise_lambda": 0.05, "sigma": "residual", "se": "model"},
               {"initial": "fit", "nodewise_lambda": "scaled", "sigma": "residual"},
               {"initial": "fit", "nodewise_lambda": "scaled", "sigma": "scaled_lasso"}):
        a, b = P.at(lam).inference(**kw).table, D.at(lam).inference(**kw).table
        cols = ["estimate", "std_error", "p_value", "ci_lower", "ci_upper", "p_holm"]
        _close(b[cols].to_numpy(), a[cols].to_numpy())
    # the defaults (CV initial estimator, nodewise CV) run on hashed folds: valid, not the same folds
    t = D.at(lam).inference(seed=1).table
    assert t.loc["x0", "p_value"] < 1e-10 and t.loc["x4", "p_value"] > 1e-3
    R, RD = rs.ridge(f, data), rs.ridge(f, dd.from_pandas(data, npartitions=3))
    a, b = R.at(R.lambdas[60]).inference(method="ridge").table, RD.at(R.lambdas[60]).inference(method="ridge").table
    _close(b[["estimate", "std_error", "p_value"]].to_numpy(), a[["estimate", "std_error", "p_value"]].to_numpy())
    with pytest.raises(RowsNeeded, match="rows"):
        D.at(lam).inference(method="selective")
    with pytest.raises(RowsNeeded, match="rcv"):
        D.at(lam).inference(sigma="rcv")


def test_analytic_bias_variance_equals_pandas(client, data):
    f = "y ~ . - fold - w"
    R, RD = rs.ridge(f, data, n_lambda=30), rs.ridge(f, dd.from_pandas(data, npartitions=3), n_lambda=30)
    for ref in ("ols", float(R.lambdas[10])):
        a = R.bias_variance(method="analytic", reference=ref).table
        b = RD.bias_variance(method="analytic", reference=ref).table
        _close(b.drop(columns="lambda").to_numpy(), a.drop(columns="lambda").to_numpy())
    with pytest.raises(RowsNeeded, match="refits"):
        RD.bias_variance(method="simulation")


def test_bootstrap_is_the_poisson_weighted_fit(client, data):
    """Replicate b is the pandas fit weighted by the hashed Poisson(1) counts; any partitioning."""
    f = "y ~ . - fold - w"
    n = len(data)
    D = rs.lasso(f, dd.from_pandas(data, npartitions=4))
    lam = float(D.lambdas[20])
    boot = D.at(lam).bootstrap(n_boot=6, seed=5, tol=1e-12)
    Wt = poisson_weights(np.arange(n), 6, 5)
    assert abs(Wt.mean() - 1) < 0.05 and abs(Wt.var() - 1) < 0.1
    for b in (0, 5):
        ref = rs.lasso(f, data, weights=Wt[b], lambdas=[lam], tol=1e-12)
        _close(boot.draws.iloc[b].to_numpy(), ref.coef.to_numpy()[0], 1e-9)
    again = rs.lasso(f, dd.from_pandas(data, npartitions=2)).at(lam).bootstrap(n_boot=6, seed=5, tol=1e-12)
    _close(again.draws.to_numpy(), boot.draws.to_numpy(), 1e-9)
    with pytest.raises(ParameterError, match="fixed"):
        D.at(lam).bootstrap(n_boot=3, lam="cv")


def test_stability_halves(client, data):
    f = "y ~ . - fold - w"
    a = rs.lasso(f, dd.from_pandas(data, npartitions=4)).stability(seed=2, n_subsamples=5)
    b = rs.lasso(f, dd.from_pandas(data, npartitions=1)).stability(seed=2, n_subsamples=5)
    _close(a.probabilities.to_numpy(), b.probabilities.to_numpy(), 0.0)
    assert a.selection_prob["x0"] == 1.0 and a.n_subsamples == 10
    h = halves(np.arange(1000), 3, 2)
    assert np.all(h[0] + h[1] == 1) and 400 < h[0].sum() < 600
    # one pair: each half's selection is the pandas path's on that half's rows (stabs' rule)
    D = rs.lasso(f, dd.from_pandas(data, npartitions=3))
    one = D.stability(seed=4, n_subsamples=1, q=3, pfer=1, threshold=None)
    H = halves(np.arange(len(data)), 1, 4)
    sel = []
    for h in H:
        sub = rs.lasso(f, data.iloc[np.flatnonzero(h > 0)], lambdas=D.lambdas)
        ever = np.logical_or.accumulate(sub.coef.drop(columns="Intercept").to_numpy() != 0, axis=0)
        ok = np.flatnonzero(ever.sum(axis=1) <= 3)
        held = ever.copy()
        held[ok[-1] + 1:] = ever[ok[-1]]
        sel.append(held)
    expect = np.mean(sel, axis=0)
    np.testing.assert_array_equal(one.probabilities.to_numpy(), expect)


def test_poisson_bootstrap_sd_is_the_least_squares_se(client):
    """At a negligible penalty the bootstrap sd of a coefficient estimates its standard error:
    200 Poisson(1) replicates against statsmodels' OLS standard errors (MC error of an sd ~5%)."""
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    n = 2000
    X = rng.standard_normal((n, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=X @ np.r_[1.0, 0.5, 0.0] + rng.standard_normal(n))
    path = rs.lasso("y ~ a + b + c", dd.from_pandas(df, npartitions=4))
    lam = float(path.lambdas[0]) * 1e-5
    boot = path.at(lam).bootstrap(n_boot=200, seed=9)
    se = sm.OLS(df["y"], sm.add_constant(df[["a", "b", "c"]])).fit().bse.to_numpy()
    ratio = boot.draws.std(ddof=1).to_numpy() / se
    assert np.all(np.abs(ratio - 1) < 0.2), ratio


def test_predict_new_rows_and_rows_needed(client, data, tmp_path):
    f = "y ~ x0 + C(g) + np.log(x2)"
    P, D = rs.lasso(f, data), rs.lasso(f, dd.from_pandas(data, npartitions=3))
    new = data.head(20)
    _close(D.predict(new, lam=0.1).to_numpy(), P.predict(new, lam=0.1).to_numpy())
    D.save(tmp_path / "d.json")
    _close(rs.load(tmp_path / "d.json").predict(new, lam=0.1).to_numpy(), P.predict(new, lam=0.1).to_numpy())
    assert "dropped" in str(D.summary()) and "lambda" in str(D.at(0.1).summary())
    lazy = D.predict(dd.from_pandas(new, npartitions=2), lam=0.1).compute()
    _close(lazy.to_numpy(), P.predict(new, lam=0.1).to_numpy())
    for call in (lambda: D.predict(), lambda: D.at(0.1).predict(), lambda: D.loo(),
                 lambda: D.cv(folds=3, seed=1, loss="mae"), lambda: D.cv(folds=3, seed=1).oof()):
        with pytest.raises(RowsNeeded, match="rows"):
            call()


def test_clear_errors(client, data, monkeypatch):
    ddf = dd.from_pandas(data, npartitions=2)
    with pytest.raises(FormulaError, match="column of the dask DataFrame"):
        rs.lasso("np.log(y) ~ x0", ddf)
    with pytest.raises(FormulaError, match="stateful"):
        rs.lasso("y ~ center(x0) + x1", ddf)
    with pytest.raises(ParameterError, match="column name"):
        rs.lasso("y ~ x0 + x1", ddf, weights=np.ones(len(data)))
    with pytest.raises(ParameterError, match="gaussian"):
        rs.lasso("y ~ x0 + x1", ddf, family="poisson")
    import regstats.distributed.fit as dfit

    monkeypatch.setattr(dfit, "MAX_P", 3)
    with pytest.raises(ParameterError, match="in memory"):
        rs.lasso("y ~ x0 + x1 + x2 + x3", ddf)
    bad = data.assign(x0=np.where(np.arange(len(data)) == 9, np.inf, data["x0"]))
    with pytest.raises(DataError, match="infinite"):
        rs.lasso("y ~ x0 + x1", dd.from_pandas(bad, npartitions=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(rs.DesignWarning, match="constant"):
            rs.lasso("y ~ x0 + k", dd.from_pandas(data.assign(k=1.0), npartitions=2))


def test_cv_elastic_net_and_categorical_dtype(client, data):
    """cv_elastic_net shares one statistics pass and one fold pass across l1_ratios; a categorical
    column keeps its own level order (the pandas path's coding)."""
    cat = data.assign(g=pd.Categorical(data["g"], categories=["mid", "lo", "hi"]))
    f = "y ~ x0 + x2 + g"
    a = rs.cv_elastic_net(f, cat, l1_ratios=(0.5, 1.0), foldid="fold")
    b = rs.cv_elastic_net(f, dd.from_pandas(cat, npartitions=3), l1_ratios=(0.5, 1.0), foldid="fold")
    assert b.results[0].path.column_names == a.results[0].path.column_names == ("x0", "x2", "g[T.lo]", "g[T.hi]")
    _close(b.table.to_numpy(dtype=float), a.table.to_numpy(dtype=float))
    assert (b.l1_ratio_min, b.results[1].index_1se) == (a.l1_ratio_min, a.results[1].index_1se)


def test_inference_linearly_dependent_columns_like_pandas(client, data):
    """Columns that are exact linear combinations of others get no interval on both paths."""
    from regstats.inference import InferenceWarning

    df = data.assign(x9=2 * data["x0"] - data["x1"] + 3)
    f = "y ~ x0 + x1 + x2 + x3 + x9"
    kw = {"initial": "fit", "nodewise_lambda": 0.05, "sigma": "residual"}
    with pytest.warns(InferenceWarning, match="not identifiable"):
        a = rs.lasso(f, df).at(0.05).inference(**kw).table
    with pytest.warns(InferenceWarning, match="not identifiable"):
        b = rs.lasso(f, dd.from_pandas(df, npartitions=3)).at(0.05).inference(**kw).table
    pd.testing.assert_index_equal(a.index[a["estimate"].isna()], pd.Index(["x0", "x1", "x9"], name=a.index.name))
    pd.testing.assert_index_equal(b.index[b["estimate"].isna()], a.index[a["estimate"].isna()])
    _close(b.loc[["x2", "x3"], ["estimate", "std_error"]].to_numpy(), a.loc[["x2", "x3"], ["estimate", "std_error"]].to_numpy())
