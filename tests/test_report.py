"""The report: content checked against the underlying results, for lasso, ridge and elastic net."""
import base64
import re
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats.errors import ParameterError, RegstatsWarning
from regstats.report import Report
from regstats.report._format import fmt, formatted
from regstats.report.document import Figure, Row, Table, Text

FORMULA = "mpg ~ C(cyl) + wt + hp + np.log(disp) + qsec"
SMALL = dict(folds=5, seed=3, n_boot=20, n_rep=10)


def _data():
    df = rs.load_dataset("mtcars")
    df.loc[[2, 7], "hp"] = np.nan          # two rows dropped for missing values
    return df


@pytest.fixture(scope="module", params=["lasso", "ridge", "elastic-net"])
def rep(request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rs.report(FORMULA, _data(), penalty=request.param, **SMALL)


def _section(rep, sid):
    return next(s for s in rep.sections if s.id == sid)


def _blocks(section):
    out = []
    for b in section.blocks:
        for x in (b.blocks if isinstance(b, Row) else [b]):
            out += list(x) if isinstance(x, tuple) else [x]
    return out


# -- what was computed --------------------------------------------------------------------------
def test_every_available_step_is_computed(rep):
    expected_stab = "ok" if rep.path.l1_ratio > 0 else "not computed"
    assert rep.status["cv"] == "ok" and rep.status["criteria"] == "ok"
    assert rep.status["relaxed"].startswith("ok" if rep.path.l1_ratio > 0 else "not computed")
    assert rep.status["bootstrap"] == "ok"
    assert rep.status["inference"] == "ok"
    assert rep.status["bias_variance"] == "ok"
    assert rep.status["stability"].startswith(expected_stab)
    assert [s.id for s in rep.sections] == ["data", "objective", "cv", "path", "coefficients", "dof", "biasvar",
                                           "reproduce"]


def test_data_section_counts_rows_and_columns(rep):
    p = rep.path
    assert p.n_obs == 30 and p.n_dropped == 2
    text = rep.to_html()
    assert "32 in the data; 30 used, 2 dropped for missing values" in text
    design = rep.tables["design"]
    assert list(design["column"]) == [p.response, *p.column_names]
    assert "C(cyl)[T.6]" in list(design["column"])
    X = p._design.X
    np.testing.assert_allclose(design["mean"].to_numpy()[1:], X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(design["sd"].to_numpy()[1:], X.std(axis=0), rtol=1e-12)
    term_of = dict(zip(design["column"], design["term"]))
    assert term_of["C(cyl)[T.6]"] == term_of["C(cyl)[T.8]"] == "C(cyl)" and term_of["wt"] == "wt"


def test_cv_choice_matches_the_cv_result(rep):
    cv = rep.cv
    tab = rep.tables["cv_choice"]
    assert tab["choice"].tolist() == ["lambda_min", "lambda_1se"]
    assert tab["lambda"].tolist() == [cv.lambda_min, cv.lambda_1se]
    for _, row in tab.iterrows():
        ref = cv.table.loc[np.isclose(cv.table["lambda"], row["lambda"], rtol=1e-12)].iloc[0]
        assert row["cv_mean"] == ref["cv_mean"] and row["cv_se"] == ref["cv_se"]
        assert row["n_nonzero"] == ref["n_nonzero"]
    html = rep.to_html()
    assert fmt(cv.lambda_min) in html and fmt(cv.lambda_1se) in html


def test_path_table_is_rows_of_the_path_and_marks_the_choices(rep):
    shown = rep.tables["path"]
    full = rep.path.table.set_index("lambda")
    cvt = rep.cv.table.set_index("lambda")
    for _, row in shown.iterrows():
        ref = full.loc[row["lambda"]]
        assert row["df"] == ref["df"] and row["n_nonzero"] == ref["n_nonzero"] and row["r2"] == ref["r2"]
        assert row["cv_mean"] == cvt.loc[row["lambda"], "cv_mean"]
    assert rep.cv.lambda_min in shown["lambda"].to_numpy()
    assert rep.cv.lambda_1se in shown["lambda"].to_numpy()
    table = next(b for b in _blocks(_section(rep, "path")) if isinstance(b, Table))
    marks = {shown["lambda"].iloc[i]: k for i, k in table.highlight.items()}
    assert marks == {rep.cv.lambda_min: "min", rep.cv.lambda_1se: "1se"} or rep.cv.lambda_min == rep.cv.lambda_1se


def test_coefficient_table_equals_the_results(rep):
    coef = rep.coefficients
    p, cv = rep.path, rep.cv
    terms = list(p.at(cv.lambda_1se).params.index)
    assert coef["term"].tolist() == terms
    np.testing.assert_array_equal(coef["estimate_min"], p.at(cv.lambda_min).params.to_numpy())
    np.testing.assert_array_equal(coef["estimate_1se"], p.at(cv.lambda_1se).params.to_numpy())
    boot = rep.bootstrap.to_frame().set_index("term").loc[terms]
    for col in ("selection_freq", "sign_consistency"):
        np.testing.assert_array_equal(coef[col], boot[col])
    for col in ("mean", "sd", "ci_lower", "ci_upper"):
        np.testing.assert_array_equal(coef[f"boot_{col}"], boot[col])
    inf = rep.inference.to_frame().set_index("term").reindex(terms)
    for col in ("estimate", "std_error", "p_value", "ci_lower", "ci_upper"):
        np.testing.assert_array_equal(coef[f"inf_{col}"], inf[col])
    expected = "ridge (biased)" if p.l1_ratio == 0 else "desparsified lasso"
    assert set(inf["method"].dropna()) == {expected}
    assert f"Inference ({expected})" in rep.to_html()
    if rep.stability is not None:
        prob = rep.stability.selection_prob
        np.testing.assert_array_equal(coef.set_index("term").loc[list(prob.index), "stability_prob"], prob)
        sel = set(rep.stability.selected)
        assert all((t in sel) == bool(s) for t, s in zip(coef["term"], coef["stability_selected"]) if s is not None)


def test_criteria_table_matches_regstats_ic(rep):
    tab = rep.tables["criteria"].set_index("criterion")
    ic = rep.path.information_criteria(seed=3)
    for name, key in (("AIC", "aic"), ("BIC", "bic"), ("Cp", "cp"), ("GCV", "gcv")):
        assert tab.loc[name, "lambda"] == ic.selected[key]
        assert tab.loc[name, "df"] == pytest.approx(rep.path.at(ic.selected[key]).df, rel=1e-12)
    assert ("LOO (exact)" in tab.index) == (rep.path.l1_ratio == 0)
    if rep.path.l1_ratio == 0:
        assert tab.loc["LOO (exact)", "lambda"] == rep.path.loo().lambda_loo
    assert "Other criteria for lambda" in rep.to_html()


def test_relaxed_cv_table(rep):
    if rep.path.l1_ratio == 0:
        assert "relaxed_cv" not in rep.tables and rep.status["relaxed"].startswith("not computed")
        return
    tab = rep.tables["relaxed_cv"].set_index("choice")
    ref = rep.path.relax().cv(folds=5, seed=3)
    assert tab.loc["min", "lambda"] == ref.lambda_min and tab.loc["min", "gamma"] == ref.gamma_min
    assert tab.loc["1se", "lambda"] == ref.lambda_1se and tab.loc["1se", "gamma"] == ref.gamma_1se
    row = ref.table[(ref.table["lambda"] == ref.lambda_min) & (ref.table["gamma"] == ref.gamma_min)].iloc[0]
    assert tab.loc["min", "cv_mean"] == row["cv_mean"]
    # same folds as the plain CV: at gamma = 1 the relaxed CV curve is the penalized one
    g1 = ref.table[ref.table["gamma"] == 1.0]
    np.testing.assert_allclose(g1["cv_mean"].to_numpy(), rep.cv.table["cv_mean"].to_numpy(), rtol=1e-10)


def test_dof_and_bias_variance_tables(rep):
    p = rep.path
    dof = rep.tables["dof"]
    for _, row in dof.iterrows():
        f = p.at(row["lambda"])
        assert row["df"] == pytest.approx(f.df, rel=1e-12)
        assert row["n_nonzero"] == f.n_nonzero
    assert dof["lambda_of"].tolist()[:2] == ["lambda_min", "lambda_1se"]
    bv = rep.bias_variance.set_index("lambda")
    shown = rep.tables["bias_variance"]
    assert list(shown.columns)[:6] == ["lambda", "bias2", "variance", "noise", "risk", "df"]
    # the Monte Carlo methods add bias2's standard error and the path's df (issue 16, item 5)
    assert list(shown.columns)[6:] == ([] if p.l1_ratio == 0 else ["bias2_se", "df_path"])
    for _, row in shown.iterrows():
        np.testing.assert_array_equal(row[["bias2", "variance", "noise", "risk", "df"]].to_numpy(float),
                                      bv.loc[row["lambda"], ["bias2", "variance", "noise", "risk", "df"]].to_numpy(float))
    k = int(np.argmin(rep.bias_variance["risk"].to_numpy()))
    assert rep.bias_variance["lambda"].iloc[k] in shown["lambda"].to_numpy()
    method = "analytic" if p.l1_ratio == 0 else "simulation"
    assert method in rep.to_html()


# -- rendering --------------------------------------------------------------------------------------
def test_html_is_self_contained_and_complete(rep):
    html = rep.to_html()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    imgs = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(imgs) == len(rep.figures) >= 5
    for data in imgs:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    for s in rep.sections:
        assert f'<section id="{s.id}">' in html and f'href="#{s.id}"' in html
    for col in ("lambda_min", "lambda_1se", "selection_freq", "p_value", "bias2", "variance"):
        assert col in html or col.replace("_freq", "") in html
    # every term of the design appears in the coefficient table, HTML-escaped
    for t in rep.path.column_names:
        assert t in html
    assert "nan" not in re.sub(r"<[^>]+>", " ", html).split()       # missing values print as a dash
    names = {f.name for f in rep.figures}
    assert {"cv", "path", "dof", "intervals", "bias_variance"} <= names
    assert ("selection" in names) == (rep.path.l1_ratio > 0)
    assert ("stability" in names) == (rep.path.l1_ratio > 0)


def test_markdown_has_the_same_tables(rep, tmp_path):
    out = rep.save(tmp_path / "r.md")
    md = out.read_text()
    assert md.startswith("# regstats report")
    for s in rep.sections:
        assert f"## {s.title}" in md
    assert "| choice | lambda |" in md
    assert f"| lambda_min | {fmt(rep.cv.lambda_min)} |" in md
    pngs = sorted(p.name for p in (tmp_path / "r_files").iterdir())
    assert pngs == sorted(f"{f.name}.png" for f in rep.figures)
    for f in rep.figures:
        assert f"(r_files/{f.name}.png)" in md
    inline = rep.to_markdown()
    assert inline.count("](data:image/png;base64,") == len(rep.figures)


def test_reproducing_call_and_command(rep):
    pen = {1.0: "lasso", 0.0: "ridge"}.get(rep.path.l1_ratio, "elastic-net")
    assert f'penalty="{pen}"' in rep.call
    assert "folds=5" in rep.call and "seed=3" in rep.call and "n_boot=20" in rep.call
    assert ("n_rep=10" in rep.call) == (pen != "ridge")          # ridge's bias-variance is exact
    assert ("--n-rep 10" in rep.command) == (pen != "ridge")
    assert f"--penalty {pen}" in rep.command and "--folds 5" in rep.command and "--bootstrap 20" in rep.command
    compile(rep.call, "<call>", "exec")


def test_reproducing_call_reproduces_the_numbers(tmp_path):
    a = rs.report("lpsa ~ . - train", rs.load_dataset("prostate"), folds=5, seed=7, n_boot=15, n_rep=10,
                  source="prostate", figures=False)
    assert a.figures == [] and "figures=False" in a.call and "--no-figures" in a.command
    code = a.call.replace('rep.save("report.html")', "")
    ns: dict = {}
    exec(code, ns)
    b = ns["rep"]
    pd.testing.assert_frame_equal(a.coefficients, b.coefficients)
    pd.testing.assert_frame_equal(a.tables["bias_variance"], b.tables["bias_variance"])
    assert "regstats report --dataset prostate --formula 'lpsa ~ . - train'" in a.command


def test_save_html_and_repr(tmp_path):
    r = rs.report("lpsa ~ lcavol + lweight + svi + age", rs.load_dataset("prostate"), folds=4, n_boot=0,
                  stability=False, inference=False, bias_variance=False, figures=False, out=tmp_path / "x.html")
    assert (tmp_path / "x.html").read_text().startswith("<!DOCTYPE html>")
    assert r.status["bootstrap"].startswith("not computed") and r.bootstrap is None
    frag = r._repr_html_()
    assert frag.startswith('<div class="regstats-report">') and "<html" not in frag
    assert "computed cv" in repr(r)
    # sections left out say so instead of disappearing
    assert "Bias-variance not computed" in r.to_html()


def test_report_from_a_path():
    path = rs.elastic_net("lpsa ~ . - train", rs.load_dataset("prostate"), l1_ratio=0.3, n_lambda=30)
    r = rs.report(path, folds=4, n_boot=10, stability=False, bias_variance=False, inference=False, figures=False)
    assert r.path is path
    assert 'penalty="elastic-net", l1_ratio=0.3' in r.call


# -- modules that are missing or fail -----------------------------------------------------------------
@pytest.mark.parametrize("module,step", [("regstats.inference", "inference"), ("regstats.bootstrap", "bootstrap"),
                                         ("regstats.biasvar", "bias_variance"), ("regstats.cv", "cv"),
                                         ("regstats.ic", "criteria")])
def test_missing_module_leaves_a_note(monkeypatch, module, step):
    monkeypatch.setitem(sys.modules, module, None)
    r = rs.report("lpsa ~ . - train", rs.load_dataset("prostate"), folds=4, n_boot=10, n_rep=5, figures=False,
                  inference=step == "inference", stability=False)
    assert r.status[step].startswith("not computed: module")
    assert getattr(r, step, None) is None
    html = r.to_html()
    assert "is not available in this installation" in html
    if step == "cv":
        assert "not a tuned choice" in html
        assert "estimate" in r.coefficients.columns
    assert r.to_markdown()


def test_failing_step_is_reported_not_raised(monkeypatch):
    def boom(self, *a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(rs.Fit, "inference", boom)
    with pytest.warns(RegstatsWarning, match="kaboom"):
        r = rs.report("lpsa ~ . - train", rs.load_dataset("prostate"), folds=4, n_boot=10, n_rep=5,
                      stability=False, bias_variance=False, figures=False)
    assert r.status["inference"] == "failed: RuntimeError: kaboom"
    assert "kaboom" in r.to_html()


def test_step_warnings_appear_in_the_report():
    df = rs.load_dataset("prostate")
    df["const"] = 1.0
    with pytest.warns(rs.DesignWarning):
        r = rs.report("lpsa ~ lcavol + lweight + const", df, folds=4, n_boot=0, stability=False,
                      inference=False, bias_variance=False, figures=False)
    assert "Warning (Fitting): constant column(s) [&#x27;const&#x27;]" in r.to_html()


# -- arguments -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw,match", [
    (dict(penalty="lassoo"), "penalty must be one of"),
    (dict(penalty="lasso", l1_ratio=0.5), "l1_ratio must be 1"),
    (dict(penalty="elastic-net", l1_ratio=1.5), r"l1_ratio must be a number in \[0, 1\]"),
    (dict(penalty="elastic-net", l1_ratio="auto"), r"l1_ratio must be a number in \[0, 1\] or 'cv'"),
    (dict(penalty="lasso", l1_ratio="cv"), "l1_ratio must be 1 for penalty 'lasso'"),
    (dict(folds=1), "folds must be an integer >= 2"),
    (dict(n_boot=-1), "n_boot must be an integer >= 0"),
    (dict(choice="max"), "choice must be one of"),
    (dict(out="r.pdf"), "out must end in .html"),
    (dict(seed=-3), "seed must be"),
    (dict(n_jobs=0), "n_jobs must be a nonzero integer"),
])
def test_bad_arguments(kw, match):
    with pytest.raises(ParameterError, match=match):
        rs.report("lpsa ~ . - train", rs.load_dataset("prostate"), **kw)


def test_bad_model_and_data():
    with pytest.raises(ParameterError, match="model must be a formula"):
        rs.report(42)
    with pytest.raises(ParameterError, match="data must be a DataFrame"):
        rs.report("y ~ x")
    with pytest.raises(rs.FormulaError):
        rs.report("nope ~ .", rs.load_dataset("prostate"))
    r = Report(title="t", sections=[], path=None)
    with pytest.raises(ParameterError, match="out must end in"):
        r.save("x.txt")


def test_callable_package_keeps_submodules():
    import regstats.report.plots as plots
    from regstats.report import plots as plots2

    assert callable(rs.report) and rs.report.plots is plots is plots2


# -- formatting ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("x,s", [(0.0, "0"), (3.0, "3"), (np.int64(7), "7"), (0.123456, "0.1235"),
                                 (123.456, "123.5"), (-0.0012345, "-0.001234"), (2.5e-7, "2.500e-07"),
                                 (float("nan"), "–"), (True, "yes"), (None, ""), ("a|b", "a|b")])
