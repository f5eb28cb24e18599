"""Penalized binomial and Poisson fits at one lambda: IRLS around weighted coordinate descent.

glmnet's scheme (``lognet``/``fishnet``) on a design standardized once by the caller (centred and
scaled with the observation weights, *not* multiplied by their square roots): at the current fit
the loss ``1/n sum_i w_i (b(eta_i) - y_i eta_i)`` (b the cumulant: log(1 + e^eta), e^eta) is replaced
by its quadratic model with IRLS weights ``q_i = w_i V(mu_i)`` (binomial V clipped at mu in
[1e-5, 1 - 1e-5], as glmnet), which coordinate descent minimises keeping the working residual
``rw_i = w_i (y_i - mu_i) - q_i (eta_i - eta_i^old)`` and the linear predictor up to date.  The
columns' curvatures ``xv_j = 1/n sum_i q_i x_ij^2`` are computed on a column's first visit in each
IRLS step, in the same loop as its first inner product.  Sweeps go over the strong set, then over
its nonzero part until the coordinates' moves (in gradient units, ``xv_j |delta_j|``) are below the
inner threshold, then over the strong set again (glmnet's pattern).  A step that raises the
penalized objective is halved.

Two solvers of the quadratic model:

* ``glm_lambda_naive``: the columns themselves (wide designs; each sweep reads the strong columns).
* the quasi-Newton kernels (:class:`regstats.glm._QuasiNewton` drives them): the weighted Gram
  matrix ``H = [1 X_T]' Q [1 X_T] / n`` of the strong set, formed by the caller only when it is
  stale and BFGS-updated in between (:func:`bfgs_update`; a proximal quasi-Newton step with an
  exact gradient: the fixed point is the exact solution, a stale H only costs steps); its model
  solved by :func:`model_cd_f` (coordinate descent and feature-sign Newton solves with a Cholesky
  factor of the face kept across solves, :func:`_face_factor`); a step's pass over X
  (:func:`add_columns`, :func:`rows_sums`, :func:`partial_gradient`).

Convergence is judged on the KKT conditions of the penalized problem with the exact gradient of
every column (``X' w (y - mu) / n``): the fit at a lambda is accepted when the largest violation is
at most ``kkt_tol * lam`` (plus a rounding floor).  Columns outside the strong set that violate it
join the set.  Kernels never raise or warn: they return status codes.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .factor import chol_solve, delete_many, forward

#: status codes
CONVERGED, MAX_IRLS, MAX_SWEEPS = 0, 1, 2

#: binomial means are clipped to [P_EPS, 1 - P_EPS] for the IRLS weights (glmnet's pmin)
P_EPS = 1e-5


_FM = {"reassoc", "contract", "nsz"}


@njit(cache=True, fastmath=_FM)
def _dot(X, j, r, s, e):
    """sum_{i in [s, e)} X[i, j] r[i] (summed in any order: vectorized; slices so that the loop
    index is provably nonnegative, without which numba does not vectorize)."""
    xc = X[s:e, j]
    rc = r[s:e]
    acc = 0.0
    for i in range(e - s):
        acc += xc[i] * rc[i]
    return acc


@njit(cache=True, fastmath=_FM)
def _dot2(X, j, r, q, n):
    """(sum_i X[i, j] r[i], sum_i q[i] X[i, j]^2)."""
    xc = X[:, j]
    acc = 0.0
    xx = 0.0
    for i in range(n):
        xij = xc[i]
        acc += xij * r[i]
        xx += q[i] * xij * xij
    return acc, xx


@njit(cache=True, fastmath=_FM)
def _axpy(X, j, d, out, s, e):
    xc = X[s:e, j]
    oc = out[s:e]
    for i in range(e - s):
        oc[i] += xc[i] * d


@njit(cache=True, fastmath=_FM)
def _update(xc, q, d, rw, eta):
    for i in range(xc.shape[0]):
        xij = xc[i]
        rw[i] -= q[i] * xij * d
        eta[i] += xij * d


@njit(cache=True, fastmath=_FM)
def _vdot(a, b, m):
    acc = 0.0
    for k in range(m):
        acc += a[k] * b[k]
    return acc


@njit(cache=True, fastmath=_FM)
def _vaxpy(a, t, out, m):
    for k in range(m):
        out[k] += a[k] * t


@njit(cache=True)
def _mean(fam, e):
    if fam == 0:
        if e >= 0.0:
            z = math.exp(-e)
            return 1.0 / (1.0 + z)
        z = math.exp(e)
        return z / (1.0 + z)
    return math.exp(min(e, 700.0))


@njit(cache=True)
def _var(fam, m):
    if fam == 0:
        m = min(max(m, P_EPS), 1.0 - P_EPS)
        return m * (1.0 - m)
    return max(m, 1e-300)


@njit(cache=True)
def _var_exact(fam, e):
    """V(mu(eta)) without glmnet's clipping (binomial: e^-|eta| / (1 + e^-|eta|)^2, stable)."""
    if fam == 0:
        z = math.exp(-abs(e))
        return z / ((1.0 + z) * (1.0 + z))
    return max(math.exp(min(e, 700.0)), 1e-300)


@njit(cache=True)
def _cumulant(fam, e):
    """b(eta): log(1 + e^eta) (binomial), e^eta (Poisson)."""
    if fam == 0:
        if e > 0.0:
            return e + math.log1p(math.exp(-e))
        return math.log1p(math.exp(e))
    return math.exp(min(e, 700.0))


