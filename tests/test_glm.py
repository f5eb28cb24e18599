"""Binomial and Poisson paths (regstats.glm on arrays): R glmnet fixtures, KKT, statsmodels' GLM."""
from __future__ import annotations

import json
from pathlib import Path as FsPath

import numpy as np
import pandas as pd
import pytest

from regstats.errors import DataError, ParameterError
from regstats.family import BINOMIAL, POISSON, family_of
from regstats.glm import _standardized, glm_kkt, glm_path

G = FsPath(__file__).parent / "fixtures" / "glmnet_glm"


def _case(case):
    f = json.loads((G / f"{case}.json").read_text())
    if f["family"] == "binomial":
        d = pd.read_csv(G / "binomial.csv")
        kw = {"penalty_factor": np.array(f["penalty_factor"])} if "penalty_factor" in f else {}
        return f, d[f["column_names"]].to_numpy(), d["y"].to_numpy(), BINOMIAL, kw
    d = pd.read_csv(G / "poisson.csv")
    kw = {"offset": np.log(d["exposure"].to_numpy()), "weights": d["w"].to_numpy()}
    return f, d[f["column_names"]].to_numpy(), d["mdvis"].to_numpy(), POISSON, kw


@pytest.mark.parametrize("case, coef_tol", [("binomial_a1", 2e-3), ("binomial_a0.5", 5e-4),
                                            ("binomial_pf_a1", 2e-3), ("poisson_a1", 1e-5),
                                            ("poisson_a0.5", 1e-5)])
def test_glm_path_is_kkt_exact_and_equals_glmnet(case, coef_tol):
    f, X, y, fam, kw = _case(case)
    lam = np.array(f["lambda"])
    grid = glm_path(X, y, fam, l1_ratio=f["alpha"], n_lambda=100, **kw).lambdas
    np.testing.assert_allclose(grid, lam, rtol=1e-10)
    sol = glm_path(X, y, fam, l1_ratio=f["alpha"], lambdas=lam, tol=1e-12, **kw)
    assert sol.converged.all()
    n = len(y)
    w = np.ones(n) if "weights" not in kw else kw["weights"] * n / kw["weights"].sum()
    off = kw.get("offset", np.zeros(n))
    Xs, prep = _standardized(X, y, w, kw.get("penalty_factor"), True, True)
    b0 = sol.intercept + sol.coef @ prep.x_mean
    worst = max(glm_kkt(fam, Xs, y, w, off, b0[k], sol.beta[k], lam[k], f["alpha"], prep.v, prep.constant)
                for k in range(len(lam)))
    assert worst < 1e-8
    # glmnet's own answer is exact to ~1e-4 lam on the collinear breast-cancer design: compare within it
    glm_std = np.array(f["beta"]) * sol.x_scale[None, :]
    assert np.abs(sol.beta - glm_std).max() < coef_tol
    np.testing.assert_allclose(sol.dev_ratio, f["dev_ratio"], atol=1e-6)
    assert sol.null_deviance == pytest.approx(f["nulldev"] * n / (np.sum(kw["weights"]) if "weights" in kw else n),
                                              rel=1e-10)


@pytest.mark.parametrize("fam", [BINOMIAL, POISSON])
def test_tiny_lambda_is_the_maximum_likelihood_fit_of_statsmodels(fam):
    import statsmodels.api as sm

    rng = np.random.default_rng(7)
    n = 300
    X = rng.standard_normal((n, 4)) * [1.0, 2.0, 0.5, 3.0] + [0.0, 1.0, -2.0, 0.5]
    eta = 0.3 + X @ np.array([0.8, -0.3, 0.5, 0.1]) * (0.5 if fam is POISSON else 1.0)
    off = rng.uniform(-0.5, 0.5, n) if fam is POISSON else np.zeros(n)
    mu = fam.mean(eta + off)
    y = rng.binomial(1, mu).astype(float) if fam is BINOMIAL else rng.poisson(mu).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    sol = glm_path(X, y, fam, weights=w, offset=off, lambdas=np.array([1e-12]), tol=1e-12)
    sm_fam = sm.families.Binomial() if fam is BINOMIAL else sm.families.Poisson()
    ref = sm.GLM(y, sm.add_constant(X), family=sm_fam, offset=off, freq_weights=w).fit(tol=1e-14)
    np.testing.assert_allclose(np.r_[sol.intercept[0], sol.coef[0]], ref.params, rtol=1e-6, atol=1e-8)
    # deviances on the same weights (ours normalised to sum n)
    assert sol.deviance[0] == pytest.approx(ref.deviance * n / w.sum(), rel=1e-8)


