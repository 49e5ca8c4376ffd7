"""Denominator df, t and F tests against lmerTest 3.1-3 and pbkrtest 0.5.2 (features.json `ddf`,
and scripts/references/inference.R's wider set), plus properties that hold whatever the data."""
import json

import numpy as np
import pandas as pd
import pytest

import mmcore
from mmcore.inference.ddf import ddf_method
from mmcore.lmm.results import format_p
from tests.conftest import ROOT

FEATURES = json.loads((ROOT / "tests" / "reference" / "features.json").read_text())
WIDER = json.loads((ROOT / "tests" / "reference" / "inference.json").read_text())
DATASETS = {"sleepstudy.csv": "sleepstudy", "penicillin.csv": "penicillin", "dyestuff.csv": "dyestuff",
            "pastes.csv": "pastes", "penicillin_lme4.csv": "penicillin_lme4", "estrone.csv": "estrone"}


def reference_frame(name: str) -> pd.DataFrame:
    """A reference's data: a shipped dataset, sleepstudy with `late` (features.json), or the R
    script's unbalanced sleepstudy."""
    if name.startswith("inference_data/"):
        return pd.read_csv(ROOT / "tests" / "reference" / name, dtype={"Subject": str, "group": str, "Batch": str})
    data = mmcore.load_dataset(DATASETS[name.split()[0]])
    if "late" in name:
        data["late"] = np.where(data["Days"] >= 5, "late", "early")
    if "D2" in name:
        data["D2"] = (data["Days"] - 4.5) ** 2 / 10
    return data


def printed_p(p: float) -> str:
    return format_p([p])[0]


def check_coefficients(table: pd.DataFrame, rows: list) -> None:
    assert list(table.index) == [r["term"] for r in rows]
    for r in rows:
        got = table.loc[r["term"]]
        assert got["df"] == pytest.approx(r["df"], rel=5e-3)  # the bar: 0.5%
        assert got["df"] == pytest.approx(r["df"], rel=2e-4)  # what the exact derivatives reach
        assert got["Estimate"] == pytest.approx(r["estimate"], rel=1e-5, abs=1e-6)
        assert got["Std. Error"] == pytest.approx(r["se"], rel=2e-5)
        assert f"{got['t value']:.3f}" == f"{r['t']:.3f}"  # to the digits lmerTest prints
        assert printed_p(got["Pr(>|t|)"]) == printed_p(r["p"])


def check_anova(table: pd.DataFrame, rows: list) -> None:
    assert list(table.index) == [r["term"] for r in rows]
    for r in rows:
        got = table.loc[r["term"]]
        assert got["NumDF"] == r["numdf"]
        assert got["DenDF"] == pytest.approx(r["dendf"], rel=2e-4)
        assert f"{got['F value']:.5g}" == f"{r['F']:.5g}"  # printed with 5 significant digits
        assert format_p([got["Pr(>F)"]], 4)[0] == format_p([r["p"]], 4)[0]


@pytest.mark.parametrize("ref", FEATURES["ddf"], ids=lambda r: r["id"])
def test_features_ddf(ref):
    fit = mmcore.fit(ref["formula"], reference_frame(ref["data"]))
    check_coefficients(mmcore.coef_table(fit, "satterthwaite"), ref["satterthwaite"])
    check_coefficients(mmcore.coef_table(fit, "kenward-roger"), ref["kenward_roger"])
    check_anova(mmcore.f_tests(fit, "satterthwaite"), ref["anova_type3_satterthwaite"])
    check_anova(mmcore.f_tests(fit, "kenward-roger"), ref["anova_type3_kenward_roger"])


@pytest.mark.parametrize("ref", WIDER["ddf"], ids=lambda r: r["id"])
def test_wider_ddf(ref):
    fit = mmcore.fit(ref["formula"], reference_frame(ref["data"]), reml=ref["REML"])
    check_coefficients(mmcore.coef_table(fit, "satterthwaite"), ref["satterthwaite"])
    check_anova(mmcore.f_tests(fit, "satterthwaite", type=3), ref["anova_type3_satterthwaite"])
    check_anova(mmcore.f_tests(fit, "satterthwaite", type=1), ref["anova_type1_satterthwaite"])
    if ref["REML"]:
        check_coefficients(mmcore.coef_table(fit, "kenward-roger"), ref["kenward_roger"])
        check_anova(mmcore.f_tests(fit, "kenward-roger"), ref["anova_type3_kenward_roger"])
    else:
        with pytest.raises(mmcore.MixedModelError, match="REML"):
            mmcore.coef_table(fit, "kenward-roger")


