"""The marginal likelihood the textbook way, with dense matrices: an independent check of the engine.

V = Z D Z' + sigma^2 I with D = sigma^2 Lambda Lambda'. Profiling beta (GLS) and sigma^2 gives
the same criteria lme4 computes by penalized least squares, through a different route:
  ML:   log|V0| + n (1 + log(2 pi r^2 / n))
  REML: log|V0| + log|X' V0^-1 X| + (n - p)(1 + log(2 pi r^2 / (n - p)))
with V0 = Z Lambda Lambda' Z' + I and r^2 = (y - X beta)' V0^-1 (y - X beta).
"""
from __future__ import annotations

import numpy as np

from mmcore.lmm.deviance import ThetaLayout
from mmcore.model.design import ModelData


def z_matrix(md: ModelData) -> np.ndarray:
    """Z with each term's columns level-major (all columns of level 1, then level 2, ...)."""
    blocks = []
    for t in md.terms:
        Zt = np.zeros((len(md.y), t.nlevels * t.q))
        for j in range(t.q):
            Zt[np.arange(len(md.y)), t.codes * t.q + j] = t.matrix[:, j]
        blocks.append(Zt)
    return np.hstack(blocks)


def lambda_matrix(md: ModelData, theta: np.ndarray) -> np.ndarray:
    layout = ThetaLayout.from_sizes([t.q for t in md.terms])
    blocks = [np.kron(np.eye(t.nlevels), layout.factor(theta, k)) for k, t in enumerate(md.terms)]
    size = sum(b.shape[0] for b in blocks)
    out, at = np.zeros((size, size)), 0
    for b in blocks:
        out[at : at + len(b), at : at + len(b)] = b
        at += len(b)
    return out


def textbook(md: ModelData, theta: np.ndarray, reml: bool) -> dict:
    X, y = md.X, md.y
    n, p = X.shape
    Z, Lam = z_matrix(md), lambda_matrix(md, theta)
    ZL = Z @ Lam
    V0 = ZL @ ZL.T + np.eye(n)
    V0inv = np.linalg.inv(V0)
    XtVX = X.T @ V0inv @ X
    beta = np.linalg.solve(XtVX, X.T @ V0inv @ y)
    resid = y - X @ beta
    r2 = resid @ V0inv @ resid
    logdet = np.linalg.slogdet(V0)[1]
    if reml:
        crit = logdet + np.linalg.slogdet(XtVX)[1] + (n - p) * (1 + np.log(2 * np.pi * r2 / (n - p)))
        sigma2 = r2 / (n - p)
    else:
        crit = logdet + n * (1 + np.log(2 * np.pi * r2 / n))
        sigma2 = r2 / n
    b = Lam @ Lam.T @ Z.T @ V0inv @ resid  # D Z' V^-1 (y - X beta), sigma^2 cancels
    return {"criterion": crit, "beta": beta, "b": b, "sigma2": sigma2,
            "vcov": sigma2 * np.linalg.inv(XtVX)}
