"""In-place Cholesky factor of an active-set block, grown and shrunk column by column.

The factor is the upper triangle ``U[:k, :k]`` of a preallocated C-ordered ``cap x cap`` buffer
with ``U'U = M`` (M the active block of X'X/n plus a diagonal).  Every kernel works on rows of U,
which are contiguous, and allocates nothing of size k^2: appending a column is one forward
substitution (k^2 flops), deleting columns is one compaction of the rows plus Givens rotations
(O(k (k - j)) for column j).
Entries below the diagonal are never read (they may hold stale values).  Also here: solving with
the factor of a shifted diagonal (:func:`shifted_solve`, the elastic net between
refactorizations) and comparing column sets (:func:`match`).  Kernels return a status instead of
raising.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, fastmath=True, error_model="numpy")
def _triangle(U, i0, i1, z):
    """Rows i0..i1-1 of the forward substitution U' z = b among themselves (z holds b there, less
    the contributions of the rows before i0)."""
    for i in range(i0, i1):
        zi = z[i] / U[i, i]
        z[i] = zi
        for j in range(i + 1, i1):
            z[j] -= U[i, j] * zi


@njit(cache=True)
def _rows8(U, i0, k):
    """Rows i0..i0+7 of U right of the eight-by-eight block, as 1-d slices (LLVM vectorizes
    loops over 1-d slices; over 2-d indexing it does not)."""
    return (U[i0, i0 + 8:k], U[i0 + 1, i0 + 8:k], U[i0 + 2, i0 + 8:k], U[i0 + 3, i0 + 8:k],
            U[i0 + 4, i0 + 8:k], U[i0 + 5, i0 + 8:k], U[i0 + 6, i0 + 8:k], U[i0 + 7, i0 + 8:k])


@njit(cache=True, fastmath=True, error_model="numpy")
def _subtract8(U, i0, k, z):
    """z[i0+8:k] -= the contributions of the solved rows i0..i0+7: one pass over z for all eight
    (eight products per load and store of z)."""
    u0, u1, u2, u3, u4, u5, u6, u7 = _rows8(U, i0, k)
    z0 = z[i0]
    z1 = z[i0 + 1]
    z2 = z[i0 + 2]
    z3 = z[i0 + 3]
    z4 = z[i0 + 4]
    z5 = z[i0 + 5]
    z6 = z[i0 + 6]
    z7 = z[i0 + 7]
    zz = z[i0 + 8:k]
    for j in range(zz.shape[0]):
        zz[j] -= (z0 * u0[j] + z1 * u1[j] + z2 * u2[j] + z3 * u3[j]
                  + z4 * u4[j] + z5 * u5[j] + z6 * u6[j] + z7 * u7[j])


@njit(cache=True, fastmath=True, error_model="numpy")
def _forward_rows(U, k0, k, z):
    """Rows k0..k-1 of the forward substitution U' z = b, in place (z holds b there, less the
    contributions of the first k0 rows).  Rows of U are taken eight at a time: the triangle
    among them, then one pass over the rest of z subtracts all eight."""
    i0 = k0
    while i0 + 8 <= k:
        _triangle(U, i0, i0 + 8, z)
        _subtract8(U, i0, k, z)
        i0 += 8
    for i in range(i0, k):
        zi = z[i] / U[i, i]
        z[i] = zi
        zz = z[i + 1:k]
        uu = U[i, i + 1:k]
        for j in range(zz.shape[0]):
            zz[j] -= uu[j] * zi


@njit(cache=True, fastmath=True, error_model="numpy")
def forward(U, k, b, z):
    """Solve U[:k,:k]' z = b (z may alias b)."""
    for i in range(k):
        z[i] = b[i]
    _forward_rows(U, np.int64(0), k, z)  # a literal 0 would compile a second specialization


