"""Formula + DataFrame -> design arrays, and the same encoding replayed on new data.

This is the only module that imports patsy (lazily: ``import patsy`` costs about a second, and
the common wide case ``y ~ .`` never needs it).  Plain numeric columns named in the formula take
a direct numpy path, so ``y ~ .`` on a 1000 x 5000 frame builds in milliseconds; every other
term (factors, interactions, transforms) goes through patsy with patsy's full-rank coding.

The ``.`` shorthand of R (``y ~ .`` and ``y ~ . - x3``) stands for every column of the data that
is not used on the left-hand side and not named as weights / fold ids.
"""
from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import DataError, DesignWarning, FormulaError, UnseenLevelError, warn

__all__ = ["Design", "DesignSpec", "as_frame", "build_design", "row_vector"]

_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")
_NAME_TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9.]*")


def _scan(text: str):
    """(position, character, bracket depth) of each character outside string literals."""
    depth, quote, escaped = 0, None, False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        yield i, ch, depth
    if depth != 0 or quote:
        raise FormulaError(f"unbalanced brackets or quotes in formula {text!r}")


def _split_formula(formula: Any) -> tuple[str, str]:
    """``(lhs, rhs)`` at the one ``~`` outside quotes (a ``~`` inside ``Q("a~b")`` is a name)."""
    if not isinstance(formula, str):
        shown = type(formula).__name__
        if isinstance(formula, (np.ndarray, pd.DataFrame, pd.Series)):
            shown += f" of shape {formula.shape}"
        raise FormulaError(f"formula must be a string 'response ~ terms'; got {shown}. regstats fits from a "
                           "formula and a DataFrame: rs.lasso('y ~ .', pd.DataFrame(X).assign(y=y))")
    tildes = [i for i, ch, depth in _scan(formula) if ch == "~"]
    if len(tildes) != 1:
        raise FormulaError(f"formula must be a string 'response ~ terms' with one '~' outside quotes; "
                           f"got {formula!r}")
    k = tildes[0]
    return formula[:k].strip(), formula[k + 1:].strip()


def _split_top(rhs: str) -> list[tuple[str, str]]:
    """Split a right-hand side at top-level + and - into (sign, term) pairs.

    An empty term (``x1 + + x2``, a trailing ``+`` or ``-``) is an error; only the first term may
    be empty, as in ``-1 + x``.
    """
    out: list[tuple[str, str]] = []
    start, sign = 0, "+"
    for i, ch, depth in _scan(rhs):
        if depth == 0 and ch in "+-":
            # a sign inside a number such as 1e-3 is not a term separator
            prev = rhs[start:i].strip()
            if re.search(r"(^|[^A-Za-z_0-9.])\d+(\.\d*)?[eE]$", prev):
                continue
            if not prev and out:
                raise FormulaError(f"formula right-hand side {rhs!r} has an empty term before {ch!r} "
                                   f"(at position {i}); remove the extra sign")
            out.append((sign, prev))
            sign, start = ch, i + 1
    last = rhs[start:].strip()
    if not last:
        raise FormulaError(f"formula right-hand side {rhs!r} ends with {sign!r} and no term after it; "
                           "remove it or add the missing term")
    out.append((sign, last))
    return [(s, t) for s, t in out if t]


def _quote(name: str) -> str:
    if _IDENT.match(name) and not keyword.iskeyword(name):
        return name
    return "Q(" + repr(name) + ")"


