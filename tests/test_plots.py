"""Plots: each draws the numbers of its result (checked on the artists), returns the Axes, accepts ax=."""
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import regstats as rs
from regstats.errors import ParameterError
from regstats.report import plots

FORMULA = "mpg ~ C(cyl) + wt + hp + np.log(disp) + qsec"


@pytest.fixture(scope="module", params=[1.0, 0.0, 0.5], ids=["lasso", "ridge", "enet"])
def fitted(request):
    a = request.param
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = rs.elastic_net(FORMULA, rs.load_dataset("mtcars"), l1_ratio=a, n_lambda=40)
        cv = path.cv(folds=5, seed=2)
        fit = path.at(cv.lambda_1se)
        boot = fit.bootstrap(n_boot=20, seed=2)
        inf = fit.inference(method="ridge" if a == 0 else "desparsified", seed=2)
        bv = path.bias_variance(method="analytic" if a == 0 else "simulation", n_rep=10, seed=2)
        stab = path.stability(seed=2, n_subsamples=10) if a > 0 else None
    return dict(path=path, cv=cv, fit=fit, boot=boot, inf=inf, bv=bv, stab=stab)


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _vlines_x(ax):
    """x positions of the vertical lines (axvline) of an Axes."""
    out = []
    for ln in ax.get_lines():
        x = np.asarray(ln.get_xdata(), dtype=float)
        if x.size == 2 and x[0] == x[1]:
            out.append(float(x[0]))
    return out


def test_plot_path_draws_every_coefficient(fitted, ax):
    path, cv = fitted["path"], fitted["cv"]
    out = plots.plot_path(path, cv=cv, ax=ax)
    assert out is ax
    names = list(path.column_names)
    lines = {ln.get_label(): ln for ln in ax.get_lines() if ln.get_label() in names}
    assert set(lines) == set(names)
    sd = path._design.X.std(axis=0)
    for j, name in enumerate(names):
        np.testing.assert_allclose(lines[name].get_xdata(), np.log(path.lambdas))
        np.testing.assert_allclose(lines[name].get_ydata(), path.coef[name].to_numpy() * sd[j])
    assert np.log(cv.lambda_min) in _vlines_x(ax) and np.log(cv.lambda_1se) in _vlines_x(ax)
    top = [a for a in ax.figure.axes if a is not ax][0]
    labels = [t.get_text() for t in top.get_xticklabels()]
    assert set(labels) <= {f"{k:g}" for k in path.table["n_nonzero"]}


def test_plot_path_original_scale_and_bad_scale(fitted, ax):
    path = fitted["path"]
    plots.plot_path(path, ax=ax, scale="original", top_axis=False, label=False)
    ln = next(l for l in ax.get_lines() if l.get_label() == "wt")
    np.testing.assert_allclose(ln.get_ydata(), path.coef["wt"].to_numpy())
    assert len(ax.figure.axes) == 1
    with pytest.raises(ParameterError, match="scale must be one of"):
        plots.plot_path(path, ax=ax, scale="log")


def test_plot_cv_points_and_error_bars(fitted, ax):
    cv = fitted["cv"]
    assert plots.plot_cv(cv, ax=ax) is ax
    pts = ax.get_lines()[0]
    np.testing.assert_allclose(pts.get_xdata(), np.log(cv.table["lambda"]))
    np.testing.assert_allclose(pts.get_ydata(), cv.table["cv_mean"])
    segs = ax.collections[0].get_segments()          # the error bars
    lo = np.array([s[0][1] for s in segs])
    hi = np.array([s[1][1] for s in segs])
    np.testing.assert_allclose(hi - lo, 2 * cv.table["cv_se"].to_numpy(), rtol=1e-10, atol=1e-12)
    assert np.log(cv.lambda_min) in _vlines_x(ax)
    assert len(ax.figure.axes) == 2                   # the top axis with the nonzero counts


def test_plot_df(fitted, ax):
    path = fitted["path"]
    plots.plot_df(path, cv=fitted["cv"], ax=ax)
    df_line = next(l for l in ax.get_lines() if l.get_label() == "effective df")
    np.testing.assert_allclose(df_line.get_ydata(), path.table["df"])