def test_sums_of_squares_as_lmertest():
    ref = next(r for r in WIDER["ddf"] if r["id"] == "unbalanced_factorial")
    table = mmcore.f_tests(mmcore.fit(ref["formula"], reference_frame(ref["data"])))
    for r in ref["anova_type3_satterthwaite"]:
        assert table.loc[r["term"], "Sum Sq"] == pytest.approx(r["sumsq"], rel=1e-5)
        assert table.loc[r["term"], "Mean Sq"] == pytest.approx(r["meansq"], rel=1e-5)


@pytest.mark.parametrize("key, formula, data, ddf", [
    ("sleep_slopes_satterthwaite", "Reaction ~ Days + (Days | Subject)", "sleepstudy.csv", "satterthwaite"),
    ("penicillin_kenward_roger", "yield ~ treat + (1 | blend)", "penicillin.csv", "kenward-roger"),
    ("unbalanced_factorial_summary", "Reaction ~ period * grp + (1 | Subject)",
     "inference_data/sleep_unbalanced.csv", "satterthwaite"),
])
def test_summary_prints_lmertest_fixed_effects(key, formula, data, ddf):
    text = mmcore.summary(mmcore.fit(formula, reference_frame(data)), ddf)
    block = text.split("Fixed effects:\n")[1].split("\n\n")[0].splitlines()
    expected = [line.replace("‘", "'").replace("’", "'") for line in WIDER["printed"][key]]
    assert block == expected
    # lme4's .prt.methTit: a title wider than the console is wrapped, its class after it as cat(fill = TRUE)
    # breaks it: lmerTest's familiar "...method [" / "lmerModLmerTest]"
    title = text.splitlines()[:2]
    method = "Satterthwaite" if ddf == "satterthwaite" else "Kenward-Roger"
    assert title == [f"Linear mixed model fit by REML. t-tests use {method}'s method [", "lmerModLmerTest]"]


@pytest.mark.parametrize("key, formula, data", [
    ("penicillin_anova", "yield ~ treat + (1 | blend)", "penicillin.csv"),
    ("unbalanced_factorial_anova", "Reaction ~ period * grp + (1 | Subject)", "inference_data/sleep_unbalanced.csv"),
])
def test_f_tests_print_as_lmertest(key, formula, data):
    text = mmcore.format_f_tests(mmcore.f_tests(mmcore.fit(formula, reference_frame(data))))
    expected = [line.replace("‘", "'").replace("’", "'") for line in WIDER["printed"][key]]
    assert text.splitlines() == expected


def test_lme4_summary_is_unchanged_without_ddf():
    fit = mmcore.fit("Reaction ~ Days + (Days | Subject)", mmcore.load_dataset("sleepstudy"))
    assert mmcore.summary(fit, None) == fit.summary()
    assert "Pr(>|t|)" not in fit.summary() and "['lmerMod']" in fit.summary()


# -- properties ---------------------------------------------------------------------------------------
def test_balanced_block_design_has_the_anova_df():
    """A randomised complete block design: a treatment contrast has (a - 1)(b - 1) error df, exactly."""
    fit = mmcore.fit("yield ~ treat + (1 | blend)", mmcore.load_dataset("penicillin"))
    for method in ("satterthwaite", "kenward-roger"):
        table = mmcore.coef_table(fit, method)
        assert np.allclose(table["df"].iloc[1:], 12.0, rtol=1e-7)


def test_type3_does_not_depend_on_the_reference_level():
    data = reference_frame("inference_data/sleep_unbalanced.csv")
    a = mmcore.f_tests(mmcore.fit("Reaction ~ period * grp + (1 | Subject)", data))
    releveled = data.assign(period=pd.Categorical(data["period"], ["late", "adapt", "early"]),
                            grp=pd.Categorical(data["grp"], ["B", "A"]))
    b = mmcore.f_tests(mmcore.fit("Reaction ~ period * grp + (1 | Subject)", releveled))
    assert np.allclose(a[["NumDF", "F value"]], b[["NumDF", "F value"]], rtol=1e-6)  # two fits: optimizer tolerance
    # lmerTest's multi-row df combines per-direction df of an eigen-decomposition of L vcov L', which
    # moves a little with the basis of L: the same here as in lmerTest
    assert np.allclose(a["DenDF"], b["DenDF"], rtol=1e-4)


