"""Binomial and Poisson reports: odds/rate ratios, desparsified inference, calibration and ROC from
the out-of-fold predictions, the maximum-likelihood comparison, gaussian-only sections left out with a
reason."""
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats.errors import DataError, ParameterError
from regstats.report import calibration as cal
from regstats.report.document import Figure, Row, Text

SMALL = dict(folds=5, seed=3, n_boot=10, stability_options={"n_subsamples": 10},
             inference_options={"nodewise_lambda": 0.05, "folds": 3})


def _binary(seed=11, n=150):
    r = np.random.default_rng(seed)
    d = pd.DataFrame({"x1": r.standard_normal(n), "x2": r.standard_normal(n), "x3": r.standard_normal(n),
                      "g": r.choice(["a", "b", "c"], n)})
    eta = -0.4 + 1.2 * d["x1"] - 0.8 * d["x2"] + 0.6 * (d["g"] == "c")
    d["sick"] = np.where(r.random(n) < 1 / (1 + np.exp(-eta)), "yes", "no")
    return d


def _counts(seed=12, n=150):
    r = np.random.default_rng(seed)
    d = pd.DataFrame({"x1": r.standard_normal(n), "x2": r.standard_normal(n),
                      "exposure": r.uniform(0.5, 3.0, n)})
    d["log_exposure"] = np.log(d["exposure"])
    d["visits"] = r.poisson(d["exposure"] * np.exp(0.2 + 0.5 * d["x1"]))
    return d


@pytest.fixture(scope="module")
def brep():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rs.report("sick ~ x1 + x2 + x3 + C(g)", _binary(), family="binomial", **SMALL)


@pytest.fixture(scope="module")
def prep():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rs.report("visits ~ x1 + x2", _counts(), family="poisson", offset="log_exposure",
                         figures=False, **SMALL)


def _figures(rep):
    out = []
    for s in rep.sections:
        for b in s.blocks:
            for x in (b.blocks if isinstance(b, Row) else [b]):
                out += [f.name for f in (x if isinstance(x, tuple) else [x]) if isinstance(f, Figure)]
    return out


def test_binomial_report_sections_and_gaussian_only_notes(brep):
    st = brep.status
    assert st["cv"] == st["bootstrap"] == st["stability"] == st["criteria"] == st["inference"] == "ok"
    assert "gaussian models only" in st["bias_variance"]
    assert "path.relax().cv()" in st["relaxed"]
    html = brep.to_html()
    assert "P(sick = &#x27;yes&#x27;)" in html or "P(sick = 'yes')" in html
    assert "Binomial Deviance" in html and "Calibration and discrimination" in html
    assert brep.cv.loss == "deviance" and brep.path.family == "binomial"
    assert brep.title.startswith("regstats report: logistic lasso")
    assert {"cv", "path", "calibration", "roc", "selection", "stability", "dof", "intervals"} <= set(_figures(brep))
    assert "bias_variance" not in _figures(brep)
    # the gaussian-only sections are one line each
    bv = next(s for s in brep.sections if s.id == "biasvar")
    assert len(bv.blocks) == 1 and isinstance(bv.blocks[0], Text) and "gaussian models only" in bv.blocks[0].text
    # folds stratified by class by default, as the text says
    y = brep.path._design.y
    fid = brep.cv.foldid[0]
    assert np.ptp(np.bincount(fid[y == 1])[1:]) <= 1
    assert "stratified by class" in html


def test_odds_ratios_are_exp_of_the_estimates(brep):
    t = brep.tables["coefficients"]
    np.testing.assert_allclose(t["odds_ratio_min"], np.exp(t["estimate_min"]), rtol=1e-12)
    np.testing.assert_allclose(t["odds_ratio_1se"], np.exp(t["estimate_1se"]), rtol=1e-12)
    fit = brep.path.at(brep.cv.lambda_1se)
    sd = brep.path._design.X.std(axis=0)
    per_sd = t.set_index("term")["odds_ratio_per_sd"]
    np.testing.assert_allclose(per_sd[list(brep.path.column_names)], np.exp(fit.coef.to_numpy() * sd), rtol=1e-12)
    assert np.isnan(per_sd["Intercept"])


