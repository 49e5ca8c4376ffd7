"""Diagnostics that suit a GLMM, where raw residuals of 0/1 data tell nothing by eye.

- Binned residuals (Gelman and Hill 2007, 5.6): sort by fitted probability, average y - p in bins,
  set it against +-2 SE of such an average; about 95% of bins should fall inside.
- Simulated, "DHARMa-style" quantile residuals (Hartig's DHARMa; Dunn and Smyth 1996): simulate
  the response many times from the fitted model (with new random effects: unconditional, lme4's
  simulate() default), and take each observation's rank among its simulations, randomised between
  ties of a discrete response. Under the model these are uniform on (0, 1), whatever the family.
- Dispersion (DHARMa's test): the variance of observed residuals y - E(y) against that of simulated
  ones; for counts also the observed frequency of 0, 1, 2, ... against the model's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..glmm.batch import simulate_responses, system_of
from ..glmm.results import GlmmFit


def binned_residuals(fit: GlmmFit, bins: int | None = None) -> pd.DataFrame:
    """Bins of (about) equal size by fitted mean: mean fitted, mean residual, its +-2 SE band."""
    n = len(fit.y)
    bins = bins or int(min(40, max(5, np.sqrt(n))))
    order = np.argsort(fit.fitted, kind="stable")
    parts = np.array_split(order, bins)
    p, y, w = fit.fitted, fit.y, fit.trials
    var = p * (1 - p) / w if fit.family == "binomial" else p / w
    rows = [dict(fitted=p[i].mean(), residual=(y[i] - p[i]).mean(), se=np.sqrt(var[i].sum()) / len(i), n=len(i))
            for i in parts if len(i)]
    table = pd.DataFrame(rows)
    table["inside"] = np.abs(table.residual) <= 2 * table.se
    return table


@dataclass(frozen=True)
class SimulatedResiduals:
    residuals: np.ndarray  # scaled (quantile) residuals in (0, 1), data order
    fitted: np.ndarray
    simulated_mean: np.ndarray
    ks_p: float  # Kolmogorov-Smirnov test of uniformity
    dispersion: float  # variance of observed residuals / mean variance of simulated ones
    dispersion_p: float  # two-sided, from the simulations
    nsim: int
    counts: pd.DataFrame | None  # Poisson: observed and expected frequency of each count


def simulated_residuals(fit: GlmmFit, nsim: int = 250, seed: int = 1, conditional: bool = False) -> SimulatedResiduals:
    """Quantile residuals from nsim responses simulated from the fit: with new random effects
    (unconditional), or given the fitted ones (conditional: sharper for dispersion, as DHARMa advises)."""
    rng = np.random.default_rng(seed)
    if conditional:
        mu = np.broadcast_to(fit.fitted, (nsim, len(fit.y)))
        Y = rng.poisson(mu).astype(float) if fit.family == "poisson" else \
            rng.binomial(fit.trials.astype(np.int64), mu).astype(float)
    else:
        Y = simulate_responses(system_of(fit), fit.theta, fit.beta, nsim, rng) * fit.trials  # counts
    y = np.round(fit.y * fit.trials)
    below, tie = (Y < y).mean(axis=0), (Y == y).mean(axis=0)
    scaled = below + rng.uniform(size=len(y)) * tie
    mean = Y.mean(axis=0)
    observed = np.var(y - mean)
    simulated = np.var(Y - mean, axis=1)
    ratio = observed / simulated.mean()
    p = 2 * min(np.mean(simulated >= observed), np.mean(simulated <= observed))
    counts = None
    if fit.family == "poisson":
        top = int(min(max(y.max(), 5), 30))
        values = np.arange(top + 1)
        counts = pd.DataFrame({"count": values, "observed": [(y == v).sum() for v in values],
                               "expected": [(Y == v).sum() / nsim for v in values]})
    return SimulatedResiduals(scaled, fit.fitted, mean, float(stats.kstest(scaled, "uniform").pvalue), float(ratio),
                              float(min(p, 1.0)), nsim, counts)


def pearson_dispersion(fit: GlmmFit) -> float:
    """Sum of squared Pearson residuals over the residual df: about 1 without overdispersion
    (a rough check for counts; for 0/1 data it means little)."""
    return float(np.sum(fit.pearson_residuals**2) / (fit.nobs - fit.npar))
