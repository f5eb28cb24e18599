"""Small public datasets bundled with regstats, for examples, the demo report and the tests.

========== ===== ============================================================================
name       shape description
========== ===== ============================================================================
credit     400x12 ISLR's Credit (James, Witten, Hastie & Tibshirani 2013); response ``Balance``
                  (dollars); ``ID`` is a row identifier (``Balance ~ . - ID``)
diabetes   442x11 Efron, Hastie, Johnstone & Tibshirani (2004), raw units; response ``y``
hitters    322x20 ISLR's Hitters: 1986 Major League Baseball; response ``Salary`` (thousands
                  of dollars, missing for 59 players)
mtcars     32x12  Motor Trend cars (Henderson & Velleman 1981), as in R; response ``mpg``;
                  the car name is column ``model``
prostate   97x10  Stamey et al. (1989), as in Hastie, Tibshirani & Friedman (2009);
                  response ``lpsa``; ``train`` marks the book's training rows (T/F)
========== ===== ============================================================================

``credit`` and ``hitters`` are the copies shipped with the ISLP package (BSD licence).
"""
from __future__ import annotations

from importlib import resources

import pandas as pd

from ..errors import DataError

DATASETS = ("credit", "diabetes", "hitters", "mtcars", "prostate")


def load_dataset(name: str) -> pd.DataFrame:
    """Load a bundled dataset as a DataFrame: ``"credit"``, ``"diabetes"``, ``"hitters"``,
    ``"mtcars"`` or ``"prostate"``."""
    if name not in DATASETS:
        raise DataError(f"dataset must be one of {', '.join(map(repr, DATASETS))}; got {name!r}")
    with resources.files(__name__).joinpath(f"{name}.csv").open("r") as fh:
        df = pd.read_csv(fh)
    if name == "mtcars":
        df = df.rename(columns={df.columns[0]: "model"})
    return df