@pytest.mark.parametrize("solver", ["auto", "naive"])
@pytest.mark.parametrize("fam", [BINOMIAL, POISSON])
def test_lambda_zero_is_the_maximum_likelihood_fit(fam, solver):
    """lam = 0 exactly (DESIGN §1: the unpenalized fit), alone and at the end of a path: statsmodels'
    MLE, at the default tol and with the naive solver too (it used to divide by lam)."""
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    X = rng.standard_normal((80, 3))
    mu = fam.mean(0.2 + X @ np.array([0.9, -0.5, 0.0]))
    y = rng.binomial(1, mu).astype(float) if fam is BINOMIAL else rng.poisson(mu).astype(float)
    sm_fam = sm.families.Binomial() if fam is BINOMIAL else sm.families.Poisson()
    ref = sm.GLM(y, sm.add_constant(X), family=sm_fam).fit(tol=1e-14).params
    for lams in ([0.0], [0.05, 0.01, 0.0]):
        sol = glm_path(X, y, fam, lambdas=np.array(lams), solver=solver)
        assert sol.converged.all()
        np.testing.assert_allclose(np.r_[sol.intercept[-1], sol.coef[-1]], ref, rtol=1e-6, atol=1e-7)


def test_lambda_zero_on_separated_classes_warns_and_stops():
    """No maximum-likelihood fit exists: lam = 0 must neither hang nor crash, and says why."""
    x = np.arange(10.0)[:, None]
    y = (x[:, 0] > 4).astype(float)
    with pytest.warns(Warning, match="separat"):
        sol = glm_path(x, y, BINOMIAL, lambdas=np.array([0.0]))
    assert np.isfinite(sol.coef).all() and sol.coef[0, 0] > 10


@pytest.mark.parametrize("fam", [BINOMIAL, POISSON])
def test_unpenalized_columns_without_a_maximum_likelihood_fit_are_an_error(fam):
    """When the intercept and the columns of penalty factor 0 separate the classes (or fit a group of
    zero counts exactly) no fit exists at any lambda: a clear DataError, not a solver that runs on."""
    rng = np.random.default_rng(5)
    g = np.repeat([0.0, 1.0], 20)
    y = g.copy() if fam is BINOMIAL else np.where(g > 0, rng.poisson(3.0, 40), 0).astype(float)
    X = np.column_stack([g, rng.standard_normal((40, 3))])
    with pytest.raises(DataError, match="no maximum-likelihood fit.*penalty factor > 0"):
        glm_path(X, y, fam, penalty_factor=np.array([0.0, 1.0, 1.0, 1.0]))
    sol = glm_path(X, y, fam, penalty_factor=np.array([0.5, 1.0, 1.0, 1.0]), lambdas=np.array([0.1, 0.05]))
    assert np.isfinite(sol.coef).all()


def test_unit_deviances_against_statsmodels():
    import statsmodels.api as sm

    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3])
    mu = np.array([0.2, 0.7, 0.999, 0.01, 0.5])
    np.testing.assert_allclose(BINOMIAL.unit_deviance(y, mu),
                               sm.families.Binomial().resid_dev(y, mu) ** 2, rtol=1e-10)
    yc = np.array([0.0, 3.0, 1.0, 7.0])
    muc = np.array([0.5, 2.0, 1.0, 9.0])
    np.testing.assert_allclose(POISSON.unit_deviance(yc, muc),
                               sm.families.Poisson().resid_dev(yc, muc) ** 2, rtol=1e-10)


def test_bad_responses_are_named():
    X = np.arange(12.0).reshape(6, 2) ** [1, 2]
    with pytest.raises(DataError, match="0/1"):
        glm_path(X, np.array([0, 1, 2, 0, 1, 0.0]), BINOMIAL)
    with pytest.raises(DataError, match="one class"):
        glm_path(X, np.ones(6), BINOMIAL)
    with pytest.raises(DataError, match="counts >= 0"):
        glm_path(X, np.array([0, 1, -2, 0, 1, 3.0]), POISSON)
    with pytest.raises(DataError, match="nothing to fit"):
        glm_path(X, np.zeros(6), POISSON)
    with pytest.raises(ParameterError, match="solver must be"):
        glm_path(X, np.array([0, 1, 1, 0, 1, 0.0]), BINOMIAL, solver="newton")
    with pytest.raises(ParameterError, match="family must be one of"):
        family_of("gamma")
    assert family_of("Binomial") is BINOMIAL


