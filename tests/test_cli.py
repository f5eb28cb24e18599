"""The ``regstats`` command, end to end in a subprocess: exit codes, files written, messages."""
import io
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import regstats as rs


def run(*args, cwd=None, timeout=240):
    """The command in a subprocess."""
    return subprocess.run([sys.executable, "-m", "regstats.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)


def run_inline(args, capsys, monkeypatch, cwd):
    """The same entry point in this process (cheaper), returning (status, stdout, stderr)."""
    from regstats.cli import main

    monkeypatch.chdir(cwd)
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:          # argparse usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    df = rs.load_dataset("mtcars")
    df.loc[3, "hp"] = np.nan
    path = d / "cars.csv"
    df.to_csv(path, index=False)
    return path


def test_readme_command_writes_a_self_contained_report(tmp_path):
    """``regstats report --out report.html`` with no data: bundled prostate data, default settings."""
    exe = shutil.which("regstats")
    cmd = [exe] if exe else [sys.executable, "-m", "regstats.cli"]
    r = subprocess.run([*cmd, "report", "--out", "report.html"], capture_output=True, text=True, cwd=tmp_path,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "lpsa ~ . - train" in html and "97 in the data; 97 used, 0 dropped" in html
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) >= 7
    assert "https://" not in html and "<script" not in html
    # progress on stderr, one line per step, and the CV choice is the one regstats computes
    assert "[2/7] cross-validation (10 folds)" in r.stderr and "wrote report.html" in r.stderr
    cv = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate")).cv(folds=10, seed=1)
    assert f"{cv.lambda_min:.4f}"[:5] in html or f"{cv.lambda_min:.4g}" in html
    assert "regstats report --dataset prostate --formula &#x27;lpsa ~ . - train&#x27;" in html
    assert r.stdout == ""


def test_report_from_csv_markdown(csv, tmp_path):
    out = tmp_path / "r.md"
    r = run("report", csv, "-f", "mpg ~ C(cyl) + wt + hp", "-p", "elastic-net", "--l1-ratio", "0.3",
            "--folds", "4", "--bootstrap", "10", "--no-bias-variance", "--no-stability", "-q", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "[1/" not in r.stderr and "wrote" not in r.stderr        # --quiet: warnings only
    md = out.read_text()
    assert "elastic net (l1_ratio = 0.3)" in md
    assert "32 in the data; 31 used, 1 dropped for missing values" in md
    assert "| C(cyl)[T.6] |" in md
    assert (tmp_path / "r_files" / "cv.png").read_bytes()[:4] == b"\x89PNG"
    assert f"pd.read_csv(\"{csv}\")" in md
    assert "Stability selection not computed: left out (stability=False)" in md
    assert "desparsified lasso" in md and "| lambda_min |" in md


def test_fit_writes_the_coefficient_path(csv, tmp_path):
    out = tmp_path / "path.csv"
    r = run("fit", csv, "--formula", "mpg ~ C(cyl) + wt + hp", "--penalty", "ridge", "--n-lambda", "20",
            "--folds", "5", "--seed", "4", "--out", out)
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(out)
    path = rs.ridge("mpg ~ C(cyl) + wt + hp", pd.read_csv(csv), n_lambda=20)
    cv = path.cv(folds=5, seed=4)
    assert list(got.columns) == ["lambda", "df", "n_nonzero", "r2", "cv_mean", "cv_se", *path.coef.columns]
    np.testing.assert_allclose(got["lambda"], path.lambdas, rtol=1e-9)
    np.testing.assert_allclose(got[list(path.coef.columns)].to_numpy(), path.coef.to_numpy(), rtol=1e-8,
                               atol=1e-12)
    np.testing.assert_allclose(got["df"], path.table["df"], rtol=1e-8)
    np.testing.assert_allclose(got["cv_mean"], cv.table["cv_mean"], rtol=1e-8)
    assert f"lambda_min = {cv.lambda_min:.6g}" in r.stderr and "wrote 20 lambdas" in r.stderr


def test_fit_with_weights_column(csv, tmp_path, capsys, monkeypatch):
    df = pd.read_csv(csv)
    df["w"] = np.linspace(0.5, 2.0, len(df))
    f = tmp_path / "w.csv"
    df.to_csv(f, index=False)
    code, out, err = run_inline(["fit", f, "-f", "mpg ~ .  - model", "--weights", "w", "--n-lambda", "8"],
                                capsys, monkeypatch, tmp_path)
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out))
    path = rs.lasso("mpg ~ . - model", df, weights="w", n_lambda=8)
    assert "w" not in got.columns                      # the weights column is not a predictor
    np.testing.assert_allclose(got["wt"], path.coef["wt"], rtol=1e-8, atol=1e-12)


def test_fit_to_stdout_on_bundled_data():
    r = run("fit", "--dataset", "diabetes", "--n-lambda", "10")
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(io.StringIO(r.stdout))
    assert got.shape == (10, 4 + 11)
    path = rs.lasso("y ~ .", rs.load_dataset("diabetes"), n_lambda=10)
    np.testing.assert_allclose(got["bmi"], path.coef["bmi"], rtol=1e-8, atol=1e-12)


BAD_INPUT = [
    (["report", "missing.csv", "-f", "y ~ ."], "data file 'missing.csv' does not exist"),
    (["report", "{csv}", "-f", "mpg ~ nosuch + wt"], "unknown name 'nosuch'"),
    (["fit", "{csv}", "-f", "mpg + wt"], "formula must be a string 'response ~ terms'"),
    (["fit", "{csv}"], "a DATA file needs --formula"),
    (["fit", "{empty}", "-f", "y ~ ."], "the file is empty"),
    (["fit", "{binary}", "-f", "y ~ ."], "cannot read"),
    (["fit", "{csv}", "-f", "model ~ wt"], "model"),
    (["fit", "--dataset", "prostate", "--l1-ratio", "0.5"], "--l1-ratio needs --penalty elastic-net"),
    (["fit", "--dataset", "prostate", "-p", "elastic-net", "--l1-ratio", "cv"], "--l1-ratio cv works with"),
    (["report", "--out", "r.pdf"], "--out must end in .html or .md"),
    (["report", "{csv}", "--dataset", "mtcars", "-f", "mpg ~ wt"], "either a DATA file or --dataset"),
    (["fit", "{csv}", "-f", "mpg ~ wt", "--out", "nodir/x.csv"], "the directory of --out does not exist"),
]


def _bad_files(tmp_path, csv, args):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    args = [a.format(csv=csv, empty=empty, binary=binary) for a in args]
    return args + (["-q"] if args[0] == "report" else ["--n-lambda", "5"])


@pytest.mark.parametrize("args,message", BAD_INPUT[:3])
def test_bad_input_exits_1_with_one_line(args, message, csv, tmp_path):
    r = run(*_bad_files(tmp_path, csv, args), cwd=tmp_path)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    err = [ln for ln in r.stderr.splitlines() if ln.startswith("regstats: error:")]
    assert len(err) == 1 and message in err[0], r.stderr


@pytest.mark.parametrize("args,message", BAD_INPUT)
def test_bad_input_inline(args, message, csv, tmp_path, capsys, monkeypatch):
    code, out, err = run_inline(_bad_files(tmp_path, csv, args), capsys, monkeypatch, tmp_path)
    assert code == 1
    lines = [ln for ln in err.splitlines() if ln.startswith("regstats: error:")]
    assert len(lines) == 1 and message in lines[0], err
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "report.html").exists()