def test_fmt(x, s):
    assert fmt(x) == s


def test_formatted_frame_and_text_markup():
    df = pd.DataFrame({"a": [1.23456, np.nan], "b": ["x", "y"]})
    f = formatted(df, 3)
    assert f["a"].tolist() == ["1.23", "–"] and f["b"].tolist() == ["x", "y"]
    from regstats.report.html import _block_html

    assert _block_html(Text("use `x<y`")) == "<p>use <code>x&lt;y</code></p>"
    with pytest.raises(TypeError):
        _block_html(object())


# -- compare() ------------------------------------------------------------------------------------------
def test_compare_against_statsmodels():
    import statsmodels.api as sm

    data = rs.load_dataset("mtcars")
    path = rs.lasso("mpg ~ C(cyl) + wt + hp + qsec", data)
    fit = path.at(1.0)
    cmp = rs.compare({"lasso": fit}, relaxed=True, ols=True)
    assert list(cmp.estimates.columns) == ["lasso", "lasso relaxed", "OLS"]
    assert cmp.kinds == {"lasso": "penalized", "lasso relaxed": "relaxed", "OLS": "ols"}
    np.testing.assert_array_equal(cmp.estimates["lasso"].to_numpy(), fit.params.to_numpy())
    assert cmp.std_errors["lasso"].isna().all()
    X = pd.DataFrame(path._design.X, columns=path.column_names)
    y = path._design.y
    ols = sm.OLS(y, sm.add_constant(X).rename(columns={"const": "Intercept"})).fit()
    np.testing.assert_allclose(cmp.estimates["OLS"], ols.params.reindex(cmp.estimates.index), rtol=1e-9)
    np.testing.assert_allclose(cmp.std_errors["OLS"], ols.bse.reindex(cmp.estimates.index), rtol=1e-9)
    assert cmp.stats.loc["r2", "OLS"] == pytest.approx(ols.rsquared, rel=1e-12)
    sel = list(fit.selected)
    rel = sm.OLS(y, sm.add_constant(X[sel]).rename(columns={"const": "Intercept"})).fit()
    np.testing.assert_allclose(cmp.estimates.loc[["Intercept", *sel], "lasso relaxed"], rel.params, rtol=1e-9)
    np.testing.assert_allclose(cmp.std_errors.loc[["Intercept", *sel], "lasso relaxed"], rel.bse, rtol=1e-9)
    dropped = [c for c in path.column_names if c not in sel]
    assert dropped and (cmp.estimates.loc[dropped, "lasso relaxed"] == 0).all()
    assert cmp.stats.loc["lambda", "lasso"] == 1.0 and cmp.stats.loc["n_nonzero", "lasso"] == len(sel)
    tidy = cmp.to_frame()
    assert list(tidy.columns) == ["model", "term", "estimate", "std_error"]
    assert tidy["model"].unique().tolist() == ["lasso", "lasso relaxed", "OLS"]
    row = tidy[(tidy["model"] == "OLS") & (tidy["term"] == "wt")].iloc[0]
    assert row["estimate"] == cmp.estimates.at["wt", "OLS"]
    text = str(cmp)
    assert f"{fmt(ols.params['wt'])} ({fmt(ols.bse['wt'], 3)})" in text
    assert "Model comparison" in cmp._repr_html_() and "| wt |" in cmp.summary().to_markdown()


