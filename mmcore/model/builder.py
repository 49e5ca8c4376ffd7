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
    """The table with each column converted as chosen ('skip' drops it); notes on values that could
    not be read."""
    out, notes = df.drop(columns=[c for c, kind in types.items() if kind == "skip"]), []
    for c, kind in types.items():
        if kind == "skip":
            continue
        if kind == "factor" and _numbers(df[c]):
            out[c] = codes_as_factor(df[c])
        elif kind == "factor":
            out[c] = df[c].astype("string").astype(object).where(df[c].notna(), None)
        else:
            converted = pd.to_numeric(df[c].astype(str).str.replace(",", ".", regex=False).str.strip()
                                      if not pd.api.types.is_numeric_dtype(df[c]) else df[c], errors="coerce")
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


def codes_as_factor(col: pd.Series) -> pd.Series:
    """Numbers used as codes (subject 308, 309, ...) as a factor, R's factor(x): levels in numeric order
    (2 before 10, as R's factor of numbers and as the engine orders a numeric grouping column), labelled
    as R prints them (308, not 308.0); a missing value stays missing."""
    values = pd.to_numeric(col)
    label = {v: str(int(v)) if float(v).is_integer() else str(v) for v in np.sort(values.dropna().unique())}
    return pd.Series(pd.Categorical(values.map(label), categories=list(label.values())), index=col.index, name=col.name)