@pytest.mark.parametrize("case", ["cv_binomial", "cv_poisson"])
def test_cv_equals_cvglmnet_for_each_loss(case):
    from regstats.glm_cv import cv_of_means, held_out_means

    f = json.loads((G / f"{case}.json").read_text())
    if f["family"] == "binomial":
        d = pd.read_csv(G / "binomial.csv")
        X, y, fam, kw = d.drop(columns="y").to_numpy(), d["y"].to_numpy(), BINOMIAL, {}
        losses = ["deviance", "class", "auc", "mse", "mae"]
    else:
        d = pd.read_csv(G / "poisson.csv")
        cols = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]
        X, y, fam = d[cols].to_numpy(), d["mdvis"].to_numpy(), POISSON
        kw = {"offset": np.log(d["exposure"].to_numpy()), "weights": d["w"].to_numpy()}
        losses = ["deviance", "mse", "mae"]
    fid = np.array(f["foldid"]).astype(int)
    lam = np.array(f["lambda"])
    mu = held_out_means(X, y, fam, fid, lam, tol=1e-12, **kw)
    for loss in losses:
        r = cv_of_means(fam, y, mu, fid, lam, loss, kw.get("weights"))
        g = f[loss]
        # glmnet's fold fits are exact to ~1e-4 lam on this collinear design: the curves agree to that
        np.testing.assert_allclose(r.cv_mean, g["cvm"], rtol=5e-5)
        np.testing.assert_allclose(r.cv_se, g["cvsd"], rtol=5e-5, atol=1e-12)
        assert (r.lambda_min, r.lambda_1se) == (g["lambda_min"], g["lambda_1se"]), loss


def test_weighted_auc_against_sklearn():
    from sklearn.metrics import roc_auc_score

    from regstats.glm_cv import weighted_auc

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200).astype(float)
    s = np.round(rng.standard_normal(200) + y, 1)          # ties
    w = rng.uniform(0.2, 3.0, 200)
    assert weighted_auc(y, s, w) == pytest.approx(roc_auc_score(y, s, sample_weight=w), rel=1e-12)
    assert weighted_auc(y, s, np.ones(200)) == pytest.approx(roc_auc_score(y, s), rel=1e-12)


def test_binary_response_codes_labels_as_r_does():
    import pandas as pd

    from regstats.family import binary_response

    y, lv = binary_response(["yes", "no", "yes", "no"])
    assert lv == ("no", "yes") and y.tolist() == [1.0, 0.0, 1.0, 0.0]        # sorted: "no" is 0
    cat = pd.Categorical(["b", "a", "b"], categories=["b", "a"])
    y, lv = binary_response(cat)
    assert lv == ("b", "a") and y.tolist() == [0.0, 1.0, 0.0]                # a categorical's own order
    y, lv = binary_response([True, False, True])
    assert lv == ("False", "True") and y.tolist() == [1.0, 0.0, 1.0]
    y, lv = binary_response([0.25, 1.0, 0.0])                                # proportions pass through
    assert lv is None and y.tolist() == [0.25, 1.0, 0.0]
    with pytest.raises(DataError, match="two levels; got 3"):
        binary_response(["a", "b", "c"])
    with pytest.raises(DataError, match="0/1"):
        binary_response([0, 1, 2])
    with pytest.raises(DataError, match="missing"):
        binary_response(["a", None, "b"])


def _separable(seed=1, n=200, p=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)


def test_separated_classes_stop_the_default_path_with_a_warning():
    from regstats.errors import ConvergenceWarning

    X, y = _separable()
    with pytest.warns(ConvergenceWarning, match="separated"):
        sol = glm_path(X, y, BINOMIAL, lambda_min_ratio=1e-7)
    assert len(sol.lambdas) < 100 and "devmax" in sol.stop_reason
    assert sol.dev_ratio[-1] > 0.999 >= sol.dev_ratio[-2]          # glmnet's rule: stop at the first past it
    assert sol.converged.all()
    # the path is glmnet's grid as far as it goes
    np.testing.assert_allclose(sol.lambdas, glm_path(X, y, BINOMIAL, lambda_min_ratio=1e-7, n_lambda=100,
                                                     devmax=1.0).lambdas[:len(sol.lambdas)], rtol=1e-12)


@pytest.mark.parametrize("solver", ["qn", "naive"])
def test_separated_classes_at_given_tiny_lambdas_finish_and_say_why(solver):
    from regstats.errors import ConvergenceWarning

    X, y = _separable()
    lam = np.geomspace(0.3, 1e-8, 30)
    with pytest.warns(ConvergenceWarning, match="separated"):
        sol = glm_path(X, y, BINOMIAL, lambdas=lam, solver=solver, max_iter=50)
    assert len(sol.lambdas) == 30                                    # given lambdas are all fitted
    assert sol.converged.all()
    # the direction of the coefficients settles on a separating one: every row on its side
    b = sol.coef[-1]
    assert np.all((X @ b + sol.intercept[-1] > 0) == (y == 1))


