"""family="binomial" / "poisson" through the formula API: glmnet fixtures, CV, predict, statistics."""
from __future__ import annotations

import json
import warnings
from pathlib import Path as FsPath

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats.errors import DataError, ParameterError
from regstats.family import BINOMIAL, POISSON
from regstats.glm import _standardized, glm_kkt

G = FsPath(__file__).parent / "fixtures" / "glmnet_glm"
POIS_COLS = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]


@pytest.fixture(scope="module")
def bc():
    return pd.read_csv(G / "binomial.csv")


@pytest.fixture(scope="module")
def hie():
    d = pd.read_csv(G / "poisson.csv")
    d["log_exposure"] = np.log(d["exposure"])
    return d


def _kkt(path, fam, X, y, w, off, a):
    sol = path._solution
    Xs, prep = _standardized(X, y, w, None, True, True)
    b0 = sol.intercept + sol.coef @ prep.x_mean
    return max(glm_kkt(fam, Xs, y, w, off, b0[k], sol.beta[k], path.lambdas[k], a, prep.v, prep.constant)
               for k in range(len(path.lambdas)))


def test_binomial_formula_path_equals_glmnet(bc):
    f = json.loads((G / "binomial_a0.5.json").read_text())
    lam = np.array(f["lambda"])
    default = rs.elastic_net("y ~ .", bc, l1_ratio=0.5, family="binomial")
    np.testing.assert_allclose(default.lambdas, lam, rtol=1e-10)
    path = rs.elastic_net("y ~ .", bc, l1_ratio=0.5, family="binomial", lambdas=lam, tol=1e-12)
    assert path.family == "binomial" and path.converged.all()
    X, y = bc[f["column_names"]].to_numpy(), bc["y"].to_numpy(float)
    assert _kkt(path, BINOMIAL, X, y, np.ones(len(y)), np.zeros(len(y)), 0.5) < 1e-8
    sd = X.std(axis=0)
    coef = path.coef[f["column_names"]].to_numpy()
    assert np.abs((coef - np.array(f["beta"])) * sd).max() < 5e-4    # standardized scale, as test_glm
    np.testing.assert_allclose(path.table["r2"], f["dev_ratio"], atol=1e-6)
    # lasso df = number of nonzero coefficients (the columns are in general position)
    las = rs.lasso("y ~ .", bc, family="binomial", n_lambda=20)
    assert (las.table["df"] == las.table["n_nonzero"]).all()


def test_poisson_formula_path_with_offset_and_weights_equals_glmnet(hie):
    f = json.loads((G / "poisson_a1.json").read_text())
    lam = np.array(f["lambda"])
    formula = "mdvis ~ " + " + ".join(POIS_COLS)
    path = rs.lasso(formula, hie, family="poisson", offset="log_exposure", weights="w", lambdas=lam, tol=1e-12)
    X, y = hie[POIS_COLS].to_numpy(), hie["mdvis"].to_numpy(float)
    w = hie["w"].to_numpy() * len(y) / hie["w"].sum()
    assert _kkt(path, POISSON, X, y, w, hie["log_exposure"].to_numpy(), 1.0) < 1e-8
    np.testing.assert_allclose(path.coef[POIS_COLS].to_numpy() * X.std(axis=0),
                               np.array(f["beta"]) * X.std(axis=0), atol=1e-5)
    np.testing.assert_allclose(path.coef["Intercept"], f["a0"], atol=1e-5)
    # the offset as an array gives the same path; '.' leaves an offset column out of the design
    arr = rs.lasso(formula, hie, family="poisson", offset=np.log(hie["exposure"].to_numpy()), weights="w",
                   lambdas=lam, tol=1e-12)
    np.testing.assert_allclose(arr.coef.to_numpy(), path.coef.to_numpy(), atol=1e-12)
    dot = rs.lasso("mdvis ~ . - exposure - w", hie, family="poisson", offset="log_exposure", weights="w", n_lambda=5)
    assert "log_exposure" not in dot.column_names


