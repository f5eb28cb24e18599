"""Coefficient stability: the pairs bootstrap of one fit, and stability selection over a path.

:func:`bootstrap` (``fit.bootstrap()``) resamples rows with replacement and refits the model at
the fit's lambda (``lam="fixed"``) or at a lambda re-chosen by cross-validation inside each
replicate (``lam="cv"``).  It reports, per design column, how often the column is selected, the
mean and sd of its coefficient over the replicates, a percentile interval and the sign
consistency; :meth:`Bootstrap.term_frame` groups a factor's columns into its formula term.

:func:`stability_selection` (``path.stability()``) implements stability selection
(Meinshausen & Bühlmann 2010) with complementary-pairs subsampling (Shah & Samworth 2013), with
the error control of R's ``stabs``: choose two of (threshold, q, PFER) and the third follows from
``PFER <= q^2 / ((2 threshold - 1) p)`` (``assumption = "none"``, the default) or from Shah &
Samworth's unimodal bound (``assumption = "unimodal"``).

Every random step draws from its own child seed (:func:`regstats._parallel.spawn_seeds`), so the
numbers are identical for any ``n_jobs``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from . import _validate as check
from ._parallel import parallel_map, spawn_seeds
from ._summary import Summary
from .errors import ParameterError
from .rowfits import coef_at, coef_row, cv_choose

__all__ = ["bootstrap", "Bootstrap", "stability_selection", "Stability", "stability_parameters"]

#: a coefficient whose magnitude is at most this counts as not selected
_ZERO = 0.0


def _boot_chunk(task: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Replicates for a list of child seeds: (coefficient rows, lambdas used)."""
    ref, lam, beta0, seeds, mode, grid, cv_folds, cv_rule = task
    n = ref.n
    out, lams = [], []
    for s in seeds:
        rng = np.random.default_rng(s)
        rows = rng.integers(0, n, n)
        if mode == "fixed":
            out.append(coef_at(ref, rows, lam, beta0))
            lams.append(lam)
        else:
            k, sol = cv_choose(ref, rows, grid, cv_folds, cv_rule, rng)
            out.append(coef_row(sol, k, ref.intercept))
            lams.append(grid[k])
    return np.array(out), np.array(lams)


def _chunks(items: Sequence[Any], n_chunks: int) -> list[list[Any]]:
    n_chunks = max(1, min(n_chunks, len(items)))
    bounds = np.linspace(0, len(items), n_chunks + 1).round().astype(int)
    return [list(items[bounds[i]:bounds[i + 1]]) for i in range(n_chunks)]