def _is_numeric(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def _numeric_map(df: pd.DataFrame) -> dict[str, bool]:
    """Column name -> numeric (bool counts as numeric), from ``df.dtypes``.

    One check per distinct dtype and no ``df[c]`` lookups: on a frame with thousands of
    columns the Series lookups, not the checks, were most of the cost of building a design.
    """
    dtypes = df.dtypes.tolist()
    by_dtype = {dt: _is_numeric(dt) for dt in set(dtypes)}
    return dict(zip(map(str, df.columns.tolist()), map(by_dtype.__getitem__, dtypes)))


def _data_names(code: str) -> list[str]:
    """Names in ``code`` that are neither called (C, Treatment, np.log) nor attributes: the columns;
    ``Q("name")`` gives its name."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return []
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called
             and n.id not in ("np", "numpy")}
    names |= {n.args[0].value for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
              and n.func.id == "Q" and n.args and isinstance(n.args[0], ast.Constant)}
    return sorted(names)


def _unseen_message(exc: Exception, info: Any) -> str:
    """'factor C(g) (column 'g') has level 'zz' ...': the factor named, from patsy's origin."""
    origin = getattr(exc, "origin", None)
    code = origin.code[origin.start:origin.end] if origin is not None else None
    m = re.search(r"value (.+?) does not match any of the expected levels \(expected: (.*)\)", str(exc))
    level, expected = (m.group(1), m.group(2)) if m else ("?", "?")
    cols = _data_names(code) if code else []
    where = f"factor {code!r}" + (f" (column {cols[0]!r})" if len(cols) == 1 else "") if code else "a factor"
    return (f"new data has a level the fit never saw in {where}: {level}; the fit's levels are {expected}. "
            "Map it to a known level, or drop those rows")


@dataclass(frozen=True)
class DesignSpec:
    """A frozen recipe that rebuilds the design columns from new data (for ``predict``).

    Attributes
    ----------
    formula : the formula as the user wrote it.
    response : the left-hand side.
    column_names : design column names, without the intercept.
    intercept : whether the model has an (unpenalized) intercept.
    terms : formula term -> names of its design columns.
    """

    formula: str
    response: str
    column_names: tuple[str, ...]
    intercept: bool
    terms: Mapping[str, tuple[str, ...]]
    plain: tuple[str, ...] = ()
    converted: tuple[str, ...] = ()
    _patsy_info: Any = field(default=None, repr=False, compare=False)
    _eval_env: Any = field(default=None, repr=False, compare=False)
    _numeric_terms: Any = field(default=None, repr=False, compare=False)

    # -- a plain, picklable and JSON-able form (patsy's objects do not pickle) -----------------
    def to_dict(self, portable: bool = False) -> dict[str, Any]:
        """The recipe as plain data: formula, column names, terms and patsy's encoding (factor
        levels, contrasts, stateful-transform states).  ``portable=True`` (JSON): only numpy and a
        few standard modules may come from the caller's namespace; otherwise names the formula
        takes from the caller's namespace are kept as objects (for pickle)."""
        info = self._patsy_info
        frozen = self.__dict__.get("_frozen")
        if info is not None:
            frozen = _freeze_patsy(info)
        extra = {}
        if info is not None or frozen is not None:
            extra = self.__dict__.get("_extra_names") or {}
            if self._eval_env is not None:
                extra = _namespace_used(frozen, self._eval_env)
            extra = _portable_names(extra, self.formula) if portable else extra
            if portable:
                for f in frozen["factors"]:
                    _check_saved_code(f["code"])
        return {"formula": self.formula, "response": self.response, "column_names": list(self.column_names),
                "intercept": bool(self.intercept), "terms": {k: list(v) for k, v in self.terms.items()},
                "plain": list(self.plain), "converted": list(self.converted),
                "numeric_terms": None if self._numeric_terms is None else
                [[name, list(codes)] for name, codes in self._numeric_terms],
                "patsy": frozen, "namespace": extra}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DesignSpec":
        """Rebuild a spec from :meth:`to_dict` (patsy's objects are rebuilt when first needed)."""
        try:
            spec = cls(formula=str(d["formula"]), response=str(d["response"]),
                       column_names=tuple(map(str, d["column_names"])), intercept=bool(d["intercept"]),
                       terms={str(k): tuple(map(str, v)) for k, v in d["terms"].items()},
                       plain=tuple(map(str, d["plain"])), converted=tuple(map(str, d.get("converted", ()))),
                       _numeric_terms=None if d.get("numeric_terms") is None else
                       tuple((str(n), tuple(map(str, c))) for n, c in d["numeric_terms"]))
        except (KeyError, TypeError, AttributeError) as exc:
            raise DataError(f"not a saved regstats design (missing or malformed {exc})") from None
        object.__setattr__(spec, "_frozen", d.get("patsy"))
        object.__setattr__(spec, "_extra_names", _restore_names(d.get("namespace") or {}))
        return spec

    def __reduce__(self):
        return (_spec_from_pickle, (self.to_dict(),))

    def _info(self):
        """patsy's DesignInfo, rebuilt from the frozen form after unpickling or loading."""
        if self._patsy_info is None and self.__dict__.get("_frozen") is not None:
            info = _thaw_patsy(self.__dict__["_frozen"], self.__dict__.get("_extra_names") or {},
                               checked=self.__dict__.get("_untrusted", True))
            object.__setattr__(self, "_patsy_info", info)
        return self._patsy_info

    def _convert(self, newdata: pd.DataFrame) -> pd.DataFrame:
        """The fit's text-to-number conversions, replayed on new data."""
        todo = [c for c in self.converted if c in newdata.columns and _is_text(newdata[c].dtype)]
        if not todo:
            return newdata
        newdata = newdata.copy(deep=False)
        for c in todo:
            num = _text_numbers(newdata[c])
            if num is None and newdata[c].notna().any():
                raise DataError(f"column {c!r} held numbers stored as text in the fit, but new data has "
                                "values that are not numbers")
            newdata[c] = num if num is not None else np.nan
        return newdata

    def transform(self, newdata: pd.DataFrame) -> np.ndarray:
        """Design matrix (no intercept column) for new rows; rows with missing values give NaN rows."""
        newdata = _as_frame(newdata, allow_empty=True, name="newdata")
        newdata = self._convert(newdata)
        n = len(newdata)
        parts = []
        missing = [c for c in self.plain if c not in newdata.columns]
        if missing:
            raise FormulaError(f"new data lacks column(s) {missing} used by the formula {self.formula!r}")
        if self.plain:
            sub = newdata[list(self.plain)]
            numeric = _numeric_map(sub)
            bad = [c for c in self.plain if not numeric[c]]
            if bad:
                raise DataError(f"column(s) {bad} must be numeric in new data, as they were in the fit")
            parts.append(sub.to_numpy(dtype=float, na_value=np.nan))
        if self._numeric_terms is not None:
            parts.append(_numeric_columns(self._numeric_terms, newdata, self.formula))
        if self._info() is not None:
            import patsy

            frame = newdata.reset_index(drop=True)
            try:
                (mat,) = patsy.build_design_matrices([self._patsy_info], frame, NA_action="drop",
                                                    return_type="dataframe")
            except patsy.PatsyError as exc:
                msg = str(exc)
                if "expected levels" in msg or "not match" in msg or "unknown level" in msg.lower():
                    raise UnseenLevelError(_unseen_message(exc, self._patsy_info)) from None
                raise FormulaError("cannot rebuild the design on new data: " + msg.splitlines()[0]) from None
            except NameError as exc:
                raise FormulaError(f"new data lacks a name used by the formula: {exc}") from None
            if "Intercept" in mat.columns:
                mat = mat.drop(columns="Intercept")
            full = np.full((n, mat.shape[1]), np.nan)
            full[mat.index.to_numpy()] = mat.to_numpy(dtype=float)
            parts.append(full)
        if not parts:
            return np.empty((n, 0))
        return np.hstack(parts) if len(parts) > 1 else parts[0]


def _spec_from_pickle(d: Mapping[str, Any]) -> DesignSpec:
    """Unpickling: a pickle may hold the caller's functions, so its codes are trusted as patsy's are."""
    spec = DesignSpec.from_dict(d)
    object.__setattr__(spec, "_untrusted", False)
    return spec


#: patsy's stateful transforms whose state may be stored and restored (plain attributes only)
_TRANSFORMS = {"patsy.state.Center", "patsy.state.Standardize", "patsy.splines.BS",
               "patsy.mgcv_cubic_splines.CR", "patsy.mgcv_cubic_splines.CC", "patsy.mgcv_cubic_splines.TE"}
#: modules a saved (JSON) formula may take from the caller's namespace, restored by import
_PORTABLE_MODULES = {"numpy"}


def _enc(v: Any) -> Any:
    """JSON-able form of the values in patsy's states (arrays, tuples, sets, numpy scalars)."""
    if isinstance(v, np.generic) and v.dtype.kind == "f" and v.dtype.itemsize > 8:
        v = np.asarray(v)
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "f" and v.dtype.itemsize > 8:  # long double: exact decimal strings
            flat = [str(x) for x in v.ravel()]
        else:
            flat = _enc(v.ravel().tolist())
        return {"__array__": flat, "dtype": str(v.dtype), "shape": list(v.shape)}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple):
        return {"__tuple__": [_enc(x) for x in v]}
    if isinstance(v, (set, frozenset)):
        return {"__set__": sorted(_enc(x) for x in v)}
    if isinstance(v, list):
        return [_enc(x) for x in v]
    if isinstance(v, dict):
        return {"__items__": [[_enc(k), _enc(x)] for k, x in v.items()]}
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    raise DataError(f"cannot store a value of type {type(v).__name__} of the formula's encoding")