@njit(cache=True)
def _objective(fam, y, w, eta, b, v, kind, a, lam):
    """1/n sum w (b(eta) - y eta) + lam sum v (a |b| + (1-a)/2 b^2) (the loss up to a constant)."""
    n = y.shape[0]
    s = 0.0
    for i in range(n):
        s += w[i] * (_cumulant(fam, eta[i]) - y[i] * eta[i])
    pen = 0.0
    for j in range(b.shape[0]):
        if kind[j] == 1:
            pen += v[j] * (a * abs(b[j]) + 0.5 * (1.0 - a) * b[j] * b[j])
    return s / n + lam * pen


@njit(cache=True)
def _soft(z, t):
    if z > t:
        return z - t
    if z < -t:
        return z + t
    return 0.0


@njit(cache=True)
def _violation(g, b, v, kind, a, lam, j):
    """KKT violation of column j with loss gradient -g_j (g = X'w(y - mu)/n)."""
    if kind[j] == 0:
        return 0.0
    if kind[j] == 2:
        return abs(g[j])
    gj = -g[j] + lam * (1.0 - a) * v[j] * b[j]
    if b[j] == 0.0:
        return max(abs(gj) - lam * a * v[j], 0.0)
    s = 1.0 if b[j] > 0.0 else -1.0
    return abs(gj + lam * a * v[j] * s)


@njit(cache=True)
def full_gradient(X, y, w, eta, fam, kind, g, r):
    """r = w (y - mu(eta)); g_j = x_j'r / n for every live column; returns sum(r) / n."""
    n, p = X.shape
    s = 0.0
    for i in range(n):
        r[i] = w[i] * (y[i] - _mean(fam, eta[i]))
        s += r[i]
    for j in range(p):
        if kind[j] == 0:
            g[j] = 0.0
            continue
        g[j] = _dot(X, j, r, 0, n) / n
    return s / n


@njit(cache=True)
def fresh_eta(X, b0, b, off, eta):
    """eta = b0 + X b + offset, reading only the nonzero columns."""
    n, p = X.shape
    for i in range(n):
        eta[i] = b0 + off[i]
    for j in range(p):
        bj = b[j]
        if bj != 0.0:
            _axpy(X, j, bj, eta, 0, n)


@njit(cache=True, fastmath={"nsz", "contract"})
def kkt_worst(g, g0, b, v, kind, a, lam, intercept):
    """Largest KKT violation (absolute, not divided by lam): :func:`_violation`'s, with fewer
    branches (9x faster at p = 5000, where it is called ~4 times per lambda)."""
    worst = abs(g0) if intercept else 0.0
    la = lam * a
    lr = lam * (1.0 - a)
    for j in range(b.shape[0]):
        k = kind[j]
        bj = b[j]
        t = la * v[j]
        gj = -g[j] + lr * v[j] * bj
        if k == 2:
            x = abs(g[j])
        elif bj == 0.0:
            x = abs(gj) - t
        elif bj > 0.0:
            x = abs(gj + t)
        else:
            x = abs(gj - t)
        if k == 0:
            x = 0.0
        if x > worst:
            worst = x
    return worst


@njit(cache=True)
def penalty_on(b, cols, v, a):
    """sum over ``cols`` of v_j (a |b_j| + (1 - a)/2 b_j^2) (the penalty without lam)."""
    s = 0.0
    for k in range(cols.shape[0]):
        j = cols[k]
        bj = b[j]
        s += v[j] * (a * abs(bj) + 0.5 * (1.0 - a) * bj * bj)
    return s


@njit(cache=True)
def _add_violators(g, b, v, kind, a, lam, strong, limit):
    """Columns outside the strong set whose violation exceeds ``limit`` join it; returns how many."""
    added = 0
    for j in range(b.shape[0]):
        if kind[j] != 0 and not strong[j] and _violation(g, b, v, kind, a, lam, j) > limit:
            strong[j] = True
            added += 1
    return added


