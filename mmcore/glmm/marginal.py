"""Marginal (population-averaged) fits beside the GLMM, for the attenuation picture: the GLM that
ignores the groups, and GEE with an exchangeable working correlation (statsmodels), both with the
fixed part of the GLMM's formula. Their coefficients describe the average over the groups,
E[y | x] = E_b[g^-1(x beta + b)], and are smaller in size than the GLMM's conditional ones.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import MixedModelError
from ..model.design import build_model_data
from .family import get_family
from .results import NamedCoefficients


@dataclass(frozen=True)
class MarginalFit(NamedCoefficients):
    method: str  # "glm" or "gee"
    fixed_names: tuple
    beta: np.ndarray
    se_values: np.ndarray  # GLM: model-based; GEE: robust (sandwich)
    alpha: float | None = None  # GEE's exchangeable working correlation


def _sm_family(name: str, link: str):
    import statsmodels.api as sm  # noqa: PLC0415  (only this view needs statsmodels)

    links = {"logit": sm.families.links.Logit(), "probit": sm.families.links.Probit(),
             "cloglog": sm.families.links.CLogLog(), "log": sm.families.links.Log()}
    return (sm.families.Binomial if name == "binomial" else sm.families.Poisson)(link=links[link])


def fit_marginal(formula: str, data: pd.DataFrame, family: str, method: str = "glm",
                 link: str | None = None) -> MarginalFit:
    """The population-averaged model of the formula's fixed part: 'glm' (ignoring the groups) or
    'gee' (exchangeable within the first grouping factor; 0/1 or count responses)."""
    import statsmodels.api as sm  # noqa: PLC0415

    fam = get_family(family, link)
    md = build_model_data(formula, data, family)
    trials = md.trials if md.trials is not None else np.ones(len(md.y))
    smfam = _sm_family(fam.name, fam.link)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "glm":
            endog = np.column_stack([md.y * trials, trials - md.y * trials]) if fam.name == "binomial" else md.y
            res = sm.GLM(endog, md.X, family=smfam).fit(tol=1e-12)
            return MarginalFit("glm", md.fixed_names, np.asarray(res.params), np.asarray(res.bse))
        if method != "gee":
            raise MixedModelError("The marginal fit is 'glm' or 'gee'.")
        if np.any(trials != 1):
            raise MixedModelError("GEE here takes a 0/1 or count response, not cbind(successes, failures).")
        groups = min(md.terms, key=lambda t: t.nlevels).codes  # the outermost factor: clusters
        res = sm.GEE(md.y, md.X, groups=groups, family=smfam,
                     cov_struct=sm.cov_struct.Exchangeable()).fit(maxiter=200)
        alpha = float(res.model.cov_struct.dep_params)
    return MarginalFit("gee", md.fixed_names, np.asarray(res.params), np.asarray(res.bse), alpha)
