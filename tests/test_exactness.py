"""Beyond the reference file: published lme4 printouts, and an independent dense computation of
the criterion, the estimates and the BLUPs for nested, crossed, unbalanced, singular, interaction
and uncorrelated models."""
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from mmcore import fit, load_dataset, simulate_intercepts
from mmcore.model.design import build_model_data
from tests.textbook import textbook


def _row(f, grp):
    return f.varcorr[f.varcorr.grp == grp].iloc[0]


def test_pastes_nested_matches_published_lme4(pastes):
    # lme4's printout for lmer(strength ~ 1 + (1 | batch/cask), Pastes) (?Pastes, lme4 book ch. 2):
    # REML criterion 247; cask:batch 8.434, batch 1.657, Residual 0.678; (Intercept) 60.0533 (0.6769)
    f = fit("strength ~ 1 + (1|batch/cask)", pastes)
    assert f.reml_criterion == pytest.approx(247.0, abs=0.05)
    assert list(f.ngroups.items()) == [("cask:batch", 30), ("batch", 10)]
    assert _row(f, "cask:batch").vcov == pytest.approx(8.434, abs=0.0005)
    assert _row(f, "batch").vcov == pytest.approx(1.657, abs=0.0005)
    assert f.sigma**2 == pytest.approx(0.678, abs=0.0005)
    assert f.fixef["(Intercept)"] == pytest.approx(60.0533, abs=5e-5)
    assert f.se["(Intercept)"] == pytest.approx(0.6769, abs=5e-5)
    assert "cask:batch" in f.summary() and "REML criterion at convergence: 247\n" in f.summary()  # as R cat()s 247.0


def test_penicillin_crossed_matches_published_lme4():
    # lme4's printout for lmer(diameter ~ 1 + (1|plate) + (1|sample), Penicillin):
    # REML criterion 330.9; plate 0.7169, sample 3.7311 (3.7309 in other lme4 versions), Residual 0.3024;
    # (Intercept) 22.9722 (0.8086); scaled residuals -2.07923 -0.67140 0.06292 0.58377 2.97958
    f = fit("diameter ~ 1 + (1|plate) + (1|sample)", load_dataset("penicillin_lme4"))
    assert f.reml_criterion == pytest.approx(330.9, abs=0.05)
    assert _row(f, "plate").vcov == pytest.approx(0.7169, abs=5e-5)
    assert _row(f, "sample").vcov == pytest.approx(3.731, abs=0.0005)
    assert f.sigma**2 == pytest.approx(0.3024, abs=5e-5)
    assert f.fixef["(Intercept)"] == pytest.approx(22.9722, abs=5e-5)
    assert f.se["(Intercept)"] == pytest.approx(0.8086, abs=5e-5)
    q = np.quantile(f.residuals / f.sigma, [0, 0.25, 0.5, 0.75, 1])
    assert q == pytest.approx([-2.07923, -0.67140, 0.06292, 0.58377, 2.97958], abs=2e-5)


def _sleep_unbalanced():
    d = load_dataset("sleepstudy")
    rng = np.random.default_rng(3)
    keep = rng.random(len(d)) > 0.35  # drop about a third of the rows at random
    keep[d.Subject.astype(str) == "309"] = False
    keep[(d.Subject.astype(str) == "309") & (d.Days < 2)] = True  # one subject with 2 rows only
    d = d[keep].reset_index(drop=True)
    d["grp"] = np.where(d.Subject.astype(str).astype(int) % 2 == 0, "even", "odd")
    return d


def _singular():
    """No between-group variation at all: each group's mean residual is removed. lme4 gives a
    boundary (singular) fit here, sigma_b = 0."""
    d = simulate_intercepts(n_groups=6, n_per_group=4, sigma_b=0.0, sigma=5.0, seed=11)
    noise = d["y"] - 250 - 10 * d["x"]
    d["y"] -= noise.groupby(d["group"], observed=True).transform("mean")
    return d


CASES = {
    "nested REML": ("strength ~ 1 + (1|batch/cask)", "pastes", True),
    "nested ML": ("strength ~ 1 + (1|batch) + (1|batch:cask)", "pastes", False),
    "crossed REML": ("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin_lme4", True),
    "crossed ML": ("diameter ~ 1 + (1|plate) + (1|sample)", "penicillin_lme4", False),
    "unbalanced slopes": ("Reaction ~ Days + (Days|Subject)", "unbalanced", True),
    "interaction": ("Reaction ~ Days*grp + (Days|Subject)", "unbalanced", False),
    "uncorrelated": ("Reaction ~ Days + (Days||Subject)", "unbalanced", True),
    "no intercept": ("Reaction ~ 0 + grp + Days:grp + (1|Subject)", "unbalanced", True),
    "singular": ("y ~ x + (1|group)", "singular", True),
    "block design": ("yield ~ treat + (1|blend)", "penicillin", True),
}


def _data(name, pastes):
    return {"pastes": lambda: pastes, "unbalanced": _sleep_unbalanced, "singular": _singular}.get(
        name, lambda: load_dataset(name))()