def _dec(v: Any) -> Any:
    if isinstance(v, list):
        return [_dec(x) for x in v]
    if isinstance(v, dict):
        if "__array__" in v:
            arr = np.array(_dec(v["__array__"]), dtype=v["dtype"]).reshape(v["shape"])
            return arr[()] if arr.ndim == 0 else arr
        if "__tuple__" in v:
            return tuple(_dec(x) for x in v["__tuple__"])
        if "__set__" in v:
            return set(_dec(x) for x in v["__set__"])
        if "__items__" in v:
            return {_dec(k): _dec(x) for k, x in v["__items__"]}
        raise DataError(f"malformed saved design value {list(v)[:3]}")
    return v


def _freeze_patsy(info: Any) -> dict[str, Any]:
    """patsy's DesignInfo as plain data: per factor its code, type, levels and transform states;
    per term its factors and contrast matrices."""
    factors = list(info.factor_infos)
    out = []
    for f in factors:
        fi = info.factor_infos[f]
        st = fi.state
        transforms = {}
        for k, obj in st.get("transforms", {}).items():
            cname = f"{type(obj).__module__}.{type(obj).__qualname__}"
            if cname not in _TRANSFORMS:
                raise DataError(f"the formula's transform {cname} cannot be stored; use center, standardize, "
                                "bs, cr, cc or te from patsy")
            transforms[k] = {"class": cname, "state": _enc(dict(obj.__dict__))}
        out.append({"code": f.code, "type": fi.type, "num_columns": fi.num_columns,
                    "categories": None if fi.categories is None else _enc(tuple(fi.categories)),
                    "transforms": transforms})
    terms = []
    for term, subs in info.term_codings.items():
        terms.append({"factors": [factors.index(f) for f in term.factors],
                      "subterms": [{"factors": [factors.index(f) for f in sub.factors],
                                    "contrasts": [[factors.index(f), _enc(cm.matrix), list(cm.column_suffixes)]
                                                  for f, cm in sub.contrast_matrices.items()],
                                    "num_columns": int(sub.num_columns)} for sub in subs]})
    return {"column_names": list(info.column_names), "factors": out, "terms": terms}


def _check_saved_code(code: str) -> None:
    """A saved factor's code may use only data columns, numpy's functions and patsy's own: a
    model file is data, and loading it must run nothing else (regstats.formula_guard)."""
    from .formula_guard import check_formula

    try:
        check_formula(f"y ~ {code}")
    except FormulaError as exc:
        raise DataError(f"the saved design's term {code!r} is not allowed in a model file: "
                        f"{str(exc).split(': ', 1)[-1]}") from None


