"""Reports people want to read: the one-file HTML/Markdown report, plots and comparison tables.

>>> import regstats as rs
>>> rep = rs.report("lpsa ~ . - train", rs.load_dataset("prostate"))   # doctest: +SKIP
>>> rep.save("report.html")                                            # doctest: +SKIP

* :func:`report` builds a :class:`Report` (``to_html()``, ``to_markdown()``, ``save()``).
* :mod:`regstats.report.plots` draws each result (matplotlib, each function returns the Axes).
* :func:`compare` puts penalized, relaxed and OLS fits side by side.

matplotlib is imported only when a figure is drawn.
"""
from __future__ import annotations

import inspect
import sys
import types
from typing import Any

from .build import PENALTIES, report
from .compare import Comparison, compare
from .document import Report

__all__ = ["report", "Report", "compare", "Comparison", "PENALTIES"]


class _CallableModule(types.ModuleType):
    """This package, callable as :func:`report`: ``rs.report(formula, data)`` and
    ``rs.report.plots`` both work (a function named ``report`` would hide the subpackage)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Report:
        return report(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
__signature__ = inspect.signature(report)      # inspect.signature(rs.report) shows report()'s arguments