@njit(cache=True)
def glm_lambda_naive(X, y, w, off, v, kind, fam, a, lam, b, b0a, eta, strong, g, kkt_tol, floor,
                     max_irls, max_sweeps, intercept, exact, work):
    """Solve at one lambda from (b0a[0], b, eta), warm.  ``g`` holds X'w(y - mu)/n at the start and
    at the end; ``strong`` (bool p) is the working set (in/out).  ``work``: 4 x n scratch.
    Returns (irls steps, sweeps, status, worst KKT violation / lam)."""
    n, p = X.shape
    mu_q = work[0]
    rw = work[1]
    eta_old = work[2]
    xv = np.zeros(p)
    stamp = np.full(p, -1, dtype=np.int64)
    b_old = np.empty(p)
    idx = np.empty(p, dtype=np.int64)
    limit = kkt_tol * lam + floor
    thr_in = 0.1 * limit
    thr_out = 0.5 * limit
    sweeps = 0
    status = MAX_IRLS
    b0 = b0a[0]
    worst = np.inf
    it = 0
    for it in range(max_irls):
        F_old = _objective(fam, y, w, eta, b, v, kind, a, lam)
        sq = 0.0
        for i in range(n):
            m = _mean(fam, eta[i])
            q = w[i] * _var_exact(fam, eta[i])
            mu_q[i] = q
            rw[i] = w[i] * (y[i] - m)
            sq += q
            eta_old[i] = eta[i]
        ns = 0
        for j in range(p):
            b_old[j] = b[j]
            if strong[j] and kind[j] != 0:
                idx[ns] = j
                ns += 1
        b0_old = b0
        full = True
        while True:
            maxchg = 0.0
            for k in range(ns):
                j = idx[k]
                bj = b[j]
                if not full and bj == 0.0:
                    continue
                if stamp[j] != it:
                    acc, xx = _dot2(X, j, rw, mu_q, n)
                    xv[j] = xx / n
                    stamp[j] = it
                else:
                    acc = _dot(X, j, rw, 0, n)
                xvj = xv[j]
                if xvj <= 0.0:
                    continue
                u = acc / n + xvj * bj
                if kind[j] == 2:
                    nb = u / xvj
                else:
                    nb = _soft(u, lam * a * v[j]) / (xvj + lam * (1.0 - a) * v[j])
                d = nb - bj
                if d != 0.0:
                    b[j] = nb
                    _update(X[:, j], mu_q, d, rw, eta)
                    c = xvj * abs(d)
                    if c > maxchg:
                        maxchg = c
            if intercept and sq > 0.0:
                s = 0.0
                for i in range(n):
                    s += rw[i]
                d0 = s / sq
                if d0 != 0.0:
                    b0 += d0
                    for i in range(n):
                        rw[i] -= mu_q[i] * d0
                        eta[i] += d0
                    c = sq / n * abs(d0)
                    if c > maxchg:
                        maxchg = c
            sweeps += 1
            if sweeps >= max_sweeps:
                break
            if maxchg <= thr_in:
                if full:
                    break
                full = True
            else:
                full = False
        # halve a step that raises the objective
        F_new = _objective(fam, y, w, eta, b, v, kind, a, lam)
        halvings = 0
        while F_new > F_old + 1e-13 * abs(F_old) and halvings < 30:
            for k in range(ns):
                j = idx[k]
                b[j] = 0.5 * (b[j] + b_old[j])
            b0 = 0.5 * (b0 + b0_old)
            for i in range(n):
                eta[i] = 0.5 * (eta[i] + eta_old[i])
            F_new = _objective(fam, y, w, eta, b, v, kind, a, lam)
            halvings += 1
        stepchg = sq / n * abs(b0 - b0_old) if intercept else 0.0
        for k in range(ns):
            j = idx[k]
            c = xv[j] * abs(b[j] - b_old[j])
            if c > stepchg:
                stepchg = c
        if sweeps >= max_sweeps:
            status = MAX_SWEEPS
            break
        if stepchg <= thr_out or halvings >= 30:
            if exact:
                fresh_eta(X, b0, b, off, eta)
            g0 = full_gradient(X, y, w, eta, fam, kind, g, rw)
            worst = kkt_worst(g, g0, b, v, kind, a, lam, intercept)
            if worst <= limit:
                status = CONVERGED
                break
            if _add_violators(g, b, v, kind, a, lam, strong, limit) == 0:
                thr_in *= 0.1
                thr_out *= 0.1
    b0a[0] = b0
    if status != CONVERGED:
        g0 = full_gradient(X, y, w, eta, fam, kind, g, rw)
        worst = kkt_worst(g, g0, b, v, kind, a, lam, intercept)
    return it + 1, sweeps, status, worst / lam if lam > 0.0 else worst


# -- the quasi-Newton solver (a weighted Gram matrix of the strong set, reused) ------------------

@njit(cache=True)
def _model_newton(H, h, h00, bT, vT, kindT, a, lam, d, grad, grad0, intercept):
    """One Newton step of the model on its nonzero set with the signs held (exact when they
    hold: the model is quadratic there), cut back where a coefficient would cross 0 (it is set to
    0 there).  Updates d and grad in place; returns the new grad0."""
    m = bT.shape[0]
    act = np.empty(m, dtype=np.int64)
    k = 0
    for j in range(m):
        if kindT[j] != 0 and bT[j] + d[j] != 0.0 and H[j, j] > 0.0:
            act[k] = j
            k += 1
    ni = 1 if (intercept and h00 > 0.0) else 0
    K = k + ni
    if K == 0:
        return grad0
    M = np.empty((K, K))
    rhs = np.empty(K)
    for u in range(k):
        j = act[u]
        Hj = H[j]
        for w_ in range(k):
            M[u, w_] = Hj[act[w_]]
        c = bT[j] + d[j]
        M[u, u] += lam * (1.0 - a) * vT[j] if kindT[j] == 1 else 0.0
        r = grad[j]
        if kindT[j] == 1:
            r += lam * (1.0 - a) * vT[j] * c + lam * a * vT[j] * (1.0 if c > 0.0 else -1.0)
        rhs[u] = -r
        if ni:
            M[u, k] = h[j]
            M[k, u] = h[j]
    if ni:
        M[k, k] = h00
        rhs[k] = -grad0
    delta = np.linalg.solve(M, rhs)
    t = 1.0
    for u in range(k):
        j = act[u]
        c = bT[j] + d[j]
        if kindT[j] == 1 and c * (c + delta[u]) < 0.0:
            tu = -c / delta[u]
            if tu < t:
                t = tu
    for u in range(k):
        j = act[u]
        du = t * delta[u]
        c = bT[j] + d[j]
        if kindT[j] == 1 and c * (c + delta[u]) < 0.0 and -c / delta[u] <= t:
            du = -c                                   # lands on 0
        d[j] += du
        _vaxpy(H[j], du, grad, m)
        grad0 += h[j] * du
    if ni:
        d0 = t * delta[k]
        d[m] += d0
        _vaxpy(h, d0, grad, m)
        grad0 += h00 * d0
    return grad0