@pytest.mark.parametrize("case", ["cv_binomial", "cv_poisson"])
def test_path_cv_equals_cvglmnet_for_each_loss(case, bc, hie):
    f = json.loads((G / f"{case}.json").read_text())
    lam = np.array(f["lambda"])
    if f["family"] == "binomial":
        path = rs.lasso("y ~ .", bc, family="binomial", lambdas=lam, tol=1e-12)
        losses = ["deviance", "class", "auc", "mse", "mae"]
    else:
        path = rs.lasso("mdvis ~ " + " + ".join(POIS_COLS), hie, family="poisson", offset="log_exposure",
                        weights="w", lambdas=lam, tol=1e-12)
        losses = ["deviance", "mse", "mae"]
    fid = np.array(f["foldid"]).astype(int)
    for loss in losses:
        cv = path.cv(foldid=fid, loss=loss)
        g = f[loss]
        np.testing.assert_allclose(cv.table["cv_mean"], g["cvm"], rtol=5e-5)
        np.testing.assert_allclose(cv.table["cv_se"], g["cvsd"], rtol=5e-5, atol=1e-12)
        assert (cv.lambda_min, cv.lambda_1se) == (g["lambda_min"], g["lambda_1se"]), loss
    assert path.cv(foldid=fid).loss == "deviance"


def test_labels_are_coded_as_r_does_and_predict_types_agree(bc):
    d = bc.assign(diagnosis=np.where(bc["y"] == 1, "malignant", "benign")).drop(columns="y")
    num = rs.lasso("y ~ .", bc, family="binomial", n_lambda=30)
    lab = rs.lasso("diagnosis ~ .", d, family="binomial", n_lambda=30)
    np.testing.assert_allclose(lab.coef.to_numpy(), num.coef.to_numpy(), atol=1e-12)
    assert lab.levels == ("benign", "malignant")
    fit = lab.at(lab.lambdas[12])
    eta = fit.predict(d, type="link")
    prob = fit.predict(d)
    np.testing.assert_allclose(prob, 1.0 / (1.0 + np.exp(-eta)), rtol=1e-12)
    cls = fit.predict(d, type="class")
    assert set(cls) <= {"benign", "malignant"}
    assert ((prob > 0.5) == (cls == "malignant")).all()
    X = d.drop(columns="diagnosis").to_numpy()
    np.testing.assert_allclose(eta, X @ fit.coef.to_numpy() + fit.intercept, rtol=1e-12)
    tab = fit.to_frame()
    np.testing.assert_allclose(tab["odds_ratio"], np.exp(tab["estimate"]))
    text = str(fit.summary())
    assert "P(diagnosis = 'malignant')" in text and "odds_ratio" in text
    # a categorical's own order decides which level is modelled
    cat = d.assign(diagnosis=pd.Categorical(d["diagnosis"], categories=["malignant", "benign"]))
    flipped = rs.lasso("diagnosis ~ .", cat, family="binomial", n_lambda=30)
    assert flipped.levels == ("malignant", "benign")
    np.testing.assert_allclose(flipped.coef.to_numpy(), -num.coef.to_numpy(), atol=1e-6)
    # a grid lambda and the same lambda solved off the grid agree
    off = lab.at(float(lab.lambdas[12]) * (1 + 1e-6))
    np.testing.assert_allclose(off.params, fit.params, atol=1e-4)


def test_poisson_predict_uses_the_offset(hie):
    formula = "mdvis ~ " + " + ".join(POIS_COLS)
    path = rs.lasso(formula, hie, family="poisson", offset="log_exposure", n_lambda=20)
    fit = path.at(path.lambdas[-1])
    new = hie.head(5).assign(log_exposure=np.log(2.0) + hie["log_exposure"].head(5))
    np.testing.assert_allclose(fit.predict(new), 2.0 * fit.predict(hie.head(5)), rtol=1e-12)
    assert "rate_ratio" in fit.to_frame().columns
    arr = rs.lasso(formula, hie, family="poisson", offset=hie["log_exposure"].to_numpy(), n_lambda=20)
    with pytest.raises(ParameterError, match="offset"):
        arr.predict(hie.head(3))
    got = arr.predict(hie.head(3), offset=np.zeros(3), type="link")
    assert got.shape == (3, 20)


