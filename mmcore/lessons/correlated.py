"""The maths of the correlated-errors lesson: the models, the within-group autocorrelation of
residuals (nlme's ACF), what ignoring the correlation does to standard errors (a simulation, all
replicates fitted together), and the random-walk view (growth increments)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..data.longitudinal import GROWTH, tree_errors
from ..errors import MixedModelError
from ..lmm.correlated import CorrelatedDeviance, fit_many
from ..lmm.lme import fixed_df
from ..lmm.lme_results import LmeFit
from ..lmm.results import LmmFit
from ..model.design import build_model_data

TREE_MODEL = "height ~ 0 + year:fert + (0 + year | tree)"
GROWTH_MODEL = "growth ~ 0 + fert + (1 | tree)"
WORKSHOP_TRUTH = {"phi": 1.0, "sd_tree": 0.3, "sd_year": 0.5}  # how trees.csv was simulated (datasets/README.md)


@dataclass(frozen=True)
class Study:
    """A data set of the lesson: its model with and without the correlation, and how to draw it."""

    formula: str
    correlation: str
    time: str | None
    x: str  # the horizontal axis of the picture
    colour: str | None  # what colours the lines (a treatment)
    nlme: tuple[str, str, str]  # the same model in nlme: fixed, random, correlation
    factors: tuple[str, ...]  # columns R must read as factors

    @property
    def nlme_call(self) -> str:
        fixed, random, cor = self.nlme
        return f"lme({fixed}, random = {random}, correlation = {cor})"


STUDIES = {
    "trees": Study(TREE_MODEL, "ar1", "year", "year", "fert",
                   ("height ~ 0 + year:fert", "~ 0 + year | tree", "corAR1(form = ~ year | tree)"), ("tree", "fert")),
    "ovary": Study("follicles ~ s + c + (s || Mare)", "ar1", "obs", "Time", None,
                   ("follicles ~ s + c", "list(Mare = pdDiag(~ s))", "corAR1(form = ~ obs | Mare)"), ("Mare",)),
    "bodyweight": Study("weight ~ Time * Diet + (Time | Rat)", "car1", "Time", "Time", "Diet",
                        ("weight ~ Time * Diet", "~ Time | Rat", "corCAR1(form = ~ Time | Rat)"), ("Rat", "Diet")),
}


def code(study: Study, csv_name: str, reml: bool = True) -> tuple[str, str]:
    """The lesson's two models and their comparison in R (nlme) and in Python (mmcore). statsmodels'
    MixedLM has no correlated residuals, so it has no line here."""
    fixed, random, cor = study.nlme
    method = "REML" if reml else "ML"
    factors = "".join(f"dat${f} <- factor(dat${f})\n" for f in study.factors)
    r = (f'library(nlme)\ndat <- read.csv("{csv_name}")  # the data on screen, downloaded as CSV\n{factors}'
         f'm0 <- lme({fixed}, random = {random}, data = dat, method = "{method}")\n'
         f"m1 <- update(m0, correlation = {cor})\n"
         "summary(m1)\nanova(m0, m1)   # same fixed effects: the REML likelihoods are comparable\n"
         'plot(ACF(m0, resType = "pearson"), alpha = 0.05)\nplot(ACF(m1, resType = "normalized"), alpha = 0.05)\n')
    time = f'"{study.time}"' if study.time else "None"
    py = ("from mmcore import anova, fit, read_csv\nfrom mmcore.lessons.correlated import acf\n\n"
          f'dat = read_csv("{csv_name}")\n'
          f'm0 = fit("{study.formula}", dat, reml={reml})\n'
          f'm1 = fit("{study.formula}", dat, reml={reml}, correlation="{study.correlation}", time={time})\n'
          "print(m1.summary())\nprint(anova(m0, m1))\n"
          f'print(acf(m0, "pearson", time={time}), acf(m1, "normalized"))\n'
          "# statsmodels' MixedLM cannot model correlated residuals within a group.\n")
    return r, py


def acf(fit: LmmFit, residuals: str = "pearson", max_lag: int | None = None, time: str | None = None) -> pd.DataFrame:
    """nlme's ACF(fit, resType = residuals): within-group autocorrelation of the residuals by lag
    (positions in time order), pooled over groups: sum of e_t e_{t+lag} over all groups / number of
    such pairs, divided by the same at lag 0. residuals "pearson" (residual / sigma) or
    "normalized" (whitened by the fitted correlation, for an LmeFit)."""
    if residuals == "normalized":
        if not isinstance(fit, LmeFit):
            raise MixedModelError("Normalized residuals belong to a model with correlated errors.")
        e = np.asarray(fit.normalized)
    else:
        e = fit.residuals / fit.sigma
    md = build_model_data(fit.formula, fit.source.iloc[fit.rows].reset_index(drop=True))
    codes = md.terms[0].codes
    time = time or (fit.time if isinstance(fit, LmeFit) else None)
    t = fit.source.iloc[fit.rows][time].to_numpy(dtype=float) if time else np.arange(len(e), dtype=float)
    order = np.lexsort((t, codes))
    e, codes = e[order], codes[order]
    sizes = np.bincount(codes)
    if max_lag is None:
        longest = int(sizes.max()) - 1
        max_lag = min(longest, int(10 * np.log10(longest + 1)))
    products, pairs = np.zeros(max_lag + 1), np.zeros(max_lag + 1)
    for lag in range(max_lag + 1):
        same = codes[lag:] == codes[: len(codes) - lag]
        products[lag] = np.sum((e[lag:] * e[: len(e) - lag])[same])
        pairs[lag] = np.sum(same)
    mean = products / np.maximum(pairs, 1)
    return pd.DataFrame({"lag": np.arange(max_lag + 1), "ACF": mean / mean[0], "pairs": pairs.astype(int)})


def typical_gap(fit: LmeFit) -> float:
    """The median time between consecutive observations of a group (1 for AR(1) by position): the
    distance at which phi^gap is the correlation of neighbours."""
    if fit.correlation != "car1" or not fit.time:
        return 1.0
    rows = fit.source.iloc[fit.rows]
    return float(rows.sort_values([fit.group, fit.time]).groupby(fit.group, observed=True)[fit.time].diff().median())


def side_by_side(fits: dict) -> pd.DataFrame:
    """Fixed effects and their standard errors of several fits of the same effects (in the same order),
    named by the last fit's names; with two fits, the ratio of their standard errors."""
    last = list(fits.values())[-1]
    table = pd.DataFrame(index=last.fixef.index)
    for name, f in fits.items():
        table[f"estimate ({name})"] = f.fixef.to_numpy()
        table[f"SE ({name})"] = f.se.to_numpy()
    if len(fits) == 2:
        first, second = fits
        table["SE ratio"] = table[f"SE ({second})"] / table[f"SE ({first})"]
    return table