def test_compare_inference_results_and_weights():
    data = rs.load_dataset("prostate")
    w = np.linspace(0.5, 2.0, len(data))
    path = rs.lasso("lpsa ~ lcavol + lweight + svi", data, weights=w)
    inf = path.at(0.05).inference(seed=1)
    cmp = rs.compare([path.at(0.05), inf], ols=True)
    assert list(cmp.estimates.columns) == ["lasso (lambda=0.05)", "desparsified lasso", "OLS"]
    f = inf.to_frame().set_index("term")
    np.testing.assert_array_equal(cmp.std_errors.loc[f.index, "desparsified lasso"], f["std_error"])
    # weighted least squares oracle
    import statsmodels.api as sm

    X = sm.add_constant(data[["lcavol", "lweight", "svi"]].to_numpy())
    ref = sm.WLS(data["lpsa"].to_numpy(), X, weights=w).fit()
    np.testing.assert_allclose(cmp.estimates["OLS"].to_numpy(), ref.params, rtol=1e-9)
    np.testing.assert_allclose(cmp.std_errors["OLS"].to_numpy(), ref.bse, rtol=1e-9)


def test_compare_bad_input_and_p_greater_than_n(rng):
    with pytest.raises(ParameterError, match="at least one model"):
        rs.compare([])
    with pytest.raises(ParameterError, match="models must be Fits"):
        rs.compare([42])
    with pytest.raises(ParameterError, match="ols=True needs a penalized Fit"):
        rs.compare([pd.Series({"a": 1.0})], ols=True)
    path = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate"))
    with pytest.raises(ParameterError, match="model names must be distinct"):
        rs.compare({"a": path.at(0.1), "a relaxed": path.at(0.2)}, relaxed=True)
    X = rng.standard_normal((10, 15))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(15)])
    df["y"] = X[:, 0] + rng.standard_normal(10)
    wide = rs.lasso("y ~ .", df)
    cmp = rs.compare([wide.at(wide.lambdas[10])], ols=True)
    assert cmp.estimates["OLS"].isna().all()


