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


# ------------------------------------------------------------------------------------------------
# readable at a glance on real data (issue 17 item 2): names inside the axes and apart, the scale
# named, sign consistency with a colour bar, the df legend off the CV labels
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hitters = rs.ridge("Salary ~ .", rs.load_dataset("hitters"))
        credit = rs.lasso("Balance ~ . - ID", rs.load_dataset("credit"))
        mtcars = rs.elastic_net(FORMULA, rs.load_dataset("mtcars"), l1_ratio=0.5)
        return {"hitters_ridge": (hitters, hitters.cv(folds=10, seed=1)),
                "credit_lasso": (credit, credit.cv(folds=10, seed=1)),
                "mtcars_enet": (mtcars, mtcars.cv(folds=5, seed=1))}


def _report_figure(size=(7.0, 4.2)):
    """A figure as the report draws it (Agg, constrained layout, no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _draw_clean(fig, draw, ax):
    """Draw and render with every warning an error (a figure must render without warnings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw(ax)
        fig.canvas.draw()


def _boxes(ax, texts=None):
    texts = ax.texts if texts is None else texts
    r = ax.figure.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(r)) for t in texts if t.get_visible() and t.get_text()]


def _inside(box, outer, tol=1.0):
    return (box.x0 >= outer.x0 - tol and box.x1 <= outer.x1 + tol and box.y0 >= outer.y0 - tol
            and box.y1 <= outer.y1 + tol)


def _overlap(a, b):
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w > 0.5 and h > 0.5


def _assert_readable(ax):
    """Every text of the axes (curve names, CV labels) inside the axes and no two overlapping."""
    outer = ax.get_window_extent()
    boxes = _boxes(ax)
    assert boxes
    for name, b in boxes:
        assert _inside(b, outer), f"{name!r} at {b} is outside the axes {outer}"
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not _overlap(boxes[i][1], boxes[j][1]), f"{boxes[i][0]!r} overlaps {boxes[j][0]!r}"
    leg = ax.get_legend()
    if leg is not None:
        lb = leg.get_window_extent()
        assert _inside(lb, ax.figure.bbox), "the legend is cut off by the figure"
        for name, b in boxes:
            assert not _overlap(lb, b), f"the legend covers {name!r}"
    return boxes


@pytest.mark.parametrize("case", ["hitters_ridge", "credit_lasso", "mtcars_enet"])
@pytest.mark.parametrize("xvar", ["lambda", "norm"])
def test_path_names_the_largest_curves_at_the_right_end_apart(real, case, xvar):
    path, cv = real[case]
    fig, ax = _report_figure()
    _draw_clean(fig, lambda a: plots.plot_path(path, cv=cv, ax=a, xvar=xvar), ax)
    boxes = _assert_readable(ax)
    names = list(path.column_names)
    end = (path.coef[names].to_numpy() * path._design.X.std(axis=0))[np.argmin(path.lambdas)]
    top8 = {names[j] for j in np.argsort(-np.abs(end))[:8] if end[j] != 0}
    shown = {n for n, _ in boxes if n in names}
    assert shown == top8
    # named at the right end: right of every curve's last point
    right = max(ax.transData.transform((ln.get_xdata()[np.argmin(path.lambdas)], 0))[0]
                for ln in ax.get_lines() if ln.get_label() in names)
    assert all(b.x0 > right for n, b in boxes if n in names)
    legend = {t.get_text() for t in ax.get_legend().get_texts()} if len(top8) < len(names) else set()
    assert legend == set(names) - top8


def test_path_xvar_norm_is_the_l1_fraction(real):
    path, cv = real["credit_lasso"]
    fig, ax = _report_figure()
    plots.plot_path(path, cv=cv, ax=ax, xvar="norm", scale="original")
    l1 = path.coef.drop(columns="Intercept").abs().sum(axis=1).to_numpy()
    ln = next(l for l in ax.get_lines() if l.get_label() == "Income")
    np.testing.assert_allclose(ln.get_xdata(), l1 / l1.max())
    np.testing.assert_allclose(ln.get_ydata(), path.coef["Income"])
    assert "L1 norm" in ax.get_xlabel()
    # CV choices at the L1 fraction of their fits
    k = int(np.argmin(np.abs(path.lambdas - cv.lambda_1se)))
    assert any(np.isclose(x, l1[k] / l1.max()) for x in _vlines_x(ax))
    with pytest.raises(ParameterError, match="xvar must be one of"):
        plots.plot_path(path, ax=ax, xvar="dev")


def test_path_with_many_columns_keeps_the_legend_short(rng, ax):
    X = rng.standard_normal((60, 40))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(40)]).assign(y=X[:, :5].sum(axis=1)
                                                                        + rng.standard_normal(60))
    path = rs.lasso("y ~ .", df)
    fig, ax = _report_figure()
    _draw_clean(fig, lambda a: plots.plot_path(path, ax=a), ax)
    _assert_readable(ax)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(texts) == 25 and texts[-1] == "... 8 more"


