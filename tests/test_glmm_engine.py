"""The GLMM engine on its own terms: the objective against an independent "textbook" computation
(numerical integration, a mode found by scipy), properties that must hold (0/1 rows against their
binomial counts, row order, the general solver against the scalar one), bad input, simulation,
the bootstrap."""
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, special, stats

from mmcore import DataError, FormulaError, MixedModelError, anova, bootstrap_lrt, fit, load_dataset
from mmcore.glmm.batch import simulate_responses, system_of
from mmcore.glmm.deviance import GlmmDeviance
from mmcore.glmm.family import get_family
from mmcore.glmm.pirls import GlmmSystem
from mmcore.glmm.scalar import scalar_modes
from mmcore.model.design import build_model_data

CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
CTSIB = "stable ~ Sex + Age + Height + Weight + Surface + Vision + (1 | Subject)"


def cbpp_groups(beta, lam):
    """Per herd: the fixed linear predictor, successes and trials, and the full log-likelihood of a
    row given eta (binomial coefficient included)."""
    d = load_dataset("cbpp")
    X = np.column_stack([np.ones(len(d))] + [(d.period == str(k)).to_numpy(float) for k in (2, 3, 4)])
    eta = X @ beta
    k, n = d.incidence.to_numpy(float), d["size"].to_numpy(float)
    groups = [np.flatnonzero(d.herd == h) for h in d.herd.cat.categories]

    def loglik(rows, shift):
        e = eta[rows] + lam * shift
        return np.sum(stats.binom.logpmf(k[rows], n[rows], special.expit(e)))
    return groups, loglik


@pytest.fixture(scope="module")
def cbpp_system():
    md = build_model_data(CBPP, load_dataset("cbpp"), "binomial")
    return GlmmSystem(md, get_family("binomial"))


PARAMS = np.array([0.7, -1.3, -1.0, -1.2, -1.5])  # theta, beta: near cbpp's optimum, not at it


def test_quadrature_equals_the_integral(cbpp_system):
    """AGQ with 25 nodes is the marginal likelihood: integrate each herd's likelihood numerically."""
    groups, loglik = cbpp_groups(PARAMS[1:], PARAMS[0])
    total = 0.0
    for rows in groups:
        peak = optimize.minimize_scalar(lambda u: -loglik(rows, u) + u * u / 2).x
        c = loglik(rows, peak)
        value, _ = integrate.quad(lambda u: np.exp(loglik(rows, u) - c) * stats.norm.pdf(u), -12, 12, points=[peak],
                                  epsabs=1e-13, epsrel=1e-12)
        total += c + np.log(value)
    ours = GlmmDeviance(cbpp_system, 25).evaluate(PARAMS[None])[0]
    assert ours == pytest.approx(-2 * total, abs=1e-7)


def test_laplace_equals_a_textbook_laplace(cbpp_system):
    """-2 log L ~ -2 [log p(y | u*) - u*^2 / 2] + log(1 + lambda^2 sum w), mode u* by scipy."""
    groups, loglik = cbpp_groups(PARAMS[1:], PARAMS[0])
    d = load_dataset("cbpp")
    n = d["size"].to_numpy(float)
    X = np.column_stack([np.ones(len(d))] + [(d.period == str(k)).to_numpy(float) for k in (2, 3, 4)])
    total = 0.0
    for rows in groups:
        u = optimize.minimize_scalar(lambda u: -loglik(rows, u) + u * u / 2, tol=1e-12).x
        mu = special.expit(X[rows] @ PARAMS[1:] + PARAMS[0] * u)
        total += -2 * (loglik(rows, u) - u * u / 2) + np.log1p(PARAMS[0] ** 2 * np.sum(n[rows] * mu * (1 - mu)))
    ours = GlmmDeviance(cbpp_system, 1).evaluate(PARAMS[None])[0]
    assert ours == pytest.approx(total, abs=1e-7)


