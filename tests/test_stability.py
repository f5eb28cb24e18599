"""Stability selection (regstats/bootstrap.py::stability_selection, stability_parameters).

Oracles: R stabs' ``stabsel_parameters`` arithmetic (assumption = "none"), written out from
its formulas; an independent scikit-learn ``lasso_path`` on the same subsamples; and a
simulation with known support in which the false selections stay within the PFER bound.
"""
import math

import numpy as np
import pytest

import regstats as rs
from regstats._parallel import spawn_seeds
from regstats.bootstrap import Stability, stability_parameters
from regstats.errors import ParameterError

from conftest import make_regression


# -- the error-control arithmetic (stabs::stabsel_parameters, assumption = "none") ------------
@pytest.mark.parametrize("p, thr, q, pfer", [(100, 0.75, None, 1.0), (100, 0.9, None, 2.5), (1000, 0.6, None, 0.5),
                                             (9, 0.75, None, 1.0)])
def test_q_from_threshold_and_pfer(p, thr, q, pfer):
    par = stability_parameters(p, threshold=thr, pfer=pfer)
    q_ref = math.floor(math.sqrt(pfer * (2 * thr - 1) * p))
    assert par["q"] == q_ref
    assert par["pfer"] == pytest.approx(q_ref ** 2 / p / (2 * thr - 1), rel=1e-14)
    assert par["pfer"] <= pfer
    assert par["pfer_specified"] == pfer


def test_known_values():
    # p = 100, threshold 0.75, PFER 1: q = floor(sqrt(50)) = 7, attained bound 49/50
    par = stability_parameters(100, threshold=0.75, pfer=1)
    assert (par["q"], par["pfer"]) == (7.0, pytest.approx(0.98))
    # q = 5, PFER 2, p = 100: threshold (25/200 + 1)/2 = 0.5625, bound back to exactly 2
    par = stability_parameters(100, q=5, pfer=2)
    assert par["threshold"] == pytest.approx(0.5625)
    assert par["pfer"] == pytest.approx(2.0)
    # q = 10, PFER 1, p = 100: (1 + 1)/2 = 1, capped at 1
    assert stability_parameters(100, q=10, pfer=1)["threshold"] == 1.0
    # q = 20, PFER 1, p = 100: the formula exceeds 1, stabs caps the threshold at 1 (bound 4)
    par = stability_parameters(100, q=20, pfer=1)
    assert par["threshold"] == 1.0 and par["pfer"] == pytest.approx(4.0)
    # threshold and q given: PFER = q^2 / ((2 thr - 1) p)
    assert stability_parameters(50, threshold=0.8, q=6)["pfer"] == pytest.approx(36 / (0.6 * 50))


def test_unimodal_bound_arithmetic():
    """stabs' um_const / optimal_cutoff / optimal_q for complementary pairs (B pairs), by hand."""
    B, p = 50, 100
    # threshold > 3/4: C = (1 + 1/B) / (4 (1 - thr + 1/(2B)))
    c = (1 + 1 / B) / (4 * (1 - 0.9 + 1 / (2 * B)))
    assert stability_parameters(p, threshold=0.9, q=10, assumption="unimodal", B=B)["pfer"] == pytest.approx(
        100 / p / c)
    # threshold <= 3/4: C = 2 (2 thr - 1 - 1/(2B))
    assert stability_parameters(p, threshold=0.7, q=5, assumption="unimodal", B=B)["pfer"] == pytest.approx(
        25 / p / (2 * (1.4 - 1 - 0.01)))
    # q solved: the largest integer with q^2 / (p C) <= pfer
    par = stability_parameters(p, threshold=0.9, pfer=1, assumption="unimodal", B=B)
    assert par["q"] == math.floor(math.sqrt(p * c)) == 15
    assert par["pfer"] == pytest.approx(225 / p / c)
    # threshold solved: the first multiple of 1/(2B) above c_min whose bound is below pfer
    par = stability_parameters(p, q=10, pfer=1, assumption="unimodal", B=B)
    assert par["threshold"] == pytest.approx(0.76)
    assert par["pfer"] == pytest.approx(1.0 / ((1 + 1 / B) / (4 * (1 - 0.76 + 1 / (2 * B)))))
    # the unimodal bound is tighter than the assumption-free one at the same (threshold, q)
    assert stability_parameters(p, threshold=0.9, q=10, assumption="unimodal")["pfer"] < \
        stability_parameters(p, threshold=0.9, q=10)["pfer"]


