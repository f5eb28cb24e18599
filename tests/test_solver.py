"""Numerical kernels against small numpy references (arrays in, arrays out)."""
from __future__ import annotations

import numpy as np
import pytest

from regstats import solver
from regstats.solver.cd import _gap, _gram_newton, cd_naive


def _problem(rng, n=50, p=12, rho=0.5):
    X = rng.standard_normal((n, p))
    X[:, 1] = rho * X[:, 0] + np.sqrt(1 - rho ** 2) * X[:, 1]
    X = (X - X.mean(0)) / X.std(0)
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(n)
    return np.asfortranarray(X), y - y.mean()


def _ar1_design(rng, n, p, rho):
    """Standardized Gaussian design with AR(1) columns (correlation rho^|j-k|), Fortran order."""
    Z = rng.standard_normal((n, p))
    X = Z.copy()
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * Z[:, j]
    return np.asfortranarray((X - X.mean(0)) / X.std(0))


def reference_cd(X, y, v, a, lam, sweeps=20_000):
    """Plain cyclic coordinate descent (numpy), run to convergence."""
    n, p = X.shape
    b = np.zeros(p)
    r = y.copy()
    xx = (X ** 2).sum(0) / n
    for _ in range(sweeps):
        dmax = 0.0
        for j in range(p):
            z = X[:, j] @ r / n + xx[j] * b[j]
            nb = np.sign(z) * max(abs(z) - lam * a * v[j], 0.0) / (xx[j] + lam * (1 - a) * v[j])
            d = nb - b[j]
            if d:
                r -= X[:, j] * d
                b[j] = nb
                dmax = max(dmax, abs(d))
        if dmax < 1e-15:
            break
    return b


def objective(X, y, b, v, a, lam):
    n = len(y)
    return 0.5 * np.sum((y - X @ b) ** 2) / n + lam * np.sum(v * ((1 - a) / 2 * b ** 2 + a * np.abs(b)))


@pytest.mark.parametrize("a", [1.0, 0.5, 0.0])
def test_gram_and_naive_kernels_match_reference(rng, a):
    X, y = _problem(rng)
    n, p = X.shape
    v = np.ones(p)
    v[2] = 0.0
    v *= p / v.sum()
    lams = np.array([0.5, 0.1, 0.02])
    G = X.T @ X / n
    c = X.T @ y / n
    yy = y @ y / n
    bg, gaps, rss, _, conv = solver.cd_path_gram(G, c, yy, v, a, lams, np.zeros(p), 1e-14, 100_000, True)
    bn, gapn, rssn, _, convn = solver.cd_path_naive(X, y, v, a, lams, np.zeros(p), 1e-14, 100_000, True)
    assert conv.all() and convn.all()
    for k, lam in enumerate(lams):
        ref = reference_cd(X, y, v, a, lam)
        np.testing.assert_allclose(bg[k], ref, atol=1e-9)
        np.testing.assert_allclose(bn[k], ref, atol=1e-9)
        assert rss[k] == pytest.approx(np.sum((y - X @ ref) ** 2) / n, rel=1e-10)
        assert rssn[k] == pytest.approx(rss[k], rel=1e-10)


@pytest.mark.parametrize("a", [1.0, 0.5, 0.0])
def test_gap_is_a_valid_bound(rng, a):
    """gap >= primal - optimum for arbitrary points, and ~0 at the optimum."""
    X, y = _problem(rng)
    n, p = X.shape
    v = np.ones(p)
    lam = 0.05
    opt = reference_cd(X, y, v, a, lam)
    fopt = objective(X, y, opt, v, a, lam)
    c = X.T @ y / n
    yy = y @ y / n
    for scale in (0.0, 0.5, 0.9, 1.1):
        b = opt * scale + 0.01 * rng.standard_normal(p) * (scale > 0)
        q = X.T @ (y - X @ b) / n
        g, primal, rss = _gap(b, q, c, yy, v, a, lam)
        assert primal == pytest.approx(objective(X, y, b, v, a, lam), rel=1e-12)
        assert g >= primal - fopt - 1e-12
    q = X.T @ (y - X @ opt) / n
    assert _gap(opt, q, c, yy, v, a, lam)[0] < 1e-12


def test_gram_newton_lands_on_exact_solution(rng):
    X, y = _problem(rng, n=80, p=10)
    n, p = X.shape
    G, c = X.T @ X / n, X.T @ y / n
    v = np.ones(p)
    lam = 0.05
    ref = reference_cd(X, y, v, 1.0, lam)
    # start from a perturbed point with the right signs plus a wrong extra coefficient
    beta = ref * 1.3
    beta[np.flatnonzero(ref == 0)[:1]] = 0.01
    q = c - G @ beta
    status = _gram_newton(G, c, v, 1.0, lam, beta, q)
    assert status in (1, 2)
    assert objective(X, y, beta, v, 1.0, lam) <= objective(X, y, ref * 1.3, v, 1.0, lam) + 1e-12
    np.testing.assert_allclose(q, c - G @ beta, atol=1e-12)


def test_naive_sweeps_update_residual(rng):
    X, y = _problem(rng)
    n, p = X.shape
    beta = np.zeros(p)
    r = y.copy()
    xx = (X ** 2).sum(0) / n
    k, ok = cd_naive(X, r, beta, np.ones(p), 1.0, 0.1, xx, np.arange(p), 1e-20, 10_000)
    assert ok and k >= 1
    np.testing.assert_allclose(r, y - X @ beta, atol=1e-12)
    np.testing.assert_allclose(beta, reference_cd(X, y, np.ones(p), 1.0, 0.1), atol=1e-9)


def test_ridge_svd_and_gram_match_closed_form(rng):
    X, y = _problem(rng, n=60, p=8)
    n, p = X.shape
    lams = np.array([1.0, 0.1, 1e-3])
    U, d, Vt = solver.ridge_svd(X)
    b_svd = solver.ridge_path_svd(U, d, Vt, y, lams)
    b_gram = solver.ridge_path_gram(X.T @ X / n, X.T @ y / n, lams)
    for k, lam in enumerate(lams):
        ref = np.linalg.solve(X.T @ X / n + lam * np.eye(p), X.T @ y / n)
        np.testing.assert_allclose(b_svd[k], ref, rtol=1e-10)
        np.testing.assert_allclose(b_gram[k], ref, rtol=1e-9)
    df = solver.ridge_df_svd(d, lams, n)
    H = [np.trace(X @ np.linalg.solve(X.T @ X + n * lam * np.eye(p), X.T)) for lam in lams]
    np.testing.assert_allclose(df, H, rtol=1e-10)