def _thaw_patsy(frozen: Mapping[str, Any], extra: Mapping[str, Any], checked: bool = True) -> Any:
    """patsy's DesignInfo from :func:`_freeze_patsy`'s plain data; ``checked``: each factor's code
    passes :func:`_check_saved_code` (JSON files; a pickle holds code anyway)."""
    from collections import OrderedDict

    import patsy
    from patsy.design_info import FactorInfo, SubtermInfo
    from patsy.eval import _builtins_dict

    env = _env(dict(extra)).with_outer_namespace(_builtins_dict)
    try:
        factors, infos = [], {}
        for f in frozen["factors"]:
            code = str(f["code"])
            if checked:
                _check_saved_code(code)
            ef = patsy.EvalFactor(code, origin=patsy.Origin(code, 0, len(code)))
            # patsy's own rewrite of the code (never the file's): fresh transform objects, whose
            # fitted states are then restored from the saved plain values
            state: dict[str, Any] = {}
            ef.memorize_passes_needed(state, env)
            saved = f["transforms"]
            if set(saved) != set(state["transforms"]):
                raise DataError(f"the saved transforms of {code!r} do not match its code")
            for k, t in saved.items():
                obj = state["transforms"][k]
                if t["class"] not in _TRANSFORMS or t["class"] != f"{type(obj).__module__}.{type(obj).__qualname__}":
                    raise DataError(f"saved design names an unexpected transform {t['class']!r}")
                obj.__dict__.clear()  # the fitted state only (a fresh object also has scratch fields)
                obj.__dict__.update(_dec(t["state"]))
            if f["type"] == "categorical":
                infos[ef] = FactorInfo(ef, "categorical", state, categories=tuple(_dec(f["categories"])))
            else:
                infos[ef] = FactorInfo(ef, "numerical", state, num_columns=int(f["num_columns"]))
            factors.append(ef)
        codings = OrderedDict()
        for t in frozen["terms"]:
            subs = [SubtermInfo([factors[i] for i in sub["factors"]],
                                {factors[i]: patsy.ContrastMatrix(np.asarray(_dec(m), dtype=float), list(sfx))
                                 for i, m, sfx in sub["contrasts"]}, sub["num_columns"])
                    for sub in t["subterms"]]
            codings[patsy.Term([factors[i] for i in t["factors"]])] = subs
        return patsy.DesignInfo(list(frozen["column_names"]), factor_infos=infos, term_codings=codings)
    except DataError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, patsy.PatsyError) as exc:
        raise DataError(f"the saved design cannot be rebuilt: {exc}") from None


def _namespace_used(frozen: Mapping[str, Any], env: Any) -> dict[str, Any]:
    """Objects the formula takes from the caller's namespace (not data columns, np or patsy's own)."""
    if env is None:
        return {}
    from patsy.eval import _builtins_dict

    names: set[str] = set()
    for f in frozen["factors"]:
        try:
            tree = ast.parse(f["code"], mode="eval")
        except SyntaxError:  # pragma: no cover - patsy parsed it
            continue
        names.update(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
    out = {}
    for name in sorted(names - {"np", "numpy"} - set(_builtins_dict)):
        try:
            out[name] = env.namespace[name]
        except KeyError:
            continue  # a data column
    return out


def _portable_names(extra: Mapping[str, Any], formula: str) -> dict[str, Any]:
    import types

    out = {}
    for name, obj in extra.items():
        if isinstance(obj, types.ModuleType) and obj.__name__ in _PORTABLE_MODULES:
            out[name] = {"module": obj.__name__}
        else:
            raise DataError(f"the formula {formula!r} uses {name!r} from your Python session; a saved model "
                            "stores no Python code: use np.<function> or a column computed in the data "
                            "(pickle keeps such names)")
    return out


def _restore_names(extra: Mapping[str, Any]) -> dict[str, Any]:
    import importlib

    out = {}
    for name, obj in extra.items():
        if isinstance(obj, Mapping) and set(obj) == {"module"}:
            if obj["module"] not in _PORTABLE_MODULES:
                raise DataError(f"saved design imports module {obj['module']!r}, which is not allowed")
            out[name] = importlib.import_module(obj["module"])
        else:
            out[name] = obj
    return out


@dataclass(frozen=True)
class Design:
    """The arrays of one model: response, design (no intercept column), and their recipe."""

    y: np.ndarray
    X: np.ndarray
    spec: DesignSpec
    n_rows: int          # rows in the data given
    rows: np.ndarray     # positions (0-based) of the rows used
    dropped_columns: tuple[str, ...] = ()
    _source: Any = field(default=None, repr=False, compare=False)  # keeps copy-on-write views safe

    @property
    def n_dropped(self) -> int:
        """Rows dropped for missing values."""
        return self.n_rows - len(self.rows)

    @property
    def column_names(self) -> tuple[str, ...]:
        return self.spec.column_names


_SAFE_NP = frozenset({"log", "log1p", "log2", "log10", "exp", "expm1", "exp2", "sqrt", "cbrt", "abs",
                       "absolute", "square", "sign", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
                       "sinh", "cosh", "tanh", "floor", "ceil", "power", "reciprocal"})
_SAFE_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow,
               ast.FloorDiv, ast.Mod, ast.USub, ast.UAdd, ast.Constant, ast.Name, ast.Load, ast.Call,
               ast.Attribute)


