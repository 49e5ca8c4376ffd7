"""Confidence intervals as lme4's confint(): profile likelihood, Wald, parametric bootstrap; with
lme4's parameter names (`sd_(Intercept)|Subject`, `cor_Days.(Intercept)|Subject`, `sigma`, the
fixed effects), and the profile itself for lme4's zeta plots."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import MixedModelError
from ..lmm.batch import fit_many, simulate_responses
from ..lmm.deviance import ProfiledDeviance
from ..lmm.fit import model_data
from ..lmm.results import LmmFit
from .names import parameters
from .profile import ParameterProfile, profile_parameters

METHODS = ("profile", "wald", "boot")


@dataclass(frozen=True)
class Profile:
    """lme4's profile of a fit: per parameter, zeta against the parameter's value; the interval at
    `level` (where |zeta| = z), and the ML estimates the profile is centred on."""

    parameters: tuple[ParameterProfile, ...]
    level: float
    reml_refitted: bool  # a REML fit was refitted by ML, as lme4's profile does

    def interval(self) -> pd.DataFrame:
        return _table([(p.name, p.lower, p.upper) for p in self.parameters], self.level)

    def points(self) -> pd.DataFrame:
        """Long format, as lme4's thpr data frame: .par, value, .zeta."""
        rows = [(p.name, v, z) for p in self.parameters for v, z in zip(p.values, p.zeta)]
        return pd.DataFrame(rows, columns=[".par", "value", ".zeta"])

    def __getitem__(self, name: str) -> ParameterProfile:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)


def _table(rows, level: float) -> pd.DataFrame:
    table = pd.DataFrame([(lo, hi) for _, lo, hi in rows], index=pd.Index([n for n, _, _ in rows], dtype=object),
                         columns=["lower", "upper"], dtype=float)
    table.attrs["level"] = level
    return table


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise MixedModelError(f"The confidence level must be between 0 and 1 (got {level}), e.g. 0.95.")


def profile(fit: LmmFit, which=None, level: float = 0.95) -> Profile:
    """The profile of every parameter (or those named in `which`), as lme4's profile(); the
    interval ends at `level` are found exactly (confint(method = "profile") reads them)."""
    _check_level(level)
    names = [p.name for p in parameters(fit)]
    if which is not None:
        wanted = [which] if isinstance(which, str) else list(which)
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise MixedModelError(f"No parameter called {', '.join(unknown)}; the parameters are: {', '.join(names)}.")
    return Profile(tuple(profile_parameters(fit, which, level)), level, fit.reml)


def wald(fit: LmmFit, level: float = 0.95) -> pd.DataFrame:
    """lme4's Wald intervals: estimate +- z SE for the fixed effects; NaN for the variance
    parameters (lme4 gives none: a symmetric interval does not suit them)."""
    z = stats.norm.ppf(0.5 + level / 2)
    se = np.sqrt(np.diag(fit.vcov_matrix))
    rows = [(p.name, np.nan, np.nan) if p.kind != "fixef" else
            (p.name, p.estimate - z * se[p.index], p.estimate + z * se[p.index]) for p in parameters(fit)]
    return _table(rows, level)


def bootstrap_parameters(fit: LmmFit, nsim: int = 500, seed=None, progress=None) -> pd.DataFrame:
    """lme4's bootMer: nsim data sets drawn from the fit (simulate), each refitted by the fit's own
    criterion (REML or ML); one row per data set, one column per parameter (lme4's names)."""
    if nsim < 1:
        raise MixedModelError("The number of bootstrap replicates must be at least 1.")
    md = model_data(fit)
    dev = ProfiledDeviance(md, reml=fit.reml)
    Y = simulate_responses(dev, fit.theta, fit.beta, fit.sigma, nsim, np.random.default_rng(seed))
    many = fit_many(dev, Y, progress=progress)
    columns = {}
    for p in parameters(fit):
        if p.kind == "fixef":
            columns[p.name] = many.beta[:, p.index]
        elif p.kind == "sigma":
            columns[p.name] = many.sigma
        else:
            lay = dev.layout
            T = np.zeros((nsim, md.terms[p.term].q, md.terms[p.term].q))
            i, j = lay.tri_indices(p.term)
            T[:, i, j] = many.theta[:, lay.offsets[p.term] + np.arange(len(i))]
            cov = many.sigma[:, None, None] ** 2 * T @ np.swapaxes(T, 1, 2)
            if p.kind == "sd":
                columns[p.name] = np.sqrt(cov[:, p.a, p.a])
            else:
                with np.errstate(all="ignore"):
                    columns[p.name] = cov[:, p.a, p.b] / np.sqrt(cov[:, p.a, p.a] * cov[:, p.b, p.b])
    table = pd.DataFrame(columns)
    table.attrs["failed"] = int((~many.converged).sum())
    return table


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval as the boot package computes it (boot.ci's norm.inter: order
    statistics (R + 1) alpha, interpolated on the normal quantile scale), which lme4's confint uses."""
    t = np.sort(np.asarray(samples, dtype=float)[np.isfinite(samples)])
    R = len(t)
    if R == 0:
        return np.nan, np.nan
    out = []
    for alpha in ((1 - level) / 2, (1 + level) / 2):
        rk = (R + 1) * alpha
        k = int(np.trunc(rk))
        if k == rk and 0 < k <= R:
            out.append(t[k - 1])
        elif k <= 0:
            out.append(t[0])
        elif k >= R:
            out.append(t[-1])
        else:
            z, z1, z2 = stats.norm.ppf(alpha), stats.norm.ppf(k / (R + 1)), stats.norm.ppf((k + 1) / (R + 1))
            out.append(t[k - 1] + (z - z1) / (z2 - z1) * (t[k] - t[k - 1]))
    return float(out[0]), float(out[1])


def confint(fit: LmmFit, method: str = "profile", level: float = 0.95, *, nsim: int = 500, seed=None,
            progress=None) -> pd.DataFrame:
    """Confidence intervals as lme4's confint(fit, method = ..., level = ..., oldNames = FALSE):
    columns lower and upper, one row per parameter under lme4's names.

    - "profile": profile likelihood (of the ML fit, as lme4 refits a REML fit by ML).
    - "wald": estimate +- z SE for the fixed effects; NaN for the variance parameters, as lme4.
    - "boot": parametric bootstrap (nsim refits, percentile intervals as lme4 through boot.ci).
    """
    _check_level(level)
    method = str(method).lower()
    if method == "profile":
        return profile(fit, level=level).interval()
    if method == "wald":
        return wald(fit, level)
    if method in ("boot", "bootstrap"):
        samples = bootstrap_parameters(fit, nsim=nsim, seed=seed, progress=progress)
        table = _table([(name, *percentile_interval(samples[name].to_numpy(), level)) for name in samples], level)
        table.attrs["failed"] = samples.attrs["failed"]
        return table
    raise MixedModelError(f"method must be one of {', '.join(METHODS)} (got '{method}').")
