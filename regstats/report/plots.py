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
           "plot_intervals"]

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


def _mark_choices(ax: "Axes", cv: Any, labels: bool = True) -> None:
    """Dashed vertical lines at lambda_min and lambda_1se of a CV result."""
    if cv is None:
        return
    for lam, color, text in ((cv.lambda_min, _MIN_COLOR, "lambda_min"),
                             (cv.lambda_1se, _1SE_COLOR, "lambda_1se")):
        x = float(np.log(lam))
        ax.axvline(x, color=color, linestyle="--", linewidth=1.0, zorder=1)
        if labels:
            ax.annotate(text, xy=(x, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -2),
                        textcoords="offset points", ha="left", va="top", fontsize=8, color=color,
                        rotation=90)


def _top_counts(ax: "Axes", loglam: np.ndarray, counts: np.ndarray, label: str = "nonzero coefficients",
                n_ticks: int = 8) -> "Axes":
    """A top axis that shows ``counts`` at a few lambda positions (as glmnet's plot does)."""
    top = ax.twiny()
    top.set_xlim(ax.get_xlim())
    order = np.argsort(loglam)
    xs, cs = loglam[order], np.asarray(counts)[order]
    pick = np.unique(np.linspace(0, len(xs) - 1, min(n_ticks, len(xs))).round().astype(int))
    top.set_xticks(xs[pick])
    top.set_xticklabels([f"{c:g}" for c in cs[pick]], fontsize=8)
    top.set_xlabel(label, fontsize=9)
    top.tick_params(axis="x", length=2)
    return top


def plot_path(path: Any, cv: Any = None, *, ax: "Axes | None" = None, scale: str = "standardized",
              label: int | bool = 10, top_axis: bool = True) -> "Axes":
    """Coefficient paths against log(lambda), with the CV choices marked.

    Parameters
    ----------
    path : a :class:`~regstats.Path` (uses ``path.coef`` and ``path.table``).
    cv : optional CV result; ``cv.lambda_min`` and ``cv.lambda_1se`` are drawn as dashed lines.
    ax : Axes to draw on; a new figure when None.
    scale : ``"standardized"`` (coefficients times the column's standard deviation, so the
        paths are comparable, as in most texts) or ``"original"`` (the units of ``path.coef``).
    label : name the ``label`` largest coefficients at the left end (True = all, False = none).
    top_axis : show the number of nonzero coefficients on a top axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if scale not in ("standardized", "original"):
        raise ParameterError(f"scale must be one of 'standardized', 'original'; got {scale!r}")
    ax = _axes(ax)
    coef = path.coef.drop(columns=["Intercept"], errors="ignore")
    x = _loglam(path.lambdas)
    values = coef.to_numpy(dtype=float)
    if scale == "standardized":
        values = values * _column_sd(path)[None, :]
    import matplotlib as mpl

    colors = mpl.colormaps["tab10" if values.shape[1] <= 10 else "tab20"]
    ncol = max(values.shape[1], 1)
    for j, name in enumerate(coef.columns):
        ax.plot(x, values[:, j], linewidth=1.3, color=colors(j % colors.N), label=str(name))
    ax.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)
    ax.set_xlabel("log(lambda)")
    ax.set_ylabel("coefficient" + (" (standardized)" if scale == "standardized" else ""))
    ax.set_title(f"Coefficient paths: {getattr(path, 'penalty', '')}".rstrip(": "), fontsize=11)
    ax.set_xlim(x.min(), x.max())
    _mark_choices(ax, cv)
    n_label = ncol if label is True else 0 if label is False else int(label)
    if n_label:
        end = values[np.argmin(x)]  # the least penalized end (left)
        order = np.argsort(-np.abs(end))[:n_label]
        for j in order:
            if end[j] != 0:
                ax.annotate(str(coef.columns[j]), xy=(x.min(), end[j]), xytext=(3, 0),
                            textcoords="offset points", fontsize=7.5, va="center",
                            color=colors(j % colors.N))
    if top_axis:
        _top_counts(ax, x, path.table["n_nonzero"].to_numpy())
    return ax


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
    ax.set_xlim(x.min() - 0.1, x.max() + 0.1)
    ax.set_xlabel("log(lambda)")
    ax.set_ylabel("mean-squared error (CV)")
    ax.set_title("Cross-validation curve", fontsize=11)
    _mark_choices(ax, cv)
    if top_axis:
        _top_counts(ax, x, tab["n_nonzero"].to_numpy())
    return ax


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
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(bottom=0)
    ax.set_xlabel("log(lambda)")
    ax.set_ylabel("degrees of freedom")
    ax.set_title("Degrees of freedom", fontsize=11)
    _mark_choices(ax, cv)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
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
    ax.set_xlabel("log(lambda)")
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

        cmap = mpl.colormaps["viridis"]
        colors = [cmap(0.15 + 0.7 * float(np.nan_to_num(s))) for s in tab["sign_consistency"]]
    else:
        colors = "#2980b9"
    ax.barh(y, tab["selection_freq"].to_numpy(float), color=colors, height=0.7)
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
                ax.annotate(str(name), xy=(x.min(), yv[np.argmin(x)]), xytext=(3, 0),
                            textcoords="offset points", fontsize=7.5, va="center", color=c)
        else:
            ax.plot(x, yv, color="0.75", linewidth=0.9, zorder=2)
    if thr is not None:
        ax.axhline(float(thr), color=_MIN_COLOR, linestyle="--", linewidth=1.0,
                   label=f"threshold {float(thr):g}")
        ax.legend(fontsize=8, frameon=False, loc="lower left")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(x.min(), x.max())
    ax.set_xlabel("log(lambda)")
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
                   sort: bool = False) -> "Axes":
    """Forest plot of coefficient intervals.

    Parameters
    ----------
    intervals : an inference or bootstrap result (or its ``to_frame()``: ``term``, ``estimate``
        or ``mean``, ``ci_lower``, ``ci_upper``), or a dict ``{label: result}`` to draw several
        methods side by side (e.g. ``{"desparsified": inf, "bootstrap": boot}``).
    ax : Axes to draw on; a new figure when None.
    sort : order the terms by estimate (default: the order of the first result).

    Returns
    -------
    matplotlib.axes.Axes
    """
    sets = dict(intervals) if isinstance(intervals, Mapping) else {"": intervals}
    if not sets:
        raise ParameterError("intervals must name at least one result; got an empty dict")
    frames = {k: _interval_frame(v) for k, v in sets.items()}
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
    ax.set_xlabel("coefficient (original scale)")
    ax.set_title("Coefficient intervals", fontsize=11)
    if m > 1:
        ax.legend(fontsize=8, frameon=False)
    return ax
