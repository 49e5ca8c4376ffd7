"""The maths of the lesson on binary and count outcomes: odds ratios, conditional and marginal
(population-averaged) curves, the attenuation of marginal coefficients, Laplace against quadrature
against PQL, and diagnostics that suit a GLMM (binned residuals, simulated "DHARMa-style" residuals,
dispersion, the frequencies of counts).

Marginal curves integrate over the random intercept with Gauss-Hermite quadrature (100 nodes):
E_b[g^-1(eta + b)], b ~ N(0, sigma^2). For the probit link this has the closed form
Phi(eta / sqrt(1 + sigma^2)); for the logit the classic approximation divides by
sqrt(1 + c^2 sigma^2), c = 16 sqrt(3) / (15 pi) (Zeger, Liang and Albert 1988).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from ..data.simulate import simulate_binary
from ..fitting import fit
from ..glmm.batch import fit_many, simulate_responses, system_of
from ..glmm.family import get_family
from ..glmm.pql import fit_pql
from ..glmm.results import GlmmFit
from ..model.design import build_model_data

ZEGER_C = 16 * np.sqrt(3) / (15 * np.pi)  # logit ~ probit(c eta): the attenuation constant 0.588
_Z, _W = np.polynomial.hermite_e.hermegauss(100)
_W = _W / _W.sum()


def inverse_link(eta: np.ndarray, link: str) -> np.ndarray:
    return get_family("poisson" if link == "log" else "binomial", link).linkinv(np.asarray(eta, dtype=float))


def marginal_mean(eta: np.ndarray, sigma: float, link: str) -> np.ndarray:
    """E_b[g^-1(eta + b)], b ~ N(0, sigma^2): the population-averaged mean at each eta."""
    eta = np.asarray(eta, dtype=float)
    return inverse_link(eta[..., None] + sigma * _Z, link) @ _W


def attenuation_factor(sigma: float, link: str) -> float:
    """How much smaller a marginal coefficient is than the conditional one (exact for the probit)."""
    return 1 / np.sqrt(1 + sigma**2) if link == "probit" else 1 / np.sqrt(1 + (ZEGER_C * sigma) ** 2)


def odds_ratios(fit_: GlmmFit, level: float = 0.95) -> pd.DataFrame:
    """exp(beta) with Wald intervals: odds ratios (logit), rate ratios (log link), for one subject
    (conditional on the random effect: two people with the same b, not two random people)."""
    z = stats.norm.ppf(0.5 + level / 2)
    table = pd.DataFrame({"estimate": fit_.fixef, "se": fit_.se})
    table = table.drop(index=[i for i in table.index if i == "(Intercept)"])
    table["ratio"] = np.exp(table.estimate)
    table["lower"] = np.exp(table.estimate - z * table.se)
    table["upper"] = np.exp(table.estimate + z * table.se)
    table["p"] = 2 * stats.norm.sf(np.abs(table.estimate / table.se))
    table["from 0.5 to"] = table.ratio / (1 + table.ratio)  # the probability that odds of 1 become
    return table


def probability_text(p: float) -> str:
    """A probability to 3 decimals, or as many more as it takes not to read as 0 or 1: odds of 2120
    are a probability of 0.99953, not 1.000."""
    if not 0 < p < 1:
        return f"{p:.3f}"
    places = max(3, int(np.ceil(-np.log10(min(p, 1 - p)))) + 1)
    return f"{p:.{places}f}"


def pql_study_design(truth: dict | None = None, seed: int = 1) -> dict:
    """The design of the PQL-against-Laplace simulation: the truth the student set (simulate mode), or
    binary data with few trials per subject, where PQL's bias shows: 30 subjects x 4, sigma_b = 2."""
    truth = dict(truth) if truth else {"n_groups": 30, "n_per_group": 4, "beta0": -0.5, "beta1": 1.0, "sigma_b": 2.0}
    data = simulate_binary(**{k: truth[k] for k in ("n_groups", "n_per_group", "beta0", "beta1", "sigma_b")}, seed=seed)
    label = (f"{truth['n_groups']} subjects x {truth['n_per_group']} trials, beta0 = {truth['beta0']:g}, "
             f"beta1 = {truth['beta1']:g}, sigma_b = {truth['sigma_b']:g}")
    return dict(data=data, truth={k: truth[k] for k in ("beta0", "beta1", "sigma_b")}, label=label)