def _numbers(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def summarise_columns(df: pd.DataFrame, groups: list[str] | None = None) -> pd.DataFrame:
    """One row per column: type used ('skip' for saved row numbers), distinct values, missing values,
    an example. The grouping factor(s) (groups; None: guess_groups's guess) are factors even when their
    values are numbers (subject codes 308, 309, ...): the model uses them as groups, as lme4 makes
    any grouping variable a factor."""
    skip = index_columns(df)
    groups = guess_groups(df, skip=tuple(skip)) if groups is None else groups
    types = {**column_types(df), **{c: "factor" for c in groups if c in df}, **{c: "skip" for c in skip}}
    return pd.DataFrame({
        "column": list(df.columns),
        "use as": [types[c] for c in df.columns],
        "distinct values": [int(df[c].nunique()) for c in df.columns],
        "missing": [int(df[c].isna().sum()) for c in df.columns],
        "example": [str(df[c].dropna().iloc[0]) if df[c].notna().any() else "" for c in df.columns],
    })


def index_columns(df: pd.DataFrame) -> list[str]:
    """Row numbers saved as a column (R's write.csv writes them first, under an empty name; pandas'
    to_csv as 'Unnamed: 0'): the whole numbers 1..n or 0..n-1 in row order. Never a response."""
    out = []
    for c in df.columns:
        col = df[c]
        if len(col) < 3 or col.isna().any():
            continue
        values = pd.to_numeric(col, errors="coerce") if not pd.api.types.is_numeric_dtype(col) else col
        if values.isna().any() or pd.api.types.is_bool_dtype(values):
            continue
        start = values.iloc[0]
        if start in (0, 1) and np.array_equal(values.to_numpy(dtype=float), np.arange(start, start + len(col))):
            out.append(c)
    return out


def _is_text(col: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)


def _whole(col: pd.Series) -> bool:
    col = col.dropna()
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return False
    values = col.to_numpy(dtype=float)
    return bool(np.all(np.isfinite(values)) and np.all(np.mod(values, 1) == 0))


def guess_groups(df: pd.DataFrame, response: str | None = None, skip: tuple = ()) -> list[str]:
    """A first guess at the grouping factor(s): a column whose values repeat (2 to n/2 distinct ones);
    a text id (pupil 'p01') before whole numbers (a week 1..8 is more often time than a group), one
    whose rows come together before one that is spread out, then the one with the most levels. A text factor nested in it with its labels reused (the casks a, b, c
    of every batch, each tested more than once) comes second. The user can change them."""
    n = len(df)
    candidates = []
    for c in df.columns:
        if c == response or c in skip:
            continue
        col = df[c].dropna()
        if not (_is_text(col) or _whole(col)):
            continue
        levels = col.nunique()
        counts = col.value_counts()
        if 2 <= levels <= n / 2 and (_is_text(col) or counts.min() >= 2):
            # a group's rows usually come together in a file (sorted by subject); a time does not
            contiguous = int((col != col.shift()).sum()) == levels
            candidates.append((_is_text(col), contiguous, levels, c))
    if not candidates:
        return []
    best = max(candidates)[-1]
    inner = [c for text, _, _, c in sorted(candidates, reverse=True)
             if text and c != best and _labels_reused(df, best, c) and nesting(df, best, c)[0] == "nested"]
    return [best] + inner[:1]


def _labels_reused(df: pd.DataFrame, outer: str, inner: str) -> bool:
    """The same three or more labels of `inner` in every level of `outer` (a design, like Pastes' casks
    a, b, c in every batch), not a two-valued column such as pass/fail that varies within groups."""
    sets = df[[outer, inner]].dropna().astype(str).groupby(outer)[inner].agg(frozenset)
    return sets.nunique() == 1 and len(sets.iloc[0]) >= 3


def nesting(df: pd.DataFrame, outer: str, inner: str) -> tuple[str, str]:
    """Are two grouping factors nested or crossed, and why: ('nested' | 'crossed', a sentence).

    Nested when each level of `inner` lies in one level of `outer` (unique labels), or when inner's
    labels are reused within every outer level and each (outer, inner) pair holds several rows: cask
    'a' of batch A is not cask 'a' of batch B (lme4's Pastes). With one row per pair the pairs cannot
    be random effects of their own (they would be the residuals), so the factors are crossed."""
    pairs = df[[outer, inner]].dropna().astype(str)
    if pairs.empty:
        return "crossed", ""
    outers_per_inner = pairs.groupby(inner)[outer].nunique()
    if (outers_per_inner == 1).all():
        return "nested", (f"Each level of {inner} lies in one level of {outer}: nested. With labels like these, "
                          f"(1 | {outer}) + (1 | {inner}) is the same model as (1 | {outer}/{inner}).")
    inners_per_outer = pairs.groupby(outer)[inner].nunique()
    rows_per_pair = pairs.value_counts()
    if inners_per_outer.min() >= 2 and rows_per_pair.median() >= 2 and _is_text(df[inner]) and \
            pairs[inner].nunique() < pairs[outer].nunique():
        labels = ", ".join(sorted(pairs[inner].unique())[:4])
        return "nested", (f"The labels of {inner} ({labels}) repeat within every {outer}, each with several rows: "
                          f"{inner} {pairs[inner].iloc[0]} of one {outer} is not that of another. Nested: "
                          f"(1 | {outer}/{inner}).")
    return "crossed", ""


TIME_WORDS = re.compile(r"(?i)(^|[_ .])(time|t|days?|weeks?|wk|months?|years?|yr|visits?|waves?|occasions?|sessions?|"
                        r"age|hours?|trials?|periods?|times?|dose)($|[_ .0-9])")


def time_like(df: pd.DataFrame, groups: list[str], skip: tuple = ()) -> list[str]:
    """Numeric columns that look like time (days, week, visit, age...): by name, or whole numbers that
    change within each group on a shared grid (sleepstudy's Days). Suggested as a fixed effect and
    as the random slope."""
    out = []
    for c in df.columns:
        if c in groups or c in skip or _is_text(df[c]):
            continue
        by_name = bool(TIME_WORDS.search(str(c)))
        by_design = False
        if groups and _whole(df[c]) and 3 <= df[c].nunique() <= 60:  # the same grid of values in most groups
            grids = df.groupby(df[groups[0]].astype(str))[c].agg(lambda v: tuple(sorted(v.dropna().unique())))
            common = grids.value_counts()
            by_design = len(common.index[0]) >= 3 and common.iloc[0] >= len(grids) / 2
        if by_name or by_design:
            out.append(c)
    return out


def response_kind(col: pd.Series) -> str:
    """What a response column holds: 'continuous', 'binary' (two values: 0/1, yes/no), 'count'
    (small whole numbers from 0), 'text' (categories) or 'constant'."""
    values = col.dropna()
    distinct = values.nunique()
    if distinct <= 1:
        return "constant"
    if distinct == 2:
        return "binary"
    if _is_text(values):
        numeric = pd.to_numeric(values.astype(str).str.replace(",", ".", regex=False), errors="coerce")
        if numeric.notna().mean() < 0.9:
            return "text"
        values = numeric.dropna()
    if _whole(values) and values.min() >= 0 and (values.min() == 0 or values.max() <= 20):
        return "count"
    return "continuous"


def guess_response(df: pd.DataFrame, groups: list[str], skip: tuple = ()) -> str | None:
    """The response a user most likely means: the first numeric column that is not a row number, a
    grouping factor or a time-like covariate; with none, the first other column (the page then says
    what it holds and which model fits it)."""
    times = time_like(df, groups, skip)
    rest = [c for c in df.columns if c not in skip and c not in groups]
    numeric = [c for c in rest if c not in times and not _is_text(df[c])]
    return (numeric or [c for c in rest if c not in times] or rest or [None])[0]


def binary_text_columns(df: pd.DataFrame, skip: tuple = ()) -> list[str]:
    """Text columns with two values (yes/no, pass/fail): a response the linear model cannot take."""
    return [c for c in df.columns if c not in skip and _is_text(df[c]) and df[c].dropna().nunique() == 2]


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
