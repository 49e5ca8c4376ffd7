"""Inference for many responses at once (simulation studies of a design): each replicate's t test
of a fixed effect with Satterthwaite's or Kenward-Roger's df, and lme4's profile interval for the
SD of a single random intercept, for all replicates together.

Why a profile of our own here: `profile()` (profile.py) refits the model at each held value of a
parameter, a tenth of a second per fit; a planner needs thousands. With one random intercept theta
is a scalar, and the profile has a closed form in it. The ML deviance at (theta, sigma), beta
profiled, is D = f(theta) + r(theta) / sigma^2 + n log(2 pi sigma^2), f = log|L|^2 and r the
penalized residual sum of squares, so holding sigma_b = theta sigma = s and writing u = 1/s^2:

    D(theta, s / theta) = a(theta) + b(theta) u - n log u,   a = f + n log(2 pi) - 2n log theta,  b = r theta^2.

For one theta, the u where D <= d_min + chi2_1(level) form an interval whose ends solve
v - log v = kappa (v = b u / n; kappa = (K - a)/n + log(n / b)): Lambert's W on its two branches.
The profile interval of s is the union over theta of these intervals: its ends are the extremes over
theta of two smooth functions, found on a grid and refined by zooming (an extreme is stationary,
so the grid's error enters the end only to second order). The lower end is 0 when the model
without the random intercept (theta = 0) is inside the region, as in lme4's profile.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import stats

from ..errors import MixedModelError
from ..lmm.deviance import ProfiledDeviance
from ..model.design import ModelData
from .ddf import KenwardRoger, Satterthwaite
from .marginal import Marginal

GRID = np.geomspace(1e-5, 1e4, 40)  # theta = sigma_b / sigma: from no group effect to 10^4 times sigma
GOLDEN, GOLDEN_STEPS = (np.sqrt(5) - 1) / 2, 40


def t_tests_many(md: ModelData, Y: np.ndarray, theta: np.ndarray, sigma: np.ndarray, beta: np.ndarray,
                 L: np.ndarray) -> tuple[dict, dict]:
    """The standard error and denominator df of L'beta for each replicate (rows of Y) from its own REML
    fit (theta, sigma, beta), by lmerTest's Satterthwaite and pbkrtest's Kenward-Roger (whose SE is its
    adjusted one): ({method: SEs}, {method: dfs}), methods "satterthwaite" and "kenward-roger". One
    marginal model per replicate serves both."""
    S = len(Y)
    se = {"satterthwaite": np.empty(S), "kenward-roger": np.empty(S)}
    df = {"satterthwaite": np.empty(S), "kenward-roger": np.empty(S)}
    with np.errstate(all="ignore"):  # a boundary fit: the df arithmetic of lmerTest and pbkrtest
        for s in range(S):
            M = Marginal(replace(md, y=Y[s]), theta[s], sigma[s], beta[s], True)
            _, se["satterthwaite"][s], df["satterthwaite"][s] = Satterthwaite(M, beta[s]).t_test(L)
            _, se["kenward-roger"][s], df["kenward-roger"][s] = KenwardRoger(M, beta[s]).t_test(L)
    return se, df


def _root(kappa: np.ndarray, small: np.ndarray) -> np.ndarray:
    """The root of v - log v = kappa (kappa >= 1) below 1 (small) or above 1: -W(-exp(-kappa)) on
    W's two branches. Newton in log v from the series about the branch point, v = 1 -+ p + p^2/3
    (p = sqrt(2 (kappa - 1))); here kappa - 1 <= chi2 / n is small. (scipy's lambertw works in
    complex numbers and loses digits near the branch point: slower and no better.)"""
    p = np.sqrt(2 * (kappa - 1))
    w = np.where(small, np.log(np.clip(1 - p + p * p / 3, np.exp(-kappa), 1.0)),
                 np.log(np.maximum(1 + p + p * p / 3, kappa + np.log(kappa))))
    for _ in range(6):
        step = (np.exp(w) - w - kappa) / (np.exp(w) - 1)
        w = np.where(np.isfinite(step), w - step, w)
        w = np.where(small, np.minimum(w, 0.0), np.maximum(w, 0.0))
    return np.exp(w)


def _ends(f: np.ndarray, r: np.ndarray, theta: np.ndarray, K: np.ndarray, n: int, upper: np.ndarray) -> np.ndarray:
    """The lower (upper False) or upper (True) sigma_b whose profile deviance at this theta is K;
    NaN where no sigma_b is. upper broadcasts against theta."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a = f + n * np.log(2 * np.pi) - 2 * n * np.log(theta)
        b = r * theta**2
        kappa = (K - a) / n + np.log(n / b)
        ok = np.isfinite(kappa) & (kappa >= 1.0)
        kappa = np.where(ok, kappa, 2.0)
        v = _root(kappa, np.broadcast_to(upper, kappa.shape))
        return np.where(ok, np.sqrt(b / (n * v)), np.nan)


