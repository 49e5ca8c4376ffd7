"""`LmmFit`: an immutable, picklable fitted model, with lme4's names and `summary()` layout."""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ..model.design import ModelData, build_model_data


class FitViews:
    """The pandas views every fit (LmmFit, GlmmFit, LmeFit) gives of its arrays, built on first access:
    beta, vcov_matrix, fixed_names, varcorr_rows and ranef_blocks as LmmFit holds them."""

    @cached_property
    def fixef(self) -> pd.Series:
        return pd.Series(self.beta, index=_index(self.fixed_names), dtype=float)

    @cached_property
    def se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.vcov_matrix)), index=_index(self.fixed_names))

    @cached_property
    def vcov(self) -> pd.DataFrame:
        names = _index(self.fixed_names)
        return pd.DataFrame(self.vcov_matrix, index=names, columns=names)

    @cached_property
    def varcorr(self) -> pd.DataFrame:
        table = pd.DataFrame(list(self.varcorr_rows), columns=["grp", "var1", "var2", "vcov", "sdcor"])
        return table.astype({"vcov": float, "sdcor": float})

    @cached_property
    def ranef(self) -> dict:
        return {g: _block_frame(g, lv, cols, vals) for g, (lv, cols, vals, _) in self.ranef_blocks.items()}

    @cached_property
    def ranef_sd(self) -> dict:
        return {g: _block_frame(g, lv, cols, sds) for g, (lv, cols, _, sds) in self.ranef_blocks.items()}


@dataclass(frozen=True, eq=False)
class LmmFit(FitViews):
    """A fitted linear mixed model. Immutable and picklable (st.cache_data can hold it).

    The numbers are held as numpy arrays; the pandas views of the contract (`fixef`, `se`,
    `vcov`, `varcorr`, `ranef`, `ranef_sd`) are built on first access and kept, because building
    six pandas objects costs more than the fit itself.
    """

    formula: str
    reml: bool
    nobs: int
    ngroups: dict
    sigma: float
    theta: np.ndarray
    loglik: float
    aic: float
    bic: float
    deviance: float
    reml_criterion: float | None
    fitted: np.ndarray
    residuals: np.ndarray
    is_singular: bool
    converged: bool
    messages: list
    fixed_names: tuple
    beta: np.ndarray = field(repr=False)
    vcov_matrix: np.ndarray = field(repr=False)
    varcorr_rows: tuple = field(repr=False)  # (grp, var1, var2, vcov, sdcor) as lme4's as.data.frame
    ranef_blocks: dict = field(repr=False)  # group -> (levels, columns, values, conditional sds)
    source: pd.DataFrame = field(repr=False)  # the data as given to fit()
    rows: np.ndarray = field(repr=False)  # positions in `source` of the rows used
    variables: tuple = ()  # the columns the formula uses, response first
    response: str = ""
    re_cov: tuple = ()  # per random term: (group, columns, covariance matrix of the effects)
    npar: int = 0
    evaluations: int = 0

    @cached_property
    def design(self) -> ModelData:
        """The model's y, X and random-effect terms, rebuilt from the data on first use and kept:
        denominator df, profiles and bootstraps need them on every call."""
        return build_model_data(self.formula, self.source)

    @property
    def data(self) -> pd.DataFrame:
        """The rows and columns the model used (complete cases), in data order."""
        return self.source.iloc[self.rows][list(self.variables)].reset_index(drop=True)

    @property
    def y(self) -> np.ndarray:
        return self.fitted + self.residuals

    def summary(self, coefficients: pd.DataFrame | None = None) -> str:
        """lme4's summary; given lmerTest's coefficient table (mmcore.coef_table, or use
        mmcore.summary(fit, ddf=...)), lmerTest's layout with df and p-value columns."""
        return format_summary(self, coefficients)


def _index(names) -> pd.Index:
    return pd.Index(list(names), dtype=object)


