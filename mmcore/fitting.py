"""`fit()`, the one entry point: which engine fits this model.

lme4's lmer for a Gaussian response with independent errors (lmm/), glmer for a binomial or
Poisson response (glmm/), nlme's lme for errors correlated within a group (AR(1), continuous-time
AR(1)). The engines live in their sub-packages; this module only chooses, so that the engines never
import each other.
"""
from __future__ import annotations

import pandas as pd

from .errors import MixedModelError
from .glmm.fit import fit_glmm
from .lmm.fit import fit as fit_lmm
from .lmm.lme import fit_lme
from .model.limits import Budget

FAMILIES = ("gaussian", "binomial", "poisson")
CORRELATIONS = ("ar1", "car1")


def fit(formula: str, data: pd.DataFrame, *, reml: bool = True, family: str = "gaussian", nagq: int = 1,
        correlation: str | None = None, time: str | None = None, link: str | None = None,
        budget: Budget | None = None):
    """Fit a mixed model with lme4's formula syntax.

    - family "gaussian" (default): a linear mixed model by REML (default) or ML, as lme4's lmer.
    - family "binomial" or "poisson": a generalized linear mixed model by Laplace (nagq=1) or adaptive
      Gauss-Hermite quadrature (nagq > 1, one scalar random effect), as lme4's glmer (nagq=0: glmer's
      nAGQ = 0); always by maximum likelihood (reml is ignored). link: binomial's "logit" (default),
      "probit" or "cloglog".
    - correlation "ar1" or "car1": residuals correlated within the grouping factor (by position, or
      by the column `time`), as nlme's lme with corAR1 / corCAR1 (lmm/lme.py): an LmeFit, with `phi`.
    - budget: the resource limits (model/limits.py; default from the environment): a model past them
      is refused with a BudgetError before any work is done (a linear model's fixed part, memory and
      time; a generalized or correlated-errors model's fixed part).
    """
    if family not in FAMILIES:
        raise MixedModelError(f"The family '{family}' is not one this app fits: choose one of {', '.join(FAMILIES)}.")
    if correlation is not None and correlation not in CORRELATIONS:
        raise MixedModelError(f"The correlation '{correlation}' is not one this app fits: choose ar1 or car1.")
    if family != "gaussian":
        if correlation is not None:
            raise MixedModelError("Correlated errors are fitted for a Gaussian response only (as nlme's lme).")
        return fit_glmm(formula, data, family, nagq, link)
    if link is not None:
        raise MixedModelError("A link applies to generalized models (family binomial or poisson).")
    if nagq != 1:
        raise MixedModelError("nagq (adaptive quadrature) applies to generalized models (family binomial or poisson).")
    if correlation is not None:
        return fit_lme(formula, data, reml=reml, correlation=correlation, time=time)
    if time is not None:
        raise MixedModelError("A time column is used with correlated errors: give correlation='ar1' or 'car1' too.")
    return fit_lmm(formula, data, reml=reml, budget=budget)
