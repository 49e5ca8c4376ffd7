"""Finite-difference derivatives from one batched evaluation: the stencil of points around x whose
values give f, its gradient and its Hessian, and the noise level those differences can resolve.

The optimizer (optimize.py) evaluates a whole stencil in one call of the criterion (deviance.py
evaluates a batch of thetas in about the time of one), so these are its derivatives; glmer's
Hessian of (theta, beta) (glmm/fit.py) is one more use. Forward cross differences (c - a_i - a_j +
f0) keep the stencil at 1 + 2k + k(k-1)/2 points; central ones cost k(k-1) more and, measured on
ctsib, saved one Newton step in seven.
"""
from __future__ import annotations

import numpy as np

H_REL = 1e-4  # finite-difference step, relative to max(1, |phi|)

_PATTERNS: dict[int, tuple] = {}


def _pattern(k: int):
    """Stencil offsets in units of h: the centre, +-h on each axis, +h on each pair of axes; and the
    differences of stencil values that make the gradient and Hessian, as one (P, k + k*k) matrix
    (before dividing by h): (a - b) for g, a - 2 f0 + b for H's diagonal, c - a_i - a_j + f0 across."""
    if k not in _PATTERNS:
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
        P = np.zeros((1 + 2 * k + len(pairs), k))
        D = np.zeros((len(P), k + k * k))
        for i in range(k):
            P[1 + 2 * i, i], P[2 + 2 * i, i] = 1.0, -1.0
            D[[1 + 2 * i, 2 + 2 * i], i] = 1.0, -1.0
            D[[0, 1 + 2 * i, 2 + 2 * i], k + i * k + i] = -2.0, 1.0, 1.0
        for n, (i, j) in enumerate(pairs):
            P[1 + 2 * k + n, [i, j]] = 1.0
            for col in (k + i * k + j, k + j * k + i):
                D[[1 + 2 * k + n, 1 + 2 * i, 1 + 2 * j, 0], col] = 1.0, -1.0, -1.0, 1.0
        _PATTERNS[k] = (P, D)
    return _PATTERNS[k]


def _steps(x: np.ndarray) -> np.ndarray:
    return H_REL * np.maximum(1.0, np.abs(x))


def stencil(x: np.ndarray) -> np.ndarray:
    """(..., k) points -> (..., P, k): the points whose values `derivatives` turns into f, g, H."""
    P, _ = _pattern(x.shape[-1])
    return x[..., None, :] + _steps(x)[..., None, :] * P


def derivatives(v: np.ndarray, x: np.ndarray):
    """Values at the stencil (..., P) -> value (...), gradient (..., k), Hessian (..., k, k)."""
    k = x.shape[-1]
    _, D = _pattern(k)
    h = _steps(x)
    d = v @ D
    g = d[..., :k] / (2 * h)
    H = d[..., k:].reshape(v.shape[:-1] + (k, k)) / (h[..., :, None] * h[..., None, :])
    return v[..., 0], g, H


def noise(f: np.ndarray, size: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What finite differences of this criterion can resolve: gradient, curvature, value. The
    criterion is a sum of parts of the size of n (log-determinants, n log r^2): its rounding
    follows them, not its value, which can be near zero."""
    size = np.maximum(np.maximum(1.0, size), np.abs(f))
    return 1e-9 * size + 1e-8, 1e-7 * size + 1e-5, 1e-12 * size
