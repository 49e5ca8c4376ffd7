"""Formula + DataFrame -> `ModelData`: response, fixed-effects matrix X, random-effects terms.

This is lme4's lFormula step. It owns R's model-matrix rules (treatment contrasts, R-style column
names, the contrasts-or-indicators rule for interactions), the dropping of incomplete rows, the
rank check of X (lme4 drops aliased columns and says so), and every check that turns bad data into
a `DataError` a student can act on.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError
from .formula import Formula, Part, RandomTerm, parse_formula
from .limits import Budget, check_fixed_columns
from .response import glmm_response


@dataclass(frozen=True)
class ReTerm:
    """One random-effects term: its grouping factor and its model matrix (n x q)."""

    group: str  # the grouping factor's name, e.g. "Subject" or "cask:batch"
    columns: tuple[str, ...]  # lme4's names for the columns, e.g. ("(Intercept)", "Days")
    codes: np.ndarray  # integer level of each row, 0..nlevels-1
    levels: tuple[str, ...]
    matrix: np.ndarray  # n x q

    @property
    def q(self) -> int:
        return len(self.columns)

    @property
    def nlevels(self) -> int:
        return len(self.levels)


@dataclass(frozen=True)
class ModelData:
    formula: Formula
    y: np.ndarray
    X: np.ndarray
    fixed_names: tuple[str, ...]
    terms: tuple[ReTerm, ...]  # lme4's order: by decreasing number of levels
    rows: np.ndarray  # positions (in the original data) of the rows used
    frame: Columns  # the used columns of those rows
    source: pd.DataFrame  # the data as given
    messages: tuple[str, ...] = field(default=())
    family: str = "gaussian"
    trials: np.ndarray | None = None  # binomial: trials per row (y is then the proportion), as glmer's weights
    gram: tuple | None = None  # many columns: (X sparse, X'X, its Cholesky factor), made by the rank check


# -- factors ---------------------------------------------------------------------------------
def _is_factor(col: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col))


def factor_codes(col: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes and level labels, R's way: category order, else sorted; labels as text."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy().astype(np.intp)
        categories = col.cat.categories
        used = np.bincount(codes, minlength=len(categories)) > 0
        if not used.all():  # R drops unused levels of a grouping factor (droplevels in lme4)
            codes = (np.cumsum(used) - 1)[codes]
            categories = categories[used]
        return codes, tuple(_label(v) for v in categories)
    values = col.to_numpy()
    if pd.api.types.is_bool_dtype(col):
        values = values.astype(bool)
    if values.dtype == object and all(type(v) is str for v in values):
        # text (the usual factor): a set and a dict, a third of np.unique's sort of Python objects
        uniques = sorted(set(values))
        index = {v: i for i, v in enumerate(uniques)}
        return np.fromiter((index[v] for v in values), np.intp, len(values)), tuple(uniques)
    try:
        uniques, codes = np.unique(values, return_inverse=True)
    except TypeError:  # mixed types in an object column: order by their text
        uniques, codes = np.unique(np.array([str(v) for v in values]), return_inverse=True)
    return codes.astype(np.intp), tuple(_label(v) for v in uniques)


def _label(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


# -- model matrices --------------------------------------------------------------------------
def _term_columns(
    term: tuple[str, ...], present: set[frozenset], data: pd.DataFrame, cache: dict
) -> tuple[list[str], list[np.ndarray]]:
    """Columns for one term. A factor gets contrasts if the term without it is in the model
    (the empty term being the intercept), else one indicator per level: R's rule."""
    names, cols = [""], [np.ones(len(data))]
    for var in term:
        col = data[var]
        if _is_factor(col):
            if var not in cache:
                cache[var] = factor_codes(col)
            codes, levels = cache[var]
            rest = frozenset(term) - {var}
            start = 1 if rest in present else 0
            new_names, new_cols = [], []
            for j in range(start, len(levels)):
                ind = (codes == j).astype(float)
                for nm, c in zip(names, cols):  # the earlier variable varies fastest, as in R
                    new_names.append(f"{nm}:{var}{levels[j]}" if nm else f"{var}{levels[j]}")
                    new_cols.append(c * ind)
            names, cols = new_names, new_cols
        else:
            x = col.to_numpy(dtype=float)
            names = [f"{nm}:{var}" if nm else var for nm in names]
            cols = [c * x for c in cols]
    return names, cols


