"""Formula + DataFrame -> design arrays (and the same encoding on new data)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats.design import build_design
from regstats.errors import DataError, FormulaError, RegstatsError, UnseenLevelError


@pytest.fixture
def frame(rng):
    n = 40
    return pd.DataFrame({"y": rng.standard_normal(n), "a": rng.standard_normal(n),
                         "b": rng.uniform(1, 2, n), "g": rng.choice(["u", "v", "w"], n),
                         "c": rng.standard_normal(n)})


def test_dot_expands_to_all_other_columns(frame):
    d = build_design("y ~ .", frame)
    assert d.column_names == ("a", "b", "c", "g[T.v]", "g[T.w]")
    np.testing.assert_array_equal(d.X[:, 0], frame["a"])
    np.testing.assert_array_equal(d.y, frame["y"])
    d2 = build_design("y ~ . - c", frame)
    assert "c" not in d2.column_names and "a" in d2.column_names
    d3 = build_design("y ~ .", frame, exclude=["b"])
    assert "b" not in d3.column_names


def test_transforms_interactions_and_patsy_agreement(frame):
    import patsy

    f = "y ~ a + C(g) + np.log(b) + a:c"
    d = build_design(f, frame)
    ref = patsy.dmatrix("a + C(g) + np.log(b) + a:c", frame, return_type="dataframe").drop(columns="Intercept")
    for name in ref.columns:
        np.testing.assert_allclose(d.X[:, d.column_names.index(name)], ref[name])
    assert d.spec.terms["C(g)"] == ("C(g)[T.v]", "C(g)[T.w]")
    new = frame.iloc[:5]
    np.testing.assert_allclose(d.spec.transform(new), d.X[:5])


def test_caller_namespace_in_formulas(frame):
    def shift(x):
        return x + 100.0

    path = rs.lasso("y ~ shift(a) + b", frame, n_lambda=3)
    assert "shift(a)" in path.column_names


def test_missing_rows_dropped_and_counted(frame):
    df = frame.copy()
    df.loc[[1, 2], "a"] = np.nan
    df.loc[5, "g"] = None
    d = build_design("y ~ a + g", df)
    assert d.n_dropped == 3 and len(d.rows) == 37
    assert 1 not in d.rows and 5 not in d.rows


def test_unknown_column_and_bad_formulas(frame):
    with pytest.raises(FormulaError, match="unknown name 'zz'"):
        build_design("y ~ a + zz", frame)
    with pytest.raises(FormulaError):
        build_design("y a", frame)
    with pytest.raises(FormulaError):
        build_design("~ a", frame)
    with pytest.raises(FormulaError, match="removes 'nosuch', which is not a column"):
        build_design("y ~ . - nosuch", frame)


def test_non_numeric_response_and_empty_data(frame):
    with pytest.raises(DataError, match="must be numeric"):
        build_design("g ~ a", frame)
    with pytest.raises(DataError, match="empty"):
        build_design("y ~ a", frame.iloc[:0])


def test_infinite_values_rejected(frame):
    df = frame.copy()
    df.loc[0, "b"] = np.inf
    with pytest.raises(DataError, match="infinite"):
        build_design("y ~ a + b", df)
    with pytest.raises(DataError, match="infinite"):
        build_design("y ~ a + np.log(b)", df)


def test_unseen_level_at_transform(frame):
    d = build_design("y ~ a + C(g)", frame)
    new = frame.iloc[:3].copy()
    new["g"] = ["u", "zzz", "v"]
    with pytest.raises(UnseenLevelError):
        d.spec.transform(new)


def test_design_does_not_alias_the_data(frame):
    d = build_design("y ~ a + b", frame)
    before = d.X.copy()
    frame.loc[0, "a"] = 1e6
    np.testing.assert_array_equal(d.X, before)


@pytest.mark.parametrize("formula", ["y ~ a + b", "y ~ a + c", "y ~ . - g"])
def test_design_does_not_alias_all_float_data(rng, formula):
    """One float block: selecting columns may be a view of the data (contiguous or not)."""
    df = pd.DataFrame(rng.standard_normal((30, 4)), columns=["y", "a", "b", "c"])
    df["g"] = 1.0
    d = build_design(formula, df)
    before = d.X.copy()
    df.loc[0, ["a", "b", "c"]] = 1e6
    df.iloc[1, 1:4] = -1e6
    np.testing.assert_array_equal(d.X, before)


def test_numeric_dtypes_from_the_frame(rng):
    """bool and nullable numeric columns are numeric; category / object / string ones are factors."""
    n = 30
    df = pd.DataFrame({"y": rng.standard_normal(n), "a": rng.standard_normal(n),
                       "flag": rng.random(n) < 0.5, "k": pd.array(rng.integers(0, 5, n), dtype="Int64"),
                       "h": pd.Categorical(rng.choice(["p", "q"], n)), "s": rng.choice(["u", "v"], n)})
    d = build_design("y ~ .", df)
    assert d.spec.plain == ("a", "flag", "k")
    assert d.column_names == ("a", "flag", "k", "h[T.q]", "s[T.v]")
    np.testing.assert_array_equal(d.X[:, 1], df["flag"].astype(float))
    assert build_design("y ~ flag + k", df).spec.plain == ("flag", "k")
    assert build_design("y ~ . - flag - h", df).column_names == ("a", "k", "s[T.v]")
    d2 = build_design("y ~ a:k", df)  # a numeric-only term on a nullable column: the direct path
    assert d2.spec._numeric_terms is not None and d2.spec._patsy_info is None
    np.testing.assert_allclose(d2.X[:, 0], df["a"] * df["k"].astype(float))
    new = df.head(4).assign(flag=["x", "y", "x", "y"])
    with pytest.raises(DataError, match="must be numeric in new data"):
        d.spec.transform(new)
    with pytest.raises(DataError, match="must be numeric"):
        build_design("h ~ a", df)


def test_wide_dot_formula_takes_the_direct_path(rng):
    """5000 plain numeric columns: no patsy (it would recurse or take seconds)."""
    df = pd.DataFrame(rng.standard_normal((300, 5000)), columns=[f"x{j}" for j in range(5000)])
    df["y"] = rng.standard_normal(300)
    d = build_design("y ~ .", df)
    assert d.X.shape == (300, 5000)
    assert d.spec._patsy_info is None and len(d.spec.plain) == 5000
    np.testing.assert_array_equal(d.X[:, 4999], df["x4999"])


@pytest.mark.parametrize("formula", ["mpg ~ wt * hp + np.log(disp)", "mpg ~ (wt + hp + qsec)**2 + I(wt / hp) - hp",
                                     "mpg ~ wt:hp + I(2 * wt) + np.sqrt(hp) + I(qsec ** 2)",
                                     "mpg ~ C(cyl) + wt * hp"])
def test_numeric_formulas_match_patsy(formula):
    """Numeric-only terms take a direct path; the columns and names must be patsy's."""
    import patsy

    mtcars = rs.load_dataset("mtcars")
    d = build_design(formula, mtcars)
    ref = patsy.dmatrix(formula.split("~")[1], mtcars, return_type="dataframe").drop(columns="Intercept")
    assert sorted(d.column_names) == sorted(ref.columns)
    for name in ref.columns:
        np.testing.assert_allclose(d.X[:, d.column_names.index(name)], ref[name], rtol=1e-14)
    new = mtcars.iloc[:4].copy()
    new.loc[new.index[2], "hp"] = np.nan
    T = d.spec.transform(new)
    assert np.isnan(T[2]).any() and not np.isnan(T[[0, 1, 3]]).any()
    np.testing.assert_allclose(T[[0, 1, 3]], d.X[[0, 1, 3]], rtol=1e-14)
    with pytest.raises(RegstatsError):
        d.spec.transform(new.drop(columns="hp"))
