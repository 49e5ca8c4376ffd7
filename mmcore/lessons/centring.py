"""Where x starts: centring and the intercept-slope correlation.

Measuring x from an origin c (x - c) makes the intercept the value at x = c: b0' = b0 + c b1. A model
with correlated intercepts and slopes, (x | g), is the same model whatever c is (its covariance
matrix just transforms: var(b0') = v0 + 2 c c01 + c^2 v1, cov(b0', b1) = c01 + c v1), so its fit,
likelihood and predictions do not move while the correlation does, and it is zero at
c* = -c01 / v1. The uncorrelated model (x || g) forces that correlation to be zero at whatever
origin x happens to have, so it is a different model at every origin: its likelihood changes with
c, and it equals the correlated model's only near c*.

The uncorrelated model at every origin is fitted in one batch (`uncorrelated_criteria`) on the
correlated model's own design: measuring x from c is the same as constraining the covariance at
origin 0 to var(b0) = d0 + c^2 d1, cov(b0, b1) = -c d1, var(b1) = d1, and the REML criterion is the
same either way (Z_c = Z_0 B and X_c = X_0 A with det A = 1: log|L|, log|R_X| and r^2 do not change).
One design and optimize.minimize_best_of over all origins (two starts each): a slider's new data cost one batch, not one
fit per origin (16 fits were a third of random slopes' rerun).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import MixedModelError
from ..fitting import fit as fit_model
from ..lmm.deviance import ProfiledDeviance
from ..lmm.optimize import Structure, minimize_best_of


@dataclass(frozen=True)
class Centring:
    origins: np.ndarray
    correlation: np.ndarray  # implied by the correlated fit at each origin (exact)
    sd_intercept: np.ndarray  # SD of the intercepts at each origin (correlated model)
    criterion_correlated: float  # its REML criterion: the same at every origin
    criterion_uncorrelated: np.ndarray  # the uncorrelated model refitted at each origin
    zero_origin: float  # where the correlated model's intercept-slope correlation is zero
    x: str


def implied_covariance(cov: np.ndarray, c) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Variance of the intercept, its covariance with the slope, and their correlation when x is
    measured from c, given the 2 x 2 covariance of (intercept, slope) at c = 0."""
    c = np.asarray(c, dtype=float)
    v0, c01, v1 = cov[0, 0], cov[0, 1], cov[1, 1]
    var0 = v0 + 2 * c * c01 + c**2 * v1
    cov01 = c01 + c * v1
    with np.errstate(all="ignore"):
        return var0, cov01, cov01 / np.sqrt(var0 * v1)


def centring_study(data: pd.DataFrame, response: str, x: str, group: str, origins) -> Centring:
    """The correlated fit once, and the uncorrelated model refitted with x measured from each origin."""
    origins = np.asarray(origins, dtype=float)
    correlated = fit_model(f"{response} ~ {x} + ({x} | {group})", data)
    cov = correlated.re_cov[0][2]
    if cov.shape != (2, 2):
        raise MixedModelError("Centring is shown for one random intercept and one random slope.")
    var0, _, corr = implied_covariance(cov, origins)
    crit, _ = uncorrelated_criteria(correlated, origins, var0 / correlated.sigma**2, cov[1, 1] / correlated.sigma**2)
    zero = -cov[0, 1] / cov[1, 1] if cov[1, 1] > 0 else np.nan
    return Centring(origins, corr, np.sqrt(var0), float(correlated.reml_criterion), crit, float(zero), x)


def uncorrelated_criteria(correlated, origins: np.ndarray, start0: np.ndarray,
                          start1: float) -> tuple[np.ndarray, np.ndarray]:
    """The REML criterion of (x || group) with x measured from each origin, and its theta (t0, t1:
    the relative SDs of the intercept at c and of the slope, lme4's theta of that model), all fitted
    at once on the correlated fit's design. Started from the correlated fit's implied SDs at each
    origin (start0: var(b0) / sigma^2 there)."""
    dev = ProfiledDeviance(correlated.design, reml=True)
    x = correlated.design.terms[0].matrix[:, 1]

    n = len(origins)

    def criteria(idx, T):  # T: (len(idx), B, 2) -> (len(idx), B)
        c = origins[idx][:, None]
        t0, t1 = np.abs(T[..., 0]), np.abs(T[..., 1])
        l00 = np.sqrt(t0**2 + c**2 * t1**2)
        with np.errstate(all="ignore"):
            l10 = np.where(l00 > 0, -c * t1**2 / l00, 0.0)
            l11 = np.where(l00 > 0, t0 * t1 / l00, t1)
        return dev.evaluate(np.stack([l00, l10, l11], axis=-1).reshape(-1, 3)).reshape(T.shape[:-1])

    rms = np.sqrt(np.mean((x[None, :] - origins[:, None]) ** 2, axis=1))  # the slope column's size at each origin
    scale = np.array([1.0, 1.0 / max(float(np.median(rms)), 1e-12)])
    structure = Structure(np.array([0, 1]), (np.array([0]), np.array([1])), scale, float(dev.n))
    start = np.column_stack([np.sqrt(np.maximum(start0, 1e-4)), np.full(n, np.sqrt(max(start1, 1e-4)))])
    identity = np.tile(scale, (n, 1))  # lme4's start in the scaled units: two starts, as lmm/fit.py
    result = minimize_best_of(criteria, np.stack([start, identity]), structure)
    value, theta = result.value, np.abs(result.theta)
    # Far from the data (x || g) has two distant minima, and both starts can fall into the higher one
    # where a neighbouring origin found the lower (simulate_slopes(seed=1, rho=-0.5), c = 17: 1766.77
    # with both SDs against 1765.73 with the slope's zero, which the single fit and c = 20 found). The
    # criterion moves continuously with c, so each origin starts again from its neighbours' optima, until
    # no origin improves.
    for _ in range(n):
        left, right = np.vstack([theta[:1], theta[:-1]]), np.vstack([theta[1:], theta[-1:]])
        again = minimize_best_of(criteria, np.stack([left, right]), structure)
        better = np.isfinite(again.value) & (again.value < value - 1e-9)
        if not better.any():
            break
        value, theta = np.where(better, again.value, value), np.where(better[:, None], np.abs(again.theta), theta)
    return value, theta