def model_matrix(part: Part, data: Columns | pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    present = {frozenset()} if part.intercept else set()
    present |= {frozenset(t) for t in part.terms}
    names, cols, cache = [], [], {}
    if part.intercept:
        names.append("(Intercept)")
        cols.append(np.ones(len(data)))
    for term in part.terms:
        n, c = _term_columns(term, present, data, cache)
        names += n
        cols += c
    X = np.column_stack(cols) if cols else np.empty((len(data), 0))
    return X, names


def _independent_columns(X: np.ndarray, tol: float = 1e-7, gram: list | None = None) -> list[int]:
    """Keep columns in order, dropping each one that the kept ones already span (lme4 keeps
    the first columns of a pivoted QR with tolerance 1e-7 and drops the aliased ones). With many
    columns, `gram` receives X'X and its Cholesky factor when they decide (absorbed.py reuses them)."""
    found = _clearly_independent(X, tol) if X.shape[1] else None
    if found is not None:
        if gram is not None and X.shape[1] >= SPARSE_COLUMNS:
            gram.extend(found)
        return list(range(X.shape[1]))
    keep: list[int] = []
    Q = np.empty((X.shape[0], 0))
    for j in range(X.shape[1]):
        v = X[:, j].copy()
        for _ in range(2):  # Gram-Schmidt twice: stable enough for near-collinear columns
            v -= Q @ (Q.T @ v)
        norm0, norm = np.linalg.norm(X[:, j]), np.linalg.norm(v)
        if norm0 > 0 and norm > tol * norm0:
            keep.append(j)
            Q = np.column_stack([Q, v / norm])
    return keep


SPARSE_COLUMNS = 200  # from this many columns (a factor of many levels) X'X is made from X as a sparse matrix


def _clearly_independent(X: np.ndarray, tol: float) -> tuple | None:
    """The usual case, decided in microseconds instead of a Gram-Schmidt loop per column (which costs
    n p^2 in slow steps with many columns): the Cholesky factor of X'X holds each column's distance
    from the span of the columns before it. If every one is far above the tolerance, nothing is
    dropped; otherwise (undecided: None) Gram-Schmidt decides. Returns (X, sparse with many columns;
    X'X; its Cholesky factor)."""
    if X.shape[1] >= SPARSE_COLUMNS:
        from scipy import sparse

        X = sparse.csr_matrix(X)
        gram = (X.T @ X).toarray()
    else:
        gram = X.T @ X
    norms = np.sqrt(np.diag(gram))
    if not (norms > 0).all():
        return None
    try:
        chol = np.linalg.cholesky(gram)
    except np.linalg.LinAlgError:
        return None
    return (X, gram, chol) if np.min(np.diag(chol) / norms) > 1e3 * tol else None


# -- checks ----------------------------------------------------------------------------------
def _check_columns(formula: Formula, data: pd.DataFrame) -> None:
    missing = [v for v in formula.variables if v not in data.columns]
    if missing:
        close = ", ".join(map(str, list(data.columns)[:12]))
        raise FormulaError(
            f"The formula names {', '.join(repr(m) for m in missing)}, which "
            f"{'is not a column' if len(missing) == 1 else 'are not columns'} of the data. "
            f"The columns are: {close}{' ...' if data.shape[1] > 12 else ''}. Names are case-sensitive; "
            "put a name with spaces in backticks."
        )
    if not formula.random:
        raise FormulaError(
            "The formula has no random-effects term. A mixed model needs at least one, "
            "such as (1 | group): add it, e.g. y ~ x + (1 | group)."
        )


def _response(data: pd.DataFrame, name: str, family: str = "gaussian") -> np.ndarray:
    col = data[name]
    if family == "binomial" and (pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col)):
        return col  # a two-level factor or TRUE/FALSE: checked in glmm_response
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        raise DataError(
            f"The response '{name}' is not numeric (it holds values such as "
            f"{', '.join(map(repr, col.dropna().astype(str).unique()[:3]))}). A linear mixed model needs "
            "a numeric response: choose a numeric column left of '~'."
        )
    return col.to_numpy(dtype=float)


