"""Penalized quasi-likelihood, as MASS's glmmPQL: a weighted linear mixed model fitted again and
again to the GLM's working response.

glmmPQL (MASS 7.3): fit the GLM ignoring the groups; then up to 10 times: fit
`lme(z ~ X, random, weights = varFixed(~ 1 / w), method = "ML")` with the working response
z = eta + (y - mu) / mu.eta and working weights w = n mu.eta^2 / V(mu), take eta from its fitted
values (random effects included), and stop when sum((eta - eta_old)^2) < 1e-6 sum(eta^2). The
weighted ML fit is the LMM engine's, on the data scaled by sqrt(w) (the weights' log-determinant
is a constant). PQL's variance estimates are biased towards zero for binary data with few
observations per group (Breslow and Clayton 1993): the lesson sets it beside Laplace and quadrature.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import DataError, MixedModelError
from ..lmm.deviance import ProfiledDeviance
from ..lmm.optimize import minimize
from ..model.design import build_model_data
from .family import get_family
from .results import NamedCoefficients

MAX_ITER = 10  # glmmPQL's niter
GLM_TOL = 1e-10


@dataclass(frozen=True)
class PqlFit(NamedCoefficients):
    formula: str
    family: str
    link: str
    fixed_names: tuple
    beta: np.ndarray
    se_values: np.ndarray
    sd_random: dict  # term label ("Subject (Intercept)") -> SD of the random effect
    sigma: float  # the residual SD of the last weighted LMM (glmmPQL's dispersion)
    iterations: int
    converged: bool  # glmmPQL's stopping rule met within 10 iterations
    linear_predictor: np.ndarray


def glm_irls(X: np.ndarray, y: np.ndarray, trials: np.ndarray, family) -> np.ndarray:
    """The GLM ignoring the groups (R's glm: IRLS from mustart), to convergence: returns eta."""
    mu = (trials * y + 0.5) / (trials + 1) if family.name == "binomial" else y + 0.1
    eta = family.linkfun(mu)
    dev_old = np.inf
    for _ in range(100):
        mu, w, res = family.irls(eta, y, trials)
        sw = np.sqrt(w)
        beta = np.linalg.lstsq(X * sw[:, None], (eta + res) * sw, rcond=None)[0]
        eta = X @ beta
        dev = -2 * family.loglik(eta, y, trials).sum()
        if abs(dev - dev_old) <= GLM_TOL * (abs(dev) + 0.1):
            break
        dev_old = dev
    return eta


def fit_pql(formula: str, data: pd.DataFrame, family: str, link: str | None = None) -> PqlFit:
    """glmmPQL's fit of an lme4-style formula (one or more random terms, as lme allows them nested)."""
    fam = get_family(family, link)
    md = build_model_data(formula, data, family)
    trials = md.trials if md.trials is not None else np.ones(len(md.y))
    try:
        eta = glm_irls(md.X, md.y, trials, fam)
    except np.linalg.LinAlgError as exc:
        raise DataError("The GLM that starts PQL could not be fitted to these data.") from exc
    converged, sol, it = False, None, 0
    for it in range(1, MAX_ITER + 1):
        mu, w, res = fam.irls(eta, md.y, trials)
        sol = _weighted_lmm(md, eta + res, w)
        eta_old, eta = eta, sol["eta"]
        if np.sum((eta - eta_old) ** 2) < 1e-6 * np.sum(eta**2):
            converged = True
            break
    sds = {}
    names = [f"{t.group} {c}" for t in md.terms for c in t.columns]
    for name, sd in zip(names, sol["sd"]):
        sds[name] = sd
    return PqlFit(formula=md.formula.text, family=fam.name, link=fam.link, fixed_names=md.fixed_names,
                  beta=sol["beta"], se_values=np.sqrt(np.diag(sol["vcov"])), sd_random=sds, sigma=sol["sigma"],
                  iterations=it, converged=converged, linear_predictor=eta)


def _weighted_lmm(md, z: np.ndarray, w: np.ndarray) -> dict:
    """lme(z ~ X, random, weights = varFixed(~1/w), method = "ML") through the LMM engine."""
    sw = np.sqrt(w)
    terms = tuple(replace(t, matrix=t.matrix * sw[:, None]) for t in md.terms)
    scaled = replace(md, y=z * sw, X=md.X * sw[:, None], terms=terms, family="gaussian", trials=None)
    dev = ProfiledDeviance(scaled, reml=False)
    with np.errstate(all="ignore"):
        opt = minimize(dev.evaluate, dev.start(), dev.structure())
    if not np.isfinite(opt.value):
        raise MixedModelError("A weighted linear mixed model inside PQL could not be fitted.")
    sol = dev.solve(opt.theta)
    sd = []
    for k, t in enumerate(md.terms):
        T = dev.layout.factor(opt.theta, k)
        sd += list(sol["sigma"] * np.sqrt(np.diag(T @ T.T)))
    return dict(beta=sol["beta"], vcov=sol["vcov"], sigma=sol["sigma"], sd=sd, eta=sol["fitted"] / sw)