def test_report_shows_the_comparison(rep):
    cmp = rep.tables["comparison"]
    fmin = rep.path.at(rep.cv.lambda_min)
    got = cmp[cmp["model"] == "lambda_min"].set_index("term")["estimate"]
    np.testing.assert_array_equal(got.reindex(fmin.params.index), fmin.params)
    assert ("lambda_1se relaxed" in set(cmp["model"])) == (rep.path.l1_ratio > 0)
    assert "Penalized, relaxed and least-squares fits side by side" in rep.to_html()


def test_wide_design_shows_the_flagged_terms(rng):
    n, p = 40, 60
    X = rng.standard_normal((n, p))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = 3 * X[:, 0] - 2 * X[:, 1] + rng.standard_normal(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rs.report("y ~ .", df, folds=4, n_boot=20, n_rep=5, stability=False, bias_variance=False,
                      figures=False)
    coef = r.coefficients
    assert len(coef) == p + 1                                   # all terms in the tidy table
    html = r.to_html()
    shown = re.findall(r"<tr><td>(x\d+)</td>", html.split('id="coefficients"')[1].split("</table>")[0])
    flagged = coef[(coef["estimate_min"] != 0) | (coef["estimate_1se"] != 0) | (coef["selection_freq"] >= 0.5)
                   | (coef["inf_p_holm"] < 0.05)]["term"].tolist()
    assert set(shown) == set(flagged) - {"Intercept"}
    assert {"x0", "x1"} <= set(shown) and len(shown) < p
    assert f"{p + 1 - len(flagged)} of {p + 1} terms are not shown" in html
    assert 'class="table-wrap scroll"' in html                 # the long design table scrolls


# -- every result's summary renders in every format -----------------------------------------------------
def _summaries(rep):
    out = {"path": rep.path.summary(), "fit": rep.path.at(rep.cv.lambda_1se).summary(), "cv": rep.cv.summary(),
           "bootstrap": rep.bootstrap.summary(), "inference": rep.inference.summary()}
    if rep.stability is not None:
        out["stability"] = rep.stability.summary()
    out["compare"] = rs.compare([rep.path.at(rep.cv.lambda_min)], relaxed=True, ols=True).summary()
    return out


def test_every_summary_renders_its_tables(rep):
    from regstats._summary import _formatted

    for name, s in _summaries(rep).items():
        text, html, md, tex = str(s), s.to_html(), s.to_markdown(), s.to_latex()
        assert s.title in text and s.title in html and s.title in md, name
        assert s._repr_html_() == html
        for caption, df in s.tables:
            cells = _formatted(df, s.digits)
            for col in df.columns:
                assert str(col) in text and str(col) in html and str(col) in md, (name, col)
            for v in cells.to_numpy().ravel()[:200]:
                v = str(v)
                if v and v != "nan":
                    assert v in text, (name, v)
                    assert v.replace("|", "\\|") in md, (name, v)
            assert tex.count("\\begin{tabular}") == len(s.tables)


def test_summaries_show_the_underlying_numbers(rep):
    from regstats._summary import _fmt

    sm = _summaries(rep)
    fit = rep.path.at(rep.cv.lambda_1se)
    text = str(sm["fit"])
    for v in fit.params.to_numpy():
        assert _fmt(float(v)) in text
    inf = rep.inference.to_frame()
    text = str(sm["inference"])
    for v in inf["std_error"].dropna().to_numpy():
        assert _fmt(float(v)) in text
    boot = rep.bootstrap.to_frame()
    text = str(sm["bootstrap"])
    for v in boot["selection_freq"].to_numpy():
        assert _fmt(float(v)) in text


def test_choice_min_weights_and_progress(capsys):
    df = rs.load_dataset("prostate")
    df["w"] = np.linspace(0.5, 1.5, len(df))
    r = rs.report("lpsa ~ . - train - w", df, choice="min", weights="w", folds=4, n_boot=10, n_rep=5,
                  stability=False, inference=False, figures=False, progress=True)
    err = capsys.readouterr().err
    assert "regstats: [1/" in err and "cross-validation (4 folds)" in err and "bootstrap (10 replicates)" in err
    assert r.bootstrap.lam == r.cv.lambda_min                  # the bootstrap ran at the chosen lambda
    assert 'choice="min"' in r.call and "weights='w'" in r.call
    assert "--choice min" in r.command and "--weights w" in r.command
    html = r.to_html()
    assert "given, normalised to sum n" in html and "below use lambda_min" in html


def test_l1_ratio_chosen_by_cv():
    data = rs.load_dataset("mtcars")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rs.report("mpg ~ C(cyl) + wt + hp + qsec", data, penalty="elastic-net", l1_ratio="cv", folds=5, seed=2,
                      n_boot=5, n_rep=5, stability=False, inference=False, figures=False)
    from regstats.report.build import L1_RATIOS

    ref = rs.cv_elastic_net("mpg ~ C(cyl) + wt + hp + qsec", data, l1_ratios=L1_RATIOS, folds=5, seed=2)
    pd.testing.assert_frame_equal(r.tables["l1_ratio_cv"], ref.by_l1_ratio)
    assert r.path.l1_ratio == ref.l1_ratio_min
    assert r.cv.lambda_min == ref.lambda_min and r.cv.lambda_1se == ref.lambda_1se
    assert 'l1_ratio="cv"' in r.call and "--l1-ratio cv" in r.command
    assert "Choice of l1_ratio" in r.to_html()


def test_same_numbers_for_any_n_jobs():
    kw = dict(folds=4, seed=5, n_boot=12, n_rep=6, figures=False, inference=False)
    a = rs.report("lpsa ~ . - train", rs.load_dataset("prostate"), n_jobs=1, **kw)
    b = rs.report("lpsa ~ . - train", rs.load_dataset("prostate"), n_jobs=2, **kw)
    for name in ("cv_choice", "path", "coefficients", "bias_variance", "relaxed_cv", "criteria"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert "n_jobs" not in a.call                      # not needed to reproduce the numbers


# -- escaping in every output format (issue 21, item 7) -----------------------------------------------
HOSTILE = "<script>alert(1)</script>"


def _hostile_data(rng):
    n = 40
    df = pd.DataFrame({"y": rng.standard_normal(n), HOSTILE: rng.standard_normal(n),
                       "a|b": rng.choice(["0ref", "p|q", "<i>r</i>", "s*t*"], n), "x": rng.standard_normal(n)})
    df["y"] += 2 * df[HOSTILE] + (df["a|b"] == "p|q")
    return df


def _unescaped_pipes(line):
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_escapes_names_and_levels(rng, tmp_path):
    df = _hostile_data(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = rs.report("y ~ .", df, folds=3, seed=1, n_boot=5, stability=False, inference=False,
                        bias_variance=False, figures=False, title=f"report on {HOSTILE} | data")
    md = rep.to_markdown()
    assert "<script" not in md and "<i>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert md.splitlines()[0] == "# report on &lt;script&gt;alert(1)&lt;/script&gt; | data"
    for block in md.split("\n\n"):                 # every row of a table has as many cells as its header
        rows = [ln for ln in block.splitlines() if ln.startswith("|")]
        if rows:
            assert len({_unescaped_pipes(r) for r in rows}) == 1, block
    assert "| Q('a\\|b')[T.p\\|q] |" in md and "[T.&lt;i&gt;r&lt;/i&gt;]" in md and "[T.s\\*t\\*]" in md
    html = rep.to_html()
    assert "<script" not in html and "&lt;script&gt;" in html
    s = rep.path.at(float(rep.path.lambdas[5])).summary()
    smd = s.to_markdown()
    assert "<script" not in smd and "<i>" not in smd
    for line in smd.splitlines():
        if line.startswith("| ") and "---" not in line:
            assert _unescaped_pipes(line) == _unescaped_pipes(smd.splitlines()[
                next(i for i, ln in enumerate(smd.splitlines()) if ln.startswith("| "))])


def _tex_specials_left(text):
    """Raw special characters left after removing the escapes LaTeX understands."""
    for esc in (r"\textbackslash{}", r"\textasciicircum{}", r"\textasciitilde{}", r"\textless{}",
                r"\textgreater{}", r"\textbar{}", r"\&", r"\%", r"\$", r"\#", r"\_", r"\{", r"\}"):
        text = text.replace(esc, "")
    return re.findall(r"[\\&%$#_{}^~<>|]", text)


def test_latex_escapes_every_special_character(rng):
    from regstats._summary import Summary

    name = r"x^2 \alpha_1 50% & #3 $5 {a} ~b <c>|"
    frame = pd.DataFrame({"estimate": [1.5, -2.0], "note": [name, "ok"]}, index=pd.Index([name, "y_2"], name="t_m"))
    tex = Summary(title=f"fit of {name}\n\\end{{document}}", tables=[("", frame)]).to_latex()
    body = [ln for ln in tex.splitlines() if not ln.startswith(("\\begin{tabular}", "\\end{tabular}", "\\hline"))]
    cells = [c for ln in body[1:] for c in ln.removesuffix(" \\\\").split(" & ")]
    assert all(_tex_specials_left(c) == [] for c in cells), cells
    assert r"x\textasciicircum{}2 \textbackslash{}alpha\_1 50\% \& \#3 \$5 \{a\} \textasciitilde{}b" in tex
    assert len(tex.splitlines()[0].splitlines()) == 1 and "\\end{document}" not in tex.splitlines()[1]
    df = pd.DataFrame({"y": rng.standard_normal(30), "a^b": rng.standard_normal(30), "c\\d_e": rng.standard_normal(30)})
    fit = rs.lasso("y ~ .", df).at(0.01)
    tex = fit.summary().to_latex()
    assert r"a\textasciicircum{}b" in tex and r"c\textbackslash{}d\_e" in tex


# -- figures and layout readable at a glance (issue 17 item 2) -----------------------------------
def test_report_figures_render_without_warnings_and_name_the_scale():
    """Every figure of a report on Credit (factors of hundreds of dollars) draws without a warning;
    the forest plot is on the standardized scale and its caption says so."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = rs.report("Balance ~ . - ID", rs.load_dataset("credit"), folds=5, seed=1, n_boot=20, n_rep=5,
                      inference=False)
    figure_warnings = [w for w in caught if "figure" in str(w.message) or "matplotlib" in w.filename]
    assert figure_warnings == []
    assert not any(k.startswith("figure:") for k in r.status)
    names = [f.name for f in r.figures]
    assert {"cv", "path", "intervals", "selection", "dof"} <= set(names)
    caps = {f.name: f.caption for f in r.figures}
    assert "standardized scale" in caps["intervals"]
    assert "sign consistency" in caps["selection"] and "colour bar" in caps["selection"]
    assert "decreases to the right" in caps["path"]


def _wide_report():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((47, 5))
    df = pd.DataFrame(X, columns=["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"])
    df = df.rename(columns={"Infant.Mortality": "Infant_Mortality"})
    df["Fertility"] = X.sum(axis=1) + rng.standard_normal(47)
    df["province"] = [f"Province_{i}" for i in range(47)]       # a 47-level factor: a very wide table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # '.' refuses an ID-like column (issue 17); naming it as a factor is the documented way
        return rs.report("Fertility ~ . - province + C(province)", df, folds=5, seed=1, n_boot=10, stability=False, inference=False,
                         bias_variance=False, figures=False,
                         source="/data/" + "a_long_file_name_without_any_break_" * 4 + "swiss.csv")


def test_every_html_table_scrolls_inside_its_box():
    from regstats.report.html import CSS

    page = _wide_report().to_html()
    tables = [m.start() for m in re.finditer(r"<table", page)]
    assert tables
    for i in tables:
        assert re.search(r'<div class="table-wrap[^"]*">$', page[max(0, i - 40):i]), page[i - 60:i + 40]
    assert re.search(r"\.table-wrap \{[^}]*overflow-x: auto", CSS)
    assert re.search(r"nav \{[^}]*flex-wrap: wrap", CSS)


_PROBE = """<script>
var o = [];
document.querySelectorAll('body *').forEach(function (e) {
  var r = e.getBoundingClientRect();
  if (r.right <= window.innerWidth + 1) return;
  for (var a = e.parentElement; a; a = a.parentElement) {
    var s = getComputedStyle(a).overflowX;
    if (s == 'auto' || s == 'scroll') return;
  }
  o.push(e.tagName + ':' + Math.round(r.right));
});
document.body.setAttribute('data-overflow', o.join(' ') || 'none');
</script></body>"""


@pytest.mark.skipif(__import__("shutil").which("chromium") is None, reason="needs headless chromium")
@pytest.mark.parametrize("width", [1400, 700])
def test_nothing_is_cut_off_in_chromium(tmp_path, width):
    """Laid out by a real browser: no element outside a scrolling box reaches past the window."""
    import subprocess

    page = tmp_path / "probe.html"
    page.write_text(_wide_report().to_html().replace("</body>", _PROBE))
    out = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                          f"--window-size={width},2000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=180).stdout
    m = re.search(r'data-overflow="([^"]*)"', out)
    assert m is not None, out[-500:]
    assert m.group(1) == "none"


def test_one_example_report_per_bundled_dataset():
    from pathlib import Path as FilePath

    from regstats.datasets import DATASETS
    from regstats.report.examples import EXAMPLES

    assert sorted(d for d, _, _ in EXAMPLES.values()) == sorted(DATASETS)
    reports = FilePath(__file__).parent.parent / "reports"
    for name in EXAMPLES:
        assert (reports / f"{name}.html").is_file() and (reports / f"{name}.md").is_file(), name
