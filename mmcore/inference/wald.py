"""Wald standard errors and intervals: for fixed effects (lme4's confint(method = "Wald")), and for
the variance components from the observed information (the inverse Hessian of the fit's own
criterion), which lme4 does not give and the lessons show in order to see where they fail."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..lmm.fit import model_data
from ..lmm.results import LmmFit
from ..model.design import ModelData
from .marginal import Marginal
from .names import parameters


def _gamma_covariance(fit: LmmFit, md: ModelData | None = None):
    """Covariance of the variance parameters gamma (pbkrtest's: covariances, then sigma^2) as
    2 H^-1, H the Hessian of the fit's criterion in gamma; None where H is not positive definite."""
    M = Marginal(md or model_data(fit), fit.theta, fit.sigma, fit.beta, fit.reml)
    _, H = M.deviance_derivatives()
    w = np.linalg.eigvalsh(H)
    if not np.all(w > 1e-10 * max(1.0, np.max(np.abs(w)))):
        return M, None
    return M, 2 * np.linalg.inv(H)


def ml_standard_errors(fit: LmmFit, md: ModelData | None = None) -> dict:
    """Standard errors of lme4's parameters (sd, cor, sigma, fixed effects) by the delta method;
    NaN for variance parameters where the information is singular (a boundary fit)."""
    M, cov = _gamma_covariance(fit, md)
    where = {(e.term, e.a, e.b): i for i, e in enumerate(M.entries)}
    gamma = {}
    for t, (_, _, c) in enumerate(fit.re_cov):
        for (a, b) in [(a, b) for b in range(len(c)) for a in range(b, len(c))]:
            gamma[(t, a, b)] = c[a, b]
    out = {}
    for par in parameters(fit):
        if par.kind == "fixef":
            out[par.name] = float(np.sqrt(fit.vcov_matrix[par.index, par.index]))
            continue
        grad = np.zeros(len(M.entries))
        if par.kind == "sigma":
            grad[-1] = 1 / (2 * fit.sigma)
        elif par.kind == "sd":
            grad[where[(par.term, par.a, par.a)]] = 1 / (2 * par.estimate) if par.estimate > 0 else np.nan
        else:
            t, a, b = par.term, par.a, par.b
            va, vb = gamma[(t, a, a)], gamma[(t, b, b)]
            grad[where[(t, a, b)]] = 1 / np.sqrt(va * vb)
            grad[where[(t, a, a)]] = -par.estimate / (2 * va)
            grad[where[(t, b, b)]] = -par.estimate / (2 * vb)
        out[par.name] = float(np.sqrt(grad @ cov @ grad)) if cov is not None and np.all(np.isfinite(grad)) else np.nan
    return out


def variance_wald(fit: LmmFit, level: float = 0.95) -> pd.DataFrame:
    """Wald intervals for each variance (and sigma^2) on the variance scale and for each SD, from the
    observed information of the fit's criterion: estimate +- z SE, symmetric, possibly below zero."""
    M, cov = _gamma_covariance(fit)
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for i, e in enumerate(M.entries):
        if e.term >= 0 and e.a != e.b:
            continue
        if e.term < 0:
            name, var = "sigma", fit.sigma**2
        else:
            group, cols, c = fit.re_cov[e.term]
            name, var = f"sd_{cols[e.a]}|{group}", float(c[e.a, e.a])
        se_var = float(np.sqrt(cov[i, i])) if cov is not None else np.nan
        sd = np.sqrt(var)
        se_sd = se_var / (2 * sd) if sd > 0 else np.nan
        rows.append((name, var, se_var, var - z * se_var, var + z * se_var, sd, se_sd, sd - z * se_sd, sd + z * se_sd))
    return pd.DataFrame(rows, columns=["par", "variance", "se_variance", "variance_lower", "variance_upper",
                                       "sd", "se_sd", "sd_lower", "sd_upper"]).set_index("par")
