"""Argument checks at the public boundary, all with one message format.

``"<name> must be <what>; got <value>"``, raised as :class:`~regstats.errors.ParameterError`.
"""
from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .errors import ParameterError


def _fail(name: str, what: str, value: object) -> None:
    raise ParameterError(f"{name} must be {what}; got {value!r}")


def real_in(name: str, value: object, lo: float, hi: float, *, lo_open: bool = False,
            hi_open: bool = False) -> float:
    """A real number in the interval [lo, hi] (ends open on request)."""
    lb = "(" if lo_open else "["
    rb = ")" if hi_open else "]"
    what = f"a number in {lb}{lo:g}, {hi:g}{rb}"
    if isinstance(value, bool) or not isinstance(value, Real):
        _fail(name, what, value)
    x = float(value)
    if not np.isfinite(x) and not (np.isinf(x) and ((x > 0 and hi == np.inf) or (x < 0 and lo == -np.inf))):
        _fail(name, what, value)
    if x < lo or x > hi or (lo_open and x == lo) or (hi_open and x == hi):
        _fail(name, what, value)
    return x


def positive_int(name: str, value: object, minimum: int = 1) -> int:
    """An integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < minimum:
        _fail(name, f"an integer >= {minimum}", value)
    return int(value)


def n_jobs(value: object, name: str = "n_jobs") -> int:
    """joblib's worker count: a nonzero integer (-1 = all cores, -2 = all but one, ...)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) == 0:
        _fail(name, "a nonzero integer (1 = serial, -1 = all cores, joblib's convention)", value)
    return int(value)


def lambdas(value: object) -> np.ndarray:
    """A non-empty sequence of finite, non-negative penalty levels, returned sorted decreasing.

    Numbers only: text such as ``"0.1"`` is refused rather than parsed."""
    raw = np.asarray(value, dtype=object).ravel() if not isinstance(value, np.ndarray) else value.ravel()
    if isinstance(value, (str, bytes)) or (raw.dtype == object and any(
            isinstance(x, (str, bytes, bool, np.bool_)) or not isinstance(x, Real) for x in raw.tolist())) \
            or raw.dtype.kind in "USb":
        _fail("lambdas", "a sequence of numbers >= 0 (not text)", value)
    try:
        arr = np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        _fail("lambdas", "a sequence of finite numbers >= 0", value)
    if arr.size == 0:
        _fail("lambdas", "a non-empty sequence of finite numbers >= 0", value)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        bad = arr[~np.isfinite(arr) | (arr < 0)]
        _fail("lambdas", "finite numbers >= 0", bad.tolist()[:5])
    return np.sort(arr)[::-1].copy()


def choice(name: str, value: object, options: tuple[str, ...]) -> str:
    """One of a fixed set of strings."""
    if value not in options:
        _fail(name, "one of " + ", ".join(repr(o) for o in options), value)
    return str(value)


def seed_sequence(seed: object) -> np.random.SeedSequence:
    """A SeedSequence from None, an int, a SeedSequence or a Generator."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(0, 2**63 - 1)))
    if seed is None or (isinstance(seed, Integral) and not isinstance(seed, bool) and int(seed) >= 0):
        return np.random.SeedSequence(seed)
    _fail("seed", "None, a non-negative integer or a numpy Generator", seed)
    raise AssertionError  # unreachable
