"""Growth over time drawn from a truth the user chooses: the StatLab workshop's trees, seeded.

Three fertilizers, trees measured after 1, 2, ..., years; height 0 at planting. A tree grows
mu(fertilizer) + b_tree a year on average (b_tree ~ N(0, sd_tree^2): each tree its own rate), and
each year adds a deviation a_t ~ N(0, sd_year^2) of which a share phi carries into the next year:

    height_t = t (mu + b_tree) + e_t,   e_t = phi e_{t-1} + a_t,   e_0 = 0.

phi = 1 is the workshop's story (each year's deviation carried forward for good: heights are a
random walk around the tree's line, and the yearly growth increments are independent again); phi = 0
gives independent errors; in between, AR(1) errors that start at planting. attrs as simulate.py's.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError

FERTILIZERS = ("A", "B", "C")
GROWTH = (2.7, 3.0, 3.6)  # feet a year, the workshop's expected growth per fertilizer


def tree_errors(rng: np.random.Generator, n_trees: int, years: int, phi: float, sd_year: float) -> np.ndarray:
    """e (n_trees, years): e_t = phi e_{t-1} + a_t from e_0 = 0, a_t ~ N(0, sd_year^2)."""
    a = rng.normal(0.0, sd_year, (n_trees, years))
    e = np.zeros_like(a)
    for t in range(years):
        e[:, t] = (phi * e[:, t - 1] if t else 0.0) + a[:, t]
    return e


def simulate_trees(phi: float = 1.0, sd_tree: float = 0.3, sd_year: float = 0.5, trees_per_fert: int = 12,
                   years: int = 4, seed: int | None = 0) -> pd.DataFrame:
    """Heights of trees_per_fert trees per fertilizer after years 1..years; columns as trees.csv:
    tree, fert, year, growth (this year's increment), height."""
    if trees_per_fert < 2 or years < 2:
        raise DataError("A simulation of growth needs at least 2 trees per fertilizer and 2 years.")
    if not 0.0 <= phi <= 1.0 or sd_tree < 0 or sd_year <= 0:
        raise DataError("phi must lie between 0 and 1, the tree-to-tree SD must be 0 or more and the yearly SD "
                        "more than 0.")
    rng = np.random.default_rng(seed)
    n_trees = trees_per_fert * len(FERTILIZERS)
    fert = np.repeat(np.arange(len(FERTILIZERS)), trees_per_fert)
    rate = np.asarray(GROWTH)[fert] + rng.normal(0.0, sd_tree, n_trees)
    year = np.arange(1, years + 1, dtype=float)
    height = (rate[:, None] * year + tree_errors(rng, n_trees, years, phi, sd_year)).round(3)
    growth = np.diff(np.c_[np.zeros(n_trees), height], axis=1)
    width = len(str(n_trees))
    labels = [f"T{i + 1:0{max(2, width)}d}" for i in range(n_trees)]
    df = pd.DataFrame({
        "tree": pd.Categorical(np.repeat(labels, years), categories=labels),
        "fert": pd.Categorical(np.repeat(np.asarray(FERTILIZERS)[fert], years), categories=list(FERTILIZERS)),
        "year": np.tile(year, n_trees), "growth": growth.ravel().round(3), "height": height.ravel(),
    })
    df.attrs.update(truth={"phi": phi, "sd_tree": sd_tree, "sd_year": sd_year,
                           **{f"year:fert{f}": g for f, g in zip(FERTILIZERS, GROWTH)}},
                    formula="height ~ 0 + year:fert + (0 + year | tree)")
    return df