# -- the model's Newton solves: a Cholesky factor of the face's matrix, kept across solves -------
#
# The factor ``U`` (upper, ``U'U`` = the face's matrix, C-ordered rows: the kernels of
# :mod:`regstats.solver.factor`) lives in a caller's buffer with ``face`` (its columns' positions
# in T, -1 the intercept, in the factor's order) and ``fst`` (``fst[0]`` its size, -1 none;
# ``fst[1]`` the diagonal jitter it was formed with, then counters).  A solve deletes the columns that left the
# face and appends those that joined (O(k^2) each) instead of refactorizing (O(k^3)); the BFGS
# update of H updates it by one rank-1 update and one downdate (:func:`bfgs_update`).  The caller
# drops it (``fst[0] = -1``) when H is formed afresh or the ridge part of the diagonal changes.


def new_factor(m):
    """An empty factor state for models of up to m columns and the intercept: (U, face, fst);
    ``fst[2:6]`` count the factorizations afresh, the incremental ones, the refactorizations
    after a residual check failed and the BFGS downdates that failed."""
    return np.empty((m + 1, m + 1)), np.empty(m + 1, dtype=np.int64), np.array([-1.0, 0.0, 0.0, 0.0, 0.0, 0.0])


@njit(cache=True)
def _aug(H, h, h00, ci, cj):
    """Entry of the augmented model matrix [[H, h], [h', h00]] (position -1: the intercept)."""
    if ci < 0:
        return h00 if cj < 0 else h[cj]
    if cj < 0:
        return h[ci]
    return H[ci, cj]


@njit(cache=True, fastmath=_FM)
def _rank1(U, k, x, sigma):
    """U'U += sigma x x' (sigma = +-1) on U[:k, :k], in place (x is overwritten); False when a
    downdate leaves a pivot that is not clearly positive (the factor is then spoilt)."""
    for i in range(k):
        uii = U[i, i]
        xi = x[i]
        r2 = uii * uii + sigma * xi * xi
        if not (r2 > 1e-10 * uii * uii):
            return False
        r = math.sqrt(r2)
        c = r / uii
        s = xi / uii
        U[i, i] = r
        row = U[i, i + 1:k]
        xx = x[i + 1:k]
        for j in range(row.shape[0]):
            uj = (row[j] + sigma * s * xx[j]) / c
            row[j] = uj
            xx[j] = c * xx[j] - s * uj
    return True


@njit(cache=True)
def factor_bfgs(U, face, fst, m, yv, ys, As, sAs):
    """The factor of the face under the BFGS update A += yv yv'/ys - As As'/sAs (vectors indexed
    by position, the intercept at m): one rank-1 update and one downdate, O(k^2); on failure the
    factor is dropped."""
    k = int(fst[0])
    if k <= 0:
        return
    x = np.empty(k)
    z = np.empty(k)
    ry = 1.0 / math.sqrt(ys)
    ra = 1.0 / math.sqrt(sAs)
    for u in range(k):
        c = face[u]
        i = c if c >= 0 else m
        x[u] = yv[i] * ry
        z[u] = As[i] * ra
    if not (_rank1(U, k, x, 1.0) and _rank1(U, k, z, -1.0)):
        fst[0] = -1.0
        fst[5] += 1


@njit(cache=True)
def _face_factor(H, h, h00, act, K, rid, U, face, fst):
    """Make ``U[:K, :K]`` the factor of the face ``act[:K]`` (positions, -1 the intercept) with
    ``rid`` (by position, the intercept at m) and the jitter added to its diagonal, in the order
    ``face[:K]`` (a permutation of act): from the factor held by deleting and appending columns
    when at most a third of them change, else afresh (LAPACK).  Returns False when the face's
    matrix is not numerically positive definite."""
    m = H.shape[0]
    k = int(fst[0])
    if k > 0:
        where = np.full(m + 1, -1, dtype=np.int64)
        for u in range(K):
            c = act[u]
            where[c if c >= 0 else m] = u
        keep = np.zeros(k, dtype=np.bool_)
        held = np.zeros(m + 1, dtype=np.bool_)
        nkeep = 0
        for i in range(k):
            c = face[i]
            held[c if c >= 0 else m] = True
            if where[c if c >= 0 else m] >= 0:
                keep[i] = True
                nkeep += 1
        changes = (k - nkeep) + (K - nkeep)
        if nkeep > 0 and 3 * changes <= K:
            k = delete_many(U, np.int64(k), face, keep)
            col = np.empty(K)
            z = np.empty(K)
            jit = fst[1]
            for u in range(K):
                c = act[u]
                if held[c if c >= 0 else m]:
                    continue
                for i in range(k):
                    col[i] = _aug(H, h, h00, face[i], c)
                forward(U, np.int64(k), col, z)
                diag = _aug(H, h, h00, c, c) + rid[c if c >= 0 else m] + jit
                s = diag
                for i in range(k):
                    s -= z[i] * z[i]
                if not (diag > 0.0 and s > 1e-12 * diag):
                    k = -1
                    break
                for i in range(k):
                    U[i, k] = z[i]
                U[k, k] = math.sqrt(s)
                face[k] = c
                k += 1
            if k == K:
                fst[0] = K
                fst[3] += 1
                return True
    # afresh (the intercept, if any, is act's last entry)
    M = np.empty((K, K))
    kc = K - 1 if act[K - 1] < 0 else K
    for u in range(kc):
        Hu = H[act[u]]
        Mu = M[u]
        for w_ in range(kc):
            Mu[w_] = Hu[act[w_]]
    if kc < K:
        for u in range(kc):
            M[u, kc] = h[act[u]]
            M[kc, u] = h[act[u]]
        M[kc, kc] = h00
    scale = 0.0
    for u in range(K):
        cu = act[u]
        M[u, u] += rid[cu if cu >= 0 else m]
        if M[u, u] > scale:
            scale = M[u, u]
    jit = 1e-12 * scale
    for u in range(K):
        M[u, u] += jit
    fst[0] = -1.0
    try:
        L = np.linalg.cholesky(M)
    except Exception:
        return False
    for u in range(K):
        face[u] = act[u]
        for w_ in range(u, K):
            U[u, w_] = L[w_, u]
    fst[0] = K
    fst[1] = jit
    fst[2] += 1
    return True


