"""Denominator degrees of freedom for tests of fixed effects, as lmerTest (Satterthwaite) and
pbkrtest (Kenward-Roger) compute them: t tests per coefficient (`coef_table`, lmerTest's summary)
and F tests per term (`f_tests`, lmerTest's anova).

Satterthwaite (lmerTest 3.1): for a contrast L, var = L' Phi L with Phi = vcov(beta) as a function of
lmerTest's variance parameters varpar = (theta, sigma); df = 2 var^2 / (g' A g), g the gradient of
var in varpar and A = 2 H^-1, H the Hessian of the deviance (REML criterion or ML deviance) in
varpar (a pseudo-inverse over its positive eigenvalues, as lmerTest). F tests with several rows
use lmerTest's eigen-decomposition of L Phi L' and its combination of the per-direction df.

Kenward-Roger (pbkrtest 0.5, REML fits only, as lmerTest refuses ML): the adjusted covariance
Phi_A = Phi + 2 Phi U Phi (the small-sample bias of Phi plus the variability of the variance
estimates, from the expected information) and its df and F scaling (Kenward & Roger 1997).

Both from exact derivatives (marginal.py), not numerical ones.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import MixedModelError
from ..lmm.fit import model_data
from ..lmm.results import LmmFit
from .contrasts import fixed_terms, type1, type3, zapsmall
from .marginal import Marginal

METHODS = {"satterthwaite": "Satterthwaite", "kenward-roger": "Kenward-Roger", "kr": "Kenward-Roger",
           "kenward_roger": "Kenward-Roger"}
EPS = np.sqrt(np.finfo(float).eps)


def method_name(ddf: str) -> str:
    name = METHODS.get(str(ddf).lower())
    if name is None:
        raise MixedModelError(f"ddf must be 'satterthwaite' or 'kenward-roger' (got '{ddf}').")
    return name


class Satterthwaite:
    """lmerTest's ingredients: vcov(beta), the covariance of varpar, d vcov(beta) / d varpar."""

    method = "Satterthwaite"

    def __init__(self, M: Marginal, beta: np.ndarray):
        """From the marginal model at the estimates (theta, sigma, beta) of some fit."""
        self.beta, self.vcov = np.asarray(beta), M.phi
        g, H = M.deviance_derivatives()
        J, D2 = M.varpar_chain()
        h = J.T @ H @ J + np.einsum("i,iuv->uv", g, D2)  # the Hessian in varpar, by the chain rule
        w, V = np.linalg.eigh((h + h.T) / 2)
        pos = w > 1e-8
        self.hessian_eigenvalues = w
        self.vcov_varpar = 2 * (V[:, pos] / w[pos]) @ V[:, pos].T
        self.jacobian = np.einsum("ik,iab->kab", J, M.vcov_derivatives())

    def t_test(self, L: np.ndarray) -> tuple[float, float, float]:
        """Estimate, standard error and df of L'beta."""
        var = float(L @ self.vcov @ L)
        grad = np.einsum("a,kab,b->k", L, self.jacobian, L)
        return float(L @ self.beta), np.sqrt(var), float(2 * var**2 / (grad @ self.vcov_varpar @ grad))

    def f_test(self, L: np.ndarray) -> tuple[float, int, float, float]:
        """F, numerator df, denominator df, and the scale of F (1 here), as lmerTest's contestMD."""
        if len(L) == 1:
            est, se, df = self.t_test(L[0])
            return (est / se) ** 2, 1, df, 1.0
        d, P = np.linalg.eigh(L @ self.vcov @ L.T)
        d, P = d[::-1], P[:, ::-1]  # R's eigen(): decreasing
        pos = d > max(EPS * d[0], 0)
        q = int(pos.sum())
        PtL = (P.T @ L)[:q]
        if q == 1:
            est, se, df = self.t_test(PtL[0])
            return (est / se) ** 2, 1, df, 1.0
        F = float(np.sum((PtL @ self.beta) ** 2 / d[:q]) / q)
        grads = np.einsum("ma,kab,mb->mk", PtL, self.jacobian, PtL)
        nu = 2 * d[:q] ** 2 / np.einsum("mk,kl,ml->m", grads, self.vcov_varpar, grads)
        return F, q, _combined_df(nu), 1.0


def _combined_df(nu: np.ndarray, tol: float = 1e-8) -> float:
    """lmerTest's get_Fstat_ddf: one df for an F from q directions with df nu_m."""
    if np.all(np.abs(np.diff(nu)) < tol):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    E = np.sum(nu / (nu - 2))
    return float(2 * E / (E - len(nu)))


