"""The GLMM engine against R: lme4's glmer (tests/reference/features.json `glmm`, to the issue's
tolerances, and tests/reference/glmm_reference.json from scripts/references/glmm_references.R),
MASS's glmmPQL, glm and geepack's GEE; anova's likelihood-ratio tests."""
import json

import numpy as np
import pandas as pd
import pytest

from mmcore import anova, fit, load_dataset
from mmcore.glmm.marginal import fit_marginal
from mmcore.glmm.pql import fit_pql
from tests.conftest import ROOT

FEATURES = json.loads((ROOT / "tests" / "reference" / "features.json").read_text())
OURS = json.loads((ROOT / "tests" / "reference" / "glmm_reference.json").read_text())
FITS = {r["id"]: r for r in OURS["fits"]}


def data(name: str) -> pd.DataFrame:
    name = name.split(" ")[0].removesuffix(".csv")
    if name.startswith("glmm_sim_"):
        return pd.read_csv(ROOT / "tests" / "reference" / f"{name}.csv")
    return load_dataset(name)


@pytest.fixture(scope="module", params=FEATURES["glmm"], ids=[r["id"] for r in FEATURES["glmm"]])
def feature(request):
    ref = request.param
    return ref, ref["fit"], fit(ref["formula"], data(ref["data"]), family=ref["family"], nagq=ref["fit"]["nAGQ"])


def test_features_loglik(feature):
    ref, R, m = feature
    assert m.converged
    # at nAGQ > 1 lme4 leaves out the saturated model's log-likelihood; mmcore reports the full one
    assert m.loglik_lme4 == pytest.approx(R["loglik"], abs=0.01)
    assert m.loglik == pytest.approx(FITS[ref["id"]]["loglik_full"], abs=0.01)
    assert m.deviance == pytest.approx(R["deviance"], abs=0.01)  # lme4's deviance(): sum of squared deviance residuals
    if R["nAGQ"] == 1:
        assert m.aic == pytest.approx(R["aic"], abs=0.02) and m.bic == pytest.approx(R["bic"], abs=0.02)


def test_features_estimates(feature):
    ref, R, m = feature
    assert list(m.fixef.index) == list(R["fixef"])
    for name, value in R["fixef"].items():
        se = R["se"][name]
        assert abs(m.fixef[name] - value) <= 2e-3 * (abs(value) + se), name
        # cbpp at the Laplace approximation: lme4's default PIRLS tolerance (1e-7) leaves its objective off by
        # ~3e-4 and its finite-difference Hessian by 1.3%; with a converged PIRLS (tolPwrss = 1e-10, our own
        # reference) lme4 gives mmcore's SEs to 1e-5 (test_our_references_estimates)
        rel = 0.015 if ref["id"] == "cbpp_laplace" else 0.01
        assert m.se[name] == pytest.approx(se, rel=rel), name
    assert m.theta == pytest.approx(np.atleast_1d(R["theta"]), rel=0.005)
    vc = pd.DataFrame(R["varcorr"])
    assert m.varcorr.grp.tolist() == vc.grp.tolist()
    assert m.varcorr.sdcor.to_numpy() == pytest.approx(vc.sdcor.to_numpy(), rel=0.005)


def _check_ranef(m, rows, mode_tol=0.01, sd_tol=0.01):
    re = pd.DataFrame(rows)
    for (group, term), sub in re.groupby(["group", "term"]):
        modes = m.ranef[group].loc[sub.level, term].to_numpy()
        sds = m.ranef_sd[group].loc[sub.level, term].to_numpy()
        assert np.all(np.abs(modes - sub["mode"].to_numpy()) <= mode_tol * sub.condsd.to_numpy() + 1e-8), (group, term)
        assert sds == pytest.approx(sub.condsd.to_numpy(), rel=sd_tol, abs=1e-8), (group, term)


def test_features_conditional_modes(feature):
    _, R, m = feature
    _check_ranef(m, R["ranef"])


def test_glmmpql_as_mass():
    R = FEATURES["glmmPQL"]
    m = fit_pql("stable ~ Sex + Age + Height + Weight + Surface + Vision + (1 | Subject)", load_dataset("ctsib"),
                "binomial")
    assert m.converged
    for name, value in R["fixef"].items():  # three digits (and more)
        assert m.fixef[name] == pytest.approx(value, rel=5e-4, abs=1e-6), name
        assert m.se[name] == pytest.approx(R["se"][name], rel=5e-4), name
    assert m.sd_random["Subject (Intercept)"] == pytest.approx(R["sd_subject"], rel=5e-4)
    assert m.sigma == pytest.approx(R["sd_residual"], rel=5e-4)


# -- our own, wider references ---------------------------------------------------------------------
@pytest.fixture(scope="module", params=OURS["fits"], ids=list(FITS))
def ours(request):
    ref = request.param
    return ref, fit(ref["formula"], data(ref["data"]), family=ref["family"], nagq=ref["nAGQ"], link=ref["link"])


def test_our_references_loglik(ours):
    ref, m = ours
    # never below R's best of nine optimizer runs, and never far above (a better optimum by a hair:
    # R's optimizers stop short on ctsib's unscaled predictors, e.g. at nAGQ = 25 and with the probit)
    assert ref["loglik_full"] - 1e-6 <= m.loglik <= ref["loglik_full"] + 0.005
    assert m.nobs == ref["nobs"] and m.is_singular == ref["singular"]
    assert m.converged == (ref["id"] != "ctsib_surface_vision")


