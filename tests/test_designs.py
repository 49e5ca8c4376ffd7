"""Nested and crossed designs against lme4 (tests/reference/nested_crossed.json, made by
scripts/references/nested_crossed.R: the implicit-nesting pitfall's wrong model on Pastes, the right
one and unique labels, the simulated StatLab and subjects-x-items designs, the planner's example
studies with lmerTest's df and lme4's profile interval of sigma_b), and the lesson's own functions."""
import json

import numpy as np
import pandas as pd
import pytest

import mmcore
from mmcore.lessons import designs
from tests.conftest import ROOT

REF = json.loads((ROOT / "tests" / "reference" / "nested_crossed.json").read_text())["fits"]
FOLDER = ROOT / "tests" / "reference" / "nested_crossed"
FACTORS = {"statlab": ("school", "student"), "crossed": ("condition", "subject", "item")}


def frame(name: str) -> pd.DataFrame:
    if name == "pastes":
        data = mmcore.load_dataset("pastes")
        data["sample"] = designs.combined(data, "batch", "cask")
        return data
    data = pd.read_csv(FOLDER / f"{name}.csv")
    for col in FACTORS.get(name, ("treat", "group")):
        data[col] = data[col].astype(str)
    return data


@pytest.mark.parametrize("key", list(REF))
def test_fit_matches_lme4s_best(key):
    ref = REF[key]
    m = mmcore.fit(ref["formula"], frame(ref["data"]), reml=ref["REML"])
    crit = m.reml_criterion if ref["REML"] else m.deviance
    assert crit <= ref["criterion"] + 1e-6
    assert crit == pytest.approx(ref["criterion"], abs=1e-6)
    assert m.converged
    assert dict(m.ngroups) == ref["ngroups"]
    assert list(m.fixef.index) == list(ref["fixef"])
    assert m.fixef.to_numpy() == pytest.approx(list(ref["fixef"].values()), rel=1e-6, abs=1e-6)
    assert m.se.to_numpy() == pytest.approx(list(ref["se"].values()), rel=2e-4)
    assert list(m.varcorr["grp"]) == ref["varcorr"]["grp"]
    assert m.varcorr["sdcor"].to_numpy() == pytest.approx(ref["varcorr"]["sdcor"], rel=2e-4, abs=1e-5)
    assert m.sigma == pytest.approx(ref["sigma"], rel=1e-5)
    assert m.loglik == pytest.approx(ref["logLik"], abs=1e-6)
    assert m.is_singular == ref["singular"]


@pytest.mark.parametrize("key", [k for k in REF if "Satterthwaite" in REF[k]])
@pytest.mark.parametrize("ddf", ["Satterthwaite", "Kenward-Roger"])
def test_t_tests_match_lmertest(key, ddf):
    ref = REF[key]
    m = mmcore.fit(ref["formula"], frame(ref["data"]))
    table = mmcore.coef_table(m, ddf.lower())
    theirs = ref[ddf]
    assert list(table.index) == theirs["names"]
    assert table["Std. Error"].to_numpy() == pytest.approx(theirs["se"], rel=1e-4)
    # lmerTest's own numerical derivatives are good to about 1e-6 of the df; a boundary fit's df, 1e-4
    assert table["df"].to_numpy() == pytest.approx(theirs["df"], rel=1e-4)
    assert table["Pr(>|t|)"].to_numpy() == pytest.approx(theirs["p"], rel=1e-3, abs=1e-10)


def profile_rise(dev, s: float) -> float:
    """The ML deviance with sigma_b held at s, minimised over theta by brute force (scipy), minus the
    optimum: an independent check of the batched profile."""
    from scipy import optimize

    n = dev.n

    def deviance(log_theta):
        theta = np.exp(log_theta)
        f, _, r = dev.parts(np.array([[theta]]))
        return float(f[0] + r[0] * theta**2 / s**2 + n * np.log(2 * np.pi * s**2 / theta**2))

    grid = np.linspace(-12, 8, 2001)
    i = int(np.argmin([deviance(x) for x in grid]))
    best = optimize.minimize_scalar(deviance, bounds=(grid[max(i - 2, 0)], grid[min(i + 2, 2000)]), method="bounded",
                                    options=dict(xatol=1e-12)).fun
    from mmcore.lmm.optimize import minimize

    return best - minimize(dev.evaluate, dev.start(), dev.structure()).value


@pytest.mark.parametrize("key", [k for k in REF if "profile_sd" in REF[k]])
def test_batched_profile_interval_of_sigma_b_matches_lme4(key):
    from mmcore.inference.many import sd_profile_intervals
    from mmcore.lmm.batch import fit_many
    from mmcore.lmm.deviance import ProfiledDeviance
    from mmcore.model.design import build_model_data

    ref = REF[key]
    data = frame(ref["data"])
    dev = ProfiledDeviance(build_model_data(ref["formula"], data), reml=False)
    Y = np.vstack([data["y"].to_numpy()] * 3)  # three copies: one batch, one answer
    ml = fit_many(dev, Y)
    lower, upper = sd_profile_intervals(dev.with_responses(Y), ml.criterion, ml.theta[:, 0])
    lo, hi = ref["profile_sd"]
    # lme4 interpolates a spline through its profile's points: good to 1e-4 of the width inside, but
    # beside a boundary fit (sigma_b = 0) its upper end sits 0.3% of the width beyond the root
    tol = (3e-3 if ref["singular"] else 2e-4) * (hi - lo)
    assert lower == pytest.approx([lo] * 3, abs=tol)
    assert upper == pytest.approx([hi] * 3, abs=tol)
    for end in (lower[0], upper[0]):  # ours are the profile's roots: the deviance rises by chi2_1(0.95) there
        if end > 0:
            assert profile_rise(dev, end) == pytest.approx(3.841458820694124, abs=1e-6)
    ours = mmcore.confint(mmcore.fit(ref["formula"], data), method="profile").loc["sd_(Intercept)|group"]
    assert [ours.lower, ours.upper] == pytest.approx([lower[0], upper[0]], abs=2e-4 * (hi - lo))


