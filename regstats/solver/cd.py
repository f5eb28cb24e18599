"""Coordinate-descent kernels for the elastic net on a prepared (centred, scaled) problem.

Both kernels solve, for each lambda in turn (warm-started from the previous solution),

    minimize_b  1/(2n) ||y - X b||^2 + lam * sum_j v_j * ((1 - a)/2 b_j^2 + a |b_j|)

where the caller has already centred y and X, scaled X, and multiplied rows by sqrt(weight).
This is the textbook form; ``regstats.engine.kernel_penalty`` maps the user's ``(lam, l1_ratio)``,
whose ridge part is divided by s_y (docs/conventions.md), onto it.
``cd_path_gram`` works on the Gram matrix G = X'X/n and c = X'y/n (n >> p); ``cd_path_naive``
(:mod:`regstats.solver.naive`, built on these kernels) keeps the residual (p large).  Both use
sequential strong rules to pick a working set, iterate on the active set, verify the KKT
conditions on every column, and stop when the duality gap is at most ``tol * yy`` (yy =
||y||^2/n, the null deviance over n).  With ``exact`` they finish with an active-set linear solve,
accepted only when it keeps the signs and satisfies the KKT conditions, so the answer is exact to
rounding.

Kernels never raise or warn: they return per-lambda gaps, sweep counts and converged flags.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _soft(z, t):
    # a coefficient enters only when |z| exceeds the threshold by more than rounding (1e-13
    # relative): at lambda_max, computed from another but equal expression, all stay exactly 0
    tt = t * (1.0 + 1e-13)
    if z > tt:
        return z - t
    if z < -tt:
        return z + t
    return 0.0


@njit(cache=True)
def _gap(beta, q, c, yy, v, a, lam):
    """Duality gap of the elastic net (augmented-lasso dual, rescaled to feasibility).

    q = X'(y - Xb)/n, c = X'y/n.  Returns (gap, primal, rss/n).
    """
    p = beta.shape[0]
    bc = 0.0
    bq = 0.0
    l1 = 0.0
    l2 = 0.0
    dual_norm = 0.0
    for j in range(p):
        b = beta[j]
        bc += b * c[j]
        bq += b * q[j]
        l1 += v[j] * abs(b)
        l2 += v[j] * b * b
        if v[j] > 0.0:
            h = abs(q[j] - lam * (1.0 - a) * v[j] * b)
            if a > 0.0:
                r = h / (a * v[j])
                if r > dual_norm:
                    dual_norm = r
    rss = yy - bc - bq
    if rss < 0.0:
        rss = 0.0
    primal = 0.5 * rss + lam * a * l1 + 0.5 * lam * (1.0 - a) * l2
    if a > 0.0:
        s = 1.0
        if dual_norm > lam:
            s = lam / dual_norm
        dual = s * (yy - bc) - 0.5 * s * s * (rss + lam * (1.0 - a) * l2)
        g = primal - dual
    else:
        # ridge: Fenchel gap at theta = r, sum_j (q_j - lam v_j b_j)^2 / (2 lam v_j) over
        # penalized columns, plus |b_j q_j| for unpenalized ones (q_j -> 0 at the optimum)
        g = 0.0
        for j in range(p):
            h = q[j] - lam * v[j] * beta[j]
            if v[j] > 0.0 and lam > 0.0:
                g += h * h / (2.0 * lam * v[j])
            else:
                g += abs(beta[j] * q[j])
    if g < 0.0:
        g = 0.0
    return g, primal, rss


@njit(cache=True)
def _chol(M):
    """Lower Cholesky factor of a symmetric matrix; returns (L, ok).

    ok is False when a pivot is not clearly positive (singular or indefinite matrix).
    """
    m = M.shape[0]
    L = np.zeros((m, m))
    scale = 0.0
    for i in range(m):
        if M[i, i] > scale:
            scale = M[i, i]
    for j in range(m):
        s = M[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if not s > 1e-12 * scale:
            return L, False
        d = np.sqrt(s)
        L[j, j] = d
        for i in range(j + 1, m):
            t = M[i, j]
            for k in range(j):
                t -= L[i, k] * L[j, k]
            L[i, j] = t / d
    return L, True


@njit(cache=True)
def _chol_solve(L, rhs):
    m = rhs.shape[0]
    z = np.zeros(m)
    for i in range(m):
        s = rhs[i]
        for k in range(i):
            s -= L[i, k] * z[k]
        z[i] = s / L[i, i]
    x = np.zeros(m)
    for i in range(m - 1, -1, -1):
        s = z[i]
        for k in range(i + 1, m):
            s -= L[k, i] * x[k]
        x[i] = s / L[i, i]
    return x


@njit(cache=True)
def _solve_active(Gaa, rhs):
    """Solve the symmetric positive-definite system by Cholesky; returns (x, ok)."""
    L, ok = _chol(Gaa)
    if not ok:
        return np.zeros(rhs.shape[0]), False
    x = _chol_solve(L, rhs)
    for i in range(x.shape[0]):
        if not np.isfinite(x[i]):
            return x, False
    return x, True


# --------------------------------------------------------------------------------------------
# Gram (covariance) kernel
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def _gram_newton(G, c, v, a, lam, beta, q):
    """Active-set Newton step on the Gram matrix (feature-sign search).

    A = nonzero or unpenalized coefficients, s their signs.  x solves
    (G_AA + lam (1-a) V_A) x = c_A - lam a V_A s.  If x keeps the signs it is the exact minimizer
    over that orthant face; otherwise move from b towards x up to the first zero crossing (the
    objective decreases on the way), pin the crossed coordinates at 0 and correct x by a Schur
    complement, until the signs agree.  Updates beta and q = c - G beta in place.
    Returns 2 (exact on its support), 1 (descent step only) or 0 (failed, nothing changed).
    """
    p = beta.shape[0]
    m = 0
    for j in range(p):
        if beta[j] != 0.0 or v[j] == 0.0 or (a == 0.0 and G[j, j] > 0.0):
            m += 1
    if m == 0:
        return 0
    A = np.empty(m, dtype=np.int64)
    k = 0
    for j in range(p):
        if beta[j] != 0.0 or v[j] == 0.0 or (a == 0.0 and G[j, j] > 0.0):
            A[k] = j
            k += 1
    sgn = np.empty(m)
    M = np.empty((m, m))
    rhs = np.empty(m)
    for k in range(m):
        jk = A[k]
        b = beta[jk]
        sgn[k] = 1.0 if b > 0 else (-1.0 if b < 0 else 0.0)
        for l in range(m):
            M[k, l] = G[jk, A[l]]
        M[k, k] += lam * (1.0 - a) * v[jk]
        rhs[k] = c[jk] - lam * a * v[jk] * sgn[k]
    L, ok = _chol(M)
    if not ok:
        return 0
    x0 = _chol_solve(L, rhs)
    for k in range(m):
        if not np.isfinite(x0[k]):
            return 0
    b = np.empty(m)
    for k in range(m):
        b[k] = beta[A[k]]
    x = x0.copy()
    dropped = np.zeros(m, dtype=np.bool_)
    D = np.empty(m, dtype=np.int64)
    Z = np.empty((m, m))
    nd = 0
    status = 1
    for _ in range(m + 1):
        # first zero crossing among coordinates whose sign x would flip
        t = 2.0
        for k in range(m):
            if a > 0.0 and not dropped[k] and v[A[k]] > 0.0 and x[k] * sgn[k] <= 0.0:
                tk = b[k] / (b[k] - x[k])
                if tk < t:
                    t = tk
        if t > 1.0:
            status = 2
            break
        for k in range(m):
            if not dropped[k]:
                b[k] += t * (x[k] - b[k])
        newly = 0
        # pin the coordinates that reached zero (the argmin, and any that crossed with it)
        for k in range(m):
            if not dropped[k] and v[A[k]] > 0.0 and b[k] * sgn[k] <= 1e-14 * (abs(x[k]) + abs(b[k]) + 1e-300):
                dropped[k] = True
                b[k] = 0.0
                e = np.zeros(m)
                e[k] = 1.0
                z = _chol_solve(L, e)
                # element by element: a slice assignment makes numba compile its shape-mismatch
                # error path (string formatting), seconds of the first run's compile time
                for i in range(m):
                    Z[i, nd] = z[i]
                D[nd] = k
                nd += 1
                newly += 1
        if newly == 0:
            break
        S = np.empty((nd, nd))
        r = np.empty(nd)
        for i in range(nd):
            for l in range(nd):
                S[i, l] = Z[D[i], l]
            r[i] = x0[D[i]]
        y, ok = _solve_active(S, r)
        if not ok:
            break
        for k in range(m):
            s = x0[k]
            for l in range(nd):
                s -= Z[k, l] * y[l]
            x[k] = s
        for l in range(nd):
            x[D[l]] = 0.0
    if status == 2:
        bmax = 0.0
        for k in range(m):
            b[k] = 0.0 if dropped[k] else x[k]
            if abs(b[k]) > bmax:
                bmax = abs(b[k])
        # rounding-level coefficients are zeros (the KKT check that follows confirms them)
        for k in range(m):
            if v[A[k]] > 0.0 and a > 0.0 and abs(b[k]) <= 1e-13 * bmax:
                b[k] = 0.0
    for k in range(m):
        jk = A[k]
        d = b[k] - beta[jk]
        if d != 0.0:
            beta[jk] = b[k]
    for i in range(p):
        s = c[i]
        for k in range(m):
            s -= G[A[k], i] * b[k]
        q[i] = s
    return status


@njit(cache=True)
def _gram_sweep(G, v, a, lam, beta, q, idx, m, xx):
    """One CD sweep over idx[:m]; returns the largest xx_j * delta_j^2."""
    p = beta.shape[0]
    dmax = 0.0
    for k in range(m):
        j = idx[k]
        bj = beta[j]
        z = q[j] + xx[j] * bj
        nb = _soft(z, lam * a * v[j]) / (xx[j] + lam * (1.0 - a) * v[j])
        d = nb - bj
        if d != 0.0:
            beta[j] = nb
            for i in range(p):
                q[i] -= G[j, i] * d
            dd = xx[j] * d * d
            if dd > dmax:
                dmax = dd
    return dmax


@njit(cache=True)
def _gram_cd(G, v, a, lam, beta, q, idx, m, act, xx, tol_cd, budget):
    """glmnet's sweep pattern on the working set idx[:m]; returns (sweeps, converged, support_changed)."""
    nsw = 0
    changed = False
    while nsw < budget:
        nz0 = 0
        for k in range(m):
            if beta[idx[k]] != 0.0:
                nz0 += 1
        dmax = _gram_sweep(G, v, a, lam, beta, q, idx, m, xx)
        nsw += 1
        ma = np.int64(0)  # not a literal 0: a literal argument compiles a second specialization
        for k in range(m):
            if beta[idx[k]] != 0.0 or v[idx[k]] == 0.0:
                act[ma] = idx[k]
                ma += 1
        nz1 = 0
        for k in range(m):
            if beta[idx[k]] != 0.0:
                nz1 += 1
        changed = nz0 != nz1
        if dmax <= tol_cd:
            return nsw, True, changed
        while nsw < budget:
            da = _gram_sweep(G, v, a, lam, beta, q, act, ma, xx)
            nsw += 1
            if da <= tol_cd:
                break
    return nsw, False, changed