def test_plot_bias_variance_lines(fitted, ax):
    bv = fitted["bv"]
    assert plots.plot_bias_variance(bv, ax=ax) is ax
    by = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_allclose(by["bias$^2$"].get_ydata(), bv["bias2"])
    np.testing.assert_allclose(by["variance"].get_ydata(), bv["variance"])
    np.testing.assert_allclose(by["risk"].get_ydata(), bv["risk"])
    np.testing.assert_allclose(by["noise $\\sigma^2$"].get_ydata(), bv["noise"])
    k = int(np.argmin(bv["risk"].to_numpy()))
    star = next(ln for lab, ln in by.items() if lab.startswith("min risk"))
    assert star.get_ydata()[0] == bv["risk"].iloc[k]


def test_plot_selection_bars(fitted, ax):
    boot = fitted["boot"]
    assert plots.plot_selection(boot, ax=ax, threshold=0.5) is ax
    tab = boot.to_frame()
    tab = tab[tab["term"] != "Intercept"].sort_values("selection_freq", kind="stable")
    widths = [p.get_width() for p in ax.patches]
    np.testing.assert_allclose(widths, tab["selection_freq"])
    assert [t.get_text() for t in ax.get_yticklabels()] == tab["term"].tolist()
    assert 0.5 in _vlines_x(ax)


def test_plot_selection_top(fitted, ax):
    plots.plot_selection(fitted["boot"].to_frame(), ax=ax, top=3)
    assert len(ax.patches) == 3


def test_plot_stability_paths(fitted, ax):
    stab = fitted["stab"]
    if stab is None:
        pytest.skip("no stability selection for ridge")
    assert plots.plot_stability(stab, ax=ax) is ax
    probs = stab.probabilities
    curves = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == len(probs)]
    assert len(curves) == probs.shape[1]
    for ln, name in zip(curves, probs.columns):
        np.testing.assert_allclose(ln.get_ydata(), probs[name])
    thr = [ln for ln in ax.get_lines() if ln.get_label().startswith("threshold")]
    assert thr and thr[0].get_ydata()[0] == stab.threshold


def test_plot_stability_from_a_long_frame(ax):
    long = pd.DataFrame({"lambda": [1.0, 0.5, 1.0, 0.5], "term": ["a", "a", "b", "b"],
                         "probability": [0.1, 0.9, 0.0, 0.3]})
    plots.plot_stability(long, ax=ax, threshold=0.6)
    ys = [list(ln.get_ydata()) for ln in ax.get_lines() if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] != ln.get_xdata()[1]]
    assert [0.1, 0.9] in ys and [0.0, 0.3] in ys
    with pytest.raises(ParameterError, match="selection probabilities"):
        plots.plot_stability(pd.DataFrame({"x": [1]}), ax=ax)


def test_plot_intervals_forest(fitted, ax):
    inf, boot = fitted["inf"], fitted["boot"]
    assert plots.plot_intervals({"inference": inf, "bootstrap": boot}, ax=ax) is ax
    f = inf.to_frame()
    f = f[f["term"] != "Intercept"]
    segs = ax.collections[0].get_segments()
    np.testing.assert_allclose([s[0][0] for s in segs], f["ci_lower"])
    np.testing.assert_allclose([s[1][0] for s in segs], f["ci_upper"])
    b = boot.to_frame()
    b = b[b["term"] != "Intercept"]
    segs_b = ax.collections[1].get_segments()
    np.testing.assert_allclose([s[0][0] for s in segs_b], b["ci_lower"])
    assert [t.get_text() for t in ax.get_yticklabels()] == f["term"].tolist()
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"inference", "bootstrap"}


def test_plot_intervals_bad_input(ax):
    with pytest.raises(ParameterError, match="intervals must have columns"):
        plots.plot_intervals(pd.DataFrame({"term": ["a"], "estimate": [1.0]}), ax=ax)
    with pytest.raises(ParameterError, match="at least one result"):
        plots.plot_intervals({}, ax=ax)


def test_plots_make_their_own_figure_when_ax_is_none(fitted):
    for draw in (lambda: plots.plot_path(fitted["path"]), lambda: plots.plot_cv(fitted["cv"]),
                 lambda: plots.plot_bias_variance(fitted["bv"]), lambda: plots.plot_selection(fitted["boot"]),
                 lambda: plots.plot_intervals(fitted["inf"]), lambda: plots.plot_df(fitted["path"])):
        a = draw()
        assert a.figure is not None
        plt.close(a.figure)


def test_bad_frames(ax):
    with pytest.raises(ParameterError, match="must have columns"):
        plots.plot_bias_variance(pd.DataFrame({"lambda": [1.0]}), ax=ax)
    with pytest.raises(ParameterError, match="must be a DataFrame or a regstats result"):
        plots.plot_selection(42, ax=ax)
