"""The memory and time of a fit, estimated from the model's structure before any work is done.

What costs (deviance.py, rest.py): block 1 is G small blocks, cheap; the coupling map holds one entry
per pair of the rest's effects that share a block-1 group; the rest's block is one dense m x m
Cholesky per evaluation unless it stays diagonal (nested factors). So the counts that matter are n,
p, G, m and the pairs, all counted here from the grouping codes (a sort of n pairs at most). Time is
work per evaluation times a typical number of evaluations, at a conservative rate for one core:
estimates, meant to be right within a factor of two or three and on the safe side.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import BudgetError
from ..model.design import ModelData
from ..model.limits import Budget
from .absorbed import absorbs

FLOPS = 1e10  # one core of this class of server, dense LAPACK work (measured: bench/scale.py)
SETUP_PER_ROW = 2e-6  # seconds per row for the design and cross-products
SETUP_PER_ENTRY = 5e-8  # seconds per entry of X (made column by column, checked for rank)


@dataclass(frozen=True)
class Estimate:
    memory_mb: float
    seconds: float
    evaluations: int
    dense: int  # size of the dense block of the rest (0 if none or diagonal)
    pairs: int  # entries of the coupling map
    block1: str  # block 1's grouping factor
    largest: str  # what dominates, in words


def estimate(md: ModelData) -> Estimate:
    if absorbs(md):
        return _estimate_absorbed(md)
    n, p = md.X.shape
    r = p + 1
    counts: dict[str, int] = {}
    for t in md.terms:
        counts[t.group] = counts.get(t.group, 0) + t.nlevels * t.q
    g1 = max(counts, key=counts.get)
    b1 = [t for t in md.terms if t.group == g1]
    rest = [t for t in md.terms if t.group != g1]
    G, q1 = b1[0].nlevels, sum(t.q for t in b1)
    m = sum(t.nlevels * t.q for t in rest)
    k = sum(t.q * (t.q + 1) // 2 for t in md.terms)
    pairs, diagonal = 0, True
    if rest:
        touched = np.zeros(G)
        for t in rest:
            per_group = np.bincount(np.unique(b1[0].codes.astype(np.int64) * t.nlevels + t.codes) // t.nlevels,
                                    minlength=G)
            touched += per_group * t.q
            diagonal &= t.q == 1 and per_group.max() <= 1
        diagonal &= len(rest) == 1
        pairs = int(np.sum((q1 * touched) ** 2))
    dense = 0 if diagonal else m
    work = G * q1 * (q1**3 + q1 * r + r * r) + 2 * r**3 + pairs + (m * r * r if diagonal else
                                                                    (dense + r) ** 3 / 3 + 4 * (dense + r) ** 2)
    evaluations = 40 + 10 * k * k
    seconds = evaluations * work / FLOPS + SETUP_PER_ROW * n * (r + q1) + pairs * 2e-7 + SETUP_PER_ENTRY * n * p
    memory = 8.0 * n * (r * (q1 + 3) + 3 * q1 + 2 * len(md.terms)) + 8.0 * G * q1 * (q1 + r) * 6
    memory += 8.0 * 6 * dense**2 + 8.0 * 3 * m * r
    memory += 56.0 * pairs * (2 if rest and all(t.q == 1 for t in rest) else 1) + (9.0 * m * m if m * m <= 5e7 else 0)
    if dense and pairs > 0:
        largest = (f"the crossed factors fill in a dense block of {dense:,} x {dense:,} for "
                   f"{', '.join(repr(t.group) for t in rest)}, factored at every step")
    elif p > 500:
        largest = f"the {p:,} fixed-effect columns"
    else:
        largest = f"{n:,} rows with '{g1}' ({G:,} levels)"
    return Estimate(memory / 2**20 + 150, seconds, evaluations, dense, pairs, g1, largest)


def _estimate_absorbed(md: ModelData) -> Estimate:
    """X eliminated first (absorbed.py): X'X once (sparse products, a p x p Cholesky), then dense
    m_Z + 1 squares per evaluation, twice for ML."""
    n, p = md.X.shape
    mz = sum(t.nlevels * t.q for t in md.terms)
    k = sum(t.q * (t.q + 1) // 2 for t in md.terms)
    evaluations = 40 + 10 * k * k
    work = 2 * (mz + 1) ** 3 / 3 + 6 * (mz + 1) ** 2 * mz
    once = p**3 / 3 * 3 + 2 * p * p * (mz + 1) + 8.0 * n * p
    seconds = (evaluations * work + once) / FLOPS + SETUP_PER_ROW * n * 4 + SETUP_PER_ENTRY * n * p
    memory = 8.0 * (2 * n * p + 5 * p * p + 2 * p * (mz + 1) + 6 * (mz + 1) ** 2)
    g1 = max(md.terms, key=lambda t: t.nlevels * t.q)
    return Estimate(memory / 2**20 + 150, seconds, evaluations, mz, 0, g1.group, f"the {p:,} fixed-effect columns")


def check_fit(md: ModelData, budget: Budget) -> Estimate:
    """Refuse a fit whose estimated memory or time passes the budget, with what to do."""
    est = estimate(md)
    if est.memory_mb <= budget.memory_mb and est.seconds <= budget.seconds:
        return est
    over = []
    if est.memory_mb > budget.memory_mb:
        over.append(f"about {est.memory_mb / 1024:.1f} GB of memory (the limit is {budget.memory_mb / 1024:.1f} GB)")
    if est.seconds > budget.seconds:
        over.append(f"about {_duration(est.seconds)} of computing (the limit is {_duration(budget.seconds)})")
    raise BudgetError(
        f"This model is too large for this server: it would need {' and '.join(over)}; mostly {est.largest}. "
        "What to do: use a grouping factor with fewer levels (merge rare ones), fit a random sample of the "
        "groups, use fewer interactions or random slopes, or run it on your own computer (the code export "
        "gives R and Python code)."
    )


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} minutes"