@njit(cache=True)
def cd_path_gram(G, c, yy, v, a, lambdas, beta0, tol, max_sweeps, exact):
    """Elastic-net path on the Gram matrix G = X'X/n, c = X'y/n (n >> p).

    Per lambda: strong-rule working set, coordinate descent (a small sweep budget), then an
    active-set Newton step when coordinate descent is slow or ``exact`` is set, KKT check on
    every column (q = c - G beta is exact here), stop when the duality gap <= tol * yy.
    Returns (betas, gaps, rss_over_n, sweeps, converged).
    """
    p = c.shape[0]
    nlam = lambdas.shape[0]
    betas = np.zeros((nlam, p))
    gaps = np.zeros(nlam)
    rss = np.zeros(nlam)
    sweeps = np.zeros(nlam, dtype=np.int64)
    conv = np.zeros(nlam, dtype=np.bool_)
    xx = np.empty(p)
    for j in range(p):
        xx[j] = G[j, j]
    beta = beta0.copy()
    q = c.copy()
    for j in range(p):
        if beta[j] != 0.0:
            for i in range(p):
                q[i] -= G[j, i] * beta[j]
    in_set = np.zeros(p, dtype=np.bool_)
    idx = np.empty(p, dtype=np.int64)
    act = np.empty(p, dtype=np.int64)
    lam_prev = 0.0
    for j in range(p):
        if v[j] > 0.0 and xx[j] > 0.0:
            r = abs(q[j]) / (max(a, 1e-3) * v[j])
            if r > lam_prev:
                lam_prev = r
    if nlam > 0 and lam_prev < lambdas[0]:
        lam_prev = lambdas[0]
    target = tol * yy
    budget = 20
    for li in range(nlam):
        lam = lambdas[li]
        for j in range(p):
            if xx[j] > 0.0 and (beta[j] != 0.0 or v[j] == 0.0
                                or abs(q[j]) >= a * v[j] * (2.0 * lam - lam_prev)):
                in_set[j] = True
        tol_cd = target
        nsw = 0
        newton_ok = True
        exact_done = False
        slow = False
        nfail = 0
        while nsw < max_sweeps:
            m = np.int64(0)
            for j in range(p):
                if in_set[j]:
                    idx[m] = j
                    m += 1
            k, ok, changed = _gram_cd(G, v, a, lam, beta, q, idx, m, act, xx, tol_cd,
                                      min(budget, max_sweeps - nsw))
            nsw += k
            if not ok:
                slow = True
            status = -1
            if newton_ok and (exact or slow) and (ok or not changed):
                status = _gram_newton(G, c, v, a, lam, beta, q)
                if status == 0:
                    newton_ok = False
                elif status == 2:
                    # exact on its support; optimal only if every zero coefficient passes KKT
                    exact_done = True
                    for j in range(p):
                        if beta[j] == 0.0 and xx[j] > 0.0 and (
                                v[j] == 0.0 or abs(q[j]) > lam * a * v[j] * (1.0 + 1e-10)):
                            exact_done = False
                            break
                for j in range(p):
                    if beta[j] != 0.0:
                        in_set[j] = True
            if not ok and status != 2:
                continue
            added = False
            for j in range(p):
                if not in_set[j] and xx[j] > 0.0 and abs(q[j]) > lam * a * v[j]:
                    in_set[j] = True
                    added = True
            if added:
                exact_done = False
                continue
            g, _, _ = _gap(beta, q, c, yy, v, a, lam)
            # an exact active-set solution that passes the KKT check is optimal to rounding,
            # even where rounding in q keeps the gap above a very small target (lam -> 0)
            if exact_done or (g <= target and (not exact or not newton_ok)):
                break
            if status == 1:
                continue
            if g > target:
                nfail += 1
                if nfail >= 2:
                    slow = True
                if ok:
                    tol_cd *= 0.1
                    if tol_cd < 1e-300:
                        break
        # recompute q from scratch to remove drift of the incremental updates
        for i in range(p):
            s = c[i]
            for j in range(p):
                if beta[j] != 0.0:
                    s -= G[j, i] * beta[j]
            q[i] = s
        g, _, rs = _gap(beta, q, c, yy, v, a, lam)
        gaps[li] = g
        rss[li] = rs
        sweeps[li] = nsw
        conv[li] = g <= target or exact_done
        # element by element (a row assignment compiles numba's shape-mismatch error path)
        for j in range(p):
            betas[li, j] = beta[j]
        lam_prev = lam
    return betas, gaps, rss, sweeps, conv