@pytest.mark.parametrize("case", list(CASES))
def test_engine_agrees_with_textbook_likelihood(case, pastes):
    formula, data_name, reml = CASES[case]
    data = _data(data_name, pastes)
    f = fit(formula, data, reml=reml)
    md = build_model_data(formula, data)
    tb = textbook(md, f.theta, reml)
    # the criterion, estimates, vcov and BLUPs at the engine's theta
    assert f.deviance == pytest.approx(tb["criterion"], abs=1e-6)
    assert f.fixef.to_numpy() == pytest.approx(tb["beta"], abs=1e-7 * (1 + np.abs(tb["beta"]).max()))
    assert f.sigma**2 == pytest.approx(tb["sigma2"], rel=1e-8)
    assert f.vcov.to_numpy() == pytest.approx(tb["vcov"], rel=1e-6, abs=1e-12)
    b_engine = np.concatenate([
        f.ranef[t.group][list(t.columns)].to_numpy().ravel() for t in md.terms
    ]) if len({t.group for t in md.terms}) == len(md.terms) else None
    if b_engine is not None:  # terms on distinct factors: ranef frames line up with Z's columns
        assert b_engine == pytest.approx(tb["b"], abs=1e-6 * (1 + np.abs(tb["b"]).max()))
    # and the engine's theta minimises the textbook criterion: no optimizer does better
    lower = np.array([0.0 if lo == 0 else -np.inf for lo in _lower(md)])
    best = minimize(lambda t: textbook(md, np.maximum(t, lower), reml)["criterion"], f.theta,
                    method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10, "maxfev": 4000})
    assert best.fun >= f.deviance - 1e-6
    assert f.is_singular == (case == "singular")


def _lower(md):
    from mmcore.lmm.deviance import ThetaLayout
    return ThetaLayout.from_sizes([t.q for t in md.terms]).lower


def test_singular_fit_is_explained_in_plain_words():
    f = fit("y ~ x + (1|group)", _singular())
    assert f.is_singular and f.theta[0] == 0.0
    note = " ".join(f.messages)
    assert "Singular fit" in note and "cannot tell this variance apart from zero" in note
    # the printout carries it at R's width, every word of it (on one line it ran off the screen)
    printed = f.summary().split("Correlation of Fixed Effects:")[1].splitlines()
    assert max(map(len, printed)) <= 80
    assert " ".join(" ".join(printed).split()).endswith(" ".join(note.split()))


def test_statsmodels_agrees_on_simple_models():
    import statsmodels.formula.api as smf

    d = load_dataset("sleepstudy")
    d["Subject"] = d["Subject"].astype(str)
    ours = fit("Reaction ~ Days + (Days|Subject)", d)
    sm = smf.mixedlm("Reaction ~ Days", d, groups=d["Subject"], re_formula="~Days").fit(reml=True)
    assert ours.fixef.to_numpy() == pytest.approx(sm.fe_params.to_numpy(), rel=1e-4)
    assert ours.sigma**2 == pytest.approx(sm.scale, rel=1e-3)
    assert ours.re_cov[0][2] == pytest.approx(sm.cov_re.to_numpy(), rel=5e-3, abs=0.05)
    assert ours.reml_criterion == pytest.approx(-2 * sm.llf, abs=0.01)
    p = load_dataset("penicillin")
    ours = fit("yield ~ treat + (1|blend)", p, reml=False)
    # patsy evaluates formula text as Python, so the keyword `yield` must be renamed for it
    sm = smf.mixedlm("y ~ treat", p.rename(columns={"yield": "y"}), groups=p["blend"]).fit(reml=False)
    assert ours.loglik == pytest.approx(sm.llf, abs=1e-3)
    assert ours.fixef.to_numpy() == pytest.approx(sm.fe_params.to_numpy(), rel=1e-5)


def test_rank_deficient_x_drops_columns_as_lme4():
    d = load_dataset("sleepstudy")
    d["Days2"] = 2 * d["Days"] + 1  # an exact combination of the intercept and Days
    f = fit("Reaction ~ Days + Days2 + (1|Subject)", d)
    assert list(f.fixef.index) == ["(Intercept)", "Days"]
    assert any("rank deficient so dropping 1 column" in m and "Days2" in m for m in f.messages)
    ref = fit("Reaction ~ Days + (1|Subject)", d)
    assert f.reml_criterion == pytest.approx(ref.reml_criterion, abs=1e-8)


def test_missing_values_are_dropped_with_a_count():
    d = load_dataset("sleepstudy")
    d.loc[[0, 5, 17], "Reaction"] = np.nan
    d.loc[40, "Days"] = np.nan
    f = fit("Reaction ~ Days + (1|Subject)", d)
    assert f.nobs == 176
    assert any("4 of 180 rows have a missing value" in m for m in f.messages)
    assert len(f.fitted) == 176 and len(f.data) == 176
    clean = fit("Reaction ~ Days + (1|Subject)", d.dropna().reset_index(drop=True))
    assert f.reml_criterion == pytest.approx(clean.reml_criterion, abs=1e-9)


def test_r_style_names_and_contrasts():
    d = load_dataset("sleepstudy")
    d["grp"] = pd.Categorical(np.where(d.Subject.astype(str).astype(int) % 2 == 0, "even", "odd"))
    assert list(fit("Reaction ~ Days*grp + (1|Subject)", d).fixef.index) == [
        "(Intercept)", "Days", "grpodd", "Days:grpodd"]
    assert list(fit("Reaction ~ Days:grp + (1|Subject)", d).fixef.index) == [
        "(Intercept)", "Days:grpeven", "Days:grpodd"]
    assert list(fit("Reaction ~ 0 + grp + (1|Subject)", d).fixef.index) == ["grpeven", "grpodd"]
    d["flag"] = d["Days"] > 4
    assert list(fit("Reaction ~ flag - 1 + (1|Subject)", d).fixef.index) == ["flagFALSE", "flagTRUE"]
    p = load_dataset("penicillin")
    p["treat"] = p["treat"].cat.reorder_categories(list("DCBA"))  # category order is the level order
    assert list(fit("yield ~ treat + (1|blend)", p).fixef.index) == ["(Intercept)", "treatC", "treatB", "treatA"]
