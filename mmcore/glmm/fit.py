"""`fit_glmm()`: formula + data -> GlmmFit, as lme4's glmer.

glmer's two stages (R/lmer.R, `glmer`): first theta alone, beta found by PIRLS with u (nAGQ = 0);
then theta and beta together at the Laplace approximation or quadrature, from the first stage's
answer. Both stages run mmcore.lmm.optimize's Newton method, the second with beta as free
parameters beside theta. The second stage's answer is verified (optimize.minimize); the first
stage's only starts it, so it stops once Newton's model promises less than 0.01 (optimize.approach:
three stencils instead of five on ctsib), unless nagq = 0 asks for it as the answer. The standard errors are lme4's: twice the inverse
of the Hessian of the objective in (theta, beta), its beta block (vcov.merMod, use.hessian).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, MixedModelError
from ..lmm.fdiff import derivatives, stencil
from ..lmm.fit import _boundary, _ranef_blocks, _varcorr, not_converged_message, singular_message
from ..lmm.optimize import approach, minimize
from ..model.design import ModelData, build_model_data
from .deviance import MAX_NAGQ, GlmmDeviance
from .family import Family, get_family
from .pirls import GlmmSystem
from .results import GlmmFit

STAGE1_ENOUGH = 1e-2  # glmer's first stage stops once Newton's model promises less than this
SEPARATION = 25.0  # |eta| beyond this: a fitted probability within 1e-11 of 0 or 1


def separation_message(md: ModelData, eta: np.ndarray) -> str:
    k = int(np.sum(np.abs(eta) > SEPARATION))
    return (f"{k} of {len(eta)} fitted probabilities are 0 or 1 within rounding: the data are (quasi-)completely "
            "separated, some combination of predictors decides every outcome there (in ctsib, nobody was stable on "
            "foam with eyes closed). The coefficients involved have no finite estimate: their values and standard "
            "errors are wherever the optimizer stopped, only the log-likelihood is meaningful. Merge or drop "
            "the categories concerned.")


def check_nagq(md: ModelData, nagq) -> int:
    if isinstance(nagq, bool) or not isinstance(nagq, (int, np.integer)) or not 0 <= nagq <= MAX_NAGQ:
        raise MixedModelError(f"nagq must be a whole number from 0 to {MAX_NAGQ} (1: the Laplace approximation, "
                              "more: adaptive Gauss-Hermite quadrature with that many points, 0: glmer's fast nAGQ = 0).")
    if nagq > 1 and (len(md.terms) != 1 or md.terms[0].q != 1):
        raise MixedModelError("Adaptive quadrature (nagq > 1) is only available for a model with a single scalar "
                              "random effect, such as (1 | group), as in lme4. Use nagq = 1 (Laplace) for this model.")
    return int(nagq)


def start_beta(system: GlmmSystem) -> np.ndarray:
    """glm's start: eta from mustart (binomial (n y + 1/2) / (n + 1), Poisson y + 1/10) regressed on X."""
    fam, y, n = system.family, system.y, system.trials
    mu = (n * y + 0.5) / (n + 1) if fam.name == "binomial" else y + 0.1
    eta = fam.linkfun(mu)
    w = np.sqrt(fam.irls(eta, y, n)[1])
    return np.linalg.lstsq(system.X * w[:, None], eta * w, rcond=None)[0]


def fit_glmm(formula: str, data: pd.DataFrame, family: str, nagq: int = 1, link: str | None = None) -> GlmmFit:
    """Fit a generalized linear mixed model (binomial or Poisson) as glmer."""
    try:
        fam = get_family(family, link)
        md = build_model_data(formula, data, family)
        nagq = check_nagq(md, nagq)
        system = GlmmSystem(md, fam)
        with np.errstate(all="ignore"):  # trial points where PIRLS finds no mode give +inf, handled
            theta, beta, dev, opt = optimize_glmm(system, nagq)
            return assemble(md, system, dev, theta, beta, opt)
    except MixedModelError:
        raise
    except (ValueError, TypeError, ArithmeticError, np.linalg.LinAlgError, KeyError, IndexError) as exc:
        raise DataError(
            f"The model could not be fitted to these data ({type(exc).__name__}: {exc}). Check that the response "
            "fits the family, that predictors vary, and that each group has several rows."
        ) from exc


