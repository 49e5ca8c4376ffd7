"""Batched Cholesky factors and triangular solves of many small blocks, groups on the last axis.

Why our own loops: block 1 of the blocked Cholesky (deviance.py) is G small q x q blocks for each of
K thetas; a column loop over q in numpy, each step on contiguous G-vectors, is far cheaper than
np.linalg.cholesky's per-matrix calls (q is 1-3 in practice, G is up to many thousands).
"""
from __future__ import annotations

import numpy as np


def cholesky_small(M: np.ndarray) -> np.ndarray:
    """Cholesky factors of G small SPD matrices stored as (..., q, q, G), groups last.

    A column loop over q in numpy, each step on contiguous G-vectors: far cheaper than
    np.linalg.cholesky's per-matrix calls for the K thetas x G groups of an evaluation.
    A block that is not positive definite gets NaN, which the criterion turns into +inf.
    """
    q = M.shape[-2]
    L = np.zeros_like(M)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(q):
            s = M[..., j, j, :] - (L[..., j, :j, :] ** 2).sum(axis=-2) if j else M[..., j, j, :]
            L[..., j, j, :] = np.sqrt(s)
            for i in range(j + 1, q):
                s = M[..., i, j, :] - (L[..., i, :j, :] * L[..., j, :j, :]).sum(axis=-2) if j else M[..., i, j, :]
                L[..., i, j, :] = s / L[..., j, j, :]
    return L


def forward_small(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve L_g x = b for each group g and right-hand side c: L (..., q, q, G) lower
    triangular, B (..., r, q, G) -> X (..., r, q, G)."""
    q = L.shape[-2]
    Lb = L[..., None, :, :, :]  # broadcast over the right-hand sides
    X = np.empty(np.broadcast_shapes(B.shape, L.shape[:-3] + B.shape[-3:]))
    for i in range(q):
        s = B[..., i, :]
        for j in range(i):
            s = s - Lb[..., i, j, :] * X[..., j, :]
        X[..., i, :] = s / Lb[..., i, i, :]
    return X
