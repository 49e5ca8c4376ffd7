"""Shrinkage (partial pooling) in numbers: how far each group's estimate moves toward the
population, and why, for random intercepts and for random slopes; and the lecture notes'
simulation of fixed against random individual effects."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import MixedModelError
from ..lmm.batch import fit_many
from ..lmm.deviance import ProfiledDeviance
from ..lmm.fit import model_data
from ..lmm.results import LmmFit
from ..model.design import build_model_data


def keep_spread(data: pd.DataFrame, column: str, level: str, k: int) -> pd.DataFrame:
    """The data with only k of the rows of one group (`column` == level, compared as text) kept,
    spread evenly over its rows (so over the range of x: keeping the first days would move a group
    because its data change, not by shrinkage); all rows when k is at least their number."""
    rows = data.index[data[column].astype(str) == level]
    if k >= len(rows):
        return data
    kept = rows[np.unique(np.round(np.linspace(0, len(rows) - 1, k)).astype(int))]
    return data.drop(rows.difference(kept)).reset_index(drop=True)


def shrinkage_intercepts(fit: LmmFit) -> pd.DataFrame:
    """Per group of a single random-intercept model: its size n_i, its own deviation (the mean of
    y - X beta over its rows), the shrinkage factor lambda_i = sigma_b^2 / (sigma_b^2 + sigma^2 / n_i)
    and the BLUP, which is exactly lambda_i times the own deviation."""
    md = model_data(fit)
    if len(md.terms) != 1 or md.terms[0].q != 1:
        raise MixedModelError("Shrinkage factors are shown for models with one random intercept, (1 | group).")
    t = md.terms[0]
    n_i = np.bincount(t.codes, minlength=t.nlevels)
    own = np.bincount(t.codes, md.y - md.X @ fit.beta, t.nlevels) / n_i
    var_b, var_e = float(fit.re_cov[0][2][0, 0]), fit.sigma**2
    lam = var_b / (var_b + var_e / n_i)
    level = fit.beta[list(fit.fixed_names).index("(Intercept)")] if "(Intercept)" in fit.fixed_names else 0.0
    return pd.DataFrame({
        "n": n_i, "own deviation": own, "lambda": lam, "BLUP": fit.ranef[t.group].iloc[:, 0].to_numpy(),
        "own estimate": level + own, "mixed-model estimate": level + lam * own,
    }, index=pd.Index(t.levels, name=t.group)).assign(population=level)


def shrinkage_slopes(fit: LmmFit) -> pd.DataFrame:
    """Per group of a random intercept-and-slope model: its own least-squares coefficients (the
    population plus the least-squares deviation of its rows) and the mixed model's (population +
    BLUP). A group whose own slope cannot be estimated (one distinct x) has NaN there."""
    md = model_data(fit)
    t = md.terms[0]
    if t.q < 2:
        raise MixedModelError("Slope shrinkage needs a random slope, e.g. (x | group).")
    idx = [list(fit.fixed_names).index(c) for c in t.columns]
    pop = fit.beta[idx]
    resid = md.y - md.X @ fit.beta
    own = np.full((t.nlevels, t.q), np.nan)
    for g in range(t.nlevels):
        rows = t.codes == g
        Zg = t.matrix[rows]
        if np.linalg.matrix_rank(Zg) == t.q:
            own[g] = pop + np.linalg.lstsq(Zg, resid[rows], rcond=None)[0]
    re = fit.ranef[t.group][list(t.columns)].to_numpy()
    a, b = t.columns[:2]
    return pd.DataFrame({
        "n": np.bincount(t.codes, minlength=t.nlevels), f"own {a}": own[:, 0], f"own {b}": own[:, 1],
        f"mixed {a}": pop[0] + re[:, 0], f"mixed {b}": pop[1] + re[:, 1],
    }, index=pd.Index(t.levels, name=t.group))


def fixed_vs_random_study(n_individuals: int = 10, n_measures: int = 3, sd_between: float = 10.0,
                          sd_within: float = 20.0, nsim: int = 200, seed: int | None = 0,
                          progress=None) -> pd.DataFrame:
    """The lecture notes' simulation: each individual's effect estimated as a fixed effect (its own
    mean) and as a random effect (the BLUP), over nsim data sets; per data set the sum over
    individuals of the squared errors against the true effects (one data set in the notes: 1099
    fixed, 562 random)."""
    rng = np.random.default_rng(seed)
    truth = 100.0 + rng.normal(0, sd_between, (nsim, n_individuals))
    ind = np.repeat(np.arange(n_individuals), n_measures)
    Y = truth[:, ind] + rng.normal(0, sd_within, (nsim, len(ind)))
    frame = pd.DataFrame({"y": Y[0], "id": ind.astype(str)})
    dev = ProfiledDeviance(build_model_data("y ~ 1 + (1 | id)", frame), reml=True)
    fits = fit_many(dev, Y, progress=progress)
    means = Y.reshape(nsim, n_individuals, n_measures).mean(axis=2)
    grand = means.mean(axis=1, keepdims=True)  # beta0 of a balanced one-way design
    lam = (n_measures * fits.theta[:, :1] ** 2) / (n_measures * fits.theta[:, :1] ** 2 + 1)
    blup = grand + lam * (means - grand)
    return pd.DataFrame({
        "fixed": ((means - truth) ** 2).sum(axis=1),
        "random": ((blup - truth) ** 2).sum(axis=1),
    })