@pytest.mark.parametrize("args,message", [
    (["report", "--penalty", "lasso2"], "invalid choice: 'lasso2'"),
    (["report", "--folds", "1"], "must be an integer >= 2"),
    (["fit", "--l1-ratio", "2", "--penalty", "elastic-net"], "must be a number in [0, 1] or 'cv'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_usage_errors_exit_2(args, message, capsys, monkeypatch, tmp_path):
    code, out, err = run_inline(args, capsys, monkeypatch, tmp_path)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_usage_error_in_a_subprocess():
    r = run("report", "--penalty", "lasso2")
    assert r.returncode == 2 and "invalid choice: 'lasso2'" in r.stderr and "Traceback" not in r.stderr


def test_help_documents_every_option(capsys, monkeypatch, tmp_path):
    from regstats.cli import build_parser

    for cmd in ("report", "fit"):
        code, stdout, _ = run_inline([cmd, "--help"], capsys, monkeypatch, tmp_path)
        r = subprocess.CompletedProcess([], code, stdout, "")
        assert r.returncode == 0
        sub = next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices
                   and cmd in a.choices).choices[cmd]
        for action in sub._actions:
            for opt in action.option_strings:
                assert opt in r.stdout
            if action.option_strings and action.help is not None:
                assert action.help.split()[0] in r.stdout
        assert "DATA" in r.stdout
    top = run("--help")
    assert top.returncode == 0 and "report" in top.stdout and "fit" in top.stdout and "Exit status" in top.stdout
    code, stdout, _ = run_inline(["--version"], capsys, monkeypatch, tmp_path)
    assert code == 0 and stdout.strip() == f"regstats {rs.__version__}"


# -- every option reaches the library call (issue 21, item 3; issue 17, item 5) -----------------------
class Called(Exception):
    """Raised by a stand-in library function, carrying the arguments it was called with."""


def _capture(monkeypatch, target, name):
    """Replace ``target.name`` by a function that records its call and stops the command."""
    calls = []

    def fake(*args, **kwargs):
        calls.append((args, kwargs))
        raise Called()

    monkeypatch.setattr(target, name, fake)
    return calls


REPORT_OPTIONS = [  # (argv, keyword, value the library must receive)
    (["-j", "2"], "n_jobs", 2),
    (["--n-jobs", "-1"], "n_jobs", -1),
    (["--folds", "4"], "folds", 4),
    (["--seed", "7"], "seed", 7),
    (["--bootstrap", "11"], "n_boot", 11),
    (["--choice", "min"], "choice", "min"),
    (["--n-rep", "9"], "n_rep", 9),
    (["--no-stability"], "stability", False),
    (["--no-inference"], "inference", False),
    (["--no-bias-variance"], "bias_variance", False),
    (["--no-figures"], "figures", False),
    (["-q"], "progress", False),
    (["-p", "ridge"], "penalty", "ridge"),
    (["-p", "elastic-net", "--l1-ratio", "0.3"], "l1_ratio", 0.3),
    (["-p", "elastic-net", "--l1-ratio", "cv"], "l1_ratio", "cv"),
    (["--n-lambda", "20"], "n_lambda", 20),
    (["--lambda-min-ratio", "0.01"], "lambda_min_ratio", 0.01),
    (["--no-standardize"], "standardize", False),
    (["-w", "lweight"], "weights", "lweight"),
    (["--threshold", "0.8"], "stability_options", {"threshold": 0.8}),
    (["--pfer", "2"], "stability_options", {"pfer": 2.0}),
    (["--inference", "selective"], "inference_options", {"method": "selective"}),
    (["--inference", "naive-refit"], "inference_options", {"method": "naive_refit"}),
    (["--nodewise-lambda", "0.1"], "inference_options", {"nodewise_lambda": 0.1}),
    (["--nodewise-lambda", "scaled"], "inference_options", {"nodewise_lambda": "scaled"}),
    (["--nodewise-lambda", "znz"], "inference_options", {"nodewise_lambda": "znz"}),
    (["-f", "lpsa ~ lcavol + lweight"], 0, "lpsa ~ lcavol + lweight"),
    (["--dataset", "diabetes"], 0, "y ~ ."),
    (["-o", "x.md"], "out", "x.md"),
    (["--family", "binomial"], "family", "binomial"),
    (["--family", "poisson", "--offset", "lcavol"], "offset", "lcavol"),
    (["--loss", "mae"], "loss", "mae"),
    (["--family", "binomial", "--no-stratify"], "stratify", False),
    (["--dataset", "pima"], "family", "binomial"),
]


@pytest.mark.parametrize("argv,key,value", REPORT_OPTIONS, ids=[" ".join(a) for a, _, _ in REPORT_OPTIONS])
def test_report_option_reaches_the_call(argv, key, value, monkeypatch, capsys, tmp_path):
    import regstats.report as report_pkg

    calls = _capture(monkeypatch, report_pkg, "report")
    monkeypatch.chdir(tmp_path)
    from regstats.cli import main

    with pytest.raises(Called):
        main(["report", *argv])
    (args, kwargs), = calls
    got = args[key] if isinstance(key, int) else kwargs[key]
    if key == "out":
        got = str(got)
    assert got == value


def test_every_report_option_is_tested():
    from regstats.cli import build_parser

    sub = next(a for a in build_parser()._actions if getattr(a, "choices", None) and "report" in a.choices)
    tested = {opt for argv, _, _ in REPORT_OPTIONS for opt in argv if opt.startswith("-")}
    for action in sub.choices["report"]._actions:
        if action.option_strings and action.dest not in ("help", "trust_formula"):
            assert tested & set(action.option_strings), action.option_strings


FIT_OPTIONS = [
    (["--n-lambda", "20"], "n_lambda", 20),
    (["--lambda-min-ratio", "0.01"], "lambda_min_ratio", 0.01),
    (["--no-standardize"], "standardize", False),
    (["-w", "lweight"], "weights", "lweight"),
    (["-p", "ridge"], "l1_ratio", 0.0),
    (["-p", "elastic-net", "--l1-ratio", "0.3"], "l1_ratio", 0.3),
    (["-f", "lpsa ~ lcavol"], 0, "lpsa ~ lcavol"),
]


@pytest.mark.parametrize("argv,key,value", FIT_OPTIONS, ids=[" ".join(a) for a, _, _ in FIT_OPTIONS])
def test_fit_option_reaches_the_call(argv, key, value, monkeypatch, tmp_path):
    import regstats.path as path_mod
    from regstats.cli import main

    calls = _capture(monkeypatch, path_mod, "elastic_net")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Called):
        main(["fit", *argv])
    (args, kwargs), = calls
    assert (args[key] if isinstance(key, int) else kwargs[key]) == value


@pytest.mark.parametrize("argv,key,value", [(["-j", "2"], "n_jobs", 2), (["--folds", "4"], "folds", 4),
                                            (["--seed", "9"], "seed", 9)])
def test_fit_cv_options_reach_the_call(argv, key, value, monkeypatch, tmp_path):
    import regstats.cv as cv_mod
    from regstats.cli import main

    calls = _capture(monkeypatch, cv_mod, "cross_validate")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Called):
        main(["fit", "--folds", "3", "--n-lambda", "5", *argv])
    assert calls[0][1][key] == value