def test_kernels_report_non_convergence_instead_of_raising(rng):
    X, y = _problem(rng, n=30, p=40, rho=0.95)
    n, p = X.shape
    lams = np.array([0.05, 0.01])
    out = solver.cd_path_naive(X, y, np.ones(p), 1.0, lams, np.zeros(p), 1e-15, 1, False)
    assert out[4].dtype == bool and not out[4].all()
    G, c = X.T @ X / n, X.T @ y / n
    out = solver.cd_path_gram(G, c, y @ y / n, np.ones(p), 1.0, lams, np.zeros(p), 1e-15, 1, False)
    assert not out[4].all()


def _ill_conditioned_gram(rng, p=40):
    Z = rng.standard_normal((80, p))
    Z[:, 3] = Z[:, 2] + 0.1 * Z[:, 3]  # ill-conditioned
    return Z.T @ Z


@pytest.mark.parametrize("drop", [[0], [5, 7, 39], [39], [0, 1, 2, 20, 38, 39], list(range(40)), [9, 41],
                                  [3, 4, 42]])
@pytest.mark.parametrize("size", [40, 43])  # rows are compacted eight at a time: and the rest
def test_factor_delete_matches_a_fresh_factorization(rng, drop, size):
    from regstats.solver import factor

    drop = [j for j in drop if j < size]
    G = _ill_conditioned_gram(rng, size)
    M = G / 80
    U = np.full((64, 64), np.nan)  # entries below the diagonal are never read
    U[:size, :size] = np.where(np.triu(np.ones((size, size))) > 0, np.linalg.cholesky(M).T, np.nan)
    order = np.arange(size)
    keep = np.ones(size, dtype=bool)
    keep[drop] = False
    k = factor.delete_many(U, size, order, keep)
    assert k == keep.sum()
    np.testing.assert_array_equal(order[:k], np.flatnonzero(keep))
    if k:
        R = np.triu(U[:k, :k])
        np.testing.assert_allclose(R, np.linalg.cholesky(M[np.ix_(keep, keep)]).T, atol=1e-12)
        assert np.all(np.diag(R) > 0)


def test_factor_append_in_blocks_matches_a_fresh_factorization_and_solves(rng):
    from regstats.solver import factor

    G = _ill_conditioned_gram(rng)
    cap = 48
    U = np.zeros((cap, cap))
    pos = np.zeros(cap, dtype=np.int64)
    diag = np.full(40, 0.05)
    k = 0
    for block in ([7], [0, 1, 2, 3], list(range(8, 30)), [4, 5, 6], list(range(30, 40))):
        k = factor.append(U, k, G, pos, np.array(block), 1.0 / 80, diag[block], 1e-7)
        S = pos[:k]
        M = G[np.ix_(S, S)] / 80 + np.diag(diag[S])
        np.testing.assert_allclose(np.triu(U[:k, :k]), np.linalg.cholesky(M).T, atol=1e-12)
    rhs = rng.standard_normal(k)
    np.testing.assert_allclose(factor.chol_solve(U, k, rhs, rhs, 0)[0], np.linalg.solve(M, rhs), rtol=1e-9)


@pytest.mark.parametrize("panel", [8, 13])
def test_factor_append_by_panels_matches_row_by_row(rng, monkeypatch, panel):
    # many columns appended to a large factor go through panels with BLAS products: the same
    # factor as the row-by-row substitution (shrunk thresholds put these sizes on that branch)
    from scipy.linalg import solve_triangular

    from regstats.solver import factor

    G = _ill_conditioned_gram(rng)
    diag = np.full(40, 0.05)
    out = {}
    for mode in ("rows", "panels"):
        if mode == "panels":
            monkeypatch.setattr(factor, "_PANEL", panel)
            monkeypatch.setattr(factor, "_PANEL_MIN_NEW", 2)
        U = np.zeros((48, 48))
        pos = np.zeros(48, dtype=np.int64)
        k = factor.append(U, 0, G, pos, np.arange(30), 1.0 / 80, diag[:30], 1e-7)
        k = factor.append(U, k, G, pos, np.arange(30, 40), 1.0 / 80, diag[30:], 1e-7)
        out[mode] = np.triu(U[:k, :k])
    M = G / 80 + np.diag(diag)
    np.testing.assert_allclose(out["panels"], np.linalg.cholesky(M).T, atol=1e-12)
    np.testing.assert_allclose(out["panels"], out["rows"], atol=1e-13)
    W = rng.standard_normal((5, 37))
    expected = solve_triangular(out["rows"][:37, :37], W.T, trans="T").T
    Ub = np.zeros((48, 48))
    Ub[:37, :37] = out["rows"][:37, :37]
    factor._forward_panels(Ub, 37, W)
    np.testing.assert_allclose(W, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("m,size", [(1, 4), (5, 5), (7, 16), (30, 64)])
def test_spread_moves_a_packed_block_to_the_factor_rows_in_place(rng, m, size):
    # a rebuild gathers and factorizes its block packed in the first m*m entries of U's buffer,
    # then moves it to U's rows of full width in place (overlapping source and destination)
    from regstats.solver import factor

    U = rng.standard_normal((size, size))
    B = rng.standard_normal((m, m))
    U.reshape(-1)[:m * m] = B.reshape(-1)
    factor.spread(U, m)
    np.testing.assert_array_equal(U[:m, :m], B)


def test_factor_append_with_scratch_matches_without(rng):
    from regstats.solver import factor

    G = _ill_conditioned_gram(rng)
    out = []
    for work in (None, np.full(10_000, np.nan)):
        U = np.zeros((48, 48))
        pos = np.zeros(48, dtype=np.int64)
        k = factor.append(U, 0, G, pos, np.arange(25), 1.0 / 80, np.full(25, 0.05), 1e-7, work)
        k = factor.append(U, k, G, pos, np.arange(25, 40), 1.0 / 80, np.full(15, 0.05), 1e-7, work)
        out.append(np.triu(U[:k, :k]))
    np.testing.assert_array_equal(out[0], out[1])


def test_factor_append_refuses_a_singular_column(rng):
    from regstats.solver import factor

    Z = rng.standard_normal((30, 5))
    Z = np.column_stack([Z, Z[:, 0] - 2.0 * Z[:, 3]])  # column 5 is a combination of 0 and 3
    G = Z.T @ Z
    U = np.zeros((8, 8))
    pos = np.zeros(8, dtype=np.int64)
    k = factor.append(U, 0, G, pos, np.arange(5), 1.0 / 30, np.zeros(5), 1e-7)
    assert k == 5
    before = U.copy()
    assert factor.append(U, k, G, pos, np.array([5]), 1.0 / 30, np.zeros(1), 1e-7) == -1
    np.testing.assert_array_equal(U[:5, :5], before[:5, :5])
    # a ridge term makes the same block positive definite
    assert factor.append(U, k, G, pos, np.array([5]), 1.0 / 30, np.array([0.1]), 1e-7) == 6


def test_sixteen_bit_copy_and_its_rounding_bound(rng):
    # codes times scale reproduce each column to within the recorded norm of the rounding error,
    # which is tight (about 3e-5 of ||x_j|| for Gaussian columns) and holds for any column
    from regstats.solver.standardize import quantize_columns

    n, p = 500, 40
    X = np.asfortranarray(rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p))
    X[:, 3] *= np.exp(rng.uniform(-20, 20, n))  # a huge dynamic range
    X[:, 5] = 0.0
    X[7, 6] = 1e300  # one huge entry
    codes, scale, err = np.empty((p, n), dtype=np.int16).T, np.empty(p), np.empty(p)
    quantize_columns(X, codes, scale, err)
    assert codes.flags.f_contiguous and np.abs(codes).max() <= 32766
    true = np.linalg.norm(X - codes * scale, axis=0)
    assert np.all(true <= err) and np.all(err <= 1.001 * true + 1e-12 * np.abs(X).max(0))
    normal = np.setdiff1d(np.arange(p), [3, 5, 6])
    assert np.all(err[normal] <= 1e-4 * np.linalg.norm(X[:, normal], axis=0))
    assert scale[5] == 0.0 and err[5] == 0.0 and not codes[:, 5].any()