def test_the_pitfall_in_numbers():
    """Reused cask labels: the wrong model sees 3 casks, pushes their variance into the residual and
    fits far worse; (1 | batch/cask) and unique labels are one model."""
    data = frame("pastes")
    wrong = mmcore.fit("strength ~ 1 + (1 | batch) + (1 | cask)", data)
    nested = mmcore.fit("strength ~ 1 + (1 | batch/cask)", data)
    unique = mmcore.fit("strength ~ 1 + (1 | batch) + (1 | sample)", data)
    assert wrong.ngroups == {"batch": 10, "cask": 3}
    assert nested.reml_criterion == pytest.approx(unique.reml_criterion, abs=1e-8)
    assert wrong.reml_criterion > nested.reml_criterion + 50
    assert wrong.sigma > 3 * nested.sigma
    table = designs.pitfall_table({"wrong": (wrong, "batch", "cask"), "nested": (nested, "batch", "cask:batch"),
                                   "unique": (unique, "batch", "sample")})
    assert table.loc["units of the inner factor", "wrong"] == 3
    assert table.loc["units of the inner factor", "nested"] == 30
    assert table.loc["SD of the inner factor", "nested"] == pytest.approx(table.loc["SD of the inner factor", "unique"],
                                                                          rel=1e-6)
    assert table.loc["SD of the inner factor", "wrong"] < 0.2 * table.loc["SD of the inner factor", "nested"]


def test_relations_and_incidence():
    pastes = frame("pastes")
    assert designs.relation(pastes, "batch", "cask").kind == "crossed"  # as the labels say
    assert designs.relation(pastes, "batch", "sample").kind == "nested"
    assert "30 batch x cask combinations" in designs.reused_labels(pastes, "batch", "cask")
    assert designs.reused_labels(pastes, "batch", "sample") is None
    pen = mmcore.load_dataset("penicillin_lme4")
    rel = designs.relation(pen, "plate", "sample")
    assert (rel.kind, rel.pairs) == ("crossed", 144)
    inc = designs.incidence(pastes, "batch", "sample")
    assert inc.shape == (10, 30) and (inc.to_numpy() > 0).sum() == 30 and inc.to_numpy().sum() == 60
    partial = pd.DataFrame({"s": list("aabbc"), "d": list("xyxzz")})
    assert designs.relation(partial, "s", "d").kind == "partially crossed"


def test_variance_table_correlations():
    data = frame("pastes")
    table = designs.variance_table(mmcore.fit("strength ~ 1 + (1 | batch/cask)", data))
    assert table["share"].sum() == pytest.approx(1.0)
    # two tests of one cask share the cask and its batch; two casks of one batch share the batch
    assert table.loc["cask:batch", "correlation"] == pytest.approx(table.loc["cask:batch", "share"]
                                                                    + table.loc["batch", "share"])
    assert table.loc["batch", "correlation"] == pytest.approx(table.loc["batch", "share"])
    crossed = designs.variance_table(mmcore.fit("diameter ~ 1 + (1 | plate) + (1 | sample)",
                                                mmcore.load_dataset("penicillin_lme4")))
    assert crossed.loc["plate", "correlation"] == pytest.approx(crossed.loc["plate", "share"])


def test_simulated_designs_recover_their_truth():
    """Large designs: the estimates lie near the truth they were drawn from."""
    school = mmcore.simulate_statlab(n_schools=40, students_per_school=20, tests_per_student=5, seed=3)
    f = mmcore.fit("score ~ 1 + (1 | school/student)", school)
    sd = dict(zip(f.varcorr.grp, f.varcorr.sdcor))
    assert sd["student:school"] == pytest.approx(8.0, rel=0.15)
    assert sd["school"] == pytest.approx(5.0, rel=0.35)
    assert sd["Residual"] == pytest.approx(6.0, rel=0.05)
    crossed = mmcore.simulate_crossed(n_subjects=60, n_items=40, seed=4)
    g = mmcore.fit("rt ~ condition + (1 | subject) + (1 | item)", crossed)
    assert g.fixef["conditionB"] == pytest.approx(30.0, abs=3 * g.se["conditionB"])
    assert designs.relation(crossed, "subject", "item").kind == "crossed"


def test_simulators_refuse_impossible_designs():
    with pytest.raises(mmcore.DataError):
        mmcore.simulate_statlab(n_schools=1)
    with pytest.raises(mmcore.DataError):
        mmcore.simulate_crossed(n_items=1)
