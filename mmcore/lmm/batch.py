"""Many responses, one design: simulate from a fit and refit all replicates together.

A parametric bootstrap or a simulation study refits the same model to S new responses. The
design (X, Z, the groups) does not change, so the cross-products of the design are shared and
only those with y are made per replicate; `optimize.minimize_many` then runs one Newton iteration
for all S replicates per numpy call. 1000 refits of a small model take a fraction of a second,
where a loop of single fits would take seconds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .deviance import ProfiledDeviance, fixef_from_factor
from .optimize import minimize_many


@dataclass(frozen=True)
class ManyFits:
    theta: np.ndarray  # S x k
    criterion: np.ndarray  # S: ML deviance or REML criterion
    sigma: np.ndarray  # S
    converged: np.ndarray  # S, bool
    beta: np.ndarray  # S x p: the fixed effects of each refit


def fit_many(dev: ProfiledDeviance, Y: np.ndarray, chunk: int = 250, progress=None) -> ManyFits:
    """Fit dev's model to each row of Y (S x n); progress(done, total) after each chunk."""
    S = len(Y)
    parts = []
    for lo in range(0, S, chunk):
        block = dev.with_responses(Y[lo : lo + chunk])
        start = np.tile(dev.start(), (len(Y[lo : lo + chunk]), 1))
        with np.errstate(all="ignore"):  # a trial theta where the criterion is undefined gives inf, handled
            opt = minimize_many(block.evaluate_some, start, dev.structure())
        sigma = block.sigma_at(opt.theta[:, None, :])[:, 0]
        parts.append((opt.theta, opt.value, sigma, opt.converged, fixef_many(block, opt.theta)))
        if progress is not None:
            progress(min(lo + chunk, S), S)
    return ManyFits(*(np.concatenate(p) for p in zip(*parts)))


def fixef_many(block: ProfiledDeviance, theta: np.ndarray) -> np.ndarray:
    """The fixed effects of each response of a many-response deviance at its own theta (S x p):
    the PLS solution's beta, from the same factorisation as the criterion (solution.solve, batched):
    (deviance.fixef_from_factor)."""
    return fixef_from_factor(block._decompose(theta, np.arange(len(theta))).Lx) + block.beta_shift


def simulate_responses(dev: ProfiledDeviance, theta: np.ndarray, beta: np.ndarray, sigma: float,
                       nsim: int, rng: np.random.Generator) -> np.ndarray:
    """nsim responses (nsim x n) drawn from the model at (theta, beta, sigma), like lme4's simulate()."""
    theta = np.asarray(theta, dtype=float)
    r, c, t = dev.t1_map
    T1 = np.zeros((dev.q1, dev.q1))
    T1[r, c] = theta[t]
    mean = dev.md.X @ beta
    u1 = rng.standard_normal((nsim, dev.G, dev.q1)) * sigma
    b1 = u1 @ T1.T  # nsim x G x q1: each group's effects
    Y = mean + np.einsum("nq,snq->sn", dev.Z1, b1[:, dev.codes1, :])
    if dev.m:
        u2 = rng.standard_normal((nsim, dev.m)) * sigma
        Y += np.asarray(dev.Z2 @ dev.rest_block.effects(theta, u2).T).T
    return Y + rng.standard_normal((nsim, dev.n)) * sigma
