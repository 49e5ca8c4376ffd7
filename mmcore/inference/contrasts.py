"""The hypothesis matrices of lmerTest's anova(): which linear combinations of the fixed effects
each term's F test tests.

Type III, as lmerTest 3.1 makes them for treatment contrasts (the only coding here): the columns of
the "rank-deficient" design (an intercept plus, for every term, one indicator per level: R's
model.matrix(~ 0 + term)) are expressed in the model's columns, and each term's columns are made
orthogonal to those of every term that contains it (same numeric variables, more factors). The
result tests each main effect averaged over the levels of the factors it interacts with, as SAS's
type III, and does not depend on which level is the reference. A model with a single term (or a
single column) gets the type I (sequential) hypothesis instead, from the Doolittle decomposition of
X'X, exactly as lmerTest does; for one term both are the test that its coefficients are all zero.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model.design import ModelData, model_matrix
from ..model.formula import Part


@dataclass(frozen=True)
class FixedTerm:
    label: str  # R's term label, e.g. "Days:late"
    variables: tuple[str, ...]
    numeric: frozenset  # the numeric variables among them
    columns: tuple[int, ...]  # its columns of X


def fixed_terms(md: ModelData) -> list[FixedTerm]:
    """The fixed part's terms, in R's order, with their columns of X (R's `assign`). A term's columns
    are those a model matrix gains when the term is added: R's coding of a term depends only on the
    lower-order terms before it."""
    part, frame = md.formula.fixed, md.frame
    names = list(md.fixed_names)
    out, before = [], ["(Intercept)"] if part.intercept else []
    for i, term in enumerate(part.terms):
        _, now = model_matrix(Part(part.intercept, part.terms[: i + 1]), frame)
        new = [c for c in now[len(before):] if c in names]  # aliased columns were dropped from X
        numeric = frozenset(v for v in term if pd.api.types.is_numeric_dtype(frame[v])
                            and not pd.api.types.is_bool_dtype(frame[v]))
        out.append(FixedTerm(":".join(term), tuple(term), numeric, tuple(names.index(c) for c in new)))
        before = now
    return out


def zapsmall(x: np.ndarray, digits: int = 7) -> np.ndarray:
    """R's zapsmall: round to `digits` significant digits of the largest entry."""
    mx = np.max(np.abs(x)) if x.size else 0.0
    if not mx > 0:
        return x
    return np.round(x, max(0, digits - int(np.ceil(np.log10(mx)))))


def doolittle_lower(A: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """The unit lower-triangular L of lmerTest's doolittle(A) (A = L U), small entries zeroed as it does."""
    n = A.shape[0]
    L, U = np.eye(n), np.zeros((n, n))
    for i in range(n):
        U[i, :] = A[i, :] - L[i, :i] @ U[:i, :]
        if i + 1 < n:
            col = A[i + 1 :, i] - L[i + 1 :, :i] @ U[:i, i]
            L[i + 1 :, i] = 0.0 if abs(U[i, i]) < eps else col / U[i, i]
    L[np.abs(L) < eps] = 0.0
    return L


def type1(md: ModelData, terms: list[FixedTerm]) -> dict[str, np.ndarray]:
    X = md.X
    if X.shape[1] == 1:
        return {t.label: np.eye(1) for t in terms}
    L = doolittle_lower(X.T @ X).T
    return {t.label: L[list(t.columns)] for t in terms}


def _contains(inner: FixedTerm, outer: FixedTerm) -> bool:
    a, b = set(inner.variables), set(outer.variables)
    return a < b and inner.numeric == outer.numeric


def type3(md: ModelData) -> dict[str, np.ndarray]:
    """Each term's hypothesis matrix (rows: contrasts, columns: X's), lmerTest's type III."""
    terms = fixed_terms(md)
    X = md.X
    if X.shape[1] <= 1 or len(terms) <= 1:
        return type1(md, terms)
    part = md.formula.fixed
    full, full_names = [], []
    if part.intercept:
        full.append(np.ones((X.shape[0], 1)))
        full_names.append("(Intercept)")
    for t in terms:
        M, nm = model_matrix(Part(False, (t.variables,)), md.frame)
        full.append(M)
        full_names += nm
    rdX = np.hstack(full)
    L = zapsmall(np.linalg.lstsq(X, rdX, rcond=None)[0].T)  # rows: rdX's columns, in X's columns
    order = sorted(range(len(terms)), key=lambda i: -len(terms[i].variables))  # stable, as R's order()
    for i in order:
        cols = list(terms[i].columns)
        outer = [c for t in terms if _contains(terms[i], t) for c in t.columns]
        if outer and cols:
            coef = np.linalg.lstsq(L[:, outer], L[:, cols], rcond=None)[0]
            L[:, cols] = zapsmall(L[:, cols] - L[:, outer] @ coef)
    rows = [full_names.index(c) for c in md.fixed_names]
    L = L[rows]
    out = {}
    for t in terms:
        H = L[:, list(t.columns)].T
        out[t.label] = H[np.abs(H).sum(axis=1) > 1e-8]
    return out