# ---------------------------------------------------------------------------------------------
# the pairs bootstrap of one fit
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Bootstrap:
    """Pairs-bootstrap stability of the coefficients of one fit.

    Attributes
    ----------
    formula : the model formula.
    lam : the fit's lambda.
    lam_mode : ``"fixed"`` (every replicate refit at ``lam``) or ``"cv"`` (lambda re-chosen by
        cross-validation inside each replicate; see ``lambdas``).
    level : coverage of the percentile intervals.
    estimate : the fit's (full-data) coefficients.
    draws : DataFrame, one row per replicate, one column per coefficient (original scale).
    lambdas : lambda used in each replicate.
    selection_freq, mean, sd, ci_lower, ci_upper, sign_consistency : Series indexed by the
        coefficient names; ``sign_consistency`` is the share of the replicates that select a
        column in which its sign is the majority sign (NaN when never selected).
    terms : formula term -> its design columns.
    """

    formula: str
    lam: float
    l1_ratio: float
    lam_mode: str
    level: float
    n_boot: int
    estimate: pd.Series
    draws: pd.DataFrame
    lambdas: np.ndarray
    terms: Mapping[str, tuple[str, ...]] = field(repr=False)
    penalized: tuple[str, ...] = field(repr=False)

    # per-column statistics --------------------------------------------------------------------
    @property
    def selection_freq(self) -> pd.Series:
        """Share of replicates with a nonzero coefficient (1 for unpenalized columns and the intercept)."""
        return (self.draws.abs() > _ZERO).mean().rename("selection_freq")

    @property
    def mean(self) -> pd.Series:
        return self.draws.mean().rename("mean")

    @property
    def sd(self) -> pd.Series:
        return self.draws.std(ddof=1).rename("sd")

    @property
    def ci_lower(self) -> pd.Series:
        return self.draws.quantile((1 - self.level) / 2).rename("ci_lower")

    @property
    def ci_upper(self) -> pd.Series:
        return self.draws.quantile((1 + self.level) / 2).rename("ci_upper")

    @property
    def sign_consistency(self) -> pd.Series:
        pos = (self.draws > _ZERO).sum()
        neg = (self.draws < -_ZERO).sum()
        tot = pos + neg
        out = np.maximum(pos, neg) / tot.where(tot > 0)
        return out.astype(float).rename("sign_consistency")

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: ``term, selection_freq, mean, sd, ci_lower, ci_upper,
        sign_consistency, estimate`` (``term`` is the design column name; ``estimate`` the
        full-data penalized estimate)."""
        cols = [self.selection_freq, self.mean, self.sd, self.ci_lower, self.ci_upper, self.sign_consistency,
                self.estimate.rename("estimate")]
        df = pd.concat(cols, axis=1)
        df.index.name = "term"
        return df.reset_index()

    def term_frame(self) -> pd.DataFrame:
        """One row per formula term (a factor's columns together): ``term, columns, n_columns,
        selection_freq`` (share of replicates selecting any of its columns), ``mean_n_selected``."""
        rows = []
        nz = self.draws.abs() > _ZERO
        for term, cols in self.terms.items():
            cols = [c for c in cols if c in nz.columns]
            if not cols:
                continue
            sub = nz[cols]
            rows.append({"term": term, "columns": ", ".join(cols), "n_columns": len(cols),
                         "selection_freq": float(sub.any(axis=1).mean()),
                         "mean_n_selected": float(sub.sum(axis=1).mean())})
        return pd.DataFrame(rows, columns=["term", "columns", "n_columns", "selection_freq", "mean_n_selected"])

    def summary(self) -> Summary:
        mode = ("fixed at the fit's lambda" if self.lam_mode == "fixed" else
                f"re-chosen by CV in each replicate (median {np.median(self.lambdas):.4g})")
        info = [("Formula", self.formula),
                ("lambda", f"{self.lam:.6g}"),
                ("Replicates", f"{self.n_boot} (pairs bootstrap: rows resampled with replacement)"),
                ("Lambda", mode),
                ("Interval", f"{self.level:.0%} percentile")]
        tables = [("Coefficients", self.to_frame())]
        tf = self.term_frame()
        if (tf["n_columns"] > 1).any():
            tables.append(("Formula terms", tf))
        notes = ["selection_freq: share of replicates with a nonzero coefficient; sign_consistency: share of "
                 "the selecting replicates with the majority sign.",
                 "Percentile intervals of a penalized estimator are not confidence intervals for the true "
                 "coefficients (the penalty biases them toward zero); use fit.inference() for those."]
        return Summary(title="Bootstrap coefficient stability", info=info, tables=tables, notes=notes,
                       index=False)

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        return f"<Bootstrap {self.n_boot} replicates, lambda={self.lam:.4g} ({self.lam_mode})>"


def bootstrap(fit: Any, n_boot: int = 500, seed: Any = None, n_jobs: int = 1, *,
              lam: Literal["fixed", "cv"] = "fixed", level: float = 0.95, cv_folds: int = 10,
              cv_rule: Literal["min", "1se"] = "min", progress: bool = False) -> Bootstrap:
    """Pairs bootstrap of a fit's coefficients.

    Each replicate resamples the n rows used in the fit with replacement and refits the same
    model (formula, penalty, weights, penalty factors, standardization recomputed on the
    replicate).  With ``lam="fixed"`` the refit is at the fit's lambda, warm-started from the
    full-data solution (one lambda, not a whole path); with ``lam="cv"`` each replicate runs
    ``cv_folds``-fold cross-validation over the fit's path grid and uses ``lambda_min`` (or
    ``lambda_1se`` with ``cv_rule="1se"``), so the lambda's own variability is included.

    Parameters
    ----------
    fit : Fit
        The fit to resample (``path.at(lam)``).
    n_boot : int
        Number of replicates.
    seed : None, int, SeedSequence or Generator
        Seed of every random step; the result is the same for any ``n_jobs``.
    n_jobs : int
        Parallel workers (joblib; -1 = all cores).
    lam : {"fixed", "cv"}
    level : float
        Coverage of the percentile intervals.
    cv_folds, cv_rule : folds and rule for ``lam="cv"``.  Folds are assigned to distinct
        original rows, so copies of a resampled row stay in one fold.
    progress : bool
        Show a progress bar.

    Returns
    -------
    Bootstrap

    Examples
    --------
    >>> import regstats as rs
    >>> fit = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate")).at(0.05)
    >>> boot = fit.bootstrap(n_boot=50, seed=1)
    >>> list(boot.to_frame().columns)[:4]
    ['term', 'selection_freq', 'mean', 'sd']
    """
    n_boot = check.positive_int("n_boot", n_boot, 2)
    mode = check.choice("lam", lam, ("fixed", "cv"))
    level = check.real_in("level", level, 0.0, 1.0, lo_open=True, hi_open=True)
    cv_folds = check.positive_int("cv_folds", cv_folds, 2)
    cv_rule = check.choice("cv_rule", cv_rule, ("min", "1se"))
    n_jobs = _n_jobs(n_jobs)
    path = fit.path
    ref = path._model
    seeds = spawn_seeds(seed, n_boot)
    n_chunks = n_boot if n_jobs == 1 else 50
    tasks = [(ref, float(fit.lam), np.asarray(fit._beta, dtype=float), chunk, mode,
              np.asarray(path.lambdas, dtype=float), cv_folds, cv_rule)
             for chunk in _chunks(seeds, n_chunks)]
    res = parallel_map(_boot_chunk, tasks, n_jobs=n_jobs, progress=progress, desc="bootstrap")
    coefs = np.vstack([r[0] for r in res])
    lams = np.concatenate([r[1] for r in res])
    names = list(fit.params.index)
    draws = pd.DataFrame(coefs, columns=names)
    draws.index.name = "replicate"
    v = path._prep.v
    penalized = tuple(c for c, vj in zip(path.column_names, v) if vj > 0)
    return Bootstrap(formula=fit.formula, lam=float(fit.lam), l1_ratio=float(fit.l1_ratio), lam_mode=mode,
                     level=level, n_boot=n_boot, estimate=fit.params.copy(), draws=draws, lambdas=lams,
                     terms=dict(path.terms), penalized=penalized)


def _n_jobs(n_jobs: Any) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or int(n_jobs) == 0:
        raise ParameterError(f"n_jobs must be a nonzero integer (joblib's convention); got {n_jobs!r}")
    return int(n_jobs)


# ---------------------------------------------------------------------------------------------
# stability selection
# ---------------------------------------------------------------------------------------------
def _um_const(threshold: float, B: int, theta: float) -> float:
    """stabs' ``um_const``: the denominator of the unimodal bound of Shah & Samworth (2013, eq. 8-9)."""
    if threshold <= 0.75:
        if threshold < 0.5 + min(theta ** 2, 1 / (2 * B) + 0.75 * theta ** 2):
            raise ParameterError(f"threshold must be above {0.5 + min(theta ** 2, 1 / (2 * B) + 0.75 * theta ** 2):.4g} "
                                 f"for the unimodal bound with q/p = {theta:.4g}; got {threshold:g}")
        return 2 * (2 * threshold - 1 - 1 / (2 * B))
    return (1 + 1 / B) / (4 * (1 - threshold + 1 / (2 * B)))