@njit(cache=True, fastmath=True, error_model="numpy")
def backward(U, k, z, x):
    """Solve U[:k,:k] x = z (x may alias z).  The last k % 8 rows one by one, then eight rows at
    a time: their eight dot products with the solved part in one pass, then their triangle."""
    top = k - k % 8
    for i in range(k - 1, top - 1, -1):
        uu = U[i, i + 1:k]
        xx = x[i + 1:k]
        s = 0.0
        for j in range(uu.shape[0]):
            s += uu[j] * xx[j]
        x[i] = (z[i] - s) / U[i, i]
    i0 = top - 8
    while i0 >= 0:
        u0, u1, u2, u3, u4, u5, u6, u7 = _rows8(U, i0, k)
        xx = x[i0 + 8:k]
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        s4 = 0.0
        s5 = 0.0
        s6 = 0.0
        s7 = 0.0
        for j in range(xx.shape[0]):
            xj = xx[j]
            s0 += u0[j] * xj
            s1 += u1[j] * xj
            s2 += u2[j] * xj
            s3 += u3[j] * xj
            s4 += u4[j] * xj
            s5 += u5[j] * xj
            s6 += u6[j] * xj
            s7 += u7[j] * xj
        acc = (s0, s1, s2, s3, s4, s5, s6, s7)
        for l in range(7, -1, -1):
            i = i0 + l
            t = z[i] - acc[l]
            for j in range(i + 1, i0 + 8):
                t -= U[i, j] * x[j]
            x[i] = t / U[i, i]
        i0 -= 8


@njit(cache=True, fastmath=True, error_model="numpy")
def forward_from(U, k, b, z0, k0):
    """Solve U[:k,:k]' z = b given the solution's first k0 entries ``z0[:k0]`` (those of the same
    system before columns were appended: O(k0 (k - k0) + (k - k0)^2) instead of O(k^2))."""
    z = np.empty(k)
    for i in range(k0):
        z[i] = z0[i]
    for i in range(k0, k):
        z[i] = b[i]
    zz = z[k0:k]
    for i in range(k0):
        uu = U[i, k0:k]
        zi = z[i]
        for j in range(zz.shape[0]):
            zz[j] -= uu[j] * zi
    _forward_rows(U, k0, k, z)
    return z


@njit(cache=True)
def chol_solve(U, k, rhs, z0, k0):
    """(x, z) with U'U x = rhs and U'z = rhs (new arrays), given the first k0 entries of z in
    ``z0`` (those of the same system before columns were appended; k0 = 0: none), see
    :func:`forward_from`."""
    z = forward_from(U, k, rhs, z0, k0)
    x = np.empty(k)
    backward(U, k, z, x)
    return x, z


@njit(cache=True, fastmath=True, error_model="numpy")
def _forward_block(U, k, W):
    """Solve U[:k,:k]' w_c = W[c] in place for every row c of W (several right-hand sides).

    Rows of U are taken eight at a time, as in :func:`_forward_rows`, for every right-hand side
    in turn while the eight rows stay in cache."""
    t = W.shape[0]
    i0 = np.int64(0)
    while i0 + 8 <= k:
        for c in range(t):
            wc = W[c]
            _triangle(U, i0, i0 + 8, wc)
            _subtract8(U, i0, k, wc)
        i0 += 8
    for c in range(t):
        _forward_rows(U, i0, k, W[c])


#: appends of at least _PANEL_MIN_NEW columns to a factor of at least 2 * _PANEL rows solve
#: their forward substitutions by panels of _PANEL rows, updating the rest by BLAS products
_PANEL = 128
_PANEL_MIN_NEW = 16


@njit(cache=True, fastmath=True, error_model="numpy")
def _panel(U, i0, i1, W):
    """Rows i0..i1-1 of the forward substitutions U' w_c = b_c among themselves, for every row
    w_c of W (the contributions of the rows before i0 already subtracted): on a transposed copy
    of the panel, so that the innermost loop runs over the right-hand sides."""
    t = W.shape[0]
    m = i1 - i0
    P = np.empty((m, t))
    for c in range(t):
        for i in range(m):
            P[i, c] = W[c, i0 + i]
    for i in range(m):
        pi = P[i]
        d = 1.0 / U[i0 + i, i0 + i]
        for c in range(t):
            pi[c] *= d
        for j in range(i + 1, m):
            u = U[i0 + i, i0 + j]
            pj = P[j]
            for c in range(t):
                pj[c] -= u * pi[c]
    for c in range(t):
        for i in range(m):
            W[c, i0 + i] = P[i, c]


