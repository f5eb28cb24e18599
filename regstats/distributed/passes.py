"""Passes over a dask DataFrame: factor levels and partition offsets, then weighted sufficient
statistics per slot (CV fold, bootstrap replicate, stability half), combined exactly.

A slot's statistics are ``(rows, W, m, C)`` for the augmented row ``z = (x, y)``: the row count,
the weight sum ``W = sum w``, the weighted mean ``m = sum w z / W`` and the centred cross-products
``C = sum w (z - m)(z - m)'``.  Each partition computes them about its own means, and two sets
combine exactly (Chan, Golub & LeVeque 1979):

    W = Wa + Wb,  d = mb - ma,  m = ma + d Wb / W,  C = Ca + Cb + d d' Wa Wb / W

so no sum of squares about zero is ever formed (no cancellation when the means are large).
Randomness is a seeded hash of the row's position in the data (:func:`row_hash`), so fold ids,
Poisson(1) bootstrap weights and stability halves do not depend on the partitioning.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError

_U64 = np.uint64


# ------------------------------------------------------------------------------------------------
# seeded hashing of row positions
# ------------------------------------------------------------------------------------------------
def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
        return z ^ (z >> _U64(31))


def row_hash(seed: int, stream: int, pos: np.ndarray) -> np.ndarray:
    """64 random bits per row position, a function of (seed, stream, position) only."""
    key = _mix(np.array([seed % 2 ** 64], dtype=_U64))[0]
    key = _mix(np.array([key ^ _U64(stream % 2 ** 64)], dtype=_U64))[0]
    return _mix(np.asarray(pos, dtype=_U64) ^ key)


def uniforms(seed: int, stream: int, pos: np.ndarray) -> np.ndarray:
    """Uniform(0, 1) numbers (53 bits) from :func:`row_hash`."""
    return (row_hash(seed, stream, pos) >> _U64(11)).astype(float) * 2.0 ** -53


def hash_folds(pos: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold labels 1..folds for data row positions (stream 0 of ``seed``)."""
    return (row_hash(seed, 0, pos) % _U64(folds)).astype(np.int64) + 1


#: Poisson(1) cumulative probabilities up to 25 (beyond: probability < 1e-25)
_POIS_CDF = np.cumsum([np.exp(-1.0) / np.prod(np.arange(1, k + 1, dtype=float)) for k in range(26)])


