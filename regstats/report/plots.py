"""Plots of regstats results (matplotlib).

Every function draws on ``ax`` when given (a :class:`matplotlib.axes.Axes`) and otherwise on a
new pyplot figure, and returns the Axes.  They read results through their public, documented
attributes only (``path.coef``, ``cv.table``, ``boot.to_frame()``, ...), so any object with those
attributes can be plotted.  matplotlib is imported inside the functions: ``import regstats`` stays
fast.

================================  ===========================================================
:func:`plot_path`                 coefficient paths against log(lambda), CV choices marked
:func:`plot_cv`                   CV curve with error bars, nonzero counts on a top axis
:func:`plot_df`                   effective degrees of freedom and nonzero count vs log(lambda)
:func:`plot_bias_variance`        bias^2, variance, noise and risk against log(lambda)
:func:`plot_selection`            bootstrap selection frequencies
:func:`plot_stability`            stability-selection paths (selection probability vs lambda)
:func:`plot_intervals`            coefficient intervals (forest plot)
:func:`plot_calibration`          binomial / Poisson: binned predicted vs observed means
:func:`plot_roc`                  binomial: ROC curves with their AUC
================================  ===========================================================
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_path", "plot_cv", "plot_df", "plot_bias_variance", "plot_selection", "plot_stability",
           "plot_intervals", "plot_calibration", "plot_roc"]

_MIN_COLOR = "#c0392b"
_1SE_COLOR = "#2c3e50"


def _axes(ax: "Axes | None", figsize: tuple[float, float] = (7.0, 4.2)) -> "Axes":
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _frame(obj: Any, name: str, required: Sequence[str]) -> pd.DataFrame:
    """A DataFrame from a result (its ``to_frame()`` / ``table``) or a DataFrame, with columns checked."""
    if isinstance(obj, pd.DataFrame):
        df = obj
    elif hasattr(obj, "to_frame"):
        df = obj.to_frame()
    elif hasattr(obj, "table"):
        df = obj.table
    else:
        raise ParameterError(f"{name} must be a DataFrame or a regstats result; got {type(obj).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ParameterError(f"{name} must have columns {list(required)}; got {list(df.columns)} "
                             f"(missing {missing})")
    return df


#: every figure against lambda has the null model on the left and the least penalized fit on the right
_LAMBDA_LABEL = "log(lambda)  (less penalty to the right)"


def _loglam(lambdas: Any) -> np.ndarray:
    lam = np.asarray(lambdas, dtype=float)
    with np.errstate(divide="ignore"):
        out = np.log(lam)
    if np.any(~np.isfinite(out)):
        # lambda = 0 (an unpenalized end of a user grid): put it one grid step below the smallest
        pos = lam[lam > 0]
        floor = np.log(pos.min()) - 1.0 if pos.size else 0.0
        out = np.where(np.isfinite(out), out, floor)
    return out


def _mark_choices(ax: "Axes", cv: Any, labels: bool = True, xmap: Any = None,
                  mark: float | None = None, span: tuple[float, float] | None = None) -> None:
    """Dashed vertical lines at lambda_min and lambda_1se of a CV result (and at ``mark``).

    ``xmap`` maps a lambda to the x coordinate (default log(lambda)).  Each line's label is
    written beside it, lambda_min on one side and lambda_1se on the other (so they never cover
    each other), and flipped inward at the edges of the axes so that it stays inside them.
    """
    xmap = xmap or (lambda lam: float(np.log(lam)))
    marks: list[tuple[float, str, str, int]] = []
    if cv is not None:
        marks += [(cv.lambda_min, _MIN_COLOR, "lambda_min", -1), (cv.lambda_1se, _1SE_COLOR, "lambda_1se", +1)]
    if mark is not None:
        marks.append((float(mark), "#16a085", f"lambda = {float(mark):.3g}", +1))
    lo, hi = span if span is not None else ax.get_xlim()
    inverted = hi < lo
    placed: list[tuple[float, int, float]] = []
    for lam, color, text, side in marks:
        x = xmap(lam)
        ax.axvline(x, color=color, linestyle="--", linewidth=1.0, zorder=1)
        if not labels:
            continue
        # side in screen terms: +1 right of the line; larger lambdas are to the right unless inverted
        s = -side if inverted else side
        frac = (x - lo) / (hi - lo) if hi != lo else 0.5
        if frac < 0.06:
            s = +1
        elif frac > 0.94:
            s = -1
        off = 2.0 * s
        for f0, s0, off0 in placed:  # a label on the same side of a nearby line: one text height further
            if s0 == s and abs(f0 - frac) < 0.04:
                off = off0 + 12.0 * s
        placed.append((frac, s, off))
        ax.annotate(text, xy=(x, 1.0), xycoords=("data", "axes fraction"), xytext=(off, -3),
                    textcoords="offset points", ha="left" if s > 0 else "right", va="top", fontsize=8,
                    color=color, rotation=90, zorder=5,
                    bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none", alpha=0.8))


def _short(name: str, n: int = 28) -> str:
    """``name`` cut to ``n`` characters with an ellipsis."""
    return name if len(name) <= n else name[: n - 1] + "…"


def _spread(targets: np.ndarray, gap: float, lo: float, hi: float) -> np.ndarray:
    """Positions as close as possible to ``targets`` but at least ``gap`` apart, within [lo, hi]."""
    order = np.argsort(targets)
    t = np.asarray(targets, dtype=float)[order]
    n = t.size
    if n == 0:
        return t
    gap = min(gap, (hi - lo) / max(n - 1, 1)) if n > 1 else gap
    pos = np.clip(t, lo, hi)
    for _ in range(50):  # alternate forward and backward passes until stable
        prev = pos.copy()
        for i in range(1, n):
            pos[i] = max(pos[i], pos[i - 1] + gap)
        if pos[-1] > hi:
            pos[-1] = hi
        for i in range(n - 2, -1, -1):
            pos[i] = min(pos[i], pos[i + 1] - gap)
        if pos[0] < lo:
            pos[0] = lo
        if np.allclose(pos, prev):
            break
    out = np.empty(n)
    out[order] = pos
    return out


def _top_counts(ax: "Axes", loglam: np.ndarray, counts: np.ndarray, label: str = "nonzero coefficients",
                n_ticks: int = 8) -> "Axes":
    """A top axis that shows ``counts`` at a few lambda positions (as glmnet's plot does)."""
    top = ax.twiny()
    top.set_xlim(ax.get_xlim())
    order = np.argsort(loglam)
    xs, cs = loglam[order], np.asarray(counts)[order]
    # grid points nearest to evenly spaced x positions (the grid need not be even in x)
    want = np.linspace(xs[0], xs[-1], min(n_ticks, len(xs)))
    pick = np.unique([int(np.argmin(np.abs(xs - w))) for w in want])
    top.set_xticks(xs[pick])
    top.set_xticklabels([f"{c:g}" for c in cs[pick]], fontsize=8)
    top.set_xlabel(label, fontsize=9)
    top.tick_params(axis="x", length=2)
    return top


def plot_path(path: Any, cv: Any = None, *, ax: "Axes | None" = None, scale: str = "standardized",
              xvar: str = "lambda", label: int | bool = 8, legend: bool = True, top_axis: bool = True,
              mark: float | None = None) -> "Axes":
    """Coefficient paths, the largest curves named at the fitted (right) end, a legend for the rest.

    The x-axis runs from the null model on the left to the least penalized fit on the right:
    ``xvar="lambda"`` is log(lambda), decreasing to the right; ``xvar="norm"`` is the L1 norm of
    the plotted coefficients as a fraction of its largest value on the path (glmnet's
    ``xvar="norm"``).  The ``label`` curves with the largest absolute value at the right end are
    named there, spread apart so that no two names overlap; the other curves are listed in a
    legend beside the axes (with their colours and line styles).

    Parameters
    ----------
    path : a :class:`~regstats.Path` (uses ``path.coef`` and ``path.table``).
    cv : optional CV result; ``cv.lambda_min`` and ``cv.lambda_1se`` are drawn as dashed lines.
    ax : Axes to draw on; a new figure when None.
    scale : ``"standardized"`` (coefficients times the column's standard deviation, so the
        paths are comparable, as in most texts) or ``"original"`` (the units of ``path.coef``).
    xvar : ``"lambda"`` (log lambda) or ``"norm"`` (L1-norm fraction).
    label : how many curves to name at the right end (True = all, False = none).
    legend : list the curves not named at the end in a legend beside the axes.
    top_axis : show the number of nonzero coefficients on a top axis.
    mark : a lambda to mark with a dashed line (``fit.plot()`` marks the fit's).

    Returns
    -------
    matplotlib.axes.Axes
    """
    if scale not in ("standardized", "original"):
        raise ParameterError(f"scale must be one of 'standardized', 'original'; got {scale!r}")
    if xvar not in ("lambda", "norm"):
        raise ParameterError(f"xvar must be one of 'lambda', 'norm'; got {xvar!r}")
    if not isinstance(label, (bool, int, np.integer)) or (not isinstance(label, bool) and label < 0):
        raise ParameterError(f"label must be True, False or a number of curves >= 0; got {label!r}")
    ax = _axes(ax)
    coef = path.coef.drop(columns=["Intercept"], errors="ignore")
    loglam = _loglam(path.lambdas)
    values = coef.to_numpy(dtype=float)
    if scale == "standardized":
        values = values * _column_sd(path)[None, :]
    if xvar == "lambda":
        x = loglam
        xmap = lambda lam: float(np.log(lam))  # noqa: E731
        xlabel = "log(lambda)  (less penalty to the right)"
    else:
        norm = np.abs(values).sum(axis=1)
        top = norm.max()
        x = norm / top if top > 0 else norm
        order = np.argsort(loglam)
        xmap = lambda lam: float(np.interp(np.log(lam), loglam[order], x[order]))  # noqa: E731
        xlabel = "L1 norm / largest L1 norm on the path" + (" (standardized)" if scale == "standardized" else "")
    import matplotlib as mpl

    p = values.shape[1]
    colors = mpl.colormaps["tab10" if p <= 10 else "tab20"]
    styles = ["-", "--", ":", "-."]
    lines = []
    for j, name in enumerate(coef.columns):
        ln, = ax.plot(x, values[:, j], linewidth=1.3, color=colors(j % colors.N),
                      linestyle=styles[(j // colors.N) % len(styles)], label=str(name))
        lines.append(ln)
    ax.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("coefficient × column sd (standardized)" if scale == "standardized"
                  else "coefficient (original scale)")
    ax.set_title(f"Coefficient paths: {getattr(path, 'penalty', '')}".rstrip(": "), fontsize=11)
    # the fitted end is on the right: log(lambda) decreases to the right
    left, right = (x.max(), x.min()) if xvar == "lambda" else (x.min(), x.max())
    if left == right:
        left, right = left + 0.5 * (1 if xvar == "lambda" else -1), right
    ax.set_xlim(left, right)
    end = values[np.argmin(loglam)]  # the least penalized end (right)
    n_label = p if label is True else 0 if label is False else min(int(label), p)
    ranked = [j for j in np.argsort(-np.abs(end), kind="stable") if end[j] != 0]
    named = ranked[:n_label]
    rest = [j for j in range(p) if j not in set(named)]
    if legend and rest:
        shown = rest[:24]
        handles = [lines[j] for j in shown]
        if len(rest) > len(shown):
            handles.append(mpl.lines.Line2D([], [], color="none", label=f"... {len(rest) - len(shown)} more"))
        ax.legend(handles=handles, labels=[_short(h.get_label()) for h in handles], loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7,
                  frameon=False, ncol=1 if len(handles) <= 14 else 2, handlelength=1.6,
                  title="other terms" if named else None, title_fontsize=7.5)
    if top_axis:
        top_ax = _top_counts(ax, x, path.table["n_nonzero"].to_numpy())
    else:
        top_ax = None
    if named:
        _label_ends(ax, x, values, named, [str(coef.columns[j]) for j in named], lines, left, right)
        if top_ax is not None:
            top_ax.set_xlim(ax.get_xlim())
    _mark_choices(ax, cv, xmap=xmap, mark=mark, span=(left, right))
    return ax


def _label_ends(ax: "Axes", x: np.ndarray, values: np.ndarray, named: list[int], names: list[str],
                lines: list[Any], left: float, right: float, fontsize: float = 8.0) -> None:
    """Name curves at the right end of the data, in a gutter inside the axes, without overlaps.

    The gutter is sized from the names' rendered widths (after the figure's layout), the names are
    spread vertically at least one line apart and joined to their curve's end by a short line.
    """
    fig = ax.figure
    ylo, yhi = ax.get_ylim()
    texts = [ax.text(0, 0, n, fontsize=fontsize, va="center", ha="left", color="0.1",
                     transform=ax.transAxes) for n in names]
    fig.draw_without_rendering()
    box = ax.get_window_extent()
    for t in texts:  # a name wider than a third of the axes is shortened with an ellipsis
        full = t.get_text()
        n = len(full)
        while t.get_window_extent().width > box.width / 3 and n > 4:
            n -= 1
            t.set_text(full[: n - 1] + "…")
    width = max(t.get_window_extent().width for t in texts) + 6.0
    gutter = min(0.035 + width / max(box.width, 1.0), 0.45)
    f = 1.0 - gutter  # the data occupy [0, f] of the axes width
    ax.set_xlim(left, left + (right - left) / f)
    ax.set_ylim(ylo, yhi)
    gap_px = fontsize * fig.dpi / 72.0 * 1.3
    gap = gap_px / max(box.height, 1.0) * (yhi - ylo)
    ends = values[np.argmin(np.abs(x - right)), named]
    pad = 0.5 * gap
    ys = _spread(ends, gap, ylo + pad, yhi - pad)
    import matplotlib.transforms as mtrans

    blend = mtrans.blended_transform_factory(ax.transAxes, ax.transData)
    for t, y0, y1, j in zip(texts, ends, ys, named):
        t.set_transform(blend)
        t.set_position((f + 0.035, y1))
        t.set_clip_on(False)
        ax.plot([f, f + 0.012, f + 0.03], [y0, y1, y1], transform=blend, color=lines[j].get_color(),
                linewidth=0.9, clip_on=False, label="_nolegend_")


def _column_sd(path: Any) -> np.ndarray:
    """Population standard deviation of each design column over the rows used in the fit."""
    X = path._design.X
    return np.asarray(X.std(axis=0), dtype=float)


def plot_cv(cv: Any, *, ax: "Axes | None" = None, top_axis: bool = True) -> "Axes":
    """The cross-validation curve: mean CV error with +-1 SE bars, as glmnet's ``plot.cv.glmnet``.

    Parameters
    ----------
    cv : a CV result with ``table`` (``lambda, cv_mean, cv_se, n_nonzero``), ``lambda_min`` and
        ``lambda_1se``.
    ax : Axes to draw on; a new figure when None.
    top_axis : show the number of nonzero coefficients on a top axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    tab = _frame(cv.table, "cv.table", ["lambda", "cv_mean", "cv_se", "n_nonzero"])
    ax = _axes(ax)
    x = _loglam(tab["lambda"])
    ax.errorbar(x, tab["cv_mean"].to_numpy(float), yerr=tab["cv_se"].to_numpy(float), fmt="o", color=_MIN_COLOR, markersize=3,
                ecolor="0.65", elinewidth=0.9, capsize=1.5)
    # as the path plot: the null model on the left, log(lambda) decreasing to the right
    ax.set_xlim(x.max() + 0.1, x.min() - 0.1)
    ax.set_xlabel(_LAMBDA_LABEL)
    ax.set_ylabel(_cv_label(cv))
    ax.set_title("Cross-validation curve", fontsize=11)
    _mark_choices(ax, cv)
    if top_axis:
        _top_counts(ax, x, tab["n_nonzero"].to_numpy())
    return ax


def _cv_label(cv: Any) -> str:
    """The CV measure's name (cv.glmnet's, by :func:`regstats.cv.loss_name`), on two lines when long."""
    from ..folds import loss_name

    loss = getattr(cv, "loss", None) or "mse"
    family = getattr(getattr(cv, "path", None), "family", "gaussian")
    try:
        name = loss_name(loss, family)
    except KeyError:
        name = str(loss)
    if " (" in name:                    # "AUC (area under ...; larger is better)": the note on a second line
        head, tail = name.split(" (", 1)
        return f"{head} (CV)\n({tail}"
    return name + " (CV)"


def plot_df(path: Any, cv: Any = None, *, ax: "Axes | None" = None) -> "Axes":
    """Effective degrees of freedom and the number of nonzero coefficients against log(lambda).

    Parameters
    ----------
    path : a Path (uses ``path.table``: ``lambda, df, n_nonzero``).
    cv : optional CV result; its choices are marked.
    ax : Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    tab = _frame(path.table, "path.table", ["lambda", "df", "n_nonzero"])
    ax = _axes(ax)
    x = _loglam(tab["lambda"])
    ax.step(x, tab["n_nonzero"].to_numpy(float), where="mid", color="0.55", linewidth=1.2, label="nonzero coefficients")
    ax.plot(x, tab["df"].to_numpy(float), color="#8e44ad", linewidth=1.8, label="effective df")
    ax.set_xlim(x.max(), x.min())
    ax.set_ylim(bottom=0)
    ax.set_xlabel(_LAMBDA_LABEL)
    ax.set_ylabel("degrees of freedom")
    ax.set_title("Degrees of freedom", fontsize=11)
    _mark_choices(ax, cv)
    # beside the axes: inside, it would cover the curves or the lambda_min / lambda_1se labels
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def plot_bias_variance(bv: Any, *, ax: "Axes | None" = None, noise: bool = True) -> "Axes":
    """Bias^2, variance and risk against log(lambda) (the output of ``path.bias_variance()``).

    Parameters
    ----------
    bv : a bias-variance result (``path.bias_variance()``) or a DataFrame with ``lambda, bias2,
        variance, risk`` (and ``noise``); with Monte Carlo standard errors (``bias2_se``,
        ``variance_se``: the result's ``to_frame()``) a band of +-2 SE is drawn around bias^2 and
        the variance, so that a bias^2 estimate below 0 reads as Monte Carlo noise around 0.
    ax : Axes to draw on; a new figure when None.
    noise : draw the irreducible noise level as a dotted line.

    Returns
    -------
    matplotlib.axes.Axes
    """
    tab = _frame(bv, "bias_variance", ["lambda", "bias2", "variance", "risk"])
    ax = _axes(ax)
    x = _loglam(tab["lambda"])
    ax.plot(x, tab["bias2"].to_numpy(float), color="#2980b9", linewidth=1.6, label="bias$^2$")
    ax.plot(x, tab["variance"].to_numpy(float), color="#27ae60", linewidth=1.6, label="variance")
    for col, color in (("bias2", "#2980b9"), ("variance", "#27ae60")):
        se = tab[col + "_se"].to_numpy(float) if col + "_se" in tab.columns else None
        if se is not None and np.isfinite(se).any():
            mid = tab[col].to_numpy(float)
            ax.fill_between(x, mid - 2 * se, mid + 2 * se, color=color, alpha=0.18, linewidth=0,
                            label=("$\\pm$2 Monte Carlo SE" if col == "bias2" else None))
    ax.plot(x, tab["risk"].to_numpy(float), color="#222222", linewidth=2.0, label="risk")
    if noise and "noise" in tab.columns:
        ax.plot(x, tab["noise"].to_numpy(float), color="0.5", linewidth=1.0, linestyle=":", label="noise $\\sigma^2$")
    k = int(np.nanargmin(tab["risk"].to_numpy()))
    ax.plot([x[k]], [tab["risk"].iloc[k]], marker="o", color=_MIN_COLOR, zorder=3,
            label=f"min risk (lambda = {tab['lambda'].iloc[k]:.3g})")
    ax.set_xlim(x.max(), x.min())
    ax.set_xlabel(_LAMBDA_LABEL)
    ax.set_ylabel("expected squared error")
    ax.set_title("Bias-variance decomposition", fontsize=11)
    ax.legend(fontsize=8, frameon=False)
    return ax


def plot_selection(boot: Any, *, ax: "Axes | None" = None, threshold: float | None = None,
                   top: int | None = 30) -> "Axes":
    """Bootstrap selection frequency of each coefficient (horizontal bars, most frequent on top).

    Parameters
    ----------
    boot : a bootstrap result or its ``to_frame()`` (``term, selection_freq``; ``sign_consistency``
        colours the bars when present).
    ax : Axes to draw on; a new figure when None.
    threshold : optional frequency to mark with a vertical line.
    top : show at most this many terms (the most frequently selected); None shows all.

    Returns
    -------
    matplotlib.axes.Axes
    """
    tab = _frame(boot, "boot", ["term", "selection_freq"])
    tab = tab[tab["term"] != "Intercept"].sort_values("selection_freq", ascending=True, kind="stable")
    if top is not None and len(tab) > top:
        tab = tab.iloc[-top:]
    ax = _axes(ax, figsize=(6.0, max(2.5, 0.28 * len(tab) + 1.2)))
    y = np.arange(len(tab))
    if "sign_consistency" in tab.columns:
        import matplotlib as mpl

        # the share of selecting replicates with the majority sign: 0.5 (a coin toss) to 1
        cmap, norm = mpl.colormaps["viridis_r"], mpl.colors.Normalize(vmin=0.5, vmax=1.0)
        sc = tab["sign_consistency"].to_numpy(dtype=float)
        colors = [cmap(norm(v)) if np.isfinite(v) else (0.8, 0.8, 0.8, 1.0) for v in sc]
        ax.barh(y, tab["selection_freq"].to_numpy(float), color=colors, height=0.7)
        sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
        cb = ax.figure.colorbar(sm, ax=ax, pad=0.02, fraction=0.06, aspect=25)
        cb.set_label("sign consistency (share with the majority sign)", fontsize=8)
        cb.ax.tick_params(labelsize=7)
    else:
        ax.barh(y, tab["selection_freq"].to_numpy(float), color="#2980b9", height=0.7)
    ax.set_yticks(y)
    ax.set_yticklabels(tab["term"].astype(str), fontsize=8)
    ax.set_xlim(0, 1.0)
    ax.set_xlabel("selection frequency over bootstrap replicates")
    if threshold is not None:
        ax.axvline(threshold, color=_MIN_COLOR, linestyle="--", linewidth=1.0)
    ax.set_title("Bootstrap selection frequency", fontsize=11)
    return ax


def _stability_matrix(stab: Any) -> pd.DataFrame:
    """Selection probabilities as a lambda x term DataFrame (index = lambda)."""
    for attr in ("probabilities", "selection_probabilities", "path"):
        m = getattr(stab, attr, None)
        if isinstance(m, pd.DataFrame):
            return m
    df = stab if isinstance(stab, pd.DataFrame) else stab.to_frame()
    if {"lambda", "term"}.issubset(df.columns):
        val = next((c for c in ("probability", "selection_probability", "selection_freq")
                    if c in df.columns), None)
        if val is not None:
            return df.pivot(index="lambda", columns="term", values=val).sort_index(ascending=False)
    raise ParameterError("stab must have a lambda x term table of selection probabilities "
                         "(attribute 'probabilities' or a long frame with lambda, term, probability); "
                         f"got {type(stab).__name__}")


def plot_stability(stab: Any, *, ax: "Axes | None" = None, threshold: float | None = None,
                   label: bool = True) -> "Axes":
    """Stability-selection paths: selection probability of each term against log(lambda).

    The curves are ``stab.probabilities``: at each lambda, the share of subsamples whose first q
    variables to enter the lasso path (the selection rule) include the term by that lambda.  They
    end at the selection probabilities of ``stab.to_frame()``, so a curve crosses the threshold
    exactly when the term is selected.  Selected terms are drawn in colour and named, the others
    in grey; the threshold is a dashed line.

    Parameters
    ----------
    stab : a stability-selection result (selection probabilities over the lambda path, the
        ``selected`` terms and the ``threshold``) or a lambda x term DataFrame of probabilities.
    ax : Axes to draw on; a new figure when None.
    threshold : overrides ``stab.threshold``.
    label : name the selected terms at the left end.

    Returns
    -------
    matplotlib.axes.Axes
    """
    probs = _stability_matrix(stab)
    selected = set(getattr(stab, "selected", ()) or ())
    thr = threshold if threshold is not None else getattr(stab, "threshold", None)
    ax = _axes(ax)
    x = _loglam(probs.index.to_numpy())
    import matplotlib as mpl

    cmap = mpl.colormaps["tab10"]
    k = 0
    for name in probs.columns:
        if name == "Intercept":
            continue
        yv = probs[name].to_numpy(dtype=float)
        if name in selected:
            c = cmap(k % 10)
            k += 1
            ax.plot(x, yv, color=c, linewidth=1.8, zorder=3)
            if label:
                ax.annotate(str(name), xy=(x.min(), yv[np.argmin(x)]), xytext=(-3, 4),
                            textcoords="offset points", fontsize=7.5, va="bottom", ha="right", color=c)
        else:
            ax.plot(x, yv, color="0.75", linewidth=0.9, zorder=2)
    if thr is not None:
        ax.axhline(float(thr), color=_MIN_COLOR, linestyle="--", linewidth=1.0,
                   label=f"threshold {float(thr):g}")
        ax.legend(fontsize=8, frameon=False, loc="lower left")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(x.max(), x.min())
    ax.set_xlabel(_LAMBDA_LABEL)
    q = getattr(stab, "q", None)
    ax.set_ylabel("selection probability" + (f" (first q = {q:g} to enter)" if q is not None else ""))
    ax.set_title("Stability selection", fontsize=11)
    return ax


def _interval_frame(obj: Any) -> pd.DataFrame:
    df = obj if isinstance(obj, pd.DataFrame) else obj.to_frame()
    est = "estimate" if "estimate" in df.columns else "mean" if "mean" in df.columns else None
    if est is None or not {"term", "ci_lower", "ci_upper"}.issubset(df.columns):
        raise ParameterError("intervals must have columns term, estimate (or mean), ci_lower, ci_upper; "
                             f"got {list(df.columns)}")
    out = df[["term", est, "ci_lower", "ci_upper"]].rename(columns={est: "estimate"})
    return out[out["term"] != "Intercept"].reset_index(drop=True)


def plot_intervals(intervals: Any | Mapping[str, Any], *, ax: "Axes | None" = None,
                   sort: bool = False, path: Any = None, scale: str | None = None) -> "Axes":
    """Forest plot of coefficient intervals, on the standardized scale when the fit is known.

    On the original scale a factor's dummies (hundreds of units) flatten every numeric predictor
    to a dot; on the standardized scale (estimate and interval times the column's sd) the terms
    are comparable.  The x-axis label names the scale.

    Parameters
    ----------
    intervals : an inference or bootstrap result (or its ``to_frame()``: ``term``, ``estimate``
        or ``mean``, ``ci_lower``, ``ci_upper``), or a dict ``{label: result}`` to draw several
        methods side by side (e.g. ``{"desparsified": inf, "bootstrap": boot}``).
    ax : Axes to draw on; a new figure when None.
    sort : order the terms by estimate (default: the order of the first result).
    path : the :class:`~regstats.Path` (or a :class:`~regstats.Fit`) the intervals belong to; it
        gives each column's sd (divisor n) for the standardized scale.
    scale : ``"standardized"`` (the default when ``path`` is given; it needs ``path``) or
        ``"original"`` (the default without ``path``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    if path is not None and hasattr(path, "path") and not hasattr(path, "lambdas"):
        path = path.path  # a Fit
    if scale is None:
        scale = "standardized" if path is not None else "original"
    if scale not in ("standardized", "original"):
        raise ParameterError(f"scale must be one of 'standardized', 'original'; got {scale!r}")
    if scale == "standardized" and path is None:
        raise ParameterError("scale='standardized' needs path= (the Path or Fit of the intervals) for the "
                             "column sds; pass path=... or scale='original'")
    sets = dict(intervals) if isinstance(intervals, Mapping) else {"": intervals}
    if not sets:
        raise ParameterError("intervals must name at least one result; got an empty dict")
    frames = {k: _interval_frame(v) for k, v in sets.items()}
    if scale == "standardized":
        sd = pd.Series(_column_sd(path), index=list(path.column_names))
        for k, f in frames.items():
            unknown = sorted(set(f["term"]) - set(sd.index))
            if unknown:
                raise ParameterError(f"intervals have terms {unknown} that are not design columns of path; "
                                     "pass the path the intervals were computed from")
            m = f["term"].map(sd).to_numpy(dtype=float)
            frames[k] = f.assign(estimate=f["estimate"] * m, ci_lower=f["ci_lower"] * m,
                                 ci_upper=f["ci_upper"] * m)
    first = next(iter(frames.values()))
    terms = list(first.sort_values("estimate")["term"]) if sort else list(first["term"])
    for f in frames.values():
        terms += [t for t in f["term"] if t not in terms]
    ax = _axes(ax, figsize=(6.0, max(2.5, 0.32 * len(terms) * max(1, len(frames)) ** 0.5 + 1.2)))
    pos = {t: len(terms) - 1 - i for i, t in enumerate(terms)}
    m = len(frames)
    width = 0.6
    import matplotlib as mpl

    cmap = mpl.colormaps["tab10"]
    for i, (label, f) in enumerate(frames.items()):
        off = (i - (m - 1) / 2) * (width / max(m, 1)) if m > 1 else 0.0
        yv = np.array([pos[t] for t in f["term"]], dtype=float) + off
        est = f["estimate"].to_numpy(dtype=float)
        lo, hi = f["ci_lower"].to_numpy(dtype=float), f["ci_upper"].to_numpy(dtype=float)
        ax.hlines(yv, lo, hi, color=cmap(i), linewidth=1.6)
        ax.plot(est, yv, "o", color=cmap(i), markersize=4, label=label or None)
    ax.axvline(0.0, color="0.5", linewidth=0.8, linestyle=":")
    ax.set_yticks(list(pos.values()))
    ax.set_yticklabels(list(pos.keys()), fontsize=8)
    ax.set_ylim(-0.7, len(terms) - 0.3)
    ax.set_xlabel("coefficient × column sd (standardized scale)" if scale == "standardized"
                  else "coefficient (original scale)")
    ax.set_title("Coefficient intervals", fontsize=11)
    if m > 1:
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def _oof_of(cv: Any, lam: str | float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    from .calibration import cv_means, lambda_index

    y, mu, w = cv_means(cv, lam)
    return y, mu, w, float(cv.table["lambda"].iloc[lambda_index(cv, lam)])


def plot_calibration(cv: Any, lam: str | float = "1se", *, ax: "Axes | None" = None, bins: int = 10,
                     table: pd.DataFrame | None = None) -> "Axes":
    """Calibration of a binomial or Poisson model: binned out-of-fold predictions against outcomes.

    Rows are cut into ``bins`` groups of equal size by their out-of-fold prediction at ``lam``
    (each row predicted by the CV fold fit that did not see it); each point is a bin's mean
    prediction (x) and its observed proportion or mean count (y) with a 95% interval
    (:func:`regstats.report.calibration.calibration_table`).  Points on the diagonal are
    calibrated; points flatter than it (above it on the left, below on the right) mean the
    predictions are pulled toward the average, as the penalty does at large lambda.

    Parameters
    ----------
    cv : a binomial or Poisson CV result (``path.cv()``).
    lam : ``"1se"`` (default), ``"min"`` or a lambda of the CV grid.
    ax : Axes to draw on; a new figure when None.
    bins : number of bins.
    table : a calibration table to draw instead of computing it from ``cv``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .calibration import calibration_table, lambda_index

    family = cv.path.family
    lam_v = float(cv.table["lambda"].iloc[lambda_index(cv, lam)])
    if table is None:
        y, mu, w, _ = _oof_of(cv, lam)
        table = calibration_table(y, mu, w, bins=bins, family=family)
    tab = _frame(table, "table", ["predicted", "observed", "obs_lower", "obs_upper", "n"])
    ax = _axes(ax, figsize=(5.0, 4.6))
    px, py = tab["predicted"].to_numpy(float), tab["observed"].to_numpy(float)
    lo, hi = tab["obs_lower"].to_numpy(float), tab["obs_upper"].to_numpy(float)
    top = float(np.nanmax(np.r_[px, hi])) * 1.05
    limit = (0.0, 1.0) if family == "binomial" else (0.0, top)
    ax.plot(limit, limit, color="0.6", linewidth=1.0, linestyle="--", label="perfect calibration", zorder=1)
    ax.errorbar(px, py, yerr=[py - lo, hi - py], fmt="o", color=_1SE_COLOR, ecolor="0.6", elinewidth=1.0,
                capsize=2, markersize=5, zorder=3, label="bin: observed (95% interval)")
    ax.set_xlim(*limit)
    ax.set_ylim(*limit)
    ax.set_aspect("equal", adjustable="box")
    what = "proportion" if family == "binomial" else "mean count"
    name = getattr(cv.path, "response", "y")
    if family == "binomial" and getattr(cv.path, "levels", None):
        name = f"{name} = {cv.path.levels[1]}"
    ax.set_xlabel(f"predicted {what} (out of fold)")
    ax.set_ylabel(f"observed {what} of {name}")
    ax.set_title(f"Calibration at lambda = {lam_v:.3g} ({len(tab)} bins of ~{int(np.median(tab['n']))} rows)",
                 fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    return ax


def plot_roc(cv: Any, lams: Sequence[str | float] = ("min", "1se"), *, ax: "Axes | None" = None) -> "Axes":
    """ROC curves of a binomial model's out-of-fold predictions, one per lambda, AUC in the legend.

    Each row is scored by the CV fold fit that did not see it (:func:`plot_calibration`); the
    pooled AUC over all rows is shown (cv.glmnet's ``type.measure="auc"`` averages one AUC per fold
    instead, so the two differ slightly).

    Parameters
    ----------
    cv : a binomial CV result.
    lams : lambdas to draw: ``"min"``, ``"1se"`` or numbers on the CV grid.
    ax : Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .calibration import auc, roc_curve

    if cv.path.family != "binomial":
        raise ParameterError(f"a ROC curve is for binomial models; this path is {cv.path.family}")
    ax = _axes(ax, figsize=(5.0, 4.6))
    colors = {"min": _MIN_COLOR, "1se": _1SE_COLOR}
    ax.plot([0, 1], [0, 1], color="0.6", linewidth=1.0, linestyle="--", label="chance (AUC 0.5)")
    for lam in lams:
        y, mu, w, lam_v = _oof_of(cv, lam)
        roc = roc_curve(y, mu, w)
        key = str(lam).replace("lambda_", "").replace("lambda.", "")
        label = (f"lambda_{key}" if key in colors else f"lambda = {lam_v:.3g}")
        ax.plot(roc["fpr"], roc["tpr"], color=colors.get(key), linewidth=1.6,
                label=f"{label} = {lam_v:.3g}: AUC {auc(y, mu, w):.3f}" if key in colors else
                f"{label}: AUC {auc(y, mu, w):.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("false-positive rate (1 - specificity)")
    ax.set_ylabel("true-positive rate (sensitivity)")
    ax.set_title("ROC curve (out-of-fold predictions)", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return ax
