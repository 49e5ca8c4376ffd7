"""Where the optimizer starts: close to the optimum, so that Newton needs few steps.

lme4 starts every term's factor at the identity. We do so too (in the optimizer's scaled units)
unless a cheap moment estimate is at hand: with one grouping factor, from each group's own
least-squares fit; with several factors of random intercepts (crossed, nested), from the variance of
each factor's group means. For balanced designs these are the ANOVA estimators, which REML equals,
so the optimizer starts at the answer. The start never decides the answer: the optimizer verifies
what it returns (optimize.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .deviance import ProfiledDeviance


def start_theta(dev: ProfiledDeviance) -> np.ndarray:
    """Where the optimizer starts: each term's factor the identity in the scaled units (lme4's
    start, scaled), except that a model with one grouping factor starts at a moment estimate."""
    theta = dev.layout.start * dev.structure().scale
    with np.errstate(all="ignore"):
        moments = _moment_start(dev)
    if moments is not None:
        for k, T in moments.items():
            i, j = dev.layout.tri_indices(k)
            theta[dev.layout.offsets[k] : dev.layout.offsets[k] + len(i)] = T[i, j]
    return theta

def _moment_start(dev: ProfiledDeviance) -> dict | None:
    """A start near the optimum for the block-1 terms, from each group's own least-squares fit:
    b_g = (Z_g'Z_g)^-1 Z_g' r (r: the residuals of y on X), sigma^2 from the within-group residuals,
    and Sigma / sigma^2 = (mean b_g b_g' - sigma^2 mean (Z_g'Z_g)^-1) / sigma^2, its eigenvalues
    kept away from zero. It saves the Newton iteration two or three steps; the optimum does not
    depend on it (the optimizer verifies what it returns). None when too few groups can say."""
    if dev.Z1tXy_cols.ndim != 3:
        return None
    if dev.m:
        return _moment_intercepts(dev)
    q1, p = dev.q1, dev.p
    A = dev.A11  # G x q1 x q1
    Zr = dev.Z1tXy_cols[p].T  # G x q1: Z_g' r
    usable = np.linalg.cond(A) < 1e8
    if usable.sum() < max(3, q1 + 1):
        return None
    Ainv = np.linalg.inv(A[usable])
    b = np.einsum("gij,gj->gi", Ainv, Zr[usable])
    df = dev.n - p - q1 * int(usable.sum())
    if df <= 0:
        return None
    rss = dev.XytXy[p, p] - float(np.einsum("gi,gi->", Zr[usable], b))
    sigma2 = rss / df
    if not sigma2 > 0:
        return None
    S = (b.T @ b / len(b) - sigma2 * Ainv.mean(axis=0)) / sigma2
    w, V = np.linalg.eigh((S + S.T) / 2)
    S = (V * np.maximum(w, 1e-2 * max(w.max(), 1e-2))) @ V.T
    out, col = {}, 0
    for k in dev.block1:
        q = dev.md.terms[k].q
        out[k] = np.linalg.cholesky(S[col : col + q, col : col + q])
        col += q
    return out if all(np.isfinite(T).all() for T in out.values()) else None

def _moment_intercepts(dev: ProfiledDeviance) -> dict | None:
    """The moment start for several grouping factors with random intercepts only (crossed,
    nested): sigma^2 from the fit with every factor as fixed, and per factor the variance of its
    group means of the residuals of y on X, less what sigma^2 puts there. Small designs only."""
    md = dev.md
    levels = sum(t.nlevels for t in md.terms)
    if any(t.q != 1 for t in md.terms):
        return None
    if dev.n > 20000 or dev.p + levels > 300:  # a dense least squares would cost more than the fit
        sigma2 = _backfitted_sigma2(dev)
    else:
        Z = np.zeros((dev.n, levels))
        at = 0
        for t in md.terms:
            Z[np.arange(dev.n), at + t.codes] = t.matrix[:, 0]
            at += t.nlevels
        W = np.hstack([md.X, Z])
        coef, _, rank, _ = np.linalg.lstsq(W, md.y, rcond=None)
        df = dev.n - rank
        sigma2 = float(np.sum((md.y - W @ coef) ** 2)) / df if df > 0 else 0.0
    if not sigma2 > 0:
        return None
    r = md.y - md.X @ np.linalg.lstsq(md.X, md.y, rcond=None)[0]
    out = {}
    for k, t in enumerate(md.terms):
        counts = np.bincount(t.codes, minlength=t.nlevels)
        means = np.bincount(t.codes, r, t.nlevels)[counts > 0] / counts[counts > 0]
        spread = means.var(ddof=1) - sigma2 * np.mean(1.0 / counts[counts > 0]) if len(means) > 1 else 0.0
        out[k] = np.array([[np.sqrt(max(spread, 1e-2 * sigma2) / sigma2)]])
    return out


def _backfitted_sigma2(dev: ProfiledDeviance, sweeps: int = 30) -> float:
    """sigma^2 of the fit with every factor fixed, for designs too large for a dense least squares:
    a few sweeps of backfitting (each factor's effects are its group means of the others' residuals;
    X by least squares), enough for a start. The degrees of freedom count each factor's levels less
    one (the intercept)."""
    md = dev.md
    Q = np.linalg.qr(md.X)[0] if dev.p else np.zeros((dev.n, 0))
    r = md.y - Q @ (Q.T @ md.y)
    for _ in range(sweeps):
        for t in md.terms:
            x = t.matrix[:, 0]
            effect = np.bincount(t.codes, x * r, t.nlevels) / np.maximum(np.bincount(t.codes, x * x, t.nlevels), 1e-300)
            r = r - effect[t.codes] * x
        r = r - Q @ (Q.T @ r)
    df = dev.n - dev.p - sum(t.nlevels - 1 for t in md.terms)
    return float(r @ r) / df if df > 0 else 0.0