def test_inference_is_the_desparsified_glm_one_with_ratio_intervals(brep):
    t = brep.tables["coefficients"].set_index("term")
    fit = brep.path.at(brep.cv.lambda_1se)
    inf = fit.inference(seed=3, nodewise_lambda=0.05, folds=3).to_frame().set_index("term")
    cols = list(inf.index)
    np.testing.assert_allclose(t.loc[cols, "inf_estimate"], inf["estimate"], rtol=1e-12)
    np.testing.assert_allclose(t.loc[cols, "inf_odds_ratio_lower"], np.exp(inf["ci_lower"]), rtol=1e-12)
    np.testing.assert_allclose(t.loc[cols, "inf_odds_ratio_upper"], np.exp(inf["ci_upper"]), rtol=1e-12)
    assert brep.inference.method == "desparsified"
    assert "95% odds ratio interval" in brep.to_html()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ParameterError, match="gaussian models only"):
            rs.report("sick ~ x1 + x2", _binary(), family="binomial", figures=False, n_boot=0, stability=False,
                      folds=3, inference_options={"method": "selective"})


def test_calibration_and_discrimination_tables_equal_independent_computations(brep):
    from sklearn.metrics import roc_auc_score

    cv = brep.cv
    y = brep.path._design.y
    eta = np.asarray(cv.oof_predictions[0])[:, cv.index_1se]
    mu = 1 / (1 + np.exp(-eta))
    ctab = brep.tables["calibration"]
    order = np.argsort(mu, kind="stable")
    for (_, row), idx in zip(ctab.iterrows(), np.array_split(order, len(ctab))):
        assert row["n"] == idx.size
        assert row["observed"] == pytest.approx(y[idx].mean(), rel=1e-12)
        assert row["predicted"] == pytest.approx(mu[idx].mean(), rel=1e-12)
    d = brep.tables["discrimination"].set_index("lambda_of")
    assert d.loc["lambda_1se", "auc"] == pytest.approx(roc_auc_score(y, mu), rel=1e-12)
    assert d.loc["lambda_1se", "brier"] == pytest.approx(np.mean((y - mu) ** 2), rel=1e-12)
    assert d.loc["lambda_1se", "error_rate"] == pytest.approx(np.mean((mu >= 0.5) != (y == 1)), rel=1e-12)


def test_reproducing_call_and_command_name_the_family(brep, prep):
    assert 'family="binomial"' in brep.call and "--family binomial" in brep.command
    assert "stratify" not in brep.call          # the default for binomial
    assert 'offset="log_exposure"' in prep.call
    assert "--family poisson" in prep.command and "--offset log_exposure" in prep.command


def test_poisson_report_has_rate_ratios_and_calibration_without_roc(prep):
    t = prep.tables["coefficients"]
    np.testing.assert_allclose(t["rate_ratio_1se"], np.exp(t["estimate_1se"]), rtol=1e-12)
    assert prep.status["inference"] == "ok" and "inf_rate_ratio_lower" in t
    assert "discrimination" not in prep.tables and "calibration" in prep.tables
    html = prep.to_html()
    assert "Poisson Deviance" in html and "log_exposure" in html and "Rate ratio" in html
    # the calibration uses the offset: the observed and predicted mean counts agree overall
    c = prep.tables["calibration"]
    assert np.average(c["predicted"], weights=c["n"]) == pytest.approx(np.average(c["observed"], weights=c["n"]),
                                                                       rel=0.1)


