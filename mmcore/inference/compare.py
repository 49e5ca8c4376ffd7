"""Comparing models and summarising variance: lme4's anova(), a parametric bootstrap of the
likelihood-ratio statistic, and the intraclass correlation. Linear mixed models (LmmFit) and
generalized ones (GlmmFit, always maximum likelihood) alike; a comparison stays within one family.
A comparison that involves a model with correlated errors (LmeFit) follows nlme's anova.lme instead
(lme_anova.py)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import MixedModelError
from ..fitting import fit
from ..glmm.batch import bootstrap_deviances
from ..lmm.batch import fit_many, simulate_responses
from ..lmm.deviance import ProfiledDeviance
from ..lmm.lme_results import LmeFit
from ..lmm.results import LmmFit
from ..model.design import build_model_data
from ..model.formula import printed_formula
from .lme_anova import anova_lme, format_anova_lme


def as_ml(model: LmmFit) -> LmmFit:
    """The same model fitted by maximum likelihood (a REML fit is refitted; a GLMM is ML already)."""
    return model if not model.reml else fit(model.formula, model.source, reml=False)


def _check_same_data(fits: tuple[LmmFit, ...]) -> None:
    if len({m.nobs for m in fits}) > 1 or any(not np.array_equal(fits[0].rows, m.rows) for m in fits):
        raise MixedModelError(
            "These models were fitted to different rows of the data (missing values in a column only "
            "one model uses?), so their likelihoods cannot be compared. Drop those rows first."
        )
    families = {(getattr(m, "family", "gaussian"), getattr(m, "link", "identity")) for m in fits}
    if len(families) > 1:
        raise MixedModelError(
            "These models describe the response with different families or links ("
            + ", ".join(sorted(f"{f} ({k})" for f, k in families)) + "): their likelihoods are not comparable."
        )


def anova(*fits: LmmFit, names: list[str] | None = None, refit: bool = True) -> pd.DataFrame:
    """Likelihood-ratio tests between nested models, as lme4's anova(m0, m1, ..., refit = TRUE).

    REML fits are refitted by ML first (the REML criterion depends on the fixed effects, so REML
    likelihoods of models with different fixed effects are not comparable); the table's
    attrs["note"] says so. With refit=False (lme4's refit = FALSE) REML fits are compared as they
    are, which is valid when their fixed effects are the same (only the random parts differ).
    Models are ordered by their number of parameters, as lme4 does.
    """
    if len(fits) < 2:
        raise MixedModelError("anova() compares two or more models: give it at least two fits.")
    _check_same_data(fits)
    if any(isinstance(m, LmeFit) for m in fits):
        return anova_lme(fits, names)  # models with correlated errors: nlme's rules
    names = list(names) if names else [f"model {i + 1}" for i in range(len(fits))]
    if not refit and any(m.reml for m in fits):
        if not all(m.reml for m in fits) or len({tuple(m.fixed_names) for m in fits}) > 1:
            raise MixedModelError("REML likelihoods can be compared only between REML fits with the same fixed "
                                  "effects; refit by ML to compare models whose fixed effects differ.")
    refitted = refit and any(m.reml for m in fits)
    ml = [as_ml(m) for m in fits] if refit else list(fits)
    order = sorted(range(len(ml)), key=lambda i: ml[i].npar)
    rows = []
    for pos, i in enumerate(order):
        m = ml[i]
        row = {"npar": m.npar, "AIC": m.aic, "BIC": m.bic, "logLik": m.loglik, "deviance": -2 * m.loglik,
               "Chisq": np.nan, "Df": np.nan, "Pr(>Chisq)": np.nan}
        if pos:
            prev = ml[order[pos - 1]]
            chisq = max(2 * (m.loglik - prev.loglik), 0.0)
            df = m.npar - prev.npar
            row.update({"Chisq": chisq, "Df": df, "Pr(>Chisq)": stats.chi2.sf(chisq, df) if df > 0 else np.nan})
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index([names[i] for i in order], dtype=object))
    table["Df"] = table["Df"].astype("Int64") if table["Df"].notna().any() else table["Df"]
    table.attrs["note"] = ("refitting model(s) with ML (instead of REML)" if refitted else
                           "REML fits compared as they are (same fixed effects)" if any(m.reml for m in ml) else "")
    table.attrs["formulas"] = {names[i]: ml[i].formula for i in order}
    return table


def format_anova(table: pd.DataFrame) -> str:
    """An anova() table as lme4 prints it (models, then the table, then the significance codes)."""
    if table.attrs.get("style") == "nlme":
        return format_anova_lme(table)
    formulas = table.attrs.get("formulas", {})
    lines = ["Models:"] + [f"{name}: {printed_formula(formulas.get(name, ''))}" for name in table.index]
    head = ["", "npar", "AIC", "BIC", "logLik", "deviance", "Chisq", "Df", "Pr(>Chisq)", ""]
    rows = [head]
    for name, r in table.iterrows():
        p = r["Pr(>Chisq)"]
        stars = "" if p != p else "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""
        rows.append([str(name), str(int(r["npar"])), f"{r['AIC']:.1f}", f"{r['BIC']:.1f}", f"{r['logLik']:.2f}",
                     f"{r['deviance']:.1f}", "" if r["Chisq"] != r["Chisq"] else f"{r['Chisq']:.4f}",
                     "" if pd.isna(r["Df"]) else str(int(r["Df"])),
                     "" if p != p else ("< 2.2e-16" if p < 2.2e-16 else f"{p:.4g}"), stars])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        lines.append(" ".join(c.ljust(w) if i in (0, 9) else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    lines += ["---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"]
    return "\n".join(lines)


@dataclass(frozen=True)
class BootstrapLRT:
    observed: float  # the LRT statistic of the data, 2 (logLik1 - logLik0), ML fits
    statistics: np.ndarray  # the statistic in each simulated data set
    df: int
    p_value: float  # share of simulated statistics >= observed
    mc_se: float  # Monte Carlo standard error of p_value
    p_chisq: float  # the chi-square reference p-value, for comparison
    nsim: int
    failed: int  # replicates whose refit did not converge (kept, and counted here)


def bootstrap_lrt(fit0: LmmFit, fit1: LmmFit, nsim: int = 1000, seed=None, progress=None) -> BootstrapLRT:
    """Parametric bootstrap of the LRT statistic under fit0 (the smaller model), both refit by ML.

    Each replicate draws y from fit0's ML estimates (lme4's simulate()), refits both models and
    records 2 (logLik1 - logLik0). progress(done, total) is called as replicates finish.
    """
    if nsim < 1:
        raise MixedModelError("The number of bootstrap replicates must be at least 1.")
    _check_same_data((fit0, fit1))
    if isinstance(fit0, LmeFit) or isinstance(fit1, LmeFit):
        raise MixedModelError("The parametric bootstrap is available for models with independent errors only; for "
                              "correlated errors use anova() (nlme's likelihood-ratio test).")
    m0, m1 = as_ml(fit0), as_ml(fit1)
    if m0.npar > m1.npar:
        m0, m1 = m1, m0
    rng = np.random.default_rng(seed)
    df = m1.npar - m0.npar
    observed = max(2 * (m1.loglik - m0.loglik), 0.0)
    if hasattr(m0, "family"):  # GLMMs: responses from the family, refits at the Laplace or quadrature criterion
        d0, d1, failed = bootstrap_deviances(m0, m1, nsim, rng, progress)
        sims = np.maximum(d0 - d1, 0.0)
        return _bootstrap_result(observed, sims[np.isfinite(sims)], df, nsim, failed)
    dev0 = ProfiledDeviance(build_model_data(m0.formula, m0.source), reml=False)
    dev1 = ProfiledDeviance(build_model_data(m1.formula, m1.source), reml=False)
    Y = simulate_responses(dev0, m0.theta, m0.beta, m0.sigma, nsim, rng)

    def report(part: int):
        return None if progress is None else (lambda done, total: progress(done + part * nsim, 2 * nsim))

    r0 = fit_many(dev0, Y, progress=report(0))
    r1 = fit_many(dev1, Y, progress=report(1))
    sims = np.maximum(r0.criterion - r1.criterion, 0.0)
    return _bootstrap_result(observed, sims, df, nsim, int((~r0.converged).sum() + (~r1.converged).sum()))


def _bootstrap_result(observed: float, sims: np.ndarray, df: int, nsim: int, failed: int) -> BootstrapLRT:
    """The p-value from the replicates' statistics. (A GLMM replicate whose refit found no finite
    optimum, a simulated response with no successes at all say, is left out before, and counted
    in `failed`.)"""
    p = float(np.mean(sims >= observed - 1e-10)) if len(sims) else float("nan")
    return BootstrapLRT(
        observed=observed, statistics=sims, df=df, p_value=p, mc_se=float(np.sqrt(p * (1 - p) / max(len(sims), 1))),
        p_chisq=float(stats.chi2.sf(observed, df)) if df > 0 else float("nan"), nsim=nsim, failed=failed,
    )

