"""`fit_lme()`: formula + data + a within-group correlation -> LmeFit, as nlme's lme(..., correlation =
corAR1(form = ~ time | group)) or corCAR1: build, optimise theta and phi together, summarise.

The criterion is correlated.py's; the optimizer is optimize.py's, with phi's unconstrained scale as
one more parameter (not a diagonal: its sign is not a convention). What a fit reports is laid out
as nlme reports it: its AIC and BIC (REML's BIC with log(N - p), as nlme), its denominator degrees
of freedom for the fixed effects (nlme's getFixDF, one grouping level), its normalized residuals.
"""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

from ..errors import DataError, MixedModelError
from ..model.design import ModelData, build_model_data, numeric_values, reproduces_every_row
from .correlated import CorrelatedDeviance
from .correlation import KINDS
from .fit import _boundary, _ranef_blocks, _varcorr, not_converged_message, singular_message
from .lme_results import LmeFit
from .optimize import minimize

PHI_EDGE = 0.995  # |phi| beyond this: the errors are almost perfectly correlated, say so


def fit_lme(formula: str, data: pd.DataFrame, *, reml: bool = True, correlation: str = "ar1",
            time: str | None = None) -> LmeFit:
    """Fit a linear mixed model whose residuals are correlated within its grouping factor."""
    if correlation not in KINDS:
        raise MixedModelError(f"The correlation '{correlation}' is not one this app fits: choose ar1 or car1.")
    try:
        md, times = _model_data(formula, data, time)
        if not reml and reproduces_every_row(md):
            raise DataError(
                f"The fixed and random effects together can reproduce all {md.X.shape[0]} observations exactly, so "
                "there is no maximum-likelihood estimate. Fit by REML, or use a simpler random-effects structure.")
        dev = CorrelatedDeviance(md, reml, correlation, times, time or "")
        with np.errstate(all="ignore"):  # trial points off the feasible region give inf, handled
            opt = minimize(dev.evaluate, dev.start(), dev.structure())
        if not np.isfinite(opt.value):
            raise DataError("The model could not be fitted: the criterion is not finite anywhere the optimizer "
                            "looked. Check the response for extreme values.")
        return assemble(md, dev, opt.theta, opt.converged, opt.evaluations, time)
    except MixedModelError:
        raise
    except (ValueError, TypeError, ArithmeticError, np.linalg.LinAlgError, KeyError, IndexError) as exc:
        raise DataError(
            f"The model could not be fitted to these data ({type(exc).__name__}: {exc}). Check that the response "
            "is numeric, that predictors vary, and that each group has several rows.") from exc


def _model_data(formula: str, data: pd.DataFrame, time: str | None) -> tuple[ModelData, np.ndarray | None]:
    """The model's data, with the rows whose time is missing left out (and said so), and each row's time."""
    if time is None:
        return build_model_data(formula, data), None
    if not isinstance(data, pd.DataFrame):
        raise DataError("The data must be a table (a pandas DataFrame).")
    if time not in data.columns:
        raise DataError(f"The time column '{time}' is not a column of the data. The columns are: "
                        f"{', '.join(map(str, list(data.columns)[:12]))}.")
    col = data[time]
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        raise DataError(f"The time column '{time}' is not numeric. A correlation over time needs numbers "
                        "(days, years, visit numbers).")
    values = numeric_values(col)
    if np.isinf(values).any():
        raise DataError(f"The time column '{time}' holds infinite values: fix or remove those rows.")
    known = ~np.isnan(values)
    if known.all():
        md = build_model_data(formula, data)
        return md, values[md.rows]
    keep = np.flatnonzero(known)
    md = build_model_data(formula, data.iloc[keep])
    note = f"{len(data) - len(keep)} rows have no value of the time column '{time}'; they were left out."
    md = dataclasses.replace(md, rows=keep[md.rows], source=data, messages=md.messages + (note,))
    return md, values[md.rows]