def test_n_jobs_reaches_cv_and_bootstrap_in_a_real_report(monkeypatch, tmp_path, capsys):
    """Not only the report() call: the CV and the bootstrap the report runs get n_jobs=2."""
    import regstats.bootstrap as boot_mod
    import regstats.cv as cv_mod
    from regstats.cli import main

    seen = {}
    for mod, name in ((cv_mod, "cross_validate"), (boot_mod, "bootstrap")):
        orig = getattr(mod, name)

        def spy(*a, _orig=orig, _name=name, **k):
            seen.setdefault(_name, []).append(k.get("n_jobs"))
            return _orig(*a, **k)

        monkeypatch.setattr(mod, name, spy)
    monkeypatch.chdir(tmp_path)
    code = main(["report", "-j", "2", "--folds", "3", "--bootstrap", "4", "--n-lambda", "10", "--no-figures",
                 "--no-stability", "--no-inference", "--no-bias-variance", "-q", "--out", "r.html"])
    assert code == 0, capsys.readouterr().err
    assert seen["cross_validate"] and set(seen["cross_validate"]) == {2}
    assert seen["bootstrap"] == [2]


@pytest.mark.parametrize("argv,message", [
    (["report", "-j", "0"], "must be a nonzero integer"),
    (["fit", "-j", "0"], "must be a nonzero integer"),
    (["report", "-j", "two"], "must be a nonzero integer"),
    (["report", "--threshold", "0.5"], "must be a number in (0.5, 1]"),
    (["report", "--pfer", "0"], "must be a number in (0, inf)"),
    (["report", "--nodewise-lambda", "-1"], "must be 'znz', 'cv', 'scaled' or a number > 0"),
    (["report", "--inference", "bayes"], "invalid choice: 'bayes'"),
])
def test_option_values_validated_as_the_library_does(argv, message, capsys, monkeypatch, tmp_path):
    code, out, err = run_inline(argv, capsys, monkeypatch, tmp_path)
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize("argv,message", [
    (["report", "-p", "ridge", "--nodewise-lambda", "0.1"], "--nodewise-lambda applies to the desparsified lasso"),
    (["report", "--inference", "ridge"], "--inference ridge needs --penalty ridge"),
    (["report", "--no-stability", "--threshold", "0.9"], "drop them or --no-stability"),
    (["report", "--no-inference", "--inference", "selective"], "drop them or --no-inference"),
])
def test_contradicting_options_are_one_error(argv, message, capsys, monkeypatch, tmp_path):
    code, out, err = run_inline(argv, capsys, monkeypatch, tmp_path)
    assert code == 1 and message in err


