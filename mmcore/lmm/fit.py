"""`fit()`: formula + data -> LmmFit (lme4's lmer: build, optimise, summarise)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, MixedModelError
from ..model.design import ModelData, build_model_data, reproduces_every_row
from ..model.limits import Budget
from .absorbed import AbsorbedDeviance, absorbs
from .budget import check_fit
from .deviance import ProfiledDeviance
from .optimize import ZERO, OptResult, minimize_best_of
from .results import LmmFit


def fit(formula: str, data: pd.DataFrame, *, reml: bool = True, budget: Budget | None = None) -> LmmFit:
    """Fit a linear mixed model by REML (default) or ML, with lme4's formula syntax. A model past the
    resource budget (default: Budget.from_env(), model/limits.py) is refused before the work starts."""
    budget = budget or Budget.from_env()
    try:
        md = build_model_data(formula, data, budget=budget)
        check_fit(md, budget)
        if not reml and reproduces_every_row(md):
            groups = " and ".join(f"'{t.group}' ({t.nlevels} levels)" for t in md.terms)
            raise DataError(
                f"The fixed effects and the random effects of {groups} together can reproduce all {md.X.shape[0]} "
                "observations exactly, so the likelihood grows without bound as the residual variance shrinks: there "
                "is no maximum-likelihood estimate. Fit by REML, or use a simpler random-effects structure or data "
                "with more observations per group."
            )
        dev = AbsorbedDeviance(md, reml) if absorbs(md) else ProfiledDeviance(md, reml)
        with np.errstate(all="ignore"):  # trial thetas off the feasible region give inf, handled
            opt = _minimize_from_two_starts(dev)
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


def _minimize_from_two_starts(dev) -> OptResult:
    """A model whose random-effect columns of one factor are nearly collinear (a slope whose x is
    measured far from its data, so the intercept's column and the slope's are almost the same) can have
    two local minima far apart: a large intercept variance with a slope variance, or the intercept alone
    with the slope's variance zero. Every check of optimality is local: from the moment start alone,
    (x || g) on tests/reference/slopes_seed1_rho-0.5.csv with x - 20 stopped, verified, at 1769.46 where lme4
    finds 1763.26. So such a model, when its evaluations are cheap, is minimised from two starts at once,
    the moment estimate (start.py) and lme4's identity in the scaled units, and the lower optimum is kept.
    Other models, and costly ones (Structure.lean), start from the moment estimate only: a second start
    costs a fit about half as much again."""
    structure = dev.structure()
    starts = [dev.start()]
    identity = dev.layout.start * structure.scale
    if not structure.lean and _collinear_columns(dev.md) and not np.allclose(identity, starts[0]):
        starts.append(identity)

    def many(idx, T):  # every row is this one problem
        return dev.evaluate(T.reshape(-1, T.shape[-1])).reshape(T.shape[:-1])

    res = minimize_best_of(many, np.array(starts)[:, None, :], structure)
    return OptResult(res.theta[0], float(res.value[0]), bool(res.converged[0]), res.evaluations, res.iterations)


COLLINEAR = 0.9  # |cosine| of two random-effect columns of one factor: x from 1 to 10 has 0.89, x - 20 has 0.98


def _collinear_columns(md: ModelData) -> bool:
    """Do two random-effect columns of one grouping factor point almost the same way (|cosine| > COLLINEAR)?"""
    by_group: dict = {}
    for t in md.terms:
        by_group.setdefault(t.group, []).append(t.matrix)
    for mats in by_group.values():
        Z = np.column_stack(mats)
        if Z.shape[1] < 2:
            continue
        norms = np.linalg.norm(Z, axis=0)
        if not np.all(norms > 0):
            continue
        cos = np.abs((Z.T @ Z) / np.outer(norms, norms))
        np.fill_diagonal(cos, 0.0)
        if cos.max() > COLLINEAR:
            return True
    return False


def model_data(fit: LmmFit) -> ModelData:
    """The fit's response, X and random-effect terms (rebuilt from its data once, then kept)."""
    return fit.design


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


