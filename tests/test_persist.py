"""Results pickle (issue 21 item 8); a path saves to JSON and loads back predicting identically,
and ``regstats predict`` uses it (issue 17 item 5)."""
from __future__ import annotations

import io
import json
import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats._atomic import OutputError
from regstats.cli import main
from regstats.errors import DataError, FileError, ParameterError, UnseenLevelError

FORMULA = ("Balance ~ C(Ethnicity) + Student * Income + center(Limit) + standardize(Cards) + bs(Age, df=4) "
           "+ cr(Rating, df=4) + np.log(Rating)")


def double_it(x):
    return 2 * x


@pytest.fixture(scope="module")
def credit():
    return rs.load_dataset("credit")


@pytest.fixture(scope="module")
def path(credit):
    return rs.lasso(FORMULA, credit, n_lambda=30)


@pytest.fixture(scope="module")
def new(credit):
    return credit.sample(60, random_state=3)


def _roundtrip(obj):
    return pickle.loads(pickle.dumps(obj))


# -- pickle -------------------------------------------------------------------------------------------
def test_path_and_fit_pickle_with_factor_terms_and_transforms(path, new):
    q = _roundtrip(path)
    np.testing.assert_array_equal(q.predict(new).to_numpy(), path.predict(new).to_numpy())
    np.testing.assert_array_equal(q.coef.to_numpy(), path.coef.to_numpy())
    fit = path.at(path.lambdas[12])
    f2 = _roundtrip(fit)
    np.testing.assert_array_equal(f2.predict(new).to_numpy(), fit.predict(new).to_numpy())
    # a pickled path still refits (CV on the unpickled copy equals CV on the original)
    np.testing.assert_array_equal(q.cv(folds=3, seed=1).table["cv_mean"], path.cv(folds=3, seed=1).table["cv_mean"])


def test_pickle_keeps_a_function_from_the_callers_namespace(credit, new):
    p = rs.lasso("Balance ~ double_it(Income) + C(Student) + Limit", credit, n_lambda=10)
    np.testing.assert_array_equal(_roundtrip(p).predict(new).to_numpy(), p.predict(new).to_numpy())


def test_every_result_type_round_trips(path, credit):
    warnings.simplefilter("ignore")
    fit = path.at(path.lambdas[12])
    ridge = rs.ridge("Balance ~ Income + Limit + C(Student)", credit, n_lambda=10)
    results = {
        "Path": (path, lambda r: r.coef),
        "Fit": (fit, lambda r: r.params),
        "CVResult": (path.cv(folds=3, seed=1), lambda r: r.table),
        "Bootstrap": (fit.bootstrap(n_boot=10, seed=1), lambda r: r.to_frame()),
        "Stability": (path.stability(seed=1, n_subsamples=10), lambda r: r.to_frame()),
        "Inference": (fit.inference(), lambda r: r.to_frame()),
        "RelaxedPath": (path.relax(), lambda r: r.coef if hasattr(r, "coef") else r.to_frame()),
        "InformationCriteria": (path.information_criteria(), lambda r: r.table),
        "RidgeLOO": (ridge.loo(), lambda r: r.table),
        "ElasticNetCV": (rs.cv_elastic_net("Balance ~ Income + Limit + C(Student)", credit, l1_ratios=(0.5, 1.0),
                                           folds=3, seed=1, n_lambda=10), lambda r: r.table),
        "Summary": (path.summary(), lambda r: str(r)),
        "LoadedPath": (_loaded(path), lambda r: r.coef),
        "Report": (rs.report("Balance ~ Income + Limit + C(Student)", credit, folds=3, n_boot=0, stability=False,
                             bias_variance=False, figures=False), lambda r: r.to_markdown()),
    }
    for name, (obj, view) in results.items():
        back = _roundtrip(obj)
        assert type(back) is type(obj), name
        a, b = view(obj), view(back)
        if isinstance(a, (pd.DataFrame, pd.Series)):
            pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), obj=name)
        else:
            assert a == b, name


# -- JSON ---------------------------------------------------------------------------------------------
def _loaded(path):
    buf = io.StringIO()
    path.save(buf)
    buf.seek(0)
    return rs.load(buf)


def test_saved_path_predicts_identically(path, new, tmp_path):
    f = tmp_path / "model.json"
    path.save(f)
    loaded = rs.load(f)
    np.testing.assert_array_equal(loaded.predict(new).to_numpy(), path.predict(new).to_numpy())
    np.testing.assert_array_equal(loaded.lambdas, path.lambdas)
    pd.testing.assert_frame_equal(loaded.coef, path.coef)
    lam = path.lambdas[7]
    np.testing.assert_array_equal(loaded.predict(new, lam=lam).to_numpy(), path.predict(new, lam=lam).to_numpy())
    # the file is strict JSON with no pickled content
    text = f.read_text()
    d = json.loads(text)
    assert d["format"] == "regstats-path" and d["formula"] == FORMULA
    assert "NaN" not in text and "Infinity" not in text and "pickle" not in text
    # a loaded path saves again to the same content
    loaded.save(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text())["design"] == d["design"]


