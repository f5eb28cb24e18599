"""Number formatting shared by the HTML and Markdown renderers."""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd


def fmt(x: object, digits: int = 4) -> str:
    """A cell as text: ``digits`` significant digits, no scientific notation in the usual range."""
    if x is None:
        return ""
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, Integral):
        return str(int(x))
    if isinstance(x, Real):
        v = float(x)
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if v == 0:
            return "0"
        if v == round(v) and abs(v) < 1e6:
            return str(int(round(v)))
        a = abs(v)
        if a < 1e-4 or a >= 1e7:
            return f"{v:.{max(digits - 1, 1)}e}"
        decimals = max(digits - 1 - int(math.floor(math.log10(a))), 0)
        return f"{v:.{decimals}f}"
    return str(x)


def formatted(df: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """A copy of ``df`` with every cell formatted as text."""
    out = df.copy()
    for c in out.columns:
        out[c] = [fmt(v, digits) for v in out[c].tolist()]
    if out.index.dtype.kind == "f":
        out.index = [fmt(v, digits) for v in out.index]
    return out
