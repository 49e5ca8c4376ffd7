"""The resource budget: how large a model this server fits, decided before any work is done.

A teaching server (2 cores, 24 GB, a class of 50) must survive any upload and any typed formula. So
the size of everything is counted from the structure before it is built: the formula's terms while
it is parsed (formula.MAX_TERMS), the fixed-effect columns here before X is made, and the memory and
time of the fit (lmm/budget.py) before the deviance's cross-products are made. Past a limit the
model is refused with a BudgetError that says what is too big and what to do.

The limits are settings (environment variables, read at each fit so a server can be configured
without code): MMLAB_FIT_MEMORY_MB (default 2048), MMLAB_FIT_SECONDS (estimated seconds of one fit,
default 120) and MMLAB_FIXED_COLUMNS (default 3000). The defaults keep a fit under a tenth of the
server's memory and leave the other core to the class; the app also runs uploaded models in a
worker process with hard limits (lab/worker.py), in case an estimate is wrong.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from ..errors import BudgetError


@dataclass(frozen=True)
class Budget:
    memory_mb: float = 2048.0  # estimated peak memory of one fit
    seconds: float = 120.0  # estimated time of one fit on one core
    fixed_columns: int = 3000  # columns of the fixed-effects matrix X

    @classmethod
    def from_env(cls) -> Budget:
        def read(name: str, default: float) -> float:
            try:
                return float(os.environ.get(name, default))
            except ValueError:
                return default

        return cls(read("MMLAB_FIT_MEMORY_MB", cls.memory_mb), read("MMLAB_FIT_SECONDS", cls.seconds),
                   int(read("MMLAB_FIXED_COLUMNS", cls.fixed_columns)))


UNLIMITED = Budget(float("inf"), float("inf"), 10**12)


def count_fixed_columns(part, data, is_factor) -> tuple[int, str]:
    """How many columns X would have (R's contrasts rule, as design.model_matrix builds them), and
    the term that contributes most: counted from the numbers of levels, nothing built."""
    present = {frozenset()} if part.intercept else set()
    present |= {frozenset(t) for t in part.terms}
    levels: dict[str, int] = {}
    total, worst, worst_n = int(part.intercept), "", 0
    for term in part.terms:
        cols = 1
        for var in term:
            col = data[var]
            if is_factor(col):
                if var not in levels:
                    levels[var] = int(pd.Series(col).nunique())
                start = 1 if frozenset(term) - {var} in present else 0
                cols *= max(levels[var] - start, 0)
        total += cols
        if cols > worst_n:
            worst, worst_n = ":".join(term), cols
    return total, worst


def check_fixed_columns(part, data, is_factor, budget: Budget) -> None:
    """Refuse a fixed part whose X would pass the budget, before X is made."""
    ncol, worst = count_fixed_columns(part, data, is_factor)
    nbytes = 8.0 * ncol * len(data)
    if ncol > budget.fixed_columns or nbytes > budget.memory_mb * 2**20 / 4:
        raise BudgetError(
            f"The fixed effects would have {ncol:,} columns ('{worst}' alone gives the most), for {len(data):,} rows: "
            f"{nbytes / 2**30:.1f} GB as a matrix. This server fits at most {budget.fixed_columns:,} fixed-effect columns "
            f"and {budget.memory_mb / 1024:.1f} GB per model. Use fewer interactions, make a factor with many levels a "
            "random effect, e.g. (1 | group), or merge its rare levels."
        )
