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


@njit(cache=True, fastmath=True, error_model="numpy")
def standardize_columns(raw, rows, w, intercept, standardize, X):
    """Prepared design ``sqrt(w_i) (x_ij - m_j) / s_j`` of ``raw[rows]``, written into ``X``
    (len(rows) x p, Fortran order).

    ``w``: weights normalised to sum to the number of rows (all ones for unit weights).  Returns
    (X, mean, ms, constant): weighted means (0 without intercept), weighted variances with divisor
    n, and the columns whose variance is negligible against their size (kept at 0 in X, scale 1),
    exactly as :func:`regstats.engine.prepare` defines them.
    """
    n = rows.shape[0]
    p = raw.shape[1]
    mean = np.zeros(p)
    ms = np.zeros(p)
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
            continue
        inv = 1.0 / np.sqrt(var) if standardize else 1.0
        out = X[:, j]
        for i in range(n):
            out[i] = (t[i] - m) * sw[i] * inv
    return X, mean, ms, constant
