"""Tests of a fixed effect side by side, and a simulation under the null hypothesis: which test
keeps its 5% when there are few groups.

A treatment is applied either within groups (every treatment in every group: penicillin's
randomised blocks) or between groups (each group gets one treatment: a cluster-randomised trial).
The data are drawn with no treatment effect at all, and every replicate is tested five ways: the
likelihood-ratio test against chi-square (ML fits), the Wald test against chi-square (the normal
approximation, z for one df), the F test with the residual df n - p, and F with Satterthwaite's and
with Kenward-Roger's df (lmerTest's type III test of the term). The share of p-values below 5% is
each test's real size.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import MixedModelError
from ..inference.contrasts import type3
from ..inference.ddf import KenwardRoger, Satterthwaite
from ..inference.marginal import Marginal
from ..lmm.batch import fit_many
from ..lmm.deviance import ProfiledDeviance
from ..model.design import build_model_data

METHODS = ("LRT, chi-square", "Wald, chi-square (z)", "F, residual df n - p", "F, Satterthwaite", "F, Kenward-Roger")
DESIGNS = ("within", "between")


def null_data(design: str, n_groups: int, per_group: int, sigma_group: float, sigma: float,
              rng: np.random.Generator, n_treatments: int = 2) -> pd.DataFrame:
    """One data set with no treatment effect. within: each group holds every treatment, per_group
    times each; between: treatments assigned to whole groups in turn, per_group rows a group."""
    if design not in DESIGNS:
        raise MixedModelError(f"The design must be one of {', '.join(DESIGNS)}.")
    if design == "between" and n_groups < 2 * n_treatments:
        raise MixedModelError(f"Between groups, each of the {n_treatments} treatments needs at least two groups.")
    rows = per_group * (n_treatments if design == "within" else 1)
    group = np.repeat(np.arange(n_groups), rows)
    if design == "within":
        treat = np.tile(np.repeat(np.arange(n_treatments), per_group), n_groups)
    else:
        treat = (group % n_treatments)
    y = rng.normal(0.0, sigma_group, n_groups)[group] + rng.normal(0.0, sigma, len(group))
    labels = [chr(ord("A") + i) for i in range(n_treatments)]
    return pd.DataFrame({"y": y, "treat": pd.Categorical.from_codes(treat, labels),
                         "group": pd.Categorical.from_codes(group, [f"G{i + 1:02d}" for i in range(n_groups)])})


@dataclass(frozen=True)
class NullStudy:
    design: str
    n_groups: int
    nsim: int
    pvalues: dict  # method -> p-values of the replicates
    df: dict  # method -> denominator df used (median over replicates; inf for chi-square)
    level: float = 0.05

    @property
    def rejection(self) -> pd.DataFrame:
        """Share of replicates rejected at `level`, with its Monte Carlo standard error."""
        rows = []
        for m in METHODS:
            rate = float(np.mean(self.pvalues[m] < self.level))
            rows.append((m, rate, np.sqrt(rate * (1 - rate) / self.nsim), self.df[m]))
        return pd.DataFrame(rows, columns=["test", "rejected", "mc_se", "df"]).set_index("test")


def null_study(design: str = "within", n_groups: int = 4, per_group: int = 2, sigma_group: float = 3.0,
               sigma: float = 4.0, nsim: int = 500, seed=None, level: float = 0.05, n_treatments: int = 2,
               progress=None) -> NullStudy:
    """Simulate nsim data sets under H0 (no treatment effect) and test the treatment five ways."""
    if nsim < 10:
        raise MixedModelError("The simulation needs at least 10 data sets.")
    rng = np.random.default_rng(seed)
    base = null_data(design, n_groups, per_group, sigma_group, sigma, rng, n_treatments)
    Y = np.vstack([base["y"].to_numpy()] + [null_data(design, n_groups, per_group, sigma_group, sigma, rng,
                                                      n_treatments)["y"].to_numpy() for _ in range(nsim - 1)])
    md1 = build_model_data("y ~ treat + (1 | group)", base)
    md0 = build_model_data("y ~ 1 + (1 | group)", base)
    q = md1.X.shape[1] - 1
    L = next(iter(type3(md1).values()))
    steps = 3 + nsim
    report = (lambda done: progress(done, steps)) if progress else (lambda done: None)
    reml = fit_many(ProfiledDeviance(md1, reml=True), Y)
    report(1)
    ml1 = fit_many(ProfiledDeviance(md1, reml=False), Y)
    report(2)
    ml0 = fit_many(ProfiledDeviance(md0, reml=False), Y)
    report(3)
    n, p = md1.X.shape
    lrt = np.maximum(ml0.criterion - ml1.criterion, 0.0)
    out = {m: np.empty(nsim) for m in METHODS}
    dfs = {m: np.empty(nsim) for m in METHODS}
    out[METHODS[0]], dfs[METHODS[0]] = stats.chi2.sf(lrt, q), np.inf
    for s in range(nsim):
        md = _with_response(md1, Y[s])
        M = Marginal(md, reml.theta[s], reml.sigma[s], reml.beta[s], True)
        Lb = L @ reml.beta[s]
        wald = float(Lb @ np.linalg.solve(L @ M.phi @ L.T, Lb))
        out[METHODS[1]][s], dfs[METHODS[1]][s] = stats.chi2.sf(wald, q), np.inf
        out[METHODS[2]][s], dfs[METHODS[2]][s] = stats.f.sf(wald / q, q, n - p), n - p
        for method, calc in ((METHODS[3], Satterthwaite(M, reml.beta[s])), (METHODS[4], KenwardRoger(M, reml.beta[s]))):
            F, ndf, ddf, _ = calc.f_test(L)
            out[method][s], dfs[method][s] = stats.f.sf(F, ndf, ddf), ddf
        if s % 50 == 49:
            report(3 + s + 1)
    report(steps)
    return NullStudy(design, n_groups, nsim, out, {m: float(np.median(v)) for m, v in dfs.items()}, level)


def _with_response(md, y):
    from dataclasses import replace

    return replace(md, y=y)
