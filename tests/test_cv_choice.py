"""glmnet's habits on CV results (regstats/cv.py ``resolve_lam``): ``lam="lambda.1se"`` / ``"1se"`` /
``"lambda.min"`` / ``"min"`` wherever a lambda is taken, and ``plot()`` methods that return Axes.

The oracle for the string names is cv.glmnet itself: the recorded ``lambda_1se`` / ``lambda_min``
of tests/record_cvglmnet_fixtures.R (same fold ids), so ``predict(cvfit, newx, s = "lambda.1se")``
is the path's prediction at R's lambda.
"""
from pathlib import Path as FilePath

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

import regstats as rs
from regstats.cv import resolve_lam
from regstats.errors import ParameterError

FIX = FilePath(__file__).parent / "fixtures"
R = pd.read_csv(FIX / "cvglmnet_selected.csv").set_index("case").loc["lasso"]


@pytest.fixture(scope="module")
def fitted():
    data = pd.read_csv(FIX / "cvglmnet_lasso_data.csv")
    path = rs.lasso("y ~ . - foldid", data)
    return data, path, path.cv(foldid="foldid")


@pytest.mark.parametrize("name, rule", [("lambda.1se", "lambda_1se"), ("1se", "lambda_1se"),
                                        ("lambda_1se", "lambda_1se"), ("lambda.min", "lambda_min"),
                                        ("min", "lambda_min"), ("lambda_min", "lambda_min")])
def test_string_lambdas_are_cvglmnets_choices(fitted, name, rule):
    data, path, cv = fitted
    lam_r = float(R[rule])                       # cv.glmnet's choice, recorded in R
    new = data.head(7)
    np.testing.assert_allclose(resolve_lam(name, cv), lam_r, rtol=1e-6)
    want = path.predict(new, lam=lam_r).iloc[:, 0].to_numpy()
    np.testing.assert_allclose(cv.predict(new, lam=name).to_numpy(), want, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(cv.predict(new, name).to_numpy(), want, rtol=1e-6, atol=1e-9)
    assert cv.at(name).lam == pytest.approx(lam_r, rel=1e-6)
    np.testing.assert_allclose(cv.coef(lam=name).to_numpy(), path.at(lam_r).params.to_numpy(),
                               rtol=1e-6, atol=1e-9)


def test_default_is_lambda_1se_and_numbers_pass_through(fitted):
    data, path, cv = fitted
    assert cv.at().lam == cv.lambda_1se == cv.best.lam
    np.testing.assert_allclose(cv.predict(data.head(3)), cv.predict(data.head(3), lam="lambda.1se"))
    assert cv.at(0.1).lam == 0.1
    assert cv.coef().index[0] == "Intercept"


def test_elastic_net_cv_and_relaxed_take_the_names():
    data = pd.read_csv(FIX / "cvglmnet_lasso_data.csv")
    encv = rs.cv_elastic_net("y ~ . - foldid", data, l1_ratios=[0.5, 1.0], foldid="foldid")
    assert encv.at("lambda.min").lam == encv.lambda_min
    np.testing.assert_allclose(encv.predict(data.head(3), lam="lambda.1se"),
                               encv.cv.at(encv.lambda_1se).predict(data.head(3)))
    rcv = rs.lasso("y ~ . - foldid", data).relax().cv(foldid="foldid")
    assert rcv.at("lambda.min").lam == rcv.at("min").lam
    with pytest.raises(ParameterError, match="which must be one of 'lambda.1se'"):
        rcv.at("best")


def test_a_path_without_cv_says_how_to_get_one(fitted):
    data, path, _ = fitted
    for call in (lambda: path.at("1se"), lambda: path.predict(data, lam="lambda.min"),
                 lambda: path.predict(data, lam=[0.1, "min"])):
        with pytest.raises(ParameterError, match=r"needs a cross-validated path.*path\.cv\("):
            call()


@pytest.mark.parametrize("bad", ["0.5", "lambda.1sd", "", "MIN"])
def test_other_strings_are_refused(fitted, bad):
    data, path, cv = fitted
    with pytest.raises(ParameterError, match="lam must be a number >= 0 or one of 'lambda.1se'"):
        cv.at(bad)
    with pytest.raises(ParameterError, match="lam must be"):
        path.predict(data.head(2), lam=bad)
    with pytest.raises(ParameterError, match="lam must be"):
        cv.predict(data.head(2), lam=-1.0)


def test_plot_methods_return_axes(fitted):
    data, path, cv = fitted
    encv = rs.cv_elastic_net("y ~ . - foldid", data, l1_ratios=[0.5, 1.0], foldid="foldid")
    for draw in (lambda: path.plot(), lambda: path.plot(cv, xvar="norm"), lambda: cv.plot(),
                 lambda: cv.best.plot(), lambda: encv.plot()):
        ax = draw()
        assert isinstance(ax, Axes)
        plt.close(ax.figure)
    fig, ax = plt.subplots()
    assert cv.plot(ax=ax) is ax
    plt.close(fig)
    # fit.plot marks the fit's lambda
    ax = cv.best.plot()
    xs = [ln.get_xdata()[0] for ln in ax.get_lines()
          if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] == ln.get_xdata()[1]]
    assert np.log(cv.lambda_1se) in xs
    plt.close(ax.figure)