def _forward_panels(U, k, W):
    """:func:`_forward_block` by panels of _PANEL rows: each panel's triangle by
    :func:`_panel`, then one BLAS product subtracts its contribution from all later entries of
    every right-hand side (measured on appends of 16-20 columns to factors of 300-900: 25-35%
    faster than :func:`_forward_block`; slower for a few columns)."""
    i0 = np.int64(0)
    while i0 < k:
        i1 = min(i0 + _PANEL, k)
        _panel(U, i0, i1, W)
        if i1 < k:
            W[:, i1:k] -= W[:, i0:i1] @ U[i0:i1, i1:k]
        i0 = i1


@njit(cache=True)
def _gather_columns(G, pos, k, new_pos, scale, W):
    """W[c, i] = G[new_pos[c], pos[i]] * scale (the new columns' entries in the factor's rows)."""
    t = new_pos.shape[0]
    for c in range(t):
        g = G[new_pos[c]]
        wc = W[c]
        for i in range(k):
            wc[i] = g[pos[i]] * scale
    return W


def append(U, k, G, pos, new_pos, scale, diag, rtol, work=None):
    """Append the columns ``new_pos`` (cache positions) to the factor of the first k.

    M's entries are ``G[pos_i, pos_j] * scale`` (G symmetric) plus ``diag`` on the new diagonal;
    ``pos`` holds the cache positions of the factor's columns and must have room for the new
    ones (filled in).  Block update: W = U'^{-1} M[S, new] (:func:`_forward_block`, or by panels
    with BLAS products for many columns on a large factor), then the Cholesky factor of
    M[new, new] - W'W (:func:`_append_schur`).  Returns the new size, or -1 when a new pivot is
    not clearly positive (``d <= rtol * sqrt(M_jj)``; U and the first k entries of pos are then
    unchanged): the block is (near) singular.  ``work``: optional flat float64 scratch of at
    least k * len(new_pos) entries for W (a fresh array per call costs page faults).
    """
    t = new_pos.shape[0]
    W = np.empty((t, k)) if work is None or work.shape[0] < t * k else work[:t * k].reshape(t, k)
    _gather_columns(G, pos, k, new_pos, scale, W)
    if new_pos.shape[0] >= _PANEL_MIN_NEW and k >= 2 * _PANEL:
        _forward_panels(U, k, W)
    else:
        _forward_block(U, k, W)
    return _append_schur(U, k, G, pos, new_pos, scale, diag, rtol, W)


@njit(cache=True, fastmath=True, error_model="numpy")
def _append_schur(U, k, G, pos, new_pos, scale, diag, rtol, W):
    """The rest of :func:`append` given W = U'^{-1} M[S, new] (rows: the new columns)."""
    t = new_pos.shape[0]
    C = np.empty((t, t))
    for c in range(t):
        g = G[new_pos[c]]
        for e in range(t):
            C[c, e] = g[new_pos[e]] * scale
        C[c, c] += diag[c]
    for c in range(t):
        wc = W[c]
        for e in range(c, t):
            we = W[e]
            s = 0.0
            for i in range(k):
                s += wc[i] * we[i]
            C[c, e] -= s
    # Cholesky of the t x t Schur complement, upper, in place in C
    for c in range(t):
        mjj = G[new_pos[c], new_pos[c]] * scale + diag[c]
        s = C[c, c]
        for l in range(c):
            s -= C[l, c] * C[l, c]
        if not (mjj > 0.0 and s > 0.0 and np.sqrt(s) > rtol * np.sqrt(mjj)):
            return -1
        dcc = np.sqrt(s)
        C[c, c] = dcc
        for e in range(c + 1, t):
            s2 = C[c, e]
            for l in range(c):
                s2 -= C[l, c] * C[l, e]
            C[c, e] = s2 / dcc
    for i in range(k):
        for c in range(t):
            U[i, k + c] = W[c, i]
    for c in range(t):
        for e in range(t):
            U[k + c, k + e] = C[c, e] if e >= c else 0.0
        pos[k + c] = new_pos[c]
    return k + t


@njit(cache=True)
def spread(U, m):
    """Move the C-ordered m x m block held in the first m * m entries of U's (C-contiguous)
    buffer to U[:m, :m] (rows of U's full width), in place: rows last to first, each from its
    end, so that no entry is overwritten before it is moved (row i goes to offset i * size >=
    i * m)."""
    size = U.shape[1]
    flat = U.reshape(-1)
    for i in range(m - 1, 0, -1):
        src = i * m
        dst = i * size
        for j in range(m - 1, -1, -1):
            flat[dst + j] = flat[src + j]