def _stateless_numeric(code: str, numeric: set[str]) -> set[str] | None:
    """Column names used by ``code`` if it is stateless arithmetic on numeric columns.

    Allowed: numeric columns, number literals, + - * / ** // %, ``I(...)`` and ``np.<ufunc>(...)``
    for a fixed list of elementwise functions.  Anything else (C(), center(), Q(), user
    functions, names from the caller's namespace) returns None and goes through patsy.
    """
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return None
    used: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _SAFE_NODES):
            return None
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            return None
        if isinstance(node, ast.Call):
            f = node.func
            ok = (isinstance(f, ast.Name) and f.id == "I" and len(node.args) == 1) or (
                isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                and f.value.id in ("np", "numpy") and f.attr in _SAFE_NP)
            if not ok or node.keywords:
                return None
        elif isinstance(node, ast.Attribute):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy") and node.attr in _SAFE_NP):
                return None
        elif isinstance(node, ast.Name) and node.id not in ("I", "np", "numpy"):
            if node.id not in numeric:
                return None
            used.add(node.id)
    return used


def _numeric_term_list(rhs: str, numeric: Mapping[str, bool]) -> tuple | None:
    """patsy's term list for ``rhs`` when every factor is stateless numeric arithmetic, else None.

    For such terms patsy's design is just the product of the factors' values, term by term in
    the order patsy lists them; computing that directly skips patsy's slow matrix builder.
    ``numeric`` maps every column name of the data to whether it is numeric (:func:`_numeric_map`).
    """
    if not numeric.keys().isdisjoint({"I", "np", "numpy"}):
        return None
    return _parse_numeric_terms(rhs, frozenset(c for c, ok in numeric.items() if ok))


@lru_cache(maxsize=256)
def _parse_numeric_terms(rhs: str, numeric: frozenset) -> tuple | None:
    import patsy

    try:
        desc = patsy.ModelDesc.from_formula(rhs)
    except patsy.PatsyError:
        return None
    terms = []
    for term in desc.rhs_termlist:
        if not term.factors:
            continue
        codes = []
        for f in term.factors:
            if not isinstance(f, patsy.EvalFactor) or _code_info(f.code, numeric) is None:
                return None
            codes.append(f.code)
        terms.append((term.name(), tuple(codes)))
    return tuple(terms) if terms else None


@lru_cache(maxsize=4096)
def _code_info(code: str, numeric: frozenset):
    """(compiled code, column names used) for stateless numeric code, else None."""
    names = _stateless_numeric(code, set(numeric))
    if names is None:
        return None
    return compile(code, "<formula>", "eval"), tuple(sorted(names))


def _numeric_columns(terms: tuple, data: pd.DataFrame, formula: str) -> np.ndarray:
    """Evaluate a numeric term list (see :func:`_numeric_term_list`) on ``data``; NaN stays NaN."""
    n = len(data)
    values: dict[str, np.ndarray] = {}
    env = {"np": np, "numpy": np, "I": lambda x: x, "__builtins__": {}}
    data_names = frozenset(str(c) for c in data.columns)
    out = np.empty((n, len(terms)))
    for k, (_, codes) in enumerate(terms):
        col = np.ones(n)
        for code in codes:
            if code not in values:
                info = _code_info(code, data_names)
                if info is None:
                    missing = [t for t in _NAME_TOKEN.findall(code) if t not in data.columns
                               and t not in ("I", "np", "numpy") and not hasattr(np, t)]
                    raise FormulaError(f"new data lacks column(s) {missing or code!r} used by the formula "
                                       f"{formula!r}")
                compiled, names = info
                local = {}
                for c in names:
                    ser = data[c]
                    if not _is_numeric(ser.dtype):
                        raise DataError(f"column {c!r} must be numeric, as it was in the fit")
                    local[c] = ser.to_numpy(dtype=float, na_value=np.nan)
                with np.errstate(all="ignore"):
                    val = np.asarray(eval(compiled, env, local), dtype=float)
                if val.ndim == 0:
                    val = np.full(n, float(val))
                values[code] = val.reshape(-1)
            col = col * values[code]
        out[:, k] = col
    return out


def _column_names(columns: pd.Index) -> list[str] | None:
    """String names for non-string column labels (``0`` -> ``"0"``, ``("a", "y")`` -> ``"a_y"``),
    or None when every label is a string already."""
    if isinstance(columns, pd.MultiIndex):
        return ["_".join(str(x) for x in t if str(x) != "" and not pd.isna(x)) for t in columns.tolist()]
    labels = columns.tolist()
    if all(isinstance(c, str) for c in labels):
        return None
    return [str(c) for c in labels]