def optimize_glmm(system: GlmmSystem, nagq: int, start: np.ndarray | None = None):
    """glmer's optimization: stage 1 (theta, nAGQ = 0), then stage 2 (theta and beta) unless nagq is 0."""
    stage1 = GlmmDeviance(system, 0)
    stage1.set_warm(start_beta(system))
    theta0 = system.layout.start * system.theta_scale() if start is None else start
    if nagq == 0:
        opt = minimize(stage1.evaluate, theta0, system.structure())
    else:  # only a start for the second stage, which verifies its own answer
        opt = approach(stage1.evaluate, theta0, system.structure(), STAGE1_ENOUGH)
    if not np.isfinite(opt.value):
        raise DataError("The model could not be fitted: PIRLS found no mode anywhere the optimizer looked. "
                        "Check the response for complete separation (a predictor that decides every outcome).")
    modes = stage1.modes(opt.theta[None], np.zeros(1, dtype=int))
    theta, beta = opt.theta, modes.beta[0]
    if nagq == 0:
        return theta, beta, stage1, opt
    dev = GlmmDeviance(system, nagq)
    dev.warm_u1[0], dev.warm_u2[0] = modes.u1[0], modes.u2[0]
    opt = minimize(dev.evaluate, np.concatenate([theta, beta]), system.structure(with_beta=True))
    return opt.theta[: len(theta)], opt.theta[len(theta) :], dev, opt