@njit(cache=True)
def _compact_rows(U, k, dels):
    """Move the entries of rows 0..k-1 left over the deleted columns ``dels`` (sorted): the run
    of kept columns after dels[s] moves left by s + 1, from the row's diagonal on.  Rows are taken
    eight at a time: each row's entries left of the eighth row's start on their own, then all
    eight rows' runs together (eight streams of U in flight; measured 2-3x faster than row by
    row on factors of 800)."""
    nd = dels.shape[0]
    i0 = np.int64(0)
    while i0 < k:
        i1 = min(i0 + 8, k)
        for i in range(i0, i1):
            row = U[i]
            for s in range(nd):
                lo = max(dels[s] + 1, i)
                hi = min(dels[s + 1] if s + 1 < nd else k, i1)
                for e in range(lo, hi):
                    row[e - s - 1] = row[e]
        if i1 - i0 == 8:
            r0 = U[i0]
            r1 = U[i0 + 1]
            r2 = U[i0 + 2]
            r3 = U[i0 + 3]
            r4 = U[i0 + 4]
            r5 = U[i0 + 5]
            r6 = U[i0 + 6]
            r7 = U[i0 + 7]
            for s in range(nd):
                lo = max(dels[s] + 1, i1)
                hi = dels[s + 1] if s + 1 < nd else k
                d = s + 1
                for e in range(lo, hi):
                    r0[e - d] = r0[e]
                    r1[e - d] = r1[e]
                    r2[e - d] = r2[e]
                    r3[e - d] = r3[e]
                    r4[e - d] = r4[e]
                    r5[e - d] = r5[e]
                    r6[e - d] = r6[e]
                    r7[e - d] = r7[e]
        else:
            for i in range(i0, i1):
                row = U[i]
                for s in range(nd):
                    lo = max(dels[s] + 1, i1)
                    hi = dels[s + 1] if s + 1 < nd else k
                    for e in range(lo, hi):
                        row[e - s - 1] = row[e]
        i0 = i1


@njit(cache=True, fastmath=True, error_model="numpy")
def delete_many(U, k, pos, keep):
    """Delete every column whose ``keep`` flag is False (pos compacted alongside); returns k.

    One pass moves the kept columns left in every row; the result is upper triangular but for a
    staircase below the diagonal (kept column c, originally column j, has j - c entries below),
    which Givens rotations of adjacent rows clear column by column (positive diagonal kept).
    The same rotations as deleting the columns one at a time, without moving the rows once per
    deleted column.
    """
    newidx = np.empty(k, dtype=np.int64)
    m = 0
    for j in range(k):
        if keep[j]:
            newidx[j] = m
            pos[m] = pos[j]
            m += 1
    if m == k:
        return k
    # the deleted columns d_1 < d_2 < ...: the kept run after d_s moves left by s (rows that
    # reach it; entries left of a row's diagonal are never read)
    dels = np.flatnonzero(~keep[:k])
    _compact_rows(U, k, dels)
    for j in range(k):
        if not keep[j]:
            continue
        c = newidx[j]
        # rows c+1..j hold entries in column c: rotate them away, bottom up
        for r in range(j, c, -1):
            a = U[r - 1, c]
            b = U[r, c]
            h = np.sqrt(a * a + b * b)
            if h == 0.0:
                continue
            cs = a / h
            sn = b / h
            U[r - 1, c] = h
            U[r, c] = 0.0
            r1 = U[r - 1, c + 1:m]
            r2 = U[r, c + 1:m]
            for e in range(r1.shape[0]):
                t1 = r1[e]
                t2 = r2[e]
                r1[e] = cs * t1 + sn * t2
                r2[e] = cs * t2 - sn * t1
    return m