@pytest.mark.parametrize("shape", [(120, 300), (3000, 15)])
def test_tight_tol_is_kkt_exact_for_both_solvers(shape):
    rng = np.random.default_rng(5)
    n, p = shape
    X = rng.standard_normal((n, p)) + 0.4 * rng.standard_normal((n, 1))      # correlated columns
    eta = X[:, :4] @ np.array([1.5, -1.0, 0.8, 0.5])
    y = rng.binomial(1, 1.0 / (1.0 + np.exp(-eta))).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    pf = np.r_[0.0, np.ones(p - 2), 2.0]
    sols = {s: glm_path(X, y, BINOMIAL, weights=w, penalty_factor=pf, l1_ratio=0.7, n_lambda=30, tol=1e-11,
                        solver=s) for s in ("qn", "naive")}
    wn = w * n / w.sum()
    Xs, prep = _standardized(X, y, wn, pf, True, True)
    for sol in sols.values():
        assert sol.converged.all()
        b0 = sol.intercept + sol.coef @ prep.x_mean
        worst = max(glm_kkt(BINOMIAL, Xs, y, wn, np.zeros(n), b0[k], sol.beta[k], sol.lambdas[k], 0.7, prep.v,
                            prep.constant) for k in range(len(sol.lambdas)))
        assert worst < 2e-9
    assert np.abs(sols["qn"].beta - sols["naive"].beta).max() < 1e-7


def test_poisson_with_offset_default_tol_is_kkt_within_1e5_lambda():
    rng = np.random.default_rng(11)
    n, p = 4000, 30
    X = rng.standard_normal((n, p))
    off = np.log(rng.uniform(0.5, 3.0, n))
    y = rng.poisson(np.exp(0.2 + X[:, :3] @ np.array([0.4, -0.3, 0.2]) + off)).astype(float)
    sol = glm_path(X, y, POISSON, offset=off)
    w = np.ones(n)
    Xs, prep = _standardized(X, y, w, None, True, True)
    b0 = sol.intercept + sol.coef @ prep.x_mean
    kkt = [glm_kkt(POISSON, Xs, y, w, off, b0[k], sol.beta[k], sol.lambdas[k], 1.0, prep.v, prep.constant)
           for k in range(len(sol.lambdas))]
    assert sol.converged.all() and max(kkt) <= 1.0001e-5
    assert max(kkt) > 1e-9          # the default tol is not an exact solve (that is tol <= 1e-9's job)


def test_fdev_stops_where_glmnets_rule_does_on_its_own_deviance_ratios():
    f, X, y, fam, kw = _case("binomial_pf_a1")          # recorded with fdev = 0: the whole grid
    d = np.array(f["dev_ratio"])
    stop = next(k for k in range(4, len(d)) if d[k] - d[k - 1] < 1e-5)
    sol = glm_path(X, y, fam, fdev=1e-5, **kw)
    assert len(sol.lambdas) == stop + 1 and "fdev" in sol.stop_reason
    np.testing.assert_allclose(sol.dev_ratio, d[:stop + 1], atol=1e-6)


def test_a_path_that_outgrows_the_gram_solver_switches_to_coordinate_descent(monkeypatch):
    from regstats import glm as glm_mod

    rng = np.random.default_rng(9)
    n, p = 150, 60
    X = rng.standard_normal((n, p))
    y = rng.binomial(1, 1.0 / (1.0 + np.exp(-X[:, :6] @ np.full(6, 0.7)))).astype(float)
    kw = dict(n_lambda=20, lambda_min_ratio=0.05, tol=1e-10)
    ref = glm_path(X, y, BINOMIAL, **kw)
    monkeypatch.setattr(glm_mod._QuasiNewton, "MAX_T", 12)          # the strong set outgrows it midway
    sol = glm_path(X, y, BINOMIAL, **kw)
    assert sol.converged.all() and (np.count_nonzero(sol.beta, axis=1) > 12).any()
    assert np.abs(sol.beta - ref.beta).max() < 1e-7


