"""Where x starts: centring and the intercept-slope correlation.

Measuring x from an origin c (x - c) makes the intercept the value at x = c: b0' = b0 + c b1. A model
with correlated intercepts and slopes, (x | g), is the same model whatever c is (its covariance
matrix just transforms: var(b0') = v0 + 2 c c01 + c^2 v1, cov(b0', b1) = c01 + c v1), so its fit,
likelihood and predictions do not move while the correlation does, and it is zero at
c* = -c01 / v1. The uncorrelated model (x || g) forces that correlation to be zero at whatever
origin x happens to have, so it is a different model at every origin: its likelihood changes with
c, and it equals the correlated model's only near c*.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import MixedModelError
from ..fitting import fit as fit_model


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
    crit = np.array([fit_model(f"{response} ~ {x} + ({x} || {group})", data.assign(**{x: data[x] - c})).reml_criterion
                     for c in origins])
    zero = -cov[0, 1] / cov[1, 1] if cov[1, 1] > 0 else np.nan
    return Centring(origins, corr, np.sqrt(var0), float(correlated.reml_criterion), crit, float(zero), x)
