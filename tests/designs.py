"""Seeded random designs for the optimizer's property tests, and the optimality check itself.

The designs are the hard cases for an optimizer: small, zero and large variance components,
correlations near +-1, unbalanced groups (some of one or two rows), few groups, and predictors in
units of 1e-3 or 1e3.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mmcore.lmm.deviance import ProfiledDeviance, ThetaLayout
from mmcore.model.design import build_model_data

SHAPES = {
    "intercept": "y ~ x1 + x2 + (1 | g)",
    "slope": "y ~ x1 + x2 + (x1 | g)",
    "two slopes": "y ~ x1 + x2 + (x1 + x2 | g)",
    "no intercept": "y ~ x1 + x2 + (0 + x1 + x2 | g)",
    "uncorrelated": "y ~ x1 + x2 + (x1 || g)",
    "crossed": "y ~ x1 + x2 + (1 | g) + (1 | h)",
    "crossed slope": "y ~ x1 + x2 + (x1 | g) + (1 | h)",
    "nested": "y ~ x1 + x2 + (1 | g/h)",
}


def _sd(rng: np.random.Generator) -> float:
    """A between-group SD relative to sigma = 1: exactly 0 one time in six, else 0.01 to 3."""
    return 0.0 if rng.random() < 1 / 6 else float(np.exp(rng.uniform(np.log(0.01), np.log(3.0))))


def random_design(shape: str, seed: int) -> tuple[str, pd.DataFrame, bool]:
    """(formula, data, reml) of one seeded design of the given shape."""
    rng = np.random.default_rng([seed, list(SHAPES).index(shape)])
    G = int(rng.choice([3, 4, 6, 10, 20, 40]))
    sizes = rng.integers(1, 12, G) if rng.random() < 0.5 else np.full(G, int(rng.integers(2, 10)))
    sizes[0] = max(sizes[0], 2)
    g = np.repeat(np.arange(G), sizes)
    n = len(g)
    unit = [1.0, 1.0, 1e-3, 1e3][int(rng.integers(4))]  # the unit x1 is measured in
    x1 = rng.normal(rng.choice([0.0, 3.0]), 1.0, n)
    x2 = rng.normal(0.0, 1.0, n)
    sd0, sd1, sd2 = _sd(rng), _sd(rng), _sd(rng)
    rho = rng.uniform(-0.99, 0.99)
    L = np.linalg.cholesky(np.array([[1.0, rho, 0.0], [rho, 1.0, 0.0], [0.0, 0.0, 1.0]]) + 1e-12 * np.eye(3))
    b = (rng.standard_normal((G, 3)) @ L.T) * [sd0, sd1, sd2]
    intercept = 0.0 if shape == "no intercept" else 1.0
    y = 5 + x1 - 0.5 * x2 + intercept * b[g, 0]
    if shape in ("slope", "two slopes", "no intercept", "uncorrelated", "crossed slope"):
        y += b[g, 1] * x1
    if shape in ("two slopes", "no intercept"):
        y += b[g, 2] * x2
    h = rng.integers(0, int(rng.choice([3, 5, 8])), n)
    if shape in ("crossed", "crossed slope"):
        y += rng.normal(0, _sd(rng), h.max() + 1)[h]
    if shape == "nested":
        y += rng.normal(0, _sd(rng), (G, h.max() + 1))[g, h]
    y += rng.normal(0, 1.0, n)
    data = pd.DataFrame({"y": y, "x1": x1 / unit, "x2": x2, "g": [f"g{v:02d}" for v in g],
                         "h": [f"h{v}" for v in h]})
    return SHAPES[shape], data, bool(rng.random() < 0.5)


def worst_descent(formula: str, data: pd.DataFrame, reml: bool, theta: np.ndarray) -> tuple[float, float]:
    """How far the criterion falls from theta in the best feasible direction found, and the
    criterion at theta. Every element of theta is moved both ways by 1e-4 and 1e-2 of its scale
    (lme4's feasible region: diagonals >= 0); a column whose diagonal is zero is also tried with its
    sign flipped (the same covariance) and then its diagonal moved up."""
    md = build_model_data(formula, data)
    dev = ProfiledDeviance(md, reml)
    layout = ThetaLayout.from_sizes([t.q for t in md.terms])
    scale = np.concatenate([1 / np.sqrt(np.mean(t.matrix**2, axis=0))[layout.tri_indices(k)[0]]
                            for k, t in enumerate(md.terms)])
    diag = np.flatnonzero(layout.lower == 0)
    columns = []
    for q, off in zip(layout.sizes, layout.offsets):
        for j in range(q):
            start = off + sum(q - c for c in range(j))
            columns.append(np.arange(start, start + q - j))
    theta = np.asarray(theta, dtype=float)
    points = []
    for i in range(len(theta)):
        for step in (1e-4, 1e-2):
            delta = step * scale[i] * max(1.0, abs(theta[i]) / scale[i])
            for sign in (1, -1):
                t = theta.copy()
                t[i] += sign * delta
                if i in diag and t[i] < 0:
                    t[i] = 0.0
                points.append(t)
    for col in columns:
        if abs(theta[col[0]]) <= 1e-6 * scale[col[0]]:
            for step in (1e-4, 1e-2):
                t = theta.copy()
                t[col[1:]] *= -1
                t[col[0]] = step * scale[col[0]]
                points.append(t)
    with np.errstate(all="ignore"):
        f0 = float(dev.evaluate(theta[None])[0])
        values = dev.evaluate(np.array(points))
    return f0 - float(np.min(values)), f0
