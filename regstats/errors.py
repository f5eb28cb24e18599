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


class ArgumentError(ParameterError, TypeError):
    """A function was called with a keyword argument it does not take (glmnet's or scikit-learn's
    name for a regstats argument, a typo)."""


class UnseenLevelError(DataError):
    """New data at predict time has a factor level the fit never saw."""


class FileError(RegstatsError, OSError):
    """An input file cannot be read (missing, a directory, no permission); a failed write is
    ``regstats._atomic.OutputError``."""


class RegstatsWarning(UserWarning):
    """Base class of regstats warnings."""


class ConvergenceWarning(RegstatsWarning):
    """The solver stopped before reaching its tolerance at the lambdas named in the message."""


class DesignWarning(RegstatsWarning):
    """The design has a feature worth knowing about (constant or duplicate columns, dropped rows)."""


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside regstats (the user's
    line), for a ``warnings.warn`` call made directly in the function that calls this."""
    import sys

    frame = sys._getframe(2)  # the frame that calls warnings.warn is stacklevel 1
    level = 2
    while frame is not None and str(frame.f_globals.get("__name__", "")).split(".")[0] == "regstats":
        frame = frame.f_back
        level += 1
    return level


def warn(message: str, category: type[Warning] = RegstatsWarning) -> None:
    """``warnings.warn`` attributed to the user's line (the first frame outside regstats), so that
    no warning shows an internal file path."""
    import warnings

    warnings.warn(message, category, stacklevel=user_stacklevel())
