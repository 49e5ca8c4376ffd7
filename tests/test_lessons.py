"""The numbers of the shrinkage, ML vs REML, ICC, tests-and-intervals and centring lessons, checked against
what they must be."""
import numpy as np
import pytest

from mmcore import fit, load_dataset
from mmcore.inference.variance import anova_blocks, anova_oneway, icc_bootstrap, lm_loglik, variance_test
from mmcore.lessons.criteria import criterion_curves, criterion_surface, one_intercept, reml_ml_study
from mmcore.lessons.shrinkage import fixed_vs_random_study, shrinkage_intercepts, shrinkage_slopes
from mmcore.lmm.fit import model_data
from mmcore.model.design import build_model_data


@pytest.mark.parametrize("formula,name", [("Yield ~ 1 + (1|Batch)", "dyestuff"), ("yield ~ treat + (1|blend)", "penicillin"),
                                          ("Reaction ~ Days + (1|Subject)", "sleepstudy")])
def test_blup_is_lambda_times_own_deviation(formula, name):
    f = fit(formula, load_dataset(name))
    t = shrinkage_intercepts(f)
    assert (t["lambda"] * t["own deviation"]).to_numpy() == pytest.approx(t["BLUP"].to_numpy(), abs=1e-9)
    assert ((t["lambda"] > 0) & (t["lambda"] < 1)).all()


def test_fewer_observations_mean_more_shrinkage():
    d = load_dataset("sleepstudy")
    keep = ~((d.Subject.astype(str) == "308") & (d.Days > 1))
    t = shrinkage_intercepts(fit("Reaction ~ Days + (1|Subject)", d[keep].reset_index(drop=True)))
    assert t.loc["308", "n"] == 2 and t.loc["308", "lambda"] == t["lambda"].min()


def test_slope_shrinkage_own_lines_are_per_subject_least_squares():
    d = load_dataset("sleepstudy")
    f = fit("Reaction ~ Days + (Days|Subject)", d)
    t = shrinkage_slopes(f)
    s = d[d.Subject.astype(str) == "309"]
    slope, intercept = np.polyfit(s.Days, s.Reaction, 1)
    assert t.loc["309", "own (Intercept)"] == pytest.approx(intercept) and t.loc["309", "own Days"] == pytest.approx(slope)
    assert t.loc["309", "mixed Days"] == pytest.approx(f.fixef["Days"] + f.ranef["Subject"].loc["309", "Days"])


def test_fixed_vs_random_study_matches_theory():
    r = fixed_vs_random_study(nsim=2000, seed=3)
    assert r["fixed"].mean() == pytest.approx(10 * 20**2 / 3, rel=0.05)  # 10 individuals x sigma^2 / n
    assert r["random"].mean() < 0.7 * r["fixed"].mean()


def test_criterion_surface_minimised_over_sigma_is_the_profiled_criterion():
    d = load_dataset("dyestuff")
    dev = one_intercept("Yield ~ 1 + (1|Batch)", d)
    for reml in (False, True):
        f = fit("Yield ~ 1 + (1|Batch)", d, reml=reml)
        sb = np.sqrt(f.re_cov[0][2][0, 0])
        ml, rm = criterion_surface(dev, np.array([sb]), np.array([f.sigma]))
        assert (rm if reml else ml)[0, 0] == pytest.approx(f.deviance, abs=1e-8)
    c = criterion_curves("Yield ~ 1 + (1|Batch)", d)
    assert c.profile("reml").min() == pytest.approx(c.reml_best[2], abs=0.05)
    assert c.reml_best[0] > c.ml_best[0]  # REML's sigma_b is larger


def test_ml_is_biased_low_and_reml_is_not():
    r = reml_ml_study(n_groups=5, n_per_group=4, sigma_b=10, sigma=10, nsim=3000, seed=2)
    assert r["ML sigma_b^2"].mean() < 85 and r["REML sigma_b^2"].mean() == pytest.approx(100, rel=0.08)