# --------------------------------------------------------------------------------------------
# naive (residual) kernel: coordinate sweeps on a working set; the path loop, KKT checks and the
# active-set Newton steps live in ``regstats.solver.naive`` (Python around BLAS).
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=True)
def _naive_sweep(X, v, a, lam, beta, r, idx, m, xx, n):
    dmax = 0.0
    inv_n = 1.0 / n
    for k in range(m):
        j = idx[k]
        if xx[j] == 0.0:
            continue
        bj = beta[j]
        s = 0.0
        for i in range(n):
            s += X[i, j] * r[i]
        z = s * inv_n + xx[j] * bj
        nb = _soft(z, lam * a * v[j]) / (xx[j] + lam * (1.0 - a) * v[j])
        d = nb - bj
        if d != 0.0:
            beta[j] = nb
            for i in range(n):
                r[i] -= X[i, j] * d
            dd = xx[j] * d * d
            if dd > dmax:
                dmax = dd
    return dmax


@njit(cache=True)
def cd_naive(X, r, beta, v, a, lam, xx, ws, tol_cd, max_sweeps):
    """Coordinate descent on the working set ``ws`` at one lambda, updating beta and r in place.

    glmnet's loop: a sweep over the whole working set, then sweeps over its nonzero part until
    they settle, then the whole set again; converged when a whole-set sweep moves no coefficient
    by more than ``tol_cd`` (in xx_j * delta^2 units).  Returns (sweeps, converged).
    """
    n = X.shape[0]
    m = ws.shape[0]
    act = np.empty(m, dtype=np.int64)
    nsw = 0
    while nsw < max_sweeps:
        dmax = _naive_sweep(X, v, a, lam, beta, r, ws, m, xx, n)
        nsw += 1
        if dmax <= tol_cd:
            return nsw, True
        ma = np.int64(0)  # not a literal 0: a literal argument compiles a second specialization
        for k in range(m):
            j = ws[k]
            if beta[j] != 0.0 or v[j] == 0.0:
                act[ma] = j
                ma += 1
        while nsw < max_sweeps:
            da = _naive_sweep(X, v, a, lam, beta, r, act, ma, xx, n)
            nsw += 1
            if da <= tol_cd:
                break
    return nsw, False


