"""`LmmFit`: an immutable, picklable fitted model, with lme4's names and `summary()` layout."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ..model.design import ModelData, build_model_data
from ..model.formula import printed_formula
from . import rprint
from .rprint import abbreviate, format_p, r_format  # noqa: F401 (format_p, r_format: inference.ddf)


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


def format_summary(fit: LmmFit, coefficients: pd.DataFrame | None = None) -> str:
    """Text laid out like lme4's print(summary(lmer(...))), or lmerTest's when given its table (less
    lme4's "Data:" line: a fit does not know its data's name)."""
    method = "" if coefficients is None else f". t-tests use {coefficients.attrs.get('method', 'Satterthwaite')}'s method"
    title = "Linear mixed model fit by " + ("REML" if fit.reml else "maximum likelihood ") + method
    lines = rprint.method_title(title, "lmerModLmerTest" if method else "lmerMod")
    lines += [f"Formula: {printed_formula(fit.formula)}", ""]
    if fit.reml:
        lines.append(f"REML criterion at convergence: {rprint.cat_number(round(fit.reml_criterion, 1))}")
    else:
        lines += likelihood_table(fit.aic, fit.bic, fit.loglik, fit.deviance, fit.nobs - fit.npar)
    lines += ["", *residual_lines(fit.residuals / fit.sigma), "", "Random effects:"]
    lines += rprint.random_effects(fit.re_cov, fit.sigma)
    groups = "; ".join(f"{g}, {n}" for g, n in fit.ngroups.items())
    lines.append(f"Number of obs: {fit.nobs}, groups:  {groups}")
    lines += ["", "Fixed effects:"]
    if coefficients is not None:
        lines += format_coefficients(coefficients)
    else:
        table = pd.DataFrame({"Estimate": fit.fixef, "Std. Error": fit.se, "t value": fit.fixef / fit.se})
        lines += rprint.coefficients(table, ["Estimate", "Std. Error"], "t value")
    lines += fixef_correlation_lines(fit)
    lines += message_lines(fit.messages)
    return "\n".join(lines)


def likelihood_table(aic, bic, loglik, deviance, df_resid) -> list[str]:
    """lme4's .prt.aictab: AIC, BIC, logLik and deviance rounded to 1 decimal and formatted together,
    the residual df as an integer, printed as a named vector."""
    text = rprint.r_format(np.round([aic, bic, loglik, deviance], 1), 7)
    return rprint.named_vector(["AIC", "BIC", "logLik", "deviance", "df.resid"], [*text, str(int(df_resid))])


def residual_lines(scaled) -> list[str]:
    """lme4's .prt.resids: the quartiles of the scaled residuals, zapsmall(, 5) and printed to 4 digits."""
    q = rprint.zapsmall(np.quantile(scaled, [0, 0.25, 0.5, 0.75, 1]), 5)
    return ["Scaled residuals: ", *rprint.named_vector(["Min", "1Q", "Median", "3Q", "Max"], rprint.r_format(q, 4))]


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
    cell = rprint.fixed_matrix(fit.vcov.to_numpy() / np.outer(fit.se, fit.se), 3)
    columns, names = abbreviate(fit.fixef.index, 6), abbreviate(fit.fixef.index, 11)
    rows = [[names[i]] + [cell[i, j] if j < i else "" for j in range(p - 1)] for i in range(1, p)]
    return ["", "Correlation of Fixed Effects:"] + rprint.character_matrix(["", *columns[:-1]], rows)


def format_coefficients(table: pd.DataFrame, digits: int = 4) -> list[str]:
    """lmerTest's coefficient table (estimate, SE, df, t, p) as R's printCoefmat prints it."""
    return rprint.coefficients(table, ["Estimate", "Std. Error", "df"], "t value", "Pr(>|t|)", digits)
