"""The response of a generalized mixed model, checked for its family, as glmer reads it.

binomial: 0/1 numbers, TRUE/FALSE, a factor with two levels (the first is failure, as in R), or
counts `cbind(successes, failures)` / `cbind(successes, total - successes)`: then y is the
proportion k / n and the trials n are glmer's prior weights. poisson: counts 0, 1, 2, ...
Every refusal says what is wrong and what to do.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .formula import Formula


def _counts(col: pd.Series, name: str, what: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        raise DataError(f"The column '{name}' ({what}) must hold counts 0, 1, 2, ...; it holds values such as "
                        f"{', '.join(map(repr, col.astype(str).unique()[:3]))}.")
    v = col.to_numpy(dtype=float)
    if np.any(v < 0) or np.any(v != np.round(v)):
        bad = v[(v < 0) | (v != np.round(v))][0]
        raise DataError(f"The column '{name}' ({what}) must hold whole numbers 0, 1, 2, ...; it holds {bad:g}.")
    return v


def _binary(col: pd.Series, name: str) -> tuple[np.ndarray, list[str]]:
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=float), []
    if not pd.api.types.is_numeric_dtype(col):
        from .design import factor_codes  # noqa: PLC0415  (design imports this module)

        codes, levels = factor_codes(col)
        if len(levels) != 2:
            raise DataError(f"The response '{name}' has {len(levels)} different values ({', '.join(levels[:4])}"
                            f"{' ...' if len(levels) > 4 else ''}); a binomial model needs two (success or not).")
        return codes.astype(float), [f"The response '{name}' is a factor: '{levels[1]}' counts as success (1) and "
                                     f"'{levels[0]}' as failure (0), as in R."]
    v = col.to_numpy(dtype=float)
    if np.all((v == 0) | (v == 1)):
        return v, []
    if np.all((v >= 0) & (v <= 1)):
        raise DataError(f"The response '{name}' holds proportions between 0 and 1. A binomial model needs the counts "
                        "behind them: write cbind(successes, failures) ~ ... with a column of each.")
    raise DataError(f"The response '{name}' holds values other than 0 and 1 (such as {v[(v != 0) & (v != 1)][0]:g}). "
                    "A binomial model needs 0/1 outcomes, or counts written cbind(successes, failures). "
                    "For counts without an upper limit use family 'poisson'.")


def glmm_response(f: Formula, frame, family: str) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """(y, trials, notes) for family 'binomial' or 'poisson'."""
    name = f.response
    if family == "poisson":
        y = _counts(frame[name], name, "the response of a Poisson model")
        if not np.any(y > 0):
            raise DataError(f"The response '{name}' is 0 in every row: there is nothing to model.")
        return y, None, []
    if f.binomial:
        kind, other = f.binomial
        k = _counts(frame[name], name, "successes")
        m = _counts(frame[other], other, "total" if kind == "total" else "failures")
        n = m if kind == "total" else k + m
        if np.any(n < k):
            raise DataError(f"In some rows the successes '{name}' exceed the total '{other}': check the columns.")
        if np.any(n == 0):
            raise DataError("Some rows have no trials at all (total 0): remove them, they carry no information.")
        y, trials, notes = k / n, n, []
    else:
        y, notes = _binary(frame[name], name)
        trials = np.ones_like(y)
    if np.all(y == 0) or np.all(y == 1):
        raise DataError(f"Every outcome is {'a failure' if np.all(y == 0) else 'a success'}: a binomial model needs "
                        "both successes and failures in the data.")
    return y, trials, notes
