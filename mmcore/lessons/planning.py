"""Planning a study by simulation: how many groups, and how many observations in each?

The design: G groups of n observations, a treatment applied either between groups (half the groups
treated: a cluster-randomised trial) or within them (half of each group's observations treated), and
the model y_ij = beta0 + beta1 treat_ij + b_i + e_ij, b_i ~ N(0, sigma_b^2), e_ij ~ N(0, sigma^2).
For each design on a grid of G and n, `nsim` studies are drawn from a truth (beta1, sigma_b, sigma)
and each is analysed as the student would (lmer by REML, lmerTest's t test of beta1, lme4's profile
interval of sigma_b, the likelihood-ratio test of sigma_b = 0 against the 50:50 mixture). All studies
of a design are fitted together by the batched engine (lmm.batch.fit_many); the t tests per study
from the same exact derivatives as coef_table (inference.many).

What each design reports: the sampling SD of beta1's estimate (its real SE) beside the SE the
fits report and the SE with known variances, the coverage of 95% intervals for beta1 (z, and t with
Satterthwaite's and Kenward-Roger's df), the power of the t tests, the same for sigma_b (its
estimates' SD, the profile interval's coverage, the variance test's power), and the share of
singular fits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import MixedModelError
from ..inference.many import sd_profile_intervals, t_tests_many
from ..lmm.batch import fit_many, simulate_responses
from ..lmm.deviance import ProfiledDeviance
from ..lmm.optimize import ZERO
from ..model.design import ModelData, build_model_data

DESIGNS = ("between", "within")
METHODS = ("z", "satterthwaite", "kenward-roger")  # the df of the fixed effect's t: none (normal), lmerTest's
FORMULA = "y ~ treat + (1 | group)"


def design_frame(n_groups: int, n_per_group: int, design: str) -> pd.DataFrame:
    """The layout of one study (y all zero): between, groups alternate A, B; within, the observations
    of every group alternate A, B."""
    if design not in DESIGNS:
        raise MixedModelError(f"The design must be one of {', '.join(DESIGNS)}.")
    if design == "between" and n_groups < 4:
        raise MixedModelError("With the treatment between groups, each arm needs at least two groups: 4 groups or more.")
    if design == "within" and n_per_group < 2:
        raise MixedModelError("With the treatment within groups, each group needs at least 2 observations.")
    if n_groups < 2 or n_per_group < 1:
        raise MixedModelError("A study needs at least 2 groups and 1 observation per group.")
    group = np.repeat(np.arange(n_groups), n_per_group)
    treat = group % 2 if design == "between" else np.tile(np.arange(n_per_group) % 2, n_groups)
    return pd.DataFrame({"y": np.zeros(len(group)), "treat": pd.Categorical.from_codes(treat, ["A", "B"]),
                         "group": pd.Categorical.from_codes(group, [f"G{i + 1:03d}" for i in range(n_groups)])})


def example_study(n_groups: int = 10, n_per_group: int = 6, design: str = "between", effect: float = 1.0,
                  sigma_b: float = 1.0, sigma: float = 2.0, seed: int | None = 0) -> pd.DataFrame:
    """One study drawn from the truth: what the planner simulates thousands of times."""
    data = design_frame(n_groups, n_per_group, design)
    rng = np.random.default_rng(seed)
    codes = data["group"].cat.codes.to_numpy()
    data["y"] = effect * data["treat"].cat.codes.to_numpy() + rng.normal(0, sigma_b, n_groups)[codes] + \
        rng.normal(0, sigma, len(data))
    data.attrs.update(truth={"effect": effect, "sigma_b": sigma_b, "sigma": sigma}, formula=FORMULA)
    return data


def known_variance_se(md: ModelData, sigma_b: float, sigma: float) -> float:
    """The SE of beta1's GLS estimate when sigma_b and sigma are known: sqrt of (X'V^-1 X)^-1's entry.
    Balanced: between groups 2 sqrt((sigma_b^2 + sigma^2 / n) / G), within 2 sigma / sqrt(n G)."""
    X, codes = md.X, md.terms[0].codes
    sizes = np.bincount(codes)
    sums = np.stack([np.bincount(codes, X[:, j]) for j in range(X.shape[1])], axis=1)  # G x p
    gamma = sigma_b**2 / sigma**2
    info = (X.T @ X - np.einsum("g,gi,gj->ij", gamma / (1 + gamma * sizes), sums, sums)) / sigma**2
    return float(np.sqrt(np.linalg.inv(info)[1, 1]))


def theory_se(n_groups: int, n_per_group: int, design: str, sigma_b: float, sigma: float) -> float:
    """beta1's SE with known variances for a design of the grid (known_variance_se of its layout)."""
    return known_variance_se(build_model_data(FORMULA, design_frame(n_groups, n_per_group, design)), sigma_b, sigma)


