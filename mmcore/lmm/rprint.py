"""R's print formats, for printouts that read as lme4 prints them (summary(lmer), summary(glmer)):
format() of a numeric vector, a named vector and a character matrix as print() lays them out,
the heading's wrap, lme4's random-effects table (formatVC), printCoefmat and abbreviate(). Our own, small code: these are the
rules of R's format.c / print.c and lme4's R/lmer.R that the summaries use, checked against R's
output (tests/reference/summaries.json and abbreviate.json, scripts/references/)."""
from __future__ import annotations

import re
import textwrap

import numpy as np


def r_format(values, digits: int) -> list[str]:
    """R's format() of a numeric vector in fixed notation: the fewest decimals that show every value
    to `digits` significant digits (trailing zeros not counted), the same decimals for all, padded
    to one width (right-justified)."""
    decimals = 0
    for x in values:
        if not np.isfinite(x) or x == 0:
            continue
        mantissa, exponent = f"{abs(x):.{digits - 1}e}".split("e")
        sig = len(mantissa.replace(".", "").rstrip("0")) or 1
        decimals = max(decimals, sig - 1 - int(exponent))
    text = [f"{x + 0.0:.{decimals}f}" if np.isfinite(x) else "NaN" for x in values]
    width = max(map(len, text), default=0)
    return [t.rjust(width) for t in text]


def signif_text(x: float, digits: int = 3) -> str:
    """One number for reading in a sentence, a hover or a tick, as R prints signif(x, digits): rounded
    to `digits` significant digits, trailing zeros dropped, in fixed notation (2120, 0.0452, 12.3)
    unless scientific is shorter (R's rule with scipen = 0: 1.23e-05, 1e+06), so ordinary magnitudes
    never read as 2.12e+03."""
    if not np.isfinite(x):
        return "NaN" if np.isnan(x) else ("Inf" if x > 0 else "-Inf")
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    sci = f"{mantissa}e{exponent}"
    decimals = max(0, digits - 1 - int(exponent))
    fixed = f"{float(sci):.{decimals}f}"
    if "." in fixed:
        fixed = fixed.rstrip("0").rstrip(".")
    return fixed if len(fixed) <= len(sci) else sci


def zapsmall(x, digits: int) -> np.ndarray:
    """R 4.2's zapsmall: round(x, digits - log10(max |x|)), R's round taking a fractional number of
    decimals to the nearest whole one (4.53 -> 5): lme4's residual quartiles -2.07923 ... 2.97959 show
    five decimals where a ceiling (R 4.4's zapsmall) would give four."""
    x = np.asarray(x, dtype=float)
    mx = np.max(np.abs(x[np.isfinite(x)])) if np.isfinite(x).any() else 0.0
    return np.round(x, max(0, int(np.floor(digits - np.log10(mx) + 0.5)))) + 0.0 if mx > 0 else x


def cat_number(x: float) -> str:
    """A number as R's cat() writes it: up to 7 significant digits, no trailing zeros (247, 1743.6)."""
    return f"{x:.7g}"


def named_vector(names, texts) -> list[str]:
    """print() of a named vector: names over values, every column as wide as the widest of all."""
    width = max(len(t) for t in [*names, *texts])
    return [" ".join(t.rjust(width) for t in names), " ".join(t.rjust(width) for t in texts)]


