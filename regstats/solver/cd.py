"""Coordinate-descent kernels for the elastic net on a prepared (centred, scaled) problem.

Both kernels solve, for each lambda in turn (warm-started from the previous solution),

    minimize_b  1/(2n) ||y - X b||^2 + lam * sum_j v_j * ((1 - a)/2 b_j^2 + a |b_j|)

where the caller has already centred y and X, scaled X, and multiplied rows by sqrt(weight).
``cd_path_gram`` works on the Gram matrix G = X'X/n and c = X'y/n (n >> p); ``cd_path_naive``
keeps the residual (p large).  Both use sequential strong rules to pick a working set, iterate on
the active set, verify the KKT conditions on every column, and stop when the duality gap is at most
``tol * yy`` (yy = ||y||^2/n, the null deviance over n).  With ``exact`` they finish with an
active-set linear solve, accepted only when it keeps the signs and satisfies the KKT conditions,
so the answer is exact to rounding.

Kernels never raise or warn: they return per-lambda gaps, sweep counts and converged flags.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _soft(z, t):
    if z > t:
        return z - t
    if z < -t:
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
        # ridge: strongly convex, gap <= ||grad||^2 / (2 mu), mu = lam * min v
        vmin = 1e300
        gn = 0.0
        for j in range(p):
            h = q[j] - lam * v[j] * beta[j]
            gn += h * h
            if v[j] < vmin:
                vmin = v[j]
        mu = lam * vmin
        if mu > 0.0:
            g = gn / (2.0 * mu)
        else:
            g = 0.0 if gn == 0.0 else 1e300
    if g < 0.0:
        g = 0.0
    return g, primal, rss


@njit(cache=True)
def _solve_active(Gaa, rhs):
    """Solve the symmetric positive-definite system by Cholesky; returns (x, ok).

    ok is False when a pivot is not clearly positive (singular or indefinite active Gram).
    """
    m = rhs.shape[0]
    L = np.zeros((m, m))
    scale = 0.0
    for i in range(m):
        if Gaa[i, i] > scale:
            scale = Gaa[i, i]
    for j in range(m):
        s = Gaa[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        if not s > 1e-12 * scale:
            return np.zeros(m), False
        d = np.sqrt(s)
        L[j, j] = d
        for i in range(j + 1, m):
            t = Gaa[i, j]
            for k in range(j):
                t -= L[i, k] * L[j, k]
            L[i, j] = t / d
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
    for i in range(m):
        if not np.isfinite(x[i]):
            return x, False
    return x, True


# --------------------------------------------------------------------------------------------
# Gram (covariance) kernel
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def _gram_exact(G, c, v, a, lam, beta, q, idx, m):
    """Try the exact active-set solution; on success update beta, q and return True."""
    p = beta.shape[0]
    A = np.empty(m, dtype=np.int64)
    sgn = np.empty(m)
    for k in range(m):
        j = idx[k]
        A[k] = j
        sgn[k] = 1.0 if beta[j] > 0 else (-1.0 if beta[j] < 0 else 0.0)
    Gaa = np.empty((m, m))
    rhs = np.empty(m)
    for k in range(m):
        jk = A[k]
        for l in range(m):
            Gaa[k, l] = G[jk, A[l]]
        Gaa[k, k] += lam * (1.0 - a) * v[jk]
        rhs[k] = c[jk] - lam * a * v[jk] * sgn[k]
    x, ok = _solve_active(Gaa, rhs)
    if not ok:
        return False
    for k in range(m):
        if v[A[k]] > 0.0 and x[k] * sgn[k] <= 0.0:
            return False
    newq = c.copy()
    for k in range(m):
        jk = A[k]
        for i in range(p):
            newq[i] -= G[jk, i] * x[k]
    inactive = np.ones(p, dtype=np.bool_)
    for k in range(m):
        inactive[A[k]] = False
    for j in range(p):
        if inactive[j]:
            if v[j] == 0.0 or abs(newq[j]) > lam * a * v[j] * (1.0 + 1e-9) + 1e-15:
                return False
    for j in range(p):
        beta[j] = 0.0
    for k in range(m):
        beta[A[k]] = x[k]
    for j in range(p):
        q[j] = newq[j]
    return True


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
def cd_path_gram(G, c, yy, v, a, lambdas, beta0, tol, max_sweeps, exact):
    """Elastic-net path on the Gram matrix.  Returns (betas, gaps, rss_over_n, sweeps, converged)."""
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
    lam_prev = lambdas[0]
    if nlam > 0:
        # previous lambda for the strong rule at the first grid point: lam_max
        lam_prev = 0.0
        for j in range(p):
            if v[j] > 0.0:
                r = abs(q[j]) / (max(a, 1e-3) * v[j])
                if r > lam_prev:
                    lam_prev = r
        if lam_prev < lambdas[0]:
            lam_prev = lambdas[0]
    for li in range(nlam):
        lam = lambdas[li]
        # working set: strong rule + nonzeros + unpenalized
        for j in range(p):
            if beta[j] != 0.0 or v[j] == 0.0 or abs(q[j]) >= a * v[j] * (2.0 * lam - lam_prev):
                in_set[j] = True
        tol_cd = tol * yy
        done = False
        nsw = 0
        while not done and nsw < max_sweeps:
            m = 0
            for j in range(p):
                if in_set[j]:
                    idx[m] = j
                    m += 1
            # converge on the working set, iterating mostly on its active part
            while nsw < max_sweeps:
                dmax = _gram_sweep(G, v, a, lam, beta, q, idx, m, xx)
                nsw += 1
                if dmax <= tol_cd:
                    break
                ma = 0
                for k in range(m):
                    if beta[idx[k]] != 0.0 or v[idx[k]] == 0.0:
                        act[ma] = idx[k]
                        ma += 1
                while nsw < max_sweeps:
                    da = _gram_sweep(G, v, a, lam, beta, q, act, ma, xx)
                    nsw += 1
                    if da <= tol_cd:
                        break
                if exact:
                    ma = 0
                    for j in range(p):
                        if beta[j] != 0.0 or v[j] == 0.0:
                            act[ma] = j
                            ma += 1
                    if _gram_exact(G, c, v, a, lam, beta, q, act, ma):
                        break
            # KKT on every column outside the working set
            added = False
            for j in range(p):
                if not in_set[j] and abs(q[j]) > lam * a * v[j]:
                    in_set[j] = True
                    added = True
            if added:
                continue
            g, _, _ = _gap(beta, q, c, yy, v, a, lam)
            if g <= tol * yy:
                done = True
            else:
                if exact:
                    ma = 0
                    for j in range(p):
                        if beta[j] != 0.0 or v[j] == 0.0:
                            act[ma] = j
                            ma += 1
                    if _gram_exact(G, c, v, a, lam, beta, q, act, ma):
                        g, _, _ = _gap(beta, q, c, yy, v, a, lam)
                        if g <= tol * yy:
                            done = True
                            break
                tol_cd = tol_cd * 0.1
                if tol_cd < 1e-300:
                    break
        g, _, rs = _gap(beta, q, c, yy, v, a, lam)
        gaps[li] = g
        rss[li] = rs
        sweeps[li] = nsw
        conv[li] = g <= tol * yy
        betas[li] = beta
        lam_prev = lam
    return betas, gaps, rss, sweeps, conv


# --------------------------------------------------------------------------------------------
# naive (residual) kernel
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def _naive_sweep(X, v, a, lam, beta, r, idx, m, xx, n):
    dmax = 0.0
    inv_n = 1.0 / n
    for k in range(m):
        j = idx[k]
        bj = beta[j]
        col = X[:, j]
        s = 0.0
        for i in range(n):
            s += col[i] * r[i]
        z = s * inv_n + xx[j] * bj
        nb = _soft(z, lam * a * v[j]) / (xx[j] + lam * (1.0 - a) * v[j])
        d = nb - bj
        if d != 0.0:
            beta[j] = nb
            for i in range(n):
                r[i] -= col[i] * d
            dd = xx[j] * d * d
            if dd > dmax:
                dmax = dd
    return dmax


@njit(cache=True)
def _full_q(X, r, q, n):
    p = X.shape[1]
    inv_n = 1.0 / n
    for j in range(p):
        col = X[:, j]
        s = 0.0
        for i in range(n):
            s += col[i] * r[i]
        q[j] = s * inv_n


@njit(cache=True)
def _naive_exact(X, y, c, v, a, lam, beta, r, q, act, m, n):
    """Exact active-set solve for the naive kernel (Gram of the active columns formed here)."""
    p = beta.shape[0]
    if m > n:
        return False
    Xa = np.empty((n, m))
    for k in range(m):
        Xa[:, k] = X[:, act[k]]
    Gaa = (Xa.T @ Xa) / n
    rhs = np.empty(m)
    sgn = np.empty(m)
    for k in range(m):
        j = act[k]
        sgn[k] = 1.0 if beta[j] > 0 else (-1.0 if beta[j] < 0 else 0.0)
        Gaa[k, k] += lam * (1.0 - a) * v[j]
        rhs[k] = c[j] - lam * a * v[j] * sgn[k]
    x, ok = _solve_active(Gaa, rhs)
    if not ok:
        return False
    for k in range(m):
        if v[act[k]] > 0.0 and x[k] * sgn[k] <= 0.0:
            return False
    newr = y - Xa @ x
    newq = np.empty(p)
    _full_q(X, newr, newq, n)
    inactive = np.ones(p, dtype=np.bool_)
    for k in range(m):
        inactive[act[k]] = False
    for j in range(p):
        if inactive[j]:
            if v[j] == 0.0 or abs(newq[j]) > lam * a * v[j] * (1.0 + 1e-9) + 1e-15:
                return False
    for j in range(p):
        beta[j] = 0.0
    for k in range(m):
        beta[act[k]] = x[k]
    r[:] = newr
    q[:] = newq
    return True


@njit(cache=True)
def cd_path_naive(X, y, v, a, lambdas, beta0, tol, max_sweeps, exact):
    """Elastic-net path keeping the residual.  X must be Fortran-ordered (columns contiguous).

    Returns (betas, gaps, rss_over_n, sweeps, converged).
    """
    n, p = X.shape
    nlam = lambdas.shape[0]
    betas = np.zeros((nlam, p))
    gaps = np.zeros(nlam)
    rss = np.zeros(nlam)
    sweeps = np.zeros(nlam, dtype=np.int64)
    conv = np.zeros(nlam, dtype=np.bool_)
    xx = np.empty(p)
    for j in range(p):
        s = 0.0
        for i in range(n):
            s += X[i, j] * X[i, j]
        xx[j] = s / n
    yy = 0.0
    for i in range(n):
        yy += y[i] * y[i]
    yy /= n
    c = np.empty(p)
    _full_q(X, y, c, n)
    beta = beta0.copy()
    r = y.copy()
    for j in range(p):
        if beta[j] != 0.0:
            for i in range(n):
                r[i] -= X[i, j] * beta[j]
    q = np.empty(p)
    _full_q(X, r, q, n)
    in_set = np.zeros(p, dtype=np.bool_)
    idx = np.empty(p, dtype=np.int64)
    act = np.empty(p, dtype=np.int64)
    lam_prev = 0.0
    for j in range(p):
        if v[j] > 0.0:
            rr = abs(q[j]) / (max(a, 1e-3) * v[j])
            if rr > lam_prev:
                lam_prev = rr
    if nlam > 0 and lam_prev < lambdas[0]:
        lam_prev = lambdas[0]
    for li in range(nlam):
        lam = lambdas[li]
        for j in range(p):
            if beta[j] != 0.0 or v[j] == 0.0 or abs(q[j]) >= a * v[j] * (2.0 * lam - lam_prev):
                in_set[j] = True
        tol_cd = tol * yy
        done = False
        nsw = 0
        while not done and nsw < max_sweeps:
            m = 0
            for j in range(p):
                if in_set[j]:
                    idx[m] = j
                    m += 1
            while nsw < max_sweeps:
                dmax = _naive_sweep(X, v, a, lam, beta, r, idx, m, xx, n)
                nsw += 1
                if dmax <= tol_cd:
                    break
                ma = 0
                for k in range(m):
                    if beta[idx[k]] != 0.0 or v[idx[k]] == 0.0:
                        act[ma] = idx[k]
                        ma += 1
                while nsw < max_sweeps:
                    da = _naive_sweep(X, v, a, lam, beta, r, act, ma, xx, n)
                    nsw += 1
                    if da <= tol_cd:
                        break
            _full_q(X, r, q, n)
            added = False
            for j in range(p):
                if not in_set[j] and abs(q[j]) > lam * a * v[j]:
                    in_set[j] = True
                    added = True
            if added:
                continue
            g, _, _ = _gap(beta, q, c, yy, v, a, lam)
            if g <= tol * yy:
                done = True
            else:
                if exact:
                    ma = 0
                    for j in range(p):
                        if beta[j] != 0.0 or v[j] == 0.0:
                            act[ma] = j
                            ma += 1
                    if _naive_exact(X, y, c, v, a, lam, beta, r, q, act, ma, n):
                        g, _, _ = _gap(beta, q, c, yy, v, a, lam)
                        if g <= tol * yy:
                            done = True
                            break
                tol_cd = tol_cd * 0.1
                if tol_cd < 1e-300:
                    break
        g, _, rs = _gap(beta, q, c, yy, v, a, lam)
        gaps[li] = g
        rss[li] = rs
        sweeps[li] = nsw
        conv[li] = g <= tol * yy
        betas[li] = beta
        lam_prev = lam
    return betas, gaps, rss, sweeps, conv
