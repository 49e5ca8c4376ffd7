"""Variance components: is there any (a test of sigma_b^2 = 0), how large (the ICC with a
bootstrap interval), and the classical ANOVA estimators that REML reproduces for balanced data."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, FormulaError, MixedModelError
from ..lmm.batch import fit_many, simulate_responses
from ..lmm.deviance import ProfiledDeviance
from ..lmm.fit import model_data
from ..lmm.optimize import minimize
from ..lmm.results import LmmFit
from ..model.design import ModelData, _drop_incomplete, model_matrix
from ..model.formula import parse_formula


def icc(model: LmmFit) -> dict:
    """Intraclass correlation per grouping factor of a random-intercept model:
    sigma_g^2 / (sum of all random-intercept variances + sigma^2)."""
    if any(cols != ("(Intercept)",) for _, cols, _ in model.re_cov):
        raise MixedModelError(
            "The intraclass correlation is defined for random-intercept models, (1 | group): this model "
            "has random slopes, so the share of variance between groups changes with the predictor."
        )
    variances = {grp: float(cov[0, 0]) for grp, _, cov in model.re_cov}
    total = sum(variances.values()) + model.sigma**2
    return {grp: v / total for grp, v in variances.items()}


def _one_intercept(fit: LmmFit) -> ModelData:
    md = model_data(fit)
    if len(md.terms) != 1 or md.terms[0].q != 1:
        raise MixedModelError("This is shown for models with one random intercept, (1 | group).")
    return md


def lm_loglik(md: ModelData) -> tuple[float, np.ndarray, float]:
    """The linear model without random effects, fitted by ML: log-likelihood, beta, sigma."""
    beta = np.linalg.lstsq(md.X, md.y, rcond=None)[0]
    rss = float(np.sum((md.y - md.X @ beta) ** 2))
    n = len(md.y)
    return -0.5 * n * (np.log(2 * np.pi * rss / n) + 1), beta, np.sqrt(rss / n)


@dataclass(frozen=True)
class VarianceTest:
    observed: float  # LRT statistic 2 (logLik mixed - logLik lm), both ML
    p_chisq: float  # naive chi-square(1) reference
    p_mixture: float  # boundary-corrected 50:50 mixture of chi-square(0) and chi-square(1)
    p_boot: float | None  # parametric bootstrap under H0 (None if nsim = 0)
    mc_se: float | None
    statistics: np.ndarray  # simulated statistics under H0


def variance_test(fit: LmmFit, nsim: int = 0, seed=None, progress=None) -> VarianceTest:
    """Test H0: sigma_b^2 = 0. The LRT statistic's null distribution is not chi-square(1): the
    variance sits on the boundary of its range, and asymptotically the statistic is 0 half the time
    (Self & Liang 1987), hence the 50:50 mixture, whose p-value is half the chi-square one; or
    simulate the null: data from the model without the random effect, refit both."""
    md = _one_intercept(fit)
    ml = ProfiledDeviance(md, reml=False)
    with np.errstate(all="ignore"):
        opt = minimize(ml.evaluate, ml.start(), ml.structure())
    ll_lm, beta0, sigma0 = lm_loglik(md)
    observed = max(-opt.value - 2 * ll_lm, 0.0)
    p_chisq = float(stats.chi2.sf(observed, 1))
    sims, p_boot, mc = np.zeros(0), None, None
    if nsim:
        rng = np.random.default_rng(seed)
        Y = md.X @ beta0 + rng.normal(0, sigma0, (nsim, len(md.y)))
        many = fit_many(ml, Y, progress=progress)
        resid = Y - (np.linalg.lstsq(md.X, Y.T, rcond=None)[0].T @ md.X.T)
        n = len(md.y)
        ll0 = -0.5 * n * (np.log(2 * np.pi * (resid**2).sum(axis=1) / n) + 1)
        sims = np.maximum(-many.criterion - 2 * ll0, 0.0)
        p_boot = float(np.mean(sims >= observed - 1e-9))
        mc = float(np.sqrt(p_boot * (1 - p_boot) / nsim))
    return VarianceTest(observed, p_chisq, 0.5 * p_chisq if observed > 0 else 1.0, p_boot, mc, sims)


@dataclass(frozen=True)
class IccInterval:
    icc: float
    lower: float
    upper: float
    samples: np.ndarray  # the ICC in each bootstrap data set


def icc_bootstrap(fit: LmmFit, nsim: int = 1000, level: float = 0.95, seed=None, progress=None) -> IccInterval:
    """Percentile interval for the ICC of a one-random-intercept model by parametric bootstrap:
    draw data from the fit, refit each (REML or ML, as the fit), ICC = theta^2 / (1 + theta^2)."""
    md = _one_intercept(fit)
    dev = ProfiledDeviance(md, reml=fit.reml)
    Y = simulate_responses(dev, fit.theta, fit.beta, fit.sigma, nsim, np.random.default_rng(seed))
    many = fit_many(dev, Y, progress=progress)
    samples = many.theta[:, 0] ** 2 / (1 + many.theta[:, 0] ** 2)
    a = (1 - level) / 2
    lo, hi = np.quantile(samples, [a, 1 - a])
    return IccInterval(next(iter(icc(fit).values())), float(lo), float(hi), samples)


def anova_oneway(data: pd.DataFrame, response: str, group: str) -> dict:
    """One-way ANOVA and its variance-component estimators: sigma^2 = MSE,
    sigma_b^2 = (MSA - MSE) / n0 (n0 = the group size; for unequal sizes the usual n0)."""
    y = data[response].to_numpy(dtype=float)
    codes, uniques = pd.factorize(data[group])
    k, n = len(uniques), len(y)
    sizes = np.bincount(codes)
    means = np.bincount(codes, y) / sizes
    ssa = float(np.sum(sizes * (means - y.mean()) ** 2))
    sse = float(np.sum((y - means[codes]) ** 2))
    msa, mse = ssa / (k - 1), sse / (n - k)
    n0 = (n - np.sum(sizes**2) / n) / (k - 1)
    f = msa / mse
    return dict(groups=k, n0=n0, SSA=ssa, SSE=sse, MSA=msa, MSE=mse, F=f, p=float(stats.f.sf(f, k - 1, n - k)),
                sigma2=mse, sigma_b2=(msa - mse) / n0, group_means=pd.Series(means, index=uniques))


def anova_blocks(data: pd.DataFrame, response: str, treatment: str, block: str) -> dict:
    """Two-way ANOVA of a complete randomised block design (one observation per cell), with the
    block variance estimator sigma_b^2 = (MS_block - MS_error) / (number of treatments)."""
    y = data[response].to_numpy(dtype=float)
    t, _ = pd.factorize(data[treatment])
    b, _ = pd.factorize(data[block])
    a, r = t.max() + 1, b.max() + 1
    grand = y.mean()
    tm, bm = np.bincount(t, y) / np.bincount(t), np.bincount(b, y) / np.bincount(b)
    sst, ssb = float(r * np.sum((tm - grand) ** 2)), float(a * np.sum((bm - grand) ** 2))
    sse = float(np.sum((y - grand) ** 2)) - sst - ssb
    dfe = (a - 1) * (r - 1)
    mst, msb, mse = sst / (a - 1), ssb / (r - 1), sse / dfe
    table = pd.DataFrame({
        "Df": [a - 1, r - 1, dfe], "Sum Sq": [sst, ssb, sse], "Mean Sq": [mst, msb, mse],
        "F value": [mst / mse, msb / mse, np.nan],
        "Pr(>F)": [stats.f.sf(mst / mse, a - 1, dfe), stats.f.sf(msb / mse, r - 1, dfe), np.nan],
    }, index=[treatment, block, "Residuals"])
    return dict(table=table, sigma2=mse, sigma_b2=(msb - mse) / a)


def mixture_p(statistic: float, df: int) -> float:
    """p-value from the 50:50 mixture of chi-square(df - 1) and chi-square(df): the asymptotic null
    of a likelihood-ratio test that adds one random effect (with df - 1 covariances) on the boundary
    (Stram & Lee 1994); df = 1 is the mixture with chi-square(0), a point mass at 0."""
    lower = stats.chi2.sf(statistic, df - 1) if df > 1 else float(statistic <= 0)
    return float(0.5 * lower + 0.5 * stats.chi2.sf(statistic, df))


def lm_coefficients(formula: str, data: pd.DataFrame) -> pd.DataFrame:
    """summary(lm(formula, data))$coefficients: least squares with R's default treatment contrasts (a
    factor's first level is the reference, its other levels' columns named as R names them: treatB,
    blendBlend2), standard errors from the residual variance RSS / (n - p), t values and two-sided
    p-values on n - p df. Rows with a missing value in a used column are left out, as lm does."""
    f = parse_formula(formula)
    if f.random:
        raise FormulaError("lm() has no random-effects terms: remove the ( | ) terms from the formula.")
    frame, _, _ = _drop_incomplete(f, data)
    X, names = model_matrix(f.fixed, frame)
    y = frame[f.response].to_numpy(dtype=float)
    n, p = X.shape
    q, r = np.linalg.qr(X)
    if p == 0 or n <= p or np.linalg.matrix_rank(X) < p:
        raise DataError("lm() needs more rows than coefficients and no column that the others already span.")
    beta = np.linalg.solve(r, q.T @ y)
    df = n - p
    s2 = float(np.sum((y - X @ beta) ** 2)) / df
    r_inv = np.linalg.inv(r)
    se = np.sqrt(s2 * np.sum(r_inv**2, axis=1))  # diag((X'X)^-1) = row sums of R^-1 squared
    t = beta / se
    return pd.DataFrame({"Estimate": beta, "Std. Error": se, "t value": t,
                         "Pr(>|t|)": 2 * stats.t.sf(np.abs(t), df)}, index=pd.Index(names, name=None))
