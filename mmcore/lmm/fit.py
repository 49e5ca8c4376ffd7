"""`fit()`: formula + data -> LmmFit (lme4's lmer: build, optimise, summarise)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, MixedModelError
from ..model.design import ModelData, build_model_data
from .deviance import ProfiledDeviance
from .optimize import minimize_deviance
from .results import LmmFit

SINGULAR_TOL = 1e-4  # lme4's isSingular tolerance on theta's diagonal


def fit(formula: str, data: pd.DataFrame, *, reml: bool = True) -> LmmFit:
    """Fit a linear mixed model by REML (default) or ML, with lme4's formula syntax."""
    try:
        md = build_model_data(formula, data)
        dev = ProfiledDeviance(md, reml)
        with np.errstate(all="ignore"):  # trial thetas off the feasible region give inf, handled
            opt = minimize_deviance(dev.evaluate, dev.layout.start, dev.layout.lower)
        if not np.isfinite(opt.value):
            raise DataError("The model could not be fitted: the criterion is not finite anywhere the "
                            "optimizer looked. Check the response for extreme values.")
        return assemble(md, dev, opt.theta, opt.converged, opt.evaluations)
    except MixedModelError:
        raise
    except (ValueError, TypeError, ArithmeticError, np.linalg.LinAlgError, KeyError, IndexError) as exc:
        raise DataError(
            f"The model could not be fitted to these data ({type(exc).__name__}: {exc}). Check that the "
            "response is numeric, that predictors vary, and that each group has several rows."
        ) from exc


def model_data(fit: LmmFit) -> ModelData:
    """The fit's response, X and random-effect terms, rebuilt from its data (cheap)."""
    return build_model_data(fit.formula, fit.source)


def _unique_names(names: list[str]) -> list[str]:
    """R's make.unique: Subject, Subject.1, ..."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}.{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return out


def _varcorr(md: ModelData, dev: ProfiledDeviance, theta: np.ndarray, sigma: float):
    rows, re_cov = [], []
    names = _unique_names([t.group for t in md.terms])
    for k, (t, grp) in enumerate(zip(md.terms, names)):
        T = dev.layout.factor(theta, k)
        cov = sigma**2 * T @ T.T
        re_cov.append((grp, t.columns, cov))
        sd = np.sqrt(np.diag(cov))
        for i, c in enumerate(t.columns):
            rows.append((grp, c, None, cov[i, i], sd[i]))
        for i in range(t.q):
            for j in range(i + 1, t.q):
                r = cov[i, j] / (sd[i] * sd[j]) if sd[i] * sd[j] > 0 else np.nan
                rows.append((grp, t.columns[i], t.columns[j], cov[i, j], r))
    rows.append(("Residual", None, None, sigma**2, sigma))
    return tuple(rows), tuple(re_cov)


def _ranef_blocks(md: ModelData, dev: ProfiledDeviance, sol: dict) -> dict:
    """Conditional modes and SDs per grouping factor; terms on one factor share a block."""
    values: dict[str, dict] = {}
    sds: dict[str, dict] = {}
    col = 0
    for k in dev.block1:
        t = md.terms[k]
        for j, c in enumerate(t.columns):
            values.setdefault(t.group, {})[c] = sol["b1"][:, col + j]
            sds.setdefault(t.group, {})[c] = np.sqrt(sol["var_b1"][:, col + j])
        col += t.q
    for k, off in zip(dev.rest, dev.rest_offsets):
        t = md.terms[k]
        idx = off + np.arange(t.nlevels)[:, None] * t.q + np.arange(t.q)
        for j, c in enumerate(t.columns):
            values.setdefault(t.group, {})[c] = sol["b2"][idx[:, j]]
            sds.setdefault(t.group, {})[c] = np.sqrt(sol["var_b2"][idx[:, j]])
    levels = {t.group: t.levels for t in md.terms}
    return {
        g: (levels[g], tuple(values[g]), np.column_stack(list(values[g].values())), np.column_stack(list(sds[g].values())))
        for g in dict.fromkeys(t.group for t in md.terms)
    }


def _diagonal_positions(dev: ProfiledDeviance) -> np.ndarray:
    return np.flatnonzero(dev.layout.lower == 0)


def assemble(md: ModelData, dev: ProfiledDeviance, theta: np.ndarray, converged: bool, evaluations: int) -> LmmFit:
    sol = dev.solve(theta)
    n, p = md.X.shape
    varcorr_rows, re_cov = _varcorr(md, dev, theta, sol["sigma"])
    npar = p + len(theta) + 1
    crit = sol["criterion"]
    loglik = -crit / 2
    messages = list(md.messages)
    singular = bool(np.any(theta[_diagonal_positions(dev)] < SINGULAR_TOL))
    if singular:
        messages.append(singular_message(md, dev, theta))
    if not converged:
        messages.append(
            "The optimizer stopped before it was sure it had found the best estimates (it did not "
            "converge). The numbers may be slightly off: try a simpler random-effects structure, or "
            "rescale predictors that have very large or very small values."
        )
    return LmmFit(
        formula=md.formula.text, reml=dev.reml, nobs=n,
        ngroups={t.group: t.nlevels for t in md.terms},
        sigma=sol["sigma"], theta=np.asarray(theta),
        loglik=loglik, aic=crit + 2 * npar, bic=crit + npar * np.log(n), deviance=crit,
        reml_criterion=crit if dev.reml else None,
        fitted=sol["fitted"], residuals=md.y - sol["fitted"], is_singular=singular,
        converged=converged, messages=messages, source=md.source, rows=md.rows,
        variables=tuple(md.formula.variables), response=md.formula.response,
        re_cov=re_cov, npar=npar, evaluations=evaluations, fixed_names=md.fixed_names,
        beta=sol["beta"], vcov_matrix=sol["vcov"], varcorr_rows=varcorr_rows, ranef_blocks=_ranef_blocks(md, dev, sol),
    )


def singular_message(md: ModelData, dev: ProfiledDeviance, theta: np.ndarray) -> str:
    zero = []
    for k, t in enumerate(md.terms):
        T = dev.layout.factor(theta, k)
        for j, c in enumerate(t.columns):
            if T[j, j] < SINGULAR_TOL:
                zero.append(f"'{c}' for '{t.group}'" if c != "(Intercept)" else f"the intercept for '{t.group}'")
    what = ", ".join(zero)
    return (
        "Singular fit (lme4: 'boundary (singular) fit'). The estimated variance structure sits on its "
        f"boundary: the random effect of {what} is estimated as zero or perfectly correlated with "
        "another. In plain words, the data cannot tell this variance apart from zero. The fit is valid, "
        "but consider a simpler random-effects structure; a test of this variance must allow for the boundary."
    )
