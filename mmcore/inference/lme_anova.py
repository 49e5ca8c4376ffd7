"""Likelihood-ratio tests between models when one of them has correlated errors, as nlme's anova.lme.

nlme's rules, and where we differ:
- Models stay in the order given; each row is tested against the row above it: L.Ratio = 2 |logLik
  difference|, df = |difference in the number of parameters|, p from chi-square(df).
- REML fits with the same fixed effects are compared by their REML likelihoods, without refitting:
  the REML likelihood depends on the fixed-effects design, so it is comparable only when that is the
  same, and it is when the models differ in their random part or their correlation (an lme with and
  without corAR1). This is the usual test of a correlation structure.
- REML fits with different fixed effects: nlme warns that the comparison is not meaningful and
  computes it anyway; here every model is refitted by ML (as lme4's anova does) and the note says so.
  Fits by different methods: nlme refuses; here the REML ones are refitted by ML, and said so.
- AIC and BIC as nlme computes them: BIC with log(N - p) for REML fits, log(N) for ML.
A model without a correlation (an lme4-style LmmFit) has the same likelihood as nlme's lme without one.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import MixedModelError
from ..fitting import fit
from ..lmm.lme_results import LmeFit
from ..lmm.results import LmmFit


def refit(model: LmmFit, reml: bool) -> LmmFit:
    """The same model (its correlation too) by REML or ML."""
    if model.reml == reml:
        return model
    if isinstance(model, LmeFit):
        return fit(model.formula, model.source, reml=reml, correlation=model.correlation, time=model.time)
    return fit(model.formula, model.source, reml=reml)


def describe(model: LmmFit) -> str:
    """The model in one line: its formula, and its correlation as nlme writes it."""
    return model.formula + (f", correlation = {model.nlme_correlation}" if isinstance(model, LmeFit) else "")


def nlme_bic(model: LmmFit) -> float:
    n, p = model.nobs, len(model.beta)
    return model.deviance + model.npar * np.log(n - p if model.reml else n)


def anova_lme(fits: tuple[LmmFit, ...], names: list[str] | None = None) -> pd.DataFrame:
    """nlme's anova(m1, m2, ...) for fits of which at least one has correlated errors."""
    if len({m.response for m in fits}) > 1:
        raise MixedModelError("These models have different responses, so their likelihoods cannot be compared.")
    names = list(names) if names else [f"model {i + 1}" for i in range(len(fits))]
    same_fixed = len({tuple(m.fixed_names) for m in fits}) == 1
    if all(m.reml for m in fits) and same_fixed:
        models = list(fits)
        note = ("REML likelihoods compared directly: the models have the same fixed effects, so their REML "
                "likelihoods are comparable (as nlme's anova.lme).")
    elif not any(m.reml for m in fits):
        models, note = list(fits), ""
    else:
        models = [refit(m, reml=False) for m in fits]
        why = ("the models have different fixed effects, so their REML likelihoods are not comparable (nlme "
               "warns and compares them anyway)") if all(m.reml for m in fits) else \
            "the models were fitted by different methods (nlme refuses to compare them)"
        note = f"refitted by ML (instead of REML): {why}."
    rows = []
    for i, m in enumerate(models):
        row = {"npar": m.npar, "AIC": m.deviance + 2 * m.npar, "BIC": nlme_bic(m), "logLik": m.loglik,
               "deviance": m.deviance, "Chisq": np.nan, "Df": np.nan, "Pr(>Chisq)": np.nan, "Test": ""}
        if i:
            prev = models[i - 1]
            df = abs(m.npar - prev.npar)
            if df:
                chisq = 2 * abs(m.loglik - prev.loglik)
                row.update({"Chisq": chisq, "Df": df, "Pr(>Chisq)": stats.chi2.sf(chisq, df), "Test": f"{i} vs {i + 1}"})
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index(names, dtype=object))
    table["Df"] = table["Df"].astype("Int64") if table["Df"].notna().any() else table["Df"]
    table.attrs.update(note=note, style="nlme", formulas={n: describe(m) for n, m in zip(names, models)},
                       method="REML" if models[0].reml else "ML")
    return table


def format_anova_lme(table: pd.DataFrame) -> str:
    """The table as nlme prints anova(m1, m2): Model, df, AIC, BIC, logLik, Test, L.Ratio, p-value."""
    formulas = table.attrs.get("formulas", {})
    lines = ["Models:"] + [f"{name}: {formulas.get(name, '')}" for name in table.index]
    rows = [["", "Model", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value"]]
    for i, (name, r) in enumerate(table.iterrows()):
        p = r["Pr(>Chisq)"]
        rows.append([str(name), str(i + 1), str(int(r["npar"])), f"{r['AIC']:.7g}", f"{r['BIC']:.7g}",
                     f"{r['logLik']:.7g}", r["Test"], "" if r["Chisq"] != r["Chisq"] else f"{r['Chisq']:.7g}",
                     "" if p != p else ("<.0001" if p < 1e-4 else f"{p:.4f}")])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append(" ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    if table.attrs.get("note"):
        lines += textwrap.wrap(table.attrs["note"], 90)
    return "\n".join(lines)