class Columns(dict):
    """The used columns of the used rows, by name; len() is the number of rows.

    A dict of Series rather than a DataFrame: building a DataFrame costs more than a whole fit.
    """

    def __init__(self, columns: dict, nrows: int):
        super().__init__(columns)
        self.nrows = nrows

    def __len__(self) -> int:
        return self.nrows


def numeric_values(col: pd.Series) -> np.ndarray:
    """A numeric column as floats, missing values as NaN. A plain numpy column converts directly (a tenth
    of the time); a nullable one (Int64, Float64: pd.NA) needs pandas' na_value."""
    if isinstance(col.dtype, np.dtype):
        return col.to_numpy(dtype=float)
    return col.to_numpy(dtype=float, na_value=np.nan)


def _drop_incomplete(formula: Formula, data: pd.DataFrame) -> tuple[Columns, np.ndarray, list[str]]:
    used = {v: data[v] for v in formula.variables}
    complete = np.ones(len(data), dtype=bool)
    for name, col in used.items():
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            values = numeric_values(col)
            if np.isinf(values).any():
                raise DataError(
                    f"Column '{name}' holds infinite values (inf). A model cannot use them: fix or remove "
                    "those rows."
                )
            complete &= ~np.isnan(values)
        else:
            complete &= ~np.asarray(col.array.isna(), dtype=bool)  # a categorical: from its codes, not its labels
    if complete.all():
        return Columns(used, len(data)), np.arange(len(data)), []
    k = int((~complete).sum())
    note = (
        f"{k} of {len(data)} rows have a missing value in a column the model uses; they were left out "
        f"and the model is fitted to the other {len(data) - k}."
    )
    rows = np.flatnonzero(complete)
    return Columns({v: c.iloc[rows] for v, c in used.items()}, len(rows)), rows, [note]


def _varies(col: pd.Series) -> bool:
    """Does the column take two values or more? (Its rows are complete: _drop_incomplete. pandas'
    nunique hashes every value; this compares with the first, a tenth of the time on small tables.)"""
    values = col.cat.codes.to_numpy() if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()
    return len(values) > 1 and bool(np.any(values[1:] != values[0]))


def _check_fixed(part: Part, data: Columns) -> None:
    for term in part.terms:
        for var in dict.fromkeys(term):
            col = data[var]
            if not _varies(col):
                kind = "factor" if _is_factor(col) else "predictor"
                if _is_factor(col) or part.intercept:
                    raise DataError(
                        f"The {kind} '{var}' has the same value ({col.iloc[0]!r}) in every row used, so its "
                        "effect cannot be told apart from the intercept. Remove it from the formula."
                    )


def z_columns(md: ModelData) -> tuple[np.ndarray, list[str]]:
    """Z as a dense matrix (level-major within each term) with lme4-style column labels."""
    blocks, names = [], []
    for t in md.terms:
        Zt = np.zeros((len(md.y), t.nlevels * t.q))
        for j in range(t.q):
            Zt[np.arange(len(md.y)), t.codes * t.q + j] = t.matrix[:, j]
        blocks.append(Zt)
        names += [f"{lv}" if t.q == 1 else f"{lv}:{c}" for lv in t.levels for c in t.columns]
    return np.hstack(blocks), names