def test_general_solver_equals_the_scalar_one(cbpp_system):
    """The blocked sparse PIRLS (any model) and the group-by-group one (one scalar term) agree."""
    sys = cbpp_system
    theta, offset = PARAMS[None, :1], (PARAMS[1:] @ sys.X.T)[None]
    a = scalar_modes(sys, theta, sys.y[None], offset, np.zeros((1, sys.G)))
    b = sys.modes(theta, sys.y[None], offset, np.zeros((1, 1, sys.G)), np.zeros((1, 0)))
    assert a.u1 == pytest.approx(b.u1, abs=1e-10)
    assert a.logdet == pytest.approx(b.logdet, abs=1e-10) and a.loglik == pytest.approx(b.loglik, abs=1e-9)


def test_zero_one_rows_equal_their_binomial_counts():
    """ctsib's 480 0/1 rows against the same data as counts per subject and condition: the same fit;
    the log-likelihoods differ by the binomial coefficients, log choose(n, k)."""
    d = load_dataset("ctsib")
    rows = fit(CTSIB, d, family="binomial")
    keys = ["Subject", "Sex", "Age", "Height", "Weight", "Surface", "Vision"]
    counts = d.groupby(keys, observed=True).stable.agg(k="sum", n="size").reset_index()
    agg = fit(CTSIB.replace("stable", "cbind(k, n - k)"), counts, family="binomial")
    assert agg.beta == pytest.approx(rows.beta, rel=1e-5, abs=1e-7)
    assert agg.theta == pytest.approx(rows.theta, rel=1e-6)
    choose = np.sum(special.gammaln(counts.n + 1) - special.gammaln(counts.k + 1) - special.gammaln(counts.n - counts.k + 1))
    assert agg.loglik - rows.loglik == pytest.approx(choose, abs=1e-6)


def test_row_order_does_not_matter():
    d = load_dataset("cbpp")
    a = fit(CBPP, d, family="binomial")
    b = fit(CBPP, d.sample(frac=1.0, random_state=3), family="binomial")
    assert b.loglik == pytest.approx(a.loglik, abs=1e-9)
    assert b.beta == pytest.approx(a.beta, abs=1e-6) and b.theta == pytest.approx(a.theta, abs=1e-6)
    assert b.ranef["herd"].loc[a.ranef["herd"].index].to_numpy() == pytest.approx(a.ranef["herd"].to_numpy(), abs=1e-6)


def test_a_zero_variance_fit_is_the_glm():
    """With theta = 0 the GLMM is the GLM ignoring the groups: statsmodels' log-likelihood, constants included."""
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    d = pd.DataFrame({"g": np.repeat(np.arange(15), 6), "x": rng.normal(size=90)})
    d["y"] = rng.poisson(np.exp(0.4 + 0.3 * d.x))
    m = fit("y ~ x + (1 | g)", d, family="poisson")
    glm = sm.GLM(d.y, sm.add_constant(d.x), family=sm.families.Poisson()).fit()
    if m.is_singular:
        assert m.loglik == pytest.approx(glm.llf, abs=1e-6)
        assert m.beta == pytest.approx(glm.params.to_numpy(), abs=1e-6)
    assert m.loglik >= glm.llf - 1e-9  # the GLM is the theta = 0 edge of the GLMM


def test_quadrature_tends_to_its_limit():
    d = load_dataset("cbpp")
    values = [fit(CBPP, d, family="binomial", nagq=q).loglik for q in (5, 15, 25)]
    assert abs(values[1] - values[2]) < 1e-6 < abs(values[0] - values[2]) + 1e-6


def test_observation_level_random_effect_is_allowed_for_counts():
    m = fit("TICKS ~ YEAR + cHEIGHT + (1 | INDEX)", load_dataset("grouseticks"), family="poisson")
    assert m.ngroups["INDEX"] == m.nobs and m.converged and m.theta[0] > 0.5