def fixed_df(md: ModelData, codes: np.ndarray, G: int) -> np.ndarray:
    """nlme's denominator degrees of freedom per fixed effect (getFixDF) for one grouping level: a
    column that varies within some group is estimated at the residual level (N - G - their number,
    +1 without an intercept), one constant within every group at the group level (G - their number,
    -1 for the intercept); a constant column (the intercept) gets the larger of the two."""
    X = md.X
    N, p = X.shape
    first = X[0] if N else np.zeros(p)
    scale = np.where(first == 0, 1.0, first)
    const = np.all(np.abs(np.where(first == 0, X, X / scale - 1)) < np.sqrt(np.finfo(float).eps), axis=0)
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
    Xs = X[order]
    inner = np.any(np.maximum.reduceat(Xs, starts, axis=0) > np.minimum.reduceat(Xs, starts, axis=0), axis=0)
    df_group, df_resid = G, N - G
    df_group -= int(np.sum(~const & ~inner))
    df_resid -= int(np.sum(~const & inner))
    if const.any():
        df_group -= 1
    else:
        df_resid += 1
    out = np.where(inner, df_resid, df_group).astype(float)
    out[const] = max(df_group, df_resid)
    return out


def assemble(md: ModelData, dev: CorrelatedDeviance, params: np.ndarray, converged: bool, evaluations: int,
             time: str | None) -> LmeFit:
    sol = dev.solve(params)
    lmm = dev.lmm
    theta = np.asarray(params[: dev.k])
    n, p = md.X.shape
    varcorr_rows, re_cov = _varcorr(md, lmm, theta, sol["sigma"])
    npar = p + len(theta) + dev.correlation.n_params + 1
    crit = sol["criterion"]
    messages = list(md.messages)
    boundary = _boundary(md, lmm, theta)
    if boundary:
        messages.append(singular_message(boundary))
    if abs(sol["phi"]) > PHI_EDGE:
        messages.append(
            f"The within-group correlation phi is estimated at {sol['phi']:.4f}, next to its limit: the errors "
            "behave almost like a random walk or a constant per group, which the random effects may describe better.")
    if not converged:
        messages.append(not_converged_message(params / dev.structure().scale))
    group = md.terms[0].group
    variables = tuple(md.formula.variables) + ((time,) if time and time not in md.formula.variables else ())
    return LmeFit(
        formula=md.formula.text, reml=dev.reml, nobs=n, ngroups={group: md.terms[0].nlevels},
        sigma=sol["sigma"], theta=theta, loglik=-crit / 2, aic=crit + 2 * npar,
        bic=crit + npar * np.log(n - p if dev.reml else n), deviance=crit, reml_criterion=crit if dev.reml else None,
        fitted=sol["fitted"], residuals=md.y - sol["fitted"], is_singular=bool(boundary), converged=converged,
        messages=messages, source=md.source, rows=md.rows, variables=variables, response=md.formula.response,
        re_cov=re_cov, npar=npar, evaluations=evaluations, fixed_names=md.fixed_names, beta=sol["beta"],
        vcov_matrix=sol["vcov"], varcorr_rows=varcorr_rows, ranef_blocks=_ranef_blocks(md, lmm, sol),
        phi=sol["phi"], correlation=dev.kind, time=time, group=group,
        fixed_df=tuple(fixed_df(md, lmm.codes1, lmm.G)), normalized=sol["normalized"],
        random_formula=_random_text(md), fixed_formula=_fixed_text(md),
    )


def _fixed_text(md: ModelData) -> str:
    """The fixed part as the user wrote it (the formula without its random terms), as nlme prints it."""
    f = md.formula
    text = re.sub(r"\s*\+?\s*\([^()]*\|[^()]*\)", "", f.text).strip()
    if "~" in text and text.split("~", 1)[1].strip():
        return re.sub(r"\s+", " ", text)
    terms = [":".join(t) for t in f.fixed.terms]
    rhs = " + ".join(terms) if f.fixed.intercept else " + ".join(["0"] + terms) if terms else "0"
    return f"{f.response} ~ {rhs or '1'}"


def _random_text(md: ModelData) -> str:
    """The random part as nlme writes it: ~ s | Mare, ~ 0 + year | tree."""
    lhs = md.formula.random
    intercept = any(r.lhs.intercept for r in lhs)
    terms = list(dict.fromkeys(":".join(t) for r in lhs for t in r.lhs.terms))
    parts = (terms or ["1"]) if intercept else ["0"] + terms
    return f"~{' + '.join(parts)} | {md.terms[0].group}"