def warm_refit(X, y, v, a, lam, beta0, tol, max_sweeps):
    """One lambda by coordinate descent over all columns from the warm start ``beta0``, stopped on
    the duality gap ``tol * yy`` (the sweep tolerance is tightened until the gap is met or the
    sweep budget is spent).  Returns the path tuple of :func:`cd_path_naive` for one lambda."""
    X = np.asfortranarray(X)
    n, p = X.shape
    xx = np.einsum("ij,ij->j", X, X) / n
    c = (X.T @ y) / n
    yy = float(y @ y) / n
    beta = np.array(beta0, dtype=float, copy=True)
    r = y - X @ beta
    ws = np.flatnonzero(xx > 0.0).astype(np.int64)
    target = tol * yy
    tol_cd = target
    used = 0
    gap = np.inf
    rss = yy
    while True:
        sw, _ = cd_naive(X, r, beta, v, a, lam, xx, ws, tol_cd, max_sweeps - used)
        used += sw
        q = (X.T @ r) / n
        gap, _, rss = _gap(beta, q, c, yy, v, a, lam)
        if gap <= target or used >= max_sweeps or tol_cd < 1e-30 * max(yy, 1e-300):
            break
        tol_cd *= 1e-3
    return (beta[None, :], np.array([gap]), np.array([float(r @ r) / n]), np.array([used], dtype=np.int64),
            np.array([gap <= target]))