def test_sixteen_bit_gradient_pass_is_certified(rng):
    # the 16-bit reads may stand in for a column only where their rounding bound keeps the column
    # strictly inside the KKT threshold; everything else equals the double-precision value
    from regstats.solver.naive import _Gradient

    n, p = 1000, 3000
    X = np.asfortranarray(rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p))
    X[:, 100] *= np.exp(rng.uniform(-20, 20, n))  # a column with a huge dynamic range
    r = rng.standard_normal(n) * 3.0 * np.exp(rng.uniform(-5, 5, n))
    xx = (X ** 2).sum(0) / n
    q_exact = X.T @ r / n
    beta = np.zeros(p)
    beta[:5] = 1.0
    rn = np.linalg.norm(r) / np.sqrt(n)
    scale = np.sqrt(xx) * rn
    for lam in (np.quantile(np.abs(q_exact), [0.1, 0.5, 0.99])):
        thr = np.full(p, lam)
        thr[10] = 0.0  # an unpenalized column is never certified
        grad = _Gradient(X, xx, passes=100)
        bound = grad.bound16 * rn
        assert np.all(bound[np.arange(p) != 100] <= 1e-4 * scale[np.arange(p) != 100])  # tight
        q = grad(r, beta, thr)
        short = np.abs(q - q_exact) > 1e-13 * scale  # values that came from the 16-bit pass
        assert short.sum() > p // 20 or lam < np.quantile(np.abs(q_exact), 0.2)
        assert not short[:5].any() and not short[10]
        assert np.all(np.abs(q - q_exact)[short] <= bound[short] + 1e-30)
        assert np.all(np.abs(q_exact[short]) < thr[short])
    assert _Gradient(X, xx, passes=1).X16 is None  # a single pass does not pay for the copy
    # a residual along column j's rounding error attains the bound's main term; a threshold
    # between the 16-bit value and the true one is not settled by the 16-bit read
    j = 7
    grad = _Gradient(X, xx, passes=100)
    d = X[:, j] - grad.scale16[j] * grad.X16[:, j].astype(float)
    r = 3.0 * (0.2 * X[:, j] / np.linalg.norm(X[:, j]) + d / np.linalg.norm(d))
    exact = X[:, j] @ r / n
    rn = np.linalg.norm(r) / np.sqrt(n)
    thr = np.full(p, np.inf)
    q16 = grad(r, np.zeros(p), thr)[j]
    e = exact - q16
    assert 0.95 * np.linalg.norm(d) * np.linalg.norm(r) / n <= e <= grad.bound16[j] * rn
    thr[j] = abs(q16) + 0.75 * e  # inside the 16-bit value's bound, below the true |q_j|
    q = _Gradient(X, xx, passes=100)(r, np.zeros(p), thr)
    assert q[j] == pytest.approx(exact, rel=1e-14) and abs(q[j]) > thr[j]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 150, 300])
def test_a_partial_sixteen_bit_pass_reads_its_columns_by_fours(rng, size):
    # a partial pass (at most half the columns, scattered) reads four 16-bit columns at a time:
    # the same values and verdicts as the 16-bit sum column by column, for any count of columns
    from regstats.solver.cd import certify_q
    from regstats.solver.naive import _Gradient

    n, p = 400, 600
    X = np.asfortranarray(rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p))
    grad = _Gradient(X, (X ** 2).sum(0) / n, passes=100)
    r = rng.standard_normal(n)
    r32, rn, err0 = grad._single(r)
    q_exact = X.T @ r / n
    beta = np.zeros(p)
    beta[:7] = 1.0
    thr = np.full(p, np.quantile(np.abs(q_exact), 0.85))
    thr[20] = 0.0  # unpenalized: always computed
    cols = np.union1d(rng.choice(p, size, replace=False), [3, 20])  # a nonzero among them
    q = np.full(p, np.nan)
    m = certify_q(grad.X16, grad.scale16, grad.bound16, r32, X, r, cols, beta, thr, rn, err0, q, True)
    assert np.isnan(q[3]) and np.isnan(np.delete(q, cols)).all()  # nothing else written
    zeros = cols[beta[cols] == 0.0]
    q16 = (grad.X16[:, zeros].astype(float).T @ r32.astype(float)) * grad.scale16[zeros] / n
    certified = np.abs(q16) + grad.bound16[zeros] * rn + err0 < thr[zeros]
    assert m == np.count_nonzero(~certified) and not certified[zeros == 20].any()
    np.testing.assert_allclose(q[zeros], np.where(certified, q16, q_exact[zeros]), rtol=1e-12, atol=1e-15)
    assert np.all(np.abs(q_exact[zeros[certified]]) < thr[zeros[certified]])


def test_gradient_reads_no_column_whose_value_the_newton_equations_give(rng):
    # after an exact Newton step the support's X'r/n is known; a pass takes it and reads only the
    # zeros, and the reference it keeps has no bound for those columns: once they are zero, a
    # later pass computes them instead of certifying them from the reference
    from regstats.solver.naive import _Gradient

    n, p = 300, 2000
    X = _ar1_design(rng, n, p, 0.5)
    xx = np.einsum("ij,ij->j", X, X) / n
    grad = _Gradient(X, xx, 100)
    r = rng.standard_normal(n)
    beta = np.zeros(p)
    beta[:30] = rng.standard_normal(30)
    true = X.T @ r / n
    thr = np.full(p, 3.0 * np.abs(true).max())  # every zero well inside
    known = np.zeros(p)  # deliberately not X'r/n: proof that these columns are not read
    q = grad(r, beta, thr, known)
    np.testing.assert_array_equal(q[:30], 0.0)
    bound = grad.bound16 * np.linalg.norm(r) / np.sqrt(n)  # the 16-bit reads' rigorous bound
    assert np.all(np.abs(q[30:] - true[30:]) <= bound[30:])
    assert np.all(bound <= 1e-4 * np.sqrt(xx) * np.linalg.norm(r) / np.sqrt(n))
    # a nearby residual, the support gone: the former nonzeros' reference values are wrong (0)
    # and must not certify them
    beta[:] = 0.0
    r2 = r + 1e-3 * rng.standard_normal(n)
    full = grad.full
    q2 = grad(r2, beta, thr)
    assert grad.full == full  # a partial pass, from the reference
    # read (in 16 bits, within their bound), not predicted from the wrong values
    bound2 = grad.bound16 * np.linalg.norm(r2) / np.sqrt(n)
    assert np.all(np.abs(q2[:30] - X[:, :30].T @ r2 / n) <= bound2[:30])