@njit(cache=True, fastmath=True, error_model="numpy")
def forward_and_matvec(U, k, t, x, y):
    """Solve U[:k,:k]' z = t in place (t becomes z) and set y = U[:k,:k] x, in one pass over the
    factor's rows: the start of a conjugate-gradient solve needs both.  Rows are taken eight at a
    time (as :func:`_forward_rows`); one loop over their part right of the eight-by-eight block
    both subtracts the solved entries from the rest of t and sums the eight products with x
    (eight streams of U in flight; each element of U read once)."""
    i0 = np.int64(0)
    while i0 + 8 <= k:
        for i in range(i0, i0 + 8):
            s = 0.0
            for j in range(i, i0 + 8):
                s += U[i, j] * x[j]
            y[i] = s
        _triangle(U, i0, i0 + 8, t)
        u0, u1, u2, u3, u4, u5, u6, u7 = _rows8(U, i0, k)
        z0 = t[i0]
        z1 = t[i0 + 1]
        z2 = t[i0 + 2]
        z3 = t[i0 + 3]
        z4 = t[i0 + 4]
        z5 = t[i0 + 5]
        z6 = t[i0 + 6]
        z7 = t[i0 + 7]
        tt = t[i0 + 8:k]
        xx = x[i0 + 8:k]
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        s4 = 0.0
        s5 = 0.0
        s6 = 0.0
        s7 = 0.0
        for j in range(tt.shape[0]):
            a0 = u0[j]
            a1 = u1[j]
            a2 = u2[j]
            a3 = u3[j]
            a4 = u4[j]
            a5 = u5[j]
            a6 = u6[j]
            a7 = u7[j]
            tt[j] -= (z0 * a0 + z1 * a1 + z2 * a2 + z3 * a3) + (z4 * a4 + z5 * a5 + z6 * a6 + z7 * a7)
            xj = xx[j]
            s0 += a0 * xj
            s1 += a1 * xj
            s2 += a2 * xj
            s3 += a3 * xj
            s4 += a4 * xj
            s5 += a5 * xj
            s6 += a6 * xj
            s7 += a7 * xj
        y[i0] += s0
        y[i0 + 1] += s1
        y[i0 + 2] += s2
        y[i0 + 3] += s3
        y[i0 + 4] += s4
        y[i0 + 5] += s5
        y[i0 + 6] += s6
        y[i0 + 7] += s7
        i0 += 8
    for i in range(i0, k):
        uu = U[i, i:k]
        xx = x[i:k]
        s = 0.0
        for j in range(uu.shape[0]):
            s += uu[j] * xx[j]
        y[i] = s
        zi = t[i] / U[i, i]
        t[i] = zi
        zz = t[i + 1:k]
        uu = U[i, i + 1:k]
        for j in range(zz.shape[0]):
            zz[j] -= uu[j] * zi


@njit(cache=True, fastmath=True, error_model="numpy")
def lower_matvec(U, k, x, y):
    """y = U[:k,:k]' x (the transpose of the upper triangle), by rows of U."""
    for i in range(k):
        y[i] = 0.0
    for j in range(k):
        xj = x[j]
        uu = U[j, j:k]
        yy = y[j:k]
        for i in range(uu.shape[0]):
            yy[i] += uu[i] * xj