def test_reml_equals_anova_for_balanced_designs():
    d = load_dataset("dyestuff")
    a, f = anova_oneway(d, "Yield", "Batch"), fit("Yield ~ 1 + (1|Batch)", d)
    assert a["sigma_b2"] == pytest.approx(f.varcorr.vcov[0], rel=1e-6) and a["sigma2"] == pytest.approx(f.sigma**2, rel=1e-6)
    p = load_dataset("penicillin")
    b, g = anova_blocks(p, "yield", "treat", "blend"), fit("yield ~ treat + (1|blend)", p)
    assert b["sigma_b2"] == pytest.approx(g.varcorr.vcov[0], rel=1e-6)
    assert b["table"].loc["treat", "F value"] == pytest.approx(1.2389, abs=1e-4)  # the classic table


def test_mixture_p_value_is_half_the_chi_square_one():
    t = variance_test(fit("Yield ~ 1 + (1|Batch)", load_dataset("dyestuff")))
    assert t.p_mixture == pytest.approx(t.p_chisq / 2) and t.observed > 0


def test_variance_test_bootstrap_statistics_equal_single_fits():
    d = load_dataset("dyestuff")
    f = fit("Yield ~ 1 + (1|Batch)", d)
    t = variance_test(f, nsim=300, seed=5)
    md = model_data(f)
    _, beta0, sigma0 = lm_loglik(md)
    Y = md.X @ beta0 + np.random.default_rng(5).normal(0, sigma0, (300, len(md.y)))
    positive = np.flatnonzero(t.statistics > 0.5)[:4]
    assert len(positive) >= 2
    for i in positive:
        single = fit("Yield ~ 1 + (1|Batch)", d.assign(Yield=Y[i]), reml=False)
        ll0 = lm_loglik(build_model_data("Yield ~ 1 + (1|Batch)", d.assign(Yield=Y[i])))[0]
        assert t.statistics[i] == pytest.approx(2 * (single.loglik - ll0), abs=1e-5)
    assert 0 <= t.p_boot <= 0.05


def test_bootstrap_icc_interval_contains_the_reml_icc():
    for name, formula in [("estrone", "Estrone ~ 1 + (1|Subject)"), ("dyestuff", "Yield ~ 1 + (1|Batch)")]:
        b = icc_bootstrap(fit(formula, load_dataset(name)), nsim=500, seed=1)
        assert b.lower <= b.icc <= b.upper and 0 <= b.lower < b.upper <= 1


# -- tests and intervals, centring ---------------------------------------------------------------------
def test_centring_moves_the_correlation_exactly_as_a_refit_does():

    import mmcore
    from mmcore.lessons.centring import centring_study

    sleep = mmcore.load_dataset("sleepstudy")
    study = centring_study(sleep, "Reaction", "Days", "Subject", [-6.0, 0.0, 4.5, 12.0])
    for c, r in zip(study.origins, study.correlation):
        refit = mmcore.fit("Reaction ~ Days + (Days | Subject)", sleep.assign(Days=sleep["Days"] - c))
        assert refit.varcorr.sdcor.iloc[2] == pytest.approx(r, abs=1e-4)
        assert refit.reml_criterion == pytest.approx(study.criterion_correlated, abs=1e-6)
    # (x || g) is (x | g) with the correlation held at 0: never better, and as good where it is 0
    assert np.all(study.criterion_uncorrelated >= study.criterion_correlated - 1e-6)
    at_zero = mmcore.fit("Reaction ~ Days + (Days || Subject)", sleep.assign(Days=sleep["Days"] - study.zero_origin))
    assert at_zero.reml_criterion == pytest.approx(study.criterion_correlated, abs=1e-4)


