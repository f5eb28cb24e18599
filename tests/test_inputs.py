"""Inputs at the library boundary: nothing silently recoded, every refusal names the fix
(issue 21 items 4-6, issue 17 items 1, 4 and 6)."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats import engine
from regstats._parallel import _workers
from regstats.design import build_design
from regstats.errors import (ArgumentError, DataError, DesignWarning, FormulaError, ParameterError,
                             UnseenLevelError)


@pytest.fixture
def frame(rng):
    n = 40
    return pd.DataFrame({"y": rng.standard_normal(n), "x1": rng.standard_normal(n),
                         "x2": rng.standard_normal(n)})


def _coef(path):
    return path.coef.to_numpy()


# -- issue 21 item 4: silently recoded inputs ------------------------------------------------------
def test_numeric_text_is_converted_with_a_warning_and_replayed_at_predict(frame):
    text = frame.assign(x2=[f"{v:.17g}" for v in frame["x2"]])
    with pytest.warns(DesignWarning, match=r"\['x2'\] hold numbers stored as text"):
        p = rs.lasso("y ~ .", text)
    assert p.column_names == ("x1", "x2")
    np.testing.assert_array_equal(_coef(p), _coef(rs.lasso("y ~ .", frame)))
    # new data given as text again goes through the same conversion
    new = text.head(5)
    np.testing.assert_allclose(p.predict(new), p.predict(frame.head(5)))
    with pytest.raises(DataError, match="'x2' held numbers stored as text"):
        p.predict(new.assign(x2=["a"] * 5))


def test_text_with_a_non_number_stays_a_factor(frame):
    g = ["1.5", "2.5", "x"] * 13 + ["1.5"]
    p = rs.lasso("y ~ .", frame.assign(g=g))
    assert "g[T.2.5]" in p.column_names and "g[T.x]" in p.column_names


def test_datetime_columns_are_refused_with_the_way_to_use_them(frame):
    d = frame.assign(t=pd.date_range("2020-01-01", periods=len(frame)))
    for f in ("y ~ .", "y ~ x1 + t"):
        with pytest.raises(FormulaError, match=r"'t' holds dates or times.*dt\.year.*C\(t\).*- t"):
            rs.lasso(f, d)
    # a few distinct dates as a factor, on request
    d2 = frame.assign(t=pd.to_datetime(["2020-01-01", "2021-01-01"] * 20))
    assert len(rs.lasso("y ~ x1 + C(t)", d2).column_names) == 2
    assert rs.lasso("y ~ . - t", d).column_names == ("x1", "x2")


def test_a_data_column_named_intercept_is_refused(frame):
    d = frame.assign(Intercept=frame["x1"] * 2 + 1)
    with pytest.raises(FormulaError, match="named 'Intercept'.*rename"):
        rs.lasso("y ~ .", d)
    assert rs.lasso("y ~ . - Intercept", d).column_names == ("x1", "x2")


def test_integer_and_multiindex_column_names_become_strings(frame):
    ref = rs.lasso("y ~ .", frame)
    ints = frame.copy()
    ints.columns = ["y", 0, 1]
    p = rs.lasso("y ~ .", ints)
    assert p.column_names == ("0", "1")
    np.testing.assert_array_equal(_coef(p), _coef(ref))
    np.testing.assert_array_equal(p.predict(ints.head(3)), ref.predict(frame.head(3)))
    multi = frame.copy()
    multi.columns = pd.MultiIndex.from_tuples([("y", ""), ("a", "y"), ("a", "z")])
    p = rs.lasso("y ~ .", multi)
    assert p.column_names == ("a_y", "a_z")
    np.testing.assert_array_equal(_coef(p), _coef(ref))


def test_names_with_quotes_and_tilde_inside_q(frame):
    odd = frame.rename(columns={"x1": 'say "hi"', "x2": "a~b"})
    ref = rs.lasso("y ~ x1 + x2", frame).coef
    p = rs.lasso("y ~ Q('say \"hi\"') + Q(\"a~b\")", odd).coef
    # patsy's route and the plain-column route: the same problem, each solved to tol
    np.testing.assert_allclose(p["Q('say \"hi\"')"], ref["x1"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p['Q("a~b")'], ref["x2"], rtol=1e-5, atol=1e-6)
    p2 = rs.lasso('y ~ Q("it\'s") + x2', frame.rename(columns={"x1": "it's"})).coef
    np.testing.assert_allclose(p2['Q("it\'s")'], ref["x1"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("formula", ["y ~ x1 + + x2", "y ~ x1 -", "y ~ x1 +", "y ~ x1 - + x2"])
def test_malformed_formulas_are_refused(frame, formula):
    with pytest.raises(FormulaError, match="empty term|no term after it"):
        rs.lasso(formula, frame)


@pytest.mark.parametrize("formula, cols", [("y ~ -1 + x1 + x2", ("x1", "x2")), ("y ~ x1 + x2 - 1", ("x1", "x2")),
                                           ("y ~ I(x1 * 1e-3) + x2", ("x2", "I(x1 * 1e-3)"))])
def test_wellformed_signs_still_work(frame, formula, cols):
    assert build_design(formula, frame).column_names == cols


# -- issue 17 item 1: y ~ . with an identifier column -------------------------------------------------
def test_dot_refuses_an_identifier_column_naming_the_fix():
    credit = rs.load_dataset("credit")
    named = credit.assign(Name=[f"person {i}" for i in range(len(credit))])
    with pytest.raises(FormulaError, match=r"'Name' looks like an identifier \(400 distinct.*Balance ~ \. - Name"):
        rs.lasso("Balance ~ .", named)
    assert "Name" not in "".join(rs.lasso("Balance ~ . - Name", named).column_names)
    with pytest.raises(FormulaError, match="'model'.*- model"):
        rs.lasso("mpg ~ .", rs.load_dataset("mtcars"))
    assert len(rs.lasso("mpg ~ . - model", rs.load_dataset("mtcars")).column_names) == 10
    # a real factor under '.' is untouched (Credit's Ethnicity has 3 levels)
    assert "Ethnicity[T.Asian]" in rs.lasso("Balance ~ .", credit).column_names


def test_unseen_level_names_the_column(frame):
    d = frame.assign(g=["a", "b", "c", "d"] * 10)
    p = rs.lasso("y ~ x1 + C(g)", d)
    with pytest.raises(UnseenLevelError, match=r"never saw in factor 'C\(g\)' \(column 'g'\): 'zz'"):
        p.predict(pd.DataFrame({"x1": [0.0], "g": ["zz"]}))


# -- issue 21 item 5: scale-free checks ---------------------------------------------------------------
def test_constancy_is_relative_to_the_column_size():
    var = np.array([1e-320, 0.0, 1e-40, 1.0])
    mean = np.array([1e-160, 1e-160, 1.0, 1e10])
    np.testing.assert_array_equal(engine._is_constant(var, mean), [False, True, True, False])


@pytest.mark.parametrize("wide, tol", [(False, 1e-2), (True, 1e-2)])
def test_tiny_column_is_fitted_with_its_coefficient_scaled(rng, wide, tol):
    n, p = (40, 120) if wide else (200, 4)
    X = rng.standard_normal((n, p))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)]).assign(y=2 * X[:, 0] - X[:, 1] + rng.standard_normal(n))
    ref = rs.lasso("y ~ .", df, n_lambda=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DesignWarning)  # no false "constant column"
        small = rs.lasso("y ~ .", df.assign(x0=df["x0"] * 1e-160), lambdas=ref.lambdas)
    c = small.coef.copy()
    c["x0"] *= 1e-160
    # the squares of 1e-160 are subnormal (1e-320): the column's sd keeps about 4 digits in the
    # Gram and wide routes alike (values of order 1e-158 keep about 8); the column is fitted
    np.testing.assert_allclose(c.to_numpy(), ref.coef.to_numpy(), atol=tol * np.abs(ref.coef.to_numpy()).max())
    assert (small.coef["x0"].abs() > 1e150).sum() > 5


@pytest.mark.parametrize("factor, what", [(1e300, "large"), (1e160, "large"), (1e-300, "small")])
def test_extreme_columns_are_refused_naming_them(factor, what):
    d = rs.load_dataset("hitters").dropna()
    with pytest.raises(DataError, match=rf"\['Hits'\] have values too {what}"):
        rs.lasso("Salary ~ AtBat + Hits + Walks", d.assign(Hits=d["Hits"] * factor))


# -- issue 21 item 6: argument types ---------------------------------------------------------------------
@pytest.mark.parametrize("bad", [1.5, "2", float("nan"), True, 0, None])
def test_n_jobs_is_validated_by_name(frame, bad):
    path = rs.lasso("y ~ .", frame, n_lambda=10)
    for call in (lambda: path.cv(folds=3, n_jobs=bad), lambda: path.stability(n_jobs=bad),
                 lambda: path.at(path.lambdas[3]).bootstrap(n_boot=5, n_jobs=bad),
                 lambda: rs.cv_elastic_net("y ~ .", frame, l1_ratios=(0.5, 1.0), folds=3, n_lambda=5, n_jobs=bad)):
        with pytest.raises(ParameterError, match="n_jobs must be a nonzero integer"):
            call()


def test_n_jobs_is_capped_at_tasks_and_cores(frame):
    import joblib

    assert _workers(1000, 3) == min(3, joblib.cpu_count())
    assert _workers(-1, 100) == joblib.cpu_count()
    assert _workers(2, 1) == 1
    path = rs.lasso("y ~ .", frame, n_lambda=10)
    a = path.cv(folds=3, seed=1, n_jobs=1000)
    b = path.cv(folds=3, seed=1, n_jobs=1)
    np.testing.assert_array_equal(a.table["cv_mean"], b.table["cv_mean"])


def test_penalty_factor_text_names_the_fix(frame):
    with pytest.raises(ParameterError, match=r"penalty_factor.*got 'x1'.*penalty_factor=\{'x1': 0\}"):
        rs.lasso("y ~ .", frame, penalty_factor="x1")


def test_predict_accepts_a_dict_like_fitting_does(frame):
    p = rs.lasso("y ~ .", frame, n_lambda=10)
    new = frame.head(4)
    as_dict = {c: new[c].tolist() for c in new.columns}
    np.testing.assert_array_equal(p.predict(as_dict).to_numpy(), p.predict(new).to_numpy())
    fit = p.at(p.lambdas[5])
    np.testing.assert_array_equal(fit.predict(as_dict).to_numpy(), fit.predict(new).to_numpy())
    with pytest.raises(DataError, match="newdata must be a pandas DataFrame"):
        p.predict([[1, 2]])


@pytest.mark.parametrize("lams", [["0.1", "0.01"], "0.1", [0.1, "0.01"], [True, 0.1]])
def test_text_lambdas_are_refused(frame, lams):
    with pytest.raises(ParameterError, match="lambdas must be"):
        rs.lasso("y ~ .", frame, lambdas=lams)
    p = rs.lasso("y ~ .", frame, n_lambda=5)
    with pytest.raises(ParameterError, match="lam must be"):
        p.predict(frame.head(2), lam="0.1")


# -- issue 17 item 4: errors that name the fix ----------------------------------------------------------
def test_arrays_instead_of_a_formula_do_not_print_the_array(rng):
    X, y = rng.standard_normal((500, 3)), rng.standard_normal(500)
    with pytest.raises(FormulaError) as err:
        rs.lasso(X, y)
    msg = str(err.value)
    assert "ndarray of shape (500, 3)" in msg and "pd.DataFrame(X)" in msg and len(msg) < 250


@pytest.mark.parametrize("kw", ["alpha", "lam", "lambda_"])
def test_glmnet_names_get_the_regstats_names(frame, kw):
    for f in (rs.lasso, rs.ridge, rs.elastic_net):
        with pytest.raises(ArgumentError, match="glmnet's alpha `l1_ratio` and its lambda `lam` / `lambdas`") as e:
            f("y ~ .", frame, **{kw: 0.1})
        assert isinstance(e.value, TypeError)


def test_lasso_fixes_l1_ratio(frame):
    with pytest.raises(ArgumentError, match="fixes l1_ratio"):
        rs.lasso("y ~ .", frame, l1_ratio=0.5)


def test_full_public_signatures_and_no_private_names():
    for f in (rs.lasso, rs.ridge, rs.elastic_net):
        params = inspect.signature(f).parameters
        assert {"lambdas", "n_lambda", "penalty_factor", "weights", "y_scale"} <= set(params)
        assert not any(q.kind is inspect.Parameter.VAR_KEYWORD for q in params.values())
        assert not any(name.startswith("_") for name in params)
    assert "annotations" not in dir(rs)
    assert all(not name.startswith("_") or name == "__version__" for name in rs.__all__)


def test_warnings_point_at_the_callers_line():
    d = rs.load_dataset("mtcars").assign(c=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = rs.lasso("mpg ~ wt + hp + c", d)
        path.at(path.lambdas[30]).inference()  # the nodewise-lambda InferenceWarning (issue 17)
    kinds = {w.category.__name__ for w in caught}
    assert {"DesignWarning", "InferenceWarning"} <= kinds
    assert all(w.filename == __file__ for w in caught), [(w.category.__name__, w.filename) for w in caught]


# -- issue 17 item 6: console repr -----------------------------------------------------------------------
def test_cv_elastic_net_repr_is_one_line():
    enet = rs.cv_elastic_net("Balance ~ . ", rs.load_dataset("credit"), l1_ratios=(0.5, 1.0), folds=3, seed=1,
                             n_lambda=20)
    text = repr(enet)
    assert "\n" not in text and len(text) < 200 and text.startswith("<ElasticNetCV")


def test_warnings_through_the_report_point_at_the_callers_line():
    d = rs.load_dataset("diabetes").assign(c=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rs.report("y ~ .", d, folds=5, n_boot=0, stability=False, bias_variance=False, figures=False)
    assert {"DesignWarning", "InferenceWarning"} <= {w.category.__name__ for w in caught}
    assert all(w.filename == __file__ for w in caught), [(w.category.__name__, w.filename) for w in caught]


def test_a_q_response_is_left_out_of_the_dot():
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True).frame
    p = rs.lasso("Q('petal width (cm)') ~ .", iris)
    assert p.column_names == ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "target")
    numbered = iris.copy()
    numbered.columns = range(iris.shape[1])
    assert rs.lasso("Q('3') ~ .", numbered).column_names == ("0", "1", "2", "4")


def test_text_numbers_named_as_a_factor_keep_their_levels(frame):
    d = frame.assign(g=["1", "2", "3", "4"] * 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DesignWarning)
        p = rs.lasso("y ~ x1 + C(g)", d)
    assert p.column_names == ("x1", "C(g)[T.2]", "C(g)[T.3]", "C(g)[T.4]")


def test_weights_by_name_with_integer_column_names(frame, rng):
    w = rng.uniform(0.5, 2, len(frame))
    ints = frame.assign(w=w)
    ints.columns = ["y", 0, 1, 2]
    p = rs.lasso("y ~ Q('0') + Q('1')", ints, weights="2")
    ref = rs.lasso("y ~ x1 + x2", frame, weights=w)
    np.testing.assert_allclose(p.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-6, atol=1e-8)