@njit(cache=True)
def gather_block(G, ix, scale, diag, M):
    """M[k, l] = G[ix[k], ix[l]] * scale, plus diag[k] on the diagonal, written into the C array M
    (m x m; allocated by the caller: numpy backs large arrays with huge pages, fewer faults)."""
    m = ix.shape[0]
    for k in range(m):
        gk = ix[k]
        for l in range(m):
            M[k, l] = G[gk, ix[l]] * scale
        M[k, k] += diag[k]
    return M


@njit(cache=True, fastmath=True, error_model="numpy")
def gram_gradient(G, rows, cols, b, scale, c, out):
    """out[i] = c[i] - scale * sum_l G[rows[i], cols[l]] b[l]: X'r/n of the cached columns
    ``rows`` for a beta supported on the cached columns ``cols`` (values b), from the Gram cache
    (no gathered copy of the block)."""
    for i in range(rows.shape[0]):
        g = G[rows[i]]
        s = 0.0
        for l in range(cols.shape[0]):
            s += g[cols[l]] * b[l]
        out[i] = c[i] - s * scale
    return out


@njit(cache=True, fastmath=True, error_model="numpy")
def residual_from(XC, m, y, b, out):
    """out = y - XC[:, :m] b, reading only the columns whose b is nonzero, four at a time
    (one pass over out per four columns)."""
    n = y.shape[0]
    for i in range(n):
        out[i] = y[i]
    idx = np.empty(4, dtype=np.int64)
    j = 0
    while j < m:
        c = 0
        while j < m and c < 4:
            if b[j] != 0.0:
                idx[c] = j
                c += 1
            j += 1
        if c == 4:
            x0 = XC[:, idx[0]]
            x1 = XC[:, idx[1]]
            x2 = XC[:, idx[2]]
            x3 = XC[:, idx[3]]
            b0 = b[idx[0]]
            b1 = b[idx[1]]
            b2 = b[idx[2]]
            b3 = b[idx[3]]
            for i in range(n):
                out[i] -= (x0[i] * b0 + x1[i] * b1) + (x2[i] * b2 + x3[i] * b3)
        else:
            for e in range(c):
                xe = XC[:, idx[e]]
                be = b[idx[e]]
                for i in range(n):
                    out[i] -= xe[i] * be
    return out