def _boundary(md: ModelData, dev: ProfiledDeviance, theta: np.ndarray) -> list[str]:
    """What lies on the boundary, in words: a variance of zero, or an effect that is an exact
    combination of the others (for two effects, a correlation of +-1). Judged on the scaled theta
    (optimize.ZERO), so a predictor measured in thousands is not 'singular' for its units alone."""
    phi = theta / dev.structure().scale
    found = []
    for k, t in enumerate(md.terms):
        T, P = dev.layout.factor(theta, k), dev.layout.factor(phi, k)
        for j, c in enumerate(t.columns):
            if abs(P[j, j]) >= ZERO:
                continue
            what = "the intercept" if c == "(Intercept)" else f"'{c}'"
            if not np.any(np.abs(P[j, :j]) >= ZERO):
                found.append(f"the variance of {what} between levels of '{t.group}' is estimated as zero")
            elif j == 1 and t.q == 2:
                r = float(np.sign(T[1, 0]))
                found.append(f"the correlation of {what} with '{t.columns[0]}' for '{t.group}' is estimated as "
                             f"{r:+.0f}")
            else:
                found.append(f"the random effect of {what} for '{t.group}' is an exact combination of the others "
                             "(their covariance matrix is singular)")
    return found


def assemble(md: ModelData, dev: ProfiledDeviance, theta: np.ndarray, converged: bool, evaluations: int) -> LmmFit:
    sol = dev.solve(theta)
    n, p = md.X.shape
    varcorr_rows, re_cov = _varcorr(md, dev, theta, sol["sigma"])
    npar = p + len(theta) + 1
    crit = sol["criterion"]
    loglik = -crit / 2
    messages = list(md.messages)
    boundary = _boundary(md, dev, theta)
    if boundary:
        messages.append(singular_message(boundary))
    if not converged:
        messages.append(not_converged_message(theta / dev.structure().scale))
    return LmmFit(
        formula=md.formula.text, reml=dev.reml, nobs=n,
        ngroups={t.group: t.nlevels for t in md.terms},
        sigma=sol["sigma"], theta=np.asarray(theta),
        loglik=loglik, aic=crit + 2 * npar, bic=crit + npar * np.log(n), deviance=crit,
        reml_criterion=crit if dev.reml else None,
        fitted=sol["fitted"], residuals=md.y - sol["fitted"], is_singular=bool(boundary),
        converged=converged, messages=messages, source=md.source, rows=md.rows,
        variables=tuple(md.formula.variables), response=md.formula.response,
        re_cov=re_cov, npar=npar, evaluations=evaluations, fixed_names=md.fixed_names,
        beta=sol["beta"], vcov_matrix=sol["vcov"], varcorr_rows=varcorr_rows, ranef_blocks=_ranef_blocks(md, dev, sol),
    )


def singular_message(boundary: list[str]) -> str:
    plain = []
    if any("variance" in b for b in boundary):
        plain.append("the data cannot tell this variance apart from zero")
    if any("variance" not in b for b in boundary):
        plain.append("the data cannot tell these effects apart from perfectly correlated ones")
    return (
        "Singular fit (lme4: 'boundary (singular) fit'): " + "; ".join(boundary) + ". In plain words, "
        + " and ".join(plain) + ". The fit is valid, but consider a simpler random-effects structure; a test of "
        "this variance must allow for the boundary."
    )


def not_converged_message(phi: np.ndarray) -> str:
    text = ("The optimizer could not verify that it found the best estimates (it did not converge): a step "
            "nearby still lowers the criterion, or the iteration ran out of steps. The numbers may be off.")
    if np.max(np.abs(phi), initial=0.0) > 1e3:
        return text + (" The random-effect variances ran off to values a thousand times the residual variance or "
                       "more: the random effects almost reproduce the data, so the residual variance can hardly be "
                       "estimated. Use a simpler random-effects structure, or data with more observations per group.")
    return text + " Try a simpler random-effects structure, or rescale predictors with very large or small values."