def stability_parameters(p: int, threshold: float | None = None, q: float | None = None,
                         pfer: float | None = None, *, assumption: Literal["none", "unimodal"] = "none",
                         B: int = 50) -> dict[str, float]:
    """Error-control arithmetic of stability selection (R ``stabs::stabsel_parameters``):
    give two of ``threshold``, ``q``, ``pfer``; the third is solved.

    ``assumption="none"`` (Meinshausen & Bühlmann 2010, Theorem 1; Shah & Samworth 2013,
    Theorem 1 for complementary pairs): ``E(V) <= q^2 / ((2 threshold - 1) p)`` for
    ``threshold`` in (1/2, 1], where V is the number of falsely selected variables, q the average
    number of variables each subsample selects and p the number of (penalized) variables.

    - threshold and pfer given: ``q = floor(sqrt(pfer (2 threshold - 1) p))``;
    - q and pfer given: ``threshold = min(1, (q^2 / (pfer p) + 1) / 2)``;
    - threshold and q given: ``pfer = q^2 / ((2 threshold - 1) p)``.

    ``assumption="unimodal"`` (complementary pairs only, stabs' default for them): the tighter
    bound ``q^2 / (p C(threshold, B))`` of Shah & Samworth (2013, Section 3.3), with
    ``C = 2 (2 threshold - 1 - 1/(2B))`` for threshold <= 3/4 and
    ``(1 + 1/B) / (4 (1 - threshold + 1/(2B)))`` above; B is the number of complementary pairs.
    A solved threshold is the smallest multiple of 1/(2B) whose bound is below ``pfer``, a solved
    q the largest integer whose bound is at most ``pfer`` (stabs' ``optimal_cutoff`` /
    ``optimal_q``).

    Returns
    -------
    dict with ``threshold, q, pfer`` (the bound attained by the returned pair (threshold, q))
    and ``pfer_specified``.
    """
    p = check.positive_int("p", p)
    assumption = check.choice("assumption", assumption, ("none", "unimodal"))
    B = check.positive_int("B", B, 2)
    given = [x is not None for x in (threshold, q, pfer)]
    if sum(given) != 2:
        raise ParameterError("threshold, q and pfer must be given two at a time (the third is solved); got "
                             f"threshold={threshold!r}, q={q!r}, pfer={pfer!r}")
    if threshold is not None:
        threshold = check.real_in("threshold", threshold, 0.5, 1.0, lo_open=True)
    if pfer is not None:
        pfer = check.real_in("pfer", pfer, 0.0, np.inf, lo_open=True)
    if q is not None:
        q = check.real_in("q", q, 0.0, float(p), lo_open=True)
    spec = pfer
    if assumption == "none":
        if threshold is None:
            threshold = min(1.0, (q * q / (pfer * p) + 1.0) / 2.0)
        elif q is None:
            q = float(math.floor(math.sqrt(pfer * (2 * threshold - 1) * p)))
        bound = q * q / p / (2 * threshold - 1)
    else:
        if threshold is None:
            grid = 0.5 + np.arange(2, B + 1) / (2 * B)
            theta = q / p
            c_min = min(0.5 + theta ** 2, 0.5 + 1 / (2 * B) + 0.75 * theta ** 2)
            grid = grid[grid > c_min]
            ok = [c for c in grid if q * q / p / _um_const(float(c), B, theta) < pfer]
            if not ok:
                raise ParameterError(f"pfer must be reachable with q = {q:g} under the unimodal bound; got "
                                     f"pfer={pfer!r} (smallest attainable "
                                     f"{q * q / p / _um_const(float(grid[-1]), B, theta) if grid.size else np.inf:.3g})")
            threshold = float(ok[0])
        elif q is None:
            const = _um_const(threshold, B, 0.0)
            if threshold <= 0.75:
                upper = max(p * math.sqrt(threshold - 0.5),
                            p * math.sqrt(max(4 / 3 * (threshold - 0.5 - 1 / (2 * B)), 0.0)))
                upper = math.ceil(upper - 1)
            else:
                upper = p
            root = math.sqrt(pfer * p * const)
            if not 1 <= root <= upper:
                raise ParameterError(f"pfer must give 1 <= q <= {upper} under the unimodal bound with threshold "
                                     f"{threshold:g}; got pfer={pfer!r} (q would be {root:.3g})")
            q = float(math.floor(root))
        bound = q * q / p / _um_const(threshold, B, q / p)
    if q < 1:
        raise ParameterError(f"pfer must allow at least one selected variable per subsample (q >= 1); got "
                             f"pfer={pfer!r} with threshold={threshold:g}, p={p}")
    if spec is None:
        spec = bound
    return {"threshold": float(threshold), "q": float(q), "pfer": float(bound),
            "pfer_specified": float(spec)}


