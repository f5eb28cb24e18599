"""Elastic-net path for wide designs: coordinate descent with residual updates + active-set Newton.

Solves, for each lambda in turn (warm-started), on a prepared (centred, scaled, weighted) X::

    minimize_b  1/(2n) ||y - X b||^2 + lam * sum_j v_j ((1 - a)/2 b_j^2 + a |b_j|)

Per lambda:

1. working set = sequential strong rule (|x_j'r|/n >= a v_j (2 lam - lam_prev)) plus every
   coefficient ever nonzero plus the unpenalized columns;
2. coordinate descent on the working set (numba kernel :func:`regstats.solver.cd.cd_naive`,
   glmnet's sweep pattern) for a few sweeps;
3. one full pass q = X'r/n (BLAS): columns outside the working set that violate the KKT
   conditions join it and we go back to 2;
4. the duality gap (:func:`regstats.solver.cd._gap`) decides: at most ``tol * yy`` (yy = ||y||^2/n)
   ends the lambda.  Otherwise an **active-set Newton step**: with A the nonzero (and unpenalized)
   coefficients and s their signs, solve (X_A'X_A/n + lam (1-a) V_A) x = X_A'y/n - lam a V_A s
   by Cholesky.  If x keeps the signs it is the exact minimizer on that orthant; when the KKT
   conditions also hold outside A it is the exact solution (to rounding).  If some sign flips,
   move from b towards x up to the first zero crossing (the objective decreases along that
   segment) and continue with coordinate descent.

The Gram entries of the active columns are cached across lambdas, and the Cholesky factor of
the active block is updated from step to step (:class:`_Factor`: block extension for entering
columns, rank-one downdates for leaving ones), so a Newton step costs O(|A|^2) per changed column
instead of a new O(|A|^3) factorization (one factorization per lambda for the elastic net).  With ``exact`` a final Newton step is always attempted, so the
answer is exact to rounding whenever the active set admits one.  Nothing here raises: the
function returns per-lambda gaps, sweep counts and converged flags.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, cholesky, solve_triangular

from .cd import _gap, cd_naive, chol_drop, gather_block

#: sweeps of coordinate descent before a Newton step is tried
_CD_BUDGET = 10
#: at most this many bytes for the cached active columns and their Gram block
_CACHE_BYTES = 120e6


class _GramCache:
    """Inner products of the columns that have been active, grown on demand (BLAS)."""

    def __init__(self, X: np.ndarray):
        n, p = X.shape
        cap = min(p, max(2 * n, 500), 3000)
        while cap > 1 and (n * cap + cap * cap) * 8.0 > _CACHE_BYTES:
            cap //= 2
        self.X = X
        self.cap = cap
        self.pos = np.full(p, -1, dtype=np.int64)
        self.m = 0
        self.XC = None
        self.G = None
        self.cols = np.empty(cap, dtype=np.int64)

    def block(self, A: np.ndarray, diag: np.ndarray, gather: bool = True) -> np.ndarray | None:
        """X_A'X_A / n + diag(diag), or None when the cache cannot hold A."""
        new = A[self.pos[A] < 0]
        k = self.m
        if k + new.size > self.cap:
            if A.size > self.cap:
                return None
            # full: start again with the current active set only
            self.pos[:] = -1
            self.m = k = 0
            new = A
        if self.G is None:
            n = self.X.shape[0]
            self.XC = np.empty((n, self.cap), order="F")
            self.G = np.empty((self.cap, self.cap))
        if new.size:
            kk = k + new.size
            self.XC[:, k:kk] = self.X[:, new]
            blk = self.XC[:, :kk].T @ self.XC[:, k:kk]
            self.G[:kk, k:kk] = blk
            self.G[k:kk, :k] = blk[:k].T
            self.pos[new] = np.arange(k, kk)
            self.cols[k:kk] = new
            self.m = kk
        if not gather:
            return None
        return gather_block(self.G, self.pos[A], 1.0 / self.X.shape[0], diag)

    def ensure(self, cols: np.ndarray) -> bool:
        """Make sure the columns ``cols`` are cached (a full cache restarts with ``cols`` only)."""
        if cols.size > self.cap:
            return False
        self.block(cols, np.zeros(cols.size), gather=False)
        return True

    def gather(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """X_rows'X_cols / n for cached columns."""
        return self.G[np.ix_(self.pos[rows], self.pos[cols])] / self.X.shape[0]

    def residual(self, y: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """y - X beta for a beta supported on cached columns."""
        m = self.m
        return y - self.XC[:, :m] @ beta[self.cols[:m]]


class _Factor:
    """Upper Cholesky factor U of X_S'X_S/n + lam_f (1-a) V_S (= U'U) for an ordered column set S.

    Kept across Newton steps: it is reusable whenever the diagonal term is unchanged (across
    lambdas for the lasso, within one lambda for the elastic net: refactorizing once per lambda
    costs about as much as a dozen fixed-point triangular solves on the diagonal difference,
    measured slower).  Columns joining the active set are appended by a
    block update (O(|S|^2 k) instead of a new O(|S|^3) factorization) and columns that leave it
    are deleted by rank-one updates (:func:`~regstats.solver.cd.chol_drop`, O(|S|^2)); a fresh
    factorization when many leave at once, or when an update looks singular.
    """

    def __init__(self):
        self.S = np.zeros(0, dtype=np.int64)
        self.U = None
        self.lam = np.nan

    def update(self, A, v, a, lam, cache):
        """Make S equal to A (factor downdated / extended, or rebuilt); returns False on failure."""
        if self.U is not None and (a == 1.0 or lam == self.lam) and A.size <= cache.cap:
            inA = np.zeros(v.size, dtype=bool)
            inA[A] = True
            keep = inA[self.S]
            inS = np.zeros(v.size, dtype=bool)
            inS[self.S] = True
            new = A[~inS[A]]
            if (keep.size - np.count_nonzero(keep) <= max(4, self.S.size // 3)
                    and cache.ensure(A) and np.all(cache.pos[self.S[keep]] >= 0)):
                self.drop(keep)
                if new.size == 0 or self._extend(new, v, a, cache):
                    return True
        return self._rebuild(A, v, a, lam, cache)

    def drop(self, keep):
        if not keep.all():
            self.U = chol_drop(self.U, keep)
            self.S = self.S[keep]

    def solve(self, rhs):
        U = self.U
        z = solve_triangular(U, rhs, trans="T", lower=False, check_finite=False)
        return solve_triangular(U, z, lower=False, check_finite=False)

    def _rebuild(self, A, v, a, lam, cache):
        self.U = None
        self.S = np.zeros(0, dtype=np.int64)
        M = cache.block(A, lam * (1.0 - a) * v[A])
        if M is None:
            return False
        try:
            U = cholesky(M, lower=False, check_finite=False)
        except (LinAlgError, ValueError):
            return False
        if not np.all(np.isfinite(np.diag(U))):
            return False
        self.S, self.U, self.lam = A.copy(), U, lam
        return True

    def _extend(self, new, v, a, cache):
        S = self.S
        k, t = S.size, new.size
        B = cache.gather(S, new)
        C = cache.gather(new, new)
        C[np.diag_indices(t)] += self.lam * (1.0 - a) * v[new]
        try:
            W = (solve_triangular(self.U, B, trans="T", lower=False, check_finite=False)
                 if k else B[:0])
            U22 = cholesky(C - W.T @ W, lower=False, check_finite=False)
        except (LinAlgError, ValueError):
            return False
        d = np.diag(U22)
        if not np.all(np.isfinite(d)) or (k and d.min() <= 1e-7 * np.sqrt(np.max(np.diag(C)))):
            return False  # (near) singular: a fresh factorization decides
        U = np.empty((k + t, k + t))
        U[:k, :k] = self.U
        U[:k, k:] = W
        U[k:, :k] = 0.0
        U[k:, k:] = U22
        self.S = np.concatenate([S, new])
        self.U = U
        return True


def _newton(X, y, c, v, a, lam, beta, cache, fac):
    """Active-set Newton step (feature-sign search).  Returns (status, r).

    status 2: beta is the exact minimizer over its support and signs; 1: a descent step that
    stopped at sign changes; 0: failed (block too large or singular), beta unchanged.
    The system is solved with the factor ``fac`` of the support (updated, not refactorized,
    from the previous step's).  Sign changes: moving from b towards the orthant minimizer x up
    to the first zero crossing decreases the objective; every coordinate whose sign x would
    flip is set to 0 and deleted from the factor, and x is recomputed on the smaller set.
    """
    n = X.shape[0]
    A = np.flatnonzero((beta != 0.0) | (v == 0.0) | (a == 0.0))
    if A.size == 0 or (A.size > n and a == 1.0):
        return 0, None
    if not fac.update(A, v, a, lam, cache):
        return 0, None
    status = 2
    out = beta.copy()
    for _ in range(100):
        S = fac.S
        vS = v[S]
        s = np.sign(beta[S])
        b = out[S]
        try:
            x = fac.solve(c[S] - lam * a * vS * s)
        except (LinAlgError, ValueError):
            x = np.full(S.size, np.nan)
        if not np.all(np.isfinite(x)):
            if status == 2:
                return 0, None
            status = 1
            break
        pen = (vS > 0) & (a > 0.0)  # ridge: no signs to keep
        bad = pen & (x * s <= 0.0)
        if not bad.any():
            # x minimizes the objective over this support and signs; the segment point b lies on
            # the same face, so the jump from b to x decreases the objective
            status = 2
            out[S] = x
            break
        status = 1
        t_k = b[bad] / (b[bad] - x[bad])
        t = float(t_k.min())
        b = b + t * (x - b)
        # zero every coordinate whose sign x would flip (not only the first crossing);
        # coordinate descent repairs any overshoot
        b[bad] = 0.0
        out[S] = b
        fac.drop(~bad)
    else:
        status = 1
    if status == 2:
        S = fac.S
        bmax = np.abs(out).max()
        pen = (v[S] > 0) & (a > 0.0)
        xs = out[S]
        # rounding-level coefficients are zeros (the KKT check that follows confirms them)
        xs[pen & (np.abs(xs) <= 1e-13 * bmax)] = 0.0
        out[S] = xs
    beta[:] = out
    return status, cache.residual(y, beta)


def naive_path(X: np.ndarray, y: np.ndarray, v: np.ndarray, a: float, lambdas: np.ndarray,
               beta0: np.ndarray, tol: float, max_sweeps: int, exact: bool):
    """Elastic-net path on a prepared, Fortran-ordered X.

    Returns (betas, gaps, rss_over_n, sweeps, converged), one row / entry per lambda.
    """
    X = np.asfortranarray(X)
    n, p = X.shape
    nlam = lambdas.shape[0]
    betas = np.zeros((nlam, p))
    gaps = np.zeros(nlam)
    rss = np.zeros(nlam)
    sweeps = np.zeros(nlam, dtype=np.int64)
    conv = np.zeros(nlam, dtype=bool)
    xx = np.einsum("ij,ij->j", X, X) / n
    yy = float(y @ y) / n
    c = (X.T @ y) / n
    beta = np.array(beta0, dtype=float, copy=True)
    r = y - X @ beta if np.any(beta != 0) else y.copy()
    q = (X.T @ r) / n
    pen = (v > 0) & (xx > 0)
    lam_prev = float(np.max(np.abs(q[pen]) / (max(a, 1e-3) * v[pen]))) if pen.any() else 0.0
    if nlam:
        lam_prev = max(lam_prev, float(lambdas[0]))
    ever = (beta != 0) | ((v == 0) & (xx > 0))
    cache = _GramCache(X)
    fac = _Factor()
    target = tol * yy
    for li in range(nlam):
        lam = float(lambdas[li])
        thr = lam * a * v
        strong = ever | (np.abs(q) >= a * v * (2.0 * lam - lam_prev))
        strong &= xx > 0
        tol_cd = target
        nsw = 0
        exact_done = False
        g = np.inf
        use_newton = True
        while nsw < max_sweeps:
            ws = np.flatnonzero(strong)
            budget = _CD_BUDGET if use_newton else max_sweeps - nsw
            supp = beta != 0.0
            k, ok = cd_naive(X, r, beta, v, a, lam, xx, ws, tol_cd, min(budget, max_sweeps - nsw))
            nsw += k
            status = -1
            if use_newton and (ok or np.array_equal(supp, beta != 0.0)):
                status, r_new = _newton(X, y, c, v, a, lam, beta, cache, fac)
                if status == 0:
                    use_newton = False  # singular or too large a block: plain CD for this lambda
                else:
                    r = r_new
                    if status == 2:
                        exact_done = True
            q = (X.T @ r) / n
            if exact_done:
                # exact on its support; optimal only if every zero coefficient passes KKT
                zero = (beta == 0.0) & (xx > 0)
                exact_done = not np.any(np.abs(q[zero]) > thr[zero] * (1.0 + 1e-10))
            viol = ~strong & (np.abs(q) > thr) & (xx > 0)
            if viol.any():
                strong |= viol
                exact_done = False
                continue
            g = _gap(beta, q, c, yy, v, a, lam)[0]
            # an exact active-set solution that passes the KKT check is optimal to rounding
            if exact_done or (g <= target and (not exact or not use_newton)):
                break
            if status == 1:
                continue
            if ok:
                tol_cd *= 0.1
                if tol_cd < 1e-300:
                    break
        g, _, rs = _gap(beta, q, c, yy, v, a, lam)
        gaps[li] = g
        rss[li] = rs
        sweeps[li] = nsw
        conv[li] = g <= target or exact_done
        betas[li] = beta
        ever |= beta != 0
        lam_prev = lam
    return betas, gaps, rss, sweeps, conv
