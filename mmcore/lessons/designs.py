"""Nested and crossed designs: which levels of two factors meet (the incidence table), what the
relation is called, where the variance lies at each level and what each SD means, and the
implicit-nesting pitfall (inner labels reused in every outer group).

Two factors A and B are
- nested (B within A) when every level of B occurs with one level of A only: the classes of a school;
- crossed when every level of A meets every level of B: every sample on every plate;
- partially crossed otherwise: students rate some of the lecturers, not all.
A factor whose labels restart in every outer group (casks a, b, c in every batch) looks crossed with
it in the data; whether it is depends on what the labels mean, which only the design can tell.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..lmm.results import LmmFit


def _levels(col: pd.Series) -> list[str]:
    if isinstance(col.dtype, pd.CategoricalDtype):
        return [str(c) for c in col.cat.categories if (col == c).any()]
    return sorted(col.astype(str).unique())


def combined(data: pd.DataFrame, outer: str, inner: str) -> pd.Series:
    """Unique labels for the inner factor: 'outer:inner' (lme4's Pastes$sample, or what (1 | a/b) makes)."""
    labels = data[outer].astype(str) + ":" + data[inner].astype(str)
    order = [f"{o}:{i}" for o in _levels(data[outer]) for i in _levels(data[inner])]
    return pd.Series(pd.Categorical(labels, categories=[c for c in order if c in set(labels)]), index=data.index)


def incidence(data: pd.DataFrame, rows: str, cols: str) -> pd.DataFrame:
    """How many observations each pair of levels has (levels in the data's order): the design's picture."""
    table = pd.crosstab(data[rows].astype(str), data[cols].astype(str))
    return table.reindex(index=_levels(data[rows]), columns=_levels(data[cols]), fill_value=0)


def incidence_binned(data: pd.DataFrame, rows: str, cols: str, bins: int = 150) -> pd.DataFrame:
    """The incidence picture of factors with thousands of levels (InstEval: 2,972 students x 1,128
    lecturers): levels in blocks of about equal size, each cell the share of its pairs that occur."""
    r, _ = pd.factorize(data[rows], sort=True)
    c, _ = pd.factorize(data[cols], sort=True)
    nr, nc = r.max() + 1, c.max() + 1
    pairs = np.unique(r.astype(np.int64) * nc + c)
    br = np.minimum((pairs // nc) * min(bins, nr) // nr, bins - 1)
    bc = np.minimum((pairs % nc) * min(bins, nc) // nc, bins - 1)
    counts = np.zeros((min(bins, nr), min(bins, nc)))
    np.add.at(counts, (br, bc), 1.0)
    size_r = np.bincount(np.arange(nr) * min(bins, nr) // nr)
    size_c = np.bincount(np.arange(nc) * min(bins, nc) // nc)
    out = pd.DataFrame(counts / np.outer(size_r, size_c))
    out.index.name, out.columns.name = f"{rows} ({nr:,} levels, in blocks)", f"{cols} ({nc:,} levels, in blocks)"
    out.attrs["binned"] = True
    return out


def incidence_picture(data: pd.DataFrame, rows: str, cols: str, max_cells: int = 40_000) -> pd.DataFrame:
    """The incidence table, or for more than max_cells pairs of levels its binned picture."""
    if data[rows].nunique() * data[cols].nunique() > max_cells:
        return incidence_binned(data, rows, cols)
    return incidence(data, rows, cols)


def _pairs(data: pd.DataFrame, a: str, b: str) -> tuple[int, int, int, np.ndarray]:
    """Levels of a, of b, the pairs that occur, and how many levels of a each level of b meets."""
    ra, _ = pd.factorize(data[a])
    rb, _ = pd.factorize(data[b])
    la, lb = ra.max() + 1, rb.max() + 1
    pairs = np.unique(ra.astype(np.int64) * lb + rb)
    return int(la), int(lb), len(pairs), np.bincount(pairs % lb, minlength=lb)


@dataclass(frozen=True)
class Relation:
    kind: str  # "nested", "crossed", "partially crossed"
    a: str
    b: str
    levels_a: int
    levels_b: int
    pairs: int  # pairs of levels that occur together
    text: str


def relation(data: pd.DataFrame, a: str, b: str) -> Relation:
    """How factor b relates to factor a, judged from the labels in the data."""
    la, lb, pairs, meets = _pairs(data, a, b)
    if (meets == 1).all():
        kind = "nested"
        text = (f"Every level of {b} occurs within one level of {a} only: {b} is nested in {a} "
                f"({lb} levels of {b} in {la} levels of {a}).")
    elif pairs == la * lb:
        kind = "crossed"
        text = (f"Every level of {a} meets every level of {b} ({la} x {lb} = {pairs} pairs): {a} and {b} are "
                "crossed, as far as the labels say.")
    else:
        kind = "partially crossed"
        text = (f"{pairs:,} of the {la * lb:,} possible pairs of {a} and {b} occur ({pairs / (la * lb):.1%}): "
                f"{a} and {b} are partially crossed.")
    return Relation(kind, a, b, la, lb, pairs, text)


def reused_labels(data: pd.DataFrame, outer: str, inner: str) -> str | None:
    """A warning when the inner factor's labels recur in several outer groups: (1 | outer) + (1 | inner)
    would then treat 'a' of one group and 'a' of another as one level."""
    rel = relation(data, outer, inner)
    if rel.kind == "nested":
        return None
    units = rel.pairs
    return (f"{inner} has only {rel.levels_b} labels, but {units} {outer} x {inner} combinations occur. If {inner} "
            f"'{_levels(data[inner])[0]}' of one {outer} is not the same unit as '{_levels(data[inner])[0]}' of "
            f"another, there are {units} units, not {rel.levels_b}: write (1 | {outer}/{inner}), or give them "
            f"unique labels; (1 | {outer}) + (1 | {inner}) fits a crossed model with {rel.levels_b} levels.")


def variance_table(fit: LmmFit) -> pd.DataFrame:
    """Each variance component of a random-intercept model: SD, variance, share of the total, and the
    correlation of two observations that share a level of it (and so of every factor it is nested in:
    lme4 names (1 | a/b) 'b:a', nested in 'a'); for crossed factors, sharing that level alone."""
    rows = [(grp, float(cov[0, 0])) for grp, cols, cov in fit.re_cov if cols == ("(Intercept)",)]
    total = sum(v for _, v in rows) + fit.sigma**2
    var = dict(rows)
    out = []
    for grp, v in rows:
        parents = [g for g in var if g != grp and _is_within(grp, g)]
        corr = (v + sum(var[p] for p in parents)) / total
        out.append((grp, fit.ngroups.get(grp.split(".")[0], np.nan), np.sqrt(v), v, v / total, corr))
    out.append(("Residual", fit.nobs, fit.sigma, fit.sigma**2, fit.sigma**2 / total, np.nan))
    return pd.DataFrame(out, columns=["component", "levels", "SD", "variance", "share", "correlation"]).set_index("component")


def _is_within(inner: str, outer: str) -> bool:
    """lme4's names: 'student:school' is within 'school'; 'cask:batch' within 'batch'."""
    return inner.endswith(":" + outer) or f":{outer}:" in inner


def pitfall_table(fits: dict) -> pd.DataFrame:
    """Fits of the same data side by side, name -> (fit, outer factor, inner factor as the fit names it):
    how many units of each factor the model sees, each SD, the intercept's SE and the REML criterion.
    The wrong model's column shows where the inner factor's variance went."""
    cols = {}
    for name, (f, outer, inner) in fits.items():
        sd = {g: float(np.sqrt(cov[0, 0])) for g, _, cov in f.re_cov}
        cols[name] = {"units of the outer factor": float(f.ngroups[outer]),
                      "units of the inner factor": float(f.ngroups[inner]),
                      "SD of the outer factor": sd[outer], "SD of the inner factor": sd[inner],
                      "residual SD": f.sigma, "SE of (Intercept)": float(f.se.iloc[0]),
                      "REML criterion" if f.reml else "deviance": float(f.deviance)}
    return pd.DataFrame(cols)
