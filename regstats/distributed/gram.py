"""Gram-only problems: the engine's :class:`~regstats.engine.Prepared` built from sufficient
statistics (:class:`~regstats.distributed.passes.Stats`), with no data rows.

The prepared Gram pair ``(G, c)`` and ``yy`` are exactly what :func:`regstats.engine.prepare`
computes from rows (centred, weighted, scaled; constant columns zeroed), so the solver, the
lambda grid and the df formulas run unchanged.  Code that asks for the prepared design ``X`` gets
*pseudo-rows*: a (p + 1) x p matrix ``Xr`` and a response ``yr`` with ``Xr'Xr = n G``,
``Xr'yr = n c`` and ``yr'yr = n yy`` (a square root of the augmented Gram matrix).  Everything
that depends on the rows only through these cross-products (least squares, its rank and residual
sum of squares, singular values, traces of hat matrices) is then exact; the per-row weights are a
sentinel that raises :class:`RowsNeeded` on use.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import engine
from ..errors import DataError
from .passes import Stats


class RowsNeeded(DataError):
    """The statistic needs the data rows, which a dask-backed path does not keep."""


def rows_needed(what: str) -> RowsNeeded:
    return RowsNeeded(f"{what} needs the data rows, which a dask-backed path does not keep (it holds "
                      "sufficient statistics only); bring the rows into memory with "
                      "ddf.compute() and use the pandas path, or see docs/distributed.md")


class NoRows:
    """Stands for a per-row array (weights, fold ids, out-of-fold predictions) that was never
    materialized: any use raises :class:`RowsNeeded`."""

    def __init__(self, what: str) -> None:
        self._what = what

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise rows_needed(self._what)

    __array__ = __getitem__ = __len__ = __iter__ = _fail
    __mul__ = __rmul__ = __matmul__ = __rmatmul__ = __add__ = __radd__ = __sub__ = __rsub__ = _fail
    __truediv__ = __rtruediv__ = __gt__ = __lt__ = __ge__ = __le__ = __pow__ = _fail

    @property
    def shape(self) -> Any:
        self._fail()

    def sum(self, *a: Any, **k: Any) -> Any:
        self._fail()

    def __repr__(self) -> str:
        return f"<not kept: {self._what}>"


@dataclass(frozen=True)
class GramPrepared(engine.Prepared):
    """A :class:`~regstats.engine.Prepared` from sufficient statistics (module docstring):
    ``raw`` and ``X`` are the pseudo-rows, ``y`` the pseudo-response."""

    n_rows: int = 0
    yy_exact: float = 0.0

    @property
    def n(self) -> int:
        return self.n_rows

    @property
    def yy(self) -> float:
        return self.yy_exact


def pseudo_rows(G: np.ndarray, c: np.ndarray, yy: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(Xr, yr)``, (p + 1) rows with ``[Xr yr]'[Xr yr] = n [[G, c], [c', yy]]`` (eigen square root)."""
    p = G.shape[0]
    A = np.empty((p + 1, p + 1))
    A[:p, :p] = G
    A[:p, p] = c
    A[p, :p] = c
    A[p, p] = yy
    A *= n
    lam, Q = np.linalg.eigh(A)
    R = np.sqrt(np.maximum(lam, 0.0))[:, None] * Q.T
    return np.asfortranarray(R[:, :p]), np.ascontiguousarray(R[:, p])


def prepared(st: Stats, *, intercept: bool, standardize: bool, penalty_factor: np.ndarray | None,
             y_scale: float | None, unit_weights: bool) -> GramPrepared:
    """The prepared problem of the rows summarized by one slot of statistics (what
    :func:`regstats.engine.prepare` gives for those rows)."""
    n = int(round(float(st.rows[0])))
    W = float(st.W[0])
    m, C = st.m[0], st.C[0]
    p = m.shape[0] - 1
    mx, my = m[:p], float(m[p])
    Cxx, cxy, cyy = C[:p, :p], C[:p, p], float(C[p, p])
    var = np.maximum(np.diag(Cxx), 0.0) / W
    if intercept:
        x_mean, y_mean, S, sxy, syy = mx, my, Cxx, cxy, cyy
    else:
        x_mean, y_mean = np.zeros(p), 0.0
        S = Cxx + W * np.outer(mx, mx)
        sxy = cxy + W * mx * my
        syy = cyy + W * my * my
    excluded = engine.excluded_of(penalty_factor, p)
    constant = engine._is_constant(var, mx, intercept, standardize, excluded)
    scale = engine._scale_of(var, constant, standardize)
    # engine's G = S_n / (n s s') with S_n the cross-products under weights normalised to sum n
    G, c = engine._scaled_gram(S * (n / W), sxy * (n / W), scale, constant, n)
    yy = max(syy / W, 0.0)
    if y_scale is None:
        sy = math.sqrt(yy)
        y_scale = sy if sy > 0 and math.isfinite(sy) else 1.0
    Xr, yr = pseudo_rows(G, c, yy, n)
    prep = GramPrepared(raw=Xr, y=yr, x_mean=np.asarray(x_mean, dtype=float), x_scale=scale, y_mean=y_mean,
                        w=NoRows("the per-row weights"), v=engine.rescale_penalty(penalty_factor, p),
                        constant=constant, intercept=intercept, standardize=standardize,
                        unit_weights=unit_weights, rows=None, y_scale=float(y_scale), excluded=excluded,
                        n_rows=n, yy_exact=yy)
    prep.__dict__["X"] = Xr
    prep.__dict__["gram"] = (G, c)
    return prep


def fold_loss(test: Stats, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Weighted mean squared error of the held-out rows summarized by ``test`` (one slot) for
    each row of ``coef`` (L x p, original scale) and ``intercept`` (L): from the centred
    statistics, ``(C_yy - 2 b'C_xy + b'C_xx b) / W + (m_y - b0 - m_x'b)^2``."""
    W = float(test.W[0])
    m, C = test.m[0], test.C[0]
    p = m.shape[0] - 1
    Cxx, cxy, cyy = C[:p, :p], C[:p, p], float(C[p, p])
    quad = np.einsum("kj,jl,kl->k", coef, Cxx, coef)
    centred = (cyy - 2.0 * (coef @ cxy) + quad) / W
    shift = float(m[p]) - intercept - coef @ m[:p]
    return np.maximum(centred, 0.0) + shift * shift