# -- public ----------------------------------------------------------------------------------
def build_model_data(formula: str | Formula, data: pd.DataFrame, family: str = "gaussian",
                     budget: Budget | None = None) -> ModelData:
    """family 'binomial' or 'poisson' (a glmer model): the response is checked for that family, a
    cbind(k, n - k) response becomes proportions with trials, and a grouping factor may have one
    level per row (an observation-level random effect, as glmer allows). A fixed part past the
    budget (limits.py; default from the environment) is refused before X is made."""
    f = parse_formula(formula) if isinstance(formula, str) else formula
    if not isinstance(data, pd.DataFrame):
        raise DataError("The data must be a table (a pandas DataFrame).")
    if f.binomial and family != "binomial":
        raise FormulaError("cbind(successes, failures) is a binomial response in counts: fit it with "
                           "family='binomial' (a generalized mixed model, as glmer).")
    _check_columns(f, data)
    _response(data, f.response, family)  # a non-numeric response is refused before anything else
    frame, rows, notes = _drop_incomplete(f, data)
    n = len(frame)
    if n == 0:
        raise DataError("No row has a value in every column the model uses, so there is nothing to fit.")
    trials = None
    if family == "gaussian":
        y = frame[f.response].to_numpy(dtype=float)
    else:
        y, trials, more = glmm_response(f, frame, family)
        notes += more

    _check_fixed(f.fixed, frame)
    check_fixed_columns(f.fixed, frame, _is_factor, budget or Budget.from_env())
    X, names = model_matrix(f.fixed, frame)
    gram: list = []
    keep = _independent_columns(X, gram=gram)
    if len(keep) < X.shape[1]:
        dropped = [names[j] for j in range(len(names)) if j not in keep]
        notes.append(
            f"fixed-effect model matrix is rank deficient so dropping {len(dropped)} column"
            f"{'s' if len(dropped) > 1 else ''} / coefficient{'s' if len(dropped) > 1 else ''}: "
            f"{', '.join(dropped)}. In words: {'these columns are' if len(dropped) > 1 else 'this column is'} "
            "an exact combination of the others (collinear), so the data cannot estimate a separate effect."
        )
        X, names = X[:, keep], [names[j] for j in keep]
    p = X.shape[1]
    if n <= p:
        raise DataError(
            f"Only {n} rows for {p} fixed effects: a model needs more rows than fixed effects. "
            "Use more data or a simpler formula."
        )

    terms = [_re_term(r, frame) for r in f.random]
    nlev = [t.nlevels for t in terms]
    if any(b > a for a, b in zip(nlev, nlev[1:])):  # lme4's mkReTrms: rev(order(nlevels))
        order = sorted(range(len(terms)), key=nlev.__getitem__)[::-1]
        terms = [terms[i] for i in order]
    for t in terms:
        if t.nlevels < 2:
            raise DataError(
                f"The grouping factor '{t.group}' has only one level. A random effect describes how groups "
                "differ, so it needs at least two groups (five or more to estimate the variance well)."
            )
        if t.nlevels > n or (t.nlevels == n and family == "gaussian"):
            raise DataError(
                f"Every group of '{t.group}' has a single observation ({t.nlevels} groups for {n} rows), so "
                "the group effect cannot be told apart from the residual. Each group needs repeated measurements."
            )
        if t.q > 1 and (t.nlevels * t.q > n or (t.nlevels * t.q == n and family == "gaussian")):
            raise DataError(
                f"The term ({' + '.join(t.columns)} | {t.group}) has {t.nlevels * t.q} random effects for "
                f"{n} observations: more random effects than data. Use a simpler random term, e.g. (1 | {t.group})."
            )
    return ModelData(f, y, X, tuple(names), tuple(terms), rows, frame, data, tuple(notes), family, trials,
                     tuple(gram) or None)


def reproduces_every_row(md: ModelData) -> bool:
    """Can the fixed and random effects together reproduce every observation exactly? Then the
    likelihood grows without bound as the residual variance shrinks (lme4's check looks at each
    random term alone, and each can have fewer effects than rows while together they have as many).
    Only counted when the columns could reach n, so the usual model costs nothing."""
    n, p = md.X.shape
    if p + sum(t.nlevels * t.q for t in md.terms) < n:
        return False
    Z, _ = z_columns(md)
    return bool(np.linalg.matrix_rank(np.hstack([md.X, Z])) >= n)


def _re_term(r: RandomTerm, frame: Columns) -> ReTerm:
    if len(r.group) == 1:
        codes, levels = factor_codes(frame[r.group[0]])
    else:  # interaction factor: the combinations that occur, first factor slowest, as R's a:b
        parts = [factor_codes(frame[g]) for g in r.group]
        uniq, codes = np.unique(np.column_stack([c for c, _ in parts]), axis=0, return_inverse=True)
        codes = codes.ravel()
        levels = tuple(":".join(parts[k][1][u[k]] for k in range(len(parts))) for u in uniq)
    Z, cols = model_matrix(r.lhs, frame)
    return ReTerm(r.group_name, tuple(cols), codes.astype(np.intp), levels, Z)
