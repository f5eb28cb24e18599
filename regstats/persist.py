"""Save a fitted path to JSON and load it back: :func:`save_path`, :func:`load`.

The file holds the formula, the frozen design recipe (factor levels, contrasts, the states of
``center``/``standardize``/spline transforms), the lambdas, the coefficients and the fitting
options, all as plain JSON: no pickle, so loading a file runs no code from it.  A loaded path
predicts new data exactly as the fitted one did (the same numbers, bit for bit); it holds no data,
so it cannot be refitted or cross-validated.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from . import _validate as check
from ._summary import Summary
from .design import DesignSpec, as_frame
from .errors import DataError, FileError, ParameterError
from .family import on_scale

__all__ = ["LoadedPath", "save_path", "load"]

FORMAT = "regstats-path"
#: the newest format this regstats reads and writes: 2 for binomial and Poisson paths (an older
#: regstats must refuse them rather than predict the linear predictor as a gaussian mean); gaussian
#: paths are still written as version 1, which every regstats reads
FORMAT_VERSION = 2
_GAUSSIAN_VERSION = 1


def _num(x: float) -> float | str:
    """A float for JSON: non-finite values as the strings 'inf', '-inf', 'nan' (strict JSON)."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _unnum(x: Any) -> float:
    return float(x)


def _write_atomic(file: Any, text: str) -> None:
    """Write ``text`` to ``file`` (a name: through a temporary file beside it and ``os.replace``,
    so the target is the old file or the complete new one; an open text file: directly).  A failed
    write is an :class:`~regstats._atomic.OutputError` naming the path and the reason."""
    if hasattr(file, "write"):
        file.write(text)
        return
    from ._atomic import write_text

    write_text(file, text)


def path_to_dict(path: Any) -> dict[str, Any]:
    """The JSON content of a fitted :class:`~regstats.Path`."""
    from . import __version__

    o = path._options
    spec = path._design.spec
    pf = None if o.penalty_factor is None else [_num(v) for v in o.penalty_factor]
    glm = {} if path.family == "gaussian" else {
        "family": path.family, "levels": None if path.levels is None else list(path.levels)}
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION if glm else _GAUSSIAN_VERSION,
        "regstats_version": __version__,
        "formula": path.formula, "l1_ratio": path.l1_ratio, **glm,
        "lambdas": [_num(x) for x in path.lambdas],
        "coef": {"columns": [str(c) for c in path.coef.columns],
                 "values": [[_num(x) for x in row] for row in path.coef.to_numpy()]},
        "n_obs": int(path.n_obs), "n_dropped": int(path.n_dropped),
        "options": {"standardize": bool(path.standardize), "tol": o.tol, "max_iter": int(o.max_iter),
                    "lambda_min_ratio": o.lambda_min_ratio, "user_lambdas": bool(o.user_lambdas),
                    "y_scale": o.y_scale, "penalty_factor": pf, "weighted": o.weights is not None,
                    **({} if o.offset is None else {"offset": o.offset_name or "array"})},
        "design": spec.to_dict(portable=True),
    }


def save_path(path: Any, file: Any) -> None:
    """Write ``path`` to ``file`` (a file name or an open text file) as JSON, atomically."""
    text = json.dumps(path_to_dict(path), indent=1, allow_nan=False)
    _write_atomic(file, text + "\n")


