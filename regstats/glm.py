"""Penalized binomial and Poisson paths on arrays: glmnet's IRLS scheme, made exact and fast.

The objective (glmnet's; :mod:`regstats.family`) is

    F(b0, b) = 1/(2n) sum_i w_i d(y_i, mu_i) + lam * sum_j v_j (a |b_j| + (1-a)/2 b_j^2)

on the design standardized once with the observation weights (so the penalty acts on the same
``sd_j b_j`` as for gaussian fits; there is no s_y).  The standardized design is formed once per
path; nothing is re-prepared per step.  Two solvers share the path loop (warm starts, sequential
strong rules, KKT checks on every column):

* the quasi-Newton solver (:class:`_QuasiNewton`, the default while the strong set has at most
  3000 columns): the quadratic model of the loss uses the weighted Gram matrix ``[1 X_T]' Q [1 X_T]/n``
  of the strong set T (BLAS ``ssyrk``), which is kept along the path -- extended by the rows of
  new columns (all columns at once when T reaches half of them), BFGS-updated after every step
  but one over T's columns that meets T's KKT conditions, rescaled to the exact diagonal at a
  lambda's start where a pass formed it (:func:`regstats.solver.glm_cd.rescale_model`), and
  formed afresh only when a step contracts the KKT violation by less than 5x (20x for a step
  over every column), or when that is cheaper than a pass over X.  The model is solved by
  covariance-update coordinate descent with feature-sign Newton solves on its nonzero set, whose
  Cholesky factor is kept across solves (:func:`regstats.solver.glm_cd.model_cd_f`); a step is
  then one pass over X (the new linear predictor and the exact gradient of every column, BLAS;
  of T's columns only while T is under a quarter of them, the rest's gradient -- predicted from
  the residual's change, or from a 16-bit copy of X, where that settles their KKT conditions --
  once T's conditions hold), halved if it
  raises F.  In that regime a lambda starts from the secant extrapolation of the last two
  solutions (:meth:`_QuasiNewton.predict`).
* glmnet's own scheme (:func:`regstats.solver.glm_cd.glm_lambda_naive`): weighted coordinate descent
  on the columns inside each IRLS step, for strong sets too large for a Gram matrix.

Both stop on the KKT conditions with the exact gradient: a fit is converged when the largest
violation is at most ``100 tol * lam`` (1e-5 lam at the default tol) -- at most ``1e-9 lam`` when
``tol <= 1e-9``, where the linear predictor is also recomputed from scratch before the check.
The IRLS weights are the exact ``w V(mu)`` (not glmnet's clipped ones), so Newton's steps stay
fast when classes separate.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import engine
from .family import Family
from .solver import glm_cd

__all__ = ["GLMSolution", "glm_path", "glm_kkt"]


@dataclass(frozen=True)
class GLMSolution:
    """A solved GLM path: standardized and original-scale coefficients, deviances."""

    lambdas: np.ndarray
    beta: np.ndarray          # n_lambda x p, standardized scale
    coef: np.ndarray          # n_lambda x p, original scale
    intercept: np.ndarray     # n_lambda (original scale)
    deviance: np.ndarray      # n_lambda: sum_i w_i d(y_i, mu_i) (w normalised to sum n)
    null_deviance: float      # of the intercept-only model (with offset)
    converged: np.ndarray
    iterations: np.ndarray    # IRLS steps per lambda
    x_mean: np.ndarray
    x_scale: np.ndarray
    v: np.ndarray             # rescaled penalty factors (inf: excluded)
    constant: np.ndarray      # coefficient fixed at 0
    #: why the path stopped before the last lambda of the default grid ("" if it did not)
    stop_reason: str = ""

    @property
    def dev_ratio(self) -> np.ndarray:
        """Fraction of the null deviance explained (glmnet's dev.ratio)."""
        return 1.0 - self.deviance / self.null_deviance


def _standardized(X: np.ndarray, y: np.ndarray, w: np.ndarray, penalty_factor, standardize: bool,
                  intercept: bool):
    """Column means, scales, constant columns and rescaled factors with the observation weights
    (the gaussian preparation's, so constant and excluded columns are the same), and Xs."""
    if np.all(w == 1.0) and X.ndim == 2 and X.shape[0] > 0:
        # unit weights: the wide preparation's one-pass kernel forms Xs itself, (x - m) / s
        # (problem B: 0.086 -> 0.03 s; numpy's (X - m) / s makes two copies of X)
        prep = engine._prepare_wide(np.asfortranarray(X, dtype=float), np.asarray(y, dtype=float), None, None,
                                    penalty_factor, standardize, intercept, compact=False)
        return prep.X, prep
    prep = engine.prepare(np.asarray(X, dtype=float), y, weights=w, penalty_factor=penalty_factor,
                          standardize=standardize, intercept=intercept, gram=False, compact=False)
    Xs = (np.asarray(X, dtype=float) - prep.x_mean[None, :]) / prep.x_scale[None, :]
    Xs[:, prep.constant] = 0.0
    return np.asfortranarray(Xs), prep


def _objective(fam: Family, y, w, eta_off, b, lam, a, v, n) -> float:
    live = np.isfinite(v)
    pen = float(np.sum(v[live] * (a * np.abs(b[live]) + 0.5 * (1.0 - a) * b[live] ** 2)))
    return fam.deviance(y, fam.mean(eta_off), w) / (2.0 * n) + lam * pen


def glm_kkt(fam: Family, Xs: np.ndarray, y: np.ndarray, w: np.ndarray, offset: np.ndarray, b0: float,
            b: np.ndarray, lam: float, a: float, v: np.ndarray, constant: np.ndarray,
            intercept: bool = True) -> float:
    """Largest violation of the KKT conditions at (b0, b) on the standardized scale, relative to
    lam (the intercept's condition relative to the gradient's size)."""
    n = len(y)
    mu = fam.mean(b0 + Xs @ b + offset)
    r = w * (y - mu)
    g = -(Xs.T @ r) / n
    live = ~constant
    vv = np.where(live, v, 0.0)
    g = g + lam * (1.0 - a) * vv * b
    pen = live & (vv > 0)
    z = pen & (b == 0)
    nz = pen & (b != 0)
    viol = np.zeros_like(g)
    viol[z] = np.maximum(np.abs(g[z]) - lam * a * vv[z], 0.0)
    viol[nz] = np.abs(g[nz] + lam * a * vv[nz] * np.sign(b[nz]))
    viol[live & ~pen] = np.abs(g[live & ~pen])
    worst = _per_lam(float(viol.max(initial=0.0)), lam)
    if intercept:
        worst = max(worst, _per_lam(abs(float(r.sum())) / n, lam))
    return worst


def _per_lam(violation: float, lam: float) -> float:
    """A KKT violation relative to lam; at lam = 0 (the unpenalized fit) the violation itself."""
    return violation / lam if lam > 0 else violation


def _null_fit(fam: Family, Xs, y, w, offset, free, intercept):
    """The unpenalized fit on the intercept and the unpenalized columns (IRLS, exact)."""
    n = len(y)
    cols = [np.ones(n)] if intercept else []
    cols += [Xs[:, j] for j in free]
    if not cols:
        return 0.0, np.zeros(Xs.shape[1])
    A = np.column_stack(cols)
    theta = np.zeros(A.shape[1])
    if intercept:
        theta[0] = fam.start(y, w) - (float(w @ offset) / float(w.sum()) if np.any(offset) else 0.0)
    converged = False
    for _ in range(100):
        eta = A @ theta + offset
        mu = fam.mean(eta)
        var = fam.variance(mu)
        zq = A @ theta + (y - mu) / var
        sq = np.sqrt(w * var)
        new, *_ = np.linalg.lstsq(A * sq[:, None], zq * sq, rcond=None)
        if not np.all(np.isfinite(new)):
            break
        if np.max(np.abs(new - theta)) <= 1e-13 * (1.0 + np.max(np.abs(theta))):
            theta, converged = new, True
            break
        theta = new
    if not converged and free.size:
        # (IRLS converges in a few steps when the fit exists; without one, the linear predictor runs off
        # to +-inf along a direction of the unpenalized columns, and so would every penalized fit)
        from .errors import DataError

        what = ("the classes are separated by them: some linear combination predicts every class exactly"
                if fam.name == "binomial" else
                "they fit some zero counts exactly: their linear predictor runs to -inf")
        raise DataError(f"the unpenalized part of the model ({'the intercept and ' if intercept else ''}"
                        f"{free.size} column(s) with penalty factor 0) has no maximum-likelihood fit: {what}, "
                        "so no penalized fit exists either; give those columns a penalty factor > 0, or use "
                        "fewer of them")
    b = np.zeros(Xs.shape[1])
    b[free] = theta[int(intercept):]
    return (float(theta[0]) if intercept else 0.0), b


def _hessian_weights(fam_code: int, eta: np.ndarray) -> np.ndarray:
    """V(mu(eta)), the exact Hessian's weights (glm_cd._var_exact, vectorized)."""
    if fam_code == 0:
        z = np.exp(-np.abs(eta))
        return z / ((1.0 + z) * (1.0 + z))
    return np.maximum(np.exp(np.minimum(eta, 700.0)), 1e-300)


#: coordinate sweeps of the model before its first Newton solve on the nonzero set, and between
#: later ones (feature-sign search, O(k^2) per sign change; before it a dense LU solve every 32
#: sweeps took 1.8 s binomial / 10.7 s Poisson on problem A, with it (4, 8) ~1.8 / 6.4 s before
#: the other changes; (8, 16), (32, 16), (2, 8) within the noise while each solve factorized afresh.
#: With the face's factor kept (an update, O(k^2)), (1, 2) saves a fifth of the model's time on
#: problem A against (4, 8): the sweeps, each O(k m), are the larger cost)
_FIRST_NEWTON = 1
_NEWTON_EVERY = 2


class _QuasiNewton:
    """The quasi-Newton solver's state along a path (see the module docstring): the strong set ``T``
    (it only grows), its weighted Gram matrix ``H`` with the intercept's column ``h`` and corner
    ``h00``, and scratch for the steps.  ``passes``, ``refreshes``, ``extends`` count the work."""

    #: above this many strong columns the coordinate-descent solver on the columns is used
    MAX_T = 3000

    def __init__(self, Xs, y, w, off, fam_code, kind, vv, a, intercept):
        self.Xs, self.y, self.w, self.off = Xs, y, w, off
        self.fam, self.kind, self.vv, self.a, self.intercept = fam_code, kind, vv, a, intercept
        n = Xs.shape[0]
        self.T = np.zeros(0, dtype=np.int64)
        self.inT = np.zeros(Xs.shape[1], dtype=bool)
        # T's columns, gathered (see xt)
        self.XT, self.xt_m, self.pos = None, 0, None
        self.use_xt = Xs.size <= 50_000_000
        self.n_live = max(int(np.count_nonzero(kind)), 1)
        self.H = None
        # H's room: H is Hbuf[:m], the first m columns of those rows being T's Gram matrix (the
        # kernels read only those), so that an extension writes its rows in place
        self.Hbuf = None
        self.eta2 = np.empty(n)
        self.g2 = np.empty(Xs.shape[1])
        self.r = np.empty(n)
        self.refreshes = 0
        self.extends = 0
        # the Cholesky factor of the model's face, kept across its Newton solves (glm_cd.new_factor)
        self.U, self.face, self.fst = glm_cd.new_factor(0)
        self.passes = 0
        self.scratch = (np.empty(n), np.empty(n)) if n >= 4096 else None
        self.gbuf = None                        # sqrt(q) X_T in single precision, for refresh
        self.grad16 = None                      # full_gradient's gradient passes (naive._Gradient, or False)
        self.zeros = np.zeros(Xs.shape[1])
        #: whether some entries of g are stand-ins (predicted or 16-bit values that settled KKT
        #: conditions at the last lambda) or stale (outside T after a predicted warm start)
        self.g_rounded = False
        # single-precision steps on tall designs (see solve): X's copy, the exact gradient g_base
        # at the residuals r_base of the last double-precision pass, whether eta carries the
        # rounding of single-precision steps, and the last lambda's step count
        self.tall = n >= 4096 and Xs.size <= 100_000_000
        self.X32, self.g_base, self.r_base = None, None, None
        self.drift = False
        self.k_prev = 1
        # the diagonal of X's weighted Gram matrix at eta from the last exact pass over every column
        # (tall designs), and whether eta is still that pass's
        self.dg, self.dg_h00, self.dg_ok = np.empty(Xs.shape[1]), 0.0, False

    def refresh(self, eta):
        """The weighted Gram matrix of T at eta, in single precision (it only shapes the steps; the
        gradient, and so the fixed point, is exact)."""
        from scipy.linalg.blas import ssyrk

        n = self.Xs.shape[0]
        self.fst[0] = -1.0
        if self.T.size == 0:
            self.H, self.h = np.zeros((0, 0)), np.zeros(0)
            self.h00 = float(self.w @ _hessian_weights(self.fam, eta)) / n
            return
        m = self.T.size
        if self.gbuf is None or self.gbuf.shape[0] < m:   # (kept: a fresh one costs page faults)
            # (every column's room at once on tall designs, where T grows to all of them)
            live = max(int(np.count_nonzero(self.kind)), m)
            self.gbuf = np.empty((live if self.X32 is not None else min(2 * m, live), n), dtype=np.float32)
        XT = self.gbuf[:m].T
        q = self.w * _hessian_weights(self.fam, eta)
        # (from X's float32 copy when there is one: half the bytes, and XT is single precision)
        glm_cd.weighted_gram_inputs(self.Xs if self.X32 is None else self.X32, self.T, np.sqrt(q), XT)
        self._room(m, 0)
        glm_cd.symmetric_into(ssyrk(1.0 / n, XT, trans=1, lower=0), self.Hbuf)
        self.H = self.Hbuf[:m]
        self.h = (XT.T @ np.sqrt(q).astype(np.float32)).astype(float) / n
        self.h00 = float(q.sum()) / n
        self.refreshes += 1

    def step_pass(self, eta_old, T, dT, d0, t, full=True, fast=False, b_new=None, b0_new=0.0):
        """eta2 = eta_old + t (d0 + X_T dT); r = w (y - mu); g2 = X'r / n (every column, or only
        T's when not ``full``); returns (loss, sum(r) / n).  X_T dT by BLAS when it moves 2/3 of the
        columns, else column by column (only those it moves).  ``fast``: both passes over the
        single-precision copy of X, g2 = g_base + X32'(r - r_base) / n.  After fast steps
        (``drift``) eta2 is formed afresh, b0_new + X b_new + offset, at the same cost."""
        X, r, eta2, g2 = self.Xs, self.r, self.eta2, self.g2
        n, p = X.shape
        if fast:
            dfull = np.zeros(p)
            dfull[T] = dT
            glm_cd.add_columns32(self.X32, dfull, t, d0, eta_old, eta2)
            loss, s0 = self.rows(eta2)
            glm_cd.gradient32(self.X32, r, self.r_base, self.g_base, float(n), g2)
            return loss / n, s0 / n
        if self.drift:
            np.dot(X, b_new, out=eta2)
            eta2 += b0_new
            eta2 += self.off
        elif 3 * np.count_nonzero(dT) >= 2 * p:
            dfull = np.zeros(p)
            dfull[T] = t * dT
            np.dot(X, dfull, out=eta2)
            eta2 += eta_old
            eta2 += t * d0
        else:
            src, pos = self.xt() if self.X32 is None else (X, T)
            glm_cd.add_columns(src, pos, dT, t, d0, eta_old, eta2)
        loss, s0 = self.rows(eta2)
        if full:
            self.exact_gradient(eta2, g2)
            if self.X32 is not None:
                self.g_base, self.r_base = g2.copy(), r.copy()
        else:
            self.gradient_T()
        return loss / n, s0 / n

    def certify(self, b, b0, eta, g):
        """The double-precision passes after single-precision steps: eta = b0 + X b + offset
        afresh, g = X'r / n (the base of the next fast steps); returns (g0, loss)."""
        X, n = self.Xs, self.Xs.shape[0]
        np.dot(X, b, out=eta)
        eta += b0
        eta += self.off
        loss, s0 = self.rows(eta)
        self.exact_gradient(eta, g)
        self.g_base, self.r_base = g.copy(), self.r.copy()
        self.drift = False
        self.dg_ok = self.tall
        self.passes += 1
        return s0 / n, loss / n

    def exact_gradient(self, eta, g):
        """g = X'r / n in double precision (r: the residuals at eta); on tall designs with, from the
        same pass, the diagonal of X's weighted Gram matrix at eta (``dg``, ``dg_h00``), to which the
        next lambda rescales H (:func:`regstats.solver.glm_cd.gradient_curvature_all`, faster
        than BLAS's X'r alone at 50000 x 200)."""
        X, n = self.Xs, self.Xs.shape[0]
        if not self.tall:
            np.dot(X.T, self.r, out=g)
            g /= n
            return
        q = self.w * _hessian_weights(self.fam, eta)
        glm_cd.gradient_curvature_all(X, self.r, q, g, self.dg)
        self.dg_h00 = float(q.sum()) / n

    def gradient_T(self):
        """g2[T] = X_T'r / n (r: the last step's residuals)."""
        src, pos = self.xt()
        if src is self.Xs:
            glm_cd.partial_gradient(src, self.r, pos, self.g2)
        else:
            gT = np.empty(pos.size)
            glm_cd.partial_gradient(src, self.r, pos, gT)
            self.g2[self.T] = gT

    def gradient_rescale(self, eta):
        """:meth:`gradient_T`, and in the same pass the diagonal of T's weighted Gram matrix at eta
        (r: the residuals at eta), to which the model matrix is rescaled, S H S with S diagonal,
        keeping the correlations the BFGS updates built (:func:`regstats.solver.glm_cd.rescale_model`;
        the face's factor is scaled along, O(k^2)).  Along a path most weights shrink by ~2% per
        lambda late on problem A, and some columns' curvature by much more; the BFGS updates only
        follow it along the steps."""
        src, pos = self.xt()
        m = pos.size
        q = self.w * _hessian_weights(self.fam, eta)
        gT, dg = np.empty(m), np.empty(m)
        glm_cd.gradient_curvature(src, self.r, q, pos, gT, dg)
        self.g2[self.T] = gT
        self.rescale(dg, float(q.sum()) / self.Xs.shape[0])

    def rescale(self, dg_T, h00):
        """H := S H S (and h, h00 along) with S diagonal, so that its diagonal is ``dg_T``, the exact
        one of T's weighted Gram matrix, and its intercept entry ``h00``; the face's factor is scaled
        along (:func:`regstats.solver.glm_cd.rescale_model`)."""
        h00a = np.array([self.h00])
        glm_cd.rescale_model(self.H, self.h, h00a, dg_T, h00, self.U, self.face, self.fst, self.a == 1.0)
        self.h00 = float(h00a[0])

    def rows(self, eta):
        """r = w (y - mu(eta)); returns (sum w (b(eta) - y eta), sum r).  numpy's vectorized
        exp/log1p for many rows (problem B: 0.33 ms against 0.97 for the scalar loop of
        :func:`regstats.solver.glm_cd.rows_sums`, which serves small n)."""
        y, w, r, n = self.y, self.w, self.r, self.y.shape[0]
        if n < 4096:
            return glm_cd.rows_sums(self.fam, y, w, eta, r, 0, n)
        z, t = self.scratch
        if self.fam == 0:
            np.abs(eta, out=z)
            np.negative(z, out=z)
            np.exp(z, out=z)                               # e^-|eta|
            np.add(z, 1.0, out=t)
            np.reciprocal(t, out=t)                        # 1 / (1 + e^-|eta|)
            np.subtract(y, np.where(eta >= 0.0, t, z * t), out=r)
            np.log1p(z, out=z)
            np.maximum(eta, 0.0, out=t)
            z += t                                         # b(eta) = max(eta, 0) + log1p(e^-|eta|)
        else:
            np.minimum(eta, 700.0, out=z)
            np.exp(z, out=z)                               # mu = b(eta)
            np.subtract(y, z, out=r)
        np.multiply(y, eta, out=t)
        z -= t
        r *= w
        return float(w @ z), float(r.sum())

    def full_gradient(self, g, lam):
        """g = X'r / n for the columns outside T at the last step's residuals (T's are current), by
        the gaussian path's gradient passes (:class:`regstats.solver.naive._Gradient`): a column
        whose KKT condition is settled strictly inside its threshold by the change of r predicted
        from the last passes' residuals (r moves in nearly the same direction from one lambda to
        the next), or by a 16-bit copy of X, gets a stand-in value there; the others are computed
        in double precision.  T's columns (and the constant ones) are passed as known, not read.
        The copy is made on the first call."""
        X, n = self.Xs, self.Xs.shape[0]
        if self.grad16 is None:
            from .solver.naive import _Gradient
            from .solver.standardize import wants_compact

            if not wants_compact(*X.shape):
                self.grad16 = False
            else:
                xx = np.einsum("ij,ij->j", X, X) / n
                self.grad16 = _Gradient(X, xx, passes=5)
        cols = np.flatnonzero(~self.inT & (self.kind != 0))
        if self.grad16 is False or self.grad16.X16 is None:
            if cols.size:
                g[cols] = X[:, cols].T @ self.r / n
            return
        known = (self.inT | (self.kind == 0)).astype(float)   # (nonzero: not read)
        q = self.grad16(self.r, known, lam * self.a * self.vv, known=self.zeros)
        g[cols] = q[cols]
        self.g_rounded = True

    def cheap(self, m=None) -> bool:
        """Whether a fresh Gram matrix (of T, or of m columns) costs less than a pass over X (BLAS
        runs some 8 times faster than the memory-bound passes)."""
        m, p = self.T.size if m is None else m, max(int(np.count_nonzero(self.kind)), 1)
        return m * m / 16.0 + m <= p

    def extend(self, cols, eta):
        """Add columns to T, at its end (the positions of the others, and so the face's factor,
        stay): their rows of the Gram matrix at eta (the rest is kept), from a copy of T's
        columns that grows with it (``XT``; a fresh gather of 750 columns cost more than the
        product); or, when they are a quarter of T or more or the new T's Gram matrix is cheap,
        a fresh one.  Returns whether it formed a fresh one."""
        new = np.asarray(cols, dtype=np.int64)
        new = new[~self.inT[new]]
        if new.size == 0:
            return False
        live = np.flatnonzero(self.kind != 0)
        if 2 * (self.T.size + new.size) >= live.size:
            # T is most columns: take them all in with one fresh Gram matrix (cheaper than the rows
            # of the ~p/2 columns still to come, each a pass over X)
            new = live[~self.inT[live]]
        m2 = self.T.size + new.size
        if new.size * 4 >= self.T.size or 2 * m2 >= live.size or self.cheap(m2):
            self.set_T(np.concatenate([self.T, new]))
            self.refresh(eta)
            return True
        X = self.Xs
        n = X.shape[0]
        m, k = self.T.size, new.size
        q = self.w * _hessian_weights(self.fam, eta)
        if self.X32 is not None:
            # (tall, every column read at each step: the new rows from X's float32 copy, one
            # product with every column, rather than growing the copy of T's columns)
            Xq = self.X32[:, new] * q[:, None].astype(np.float32)
            C = (Xq.T @ self.X32)[:, np.concatenate([self.T, new])].astype(float) / n
            self._add_rows(C, Xq.sum(axis=0, dtype=float) / n, new)
            return False
        XT, _ = self.xt(m + k)
        if XT is not X:
            XT[:, m:m + k] = X[:, new]
            self.xt_m = m + k
            XA = XT[:, :m + k]
        else:
            XA = X[:, np.concatenate([self.T, new])]
        Xq = XA[:, m:] * q[:, None]
        self._add_rows((Xq.T @ XA) / n, Xq.sum(axis=0) / n, new)
        return False

    def _add_rows(self, C, hc, new):
        """T := T + new, with the new columns' rows C of the Gram matrix (against T and new) and
        their intercept entries hc."""
        m, k = self.T.size, new.size
        self._room(m + k, m)
        H = self.Hbuf[:m + k]
        H[m:, :m + k] = C
        H[:m, m:m + k] = C[:, :m].T
        self.set_T(np.concatenate([self.T, new]))
        self.H = H
        self.h = np.concatenate([self.h, hc])
        self.extends += 1

    def _room(self, m2, keep):
        """Room in ``Hbuf`` for m2 columns (twice that when it grows, up to every live column),
        with H's first ``keep`` rows and columns kept."""
        if self.Hbuf is not None and self.Hbuf.shape[0] >= m2:
            return
        cap = min(2 * m2, max(int(np.count_nonzero(self.kind)), m2))
        buf = np.empty((cap, cap))
        if keep:
            buf[:keep, :keep] = self.H[:, :keep]
        self.Hbuf = buf

    def xt(self, room=0):
        """(source, positions) of T's columns for the passes over them: the copy ``XT`` of T's
        columns kept while T is under half of them (filled up to T, with room for ``room``
        columns; contiguous columns read some 25% faster than scattered ones of X, and an
        extension gathers only its new columns), else X itself and T."""
        if not self.use_xt or 2 * max(self.T.size, room) >= self.n_live:
            return self.Xs, self.T
        X = self.Xs
        m = self.T.size
        if self.XT is None or self.XT.shape[1] < max(m, room):
            XT = np.empty((X.shape[0], min(2 * max(m, room) + 16, self.n_live // 2 + 1)), order="F")
            if self.xt_m:
                XT[:, :self.xt_m] = self.XT[:, :self.xt_m]
            self.XT = XT
            self.pos = np.arange(XT.shape[1], dtype=np.int64)
        if self.xt_m < m:
            self.XT[:, self.xt_m:m] = X[:, self.T[self.xt_m:]]
            self.xt_m = m
        return self.XT, self.pos[:m]

    def set_T(self, T):
        """T (it only grows, at its end) and its mask."""
        self.T = T.astype(np.int64)
        self.inT[self.T] = True

    def bfgs(self, s, g, g0, ng0):
        """The BFGS update of the Gram matrix (with its intercept row) by the step s = (d, d0) and
        the change of the loss gradient over it, so that the model keeps up with the path."""
        T = self.T
        m = T.size
        yv = np.empty(m + 1)
        yv[:m] = g[T] - self.g2[T]
        yv[m] = (g0 - ng0) if self.intercept else 0.0
        if not self.intercept:
            s = s.copy()
            s[m] = 0.0
        h00a = np.array([self.h00])
        glm_cd.bfgs_update(self.H, self.h, h00a, s, yv, self.U, self.face, self.fst)
        self.h00 = float(h00a[0])

    def grow(self, m):
        """Room in the factor's buffer for a face of m columns and the intercept (the factor held
        is copied)."""
        k = max(int(self.fst[0]), 0)
        U, face, fst = glm_cd.new_factor(max(m, min(2 * self.U.shape[0], self.MAX_T)))
        U[:k, :k] = self.U[:k, :k]
        face[:k] = self.face[:k]
        fst[:] = self.fst
        self.U, self.face, self.fst = U, face, fst

    def predict(self, lam, rho, b, b_prev, b0a, b0_prev, eta, eta_prev, g, g0, loss):
        """Move the warm start along the path, while T is a small part of the columns: the secant
        extrapolation ``b + rho (b - b_prev)`` on T (coefficients that would cross 0, or stay at
        0, are set to 0) and likewise the linear predictor from the last two (X's columns read only
        for those set to 0); kept when it lowers the penalized objective at lam, with the gradient
        of T's columns there and, from the same pass, the diagonal of their weighted Gram matrix,
        to which H is rescaled (:meth:`gradient_rescale`).  One Newton step less on most lambdas
        of problem A.  (A BFGS update of H by the move saved 4 of 223 steps and cost 98 updates of
        ~0.3 ms; the rescaling saves 18 of 216 steps and 3 of 50 refreshes.)  Returns (g0, loss)."""
        T, X, n = self.T, self.Xs, self.Xs.shape[0]
        if T.size == 0 or 4 * T.size >= max(int(np.count_nonzero(self.kind)), 1) or self.H is None:
            return g0, loss
        bT = b[T]
        u = bT + rho * (bT - b_prev[T])
        clip = ((u * bT < 0.0) | (bT == 0.0)) & (self.kind[T] == 1)
        eta2 = self.eta2
        np.subtract(eta, eta_prev, out=eta2)
        eta2 *= rho
        eta2 += eta
        if clip.any():
            glm_cd.add_columns(X, T[clip], -u[clip], 1.0, 0.0, eta2, eta2)
            u[clip] = 0.0
        b0n = b0a[0] + rho * (b0a[0] - b0_prev) if self.intercept else b0a[0]
        r_old = self.r.copy()
        nl, s0 = self.rows(eta2)
        nl /= n
        s0 /= n
        bt = b.copy()
        bt[T] = u
        if nl + self.penalty(bt, lam) > loss + self.penalty(b, lam):
            self.r[:] = r_old
            return g0, loss
        self.gradient_rescale(eta2)
        b[:] = bt
        b0a[0] = b0n
        eta[:] = eta2
        g[T] = self.g2[T]
        self.g_rounded = True                # the others' entries are from the last lambda
        return s0, nl

    def penalty(self, b, lam):
        """The penalty at b, summed over T (every nonzero coefficient is in T when it is called:
        T holds the strong set, which holds every column ever nonzero; vv is 0 off kind 1)."""
        return lam * glm_cd.penalty_on(b, self.T, self.vv, self.a)

    def solve(self, lam, strong, b, b0a, eta, g, g0, loss, limit, max_iter, exact):
        """One lambda, warm; returns (steps, converged, g0, loss, worst / lam)."""
        kind, vv, a, icpt = self.kind, self.vv, self.a, self.intercept
        if a < 1.0:
            self.fst[0] = -1.0              # the ridge part of the face's diagonal changed with lam
        worst = glm_cd.kkt_worst(g, g0, b, vv, kind, a, lam, icpt)
        if worst <= limit and self.g_rounded:
            # the rounded entries settled the conditions at the last lambda, not at this one
            g0 = glm_cd.full_gradient(self.Xs, self.y, self.w, eta, self.fam, kind, g, self.r)
            self.g_rounded = False
            worst = glm_cd.kkt_worst(g, g0, b, vv, kind, a, lam, icpt)
        if worst <= limit:
            return 0, True, g0, loss, _per_lam(worst, lam)
        S = np.flatnonzero(strong)
        if self.H is None:
            self.set_T(S)
            self.refresh(eta)
        else:
            if not self.extend(S, eta) and self.cheap():
                self.refresh(eta)
        steps = 0
        ok = False
        live = max(int(np.count_nonzero(kind)), 1)
        g_full = True
        # tall designs, every column read at each step: the first k_prev - 1 steps (k_prev, the
        # last lambda's step count) are single-precision passes over a float32 copy of X, the
        # rest double precision (eta formed afresh: no rounding carried); a lambda is always
        # certified by a double-precision gradient
        full_steps = self.tall and not exact and 4 * self.T.size >= live
        if full_steps and self.X32 is None:
            self.X32 = self.Xs.astype(np.float32, order="F")
        if full_steps and self.dg_ok:
            # (eta is the last exact pass's: H rescaled to the diagonal formed there, as a predicted
            # warm start does while T is small)
            self.rescale(self.dg[self.T], self.dg_h00)
        while steps < max_iter:
            steps += 1
            T = self.T
            m = T.size
            # while T is a small part of the columns, a step reads only T's (the gradient of the
            # rest is formed once T's KKT conditions hold, to check them and find new columns)
            partial = 4 * m < live
            d = np.zeros(m + 1)
            bT = b[T]
            if self.U.shape[0] < m + 1:
                self.grow(m)
            glm_cd.model_cd_f(self.H, self.h, self.h00, g[T], g0, bT, vv[T], kind[T], a, lam, d,
                              max(0.1 * limit, 1e-4 * worst), 100_000, icpt, _NEWTON_EVERY,
                              _FIRST_NEWTON, self.U, self.face, self.fst)
            F_old = loss + self.penalty(b, lam)
            t = 1.0
            fast = full_steps and not partial and steps < self.k_prev and self.g_base is not None
            while True:
                bt = b.copy()
                bt[T] = bT + t * d[:m]
                nl, ng0 = self.step_pass(eta, T, d[:m], d[m], t, full=not partial, fast=fast, b_new=bt,
                                         b0_new=b0a[0] + t * d[m])
                self.passes += 1
                F_new = nl + self.penalty(bt, lam)
                if F_new <= F_old + 1e-13 * abs(F_old) or t < 1e-6:
                    break
                t *= 0.5
            b[:] = bt
            b0a[0] += t * d[m]
            if partial:
                # T's KKT conditions after the step; one that meets them (the last step of most
                # lambdas) does not update H: on problem A that saved 7 of 223 steps as well as
                # ~100 updates of ~0.3 ms (on tall designs, where steps read every column, it cost
                # 3 steps of 139)
                new_T = glm_cd.kkt_worst(self.g2[T], ng0, b[T], vv[T], kind[T], a, lam, icpt)
                if new_T > limit:
                    self.bfgs(t * d, g, g0, ng0)
            else:
                self.bfgs(t * d, g, g0, ng0)
            eta[:] = self.eta2
            self.drift = fast                   # (an exact step forms eta afresh)
            self.dg_ok = self.tall and not partial and not fast
            if partial:
                g[T] = self.g2[T]
            else:
                g[:] = self.g2
            g_full = not partial
            g0, loss = ng0, nl
            if exact and steps % 8 == 0:
                glm_cd.fresh_eta(self.Xs, b0a[0], b, self.off, eta)
                g0 = glm_cd.full_gradient(self.Xs, self.y, self.w, eta, self.fam, kind, g, self.r)
                g_full = True
            if not g_full:
                new = new_T
                if new > limit:
                    if new > 0.2 * worst or t < 1.0:
                        self.refresh(eta)
                    worst = new
                    continue
                self.full_gradient(g, lam)
                g_full = True
            new = glm_cd.kkt_worst(g, g0, b, vv, kind, a, lam, icpt)
            if new <= limit and fast:
                g0, loss = self.certify(b, b0a[0], eta, g)
                new = glm_cd.kkt_worst(g, g0, b, vv, kind, a, lam, icpt)
            if new <= limit:
                if exact:
                    glm_cd.fresh_eta(self.Xs, b0a[0], b, self.off, eta)
                    g0 = glm_cd.full_gradient(self.Xs, self.y, self.w, eta, self.fam, kind, g, self.r)
                    new = glm_cd.kkt_worst(g, g0, b, vv, kind, a, lam, icpt)
                if new <= limit:
                    worst, ok = new, True
                    break
            outside = ~self.inT & (kind != 0)
            if outside.any():
                gj = np.abs(g[outside])
                over = gj > a * vv[outside] * lam + limit if a > 0 else gj > limit
                if over.any():
                    self.extend(np.flatnonzero(outside)[over], eta)
                    worst = new
                    continue
            if new > (0.02 if self.cheap() else 0.05) * worst or t < 1.0:
                self.refresh(eta)
            worst = new
        if self.drift:
            g0, loss = self.certify(b, b0a[0], eta, g)
            g_full = True
            worst = glm_cd.kkt_worst(g, g0, b, vv, kind, a, lam, icpt)
        if not g_full:
            self.full_gradient(g, lam)
            worst = glm_cd.kkt_worst(g, g0, b, vv, kind, a, lam, icpt)
        if full_steps:
            self.k_prev = steps
        return steps, ok, g0, loss, _per_lam(worst, lam)


def _kkt_tol(tol: float) -> float:
    """The KKT target (relative to lam) of a tolerance: ``100 tol`` (1e-5 at the default 1e-7), and
    at most 1e-9 when ``tol <= 1e-9`` (an exact fit)."""
    return 100.0 * tol if tol > 1e-9 else min(1e-9, 100.0 * tol)


def glm_path(X: np.ndarray, y: np.ndarray, family: Family, *, weights: np.ndarray | None = None,
             offset: np.ndarray | None = None, penalty_factor: np.ndarray | None = None,
             standardize: bool = True, intercept: bool = True, l1_ratio: float = 1.0,
             lambdas: np.ndarray | None = None, n_lambda: int = 100, lambda_min_ratio: float | None = None,
             tol: float = 1e-7, max_iter: int = 100, fdev: float = 0.0, devmax: float = 0.999,
             max_sweeps: int = 1_000_000, solver: str = "auto", standardized: tuple | None = None) -> GLMSolution:
    """A penalized GLM path (see the module docstring).

    ``lambdas`` default to glmnet's grid: ``lam_max`` from the gradient of the null model (intercept
    and unpenalized columns) on the standardized columns, divided by ``max(a, 1e-3) v_j``, then
    ``n_lambda`` values log-spaced down to ``lambda_min_ratio * lam_max`` (1e-4 when n >= p, else
    1e-2).  ``max_iter`` bounds the IRLS steps per lambda, ``max_sweeps`` the coordinate sweeps.

    A fit is converged when its KKT conditions hold to ``100 tol * lam`` (1e-5 lam at the default;
    at most 1e-9 lam when ``tol <= 1e-9``).  On the default grid the path stops, as glmnet's does,
    once the deviance ratio exceeds ``devmax`` (0.999: the classes are (nearly) separated, with a
    :class:`~regstats.errors.ConvergenceWarning`) or, from the fifth lambda on, grows by less than
    ``fdev`` (glmnet's default is 1e-5; ours 0, never); ``stop_reason`` says which.  Given
    ``lambdas`` are all fitted.  ``solver``: ``"auto"`` (the quasi-Newton solver while the strong
    set has at most ``_QuasiNewton.MAX_T`` columns, then glmnet's scheme), ``"qn"`` or ``"naive"``.
    ``standardized``: ``(Xs, stats)`` of :func:`_standardized` for these rows, from a caller that
    standardized them already (:class:`regstats.glm_model.GLMModel`), so it is not done twice.
    """
    from .errors import ConvergenceWarning, ParameterError, warn

    if solver not in ("auto", "qn", "naive"):
        raise ParameterError(f"solver must be 'auto', 'qn' or 'naive'; got {solver!r}")

    fam = family
    y = fam.check_response(y)
    n, p = X.shape
    w = engine.normalise_weights(weights, n)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    a = float(l1_ratio)
    # (a caller that standardized these rows already passes (Xs, stats with x_mean, x_scale, v, constant))
    if standardized is None:
        Xs, prep0 = _standardized(X, y, w, penalty_factor, standardize, intercept)
    else:
        Xs, prep0 = standardized
    v, constant = prep0.v, prep0.constant
    free = np.flatnonzero((v == 0) & ~constant)
    b0, b = _null_fit(fam, Xs, y, w, off, free, intercept)
    eta = b0 + Xs @ b + off
    mu0 = fam.mean(eta)
    # the null deviance: intercept only (with offset), as glmnet; the fit above when all are penalized
    c0 = b0 if free.size == 0 else _null_fit(fam, Xs, y, w, off, np.array([], dtype=int), intercept)[0]
    null_dev = fam.deviance(y, fam.mean(c0 + off), w)
    g = Xs.T @ (w * (y - mu0)) / n                   # X'w(y - mu)/n: minus the loss gradient
    pen = (v > 0) & ~constant
    lmax = float(np.max(np.abs(g[pen]) / (max(a, 1e-3) * v[pen]))) if pen.any() else 0.0
    default_grid = lambdas is None
    if default_grid:
        ratio = engine.default_min_ratio(n, p) if lambda_min_ratio is None else float(lambda_min_ratio)
        lambdas = lmax * ratio ** (np.arange(n_lambda) / max(n_lambda - 1, 1))
    lambdas = np.asarray(lambdas, dtype=float)
    L = len(lambdas)
    beta = np.zeros((L, p))
    b0s = np.zeros(L)
    dev = np.zeros(L)
    conv = np.ones(L, dtype=bool)
    its = np.zeros(L, dtype=np.int64)
    kind = np.where(constant, 0, np.where(v == 0, 2, 1)).astype(np.int8)
    vv = np.where(kind == 1, v, 0.0)
    fam_code = 0 if fam.name == "binomial" else 1
    kkt_tol = _kkt_tol(tol)
    exact = tol <= 1e-9
    floor = 1e-13 * max(float(np.max(np.abs(g), initial=0.0)), 1e-300)
    b0a = np.array([b0])
    ever = kind == 2
    work = np.empty((4, n))
    lam_prev = max(lmax, float(lambdas[0])) if L else 0.0
    stop = ""
    last = L
    qn = _QuasiNewton(Xs, y, w, off, fam_code, kind, vv, a, bool(intercept))
    g0 = float(np.sum(w * (y - mu0))) / n
    loss = glm_cd._objective(fam_code, y, w, eta, b, vv, kind, a, 0.0)
    # the deviance from the loss 1/n sum w (b(eta) - y eta) that the solvers keep: 2 n loss + this
    from scipy.special import xlogy
    dev_const = 2.0 * float(w @ (xlogy(y, y) + xlogy(1.0 - y, 1.0 - y) if fam_code == 0 else xlogy(y, y) - y))
    eta_prev = np.empty(n)
    pred_ok = False
    for k, lam in enumerate(lambdas):
        if a > 0:
            strong = ever | ((kind == 1) & (np.abs(g) >= a * vv * (2.0 * lam - lam_prev)))
        else:
            strong = kind != 0
        limit = kkt_tol * lam + floor
        if solver == "qn" or solver == "auto" and np.count_nonzero(strong | qn.inT) <= qn.MAX_T:
            eta_sol = eta.copy()
            # (the last two lambdas' solutions, both by this solver: a predicted warm start)
            if pred_ok and conv[k - 2] and not exact and 0.0 < lam < lambdas[k - 1] < lambdas[k - 2]:
                rho = np.log(lam / lambdas[k - 1]) / np.log(lambdas[k - 1] / lambdas[k - 2])
                g0, loss = qn.predict(float(lam), float(rho), b, beta[k - 2], b0a, b0s[k - 2], eta, eta_prev, g,
                                      g0, loss)
            eta_prev = eta_sol
            its[k], ok, g0, loss, worst = qn.solve(float(lam), strong, b, b0a, eta, g, g0, loss, limit,
                                                   int(max_iter), exact)
            status = glm_cd.CONVERGED if ok else glm_cd.MAX_IRLS
            pred_ok = k >= 1 and ok and its[k] > 0
        else:
            its[k], _, status, worst = glm_cd.glm_lambda_naive(
                Xs, y, w, off, vv, kind, fam_code, a, float(lam), b, b0a, eta, strong, g, kkt_tol, floor,
                int(max_iter), int(max_sweeps), bool(intercept), exact, work)
            g0 = float(np.sum(w * (y - fam.mean(eta)))) / n
            loss = glm_cd._objective(fam_code, y, w, eta, b, vv, kind, a, 0.0)
            pred_ok = False
        conv[k] = status == glm_cd.CONVERGED
        ever |= b != 0
        beta[k], b0s[k] = b, b0a[0]
        dev[k] = 2.0 * n * loss + dev_const
        lam_prev = float(lam)
        if default_grid and k > 0:
            ratio_k, ratio_prev = 1.0 - dev[k] / null_dev, 1.0 - dev[k - 1] / null_dev
            if ratio_k > devmax:
                stop = (f"the deviance ratio reached {ratio_k:.4f} > devmax = {devmax:g} at lambda "
                        f"{lam:.4g} (number {k + 1} on the path): the classes are (nearly) separated and "
                        "smaller lambdas would only grow the coefficients; the path stops there, as glmnet's does")
            elif k >= 4 and ratio_k - ratio_prev < fdev:
                stop = (f"the deviance ratio grew by less than fdev = {fdev:g} at lambda {lam:.4g} "
                        f"(number {k + 1} on the path); the path stops there, as glmnet's does")
            if stop:
                last = k + 1
                break
    if last < L:
        lambdas, beta, b0s, dev, conv, its = (lambdas[:last], beta[:last], b0s[:last], dev[:last], conv[:last],
                                              its[:last])
        if "devmax" in stop:
            warn(stop, ConvergenceWarning)
    if not default_grid and fam.name == "binomial" and np.any(1.0 - dev / null_dev > devmax):
        k = int(np.argmax(1.0 - dev / null_dev > devmax))
        warn(f"the deviance ratio exceeds devmax = {devmax:g} from lambda {lambdas[k]:.4g} (number {k + 1} on the "
             "path) on: the classes are (nearly) separated, and as lambda -> 0 the coefficients grow without end "
             "along the separating direction (glmnet stops its default path there)", ConvergenceWarning)
    if not conv.all():
        bad = lambdas[~conv]
        ratio = 1.0 - dev[~conv] / null_dev
        why = (f"the deviance ratio there reaches {ratio.max():.5f}: the classes are (nearly) separated, and as "
               "lambda -> 0 the coefficients grow without end along the separating direction"
               if fam.name == "binomial" and ratio.max() > devmax else
               "raise max_iter, or stop the path at a larger lambda")
        warn(f"the {fam.name} solver stopped before its KKT tolerance ({kkt_tol:g} lambda) at {bad.size} of "
             f"{len(lambdas)} lambdas (the largest {bad.max():.4g}, the smallest {bad.min():.4g}) after max_iter = "
             f"{max_iter} IRLS steps or max_sweeps coordinate sweeps; {why}", ConvergenceWarning)
    coef = beta / prep0.x_scale[None, :]
    icpt = b0s - coef @ prep0.x_mean if intercept else np.zeros(len(lambdas))
    return GLMSolution(lambdas=lambdas, beta=beta, coef=coef, intercept=icpt, deviance=dev,
                       null_deviance=null_dev, converged=conv, iterations=its, x_mean=prep0.x_mean,
                       x_scale=prep0.x_scale, v=v, constant=constant, stop_reason=stop)
