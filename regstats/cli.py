"""The ``regstats`` command: a report or a coefficient path from a CSV file and a formula.

    regstats report [DATA.csv] --formula "y ~ ." --penalty lasso --out report.html
    regstats fit DATA.csv --formula "y ~ ." --out path.csv

Without a data file it uses a bundled dataset (``--dataset``, default ``prostate`` with
``lpsa ~ . - train``).  Errors in the input (missing file, unknown column, bad formula, bad
option value) print one line ``regstats: error: ...`` and exit with status 1; command-line
usage errors exit with status 2 (argparse's convention).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path as FilePath
from typing import Any, Sequence

__all__ = ["main", "build_parser"]

DEFAULT_FORMULAS = {"prostate": "lpsa ~ . - train", "diabetes": "y ~ .", "mtcars": "mpg ~ . - model"}
_PENALTIES = ("lasso", "ridge", "elastic-net")


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


def _add_data_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data and model")
    g.add_argument("data", nargs="?", metavar="DATA",
                   help="CSV file with a header row (.csv; .tsv/.txt are read tab- or auto-separated). "
                        "Omit it to use a bundled dataset (see --dataset).")
    g.add_argument("--dataset", choices=sorted(DEFAULT_FORMULAS), default=None,
                   help="bundled dataset to use when no DATA file is given (default: prostate).")
    g.add_argument("-f", "--formula", metavar="FORMULA",
                   help="model formula, patsy syntax plus R's '.', e.g. \"y ~ .\", \"y ~ . - id\", "
                        "\"y ~ x1 + C(group) + np.log(x2)\". Required with a DATA file; the bundled "
                        "datasets have defaults (prostate: \"lpsa ~ . - train\", diabetes: \"y ~ .\", "
                        "mtcars: \"mpg ~ . - model\").")
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``regstats`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="regstats",
        description="Penalized regression (lasso, ridge, elastic net) from a formula, with cross-validation, "
                    "degrees of freedom, bias-variance, bootstrap stability and post-selection inference.",
        epilog="Examples:\n"
               "  regstats report --out report.html                    # bundled prostate data\n"
               "  regstats report data.csv -f \"y ~ .\" -p elastic-net --l1-ratio 0.5 --out r.html\n"
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
    g.add_argument("--seed", type=_positive_int(0), default=1, metavar="S",
                   help="seed of every random step: folds, bootstrap, subsamples, simulation (default: 1).")
    g.add_argument("--bootstrap", type=_positive_int(0), default=200, metavar="N",
                   help="bootstrap replicates for coefficient stability; 0 skips it (default: 200).")
    g.add_argument("--choice", choices=("1se", "min"), default="1se",
                   help="CV lambda used for the coefficient table, bootstrap and inference (default: 1se).")
    g.add_argument("--n-rep", type=_positive_int(2), default=100, metavar="N",
                   help="Monte Carlo replicates of the bias-variance simulation (default: 100; ridge is exact).")
    g.add_argument("--no-stability", action="store_true", help="leave out stability selection.")
    g.add_argument("--no-inference", action="store_true", help="leave out post-selection inference.")
    g.add_argument("--no-bias-variance", action="store_true", help="leave out the bias-variance section.")
    g.add_argument("--no-figures", action="store_true", help="tables only: draw no figures (quicker).")
    g.add_argument("-o", "--out", default="report.html", metavar="FILE",
                   help="output file; .html (self-contained, figures inlined) or .md (figures written to "
                        "FILE_files/) (default: report.html).")
    g.add_argument("-j", "--n-jobs", type=int, default=1, metavar="J",
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
    fit.add_argument("-o", "--out", default="-", metavar="FILE",
                     help="CSV file to write; '-' writes to stdout (default).")
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
        return df, args.formula, str(args.data)
    name = args.dataset or "prostate"
    return load_dataset(name), args.formula or DEFAULT_FORMULAS[name], name


def _penalty(args: argparse.Namespace) -> float | str:
    if args.l1_ratio is not None and args.penalty != "elastic-net":
        raise CLIError(f"--l1-ratio needs --penalty elastic-net; got --penalty {args.penalty}")
    if args.l1_ratio == "cv" and args.command != "report":
        raise CLIError("--l1-ratio cv works with 'regstats report'; give a number for 'regstats fit'")
    return {"lasso": 1.0, "ridge": 0.0}.get(args.penalty, 0.5 if args.l1_ratio is None else args.l1_ratio)


# -- commands -------------------------------------------------------------------------------------
def _cmd_report(args: argparse.Namespace) -> int:
    from .report import report

    out = FilePath(args.out)
    if out.suffix.lower() not in (".html", ".htm", ".md", ".markdown"):
        raise CLIError(f"--out must end in .html or .md; got {args.out!r}")
    if out.parent and not out.parent.exists():
        raise CLIError(f"the directory of --out does not exist: {str(out.parent)!r}")
    data, formula, source = _read_data(args)
    l1 = _penalty(args)
    if not args.quiet:
        sys.stderr.write(f"regstats: {args.penalty} on {source}: {formula}\n")
    kw: dict[str, Any] = {}
    if args.n_lambda != 100:
        kw["n_lambda"] = args.n_lambda
    if args.lambda_min_ratio is not None:
        kw["lambda_min_ratio"] = args.lambda_min_ratio
    if args.no_standardize:
        kw["standardize"] = False
    if args.weights is not None:
        kw["weights"] = args.weights
    rep = report(formula, data, penalty=args.penalty, l1_ratio=l1 if args.penalty == "elastic-net" else None,
                 folds=args.folds, seed=args.seed, n_boot=args.bootstrap, choice=args.choice,
                 stability=not args.no_stability, inference=not args.no_inference,
                 bias_variance=not args.no_bias_variance, n_rep=args.n_rep, figures=not args.no_figures,
                 progress=not args.quiet,
                 source=source, out=out, **kw)
    problems = {k: v for k, v in rep.status.items() if v != "ok" and not v.startswith("not computed: left out")}
    for k, v in problems.items():
        sys.stderr.write(f"regstats: note: {k} {v}\n")
    return 0


def _cmd_fit(args: argparse.Namespace) -> int:
    import pandas as pd

    from .path import elastic_net

    data, formula, source = _read_data(args)
    l1 = _penalty(args)
    path = elastic_net(formula, data, l1_ratio=l1, n_lambda=args.n_lambda, standardize=not args.no_standardize,
                       lambda_min_ratio=args.lambda_min_ratio, weights=args.weights)
    tab = path.table.reset_index(drop=True)
    if args.folds is not None:
        cv = path.cv(folds=args.folds, seed=args.seed)
        cvt = cv.table.set_index("lambda")
        tab["cv_mean"] = cvt["cv_mean"].reindex(tab["lambda"]).to_numpy()
        tab["cv_se"] = cvt["cv_se"].reindex(tab["lambda"]).to_numpy()
        sys.stderr.write(f"regstats: lambda_min = {cv.lambda_min:.6g}, lambda_1se = {cv.lambda_1se:.6g} "
                         f"({args.folds}-fold CV, seed {args.seed})\n")
    coef = path.coef.reset_index(drop=True)
    clash = [c for c in coef.columns if c in tab.columns]
    if clash:
        coef = coef.rename(columns={c: f"coef_{c}" for c in clash})
    out = pd.concat([tab, coef], axis=1)
    if args.out == "-":
        out.to_csv(sys.stdout, index=False, float_format="%.10g")
    else:
        target = FilePath(args.out)
        if target.parent and not target.parent.exists():
            raise CLIError(f"the directory of --out does not exist: {str(target.parent)!r}")
        out.to_csv(target, index=False, float_format="%.10g")
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
    sys.stderr.write(f"regstats: warning: {message}\n")


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
    except KeyboardInterrupt:
        sys.stderr.write("regstats: interrupted\n")
        return 130
    finally:
        warnings.showwarning = old


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