def test_auc_loss_names_the_axis_and_maximises(tmp_path):
    from regstats.report import plots

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = rs.report("sick ~ x1 + x2 + x3", _binary(), family="binomial", loss="auc", figures=False,
                        stability=False, **{k: v for k, v in SMALL.items() if k != "stability_options"})
    assert rep.cv.loss == "auc" and 'loss="auc"' in rep.call and "--loss auc" in rep.command
    tab = rep.cv.table
    assert tab["cv_mean"].iloc[rep.cv.index_min] == tab["cv_mean"].max()
    ax = plots.plot_cv(rep.cv)
    assert ax.get_ylabel().startswith("AUC (CV)\n(area under the ROC curve")
    gauss = rs.lasso("x1 ~ x2 + x3", _binary(), n_lambda=10).cv(folds=3, seed=1, loss="mae")
    assert plots.plot_cv(gauss).get_ylabel() == "Mean Absolute Error (CV)"


@pytest.mark.parametrize("kw,match", [
    (dict(family="binomial", loss="rmse"), "loss must be one of"),
    (dict(family="poisson", loss="auc"), "loss must be one of"),
    (dict(loss="deviance"), "loss must be one of"),
    (dict(family="logit"), "family must be one of"),
    (dict(offset="x1"), "offset is for binomial and Poisson"),
    (dict(family="poisson", stratify=True), "stratify=True"),
])
def test_bad_family_arguments(kw, match):
    with pytest.raises(ParameterError, match=match):
        rs.report("sick ~ x1", _binary(), **kw)


def test_non_binary_response_is_a_clear_error():
    with pytest.raises(DataError, match="two levels|0/1"):
        rs.report("g ~ x1", _binary(), family="binomial", figures=False)