@pytest.mark.parametrize("seed, rho", [(0, 0.8), (1, -0.5), (2, 0.0)])
def test_centring_batch_equals_a_refit_of_the_uncorrelated_model_at_each_origin(seed, rho):
    """The batched (x || g) at every origin (on the correlated design) against one fit per origin: its
    criterion is the uncorrelated model's own at its theta (the mapping is exact), and never worse
    than the refit's. ((x || g) far from the data has two distant local minima. Seed 1, origin 17: the
    batch's two starts both stopped at 1766.77, the single fit at 1765.73 with the slope SD 0, which the
    batch found at origin 20; each origin now also starts from its neighbours' optima, lessons/centring.py.
    The same seed's old draws, before simulate_slopes became continuous in rho: test_optimizer.py.)"""
    import mmcore
    from mmcore.lessons.centring import uncorrelated_criteria
    from mmcore.lmm.deviance import ProfiledDeviance
    from mmcore.model.design import build_model_data

    data = mmcore.simulate_slopes(seed=seed, rho=rho)
    origins = np.arange(-10.0, 21.0, 3.0)
    correlated = mmcore.fit("y ~ x + (x | group)", data)
    cov = correlated.re_cov[0][2] / correlated.sigma**2
    crits, thetas = uncorrelated_criteria(correlated, origins, cov[0, 0] + 2 * origins * cov[0, 1] + origins**2 * cov[1, 1],
                                          cov[1, 1])
    same = 0
    for c, crit, theta in zip(origins, crits, thetas):
        moved = data.assign(x=data["x"] - c)
        own = ProfiledDeviance(build_model_data("y ~ x + (x || group)", moved), reml=True)
        assert own.evaluate(theta)[0] == pytest.approx(crit, abs=1e-8)
        refit = mmcore.fit("y ~ x + (x || group)", moved).reml_criterion
        assert crit <= refit + 1e-6
        same += abs(crit - refit) < 1e-6
    assert same >= len(origins) - 1


def test_null_study_p_values_and_rates():

    from mmcore.lessons.testing import METHODS, null_study

    study = null_study("within", 6, 1, n_treatments=3, nsim=200, seed=2)
    table = study.rejection
    assert list(table.index) == list(METHODS)
    for m in METHODS:
        p = study.pvalues[m]
        assert p.shape == (200,) and np.all((p >= 0) & (p <= 1))
    # with a true null the F tests' p-values are roughly uniform: a mean near 1/2
    assert abs(np.mean(study.pvalues["F, Kenward-Roger"]) - 0.5) < 0.08
    # balanced within-group design: Satterthwaite's and Kenward-Roger's df are the ANOVA's (3 - 1)(6 - 1)
    assert table.loc["F, Satterthwaite", "df"] == pytest.approx(10.0, rel=1e-4)
    # chi-square references never use fewer df, so they reject at least as often as F with any df
    assert table.loc["LRT, chi-square", "rejected"] >= table.loc["F, Kenward-Roger", "rejected"] - 0.02


def test_tests_and_intervals_quiz_follows_the_numbers():
    from mmcore.lessons import quiz

    below = quiz.tests_and_intervals("treatD", 0.73, 12.0, 16, -11.4, 35.0, "blend")
    assert below[1].answer == "smaller (too optimistic)"
    assert below[2].answer.startswith("its lower end is below zero")
    above = quiz.tests_and_intervals("Days", 6.8, 17.0, 178, 5.0, 35.0, "Subject")
    assert above[2].answer.startswith("it is symmetric")


def test_random_intercepts_quiz_says_larger_groups_keep_more_of_their_deviation():
    """The group-size question's answer is the study whose lambda = sigma_b^2 / (sigma_b^2 + sigma^2 / n)
    is larger, at any sigma_b and sigma (its options name the group sizes)."""
    from mmcore.lessons import quiz

    dyestuff = fit("Yield ~ 1 + (1 | Batch)", load_dataset("dyestuff"))
    question = next(q for q in quiz.random_intercepts(dyestuff) if q.key == "ri_size")
    for sb, sigma in ((1.0, 2.0), (30.0, 25.0), (0.1, 50.0)):
        lam = {n: sb**2 / (sb**2 + sigma**2 / n) for n in (4, 16)}
        assert question.answer == f"in the study with groups of {max(lam, key=lam.get)}" in question.options