def random_intercept_sd(fit_: GlmmFit) -> float:
    """The SD of the (first) random intercept: what a population average integrates over."""
    vc = fit_.varcorr
    row = vc[(vc.var1 == "(Intercept)") & vc.var2.isna()]
    return float(row.sdcor.iloc[0]) if len(row) else 0.0


def subject_curves(fit_: GlmmFit, x: str, n_subjects: int = 8, seed: int = 1, points: int = 60) -> dict:
    """Curves over the numeric predictor x (the other columns of X at their mean): each sampled
    subject's conditional curve g^-1(x beta + b_i) with its BLUP, the mean of all subjects' curves, the
    conditional curve of the median subject (b = 0) and the marginal curve E_b[g^-1(x beta + b)]."""
    group = next(iter(fit_.ranef))
    blups = fit_.ranef[group]["(Intercept)"]
    grid = np.linspace(float(fit_.data[x].min()), float(fit_.data[x].max()), points)
    X = build_model_data(fit_.formula, fit_.source, fit_.family).X
    j = list(fit_.fixed_names).index(x)
    typical = X.mean(axis=0) @ fit_.beta - X[:, j].mean() * fit_.beta[j]  # the other predictors at their mean
    eta = typical + grid * fit_.beta[j]
    rng = np.random.default_rng(seed)
    shown = rng.choice(len(blups), size=min(n_subjects, len(blups)), replace=False)
    every = inverse_link(eta[None, :] + blups.to_numpy()[:, None], fit_.link)
    return dict(x=grid, subjects=[str(s) for s in blups.index[shown]], curves=every[shown],
                mean_of_subjects=every.mean(axis=0), median=inverse_link(eta, fit_.link),
                marginal=marginal_mean(eta, random_intercept_sd(fit_), fit_.link))


def cell_profiles(fit_: GlmmFit, factors: tuple[str, ...], n_subjects: int = 6, seed: int = 1) -> pd.DataFrame:
    """For designs whose predictors are factors (ctsib's surface x vision): per cell, the observed
    share, the fitted share with each person's BLUP, the average over the random effect (marginal)
    and the median person's (b = 0), plus a few sampled people's fitted probabilities."""
    d = fit_.data
    group = next(iter(fit_.ranef))
    sd = random_intercept_sd(fit_)
    b = fit_.linear_predictor - _fixed_eta(fit_)
    cell = d[list(factors)].astype(str).agg(" / ".join, axis=1)
    frame = pd.DataFrame({"cell": cell, "observed": fit_.y, "with b_i": fit_.fitted,
                          "median person (b = 0)": inverse_link(_fixed_eta(fit_), fit_.link),
                          "population average": marginal_mean(_fixed_eta(fit_), sd, fit_.link),
                          "group": d[group].astype(str).to_numpy(), "b": b})
    table = frame.groupby("cell", sort=False)[["observed", "with b_i", "median person (b = 0)",
                                               "population average"]].mean()
    people = np.random.default_rng(seed).choice(frame.group.unique(), size=min(n_subjects, frame.group.nunique()),
                                                replace=False)
    for person in people:
        table[f"{group} {person}"] = frame[frame.group == person].groupby("cell", sort=False)["with b_i"].mean()
    return table


def _fixed_eta(fit_: GlmmFit) -> np.ndarray:
    return build_model_data(fit_.formula, fit_.source, fit_.family).X @ fit_.beta