def character_matrix(header, rows) -> list[str]:
    """print(quote = FALSE) of a character matrix, its row names first in each row (header[0] is ""):
    every column left-aligned to its widest entry; empty row names give every line a leading space."""
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    return [" ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]


def fixed_matrix(m: np.ndarray, decimals: int) -> np.ndarray:
    """format(round(m, decimals), nsmall = decimals) of a matrix: every entry with `decimals`
    decimals, padded to one width (a correlation matrix as lme4 prints it)."""
    cells = [f"{v + 0.0:.{decimals}f}" if np.isfinite(v) else "NaN" for v in np.round(m, decimals).ravel()]
    width = max(map(len, cells))
    return np.array([c.rjust(width) for c in cells]).reshape(m.shape)


def method_title(title: str, cls: str, width: int = 80) -> list[str]:
    """lme4's .prt.methTit: `title ['cls']`, or, when that is wider than the console, the title wrapped
    (strwrap to width - 2, later lines indented 2) and ` [cls]` after it, as cat(fill = TRUE) breaks."""
    if len(title) + 5 + len(cls) <= width:
        return [f"{title} ['{cls}']"]
    items = textwrap.wrap(title, width - 3, subsequent_indent="  ", break_on_hyphens=False,
                          break_long_words=False) + [" [", cls, "]"]
    lines, line = [], ""
    for item in items:
        if line and len(line) + len(item) > width:
            lines.append(line)
            line = ""
        line += item
    return lines + [line]


def random_effects(re_cov, sigma: float | None, digits: int = 4) -> list[str]:
    """lme4's "Random effects:" table (formatVC, printed as a character matrix): variances and
    standard deviations each formatted as one vector to `digits`, correlations to 2 decimals."""
    groups, terms, blocks = [], [], []
    for grp, cols, cov in re_cov:
        groups += [grp] + [""] * (len(cols) - 1)
        terms += list(cols)
        blocks.append(np.asarray(cov, dtype=float))
    sds = np.concatenate([np.sqrt(np.diag(c)) for c in blocks])
    if sigma is not None:
        groups.append("Residual")
        terms.append("")
        sds = np.r_[sds, sigma]
    variance, stddev = r_format(sds ** 2, digits), r_format(sds, digits)
    widest = max(len(c) for c in blocks)
    corr = []
    for c in blocks:
        q = len(c)
        s = np.sqrt(np.diag(c))
        with np.errstate(invalid="ignore", divide="ignore"):
            cells = fixed_matrix(c / np.outer(s, s), max(2, digits - 2))
        for i in range(q):
            corr.append([cells[i, j] if j < i else "" for j in range(widest - 1)])
    corr += [[""] * (widest - 1)] * (len(groups) - len(corr))
    header = ["Groups", "Name", "Variance", "Std.Dev."] + (["Corr"] + [""] * (widest - 2) if widest > 1 else [])
    rows = [["", g, t, v, s, *c] for g, t, v, s, c in zip(groups, terms, variance, stddev, corr)]
    return character_matrix(["", *header], rows)


def coefficients(table, cs_columns: list[str], test_column: str, p_column: str | None = None,
                 digits: int = 4) -> list[str]:
    """A coefficient table as R's printCoefmat prints it: estimates and standard errors (and df)
    rounded and formatted together, the test statistic to 3 decimals, p-values as format.pval,
    significance stars and their legend when any p < 0.1; row names left, columns right-aligned."""
    cs = table[cs_columns].to_numpy(dtype=float)
    acs = np.abs(cs[np.isfinite(cs) & (cs != 0)])
    digmin = 1 + int(np.floor(np.log10(acs.min()))) if acs.size else 1
    cs_text = np.array(r_format(np.round(cs, max(1, digits - digmin)).ravel(), digits)).reshape(cs.shape)
    t_text = r_format(np.round(table[test_column].to_numpy(dtype=float), max(1, min(5, digits - 1))), digits)
    header = ["", *cs_columns, test_column]
    rows = [[str(name), *cs_text[i], t_text[i]] for i, name in enumerate(table.index)]
    stars = False
    if p_column is not None:
        p = table[p_column].to_numpy(dtype=float)
        stars = bool(np.any(p < 0.1))
        marks = ["***" if v < 0.001 else "**" if v < 0.01 else "*" if v < 0.05 else "." if v < 0.1 else "" for v in p]
        header += [p_column] + ([""] if stars else [])
        for row, text, mark in zip(rows, format_p(p, max(1, min(5, digits - 1))), marks):
            row += [text] + ([mark.ljust(3)] if stars else [])
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    lines = [" ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in [header, *rows]]  # no leading space: row names are printed, not empty
    return lines + (["---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"] if stars else [])


def format_p(values, digits: int = 3, tiny: str = "< 2e-16") -> list[str]:
    """R's format.pval as printCoefmat uses it: values of 1e-4 and more (1e-3 and more when digits is
    1) formatted together in fixed notation, smaller ones in scientific, and `tiny` below machine
    precision (summary prints "< 2e-16", anova "< 2.2e-16")."""
    values = np.asarray(values, dtype=float)
    out = ["NaN" if v != v else "" for v in values]
    ok = [i for i, p in enumerate(values) if p == p and p >= 2.2e-16]
    expo = {i: np.floor(np.log10(values[i])) for i in ok}
    fixed = [i for i in ok if expo[i] >= -3 or (expo[i] == -4 and digits > 1)]
    sci = [i for i in ok if i not in fixed]
    for i, text in zip(fixed, r_format(values[fixed], digits)):
        out[i] = text.strip()
    if sci:
        sig = max(len(f"{values[i]:.{digits - 1}e}".split("e")[0].replace(".", "").rstrip("0")) for i in sci)
        for i in sci:
            out[i] = f"{values[i]:.{max(sig - 1, 0)}e}"
    for i, p in enumerate(values):
        if p == p and p < 2.2e-16:
            out[i] = tiny
    return out


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
