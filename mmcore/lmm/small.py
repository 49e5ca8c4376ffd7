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


def block_factor_small(T: np.ndarray, A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For q = 1 or 2: the Cholesky factors L_g of M_g = T' A_g T + I and W = L_g^-1 T' B_g, the two
    steps of block 1 of the blocked Cholesky (deviance.block1_factor), in closed form on (K, G) arrays.

    T (K, q, q) lower triangular; A (..., q q, G) row-major per group (symmetric), one for all K or one
    per K; B (..., r, q, G). Returns L (K, q, q, G) and W (K, r, q, G). The general path (a product
    with kron(T, T), cholesky_small, a batched T' B and forward_small) makes some 20 numpy calls and
    K r tiny matrix products; these are a dozen elementwise steps, half the time of an evaluation's
    block 1 at one theta and a third at thirty. A block that is not positive definite gets NaN."""
    K, q, G = T.shape[0], T.shape[-1], A.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        if q == 1:
            t = T[:, 0, :]  # (K, 1)
            l11 = np.sqrt(t * t * A[..., 0, :] + 1.0)  # (K, G)
            return l11[:, None, None, :], B * (t / l11)[:, None, None, :]
        a, b, c = T[:, 0, 0, None], T[:, 1, 0, None], T[:, 1, 1, None]  # (K, 1): T = [[a, 0], [b, c]]
        A00, A01, A11 = A[..., 0, :], A[..., 1, :], A[..., 3, :]
        s = a * A01 + b * A11  # (A T)[1, 0]
        l11 = np.sqrt(a * (a * A00 + b * A01) + b * s + 1.0)  # M00 = a^2 A00 + 2 a b A01 + b^2 A11
        l21 = c * s / l11
        l22 = np.sqrt(c * c * A11 + 1.0 - l21 * l21)
        L = np.zeros((K, 2, 2, G))
        L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = l11, l21, l22
        W = np.empty(np.broadcast_shapes(B.shape, (K, 1, 2, G)))
        W[..., 0, :] = (a / l11)[:, None] * B[..., 0, :] + (b / l11)[:, None] * B[..., 1, :]
        W[..., 1, :] = (c / l22)[:, None] * B[..., 1, :] - (l21 / l22)[:, None] * W[..., 0, :]
    return L, W