def test_loaded_path_keeps_levels_text_numbers_and_unseen_level_errors(credit, new):
    d = credit.assign(Cards=credit["Cards"].astype(str))
    with pytest.warns(rs.DesignWarning, match="numbers stored as text"):
        p = rs.elastic_net("Balance ~ C(Ethnicity, Treatment('Caucasian')) + Cards + Income", d, n_lambda=10)
    loaded = _loaded(p)
    newt = new.assign(Cards=new["Cards"].astype(str))
    np.testing.assert_array_equal(loaded.predict(newt).to_numpy(), p.predict(newt).to_numpy())
    with pytest.raises(UnseenLevelError, match="column 'Ethnicity'.*'Martian'"):
        loaded.predict(new.assign(Ethnicity="Martian"))


def test_off_grid_lambda_interpolates_as_glmnet_and_outside_is_refused(path, new):
    loaded = _loaded(path)
    k = 10
    lam = 0.3 * path.lambdas[k] + 0.7 * path.lambdas[k + 1]
    t = (path.lambdas[k] - lam) / (path.lambdas[k] - path.lambdas[k + 1])
    expect = (1 - t) * path.predict(new, lam=path.lambdas[k]).to_numpy() + t * path.predict(
        new, lam=path.lambdas[k + 1]).to_numpy()
    np.testing.assert_allclose(loaded.predict(new, lam=lam).to_numpy(), expect, rtol=1e-12)
    # the lasso path is piecewise linear in lambda: interpolation is close to the exact solve
    exact = path.predict(new, lam=lam).to_numpy()
    assert np.abs(loaded.predict(new, lam=lam).to_numpy() - exact).max() < 1e-3 * np.abs(exact).max()
    with pytest.raises(ParameterError, match="within the saved path's lambdas"):
        loaded.predict(new, lam=path.lambdas[0] * 2)


def test_save_refuses_session_functions_and_load_refuses_foreign_files(credit, tmp_path):
    p = rs.lasso("Balance ~ double_it(Income) + Limit", credit, n_lambda=5)
    with pytest.raises(DataError, match="uses 'double_it' from your Python session"):
        p.save(tmp_path / "m.json")
    assert not list(tmp_path.iterdir())
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(DataError, match="not a saved regstats path"):
        rs.load(tmp_path / "other.json")
    (tmp_path / "bad.json").write_text("not json")
    with pytest.raises(DataError, match="not JSON"):
        rs.load(tmp_path / "bad.json")
    with pytest.raises(FileError, match="cannot read"):
        rs.load(tmp_path / "missing.json")


def test_save_is_atomic(path, tmp_path, monkeypatch):
    f = tmp_path / "model.json"
    f.write_text("old model")
    with pytest.raises(OutputError, match="is a directory"):
        path.save(tmp_path)

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OutputError, match="no space left on device"):
        path.save(f)
    assert f.read_text() == "old model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]  # no temporary left
    monkeypatch.undo()
    path.save(f)
    assert rs.load(f).formula == FORMULA
    with pytest.raises(OutputError):
        path.save(tmp_path / "no" / "such" / "dir.json")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        path.save(tmp_path / "afile" / "m.json")


# -- the CLI ------------------------------------------------------------------------------------------
def test_cli_predict(path, new, tmp_path, capsys):
    model, data, out = tmp_path / "m.json", tmp_path / "new.csv", tmp_path / "p.csv"
    path.save(model)
    new.to_csv(data, index=False)
    assert main(["predict", str(model), str(data), "--out", str(out)]) == 0
    got = pd.read_csv(out)
    assert got.shape == (len(new), len(path.lambdas))
    np.testing.assert_allclose(got.to_numpy(), path.predict(new).to_numpy(), rtol=1e-9)
    lam = path.lambdas[5]
    assert main(["predict", str(model), str(data), "--lam", repr(float(lam)), "--out", str(out)]) == 0
    got = pd.read_csv(out)
    assert list(got.columns) == ["prediction"]
    np.testing.assert_allclose(got["prediction"], path.predict(new, lam=lam).iloc[:, 0], rtol=1e-9)
    assert main(["predict", str(data), str(data)]) == 1
    assert "not a saved regstats path" in capsys.readouterr().err
    assert main(["predict", str(model), str(tmp_path / "nope.csv")]) == 1
    assert "not found" in capsys.readouterr().err


def test_loaded_path_summary(path):
    loaded = _loaded(path)
    text = str(loaded.summary())
    assert FORMULA in text and "lasso" in text and "cannot be refitted" in text
    assert "<table" in loaded._repr_html_()


def test_a_model_file_runs_no_code(path, new, tmp_path):
    f = tmp_path / "m.json"
    path.save(f)
    d = json.loads(f.read_text())
    marker = tmp_path / "pwned"
    evil = f"__import__('os').system('touch {marker}')"
    for factor in d["design"]["patsy"]["factors"]:
        if factor["code"] == "center(Limit)":
            factor["code"] = evil
    f.write_text(json.dumps(d))
    with pytest.raises(DataError, match="not allowed in a model file"):
        rs.load(f).predict(new)
    assert not marker.exists()
    d["design"]["numeric_terms"] = [["x", [evil]]]
    d["design"]["patsy"] = None
    d["design"]["plain"] = []
    f.write_text(json.dumps(d))
    with pytest.raises((DataError, rs.FormulaError)):
        rs.load(f).predict(new)
    assert not marker.exists()