def theory_curves(beta0: float, beta1: float, sigma: float, link: str, n_subjects: int = 12, seed: int = 3,
                  points: int = 81) -> dict:
    """The picture of attenuation from a truth: subjects' curves g^-1(beta0 + beta1 x + b_i), the
    median subject's (b = 0), the marginal curve, and (probit) the closed form Phi(eta / sqrt(1 + s^2))."""
    x = np.linspace(-4, 4, points)
    eta = beta0 + beta1 * x
    b = np.random.default_rng(seed).normal(0, sigma, n_subjects)
    out = dict(x=x, subjects=inverse_link(eta[None, :] + b[:, None], link), median=inverse_link(eta, link),
               marginal=marginal_mean(eta, sigma, link), factor=attenuation_factor(sigma, link))
    out["closed_form"] = special.ndtr(eta * out["factor"]) if link == "probit" else \
        special.expit(eta * out["factor"])  # exact for the probit, Zeger et al.'s approximation for the logit
    return out


def attenuation_table(glmm: GlmmFit, marginal) -> pd.DataFrame:
    """Conditional (GLMM) against marginal (GEE or GLM) coefficients, and the ratio theory predicts."""
    names = [n for n in glmm.fixed_names if n != "(Intercept)"]
    factor = attenuation_factor(random_intercept_sd(glmm), glmm.link)
    return pd.DataFrame({"conditional (GLMM)": glmm.fixef[names], f"marginal ({marginal.method.upper()})":
                         marginal.fixef[names], "ratio": marginal.fixef[names] / glmm.fixef[names],
                         "predicted ratio": factor}, index=names)


def compare_methods(formula: str, data: pd.DataFrame, family: str, nagq_values=(5, 25)) -> pd.DataFrame:
    """The same model by glmer's Laplace approximation, adaptive quadrature (one scalar random effect)
    and glmmPQL: estimates, SEs and the random-effect SD side by side (PQL has no likelihood)."""
    rows = {}
    laplace = fit(formula, data, family=family)
    fits = {"Laplace": laplace}
    if len(laplace.re_cov) == 1 and len(laplace.re_cov[0][1]) == 1:
        fits.update({f"AGQ, {q} points": fit(formula, data, family=family, nagq=q) for q in nagq_values})
    for name, f in fits.items():
        rows[name] = dict(**{k: v for k, v in f.fixef.items()}, **{f"SE {k}": v for k, v in f.se.items()},
                          sigma_b=random_intercept_sd(f), logLik=f.loglik)
    pql = fit_pql(formula, data, family)
    rows["PQL (glmmPQL)"] = dict(**{k: v for k, v in pql.fixef.items()}, **{f"SE {k}": v for k, v in pql.se.items()},
                                 sigma_b=next(iter(pql.sd_random.values())), logLik=np.nan)
    return pd.DataFrame(rows).T


@dataclass(frozen=True)
class MethodStudy:
    truth: dict
    laplace_sigma: np.ndarray
    pql_sigma: np.ndarray
    laplace_beta1: np.ndarray
    pql_beta1: np.ndarray


def pql_bias_study(data: pd.DataFrame, formula: str, truth: dict, nsim: int = 100, seed: int = 1,
                   progress=None) -> MethodStudy:
    """Data sets drawn from a binary GLMM truth on the design of `data` (same x and groups), each
    fitted by Laplace (all at once, lmm-style batching) and by PQL: the sampling distribution of
    sigma_b and beta1 under both. PQL's sigma_b is biased toward 0 for binary data."""
    base = fit(formula, data, family="binomial")
    system = system_of(base)
    theta, beta = np.array([truth["sigma_b"]]), np.array([truth["beta0"], truth["beta1"]])
    Y = simulate_responses(system, theta, beta, nsim, np.random.default_rng(seed))
    many = fit_many(system, 1, Y, np.concatenate([theta, beta]))
    pql_sigma, pql_beta1 = np.full(nsim, np.nan), np.full(nsim, np.nan)
    response = base.response
    for i, y in enumerate(Y):
        try:
            p = fit_pql(formula, data.assign(**{response: y}), "binomial")
            pql_sigma[i], pql_beta1[i] = next(iter(p.sd_random.values())), p.beta[1]
        except (ValueError, ArithmeticError):  # a replicate PQL cannot fit (separation): left out
            pass
        if progress is not None:
            progress(i + 1, nsim)
    ok = many.converged
    return MethodStudy(truth, np.abs(many.params[ok, 0]), pql_sigma, many.params[ok, 2], pql_beta1)
