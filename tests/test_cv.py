"""Cross-validation (regstats/cv.py) against recorded cv.glmnet output and numpy references.

Fixtures come from tests/record_cvglmnet_fixtures.R (R 4.2.2, glmnet 4.1-6, thresh = 1e-14,
explicit lambda sequences); the tests never run R.
"""
from pathlib import Path as FilePath

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats import engine
from regstats.cv import cross_validate, cv_stats, make_folds, select_lambdas
from regstats.errors import DataError, ParameterError

from conftest import make_regression

FIX = FilePath(__file__).parent / "fixtures"
SELECTED = pd.read_csv(FIX / "cvglmnet_selected.csv").set_index("case")

CASES = {
    # case: (formula, path kwargs, cv kwargs)
    "lasso": ("y ~ . - foldid", {"l1_ratio": 1.0}, {}),
    "lasso_mae": ("y ~ . - foldid", {"l1_ratio": 1.0}, {"loss": "mae"}),
    "weights": ("y ~ . - foldid - w", {"l1_ratio": 1.0, "weights": "w"}, {}),
    "penalty_factor": ("y ~ . - foldid", {"l1_ratio": 1.0,
                                           "penalty_factor": [0, 1, 1, 2, 1, 0, 1, 1, 2, 2, 1, 1]}, {}),
    "formula": ("y ~ x1 + x2 + x3 + C(g)", {"l1_ratio": 1.0}, {}),
    # cv.glmnet itself with alpha = 0.5 on a response of sd ~ 20: each fold's ridge part is divided
    # by that fold's sd of y, as ours is
    "enet_glmnet": ("y ~ . - foldid", {"l1_ratio": 0.5}, {}),
}


def _fixture(case):
    data = pd.read_csv(FIX / f"cvglmnet_{case}_data.csv")
    curve = pd.read_csv(FIX / f"cvglmnet_{case}_curve.csv")
    return data, curve


def _cv_case(case, formula, pkw, cvkw):
    data, curve = _fixture(case)
    path = rs.elastic_net(formula, data, lambdas=curve["lambda"].to_numpy(), tol=1e-14, **pkw)
    return path, path.cv(foldid="foldid", **cvkw), curve


@pytest.mark.parametrize("case", list(CASES))
def test_matches_cvglmnet(case):
    path, cv, curve = _cv_case(case, *CASES[case])
    np.testing.assert_allclose(cv.table["lambda"], curve["lambda"], rtol=0, atol=0)
    np.testing.assert_allclose(cv.table["cv_mean"], curve["cvm"], rtol=1e-6)
    np.testing.assert_allclose(cv.table["cv_se"], curve["cvsd"], rtol=1e-6)
    assert cv.lambda_min == SELECTED.loc[case, "lambda_min"]
    assert cv.lambda_1se == SELECTED.loc[case, "lambda_1se"]
    # nonzero counts of the full fit; the first lambda is lambda_max itself, where either side may
    # keep one coefficient at rounding level
    np.testing.assert_array_equal(cv.table["n_nonzero"].to_numpy()[1:], curve["nzero"].to_numpy()[1:])


def test_formula_case_drops_missing_rows_and_reads_foldid_column():
    data, curve = _fixture("formula")
    path = rs.lasso("y ~ x1 + x2 + x3 + C(g)", data, lambdas=curve["lambda"].to_numpy(), tol=1e-14)
    assert path.n_dropped > 0
    by_name = path.cv(foldid="foldid")
    by_full_array = path.cv(foldid=data["foldid"].to_numpy())           # one per data row
    by_used_array = path.cv(foldid=data["foldid"].to_numpy()[path._design.rows])
    pd.testing.assert_frame_equal(by_name.table, by_full_array.table)
    pd.testing.assert_frame_equal(by_name.table, by_used_array.table)


def test_wide_lasso_close_to_cvglmnet_and_exact_by_kkt():
    """p > n: glmnet's fold fits violate KKT by ~2.5e-7 even at thresh 1e-14 (ours by ~1e-15), so the
    curves agree to 1e-4 only; selections agree and our fold fits are checked by KKT."""
    data, curve = _fixture("lasso_wide")
    path = rs.lasso("y ~ . - foldid", data, lambdas=curve["lambda"].to_numpy(), tol=1e-14)
    cv = path.cv(foldid="foldid")
    np.testing.assert_allclose(cv.table["cv_mean"], curve["cvm"], rtol=1e-4)
    np.testing.assert_allclose(cv.table["cv_se"], curve["cvsd"], rtol=1e-4)
    assert cv.lambda_min == SELECTED.loc["lasso_wide", "lambda_min"]
    assert cv.lambda_1se == SELECTED.loc["lasso_wide", "lambda_1se"]
    train = np.flatnonzero(cv.foldid[0] != 1)
    prep, sol = path._refit(rows=train)
    for k in (50, 99):
        grad = -(prep.X.T @ (prep.y - prep.X @ sol.beta[k])) / prep.n
        nz = sol.beta[k] != 0
        lam = path.lambdas[k]
        assert np.max(np.abs(grad[nz] + lam * np.sign(sol.beta[k][nz]))) < 1e-9
        assert np.max(np.abs(grad[~nz])) <= lam + 1e-9


