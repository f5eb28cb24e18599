"""regstats: penalized regression with honest statistics.

>>> import regstats as rs
>>> path = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate"))
>>> path.coef.shape
(100, 9)
"""
from __future__ import annotations

# before numba is imported: a read-only install with no writable home still imports (one warning)
from ._numba_cache import ensure_numba_cache as _ensure_numba_cache

_ensure_numba_cache()

from .datasets import load_dataset
from .errors import (ArgumentError, ConvergenceWarning, DataError, DesignWarning, FileError, FormulaError,
                     ParameterError, RegstatsError, RegstatsWarning, UnseenLevelError)
from .api import cv_elastic_net, elastic_net, lasso, ridge
from .path import Fit, Path
from .ic import information_criteria
from .dof import simulate_df
from .persist import LoadedPath, load
from . import report  # the subpackage is callable: rs.report(formula, data, ...)
from .report import Comparison, Report, compare

__version__ = "0.1.0"

__all__ = ["elastic_net", "lasso", "ridge", "Path", "Fit", "load_dataset", "RegstatsError",
           "FormulaError", "DataError", "ParameterError", "UnseenLevelError", "RegstatsWarning",
           "ConvergenceWarning", "DesignWarning", "report", "Report", "compare", "Comparison", "__version__"]
__all__ += ["cv_elastic_net", "information_criteria", "simulate_df", "load", "LoadedPath", "ArgumentError",
            "FileError"]

del annotations  # the __future__ import's name is not part of the API
