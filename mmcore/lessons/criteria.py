"""ML against REML, made visible: both criteria as functions of (sigma_b, sigma) for a model with
one random intercept, their profiles, and a simulation of the two estimators.

The criteria, unprofiled over sigma (theta = sigma_b / sigma; lme4's pieces from deviance.parts):
  ML:   log|L|^2 + r^2 / sigma^2 + n log(2 pi sigma^2)
  REML: log|L|^2 + log|R_X|^2 + r^2 / sigma^2 + (n - p) log(2 pi sigma^2)
Minimised over sigma they are the engine's profiled criteria; the tests check that they agree.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import MixedModelError
from ..lmm.batch import fit_many
from ..lmm.deviance import ProfiledDeviance
from ..model.design import build_model_data


@dataclass(frozen=True)
class Curves:
    sigma_b: np.ndarray  # grid
    sigma: np.ndarray  # grid
    ml: np.ndarray  # criterion surface, shape (len(sigma_b), len(sigma))
    reml: np.ndarray
    ml_best: tuple  # (sigma_b, sigma, criterion) at the ML optimum
    reml_best: tuple

    def profile(self, which: str, over: str = "sigma_b") -> np.ndarray:
        """The criterion minimised over the other parameter, along the `over` grid."""
        surface = self.ml if which == "ml" else self.reml
        return surface.min(axis=1) if over == "sigma_b" else surface.min(axis=0)


def one_intercept(formula: str, data: pd.DataFrame) -> ProfiledDeviance:
    md = build_model_data(formula, data)
    if len(md.terms) != 1 or md.terms[0].q != 1:
        raise MixedModelError("The ML and REML curves are drawn for models with one random intercept, (1 | group).")
    return ProfiledDeviance(md, reml=False)


def criterion_surface(dev: ProfiledDeviance, sigma_b: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ML and REML criteria on the grid sigma_b x sigma."""
    sb, s = np.meshgrid(sigma_b, sigma, indexing="ij")
    logdet_l, logdet_rx, r2 = dev.parts((sb / s).reshape(-1, 1))
    logdet_l, logdet_rx, r2 = (a.reshape(sb.shape) for a in (logdet_l, logdet_rx, r2))
    n, p = dev.n, dev.p
    ml = logdet_l + r2 / s**2 + n * np.log(2 * np.pi * s**2)
    reml = logdet_l + logdet_rx + r2 / s**2 + (n - p) * np.log(2 * np.pi * s**2)
    return ml, reml


def criterion_curves(formula: str, data: pd.DataFrame, points: int = 161) -> Curves:
    """Both criteria around their optima, on a grid wide enough to show each curve's shape."""
    from ..lmm.fit import fit

    ml_fit, reml_fit = fit(formula, data, reml=False), fit(formula, data, reml=True)
    dev = one_intercept(formula, data)
    top_b = 2.2 * max(float(np.sqrt(reml_fit.re_cov[0][2][0, 0])), 0.2 * reml_fit.sigma)
    sigma_b = np.linspace(0.0, top_b, points)
    sigma = np.linspace(0.45 * ml_fit.sigma, 1.8 * reml_fit.sigma, points)
    ml, reml = criterion_surface(dev, sigma_b, sigma)

    def best(f):
        return (float(np.sqrt(f.re_cov[0][2][0, 0])), f.sigma, f.deviance)

    return Curves(sigma_b, sigma, ml, reml, best(ml_fit), best(reml_fit))


def reml_ml_study(n_groups: int = 5, n_per_group: int = 4, sigma_b: float = 10.0, sigma: float = 10.0,
                  nsim: int = 500, seed: int | None = 0, progress=None) -> pd.DataFrame:
    """Simulate a balanced one-way design nsim times; the ML and REML estimates of both variances."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(n_groups), n_per_group)
    b = rng.normal(0, sigma_b, (nsim, n_groups))
    Y = 50.0 + b[:, group] + rng.normal(0, sigma, (nsim, len(group)))
    frame = pd.DataFrame({"y": Y[0], "g": group.astype(str)})
    out = {}
    for reml, label in ((False, "ML"), (True, "REML")):
        dev = ProfiledDeviance(build_model_data("y ~ 1 + (1 | g)", frame), reml=reml)
        report = None if progress is None else (lambda d, t, k=int(reml): progress(d + k * nsim, 2 * nsim))
        r = fit_many(dev, Y, progress=report)
        out[f"{label} sigma_b^2"] = (r.theta[:, 0] * r.sigma) ** 2
        out[f"{label} sigma^2"] = r.sigma**2
    return pd.DataFrame(out)
