"""The ``regstats`` command: a report or a coefficient path from a CSV file and a formula.

    regstats report [DATA.csv] --formula "y ~ ." --penalty lasso --out report.html
    regstats fit DATA.csv --formula "y ~ ." --out path.csv

Without a data file it uses a bundled dataset (``--dataset``, default ``prostate`` with
``lpsa ~ . - train``).  Errors in the input (missing file, unknown column, bad formula, bad
option value) print one line ``regstats: error: ...`` and exit with status 1; command-line
usage errors exit with status 2 (argparse's convention).  Outputs are written atomically (a
temporary file in the target's folder, then a rename); a failed write is one error line and leaves
the old file untouched.  Formulas are checked before patsy evaluates them (see
:mod:`regstats.formula_guard`; ``--trust-formula`` lifts the check).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path as FilePath
from typing import Any, Sequence

__all__ = ["main", "build_parser"]

DEFAULT_FORMULAS = {"prostate": "lpsa ~ . - train", "diabetes": "y ~ .", "mtcars": "mpg ~ . - model",
                    "hitters": "Salary ~ .", "credit": "Balance ~ . - ID", "pima": "type ~ ."}
#: a bundled dataset whose response is not gaussian gets its family by default
DEFAULT_FAMILIES = {"pima": "binomial"}
_PENALTIES = ("lasso", "ridge", "elastic-net")
_FAMILIES = ("gaussian", "binomial", "poisson")
_LOSSES = ("mse", "mae", "deviance", "class", "auc")


class CLIError(Exception):
    """An input problem to report in one line (exit status 1)."""


def _positive_int(minimum: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}; got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}; got {text!r}")
        return v
    return parse


def _unit_interval(text: str) -> float | str:
    if text == "cv":
        return text
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1] or 'cv'; got {text!r}") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1] or 'cv'; got {text!r}")
    return v


def _n_jobs(text: str) -> int:
    """joblib's convention, validated as the library does: a nonzero integer (-1 = all cores)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a nonzero integer (-1 = all cores); got {text!r}") from None
    if v == 0:
        raise argparse.ArgumentTypeError(f"must be a nonzero integer (-1 = all cores); got {text!r}")
    return v


def _open_interval(lo: float, hi: float, hi_closed: bool = False):
    what = f"a number in ({lo:g}, {hi:g}{']' if hi_closed else ')'}"

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}") from None
        if not (lo < v < hi or (hi_closed and v == hi)):
            raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}")
        return v
    return parse


def _nodewise(text: str) -> float | str:
    if text in ("znz", "cv", "scaled"):
        return text
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be 'znz', 'cv', 'scaled' or a number > 0; got {text!r}") from None
    if not 0 < v < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 'znz', 'cv', 'scaled' or a number > 0; got {text!r}")
    return v


def _add_data_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data and model")
    g.add_argument("data", nargs="?", metavar="DATA",
                   help="CSV file with a header row (.csv; .tsv/.txt are read tab- or auto-separated); an "
                        "unnamed first column (R's write.csv) is read as row names. Omit it to use a bundled "
                        "dataset (see --dataset).")
    g.add_argument("--dataset", choices=sorted(DEFAULT_FORMULAS), default=None,
                   help="bundled dataset to use when no DATA file is given (default: prostate).")
    g.add_argument("-f", "--formula", metavar="FORMULA",
                   help="model formula, patsy syntax plus R's '.', e.g. \"y ~ .\", \"y ~ . - id\", "
                        "\"y ~ x1 + C(group) + np.log(x2)\". Required with a DATA file; the bundled "
                        "datasets have defaults (prostate: \"lpsa ~ . - train\", diabetes: \"y ~ .\", "
                        "mtcars: \"mpg ~ . - model\", hitters: \"Salary ~ .\", credit: \"Balance ~ . - ID\", "
                        "pima: \"type ~ .\").")
    g.add_argument("--family", choices=_FAMILIES, default=None,
                   help="response family: gaussian (least squares, the default), binomial (logistic: a 0/1, "
                        "true/false or two-level response; the first level in sorted order is coded 0, as R) or "
                        "poisson (counts; log link). --dataset pima defaults to binomial.")
    g.add_argument("--offset", metavar="COLUMN", default=None,
                   help="binomial / poisson: a column added to the linear predictor with coefficient 1 (left "
                        "out of '.'), e.g. the log of the exposure for a Poisson rate model.")
    g.add_argument("-p", "--penalty", choices=_PENALTIES, default="lasso",
                   help="lasso (l1_ratio = 1), ridge (l1_ratio = 0) or elastic-net (default: lasso).")
    g.add_argument("--l1-ratio", type=_unit_interval, default=None, metavar="A",
                   help="elastic-net mixing in [0, 1] (default 0.5), or 'cv' to choose it by cross-validation "
                        "(report only); only with --penalty elastic-net.")
    g.add_argument("--n-lambda", type=_positive_int(2), default=100, metavar="N",
                   help="number of lambdas on the path (default: 100, glmnet's grid).")
    g.add_argument("--lambda-min-ratio", type=float, default=None, metavar="R",
                   help="smallest lambda as a fraction of the largest, in (0, 1) (default: 1e-4 when "
                        "n >= p, else 1e-2, as glmnet).")
    g.add_argument("-w", "--weights", metavar="COLUMN", default=None,
                   help="column of observation weights (left out of '.'; normalised to sum n).")
    g.add_argument("--no-standardize", action="store_true",
                   help="do not scale the columns by their (weighted) sd about the (weighted) mean "
                        "before fitting.")
    g.add_argument("--trust-formula", action="store_true",
                   help="evaluate the formula as Python (patsy's semantics). A formula is code: by "
                        "default only data columns, np.<function>, patsy's C, Q, I, center, standardize, "
                        "scale, bs, cr, cc, te and arithmetic are allowed, so a formula typed by someone "
                        "else cannot run commands. Use this only for formulas you wrote.")