def hessian(dev: GlmmDeviance, params: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The objective's Hessian in (theta, beta), as lme4's deriv12 gives it for vcov, but accurate:
    a first central-difference Hessian on the optimizer's scaled parameters, then again in the
    coordinates it whitens (where the Hessian is about I). With collinear columns (ctsib's Height
    and intercept) the first alone is off by a percent in the SEs; the second is not."""
    phi = (params / scale)[None]
    H = derivatives(dev.evaluate(stencil(phi)[0] * scale)[None], phi)[2][0]
    try:
        L = np.linalg.cholesky((H + H.T) / 2)
    except np.linalg.LinAlgError:
        return H / np.outer(scale, scale)
    back = np.linalg.inv(L).T  # phi = phi* + back @ t: the Hessian in t is about I
    d, h = len(params), 1e-3
    E = np.eye(d)
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    steps = [h * E[i] for i in range(d)] + [h * (E[i] + E[j]) for i, j in pairs]
    T = np.array(steps + [-s for s in steps])
    values = dev.evaluate((phi[0] + T @ back.T) * scale)
    f0 = dev.evaluate(params[None])[0]
    m = len(steps)
    second = (values[:m] + values[m:] - 2 * f0) / h**2  # t' H t along each step, O(h^2)
    Ht = np.diag(second[:d])
    for k, (i, j) in enumerate(pairs):
        Ht[i, j] = Ht[j, i] = (second[d + k] - second[i] - second[j]) / 2
    Hphi = L @ Ht @ L.T
    return Hphi / np.outer(scale, scale)


def vcov_beta(dev: GlmmDeviance, system: GlmmSystem, theta, beta, modes) -> tuple[np.ndarray, str]:
    """lme4's vcov: from the Hessian (nAGQ >= 1) when it is positive definite, else from R_X."""
    k = len(theta)
    if dev.nagq >= 1:
        H = hessian(dev, np.concatenate([theta, beta]), system.structure(with_beta=True).scale)
        try:
            V = 2 * np.linalg.inv(H)[k:, k:]
            V = (V + V.T) / 2
            if np.all(np.isfinite(V)) and np.linalg.eigvalsh(V).min() > 0:
                return V, "hessian"
        except np.linalg.LinAlgError:
            pass
    try:
        return rx_vcov(system, theta, modes), "RX"
    except np.linalg.LinAlgError:
        # quasi-separation: weights of ~1e-16 leave a direction of beta with no information, and
        # rounding in R_X's Schur complement makes it indefinite. No finite standard error exists.
        p = len(beta)
        return np.full((p, p), np.nan), "none"


def rx_vcov(system: GlmmSystem, theta, modes) -> np.ndarray:
    """(R_X' R_X)^-1 at the mode: the conditional (approximate) covariance of beta."""
    fam = system.family
    _, w, _ = fam.irls(modes.eta, system.y[None], system.trials)
    V1, R = system.columns(theta[None])
    _, _, _, Ld = system.solve(V1, R, w, system.X.T[None])
    m, p = system.m, system.p
    Rx = Ld[0, m : m + p, m : m + p]
    inv = np.linalg.inv(Rx)
    return inv.T @ inv


def conditional(system: GlmmSystem, theta: np.ndarray, modes) -> dict:
    """Conditional modes b = Lambda u and their variances, diag of Lambda (L L')^-1 Lambda'."""
    fam, m, q1, G = system.family, system.m, system.q1, system.G
    _, w, _ = fam.irls(modes.eta, system.y[None], system.trials)
    V1, R = system.columns(theta[None])
    L1, W1d, W12, Ld = system.solve(V1, R, w, np.zeros((1, 0, system.n)))
    L1 = L1[0].transpose(2, 0, 1)  # G x q1 x q1
    L1inv = np.linalg.inv(L1)
    cov_u1 = np.swapaxes(L1inv, 1, 2) @ L1inv
    r1, c1, t1, _ = system._t1_map
    T1 = np.zeros((q1, q1))
    T1[r1, c1] = theta[t1]
    b2 = var_b2 = np.zeros(0)
    if m:
        r2, c2, t2, _ = system._rest_map
        Ldz = Ld[0, :m, :m]
        Sinv = np.linalg.inv(Ldz @ Ldz.T)
        dense = np.zeros((G, q1, m))  # L1^-1 Z1'W Z2 Lambda2, group by group
        np.add.at(dense, (system.pat_group, slice(None), system.pat_col), W12[0].T)
        P = np.swapaxes(L1inv, 1, 2) @ dense
        cov_u1 = cov_u1 + P @ Sinv @ np.swapaxes(P, 1, 2)
        L2 = np.zeros((m, m))
        for k, off in zip(system.rest, system.rest_offsets):  # Lambda2: the term's T per level
            t, lay = system.md.terms[k], system.layout
            i, j = lay.tri_indices(k)
            base = off + np.arange(t.nlevels)[:, None] * t.q
            L2[(base + i).ravel(), (base + j).ravel()] = np.tile(theta[lay.offsets[k] + np.arange(len(i))], t.nlevels)
        b2 = L2 @ modes.u2[0]
        var_b2 = np.einsum("ij,jk,ik->i", L2, Sinv, L2)
    b1 = modes.u1[0].T @ T1.T  # G x q1
    var_b1 = np.einsum("ij,gjk,ik->gi", T1, cov_u1, T1)
    return dict(b1=b1, var_b1=var_b1, b2=b2, var_b2=var_b2)


def assemble(md: ModelData, system: GlmmSystem, dev: GlmmDeviance, theta, beta, opt) -> GlmmFit:
    fam: Family = system.family
    params = np.concatenate([theta, beta]) if dev.nagq else theta
    modes = dev.modes(params[None], np.zeros(1, dtype=int))
    value = float(dev.value(params[None], np.zeros(1, dtype=int), modes)[0])
    V, vcov_source = vcov_beta(dev, system, theta, modes.beta[0] if dev.nagq == 0 else beta, modes)
    beta = modes.beta[0] if dev.nagq == 0 else beta
    sol = conditional(system, theta, modes)
    eta = modes.eta[0][system.cell_of_row]
    mu = fam.linkinv(eta)
    trials = md.trials if md.trials is not None else np.ones(len(md.y))
    dev_res = fam.dev_resid(md.y, mu, trials)
    n, p, k = len(md.y), system.p, len(theta)
    npar = p + k
    varcorr_rows, re_cov = _varcorr(md, system, theta, 1.0)
    messages = list(md.messages)
    boundary = _boundary(md, system, theta)
    if boundary:
        messages.append(singular_message(boundary))
    if not opt.converged:
        messages.append(not_converged_message(theta / system.theta_scale()))
    if np.any(np.abs(eta) > SEPARATION):
        messages.append(separation_message(md, eta))
    if vcov_source == "none":
        messages.append("The fixed effects carry no information in some direction (the separation), so their "
                        "standard errors, z and p values are not defined.")
    if vcov_source == "RX" and dev.nagq >= 1:
        messages.append("The Hessian of the objective is not positive definite, so the standard errors come from "
                        "R_X (the curvature in beta alone), as lme4 then does: they may be too small.")
    return GlmmFit(
        formula=md.formula.text, family=fam.name, link=fam.link, nagq=dev.nagq, nobs=n,
        ngroups={t.group: t.nlevels for t in md.terms}, theta=np.asarray(theta), beta=np.asarray(beta),
        vcov_matrix=V, fixed_names=md.fixed_names, varcorr_rows=varcorr_rows[:-1], re_cov=re_cov,
        ranef_blocks=_ranef_blocks(md, system, sol),
        loglik=-value / 2, aic=value + 2 * npar, bic=value + npar * np.log(n), deviance=float(dev_res.sum()),
        saturated=fam.saturated(md.y, trials), fitted=mu, linear_predictor=eta, y=md.y, trials=trials,
        residuals=np.sign(md.y - mu) * np.sqrt(np.maximum(dev_res, 0)), is_singular=bool(boundary),
        converged=bool(opt.converged), messages=messages, source=md.source, rows=md.rows,
        variables=tuple(md.formula.variables), response=md.formula.response, npar=npar,
        evaluations=opt.evaluations, vcov_source=vcov_source,
    )
