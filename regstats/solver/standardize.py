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

#: at most this many bytes for the 16-bit copy of X (the residual solver's gradient passes)
_COMPACT_BYTES = 1e9
#: largest code of the 16-bit copy (below 2^15 - 1, so that rounding can never leave int16)
_CODE_MAX = 32766.0


def wants_compact(n: int, p: int) -> bool:
    """Whether a path on an n x p design keeps a 16-bit copy of X
    (:class:`regstats.solver.naive._Gradient`)."""
    return n * p * 2.0 <= _COMPACT_BYTES and n >= 8


@njit(cache=True, fastmath=True, error_model="numpy")
def _quantize(x, codes):
    """Write the 16-bit codes of the column ``x`` (``x_i ~ scale * codes_i``, scale = max|x| /
    32766, round to nearest) and return (scale, err) with err >= ||x - scale * codes|| (rigorous:
    the computed differences' rounding and the norm's are added)."""
    n = x.shape[0]
    mx = 0.0
    for i in range(n):
        mx = max(mx, abs(x[i]))
    if mx == 0.0:
        for i in range(n):
            codes[i] = 0
        return 0.0, 0.0
    scale = mx / _CODE_MAX
    inv = 1.0 / scale
    e2 = 0.0
    for i in range(n):
        z = x[i] * inv
        k = np.rint(z)
        codes[i] = np.int16(k)
        d = z - k  # the rounding error in units of the scale (no overflow for any finite x)
        e2 += d * d
    # |computed d_i - (x_i - scale k_i) / scale| <= 32766 * 2^-51 (inv's and the product's
    # rounding) + 2^-53 |d_i|; the sum of squares and its root: (1 + (n + 2) 2^-52)
    err = scale * (np.sqrt(e2) * (1.0 + (n + 2) * 2.0 ** -52) + np.sqrt(n) * _CODE_MAX * 2.0 ** -50) * (1.0 + 1e-9)
    return scale, err


@njit(cache=True)
def quantize_columns(X, codes, scale, err):
    """The 16-bit copy of every column of X (see :func:`_quantize`), in place."""
    for j in range(X.shape[1]):
        scale[j], err[j] = _quantize(X[:, j], codes[:, j])


@njit(cache=True, fastmath=True, error_model="numpy")
def standardize_columns(raw, rows, w, intercept, standardize, yt, X, X16, scale16, err16):
    """Prepared design ``sqrt(w_i) (x_ij - m_j) / s_j`` of ``raw[rows]``, written into ``X``
    (len(rows) x p, Fortran order), and its 16-bit copy into ``X16``, ``scale16`` and ``err16``
    (:func:`_quantize`) when X16 has len(rows) rows (pass a 0 x 0 int16 array otherwise).

    ``w``: weights normalised to sum to the number of rows (all ones for unit weights); ``yt``:
    the prepared response.  Returns (X, mean, ms, constant, xx, c): weighted means (0 without
    intercept), weighted variances about the weighted means with divisor n (with or without an
    intercept), the columns whose coefficient is fixed at 0 (kept at 0 in X, scale 1), exactly as
    :func:`regstats.engine.prepare`
    defines them, and the prepared columns' ``x_j'x_j / n`` and ``x_j'yt / n`` (what the
    residual solver needs first), all from the same pass.
    """
    n = rows.shape[0]
    p = raw.shape[1]
    compact = X16.shape[0] == n and X16.shape[1] == p
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
        mw = s / n
        ss = 0.0
        for i in range(n):
            d = t[i] - mw
            ss += w[i] * d * d
        var = ss / n
        ms0 = var + mw * mw
        # scaled by the sd about the weighted mean, centred only with an intercept (glmnet)
        m = mw if intercept else 0.0
        mean[j] = m
        ms[j] = var
        # relative to the column's own size (scale-free), as regstats.engine._is_constant
        if intercept:
            const = var <= 1e-24 * ms0
        else:
            const = ms0 <= 0.0 or (standardize and var <= 1e-24 * ms0)
        constant[j] = const
        if const:
            X[:, j] = 0.0
            if compact:
                X16[:, j] = 0
                scale16[j] = 0.0
                err16[j] = 0.0
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
        if compact:
            scale16[j], err16[j] = _quantize(out, X16[:, j])
    return X, mean, ms, constant, xx, c