@pytest.mark.parametrize("a", [1.0, 0.5])
def test_naive_path_with_updated_factor_is_exact_and_kkt(rng, a):
    # wide, correlated design: coefficients enter and leave along the path, so the Newton factor
    # is extended and downdated (rank-one updates) many times; every lambda must satisfy KKT
    n, p = 60, 150
    X = _ar1_design(rng, n, p, 0.8)
    y = X[:, [3, 40, 41, 90]] @ np.array([2.0, -1.5, 1.5, 1.0]) + rng.standard_normal(n)
    y -= y.mean()
    v = np.ones(p)
    v[7] = 0.0
    v *= p / v.sum()
    c = X.T @ y / n
    lmax = np.max(np.abs(c[v > 0]) / (a * v[v > 0]))
    lams = lmax * 0.01 ** (np.arange(60) / 59)
    for tol, exact in [(1e-7, False), (1e-14, True)]:
        B, gaps, rss, _, conv = solver.cd_path_naive(np.asfortranarray(X), y, v, a, lams, np.zeros(p),
                                                     tol, 100_000, exact)
        assert conv.all()
        left = ((B[:-1] != 0) & (B[1:] == 0)).sum()
        assert left > 0  # some coefficients do leave the active set
        for k, lam in enumerate(lams):
            b = B[k]
            q = X.T @ (y - X @ b) / n - lam * (1 - a) * v * b
            nz = b != 0
            free = v == 0
            kkt_tol = 1e-9 if exact else 1e-3 * lam
            np.testing.assert_allclose(q[nz & ~free], lam * a * v[nz & ~free] * np.sign(b[nz & ~free]),
                                       atol=kkt_tol)
            assert np.all(np.abs(q[~nz & ~free]) <= lam * a * v[~nz & ~free] + kkt_tol)
            np.testing.assert_allclose(q[free], 0.0, atol=kkt_tol)
            assert gaps[k] <= tol * (y @ y / n) or exact


