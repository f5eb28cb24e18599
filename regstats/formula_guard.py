"""Check a formula before it is evaluated: only data columns, numpy's functions and patsy's own.

patsy evaluates each term of a formula as Python, so a formula is code:
``y ~ I(__import__("os").system("id"))`` runs ``id``.  The ``regstats`` command calls
:func:`check_formula` on every formula it is given (``--trust-formula`` skips it); the library
keeps patsy's semantics.

Allowed: names of the data's columns; ``np.<function>`` (numpy's ufuncs and a list of pure array
functions and constants, one level deep); patsy's own ``C, Q, I, center, standardize, scale, bs,
cr, cc, te`` and its contrasts (``Treatment``, ``Sum``, ...); numbers, strings and lists as
arguments; arithmetic, comparisons, ``and``/``or``/``not``; R's ``.``.  Refused: every other
name (so no builtins such as ``__import__``, ``open`` or ``eval``), names with underscores at both
ends, attribute access other than ``np.<name>``, subscripts, lambdas, comprehensions, calls of
anything but the allowed functions, and constant powers that would take forever (``9**9**9``).

This module parses the formula with Python's own tokenizer and ``ast``; it does not import patsy.
"""
from __future__ import annotations

import ast
import io
import tokenize
from typing import Iterable

import numpy as np

from .errors import FormulaError

__all__ = ["check_formula", "PATSY_FUNCTIONS", "NUMPY_FUNCTIONS"]

PATSY_FUNCTIONS = frozenset({"C", "Q", "I", "center", "standardize", "scale", "bs", "cr", "cc", "te",
                             "Treatment", "Sum", "Diff", "Helmert", "Poly"})
# numpy functions that are not ufuncs but pure, elementwise or reducing, and safe
NUMPY_FUNCTIONS = frozenset({"where", "clip", "round", "around", "mean", "median", "std", "var", "min", "max",
                             "percentile", "quantile", "log", "exp", "sqrt", "abs", "absolute", "sign", "square",
                             "cumsum", "diff", "pi", "e", "inf", "nan", "isnan", "isfinite", "logical_and",
                             "logical_or", "logical_not", "digitize", "interp"})
_DOT = "regstats_all_columns_dot"
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitOr, ast.BitAnd,
           ast.BitXor)
_UNARY = (ast.UAdd, ast.USub, ast.Not, ast.Invert)
_CMP = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _numpy_ok(name: str) -> bool:
    if name.startswith("_") or name.endswith("_"):
        return False
    return name in NUMPY_FUNCTIONS or isinstance(getattr(np, name, None), np.ufunc)


def _as_python(formula: str) -> str:
    """The formula as one Python expression with the same names, calls and attribute accesses:
    the formula's ``~`` becomes ``|``, ``:`` becomes ``*`` and R's lone ``.`` a placeholder name."""
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(formula).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise FormulaError(f"cannot parse formula {formula!r}: {exc.args[0] if exc.args else exc}") from None
    out: list[tuple[int, str]] = []
    prev = None
    depth = 0
    for tok in toks:
        kind, text = tok.type, tok.string
        if kind in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT):
            continue
        if kind == tokenize.COMMENT:
            raise FormulaError(f"formula {formula!r} contains '#'; quote such a column name with Q(\"...\")")
        if kind == tokenize.OP and text in "([{":
            depth += 1
        elif kind == tokenize.OP and text in ")]}":
            depth -= 1
        if kind == tokenize.OP and text == "~" and depth == 0:
            text = "|" if prev is not None else "~"
        elif kind == tokenize.OP and text == ":":
            text = "*"
        elif kind == tokenize.OP and text == "." and not (
                prev is not None and (prev.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING)
                                      or prev.string in (")", "]"))):
            kind, text = tokenize.NAME, _DOT
        out.append((kind, text))
        prev = tok
    return tokenize.untokenize(out)


