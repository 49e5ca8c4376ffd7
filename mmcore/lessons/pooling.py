"""Complete, no and partial pooling for one grouping factor of a fit: the three answers to
"how much should each group borrow from the others?".

- complete pooling: ordinary least squares on X alone, groups ignored (one line for all);
- no pooling: least squares on X plus the factor's random-effect columns as fixed, group-specific
  effects (lm(y ~ x * group) for a random slope, lm(y ~ x + group) for a random intercept);
- partial pooling: the mixed model's fitted values.

No pooling is computed by the within-group projection (Frisch-Waugh), one pass over the rows,
so it costs no more for 5,000 groups than for 5.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..lmm.fit import model_data
from ..lmm.results import LmmFit
from ..model.design import ModelData


def _group_sums(codes: np.ndarray, G: int, V: np.ndarray) -> np.ndarray:
    return np.stack([np.bincount(codes, V[:, j], G) for j in range(V.shape[1])], axis=-1)


def _within_projection(Z: np.ndarray, codes: np.ndarray, G: int, V: np.ndarray) -> np.ndarray:
    """P V: each column of V projected on the group's columns of Z (Z_g (Z_g'Z_g)^+ Z_g')."""
    q = Z.shape[1]
    ZtZ = _group_sums(codes, G, (Z[:, :, None] * Z[:, None, :]).reshape(len(Z), -1)).reshape(G, q, q)
    pinv = np.linalg.pinv(ZtZ)  # a group whose slope cannot be estimated (one x value) stays usable
    out = np.empty_like(V)
    for j in range(V.shape[1]):
        ZtV = _group_sums(codes, G, Z * V[:, [j]])  # G x q
        coef = np.einsum("gab,gb->ga", pinv, ZtV)
        out[:, j] = np.einsum("nq,nq->n", Z, coef[codes])
    return out


def pooling(fit: LmmFit, group: str | None = None, md: ModelData | None = None) -> pd.DataFrame:
    """Per row: group, observed y, and fitted values under complete, no and partial pooling,
    plus the population line (fixed effects only)."""
    md = md or model_data(fit)
    terms = [t for t in md.terms if t.group == (group or md.terms[0].group)]
    t0 = terms[0]
    y, X = md.y, md.X
    complete = X @ np.linalg.lstsq(X, y, rcond=None)[0] if X.shape[1] else np.zeros_like(y)
    Z = np.column_stack([t.matrix for t in terms])
    resid_X = X - _within_projection(Z, t0.codes, t0.nlevels, X) if X.shape[1] else X
    resid_y = y - _within_projection(Z, t0.codes, t0.nlevels, y[:, None])[:, 0]
    # A column of X that the group's own columns span (the intercept; x itself under a random slope)
    # leaves only rounding noise here; solving on that noise gave within-slopes of 1e12. Such columns
    # have no within-group effect: drop them, measured against the column's own size.
    beta_within = np.zeros(X.shape[1])
    norms = np.linalg.norm(X, axis=0)
    keep = np.linalg.norm(resid_X, axis=0) > 1e-8 * np.where(norms > 0, norms, 1.0)
    if keep.any():
        beta_within[keep] = np.linalg.lstsq(resid_X[:, keep], resid_y, rcond=None)[0]
    rest = y - X @ beta_within
    none = X @ beta_within + _within_projection(Z, t0.codes, t0.nlevels, rest[:, None])[:, 0]
    return pd.DataFrame({
        "group": pd.Categorical.from_codes(t0.codes, categories=pd.Index(t0.levels, dtype=object)),
        "y": y,
        "complete": complete,
        "none": none,
        "partial": fit.fitted,
        "population": X @ fit.beta,
    })
