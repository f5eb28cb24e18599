"""Elastic-net path for wide designs: an active-set Newton method with residual updates.

Solves, for each lambda in turn (warm-started), on a prepared (centred, scaled, weighted) X::

    minimize_b  1/(2n) ||y - X b||^2 + lam * sum_j v_j ((1 - a)/2 b_j^2 + a |b_j|)

This is the textbook form; ``regstats.engine.kernel_penalty`` maps the user's ``(lam, l1_ratio)``,
whose ridge part is divided by s_y (docs/conventions.md), onto it.

Per lambda:

1. working set = sequential strong rule (|x_j'r|/n >= a v_j (2 lam - lam_prev)) plus every
   coefficient ever nonzero plus the unpenalized columns;
2. an **active-set Newton step** on the previous solution's support and signs: with A the
   nonzero (and unpenalized) coefficients and s their signs, solve
   (X_A'X_A/n + lam (1-a) V_A) x = X_A'y/n - lam a V_A s by Cholesky.  Between support changes
   the path is (for the lasso) linear in lambda, so this step alone usually lands on the exact
   solution.  If some sign flips, the step stops at the first zero crossing (the objective
   decreases along that segment), every flipping coordinate is zeroed and x is recomputed on the
   smaller support (feature-sign search).  The columns predicted to enter (X'r/n at the last
   two solutions, extrapolated in lambda, beyond the threshold) join this first step; columns
   the step zeroed, and those predicted within 0.7% below the threshold (probes), are checked
   against KKT from the cached Gram entries and violators come back before any residual is
   computed;
3. the zeros of the working set are checked against the KKT conditions (only their columns are
   touched); violators get one coordinate-descent step each, which brings them into the support
   with the right sign, and we go back to 2;
4. one gradient pass q = X'r/n (:class:`_Gradient`: the support's values from the Newton
   equations, the zeros certified from a predicted residual change or a 16-bit read,
   each with a rigorous bound, the others computed in double): columns outside the working set
   that violate the KKT conditions join it and we go back to 2;
5. an exact active-set solution that passes every KKT check ends the lambda; the duality gap
   (:func:`regstats.solver.cd._gap`) is reported, and with a loose ``tol`` a gap of at most
   ``tol * yy`` (yy = ||y||^2/n) ends it too.

When Newton steps are impossible (a singular or too large block) or cycle, plain coordinate
descent on the working set (numba kernel :func:`regstats.solver.cd.cd_naive`, glmnet's sweep
pattern) takes over for that lambda, stopping on the duality gap.

The Gram entries of the active columns are cached across lambdas, and the Cholesky factor of
the active block is updated in place from step to step (:class:`_Factor`,
:mod:`regstats.solver.factor`: one forward substitution per entering column, Givens rotations
per leaving one), so a Newton step costs O(|A|^2) per changed column instead of a new
O(|A|^3) factorization.  For the elastic net a large block's factor serves nearby lambdas too,
by conjugate gradients preconditioned with it (:meth:`_Factor._drift_ok`), to a relative
residual of 1e-4 while a step is finding its signs and then to ``_CG_RTOL`` (refined when the
gap misses ``tol * yy``) or, with ``exact``, to rounding.  With ``exact`` the lambda always ends
on an exact active-set solution when the active set admits one, so the answer is exact to
rounding.  Nothing here raises: the function returns per-lambda gaps, sweep
counts and converged flags.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg.lapack import dpotrf

from . import factor
from .cd import (_gap, cd_naive, certify_q, copy_columns, cross_dots, gather_block, gram_gradient,
                 guess_entries, kkt_scan, partial_q, predict_q, residual_from,
                 strong_rule, support_gradient, warm_refit, zero_members)
from .standardize import quantize_columns, wants_compact

#: sweeps of coordinate descent between Newton steps that stopped at sign changes
_CD_BUDGET = 10
#: the elastic net's factor serves lambdas within a factor _DRIFT of its own, for blocks of at least
#: _DRIFT_MIN_SIZE columns (smaller ones are refactorized at every lambda)
_DRIFT = 0.7
_DRIFT_MIN_SIZE = 200
#: Newton steps per lambda before falling back to plain coordinate descent, and failed ones
_NEWTON_FAILURES = 3
_NEWTON_ROUNDS = 50
#: residual changes between full gradient passes that predict the next one (see _Gradient)
_DIRECTIONS = 2
#: the first Newton step of a lambda takes the columns predicted to enter (see naive_path): those
#: whose predicted |X'r/n| exceeds _ENTRY_MARGIN times the threshold (wrong guesses cost a factor
#: update and leave; the columns predicted just below are probed instead, see _PROBE_MARGIN)
_PREDICT_ENTRY = True
_ENTRY_MARGIN = 1.0
#: predictions stay on while at least this share of a lambda's guesses stay in the support
_TRUST = 0.25
#: zero columns whose predicted |X'r/n| reaches _PROBE_MARGIN (but not _ENTRY_MARGIN) times the
#: threshold are probed: KKT-checked at the first Newton step's solution from their Gram entries
_PROBE_MARGIN = 0.993
#: KKT checks from the Gram cache of the columns a Newton step zeroed, before its residual (rounds)
_REENTRY = 2
#: conjugate-gradient rtol at a drifted lambda when the path need not be exact (a solve that
#: misses the gap target is refined), and while a Newton step is still finding its signs
_CG_RTOL = 1e-8
_SIGN_RTOL = 1e-4
#: the reference bound of a column whose q was not computed (finite: 0 * bound must stay 0)
_NO_BOUND = 1e300
#: a gradient pass computes only the uncertified columns while they are at most this share of all
_PARTIAL_SHARE = 0.5
#: at most this many bytes for the cached active columns and their Gram block
_CACHE_BYTES = 120e6


class _GramCache:
    """Inner products X'X of the columns that have been active, grown on demand (BLAS)."""

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

    def ensure(self, cols: np.ndarray) -> bool:
        """Make sure the columns ``cols`` are cached (a full cache restarts with ``cols`` only);
        False when the cache cannot hold them."""
        if cols.size > self.cap:
            return False
        new = cols[self.pos[cols] < 0]
        k = self.m
        if k + new.size > self.cap:
            self.pos[:] = -1
            self.m = k = 0
            new = cols
        if self.G is None:
            n = self.X.shape[0]
            self.XC = np.empty((n, self.cap), order="F")
            self.G = np.empty((self.cap, self.cap))
        if new.size:
            kk = k + new.size
            copy_columns(self.X, new, self.XC, k)
            if 2 <= new.size < 40:
                cross_dots(self.XC, kk, k, self.G)
            else:
                blk = self.XC[:, :kk].T @ self.XC[:, k:kk]
                self.G[:kk, k:kk] = blk
                self.G[k:kk, :k] = blk[:k].T
            self.pos[new] = np.arange(k, kk)
            self.cols[k:kk] = new
            self.m = kk
        return True

    def residual(self, y: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """y - X beta for a beta supported on cached columns."""
        m = self.m
        return residual_from(self.XC, m, y, beta[self.cols[:m]], np.empty(y.shape[0]))


class _Factor:
    """Upper Cholesky factor U of X_S'X_S/n + lam_f (1-a) V_S (= U'U) for an ordered column set S.

    Kept across Newton steps: it is reusable whenever the diagonal term is unchanged (across
    lambdas for the lasso, within one lambda for the elastic net) and, for the elastic net's
    large blocks, at nearby lambdas on either side (:meth:`_drift_ok`).  U lives in a preallocated
    buffer (grown by doubling) and is changed in place by the kernels of
    :mod:`regstats.solver.factor`: columns joining the active set are appended (one forward
    substitution each, O(|S|^2)), columns leaving it are deleted (Givens rotations); a fresh
    LAPACK factorization when many leave at once, or when an update looks singular.
    """

    def __init__(self):
        self.S = np.zeros(0, dtype=np.int64)
        self.U = None
        self.lam = np.nan
        self.mark = None  # scratch for factor.match
        self.work = None  # scratch for factor.append (reused)
        self.z = None  # the last forward solve U'z = rhs (kept while U's rows are), and its rhs
        self.z_rhs = None
        self.rtol = 1e-15  # relative residual of the conjugate-gradient solves at a drifted lambda
        self.last_rtol = 0.0  # the rtol of the last solve (0: a direct one, exact)
        self.cg = None  # (state, rhs, lam) of the last conjugate-gradient solve (while U is unchanged)

    def _room(self, m):
        if self.U is None or self.U.shape[0] < m:
            size = 256
            while size < m:
                size *= 2
            U = np.zeros((size, size))
            if self.U is not None:
                k = self.S.size
                U[:k, :k] = self.U[:k, :k]
            self.U = U

    def update(self, A, v, a, lam, cache, beta=None):
        """Make S equal to A (factor downdated / extended, or rebuilt; ``beta``: the coefficients,
        which order a rebuilt factor's columns); returns False on failure."""
        if self.U is not None and (a == 1.0 or lam == self.lam or self._drift_ok(lam, A.size)) \
                and A.size <= cache.cap:
            if self.mark is None or self.mark.size != v.size:
                self.mark = np.zeros(v.size, dtype=np.int8)
            keep, new = factor.match(A, self.S, self.mark)
            # (after ensure(A) every kept column, a member of A, is cached)
            if keep.size - np.count_nonzero(keep) <= max(4, self.S.size // 3) and cache.ensure(A):
                self.drop(keep)
                if new.size == 0 or self._extend(new, v, a, cache):
                    return True
        return self._rebuild(A, v, a, lam, cache, ahead=True, beta=beta)

    def drop(self, keep):
        if not keep.all():
            self.z = self.cg = None
            S = self.S.copy()
            k = factor.delete_many(self.U, S.size, S, keep)
            self.S = S[:k]

    def _drift_ok(self, lam, m):
        """Whether the factor made at ``self.lam`` may serve at ``lam`` (elastic net).

        Solving at another lambda from the factor costs a few pairs of triangular solves per
        Newton step (:func:`~regstats.solver.factor.shifted_solve`, conjugate gradients whose
        error falls by about (1 - r) / 4 per iteration, r = min(lam, self.lam) / max(...)); that
        is cheaper than a new O(m^3) factorization only for large blocks and nearby lambdas.  A
        large block's factor is made at _DRIFT times the lambda that asks for it
        (:meth:`_rebuild`), so that it serves that lambda and those below it down to _DRIFT^2
        times it.
        """
        return m >= _DRIFT_MIN_SIZE and self.lam * _DRIFT <= lam <= self.lam / _DRIFT

    def system_residual(self):
        """rhs - (U'U + shift D) x of the last conjugate-gradient solve, in the factor's column
        order: U' times the iteration's residual (kept in its state)."""
        k = self.S.size
        if self.cg is None or self.cg[0].size != 3 * k + 1:
            return None
        out = np.empty(k)
        factor.lower_matvec(self.U, k, np.ascontiguousarray(self.cg[0][k:2 * k]), out)
        return out

    @property
    def loose(self):
        """Whether the last solve was a conjugate-gradient one stopped short of rounding."""
        return self.last_rtol > 1e-15

    @property
    def coarse(self):
        """Whether the last solve was a conjugate-gradient one stopped short of ``self.rtol``."""
        return self.last_rtol > self.rtol

    def solve(self, rhs, lam, a, v, x0, rtol=None, resume=False):
        """The Newton system's solution at ``lam``; None when a drifted factor cannot give it.
        ``x0``: a nearby point (the current coefficients), where a drifted factor starts;
        ``rtol``: its relative residual (default ``self.rtol``); ``resume``: continue the last
        conjugate-gradient solve when it was of this same system (a tighter rtol)."""
        rhs = np.ascontiguousarray(rhs)
        k = self.S.size
        if a == 1.0 or lam == self.lam:
            # after columns were appended (same lambda and signs) the forward solve's first
            # entries are the last one's: only the new rows are solved
            k0 = 0 if self.z is None else self.z.size
            if not (k0 and k0 <= k and np.array_equal(rhs[:k0], self.z_rhs)):
                k0 = 0
            x, self.z = factor.chol_solve(self.U, k, rhs, rhs if k0 == 0 else self.z, k0)
            self.z_rhs = rhs
            self.last_rtol = 0.0
            return x
        rtol = self.rtol if rtol is None else rtol
        cg = self.cg
        if not (resume and cg is not None and cg[0].size == 3 * k + 1 and cg[2] == lam
                and np.array_equal(cg[1], rhs)):
            cg = (np.zeros(3 * k + 1), rhs, lam)
        x, ok = factor.shifted_solve(self.U, k, rhs, (lam - self.lam) * (1.0 - a),
                                     np.ascontiguousarray(v[self.S]), rtol, 60,
                                     np.ascontiguousarray(x0, dtype=float), cg[0])
        self.cg = cg
        self.last_rtol = rtol
        return x if ok else None

    def _rebuild(self, A, v, a, lam, cache, ahead=False, beta=None):
        """A fresh factorization of the block A at ``lam`` (``ahead``: for a large elastic-net
        block, at _DRIFT lam, the middle of the lambdas it will serve on a decreasing path;
        ``beta``: the coefficients, see below)."""
        self.z = self.cg = None
        if ahead and a < 1.0 and A.size >= _DRIFT_MIN_SIZE:
            lam = lam * _DRIFT
        self.S = np.zeros(0, dtype=np.int64)
        if not cache.ensure(A):
            return False
        # the factor's column order is free.  With ``beta``: by decreasing |beta_j|, so that the
        # small coefficients, likelier to leave, come last (deleting column i costs O((m - i)^2):
        # on problem A's elastic net the deletions' mean depth from the end fell from 274 columns
        # to 151 and their time by a third); else in cache order (the gather reads G's rows forward)
        A = A[np.argsort(cache.pos[A] if beta is None else -np.abs(beta[A]), kind="stable")]
        m = A.size
        # the block is gathered into the first m * m entries of U's own buffer (the old factor is
        # discarded; no scratch array to fault in) and moved to U's rows after the factorization
        self._room(m)
        M = gather_block(cache.G, cache.pos[A], 1.0 / cache.X.shape[0], lam * (1.0 - a) * v[A],
                         self.U.reshape(-1)[:m * m].reshape(m, m))
        # M.T is the same matrix in Fortran order: LAPACK factorizes it in place (no copy), and
        # its lower factor L, read back in C order, is the upper factor U = L' we keep
        _, info = dpotrf(M.T, lower=1, clean=0, overwrite_a=1)
        if info != 0 or not np.all(np.isfinite(np.diagonal(M))) or (m and np.diagonal(M).min() <= 0.0):
            return False
        factor.spread(self.U, m)
        self.S, self.lam = A.copy(), lam
        return True

    def _extend(self, new, v, a, cache):
        self.cg = None
        k = self.S.size
        self._room(k + new.size)
        pos = np.empty(k + new.size, dtype=np.int64)
        pos[:k] = cache.pos[self.S]
        if self.work is None or self.work.size < k * new.size:
            self.work = np.empty(max(k * new.size, 2 * (0 if self.work is None else self.work.size), 4096))
        k2 = factor.append(self.U, k, cache.G, pos, cache.pos[new], 1.0 / cache.X.shape[0],
                           self.lam * (1.0 - a) * v[new], 1e-7, self.work)
        if k2 < 0:
            return False  # (near) singular: a fresh factorization decides
        self.S = np.concatenate([self.S, new])
        return True


def _newton(X, y, c, v, a, lam, beta, cache, fac, free, guess=None, probe=None):
    """Active-set Newton step (feature-sign search).  Returns (status, r).

    status 2: beta is the exact minimizer over its support and signs; 1: a descent step that
    stopped at sign changes; 0: failed (block too large or singular), beta unchanged.
    ``free``: mask of the columns always in the active set (unpenalized; all for ridge), or None.
    ``guess``: mask of coefficients set from a prediction, not by a descent step: those whose sign
    flips all leave at once (the objective may rise at that step).  ``probe``: zero columns
    predicted near their thresholds, checked against KKT (from their Gram entries) at the first
    step's solution together with the columns it zeroed.
    The system is solved with the factor ``fac`` of the support (updated, not refactorized,
    from the previous step's).  Sign changes: moving from b towards the orthant minimizer x up
    to the first zero crossing decreases the objective; every coordinate whose sign x would
    flip is set to 0 and deleted from the factor, and x is recomputed on the smaller set.
    """
    n = X.shape[0]
    dropped = []
    for attempt in range(_REENTRY + 1):
        A = np.flatnonzero(beta) if free is None else np.flatnonzero((beta != 0.0) | free)
        if A.size == 0:
            return 2, y.copy()  # the empty support: beta = 0 is its exact minimizer
        if A.size > n and a == 1.0:
            return 0, None
        if attempt == 0 and probe is not None and probe.size:
            # the probes' Gram entries in the same batch as the first step's new columns (most
            # probes enter within a few lambdas, when their entries would be computed anyway)
            if not cache.ensure(np.concatenate([A, probe])):
                probe = None
        if not fac.update(A, v, a, lam, cache, beta):
            if attempt == 0:
                return 0, None
            status = 1  # beta: the last exact solution plus coordinate steps, a descent step
            break
        status, S, b = _feature_sign(c, v, a, lam, beta, cache, fac, free, guess, dropped, False)
        if status == 0:
            if attempt == 0:
                return 0, None
            status = 1
            break
        beta[S] = b
        if attempt == 0 and probe is not None and status == 2:
            # (cached with the first step's columns, unless the cache has restarted since)
            probe = probe[(cache.pos[probe] >= 0) & (beta[probe] == 0.0)]
            if probe.size:
                dropped.append(probe)
        if status != 2 or not dropped or attempt == _REENTRY:
            break
        # columns this step zeroed (all of a sign change's flips leave at once) may belong to
        # the support after all: their KKT check from the cached Gram entries (O(|S|) each)
        # brings violators back with a coordinate step, before any residual is computed
        d = np.unique(np.concatenate(dropped))
        d = d[beta[d] == 0.0]
        dropped = []
        if d.size == 0:
            break
        qd = gram_gradient(cache.G, cache.pos[d], cache.pos[S], b, 1.0 / n, c[d], np.empty(d.size))
        thr_d = lam * a * v[d]
        back = np.abs(qd) > thr_d * (1.0 + 1e-10)
        if not back.any():
            break
        d, qd = d[back], qd[back]
        xx_d = cache.G[cache.pos[d], cache.pos[d]] / n
        beta[d] = np.sign(qd) * (np.abs(qd) - thr_d[back]) / (xx_d + lam * (1.0 - a) * v[d])
        guess = None
    if status == 2 and fac.coarse:
        # the signs were settled (and the zeroed columns checked) at the conjugate-gradient
        # solves' coarse rtol: polish the last solve (continuing it) to the final rtol
        st, S, b = _feature_sign(c, v, a, lam, beta, cache, fac, free, None, [], True)
        if st != 0:
            status = st
            beta[S] = b
        else:
            fac.cg = None  # (its state is not that of beta's solve)
    return status, cache.residual(y, beta)


def _feature_sign(c, v, a, lam, beta, cache, fac, free, guess, dropped, final):
    """The sign-change loop of :func:`_newton` on the factor's support: (status, S, b), beta
    updated; the columns zeroed are appended to ``dropped``.  A drifted factor's solves stop at
    the coarse rtol _SIGN_RTOL unless ``final`` (then at the factor's rtol, the first one
    continuing the last solve)."""
    status = 2
    S = fac.S
    b = beta[S]
    s = np.sign(b)
    xw = b  # where a conjugate-gradient solve starts
    rtol = _SIGN_RTOL if not final and _SIGN_RTOL is not None and _SIGN_RTOL > fac.rtol else None
    for _ in range(100):
        vS = v[S]
        rhs = c[S] - lam * a * vS * s
        x = fac.solve(rhs, lam, a, v, xw, rtol, resume=final)
        if x is None:
            # the drifted factor did not converge: factorize afresh at this lambda
            x = fac.solve(rhs, lam, a, v, xw) if fac._rebuild(S.copy(), v, a, lam, cache) else None
        if x is None or not np.isfinite(x.sum()):  # (any inf or nan makes the sum non-finite)
            if status == 2:
                return 0, S, None
            status = 1
            break
        bad = x * s <= 0.0
        if a == 0.0 or free is not None:
            bad &= (vS > 0) & (a > 0.0)  # unpenalized columns and ridge: no signs to keep
        if not bad.any():
            # x minimizes the objective over this support and signs; the segment point b lies on
            # the same face, so the jump from b to x decreases the objective
            status = 2
            b = x
            break
        status = 1
        t_k = b[bad] / (b[bad] - x[bad])
        t = float(t_k.min())
        b = b + t * (x - b)
        if np.count_nonzero(bad) > max(2, S.size // 20):
            # many flips (an ill-conditioned block far from its solution): only the first
            # crossings leave, an exact descent step; zeroing them all can collapse the support
            first = np.zeros(S.size, dtype=bool)
            first[np.flatnonzero(bad)[t_k <= t * (1.0 + 1e-12)]] = True
            if guess is not None:
                first |= bad & guess[S]
            bad = first
        # otherwise zero every coordinate whose sign x would flip (fewer solves; coordinate
        # descent repairs any overshoot); beta keeps the zeros, the factor drops them
        b[bad] = 0.0
        beta[S] = b
        keep = ~bad
        dropped.append(S[bad])
        fac.drop(keep)
        S, b, s, xw = fac.S, b[keep], s[keep], x[keep]
    else:
        status = 1
    if status == 2 and b.size:
        # rounding-level coefficients are zeros (the KKT check that follows confirms them)
        small = np.abs(b) <= 1e-13 * np.abs(b).max()
        if a > 0.0 and small.any():
            b = b.copy()
            b[small & (v[S] > 0)] = 0.0
    return status, S, b


def _least_squares(U: list, d: np.ndarray) -> np.ndarray:
    """Coefficients alpha minimizing ||d - sum_k alpha_k U[k]|| for one or two directions (any
    alpha is valid for the bound that uses them, so a near-singular pair keeps the newest only)."""
    K = len(U)
    alpha = np.zeros(K)
    if K == 0:
        return alpha
    a11 = float(U[0] @ U[0])
    b1 = float(U[0] @ d)
    if K == 2:
        a12 = float(U[0] @ U[1])
        a22 = float(U[1] @ U[1])
        b2 = float(U[1] @ d)
        det = a11 * a22 - a12 * a12
        if det > 1e-10 * a11 * a22:
            alpha[0] = (b1 * a22 - b2 * a12) / det
            alpha[1] = (a11 * b2 - a12 * b1) / det
            return alpha
    if a11 > 0.0:
        alpha[0] = b1 / a11
    return alpha


class _Gradient:
    """The full gradient q = X'r/n, the one O(np) operation of each lambda.

    Three ways to avoid touching all of X, all exact where it matters:

    * **Known values.**  After an exact Newton step the support's q is given by the Newton
      equations (the caller passes it as ``known``); those columns are not read, and the
      reference gets no bound for them (:data:`_NO_BOUND`), so once zero they are computed.
    * **Predicted change with a bound.**  Every full pass is kept as a reference (r_k, q_k, E_k)
      with |q_kj - x_j'r_k/n| <= E_kj (the 16-bit read's rounding).  The differences of the last
      _DIRECTIONS + 1 references are directions u_i whose products X'u_i/n = q_a - q_b are known
      to within E_a + E_b; a new residual is split as r = r_1 + sum_i alpha_i u_i + e (alpha by
      least squares, r_1 the newest reference), so that x_j'r/n lies within
      E_1j + sum_i |alpha_i| (E_aj + E_bj) + sqrt(xx_j) ||e|| / sqrt(n) of the prediction
      q_1j + sum_i alpha_i (q_aj - q_bj).  Along a path the residual moves in nearly the same
      direction from one lambda to the next (on benchmark problem A, ||e|| is 10-30% of
      ||r - r_1|| late on the path), so this certifies most zero coefficients where the plain
      bound sqrt(xx_j) ||r - r_1|| / sqrt(n) certifies almost none.  A zero coefficient whose
      prediction plus bound stays strictly inside its KKT threshold is certified without being
      computed.  Used while the others are few (:data:`_PARTIAL_SHARE`); otherwise a full pass.
    * **Sixteen bits.**  The columns still to compute are read from a 16-bit copy of X (a quarter
      of the memory traffic: per column int16 codes times a scale, max|x_j| / 32766, rounded to
      nearest; :func:`~regstats.solver.standardize._quantize`) and summed in double precision
      against r in single precision (:func:`~regstats.solver.cd.certify_q`).  The bound is
      rigorous and per column: ||d_j|| ||r|| / n for the codes' rounding d_j (its norm is
      computed with the codes, about 3e-5 of ||x_j|| for Gaussian columns), plus
      (2^-24 + (n + 2) 2^-53) ||x_j|| ||r|| / n for r's rounding and the double-precision sum; a
      column that bound cannot certify is computed in double precision.

    A certified column keeps a stand-in value inside its threshold, so it changes neither the KKT
    check nor the duality gap: both come out exactly as from a double-precision pass.
    """

    def __init__(self, X: np.ndarray, xx: np.ndarray, passes: int, compact=None):
        n, p = X.shape
        self.X = X
        self.xx = xx
        self.sxx = np.sqrt(xx)
        self.X16 = None
        if passes > 4 and wants_compact(n, p):
            if compact is None:
                compact = (np.empty((p, n), dtype=np.int16).T, np.empty(p), np.empty(p))
                quantize_columns(X, *compact)
            self.X16, self.scale16, err16 = compact
            # 16-bit reads (certify_q) differ from x_j'r/n by at most bound16_j * ||r|| / sqrt(n):
            # the codes' rounding (||d_j|| ||r||), r's in single precision (u ||x~_j|| ||r||), the
            # exact products' double-precision sum and the two scalings ((n + 2) 2^-53 on the
            # same), all over n; ||x~_j|| <= ||x_j|| + ||d_j||, with a margin for higher orders
            u = 2.0 ** -24
            norm = np.sqrt(n * xx) + err16
            self.bound16 = (err16 + norm * (u + (n + 2) * 2.0 ** -53 * (1.0 + u))) * (1.0 + 1e-6) / np.sqrt(n)
        self.all = np.arange(p)
        self.refs = []  # up to _DIRECTIONS + 1 reference residuals, newest first
        self.Q = np.empty((_DIRECTIONS + 1, p))  # their q and E, stacked in the same order
        self.E = np.empty((_DIRECTIONS + 1, p))
        self.U = []  # differences of consecutive reference residuals, and their norms
        self.unorm = []
        self.full = 0

    def _predict(self, r: np.ndarray, beta: np.ndarray, thr: np.ndarray, skip: bool):
        """(prediction of X'r/n, the columns it cannot certify) from the references."""
        n = self.X.shape[0]
        m = len(self.refs)
        dr = r - self.refs[0]
        alpha = _least_squares(self.U, dr)
        e = dr.copy()
        spread = float(np.sqrt(dr @ dr))
        for ak, u, un in zip(alpha, self.U, self.unorm):
            e -= ak * u
            spread += abs(ak) * un
        spread /= np.sqrt(n)
        Q, E = self.Q[:m], self.E[:m]
        pred = np.empty(Q.shape[1])
        cols = predict_q(Q, E, alpha, self.sxx, float(np.sqrt(e @ e)) / np.sqrt(n), spread, beta, thr, pred, skip)
        return pred, cols

    def _single(self, r):
        """r in single precision, and the scalars of :func:`~regstats.solver.cd.certify_q`'s
        bound: ||r|| / sqrt(n) and a floor for single-precision underflow."""
        rn = float(np.sqrt(r @ r)) / np.sqrt(self.X.shape[0])
        return r.astype(np.float32), rn, 1e-30 * (1.0 + rn)

    def columns(self, r, cols, beta, thr, q, skip=False, single=None):
        """q[cols] = X[:, cols]'r/n, with stand-ins for zeros certified inside their thresholds
        (``skip``: not the nonzero ones; ``single``: :meth:`_single` of r, if already made)."""
        if self.X16 is None:
            partial_q(self.X, r, cols if not skip else cols[beta[cols] == 0.0], q)
        else:
            r32, rn, err0 = self._single(r) if single is None else single
            certify_q(self.X16, self.scale16, self.bound16, r32, self.X, r, cols, beta, thr, rn, err0,
                      q, skip)

    def _keep(self, r, q, E):
        """A full pass becomes the newest reference (the oldest of _DIRECTIONS + 1 leaves)."""
        self.refs = [r.copy()] + self.refs[:_DIRECTIONS]
        m = len(self.refs)
        self.Q[1:m] = self.Q[:m - 1].copy()
        self.E[1:m] = self.E[:m - 1].copy()
        self.Q[0] = q
        self.E[0] = E
        self.U = [self.refs[k] - self.refs[k + 1] for k in range(m - 1)]
        self.unorm = [float(np.sqrt(u @ u)) for u in self.U]

    def __call__(self, r: np.ndarray, beta: np.ndarray, thr: np.ndarray,
                 known: np.ndarray | None = None) -> np.ndarray:
        """q = X'r/n (certified columns: a stand-in inside the threshold).  ``known``: q at the
        nonzero coefficients when beta solves its support's Newton equations exactly (then
        q_j = lam a v_j s_j + lam (1-a) v_j b_j there, to rounding): those columns are not read,
        and the reference gets no bound for them (they are computed when next needed)."""
        X = self.X
        n, p = X.shape
        skip = known is not None
        nz = np.flatnonzero(beta) if skip else None
        single = None if self.X16 is None else self._single(r)
        if self.refs:
            q, cols = self._predict(r, beta, thr, skip)
            if cols.size <= _PARTIAL_SHARE * p:
                self.columns(r, cols, beta, thr, q, skip, single)
                if skip:
                    q[nz] = known[nz]
                return q
        self.full += 1
        if self.X16 is None:
            q = (X.T @ r) / n
            E = np.zeros(p)
        else:
            q = np.empty(p)
            self.columns(r, self.all, beta, thr, q, skip, single)
            E = self.bound16 * single[1] + single[2]  # (0 for the columns recomputed in double: a valid bound still)
        if skip:
            q[nz] = known[nz]
            E[nz] = _NO_BOUND
        self._keep(r, q, E)
        return q.copy()


def cd_path_naive(X, y, v, a, lambdas, beta0, tol, max_sweeps, exact, wide=None):
    """Elastic-net path keeping the residual (see :func:`naive_path`).

    One lambda from a nonzero warm start on a design with no more columns than rows (a bootstrap
    replicate's refit) goes by plain coordinate descent (:func:`regstats.solver.cd.warm_refit`): a
    few sweeps finish it, and it needs none of the active-set machinery's kernels, which a first
    run would otherwise compile for this one use (about 15 s).
    """
    if (lambdas.shape[0] == 1 and not exact and X.shape[1] <= X.shape[0] and lambdas[0] > 0.0
            and np.any(beta0 != 0.0)):
        return warm_refit(X, y, v, a, float(lambdas[0]), beta0, tol, max_sweeps)
    return naive_path(X, y, v, a, lambdas, beta0, tol, max_sweeps, exact, wide)


def naive_path(X: np.ndarray, y: np.ndarray, v: np.ndarray, a: float, lambdas: np.ndarray,
               beta0: np.ndarray, tol: float, max_sweeps: int, exact: bool, wide=None):
    """Elastic-net path on a prepared, Fortran-ordered X.

    ``wide``: optionally what the preparation computed in the same pass as X
    (:class:`regstats.engine.Wide`: x_j'x_j/n, X'y/n and the 16-bit copy of X), else computed here.
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
    if wide is None:
        xx = np.einsum("ij,ij->j", X, X) / n
        c = (X.T @ y) / n
    else:
        xx, c = wide.xx, wide.c
    yy = float(y @ y) / n
    beta = np.array(beta0, dtype=float, copy=True)
    if np.any(beta != 0):
        r = y - X @ beta
        q = (X.T @ r) / n
    else:
        r, q = y.copy(), c.copy()
    pen = (v > 0) & (xx > 0)
    lam_prev = float(np.max(np.abs(q[pen]) / (max(a, 1e-3) * v[pen]))) if pen.any() else 0.0
    if nlam:
        lam_prev = max(lam_prev, float(lambdas[0]))
    ever = (beta != 0) | ((v == 0) & (xx > 0))
    cache = _GramCache(X)
    fac = _Factor()
    free = (v == 0.0) | (a == 0.0)
    free = free if free.any() else None
    grad = _Gradient(X, xx, nlam, None if wide is None else wide.compact)
    target = tol * yy
    q_pp = q_end = None
    lam_pp = np.inf
    trust = True  # whether the last lambda's predicted entries mostly stayed
    viol = np.zeros(p, dtype=bool)
    guess_mask = np.zeros(p, dtype=bool)
    probe_mask = np.zeros(p, dtype=bool)
    for li in range(nlam):
        lam = float(lambdas[li])
        thr = lam * a * v
        strong = strong_rule(q, v, xx, ever, a, 2.0 * lam - lam_prev, np.empty(p, dtype=bool))
        guess = None
        probe = None
        if not trust:
            trust = True  # a lambda without predictions after a poor one, then try again
        elif _PREDICT_ENTRY and q_pp is not None and a > 0.0 and lam_pp > lam_prev > lam:
            # columns predicted to enter (q extrapolated linearly in lambda from the gradient
            # passes at the last two solutions, exact near the thresholds) join the first Newton
            # step, at the value of a coordinate step from the predicted q (at least a small
            # one); a wrong guess leaves again in that step (its sign flips), a missed one is
            # found by the KKT checks as before
            # (a lasso support has at most n - 1 columns; r is kept equal to y - X beta)
            room = max(0, n - 1 - np.count_nonzero(beta)) if a == 1.0 else p
            # the next band below the guesses is probed (not guessed: most stay out), checked
            # against KKT at the first Newton step's solution from their Gram entries
            m = guess_entries(X, r, q_end, q_pp, (lam - lam_prev) / (lam_prev - lam_pp), strong, beta,
                              thr, xx, lam * (1.0 - a) * v, _ENTRY_MARGIN, room, guess_mask,
                              _PROBE_MARGIN, probe_mask)
            if m:
                guess = guess_mask
            probe = np.flatnonzero(probe_mask)[:room - m]  # (entering probes keep within the room)
        tol_cd = target
        fac.rtol = 1e-15 if exact else _CG_RTOL
        loose = False
        nsw = 0
        exact_done = False
        g = np.inf
        settled = False  # whether the loop ended right after computing the gap of beta
        use_newton = True
        rounds = 0
        failures = 0
        while nsw < max_sweeps:
            status = -1
            ok = False
            if use_newton:
                # Newton first: warm-started from the previous lambda's support and signs it is
                # usually the exact solution already (the path is piecewise linear between
                # support changes); coordinate descent only brings in KKT violators
                rounds += 1
                status, r_new = _newton(X, y, c, v, a, lam, beta, cache, fac, free, guess, probe)
                probe = None
                if guess is not None:
                    # enough guesses should stay (they cost Gram entries and factor updates)
                    trust = np.count_nonzero(beta[guess]) >= _TRUST * np.count_nonzero(guess)
                    guess = None
                if status == 0:
                    # singular or too large a block: coordinate descent may shrink the support
                    # (a few sweeps, then Newton again); after repeated failures, plain CD
                    failures += 1
                    status = -1
                    if failures >= _NEWTON_FAILURES:
                        use_newton = False
                elif rounds > _NEWTON_ROUNDS:
                    use_newton = False  # cycling: plain CD
                    status = -1
                else:
                    r = r_new
                    loose = status == 2 and fac.loose
            if status == 2:
                # the zeros of the working set first: violators there get one coordinate step
                # each (so they join the support with the right sign), not a full pass
                wz = zero_members(strong, beta)
                grad.columns(r, wz, beta, thr, q)
                bad = wz[np.abs(q[wz]) > thr[wz] * (1.0 + 1e-10)]
                room = n - 1 - np.count_nonzero(beta) if a == 1.0 else bad.size
                if bad.size > room > 0:
                    # a lasso support has at most rank(X) <= n - 1 columns (X is centred; a
                    # larger block is singular): the strongest violators first
                    bad = bad[np.argsort(-np.abs(q[bad]) / thr[bad], kind="stable")[:room]]
                if bad.size:
                    k, ok = cd_naive(X, r, beta, v, a, lam, xx, bad, tol_cd, 1)
                    nsw += k
                    continue
                exact_done = not loose
            else:
                # no Newton step (or one stopped at sign changes): coordinate descent on the
                # working set, a few sweeps before the next Newton step
                budget = _CD_BUDGET if use_newton else max_sweeps
                k, ok = cd_naive(X, r, beta, v, a, lam, xx, np.flatnonzero(strong), tol_cd,
                                 min(budget, max_sweeps - nsw))
                nsw += k
                if use_newton:
                    continue
            known = None
            if exact_done or (loose and status == 2):
                # the Newton equations give the support's q (to rounding): not read from X; after
                # a looser conjugate-gradient solve, plus the system's residual (from its state)
                known = support_gradient(beta, v, a, lam, np.empty(p))
                if not exact_done:
                    rho = fac.system_residual()
                    if rho is None:
                        known = None  # (read them)
                    else:
                        known[fac.S] += rho
            q = grad(r, beta, thr, known)
            # exact on its support, optimal only if every zero coefficient passes KKT; columns
            # outside the working set that violate it join the set
            zeros_ok, nviol = kkt_scan(q, beta, thr, xx, strong, viol)
            exact_done = exact_done and zeros_ok
            if nviol:
                strong |= viol
                exact_done = False
                continue
            g, _, rs = _gap(beta, q, c, yy, v, a, lam)
            # an exact active-set solution that passes the KKT check is optimal to rounding
            if exact_done or (g <= target and (not exact or not use_newton)):
                settled = True
                break
            if loose and status == 2:
                # a conjugate-gradient solve stopped short of the target: refine it
                fac.rtol = max(fac.rtol * 1e-3, 1e-15)
                continue
            if status == 1:
                continue
            if ok:
                tol_cd *= 0.1
                if tol_cd < 1e-300:
                    settled = True
                    break
        if not settled:  # (the sweep budget ran out: the gap of the last beta)
            g, _, rs = _gap(beta, q, c, yy, v, a, lam)
        gaps[li] = g
        rss[li] = rs
        sweeps[li] = nsw
        conv[li] = g <= target or exact_done
        betas[li] = beta
        ever |= beta != 0
        q_pp, q_end = q_end, q.copy()
        lam_pp, lam_prev = lam_prev, lam
    return betas, gaps, rss, sweeps, conv