def test_threshold_pfer_and_inference_method_show_in_the_report(tmp_path, capsys, monkeypatch):
    code, out, err = run_inline(["report", "--threshold", "0.9", "--pfer", "0.5", "--inference", "selective",
                                 "--folds", "3", "--bootstrap", "0", "--no-figures", "--no-bias-variance", "-q",
                                 "--out", "r.html"], capsys, monkeypatch, tmp_path)
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    path = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate"))
    stab = path.stability(threshold=0.9, pfer=0.5, seed=1)
    assert stab.threshold == 0.9 and f"{stab.q:g}" in html
    assert "selective" in html


# -- R-style CSVs: an unnamed first column is the row names (issue 17, item 1) -----------------------
def test_unnamed_first_column_is_the_index(tmp_path, capsys, monkeypatch):
    cars = rs.load_dataset("mtcars").set_index("model")
    cars.index.name = None
    cars.to_csv(tmp_path / "mtcars.csv")                       # header ",mpg,cyl,...", as R's write.csv
    assert (tmp_path / "mtcars.csv").read_text().startswith(",mpg,")
    code, out, err = run_inline(["fit", "mtcars.csv", "-f", "mpg ~ .", "--n-lambda", "5"], capsys, monkeypatch,
                                tmp_path)
    assert code == 0, err
    assert "read as row names" in err
    got = pd.read_csv(io.StringIO(out))
    want = rs.lasso("mpg ~ .", cars, n_lambda=5).coef
    assert list(got.columns[4:]) == list(want.columns) and not any("Unnamed" in c for c in got.columns)
    np.testing.assert_allclose(got[list(want.columns)].to_numpy(), want.to_numpy(), rtol=1e-8, atol=1e-12)
    code, out, err = run_inline(["fit", "mtcars.csv", "-f", "mpg ~ .", "--n-lambda", "5", "-q"], capsys,
                                monkeypatch, tmp_path)
    assert code == 0 and err == ""                              # -q: no messages


