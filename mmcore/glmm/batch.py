"""Many responses, one GLMM design: draw responses from a GLMM truth, and refit all replicates
together (the parametric bootstrap of an LRT, simulation studies).

As for the LMM (lmm/batch.py): the design is shared, each replicate is one problem of
`optimize.minimize_many`, and every PIRLS call runs the stencils of all replicates of a chunk
through the same numpy calls. The refits start at the truth the data were drawn from, in glmer's
second stage directly (its first stage only finds a start; the optimum is the same).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..lmm.optimize import minimize_many
from ..model.design import build_model_data
from .deviance import GlmmDeviance
from .family import get_family
from .pirls import GlmmSystem


@dataclass(frozen=True)
class ManyGlmmFits:
    params: np.ndarray  # S x (k + p): theta then beta
    deviance: np.ndarray  # S: -2 log-likelihood at the optimum
    converged: np.ndarray  # S, bool


def random_effects(system: GlmmSystem, theta: np.ndarray, nsim: int, rng: np.random.Generator) -> np.ndarray:
    """Each replicate's random-effect contribution Z b to eta, b ~ N(0, Lambda Lambda'): (nsim, rows)."""
    md = system.md
    out = np.zeros((nsim, len(md.y)))
    for k, t in enumerate(md.terms):
        T = system.layout.factor(np.asarray(theta, dtype=float), k)
        b = rng.standard_normal((nsim, t.nlevels, t.q)) @ T.T  # (nsim, levels, q)
        out += np.einsum("nq,snq->sn", t.matrix, b[:, t.codes, :])
    return out


def simulate_responses(system: GlmmSystem, theta, beta, nsim: int, rng: np.random.Generator) -> np.ndarray:
    """nsim responses (nsim x rows) drawn from the GLMM at (theta, beta), as lme4's simulate():
    new random effects, then y from the family (proportions for binomial counts)."""
    md, fam = system.md, system.family
    eta = md.X @ np.asarray(beta, dtype=float) + random_effects(system, theta, nsim, rng)
    trials = md.trials if md.trials is not None else np.ones(len(md.y))
    return fam.simulate(fam.linkinv(eta), np.broadcast_to(trials, eta.shape), rng)


def fit_many(system: GlmmSystem, nagq: int, Y: np.ndarray, start: np.ndarray, chunk: int = 250,
             progress=None) -> ManyGlmmFits:
    """Fit the model to each row of Y (S x rows) from `start` (theta then beta); progress(done, total)."""
    S = len(Y)
    parts = []
    structure = system.structure(with_beta=nagq > 0)  # nAGQ = 0: theta alone, beta by PIRLS
    k = len(system.layout.start)
    first = start if nagq > 0 else start[:k]
    for lo in range(0, S, chunk):
        block = Y[lo : lo + chunk]
        dev = GlmmDeviance(system, nagq, block)
        if nagq == 0:
            dev.warm_beta[:] = start[k:]
        with np.errstate(all="ignore"):
            opt = minimize_many(dev.evaluate_some, np.tile(first, (len(block), 1)), structure)
        parts.append((opt.theta, np.asarray(opt.value), np.asarray(opt.converged) & np.isfinite(opt.value)))
        if progress is not None:
            progress(min(lo + chunk, S), S)
    return ManyGlmmFits(*(np.concatenate(p) for p in zip(*parts)))


def system_of(fit) -> GlmmSystem:
    """The design of a GlmmFit, rebuilt from its data."""
    return GlmmSystem(build_model_data(fit.formula, fit.source, fit.family), get_family(fit.family, fit.link))


def bootstrap_deviances(fit0, fit1, nsim: int, rng: np.random.Generator, progress=None):
    """-2 log-likelihoods of both models refitted to nsim responses drawn from fit0: (dev0, dev1, failed)."""
    sys0, sys1 = system_of(fit0), system_of(fit1)
    Y = simulate_responses(sys0, fit0.theta, fit0.beta, nsim, rng)

    def report(part: int):
        return None if progress is None else (lambda done, total: progress(done + part * nsim, 2 * nsim))

    r0 = fit_many(sys0, fit0.nagq, Y, np.concatenate([fit0.theta, fit0.beta]), progress=report(0))
    r1 = fit_many(sys1, fit1.nagq, Y, np.concatenate([fit1.theta, fit1.beta]), progress=report(1))
    return r0.deviance, r1.deviance, int((~r0.converged).sum() + (~r1.converged).sum())