@njit(cache=True)
def _model_newton_fs(H, h, h00, bT, vT, kindT, a, lam, d, grad, grad0, intercept, U, face, fst):
    """The model's exact minimiser on the face of its nonzero set by feature-sign search: with the
    face's Cholesky factor (kept across solves, :func:`_face_factor`), the Newton point; where it
    would flip a sign, move to the first zero crossing, pin the crossed coordinates at 0 and
    correct the point by a Schur complement (O(k^2) each), until the signs agree (the gaussian
    solver's ``regstats.solver.cd._gram_newton``).  Updates d and grad in place; returns
    (grad0, ok) -- ok False (nothing changed) when the face's matrix is not numerically positive
    definite."""
    m = bT.shape[0]
    act = np.empty(m + 1, dtype=np.int64)
    rid = np.zeros(m + 1)
    k = 0
    for j in range(m):
        if kindT[j] != 0 and bT[j] + d[j] != 0.0 and H[j, j] > 0.0:
            act[k] = j
            k += 1
        if kindT[j] == 1:
            rid[j] = lam * (1.0 - a) * vT[j]
    if intercept and h00 > 0.0:
        act[k] = -1
        k += 1
    K = k
    if K == 0:
        return grad0, True
    none = np.empty(0)
    for attempt in range(2):
        if not _face_factor(H, h, h00, act, K, rid, U, face, fst):
            return grad0, False
        rhs = np.empty(K)       # M (c + delta) = rhs: the absolute coordinates' Newton equations
        cur = np.empty(K)
        sgn = np.zeros(K)
        pen = np.zeros(K, dtype=np.bool_)
        for u in range(K):
            j = face[u]
            if j < 0:
                cur[u] = d[m]
                rhs[u] = -grad0
                continue
            c = bT[j] + d[j]
            cur[u] = c
            r = grad[j]
            if kindT[j] == 1:
                r += rid[j] * c
                sgn[u] = 1.0 if c > 0.0 else -1.0
                r += lam * a * vT[j] * sgn[u]
                pen[u] = a > 0.0 and vT[j] > 0.0
            rhs[u] = -r
        # rhs holds -(model gradient) at cur: the Newton point is cur + M^{-1} rhs
        step = chol_solve(U, np.int64(K), rhs, none, np.int64(0))[0]
        # a factor kept through updates is checked by its residual (refactorized if it drifted)
        full = np.zeros(m)
        s0 = 0.0
        for u in range(K):
            if face[u] >= 0:
                full[face[u]] = step[u]
            else:
                s0 = step[u]
        worst_r = 0.0
        top = 0.0
        big = 0.0
        for u in range(K):
            cu = face[u]
            if cu >= 0:
                s = rhs[u] - (rid[cu] + fst[1]) * step[u] - _vdot(H[cu], full, m) - h[cu] * s0
                top = max(top, H[cu, cu])
            else:
                s = rhs[u] - (h00 + fst[1]) * s0 - _vdot(h, full, m)
                top = max(top, h00)
            worst_r = max(worst_r, abs(s))
            big = max(big, abs(step[u]))
        if np.isfinite(worst_r) and worst_r <= 1e-9 * top * big + 1e-300:
            break
        fst[0] = -1.0
        fst[4] += 1
        if attempt == 1:
            return grad0, False
    x0 = np.empty(K)
    for u in range(K):
        x0[u] = cur[u] + step[u]
    x = x0.copy()
    b = cur.copy()
    dropped = np.zeros(K, dtype=np.bool_)
    D = np.empty(K, dtype=np.int64)
    Z = np.empty((K, K))
    nd = 0
    for _ in range(K + 1):
        t = 2.0
        for u in range(K):
            if pen[u] and not dropped[u] and x[u] * sgn[u] <= 0.0:
                tu = b[u] / (b[u] - x[u])
                if tu < t:
                    t = tu
        if t > 1.0:
            for u in range(K):
                b[u] = 0.0 if dropped[u] else x[u]
            break
        for u in range(K):
            if not dropped[u]:
                b[u] += t * (x[u] - b[u])
        newly = 0
        for u in range(K):
            if pen[u] and not dropped[u] and b[u] * sgn[u] <= 1e-14 * (abs(x[u]) + abs(cur[u]) + 1e-300):
                dropped[u] = True
                b[u] = 0.0
                e = np.zeros(K)
                e[u] = 1.0
                z = chol_solve(U, np.int64(K), e, none, np.int64(0))[0]
                for i in range(K):
                    Z[i, nd] = z[i]
                D[nd] = u
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
        try:
            y = np.linalg.solve(S, r)
        except Exception:
            break
        for u in range(K):
            s = x0[u]
            for l in range(nd):
                s -= Z[u, l] * y[l]
            x[u] = s
        for l in range(nd):
            x[D[l]] = 0.0
    # b: the new point (a descent point of the model in any case: it moved towards its minimiser)
    for u in range(K):
        j = face[u]
        du = b[u] - cur[u]
        if du == 0.0:
            continue
        if j < 0:
            d[m] += du
            _vaxpy(h, du, grad, m)
            grad0 += h00 * du
            continue
        d[j] += du
        if dropped[u]:
            d[j] = -bT[j]
        _vaxpy(H[j], du, grad, m)
        grad0 += h[j] * du
    return grad0, True


