"""The regstats error and warning hierarchy.

Every error raised at the public boundary is a :class:`RegstatsError` and also the builtin
exception a Python user would expect (``ValueError``, ``TypeError``, ``KeyError``), so both
``except rs.RegstatsError`` and ``except ValueError`` work.
"""
from __future__ import annotations


class RegstatsError(Exception):
    """Base class of every error regstats raises on purpose."""


class FormulaError(RegstatsError, ValueError):
    """The formula cannot be parsed, or names something the data does not have."""


class DataError(RegstatsError, ValueError):
    """The data cannot be used as given (empty, non-numeric, non-finite, wrong length)."""


class ParameterError(RegstatsError, ValueError):
    """An argument is outside its allowed range (negative lambda, l1_ratio outside [0, 1], ...)."""


class UnseenLevelError(DataError):
    """New data at predict time has a factor level the fit never saw."""


class RegstatsWarning(UserWarning):
    """Base class of regstats warnings."""


class ConvergenceWarning(RegstatsWarning):
    """The solver stopped before reaching its tolerance at the lambdas named in the message."""


class DesignWarning(RegstatsWarning):
    """The design has a feature worth knowing about (constant or duplicate columns, dropped rows)."""