class _Checker(ast.NodeVisitor):
    def __init__(self, formula: str, columns: set[str] | None) -> None:
        self.formula, self.columns = formula, columns
        self.used: set[str] = set()

    def refuse(self, what: str) -> None:
        raise FormulaError(
            f"formula {self.formula!r} is refused: {what}. The regstats command evaluates formulas "
            "with data columns, np.<function>, patsy's C, Q, I, center, standardize, scale, bs, cr, cc, te "
            "and arithmetic only; pass --trust-formula to evaluate it as Python (a formula is code)")

    def generic_visit(self, node: ast.AST) -> None:
        self.refuse(f"{type(node).__name__.lower()} expressions are not allowed")

    def visit_Expression(self, node: ast.Expression) -> None:
        self.visit(node.body)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if not isinstance(node.op, _BINOPS):
            self.refuse(f"the operator {type(node.op).__name__} is not allowed")
        if isinstance(node.op, ast.Pow) and not _small_power(node):
            self.refuse("a power of a constant with a large or computed exponent is not allowed")
        for side in (node.left, node.right):
            if isinstance(side, ast.Constant) and not _is_number(side.value):
                self.refuse(f"arithmetic on the constant {side.value!r} is not allowed")
        self.visit(node.left)
        self.visit(node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if not isinstance(node.op, _UNARY):
            self.refuse(f"the operator {type(node.op).__name__} is not allowed")
        self.visit(node.operand)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        for v in node.values:
            self.visit(v)

    def visit_Compare(self, node: ast.Compare) -> None:
        for op in node.ops:
            if not isinstance(op, _CMP):
                self.refuse(f"the comparison {type(op).__name__} is not allowed")
        self.visit(node.left)
        for c in node.comparators:
            self.visit(c)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        for v in (node.test, node.body, node.orelse):
            self.visit(v)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not (node.value is None or isinstance(node.value, (bool, int, float, complex, str))):
            self.refuse(f"the constant {node.value!r} is not allowed")

    def visit_List(self, node: ast.List) -> None:
        for e in node.elts:
            self.visit(e)

    visit_Tuple = visit_List

    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if name == _DOT:
            return
        if name.startswith("__") or name.endswith("__") or (name.startswith("_") and name.endswith("_")):
            self.refuse(f"the name {name!r} (underscores at both ends) is not allowed")
        if self.columns is not None and name in self.columns:
            self.used.add(name)
            return
        if name in PATSY_FUNCTIONS:
            return
        if self.columns is None and name not in ("np", "numpy"):
            self.used.add(name)
            return
        if name in ("np", "numpy"):
            self.refuse(f"{name!r} may only be used as {name}.<function>")
        cols = sorted(self.columns or ())
        raise FormulaError(f"unknown name {name!r} in formula {self.formula!r}; the data has columns "
                           f"{cols[:20]}{' ...' if len(cols) > 20 else ''}; functions: np.<name>, "
                           "C, Q, I, center, standardize, scale, bs, cr, cc, te")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if not (isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy")):
            self.refuse(f"attribute access '.{node.attr}' is only allowed on np (np.log, np.sqrt, ...)")
        if not _numpy_ok(node.attr):
            self.refuse(f"np.{node.attr} is not an allowed numpy function")

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        if isinstance(f, ast.Attribute):
            self.visit_Attribute(f)
        elif isinstance(f, ast.Name) and f.id in PATSY_FUNCTIONS:
            if f.id == "Q":
                self._check_q(node)
                return
        else:
            what = f.id if isinstance(f, ast.Name) else type(f).__name__.lower()
            self.refuse(f"calling {what!r} is not allowed")
        for a in node.args:
            if isinstance(a, ast.Starred):
                self.refuse("*arguments are not allowed")
            self.visit(a)
        for k in node.keywords:
            if k.arg is None:
                self.refuse("**arguments are not allowed")
            if k.arg.startswith("_"):
                self.refuse(f"the keyword {k.arg!r} is not allowed")
            self.visit(k.value)

    def _check_q(self, node: ast.Call) -> None:
        if len(node.args) != 1 or node.keywords or not isinstance(node.args[0], ast.Constant) \
                or not isinstance(node.args[0].value, str):
            self.refuse('Q() takes one quoted column name, Q("my column")')
        name = node.args[0].value
        if self.columns is not None and name not in self.columns:
            self.refuse(f"Q({name!r}) names no column of the data")
        self.used.add(name)


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float, complex)) and not isinstance(v, bool)


def _const_number(node: ast.AST) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _const_number(node.operand)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return node.value  # type: ignore[return-value]
    return None


def _small_power(node: ast.BinOp) -> bool:
    """A power is fine unless its base is a constant number and its exponent is not a small constant
    (integer powers of constants are computed exactly, and 9**9**9 never finishes)."""
    if _const_number(node.left) is None and not isinstance(node.left, ast.BinOp):
        return True
    e = _const_number(node.right)
    return e is not None and abs(e) <= 1000


def check_formula(formula: str, columns: Iterable[str] | None = None) -> set[str]:
    """Refuse a formula that would run anything but data columns, numpy functions and patsy's own.

    Parameters
    ----------
    formula : ``"y ~ x1 + C(g) + np.log(x2)"``, patsy syntax plus R's ``.``.
    columns : the data's column names; other names are refused.  None allows any plain name
        (still no builtins with underscores, no attribute access outside ``np.``).

    Returns
    -------
    set of str
        The column names the formula uses (``.`` not expanded).

    Raises
    ------
    FormulaError
        Naming what is not allowed and ``--trust-formula``.
    """
    if not isinstance(formula, str):
        raise FormulaError(f"formula must be a string 'response ~ terms'; got {formula!r}")
    cols = None if columns is None else {str(c) for c in columns}
    code = _as_python(formula)
    try:
        tree = ast.parse(code.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"cannot parse formula {formula!r}: {exc.msg}") from None
    checker = _Checker(formula, cols)
    checker.visit(tree)
    return checker.used