@njit(cache=True)
def model_cd_f(H, h, h00, gT, g0, bT, vT, kindT, a, lam, d, thr, max_sweeps, intercept, newton_every, first_newton,
               U, face, fst):
    """Minimise the quadratic model over the steps (d0, d) of the strong set T:

        -gT'd - g0 d0 + 1/2 d'H d + d0 h'd + 1/2 h00 d0^2 + lam sum_T v (a|b + d| + (1-a)/2 (b + d)^2)

    by coordinate descent with covariance updates (H: the weighted Gram matrix of T, h its
    intercept column, h00 = sum(q)/n), until the model's KKT violation is at most ``thr``; after
    ``first_newton`` sweeps and every ``newton_every`` sweeps after that, the model's minimiser on
    the face of its nonzero set (:func:`_model_newton_fs`, feature-sign search; the cut-back step
    :func:`_model_newton` when that face's matrix is not positive definite) takes over from the
    sweeps, which creep on ill-conditioned models.  ``d`` (length
    |T| + 1, the last entry d0) is in/out; ``(U, face, fst)`` is the face's factor kept across
    calls (:func:`new_factor`).  Returns the sweeps used."""
    m = bT.shape[0]
    grad = np.empty(m)
    moved = False
    for j in range(m + 1):
        if d[j] != 0.0:
            moved = True
            break
    if moved:
        for j in range(m):
            grad[j] = -gT[j] + h[j] * d[m] + _vdot(H[j], d, m)
        grad0 = -g0 + h00 * d[m]
        for k in range(m):
            grad0 += h[k] * d[k]
    else:
        # (from d = 0, as every step starts: no pass over H)
        for j in range(m):
            grad[j] = -gT[j]
        grad0 = -g0
    sweeps = 0
    full = True
    thr_chg = thr
    while sweeps < max_sweeps:
        maxchg = 0.0
        for j in range(m):
            c_old = bT[j] + d[j]
            if not full and c_old == 0.0:
                continue
            hjj = H[j, j]
            if hjj <= 0.0 or kindT[j] == 0:
                continue
            z = hjj * c_old - grad[j]
            if kindT[j] == 2:
                c = z / hjj
            else:
                c = _soft(z, lam * a * vT[j]) / (hjj + lam * (1.0 - a) * vT[j])
            delta = c - c_old
            # (a move too small to matter is not applied: after a Newton solve most of the sweep's
            # moves are rounding-sized, and each applied one reads a row of H; problem A: half of
            # the rows read by the sweeps)
            if hjj * abs(delta) > 1e-3 * thr:
                d[j] += delta
                _vaxpy(H[j], delta, grad, m)
                grad0 += h[j] * delta
                chg = hjj * abs(delta)
                if chg > maxchg:
                    maxchg = chg
        if intercept and h00 > 0.0:
            delta = -grad0 / h00
            if delta != 0.0:
                d[m] += delta
                _vaxpy(h, delta, grad, m)
                grad0 = 0.0
                chg = h00 * abs(delta)
                if chg > maxchg:
                    maxchg = chg
        sweeps += 1
        if maxchg <= thr_chg:
            if full:
                # small moves do not make a solved model when H is ill-conditioned: check its KKT
                worst = abs(grad0) if intercept else 0.0
                for j in range(m):
                    if kindT[j] == 0:
                        continue
                    c = bT[j] + d[j]
                    gj = grad[j] + lam * (1.0 - a) * vT[j] * c
                    if kindT[j] == 2:
                        vj = abs(gj)
                    elif c == 0.0:
                        vj = max(abs(gj) - lam * a * vT[j], 0.0)
                    else:
                        vj = abs(gj + lam * a * vT[j] * (1.0 if c > 0.0 else -1.0))
                    if vj > worst:
                        worst = vj
                if worst <= thr or thr_chg < 1e-300:
                    break
                thr_chg *= 0.01
            full = True
        else:
            full = False
        if sweeps == first_newton or sweeps > first_newton and (sweeps - first_newton) % newton_every == 0:
            # coordinate descent creeps on an ill-conditioned model: solve it on its nonzero set
            grad0, ok = _model_newton_fs(H, h, h00, bT, vT, kindT, a, lam, d, grad, grad0, intercept, U, face,
                                         fst)
            if not ok:
                grad0 = _model_newton(H, h, h00, bT, vT, kindT, a, lam, d, grad, grad0, intercept)
            full = True
    return sweeps


