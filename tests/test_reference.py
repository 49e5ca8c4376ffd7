"""Every fit and LRT in tests/reference/lme4_reference.json (lme4 1.1-31), to the issue's tolerances."""
import numpy as np
import pytest
from scipy import stats

from mmcore import anova, fit
from tests.conftest import REFERENCE, reference_data

FITS = REFERENCE["fits"]


@pytest.fixture(scope="module", params=FITS, ids=[f["id"] for f in FITS])
def pair(request):
    ref = request.param
    return ref, fit(ref["formula"], reference_data(ref["data"]), reml=ref["REML"])


def test_criterion(pair):
    ref, f = pair
    if ref["REML"]:
        assert f.reml_criterion == pytest.approx(ref["reml_criterion"], abs=0.01)
    else:
        assert f.reml_criterion is None
        assert f.deviance == pytest.approx(ref["deviance_ml"], abs=0.01)
    assert f.loglik == pytest.approx(ref["loglik"], abs=0.005)
    assert f.aic == pytest.approx(ref["aic"], abs=0.01)
    assert f.bic == pytest.approx(ref["bic"], abs=0.01)


def test_fixed_effects_and_se(pair):
    ref, f = pair
    assert list(f.fixef.index) == list(ref["fixef"])
    for name, value in ref["fixef"].items():
        se = ref["se"][name]
        assert abs(f.fixef[name] - value) <= 1e-4 * (abs(value) + se)
        assert f.se[name] == pytest.approx(se, rel=0.002)


def test_variance_components(pair):
    ref, f = pair
    sigma2 = ref["sigma"] ** 2
    got = f.varcorr
    assert len(got) == len(ref["varcorr"])
    for (_, row), want in zip(got.iterrows(), ref["varcorr"]):
        assert row["grp"] == want["grp"]
        assert (row["var1"] if isinstance(row["var1"], str) else None) == want["var1"]
        assert (row["var2"] if isinstance(row["var2"], str) else None) == want["var2"]
        if want["var2"] is None:  # a variance
            assert abs(row["vcov"] - want["vcov"]) <= 0.002 * abs(want["vcov"]) + 1e-5 * sigma2
        else:  # a covariance: its correlation
            assert row["sdcor"] == pytest.approx(want["sdcor"], abs=0.005)
    assert f.sigma == pytest.approx(ref["sigma"], rel=0.001)
    assert np.allclose(f.theta, np.atleast_1d(ref["theta"]), atol=2e-3)


def test_blups_and_conditional_sds(pair):
    ref, f = pair
    assert f.ngroups == ref["ngroups"]
    assert f.nobs == ref["nobs"]
    assert f.is_singular == ref["singular"]
    for r in ref["ranef"]:
        got = f.ranef[r["group"]].loc[r["level"], r["term"]]
        assert abs(got - r["value"]) <= 0.02 * r["cond_sd"], r
        assert f.ranef_sd[r["group"]].loc[r["level"], r["term"]] == pytest.approx(r["cond_sd"], rel=0.01)


@pytest.mark.parametrize("ref", REFERENCE["lrt"], ids=[r["id"] for r in REFERENCE["lrt"]])
def test_lrt(ref):
    data = reference_data(ref["data"])
    table = anova(fit(ref["f0"], data), fit(ref["f1"], data))  # REML fits: anova refits by ML
    assert "ML" in table.attrs["note"]
    assert table["Chisq"].iloc[1] == pytest.approx(ref["chisq"], abs=0.01)
    assert table["Df"].iloc[1] == ref["df"]
    assert table["Pr(>Chisq)"].iloc[1] == pytest.approx(ref["p"], rel=0.01)
    assert table["logLik"].tolist() == pytest.approx([ref["loglik0"], ref["loglik1"]], abs=0.005)
    assert table["Pr(>Chisq)"].iloc[1] == pytest.approx(stats.chi2.sf(ref["chisq"], ref["df"]), rel=0.01)
