"""``lam=`` arguments: a number, or glmnet's names of the CV choices on a cross-validated result.

``"lambda.1se"`` / ``"1se"`` / ``"lambda.min"`` / ``"min"`` are understood wherever a lambda is taken
on a CV result (``cv.at``, ``cv.predict``, ``cv.coef``, as glmnet's ``s=``); a path without CV
refuses them with a message that says how to cross-validate.  :func:`resolve_lam` is the one
place where this happens; it lives outside ``cv.py`` so that a path works without the CV module.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _validate as check
from .errors import ParameterError

__all__ = ["CV_CHOICES", "cv_choice", "resolve_lam"]

#: the names of the CV choices accepted wherever a lambda is taken (glmnet's ``s=`` and ours)
CV_CHOICES: dict[str, str] = {"lambda.1se": "1se", "1se": "1se", "lambda_1se": "1se",
                              "lambda.min": "min", "min": "min", "lambda_min": "min"}
_CHOICE_TEXT = "'lambda.1se', '1se', 'lambda.min' or 'min'"


def cv_choice(value: object, name: str = "lam") -> str:
    """``"min"`` or ``"1se"`` for one of glmnet's or our names of a CV choice; a
    :class:`ParameterError` naming ``name`` otherwise."""
    key = CV_CHOICES.get(value) if isinstance(value, str) else None
    if key is None:
        raise ParameterError(f"{name} must be one of {_CHOICE_TEXT}; got {value!r}")
    return key


def resolve_lam(lam: object, cv: Any = None, name: str = "lam") -> float:
    """A lambda from ``lam``: a number >= 0, or a CV choice name resolved on ``cv`` (anything with
    ``lambda_min`` and ``lambda_1se``).  The one place where ``lam="1se"`` is understood.

    With ``cv=None`` (a path that was not cross-validated) a choice name is an error that says how
    to cross-validate; a string that is not a choice name (``"0.5"``) is an error too.
    """
    if isinstance(lam, str):
        if lam not in CV_CHOICES:
            raise ParameterError(f"{name} must be a number >= 0 or one of {_CHOICE_TEXT} (on a "
                                 f"cross-validated path); got {lam!r}")
        if cv is None:
            raise ParameterError(f"{name}={lam!r} needs a cross-validated path; got a path without CV. "
                                 f"Use cv = path.cv(folds=10, seed=1), then cv.at({lam!r}) or "
                                 f"cv.predict(newdata, lam={lam!r})")
        return float(cv.lambda_min if CV_CHOICES[lam] == "min" else cv.lambda_1se)
    return check.real_in(name, lam, 0.0, np.inf)