@dataclass(frozen=True)
class Studies:
    """Every simulated study of one design (arrays over the nsim studies)."""

    n_groups: int
    n_per_group: int
    estimate: np.ndarray  # beta1, REML
    se: dict  # method -> SE of beta1 (z and Satterthwaite: vcov's; Kenward-Roger: its adjusted SE)
    df: dict  # method -> denominator df (inf for z)
    sigma_b: np.ndarray  # REML estimate
    sd_lower: np.ndarray  # lme4's profile interval of sigma_b (ML)
    sd_upper: np.ndarray
    lrt: np.ndarray  # 2 (logLik mixed - logLik lm), both ML
    singular: np.ndarray  # the REML fit is singular (sigma_b estimated as 0)
    se_known: float  # beta1's SE with the variances known


def simulate_studies(n_groups: int, n_per_group: int, design: str, effect: float, sigma_b: float, sigma: float,
                     nsim: int, rng: np.random.Generator, level: float = 0.95, progress=None) -> Studies:
    """nsim studies of one design drawn from the truth, each analysed as lmer + lmerTest + confint would."""
    if sigma <= 0 or sigma_b < 0:
        raise MixedModelError("The residual SD must be positive and the between-group SD not negative.")
    frame = design_frame(n_groups, n_per_group, design)
    md = build_model_data(FORMULA, frame)
    reml_dev, ml_dev = ProfiledDeviance(md, reml=True), ProfiledDeviance(md, reml=False)
    Y = simulate_responses(reml_dev, np.array([sigma_b / sigma]), np.array([0.0, effect]), sigma, nsim, rng)
    step = (lambda k: progress(k, 4)) if progress else (lambda k: None)
    reml = fit_many(reml_dev, Y)
    step(1)
    ml = fit_many(ml_dev, Y)
    step(2)
    lower, upper = sd_profile_intervals(ml_dev.with_responses(Y), ml.criterion, ml.theta[:, 0], level)
    step(3)
    se, df = t_tests_many(md, Y, reml.theta, reml.sigma, reml.beta, np.array([0.0, 1.0]))
    se["z"], df["z"] = se["satterthwaite"], np.full(nsim, np.inf)
    step(4)
    resid = Y - np.linalg.lstsq(md.X, Y.T, rcond=None)[0].T @ md.X.T
    n = len(md.y)
    lm_deviance = n * (1 + np.log(2 * np.pi * (resid**2).sum(axis=1) / n))
    return Studies(n_groups, n_per_group, reml.beta[:, 1], se, df, reml.theta[:, 0] * reml.sigma, lower, upper,
                   np.maximum(lm_deviance - ml.criterion, 0.0), np.abs(reml.theta[:, 0]) < ZERO,
                   known_variance_se(md, sigma_b, sigma))


def summarise(st: Studies, effect: float, sigma_b: float, level: float = 0.95, alpha: float = 0.05) -> dict:
    """One design's row: SEs, coverages and powers (shares over the studies), singular share."""
    z = stats.norm.ppf(0.5 + level / 2)
    row = dict(groups=st.n_groups, per_group=st.n_per_group, nsim=len(st.estimate),
               effect_mean=float(np.mean(st.estimate)), effect_sd=float(np.std(st.estimate, ddof=1)),
               se_known=st.se_known)
    for m in METHODS:
        df = st.df[m]
        q = np.where(np.isfinite(df), stats.t.ppf(0.5 + level / 2, np.where(df > 0, df, np.nan)), z)
        half = q * st.se[m]
        row[f"se_{m}"] = float(np.nanmean(st.se[m]))
        row[f"df_{m}"] = float(np.nanmedian(df))
        row[f"coverage_{m}"] = float(np.mean(np.abs(st.estimate - effect) <= half))  # NaN df: not covered
        p = 2 * stats.t.sf(np.abs(st.estimate / st.se[m]), np.where(np.isfinite(df), df, 1e12))
        row[f"power_{m}"] = float(np.mean(p < alpha))
    row["power_known"] = float(stats.norm.sf(z - abs(effect) / st.se_known) + stats.norm.cdf(-z - abs(effect) / st.se_known))
    row.update(sigma_b_mean=float(np.mean(st.sigma_b)), sigma_b_sd=float(np.std(st.sigma_b, ddof=1)),
               coverage_sigma_b=float(np.mean((st.sd_lower <= sigma_b) & (sigma_b <= st.sd_upper))),
               power_variance=float(np.mean(0.5 * stats.chi2.sf(st.lrt, 1) < alpha)),
               singular=float(np.mean(st.singular)))
    return row