def test_report_of_a_fitted_glm_path():
    path = rs.lasso("sick ~ x1 + x2", _binary(), family="binomial", n_lambda=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = rs.report(path, n_boot=0, stability=False, inference=False, figures=False, folds=4)
    assert rep.cv.loss == "deviance" and "calibration" in rep.tables
    with pytest.raises(ParameterError, match="taken from the fitted path"):
        rs.report(path, family="poisson")


# -- the calibration module against independent oracles ------------------------------------------
def test_roc_and_auc_against_sklearn_with_ties_and_weights(rng):
    from sklearn.metrics import roc_auc_score, roc_curve

    y = rng.integers(0, 2, 200).astype(float)
    s = np.round(rng.standard_normal(200) + y, 1)        # ties
    w = rng.uniform(0.2, 3.0, 200)
    assert cal.auc(y, s) == pytest.approx(roc_auc_score(y, s), rel=1e-12)
    assert cal.auc(y, s, w) == pytest.approx(roc_auc_score(y, s, sample_weight=w), rel=1e-12)
    fpr, tpr, _ = roc_curve(y, s, sample_weight=w, drop_intermediate=False)
    ours = cal.roc_curve(y, s, w)
    np.testing.assert_allclose(ours["fpr"], fpr, atol=1e-12)
    np.testing.assert_allclose(ours["tpr"], tpr, atol=1e-12)
    # a proportion response with weights = trials is the same as the expanded 0/1 rows
    trials = rng.integers(1, 5, 50).astype(float)
    succ = np.array([rng.integers(0, t + 1) for t in trials]).astype(float)
    score = rng.standard_normal(50)
    y01 = np.r_[np.ones(int(succ.sum())), np.zeros(int((trials - succ).sum()))]
    s01 = np.r_[np.repeat(score, succ.astype(int)), np.repeat(score, (trials - succ).astype(int))]
    assert cal.auc(succ / trials, score, trials) == pytest.approx(roc_auc_score(y01, s01), rel=1e-12)
    # the GLM CV's weighted AUC agrees
    from regstats.glm_cv import weighted_auc

    assert cal.auc(y, s, w) == pytest.approx(weighted_auc(y, s, w), rel=1e-12)
    with pytest.raises(DataError, match="both classes"):
        cal.auc(np.ones(5), np.arange(5.0))


def test_calibration_intervals_are_wilsons_and_bins_are_equal_sized(rng):
    from statsmodels.stats.proportion import proportion_confint

    y = rng.integers(0, 2, 103).astype(float)
    p = rng.uniform(size=103)
    t = cal.calibration_table(y, p, bins=10)
    assert len(t) == 10 and t["n"].sum() == 103 and t["n"].max() - t["n"].min() <= 1
    assert (np.diff(t["pred_min"]) > 0).all()
    for _, r in t.iterrows():
        lo, hi = proportion_confint(round(r["observed"] * r["n"]), r["n"], method="wilson")
        assert (r["obs_lower"], r["obs_upper"]) == pytest.approx((lo, hi), rel=1e-9)
    assert len(cal.calibration_table(y[:12], p[:12], bins=10)) == 2        # at least 5 rows per bin
    counts = cal.calibration_table(rng.poisson(3.0, 60), np.full(60, 3.0), bins=3, family="poisson")
    assert (counts["obs_lower"] <= counts["observed"]).all() and (counts["observed"] <= counts["obs_upper"]).all()
    with pytest.raises(ParameterError, match="family"):
        cal.calibration_table(y, p, family="gaussian")


def test_out_of_fold_means_reproduce_the_cv_deviance():
    from regstats.family import BINOMIAL, POISSON

    d = _binary()
    cv = rs.lasso("sick ~ x1 + x2 + x3", d, family="binomial", n_lambda=20).cv(folds=5, seed=2)
    for k in (cv.index_min, cv.index_1se, 0):
        y, mu, w = cal.cv_means(cv, float(cv.table["lambda"].iloc[k]))
        dev = BINOMIAL.unit_deviance(y, np.clip(mu, 1e-5, 1 - 1e-5))
        assert dev.mean() == pytest.approx(cv.table["cv_mean"].iloc[k], rel=1e-10)
    c = _counts()
    pcv = rs.lasso("visits ~ x1 + x2", c, family="poisson", offset="log_exposure", n_lambda=20).cv(folds=5, seed=2)
    y, mu, _ = cal.cv_means(pcv, "min")
    assert POISSON.unit_deviance(y, mu).mean() == pytest.approx(pcv.table["cv_mean"].iloc[pcv.index_min], rel=1e-10)
    with pytest.raises(ParameterError, match="binomial and Poisson"):
        cal.cv_means(rs.lasso("x1 ~ x2", d, n_lambda=5).cv(folds=3, seed=1))


# -- maximum likelihood in the comparison -------------------------------------------------------
def test_compare_uses_maximum_likelihood_for_glms():
    import statsmodels.api as sm

    d = _binary()
    path = rs.lasso("sick ~ x1 + x2 + x3", d, family="binomial", n_lambda=30)
    fit = path.at(path.lambdas[12])
    cmp = rs.compare({"lasso": fit}, relaxed=True, ols=True)
    assert list(cmp.estimates.columns) == ["lasso", "lasso relaxed", "ML"]
    y = (d["sick"] == "yes").astype(float)
    X = sm.add_constant(d[["x1", "x2", "x3"]])
    ml = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-12)
    np.testing.assert_allclose(cmp.estimates["ML"].to_numpy(), ml.params.to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(cmp.std_errors["ML"].to_numpy(), ml.bse.to_numpy(), rtol=1e-6)
    assert cmp.stats.loc["r2", "ML"] == pytest.approx(1 - ml.deviance / ml.null_deviance, rel=1e-8)
    sel = list(fit.selected)
    rel = sm.GLM(y, sm.add_constant(d[sel]), family=sm.families.Binomial()).fit(tol=1e-12)
    np.testing.assert_allclose(cmp.estimates.loc[["Intercept", *sel], "lasso relaxed"], rel.params, rtol=1e-7)
    # Poisson with an offset and weights (normalised to sum n, as the path)
    c = _counts()
    w = np.random.default_rng(5).uniform(0.5, 2.0, len(c))
    c["w"] = w
    pp = rs.lasso("visits ~ x1 + x2", c, family="poisson", offset="log_exposure", weights="w", n_lambda=10)
    pc = rs.compare([pp.at(pp.lambdas[-1])], ols=True)
    pm = sm.GLM(c["visits"], sm.add_constant(c[["x1", "x2"]]), family=sm.families.Poisson(),
                offset=c["log_exposure"], var_weights=w * len(w) / w.sum()).fit(tol=1e-12)
    np.testing.assert_allclose(pc.estimates["ML"].to_numpy(), pm.params.to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(pc.std_errors["ML"].to_numpy(), pm.bse.to_numpy(), rtol=1e-6)


def test_separation_leaves_the_ml_column_empty_with_a_reason():
    d = pd.DataFrame({"x": np.r_[np.linspace(-2, -0.1, 20), np.linspace(0.1, 2, 20)],
                      "z": np.random.default_rng(1).standard_normal(40)})
    d["y"] = (d["x"] > 0).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = rs.lasso("y ~ x + z", d, family="binomial", n_lambda=10)
    cmp = rs.compare([path.at(path.lambdas[3])], ols=True)
    assert cmp.estimates["ML"].isna().all() and "separated" in cmp.notes["ML"]
    assert "separated" in str(cmp.summary())


# -- the bundled binary data set ------------------------------------------------------------------
# Recorded with R 4.2.2, MASS 7.3-58.2:
#   d <- rbind(Pima.tr, Pima.te); colMeans(d[, 1:7]); d[201, ]; coef(glm(type ~ ., binomial, d))
PIMA_MEANS = {"npreg": 3.516917293233, "glu": 121.030075187970, "bp": 71.505639097744, "skin": 29.182330827068,
              "bmi": 32.890225563910, "ped": 0.502966165414, "age": 31.614661654135}
PIMA_GLM = {"Intercept": -9.55465053483709, "npreg": 0.12251657924239, "glu": 0.03532108103348,
            "bp": -0.00769503747165, "skin": 0.00677441927182, "bmi": 0.08267818761123, "ped": 1.30870829803830,
            "age": 0.02637475625749}


def test_pima_is_mass_pima_tr_plus_te_and_ml_equals_r_glm():
    d = rs.load_dataset("pima")
    assert d.shape == (532, 8) and list(d.columns) == ["npreg", "glu", "bp", "skin", "bmi", "ped", "age", "type"]
    assert d["type"].value_counts().to_dict() == {"No": 355, "Yes": 177}
    assert d.iloc[200].tolist() == [6, 148, 72, 35, 33.6, 0.627, 50, "Yes"]     # Pima.te's first row
    for col, m in PIMA_MEANS.items():
        assert d[col].mean() == pytest.approx(m, rel=1e-11), col
    path = rs.lasso("type ~ .", d, family="binomial", n_lambda=5)
    assert path.levels == ("No", "Yes")
    ml = rs.compare([path.at(path.lambdas[-1])], ols=True).estimates["ML"]
    for term, b in PIMA_GLM.items():
        assert ml[term] == pytest.approx(b, rel=1e-7, abs=1e-10), term


_FITS = """<script>
var o = [];
document.querySelectorAll('.table-wrap').forEach(function (e) {
  if (e.scrollWidth > e.clientWidth + 1) o.push(e.querySelector('caption, table').textContent.slice(0, 40));
});
document.body.setAttribute('data-wide', o.join(' | ') || 'none');
</script></body>"""


@pytest.mark.skipif(__import__("shutil").which("chromium") is None, reason="needs headless chromium")
def test_binomial_tables_fit_a_1400px_window_without_scrolling(brep, tmp_path):
    """Laid out by a real browser: every table of a binomial report is read without scrolling sideways."""
    import re
    import subprocess

    page = tmp_path / "probe.html"
    page.write_text(brep.to_html().replace("</body>", _FITS))
    out = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,2000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180).stdout
    m = re.search(r'data-wide="([^"]*)"', out)
    assert m is not None, out[-500:]
    assert m.group(1) == "none"