def test_family_errors_are_clear(bc, hie):
    with pytest.raises(ParameterError, match="family must be one of"):
        rs.lasso("y ~ .", bc, family="logistic")
    with pytest.raises(DataError, match="0/1"):
        rs.lasso("mdvis ~ lncoins", hie, family="binomial")
    with pytest.raises(DataError, match="two levels"):
        rs.lasso("g ~ x", pd.DataFrame({"g": list("abcabc"), "x": range(6)}), family="binomial")
    with pytest.raises(DataError, match="counts >= 0"):
        rs.lasso("y ~ x", pd.DataFrame({"y": [1.0, -1, 2, 3], "x": [1.0, 2, 3, 5]}), family="poisson")
    with pytest.warns(rs.DesignWarning, match="non-integer"):
        rs.lasso("y ~ x", pd.DataFrame({"y": [1.5, 0, 2, 3], "x": [1.0, 2, 3, 5]}), family="poisson", n_lambda=3)
    with pytest.raises(ParameterError, match="offset is for binomial and Poisson"):
        rs.lasso("mdvis ~ lncoins", hie, offset="log_exposure")
    with pytest.raises(ParameterError, match="y_scale"):
        rs.ridge("y ~ .", bc, family="binomial", y_scale=1.0)
    path = rs.lasso("y ~ .", bc, family="binomial", n_lambda=10)
    with pytest.raises(ParameterError, match="loss must be one of"):
        path.cv(loss="rmse")
    with pytest.raises(ParameterError, match="loss must be one of"):
        rs.lasso("mdvis ~ lncoins", hie, family="poisson", n_lambda=5).cv(loss="auc")
    for call in (lambda: path.bias_variance(), lambda: path.loo(),
                 lambda: path.at(path.lambdas[3]).inference(method="selective")):
        with pytest.raises(ParameterError, match="gaussian models only"):
            call()
    gpath = rs.lasso("mdvis ~ lncoins + idp", hie, n_lambda=5)
    with pytest.raises(ParameterError, match="stratif"):
        gpath.cv(stratify=True)
    with pytest.raises(ParameterError, match="type='class'"):
        gpath.predict(hie.head(), type="class")


def test_one_class_fold_is_an_error_and_stratified_folds_balance_classes():
    rng = np.random.default_rng(0)
    d = pd.DataFrame({"x1": rng.standard_normal(60), "x2": rng.standard_normal(60)})
    d["y"] = 0.0
    d.loc[:3, "y"] = 1.0            # 4 events in 60 rows
    path = rs.lasso("y ~ x1 + x2", d, family="binomial", n_lambda=5)
    with pytest.raises(DataError, match="one class"):
        path.cv(foldid=np.where(d["y"] == 1, 1, 2))
    with pytest.raises(DataError, match="AUC needs both classes"):
        path.cv(foldid=np.arange(60) % 10, loss="auc")
    cv = path.cv(folds=4, stratify=True, seed=3, loss="auc")
    fid = cv.foldid[0]
    assert sorted(np.bincount(fid[d["y"].to_numpy() == 1])[1:]) == [1, 1, 1, 1]
    assert np.ptp(np.bincount(fid)[1:]) <= 1
    assert "AUC" in str(cv.summary())


def test_bootstrap_and_stability_refit_the_binomial_model(bc):
    path = rs.lasso("y ~ .", bc, family="binomial", n_lambda=30)
    fit = path.at(path.lambdas[10])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boot = fit.bootstrap(n_boot=20, seed=1)
        again = fit.bootstrap(n_boot=20, seed=1, n_jobs=2)
    pd.testing.assert_frame_equal(boot.draws, again.draws)
    # a replicate refit is the path refitted on the resampled rows (checked on the first one)
    rows = np.random.default_rng(np.random.SeedSequence(1).spawn(20)[0]).integers(0, path.n_obs, path.n_obs)
    sub = bc.iloc[rows].reset_index(drop=True)
    ref = rs.lasso("y ~ .", sub, family="binomial", lambdas=[fit.lam])
    np.testing.assert_allclose(boot.draws.iloc[0].to_numpy(), ref.coef.iloc[0].to_numpy(), atol=1e-5)
    stab = path.stability(seed=2, n_subsamples=10)
    assert 0 <= stab.selection_prob.min() and stab.selection_prob.max() <= 1


def test_cv_elastic_net_and_information_criteria_for_binomial(bc):
    enet = rs.cv_elastic_net("y ~ .", bc, l1_ratios=(0.5, 1.0), folds=5, seed=1, family="binomial", n_lambda=30)
    assert enet.cv.loss == "deviance" and enet.l1_ratio_min in (0.5, 1.0)
    auc = rs.cv_elastic_net("y ~ .", bc, l1_ratios=(0.5, 1.0), folds=5, seed=1, family="binomial", n_lambda=30,
                            loss="auc", stratify=True)
    assert auc.by_l1_ratio["cv_min"].max() == pytest.approx(
        float(auc.cv.table["cv_mean"].iloc[auc.cv.index_min]))