@pytest.mark.parametrize("formula,family,words", [
    ("stable ~ Surface + (1 | Subject)", "gaussian", None),
    ("CTSIB ~ Surface + (1 | Subject)", "binomial", "other than 0 and 1"),
    ("Height ~ Surface + (1 | Subject)", "poisson", "whole numbers"),
    ("cbind(CTSIB, Age - CTSIB) ~ Surface + (1 | Subject)", "gaussian", "family='binomial'"),
    ("cbind(Height, Age) ~ Surface + (1 | Subject)", "binomial", "whole numbers"),
    ("cbind(stable, Age - Height) ~ Surface + (1 | Subject)", "binomial", "failures"),
    ("stable ~ Surface + (1 | Subject)", "gamma", "not one this app fits"),
])
def test_bad_glmm_input_gets_a_clear_message(formula, family, words):
    d = load_dataset("ctsib")
    if words is None:  # a 0/1 response as a linear model: allowed (the lesson contrasts it)
        assert fit(formula, d).nobs == 480
        return
    with pytest.raises(MixedModelError, match=words):
        fit(formula, d, family=family)


def test_bad_nagq_and_link():
    d = load_dataset("cbpp")
    with pytest.raises(MixedModelError, match="single scalar"):
        fit("cbind(incidence, size - incidence) ~ period + (1 | herd) + (1 | period)", d, family="binomial", nagq=5)
    with pytest.raises(MixedModelError, match="0 to 25"):
        fit(CBPP, d, family="binomial", nagq=30)
    with pytest.raises(MixedModelError, match="link"):
        fit("incidence ~ period + (1 | herd)", d, family="poisson", link="logit")
    with pytest.raises(FormulaError):
        fit("cbind(incidence + 1, size) ~ period + (1 | herd)", d, family="binomial")
    all_zero = d.assign(none=0)
    with pytest.raises(DataError, match="failure"):
        fit("none ~ period + (1 | herd)", all_zero, family="binomial")


def test_simulated_responses_follow_the_model(cbpp_system):
    m = fit(CBPP, load_dataset("cbpp"), family="binomial")
    Y = simulate_responses(system_of(m), m.theta, m.beta, 4000, np.random.default_rng(1))
    trials = load_dataset("cbpp")["size"].to_numpy()
    assert Y.shape == (4000, 56) and np.allclose(Y * trials, np.round(Y * trials))
    # the marginal mean of a row: E[expit(eta + b)], b ~ N(0, theta^2)
    z, w = np.polynomial.hermite_e.hermegauss(40)
    eta = (m.beta[0] + m.theta[0] * z)
    expected = np.sum(w / w.sum() * special.expit(eta))
    period1 = (load_dataset("cbpp").period == "1").to_numpy()
    assert Y[:, period1].mean() == pytest.approx(expected, abs=0.01)


def test_bootstrap_lrt_for_glmms():
    d = load_dataset("cbpp")
    m0 = fit("cbind(incidence, size - incidence) ~ 1 + (1 | herd)", d, family="binomial")
    m1 = fit(CBPP, d, family="binomial")
    seen = []
    b = bootstrap_lrt(m0, m1, nsim=60, seed=2, progress=lambda done, total: seen.append((done, total)))
    assert b.df == 3 and b.nsim == 60 and len(b.statistics) + b.failed >= 60 - b.failed
    assert b.observed == pytest.approx(2 * (m1.loglik - m0.loglik))
    assert b.p_value == 0.0  # the period effect is strong: no replicate under H0 comes near 25.6
    assert 1.0 < np.mean(b.statistics) < 6.0  # about chi-square(3) under H0
    assert seen[-1] == (120, 120)


def test_anova_refuses_to_mix_families():
    d = load_dataset("ctsib")
    with pytest.raises(MixedModelError, match="families"):
        anova(fit("stable ~ Surface + (1 | Subject)", d), fit("stable ~ Surface + (1 | Subject)", d, family="binomial"))