class _Intercept:
    """log|L|^2 and r^2 of a one-random-intercept model for many responses, each at its own thetas.

    The same numbers as ProfiledDeviance.parts, from the cross-products that deviance already holds,
    written out for a scalar theta: L_g = sqrt(1 + theta^2 n_g), and the block of X and y is
    [X y]'[X y] - sum_g w_g c_g c_g' with w_g = theta^2 / (1 + theta^2 n_g) and c_g = Z_g'[X y]. The
    general code forms every group's factor for every theta; a profile needs a few hundred thetas for
    each of thousands of responses, and this is ten times faster."""

    def __init__(self, dev: ProfiledDeviance):
        self.sizes = dev.A11[:, 0, 0]  # n_g
        C = dev.Z1tXy_cols[:, :, 0, :]  # S x (p + 1) x G
        self.outer = np.einsum("sig,sjg->sgij", C, C)  # S x G x (p + 1) x (p + 1)
        self.XytXy = dev.XytXy

    def __call__(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """theta (S, B) -> log|L|^2 and r^2, each (S, B)."""
        t2 = theta[..., None] ** 2
        w = t2 / (1 + t2 * self.sizes)  # S x B x G
        D = self.XytXy[:, None] - np.einsum("sbg,sgij->sbij", w, self.outer)
        with np.errstate(all="ignore"):
            f = np.log1p(t2 * self.sizes).sum(axis=-1)
            try:
                r = np.linalg.cholesky(D)[..., -1, -1] ** 2
            except np.linalg.LinAlgError:  # rounding at an extreme theta: the Schur complement directly
                p = D.shape[-1] - 1
                r = D[..., p, p] - np.einsum("...i,...i->...", D[..., p, :p],
                                             np.linalg.solve(D[..., :p, :p], D[..., :p, p][..., None])[..., 0])
        return f, r


def _refine(pieces: _Intercept, grid: np.ndarray, ends: np.ndarray, K: np.ndarray, n: int) -> np.ndarray:
    """The lowest lower end and the highest upper end over theta (S x 2), from the grid's values of
    both ends (S x B x 2), refined by golden-section search in log theta around the best grid point."""
    sign = np.array([-1.0, 1.0])
    upper = np.array([False, True])
    score = np.where(np.isfinite(ends), sign * ends, -np.inf)
    best = np.argmax(score, axis=1)  # S x 2
    rows = np.arange(len(grid))[:, None]
    found = ends[rows, best, [0, 1]]
    log_grid = np.log(grid)
    a = log_grid[rows, np.maximum(best - 1, 0)]
    b = log_grid[rows, np.minimum(best + 1, grid.shape[1] - 1)]

    def value(x):
        f, r = pieces(np.exp(x))
        v = _ends(f, r, np.exp(x), K[:, None], n, upper)
        return v, np.where(np.isfinite(v), sign * v, -np.inf)

    c, d = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    (vc, sc), (vd, sd) = value(c), value(d)
    for _ in range(GOLDEN_STEPS):
        left = sc >= sd  # the maximum lies in [a, d]
        found = np.where(left & (sc > sign * found), vc, found)
        found = np.where(~left & (sd > sign * found), vd, found)
        a, b = np.where(left, a, c), np.where(left, d, b)
        c, d = np.where(left, b - GOLDEN * (b - a), d), np.where(left, c, a + GOLDEN * (b - a))
        new = np.where(left, c, d)
        vn, sn = value(new)
        vc, sc, vd, sd = np.where(left, vn, vd), np.where(left, sn, sd), np.where(left, vc, vn), np.where(left, sc, sn)
    return found


def sd_profile_intervals(dev: ProfiledDeviance, criterion: np.ndarray, theta: np.ndarray,
                         level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """lme4's profile interval (confint(method = "profile")) for sigma_b of a model with one random
    intercept, for each response of a many-response ML deviance (dev.with_responses), given each
    response's ML optimum (its deviance `criterion` and `theta`). Returns (lower, upper)."""
    if dev.reml or dev.layout.sizes != [1]:
        raise MixedModelError("The profile of many fits at once is for ML fits of one random intercept, (1 | g).")
    n = dev.n
    K = np.asarray(criterion, dtype=float) + stats.chi2.ppf(level, 1)
    S = len(K)
    grid = np.concatenate([np.broadcast_to(GRID, (S, len(GRID))), np.asarray(theta, float).reshape(S, 1)], axis=1)
    grid = np.sort(np.where(grid > 0, grid, GRID[0]), axis=1)
    pieces = _Intercept(dev)
    f, r = pieces(grid)
    ends = np.stack([_ends(f, r, grid, K[:, None], n, side) for side in (False, True)], axis=-1)
    lower, upper = _refine(pieces, grid, ends, K, n).T
    f0, r0 = pieces(np.zeros((S, 1)))
    d0 = (f0 + n * (1 + np.log(2 * np.pi * r0 / n)))[:, 0]  # theta = 0: the model without the intercept
    lower = np.where(d0 <= K, 0.0, lower)
    return lower, upper