def test_glm_information_criteria_against_statsmodels(bc):
    import statsmodels.api as sm

    cols = ["mean_radius", "mean_texture", "mean_smoothness"]
    path = rs.lasso("y ~ " + " + ".join(cols), bc, family="binomial", lambdas=[1e-3, 1e-9], tol=1e-12)
    ic = path.information_criteria()
    assert ic.criteria == ("aic", "bic") and "Noise" not in str(ic.summary())
    # at a negligible penalty: statsmodels' logistic AIC/BIC (-2 loglik + 2k; the saturated
    # binomial log-likelihood of 0/1 data is 0, so deviance = -2 loglik)
    ml = sm.GLM(bc["y"], sm.add_constant(bc[cols]), family=sm.families.Binomial()).fit()
    assert ic.table["aic"].iloc[1] == pytest.approx(ml.aic, rel=1e-7)
    assert ic.table["bic"].iloc[1] == pytest.approx(-2 * ml.llf + np.log(len(bc)) * 4, rel=1e-7)
    with pytest.raises(ParameterError, match="no noise variance"):
        path.information_criteria(sigma2=1.0)


def test_glm_desparsified_is_the_mle_and_its_fisher_se_in_low_dimension():
    import statsmodels.api as sm

    rng = np.random.default_rng(1)
    n, p = 300, 5
    X = rng.standard_normal((n, p))
    eta = 0.3 + X @ np.array([1.0, -0.7, 0.5, 0.0, 0.0])
    d = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    for fam, y, smfam in (("binomial", (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float), sm.families.Binomial()),
                          ("poisson", rng.poisson(np.exp(0.5 * eta)).astype(float), sm.families.Poisson())):
        path = rs.lasso("y ~ .", d.assign(y=y), family=fam, lambdas=[1e-9], tol=1e-12)
        # at a negligible penalty with an exact nodewise inverse the one-step estimate is the MLE and
        # its standard error the inverse Fisher information's
        inf = path.at(1e-9).inference(initial="fit", nodewise_lambda=1e-9)
        ml = sm.GLM(y, sm.add_constant(X), family=smfam).fit(tol=1e-12)
        np.testing.assert_allclose(inf.estimate.to_numpy(), ml.params[1:], atol=1e-6)
        np.testing.assert_allclose(inf.std_error.to_numpy(), ml.bse[1:], rtol=1e-5)
        ratio = "odds_ratio" if fam == "binomial" else "rate_ratio"
        np.testing.assert_allclose(inf.table[f"{ratio}_lower"], np.exp(inf.table["ci_lower"]))
    with pytest.raises(ParameterError, match="dispersion"):
        path.at(1e-9).inference(initial="fit", nodewise_lambda=1e-9, dispersion="deviance")


@pytest.mark.parametrize("alpha", [1, 0.5])
def test_factors_in_the_formula_and_labels_equal_glmnet(alpha):
    """``Student ~ . - ID`` on the Credit data (factors Gender, Married, Ethnicity; response Yes/No),
    recorded with R's model.matrix + glmnet (record_factors.R)."""
    f = json.loads((G / f"credit_factors_a{alpha:g}.json").read_text())
    credit = rs.load_dataset("credit")
    path = rs.elastic_net("Student ~ . - ID", credit, l1_ratio=alpha, family="binomial")
    np.testing.assert_allclose(path.lambdas, f["lambda"], rtol=1e-10)
    assert path.levels == ("No", "Yes")
    exact = rs.elastic_net("Student ~ . - ID", credit, l1_ratio=alpha, family="binomial", lambdas=f["lambda"],
                           tol=1e-12)
    r_name = {c: c.replace("[T.", "").replace("]", "") for c in exact.column_names}
    cols = [c for c in exact.column_names]
    ours = exact.coef[cols].to_numpy()
    theirs = np.array(f["beta"])[:, [f["column_names"].index(r_name[c].strip()) for c in cols]]
    X, y = exact._design.X, exact._design.y
    n = len(y)
    assert _kkt(exact, BINOMIAL, X, y, np.ones(n), np.zeros(n), alpha) < 1e-8
    # Limit and Rating correlate 0.997: glmnet's own KKT violation is ~6e-4 lam at thresh 1e-14, so
    # its coefficients are compared within that (on the standardized scale, as test_glm)
    sd = exact._prep.x_scale
    assert np.abs((ours - theirs) * sd).max() < 2e-3
    np.testing.assert_allclose(exact.table["r2"], f["dev_ratio"], atol=1e-6)