def test_unimodal_selection_runs(stab_data):
    _, _, path = stab_data
    stab = path.stability(threshold=0.9, pfer=1, assumption="unimodal", n_subsamples=5, seed=1)
    assert stab.assumption == "unimodal" and "unimodal" in str(stab.summary())
    assert stab.q == math.floor(math.sqrt(20 * (1 + 1 / 5) / (4 * (1 - 0.9 + 1 / 10))))
    with pytest.raises(ParameterError, match="assumption must be 'none' with sampling='subsample'"):
        path.stability(assumption="unimodal", sampling="subsample")


@pytest.mark.parametrize("kw, msg", [
    ({"threshold": 0.75, "q": 5, "pfer": 1}, "two at a time"),
    ({"threshold": 0.75, "q": 5, "assumption": "r-concave"}, "assumption must be one of"),
    ({"threshold": 0.75}, "two at a time"),
    ({"threshold": 0.5, "q": 5}, "threshold must be a number in (0.5, 1]"),
    ({"threshold": 1.2, "q": 5}, "threshold must be a number in (0.5, 1]"),
    ({"q": 5, "pfer": 0}, "pfer must be a number in (0, inf]"),
    ({"q": 500, "pfer": 1}, "q must be a number in (0, 100]"),
    ({"threshold": 0.55, "pfer": 0.01}, "pfer must allow at least one"),
])
def test_parameter_errors(kw, msg):
    with pytest.raises(ParameterError, match=msg.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        stability_parameters(100, **kw)


# -- the procedure ------------------------------------------------------------------------------
@pytest.fixture
def stab_data(rng):
    df, beta = make_regression(rng, n=100, p=20, k=3, noise=1.0)
    return df, beta, rs.lasso("y ~ .", df, tol=1e-10)


def test_subsample_paths_match_sklearn(stab_data):
    from sklearn.linear_model import lasso_path

    df, _, path = stab_data
    stab = path.stability(q=4, pfer=1, threshold=None, n_subsamples=2, seed=3)
    X = df.drop(columns="y").to_numpy()
    y = df["y"].to_numpy()
    n = len(y)
    nz, chosen = [], []
    for s in spawn_seeds(3, 2):
        perm = np.random.default_rng(s).permutation(n)
        for rows in (np.sort(perm[: n // 2]), np.sort(perm[n // 2: 2 * (n // 2)])):
            Xr, yr = X[rows], y[rows]
            Xs = (Xr - Xr.mean(0)) / Xr.std(0)
            _, coefs, _ = lasso_path(Xs, yr - yr.mean(), alphas=path.lambdas, tol=1e-12, max_iter=100_000)
            z = np.abs(coefs.T) > 1e-9
            ever = np.logical_or.accumulate(z, axis=0)
            ok = np.flatnonzero(ever.sum(axis=1) <= 4)
            chosen.append(ever[ok[-1]])
            held = ever.copy()
            held[ok[-1] + 1:] = ever[ok[-1]]          # the path stops once q have entered
            nz.append(held)
    np.testing.assert_allclose(stab.probabilities.to_numpy(), np.mean(nz, axis=0))
    np.testing.assert_allclose(stab.selection_prob.to_numpy(), np.mean(chosen, axis=0))
    assert stab.n_subsamples == 4
    assert stab.mean_selected <= stab.q


def test_true_support_selected_and_false_selections_within_bound(rng):
    p, s = 30, 3
    false_counts = []
    for _ in range(4):
        df, beta = make_regression(rng, n=120, p=p, k=s, noise=1.0, rho=0.3)
        path = rs.lasso("y ~ .", df)
        stab = path.stability(threshold=0.75, pfer=1, n_subsamples=20, seed=int(rng.integers(1000)))
        truth = {f"x{j}" for j in range(s)}
        assert truth <= set(stab.selected)
        false_counts.append(len(set(stab.selected) - truth))
        assert stab.pfer <= 1
    assert np.mean(false_counts) <= stab.pfer


def test_same_numbers_for_any_n_jobs(stab_data):
    _, _, path = stab_data
    a = path.stability(seed=4, n_subsamples=6)
    b = path.stability(seed=4, n_subsamples=6, n_jobs=2)
    np.testing.assert_array_equal(a.probabilities.to_numpy(), b.probabilities.to_numpy())
    np.testing.assert_array_equal(a.selection_prob.to_numpy(), b.selection_prob.to_numpy())


def test_defaults_and_meinshausen_buhlmann_sampling(stab_data):
    _, _, path = stab_data
    stab = path.stability(seed=1, n_subsamples=5)
    assert stab.pfer_specified == 1.0 and stab.threshold == 0.75
    assert stab.q == math.floor(math.sqrt(0.5 * 20))
    mb = path.stability(seed=1, n_subsamples=7, sampling="subsample")
    assert mb.n_subsamples == 7 and mb.sampling == "subsample"
    frame = stab.to_frame()
    assert list(frame.columns) == ["term", "selection_prob", "max_path_prob", "selected", "lambda_selected"]
    assert set(frame.loc[frame["selected"], "term"]) == set(stab.selected)
    assert (frame["max_path_prob"] >= 0).all()


def test_unpenalized_columns_are_left_out(stab_data):
    df, _, _ = stab_data
    path = rs.lasso("y ~ .", df, penalty_factor={"x19": 0})
    stab = path.stability(seed=2, n_subsamples=3)
    assert stab.p == 19 and "x19" not in stab.selection_prob.index
    assert stab.unpenalized == ("x19",)


def test_results_render(stab_data):
    _, _, path = stab_data
    stab = path.stability(seed=2, n_subsamples=3)
    assert isinstance(stab, Stability)
    assert "PFER bound" in str(stab.summary())
    assert "<table" in stab._repr_html_()
    assert "selection_prob" in stab.summary().to_markdown()
    assert "Stability" in repr(stab)


@pytest.mark.parametrize("kw, msg", [
    ({"sampling": "bootstrap"}, "sampling must be one of"),
    ({"n_subsamples": 0}, "n_subsamples must be an integer >= 1"),
    ({"n_jobs": 0}, "n_jobs must be a nonzero integer"),
    ({"q": 3, "pfer": 1}, "two at a time"),
])
def test_bad_arguments(stab_data, kw, msg):
    _, _, path = stab_data
    with pytest.raises(ParameterError, match=msg):
        path.stability(**kw)


def test_table_paths_and_selection_are_one_quantity(rng):
    """Issue 16 item 4: on prostate the old max_path_prob was 1.0 for every variable (the maximum
    over the whole grid) while the selection used the first-q rule. Now the path ends at the
    selection probability, never exceeds it, and crosses the threshold exactly for the selected."""
    path = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate"))
    stab = path.stability(seed=1, n_subsamples=25)
    probs = stab.probabilities
    np.testing.assert_allclose(probs.iloc[-1].to_numpy(), stab.selection_prob.to_numpy())
    np.testing.assert_allclose(probs.max(axis=0).to_numpy(), stab.selection_prob.to_numpy())
    assert (np.diff(probs.to_numpy(), axis=0) >= 0).all()          # grows as lambda decreases
    frame = stab.to_frame().set_index("term")
    np.testing.assert_allclose(frame["max_path_prob"], frame["selection_prob"])
    assert (frame["max_path_prob"] < 1).any()
    crosses = {c for c in probs.columns if (probs[c] >= stab.threshold).any()}
    assert crosses == set(stab.selected)
    assert frame.loc[list(stab.selected), "lambda_selected"].notna().all()
    assert frame.drop(index=list(stab.selected))["lambda_selected"].isna().all()


def test_stability_plot_shows_the_selection_quantity(rng):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from regstats.report import plots

    path = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate"))
    stab = path.stability(seed=1, n_subsamples=25)
    fig, ax = plt.subplots()
    plots.plot_stability(stab, ax=ax)
    curves = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == len(stab.probabilities)]
    above = {c for c, ln in zip(stab.probabilities.columns, curves) if np.max(ln.get_ydata()) >= stab.threshold}
    assert above == set(stab.selected)
    for c, ln in zip(stab.probabilities.columns, curves):
        assert ln.get_ydata()[-1] == pytest.approx(stab.selection_prob[c])
        assert (ln.get_color() != "0.75") == (c in stab.selected)
    assert "first q" in ax.get_ylabel()
    plt.close(fig)