def test_df_legend_does_not_cover_the_cv_labels(real):
    from types import SimpleNamespace

    path, _ = real["credit_lasso"]
    # the 1se line near the right edge (large lambda), where the old legend sat
    cv = SimpleNamespace(lambda_min=float(path.lambdas[60]), lambda_1se=float(path.lambdas[3]))
    fig, ax = _report_figure()
    _draw_clean(fig, lambda a: plots.plot_df(path, cv=cv, ax=a), ax)
    boxes = _assert_readable(ax)
    assert {n for n, _ in boxes} == {"lambda_min", "lambda_1se"}
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"nonzero coefficients", "effective df"}


def test_cv_plot_labels_readable_when_the_choices_coincide(real):
    from types import SimpleNamespace

    path, cv = real["hitters_ridge"]
    same = SimpleNamespace(table=cv.table, lambda_min=cv.lambda_min, lambda_1se=cv.lambda_min)
    for c in (cv, same):
        fig, ax = _report_figure()
        _draw_clean(fig, lambda a: plots.plot_cv(c, ax=a), ax)
        _assert_readable(ax)


def test_forest_plot_is_on_the_standardized_scale_and_says_so(fitted, ax):
    path, inf, boot = fitted["path"], fitted["inf"], fitted["boot"]
    plots.plot_intervals({"inference": inf, "bootstrap": boot}, ax=ax, path=path)
    sd = pd.Series(path._design.X.std(axis=0), index=list(path.column_names))
    f = inf.to_frame()
    f = f[f["term"] != "Intercept"]
    segs = ax.collections[0].get_segments()
    np.testing.assert_allclose([s[0][0] for s in segs], f["ci_lower"] * f["term"].map(sd))
    np.testing.assert_allclose([s[1][0] for s in segs], f["ci_upper"] * f["term"].map(sd))
    dots = ax.get_lines()[0]
    np.testing.assert_allclose(dots.get_xdata(), f["estimate"] * f["term"].map(sd))
    assert "standardized" in ax.get_xlabel()
    ax.clear()
    plots.plot_intervals(inf, ax=ax, path=fitted["fit"], scale="original")   # a Fit gives its path
    assert "original scale" in ax.get_xlabel()
    with pytest.raises(ParameterError, match="needs path="):
        plots.plot_intervals(inf, ax=ax, scale="standardized")


def test_forest_plot_on_credit_makes_numeric_terms_visible(real):
    """Credit's dummies (hundreds of dollars) no longer flatten Income and Limit to dots."""
    path, cv = real["credit_lasso"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boot = path.at(cv.lambda_min).bootstrap(n_boot=30, seed=1)
    fig, ax = _report_figure((6.4, 5.0))
    _draw_clean(fig, lambda a: plots.plot_intervals({"bootstrap": boot}, ax=a, path=path), ax)
    lo, hi = ax.get_xlim()
    est = ax.get_lines()[0]
    terms = [t for t in boot.to_frame()["term"] if t != "Intercept"]
    by = dict(zip(terms, est.get_xdata()))
    assert abs(by["Income"]) > 0.1 * (hi - lo) and abs(by["Limit"]) > 0.1 * (hi - lo)


def test_selection_bars_are_coloured_by_sign_consistency_with_a_colour_bar(fitted):
    import matplotlib as mpl

    boot = fitted["boot"]
    fig, ax = _report_figure()
    _draw_clean(fig, lambda a: plots.plot_selection(boot, ax=a), ax)
    tab = boot.to_frame()
    tab = tab[tab["term"] != "Intercept"].sort_values("selection_freq", kind="stable")
    cmap, norm = mpl.colormaps["viridis_r"], mpl.colors.Normalize(0.5, 1.0)
    for patch, s in zip(ax.patches, tab["sign_consistency"]):
        want = cmap(norm(s)) if np.isfinite(s) else (0.8, 0.8, 0.8, 1.0)
        np.testing.assert_allclose(patch.get_facecolor(), want)
    bars = [a for a in fig.axes if a is not ax]
    assert len(bars) == 1 and "sign consistency" in bars[0].get_ylabel()
    assert bars[0].get_ylim() == (0.5, 1.0)


def test_long_names_are_shortened_inside_the_axes(rng):
    names = ["Infant_Mortality_live_births_who_live_less_than_1_year",
             "Catholic_percent_catholic_as_opposed_to_protestant", "Agriculture", "x"]
    X = rng.standard_normal((47, 4))
    df = pd.DataFrame(X, columns=names).assign(y=X.sum(axis=1) + rng.standard_normal(47))
    path = rs.lasso("y ~ .", df)
    fig, ax = _report_figure()
    _draw_clean(fig, lambda a: plots.plot_path(path, ax=a, label=2), ax)
    boxes = _assert_readable(ax)
    shown = [n for n, _ in boxes]
    assert any(n.endswith("…") and names[0].startswith(n[:-1]) for n in shown)