@njit(cache=True)
def copy_columns(X, cols, XC, k):
    """XC[:, k + c] = X[:, cols[c]] (the Gram cache's copies of new columns)."""
    n = X.shape[0]
    for c in range(cols.shape[0]):
        src = X[:, cols[c]]
        dst = XC[:, k + c]
        for i in range(n):
            dst[i] = src[i]


@njit(cache=True, fastmath=True, error_model="numpy")
def _col_dot(X, j, r, n):
    xj = X[:, j]
    s = 0.0
    for i in range(n):
        s += xj[i] * r[i]
    return s


@njit(cache=True)
def partial_q(X, r, cols, q):
    """q[j] = X[:, j]'r / n for the columns ``cols`` only (in place)."""
    n = X.shape[0]
    inv_n = 1.0 / n
    for k in range(cols.shape[0]):
        j = cols[k]
        q[j] = _col_dot(X, j, r, n) * inv_n


@njit(cache=True, fastmath=True, error_model="numpy")
def _col_dot16(X16, j, r32, n):
    """codes_j'r32 summed in double precision (each product of a 16-bit integer and a float is
    exact in double)."""
    xj = X16[:, j]
    s = 0.0
    for i in range(n):
        s += np.float64(xj[i]) * np.float64(r32[i])
    return s


@njit(cache=True, fastmath=True, error_model="numpy")
def _col_dot16_4(X16, j0, j1, j2, j3, r32, n):
    """:func:`_col_dot16` of four columns in one pass over r32."""
    x0 = X16[:, j0]
    x1 = X16[:, j1]
    x2 = X16[:, j2]
    x3 = X16[:, j3]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    for i in range(n):
        ri = np.float64(r32[i])
        s0 += np.float64(x0[i]) * ri
        s1 += np.float64(x1[i]) * ri
        s2 += np.float64(x2[i]) * ri
        s3 += np.float64(x3[i]) * ri
    return s0, s1, s2, s3


@njit(cache=True, inline="always")
def _settle(X, r, j, s16, scale16, bound16, rn, err0, thr, q):
    """q_j from column j's 16-bit sum ``s16`` when its bound keeps it strictly inside the KKT
    threshold (returns 0), else x_j'r/n in double precision (returns 1)."""
    n = X.shape[0]
    qs = s16 * scale16[j] * (1.0 / n)
    if abs(qs) + bound16[j] * rn + err0 < thr[j]:
        q[j] = qs
        return 0
    q[j] = _col_dot(X, j, r, n) * (1.0 / n)
    return 1


@njit(cache=True)
def certify_q(X16, scale16, bound16, r32, X, r, cols, beta, thr, rn, err0, q, skip_nonzero):
    """q_j = X[:, j]'r/n for the columns ``cols``, read from the 16-bit copy where that settles
    the KKT check.

    Each column is first summed from its 16-bit codes ``X16`` (times ``scale16``) and the
    single-precision r32 in double precision; ``bound16[j] * rn + err0`` (rn = ||r|| / sqrt(n))
    bounds the difference from x_j'r/n (the codes' rounding error, r's, and the double-precision
    sum's, any order; see :class:`regstats.solver.naive._Gradient`).  A zero coefficient whose
    bound keeps it strictly inside the KKT threshold ``thr_j`` is certified with that value (it
    then changes neither the KKT check nor the duality gap); every other column is computed in
    double precision, except (``skip_nonzero``) the nonzero coefficients', which the caller fills
    in.  Returns how many were.
    """
    n = X.shape[0]
    inv_n = 1.0 / n
    m = 0
    if 2 * cols.shape[0] > X.shape[1]:
        for k in range(cols.shape[0]):
            j = cols[k]
            if beta[j] != 0.0 and skip_nonzero:
                continue
            if beta[j] == 0.0 and thr[j] > 0.0:
                m += _settle(X, r, j, _col_dot16(X16, j, r32, n), scale16, bound16, rn, err0, thr, q)
            else:
                q[j] = _col_dot(X, j, r, n) * inv_n
                m += 1
        return m
    # a partial pass (scattered columns): the 16-bit reads four columns at a time, four streams
    # of memory in flight (20-30% faster than one by one; a full pass is faster one by one)
    todo = np.empty(cols.shape[0], dtype=np.int64)
    t = 0
    for k in range(cols.shape[0]):
        j = cols[k]
        if beta[j] != 0.0 and skip_nonzero:
            continue
        if beta[j] == 0.0 and thr[j] > 0.0:
            todo[t] = j
            t += 1
        else:
            q[j] = _col_dot(X, j, r, n) * inv_n
            m += 1
    k = 0
    while k < t:
        w = min(4, t - k)
        j0 = todo[k]
        sums = _col_dot16_4(X16, j0, todo[k + 1] if w > 1 else j0, todo[k + 2] if w > 2 else j0,
                            todo[k + 3] if w > 3 else j0, r32, n)
        for e in range(w):
            m += _settle(X, r, todo[k + e], sums[e], scale16, bound16, rn, err0, thr, q)
        k += 4
    return m