def test_row_order_does_not_matter():
    data = reference_frame("inference_data/sleep_unbalanced.csv")
    shuffled = data.sample(frac=1, random_state=3).reset_index(drop=True)
    for method in ("satterthwaite", "kenward-roger"):
        a = mmcore.coef_table(mmcore.fit("Reaction ~ Days + (Days | Subject)", data), method)
        b = mmcore.coef_table(mmcore.fit("Reaction ~ Days + (Days | Subject)", shuffled), method)
        assert np.allclose(a.to_numpy(), b.to_numpy(), rtol=1e-5)


def test_one_row_f_test_is_the_squared_t_test():
    fit = mmcore.fit("Reaction ~ Days + (Days | Subject)", mmcore.load_dataset("sleepstudy"))
    for calc in (ddf_method(fit, "satterthwaite"), ddf_method(fit, "kenward-roger")):
        est, se, df = calc.t_test(np.array([0.0, 1.0]))
        F, q, ddf, _ = calc.f_test(np.array([[0.0, 1.0]]))
        assert (F, q, ddf) == pytest.approx(((est / se) ** 2, 1, df))


def test_f_test_does_not_depend_on_the_basis_of_the_hypothesis():
    fit = mmcore.fit("yield ~ treat + (1 | blend)", mmcore.load_dataset("penicillin"))
    L = np.eye(4)[1:]
    A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0], [3.0, 0.0, 1.0]])
    for calc in (ddf_method(fit, "satterthwaite"), ddf_method(fit, "kenward-roger")):
        assert calc.f_test(A @ L)[:3] == pytest.approx(calc.f_test(L)[:3], rel=1e-8)


def test_satterthwaite_hessian_matches_finite_differences_of_the_deviance():
    """The exact Hessian in (theta, sigma) against central differences of the deviance that lmerTest
    differentiates numerically (devfun_vp), built here from the engine's own pieces."""
    from mmcore.inference.marginal import Marginal
    from mmcore.lmm.deviance import ProfiledDeviance
    from mmcore.lmm.fit import model_data

    fit = mmcore.fit("Reaction ~ Days + (Days | Subject)", mmcore.load_dataset("sleepstudy"))
    md = model_data(fit)
    dev = ProfiledDeviance(md, reml=True)
    n, p = md.X.shape

    def devfun_vp(v):
        logdet, logdet_rx, r2 = dev.parts(v[:-1][None])
        s2 = v[-1] ** 2
        return float(logdet[0] + logdet_rx[0] + r2[0] / s2 + (n - p) * np.log(2 * np.pi * s2))

    x0 = np.append(fit.theta, fit.sigma)
    h = 1e-4 * np.maximum(1, np.abs(x0))
    k = len(x0)
    H = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            H[i, j] = (devfun_vp(x0 + ei + ej) - devfun_vp(x0 + ei - ej) - devfun_vp(x0 - ei + ej)
                       + devfun_vp(x0 - ei - ej)) / (4 * h[i] * h[j])
    M = Marginal(md, fit.theta, fit.sigma, fit.beta, True)
    g, Hg = M.deviance_derivatives()
    J, D2 = M.varpar_chain()
    exact = J.T @ Hg @ J + np.einsum("i,iuv->uv", g, D2)
    assert np.allclose(exact, H, rtol=1e-4, atol=1e-3 * np.abs(H).max() * 1e-3)


def test_bad_requests_get_clear_errors():
    fit = mmcore.fit("Reaction ~ Days + (1 | Subject)", mmcore.load_dataset("sleepstudy"))
    with pytest.raises(mmcore.MixedModelError, match="satterthwaite"):
        mmcore.coef_table(fit, "containment")
    with pytest.raises(mmcore.MixedModelError, match="type"):
        mmcore.f_tests(fit, type=2)
    ml = mmcore.fit("Reaction ~ Days + (1 | Subject)", mmcore.load_dataset("sleepstudy"), reml=False)
    with pytest.raises(mmcore.MixedModelError, match="REML"):
        mmcore.f_tests(ml, "kenward-roger")


def test_intercept_only_model_has_no_f_tests_and_one_t_test():
    fit = mmcore.fit("Yield ~ 1 + (1 | Batch)", mmcore.load_dataset("dyestuff"))
    assert mmcore.f_tests(fit).empty
    assert mmcore.coef_table(fit)["df"].iloc[0] == pytest.approx(5.0, rel=1e-6)  # 6 batches - 1