def _as_frame(data: Any, allow_empty: bool = False, name: str = "data") -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        df = data
    elif isinstance(data, Mapping):
        try:
            df = pd.DataFrame(dict(data))
        except ValueError as exc:
            raise DataError(f"{name} as a dict must map column names to equal-length columns: {exc}") from None
    else:
        raise DataError(f"{name} must be a pandas DataFrame (or a dict of columns); got {type(data).__name__}")
    if not allow_empty and (df.shape[0] == 0 or df.shape[1] == 0):
        raise DataError(f"{name} is empty ({df.shape[0]} rows, {df.shape[1]} columns)")
    new = _column_names(df.columns)
    if new is not None:
        df = df.copy(deep=False)
        df.columns = new
    return df


def _is_text(dtype: Any) -> bool:
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _is_temporal(dtype: Any) -> bool:
    return (pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
            or isinstance(dtype, pd.PeriodDtype))


def _text_numbers(ser: pd.Series) -> pd.Series | None:
    """``ser`` as floats when it is text and every non-missing value parses as a number, else None."""
    if not _is_text(ser.dtype) or isinstance(ser.dtype, pd.CategoricalDtype):
        return None
    present = ser.dropna()
    if present.empty or not all(isinstance(v, str) for v in present.tolist()):
        return None
    num = pd.to_numeric(present.str.strip(), errors="coerce")
    if num.isna().any():
        return None
    return pd.to_numeric(ser.str.strip(), errors="coerce").astype(float)


def _referenced(formula: str, columns: Sequence[str], has_dot: bool) -> list[str]:
    """Columns the formula may use as numbers: all of them under ``.``, else those whose name
    occurs in it; never a column the formula names as a factor, ``C(name)`` (its text levels stay)."""
    named = columns if has_dot else [c for c in columns if c in formula]
    if "C(" not in formula:
        return list(named)
    return [c for c in named if not re.search(r"\bC\(\s*" + re.escape(c) + r"\s*[,)]", formula)]