def poisson_weights(pos: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Poisson(1) counts (n_boot x rows) for data row positions: replicate b uses stream b + 1."""
    out = np.empty((n_boot, len(pos)))
    for b in range(n_boot):
        out[b] = np.searchsorted(_POIS_CDF, uniforms(seed, b + 1, pos), side="right")
    return out


def halves(pos: np.ndarray, n_pairs: int, seed: int) -> np.ndarray:
    """Complementary halves (2 n_pairs x rows of 0/1): pair b splits rows by one hashed bit
    (stream 10^6 + b), the first half of the pair where the bit is 0, the second where it is 1."""
    out = np.empty((2 * n_pairs, len(pos)))
    for b in range(n_pairs):
        bit = (row_hash(seed, 1_000_000 + b, pos) >> _U64(63)).astype(float)
        out[2 * b] = 1.0 - bit
        out[2 * b + 1] = bit
    return out


# ------------------------------------------------------------------------------------------------
# statistics and their exact combination
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Stats:
    """Sufficient statistics of S slots: rows (S), W (S), m (S x q), C (S x q x q), q = p + 1 (y last)."""

    rows: np.ndarray
    W: np.ndarray
    m: np.ndarray
    C: np.ndarray

    def slot(self, k: int) -> "Stats":
        return Stats(self.rows[k:k + 1], self.W[k:k + 1], self.m[k:k + 1], self.C[k:k + 1])

    def total(self, keep: np.ndarray | None = None) -> "Stats":
        """The slots ``keep`` (all when None) combined into one."""
        idx = np.arange(len(self.W)) if keep is None else np.flatnonzero(keep)
        out = None
        for k in idx:
            out = self.slot(k) if out is None else combine(out, self.slot(k))
        return out


def combine(a: Stats, b: Stats) -> Stats:
    """Slot-wise exact combination of two sets of statistics (module docstring)."""
    W = a.W + b.W
    d = b.m - a.m
    with np.errstate(invalid="ignore", divide="ignore"):
        fb = np.where(W > 0, b.W / np.where(W > 0, W, 1.0), 0.0)
        fab = np.where(W > 0, a.W * b.W / np.where(W > 0, W, 1.0), 0.0)
    m = a.m + d * fb[:, None]
    C = a.C + b.C + fab[:, None, None] * (d[:, :, None] * d[:, None, :])
    return Stats(a.rows + b.rows, W, m, C)


def _slot_stats(Z: np.ndarray, w: np.ndarray, S: int, slot_of: np.ndarray | None,
                slot_w: np.ndarray | None, count_all: bool = False) -> Stats:
    """Statistics of the rows ``Z`` (rows x q) with weights ``w``: either one slot per label of
    ``slot_of`` (0..S-1, each row in one slot), or one slot per row of ``slot_w`` (S x rows,
    weights multiplying ``w``; a slot's row count is its rows of nonzero weight, or all rows with
    ``count_all``, as for observation weights on the pandas path)."""
    q = Z.shape[1]
    rows = np.zeros(S)
    W = np.zeros(S)
    m = np.zeros((S, q))
    C = np.zeros((S, q, q))
    unit = bool(np.all(w == 1.0))
    for k in range(S):
        if slot_w is not None:
            wk = w * slot_w[k]
            Zk = Z
            rows[k] = Z.shape[0] if count_all else np.count_nonzero(slot_w[k])
            unit_k = False
        elif S == 1:
            wk, Zk, unit_k = w, Z, unit
            rows[k] = Z.shape[0]
        else:
            sel = slot_of == k
            wk, Zk, unit_k = w[sel], Z[sel], unit
            rows[k] = Zk.shape[0]
        Wk = float(wk.sum())
        W[k] = Wk
        if Wk <= 0:
            continue
        m[k] = (Zk.sum(axis=0) if unit_k else wk @ Zk) / Wk
        D = Zk - m[k]
        if not unit_k:
            D *= np.sqrt(wk)[:, None]
        C[k] = D.T @ D                     # BLAS syrk (the transpose of the same array)
    C = 0.5 * (C + np.transpose(C, (0, 2, 1)))
    return Stats(rows, W, m, C)


# ------------------------------------------------------------------------------------------------
# what a partition task computes
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Job:
    """What every partition computes: the design recipe, the response and weight columns, how
    rows are assigned to slots, and the factor levels to impose."""

    spec: Any                            # regstats.design.DesignSpec
    response: str
    weights: str | None
    levels: dict                         # text column -> categories (the fit's factor levels)
    mode: str = "folds"                  # "folds" | "bootstrap" | "halves" | "one"
    n_slots: int = 1
    seed: int = 0
    fold_col: str | None = None          # fold labels from a column (mode "folds")
    key: str = field(default_factory=lambda: uuid.uuid4().hex)   # dask's token of the recipe

    def __dask_tokenize__(self) -> tuple:
        return (self.key, self.mode, self.n_slots, self.seed, self.fold_col)


def _design_rows(part: pd.DataFrame, job: Job) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(X, y, w, keep) of a partition: design rows, response, weights and the rows kept (no
    missing value in the variables used), plus the number dropped."""
    if job.levels:
        part = part.copy(deep=False)
        for c, cats in job.levels.items():
            if c in part.columns:
                part[c] = pd.Categorical(part[c], categories=list(cats))
    X = job.spec.transform(part)
    y = pd.to_numeric(part[job.response], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    keep = ~np.isnan(X).any(axis=1) & ~np.isnan(y)
    if job.weights is not None:
        w = pd.to_numeric(part[job.weights], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        keep &= ~np.isnan(w)
    else:
        w = np.ones(len(part))
    return X, y, w, keep, int(len(part) - keep.sum())


def partition_stats(part: pd.DataFrame, offset: int, job: Job) -> dict[str, Any]:
    """One partition's statistics plus its length, rows dropped, largest |x| and checks.

    Label modes (``"one"``, ``"folds"``) give ``groups``: label -> one-slot :class:`Stats`;
    weight modes (``"bootstrap"``, ``"halves"``) give ``slots``: a :class:`Stats` of n_slots slots.
    """
    X, y, w, keep, dropped = _design_rows(part, job)
    pos = offset + np.flatnonzero(keep)
    if not keep.all():
        X, y, w = X[keep], y[keep], w[keep]
    out: dict[str, Any] = {"lengths": [len(part)], "dropped": dropped, "bad": {}}
    if not np.all(np.isfinite(X)):
        out["bad"]["x_inf"] = np.flatnonzero(~np.isfinite(X).all(axis=0)).tolist()
    if not np.all(np.isfinite(y)):
        out["bad"]["y_inf"] = True
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        out["bad"]["w_bad"] = True
    if out["bad"]:
        return out
    out["amax"] = np.maximum(X.max(axis=0), -X.min(axis=0)) if X.shape[0] else np.zeros(X.shape[1])
    if job.mode in ("one", "folds"):
        if job.mode == "one":
            lab = np.zeros(len(y), dtype=np.int64)
        elif job.fold_col is not None:
            lab = part[job.fold_col].to_numpy()[keep]
            if pd.isna(pd.Series(lab)).any():
                out["bad"]["fold_missing"] = True
                return out
        else:
            lab = hash_folds(pos, job.n_slots, job.seed)
        uniq, codes = np.unique(lab, return_inverse=True)
        st = _blocked(X, y, w, len(uniq), lambda a, b: (codes.ravel()[a:b], None), False)
        out["groups"] = {u.item() if hasattr(u, "item") else u: st.slot(i) for i, u in enumerate(uniq)}
    else:
        def weights_of(a: int, b: int) -> tuple[None, np.ndarray]:
            if job.mode == "bootstrap":
                return None, poisson_weights(pos[a:b], job.n_slots, job.seed)
            return None, halves(pos[a:b], job.n_slots // 2, job.seed)

        out["slots"] = _blocked(X, y, w, job.n_slots, weights_of, job.mode == "bootstrap")
    return out


#: rows per block inside a partition: temporaries stay at BLOCK x (p + 1) floats per slot
BLOCK = 1 << 15


def _blocked(X: np.ndarray, y: np.ndarray, w: np.ndarray, S: int, slots_of: Any, count_all: bool) -> Stats:
    """:func:`_slot_stats` over row blocks, combined exactly; ``slots_of(a, b)`` gives the block's
    ``(slot labels, slot weights)``."""
    out = None
    n = len(y)
    for a in range(0, max(n, 1), BLOCK):
        b = min(a + BLOCK, n)
        Z = np.column_stack([X[a:b], y[a:b]])
        lab, sw = slots_of(a, b)
        st = _slot_stats(Z, w[a:b], S, lab, sw, count_all)
        out = st if out is None else combine(out, st)
    return out


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Combine two partition results, in order (lengths concatenate; an error in either wins)."""
    out: dict[str, Any] = {"lengths": a["lengths"] + b["lengths"], "dropped": a["dropped"] + b["dropped"],
                           "bad": {**a["bad"], **b["bad"]}}
    if out["bad"]:
        return out
    for key in ("amax", "slots", "groups"):
        if key not in a:
            if key in b:
                out[key] = b[key]
            continue
        if key not in b:
            out[key] = a[key]
        elif key == "amax":
            out[key] = np.maximum(a[key], b[key])
        elif key == "slots":
            out[key] = combine(a[key], b[key])
        else:
            g = dict(a[key])
            for lab, st in b[key].items():
                g[lab] = combine(g[lab], st) if lab in g else st
            out[key] = g
    return out


# ------------------------------------------------------------------------------------------------
# running passes
# ------------------------------------------------------------------------------------------------
def columns_needed(ddf: Any, formula: str, extra: Sequence[str]) -> list[str]:
    """The data columns a partition task reads (column projection: parquet reads only these):
    every column under ``.``, else those whose name occurs in the formula, plus ``extra``."""
    from ..design import _split_formula, _split_top

    _, rhs = _split_formula(formula)
    has_dot = any(t == "." for _, t in _split_top(rhs))
    return [c for c in ddf.columns if has_dot or c in formula or c in extra]


def _task(part: pd.DataFrame, job: Job, offsets: np.ndarray, partition_info: Any = None) -> pd.DataFrame:
    """:func:`partition_stats` as a map_partitions function (fused with the read: the partition is
    never stored as a separate task result); the result travels in a one-cell object frame."""
    k = partition_info["number"] if partition_info else 0
    return pd.DataFrame({"stats": [partition_stats(part, int(offsets[k]), job)]}, index=[k])


def run(ddf: Any, job: Job, offsets: np.ndarray, columns: Sequence[str], split_every: int = 8) -> dict[str, Any]:
    """One pass: :func:`partition_stats` on every partition (fused with reading it), tree-reduced
    with :func:`merge`, on the current dask scheduler (a distributed Client when one is active)."""
    import dask

    meta = pd.DataFrame({"stats": pd.Series(dtype=object)})
    mapped = ddf[list(columns)].map_partitions(_task, job, np.asarray(offsets), meta=meta,
                                                 enforce_metadata=False, align_dataframes=False)
    tasks = mapped.to_delayed()
    level = 0
    while len(tasks) > 1 or level == 0:
        tasks = [dask.delayed(_merge_many)(*tasks[i:i + split_every]) for i in range(0, len(tasks), split_every)]
        level += 1
    (res,) = dask.compute(tasks[0])
    return res


def _merge_many(*results: Any) -> dict[str, Any]:
    results = [r.iloc[0, 0] if isinstance(r, pd.DataFrame) else r for r in results]
    out = results[0]
    for r in results[1:]:
        out = merge(out, r)
    return out


def _levels_of(s: pd.Series) -> np.ndarray:
    s = s.dropna()
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    return pd.unique(s.to_numpy())


def first_pass(ddf: Any, text_columns: Sequence[str]) -> tuple[np.ndarray, dict[str, list]]:
    """Partition lengths (row offsets) and the levels of the text columns, in one pass."""
    import dask

    cols = list(text_columns)
    parts = ddf[cols].to_delayed() if cols else ddf[[ddf.columns[0]]].to_delayed()

    def part_info(part: pd.DataFrame) -> tuple[int, dict]:
        return len(part), {c: _levels_of(part[c]) for c in cols}

    res = dask.compute(*[dask.delayed(part_info)(p) for p in parts])
    lengths = np.array([r[0] for r in res], dtype=np.int64)
    levels: dict[str, list] = {}
    for c in cols:
        vals = pd.unique(np.concatenate([r[1][c] for r in res])) if res else np.array([])
        try:
            levels[c] = sorted(vals.tolist())
        except TypeError:
            raise DataError(f"column {c!r} mixes types that cannot be sorted into factor levels") from None
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]), levels


def text_columns(ddf: Any, formula_columns: Sequence[str]) -> tuple[list[str], dict[str, list]]:
    """Columns the formula uses that need their factor levels learned (object/string dtype, or a
    categorical with unknown categories), and the levels known from the dtype already."""
    need, known = [], {}
    for c in formula_columns:
        dt = ddf[c].dtype
        if isinstance(dt, pd.CategoricalDtype):
            cat = ddf[c].cat
            if getattr(cat, "known", False):
                known[c] = list(dt.categories)
            else:
                need.append(c)
        elif dt == object or pd.api.types.is_string_dtype(dt):
            need.append(c)
    return need, known


def check_formula_response(response: str, columns: Sequence[str]) -> None:
    if response not in columns:
        raise FormulaError(f"the response {response!r} must be a column of the dask DataFrame (the dask "
                           "backend does not evaluate expressions on the left-hand side); add it first, "
                           "e.g. ddf['log_y'] = np.log(ddf['y']), and write 'log_y ~ ...'")


def _raise_bad(bad: Mapping[str, Any], names: Sequence[str], response: str, weights: str | None) -> None:
    if "x_inf" in bad:
        raise DataError(f"design column(s) {[names[j] for j in bad['x_inf']][:10]} have infinite values")
    if "y_inf" in bad:
        raise DataError(f"the response {response!r} has infinite values")
    if "w_bad" in bad:
        raise DataError(f"weights column {weights!r} must be finite and >= 0; got negative or infinite values")
    if "fold_missing" in bad:
        raise DataError("foldid has missing values in the rows used by the fit")
