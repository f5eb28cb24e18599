"""The warnings of a solved path, raised at the user's line: columns with no variance in the rows
used, duplicate columns, a constant response (an error), and lambdas where the solver stopped short
of its tolerance.  The pandas, the binomial /
Poisson (:mod:`regstats.glm_model`) and the dask paths all give them.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from . import engine
from .errors import ConvergenceWarning, DataError, DesignWarning, user_stacklevel


def _warn_constant(prep: Any, names: Sequence[str]) -> None:
    """The DesignWarning for columns with no variance in the rows used (excluded ones are meant)."""
    no_var = prep.constant if prep.excluded is None else prep.constant & ~prep.excluded
    if no_var.any():
        const = [names[j] for j in np.flatnonzero(no_var)]
        warnings.warn(f"constant column(s) {const[:10]}{' ...' if len(const) > 10 else ''} have no variance "
                      "in the rows used; their coefficients are kept at 0", DesignWarning, stacklevel=user_stacklevel())


def _check_gaussian_rows(prep: Any, names: Sequence[str], dups: Sequence[tuple[str, str]], response: str) -> None:
    """Before a gaussian solve: warn of constant and of duplicate columns (``dups``, pairs of names),
    refuse a constant response."""
    _warn_constant(prep, names)
    if dups:
        warnings.warn(f"duplicate design columns {list(dups)[:5]}: the penalty splits their effect between them",
                      DesignWarning, stacklevel=user_stacklevel())
    if prep.yy == 0:
        raise DataError(f"the response {response!r} is constant in the rows used; nothing to fit")


def _warn_unconverged(sol: engine.Solution) -> None:
    bad = sol.lambdas[~sol.converged]
    if bad.size:
        shown = ", ".join(f"{x:.4g}" for x in bad[:10])
        warnings.warn(f"the solver did not reach its tolerance at {bad.size} lambda(s): {shown}"
                      f"{' ...' if bad.size > 10 else ''}; raise max_iter or loosen tol",
                      ConvergenceWarning, stacklevel=user_stacklevel())