@njit(cache=True)
def guess_entries(X, r, q_end, q_pp, ratio, strong, beta, thr, xx, ridge, margin, room, guess,
                  probe_margin, probe):
    """Columns predicted to enter at a lambda (see :func:`regstats.solver.naive.naive_path`).

    The prediction is ``q_end + (q_end - q_pp) * ratio``; every zero coefficient of the working
    set ``strong`` whose prediction exceeds ``margin`` times its (positive) threshold, the first
    ``room`` of them in column order, is set to a coordinate step from it (at least 1e-3 of the
    threshold, ``ridge`` = lam (1 - a) v), marked in ``guess`` and subtracted from the residual
    ``r`` (in place).  The other zeros of the working set whose prediction reaches
    ``probe_margin`` times their threshold (before the room runs out) are marked in ``probe``.
    Returns how many were guessed.
    """
    n = X.shape[0]
    m = 0
    for j in range(q_end.shape[0]):
        guess[j] = False
        probe[j] = False
        if m >= room or not strong[j] or beta[j] != 0.0 or thr[j] <= 0.0:
            continue
        pj = q_end[j] + (q_end[j] - q_pp[j]) * ratio
        if abs(pj) <= margin * thr[j]:
            probe[j] = abs(pj) >= probe_margin * thr[j]
            continue
        z = max(abs(pj) - thr[j], 1e-3 * thr[j])
        b = np.sign(pj) * z / (xx[j] + ridge[j])
        beta[j] = b
        guess[j] = True
        m += 1
        xj = X[:, j]
        for i in range(n):
            r[i] -= xj[i] * b
    return m


@njit(cache=True)
def strong_rule(q, v, xx, ever, a, level, strong):
    """The working set of the sequential strong rule, in place: strong_j = (ever_j or
    |q_j| >= a v_j level) and xx_j > 0, with level = 2 lam - lam_prev (numpy's order of
    operations; one pass instead of five array operations)."""
    for j in range(q.shape[0]):
        strong[j] = (ever[j] or abs(q[j]) >= a * v[j] * level) and xx[j] > 0.0
    return strong


@njit(cache=True)
def zero_members(strong, beta):
    """The columns of the working set ``strong`` whose coefficient is zero, in order."""
    out = np.empty(strong.shape[0], dtype=np.int64)
    m = 0
    for j in range(strong.shape[0]):
        if strong[j] and beta[j] == 0.0:
            out[m] = j
            m += 1
    return out[:m]


@njit(cache=True)
def support_gradient(beta, v, a, lam, out):
    """out_j = lam v_j (a sign(b_j) + (1 - a) b_j): X'r/n at the nonzero coefficients of an exact
    active-set solution (0 at the zeros), numpy's order of operations."""
    for j in range(beta.shape[0]):
        b = beta[j]
        s = 1.0 if b > 0.0 else (-1.0 if b < 0.0 else 0.0)
        out[j] = lam * v[j] * (a * s + (1.0 - a) * b)
    return out


@njit(cache=True)
def kkt_scan(q, beta, thr, xx, strong, viol):
    """One pass of the KKT checks after a gradient pass: marks in ``viol`` the columns outside
    the working set ``strong`` that violate |q_j| <= thr_j, and returns (whether every zero
    coefficient passes within a relative 1e-10, how many were marked).  Constant columns
    (xx_j = 0) are skipped."""
    ok = True
    m = 0
    for j in range(q.shape[0]):
        viol[j] = False
        if xx[j] <= 0.0:
            continue
        aq = abs(q[j])
        if beta[j] == 0.0 and aq > thr[j] * (1.0 + 1e-10):
            ok = False
        if not strong[j] and aq > thr[j]:
            viol[j] = True
            m += 1
    return ok, m