def test_our_references_estimates(ours):
    ref, m = ours
    if ref["id"] == "ctsib_surface_vision":  # quasi-separation: only the likelihood and theta are defined
        assert m.theta == pytest.approx(ref["theta"], rel=1e-4)
        assert any("separated" in msg for msg in m.messages)
        # near lme4's clamp of mu (|eta| 36), as R's estimates are, not 1e4-1e5 out where the first
        # stage's rounding-noise step would put them (pirls.BETA_STEP; seen on an AVX-512 machine)
        assert np.abs(m.linear_predictor).max() < 100
        return
    if m.loglik - ref["loglik_full"] > 1e-4:
        pytest.skip("R's best stopped short of this optimum (see test_our_references_loglik)")
    for name, value in ref["fixef"].items():
        se = ref["se"][name]
        assert abs(m.fixef[name] - value) <= 2e-3 * (abs(value) + se), name
        assert m.se[name] == pytest.approx(se, rel=0.01), name
    theta = np.atleast_1d(ref["theta"])
    assert np.all(np.abs(m.theta - theta) <= 0.005 * np.abs(theta) + 1e-3)
    _check_ranef(m, ref["ranef"])
    assert m.deviance == pytest.approx(ref["deviance"], abs=0.01)


def test_cbpp_standard_errors_at_a_converged_pirls():
    ref = FITS["cbpp_laplace"]
    m = fit(ref["formula"], data("cbpp"), family="binomial")
    for name, se in ref["se"].items():
        assert m.se[name] == pytest.approx(se, rel=1e-4)


@pytest.mark.parametrize("ref", OURS["lrt"], ids=[r["id"] for r in OURS["lrt"]])
def test_anova_between_glmms(ref):
    d = data(ref["data"])
    m0 = fit(ref["formula0"], d, family=ref["family"])
    m1 = fit(ref["formula1"], d, family=ref["family"])
    table = anova(m1, m0)  # ordered by npar, as lme4
    assert table["Chisq"].iloc[1] == pytest.approx(ref["chisq"], abs=0.01)
    assert int(table["Df"].iloc[1]) == ref["df"]
    assert table["Pr(>Chisq)"].iloc[1] == pytest.approx(ref["p"], rel=0.01)
    assert table["logLik"].tolist() == pytest.approx([ref["loglik0"], ref["loglik1"]], abs=0.005)
    assert table["deviance"].tolist() == pytest.approx([-2 * ref["loglik0"], -2 * ref["loglik1"]], abs=0.01)


@pytest.mark.parametrize("ref", OURS["pql"], ids=[r["id"] for r in OURS["pql"]])
def test_pql_references(ref):
    random = ref["random"].replace("~", "").strip()
    fixed = ref["fixed"]
    m = fit_pql(f"{fixed} + ({random})", data(ref["data"]), ref["family"])
    for name, value in ref["fixef"].items():
        assert m.fixef[name] == pytest.approx(value, rel=5e-4, abs=1e-5), name
        assert m.se[name] == pytest.approx(ref["se"][name], rel=5e-4), name
    assert next(iter(m.sd_random.values())) == pytest.approx(ref["sd_random"], rel=1e-3)
    assert m.sigma == pytest.approx(ref["sd_residual"], rel=1e-3)


def test_marginal_glm_and_gee():
    formula = "stable ~ Sex + Age + Height + Weight + Surface + Vision + (1 | Subject)"
    g = fit_marginal(formula, load_dataset("ctsib"), "binomial", "glm")
    R = OURS["marginal"]["glm"]
    for name, value in R["fixef"].items():
        assert g.fixef[name] == pytest.approx(value, rel=1e-6)
        assert g.se[name] == pytest.approx(R["se"][name], rel=1e-4)  # R's glm stops at a relative 1e-8
    gee = fit_marginal(formula, load_dataset("ctsib"), "binomial", "gee")
    R = OURS["marginal"]["gee"]
    se = np.array(R["se"])
    # statsmodels and geepack estimate the exchangeable correlation slightly differently (0.214, 0.217)
    assert np.all(np.abs(gee.beta - np.array(list(R["fixef"].values()))) <= 0.01 * se)
    assert gee.se_values == pytest.approx(se, rel=0.01)
    assert gee.alpha == pytest.approx(R["alpha"], abs=0.005)


def test_no_standard_errors_when_r_x_is_singular(monkeypatch):
    """Where even R_X cannot be factored (a separated direction, rounded indefinite), the fit stands
    and says its standard errors are not defined, instead of failing."""
    import mmcore.glmm.fit as glmm_fit

    def singular(*args):
        raise np.linalg.LinAlgError("not positive definite")

    monkeypatch.setattr(glmm_fit, "rx_vcov", singular)
    m = fit("stable ~ Surface * Vision + (1 | Subject)", data("ctsib"), family="binomial")
    assert m.vcov_source == "none" and np.isnan(np.asarray(m.se, dtype=float)).all()
    assert any("not defined" in msg for msg in m.messages)
