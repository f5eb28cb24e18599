"""Build a :class:`~regstats.report.document.Report`: fit, cross-validate, bootstrap, infer, render.

Each statistical step calls the public API of its module (``path.cv``, ``fit.bootstrap``,
``path.stability``, ``fit.inference``, ``path.bias_variance``).  A step whose module is not
installed, or that cannot be computed for this model, leaves its section in the report with the
reason instead of stopping the report.
"""
from __future__ import annotations

import datetime as _dt
import importlib
import inspect
import io
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path as FilePath
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from .. import _validate as check
from ..folds import losses
from ..errors import ParameterError, RegstatsError, RegstatsWarning, user_stacklevel
from .blocks import Code, Figure, Info, Row, Section, Table, Text
from .document import Report

__all__ = ["report", "PENALTIES"]

PENALTIES = ("lasso", "ridge", "elastic-net")
_PENALTY_ALIASES = {"lasso": "lasso", "ridge": "ridge", "elastic-net": "elastic-net",
                    "elastic_net": "elastic-net", "elastic net": "elastic-net", "enet": "elastic-net"}
STEPS = ("cv", "bootstrap", "stability", "inference", "bias_variance")
FAMILIES = ("gaussian", "binomial", "poisson")
#: the CV losses of each family (the first is the default), as :func:`regstats.cv.cross_validate`'s
LOSSES = {f: losses(f) for f in ("gaussian", "binomial", "poisson")}  # regstats.cv.losses
_RATIO = {"binomial": ("odds_ratio", "Odds ratio"), "poisson": ("rate_ratio", "Rate ratio")}
_FAMILY_TITLE = {"binomial": "logistic ", "poisson": "Poisson "}
#: why a gaussian-only step is left out of a binomial or Poisson report (one line each)
GAUSSIAN_ONLY = {
    "bias_variance": "the bias-variance decomposition is for gaussian models only (it splits the squared "
                     "error around a mean with gaussian noise; a binomial or Poisson model has no such split "
                     "of its deviance)",
    "relaxed": "the relaxed fit cross-validated over (lambda, gamma) is not part of binomial and Poisson reports "
               "(it is available as path.relax().cv()); the maximum-likelihood refit on the selected columns is "
               "in the comparison table below",
}
#: candidate mixings for ``l1_ratio="cv"``
L1_RATIOS = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0)