def test_shifted_solve_from_a_stale_factor(rng):
    # the elastic net's factor of G + mu0 D serves a nearby mu by conjugate gradients
    from regstats.solver import factor

    Z = rng.standard_normal((50, 80))  # G singular: p > n
    G = Z.T @ Z / 50
    d = rng.uniform(0.5, 2.0, 80)
    d[3] = 0.0  # an unpenalized column
    mu0, mu = 0.3, 0.3 * 0.9
    U = np.zeros((128, 128))
    U[:80, :80] = np.linalg.cholesky(G + mu0 * np.diag(d)).T
    rhs = rng.standard_normal(80)
    x, ok = factor.shifted_solve(U, 80, rhs, mu - mu0, d, 1e-15, 60, np.zeros(0), np.zeros(0))
    assert ok
    np.testing.assert_allclose(x, np.linalg.solve(G + mu * np.diag(d), rhs), rtol=1e-10)
    # a factor made at a smaller diagonal serves a larger one too (positive shift)
    x, ok = factor.shifted_solve(U, 80, rhs, 0.1 * mu0, d, 1e-15, 60, np.zeros(0), np.zeros(0))
    assert ok
    np.testing.assert_allclose(x, np.linalg.solve(G + 1.1 * mu0 * np.diag(d), rhs), rtol=1e-10)
    # started from a nearby point (the current coefficients) it needs fewer iterations
    exact = np.linalg.solve(G + mu * np.diag(d), rhs)
    near = exact * (1.0 + 1e-4 * rng.standard_normal(80))

    def iterations(x0):
        return next(k for k in range(61) if factor.shifted_solve(U, 80, rhs, mu - mu0, d, 1e-15, k, x0, np.zeros(0))[1])

    assert iterations(near) < iterations(np.zeros(0))
    x, ok = factor.shifted_solve(U, 80, rhs, mu - mu0, d, 1e-15, 60, near, np.zeros(0))
    assert ok
    np.testing.assert_allclose(x, exact, rtol=1e-10)
    # too few iterations for a large drift: reported, not silently wrong
    _, ok = factor.shifted_solve(U, 80, rhs, 0.1 * mu0 - mu0, d, 1e-15, 3, np.zeros(0), np.zeros(0))
    assert not ok
    # at a loose rtol x is carried along the iteration, not solved from y at the end: it equals
    # U^{-1} y to rounding, also after a resumed solve, and both stop where the rtol says
    from scipy.linalg import solve_triangular

    for x0 in (np.zeros(0), exact * 1.01):
        state = np.zeros(3 * 80 + 1)
        x, ok = factor.shifted_solve(U, 80, rhs, mu - mu0, d, 1e-4, 60, x0, state)
        assert ok
        np.testing.assert_allclose(x, solve_triangular(U[:80, :80], state[:80]), rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(state[161:], x)
        assert 1e-12 < np.abs(x - exact).max() / np.abs(exact).max() < 1e-2
        x, ok = factor.shifted_solve(U, 80, rhs, mu - mu0, d, 1e-9, 60, np.zeros(0), state)  # resumed
        assert ok
        np.testing.assert_allclose(x, solve_triangular(U[:80, :80], state[:80]), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(x, exact, rtol=1e-7)


def test_naive_elastic_net_path_with_a_drifting_factor_is_exact(rng):
    # blocks of more than _DRIFT_MIN_SIZE columns: Newton steps solve from the factor of an
    # earlier lambda; the answer must still be exact to rounding at every lambda
    from regstats.solver import naive

    n, p, a = 300, 700, 0.5
    X = _ar1_design(rng, n, p, 0.5)
    y = X[:, ::35] @ rng.uniform(1, 2, 20) + rng.standard_normal(n)
    y -= y.mean()
    v = np.ones(p)
    c = X.T @ y / n
    lams = np.max(np.abs(c)) / a * 0.005 ** (np.arange(80) / 79)  # ratio 0.935 per step
    calls = []
    orig = naive.factor.shifted_solve

    def spy(*args):
        calls.append(args[1])
        return orig(*args)

    naive.factor.shifted_solve = spy
    try:
        B, gaps, _, _, conv = solver.cd_path_naive(X, y, v, a, lams, np.zeros(p), 1e-14, 100_000, True)
    finally:
        naive.factor.shifted_solve = orig
    assert conv.all() and max(calls, default=0) >= naive._DRIFT_MIN_SIZE
    for k, lam in enumerate(lams):
        b = B[k]
        q = X.T @ (y - X @ b) / n - lam * (1 - a) * b
        nz = b != 0
        np.testing.assert_allclose(q[nz], lam * a * np.sign(b[nz]), atol=1e-10 * lam)
        assert np.all(np.abs(q[~nz]) <= lam * a * (1 + 1e-10))


def _drift_problem(rng):
    n, p = 300, 700
    X = _ar1_design(rng, n, p, 0.5)
    y = X[:, ::35] @ rng.uniform(1, 2, 20) + rng.standard_normal(n)
    return X, y - y.mean()


def test_loose_conjugate_gradients_meet_the_gap_target(rng, monkeypatch):
    # at the default tol the drifted factor's solves stop at a looser residual; a lambda whose
    # gap misses the target refines them, so even an absurdly loose rtol ends within tol
    from regstats.solver import naive

    X, y = _drift_problem(rng)
    n, p = X.shape
    a, v = 0.5, np.ones(p)
    lams = np.max(np.abs(X.T @ y / n)) / a * 0.005 ** (np.arange(60) / 59)
    yy = y @ y / n
    B0 = solver.cd_path_naive(X, y, v, a, lams, np.zeros(p), 1e-14, 100_000, True)[0]
    orig = naive._newton
    for rtol in (naive._CG_RTOL, 1e-1):
        calls = []

        def counted(*args, **kw):
            calls.append(1)
            return orig(*args, **kw)

        monkeypatch.setattr(naive, "_newton", counted)
        monkeypatch.setattr(naive, "_CG_RTOL", rtol)
        B, gaps, _, sweeps, conv = solver.cd_path_naive(X, y, v, a, lams, np.zeros(p), 1e-7, 100_000, False)
        assert conv.all() and np.all(gaps <= 1e-7 * yy)
        assert np.abs(B - B0).max() < 1e-3 * np.abs(B0).max()
        # refined Newton steps, not a fallback to coordinate descent
        assert len(calls) < 4 * len(lams) and sweeps.sum() < 3 * len(lams)


def test_support_values_after_a_loose_solve_are_the_true_products(rng, monkeypatch):
    # after a conjugate-gradient solve the support's X'r/n is taken from the Newton equations
    # plus the solve's residual (U' times the iteration's residual), not read from X: it must
    # equal the true products to rounding, or the KKT checks and gaps would be off
    from regstats.solver import naive

    X, y = _drift_problem(rng)
    n, p = X.shape
    lams = np.max(np.abs(X.T @ y / n)) / 0.5 * 0.005 ** (np.arange(60) / 59)
    orig = naive._Gradient.__call__
    errors = []

    def spy(self, r, beta, thr, known=None):
        nz = np.flatnonzero(beta)
        if known is not None and nz.size:
            true = X[:, nz].T @ r / n
            errors.append(np.abs(known[nz] - true).max() / np.abs(true).max())
        return orig(self, r, beta, thr, known)

    monkeypatch.setattr(naive._Gradient, "__call__", spy)
    monkeypatch.setattr(naive, "_CG_RTOL", 1e-5)  # far from the exact solution
    solver.cd_path_naive(X, y, np.ones(p), 0.5, lams, np.zeros(p), 1e-7, 100_000, False)
    assert len(errors) > 30 and max(errors) < 1e-11


def test_signs_found_at_a_loose_rtol_then_polished_give_the_exact_path(rng, monkeypatch):
    # the drifted factor's first solves of a Newton step only decide signs (loose rtol); the
    # last one is polished to the final rtol, so the exact path is unchanged to rounding
    from regstats.solver import naive

    X, y = _drift_problem(rng)
    n, p = X.shape
    a, v = 0.5, np.ones(p)
    lams = np.max(np.abs(X.T @ y / n)) / a * 0.005 ** (np.arange(60) / 59)
    out, rtols = {}, {}
    orig = naive.factor.shifted_solve
    for sign_rtol in (None, 1e-2):
        used = []

        def spy(U, k, rhs, shift, d, rtol, *rest):
            used.append(rtol)
            return orig(U, k, rhs, shift, d, rtol, *rest)

        monkeypatch.setattr(naive, "_SIGN_RTOL", sign_rtol)
        monkeypatch.setattr(naive.factor, "shifted_solve", spy)
        out[sign_rtol] = solver.cd_path_naive(X, y, v, a, lams, np.zeros(p), 1e-14, 100_000, True)
        rtols[sign_rtol] = set(used)
    assert out[None][4].all() and out[1e-2][4].all()
    np.testing.assert_allclose(out[1e-2][0], out[None][0], rtol=0, atol=1e-10)
    assert rtols[None] == {1e-15} and rtols[1e-2] == {1e-2, 1e-15}
    # polished Newton steps, not a fallback to coordinate descent
    assert out[1e-2][3].sum() <= out[None][3].sum() + 5


def test_columns_a_newton_step_zeroed_are_rechecked_from_the_gram_cache(rng, monkeypatch):
    # several sign flips leave at once; a column that belongs to the support after all comes
    # back from a KKT check on cached Gram entries, without a residual and a new Newton round
    from regstats.solver import naive

    n, p = 150, 1200
    X = _ar1_design(rng, n, p, 0.8)
    y = X[:, ::60] @ rng.uniform(1, 2, 20) + rng.standard_normal(n)
    y -= y.mean()
    v = np.ones(p)
    lams = np.max(np.abs(X.T @ y / n)) * 0.01 ** (np.arange(80) / 79)
    out, rounds = {}, {}
    orig = naive._newton
    for reentry in (0, naive._REENTRY):
        calls = []

        def counted(*args, **kw):
            calls.append(1)
            return orig(*args, **kw)

        monkeypatch.setattr(naive, "_REENTRY", reentry)
        monkeypatch.setattr(naive, "_newton", counted)
        out[reentry] = solver.cd_path_naive(X, y, v, 1.0, lams, np.zeros(p), 1e-14, 100_000, True)
        rounds[reentry] = len(calls)
    assert out[0][4].all() and out[naive._REENTRY][4].all()
    np.testing.assert_allclose(out[naive._REENTRY][0], out[0][0], rtol=0, atol=1e-10)
    assert rounds[naive._REENTRY] < rounds[0]


@pytest.mark.parametrize("seed", range(6))
def test_naive_path_on_random_wide_problems_is_exact(seed):
    # p > n, strong correlation, duplicate-free; lasso and elastic net, some unpenalized columns:
    # with tol 1e-14 every lambda must end on an exact solution (KKT to rounding), with the
    # default tol on one whose duality gap is within tol (KKT then holds only roughly)
    rng = np.random.default_rng(1000 + seed)
    n, p = int(rng.integers(30, 90)), int(rng.integers(120, 300))
    X = _ar1_design(rng, n, p, [0.0, 0.5, 0.9][seed % 3])
    y = X[:, rng.choice(p, 5, replace=False)] @ rng.standard_normal(5) + rng.standard_normal(n)
    y -= y.mean()
    a = [1.0, 0.9, 0.5][seed // 2]
    v = np.ones(p)
    if seed % 2:
        v[rng.choice(p, 2, replace=False)] = 0.0
    v *= p / v.sum()
    c = X.T @ y / n
    pen = v > 0
    lams = np.max(np.abs(c[pen]) / (a * v[pen])) * 0.001 ** (np.arange(50) / 49)
    yy = y @ y / n
    for tol, exact in [(1e-7, False), (1e-14, True)]:
        B, gaps, _, _, conv = solver.cd_path_naive(X, y, v, a, lams, np.zeros(p), tol, 100_000, exact)
        assert conv.all()
        assert np.all(gaps <= max(tol, 1e-13) * yy)
        for k, lam in enumerate(lams):
            b = B[k]
            q = X.T @ (y - X @ b) / n - lam * (1 - a) * v * b
            nz, free = b != 0, v == 0
            sel = nz & ~free
            kkt = 1e-9 * lam if exact else 1e-3 * lam
            np.testing.assert_allclose(q[sel], lam * a * v[sel] * np.sign(b[sel]), atol=kkt)
            assert np.all(np.abs(q[~nz & ~free]) <= lam * a * v[~nz & ~free] + kkt)
            np.testing.assert_allclose(q[free], 0.0, atol=kkt)


def test_gradient_passes_certify_only_columns_strictly_inside_their_thresholds(rng):
    # the residual solver's gradient passes compute some columns and certify the others from a
    # bound (a predicted change, or single-precision rounding): a certified column must be
    # strictly inside its KKT threshold for the true X'r/n as well, and the nonzero ones exact
    from regstats.solver import naive

    n, p = 200, 3000
    X = _ar1_design(rng, n, p, 0.5)
    xx = np.einsum("ij,ij->j", X, X) / n
    grad = naive._Gradient(X, xx, 100)
    beta = np.zeros(p)
    beta[:20] = 1.0
    r = rng.standard_normal(n)
    u = rng.standard_normal(n)
    partial = 0
    for k in range(15):
        r = r + 0.05 * u + 0.005 * rng.standard_normal(n)  # a drifting residual, as on a path
        true = X.T @ r / n
        thr = np.full(p, np.quantile(np.abs(true), 0.9))  # 10% of the columns violate
        full = grad.full
        q = grad(r, beta, thr)
        partial += grad.full == full
        exact = np.abs(q - true) <= 1e-13 * np.abs(true).max()
        assert exact[:20].all()
        assert np.all(np.abs(true[~exact]) < thr[~exact]) and np.all(np.abs(q[~exact]) < thr[~exact])
        assert np.array_equal(np.abs(q) > thr, np.abs(true) > thr)  # the same KKT verdicts
    assert partial >= 5  # the predicted-change bound spared full passes


def test_gram_gradient_residual_and_column_copies_of_the_gram_cache(rng):
    # X'r/n of cached zeros from their Gram rows (the KKT check of columns a Newton step zeroed),
    # against the same products from X itself; and the cache's column copies
    from regstats.solver.cd import copy_columns, gram_gradient

    n, p = 60, 25
    X = np.asfortranarray(rng.standard_normal((n, p)))
    y = rng.standard_normal(n)
    XC = np.full((n, 30), np.nan, order="F")
    order = rng.permutation(p)  # cache position -> column
    copy_columns(X, order[:10], XC, 0)
    copy_columns(X, order[10:], XC, 10)
    np.testing.assert_array_equal(XC[:, :p], X[:, order])
    assert np.isnan(XC[:, p:]).all()  # nothing else written
    G = XC[:, :p].T @ XC[:, :p]
    pos = np.argsort(order)  # column -> cache position
    S = np.array([3, 17, 8, 20])  # the support, in factor order
    b = rng.standard_normal(S.size)
    d = np.array([0, 11, 5])
    c = X.T @ y / n
    out = gram_gradient(G, pos[d], pos[S], b, 1.0 / n, c[d], np.empty(d.size))
    np.testing.assert_allclose(out, X[:, d].T @ (y - X[:, S] @ b) / n, rtol=1e-12, atol=1e-14)
    # the residual from the cached columns, reading only the nonzero coefficients' columns (by
    # fours, then the rest): any count of nonzeros, zeros anywhere
    from regstats.solver.cd import residual_from

    for nnz in (0, 1, 3, 4, 7, 9, p):
        bc = np.zeros(p)
        bc[rng.choice(p, nnz, replace=False)] = rng.standard_normal(nnz)
        XN = XC.copy(order="F")
        XN[:, :p][:, bc == 0.0] = np.nan  # columns of zero coefficients are not read
        r = residual_from(XN, p, y, bc, np.empty(n))
        np.testing.assert_allclose(r, y - XC[:, :p] @ bc, rtol=1e-13, atol=1e-13)


def test_a_rebuilt_factor_puts_the_small_coefficients_last(rng):
    # deleting the factor's column i costs O((k - i)^2): a fresh factorization orders its columns
    # by decreasing |beta| (the coefficients likeliest to reach zero come last), and is the
    # Cholesky factor of the block in that order
    from regstats.solver import naive

    n, p = 120, 60
    X = np.asfortranarray(rng.standard_normal((n, p)))
    A = np.array([3, 10, 11, 25, 40, 41, 59])
    beta = np.zeros(p)
    beta[A] = [0.5, -2.0, 0.01, 1.0, -0.3, 3.0, 0.02]
    fac = naive._Factor()
    assert fac.update(A, np.ones(p), 0.5, 0.1, naive._GramCache(X), beta)
    np.testing.assert_array_equal(fac.S, [41, 10, 25, 3, 40, 59, 11])
    k = fac.S.size
    M = X[:, fac.S].T @ X[:, fac.S] / n + 0.1 * 0.5 * np.eye(k)
    np.testing.assert_allclose(np.triu(fac.U[:k, :k]), np.linalg.cholesky(M).T, atol=1e-12)
    fac = naive._Factor()  # without beta: the Gram cache's order
    assert fac.update(A, np.ones(p), 0.5, 0.1, naive._GramCache(X))
    np.testing.assert_array_equal(fac.S, A)


@pytest.mark.parametrize("t", [1, 2, 3, 5, 7, 9, 12])
def test_cross_dots_are_the_gram_entries_of_new_columns(rng, t):
    from regstats.solver.cd import cross_dots

    XC = np.asfortranarray(rng.standard_normal((57, 50)))
    G = np.full((50, 50), np.nan)
    k = 31 - t  # an odd number of cached columns (new ones included): the last pairs with itself
    cross_dots(XC, 31, k, G)
    full = XC[:, :31].T @ XC[:, :31]
    np.testing.assert_allclose(G[:31, k:31], full[:, k:31], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(G[k:31, :31], full[k:31, :], rtol=1e-12, atol=1e-12)
    assert np.isnan(G[:k, :k]).all() and np.isnan(G[31:]).all()  # nothing else written


def test_forward_solve_reuses_its_first_entries_after_an_append(rng):
    # U'z = b for a factor grown by appended columns: the first k0 entries of z are those of the
    # smaller system, and forward_from completes them to the full solution
    from regstats.solver import factor

    M = _ill_conditioned_gram(rng) / 80 + 0.01 * np.eye(40)
    U = np.zeros((64, 64))
    U[:40, :40] = np.linalg.cholesky(M).T
    b = rng.standard_normal(40)
    z_small = factor.forward_from(U, 30, b, b, 0)
    np.testing.assert_allclose(z_small, np.linalg.solve(U[:30, :30].T, b[:30]), rtol=1e-10)
    z = factor.forward_from(U, 40, b, z_small, 30)
    np.testing.assert_allclose(z, np.linalg.solve(U[:40, :40].T, b), rtol=1e-10)


def _entering_problem(rng, a=1.0):
    """A wide AR(1) design with 100 true columns, so that many enter along a 60-lambda path
    (a unit-variance y for the elastic net).  Returns (X, y, v, lambdas)."""
    n, p = 200, 1500
    X = _ar1_design(rng, n, p, 0.5)
    y = X[:, ::15] @ rng.uniform(0.5, 1.0, 100) + rng.standard_normal(n)
    y -= y.mean()
    if a < 1.0:
        y /= y.std()
    lams = np.max(np.abs(X.T @ y / n)) / a * 0.01 ** (np.arange(60) / 59)
    return X, y, np.ones(p), lams


def test_predicted_entries_save_newton_steps_and_change_nothing(rng, monkeypatch):
    # the first Newton step of each lambda takes the columns predicted to enter: fewer steps,
    # the same exact path
    from regstats.solver import naive

    X, y, v, lams = _entering_problem(rng)
    n, p = X.shape
    calls = []
    orig = naive._newton

    def spy(*args, **kwargs):
        calls.append(1)
        return orig(*args, **kwargs)

    monkeypatch.setattr(naive, "_newton", spy)
    out = {}
    for flag in (False, True):
        monkeypatch.setattr(naive, "_PREDICT_ENTRY", flag)
        calls.clear()
        B, gaps, _, _, conv = solver.cd_path_naive(X, y, v, 1.0, lams, np.zeros(p), 1e-14, 100_000, True)
        assert conv.all() and np.all(gaps <= 1e-13 * (y @ y / n))
        out[flag] = (B, len(calls))
    np.testing.assert_allclose(out[True][0], out[False][0], atol=1e-10)
    assert out[True][1] < 0.9 * out[False][1]


@pytest.mark.parametrize("a", [1.0, 0.5])
def test_probed_columns_save_newton_steps_and_change_nothing(rng, monkeypatch, a):
    # columns predicted just below their thresholds are KKT-checked from their Gram entries at the
    # first Newton step's solution: violators join that step instead of a second round
    from regstats.solver import naive

    X, y, v, lams = _entering_problem(rng, a)
    n, p = X.shape
    calls, probed = [], []
    orig = naive._newton

    def spy(*args, **kwargs):
        calls.append(1)
        probe = args[11] if len(args) > 11 else kwargs.get("probe")
        probed.append(0 if probe is None else probe.size)
        return orig(*args, **kwargs)

    monkeypatch.setattr(naive, "_newton", spy)
    out = {}
    for margin in (1.0, naive._PROBE_MARGIN):
        monkeypatch.setattr(naive, "_PROBE_MARGIN", margin)
        calls.clear()
        probed.clear()
        B, gaps, _, _, conv = solver.cd_path_naive(X, y, v, a, lams, np.zeros(p), 1e-14, 100_000, True)
        assert conv.all() and np.all(gaps <= 1e-13 * (y @ y / n))
        out[margin] = (B, len(calls), sum(probed))
    np.testing.assert_allclose(out[naive._PROBE_MARGIN][0], out[1.0][0], atol=1e-10)
    assert out[1.0][2] == 0 and out[naive._PROBE_MARGIN][2] > 0
    assert out[naive._PROBE_MARGIN][1] < out[1.0][1]


@pytest.mark.parametrize("k", [1, 5, 8, 9, 17, 64, 131])
def test_blocked_triangular_solves_match_lapack(rng, k):
    # the substitutions take the factor's rows eight at a time: every size (a multiple of 8 or
    # not, smaller than 8), several right-hand sides, and a forward solve resumed at row k0
    from scipy.linalg import solve_triangular

    from regstats.solver import factor

    A = rng.standard_normal((k + 3, k))
    U = np.zeros((k + 5, k + 5))  # a buffer larger than the factor, as in the solver
    U[:k, :k] = np.linalg.cholesky(A.T @ A + 0.1 * np.eye(k)).T
    Uk = U[:k, :k]
    b = rng.standard_normal(k)
    z = np.empty(k)
    factor.forward(U, k, b, z)
    np.testing.assert_allclose(z, solve_triangular(Uk, b, trans="T"), rtol=1e-10, atol=1e-12)
    x = np.empty(k)
    factor.backward(U, k, z, x)
    np.testing.assert_allclose(x, solve_triangular(Uk, z), rtol=1e-10, atol=1e-12)
    factor.backward(U, k, z, z)  # in place
    np.testing.assert_allclose(z, x, rtol=1e-14, atol=1e-14)
    W = rng.standard_normal((3, k))
    expected = solve_triangular(Uk, W.T, trans="T").T
    factor._forward_block(U, k, W)
    np.testing.assert_allclose(W, expected, rtol=1e-10, atol=1e-12)
    t, y = b.copy(), np.empty(k)
    factor.forward_and_matvec(U, k, t, x, y)  # the conjugate-gradient start: both in one pass
    np.testing.assert_allclose(t, solve_triangular(Uk, b, trans="T"), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y, Uk @ x, rtol=1e-12, atol=1e-12)
    for k0 in {0, k // 3, k - 1}:
        z0 = solve_triangular(U[:k0, :k0], b[:k0], trans="T") if k0 else np.zeros(0)
        np.testing.assert_allclose(factor.forward_from(U, k, b, np.ascontiguousarray(z0), k0),
                                   solve_triangular(Uk, b, trans="T"), rtol=1e-10, atol=1e-12)


def test_working_set_kernels_match_their_numpy_expressions(rng):
    # the strong rule's working set, its zero members and the support's X'r/n from the Newton
    # equations: one pass each instead of several array operations, the same numbers bit for bit
    from regstats.solver.cd import strong_rule, support_gradient, zero_members

    p = 500
    q = rng.standard_normal(p)
    v = rng.uniform(0.0, 2.0, p)
    v[:5] = 0.0
    xx = rng.uniform(0.5, 1.5, p)
    xx[10:13] = 0.0  # constant columns never join
    ever = rng.random(p) < 0.1
    beta = np.where(rng.random(p) < 0.2, rng.standard_normal(p), 0.0)
    a, lam, lam_prev = 0.7, 0.3, 0.33
    expected = (ever | (np.abs(q) >= a * v * (2.0 * lam - lam_prev))) & (xx > 0)
    strong = strong_rule(q, v, xx, ever, a, 2.0 * lam - lam_prev, np.empty(p, dtype=bool))
    np.testing.assert_array_equal(strong, expected)
    assert 0 < strong.sum() < p
    ws = np.flatnonzero(strong)
    np.testing.assert_array_equal(zero_members(strong, beta), ws[beta[ws] == 0.0])
    np.testing.assert_array_equal(support_gradient(beta, v, a, lam, np.empty(p)),
                                  lam * v * (a * np.sign(beta) + (1.0 - a) * beta))


@pytest.mark.parametrize("K", [0, 1, 2])
def test_predict_q_matches_its_bound_in_numpy(rng, K):
    # the prediction from the references and which zeros its bound cannot certify, against the
    # formula of _Gradient's docstring written out in numpy (same order of operations)
    from regstats.solver.cd import predict_q

    p = 400
    Q = rng.standard_normal((K + 1, p))
    E = np.abs(rng.standard_normal((K + 1, p))) * 1e-3
    E[0, :4] = 1e300  # no bound (a former nonzero's reference): never certified
    alpha = rng.standard_normal(K)
    sxx = rng.uniform(0.5, 2.0, p)
    beta = np.where(rng.random(p) < 0.1, 1.0, 0.0)
    beta[:8] = 0.0
    thr = np.full(p, 1.2)
    thr[7] = 0.0  # unpenalized: never certified
    en, spread = 0.02, 0.7
    v = Q[0].copy()
    b = E[0] + sxx * en
    size = np.abs(Q[0])
    for k in range(K):
        v += alpha[k] * (Q[k] - Q[k + 1])
        b += abs(alpha[k]) * (E[k] + E[k + 1])
        size += abs(alpha[k]) * (np.abs(Q[k]) + np.abs(Q[k + 1]))
    b = (b + 1e-13 * (size + sxx * spread)) * (1.0 + 1e-12) + 1e-300
    # thresholds a hair above or below prediction + bound: any change of the bound shows
    edge = np.abs(v[8:]) + b[8:] * np.where(np.arange(8, p) % 2, 1.0 + 1e-13, 1.0 - 1e-13)
    thr[8:] = np.where(np.arange(8, p) % 3, edge, thr[8:])
    open_ = (beta == 0.0) & ((thr <= 0.0) | (np.abs(v) + b >= thr))
    for skip in (True, False):
        pred = np.empty(p)
        cols = predict_q(Q, E, alpha, sxx, en, spread, beta, thr, pred, skip)
        np.testing.assert_array_equal(pred, v)
        np.testing.assert_array_equal(cols, np.flatnonzero(open_ | (~skip & (beta != 0.0))))
        assert 0 < open_.sum() < (beta == 0).sum() and open_[:4].all() and open_[7]


def test_kkt_scan_matches_the_numpy_checks(rng):
    from regstats.solver.cd import kkt_scan

    p = 500
    q = rng.standard_normal(p)
    thr = np.abs(rng.standard_normal(p))
    beta = np.where(rng.random(p) < 0.2, rng.standard_normal(p), 0.0)
    xx = np.where(rng.random(p) < 0.05, 0.0, 1.0)
    strong = rng.random(p) < 0.5
    viol = np.ones(p, dtype=bool)
    ok, m = kkt_scan(q, beta, thr, xx, strong, viol)
    zero = (beta == 0) & (xx > 0)
    assert ok == (not np.any(np.abs(q[zero]) > thr[zero] * (1 + 1e-10)))
    expected = ~strong & (np.abs(q) > thr) & (xx > 0)
    np.testing.assert_array_equal(viol, expected)
    assert m == expected.sum() and not ok
    q2 = np.where(zero, 0.5 * thr, q)  # every zero inside its threshold
    assert kkt_scan(q2, beta, thr, xx, np.ones(p, dtype=bool), viol) == (True, 0)


def test_guess_entries_matches_the_numpy_rule(rng):
    from regstats.solver.cd import guess_entries

    n, p = 40, 300
    X = np.asfortranarray(rng.standard_normal((n, p)))
    q_end, q_pp = rng.standard_normal(p), rng.standard_normal(p)
    thr = np.full(p, 1.0)
    thr[:5] = 0.0  # unpenalized: never guessed
    beta = np.where(rng.random(p) < 0.1, 1.0, 0.0)
    strong = rng.random(p) < 0.7
    xx, ridge = np.ones(p), np.full(p, 0.3)
    r = rng.standard_normal(n)
    pred = q_end + (q_end - q_pp) * 0.4
    cand = np.flatnonzero(strong & (beta == 0) & (np.abs(pred) > 0.99 * thr) & (thr > 0))[:7]
    b2, r2, guess, probe = beta.copy(), r.copy(), np.ones(p, dtype=bool), np.ones(p, dtype=bool)
    m = guess_entries(X, r2, q_end, q_pp, 0.4, strong, b2, thr, xx, ridge, 0.99, 7, guess, 0.9, probe)
    assert m == cand.size == 7
    np.testing.assert_array_equal(np.flatnonzero(guess), cand)
    # the probes: the other zeros of the working set predicted at 0.9 of the threshold or more,
    # up to the seventh guess (the room)
    band = strong & (beta == 0) & (np.abs(pred) >= 0.9 * thr) & (thr > 0)
    band[cand] = False
    band[cand[-1]:] = False
    np.testing.assert_array_equal(probe, band)
    m = guess_entries(X, r.copy(), q_end, q_pp, 0.4, strong, beta.copy(), thr, xx, ridge, 0.99, p, guess,
                      0.9, probe)
    band = strong & (beta == 0) & (np.abs(pred) >= 0.9 * thr) & (np.abs(pred) <= 0.99 * thr) & (thr > 0)
    assert m > 7 and band.sum() >= 3
    np.testing.assert_array_equal(probe, band)
    z = np.maximum(np.abs(pred[cand]) - 1.0, 1e-3)
    np.testing.assert_allclose(b2[cand], np.sign(pred[cand]) * z / 1.3, rtol=1e-14)
    np.testing.assert_allclose(r2, r - X[:, cand] @ b2[cand], rtol=1e-12, atol=1e-12)