class KenwardRoger:
    """pbkrtest's vcovAdj (the adjusted covariance Phi_A with its P and W) and Lb_ddf / KR_adjust."""

    method = "Kenward-Roger"

    def __init__(self, M: Marginal, beta: np.ndarray):
        """From the marginal model at the REML estimates (theta, sigma, beta) of some fit."""
        if not M.reml:
            raise MixedModelError("Kenward-Roger's method is only available for REML fits (as lmerTest): "
                                  "fit the model with reml=True, or use Satterthwaite's method.")
        self.beta = np.asarray(beta)
        phi = self.vcov = M.phi
        A, xs, zs = M.A, M.xs, M.zs
        DA = M.apply(A)
        k = DA.shape[0]
        P = np.concatenate([-np.einsum("qa,iqb->iab", A, DA), -M.M2[xs, xs][None]])
        Q = np.empty((k + 1, k + 1) + phi.shape)
        Q[:k, :k] = np.einsum("iqa,jqb->ijab", DA, np.einsum("qr,irb->iqb", M.M1[zs, zs], DA))
        Qr = np.einsum("iqa,qb->iab", DA, M.M2[zs, xs])
        Q[:k, k], Q[k, :k], Q[k, k] = Qr, np.swapaxes(Qr, 1, 2), M.M3[xs, xs]
        K = np.empty((k + 1, k + 1))
        K[:k, :k] = M.pair_traces(M.M1[zs, zs])
        K[:k, k] = K[k, :k] = M.traces(M.M2[zs, zs])
        K[k, k] = M.tr_v2
        phiP = phi @ P
        info = K - 2 * np.einsum("ab,ijba->ij", phi, Q) + np.einsum("iab,jba->ij", phiP, phiP)
        info = (info + info.T) / 2
        self.W = 2 * (np.linalg.inv(info) if np.min(np.abs(np.linalg.eigvalsh(info))) > 1e-10
                      else np.linalg.pinv(info, rcond=EPS))
        U = np.einsum("ij,ijab->ab", self.W, Q - np.einsum("iab,jbc->ijac", P, phiP))
        self.vcov_adjusted = phi + 2 * phi @ U @ phi
        self.P = P

    def _adjust(self, L: np.ndarray) -> tuple[float, float, int]:
        """pbkrtest's .KR_adjust: denominator df, F scaling, rank of L."""
        with np.errstate(divide="ignore", invalid="ignore"):  # a boundary fit: pbkrtest's arithmetic too
            return self._adjust_values(L)

    def _adjust_values(self, L: np.ndarray) -> tuple[float, float, int]:
        V0 = self.vcov
        Theta = L.T @ np.linalg.solve(L @ V0 @ L.T, L)
        Ui = np.einsum("ab,ibc,cd->iad", Theta @ V0, self.P, V0)
        tr = np.einsum("iaa->i", Ui)
        A1 = tr @ self.W @ tr
        A2 = np.einsum("ij,iab,jba->", self.W, Ui, Ui)
        q = int(np.linalg.matrix_rank(L))
        B = (A1 + 6 * A2) / (2 * q)
        g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
        c1, c2, c3 = (g / (3 * q + 2 * (1 - g)), (q - g) / (3 * q + 2 * (1 - g)), (q + 2 - g) / (3 * q + 2 * (1 - g)))
        v0, v1, v2 = 1 + c1 * B, 1 - c2 * B, 1 - c3 * B
        v0 = 0.0 if abs(v0) < 1e-10 else v0
        ratio = 1.0 if abs(1 - A2 / q) < 1e-14 and abs(v1) < 1e-14 else (1 - A2 / q) / v1
        rho = ratio**2 * v0 / v2 / q
        df = 4 + (q + 2) / (q * rho - 1)
        scale = 1.0 if abs(df - 2) < 0.01 else df * (1 - A2 / q) / (df - 2)
        return float(df), float(scale), q

    def t_test(self, L: np.ndarray) -> tuple[float, float, float]:
        df, _, _ = self._adjust(L[None])
        return float(L @ self.beta), float(np.sqrt(L @ self.vcov_adjusted @ L)), df

    def f_test(self, L: np.ndarray) -> tuple[float, int, float, float]:
        df, scale, q = self._adjust(L)
        Lb = L @ self.beta
        F = float(Lb @ np.linalg.solve(L @ self.vcov_adjusted @ L.T, Lb)) / q
        return scale * F, q, df, scale