def test_glm_df_matches_efrons_covariance_df_by_simulation():
    """Poisson elastic net (n = 150, p = 4): the df formula (trace with the IRLS weights) against a
    parametric-bootstrap estimate of sum_i cov(eta_hat_i, y_i) - 1 (scripts/simulate_glm_dof.py)."""
    import sys

    sys.path.insert(0, str(FsPath(__file__).parents[1] / "scripts"))
    from simulate_glm_dof import simulate

    tab = simulate("poisson", n=150, p=4, s0=2, a=0.5, reps=300, seed=5, n_lam=3)
    assert (np.abs(tab["diff_in_se"]) < 4).all(), tab
    assert (tab["df_formula_mean"] > 0.5).all()


def test_saved_binomial_and_poisson_paths_predict_identically(tmp_path, bc, hie):
    d = bc.assign(diagnosis=np.where(bc["y"] == 1, "malignant", "benign")).drop(columns="y")
    path = rs.lasso("diagnosis ~ .", d, family="binomial", n_lambda=20)
    path.save(tmp_path / "b.json")
    loaded = rs.load(tmp_path / "b.json")
    assert loaded.family == "binomial" and loaded.levels == ("benign", "malignant")
    for typ in ("response", "link", "class"):
        pd.testing.assert_frame_equal(loaded.predict(d.head(7), type=typ), path.predict(d.head(7), type=typ))
    assert json.loads((tmp_path / "b.json").read_text())["format_version"] == 2
    pois = rs.lasso("mdvis ~ lncoins + idp + lpi", hie, family="poisson", offset="log_exposure", n_lambda=10)
    pois.save(tmp_path / "p.json")
    lp = rs.load(tmp_path / "p.json")
    pd.testing.assert_frame_equal(lp.predict(hie.head(4)), pois.predict(hie.head(4)))
    with pytest.raises(ParameterError, match="offset"):
        lp.predict(hie.head(4).drop(columns="log_exposure"))


def test_relaxed_binomial_path_refits_by_maximum_likelihood(bc):
    import statsmodels.api as sm

    path = rs.lasso("y ~ .", bc, family="binomial", n_lambda=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # the smallest lambdas' active sets separate the classes
        rp = path.relax()
    k = 8
    fit = path.at(path.lambdas[k])
    cols = list(fit.selected)
    ml = sm.GLM(bc["y"], sm.add_constant(bc[cols]), family=sm.families.Binomial()).fit(tol=1e-12)
    g0 = rp.coef.loc[(0.0, path.lambdas[k])]
    np.testing.assert_allclose(g0[["Intercept"] + cols].to_numpy(), ml.params.to_numpy(), rtol=1e-6)
    assert (g0.drop(["Intercept"] + cols) == 0).all()
    half = rp.coef.loc[(0.5, path.lambdas[k])]
    np.testing.assert_allclose(half.to_numpy(), 0.5 * g0.to_numpy() + 0.5 * fit.params.to_numpy(), atol=1e-10)
    r2 = rp.table.set_index(["gamma", "lambda"]).loc[(0.0, path.lambdas[k]), "r2"]
    assert r2 == pytest.approx(1 - ml.deviance / ml.null_deviance, rel=1e-8)
    at = rp.at(path.lambdas[k], 0.0)
    np.testing.assert_allclose(at.params.to_numpy(), g0.to_numpy(), atol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = rp.cv(folds=5, seed=1, stratify=True)
    assert cv.loss == "deviance" and "Binomial Deviance" in str(cv.summary())


def test_separation_names_the_separating_direction():
    rng = np.random.default_rng(4)
    d = pd.DataFrame({"a": rng.standard_normal(80), "b": rng.standard_normal(80), "noise": rng.standard_normal(80)})
    d["y"] = (d["a"] - 0.5 * d["b"] > 0).astype(float)          # separated by a - 0.5 b
    with pytest.warns(rs.ConvergenceWarning, match="separating direction") as rec:
        path = rs.lasso("y ~ a + b + noise", d, family="binomial")
    msg = next(str(w.message) for w in rec if "separating direction" in str(w.message))
    direction = path._solution.beta[-1] / np.linalg.norm(path._solution.beta[-1])
    assert direction[0] > 0 > direction[1] and msg.index("a +") < msg.index("b -")
    assert rec[0].filename == __file__