def _convert_text_numbers(df: pd.DataFrame, candidates: Sequence[str]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Convert text columns whose every value is a number (``"1.5"``) to floats; the names converted."""
    done: dict[str, pd.Series] = {}
    dtypes = df.dtypes.tolist()  # one check per distinct dtype, no per-column lookups (wide frames)
    text = {dt: _is_text(dt) for dt in set(dtypes)}
    if not any(text.values()):
        return df, ()
    wanted = set(candidates)
    for c, dt in zip(map(str, df.columns.tolist()), dtypes):
        if text[dt] and c in wanted:
            num = _text_numbers(df[c])
            if num is not None:
                done[c] = num
    if not done:
        return df, ()
    df = df.copy(deep=False)
    for c, num in done.items():
        df[c] = num
    return df, tuple(done)


def _check_factor_column(ser: pd.Series, name: str, formula: str, from_dot: bool) -> None:
    """Refuse a non-numeric column that would silently become a meaningless factor: dates and
    times (about one dummy per row), and under ``.`` an identifier (a distinct value per row)."""
    q = _quote(name)
    if _is_temporal(ser.dtype):
        raise FormulaError(
            f"column {name!r} holds dates or times ({ser.dtype}), which would become one dummy column per "
            f"distinct value; regstats does not guess how to encode time. Add a numeric column, such as "
            f"data[{name + '_year'!r}] = data[{name!r}].dt.year (or days since a start), use C({q}) for a "
            f"few distinct values, or leave it out with '- {q}'")
    if from_dot:
        present = ser.dropna()
        k, n = int(present.nunique()), len(present)
        if k > 2 and k >= 0.9 * n:
            raise FormulaError(
                f"column {name!r} looks like an identifier ({k} distinct values in {n} rows) and '.' would "
                f"turn it into {k - 1} dummy columns; leave it out with '{formula} - {q}' (or make it the "
                "index: data.set_index(...)), or name it in the formula if you mean it as a factor")


def _env(namespace: Mapping[str, Any] | None):
    import patsy

    spaces: list[Mapping[str, Any]] = []
    if namespace is not None:
        spaces.append(namespace)
    spaces.append({"np": np, "numpy": np})
    return patsy.EvalEnvironment(spaces)


def _patsy_error(exc: Exception, formula: str, columns: Sequence[str]) -> FormulaError:
    msg = str(exc).splitlines()[0]
    m = re.search(r"name '([^']+)' is not defined", str(exc))
    if m:
        return FormulaError(f"unknown name {m.group(1)!r} in formula {formula!r}; the data has columns "
                            f"{list(columns)[:20]}{' ...' if len(columns) > 20 else ''}")
    return FormulaError(f"cannot build the design for {formula!r}: {msg}")


def build_design(formula: str, data: Any, *, namespace: Mapping[str, Any] | None = None,
                 exclude: Sequence[str] = ()) -> Design:
    """Build y and X from a formula and a DataFrame.

    Parameters
    ----------
    formula : ``"y ~ x1 + C(g) + np.log(x2)"``; ``.`` stands for all other columns.
    data : the DataFrame.
    namespace : names the formula may use besides the data columns (the caller's variables);
        ``np`` is always available.
    exclude : columns that ``.`` must not include (weights, fold ids, groups).
    """
    lhs, rhs = _split_formula(formula)
    df = _as_frame(data)
    rhs_terms = _split_top(rhs) if rhs else []
    has_dot = any(t == "." for _, t in rhs_terms)
    df, converted = _convert_text_numbers(df, _referenced(formula, [str(c) for c in df.columns.tolist()],
                                                          has_dot))
    if converted:
        warn(f"column(s) {list(converted)} hold numbers stored as text; converted to numbers "
             "(write C(name) to use one as a factor)", DesignWarning)
    if not lhs:
        raise FormulaError(f"formula {formula!r} has no response (left-hand side)")
    if not rhs:
        raise FormulaError(f"formula {formula!r} has no terms (right-hand side)")
    columns = [str(c) for c in df.columns.tolist()]  # tolist: iterating an Index is slow
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise DataError(f"data has duplicate column names {dup}")
    col_set = set(columns)
    numeric = _numeric_map(df)

    # ---- the response -------------------------------------------------------------------------
    lhs_plain = lhs if lhs in col_set else None
    lhs_names = {lhs} if lhs_plain else {t for t in (*_NAME_TOKEN.findall(lhs), *_data_names(lhs)) if t in col_set}

    # ---- the right-hand side: expand ".", sort plain numeric names from patsy terms ------------
    intercept = True
    plain: list[str] = []
    removed: set[str] = set()
    complex_terms: list[str] = []
    removed_complex: list[str] = []
    dot_cols: set[str] = set()
    for sign, term in rhs_terms:
        if term in ("0", "1"):
            intercept = (term == "1") == (sign == "+")
            continue
        if term == ".":
            names = [c for c in columns if c not in lhs_names and c not in exclude]
            if sign == "-":
                removed.update(names)
            else:
                plain.extend(names)
                dot_cols.update(names)
            continue
        if numeric.get(term, False):
            if sign == "-":
                removed.add(term)
                removed_complex.append(_quote(term))  # may also be inside a patsy term: a*b - a
            else:
                plain.append(term)
            continue
        if sign == "-":
            if term in col_set:
                removed.add(term)  # a non-numeric column: out of '.' too
            if _IDENT.match(term) and term not in col_set and term not in (namespace or {}):
                raise FormulaError(f"formula {formula!r} removes {term!r}, which is not a column of the "
                                   f"data; columns are {columns[:20]}{' ...' if len(columns) > 20 else ''}")
            removed_complex.append(term)
        else:
            if term in col_set and not numeric[term]:
                _check_factor_column(df[term], term, formula, from_dot=False)
            complex_terms.append(term)
    # columns of "." that are not numeric become patsy terms (categorical coding)
    seen: set[str] = set()
    plain_num: list[str] = []
    for c in plain:
        if c in removed or c in seen:
            continue
        seen.add(c)
        if numeric[c]:
            plain_num.append(c)
        else:
            _check_factor_column(df[c], c, formula, from_dot=c in dot_cols)
            complex_terms.append(_quote(c))
    complex_terms = [t for t in complex_terms if t not in removed_complex
                     and not (t.startswith("Q(") and t[3:-2] in removed)]

    # ---- rows: missing values in the response or the plain columns -----------------------------
    n_rows = len(df)
    keep = np.ones(n_rows, dtype=bool)
    plain_checked = False
    plain_frame = None
    if lhs_plain is not None:
        yser = df[lhs_plain]
        if not _is_numeric(yser.dtype):
            raise DataError(f"the response {lhs_plain!r} must be numeric; it has dtype {yser.dtype}")
        y_all = yser.to_numpy(dtype=float, na_value=np.nan)
        keep &= ~np.isnan(y_all)
    if plain_num:
        plain_frame = df[plain_num]
        Xp_all = plain_frame.to_numpy(dtype=float, na_value=np.nan)
        if not _COPY_ON_WRITE and np.may_share_memory(Xp_all, df[plain_num[0]].to_numpy()):
            # a view of the DataFrame's memory: copy (same layout, one memcpy) so that later
            # changes to the data cannot change a fitted model.  (The result of ``to_numpy`` is
            # a transposed view whether or not it is the data's memory, so ``owndata`` cannot
            # tell; pandas 2 usually copies already when selecting the columns.)  With pandas'
            # copy-on-write (pandas >= 3) the view is read-only and keeping ``plain_frame`` alive
            # (in the Design) makes any later write to the data copy first, so no copy is needed.
            Xp_all = np.array(Xp_all, order="K", copy=True)
        # one cheap pass: a column sum is finite only if the column has no NaN / inf
        plain_checked = bool(np.isfinite(Xp_all.sum(axis=0)).all())
        if not plain_checked:
            keep &= ~np.isnan(Xp_all).any(axis=1)
    rows = np.flatnonzero(keep)

    terms: dict[str, tuple[str, ...]] = {c: (c,) for c in plain_num}
    names: list[str] = list(plain_num)
    patsy_info = None
    numeric_terms = None
    X_parts = []
    y = None
    env = None
    if complex_terms or lhs_plain is None:
        import patsy

        env = _env(namespace)
        sub = df.iloc[rows].reset_index(drop=True)
        try:
            if lhs_plain is None:
                ymat = patsy.dmatrix(f"({lhs}) - 1", sub, eval_env=env, NA_action="drop",
                                     return_type="dataframe")
                if ymat.shape[1] != 1:
                    raise DataError(f"the response {lhs!r} must be numeric; it codes to "
                                    f"{ymat.shape[1]} columns {list(ymat.columns)[:5]}")
                good = ymat.index.to_numpy()
                y_sub = ymat.iloc[:, 0].to_numpy(dtype=float)
                rows, sub = rows[good], sub.iloc[good].reset_index(drop=True)
                y_all = np.full(n_rows, np.nan)
                y_all[rows] = y_sub
            rhs_p = ("1 + " if intercept else "0 + ") + " + ".join(complex_terms)
            rhs_p += "".join(f" - {t}" for t in removed_complex)
            fast = _numeric_term_list(rhs_p, numeric) if complex_terms else None
            if fast is not None:
                Xf = _numeric_columns(fast, sub, formula)
                good = np.flatnonzero(~np.isnan(Xf).any(axis=1))
                if good.size < len(rows):
                    Xf = Xf[good]
                    rows = rows[good]
                numeric_terms = fast
                for tname, _ in fast:
                    terms[tname] = (tname,)
                names.extend(t for t, _ in fast)
                X_parts.append(("numeric", Xf))
            elif complex_terms:
                xmat = patsy.dmatrix(rhs_p, sub, eval_env=env, NA_action="drop", return_type="dataframe")
                good = xmat.index.to_numpy()
                rows = rows[good]
                patsy_info = xmat.design_info
                for tname, sl in patsy_info.term_name_slices.items():
                    if tname == "Intercept":
                        continue
                    cols = tuple(patsy_info.column_names[sl])
                    terms[tname] = cols
                pcols = [c for c in xmat.columns if c != "Intercept"]
                names.extend(pcols)
                X_parts.append(("patsy", xmat[pcols].to_numpy(dtype=float)))
        except DataError:
            raise
        except patsy.PatsyError as exc:
            raise _patsy_error(exc, formula, columns) from None
        except NameError as exc:  # pragma: no cover - patsy normally wraps these
            raise _patsy_error(exc, formula, columns) from None
        except RecursionError:
            raise FormulaError(f"formula {formula!r} is too long for patsy; plain numeric columns "
                               "are handled directly, so write wide parts as plain names or '.'") from None

    if len(rows) == 0:
        raise DataError(f"no rows left after dropping rows with missing values (all {n_rows} had some)")
    y = y_all[rows]
    mats = []
    if plain_num:
        mats.append(Xp_all if len(rows) == n_rows else Xp_all[rows])
    for _, m in X_parts:
        mats.append(m)
    if not mats:
        raise FormulaError(f"formula {formula!r} has no predictors; penalized regression needs at least one")
    X = np.hstack(mats) if len(mats) > 1 else mats[0]
    if "Intercept" in names:
        raise FormulaError(
            f"the data has a column named 'Intercept', which would be reported beside the model's own "
            f"intercept under the same name; rename it, e.g. data.rename(columns={{'Intercept': "
            f"'Intercept_'}}), or leave it out with '- Intercept'")
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise FormulaError(f"formula {formula!r} names design column(s) {dup} twice")
    if not np.all(np.isfinite(y)):
        raise DataError(f"the response {lhs!r} has infinite values")
    finite = np.ones(X.shape[1], dtype=bool) if plain_checked and len(mats) == 1 else np.isfinite(X.sum(axis=0))
    if not finite.all():
        finite = np.isfinite(X).all(axis=0)
    if not finite.all():
        bad = [names[j] for j in np.flatnonzero(~finite)][:10]
        raise DataError(f"design column(s) {bad} have infinite values")
    spec = DesignSpec(formula=formula, response=lhs, column_names=tuple(names), intercept=intercept,
                      terms=terms, plain=tuple(plain_num), _patsy_info=patsy_info, _eval_env=env,
                      _numeric_terms=numeric_terms, converted=converted)
    return Design(y=y, X=X, spec=spec, n_rows=n_rows, rows=rows, _source=plain_frame)


def row_vector(value: Any, data: pd.DataFrame, design: Design, name: str, *,
               numeric: bool = True) -> np.ndarray | None:
    """An argument with one entry per row (weights, fold ids, groups), as used rows only.

    ``value`` is None, a column name of ``data``, or an array with one entry per used row or one
    per row of ``data`` (then the rows dropped for missing values are dropped from it too).
    """
    if value is None:
        return None
    if isinstance(value, str):
        if value not in data.columns:
            raise DataError(f"{name} names column {value!r}, which the data does not have")
        arr = data[value].to_numpy()[design.rows]
    else:
        arr = np.asarray(value)
        if arr.ndim != 1:
            raise DataError(f"{name} must be one-dimensional; got shape {arr.shape}")
        if len(arr) == len(design.rows):
            pass
        elif len(arr) == design.n_rows:
            arr = arr[design.rows]
        else:
            raise DataError(f"{name} must have one entry per row ({design.n_rows} rows in the data, "
                            f"{len(design.rows)} used in the fit); got {len(arr)}")
    if numeric:
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            raise DataError(f"{name} must be numeric") from None
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{name} has missing or infinite values in the rows used by the fit")
    return arr


def as_frame(data: Any, allow_empty: bool = False, name: str = "data") -> pd.DataFrame:
    """``data`` as a DataFrame with string column names (a dict of columns is accepted)."""
    return _as_frame(data, allow_empty=allow_empty, name=name)