@njit(cache=True)
def model_cd(H, h, h00, gT, g0, bT, vT, kindT, a, lam, d, thr, max_sweeps, intercept, newton_every=16,
             first_newton=16):
    """:func:`model_cd_f` with a factor of its own (one model, no factor kept)."""
    m = bT.shape[0]
    U = np.empty((m + 1, m + 1))
    face = np.empty(m + 1, dtype=np.int64)
    fst = np.array([-1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    return model_cd_f(H, h, h00, gT, g0, bT, vT, kindT, a, lam, d, thr, max_sweeps, intercept, newton_every,
                      first_newton, U, face, fst)


@njit(cache=True)
def rows_sums(fam, y, w, eta, r, s, e):
    """r = w (y - mu(eta)) on rows [s, e); returns (sum w (b(eta) - y eta), sum r) over them."""
    loss = 0.0
    s0 = 0.0
    for i in range(s, e):
        ei = eta[i]
        if fam == 0:
            # one exponential for both the mean and the cumulant log(1 + e^eta)
            z = math.exp(-abs(ei))
            mi = 1.0 / (1.0 + z) if ei >= 0.0 else z / (1.0 + z)
            bi = max(ei, 0.0) + math.log1p(z)
        else:
            mi = math.exp(min(ei, 700.0))
            bi = mi
        ri = w[i] * (y[i] - mi)
        r[i] = ri
        s0 += ri
        loss += w[i] * (bi - y[i] * ei)
    return loss, s0


@njit(cache=True)
def add_columns(X, cols, d, t, d0, eta_old, eta):
    """eta = eta_old + t (d0 + X[:, cols] d), reading only the columns with d != 0."""
    n = X.shape[0]
    for i in range(n):
        eta[i] = eta_old[i] + t * d0
    for k in range(cols.shape[0]):
        dj = t * d[k]
        if dj != 0.0:
            _axpy(X, cols[k], dj, eta, 0, n)


@njit(cache=True)
def _rows(fam, y, w, eta, r):
    """r = w (y - mu(eta)); returns (1/n sum w (b(eta) - y eta), sum(r) / n)."""
    n = y.shape[0]
    loss = 0.0
    s0 = 0.0
    for i in range(n):
        ei = eta[i]
        ri = w[i] * (y[i] - _mean(fam, ei))
        r[i] = ri
        s0 += ri
        loss += w[i] * (_cumulant(fam, ei) - y[i] * ei)
    return loss / n, s0 / n


@njit(cache=True)
def step_pass(X, y, w, fam, kind, eta, eta_old, cols, dcols, d0, t, g, r):
    """eta = eta_old + t (d0 + X[:, cols] dcols), r = w (y - mu), g_j = x_j'r / n for every live
    column, and the loss 1/n sum w (b(eta) - y eta).  Returns (loss, sum(r) / n)."""
    n, p = X.shape
    for i in range(n):
        eta[i] = eta_old[i] + t * d0
    for k in range(cols.shape[0]):
        dj = t * dcols[k]
        if dj != 0.0:
            _axpy(X, cols[k], dj, eta, 0, n)
    loss, s0 = _rows(fam, y, w, eta, r)
    for j in range(p):
        g[j] = 0.0 if kind[j] == 0 else _dot(X, j, r, 0, n) / n
    return loss, s0


@njit(cache=True)
def weighted_gram_inputs(X, cols, sq, out):
    """out[:, k] = sq X[:, cols[k]] (single precision; sq = sqrt(q), q = w V(mu(eta)) the exact
    Hessian's weights: unlike glmnet's clipped ones they keep the Newton step fast when classes
    separate)."""
    n = X.shape[0]
    for k in range(cols.shape[0]):
        xc = X[:, cols[k]]
        oc = out[:, k]
        for i in range(n):
            oc[i] = xc[i] * sq[i]


@njit(cache=True)
def bfgs_update(H, h, h00a, s, yv, U, face, fst):
    """BFGS update, in place, of the augmented model matrix A = [[H, h], [h', h00]] (h00a[0]; H is
    m x m or the first m rows of a wider matrix whose first m columns are the model's) by
    the step ``s`` and gradient change ``yv`` (both length m + 1, the intercept last):
    A += yv yv'/(yv's) - (A s)(A s)'/(s'A s), skipped unless both curvatures are positive; the
    face's factor ``(U, face, fst)`` follows (:func:`factor_bfgs`).  Returns whether it was
    applied."""
    m = H.shape[0]
    As = np.empty(m + 1)
    for j in range(m):
        As[j] = h[j] * s[m] + _vdot(H[j], s, m)
    acc = h00a[0] * s[m]
    for k in range(m):
        acc += h[k] * s[k]
    As[m] = acc
    sAs = 0.0
    ys = 0.0
    for j in range(m + 1):
        sAs += s[j] * As[j]
        ys += yv[j] * s[j]
    if not (sAs > 0.0 and ys > 1e-12 * sAs):
        return False
    for j in range(m):
        aj = As[j] / sAs
        yj = yv[j] / ys
        Hj = H[j]
        for k in range(m):
            Hj[k] += yj * yv[k] - aj * As[k]
        h[j] += yj * yv[m] - aj * As[m]
    h00a[0] += yv[m] * yv[m] / ys - As[m] * As[m] / sAs
    factor_bfgs(U, face, fst, m, yv, ys, As, sAs)
    return True


@njit(cache=True)
def symmetric_into(U, H):
    """H[:m, :m] := the symmetric matrix whose upper triangle is U's (m x m, BLAS ``syrk``
    output; H float64, C order, at least m x m: the room of a matrix that grows), by 32 x 32
    tiles (the reads down U's columns and the mirrored writes stay in cache)."""
    m = U.shape[0]
    B = 32
    for j0 in range(0, m, B):
        j1 = min(j0 + B, m)
        for i0 in range(0, j1, B):
            i1 = min(i0 + B, m)
            for j in range(j0, j1):
                for i in range(i0, min(i1, j + 1)):
                    u = U[i, j]
                    H[j, i] = u
                    H[i, j] = u


@njit(cache=True)
def partial_gradient(X, r, cols, g):
    """g_j = x_j'r / n for the columns ``cols`` only."""
    n = X.shape[0]
    for k in range(cols.shape[0]):
        j = cols[k]
        g[j] = _dot(X, j, r, 0, n) / n


@njit(cache=True, fastmath=_FM)
def gradient_curvature_all(X, r, q, g, dg):
    """g_j = x_j'r / n and dg_j = sum_i q_i x_ij^2 / n for every column, in one pass over X (four
    columns at a time; as fast as BLAS's X'r, which it replaces on tall designs' exact passes)."""
    n, p = X.shape
    j = 0
    while j + 4 <= p:
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        c0 = 0.0
        c1 = 0.0
        c2 = 0.0
        c3 = 0.0
        for i in range(n):
            ri = r[i]
            qi = q[i]
            x0 = X[i, j]
            x1 = X[i, j + 1]
            x2 = X[i, j + 2]
            x3 = X[i, j + 3]
            s0 += x0 * ri
            s1 += x1 * ri
            s2 += x2 * ri
            s3 += x3 * ri
            c0 += qi * x0 * x0
            c1 += qi * x1 * x1
            c2 += qi * x2 * x2
            c3 += qi * x3 * x3
        g[j] = s0 / n
        g[j + 1] = s1 / n
        g[j + 2] = s2 / n
        g[j + 3] = s3 / n
        dg[j] = c0 / n
        dg[j + 1] = c1 / n
        dg[j + 2] = c2 / n
        dg[j + 3] = c3 / n
        j += 4
    while j < p:
        s = 0.0
        c = 0.0
        for i in range(n):
            x = X[i, j]
            s += x * r[i]
            c += q[i] * x * x
        g[j] = s / n
        dg[j] = c / n
        j += 1


@njit(cache=True, fastmath=_FM)
def gradient_curvature(X, r, q, cols, g, dg):
    """g[k] = x_j'r / n and dg[k] = sum_i q_i x_ij^2 / n for the columns j = cols[k], in one pass
    (the gradient of T's columns and the diagonal of their weighted Gram matrix)."""
    n = X.shape[0]
    for k in range(cols.shape[0]):
        j = cols[k]
        s = 0.0
        c = 0.0
        for i in range(n):
            x = X[i, j]
            s += x * r[i]
            c += q[i] * x * x
        g[k] = s / n
        dg[k] = c / n


@njit(cache=True)
def rescale_model(H, h, h00a, dg, h00, U, face, fst, keep_factor):
    """Rescale the model matrix A = [[H, h], [h', h00a[0]]] to S A S, S = diag(sqrt(dg_j / H_jj),
    sqrt(h00 / h00a[0])), so that its diagonal is the exact one, dg and h00 (the weighted Gram
    matrix's at new weights; 1 where either is not positive), keeping the correlations that the
    BFGS updates built.  The face's factor follows (U S: its columns scaled, O(k^2)) when
    ``keep_factor``, else it is dropped."""
    m = H.shape[0]
    s = np.empty(m)
    for j in range(m):
        hj = H[j, j]
        s[j] = math.sqrt(dg[j] / hj) if hj > 0.0 and dg[j] > 0.0 else 1.0
    s0 = math.sqrt(h00 / h00a[0]) if h00a[0] > 0.0 and h00 > 0.0 else 1.0
    for j in range(m):
        Hj = H[j]
        sj = s[j]
        for k in range(m):
            Hj[k] *= sj * s[k]
        h[j] *= sj * s0
    h00a[0] *= s0 * s0
    K = int(fst[0])
    if K > 0:
        if not keep_factor:
            fst[0] = -1.0
            return
        for u in range(K):
            c = face[u]
            f = s[c] if c >= 0 else s0
            for i in range(u + 1):
                U[i, u] *= f


@njit(cache=True, fastmath=_FM)
def gradient32(X32, r, r_base, g_base, n_rows, g):
    """g = g_base + X32'(r - r_base) / n_rows for every column, X32 a single-precision copy of X
    (Fortran order) read four columns at a time, the sums in double precision.  With g_base the
    exact gradient at r_base the error is X's rounding times the change of r only (the
    quasi-Newton steps' intermediate gradients on tall designs; half the bytes of a BLAS pass)."""
    n, p = X32.shape
    dr = np.empty(n)
    for i in range(n):
        dr[i] = (r[i] - r_base[i]) / n_rows
    j = 0
    while j + 4 <= p:
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        for i in range(n):
            di = dr[i]
            s0 += X32[i, j] * di
            s1 += X32[i, j + 1] * di
            s2 += X32[i, j + 2] * di
            s3 += X32[i, j + 3] * di
        g[j] = g_base[j] + s0
        g[j + 1] = g_base[j + 1] + s1
        g[j + 2] = g_base[j + 2] + s2
        g[j + 3] = g_base[j + 3] + s3
        j += 4
    while j < p:
        s = 0.0
        for i in range(n):
            s += X32[i, j] * dr[i]
        g[j] = g_base[j] + s
        j += 1


@njit(cache=True, fastmath=_FM)
def add_columns32(X32, d, t, d0, eta_old, eta):
    """eta = eta_old + t (d0 + X32 d), d over every column of the single-precision copy X32
    (Fortran order), eight columns at a time, the sums in double precision (a step's linear
    predictor on tall designs; its error, X's rounding times the step, is removed by the exact
    pass that certifies a lambda)."""
    n, p = X32.shape
    for i in range(n):
        eta[i] = eta_old[i] + t * d0
    j = 0
    while j + 8 <= p:
        a0, a1, a2, a3 = t * d[j], t * d[j + 1], t * d[j + 2], t * d[j + 3]
        a4, a5, a6, a7 = t * d[j + 4], t * d[j + 5], t * d[j + 6], t * d[j + 7]
        for i in range(n):
            eta[i] += (X32[i, j] * a0 + X32[i, j + 1] * a1 + X32[i, j + 2] * a2 + X32[i, j + 3] * a3
                       + X32[i, j + 4] * a4 + X32[i, j + 5] * a5 + X32[i, j + 6] * a6 + X32[i, j + 7] * a7)
        j += 8
    while j < p:
        aj = t * d[j]
        for i in range(n):
            eta[i] += X32[i, j] * aj
        j += 1
