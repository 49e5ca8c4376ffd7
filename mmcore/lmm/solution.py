"""Everything a fit reports at one theta, from the blocked Cholesky factor (deviance.py, rest.py).

beta and the spherical random effects u by back-substitution through the blocks (the response row
of the factor is the right-hand side), b = Lambda u, vcov(beta) from R_X, and the conditional
variances of b from the diagonal blocks of (L L')^-1: block 1's G small blocks plus what the rest
adds to them through the coupling map, and the rest's own diagonal.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg import solve_triangular

if TYPE_CHECKING:
    from .deviance import ProfiledDeviance


def solve(dev: ProfiledDeviance, theta: np.ndarray) -> dict:
    f = dev._decompose(theta[None])
    crit = float(dev._criterion(f)[0])
    m, p, n, G, q1 = dev.m, dev.p, dev.n, dev.G, dev.q1
    T1 = f.T1[0]
    L1 = f.L1[0].transpose(2, 0, 1)  # G x q1 x q1
    W = f.Wxy[0].transpose(2, 1, 0)  # G x q1 x (p + 1)
    Lx = f.Lx[0]
    sigma2 = Lx[-1, -1] ** 2 / (n - p if dev.reml else n)
    Lbb = Lx[:p, :p]
    beta_s = solve_triangular(Lbb, Lx[p, :p], lower=True, trans="T", check_finite=False) if p else np.zeros(0)
    beta = beta_s + dev.beta_shift[0]
    rhs1 = W[:, :, -1] - W[:, :, :-1] @ beta_s
    if m:
        rest = dev.rest_block
        L22, L2x = f.L22[0], f.L2x[0]
        u2 = rest.solve_u(L22, L2x[:, p] - L2x[:, :p] @ beta_s)
        b2 = rest.effects(theta, u2)
        V = f.V[0].transpose(2, 1, 0)  # G x q1 (c) x q1 (a): V_g = L1_g^-1 T1'
        rhs1 = rhs1 - np.einsum("gca,ga->gc", V, np.asarray(rest.B @ b2).reshape(G, q1))
    else:
        b2 = np.zeros(0)
    u1 = np.linalg.solve(np.swapaxes(L1, 1, 2), rhs1[..., None])[..., 0]
    b1 = u1 @ T1.T  # G x q1
    Rinv = solve_triangular(Lbb, np.eye(p), lower=True, check_finite=False) if p else np.zeros((0, 0))
    vcov = sigma2 * Rinv.T @ Rinv
    # conditional covariances of u: (L L')^-1, diagonal blocks only
    L1inv = np.linalg.inv(L1)
    cov_u1 = np.swapaxes(L1inv, 1, 2) @ L1inv  # M_g^-1
    if m:
        qdiag, H = rest.conditional(theta, L22)
        A = cov_u1
        cov_u1 = A + A @ T1.T @ H @ T1 @ A
        var_b2 = sigma2 * qdiag
    else:
        var_b2 = np.zeros(0)
    var_b1 = sigma2 * np.einsum("ij,gjk,ik->gi", T1, cov_u1, T1)
    fitted = dev.md.X @ beta + np.einsum("nq,nq->n", dev.Z1, b1[dev.codes1]) + dev.Z2 @ b2
    return dict(
        beta=beta, vcov=vcov, sigma=float(np.sqrt(sigma2)), b1=b1, var_b1=var_b1, b2=b2,
        var_b2=var_b2, fitted=fitted, criterion=crit, logdet_rx=2 * np.log(np.diag(Lbb)).sum(),
    )