def test_enet_folds_use_their_own_response_scale():
    """Each training fold has its own s_y (as cv.glmnet): holding the full data's s_y fixed in every
    fold gives another curve, which cv.glmnet's does not match."""
    import dataclasses

    data, curve = _fixture("enet_glmnet")
    path = rs.elastic_net("y ~ . - foldid", data, l1_ratio=0.5, lambdas=curve["lambda"].to_numpy(), tol=1e-14)
    fid = data["foldid"].to_numpy()
    model = dataclasses.replace(path._model, y_scale=path._prep.y_scale)
    y, X = path._design.y, path._design.X
    raw = np.empty((len(y), len(path.lambdas)))
    for k in np.unique(fid):
        tr, te = fid != k, fid == k
        prep = model.prepare(np.flatnonzero(tr))
        assert prep.y_scale == path._prep.y_scale
        sol = model.solve(prep, path.lambdas)
        raw[te] = (y[te, None] - (X[te] @ sol.coef.T + sol.intercept)) ** 2
    fixed, _, _, _ = cv_stats(raw, fid, None)
    assert np.max(np.abs(fixed / curve["cvm"].to_numpy() - 1)) > 1e-4
    ours = path.cv(foldid="foldid")
    np.testing.assert_allclose(ours.table["cv_mean"], curve["cvm"], rtol=1e-6)


def test_cv_stats_against_direct_formula(rng):
    n, L = 37, 4
    raw = rng.exponential(size=(n, L))
    w = rng.uniform(0.1, 3, n)
    fid = make_folds(n, 5, rng)
    mean, se, fe, fw = cv_stats(raw, fid, w)
    e = np.array([np.average(raw[fid == k], axis=0, weights=w[fid == k]) for k in range(1, 6)])
    W = np.array([w[fid == k].sum() for k in range(1, 6)])
    m = (W[:, None] * e).sum(0) / W.sum()
    s = np.sqrt((W[:, None] * (e - m) ** 2).sum(0) / W.sum() / 4)
    np.testing.assert_allclose(mean, m, rtol=1e-13)
    np.testing.assert_allclose(se, s, rtol=1e-13)
    np.testing.assert_allclose(fe, e, rtol=1e-13)
    np.testing.assert_allclose(fw, W, rtol=1e-13)


def test_lambda_1se_direction():
    lam = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.5])
    mean = np.array([3.0, 1.5, 1.2, 1.0, 1.05, 1.3])
    se = np.full(6, 0.25)
    i_min, i_1se = select_lambdas(lam, mean, se)
    assert lam[i_min] == 2.0
    assert lam[i_1se] == 3.0                       # not 1.0 or 0.5 (the smaller lambdas also qualify)
    tie = np.array([3.0, 1.0, 1.0, 2.0, 1.0, 1.3])
    assert lam[select_lambdas(lam, tie, se)[0]] == 4.0   # ties: the largest lambda, as glmnet


def test_cv_selection_properties(regdata):
    df, _ = regdata
    cv = rs.lasso("y ~ .", df).cv(folds=5, seed=3)
    t = cv.table
    assert cv.lambda_1se >= cv.lambda_min
    bound = t["cv_mean"].iloc[cv.index_min] + t["cv_se"].iloc[cv.index_min]
    assert t["cv_mean"].iloc[cv.index_1se] <= bound
    assert np.all(t["cv_mean"][t["lambda"] > cv.lambda_1se] > bound)
    assert list(t.columns[:3]) == ["lambda", "cv_mean", "cv_se"]
    assert {"n_nonzero", "df"} <= set(t.columns)


def test_oof_predictions_equal_path_refit(regdata):
    df, _ = regdata
    w = np.random.default_rng(1).uniform(0.5, 2, len(df))
    path = rs.lasso("y ~ .", df, weights=w, n_lambda=20)
    cv = path.cv(folds=4, seed=2)
    fid = cv.foldid[0]
    test = fid == 2
    prep, sol = path._refit(rows=np.flatnonzero(~test))
    pred = path._design.X[test] @ sol.coef.T + sol.intercept
    np.testing.assert_allclose(cv.oof_predictions[0][test], pred, rtol=1e-12, atol=1e-12)
    assert cv.oof(0).shape == (len(df), 20)
    # weighted MSE of the fold, by hand
    e2 = ((path._design.y[test, None] - pred) ** 2 * w[test, None]).sum(0) / w[test].sum()
    np.testing.assert_allclose(cv.fold_errors[0][1], e2, rtol=1e-12)