# -- small helpers --------------------------------------------------------------------------------
class _Progress:
    """One line per step on stderr: ``regstats: [2/6] cross-validation ... done in 0.4 s``."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.k = total, enabled, 0
        self.t0 = 0.0

    def start(self, what: str) -> None:
        self.k += 1
        self.t0 = time.perf_counter()
        if self.enabled:
            sys.stderr.write(f"regstats: [{self.k}/{self.total}] {what} ...\n")
            sys.stderr.flush()

    def end(self, status: str = "done") -> None:
        if self.enabled:
            sys.stderr.write(f"regstats:        {status} in {time.perf_counter() - self.t0:.1f} s\n")
            sys.stderr.flush()


def _accepts(module: str, func: str, name: str) -> bool:
    try:
        f = getattr(importlib.import_module(module), func)
        return name in inspect.signature(f).parameters
    except Exception:  # noqa: BLE001 - only a capability probe
        return False


def _attempt(step: str, func: Callable[[], Any], status: dict[str, str],
             caught: dict[str, list[str]] | None = None) -> Any:
    """Run one optional step; record ``"ok"`` or why it was not computed, and the warnings it gave.

    Warnings are shown in the report (``caught[step]``) and passed on to the caller.
    """
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        try:
            out = func()
        except ImportError as exc:
            name = getattr(exc, "name", None) or ""
            if isinstance(exc, ModuleNotFoundError) and name and not name.startswith("regstats"):
                raise
            status[step] = (f"not computed: module {name or 'for this step'} is not available in this "
                            "installation")
            out = None
        except RegstatsError as exc:
            status[step] = f"not computed: {exc}"
            out = None
        except Exception as exc:  # noqa: BLE001 - a report must not die on one section
            status[step] = f"failed: {type(exc).__name__}: {exc}"
            got.append(warnings.WarningMessage(
                f"report step {step!r} failed ({type(exc).__name__}: {exc}); its section says so",
                RegstatsWarning, __file__, 0))
            out = None
        else:
            status[step] = "ok"
    seen = []
    for w in got:
        text = str(w.message)
        if text not in seen:
            seen.append(text)
        warnings.warn(w.message if isinstance(w.message, Warning) else text, w.category, stacklevel=user_stacklevel())
    if caught is not None and seen:
        caught[step] = seen
    return out


def _png(draw: Callable[[Any], Any], figsize: tuple[float, float] = (7.0, 4.2), dpi: int = 110) -> bytes:
    """Draw on a fresh Agg figure (no pyplot state) and return PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    draw(ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _figure(name: str, caption: str, draw: Callable[[Any], Any], c: Any,
            figsize: tuple[float, float] = (7.0, 4.2)) -> list[Any]:
    """A figure block (a one-element list), nothing when figures are off, a warning when drawing fails."""
    if not c.figures:
        return []
    status = c.status
    try:
        return [Figure(name=name, caption=caption, png=_png(draw, figsize=figsize))]
    except Exception as exc:  # noqa: BLE001
        status[f"figure:{name}"] = f"failed: {type(exc).__name__}: {exc}"
        warnings.warn(f"report figure {name!r} failed ({type(exc).__name__}: {exc})", RegstatsWarning,
                      stacklevel=user_stacklevel())
        return [Text(f"Figure '{name}' could not be drawn: {type(exc).__name__}: {exc}", "warning")]


def _thin(n: int, keep: list[int], max_rows: int) -> list[int]:
    """About ``max_rows`` evenly spaced row positions of ``n``, always including ``keep``."""
    if n <= max_rows:
        return list(range(n))
    pick = set(np.unique(np.linspace(0, n - 1, max_rows).round().astype(int)).tolist())
    pick.update(k for k in keep if 0 <= k < n)
    return sorted(pick)


def _warned(c: Any, *steps: str) -> list[Text]:
    """The warnings the given steps raised, as report blocks."""
    label = {"fit": "Fitting", "cv": "Cross-validation", "bootstrap": "Bootstrap", "stability": "Stability selection",
             "inference": "Inference", "bias_variance": "Bias-variance"}
    return [Text(f"Warning ({label.get(s, s)}): {m}", "warning") for s in steps for m in c.caught.get(s, [])]


def _skipped(reason: str) -> Text:
    return Text(reason[0].upper() + reason[1:] + ".", "skipped")


def _data_expr(source: str | None) -> tuple[str, str]:
    """(python expression, CLI argument) for the data's source."""
    from ..datasets import DATASETS

    if source is None:
        return "data", ""
    if source in DATASETS:
        return f'rs.load_dataset("{source}")', f"--dataset {source}"
    try:                                  # R's write.csv: an unnamed first column holds the row names
        with open(source, encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError):
        first = ""
    if first.startswith((",", '"",')):
        return f"pd.read_csv({_py_str(source)}, index_col=0)", shlex.quote(source)
    return f"pd.read_csv({_py_str(source)})", shlex.quote(source)


def _penalty_of(penalty: str, l1_ratio: float | str | None) -> tuple[str, float | str]:
    key = _PENALTY_ALIASES.get(str(penalty).lower()) if isinstance(penalty, str) else None
    if key is None:
        raise ParameterError(f"penalty must be one of 'lasso', 'ridge', 'elastic-net'; got {penalty!r}")
    fixed = {"lasso": 1.0, "ridge": 0.0}
    if key in fixed:
        if l1_ratio is not None and (isinstance(l1_ratio, str) or float(l1_ratio) != fixed[key]):
            raise ParameterError(f"l1_ratio must be {fixed[key]:g} for penalty {key!r} (or use penalty="
                                 f"'elastic-net'); got {l1_ratio!r}")
        return key, fixed[key]
    if isinstance(l1_ratio, str):
        if l1_ratio != "cv":
            raise ParameterError(f"l1_ratio must be a number in [0, 1] or 'cv'; got {l1_ratio!r}")
        return key, "cv"
    a = 0.5 if l1_ratio is None else check.real_in("l1_ratio", l1_ratio, 0.0, 1.0)
    return key, a


# -- the report -----------------------------------------------------------------------------------
def report(model: Any, data: pd.DataFrame | None = None, *, penalty: str = "lasso",
           l1_ratio: float | str | None = None, family: str = "gaussian", offset: Any = None,
           loss: str | None = None, stratify: bool | None = None,
           folds: int = 10, seed: int | None = 1, n_boot: int = 200,
           choice: str = "1se", stability: bool = True, inference: bool = True,
           bias_variance: bool = True, n_rep: int = 100, figures: bool = True,
           out: str | FilePath | None = None, n_jobs: int = 1,
           progress: bool = False, source: str | None = None, title: str | None = None,
           stability_options: Mapping[str, Any] | None = None,
           inference_options: Mapping[str, Any] | None = None,
           **fit_kwargs: Any) -> Report:
    """Fit a penalized regression and write everything worth reading about it into one report.

    The report holds: the formula and a data summary (rows used, rows dropped for missing values,
    design columns), the objective and its conventions, the cross-validated choice of lambda
    (CV curve and coefficient paths), the path table, the coefficient table with bootstrap
    stability, stability selection and inference after penalization, the degrees of freedom, the
    bias-variance decomposition, and the exact call that reproduces it.

    Parameters
    ----------
    model : a formula (``"y ~ ."``, patsy syntax) fitted to ``data``, or an already fitted
        :class:`~regstats.Path` (then ``data``, ``penalty`` and ``l1_ratio`` are taken from it).
    data : DataFrame (required with a formula).
    penalty : ``"lasso"``, ``"ridge"`` or ``"elastic-net"``.
    l1_ratio : mixing for the elastic net (default 0.5), or ``"cv"`` to choose it by
        cross-validation among :data:`L1_RATIOS` on the same folds (:func:`regstats.cv_elastic_net`);
        must match ``penalty`` otherwise.
    family : ``"gaussian"`` (default), ``"binomial"`` (logistic; a 0/1, bool or two-level response,
        the first level in sorted order coded 0) or ``"poisson"`` (counts). A binomial or Poisson
        report has odds or rate ratios in the coefficient table, desparsified-lasso inference with
        odds- or rate-ratio intervals, and a calibration section (with a ROC curve for binomial) from
        the out-of-fold predictions of the CV; the relaxed fit and the bias-variance section are
        gaussian-only and say so in one line.
    offset : binomial / Poisson: a column name or an array added to the linear predictor, e.g. the
        log exposure of a Poisson rate model.
    loss : the CV measure: gaussian ``"mse"`` (default) or ``"mae"``; binomial ``"deviance"``
        (default), ``"class"``, ``"auc"``, ``"mse"``, ``"mae"``; Poisson ``"deviance"`` (default),
        ``"mse"``, ``"mae"`` (cv.glmnet's ``type.measure``).
    stratify : binomial: folds stratified by class (default True for binomial, so every fold holds
        both classes in proportion; False gives cv.glmnet's plain random folds). Only for binomial.
    folds : number of CV folds.
    seed : seed of every random step (folds, bootstrap, stability selection, simulation); each
        step uses it as given, so ``path.cv(folds=10, seed=1)`` reproduces the report's CV.
    n_boot : bootstrap replicates for coefficient stability (0 skips the bootstrap).
    choice : ``"1se"`` (default, glmnet's) or ``"min"``: which CV lambda the coefficient
        table, bootstrap and inference use.
    stability, inference, bias_variance : compute these sections (True) or leave them out.
    n_rep : Monte Carlo replicates of the bias-variance simulation (lasso / elastic net; ridge
        is exact).
    figures : draw the figures (False gives a quicker, tables-only report).
    out : write the report here (``.html`` or ``.md``) as well as returning it.
    n_jobs : joblib workers for CV, bootstrap, stability selection and simulation (-1 = all
        cores); the numbers do not depend on it.
    progress : report each step on stderr.
    source : where ``data`` came from, for the reproducing call: a bundled dataset name or a
        CSV path.
    title : the report's title.
    stability_options : keyword arguments for :meth:`Path.stability` (``threshold``, ``pfer``, ``q``, ...).
    inference_options : keyword arguments for :meth:`Fit.inference` (``method``, ``nodewise_lambda``,
        ``sigma``, ...); the default method is ``"ridge"`` for ridge and ``"desparsified"`` otherwise.
    **fit_kwargs : passed to :func:`regstats.elastic_net` (``penalty_factor``, ``weights``,
        ``standardize``, ``n_lambda``, ...).

    Returns
    -------
    Report
        ``report.to_html()``, ``report.to_markdown()``, ``report.save(path)``; the numbers shown
        are in ``report.tables`` and the results in ``report.path``, ``report.cv``, ...

    Examples
    --------
    >>> import regstats as rs
    >>> rep = rs.report("lpsa ~ . - train", rs.load_dataset("prostate"), n_boot=20,
    ...                 stability=False, bias_variance=False)          # doctest: +SKIP
    >>> rep.save("prostate.html")                                     # doctest: +SKIP
    """
    from ..api import elastic_net
    from ..path import Path

    fam = model.family if isinstance(model, Path) else check.choice("family", family, FAMILIES)
    if isinstance(model, Path) and family not in ("gaussian", fam):
        raise ParameterError(f"family is taken from the fitted path ({fam}); got family={family!r}")
    if isinstance(model, Path) and offset is not None:
        raise ParameterError("offset is taken from the fitted path; give it when fitting, not to report()")
    if offset is not None and fam == "gaussian":
        raise ParameterError("offset is for binomial and Poisson models; got family='gaussian' (use "
                             "family='poisson' for a rate model with offset=log(exposure))")
    loss = check.choice("loss", LOSSES[fam][0] if loss is None else loss, LOSSES[fam])
    if stratify is None:
        stratify = fam == "binomial"
    elif stratify and fam != "binomial":
        raise ParameterError(f"stratify=True stratifies the folds by class, for binomial models; got family={fam!r}")
    glm = fam != "gaussian"
    if glm and (inference_options or {}).get("method", "desparsified") != "desparsified":
        raise ParameterError(f"inference method {inference_options['method']!r} is for gaussian models only; a "  # type: ignore[index]
                             f"{fam} model has method='desparsified' (van de Geer et al. 2014)")
    folds = check.positive_int("folds", folds, minimum=2)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ParameterError(f"n_jobs must be a nonzero integer (joblib's convention); got {n_jobs!r}")
    n_boot = check.positive_int("n_boot", n_boot, minimum=0)
    n_rep = check.positive_int("n_rep", n_rep, minimum=2)
    choice = check.choice("choice", choice, ("1se", "min"))
    check.seed_sequence(seed)
    if out is not None:
        suffix = FilePath(out).suffix.lower()
        if suffix not in (".html", ".htm", ".md", ".markdown"):
            raise ParameterError(f"out must end in .html, .htm or .md; got {str(out)!r}")
    is_ridge = isinstance(model, str) and _PENALTY_ALIASES.get(str(penalty).lower()) == "ridge"
    steps = (2 + 1 + int(n_boot > 0) + int(stability and not is_ridge) + int(inference)
             + int(bias_variance and not glm))
    prog = _Progress(steps, progress)
    t_start = time.perf_counter()

    prog.start("fitting the path (the first run after installing compiles the solver: allow ~15 s)")
    fit_warnings: list[Any] = []
    encv = None
    if isinstance(model, Path):
        path = model
        pen = {1.0: "lasso", 0.0: "ridge"}.get(path.l1_ratio, "elastic-net")
    elif isinstance(model, str):
        if data is None:
            raise ParameterError("data must be a DataFrame when model is a formula; got None")
        pen, a = _penalty_of(penalty, l1_ratio)
        fit_kw = dict(fit_kwargs)
        if fam != "gaussian":
            fit_kw["family"] = fam
        if offset is not None:
            fit_kw["offset"] = offset
        with warnings.catch_warnings(record=True) as fit_warnings:
            warnings.simplefilter("always")
            if a == "cv":
                from ..api import cv_elastic_net

                cv_opts = {"loss": loss, **({"stratify": True} if stratify else {})} if glm else {}
                encv = cv_elastic_net(model, data, l1_ratios=L1_RATIOS, folds=folds, seed=seed,
                                      n_jobs=n_jobs, progress=progress, **cv_opts, **fit_kw)
                path = encv.path
            else:
                path = elastic_net(model, data, l1_ratio=a, **fit_kw)
        for w in fit_warnings:
            warnings.warn(w.message, w.category, stacklevel=user_stacklevel())
    else:
        raise ParameterError(f"model must be a formula string or a regstats Path; got {type(model).__name__}")
    prog.end()

    status: dict[str, str] = {}
    caught: dict[str, list[str]] = {}
    if fit_warnings:
        caught["fit"] = list(dict.fromkeys(str(w.message) for w in fit_warnings))
    tables: dict[str, pd.DataFrame] = {}
    kw_prog = {"progress": progress}

    # -- cross-validation ---------------------------------------------------------------------
    prog.start(f"cross-validation ({folds} folds)")
    cv_kw = dict(kw_prog if _accepts("regstats.cv", "cross_validate", "progress") else {})
    if loss != LOSSES[fam][0]:
        cv_kw["loss"] = loss
    if stratify:
        cv_kw["stratify"] = True
    if encv is not None:                        # CV already ran for every l1_ratio, on the same folds
        cv = encv.cv
        status["cv"] = "ok"
    else:
        cv = _attempt("cv", lambda: path.cv(folds=folds, seed=seed, n_jobs=n_jobs, **cv_kw), status,
                      caught)
    prog.end(status["cv"] if status["cv"] != "ok" else "done")
    if cv is not None:
        lam_choice = float(cv.lambda_1se if choice == "1se" else cv.lambda_min)
    else:
        lam_choice = float(path.lambdas[len(path.lambdas) // 2])
    fit = path.at(lam_choice)

    crit = _attempt("criteria", lambda: _criteria(path, pen, seed), status, caught)
    if glm:
        status["relaxed"] = "not computed: " + GAUSSIAN_ONLY["relaxed"]
        rcv = None
    elif pen == "ridge":
        status["relaxed"] = "not computed: a ridge fit keeps every column, so relaxing it gives least squares"
        rcv = None
    else:
        rcv = _attempt("relaxed", lambda: path.relax().cv(folds=folds, seed=seed, n_jobs=n_jobs), status,
                       caught)
    boot = stab = inf = bv = None
    if n_boot > 0:
        prog.start(f"bootstrap ({n_boot} replicates)")
        bkw = kw_prog if _accepts("regstats.bootstrap", "bootstrap", "progress") else {}
        boot = _attempt("bootstrap", lambda: fit.bootstrap(n_boot=n_boot, seed=seed, n_jobs=n_jobs, **bkw),
                        status, caught)
        prog.end(status["bootstrap"] if status["bootstrap"] != "ok" else "done")
    else:
        status["bootstrap"] = "not computed: n_boot = 0"
    if stability and pen == "ridge":
        status["stability"] = ("not computed: ridge keeps every coefficient nonzero, so there is no selection "
                               "to stabilise")
    elif stability:
        prog.start("stability selection")
        skw = kw_prog if _accepts("regstats.bootstrap", "stability_selection", "progress") else {}
        skw = {**skw, **dict(stability_options or {})}
        stab = _attempt("stability", lambda: path.stability(seed=seed, n_jobs=n_jobs, **skw), status, caught)
        prog.end(status["stability"] if status["stability"] != "ok" else "done")
    else:
        status["stability"] = "not computed: left out (stability=False)"
    if inference:
        prog.start("inference")
        inf = _attempt("inference", lambda: _infer(fit, pen, seed, progress, inference_options), status, caught)
        prog.end(status["inference"] if status["inference"] != "ok" else "done")
    else:
        status["inference"] = "not computed: left out (inference=False)"
    bv_method = "analytic" if pen == "ridge" else "simulation"
    if bias_variance and glm:
        status["bias_variance"] = "not computed: " + GAUSSIAN_ONLY["bias_variance"]
    elif bias_variance:
        prog.start(f"bias-variance ({bv_method})")
        vkw = kw_prog if _accepts("regstats.biasvar", "bias_variance", "progress") else {}
        bv = _attempt("bias_variance", lambda: _biasvar(path, bv_method, n_rep, seed, dict(vkw, n_jobs=n_jobs)),
                      status, caught)
        prog.end(status["bias_variance"] if status["bias_variance"] != "ok" else "done")
    else:
        status["bias_variance"] = "not computed: left out (bias_variance=False)"

    prog.start("rendering figures and tables")
    ctx = _Context(path=path, pen=pen, cv=cv, crit=crit, rcv=rcv, encv=encv, fit=fit, choice=choice, boot=boot, stab=stab, inf=inf,
                   bv=bv, bv_method=bv_method, status=status, caught=caught, tables=tables, folds=folds, seed=seed,
                   n_boot=n_boot, n_rep=n_rep, source=source, fit_kwargs=fit_kwargs, figures=bool(figures),
                   fam=fam, glm=glm, loss=loss, stratify=bool(stratify), offset=offset,
                   options=dict(stability=stability, inference=inference, bias_variance=bias_variance,
                                choice=choice, out=out, stability_options=dict(stability_options or {}),
                                inference_options=dict(inference_options or {})))
    sections = [_sec_data(ctx), _sec_objective(ctx), _sec_cv(ctx), _sec_path(ctx), _sec_coef(ctx)]
    if glm:
        sections.append(_sec_calibration(ctx))
    sections += [_sec_dof(ctx), _sec_biasvar(ctx)]
    call, command = _reproduce(ctx)
    sections.append(_sec_reproduce(ctx, call, command))
    from .. import __version__

    meta = {"generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "regstats": __version__,
            "data": _data_expr(source)[0] if source else "a DataFrame",
            "run time": f"{time.perf_counter() - t_start:.1f} s"}
    rep = Report(title=title or f"regstats report: {_FAMILY_TITLE.get(fam, '')}{path.penalty} for {path.formula}",
                 sections=sections,
                 path=path, cv=cv, bootstrap=boot, stability=stab, inference=inf, bias_variance=bv,
                 status=dict(status), tables=tables, call=call, command=command, meta=meta)
    prog.end()
    if out is not None:
        rep.save(out)
        if progress:
            sys.stderr.write(f"regstats: wrote {out}\n")
    return rep


def _infer(fit: Any, pen: str, seed: Any, progress: bool = False,
           options: Mapping[str, Any] | None = None) -> Any:
    """Ridge standard errors for ridge fits, the desparsified lasso otherwise (``options`` override)."""
    kw = {"progress": progress} if progress and _accepts("regstats.inference", "infer", "progress") else {}
    ridge = pen == "ridge" and fit.path.family == "gaussian"      # a GLM has the desparsified lasso only
    kw = {"method": "ridge" if ridge else "desparsified", "seed": seed, **kw, **dict(options or {})}
    return fit.inference(**kw)


def _criteria(path: Any, pen: str, seed: Any) -> pd.DataFrame:
    """Lambda chosen by AIC, BIC, Cp, GCV (and, for ridge, exact leave-one-out)."""
    ic = path.information_criteria(seed=seed) if path.family == "gaussian" else path.information_criteria()
    names = tuple(getattr(ic, "criteria", ("aic", "bic", "cp", "gcv")))
    rows = [{"criterion": name.upper() if name != "cp" else "Cp", "lambda": float(ic.selected[name])}
            for name in names]
    if pen == "ridge" and path.family == "gaussian":
        loo = path.loo()
        rows.append({"criterion": "LOO (exact)", "lambda": float(loo.lambda_loo)})
    out = pd.DataFrame(rows)
    out.attrs["sigma2"] = float(ic.sigma2)
    out.attrs["sigma2_method"] = str(ic.sigma2_method)
    return out


def _biasvar(path: Any, method: str, n_rep: int, seed: Any, kw: Mapping[str, Any]) -> pd.DataFrame:
    if method == "analytic":
        res = path.bias_variance(method="analytic", **{k: v for k, v in kw.items() if k != "n_jobs"})
    else:
        res = path.bias_variance(method="simulation", n_rep=n_rep, seed=seed, **kw)
    return res.to_frame() if hasattr(res, "to_frame") else res


class _Context:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


# -- sections -------------------------------------------------------------------------------------
def _design_arrays(path: Any) -> tuple[np.ndarray, np.ndarray]:
    """The design matrix and response of the rows used (report-internal access to the fit)."""
    return path._design.X, path._design.y


def _sec_data(c: _Context) -> Section:
    p = c.path
    X, y = _design_arrays(p)
    n_rows = p.n_obs + p.n_dropped
    info = [("Formula", f"`{p.formula}`"),
            ("Response", f"`{p.response}`"),
            ("Penalty", f"{p.penalty} (l1_ratio = {p.l1_ratio:g})"),
            ("Rows", f"{n_rows} in the data; {p.n_obs} used, {p.n_dropped} dropped for missing values"),
            ("Design columns", f"{len(p.column_names)}" + (" + an unpenalized intercept" if p.intercept else
                                                            " (no intercept)")),
            ("Formula terms", f"{len(p.terms)}")]
    if c.source:
        info.insert(0, ("Data", f"`{_data_expr(c.source)[0]}`"))
    info[3:3] = _family_facts(c)
    term_of = {col: t for t, cols in p.terms.items() for col in cols}
    resp = p.response
    if c.fam == "binomial":
        resp = f"{p.response} (1 = {p.levels[1]!r})" if p.levels else f"{p.response} (0/1)"
    rows = [{"column": resp, "term": "(response)", "mean": float(np.mean(y)), "sd": float(np.std(y)),
             "min": float(np.min(y)), "max": float(np.max(y))}]
    for j, name in enumerate(p.column_names):
        col = X[:, j]
        rows.append({"column": name, "term": term_of.get(name, ""), "mean": float(col.mean()),
                     "sd": float(col.std()), "min": float(col.min()), "max": float(col.max())})
    tab = pd.DataFrame(rows)
    c.tables["design"] = tab
    blocks: list[Any] = [Info(info),
                         Table("Response and design columns (rows used)", tab, digits=4, scroll=len(tab) > 25,
                               note="sd uses divisor n, as the standardization does; factor columns are "
                                    "0/1 indicators (treatment coding, first level as baseline)."
                                    + (" The response's mean is the share of rows with the modelled level."
                                       if c.fam == "binomial" else ""))]
    blocks[1:1] = _warned(c, "fit")
    if p.n_dropped:
        blocks.insert(1, Text(f"{p.n_dropped} of {n_rows} rows had a missing value in a variable of the "
                              "formula and were dropped before fitting (patsy's default).", "note"))
    return Section("data", "Data and model", blocks)


def _family_facts(c: _Context) -> list[tuple[str, str]]:
    """Family, what is modelled (which level), the class counts and the offset of a GLM report."""
    p = c.path
    if not c.glm:
        return []
    _, y = _design_arrays(p)
    w = p._options.weights
    if c.fam == "binomial":
        lv = p.levels
        what = (f"P({p.response} = {lv[1]!r}): the log-odds of {lv[1]!r} against {lv[0]!r} ({lv[0]!r} is coded 0, "
                "the first level in sorted order, as R's glm; a pandas Categorical's own order is used)"
                if lv else f"P({p.response} = 1): the log-odds of 1 against 0")
        n1 = float(np.sum(y)) if w is None else float(np.sum(w * y))
        label = (lambda k: repr(lv[k])) if lv else (lambda k: str(k))
        counts = (f"{label(1)}: {n1:.4g} of {len(y)} rows ({n1 / len(y):.1%}); {label(0)}: {len(y) - n1:.4g}"
                  + (" (weighted)" if w is not None else ""))
        out = [("Family", "binomial (logistic regression, logit link)"), ("Modelled", what), ("Classes", counts)]
    else:
        out = [("Family", "Poisson (log link)"),
               ("Modelled", f"E[{p.response}] = exp(b0 + x'b" + (" + offset)" if p._options.offset is not None
                                                                  else ")") + "; exp(b_j) is a rate ratio"),
               ("Counts", f"mean {float(np.mean(y)):.4g}, {int(np.sum(y == 0))} zeros of {len(y)} rows")]
    if p._options.offset is not None:
        name = p._options.offset_name
        out.append(("Offset", (f"column `{name}`" if name else "given as an array")
                    + " added to the linear predictor with coefficient 1 (e.g. log exposure)"))
    return out


def _sec_objective(c: _Context) -> Section:
    p = c.path
    if c.glm:
        return _sec_objective_glm(c)
    s_y = float(p._prep.y_scale)
    obj = (("minimize over b0, b:\n    1/(2W) * sum_i w_i (y_i - b0 - x_i'b)^2\n" if p.intercept
            else "minimize over b:\n    1/(2W) * sum_i w_i (y_i - x_i'b)^2\n")
           + "  + lam * sum_j v_j * ( a * |b_j| + (1 - a)/(2 * s_y) * b_j^2 )\n\n"
           f"a = l1_ratio = {p.l1_ratio:g}   ({p.penalty})\n"
           f"s_y = {s_y:.4g}   ("
           + ("given as y_scale" if p._options.y_scale is not None
              else "weighted sd of y about its weighted mean" if p.intercept
              else "weighted root mean square of y about 0")
           + ("; no effect for the lasso" if p.l1_ratio == 1 else "") + ")")
    info = _objective_info(p)
    blocks = [Code(obj, "text"), Info(info),
              Text("Conventions (docs/conventions.md): glmnet's `alpha` is `l1_ratio` and its `lambda` is "
                   "`lam`, for every l1_ratio. scikit-learn's `alpha` is `lam` for the lasso, and for "
                   "l1_ratio < 1 only when s_y = 1 or with y_scale=1 (equal weights, standardize=False). "
                   "The seed's costs (1/n) RSS + lam_s sum|b| and (1/n) RSS + lam_s sum b^2 are "
                   "lam = lam_s/2 (lasso) and lam = lam_s * s_y (ridge; lam = lam_s with y_scale=1), "
                   "with standardize=False.", "note")]
    return Section("objective", "Objective and conventions", blocks)


def _sec_objective_glm(c: _Context) -> Section:
    p = c.path
    off = " + offset_i" if p._options.offset is not None else ""
    b0 = "b0 + " if p.intercept else ""
    if c.fam == "binomial":
        ll = (f"loglik_i = y_i * eta_i - log(1 + exp(eta_i)),   eta_i = {b0}x_i'b{off}\n"
              "(y_i = 1 for the modelled level, 0 for the other)")
    else:
        ll = f"loglik_i = y_i * eta_i - exp(eta_i)   (+ a constant),   eta_i = {b0}x_i'b{off}"
    obj = ("minimize over " + ("b0, b" if p.intercept else "b") + ":\n"
           "    -1/W * sum_i w_i * loglik_i\n"
           "  + lam * sum_j v_j * ( a * |b_j| + (1 - a)/2 * b_j^2 )\n\n"
           f"{ll}\n"
           f"a = l1_ratio = {p.l1_ratio:g}   ({p.penalty}); no response scale s_y (glmnet does not rescale y "
           "for these families)")
    info = _objective_info(p)
    sk = ("scikit-learn's LogisticRegression(penalty='l1' or 'elasticnet', l1_ratio=a, C=C) is lam = 1/(C n) "
          "with equal weights and standardize=False (its intercept is unpenalized too)" if c.fam == "binomial"
          else "scikit-learn's PoissonRegressor(alpha) is the ridge case (l1_ratio = 0) with lam = alpha, equal "
               "weights and standardize=False")
    blocks = [Code(obj, "text"), Info(info),
              Text("Conventions (docs/conventions.md): this is glmnet's objective for "
                   f"family = \"{c.fam}\" (`alpha` = `l1_ratio`, `lambda` = `lam`); {sk}. Coefficients are on "
                   "the link scale: " + ("log-odds" if c.fam == "binomial" else "log-rate")
                   + " per unit of the column; their exp() is the " + _RATIO[c.fam][1].lower()
                   + " per unit.", "note")]
    return Section("objective", "Objective and conventions", blocks)


def _objective_info(p: Any) -> list[tuple[str, str]]:
    lam = p.lambdas
    opts = p._options
    weights = "equal" if opts.weights is None else "given, normalised to sum n"
    if opts.penalty_factor is None:
        pf = "1 for every column"
    else:
        zero = [n for n, v in zip(p.column_names, opts.penalty_factor) if v == 0]
        out = [n for n, v in zip(p.column_names, opts.penalty_factor) if np.isinf(v)]
        pf = ("given per column" + (f"; unpenalized: {', '.join(zero)}" if zero else "")
              + (f"; excluded (inf): {', '.join(out)}" if out else ""))
    info = [("Observation weights w_i", weights),
            ("Penalty factors v_j", pf + " (rescaled to sum to the number of columns, as glmnet)"),
            ("Standardize", "yes: columns divided by their weighted sd about the weighted mean (divisor W) "
                            "before solving; coefficients reported on the original scale" if p.standardize else "no"),
            ("Intercept", "never penalized" if p.intercept else "none"),
            ("Lambda grid", f"{len(lam)} values from {lam[0]:.4g} down to {lam[-1]:.4g} "
                            f"(ratio {lam[-1] / lam[0]:.3g})" if lam[0] > 0 else f"{len(lam)} values"),
            ("Solver", f"{p.method}; converged at {int(np.sum(p.converged))} of {len(lam)} lambdas")]
    return info


def _cv_rows(c: _Context) -> tuple[int | None, int | None]:
    if c.cv is None:
        return None, None
    lams = np.asarray(c.path.lambdas)
    i_min = int(np.argmin(np.abs(lams - c.cv.lambda_min)))
    i_1se = int(np.argmin(np.abs(lams - c.cv.lambda_1se)))
    return i_min, i_1se


def _sec_cv(c: _Context) -> Section:
    from . import plots

    p = c.path
    if c.cv is None:
        blocks: list[Any] = [_skipped("cross-validation " + c.status["cv"]),
                             Text(f"Without CV the tables below use lambda = {c.fit.lam:.4g}, the middle of "
                                  "the grid; it is not a tuned choice.", "warning")]
        blocks += _figure("path", _PATH_CAPTION, lambda ax: plots.plot_path(p, ax=ax), c)
        return Section("cv", "Choice of lambda", blocks, status="skipped")
    cv = c.cv
    tab = cv.table
    rows = []
    for name, lam in (("lambda_min", cv.lambda_min), ("lambda_1se", cv.lambda_1se)):
        k = int(np.argmin(np.abs(tab["lambda"].to_numpy() - lam)))
        r = tab.iloc[k]
        rows.append({"choice": name, "lambda": float(lam), "log_lambda": float(np.log(lam)),
                     "cv_mean": float(r["cv_mean"]), "cv_se": float(r["cv_se"]),
                     "n_nonzero": int(r["n_nonzero"]), "df": float(r["df"])})
    choice_tab = pd.DataFrame(rows)
    c.tables["cv_choice"] = choice_tab
    used = "lambda_1se" if c.choice == "1se" else "lambda_min"
    own_sy = p.l1_ratio < 1 and p._options.y_scale is None
    from ..folds import loss_name

    measure = loss_name(cv.loss, p.family) if c.glm or cv.loss != "mse" else "mean-squared error"
    measure_short = measure.split(" (")[0]
    best = "maximises" if cv.loss == "auc" else "minimises"
    blocks = [Text(f"{c.folds}-fold cross-validation (seed {c.seed}"
                   + (", folds stratified by class" if c.stratify else "") + ") on the full-data lambda grid, "
                   "each fold re-standardized" + (" (and its s_y recomputed)" if own_sy and not c.glm else "")
                   + f" on its training rows, as cv.glmnet. Measure (cv_mean, cv_se): {measure}. "
                   f"`lambda_min` {best} it; `lambda_1se` is the largest lambda within one standard error of "
                   f"that {'maximum' if cv.loss == 'auc' else 'minimum'}. The coefficient table, bootstrap"
                   + (", inference and calibration" if c.glm else " and inference") + f" below use {used}."),
              Table("CV choice", choice_tab, highlight={0: "min", 1: "1se"}), *_warned(c, "cv")]
    lams = np.asarray(p.lambdas)
    if np.isclose(cv.lambda_min, lams.min(), rtol=1e-12, atol=0.0):
        blocks.append(Text("lambda_min is the smallest lambda of the grid: the CV error may keep falling below "
                           "it. Refit with a smaller `lambda_min_ratio` (or explicit `lambdas`) to see the "
                           "minimum.", "warning"))
    if c.encv is not None:
        by = c.encv.by_l1_ratio.copy()
        c.tables["l1_ratio_cv"] = by
        k = int(np.flatnonzero(by["l1_ratio"].to_numpy() == c.encv.l1_ratio_min)[0])
        blocks.append(Table("Choice of l1_ratio (same folds for every mixing)", by, highlight={k: "min"},
                            note=f"l1_ratio = {c.encv.l1_ratio_min:g} has the "
                                 + ("largest CV AUC (cv_min: the best value of each mixing's curve)"
                                    if cv.loss == "auc" else "smallest CV error (cv_min)")
                                 + "; the rest of the report uses it, with the 1se rule applied within it."))
    blocks += _figure("cv", f"CV {measure_short} (mean ± 1 SE over folds) against log(lambda); top axis: nonzero "
                      "coefficients. Dashed lines: lambda_min and lambda_1se.",
                      lambda ax: plots.plot_cv(cv, ax=ax), c)
    blocks += _figure("path", _PATH_CAPTION + " Dashed lines: the CV choices.",
                      lambda ax: plots.plot_path(p, cv=cv, ax=ax), c)
    others = [tuple(_criteria_blocks(c)), tuple(_relaxed_blocks(c))]
    blocks.append(Row([b for b in others if b]))
    return Section("cv", "Choice of lambda", blocks)


def _criteria_blocks(c: _Context) -> list[Any]:
    """The lambdas other criteria choose, with the CV error there for comparison."""
    if c.crit is None:
        return [_skipped("information criteria " + c.status.get("criteria", "not computed"))] + _warned(c, "criteria")
    p = c.path
    rows = []
    cvt = c.cv.table if c.cv is not None else None
    for _, r in c.crit.iterrows():
        f = p.at(float(r["lambda"]))
        row = {"criterion": r["criterion"], "lambda": float(r["lambda"]), "df": float(f.df),
               "n_nonzero": int(f.n_nonzero), "r2": float(f.r2)}
        if cvt is not None:
            k = np.flatnonzero(np.isclose(cvt["lambda"].to_numpy(), r["lambda"], rtol=1e-12, atol=0))
            row["cv_mean"] = float(cvt["cv_mean"].iloc[k[0]]) if k.size else np.nan
        rows.append(row)
    tab = pd.DataFrame(rows)
    c.tables["criteria"] = tab
    s2 = c.crit.attrs.get("sigma2")
    if c.glm:
        note = ("AIC = deviance + 2 k and BIC = deviance + log(n) k, with k the effective df + 1 for the "
                "intercept; r2 is the deviance ratio. Cp and GCV need a noise variance: gaussian only.")
    else:
        note = ("AIC, BIC and Cp use the effective df (+1 for the intercept) and a noise variance "
                + (f"{s2:.4g} ({c.crit.attrs.get('sigma2_method', '')})" if s2 is not None else "estimate")
                + "; GCV needs none." + (" LOO: exact leave-one-out for ridge from one SVD." if c.pen == "ridge"
                                         else ""))
    return [Table("Other criteria for lambda (no refits)", tab, note=note), *_warned(c, "criteria")]


def _relaxed_blocks(c: _Context) -> list[Any]:
    """The relaxed lasso's CV choice of (lambda, gamma), with the same folds as the CV above."""
    if c.rcv is None:
        if c.pen == "ridge" and not c.glm:
            return []
        return [_skipped("relaxed fit " + c.status.get("relaxed", "not computed"))] + _warned(c, "relaxed")
    r = c.rcv
    rows = []
    for name, lam, g in (("min", r.lambda_min, r.gamma_min), ("1se", r.lambda_1se, r.gamma_1se)):
        t = r.table[(r.table["lambda"] == lam) & (r.table["gamma"] == g)].iloc[0]
        rows.append({"choice": name, "gamma": float(g), "lambda": float(lam), "cv_mean": float(t["cv_mean"]),
                     "cv_se": float(t["cv_se"]), "n_nonzero": int(t["n_nonzero"])})
    tab = pd.DataFrame(rows)
    c.tables["relaxed_cv"] = tab
    return [Table("Relaxed fit, cross-validated over (lambda, gamma)", tab,
                  note="glmnet's relax=TRUE: the coefficients are gamma x penalized + (1 - gamma) x least squares "
                       "on the same active set; gamma = 1 is the penalized fit, 0 the refit. Same folds as the CV "
                       "above, so the errors are comparable."), *_warned(c, "relaxed")]


def _sec_path(c: _Context) -> Section:
    p = c.path
    tab = p.table.copy()
    tab.insert(1, "log_lambda", np.log(tab["lambda"].to_numpy()))
    i_min, i_1se = _cv_rows(c)
    if c.cv is not None:
        cvt = c.cv.table.set_index("lambda")
        tab["cv_mean"] = cvt["cv_mean"].reindex(tab["lambda"]).to_numpy()
        tab["cv_se"] = cvt["cv_se"].reindex(tab["lambda"]).to_numpy()
    keep = [k for k in (i_min, i_1se) if k is not None]
    pick = _thin(len(tab), keep, 25)
    shown = tab.iloc[pick].reset_index(drop=True)
    c.tables["path"] = shown
    hl = {}
    for pos, k in enumerate(pick):
        if k == i_min:
            hl[pos] = "min"
        elif k == i_1se:
            hl[pos] = "1se"
    note = (f"{len(shown)} of {len(tab)} lambdas shown, evenly spaced along the grid"
            + ("; red row: lambda_min, blue row: lambda_1se" if keep else "")
            + ". r2 is the fraction of the null deviance explained. The full path is `path.table` / "
              "`path.coef`, or `regstats fit ... --out path.csv`.")
    return Section("path", "The lambda path", [Table("Path", shown, highlight=hl, note=note)])


def _coef_table(c: _Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(tidy coefficient table, the same with grouped display columns)."""
    p = c.path
    fit = c.fit
    terms = list(fit.params.index)
    tidy = pd.DataFrame({"term": terms})
    disp: dict[tuple[str, str], Any] = {("", "term"): terms}
    if c.cv is not None:
        fmin = p.at(float(c.cv.lambda_min))
        f1se = p.at(float(c.cv.lambda_1se))
        tidy["estimate_min"] = fmin.params.reindex(terms).to_numpy()
        tidy["estimate_1se"] = f1se.params.reindex(terms).to_numpy()
        disp[("Penalized estimate", "lambda_min")] = tidy["estimate_min"]
        disp[("Penalized estimate", "lambda_1se")] = tidy["estimate_1se"]
    else:
        tidy["estimate"] = fit.params.to_numpy()
        disp[("Penalized estimate", f"lambda = {fit.lam:.3g}")] = tidy["estimate"]
    if c.glm:
        col, title = _RATIO[c.fam]
        fits = ([("min", fmin, "lambda_min"), ("1se", f1se, "lambda_1se")] if c.cv is not None
                else [("", fit, f"lambda = {fit.lam:.3g}")])
        for key, f, label in fits:
            r = f.to_frame().set_index("term")[col].reindex(terms).to_numpy(dtype=float)
            tidy[f"{col}_{key}" if key else col] = r
            if key in ("", c.choice):            # shown at the lambda the table is about; tidy has both
                disp[(title, f"per unit, {label}")] = r
        sd = pd.Series(_design_arrays(p)[0].std(axis=0), index=list(p.column_names))
        per_sd = np.exp(fit.params.reindex(terms).to_numpy(dtype=float) * sd.reindex(terms).to_numpy(dtype=float))
        tidy[f"{col}_per_sd"] = per_sd
        disp[(title, "per sd, " + ("lambda_" + c.choice if c.cv is not None else "chosen"))] = per_sd
    if c.boot is not None:
        bf = c.boot.to_frame().set_index("term").reindex(terms)
        for col in ("selection_freq", "sign_consistency", "mean", "sd", "ci_lower", "ci_upper"):
            if col in bf.columns:
                tidy[f"boot_{col}" if col in ("mean", "sd", "ci_lower", "ci_upper") else col] = bf[col].to_numpy()
        g = f"Bootstrap (B = {c.n_boot})"
        if c.pen != "ridge":                   # ridge keeps every column: selection is always 1
            disp[(g, "selected")] = tidy["selection_freq"]
        if "sign_consistency" in tidy:
            disp[(g, "same sign")] = tidy["sign_consistency"]
        if not c.glm:                          # a GLM shows it on the ratio scale (tidy has both)
            disp[(g, "percentile interval")] = _intervals(tidy["boot_ci_lower"], tidy["boot_ci_upper"])
        else:
            word = _RATIO[c.fam][1].lower()
            disp[(g, f"{word} interval")] = _intervals(np.exp(tidy["boot_ci_lower"]), np.exp(tidy["boot_ci_upper"]))
    if c.stab is not None:
        sel = set(getattr(c.stab, "selected", ()) or ())
        probs = _max_probability(c.stab)
        if probs is not None:
            tidy["stability_prob"] = [probs.get(t, np.nan) for t in terms]
            disp[("Stability selection", "probability")] = tidy["stability_prob"]
        penalized = set(probs) if probs is not None else set(terms) - {"Intercept"}
        tidy["stability_selected"] = [(t in sel) if t in penalized else None for t in terms]
        disp[("Stability selection", "stable")] = ["yes" if t in sel else "no" if t in penalized else ""
                                                   for t in terms]
    if c.inf is not None:
        inf = c.inf.to_frame().set_index("term").reindex(terms)
        method = str(inf["method"].dropna().iloc[0]) if "method" in inf and inf["method"].notna().any() else ""
        for col in ("estimate", "std_error", "p_value", "ci_lower", "ci_upper"):
            tidy[f"inf_{col}"] = inf[col].to_numpy()
        for col in ("p_holm", "p_bh", "bias"):
            if col in inf.columns:
                tidy[f"inf_{col}"] = inf[col].to_numpy()
        g = f"Inference ({method})" if method else "Inference"
        disp[(g, "estimate")] = tidy["inf_estimate"]
        disp[(g, "std_error")] = tidy["inf_std_error"]
        disp[(g, "p_value")] = tidy["inf_p_value"]
        if "inf_p_holm" in tidy:
            disp[(g, "p_holm")] = tidy["inf_p_holm"]
        if "inf_bias" in tidy:
            disp[(g, "bias")] = tidy["inf_bias"]
        if c.glm and f"{_RATIO[c.fam][0]}_lower" in inf.columns:
            col = _RATIO[c.fam][0]
            tidy[f"inf_{col}_lower"] = inf[f"{col}_lower"].to_numpy()
            tidy[f"inf_{col}_upper"] = inf[f"{col}_upper"].to_numpy()
            disp[(g, f"{_level(c.inf)} {_RATIO[c.fam][1].lower()} interval")] = _intervals(
                tidy[f"inf_{col}_lower"], tidy[f"inf_{col}_upper"])
        else:
            disp[(g, f"{_level(c.inf)} interval")] = _intervals(tidy["inf_ci_lower"], tidy["inf_ci_upper"])
    display = pd.DataFrame({k: list(v) if not isinstance(v, pd.Series) else v.to_numpy()
                            for k, v in disp.items()})
    display.columns = pd.MultiIndex.from_tuples(list(disp.keys()))
    return tidy, display


def _intervals(lo: pd.Series, hi: pd.Series, digits: int = 3) -> list[str]:
    """``[lo, hi]`` strings (empty where either end is missing)."""
    from ._format import fmt

    return ["" if (pd.isna(a) or pd.isna(b)) else f"[{fmt(float(a), digits)}, {fmt(float(b), digits)}]"
            for a, b in zip(lo, hi)]


def _level(inf: Any) -> str:
    lev = getattr(inf, "level", None)
    return f"{float(lev):.0%}" if isinstance(lev, (int, float)) else ""


def _max_probability(stab: Any) -> dict[str, float] | None:
    """Each column's stability-selection probability (stabs' ``max``), or None when unknown."""
    prob = getattr(stab, "selection_prob", None)
    if isinstance(prob, pd.Series):
        return {str(k): float(v) for k, v in prob.items()}
    df = stab.to_frame() if hasattr(stab, "to_frame") else None
    if df is not None and "term" in df.columns:
        for col in ("selection_prob", "max_probability", "probability"):
            if col in df.columns:
                return dict(zip(df["term"], df[col]))
    return None


MAX_TERMS = 30


def _focus_terms(tidy: pd.DataFrame, max_terms: int = MAX_TERMS) -> list[str]:
    """The terms worth showing: all of them for small models; otherwise those that any method flags.

    A term is flagged when it is nonzero at a CV choice, selected in at least half of the bootstrap
    replicates, stable, or has a Holm-adjusted p-value below 0.05; at most ``max_terms + 10`` are kept,
    the most often selected / largest first.
    """
    terms = tidy["term"].tolist()
    if len(terms) <= max_terms + 1:
        return terms
    flag = pd.Series(False, index=tidy.index)
    for col in ("estimate_min", "estimate_1se", "estimate"):
        if col in tidy:
            flag |= tidy[col].fillna(0) != 0
    if "selection_freq" in tidy:
        flag |= tidy["selection_freq"].fillna(0) >= 0.5
    if "stability_selected" in tidy:
        flag |= tidy["stability_selected"].fillna(False).astype(bool)
    if "inf_p_holm" in tidy:
        flag |= tidy["inf_p_holm"].fillna(1) < 0.05
    flag |= tidy["term"] == "Intercept"
    keep = tidy[flag]
    if len(keep) > max_terms + 10:
        score = pd.Series(0.0, index=keep.index)
        for col, w in (("stability_prob", 3.0), ("selection_freq", 2.0)):
            if col in keep:
                score += w * keep[col].fillna(0)
        est = next((c for c in ("estimate_min", "estimate") if c in keep), None)
        if est is not None:
            a = keep[est].abs()
            score += a / (a.max() or 1.0)
        score[keep["term"] == "Intercept"] = np.inf
        keep = keep.loc[score.sort_values(ascending=False).index[: max_terms + 10]].sort_index()
    return keep["term"].tolist()


def _sec_coef(c: _Context) -> Section:
    from . import plots

    tidy_all, display_all = _coef_table(c)
    c.tables["coefficients"] = tidy_all
    focus = _focus_terms(tidy_all)
    hidden = len(tidy_all) - len(focus)
    c.focus = focus
    rows = tidy_all["term"].isin(focus).to_numpy()
    tidy = tidy_all[rows].reset_index(drop=True)
    display = display_all[rows].reset_index(drop=True)
    used = "lambda_1se" if c.choice == "1se" else "lambda_min"
    hl = {i: "dim" for i, t in enumerate(tidy["term"]) if t == "Intercept"}
    inf_table: list[Any] = []
    inf_cols = [col for col in display.columns if str(col[0]).startswith("Inference")]
    if c.glm and inf_cols:
        # the ratio columns make one table too wide to read: inference gets its own, next to the term
        inf_table = [Table(f"{inf_cols[0][0]}: log-odds scale, interval as {_RATIO[c.fam][1].lower()}s"
                           if c.fam == "binomial" else
                           f"{inf_cols[0][0]}: log-rate scale, interval as {_RATIO[c.fam][1].lower()}s",
                           display[[("", "term"), *inf_cols]], digits=4, highlight=hl,
                           note="Debiased estimates with standard errors, p-values (Holm-adjusted in p_holm) and "
                                "the interval exponentiated to the ratio scale; the intercept is not tested.")]
        display = display.drop(columns=inf_cols)
    blocks: list[Any] = [
        Text("Penalized estimates are shrunk toward zero and are not, by themselves, estimates with standard "
             "errors. Stability and intervals come from the methods named in each column group."),
        Table("Coefficients (original scale" + (f": {_LINK_UNIT[c.fam]} per unit of the column)" if c.glm else ")"),
              display, digits=4, highlight=hl,
              note="Bootstrap: pairs bootstrap refits at the chosen lambda; 'selected' = fraction of replicates "
                   "with a nonzero coefficient, 'same sign' = share of the selecting replicates with the majority "
                   "sign; percentile intervals of a penalized estimator are not confidence intervals (they are "
                   "shrunk with it). Stability: complementary-pairs stability selection over the "
                   "path." + (" Inference: intervals valid after penalization (method in the group title)."
                              if c.inf is not None and not inf_table else "")
                   + (f" {_RATIO[c.fam][1]}: exp(estimate), the factor by which the "
                      f"{'odds' if c.fam == 'binomial' else 'expected count'} change per unit of the column "
                      "(1 = no effect; for the Intercept, the baseline "
                      f"{'odds' if c.fam == 'binomial' else 'rate'} at x = 0); per sd: exp(estimate × the "
                      "column's sd), comparable across columns; the bootstrap "
                      f"{_RATIO[c.fam][1].lower()} interval is exp() of the percentile interval."
                      if c.glm else "")
                   + (f" {hidden} of {len(tidy_all)} terms are not shown: zero at both CV choices, selected in "
                      "under half of the bootstrap replicates, not stable and not significant (Holm); "
                      "`rep.coefficients` has them all." if hidden else "")), *inf_table]
    notes = []
    for step, label in (("bootstrap", "Bootstrap"), ("stability", "Stability selection"),
                        ("inference", "Inference")):
        if c.status.get(step) != "ok":
            notes.append(_skipped(f"{label} {c.status.get(step, 'not computed')}"))
    blocks += notes
    blocks += _warned(c, "bootstrap", "stability", "inference")
    if c.inf is not None:
        blocks += [Text(f"Inference: {n}", "note") for n in getattr(c.inf, "notes", ())]
        if getattr(c.inf, "sigma_method", ""):
            blocks.append(Text(f"Inference: {c.inf.sigma_method}." if c.glm else
                               f"Inference: noise sd sigma = {c.inf.sigma:.4g}, {c.inf.sigma_method}.", "note"))
    if c.inf is not None and c.boot is not None:
        blocks += _figure("intervals", f"Coefficient intervals: {_inf_method(c)} (inference) and bootstrap "
                          f"percentile (B = {c.n_boot}) at {used}; {_STD_SCALE}.",
                          lambda ax: plots.plot_intervals({_inf_method(c): _only(c.inf, focus),
                                                           "bootstrap": _only(c.boot, focus)}, ax=ax,
                                                          path=c.path),
                          c, figsize=(6.4, _height(len(tidy))))
    elif c.inf is not None:
        blocks += _figure("intervals", f"Coefficient intervals ({_inf_method(c)}); {_STD_SCALE}.",
                          lambda ax: plots.plot_intervals(_only(c.inf, focus), ax=ax, path=c.path), c,
                          figsize=(6.4, _height(len(tidy))))
    elif c.boot is not None:
        blocks += _figure("intervals", f"Bootstrap percentile intervals (B = {c.n_boot}) at {used}; "
                          f"{_STD_SCALE}.",
                          lambda ax: plots.plot_intervals({"bootstrap": _only(c.boot, focus)}, ax=ax,
                                                          path=c.path), c,
                          figsize=(6.4, _height(len(tidy))))
    if c.boot is not None and c.pen != "ridge":
        blocks += _figure("selection", f"Bootstrap selection frequency at {used} (B = {c.n_boot}); colour: "
                          "sign consistency, the share of selecting replicates with the majority sign (colour "
                          "bar; 0.5 is a coin toss).", lambda ax: plots.plot_selection(c.boot, ax=ax), c,
                          figsize=(6.4, _height(len(tidy))))
    if c.stab is not None:
        st = c.stab
        sel = list(getattr(st, "selected", ()) or ())
        facts = [("Selected (stable set)", ", ".join(map(str, sel)) or "none")]
        for attr, label, f in (("threshold", "Threshold", "{:.3g}"), ("q", "Variables per subsample q", "{:g}"),
                               ("pfer", "PFER bound", "at most {:.3g} false selections expected"),
                               ("n_subsamples", "Subsamples", "{:d}"), ("sampling", "Sampling", "{}")):
            if hasattr(st, attr):
                facts.append((label, f.format(getattr(st, attr))))
        fig = _figure("stability", "Stability selection paths: share of subsamples with a nonzero coefficient "
                      f"against log(lambda); selected: {', '.join(map(str, sel)) or 'none'}.",
                      lambda ax: plots.plot_stability(st, ax=ax), c)
        blocks.append(Row(fig + [(Info(facts), Text(
            "Stability selection (Meinshausen & Bühlmann 2010, complementary pairs of Shah & Samworth 2013): "
            "each half-sample selects the first q variables to enter its path; a variable is stable when the "
            "share of half-samples selecting it reaches the threshold. PFER = q^2 / ((2 threshold - 1) p).",
            "note"))]))
    if c.boot is not None and c.pen != "ridge" and hasattr(c.boot, "term_frame"):
        tf = c.boot.term_frame()
        if len(tf) and (tf["n_columns"] > 1).any():
            c.tables["bootstrap_terms"] = tf
            blocks.append(Table("Bootstrap selection by formula term (a factor's columns together)", tf,
                                note="selection_freq: share of replicates selecting any column of the term; "
                                     "mean_n_selected: average number of its columns selected."))
    blocks += _comparison(c)
    return Section("coefficients", "Coefficients, stability and inference", blocks)


def _only(result: Any, terms: list[str]) -> pd.DataFrame:
    """A result's tidy frame restricted to ``terms``."""
    f = result.to_frame()
    return f[f["term"].isin(terms)].reset_index(drop=True)


def _comparison(c: _Context) -> list[Any]:
    """Penalized (lambda_min, lambda_1se), relaxed and unpenalized fits side by side."""
    from .compare import compare, unpenalized_name

    models: dict[str, Any] = {}
    if c.cv is not None:
        models["lambda_min"] = c.path.at(float(c.cv.lambda_min))
        models["lambda_1se"] = c.path.at(float(c.cv.lambda_1se))
    else:
        models[f"lambda = {c.fit.lam:.3g}"] = c.fit
    relaxed = c.pen != "ridge"
    try:
        cmp = compare(models, relaxed=relaxed, ols=True)
    except RegstatsError as exc:  # pragma: no cover - defensive
        return [_skipped(f"comparison not computed: {exc}")]
    c.tables["comparison"] = cmp.to_frame()
    full = cmp.table()
    focus = set(getattr(c, "focus", full.index))
    n_terms = sum(t in focus for t in cmp.estimates.index)
    shown = full[[t in focus or t in cmp.stats.index for t in full.index]].reset_index()
    hl = {i: "dim" for i in range(n_terms, len(shown))}
    unpen = unpenalized_name(c.path)
    if c.glm:
        how = f"maximum likelihood ({_FAMILY_TITLE[c.fam].strip()} regression, IRLS)"
        note = ("Standard errors in parentheses (from the Fisher information). "
                + (f"Relaxed: {how} on the columns the penalized fit selected (glmnet's relax=TRUE with "
                   "gamma = 0); its standard errors are conditional on the selection (too small after a "
                   "data-driven choice). " if relaxed else "")
                + f"{unpen}: unpenalized {how} on all design columns. r2: deviance ratio.")
    else:
        note = ("Standard errors in parentheses. " + ("Relaxed: least squares on the columns the penalized fit "
                "selected; its standard errors are conditional on the selection (too small after a data-driven "
                "choice). " if relaxed else "") + "OLS: unpenalized least squares on all design columns")
    if cmp.estimates[unpen].isna().all():
        note += (" " if c.glm else "") + (f"{unpen} is not shown: " + cmp.notes.get(unpen, "not identifiable here")
                                          if c.glm else " (not identifiable here: more columns than rows)")
    note += "" if note.endswith(".") else "."
    title = ("Penalized, relaxed and maximum-likelihood fits side by side" if c.glm
             else "Penalized, relaxed and least-squares fits side by side")
    return [Table(title, shown, note=note, highlight=hl)]


def _inf_method(c: _Context) -> str:
    f = c.inf.to_frame()
    return str(f["method"].dropna().iloc[0]) if "method" in f and f["method"].notna().any() else "inference"


_LINK_UNIT = {"binomial": "log-odds", "poisson": "log-rate"}

_PATH_CAPTION = ("Coefficient paths on the standardized scale (coefficient × column sd, so they are "
                 "comparable); log(lambda) decreases to the right, towards the least penalized fit, where the "
                 "largest curves are named; the legend lists the others.")
_STD_SCALE = ("standardized scale: estimate and interval × the column's sd, so that a factor's dummies and "
              "numeric predictors are comparable (the table gives the original scale)")


def _height(n_terms: int) -> float:
    return float(min(max(3.0, 0.3 * n_terms + 1.4), 9.0))


_DF_TEXT = {
    "lasso": "For the lasso, df = rank(X_A), the number of nonzero coefficients when the active columns are "
             "in general position (fewer when they are collinear); an unbiased estimate of df (Zou, Hastie & "
             "Tibshirani 2007; Tibshirani & Taylor 2012).",
    "ridge": "For ridge, df = sum_j d_j^2 / (d_j^2 + n lam/s_y) from the singular values d of the design "
             "as solved (centred when there is an intercept, scaled, weighted; the rank at lam = 0); every "
             "coefficient is nonzero, so the count of nonzeros says nothing.",
    "elastic-net": "For the elastic net, df = trace(X_A (X_A'WX_A + W lam (1-a)/s_y V_A)^-1 X_A'W) on the "
                   "active set A (Tibshirani & Taylor 2012): fewer than the nonzero count because the ridge "
                   "part shrinks.",
}


_DF_TEXT_GLM = {
    "lasso": "For the lasso, df = rank(X_A), the number of nonzero coefficients when the active columns are in "
             "general position, as for the gaussian lasso (for a GLM this is an approximation: Tibshirani & Taylor "
             "2012 prove it for least squares).",
    "ridge": "For ridge, df = trace((H + lam V)^-1 H) with H = X'QX/n the Hessian of the loss at the solution "
             "(Q the IRLS weights w_i V(mu_i)): the linear smoother of the last IRLS step, a first-order "
             "approximation; every coefficient is nonzero, so the count of nonzeros says nothing.",
    "elastic-net": "For the elastic net, df = trace((H_AA + lam (1-a) V_A)^-1 H_AA) on the active set A, with "
                   "H = X'QX/n the Hessian of the loss at the solution (Q the IRLS weights): the linear smoother "
                   "of the last IRLS step, a first-order approximation; fewer than the nonzero count because the "
                   "ridge part shrinks.",
}


def _sec_calibration(c: _Context) -> Section:
    """Binomial / Poisson: calibration (binned predictions against outcomes) and, for binomial, the ROC
    curve with its AUC, from the out-of-fold predictions of the CV."""
    from . import plots
    from .calibration import auc, calibration_table, cv_means

    binom = c.fam == "binomial"
    title = "Calibration and discrimination" if binom else "Calibration"
    if c.cv is None:
        return Section("calibration", title, [_skipped("calibration not computed: it uses the out-of-fold "
                                                       "predictions of the cross-validation, which was "
                                                       + c.status["cv"])], status="skipped")
    cv = c.cv
    used = "1se" if c.choice == "1se" else "min"
    lam_used = float(cv.lambda_1se if used == "1se" else cv.lambda_min)
    y, mu, w = cv_means(cv, used)
    cal = calibration_table(y, mu, w, family=c.fam)
    c.tables["calibration"] = cal
    what = "proportion" if binom else "mean count"
    blocks: list[Any] = [Text(
        "Out-of-fold predictions: each row is predicted by the CV fold fit that did not see it, at "
        f"lambda_{used} = {lam_used:.4g} (the choice itself used every fold, so this is slightly optimistic). "
        f"Rows are sorted by prediction and cut into {len(cal)} bins of equal size; a calibrated model has the "
        f"observed {what} of each bin close to its mean prediction (the diagonal). Penalization pulls the "
        "predictions toward the overall mean: at a large lambda the points lie flatter than the diagonal.")]
    mean_pred = float(np.sum(w * mu) / np.sum(w))
    mean_obs = float(np.sum(w * y) / np.sum(w))
    facts = [("Mean prediction (out of fold)", f"{mean_pred:.4g}"), (f"Observed {what}", f"{mean_obs:.4g}")]
    summary_rows = []
    if binom:
        for name in ("min", "1se"):
            yy, mm, ww = cv_means(cv, name)
            fit = c.path.at(float(cv.lambda_min if name == "min" else cv.lambda_1se))
            summary_rows.append({"lambda_of": f"lambda_{name}",
                                 "lambda": float(cv.lambda_min if name == "min" else cv.lambda_1se),
                                 "auc": auc(yy, mm, ww),
                                 "brier": float(np.sum(ww * (yy - mm) ** 2) / np.sum(ww)),
                                 "error_rate": float(np.sum(ww * np.where(mm >= 0.5, 1 - yy, yy)) / np.sum(ww)),
                                 "n_nonzero": int(fit.n_nonzero)})
        summ = pd.DataFrame(summary_rows)
        c.tables["discrimination"] = summ
        k = 1 if used == "1se" else 0
        facts.append(("AUC at lambda_" + used + " (out of fold, pooled)", f"{summ['auc'].iloc[k]:.3f}"))
    blocks.append(Info(facts))
    cal_fig = _figure("calibration", f"Calibration at lambda_{used}: mean out-of-fold prediction (x) and observed "
                      f"{what} (y) of each bin, with a 95% interval ("
                      + ("Wilson's score interval" if binom else "mean ± 1.96 sd/sqrt(n)")
                      + "); dashed: the diagonal of perfect calibration.",
                      lambda ax: plots.plot_calibration(cv, used, ax=ax, table=cal), c, figsize=(5.2, 4.8))
    cal_tab = Table(f"Calibration by bin (lambda_{used})", cal, digits=3,
                    note="n: rows in the bin; pred_min..pred_max: its range of predictions; predicted / observed: "
                         "weighted means; obs_lower, obs_upper: 95% interval for the observed " + what + ".")
    blocks.append(Row(cal_fig + [cal_tab]))
    if binom:
        roc_fig = _figure("roc", "ROC curves of the out-of-fold predictions at lambda_min and lambda_1se, with "
                          "the pooled AUC (the probability that a random positive scores above a random "
                          "negative); dashed: chance.", lambda ax: plots.plot_roc(cv, ("min", "1se"), ax=ax), c,
                          figsize=(5.2, 4.8))
        note = ("Every column is computed from the out-of-fold predictions, pooled over all rows (with "
                "loss='auc' the CV curve above averages one AUC per fold instead, as cv.glmnet, so the two differ "
                "slightly). brier: mean squared error of the predicted probability. error_rate: share "
                "misclassified when predicting "
                + (f"{c.path.levels[1]!r}" if c.path.levels else "1") + " at probability >= 0.5.")
        blocks.append(Row(roc_fig + [Table("Discrimination (out-of-fold predictions)", summ, digits=4,
                                           highlight={(1 if used == "1se" else 0): used}, note=note)]))
    return Section("calibration", title, blocks)


def _sec_dof(c: _Context) -> Section:
    p = c.path
    rows = []
    lams: list[tuple[str, float]] = []
    if c.cv is not None:
        lams = [("lambda_min", float(c.cv.lambda_min)), ("lambda_1se", float(c.cv.lambda_1se))]
    else:
        lams = [("chosen", c.fit.lam)]
    lams += [("largest lambda", float(p.lambdas[0])), ("smallest lambda", float(p.lambdas[-1]))]
    for name, lam in lams:
        f = p.at(lam)
        r2 = float(f.r2)
        rows.append({"lambda_of": name, "lambda": lam, "df": float(f.df), "n_nonzero": int(f.n_nonzero),
                     "r2": 0.0 if abs(r2) < 1e-12 else r2})       # the null fit's rounding noise shown as 0
    tab = pd.DataFrame(rows)
    c.tables["dof"] = tab
    pen = {1.0: "lasso", 0.0: "ridge"}.get(p.l1_ratio, "elastic-net")
    from . import plots

    df_text = _DF_TEXT_GLM[pen] if c.glm else _DF_TEXT[pen]
    table = Table("Degrees of freedom at selected lambdas", tab,
                  highlight={i: ("min" if r["lambda_of"] == "lambda_min" else "1se")
                             for i, r in tab.iterrows() if r["lambda_of"] in ("lambda_min", "lambda_1se")},
                  note="df along the whole path is the df column of the path table.")
    fig = _figure("dof", "Effective degrees of freedom (purple) and the number of nonzero coefficients (grey) "
                  "against log(lambda).", lambda ax: plots.plot_df(p, cv=c.cv, ax=ax), c)
    blocks = [Text(df_text + " The intercept is not counted (as glmnet's df)."), Row([table] + fig)]
    return Section("dof", "Degrees of freedom", blocks)


def _sec_biasvar(c: _Context) -> Section:
    from . import plots

    if c.bv is None:
        return Section("biasvar", "Bias–variance", [_skipped("bias-variance " + c.status["bias_variance"])],
                       status="skipped")
    bv = c.bv
    at = dict(getattr(bv, "attrs", {}) or {})
    extra = [col for col in ("bias2_se", "variance_se", "risk_se", "df_path") if col in bv]
    drop = [col for col in extra if bv[col].isna().all() or (col == "df_path" and np.allclose(bv[col], bv["df"]))]
    bv = bv.drop(columns=drop + [col for col in ("variance_se", "risk_se") if col in bv and col not in drop])
    if c.bv_method == "analytic":
        how = "Exact for ridge (a linear smoother): bias^2 and variance follow from the hat matrix at each lambda."
    else:
        how = (f"Monte Carlo with {c.n_rep} replicates (seed {c.seed}): responses y* = mu + eps* are drawn "
               "around a mean mu with noise sd sigma, the path is refitted to each on the same design, and "
               "bias^2 and variance are averaged over the rows.")
    facts = [("Method", str(at.get("method", c.bv_method)))]
    if "mu_source" in at:
        facts.append(("Mean mu", str(at["mu_source"])))
    if "sigma" in at:
        facts.append(("Noise sd sigma", f"{float(at['sigma']):.4g} ({at.get('sigma_source', '')})".replace(" ()", "")))
    if "assumptions" in at:
        facts.append(("Assumptions", str(at["assumptions"])))
    k = int(np.nanargmin(bv["risk"].to_numpy()))
    keep = [k]
    lams = bv["lambda"].to_numpy()
    marks: dict[int, str] = {}
    if c.cv is not None:
        for name, lam in (("min", c.cv.lambda_min), ("1se", c.cv.lambda_1se)):
            i = int(np.argmin(np.abs(lams - lam)))
            keep.append(i)
            marks[i] = name
    pick = _thin(len(bv), keep, 15)
    shown = bv.iloc[pick].reset_index(drop=True)
    c.tables["bias_variance"] = shown
    marks.setdefault(k, "best")
    hl = {pos: marks[i] for pos, i in enumerate(pick) if i in marks}
    blocks: list[Any] = [
        Text("Expected in-sample prediction error = noise + bias^2 + variance, with bias^2 = mean_i (E yhat_i - "
             "mu_i)^2 and variance = mean_i Var(yhat_i). " + how),
        Info(facts), *_warned(c, "bias_variance"),
        Text(f"Smallest risk at lambda = {lams[k]:.4g} (log {np.log(lams[k]):.2f}): risk {bv['risk'].iloc[k]:.4g},"
             f" bias^2 {bv['bias2'].iloc[k]:.4g}, variance {bv['variance'].iloc[k]:.4g}"
             + (f"; cross-validation chose lambda_min = {c.cv.lambda_min:.4g}." if c.cv is not None else "."),
             "note")]
    fig = _figure("bias_variance", "Bias², variance and risk against log(lambda).",
                  lambda ax: plots.plot_bias_variance(bv, ax=ax), c)
    bv_note = (f"{len(shown)} of {len(bv)} lambdas shown; red/blue rows: lambda_min/lambda_1se; green: smallest "
               "risk.")
    if "df_path" in bv and c.bv_method != "analytic":
        bv_note += (" df: mean df over the replicates (a lasso's df depends on y); df_path: the path's df on the "
                    "observed y.")
    if (bv["bias2"] < 0).any():
        bv_note += (" A negative bias2 is Monte Carlo noise: the unbiased estimate of a squared bias near 0 "
                    "(compare bias2_se).")
    blocks.append(Row(fig + [Table("Bias–variance over lambda", shown, highlight=hl, note=bv_note)]))
    return Section("biasvar", "Bias–variance", blocks)


def _reproduce(c: _Context) -> tuple[str, str]:
    p = c.path
    data_py, data_cli = _data_expr(c.source)
    pen = {1.0: "lasso", 0.0: "ridge"}.get(p.l1_ratio, "elastic-net")
    if c.encv is not None:
        pen = "elastic-net"
    args = [_py_str(p.formula), data_py, f'penalty="{pen}"']
    if c.encv is not None:
        args.append('l1_ratio="cv"')
    elif pen == "elastic-net":
        args.append(f"l1_ratio={p.l1_ratio:g}")
    if c.glm:
        args.append(f'family="{c.fam}"')
        off_name = p._options.offset_name
        if p._options.offset is not None:
            args.append(f"offset={_py_str(off_name)}" if off_name else "offset=<array>")
        if c.loss != LOSSES[c.fam][0]:
            args.append(f'loss="{c.loss}"')
        if c.fam == "binomial" and not c.stratify:
            args.append("stratify=False")
    args += [f"folds={c.folds}", f"seed={c.seed!r}", f"n_boot={c.n_boot}"]
    o = c.options
    if o["choice"] != "1se":
        args.append(f'choice="{o["choice"]}"')
    for k in ("stability", "inference", "bias_variance"):
        if not o[k]:
            args.append(f"{k}=False")
    if not c.figures:
        args.append("figures=False")
    if c.bv_method == "simulation" and o["bias_variance"] and c.n_rep != 100:
        args.append(f"n_rep={c.n_rep}")
    for k, v in c.fit_kwargs.items():
        args.append(f"{k}={v!r}" if not isinstance(v, np.ndarray) else f"{k}=<array>")
    for k in ("stability_options", "inference_options"):
        if o.get(k):
            args.append(f"{k}={o[k]!r}")
    if c.source:
        args.append(f"source={_py_str(c.source)}")
    out = str(o["out"]) if o["out"] is not None else "report.html"
    lines = ["import regstats as rs"]
    if data_py.startswith("pd."):
        lines.append("import pandas as pd")
    lines += ["", "rep = rs.report(" + ",\n                ".join(_wrap_args(args)) + ")",
              f"rep.save({_py_str(out)})"]
    call = "\n".join(lines)
    cmd = ["regstats", "report"]
    if data_cli:
        cmd += data_cli.split(" ", 1) if data_cli.startswith("--dataset") else [data_cli]
    cmd += ["--formula", shlex.quote(p.formula), "--penalty", pen]
    if c.encv is not None:
        cmd += ["--l1-ratio", "cv"]
    elif pen == "elastic-net":
        cmd += ["--l1-ratio", f"{p.l1_ratio:g}"]
    no_cli = []
    if c.glm:
        cmd += ["--family", c.fam]
        if p._options.offset is not None:
            if p._options.offset_name:
                cmd += ["--offset", shlex.quote(p._options.offset_name)]
            else:
                no_cli.append("the offset was given as an array (give a column name)")
        if c.loss != LOSSES[c.fam][0]:
            cmd += ["--loss", c.loss]
        if c.fam == "binomial" and not c.stratify:
            cmd.append("--no-stratify")
    flags = {"n_lambda": "--n-lambda", "lambda_min_ratio": "--lambda-min-ratio"}
    for k, v in c.fit_kwargs.items():
        if k in flags:
            cmd += [flags[k], f"{v:g}" if isinstance(v, float) else str(v)]
        elif k == "standardize" and v is False:
            cmd.append("--no-standardize")
        elif k == "weights" and isinstance(v, str):
            cmd += ["--weights", shlex.quote(v)]
    cmd += ["--folds", str(c.folds)]
    if c.seed is not None:
        cmd += ["--seed", str(c.seed)]
    cmd += ["--bootstrap", str(c.n_boot)]
    if c.bv_method == "simulation" and o["bias_variance"] and c.n_rep != 100:
        cmd += ["--n-rep", str(c.n_rep)]
    if o["choice"] != "1se":
        cmd += ["--choice", o["choice"]]
    for k, flag in (("stability", "--no-stability"), ("inference", "--no-inference"),
                    ("bias_variance", "--no-bias-variance")):
        if not o[k]:
            cmd.append(flag)
    if not c.figures:
        cmd.append("--no-figures")
    cmd += _option_flags(o.get("stability_options") or {}, o.get("inference_options") or {})
    if not _formula_is_plain(p.formula):
        cmd.append("--trust-formula")
    cmd += ["--out", shlex.quote(out)]
    command = _wrap_command(cmd)
    other = [k for k, v in c.fit_kwargs.items() if k not in flags and not (k == "standardize" and v is False)
             and not (k == "weights" and isinstance(v, str))]
    reasons = (["the data were given as a DataFrame (pass a CSV file)"] if not data_cli else []) + no_cli + [
        f"{k}= has no command-line option" for k in other]
    if reasons:
        command = "# not exactly this report: " + "; ".join(reasons) + "\n" + command
    return call, command


def _option_flags(stab: Mapping[str, Any], inf: Mapping[str, Any]) -> list[str]:
    """The command-line flags of the stability and inference options the CLI has."""
    out: list[str] = []
    for key, flag, opts in (("threshold", "--threshold", stab), ("pfer", "--pfer", stab),
                            ("method", "--inference", inf), ("nodewise_lambda", "--nodewise-lambda", inf)):
        if key in opts:
            v = opts[key]
            out += [flag, f"{v:g}" if isinstance(v, float) else str(v).replace("_", "-")]
    return out


def _formula_is_plain(formula: str) -> bool:
    """True when the regstats command accepts the formula without --trust-formula."""
    from ..formula_guard import check_formula
    from ..errors import FormulaError

    try:
        check_formula(formula, None)
    except FormulaError:
        return False
    return True


def _wrap_command(words: list[str], width: int = 88) -> str:
    """Join shell words, continuing long lines with a backslash at option boundaries."""
    lines, cur = [], ""
    for w in words:
        if cur and w.startswith("--") and len(cur) + len(w) > width - 20:
            lines.append(cur + " \\")
            cur = "    " + w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return "\n".join(lines)


def _py_str(text: str) -> str:
    """A Python string literal, double-quoted when possible."""
    return f'"{text}"' if '"' not in text and "\\" not in text else repr(text)


def _wrap_args(args: list[str]) -> list[str]:
    """Group call arguments onto lines of at most ~80 characters."""
    lines: list[str] = []
    cur = ""
    for a in args:
        if cur and len(cur) + len(a) + 2 > 70:
            lines.append(cur)
            cur = a
        else:
            cur = f"{cur}, {a}" if cur else a
    if cur:
        lines.append(cur)
    return lines


def _sec_reproduce(c: _Context, call: str, command: str) -> Section:
    import matplotlib

    versions = [("regstats", _version()), ("python", platform.python_version()), ("numpy", np.__version__),
                ("pandas", pd.__version__), ("matplotlib", matplotlib.__version__)]
    computed = [(k.replace("_", "-"), v) for k, v in c.status.items() if not k.startswith("figure:")]
    blocks: list[Any] = [Code(call, "python", "Python"), Code(command, "bash", "Command line"),
                         Text("Every random step (folds, bootstrap, stability subsamples, simulation) uses the "
                              "seed above, so the same call on the same data and versions gives the same "
                              "numbers.", "note"),
                         Info([(k, v) for k, v in computed]),
                         Info([(k, v) for k, v in versions])]
    return Section("reproduce", "Reproduce this report", blocks)


def _version() -> str:
    from .. import __version__

    return __version__