@pytest.mark.parametrize("solver", ["qn", "naive"])
def test_no_intercept_tiny_lambda_is_statsmodels_fit_without_constant(solver):
    import statsmodels.api as sm

    rng = np.random.default_rng(21)
    n = 400
    X = rng.standard_normal((n, 3)) + [0.5, -0.2, 0.0]
    y = rng.binomial(1, 1.0 / (1.0 + np.exp(-(X @ np.array([0.9, -0.6, 0.4]))))).astype(float)
    sol = glm_path(X, y, BINOMIAL, intercept=False, lambdas=np.array([1e-12]), tol=1e-12, solver=solver)
    ref = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-14)
    assert sol.intercept[0] == 0.0
    np.testing.assert_allclose(sol.coef[0], ref.params, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("newton, sweeps_range", [((1, 1), (2, 10)), ((4, 8), (5, 60)), ((10**9, 10**9), (300, 5000))])
def test_model_solve_meets_its_kkt_conditions_with_and_without_feature_sign_newton(newton, sweeps_range):
    """The quadratic model of a quasi-Newton step (elastic net, an unpenalized column, an intercept),
    from a warm start whose signs are wrong: its KKT conditions, checked here in numpy, hold with
    the feature-sign Newton solves (each step pins coordinates whose signs flip) and without them;
    with a solve after every sweep it takes a few sweeps, coordinate descent alone hundreds."""
    from regstats.solver.glm_cd import model_cd

    rng = np.random.default_rng(21)
    n, m = 60, 40
    A = rng.standard_normal((n, m)) + 0.7 * rng.standard_normal((n, 1))       # ill-conditioned
    q = rng.uniform(0.05, 0.25, n)
    H = (A * q[:, None]).T @ A / n
    h = A.T @ q / n
    h00 = q.sum() / n
    g = rng.standard_normal(m) * 0.05
    g0 = 0.01
    bT = rng.standard_normal(m) * 0.3                  # warm start: many signs wrong
    bT[::3] = 0.0
    v = np.ones(m)
    kind = np.ones(m, dtype=np.int8)
    kind[5] = 2                                          # unpenalized (its v is 0, as the callers pass it)
    v[5] = 0.0
    a, lam = 0.8, 0.02
    d = np.zeros(m + 1)
    sweeps = model_cd(H, h, h00, g, g0, bT, v, kind, a, lam, d, 1e-12, 100_000, True, newton[1], newton[0])
    assert sweeps_range[0] <= sweeps <= sweeps_range[1]
    c = bT + d[:m]
    grad = -g + H @ d[:m] + h * d[m] + lam * (1 - a) * v * c * (kind == 1)
    viol = np.where(kind == 2, np.abs(grad),
                    np.where(c == 0, np.maximum(np.abs(grad) - lam * a * v, 0),
                             np.abs(grad + lam * a * v * np.sign(c))))
    assert viol.max() < 1e-11
    assert abs(-g0 + h00 * d[m] + h @ d[:m]) < 1e-11
    assert 5 < np.count_nonzero(c) < m and np.any(np.sign(c) * np.sign(bT) < 0)


def test_face_factor_kept_through_bfgs_updates_and_face_changes_is_the_faces_cholesky_factor():
    """The quasi-Newton model's face factor (glm_cd._face_factor) after a BFGS update (a rank-1
    update and a downdate of the factor) and a face that lost two columns and gained three (the
    intercept kept) is the Cholesky factor of the face's matrix -- reached incrementally, not afresh."""
    from regstats.solver import glm_cd

    rng = np.random.default_rng(3)
    n, m = 200, 30
    A = rng.standard_normal((n, m)) + 0.5 * rng.standard_normal((n, 1))
    q = rng.uniform(0.05, 0.25, n)
    H = (A * q[:, None]).T @ A / n
    h = A.T @ q / n
    h00a = np.array([q.sum() / n])
    rid = np.r_[np.full(m, 0.01), 0.0]                  # a ridge part on the columns, none on the intercept
    U, face, fst = glm_cd.new_factor(m)

    def face_matrix(act):
        Aug = np.block([[H, h[:, None]], [h[None, :], h00a[:, None]]])
        idx = np.where(act < 0, m, act)
        return Aug[np.ix_(idx, idx)] + np.diag(rid[idx] + fst[1])

    act = np.r_[np.arange(0, 20), -1].astype(np.int64)
    assert glm_cd._face_factor(H, h, h00a[0], act, act.size, rid, U, face, fst) and fst[2] == 1
    s = rng.standard_normal(m + 1) * 0.1
    yv = np.r_[H @ s[:m] + h * s[m], h @ s[:m] + h00a[0] * s[m]] + 0.01 * s        # curvature > 0
    assert glm_cd.bfgs_update(H, h, h00a, s, yv, U, face, fst)
    act2 = np.r_[np.arange(2, 23), -1].astype(np.int64)
    assert glm_cd._face_factor(H, h, h00a[0], act2, act2.size, rid, U, face, fst)
    assert fst[2] == 1 and fst[3] == 1 and fst[4] == 0 and fst[5] == 0         # no refactorization
    k = int(fst[0])
    assert sorted(face[:k]) == sorted(act2)
    Uk = np.triu(U[:k, :k])
    M = face_matrix(face[:k])
    np.testing.assert_allclose(Uk.T @ Uk, M, atol=1e-13 * np.abs(M).max())


def test_rescaled_model_matrix_has_the_new_diagonal_and_its_kept_factor_is_the_faces_cholesky_factor():
    """glm_cd.rescale_model: the augmented model matrix becomes S A S with its diagonal the one
    given (a column or intercept whose entry is not positive keeps its scale), and the face's
    factor, scaled along instead of refactorized, is the Cholesky factor of the rescaled face's
    matrix; with keep_factor False the factor is dropped."""
    from regstats.solver import glm_cd

    rng = np.random.default_rng(8)
    n, m = 200, 25
    A = rng.standard_normal((n, m)) + 0.5 * rng.standard_normal((n, 1))
    q = rng.uniform(0.05, 0.25, n)
    H = (A * q[:, None]).T @ A / n
    h = A.T @ q / n
    h00a = np.array([q.sum() / n])
    Aug0 = np.block([[H, h[:, None]], [h[None, :], h00a[:, None]]])
    rid = np.zeros(m + 1)
    U, face, fst = glm_cd.new_factor(m)
    act = np.r_[np.arange(3, 20), -1].astype(np.int64)
    assert glm_cd._face_factor(H, h, h00a[0], act, act.size, rid, U, face, fst)
    q2 = q * rng.uniform(0.7, 1.1, n)                       # new weights: the exact new diagonal
    dg = (A * A).T @ q2 / n
    dg[4] = -1.0                                            # (not positive: scale 1)
    h00 = q2.sum() / n
    glm_cd.rescale_model(H, h, h00a, dg, h00, U, face, fst, True)
    s = np.sqrt(np.r_[dg, h00] / np.diag(Aug0), where=np.r_[dg, h00] > 0, out=np.ones(m + 1))
    Aug = np.block([[H, h[:, None]], [h[None, :], h00a[:, None]]])
    np.testing.assert_allclose(Aug, Aug0 * np.outer(s, s), rtol=1e-14, atol=0)
    np.testing.assert_allclose(np.delete(np.diag(Aug), 4), np.delete(np.r_[dg, h00], 4), rtol=1e-14)
    k = int(fst[0])
    assert k == act.size and fst[2] == 1                    # still the factor made once
    idx = np.where(face[:k] < 0, m, face[:k])
    M = Aug[np.ix_(idx, idx)] + fst[1] * np.diag(s[idx] ** 2)   # (the jitter scaled along)
    Uk = np.triu(U[:k, :k])
    np.testing.assert_allclose(Uk.T @ Uk, M, atol=1e-13 * np.abs(M).max())
    np.testing.assert_allclose(Uk, np.linalg.cholesky(M).T, atol=1e-12 * np.abs(Uk).max())
    glm_cd.rescale_model(H, h, h00a, dg, h00, U, face, fst, False)
    assert fst[0] == -1.0


def test_wide_default_path_with_predicted_warm_starts_is_kkt_within_1e5_lambda(monkeypatch):
    """p >> n at the default tol: the predicted warm starts are taken (and move the coefficients),
    the columns outside T are checked from the predicted residual change (most lambdas need no
    pass over them) or the 16-bit copy, every lambda's KKT conditions hold to 1e-5 lam (in double
    precision over every column), and the path is the exact one's to that accuracy."""
    from regstats import glm as glm_mod
    from regstats.solver import naive

    checks = []
    call = naive._Gradient.__call__

    def count(self, *args, **kw):
        out = call(self, *args, **kw)
        checks.append(self.full)
        return out

    monkeypatch.setattr(naive._Gradient, "__call__", count)

    rng = np.random.default_rng(14)
    n, p = 150, 900
    X = rng.standard_normal((n, p)) + 0.5 * rng.standard_normal((n, 1))
    y = rng.binomial(1, 1.0 / (1.0 + np.exp(-X[:, :8] @ np.full(8, 0.6)))).astype(float)
    moved = []
    predict = glm_mod._QuasiNewton.predict

    def spy(self, lam, rho, b, *args):
        before = b.copy()
        out = predict(self, lam, rho, b, *args)
        moved.append(not np.array_equal(before, b))
        return out

    monkeypatch.setattr(glm_mod._QuasiNewton, "predict", spy)
    rescaled = []
    rescale = glm_mod.glm_cd.rescale_model

    def spy_rescale(*args):
        rescaled.append(int(args[7][0]))                   # the face's size held (factor scaled along)
        return rescale(*args)

    monkeypatch.setattr(glm_mod.glm_cd, "rescale_model", spy_rescale)
    sol = glm_path(X, y, BINOMIAL, n_lambda=40)
    assert sum(moved) >= 10
    assert len(rescaled) == sum(moved) and sum(k > 5 for k in rescaled) >= 5
    # (18 checks, 5 of them a full pass over the outside columns)
    assert len(checks) >= 15 and checks[-1] <= len(checks) // 3
    monkeypatch.undo()
    ref = glm_path(X, y, BINOMIAL, lambdas=sol.lambdas, tol=1e-12)
    w = np.ones(n)
    Xs, prep = _standardized(X, y, w, None, True, True)
    b0 = sol.intercept + sol.coef @ prep.x_mean
    kkt = [glm_kkt(BINOMIAL, Xs, y, w, np.zeros(n), b0[k], sol.beta[k], sol.lambdas[k], 1.0, prep.v, prep.constant)
           for k in range(len(sol.lambdas))]
    assert sol.converged.all() and max(kkt) <= 1.0001e-5
    assert np.abs(sol.beta - ref.beta).max() < 1e-4 and np.abs(sol.dev_ratio - ref.dev_ratio).max() < 1e-5


def test_wide_elastic_net_poisson_path_with_rescaled_models_is_kkt_within_1e5_lambda(monkeypatch):
    """The elastic net (the face's factor is dropped, not scaled, when the model is rescaled) on a
    wide Poisson problem: the rescaling is used at most lambdas, every lambda's KKT conditions
    hold to 1e-5 lam and the path is the exact one's (tol=1e-12) to that accuracy."""
    from regstats import glm as glm_mod

    rng = np.random.default_rng(14)
    n, p, a = 150, 900, 0.3
    X = rng.standard_normal((n, p)) + 0.5 * rng.standard_normal((n, 1))
    y = rng.poisson(np.exp(0.4 * X[:, :8] @ np.full(8, 0.6))).astype(float)
    kept = []
    rescale = glm_mod.glm_cd.rescale_model

    def spy(*args):
        kept.append(args[-1])
        return rescale(*args)

    monkeypatch.setattr(glm_mod.glm_cd, "rescale_model", spy)
    sol = glm_path(X, y, POISSON, n_lambda=40, l1_ratio=a)
    monkeypatch.undo()
    assert len(kept) >= 10 and not any(kept)
    ref = glm_path(X, y, POISSON, lambdas=sol.lambdas, tol=1e-12, l1_ratio=a)
    w = np.ones(n)
    Xs, prep = _standardized(X, y, w, None, True, True)
    b0 = sol.intercept + sol.coef @ prep.x_mean
    kkt = [glm_kkt(POISSON, Xs, y, w, np.zeros(n), b0[k], sol.beta[k], sol.lambdas[k], a, prep.v, prep.constant)
           for k in range(len(sol.lambdas))]
    assert sol.converged.all() and max(kkt) <= 1.0001e-5
    assert np.abs(sol.beta - ref.beta).max() < 1e-4 and np.abs(sol.dev_ratio - ref.dev_ratio).max() < 1e-5


@pytest.mark.parametrize("fam_code", [0, 1])
def test_vectorized_row_terms_equal_the_scalar_kernels(fam_code):
    """Many rows: _QuasiNewton.rows (numpy's vectorized exp/log1p) gives the residuals, the loss and
    its sum as glm_cd.rows_sums does, to rounding, including extreme linear predictors."""
    from regstats import glm as glm_mod
    from regstats.solver import glm_cd

    rng = np.random.default_rng(2)
    n = 6000
    eta = rng.standard_normal(n) * 3.0
    eta[:4] = [-800.0, -40.0, 40.0, 750.0 if fam_code == 0 else 30.0]
    y = (rng.random(n) < 0.4).astype(float) if fam_code == 0 else rng.poisson(2.0, n).astype(float)
    w = rng.uniform(0.5, 1.5, n)
    qn = glm_mod._QuasiNewton(np.zeros((n, 2), order="F"), y, w, np.zeros(n), fam_code, np.ones(2, dtype=np.int8),
                              np.ones(2), 1.0, True)
    loss, s0 = qn.rows(eta)
    r_ref = np.empty(n)
    loss_ref, s0_ref = glm_cd.rows_sums(fam_code, y, w, eta, r_ref, 0, n)
    np.testing.assert_allclose(qn.r, r_ref, rtol=1e-14, atol=1e-300)
    assert loss == pytest.approx(loss_ref, rel=1e-13) and s0 == pytest.approx(s0_ref, rel=1e-12, abs=1e-12)


def test_single_precision_kernels_equal_double_precision_products_to_float32_rounding():
    """glm_cd.gradient32 / add_columns32 (the fast steps' passes over X's float32 copy, sums in
    double precision) against the double-precision products of that copy, and within X's
    rounding of the exact ones."""
    from regstats.solver import glm_cd

    rng = np.random.default_rng(4)
    n, p = 3001, 13                                  # p not a multiple of the column blocks
    X = np.asfortranarray(rng.standard_normal((n, p)))
    X32 = X.astype(np.float32, order="F")
    r, r_base, g_base = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(p)
    g = np.empty(p)
    glm_cd.gradient32(X32, r, r_base, g_base, float(n), g)
    np.testing.assert_allclose(g, g_base + X32.astype(float).T @ (r - r_base) / n, rtol=1e-12, atol=1e-14)
    assert np.abs(g - (g_base + X.T @ (r - r_base) / n)).max() < 1e-7
    d, eta_old, eta = rng.standard_normal(p), rng.standard_normal(n), np.empty(n)
    d[3] = 0.0
    glm_cd.add_columns32(X32, d, 0.5, 0.25, eta_old, eta)
    np.testing.assert_allclose(eta, eta_old + 0.5 * (0.25 + X32.astype(float) @ d), rtol=1e-12, atol=1e-12)
    assert np.abs(eta - (eta_old + 0.5 * (0.25 + X @ d))).max() < 1e-5
    # the exact passes' kernel: X'r / n and the diagonal of X'QX / n in one pass
    q, dg = rng.uniform(0.0, 0.25, n), np.empty(p)
    glm_cd.gradient_curvature_all(X, r, q, g, dg)
    np.testing.assert_allclose(g, X.T @ r / n, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dg, (X * X).T @ q / n, rtol=1e-12)


@pytest.mark.parametrize("fam", [BINOMIAL, POISSON])
def test_tall_default_path_with_single_precision_steps_is_kkt_within_1e5_lambda(monkeypatch, fam):
    """n >= 4096 and every column read at each step: some steps are passes over X's float32 copy
    (taken) and H is rescaled at lambdas' starts, yet every lambda's KKT conditions hold to 1e-5 lam in double precision (with weights
    and an offset, which the certifying pass adds back), and the path is the exact one's to that
    accuracy."""
    from regstats.solver import glm_cd

    calls, rescaled = [], []
    kernel, rescale = glm_cd.add_columns32, glm_cd.rescale_model
    monkeypatch.setattr(glm_cd, "add_columns32", lambda *a: (calls.append(1), kernel(*a)))
    # (every column in T: H rescaled at a lambda's start to the diagonal of the last exact pass)
    monkeypatch.setattr(glm_cd, "rescale_model", lambda *a: (rescaled.append(a[0].shape[0]), rescale(*a)))
    rng = np.random.default_rng(21)
    n, p = 6000, 24
    X = rng.standard_normal((n, p)) + 0.5 * rng.standard_normal((n, 1))
    off = 0.3 * rng.standard_normal(n)
    eta = X[:, :5] @ np.array([0.6, -0.5, 0.4, 0.3, -0.2]) + off
    y = (rng.binomial(1, 1.0 / (1.0 + np.exp(-eta))) if fam is BINOMIAL else rng.poisson(np.exp(0.3 * eta)))
    y = y.astype(float)
    w = rng.uniform(0.5, 2.0, n)
    sol = glm_path(X, y, fam, weights=w, offset=off)
    assert len(calls) >= 5 and sum(m == p for m in rescaled) >= 5
    monkeypatch.undo()
    ref = glm_path(X, y, fam, weights=w, offset=off, lambdas=sol.lambdas, tol=1e-12)
    wn = w * n / w.sum()
    Xs, prep = _standardized(X, y, wn, None, True, True)
    b0 = sol.intercept + sol.coef @ prep.x_mean
    kkt = [glm_kkt(fam, Xs, y, wn, off, b0[k], sol.beta[k], sol.lambdas[k], 1.0, prep.v, prep.constant)
           for k in range(len(sol.lambdas))]
    assert sol.converged.all() and max(kkt) <= 1.0001e-5
    assert np.abs(sol.beta - ref.beta).max() < 1e-4 and np.abs(sol.dev_ratio - ref.dev_ratio).max() < 1e-6
