"""`GlmmFit`: an immutable, picklable fitted GLMM with lme4's names and `summary()` layout (glmer's).

The attributes mean what LmmFit's mean where they apply (fixef, se, vcov, theta, varcorr, ranef,
ranef_sd, loglik, aic, bic, npar, ...), plus family, link and nagq. Two names differ from a linear
model as they differ in lme4: `deviance` is lme4's deviance() of a glmer fit, the sum of squared
deviance residuals at the conditional means (not -2 logLik), and `residuals` are deviance
residuals. `loglik` is the full log-likelihood at every nagq (lme4 leaves out the saturated
model's at nagq > 1: `loglik_lme4` is its number).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from ..lmm import rprint
from ..lmm.results import FitViews, fixef_correlation_lines, likelihood_table, message_lines, residual_lines
from ..model.formula import printed_formula


class NamedCoefficients:
    """fixef and se as named Series, from beta and se_values (PQL and marginal fits, the lesson's
    comparisons beside a GlmmFit)."""

    @property
    def fixef(self) -> pd.Series:
        return pd.Series(self.beta, index=list(self.fixed_names))

    @property
    def se(self) -> pd.Series:
        return pd.Series(self.se_values, index=list(self.fixed_names))


@dataclass(frozen=True, eq=False)
class GlmmFit(FitViews):
    formula: str
    family: str  # "binomial" or "poisson"
    link: str
    nagq: int  # 0 (glmer's nAGQ = 0), 1 (Laplace), > 1 (adaptive Gauss-Hermite)
    nobs: int
    ngroups: dict
    theta: np.ndarray
    loglik: float
    aic: float
    bic: float
    deviance: float  # lme4's deviance(): sum of squared deviance residuals
    saturated: float  # log-likelihood of the saturated model (mu = y)
    fitted: np.ndarray  # conditional means mu (with the random effects), data order
    linear_predictor: np.ndarray  # eta
    y: np.ndarray  # the response (a proportion for binomial counts)
    trials: np.ndarray  # binomial trials per row (1 for 0/1 data and for Poisson)
    residuals: np.ndarray  # deviance residuals
    is_singular: bool
    converged: bool
    messages: list
    fixed_names: tuple
    beta: np.ndarray = field(repr=False)
    vcov_matrix: np.ndarray = field(repr=False)
    varcorr_rows: tuple = field(repr=False)
    ranef_blocks: dict = field(repr=False)
    source: pd.DataFrame = field(repr=False)
    rows: np.ndarray = field(repr=False)
    variables: tuple = ()
    response: str = ""
    re_cov: tuple = ()
    npar: int = 0
    evaluations: int = 0
    vcov_source: str = "hessian"  # lme4's use.hessian, "RX" when the Hessian is not positive definite, "none": no SEs
    sigma: float = 1.0  # lme4's sigma() of a binomial or Poisson fit
    reml: bool = False  # a GLMM is fitted by maximum likelihood

    @cached_property
    def coef_table(self) -> pd.DataFrame:
        """Estimate, Std. Error, z value, Pr(>|z|): glmer's table of Wald tests."""
        z = self.fixef / self.se
        return pd.DataFrame({"Estimate": self.fixef, "Std. Error": self.se, "z value": z,
                             "Pr(>|z|)": 2 * stats.norm.sf(np.abs(z))})

    @property
    def loglik_lme4(self) -> float:
        """The log-likelihood lme4 prints: at nagq > 1 without the saturated model's constant."""
        return self.loglik - self.saturated if self.nagq > 1 else self.loglik

    @property
    def pearson_residuals(self) -> np.ndarray:
        var = self.fitted * (1 - self.fitted) / self.trials if self.family == "binomial" else self.fitted
        return (self.y - self.fitted) / np.sqrt(var)

    @property
    def data(self) -> pd.DataFrame:
        return self.source.iloc[self.rows][list(self.variables)].reset_index(drop=True)

    def summary(self) -> str:
        return format_summary(self)


def _method(fit: GlmmFit) -> str:
    if fit.nagq > 1:
        return f"Adaptive Gauss-Hermite Quadrature, nAGQ = {fit.nagq}"
    return "Laplace Approximation" if fit.nagq == 1 else "nAGQ = 0, PIRLS estimates of beta"


def format_summary(fit: GlmmFit) -> str:
    """Text laid out like lme4's print(summary(glmer(...))) (less its "Data:" line)."""
    lines = rprint.method_title(f"Generalized linear mixed model fit by maximum likelihood ({_method(fit)})", "glmerMod")
    lines += [f" Family: {fit.family}  ( {fit.link} )", f"Formula: {printed_formula(fit.formula)}", ""]
    lines += likelihood_table(fit.aic, fit.bic, fit.loglik, -2 * fit.loglik, fit.nobs - fit.npar)
    lines += ["", *residual_lines(fit.pearson_residuals), "", "Random effects:"]
    lines += rprint.random_effects(fit.re_cov, None)
    groups = "; ".join(f"{g}, {n}" for g, n in fit.ngroups.items())
    lines.append(f"Number of obs: {fit.nobs}, groups:  {groups}")
    lines += ["", "Fixed effects:"]
    lines += rprint.coefficients(fit.coef_table, ["Estimate", "Std. Error"], "z value", "Pr(>|z|)")
    lines += fixef_correlation_lines(fit)
    if fit.nagq > 1 and fit.saturated != 0:
        lines += message_lines([f"logLik is the full log-likelihood; lme4 prints {fit.loglik_lme4:.1f} at nAGQ > 1 "
                                f"(it leaves out the saturated model's log-likelihood, {fit.saturated:.2f})."])
    lines += message_lines(fit.messages)
    return "\n".join(lines)
