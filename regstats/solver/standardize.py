"""Centre, weight and scale a design column by column, in one pass over memory (wide designs).

Each column (gathered from the caller's rows) is small enough to stay in cache, so the mean, the
exactly centred variance and the prepared values are three sweeps over cached data: the design is
read once and the prepared copy written once, with no intermediate n x p arrays.  The caller
allocates the output (numpy backs large arrays with huge pages; an n x p array allocated inside
the kernel costs several times the kernel's own work in page faults).
"""
from __future__ import annotations

import numpy as np
from numba import njit

#: at most this many bytes for a single-precision copy of X (the residual solver's gradient passes)
_SINGLE_BYTES = 1e9


def wants_single(n: int, p: int) -> bool:
    """Whether a path on an n x p design keeps a single-precision copy of X
    (:class:`regstats.solver.naive._Gradient`)."""
    return n * p * 4.0 <= _SINGLE_BYTES and n >= 8


@njit(cache=True, fastmath=True, error_model="numpy")
def standardize_columns(raw, rows, w, intercept, standardize, yt, X, X32):
    """Prepared design ``sqrt(w_i) (x_ij - m_j) / s_j`` of ``raw[rows]``, written into ``X``
    (len(rows) x p, Fortran order), and into ``X32`` in single precision when it has len(rows)
    rows (pass a 0 x 0 array otherwise).

    ``w``: weights normalised to sum to the number of rows (all ones for unit weights); ``yt``:
    the prepared response.  Returns (X, mean, ms, constant, xx, c): weighted means (0 without
    intercept), weighted variances with divisor n, the columns whose variance is negligible
    against their size (kept at 0 in X, scale 1), exactly as :func:`regstats.engine.prepare`
    defines them, and the prepared columns' ``x_j'x_j / n`` and ``x_j'yt / n`` (what the
    residual solver needs first), all from the same pass.
    """
    n = rows.shape[0]
    p = raw.shape[1]
    single = X32.shape[0] == n and X32.shape[1] == p
    mean = np.zeros(p)
    ms = np.zeros(p)
    xx = np.zeros(p)
    c = np.zeros(p)
    constant = np.zeros(p, dtype=np.bool_)
    t = np.empty(n)
    sw = np.sqrt(w)
    for j in range(p):
        col = raw[:, j]
        for i in range(n):
            t[i] = col[rows[i]]
        s = 0.0
        for i in range(n):
            s += w[i] * t[i]
        m = s / n if intercept else 0.0
        ss = 0.0
        for i in range(n):
            d = t[i] - m
            ss += w[i] * d * d
        var = ss / n
        mean[j] = m
        ms[j] = var
        const = var <= 1e-24 * max(1.0, var + m * m)
        constant[j] = const
        if const:
            X[:, j] = 0.0
            if single:
                X32[:, j] = 0.0
            continue
        inv = 1.0 / np.sqrt(var) if standardize else 1.0
        out = X[:, j]
        sxx = 0.0
        sxy = 0.0
        for i in range(n):
            e = (t[i] - m) * sw[i] * inv
            out[i] = e
            sxx += e * e
            sxy += e * yt[i]
        xx[j] = sxx / n
        c[j] = sxy / n
        if single:
            out32 = X32[:, j]
            for i in range(n):
                out32[i] = out[i]
    return X, mean, ms, constant, xx, c