@njit(cache=True)
def predict_q(Q, E, alpha, sxx, en, spread, beta, thr, pred, skip_nonzero):
    """Predicted X'r/n from reference passes, and the columns the prediction cannot certify.

    ``Q[0]`` is the newest reference q (within ``E[0]``), ``Q[k] - Q[k+1]`` the products X'u_k/n
    of the residual differences u_k (within ``E[k] + E[k+1]``); r = r_0 + sum_k alpha_k u_k + e
    with ``en`` = ||e|| / sqrt(n) and ``spread`` a size for the rounding of these sums.  Writes
    the prediction into ``pred`` and returns the columns to compute: the nonzero coefficients,
    the unpenalized ones, and every zero whose prediction plus bound (see
    :class:`regstats.solver.naive._Gradient`) reaches its threshold; with ``skip_nonzero`` not
    the nonzero coefficients (the caller knows their values).
    """
    K = alpha.shape[0]
    p = Q.shape[1]
    # the sums column-wise, one array operation at a time (vectorized; each column's terms are
    # added in the same order as a loop over k would), then the bound and the checks
    bound = np.empty(p)
    size = np.empty(p)
    q0 = Q[0]
    e0 = E[0]
    for j in range(p):
        pred[j] = q0[j]
        bound[j] = e0[j] + sxx[j] * en
        size[j] = abs(q0[j])
    for k in range(K):
        ak = alpha[k]
        aa = abs(ak)
        qa = Q[k]
        qb = Q[k + 1]
        ea = E[k]
        eb = E[k + 1]
        for j in range(p):
            pred[j] += ak * (qa[j] - qb[j])
            bound[j] += aa * (ea[j] + eb[j])
            size[j] += aa * (abs(qa[j]) + abs(qb[j]))
    need = np.empty(p, dtype=np.int64)
    m = 0
    for j in range(p):
        b = (bound[j] + 1e-13 * (size[j] + sxx[j] * spread)) * (1.0 + 1e-12) + 1e-300
        if beta[j] != 0.0:
            if not skip_nonzero:
                need[m] = j
                m += 1
        elif thr[j] <= 0.0 or abs(pred[j]) + b >= thr[j]:
            need[m] = j
            m += 1
    return need[:m]


@njit(cache=True, fastmath=True, error_model="numpy")
def cross_dots(XC, kk, k, G):
    """The Gram entries of the new cached columns k..kk-1 against every cached column, written
    into both halves of G: G[i, k + c] = G[k + c, i] = XC[:, i]'XC[:, k + c] for i < kk (BLAS's
    matrix product is slow for fewer than about 40 new columns: it repacks XC).  Two XC columns
    against four new columns at a time: each element read feeds two or four products."""
    n = XC.shape[0]
    t = kk - k
    i = 0
    while i < kk:
        two = i + 1 < kk
        x0 = XC[:, i]
        x1 = XC[:, i + 1] if two else XC[:, i]
        c = 0
        while c < t:
            w = min(4, t - c)
            a0 = XC[:, k + c]
            a1 = XC[:, k + c + 1] if w > 1 else a0
            a2 = XC[:, k + c + 2] if w > 2 else a0
            a3 = XC[:, k + c + 3] if w > 3 else a0
            s00 = 0.0
            s01 = 0.0
            s02 = 0.0
            s03 = 0.0
            s10 = 0.0
            s11 = 0.0
            s12 = 0.0
            s13 = 0.0
            for r in range(n):
                u = x0[r]
                z = x1[r]
                b0 = a0[r]
                b1 = a1[r]
                b2 = a2[r]
                b3 = a3[r]
                s00 += u * b0
                s01 += u * b1
                s02 += u * b2
                s03 += u * b3
                s10 += z * b0
                s11 += z * b1
                s12 += z * b2
                s13 += z * b3
            row0 = (s00, s01, s02, s03)
            row1 = (s10, s11, s12, s13)
            for e in range(w):
                G[i, k + c + e] = row0[e]
                G[k + c + e, i] = row0[e]
                if two:
                    G[i + 1, k + c + e] = row1[e]
                    G[k + c + e, i + 1] = row1[e]
            c += 4
        i += 2