def ddf_method(fit: LmmFit, ddf: str = "satterthwaite"):
    """The Satterthwaite or Kenward-Roger calculator for this fit."""
    kind = Satterthwaite if method_name(ddf) == "Satterthwaite" else KenwardRoger
    if kind is KenwardRoger and not fit.reml:
        raise MixedModelError("Kenward-Roger's method is only available for REML fits (as lmerTest): "
                              "fit the model with reml=True, or use Satterthwaite's method.")
    return kind(Marginal(model_data(fit), fit.theta, fit.sigma, fit.beta, fit.reml), fit.beta)


def coef_table(fit: LmmFit, ddf: str = "satterthwaite") -> pd.DataFrame:
    """lmerTest's summary() coefficients: Estimate, Std. Error, df, t value, Pr(>|t|) per fixed
    effect. Kenward-Roger's standard errors are pbkrtest's adjusted ones."""
    calc = ddf_method(fit, ddf)
    est, se, df = np.array([calc.t_test(row) for row in np.eye(len(fit.beta))]).T.reshape(3, -1)
    t = est / se
    table = pd.DataFrame({"Estimate": est, "Std. Error": se, "df": df, "t value": t,
                          "Pr(>|t|)": 2 * stats.t.sf(np.abs(t), df)}, index=pd.Index(list(fit.fixed_names), dtype=object))
    table.attrs["method"] = calc.method
    return table


def f_tests(fit: LmmFit, ddf: str = "satterthwaite", type: int | str = 3) -> pd.DataFrame:
    """lmerTest's anova(): one F test per fixed term. Type III (default) uses lmerTest's hypotheses,
    which do not depend on the contrast coding (see contrasts.py); type I is sequential. Columns as
    lmerTest: Sum Sq, Mean Sq, NumDF, DenDF, F value, Pr(>F)."""
    kind = {"3": 3, "III": 3, "1": 1, "I": 1}.get(str(type).upper())
    if kind is None:
        raise MixedModelError("type must be 3 (type III, as lmerTest's default) or 1 (sequential).")
    calc = ddf_method(fit, ddf)
    md = model_data(fit)
    hypotheses = type3(md) if kind == 3 else type1(md, fixed_terms(md))
    rows, names = [], []
    for term, L in hypotheses.items():
        if not len(L):
            continue
        F, q, df, scale = calc.f_test(L)
        ms = F / scale * fit.sigma**2
        rows.append((ms * q, ms, q, df, F, stats.f.sf(F, q, df)))
        names.append(term)
    table = pd.DataFrame(rows, index=pd.Index(names, dtype=object),
                         columns=["Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"])
    table.attrs["heading"] = (f"Type {'III' if kind == 3 else 'I'} Analysis of Variance Table with "
                              f"{calc.method}'s method")
    table.attrs["method"] = calc.method
    return table


def summary(fit: LmmFit, ddf: str | None = "satterthwaite") -> str:
    """The fit's summary as lmerTest prints it (df and p-value columns, with the method in the
    title); ddf=None gives lme4's own layout (t values only)."""
    return fit.summary() if ddf is None else fit.summary(coef_table(fit, ddf))


def format_f_tests(table: pd.DataFrame) -> str:
    """An f_tests() table as lmerTest's anova() prints it."""
    from ..lmm.results import format_p, r_format

    head = ["", "Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)", ""]
    values = {c: table[c].to_numpy(dtype=float) for c in head[1:6]}
    cols = [r_format(zapsmall(values["Sum Sq"], 5), 5), r_format(zapsmall(values["Mean Sq"], 5), 5),
            r_format(values["NumDF"], 5), r_format(values["DenDF"], 5), r_format(np.round(values["F value"], 4), 5)]
    p = table["Pr(>F)"].to_numpy(dtype=float)
    stars = ["***" if v < 0.001 else "**" if v < 0.01 else "*" if v < 0.05 else "." if v < 0.1 else "" for v in p]
    rows = [head] + [[str(n), *(c[i] for c in cols), pv, stars[i]] for i, (n, pv) in
                     enumerate(zip(table.index, format_p(p, 4, "< 2.2e-16")))]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [table.attrs.get("heading", "")]
    lines += [" ".join(c.ljust(w) if i in (0, 7) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
              for r in rows]
    if any(stars):
        lines += ["---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"]
    return "\n".join(lines)