@dataclass(frozen=True, eq=False)
class LoadedPath:
    """A path read from JSON by :func:`regstats.load`: coefficients and the design recipe.

    Attributes
    ----------
    formula, l1_ratio, lambdas (decreasing), coef (DataFrame indexed by lambda, ``Intercept``
    first), column_names, n_obs, n_dropped, options (the fitting options, as saved).
    """

    formula: str
    l1_ratio: float
    lambdas: np.ndarray
    coef: pd.DataFrame
    column_names: tuple[str, ...]
    n_obs: int
    n_dropped: int
    options: Mapping[str, Any]
    spec: DesignSpec
    regstats_version: str
    family: str = "gaussian"
    levels: tuple[str, str] | None = None

    @property
    def intercept(self) -> bool:
        return self.spec.intercept

    @property
    def penalty(self) -> str:
        return "lasso" if self.l1_ratio == 1 else "ridge" if self.l1_ratio == 0 else "elastic net"

    def _coef_at(self, lams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(coefficients, intercepts) at ``lams``: the grid's own rows, and between two grid
        lambdas linear interpolation in lambda (glmnet's ``predict(..., exact = FALSE)``); a lambda
        outside the grid is refused (there is no data to solve it)."""
        grid = self.lambdas
        full = self.coef.to_numpy()
        rows = []
        for lam in lams:
            hit = np.flatnonzero(np.isclose(grid, lam, rtol=1e-12, atol=0.0))
            if hit.size:
                rows.append(full[hit[0]])
                continue
            if not grid[-1] < lam < grid[0]:
                raise ParameterError(f"lam must be within the saved path's lambdas [{grid[-1]:.6g}, "
                                     f"{grid[0]:.6g}] (a loaded path has no data to solve elsewhere); got {float(lam):.6g}")
            k = int(np.flatnonzero(grid > lam)[-1])  # grid[k] > lam > grid[k + 1]
            t = (grid[k] - lam) / (grid[k] - grid[k + 1])
            rows.append((1 - t) * full[k] + t * full[k + 1])
        mat = np.array(rows)
        if self.intercept:
            return mat[:, 1:], mat[:, 0]
        return mat, np.zeros(len(lams))

    def predict(self, newdata: Any, lam: float | Sequence[float] | None = None, type: str = "response",
                offset: Any = None) -> pd.DataFrame:
        """Predictions for new rows, one column per lambda (all saved lambdas when ``lam`` is None).

        ``newdata`` (a DataFrame or a dict of columns) goes through the saved formula's encoding:
        the same factor levels, contrasts and transforms as the fit.  Binomial and Poisson paths:
        ``type`` and ``offset`` as :meth:`regstats.Path.predict`.
        """
        typ = check.choice("type", type, ("response", "link", "class"))
        frame = as_frame(newdata, allow_empty=True, name="newdata")
        X = self.spec.transform(frame)
        if lam is None:
            lams = self.lambdas
            full = self.coef.to_numpy()
            coef, b0 = (full[:, 1:], full[:, 0]) if self.intercept else (full, np.zeros(len(lams)))
        else:
            items = list(np.ravel(np.asarray(lam, dtype=object))) if not isinstance(lam, str) and np.ndim(lam) > 0 else [lam]
            lams = np.array([check.real_in("lam", x, 0.0, np.inf) for x in items])
            coef, b0 = self._coef_at(lams)
        pred = X @ coef.T + b0[None, :]
        if self.family != "gaussian":
            pred += self._offset(frame, offset)[:, None]
        pred = on_scale(self.family, pred, typ, self.levels)
        return pd.DataFrame(pred, index=frame.index, columns=pd.Index(lams, name="lambda"))

    def _offset(self, frame: pd.DataFrame, offset: Any) -> np.ndarray:
        name = self.options.get("offset")
        if name is None:
            if offset is not None:
                raise ParameterError("offset is for models fitted with an offset; this one has none")
            return np.zeros(len(frame))
        if offset is not None:
            arr = np.asarray(offset, dtype=float).ravel()
            if arr.shape != (len(frame),):
                raise DataError(f"offset must have one entry per row of newdata ({len(frame)}); got {arr.size}")
            return arr
        if name != "array" and name in frame.columns:
            return frame[name].to_numpy(dtype=float)
        raise ParameterError("this model has an offset: give the new rows' offset, predict(newdata, offset=...)"
                             + (f" or a column {name!r}" if name != "array" else ""))

    def save(self, file: Any) -> None:
        """Write this path back to JSON."""
        glm = {} if self.family == "gaussian" else {
            "family": self.family, "levels": None if self.levels is None else list(self.levels)}
        d = {"format": FORMAT, "format_version": FORMAT_VERSION if glm else _GAUSSIAN_VERSION,
             "regstats_version": self.regstats_version, **glm,
             "formula": self.formula, "l1_ratio": self.l1_ratio, "lambdas": [_num(x) for x in self.lambdas],
             "coef": {"columns": [str(c) for c in self.coef.columns],
                      "values": [[_num(x) for x in row] for row in self.coef.to_numpy()]},
             "n_obs": self.n_obs, "n_dropped": self.n_dropped, "options": dict(self.options),
             "design": self.spec.to_dict(portable=True)}
        _write_atomic(file, json.dumps(d, indent=1, allow_nan=False) + "\n")

    def summary(self, max_rows: int = 20) -> Summary:
        """Header facts and a thinned table of the saved lambdas and nonzero counts."""
        coef = self.coef.drop(columns="Intercept") if self.intercept else self.coef
        tab = pd.DataFrame({"lambda": self.lambdas, "n_nonzero": (coef.to_numpy() != 0).sum(axis=1)})
        if len(tab) > max_rows:
            tab = tab.iloc[np.unique(np.linspace(0, len(tab) - 1, max_rows).round().astype(int))]
        info = [("Formula", self.formula), ("Penalty", f"{self.penalty} (l1_ratio = {self.l1_ratio:g})"),
                ("Design columns", f"{len(self.column_names)}" + (" + intercept" if self.intercept else "")),
                ("Fitted on", f"{self.n_obs} rows ({self.n_dropped} dropped for missing values)"),
                ("Saved by", f"regstats {self.regstats_version}")]
        if self.family != "gaussian":
            info.insert(1, ("Family", self.family + (f" (modelling {self.levels[1]!r})" if self.levels else "")))
        return Summary(title=f"Saved penalized regression path: {self.penalty}", info=info,
                       tables=[("Path", tab.reset_index(drop=True))], index=False,
                       notes=["A loaded path predicts; it holds no data, so it cannot be refitted."])

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        return (f"<LoadedPath {self.penalty} {self.formula!r}: {len(self.lambdas)} lambdas, "
                f"{len(self.column_names)} columns>")


def path_from_dict(d: Mapping[str, Any]) -> LoadedPath:
    """A :class:`LoadedPath` from :func:`path_to_dict`'s content."""
    if not isinstance(d, Mapping) or d.get("format") != FORMAT:
        raise DataError("not a saved regstats path (no \"format\": \"regstats-path\" entry)")
    if int(d.get("format_version", 0)) > FORMAT_VERSION:
        raise DataError(f"the file was saved in format version {d['format_version']} by regstats "
                        f"{d.get('regstats_version')}; this regstats reads version {FORMAT_VERSION}: upgrade")
    try:
        lams = np.array([_unnum(x) for x in d["lambdas"]])
        cols = [str(c) for c in d["coef"]["columns"]]
        vals = np.array([[_unnum(x) for x in row] for row in d["coef"]["values"]], dtype=float)
        spec = DesignSpec.from_dict(d["design"])
        spec._info()  # rebuild (and check) patsy's encoding now: a bad file fails at load
        if vals.shape != (len(lams), len(cols)):
            raise DataError(f"coefficients of shape {vals.shape} do not match {len(lams)} lambdas x "
                            f"{len(cols)} columns")
        expect = (["Intercept"] if spec.intercept else []) + list(spec.column_names)
        if cols != expect:
            raise DataError("the coefficient columns do not match the saved design's columns")
        coef = pd.DataFrame(vals, index=pd.Index(lams, name="lambda"), columns=cols)
        return LoadedPath(formula=str(d["formula"]), l1_ratio=float(d["l1_ratio"]), lambdas=lams, coef=coef,
                          column_names=tuple(spec.column_names), n_obs=int(d["n_obs"]),
                          n_dropped=int(d["n_dropped"]), options=dict(d.get("options", {})), spec=spec,
                          regstats_version=str(d.get("regstats_version", "?")),
                          family=str(d.get("family", "gaussian")),
                          levels=None if d.get("levels") is None else tuple(str(v) for v in d["levels"]))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"not a valid saved regstats path: {type(exc).__name__} {exc}") from None


def load(file: Any) -> LoadedPath:
    """Read a path saved with ``path.save(file)`` (a file name or an open text file).

    >>> import regstats as rs, io
    >>> path = rs.lasso("mpg ~ C(cyl) + wt + np.log(hp)", rs.load_dataset("mtcars"))
    >>> buf = io.StringIO(); path.save(buf); _ = buf.seek(0)
    >>> loaded = rs.load(buf)
    >>> new = rs.load_dataset("mtcars").head(3)
    >>> bool((loaded.predict(new) == path.predict(new)).all().all())
    True
    """
    try:
        if hasattr(file, "read"):
            d = json.load(file)
        else:
            with open(os.fspath(file), encoding="utf-8") as fh:
                d = json.load(fh)
    except OSError as exc:
        raise FileError(f"cannot read {os.fspath(file)!r}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"not a saved regstats path (not JSON: {exc})") from None
    return path_from_dict(d)