@njit(cache=True, fastmath=True, error_model="numpy")
def shifted_solve(U, k, rhs, shift, d, rtol, max_iter, x0, state):
    """x with (U'U + shift * diag(d)) x = rhs, from the factor U of U'U only.

    Conjugate gradients on the system in the variable y = U x, preconditioned by the factor:
    (I + shift K) y = U'^{-1} rhs with K = U'^{-1} diag(d) U^{-1}, two triangular solves per
    iteration.  For U'U = G + mu0 diag(d) with G positive semi-definite and shift > -mu0 the
    spectrum of K lies in [0, 1/mu0], so the matrix is positive definite with condition number
    at most 1 / (1 - |shift| / mu0) for shift < 0 (1 + shift / mu0 for shift > 0), and the error
    falls by (sqrt(c) - 1) / (sqrt(c) + 1) per iteration (0.02 at |shift| = 0.07 mu0; plain
    fixed-point iteration: 0.07).  Starts from ``x0`` when it has k entries (a nearby solution,
    e.g. the current coefficients), else from the solution for shift = 0; stops when the
    residual is below ``rtol`` relative to the right-hand side.  Returns (x, converged); not
    converged after ``max_iter`` iterations, or when the matrix is found not positive definite.

    x = U^{-1} y is carried along the iteration (each step's U^{-1} p is the first of its two
    triangular solves), so no final triangular solve is needed; with ``rtol < 1e-12`` (a solve
    to rounding) x is taken from a final solve all the same.

    ``state`` (3k + 1 entries, else ignored) receives the final y, residual, squared norm of
    the right-hand side and x; passed back for the same system with ``state[2k] > 0`` (a tighter
    rtol, say) the iteration resumes from there, restarted along the residual, instead of
    starting from x0 (which saves the start's pass over U).
    """
    t = np.empty(k)
    y = np.empty(k)
    r = np.empty(k)
    x = np.empty(k)
    bb = 0.0
    rr = 0.0
    keep = state.shape[0] == 3 * k + 1
    resumed = keep and state[2 * k] > 0.0
    if resumed:
        for i in range(k):
            y[i] = state[i]
            r[i] = state[k + i]
            x[i] = state[2 * k + 1 + i]
            rr += r[i] * r[i]
        bb = state[2 * k]
    elif x0.shape[0] == k:
        # b - (I + shift K) y0 with y0 = U x0 is U'^{-1} (rhs - shift D x0) - U x0: one forward
        # solve and one product (the stopping rule measures against U'^{-1} (rhs - shift D x0))
        for i in range(k):
            t[i] = rhs[i] - shift * d[i] * x0[i]
            x[i] = x0[i]
        forward_and_matvec(U, k, t, x0, y)
        for i in range(k):
            r[i] = t[i] - y[i]
            bb += t[i] * t[i]
            rr += r[i] * r[i]
    else:
        b = np.empty(k)
        forward(U, k, rhs, b)
        for i in range(k):
            y[i] = b[i]
        backward(U, k, y, t)
        for i in range(k):
            x[i] = t[i]
            t[i] *= d[i]
        forward(U, k, t, t)
        for i in range(k):
            r[i] = b[i] - y[i] - shift * t[i]
            bb += b[i] * b[i]
            rr += r[i] * r[i]
    stop = rtol * rtol * bb
    pdir = r.copy()
    ap = np.empty(k)
    up = np.empty(k)
    ok = rr <= stop
    iters = 0
    for it in range(max_iter):
        if ok:
            break
        iters += 1
        backward(U, k, pdir, t)
        for i in range(k):
            up[i] = t[i]  # U^{-1} p, for x
            t[i] *= d[i]
        forward(U, k, t, t)
        pap = 0.0
        for i in range(k):
            ap[i] = pdir[i] + shift * t[i]
            pap += pdir[i] * ap[i]
        if not (pap > 0.0 and np.isfinite(pap)):
            break
        alpha = rr / pap
        rr_new = 0.0
        for i in range(k):
            y[i] += alpha * pdir[i]
            x[i] += alpha * up[i]
            r[i] -= alpha * ap[i]
            rr_new += r[i] * r[i]
        beta = rr_new / rr
        rr = rr_new
        for i in range(k):
            pdir[i] = r[i] + beta * pdir[i]
        ok = rr <= stop
    if iters and rtol < 1e-12:
        backward(U, k, y, x)
    if keep:
        for i in range(k):
            state[i] = y[i]
            state[k + i] = r[i]
            state[2 * k + 1 + i] = x[i]
        state[2 * k] = bb
    return x, ok and np.all(np.isfinite(x))


@njit(cache=True)
def match(A, S, mark):
    """Compare a new column set A with the factor's columns S.

    Returns (keep, new): ``keep[i]`` whether S[i] is in A, and the columns of A not in S (in A's
    order).  ``mark`` is a zeroed int8 scratch array over all columns, zeroed again on return:
    O(|A| + |S|), no pass over all columns.
    """
    for j in A:
        mark[j] = 1
    keep = np.empty(S.shape[0], dtype=np.bool_)
    for i in range(S.shape[0]):
        keep[i] = mark[S[i]] == 1
        mark[S[i]] = 2
    m = 0
    for j in A:
        if mark[j] == 1:
            m += 1
    new = np.empty(m, dtype=np.int64)
    m = 0
    for j in A:
        if mark[j] == 1:
            new[m] = j
            m += 1
    for j in A:
        mark[j] = 0
    for i in range(S.shape[0]):
        mark[S[i]] = 0
    return keep, new
