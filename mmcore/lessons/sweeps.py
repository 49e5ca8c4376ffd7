"""One idea swept along one dimension, computed once, so the browser can answer while the student
drags (the figures in mmcore/figures/sweeps.py carry every step; no server round trip).

- `shrinkage_sweep`: a random-intercept model's estimates as sigma_b / sigma (lme4's theta) runs
  from 0 (every group at the population) past the REML estimate: at each value the exact conditional
  solution of the fit with theta fixed there (the fixed effects by GLS, the BLUPs), and the REML
  criterion, so the step at the estimate is the fit itself.
- `icc_sweep`: what data look like as the ICC of the truth runs from 0 to 1: the same random draws
  rescaled (between-group part sqrt(ICC), within-group part sqrt(1 - ICC), total variance 1), and
  the REML estimate of the ICC of each data set, all refitted together by the batched engine
  (batch.fit_many: one design, many responses).
- `sigma_b_sweep`: what partial pooling does as the truth's between-group SD runs from 0 up: the same
  random draws (standardised: the groups' true deviations have SD sigma_b exactly), the groups' part
  scaled by sigma_b, every data set refitted by REML together (fit_many), each group's own mean, its
  partial-pooling estimate and the population's at each value.
- `deletion_sweep`: a random-intercept model refitted with 1, 2, ... of one group's observations
  kept (spread over its rows), each a full REML (or ML) fit: that group's shrinkage factor, own
  deviation and BLUP, and every group's estimates, at each number kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..errors import MixedModelError
from ..lmm.batch import fit_many
from ..lmm.deviance import ProfiledDeviance
from ..lmm.fit import fit as fit_lmm
from ..lmm.optimize import ZERO
from ..lmm.results import LmmFit
from ..model.design import build_model_data
from .shrinkage import keep_spread, shrinkage_intercepts


@dataclass(frozen=True)
class ShrinkageSweep:
    group: str
    levels: tuple  # the groups, in the order of the rows below
    n: np.ndarray  # observations per group
    ratios: np.ndarray  # S values of sigma_b / sigma (theta), ascending, the estimate among them
    estimate: int  # index of the REML (or ML) estimate in `ratios`
    level: np.ndarray  # S: the population's intercept at each ratio (GLS)
    own: np.ndarray  # S x G: each group's own deviation from the population's fitted values
    blup: np.ndarray  # S x G: the conditional modes (BLUPs) at each ratio
    lam: np.ndarray  # S x G: lambda_i = r^2 n_i / (r^2 n_i + 1) = sigma_b^2 / (sigma_b^2 + sigma^2 / n_i)
    criterion: np.ndarray  # S: the fit's criterion (REML or ML deviance) at each ratio


def ratio_grid(estimate: float, steps: int = 40) -> np.ndarray:
    """0 to about three times the estimate (at least to 1.5) in equal steps, the estimate itself added."""
    top = max(3.0 * estimate, 1.5)
    grid = np.round(np.linspace(0.0, top, steps + 1), 4)
    return np.unique(np.append(grid, estimate))


def shrinkage_sweep(fit: LmmFit, ratios: np.ndarray | None = None) -> ShrinkageSweep:
    """The fit's random-intercept model solved at each ratio sigma_b / sigma (the fit's own estimate
    among them): fixed effects, BLUPs, shrinkage factors and criterion, exactly as a fit with theta
    held at that value."""
    md = fit.design
    if len(md.terms) != 1 or md.terms[0].q != 1:
        raise MixedModelError("The shrinkage sweep is drawn for models with one random intercept, (1 | group).")
    t = md.terms[0]
    estimate = float(abs(fit.theta[0]))
    ratios = ratio_grid(estimate) if ratios is None else np.unique(np.append(np.asarray(ratios, float), estimate))
    dev = ProfiledDeviance(md, reml=fit.reml)
    n_i = np.bincount(t.codes, minlength=t.nlevels)
    names = list(fit.fixed_names)
    levels, owns, blups, crits = [], [], [], []
    for r in ratios:
        sol = dev.solve(np.array([r]))
        beta = sol["beta"]
        owns.append(np.bincount(t.codes, md.y - md.X @ beta, t.nlevels) / n_i)
        blups.append(sol["b1"][:, 0] if r > 0 else np.zeros(t.nlevels))
        levels.append(beta[names.index("(Intercept)")] if "(Intercept)" in names else 0.0)
        crits.append(sol["criterion"])
    lam = ratios[:, None] ** 2 * n_i / (ratios[:, None] ** 2 * n_i + 1)
    return ShrinkageSweep(t.group, tuple(t.levels), n_i, ratios, int(np.flatnonzero(ratios == estimate)[0]),
                          np.array(levels), np.array(owns), np.array(blups), lam, np.array(crits))


@dataclass(frozen=True)
class IccSweep:
    iccs: np.ndarray  # S values of the truth's ICC
    group: np.ndarray  # n: each observation's group (0 .. G-1)
    y: np.ndarray  # S x n: the data at each ICC (the same draws, rescaled)
    estimate: np.ndarray  # S: the REML estimate of the ICC from each data set
    converged: np.ndarray  # S, bool


def icc_sweep(n_groups: int, n_per_group: int, iccs: np.ndarray | None = None, seed: int = 1) -> IccSweep:
    """Balanced data, n_groups groups of n_per_group, drawn once; at each ICC of the truth the
    between-group draws are scaled by sqrt(ICC) and the within-group ones by sqrt(1 - ICC); every
    data set is fitted by REML, y ~ 1 + (1 | group), all at once."""
    if n_groups < 2 or n_per_group < 2:
        raise MixedModelError("The ICC sweep needs at least 2 groups of at least 2 observations.")
    iccs = np.round(np.linspace(0.0, 0.95, 20), 4) if iccs is None else np.asarray(iccs, dtype=float)
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(n_groups), n_per_group)
    between, within = rng.standard_normal(n_groups), rng.standard_normal(len(group))
    Y = np.sqrt(iccs)[:, None] * between[group] + np.sqrt(1 - iccs)[:, None] * within
    frame = pd.DataFrame({"y": Y[0], "group": group.astype(str)})
    dev = ProfiledDeviance(build_model_data("y ~ 1 + (1 | group)", frame), reml=True)
    fits = fit_many(dev, Y)
    r2 = fits.theta[:, 0] ** 2
    return IccSweep(iccs, group, Y, r2 / (1 + r2), fits.converged)


@dataclass(frozen=True)
class SigmaBSweep:
    sigmas_b: np.ndarray  # S values of the truth's between-group SD
    sigma: float  # the truth's residual SD (the same at every step)
    group: np.ndarray  # n: each observation's group (0 .. G-1)
    deviation: np.ndarray  # G: each group's true deviation in SDs (z: sigma_b z_i at each step)
    y: np.ndarray  # S x n: the data at each sigma_b (the same draws)
    own: np.ndarray  # S x G: each group's own mean (no pooling)
    partial: np.ndarray  # S x G: the mixed model's estimate of each group's mean (the fitted intercept + BLUP)
    population: np.ndarray  # S: the fitted intercept (beta0 hat)
    lam: np.ndarray  # S: lambda = sigma_b^2 / (sigma_b^2 + sigma^2 / n) of the fit, the share of its own deviation a group keeps
    sigma_b_hat: np.ndarray  # S: the REML estimates of sigma_b
    sigma_hat: np.ndarray  # S: ... and of sigma
    singular: np.ndarray  # S, bool: theta at the boundary (lme4's isSingular: below optimize.ZERO)
    converged: np.ndarray  # S, bool


def sigma_b_sweep(n_groups: int, n_per_group: int, sigma: float, beta0: float, sigmas_b: np.ndarray,
                  seed: int = 1) -> SigmaBSweep:
    """Balanced data, n_groups groups of n_per_group, drawn once: y = beta0 + sigma_b z_i + sigma e_ij
    at each sigma_b of the truth (z and e the same at every step, each standardised to mean 0 and SD 1
    in the sample: the groups' true deviations have SD sigma_b exactly), each fitted by REML,
    y ~ 1 + (1 | group), all at once. With one intercept and equal groups the mixed model's estimate of group i's mean is
    beta0 hat + lambda (mean_i - beta0 hat), lambda = theta^2 n / (theta^2 n + 1) (theta = sigma_b / sigma
    as fitted): the conditional mode, exactly."""
    if n_groups < 2 or n_per_group < 2:
        raise MixedModelError("The sigma_b sweep needs at least 2 groups of at least 2 observations.")
    sigmas_b = np.asarray(sigmas_b, dtype=float)
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(n_groups), n_per_group)
    between, within = rng.standard_normal(n_groups), rng.standard_normal(len(group))
    between = (between - between.mean()) / between.std(ddof=1)  # the groups' deviations: SD sigma_b exactly
    within = (within - within.mean()) / within.std(ddof=1)
    Y = beta0 + sigmas_b[:, None] * between[group] + sigma * within
    frame = pd.DataFrame({"y": Y[0], "group": group.astype(str)})
    dev = ProfiledDeviance(build_model_data("y ~ 1 + (1 | group)", frame), reml=True)
    fits = fit_many(dev, Y)
    theta, level = np.abs(fits.theta[:, 0]), fits.beta[:, 0]
    own = Y.reshape(len(Y), n_groups, n_per_group).mean(axis=2)
    lam = theta**2 * n_per_group / (theta**2 * n_per_group + 1)
    partial = level[:, None] + lam[:, None] * (own - level[:, None])
    return SigmaBSweep(sigmas_b, float(sigma), group, between, Y, own, partial, level, lam, theta * fits.sigma, fits.sigma,
                       theta < ZERO, fits.converged)


@dataclass(frozen=True)
class RhoSweep:
    rhos: np.ndarray  # S values of the truth's intercept-slope correlation
    x: np.ndarray  # n: the covariate
    group: np.ndarray  # n: each observation's group (0 .. G-1)
    intercepts: np.ndarray  # S x G: each group's true intercept (beta0 + b0)
    slopes: np.ndarray  # S x G: each group's true slope (beta1 + b1)
    y: np.ndarray  # S x n: the data at each rho (the same draws)
    estimate: np.ndarray  # S: the REML estimate of the correlation from each data set
    converged: np.ndarray  # S, bool


def rho_sweep(n_groups: int = 18, n_per_group: int = 10, beta0: float = 250.0, beta1: float = 10.0,
              sigma_b0: float = 25.0, sigma_b1: float = 6.0, sigma: float = 25.0, rhos: np.ndarray | None = None,
              seed: int = 1, x_values: np.ndarray | None = None) -> RhoSweep:
    """Random intercepts and slopes (x = 0 .. n_per_group - 1 in every group, as simulate_slopes, or
    x_values in every group: a real data set's design) from
    one set of standard-normal draws: b0 = sigma_b0 z0, b1 = sigma_b1 (rho z0 + sqrt(1 - rho^2) z1), so
    only the correlation changes between steps; every data set fitted by REML, y ~ x + (x | group),
    all at once. The estimate of rho is lme4's: l10 / sqrt(l10^2 + l11^2) from theta (l00, l10, l11)."""
    if n_groups < 3 or n_per_group < 3:
        raise MixedModelError("The correlation sweep needs at least 3 groups of at least 3 observations.")
    rhos = np.round(np.linspace(-0.95, 0.95, 39), 4) if rhos is None else np.asarray(rhos, dtype=float)
    rng = np.random.default_rng(seed)
    z0, z1 = rng.standard_normal(n_groups), rng.standard_normal(n_groups)
    one = np.arange(n_per_group, dtype=float) if x_values is None else np.asarray(x_values, dtype=float)
    group = np.repeat(np.arange(n_groups), len(one))
    x = np.tile(one, n_groups)
    noise = sigma * rng.standard_normal(len(x))
    b0 = np.broadcast_to(sigma_b0 * z0, (len(rhos), n_groups))
    b1 = sigma_b1 * (rhos[:, None] * z0 + np.sqrt(1 - rhos[:, None] ** 2) * z1)
    Y = beta0 + b0[:, group] + (beta1 + b1[:, group]) * x + noise
    frame = pd.DataFrame({"y": Y[0], "x": x, "group": group.astype(str)})
    dev = ProfiledDeviance(build_model_data("y ~ x + (x | group)", frame), reml=True)
    fits = fit_many(dev, Y)
    l10, l11 = fits.theta[:, 1], fits.theta[:, 2]
    with np.errstate(all="ignore"):
        estimate = np.where(np.hypot(l10, l11) > 0, l10 / np.hypot(l10, l11), np.nan)
    return RhoSweep(rhos, x, group, beta0 + b0, beta1 + b1, Y, estimate, fits.converged)


@dataclass(frozen=True)
class DeletionSweep:
    group: str
    level: str  # the group whose observations are deleted
    kept: tuple  # 1, 2, ..., n: observations of `level` kept
    tables: tuple  # per number kept, shrinkage_intercepts of that fit (n, own deviation, lambda, BLUP, ...)
    sigma_b: np.ndarray  # per number kept: the fit's sigma_b and sigma
    sigma: np.ndarray
    messages: tuple  # per number kept: the fit's messages (singular, not converged), as lme4 says them

    def steps(self) -> pd.DataFrame:
        """The edited group at each number kept: sigma_b and sigma of that fit, its lambda, own
        deviation and BLUP (one row per step of the slider). A copy of the table made once per sweep."""
        return self._steps.copy()

    @cached_property
    def _steps(self) -> pd.DataFrame:
        # made once: pandas' row lookups in every table took 16 ms of each press on shrinkage (a sweep is cached)
        columns = ["lambda", "own deviation", "BLUP"]
        rows = np.array([[float(table.at[self.level, c]) for c in columns] for table in self.tables])
        index = pd.Index(self.kept, name="kept")
        return pd.DataFrame({"sigma_b": self.sigma_b, "sigma": self.sigma, **dict(zip(columns, rows.T))}, index=index)


def deletion_fits(fit: LmmFit, level: str, first: int = 1) -> tuple:
    """The fit's model refitted to its data with k = first, ..., n of `level`'s n rows kept
    (shrinkage.keep_spread), one group factor's level: the last is the fit itself. Each a full fit (the
    variance components change with the data too), so every step is the model as lme4 fits those data."""
    group = fit.design.terms[0].group
    data = fit.data
    n = int((data[group].astype(str) == level).sum())
    if n == 0:
        raise MixedModelError(f"{group} has no level {level}.")
    return tuple(fit_lmm(fit.formula, keep_spread(data, group, level, k), reml=fit.reml)
                 for k in range(first, n)) + (fit,)


def deletion_sweep(fit: LmmFit, level: str) -> DeletionSweep:
    """deletion_fits of a random-intercept model from one row kept: each step's shrinkage table."""
    md = fit.design
    if len(md.terms) != 1 or md.terms[0].q != 1:
        raise MixedModelError("The deletion sweep is drawn for models with one random intercept, (1 | group).")
    fits = deletion_fits(fit, level)
    return DeletionSweep(md.terms[0].group, level, tuple(range(1, len(fits) + 1)),
                         tuple(shrinkage_intercepts(f) for f in fits),
                         np.array([float(np.sqrt(f.re_cov[0][2][0, 0])) for f in fits]),
                         np.array([f.sigma for f in fits]), tuple(tuple(f.messages) for f in fits))