def _add_cv_measure_options(g: Any) -> None:
    g.add_argument("--loss", choices=_LOSSES, default=None,
                   help="CV measure (cv.glmnet's type.measure): gaussian mse (default) or mae; binomial deviance "
                        "(default), class (misclassification), auc (larger is better), mse, mae; poisson "
                        "deviance (default), mse, mae.")
    g.add_argument("--no-stratify", action="store_true",
                   help="binomial: plain random folds (cv.glmnet's) instead of folds stratified by class (the "
                        "default, so that every fold holds both classes in proportion).")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``regstats`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="regstats",
        description="Penalized regression (lasso, ridge, elastic net; gaussian, logistic or Poisson) from a "
                    "formula, with cross-validation, "
                    "degrees of freedom, bias-variance, bootstrap stability and post-selection inference.",
        epilog="Examples:\n"
               "  regstats report --out report.html                    # bundled prostate data\n"
               "  regstats report data.csv -f \"y ~ .\" -p elastic-net --l1-ratio 0.5 --out r.html\n"
               "  regstats report data.csv -f \"sick ~ .\" --family binomial --loss auc --out r.html\n"
               "  regstats report --dataset pima --out pima.html           # logistic lasso, bundled data\n"
               "  regstats fit data.csv -f \"y ~ . - id\" --out path.csv\n"
               "Exit status: 0 success, 1 bad input (file, column, formula, option value), 2 usage error.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"regstats {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    rep = sub.add_parser("report", help="write one self-contained HTML (or Markdown) report",
                         description="Fit a penalized regression path, cross-validate lambda, and write one "
                                     "self-contained report: data summary, objective, CV choice, path table, "
                                     "coefficients with bootstrap stability, stability selection and "
                                     "inference, degrees of freedom, bias-variance, and the call that "
                                     "reproduces it. Progress goes to stderr.")
    _add_data_options(rep)
    g = rep.add_argument_group("report")
    g.add_argument("--folds", type=_positive_int(2), default=10, metavar="K",
                   help="cross-validation folds (default: 10).")
    _add_cv_measure_options(g)
    g.add_argument("--seed", type=_positive_int(0), default=1, metavar="S",
                   help="seed of every random step: folds, bootstrap, subsamples, simulation (default: 1).")
    g.add_argument("--bootstrap", type=_positive_int(0), default=200, metavar="N",
                   help="bootstrap replicates for coefficient stability; 0 skips it (default: 200).")
    g.add_argument("--choice", choices=("1se", "min"), default="1se",
                   help="CV lambda used for the coefficient table, bootstrap and inference (default: 1se).")
    g.add_argument("--n-rep", type=_positive_int(2), default=100, metavar="N",
                   help="Monte Carlo replicates of the bias-variance simulation (default: 100; ridge is exact).")
    g.add_argument("--no-stability", action="store_true", help="leave out stability selection.")
    g.add_argument("--no-inference", action="store_true", help="leave out inference (intervals and p-values).")
    g.add_argument("--no-bias-variance", action="store_true", help="leave out the bias-variance section.")
    g.add_argument("--no-figures", action="store_true", help="tables only: draw no figures (quicker).")
    g.add_argument("-o", "--out", default="report.html", metavar="FILE",
                   help="output file; .html (self-contained, figures inlined) or .md (figures written to "
                        "FILE_files/) (default: report.html); written atomically, so a failed write keeps "
                        "the old file.")
    g.add_argument("--threshold", type=_open_interval(0.5, 1.0, hi_closed=True), default=None, metavar="T",
                   help="stability selection: selection-probability threshold in (0.5, 1] (default: 0.75).")
    g.add_argument("--pfer", type=_open_interval(0.0, float("inf")), default=None, metavar="E",
                   help="stability selection: bound on the expected number of false selections, > 0 "
                        "(default: 1); q is solved from the threshold and PFER, as R's stabs.")
    g.add_argument("--inference", choices=("desparsified", "selective", "naive-refit", "ridge"), default=None,
                   dest="inference_method",
                   help="inference method: desparsified lasso (default for lasso and elastic net; the only "
                        "one for binomial and poisson, with odds- or rate-ratio intervals), "
                        "selective (polyhedral intervals conditional on the lasso's selection and signs, "
                        "Lee et al. 2016; lasso only), naive-refit (OLS on the selected columns, which "
                        "ignores the selection: too narrow), or ridge standard errors (default for ridge; "
                        "ridge only).")
    g.add_argument("--nodewise-lambda", type=_nodewise, default=None, metavar="L",
                   help="desparsified lasso: penalty of the nodewise regressions on the standardized "
                        "columns: 'cv' (default, hdi's), 'scaled' (a scaled lasso per column) or a number.")
    g.add_argument("-j", "--n-jobs", type=_n_jobs, default=1, metavar="J",
                   help="parallel workers for CV, bootstrap, subsamples and simulation; -1 = all cores; the "
                        "numbers do not depend on it (default: 1).")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr.")
    rep.set_defaults(func=_cmd_report)

    fit = sub.add_parser("fit", help="write the coefficient path as CSV",
                         description="Fit a penalized regression path and write one row per lambda: lambda, df, "
                                     "n_nonzero, r2, then the coefficients (original scale, Intercept first). "
                                     "With --folds, cv_mean and cv_se are added and the CV choices are "
                                     "printed on stderr.")
    _add_data_options(fit)
    fit.add_argument("--folds", type=_positive_int(2), default=None, metavar="K",
                     help="also cross-validate with K folds (adds cv_mean, cv_se).")
    fit.add_argument("--seed", type=_positive_int(0), default=1, metavar="S",
                     help="seed of the CV folds (default: 1).")
    _add_cv_measure_options(fit)
    fit.add_argument("-o", "--out", default="-", metavar="FILE",
                     help="CSV file to write; '-' writes to stdout (default).")
    fit.add_argument("-j", "--n-jobs", type=_n_jobs, default=1, metavar="J",
                     help="parallel workers for the CV folds (-1 = all cores); same numbers for any J "
                          "(default: 1).")
    fit.add_argument("-q", "--quiet", action="store_true",
                     help="no messages on stderr except warnings and errors.")
    fit.set_defaults(func=_cmd_fit)
    _add_predict_parser(sub)
    return parser


# -- input ----------------------------------------------------------------------------------------
def _read_data(args: argparse.Namespace) -> tuple[Any, str, str]:
    """(DataFrame, formula, source) from the arguments."""
    import pandas as pd

    from .datasets import load_dataset

    if args.data is not None:
        if args.dataset is not None:
            raise CLIError("give either a DATA file or --dataset, not both")
        path = FilePath(args.data)
        if not path.exists():
            raise CLIError(f"data file {args.data!r} does not exist")
        if path.is_dir():
            raise CLIError(f"data file {args.data!r} is a directory")
        if not args.formula:
            raise CLIError("a DATA file needs --formula, e.g. --formula \"y ~ .\"")
        suffix = path.suffix.lower()
        try:
            if suffix == ".tsv":
                df = pd.read_csv(path, sep="\t")
            elif suffix == ".txt":
                df = pd.read_csv(path, sep=None, engine="python")
            else:
                df = pd.read_csv(path)
        except UnicodeDecodeError:
            raise CLIError(f"cannot read {args.data!r}: not a text (CSV) file") from None
        except pd.errors.EmptyDataError:
            raise CLIError(f"cannot read {args.data!r}: the file is empty") from None
        except (pd.errors.ParserError, ValueError, OSError) as exc:
            raise CLIError(f"cannot read {args.data!r} as CSV: {str(exc).splitlines()[0]}") from None
        if df.shape[0] == 0:
            raise CLIError(f"data file {args.data!r} has a header but no rows")
        df = _row_names(df, args)
        return _checked(df, args.formula, args), args.formula, str(args.data)
    name = args.dataset or "prostate"
    df = load_dataset(name)
    formula = args.formula or DEFAULT_FORMULAS[name]
    return _checked(df, formula, args), formula, name


def _row_names(df: Any, args: argparse.Namespace) -> Any:
    """An unnamed first column (R's ``write.csv``, pandas' ``to_csv()``) holds row names: the index."""
    first = str(df.columns[0])
    if df.shape[1] > 1 and first.startswith("Unnamed: 0"):
        df = df.set_index(df.columns[0])
        df.index.name = None
        if not getattr(args, "quiet", False):
            sys.stderr.write("regstats: the first column has no name: read as row names, not as a predictor\n")
    return df


def _checked(df: Any, formula: str, args: argparse.Namespace) -> Any:
    """Refuse a formula that would run more than column arithmetic (unless --trust-formula)."""
    if not getattr(args, "trust_formula", False):
        from .formula_guard import check_formula

        check_formula(formula, [str(c) for c in df.columns])
    return df


def _family(args: argparse.Namespace, source: str) -> str:
    """The family (a bundled dataset's default when not given), with the options that depend on it checked."""
    fam = args.family or (DEFAULT_FAMILIES.get(source, "gaussian") if args.data is None else "gaussian")
    if args.offset is not None and fam == "gaussian":
        raise CLIError("--offset is for --family binomial or poisson (e.g. a log-exposure column of a Poisson "
                       "rate model); the family here is gaussian")
    allowed = {"gaussian": ("mse", "mae"), "binomial": ("deviance", "class", "auc", "mse", "mae"),
               "poisson": ("deviance", "mse", "mae")}[fam]
    if getattr(args, "loss", None) is not None and args.loss not in allowed:
        raise CLIError(f"--loss {args.loss} is not a measure for --family {fam}; choose one of {', '.join(allowed)}")
    if getattr(args, "no_stratify", False) and fam != "binomial":
        raise CLIError(f"--no-stratify is for --family binomial (folds are stratified by class); the family "
                       f"here is {fam}")
    return fam


def _measure(loss: str, family: str) -> str:
    from .folds import loss_name

    return loss_name(loss, family).split(" (")[0]


def _penalty(args: argparse.Namespace) -> float | str:
    if args.l1_ratio is not None and args.penalty != "elastic-net":
        raise CLIError(f"--l1-ratio needs --penalty elastic-net; got --penalty {args.penalty}")
    if args.l1_ratio == "cv" and args.command != "report":
        raise CLIError("--l1-ratio cv works with 'regstats report'; give a number for 'regstats fit'")
    return {"lasso": 1.0, "ridge": 0.0}.get(args.penalty, 0.5 if args.l1_ratio is None else args.l1_ratio)


# -- commands -------------------------------------------------------------------------------------
def _check_out(out: FilePath) -> None:
    """Fail early (before the computation) when ``out`` cannot be written: its folder is missing, is a
    file or is read-only, or ``out`` is a folder."""
    from ._atomic import check_target

    check_target(out)
    parent = out.parent if str(out.parent) else FilePath(".")
    if not parent.exists():
        raise CLIError(f"the directory of --out does not exist: {str(parent)!r}")
    if out.exists() and not out.is_file():
        return                                    # a device such as /dev/stdout: written in place
    import tempfile

    from ._atomic import _fail

    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise _fail(out, exc) from None


def _inference_options(args: argparse.Namespace, family: str = "gaussian") -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if args.inference_method is not None:
        opts["method"] = args.inference_method.replace("-", "_")
    method = opts.get("method", "ridge" if args.penalty == "ridge" and family == "gaussian" else "desparsified")
    if args.nodewise_lambda is not None:
        if method != "desparsified":
            raise CLIError(f"--nodewise-lambda applies to the desparsified lasso; the inference here is {method}")
        opts["nodewise_lambda"] = args.nodewise_lambda
    if opts and args.no_inference:
        raise CLIError("--inference and --nodewise-lambda set up inference; drop them or --no-inference")
    if opts.get("method") == "ridge" and args.penalty != "ridge":
        raise CLIError(f"--inference ridge needs --penalty ridge; got --penalty {args.penalty}")
    return opts


def _stability_options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if args.threshold is not None:
        opts["threshold"] = args.threshold
    if args.pfer is not None:
        opts["pfer"] = args.pfer
    if opts and args.no_stability:
        raise CLIError("--threshold and --pfer set up stability selection; drop them or --no-stability")
    if opts and args.penalty == "ridge":
        raise CLIError("--threshold and --pfer set up stability selection, which ridge does not have")
    return opts


def _cmd_report(args: argparse.Namespace) -> int:
    from . import report as report_pkg

    out = FilePath(args.out)
    if out.suffix.lower() not in (".html", ".htm", ".md", ".markdown"):
        raise CLIError(f"--out must end in .html or .md; got {args.out!r}")
    _check_out(out)
    data, formula, source = _read_data(args)
    l1 = _penalty(args)
    fam = _family(args, source)
    inf_opts = _inference_options(args, fam)
    if fam != "gaussian":
        if inf_opts.get("method", "desparsified") != "desparsified":
            raise CLIError(f"--inference {args.inference_method} is for gaussian models; a {fam} model has the "
                           "desparsified lasso (the default)")
        if inf_opts.get("nodewise_lambda") == "scaled":
            raise CLIError(f"--nodewise-lambda scaled is for gaussian models; a {fam} model takes 'cv' or a number")
    stab_opts = _stability_options(args)
    if not args.quiet:
        sys.stderr.write(f"regstats: {'' if fam == 'gaussian' else fam + ' '}{args.penalty} on {source}: "
                         f"{formula}\n")
    kw: dict[str, Any] = {}
    if fam != "gaussian":
        kw["family"] = fam
        kw["stratify"] = fam == "binomial" and not args.no_stratify
    if args.offset is not None:
        kw["offset"] = args.offset
    if args.loss is not None:
        kw["loss"] = args.loss
    if args.n_lambda != 100:
        kw["n_lambda"] = args.n_lambda
    if args.lambda_min_ratio is not None:
        kw["lambda_min_ratio"] = args.lambda_min_ratio
    if args.no_standardize:
        kw["standardize"] = False
    if args.weights is not None:
        kw["weights"] = args.weights
    if stab_opts:
        kw["stability_options"] = stab_opts
    if inf_opts:
        kw["inference_options"] = inf_opts
    rep = report_pkg.report(formula, data, penalty=args.penalty,
                            l1_ratio=l1 if args.penalty == "elastic-net" else None,
                            folds=args.folds, seed=args.seed, n_boot=args.bootstrap, choice=args.choice,
                            stability=not args.no_stability, inference=not args.no_inference,
                            bias_variance=not args.no_bias_variance, n_rep=args.n_rep,
                            figures=not args.no_figures, progress=not args.quiet, n_jobs=args.n_jobs,
                            source=source, out=out, **kw)
    from .report.build import GAUSSIAN_ONLY

    expected = {"not computed: " + why for why in GAUSSIAN_ONLY.values()}
    problems = {k: v for k, v in rep.status.items()
                if v != "ok" and not v.startswith("not computed: left out") and v != "not computed: n_boot = 0"
                and v not in expected}
    for k, v in problems.items():
        sys.stderr.write(f"regstats: note: {k} {v}\n")
    skipped = [k.replace("_", "-") for k, v in rep.status.items() if v in expected]
    if skipped and not args.quiet:
        sys.stderr.write(f"regstats: note: left out for a {fam} model (gaussian-only; the report says why): "
                         f"{', '.join(skipped)}\n")
    return 0


def _cmd_fit(args: argparse.Namespace) -> int:
    import pandas as pd

    from . import api
    from ._atomic import atomic_open

    if args.out != "-":
        _check_out(FilePath(args.out))
    data, formula, source = _read_data(args)
    l1 = _penalty(args)
    fam = _family(args, source)
    if args.folds is None and (args.loss is not None or args.no_stratify):
        raise CLIError("--loss and --no-stratify set up cross-validation; add --folds K")
    glm_kw: dict[str, Any] = {"family": fam, "offset": args.offset} if fam != "gaussian" else {}
    path = api.elastic_net(formula, data, l1_ratio=l1, n_lambda=args.n_lambda,
                           standardize=not args.no_standardize,
                           lambda_min_ratio=args.lambda_min_ratio, weights=args.weights, **glm_kw)
    tab = path.table.reset_index(drop=True)
    if args.folds is not None:
        cv_kw: dict[str, Any] = {}
        if args.loss is not None:
            cv_kw["loss"] = args.loss
        if fam == "binomial" and not args.no_stratify:
            cv_kw["stratify"] = True
        cv = path.cv(folds=args.folds, seed=args.seed, n_jobs=args.n_jobs, **cv_kw)
        cvt = cv.table.set_index("lambda")
        tab["cv_mean"] = cvt["cv_mean"].reindex(tab["lambda"]).to_numpy()
        tab["cv_se"] = cvt["cv_se"].reindex(tab["lambda"]).to_numpy()
        if not args.quiet:
            sys.stderr.write(f"regstats: lambda_min = {cv.lambda_min:.6g}, lambda_1se = {cv.lambda_1se:.6g} "
                             f"({args.folds}-fold CV of {_measure(cv.loss, fam)}, seed {args.seed}"
                             + (", stratified by class" if cv_kw.get("stratify") else "") + ")\n")
    coef = path.coef.reset_index(drop=True)
    clash = [c for c in coef.columns if c in tab.columns]
    if clash:
        coef = coef.rename(columns={c: f"coef_{c}" for c in clash})
    out = pd.concat([tab, coef], axis=1)
    if args.out == "-":
        out.to_csv(sys.stdout, index=False, float_format="%.10g")
    else:
        target = FilePath(args.out)
        with atomic_open(target, "w", newline="") as fh:
            out.to_csv(fh, index=False, float_format="%.10g")
        if not args.quiet:
            sys.stderr.write(f"regstats: wrote {len(out)} lambdas x {coef.shape[1]} coefficients to {target}\n")
    return 0


# -- regstats predict MODEL.json DATA.csv (a path saved by path.save) ---------------------------------
def _add_predict_parser(sub: Any) -> None:
    pred = sub.add_parser("predict", help="predict new rows from a model saved with path.save()",
                          description="Read a path saved as JSON by path.save(file) in Python and predict the "
                                      "rows of a CSV file: the formula's factor levels and transforms are "
                                      "replayed exactly. Writes one column per lambda (prediction_<lambda>), "
                                      "or one column 'prediction' with a single --lam.")
    pred.add_argument("model", metavar="MODEL.json", help="a path saved with path.save('MODEL.json').")
    pred.add_argument("data", metavar="DATA.csv", help="CSV file with a header row and the formula's columns.")
    pred.add_argument("--lam", type=float, nargs="+", default=None, metavar="LAMBDA",
                      help="lambda(s) to predict at; between two saved lambdas the coefficients are "
                           "interpolated linearly, as glmnet's predict(exact = FALSE) (default: every saved lambda).")
    pred.add_argument("-o", "--out", default="-", metavar="FILE",
                      help="CSV file to write; '-' writes to stdout (default).")
    pred.set_defaults(func=_cmd_predict)


def _cmd_predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from .persist import _write_atomic, load

    model = load(args.model)
    try:
        data = pd.read_csv(args.data)
    except FileNotFoundError:
        raise CLIError(f"data file not found: {args.data!r}") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise CLIError(f"cannot read {args.data!r} as CSV: {exc}") from None
    pred = model.predict(data, lam=args.lam)
    if pred.shape[1] == 1 and args.lam is not None:
        pred.columns = ["prediction"]
    else:
        pred.columns = [f"prediction_{lam:.6g}" for lam in pred.columns]
    if args.out == "-":
        pred.to_csv(sys.stdout, index=False, float_format="%.10g")
    else:
        _write_atomic(args.out, pred.to_csv(index=False, float_format="%.10g"))
        sys.stderr.write(f"regstats: wrote {len(pred)} rows x {pred.shape[1]} predictions to {args.out}\n")
    return 0


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: Any = None) -> None:
    text = str(message)
    if "nodewise_lambda" in text:
        text += " (command line: --nodewise-lambda)"
    sys.stderr.write(f"regstats: warning: {text}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``regstats`` command; returns the exit status (0 ok, 1 bad input, 2 usage)."""
    from .errors import RegstatsError

    parser = build_parser()
    args = parser.parse_args(argv)
    old = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return int(args.func(args))
    except (CLIError, RegstatsError) as exc:
        sys.stderr.write(f"regstats: error: {exc}\n")
        return 1
    except OSError as exc:                      # an output or input the system refused, in one line
        name = f" {exc.filename!r}" if getattr(exc, "filename", None) else ""
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        sys.stderr.write(f"regstats: error: cannot access{name}: {reason}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("regstats: interrupted\n")
        return 130
    finally:
        warnings.showwarning = old


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