def _block_frame(group: str, levels, columns, values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(values, index=pd.Index(list(levels), name=group, dtype=object), columns=_index(columns))


def random_effects_rows(re_cov) -> tuple[list[list[str]], bool]:
    """lme4's "Random effects:" table of a summary, without the residual's row: Groups, Name,
    Variance, Std.Dev. (and Corr when a term has several columns); and whether it has Corr."""
    has_corr = any(len(cols) > 1 for _, cols, _ in re_cov)
    rows = [["Groups", "Name", "Variance", "Std.Dev."] + (["Corr"] if has_corr else [])]
    for grp, cols, cov in re_cov:
        sd = np.sqrt(np.diag(cov))
        for i, c in enumerate(cols):
            corr = [f"{cov[i, j] / (sd[i] * sd[j]):.2f}" if sd[i] * sd[j] > 0 else "NaN" for j in range(i)]
            rows.append([grp if i == 0 else "", c, _sig(cov[i, i]), _sig(sd[i])] + ([" ".join(corr)] if has_corr else []))
    return rows, has_corr


def _fmt_table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        out.append(" " + " ".join(cells).rstrip())
    return out


def _sig(x: float, digits: int = 4) -> str:
    if x != x:  # as R prints a missing number (a glmer SE where the fixed effects are separated)
        return "NaN"
    return f"{x:#.{digits}g}".rstrip(".") if abs(x) < 1e6 else f"{x:.4g}"


def format_summary(fit: LmmFit, coefficients: pd.DataFrame | None = None) -> str:
    """Text laid out like lme4's print(summary(lmer(...))), or lmerTest's when given its table."""
    method = "" if coefficients is None else f". t-tests use {coefficients.attrs.get('method', 'Satterthwaite')}'s method"
    lines = [
        "Linear mixed model fit by " + ("REML" if fit.reml else "maximum likelihood ") + method
        + (" ['lmerModLmerTest']" if method else " ['lmerMod']"),
        f"Formula: {fit.formula}",
        "",
    ]
    if fit.reml:
        lines.append(f"REML criterion at convergence: {fit.reml_criterion:.1f}")
    else:
        stats = [("AIC", f"{fit.aic:.1f}"), ("BIC", f"{fit.bic:.1f}"), ("logLik", f"{fit.loglik:.1f}"),
                 ("deviance", f"{fit.deviance:.1f}"), ("df.resid", str(fit.nobs - fit.npar))]
        w = [max(len(a), len(b)) + 1 for a, b in stats]
        lines.append(" ".join(a.rjust(x) for (a, _), x in zip(stats, w)))
        lines.append(" ".join(b.rjust(x) for (_, b), x in zip(stats, w)))
    scaled = fit.residuals / fit.sigma
    q = np.quantile(scaled, [0, 0.25, 0.5, 0.75, 1])
    lines += ["", "Scaled residuals: "]
    lines += _fmt_table([["Min", "1Q", "Median", "3Q", "Max"], [f"{v:.4f}" for v in q]], set(range(5)))
    lines += ["", "Random effects:"]
    rows, has_corr = random_effects_rows(fit.re_cov)
    rows.append(["Residual", "", _sig(fit.sigma ** 2), _sig(fit.sigma)] + ([""] if has_corr else []))
    lines += _fmt_table(rows, {2, 3})
    groups = "; ".join(f"{g}, {n}" for g, n in fit.ngroups.items())
    lines.append(f"Number of obs: {fit.nobs}, groups:  {groups}")
    lines += ["", "Fixed effects:"]
    if coefficients is not None:
        lines += format_coefficients(coefficients)
    else:
        t = fit.fixef / fit.se
        rows = [["", "Estimate", "Std. Error", "t value"]]
        rows += [[k, _sig(fit.fixef[k], 5), _sig(fit.se[k], 4), f"{t[k]:.3f}"] for k in fit.fixef.index]
        lines += _fmt_table(rows, {1, 2, 3})
    lines += fixef_correlation_lines(fit)
    lines += message_lines(fit.messages)
    return "\n".join(lines)


def message_lines(messages) -> list[str]:
    """A printout's closing notes (a singular fit, dropped rows) as lines of at most 80 characters, the
    width R prints at: a printout scrolls sideways, a note on one long line is cut off on screen."""
    lines = []
    for message in messages:
        lines += [""] + textwrap.wrap(message, 80, break_long_words=False, break_on_hyphens=False)
    return lines


def fixef_correlation_lines(fit) -> list[str]:
    """lme4's "Correlation of Fixed Effects:" block for 2 to 12 fixed effects, for lmer and glmer fits
    alike, laid out as print.merMod does it: format(round(corr, 3), nsmall = 3), the lower triangle of
    a character matrix printed left-aligned, columns labelled abbreviate(names, 6) and rows
    abbreviate(names, 11) (tests/reference/abbreviate.json; trailing blanks left off)."""
    p = len(fit.fixef)
    if not 1 < p <= 12:
        return []
    corr = fit.vcov.to_numpy() / np.outer(fit.se, fit.se)
    values = [f"{round(v, 3) + 0.0:.3f}" if v == v else "NaN" for v in corr.ravel()]
    width = max(map(len, values))
    cell = np.array([v.rjust(width) for v in values]).reshape(p, p)
    columns, names = abbreviate(fit.fixef.index, 6), abbreviate(fit.fixef.index, 11)
    table = [[""] + columns[:-1]] + [[names[i]] + [cell[i, j] if j < i else "" for j in range(p - 1)]
                                     for i in range(1, p)]
    widths = [max(len(row[k]) for row in table) for k in range(p)]
    return ["", "Correlation of Fixed Effects:"] + [
        " ".join(text.ljust(w) for text, w in zip(row, widths)).rstrip() for row in table]


def r_format(values, digits: int) -> list[str]:
    """R's format() of a numeric vector in fixed notation: enough decimals that every value shows
    `digits` significant digits (trailing zeros not counted), the same decimals for all."""
    decimals = 0
    for x in values:
        if not np.isfinite(x) or x == 0:
            continue
        mag = int(np.floor(np.log10(abs(x))))
        sig = f"{abs(x):.{digits - 1}e}".split("e")[0].replace(".", "").rstrip("0")
        decimals = max(decimals, len(sig) - 1 - mag)
    return [f"{x:.{decimals}f}" if np.isfinite(x) else "NaN" for x in values]


def format_p(values, digits: int = 3, tiny: str = "< 2e-16") -> list[str]:
    """R's format.pval as printCoefmat uses it: fixed notation down to 1e-4, then scientific, and
    `tiny` below machine precision (summary prints "< 2e-16", anova "< 2.2e-16")."""
    values = np.asarray(values, dtype=float)
    out = [""] * len(values)
    fixed = [i for i, p in enumerate(values) if p >= 2.2e-16 and np.floor(np.log10(p)) >= -3]
    sci = [i for i, p in enumerate(values) if p >= 2.2e-16 and i not in fixed]
    for i, text in zip(fixed, r_format(values[fixed], digits)):
        out[i] = text
    if sci:
        sig = max(len(f"{values[i]:.{digits - 1}e}".split("e")[0].replace(".", "").rstrip("0")) for i in sci)
        for i in sci:
            out[i] = f"{values[i]:.{max(sig - 1, 0)}e}"
    for i, p in enumerate(values):
        if p < 2.2e-16:
            out[i] = tiny
    return out


def format_coefficients(table: pd.DataFrame, digits: int = 4) -> list[str]:
    """A coefficient table with df and p-values as R's printCoefmat prints it (lmerTest's summary):
    estimate, SE and df rounded together, t to 3 decimals, p as format.pval, significance stars."""
    cs = table[["Estimate", "Std. Error", "df"]].to_numpy(dtype=float)
    acs = np.abs(cs[np.isfinite(cs) & (cs != 0)])
    digmin = 1 + int(np.floor(np.log10(acs.min()))) if acs.size else 1
    cs_text = np.array(r_format(np.round(cs, max(1, digits - digmin)).ravel(), digits)).reshape(cs.shape)
    t_text = r_format(np.round(table["t value"].to_numpy(dtype=float), 3), digits)
    p = table["Pr(>|t|)"].to_numpy(dtype=float)
    stars = ["***" if v < 0.001 else "**" if v < 0.01 else "*" if v < 0.05 else "." if v < 0.1 else "" for v in p]
    width = max(len(c) for c in cs_text.ravel())  # R formats the three columns as one matrix
    cs_text = np.char.rjust(cs_text.astype(str), width)
    rows = [["", "Estimate", "Std. Error", "df", "t value", "Pr(>|t|)", ""]]
    rows += [[str(name), *cs_text[i], t_text[i], pv, stars[i]] for i, (name, pv) in enumerate(zip(table.index, format_p(p)))]
    widths = [max(len(r[i]) for r in rows) for i in range(7)]
    lines = [" ".join(c.ljust(w) if i in (0, 6) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]  # no leading space, as printCoefmat
    return lines + ["---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"]


def abbreviate(names, minlength: int) -> list[str]:
    """R's abbreviate(names, minlength) (method "left.kept", use.classes = TRUE), as lme4 and nlme label
    a correlation table with it: from the end of each word, first lower-case vowels, then lower-case
    letters, then anything but a word's first letter, until minlength characters are left; names that
    come out alike are abbreviated again with one character more, until all differ. R's own algorithm
    (src/main/character.c, stripchars; base R's abbreviate): cutting to six characters printed
    "Vision" for both visiondim and visionpen."""
    names = [re.sub(r" +$", "", re.sub(r"^ +", "", str(n))) for n in names]
    unique = list(dict.fromkeys(names))
    out, redo = list(unique), [True] * len(unique)
    while True:
        for i in (i for i, again in enumerate(redo) if again):
            out[i] = unique[i] if len(unique[i]) <= minlength else _strip_chars(unique[i], minlength)
        seen, dup = set(), []
        for x in out:
            dup.append(x in seen)
            seen.add(x)
        if not any(dup):
            break
        minlength += 1
        clash = {x for x, d in zip(out, dup) if d}
        redo = [d or x in clash for x, d in zip(out, dup)]
    return [out[unique.index(n)] for n in names]


def _strip_chars(text: str, minlen: int) -> str:
    """R's stripchars: drop characters from the right, never a word's first one (module docstring)."""
    s, nspace = list(text), 0

    def done() -> bool:
        return len(s) - nspace <= minlen

    def first(i: int) -> bool:  # the first character of a word
        return s[i - 1].isspace()

    def last(i: int) -> bool:  # the last character of a word
        return not s[i - 1].isspace() and (i + 1 >= len(s) or s[i + 1].isspace())

    trailing = True
    for i in range(len(s) - 1, 0, -1):  # spaces at the end go, those inside count (word boundaries)
        if s[i].isspace():
            if trailing:
                del s[i:]
            else:
                nspace += 1
        else:
            trailing = False
        if done():
            return _without_inner_spaces(s, minlen)
    vowel, lower = (lambda c: c in "aeiou"), (lambda c: "a" <= c <= "z")
    for drop in (lambda i: vowel(s[i]) and last(i), lambda i: vowel(s[i]) and not first(i),
                 lambda i: lower(s[i]) and last(i), lambda i: lower(s[i]) and not first(i),
                 lambda i: not first(i) and not s[i].isspace()):
        for i in range(len(s) - 1, 0, -1):
            if i < len(s) and drop(i):
                del s[i]
            if done():
                return _without_inner_spaces(s, minlen)
    return _without_inner_spaces(s, minlen)


def _without_inner_spaces(s: list, minlen: int) -> str:
    if len(s) > minlen:
        s = [s[0]] + [c for c in s[1:] if not c.isspace()]
    return "".join(s)