def plan(groups: tuple, per_group: tuple, design: str, effect: float, sigma_b: float, sigma: float,
         nsim: int = 500, seed=None, level: float = 0.95, progress=None) -> pd.DataFrame:
    """The grid of designs: one row per (groups, per_group), from nsim simulated studies each;
    progress(done, total) counts studies."""
    if nsim < 20:
        raise MixedModelError("Planning needs at least 20 simulated studies per design.")
    cells = [(int(g), int(n)) for n in sorted(set(per_group)) for g in sorted(set(groups))]
    if not cells:
        raise MixedModelError("Choose at least one number of groups and one number of observations per group.")
    for g, n in cells:
        design_frame(g, n, design)  # every design is valid before any is simulated
    rng = np.random.default_rng(seed)
    total, rows = len(cells) * nsim, []
    for k, (g, n) in enumerate(cells):
        report = (lambda j, of, k=k: progress(int(k * nsim + nsim * j / of), total)) if progress else None
        studies = simulate_studies(g, n, design, effect, sigma_b, sigma, nsim, rng, level, report)
        rows.append(summarise(studies, effect, sigma_b, level))
    out = pd.DataFrame(rows)
    out.attrs.update(design=design, effect=float(effect), sigma_b=float(sigma_b), sigma=float(sigma), nsim=int(nsim),
                     level=float(level))
    return out


def theory(groups: tuple, per_group: tuple, design: str, effect: float, sigma_b: float, sigma: float,
           level: float = 0.95) -> pd.DataFrame:
    """The grid with the variances known, no simulation: the effect's SE and the z test's power per design
    (what a textbook formula gives; the simulation adds what estimating the variances costs)."""
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for n in sorted(set(per_group)):
        for g in sorted(set(groups)):
            se = theory_se(int(g), int(n), design, sigma_b, sigma)
            power = stats.norm.sf(z - abs(effect) / se) + stats.norm.cdf(-z - abs(effect) / se)
            rows.append(dict(groups=int(g), per_group=int(n), se_known=se, power_known=float(power)))
    return pd.DataFrame(rows)


def smallest_groups(table: pd.DataFrame, column: str, target: float, at_most: bool = False) -> dict:
    """For each number of observations per group, the fewest groups whose `column` reaches target (or,
    at_most, falls to it); None if no design on the grid does."""
    out = {}
    for n, rows in table.groupby("per_group"):
        ok = rows[rows[column] <= target] if at_most else rows[rows[column] >= target]
        out[int(n)] = int(ok["groups"].min()) if len(ok) else None
    return out


def findings(table: pd.DataFrame, method: str, method_name: str) -> dict:
    """What the simulated grid says, in sentences: for the effect, for sigma_b, for singular fits."""
    effect, sigma_b = table.attrs["effect"], table.attrs["sigma_b"]

    def needs(column, target, at_most=False):
        top = int(table["groups"].max())
        return "; ".join(f"n = {n}: {g} groups" if g else f"n = {n}: more than {top} groups"
                         for n, g in smallest_groups(table, column, target, at_most).items())

    few = table[table["groups"] == table["groups"].min()]
    g_few = int(few["groups"].iloc[0])
    span = lambda col: f"{few[col].min():.0%}" + (f"-{few[col].max():.0%}" if len(few) > 1 else "")  # noqa: E731
    out = {"effect": f"**80% power for an effect of {effect:.3g}** ({method_name}, 5% level) needs: "
                     f"{needs(f'power_{method}', 0.8)}. With {g_few} groups the z interval covers {span('coverage_z')}, "
                     f"Satterthwaite's t {span('coverage_satterthwaite')}, Kenward-Roger's "
                     f"{span('coverage_kenward-roger')}."}
    if sigma_b > 0:
        out["sigma_b"] = (f"**$\\sigma_b$ to within a third of itself** (SE at most {sigma_b / 3:.3g}) needs: "
                          f"{needs('sigma_b_sd', sigma_b / 3, True)}. **80% power for "
                          f"the test of $\\sigma_b$ = 0** needs: {needs('power_variance', 0.8)}. With {g_few} groups the "
                          f"profile interval covers {span('coverage_sigma_b')}.")
    else:
        out["sigma_b"] = (f"The truth has $\\sigma_b$ = 0: the 'power' of the test of $\\sigma_b$ = 0 is its size, "
                          f"{table['power_variance'].min():.1%}-{table['power_variance'].max():.1%} (at most 5% if the "
                          "50:50 mixture is right).")
    out["singular"] = (f"With {g_few} groups, {span('singular')} of the fits are singular; with "
                       f"{int(table['groups'].max())} groups, "
                       f"{table[table['groups'] == table['groups'].max()]['singular'].max():.0%} at most.")
    return out


def mc_se(share: float, nsim: int) -> float:
    """Monte Carlo standard error of a share estimated from nsim studies."""
    return float(np.sqrt(max(share * (1 - share), 1e-12) / nsim))