def _stab_chunk(task: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Fit each subsample's path; return its selection path (m x L x p) and selections (m x p).

    The selection path of a subsample at the k-th lambda is the set of variables that have entered
    its path by then, while at most q have (stabs' ``glmnet.lasso`` with ``pmax = q``); after that
    lambda it stays at the final set, which is the subsample's selection.  So the path probability
    at the smallest lambda is the selection probability, and the path never exceeds it.
    """
    ref, lambdas, subsets, q, pen = task
    paths, sel = [], []
    for rows in subsets:
        prep = ref.prepare(rows)
        sol = ref.solve(prep, lambdas)
        nz = (sol.coef != 0) & pen[None, :]
        ever = np.logical_or.accumulate(nz, axis=0)
        count = ever.sum(axis=1)
        ok = np.flatnonzero(count <= q)
        # stabs' conservative rule: the variables that entered before more than q had
        if ok.size:
            held = ever.copy()
            held[ok[-1] + 1:] = ever[ok[-1]]
        else:
            held = np.zeros_like(ever)
        paths.append(held)
        sel.append(held[-1])
    return np.array(paths), np.array(sel)


@dataclass(frozen=True, eq=False)
class Stability:
    """Stability selection over a lambda path.

    Attributes
    ----------
    formula : the model formula.
    threshold, q, pfer : the selection threshold, the number of variables each subsample selects
        (the first q to enter its path), and the bound on the expected number of false
        selections, ``q^2 / ((2 threshold - 1) p)``.
    p : number of penalized design columns (unpenalized columns are always in the model and not
        part of the selection).
    sampling : ``"complementary"`` (Shah & Samworth: B pairs of disjoint halves) or
        ``"subsample"`` (Meinshausen & Bühlmann: B independent halves).
    n_subsamples : number of fitted subsamples.
    selection_prob : Series, share of subsamples that select each column (stabs' ``max``).
    probabilities : DataFrame, index lambda, one column per penalized column: share of
        subsamples whose selection path (the variables entered by that lambda, while at most q
        have entered; stabs' ``phat``) contains the column.  It increases as lambda decreases and
        ends at ``selection_prob``, so a curve crosses the threshold exactly when the column is
        selected.
    mean_selected : average number of variables a subsample selected (at most q).
    """

    formula: str
    threshold: float
    q: float
    pfer: float
    pfer_specified: float
    p: int
    sampling: str
    n_subsamples: int
    selection_prob: pd.Series
    probabilities: pd.DataFrame
    mean_selected: float
    unpenalized: tuple[str, ...] = ()
    assumption: str = "none"

    @property
    def selected(self) -> tuple[str, ...]:
        """Columns whose selection probability is at least the threshold."""
        s = self.selection_prob
        return tuple(s.index[s >= self.threshold])

    def to_frame(self) -> pd.DataFrame:
        """One row per penalized column: ``term, selection_prob, max_path_prob, selected,
        lambda_selected``.  ``max_path_prob`` is the largest probability on the selection path,
        the same number as ``selection_prob`` (kept for callers that read it); ``lambda_selected``
        the largest lambda at which the path reaches the threshold (NaN when it never does)."""
        probs = self.probabilities.reindex(columns=self.selection_prob.index)
        reach = probs.to_numpy() >= self.threshold
        lam = probs.index.to_numpy(dtype=float)
        first = np.where(reach.any(axis=0), lam[np.argmax(reach, axis=0)], np.nan)
        df = pd.DataFrame({"term": self.selection_prob.index,
                           "selection_prob": self.selection_prob.to_numpy(),
                           "max_path_prob": probs.max(axis=0).to_numpy(),
                           "selected": self.selection_prob.to_numpy() >= self.threshold,
                           "lambda_selected": first})
        return df.sort_values("selection_prob", ascending=False, kind="stable").reset_index(drop=True)

    def summary(self, max_rows: int = 30) -> Summary:
        samp = ("complementary pairs (Shah & Samworth 2013)" if self.sampling == "complementary"
                else "independent half-samples (Meinshausen & Bühlmann 2010)")
        info = [("Formula", self.formula),
                ("Subsamples", f"{self.n_subsamples}, {samp}"),
                ("Penalized columns p", str(self.p)),
                ("q (selected per subsample)", f"{self.q:g} (average actually selected {self.mean_selected:.2f})"),
                ("Threshold", f"{self.threshold:.3g}"),
                ("PFER bound", f"{self.pfer:.3g} expected false selections at most"),
                ("Selected", ", ".join(self.selected) if self.selected else "(none)")]
        if self.assumption == "none":
            notes = ["PFER bound q^2 / ((2 threshold - 1) p): no assumptions on the selection procedure "
                     "beyond exchangeability of the noise variables (stabs' assumption = 'none')."]
        else:
            notes = ["PFER bound of Shah & Samworth (2013) under unimodality of the selection-frequency "
                     "distributions (stabs' assumption = 'unimodal')."]
        if self.unpenalized:
            notes.append(f"Unpenalized columns {list(self.unpenalized)} are always in the model and not selected on.")
        notes.append("selection_prob: share of subsamples whose first q variables to enter the lasso path "
                     "include the column (stabs' rule); the selection paths show the same share lambda by lambda "
                     "and end at it. lambda_selected: the largest lambda where the path reaches the threshold.")
        return Summary(title="Stability selection", info=info,
                       tables=[("Selection probabilities", self.to_frame().head(max_rows))], notes=notes,
                       index=False)

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        return (f"<Stability threshold={self.threshold:.3g} q={self.q:g} PFER<={self.pfer:.3g}: "
                f"{len(self.selected)} selected>")


def stability_selection(path: Any, threshold: float | None = 0.75, pfer: float | None = None, *,
                        q: float | None = None, n_subsamples: int | None = None,
                        sampling: Literal["complementary", "subsample"] = "complementary",
                        assumption: Literal["none", "unimodal"] = "none",
                        seed: Any = None, n_jobs: int = 1, progress: bool = False) -> Stability:
    """Stability selection along a path's lambdas.

    Each subsample (half of the rows, drawn without replacement) is fitted along the path's
    lambda grid; it *selects* the variables that enter its path before more than ``q`` have
    entered (R ``stabs::glmnet.lasso``'s conservative rule).  A column's selection probability is
    the share of subsamples that select it; the stable set is the columns with probability at
    least ``threshold``.  The expected number of false selections is at most
    ``q^2 / ((2 threshold - 1) p)`` (see :func:`stability_parameters`).

    Parameters
    ----------
    path : Path
    threshold, pfer, q : give two, the third is solved as R's ``stabs`` does.  With the default
        ``threshold=0.75`` and neither ``pfer`` nor ``q``, ``pfer=1`` is used.  To solve for the
        threshold, pass ``threshold=None`` with ``q`` and ``pfer``.
    n_subsamples : B: pairs of complementary halves (default 50, so 100 fits) or independent
        halves (``sampling="subsample"``, default 100).
    sampling : {"complementary", "subsample"}
    assumption : {"none", "unimodal"}
        Error bound: ``"none"`` is ``q^2 / ((2 threshold - 1) p)``; ``"unimodal"`` (complementary
        pairs only) is Shah & Samworth's tighter bound under unimodality, R ``stabs``' default
        for complementary pairs.  See :func:`stability_parameters`.
    seed, n_jobs, progress : reproducibility (same numbers for any ``n_jobs``), workers, bar.

    Returns
    -------
    Stability

    Examples
    --------
    >>> import regstats as rs
    >>> path = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate"))
    >>> stab = path.stability(threshold=0.75, pfer=1, seed=1, n_subsamples=10)
    >>> stab.q
    2.0
    """
    sampling = check.choice("sampling", sampling, ("complementary", "subsample"))
    if n_subsamples is None:
        n_subsamples = 50 if sampling == "complementary" else 100
    n_subsamples = check.positive_int("n_subsamples", n_subsamples)
    n_jobs = _n_jobs(n_jobs)
    if threshold is not None and q is None and pfer is None:
        pfer = 1.0
    names = list(path.column_names)
    v = path._prep.v
    pen = (v > 0)
    p = int(pen.sum())
    assumption = check.choice("assumption", assumption, ("none", "unimodal"))
    if assumption == "unimodal" and sampling != "complementary":
        raise ParameterError("assumption must be 'none' with sampling='subsample' (the unimodal bound is for "
                             "complementary pairs); got 'unimodal'")
    par = stability_parameters(p, threshold=threshold, q=q, pfer=pfer, assumption=assumption,
                               B=max(n_subsamples, 2))
    n = path.n_obs
    half = n // 2
    if half < 2:
        raise ParameterError(f"data must have at least 4 rows for stability selection; got {n}")
    seeds = spawn_seeds(seed, n_subsamples)
    subsets: list[np.ndarray] = []
    for s in seeds:
        perm = np.random.default_rng(s).permutation(n)
        subsets.append(np.sort(perm[:half]))
        if sampling == "complementary":
            subsets.append(np.sort(perm[half:2 * half]))
    ref = path._model
    lambdas = np.asarray(path.lambdas, dtype=float)
    n_chunks = len(subsets) if n_jobs == 1 else 50
    tasks = [(ref, lambdas, chunk, par["q"], pen) for chunk in _chunks(subsets, n_chunks)]
    res = parallel_map(_stab_chunk, tasks, n_jobs=n_jobs, progress=progress, desc="stability")
    nz = np.concatenate([r[0] for r in res])      # B' x L x p
    sel = np.concatenate([r[1] for r in res])     # B' x p
    pen_names = [c for c, k in zip(names, pen) if k]
    prob = pd.Series(sel[:, pen].mean(axis=0), index=pen_names, name="selection_prob")
    paths = pd.DataFrame(nz[:, :, pen].mean(axis=0), index=pd.Index(lambdas, name="lambda"), columns=pen_names)
    return Stability(formula=path.formula, threshold=par["threshold"], q=par["q"], pfer=par["pfer"],
                     pfer_specified=par["pfer_specified"], p=p, sampling=sampling, n_subsamples=len(subsets),
                     selection_prob=prob, probabilities=paths, mean_selected=float(sel.sum(axis=1).mean()),
                     unpenalized=tuple(c for c, k in zip(names, pen) if not k), assumption=assumption)