def test_fit_quiet_has_no_messages(tmp_path, capsys, monkeypatch):
    code, out, err = run_inline(["fit", "--dataset", "mtcars", "--folds", "3", "--n-lambda", "5", "-q", "--out",
                                 "p.csv"], capsys, monkeypatch, tmp_path)
    assert code == 0 and err == "" and pd.read_csv(tmp_path / "p.csv").shape[0] == 5


def test_reproducing_command_carries_the_new_options(tmp_path, capsys, monkeypatch):
    """The report's own command reproduces it: stability/inference options, --trust-formula when the
    formula needs it, and index_col=0 for a CSV with row names."""
    cars = rs.load_dataset("mtcars").set_index("model")
    cars.index.name = None
    cars.to_csv(tmp_path / "cars.csv")
    code, out, err = run_inline(["report", "cars.csv", "-f", "mpg ~ wt + I(abs(hp - 100))", "--trust-formula",
                                 "--threshold", "0.9", "--pfer", "0.5", "--nodewise-lambda", "scaled", "--folds", "3",
                                 "--bootstrap", "0", "--no-figures", "--no-bias-variance", "-q", "--out", "r.md"],
                                capsys, monkeypatch, tmp_path)
    assert code == 0, err
    md = (tmp_path / "r.md").read_text()
    for flag in ("--threshold 0.9", "--pfer 0.5", "--nodewise-lambda scaled", "--trust-formula"):
        assert flag in md, flag
    assert 'pd.read_csv("cars.csv", index_col=0)' in md
    assert "stability_options={'threshold': 0.9, 'pfer': 0.5}" in md
    code, out, err = run_inline(["report", "--folds", "3", "--bootstrap", "0", "--no-figures", "--no-stability",
                                 "--no-inference", "--no-bias-variance", "-q", "--out", "p.md"], capsys, monkeypatch,
                                tmp_path)
    assert code == 0 and "--trust-formula" not in (tmp_path / "p.md").read_text()