def test_same_numbers_for_any_n_jobs(regdata):
    df, _ = regdata
    path = rs.elastic_net("y ~ .", df, l1_ratio=0.7, n_lambda=30)
    a = path.cv(folds=5, seed=11, n_jobs=1)
    b = path.cv(folds=5, seed=11, n_jobs=2)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    np.testing.assert_array_equal(a.foldid, b.foldid)
    c = path.cv(folds=5, seed=12)
    assert not np.array_equal(a.foldid, c.foldid)


def test_groups_never_straddle_folds(rng):
    df, _ = make_regression(rng, n=120, p=5)
    df["site"] = rng.integers(0, 17, len(df))
    path = rs.lasso("y ~ . - site", df, n_lambda=10)
    cv = path.cv(folds=5, groups="site", seed=4, n_repeats=2)
    for fid in cv.foldid:
        per_group = pd.Series(fid).groupby(df["site"].to_numpy()).nunique()
        assert (per_group == 1).all()
        assert len(np.unique(fid)) == 5
    assert cv.grouped_by == "site"


def test_make_folds_balanced(rng):
    fid = make_folds(103, 10, rng)
    counts = np.bincount(fid)[1:]
    assert counts.max() - counts.min() <= 1 and counts.sum() == 103
    g = rng.integers(0, 40, 500)
    fid = make_folds(500, 5, rng, g)
    counts = np.bincount(fid)[1:]
    assert counts.min() > 0.7 * counts.max()


def test_repeats_average_the_curves(regdata):
    df, _ = regdata
    path = rs.lasso("y ~ .", df, n_lambda=25)
    cv = path.cv(folds=5, seed=5, n_repeats=3)
    singles = [path.cv(foldid=cv.foldid[r]) for r in range(3)]
    np.testing.assert_allclose(cv.table["cv_mean"], np.mean([s.table["cv_mean"] for s in singles], 0), rtol=1e-12)
    np.testing.assert_allclose(cv.table["cv_se"], np.mean([s.table["cv_se"] for s in singles], 0), rtol=1e-12)
    assert list(cv.repeats["lambda_min"]) == [s.lambda_min for s in singles]
    assert "repeats" in str(cv.summary())


def test_best_and_at(regdata):
    df, _ = regdata
    path = rs.lasso("y ~ .", df, n_lambda=30)
    cv = path.cv(folds=5, seed=1)
    pd.testing.assert_frame_equal(cross_validate(path, folds=5, seed=1).table, cv.table)
    pd.testing.assert_series_equal(cv.best.params, path.at(cv.lambda_1se).params)
    assert cv.at("min").lam == cv.lambda_min
    assert cv.at(0.1).lam == 0.1
    with pytest.raises(ParameterError, match="lam must be a number >= 0 or one of 'lambda.1se'"):
        cv.at("best")
    s = cv.summary()
    text = str(s)
    assert "min" in text and "1se" in text and "Mean-Squared Error" in text
    assert "<table" in cv._repr_html_() and s.to_markdown().startswith("###")
    assert list(cv.selection().columns) == ["lambda", "index", "measure", "se", "nonzero"]
    pd.testing.assert_frame_equal(cv.to_frame(), cv.table)
    assert len(cv.predict(df.head(3))) == 3


@pytest.mark.parametrize("kwargs, match", [
    ({"folds": 1}, "folds must be an integer >= 2"),
    ({"folds": 1000}, "folds must be at most the number of rows"),
    ({"loss": "rmse"}, "loss must be one of"),
    ({"foldid": np.ones(100)}, "foldid must have at least 2 distinct folds"),
    ({"foldid": np.arange(7)}, "foldid must have one entry per row"),
    ({"foldid": "nope"}, "foldid names column 'nope'"),
    ({"foldid": np.arange(100) % 3, "n_repeats": 2}, "n_repeats must be 1 when foldid is given"),
    ({"foldid": np.arange(100) % 3, "groups": np.arange(100) % 2}, "groups must be None when foldid"),
    ({"groups": np.arange(100) % 3, "folds": 5}, "folds must be at most the number of groups"),
    ({"n_repeats": 0}, "n_repeats must be an integer >= 1"),
    ({"seed": -1}, "seed must be"),
    ({"tol": 0.0}, "tol must be a number in"),
])
def test_bad_arguments(regdata, kwargs, match):
    df, _ = regdata
    path = rs.lasso("y ~ .", df, n_lambda=5)
    with pytest.raises((ParameterError, DataError), match=match):
        path.cv(**kwargs)


