"""`LmeFit`: a linear mixed model with errors correlated within a group, as nlme's lme reports it.

An LmmFit in every attribute (fixef, se, vcov, varcorr, ranef, sigma, loglik, ...), so every view
of a mixed model works on it, plus the correlation: `phi`, its kind and time column, nlme's
denominator degrees of freedom, the normalized residuals. `summary()` is laid out like nlme's
print(summary(lme(...))).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from .results import LmmFit, abbreviate, message_lines
from .rprint import zapsmall

NAMES = {"ar1": ("AR(1)", "corAR1"), "car1": ("Continuous AR(1)", "corCAR1")}


@dataclass(frozen=True, eq=False)
class LmeFit(LmmFit):
    """nlme's lme with corAR1 or corCAR1. `se` and `vcov` are nlme's vcov(); for an ML fit nlme's
    summary table inflates the standard errors by sqrt(N / (N - p)) (adjustSigma), and so does
    `coef_table()` here."""

    phi: float = 0.0
    correlation: str = "ar1"  # "ar1" or "car1"
    time: str | None = None  # the time column; None: position within the group
    group: str = ""
    fixed_df: tuple = ()  # nlme's denominator df per fixed effect
    normalized: np.ndarray = field(default=None, repr=False)  # nlme's normalized residuals, data order
    random_formula: str = ""
    fixed_formula: str = ""

    @property
    def correlation_name(self) -> str:
        return NAMES[self.correlation][0]

    @property
    def nlme_correlation(self) -> str:
        """The corStruct as nlme's call writes it: corAR1(form = ~ obs | Mare)."""
        covariate = self.time if self.time else "1"
        return f"{NAMES[self.correlation][1]}(form = ~ {covariate} | {self.group})"

    def coef_table(self) -> pd.DataFrame:
        """nlme's summary table: Value, Std.Error, DF, t-value, p-value (ML: adjusted standard errors)."""
        n, p = self.nobs, len(self.beta)
        se = self.se.to_numpy() * (1.0 if self.reml else np.sqrt(n / (n - p)))
        t = self.beta / se
        df = np.asarray(self.fixed_df, dtype=float)
        return pd.DataFrame({"Value": self.beta, "Std.Error": se, "DF": df.astype(int), "t-value": t,
                             "p-value": 2 * stats.t.sf(np.abs(t), df)}, index=self.fixef.index)

    @cached_property
    def pearson(self) -> np.ndarray:
        """Residuals (within groups, with the random effects) divided by sigma: nlme's type 'pearson'."""
        return self.residuals / self.sigma

    def summary(self) -> str:
        return format_lme_summary(self)


def _num(values, digits: int = 7) -> list[str]:
    """R's print of a numeric vector: signif to `digits`, a common number of decimals."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values) & (values != 0)]
    if not len(finite):
        return ["0"] * len(values)
    decimals = max(0, min(15, max(digits - 1 - int(np.floor(np.log10(np.abs(v)))) for v in finite)))
    texts = [f"{np.round(v, decimals):.{decimals}f}" for v in values]
    while decimals > 0 and all(t.endswith("0") for t in texts):  # R drops the zeros no value needs
        decimals -= 1
        texts = [t[:-1].rstrip(".") if decimals == 0 else t[:-1] for t in texts]
    return texts


def _grid(rows: list[list[str]], left: set[int] = frozenset({0})) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [" ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
            for r in rows]


def format_lme_summary(fit: LmeFit) -> str:
    """Text laid out like nlme's print(summary(lme(...)))."""
    lines = ["Linear mixed-effects model fit by " + ("REML" if fit.reml else "maximum likelihood")]
    ic = [_num([v])[0] for v in (fit.aic, fit.bic, fit.loglik)]  # a data frame: each column formatted alone
    lines += _grid([["", "AIC", "BIC", "logLik"], [" ", *ic]], left=set())
    lines += ["", "Random effects:", f" Formula: {fit.random_formula}"]
    blocks = [(c, v) for g, c, v in fit.re_cov]
    names = [c for cols_, _ in blocks for c in cols_]
    sds = np.concatenate([np.sqrt(np.diag(v)) for _, v in blocks])
    if len(blocks) == 1 and len(names) > 1:  # one general (correlated) term
        lines.append(" Structure: General positive-definite, Log-Cholesky parametrization")
        cov = blocks[0][1]
        corr = cov / np.outer(sds, sds)
        sd_text = _num(np.r_[sds, fit.sigma])
        head = ["", "StdDev", "Corr"] + [""] * (len(names) - 2)
        rows = [head]
        for i, name in enumerate(names):  # the first row names the columns of the correlations below it
            cells = abbreviate(names, 6)[:-1] if i == 0 else \
                [f"{round(corr[i, j], 3) + 0.0:.3f}" for j in range(i)]
            rows.append([name, sd_text[i]] + cells + [""] * (len(names) - 1 - len(cells)))
        rows.append(["Residual", sd_text[-1]] + [""] * (len(names) - 1))
        lines += _grid(rows, left={0} | set(range(2, len(head))))
    else:
        if len(blocks) > 1:
            lines.append(" Structure: Diagonal")
        lines += _grid([["", *names, "Residual"], ["StdDev:", *(_num([v])[0] for v in np.r_[sds, fit.sigma])]],
                       left={0})
    covariate = fit.time if fit.time else "1"
    lines += ["", f"Correlation Structure: {fit.correlation_name}", f" Formula: ~{covariate} | {fit.group} ",
              " Parameter estimate(s):", "      Phi ", f"{fit.phi:.7g} "]
    lines.append(f"Fixed effects:  {fit.fixed_formula} ")
    tab = fit.coef_table()
    cols = [_num(zapsmall(tab[c].to_numpy(), 7)) for c in ("Value", "Std.Error")]
    rows = [["", "Value", "Std.Error", "DF", "t-value", "p-value"]]
    for i, name in enumerate(tab.index):
        p = tab["p-value"].iloc[i]
        rows.append([name, cols[0][i], cols[1][i], str(tab["DF"].iloc[i]), f"{tab['t-value'].iloc[i]:.6f}",
                     f"{p:.4f}"])
    lines += _grid(rows)
    p = len(tab)
    if p > 1:
        corr = fit.vcov.to_numpy() / np.outer(fit.se, fit.se)
        rows = [[""] + abbreviate(tab.index, 6)[:-1]]
        rows += [[tab.index[i]] + [f"{round(corr[i, j], 3) + 0.0:.3f}" for j in range(i)] + [""] * (p - 1 - i)
                 for i in range(1, p)]
        lines += [" Correlation: "] + _grid(rows)
    q = np.quantile(fit.pearson, [0, 0.25, 0.5, 0.75, 1])
    lines += ["", "Standardized Within-Group Residuals:"]
    lines += _grid([["Min", "Q1", "Med", "Q3", "Max"], _num(q, 7)], left=set())
    lines += ["", f"Number of Observations: {fit.nobs}", f"Number of Groups: {fit.ngroups[fit.group]} "]
    lines += message_lines(fit.messages)
    return "\n".join(lines)
