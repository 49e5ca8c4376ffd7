"""From a user's table and choices to a model: the types each column is used as, and an lme4
formula built from menus (response, fixed effects, grouping factors, random structure).

The formula is text that goes through the grammar like any other: the builder only writes it, with
backticks around names that are not plain identifiers (spaces, accents, symbols)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import DataError
from .formula import NAME

STRUCTURES = {
    "intercept": "random intercept: (1 | g)",
    "correlated": "random intercept and slope, correlated: (x | g)",
    "uncorrelated": "random intercept and slope, uncorrelated: (x || g)",
}


def quote(name: str) -> str:
    """A column name as a formula names it: plain identifiers as they are, others in backticks."""
    if "`" in name:
        raise DataError(f"The column name {name!r} contains a backtick (`), which a formula cannot quote. Rename it.")
    plain = re.fullmatch(NAME, name) and not re.fullmatch(r"\.\d.*", name)
    return name if plain else f"`{name}`"


def column_types(df: pd.DataFrame) -> dict[str, str]:
    """How the app will use each column: 'numeric' (a number) or 'factor' (groups, categories)."""
    out = {}
    for c in df.columns:
        col = df[c]
        out[c] = "numeric" if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) else "factor"
    return out


def apply_types(df: pd.DataFrame, types: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """The table with each column converted as chosen; notes on values that could not be read."""
    out, notes = df.copy(), []
    for c, kind in types.items():
        if kind == "factor":
            out[c] = df[c].astype("string").astype(object).where(df[c].notna(), None)
        else:
            converted = pd.to_numeric(df[c].astype(str).str.replace(",", ".", regex=False).str.strip()
                                      if df[c].dtype == object else df[c], errors="coerce")
            lost = int(converted.isna().sum() - df[c].isna().sum())
            if lost:
                notes.append(f"Column '{c}': {lost} value(s) are not numbers and were treated as missing.")
            out[c] = converted.astype(float)
    return out, notes


def build_formula(response: str, fixed: list[str], groups: list[str], structure: str = "intercept",
                  slope: str | None = None, nesting: str = "crossed") -> str:
    """An lme4 formula from the builder's menus. nesting: 'crossed' ((1|g1) + (1|g2)) or 'nested'
    (the second factor within the first: (1|g1/g2))."""
    if not groups:
        raise DataError("Choose at least one grouping factor: the groups whose measurements belong together.")
    rhs = " + ".join(quote(v) for v in fixed) if fixed else "1"
    if structure != "intercept" and not slope:
        raise DataError("Choose the predictor whose slope varies between groups.")
    lhs = {"intercept": "1", "correlated": quote(slope or ""), "uncorrelated": quote(slope or "")}[structure]
    bar = "||" if structure == "uncorrelated" else "|"
    if nesting == "nested" and len(groups) >= 2:
        terms = [f"({lhs} {bar} {'/'.join(quote(g) for g in groups)})"]
    else:
        terms = [f"({lhs} {bar} {quote(g)})" for g in groups]
    return f"{quote(response)} ~ {rhs} + {' + '.join(terms)}"


def summarise_columns(df: pd.DataFrame) -> pd.DataFrame:
    """One row per column: type used, distinct values, missing values, an example."""
    types = column_types(df)
    return pd.DataFrame({
        "column": list(df.columns),
        "use as": [types[c] for c in df.columns],
        "distinct values": [int(df[c].nunique()) for c in df.columns],
        "missing": [int(df[c].isna().sum()) for c in df.columns],
        "example": [str(df[c].dropna().iloc[0]) if df[c].notna().any() else "" for c in df.columns],
    })


def guess_groups(df: pd.DataFrame, response: str) -> list[str]:
    """A first guess at the grouping factor: the column (text, or whole numbers) with the most
    distinct values that still repeat (at most half as many as rows). The user can change it."""
    n = len(df)
    best, best_levels = [], 1
    for c in df.columns:
        if c == response:
            continue
        col = df[c].dropna()
        whole = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) and \
            np.all(np.mod(col.to_numpy(dtype=float), 1) == 0)
        if not (whole or not pd.api.types.is_numeric_dtype(col)):
            continue
        levels = col.nunique()
        if 2 <= levels <= n / 2 and levels > best_levels:
            best, best_levels = [c], levels
    return best


FAMILIES = {"gaussian": "linear (continuous)", "binomial": "binomial (0/1)", "poisson": "Poisson (counts)"}


def suggest_families(column: pd.Series) -> dict[str, str]:
    """The response distributions a column allows, the likeliest first: a 0/1 column is binary
    (logistic model first), whole numbers from 0 are counts (Poisson offered), anything else linear."""
    values = pd.to_numeric(column, errors="coerce").dropna().to_numpy(dtype=float)
    if len(values) and np.all((values == 0) | (values == 1)) and len(np.unique(values)) == 2:
        return {k: FAMILIES[k] for k in ("binomial", "gaussian")}
    if len(values) and np.all(values >= 0) and np.all(values == np.round(values)):
        return {k: FAMILIES[k] for k in ("gaussian", "poisson")}
    return {"gaussian": FAMILIES["gaussian"]}
