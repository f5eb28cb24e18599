"""Response families of the generalized linear models: gaussian, binomial and Poisson.

A family is everything the solver and the statistics need to know about the response: the inverse
link (mean from the linear predictor), the variance function (the IRLS weights), the unit deviance
(the loss) and which responses are valid.  glmnet's objective for a family is

    minimize  1/(2W) sum_i w_i d(y_i, mu_i)  +  lam * sum_j v_j (a |b_j| + (1-a)/2 b_j^2),
              mu_i = g^{-1}(b0 + x_i'b + offset_i)

with d the unit deviance (twice the log-likelihood lost against the saturated model), so the loss
is the negative log-likelihood per unit weight up to a constant.  The gaussian family is the least
squares of :mod:`regstats.engine` (whose ridge part is divided by s_y; the other families have no
response scale, as in glmnet).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, xlogy

from .errors import DataError

__all__ = ["Family", "BINOMIAL", "POISSON", "GAUSSIAN", "family_of", "binary_response", "code_binary_column",
           "on_scale"]

#: binomial means are kept in [_P_EPS, 1 - _P_EPS] for the IRLS weights (glmnet's pmin/pmax)
_P_EPS = 1e-5


@dataclass(frozen=True)
class Family:
    """A response family: ``name`` and its link, variance and deviance (see the module docstring)."""

    name: str
    link: str

    # -- the model ------------------------------------------------------------------------------
    def mean(self, eta: np.ndarray) -> np.ndarray:
        """mu = g^{-1}(eta)."""
        if self.name == "binomial":
            return expit(eta)
        if self.name == "poisson":
            return np.exp(np.minimum(eta, 700.0))
        return np.asarray(eta, dtype=float)

    def variance(self, mu: np.ndarray) -> np.ndarray:
        """V(mu): the IRLS weight per unit observation weight (canonical links: d mu / d eta)."""
        if self.name == "binomial":
            m = np.clip(mu, _P_EPS, 1.0 - _P_EPS)
            return m * (1.0 - m)
        if self.name == "poisson":
            return np.maximum(mu, 1e-300)
        return np.ones_like(mu)

    def unit_deviance(self, y: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """d(y, mu) >= 0, 0 at mu = y."""
        if self.name == "binomial":
            m = np.clip(mu, 1e-300, 1.0)
            q = np.clip(1.0 - mu, 1e-300, 1.0)
            return 2.0 * (xlogy(y, y) - xlogy(y, m) + xlogy(1.0 - y, 1.0 - y) - xlogy(1.0 - y, q))
        if self.name == "poisson":
            return 2.0 * (xlogy(y, y) - xlogy(y, np.maximum(mu, 1e-300)) - (y - mu))
        return (y - mu) ** 2

    def deviance(self, y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
        """sum_i w_i d(y_i, mu_i)."""
        return float(w @ self.unit_deviance(y, mu))

    # -- the data -------------------------------------------------------------------------------
    def check_response(self, y: np.ndarray, name: str = "y") -> np.ndarray:
        """The response as floats, or a :class:`DataError` that says what is wrong with it."""
        y = np.asarray(y, dtype=float)
        if self.name == "binomial":
            bad = (y < 0) | (y > 1)
            if bad.any():
                raise DataError(f"the response {name!r} of a binomial model must be 0/1 (or a proportion in "
                                f"[0, 1] with weights = trials); got {y[bad][:5].tolist()}")
            if np.all(y == y[0]):
                raise DataError(f"the response {name!r} has one class only ({y[0]:g}); a binomial model "
                                "needs both")
        elif self.name == "poisson":
            if np.any(y < 0):
                raise DataError(f"the response {name!r} of a Poisson model must be counts >= 0; got "
                                f"{y[y < 0][:5].tolist()}")
            if np.all(y == 0):
                raise DataError(f"the response {name!r} is 0 in every row; a Poisson model has nothing to fit")
        return y

    def start(self, y: np.ndarray, w: np.ndarray) -> float:
        """The linear predictor of the intercept-only fit without offset (a starting value)."""
        ybar = float(w @ y) / float(w.sum())
        if self.name == "binomial":
            ybar = min(max(ybar, _P_EPS), 1.0 - _P_EPS)
            return float(np.log(ybar / (1.0 - ybar)))
        if self.name == "poisson":
            return float(np.log(max(ybar, 1e-300)))
        return ybar


GAUSSIAN = Family("gaussian", "identity")
BINOMIAL = Family("binomial", "logit")
POISSON = Family("poisson", "log")
_FAMILIES = {f.name: f for f in (GAUSSIAN, BINOMIAL, POISSON)}


def family_of(family: "str | Family") -> Family:
    """The :class:`Family` named ``family`` (``"gaussian"``, ``"binomial"``, ``"poisson"``)."""
    from .errors import ParameterError

    if isinstance(family, Family):
        return family
    if isinstance(family, str) and family.lower() in _FAMILIES:
        return _FAMILIES[family.lower()]
    raise ParameterError(f"family must be one of 'gaussian', 'binomial', 'poisson'; got {family!r}")


def on_scale(family: str, eta: np.ndarray, typ: str, levels: "tuple[str, str] | None" = None) -> np.ndarray:
    """Linear predictors (offset included) on the scale ``predict(type=)`` asks: ``"link"``,
    ``"response"`` (the mean; a gaussian model's link is its mean) or ``"class"`` (binomial: the
    more probable level at 0.5, as ``levels[1]`` / ``levels[0]`` when the response was labels)."""
    from .errors import ParameterError

    if typ == "class" and family != "binomial":
        raise ParameterError(f"type='class' is for binomial models; this model is {family}")
    if typ == "link":
        return eta
    mu = family_of(family).mean(eta)
    if typ == "response":
        return mu
    hi = mu > 0.5
    if levels is None:
        return hi.astype(float)
    return np.where(hi, levels[1], levels[0]).astype(object)


def binary_response(values: "np.ndarray | list", name: str = "y") -> "tuple[np.ndarray, tuple[str, str] | None]":
    """A binomial response as floats in [0, 1], and the two levels when it was coded from labels.

    0/1 numbers and proportions pass through; booleans are 1 for True; strings and categoricals with
    two levels are coded as R does: the first level in sorted order (a categorical's own order) is
    0, the other (the level modelled) is 1.  Anything else is a :class:`DataError` naming it.
    """
    import pandas as pd

    s = pd.Series(values)
    if s.isna().any():
        raise DataError(f"the response {name!r} has missing values; drop those rows first")
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float), ("False", "True")
    if pd.api.types.is_numeric_dtype(s):
        return BINOMIAL.check_response(s.to_numpy(dtype=float), name), None
    levels = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.unique().tolist())
    if len(levels) != 2:
        raise DataError(f"the response {name!r} of a binomial model must have two levels; got {len(levels)}: "
                        f"{[str(v) for v in levels[:6]]}")
    return (s == levels[1]).to_numpy(dtype=float), (str(levels[0]), str(levels[1]))


def code_binary_column(values: "np.ndarray | list", name: str = "y") -> "tuple[np.ndarray, tuple[str, str] | None]":
    """:func:`binary_response` of a data column before the design is built: missing values stay NaN
    (the design drops and counts those rows), numbers pass through unchecked (the fit checks them)."""
    import pandas as pd

    s = pd.Series(values)
    miss = s.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan), None
    out = np.full(len(s), np.nan)
    if (~miss).any():
        coded, levels = binary_response(s[~miss].to_numpy() if not isinstance(s.dtype, pd.CategoricalDtype)
                                        else s[~miss], name)
        out[~miss] = coded
    else:
        levels = None
    return out, levels