# -- binomial and Poisson ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def glm_csvs(tmp_path_factory):
    d = tmp_path_factory.mktemp("glm")
    r = np.random.default_rng(7)
    n = 120
    b = pd.DataFrame({"x1": r.standard_normal(n), "x2": r.standard_normal(n), "x3": r.standard_normal(n),
                      "grp": r.choice(["u", "v"], n)})
    b["sick"] = np.where(r.random(n) < 1 / (1 + np.exp(-(0.3 + 1.5 * b["x1"] - b["x2"]))), "yes", "no")
    b.to_csv(d / "sick.csv", index=False)
    c = pd.DataFrame({"x1": r.standard_normal(n), "x2": r.standard_normal(n), "exposure": r.uniform(0.5, 3, n)})
    c["log_exposure"] = np.log(c["exposure"])
    c["visits"] = r.poisson(c["exposure"] * np.exp(0.5 * c["x1"]))
    c.to_csv(d / "visits.csv", index=False)
    return d / "sick.csv", d / "visits.csv"


def test_binomial_report_from_csv(glm_csvs, tmp_path, capsys, monkeypatch):
    sick, _ = glm_csvs
    code, out, err = run_inline(["report", sick, "-f", "sick ~ .", "--family", "binomial", "--folds", "5",
                                 "--bootstrap", "10", "--no-stability", "--out", "r.html"], capsys, monkeypatch,
                                tmp_path)
    assert code == 0, err
    assert "regstats: binomial lasso on" in err and "gaussian-only" in err and "error" not in err
    html = (tmp_path / "r.html").read_text()
    assert "Binomial Deviance" in html and "Odds ratio" in html and "Calibration and discrimination" in html
    assert "P(sick = &#x27;yes&#x27;)" in html and "ROC" in html
    assert "Bias-variance not computed: the bias-variance decomposition is for gaussian models only" in html
    assert "--family binomial" in html