def test_cv_elastic_net_shares_folds_and_picks_both(regdata):
    df, _ = regdata
    res = rs.cv_elastic_net("y ~ .", df, l1_ratios=[0.2, 0.6, 1.0], folds=5, seed=8, n_lambda=30)
    for r in res.results:
        np.testing.assert_array_equal(r.foldid, res.results[0].foldid)
    by = res.by_l1_ratio
    assert res.l1_ratio_min == by["l1_ratio"].iloc[int(np.argmin(by["cv_min"]))]
    assert res.lambda_1se == res.cv.lambda_1se and res.lambda_min == res.cv.lambda_min
    # the lasso member equals a plain lasso CV on the same folds
    lasso_cv = rs.lasso("y ~ .", df, n_lambda=30).cv(foldid=res.results[0].foldid[0])
    pd.testing.assert_frame_equal(res.results[-1].table, lasso_cv.table)
    assert set(res.table["l1_ratio"]) == {0.2, 0.6, 1.0}
    assert res.best.l1_ratio == res.l1_ratio_min
    assert "Chosen l1_ratio" in str(res.summary())
    with pytest.raises(ParameterError, match="l1_ratios must be"):
        rs.cv_elastic_net("y ~ .", df, l1_ratios=[0.5, 1.5])


def test_cv_elastic_net_foldid_column_not_a_predictor(regdata):
    df, _ = regdata
    df = df.assign(fold=np.arange(len(df)) % 4)
    res = rs.cv_elastic_net("y ~ .", df, l1_ratios=[0.5], foldid="fold", n_lambda=10)
    assert "fold" not in res.path.column_names
    assert res.cv.n_folds == 4


def test_dask_backend_gives_same_numbers(regdata):
    distributed = pytest.importorskip("distributed")
    import joblib

    df, _ = regdata
    path = rs.lasso("y ~ .", df, n_lambda=15)
    ref = path.cv(folds=4, seed=9)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        with joblib.parallel_backend("dask"):
            got = path.cv(folds=4, seed=9, n_jobs=-1)
    pd.testing.assert_frame_equal(ref.table, got.table, check_exact=True)


def test_warns_when_foldid_column_is_a_predictor(regdata):
    from regstats.errors import DesignWarning

    df, _ = regdata
    df = df.assign(fold=np.arange(len(df)) % 5 + 1)
    path = rs.lasso("y ~ .", df, n_lambda=5)
    with pytest.warns(DesignWarning, match="foldid column 'fold' is also a predictor"):
        path.cv(foldid="fold")


def test_n_jobs_bit_identical_tall():
    # issue 15 item 5: on a 125001 x 1 design cv_mean differed by 3.6e-14 between n_jobs=1 and 2
    # (multi-threaded BLAS in the calling process, one thread per worker); every task now runs
    # with single-threaded BLAS, so the numbers are the same bits
    import regstats as rs

    rng = np.random.default_rng(0)
    n = 125001
    df = pd.DataFrame({"x": rng.standard_normal(n)})
    df["y"] = 2.0 * df["x"] + rng.standard_normal(n)
    path = rs.lasso("y ~ x", df)
    a = path.cv(folds=10, seed=1, n_jobs=1).table
    b = path.cv(folds=10, seed=1, n_jobs=2).table
    assert np.array_equal(a["cv_mean"].to_numpy(), b["cv_mean"].to_numpy())
    assert np.array_equal(a["cv_se"].to_numpy(), b["cv_se"].to_numpy())


def test_tall_cv_holds_no_prediction_matrix():
    # issue 21 item 10: CV on tall data held the n x n_lambda out-of-fold predictions and two
    # loss arrays of that size (6.2x X above the data at n = 1e6, p = 50); the fold losses are now
    # accumulated over blocks of held-out rows and the predictions formed only when asked for
    import tracemalloc

    rng = np.random.default_rng(3)
    n, p = 100_000, 4
    X = rng.standard_normal((n, p))
    y = X @ np.array([1.0, -0.5, 0.0, 0.25]) + rng.standard_normal(n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = y
    path = rs.lasso("y ~ .", df)
    full = n * len(path.lambdas) * 8                       # 80 MB of predictions
    tracemalloc.start()
    cv = path.cv(folds=5, seed=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.25 * full
    # the same statistics as from the whole prediction matrix (cv.glmnet's formulas, cv_stats)
    oof = np.asarray(cv.oof_predictions)
    assert oof.shape == (1, n, len(path.lambdas))
    mean, se, _, _ = cv_stats((y[:, None] - oof[0]) ** 2, cv.foldid[0], None)
    np.testing.assert_allclose(cv.table["cv_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(cv.table["cv_se"], se, rtol=1e-9)
    np.testing.assert_array_equal(cv.oof_predictions[0], oof[0])