def heights_from_truth(data: pd.DataFrame, truth: dict, nsim: int, rng: np.random.Generator) -> np.ndarray:
    """nsim new height responses (nsim, n) for the trees in `data` (rows in tree-major year order, as
    simulate_trees and trees.csv), drawn from the workshop's process with this truth."""
    trees = data["tree"].astype(str).to_numpy()
    years = int(data["year"].max())
    n_trees = len(trees) // years
    mu = pd.Series(GROWTH, index=["A", "B", "C"])[data["fert"].astype(str).to_numpy()[::years]].to_numpy()
    rate = mu[None, :] + rng.normal(0.0, truth["sd_tree"], (nsim, n_trees))
    year = np.arange(1, years + 1, dtype=float)
    e = tree_errors(rng, nsim * n_trees, years, truth["phi"], truth["sd_year"]).reshape(nsim, n_trees, years)
    return (rate[:, :, None] * year + e).reshape(nsim, -1)


# The models of the standard-error simulation: name -> (formula, correlation)
SE_MODELS = {
    "random slope, independent errors": (TREE_MODEL, None),
    "random slope, AR(1) errors": (TREE_MODEL, "ar1"),
    "random intercept, independent errors": ("height ~ 0 + year:fert + (1 | tree)", None),
    "random intercept, AR(1) errors": ("height ~ 0 + year:fert + (1 | tree)", "ar1"),
    "growth increments, random intercept": (GROWTH_MODEL, None),
}


@dataclass(frozen=True)
class SeStudy:
    table: pd.DataFrame  # per model: true SD of the estimates, mean reported SE, ratio, coverage
    estimates: dict  # model -> (nsim, 3) estimates of the yearly growth per fertilizer
    nsim: int
    failed: int  # replicates whose optimum was not verified


def se_simulation(data: pd.DataFrame, truth: dict, nsim: int = 500, seed: int = 1, progress=None) -> SeStudy:
    """Draw nsim data sets of the trees' design from the truth; fit each with independent errors,
    with AR(1) errors, and the growth increments with a random intercept; compare the spread of
    the fertilizer estimates over the data sets with the standard errors the fits report."""
    ordered = data.sort_values(["tree", "year"]).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    H = heights_from_truth(ordered, truth, nsim, rng)
    G = _increments(H, int(ordered["year"].max()))
    models = [(name, build_model_data(formula, ordered), kind, G if formula.startswith("growth") else H)
              for name, (formula, kind) in SE_MODELS.items()]
    rows, estimates, failed = [], {}, 0
    true = np.asarray(GROWTH)
    for k, (name, md, kind, Y) in enumerate(models):
        dev = CorrelatedDeviance(md, True, kind, ordered["year"].to_numpy(dtype=float), "year")
        report = None if progress is None else (lambda done, total, k=k: progress(done + k * nsim, len(models) * nsim))
        res = fit_many(dev, Y, progress=report)
        failed += int((~res["converged"]).sum())
        df = fixed_df(md, dev.lmm.codes1, dev.lmm.G)
        q = stats.t.ppf(0.975, df)
        covered = np.abs(res["beta"] - true) <= q * res["se"]
        sd = res["beta"].std(axis=0, ddof=1).mean()
        se = res["se"].mean()
        rows.append({"model": name, "true SD of the estimates": sd, "mean reported SE": se,
                     "reported / true": se / sd, "coverage of 95% intervals": covered.mean()})
        estimates[name] = res["beta"]
    return SeStudy(pd.DataFrame(rows).set_index("model"), estimates, nsim, failed)


def _increments(H: np.ndarray, years: int) -> np.ndarray:
    """Heights (nsim, trees * years), tree-major -> this year's growth, same layout."""
    per_tree = H.reshape(H.shape[0], -1, years)
    return np.diff(per_tree, axis=2, prepend=0.0).reshape(H.shape)