def test_poisson_report_with_offset_from_csv(glm_csvs, tmp_path, capsys, monkeypatch):
    _, visits = glm_csvs
    code, out, err = run_inline(["report", visits, "-f", "visits ~ x1 + x2", "--family", "poisson", "--offset",
                                 "log_exposure", "--folds", "4", "--bootstrap", "0", "--no-stability",
                                 "--no-figures", "-q", "--out", "v.md"], capsys, monkeypatch, tmp_path)
    assert code == 0, err
    md = (tmp_path / "v.md").read_text()
    assert "Poisson Deviance" in md and "Rate ratio" in md and "--offset log_exposure" in md
    assert "`log_exposure` added to the linear predictor" in md or "column `log_exposure`" in md
    # the offset is used: the CV choice is the library's with the same offset (and not without it)
    data = pd.read_csv(visits)
    cv = rs.lasso("visits ~ x1 + x2", data, family="poisson", offset="log_exposure").cv(folds=4, seed=1)
    assert f"{cv.lambda_1se:.4g}" in md
    no = rs.lasso("visits ~ x1 + x2", data, family="poisson").cv(folds=4, seed=1)
    assert f"{no.lambda_1se:.4g}" not in md


def test_fit_binomial_with_cv_names_the_measure(glm_csvs, tmp_path, capsys, monkeypatch):
    sick, _ = glm_csvs
    code, out, err = run_inline(["fit", sick, "-f", "sick ~ x1 + x2", "--family", "binomial", "--folds", "4",
                                 "--loss", "class", "--n-lambda", "15", "--out", "p.csv"], capsys, monkeypatch, tmp_path)
    assert code == 0, err
    assert "4-fold CV of Misclassification Error, seed 1, stratified by class" in err
    tab = pd.read_csv(tmp_path / "p.csv")
    ref = rs.lasso("sick ~ x1 + x2", pd.read_csv(sick), family="binomial", n_lambda=15)
    np.testing.assert_allclose(tab[["Intercept", "x1", "x2"]].to_numpy(), ref.coef.to_numpy(), rtol=1e-8, atol=1e-12)
    cv = ref.cv(folds=4, seed=1, loss="class", stratify=True)
    np.testing.assert_allclose(tab["cv_mean"], cv.table["cv_mean"], rtol=1e-9)


GLM_BAD = [
    (["report", "{sick}", "-f", "sick ~ x1", "--offset", "x2"], "--offset is for --family binomial or poisson"),
    (["report", "{visits}", "-f", "visits ~ x1", "--family", "binomial"], "0/1"),
    (["report", "{visits}", "-f", "x1 ~ x2", "--family", "poisson"], "counts >= 0"),
    (["report", "{visits}", "-f", "visits ~ x1", "--family", "poisson", "--loss", "auc"],
     "--loss auc is not a measure for --family poisson"),
    (["report", "{sick}", "-f", "sick ~ x1", "--family", "binomial", "--inference", "selective"],
     "--inference selective is for gaussian models"),
    (["report", "{sick}", "-f", "sick ~ x1", "--family", "binomial", "--nodewise-lambda", "scaled"],
     "--nodewise-lambda scaled is for gaussian models"),
    (["report", "{visits}", "-f", "visits ~ x1", "--family", "poisson", "--no-stratify"], "--no-stratify is for"),
    (["report", "{visits}", "-f", "visits ~ x1", "--family", "poisson", "--offset", "nosuch"], "nosuch"),
    (["fit", "{sick}", "-f", "sick ~ x1", "--family", "binomial", "--loss", "auc"], "add --folds K"),
]


@pytest.mark.parametrize("args,message", GLM_BAD, ids=[m for _, m in GLM_BAD])
def test_glm_bad_input_is_one_error_line(args, message, glm_csvs, tmp_path, capsys, monkeypatch):
    sick, visits = glm_csvs
    args = [a.format(sick=sick, visits=visits) for a in args] + (["-q"] if args[0] == "report" else [])
    code, out, err = run_inline(args, capsys, monkeypatch, tmp_path)
    assert code == 1, err
    lines = [ln for ln in err.splitlines() if ln.startswith("regstats: error:")]
    assert len(lines) == 1 and message in lines[0], err
    assert not (tmp_path / "report.html").exists()
