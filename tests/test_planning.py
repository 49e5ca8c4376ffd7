"""The planner against theory: in a balanced design with the treatment between groups, a non-singular
REML fit gives the ANOVA estimates, so (beta1_hat - beta1) / SE is exactly t with G - 2 df and the
t statistic noncentral t. The simulated coverage of the 95% interval must then lie within Monte Carlo
error of 95% (Satterthwaite's and Kenward-Roger's t, and the interval with the variances known), the
z interval must fall short by what t(G - 2) says, and the power must match the noncentral t. Each
study's t test and profile interval also equal coef_table's and confint's on that study alone."""
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from scipy import stats

import mmcore
from mmcore.figures import fig_planning
from mmcore.figures.designs import planning_metrics
from mmcore.figures.style import styled
from mmcore.inference.variance import variance_test
from mmcore.lessons import planning
from mmcore.lmm.batch import simulate_responses
from mmcore.lmm.deviance import ProfiledDeviance
from mmcore.model.design import build_model_data

TRUTH = dict(effect=1.0, sigma_b=2.0, sigma=1.0)  # sigma_b large: a singular fit is practically impossible


@pytest.fixture(scope="module")
def studies():
    rng = np.random.default_rng(20)
    return planning.simulate_studies(8, 4, "between", nsim=2000, rng=rng, **TRUTH)


def within_mc(share: float, expected: float, nsim: int, k: float = 3.0) -> bool:
    return abs(share - expected) <= k * np.sqrt(expected * (1 - expected) / nsim)


def test_balanced_between_design_is_exactly_t_with_g_minus_2_df(studies):
    fine = ~studies.singular  # P(MS between < MS within) = P(F(6, 24) < 1/17): about 1 in 1000
    assert fine.mean() > 0.99
    assert studies.df["satterthwaite"][fine] == pytest.approx(6.0, abs=1e-6)
    assert studies.df["kenward-roger"][fine] == pytest.approx(6.0, abs=1e-6)
    # the SE with known variances: 2 sqrt((sigma_b^2 + sigma^2 / n) / G)
    assert studies.se_known == pytest.approx(2 * np.sqrt((4.0 + 1.0 / 4) / 8))


def test_coverage_of_the_fixed_effect_is_95_percent_within_monte_carlo_error(studies):
    row = planning.summarise(studies, **{k: TRUTH[k] for k in ("effect", "sigma_b")})
    nsim = row["nsim"]
    assert within_mc(row["coverage_satterthwaite"], 0.95, nsim)
    assert within_mc(row["coverage_kenward-roger"], 0.95, nsim)
    known = np.mean(np.abs(studies.estimate - TRUTH["effect"]) <= 1.959964 * studies.se_known)
    assert within_mc(known, 0.95, nsim)
    # z ignores the 6 df: it covers P(|t_6| < 1.96) of the time, about 90%, clearly short of 95%
    z_theory = 1 - 2 * stats.t.sf(stats.norm.ppf(0.975), 6)
    assert within_mc(row["coverage_z"], z_theory, nsim)
    assert row["coverage_z"] < 0.95 - 3 * np.sqrt(0.95 * 0.05 / nsim)
    # the sampling SD of the estimates is the SE with the variances known
    assert row["effect_sd"] == pytest.approx(studies.se_known, rel=4 / np.sqrt(2 * nsim))


def test_power_is_the_noncentral_t(studies):
    row = planning.summarise(studies, **{k: TRUTH[k] for k in ("effect", "sigma_b")})
    crit = stats.t.ppf(0.975, 6)
    delta = TRUTH["effect"] / studies.se_known
    power = stats.nct.sf(crit, 6, delta) + stats.nct.cdf(-crit, 6, delta)
    assert within_mc(row["power_satterthwaite"], power, row["nsim"])
    assert row["power_known"] == pytest.approx(stats.norm.sf(1.959964 - delta) + stats.norm.cdf(-1.959964 - delta),
                                               abs=1e-6)


def test_each_study_is_analysed_as_lmertest_and_confint_would():
    rng = np.random.default_rng(5)
    st = planning.simulate_studies(6, 3, "between", 0.5, 0.6, 1.0, nsim=30, rng=rng)
    rng = np.random.default_rng(5)  # the same draws again, to refit study by study
    frame = planning.design_frame(6, 3, "between")
    dev = ProfiledDeviance(build_model_data(planning.FORMULA, frame), reml=True)
    Y = simulate_responses(dev, np.array([0.6]), np.array([0.0, 0.5]), 1.0, 30, rng)
    for s in (0, 7, 19):
        f = mmcore.fit(planning.FORMULA, frame.assign(y=Y[s]))
        assert st.estimate[s] == pytest.approx(f.fixef["treatB"], abs=1e-6)
        assert st.singular[s] == f.is_singular
        for ddf in ("satterthwaite", "kenward-roger"):
            table = mmcore.coef_table(f, ddf)
            assert st.se[ddf][s] == pytest.approx(table.loc["treatB", "Std. Error"], rel=1e-6)
            assert st.df[ddf][s] == pytest.approx(table.loc["treatB", "df"], rel=1e-5)
        ci = mmcore.confint(f, method="profile").loc["sd_(Intercept)|group"]
        width = ci.upper - ci.lower
        assert [st.sd_lower[s], st.sd_upper[s]] == pytest.approx([ci.lower, ci.upper], abs=2e-4 * width)
        test = variance_test(f)
        assert st.lrt[s] == pytest.approx(test.observed, abs=1e-6)


def test_variance_test_keeps_its_level_when_there_is_no_group_variance():
    rng = np.random.default_rng(3)
    st = planning.simulate_studies(10, 5, "within", 0.0, 0.0, 1.0, nsim=1500, rng=rng)
    row = planning.summarise(st, 0.0, 0.0)
    assert row["power_variance"] <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 1500)  # the mixture: at most its level
    assert 0.3 < row["singular"] < 0.8  # sigma_b = 0: about half the fits land on the boundary
    assert within_mc(row["power_kenward-roger"], 0.05, 1500)  # no effect: the t test's size


def test_within_groups_the_group_variance_cancels():
    """Within groups the effect is estimated from differences inside each group: its SE does not
    depend on sigma_b, and it is 2 sigma / sqrt(n G)."""
    frame = planning.design_frame(10, 6, "within")
    md = build_model_data(planning.FORMULA, frame)
    assert planning.known_variance_se(md, 0.0, 2.0) == pytest.approx(2 * 2.0 / np.sqrt(60))
    assert planning.known_variance_se(md, 5.0, 2.0) == pytest.approx(2 * 2.0 / np.sqrt(60))


def test_plan_grid_progress_and_figures():
    calls = []
    table = planning.plan((4, 8), (2, 6), "between", 1.0, 1.0, 1.0, nsim=40, seed=1,
                          progress=lambda done, total: calls.append((done, total)))
    assert list(zip(table["groups"], table["per_group"])) == [(4, 2), (8, 2), (4, 6), (8, 6)]
    assert calls[-1] == (160, 160) and all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
    again = planning.plan((4, 8), (2, 6), "between", 1.0, 1.0, 1.0, nsim=40, seed=1)
    pd.testing.assert_frame_equal(table, again)  # seeded: the same studies
    se = table.set_index(["groups", "per_group"])["se_known"]
    assert se[(8, 6)] < se[(4, 6)] and se[(8, 6)] < se[(8, 2)]
    for method in planning.METHODS:
        for metric in planning_metrics(method):
            fig = fig_planning(table, metric, method)
            go.Figure(styled(fig, 1.6).to_dict())  # plotly's full validator
            assert len([t for t in fig.data if t.mode == "lines+markers"]) == 2  # one line per n
    assert planning.smallest_groups(table, "se_known", -1) == {2: 4, 6: 4}


@pytest.mark.parametrize("bad", [dict(groups=(2,), design="between"), dict(per_group=(1,), design="within"),
                                 dict(design="sideways"), dict(nsim=5)])
def test_plan_refuses_impossible_designs(bad):
    args = dict(groups=(4,), per_group=(2,), design="between", effect=1.0, sigma_b=1.0, sigma=1.0, nsim=40) | bad
    with pytest.raises(mmcore.MixedModelError):
        planning.plan(**args)


def test_findings_say_what_the_grid_shows():
    table = planning.plan((4, 8), (2, 6), "between", 1.0, 1.0, 1.0, nsim=40, seed=2)
    text = planning.findings(table, "kenward-roger", "Kenward-Roger t")
    assert "80% power for an effect of 1" in text["effect"] and "Kenward-Roger t" in text["effect"]
    assert "With 4 groups the z interval covers" in text["effect"]
    assert "within a third of itself" in text["sigma_b"] and "profile interval covers" in text["sigma_b"]
    assert text["singular"].startswith("With 4 groups,")
    null = planning.plan((4,), (2,), "within", 0.0, 0.0, 1.0, nsim=40, seed=2)
    assert "is its size" in planning.findings(null, "z", "z (normal)")["sigma_b"]


def test_planning_quiz_answers_follow_the_design():
    from mmcore.lessons import quiz

    se = lambda design: lambda g, n: planning.theory_se(g, n, design, 1.0, 2.0)  # noqa: E731
    between = {q.key: q for q in quiz.planning("between", 1.0, 2.0, se("between"))}
    assert between["pl_total"].answer == "50 groups of 4"  # more groups beat more per group
    assert between["pl_limit"].answer.startswith("2 sigma_b / sqrt(G)")
    within = {q.key: q for q in quiz.planning("within", 1.0, 2.0, se("within"))}
    assert within["pl_total"].answer == "all three equally" and within["pl_limit"].answer == "0"


def test_planning_figures_name_every_line_and_draw_shares_whole():
    """Every line of the planner's figures has its own legend entry, colour and dash (one "known
    variances" entry stood for three dashed lines of three colours), and coverage and power run from
    0 to 100% with their reference lines named (a 60-100% axis made 90% coverage look like a collapse)."""
    table = pd.DataFrame([dict(groups=g, per_group=n, nsim=200, coverage_z=0.78 + 0.01 * g, power_z=min(1.0, g / 20),
                               effect_sd=2 / g**0.5, se_known=2.1 / g**0.5, power_known=min(1.0, g / 18))
                          for n in (2, 6, 20) for g in (4, 8, 16)])
    for metric in ("effect_se", "effect_coverage", "effect_power"):
        fig = fig_planning(table, metric, "z")
        go.Figure(styled(fig, 1.6).to_dict())  # plotly's full validator
        data = fig.to_dict()["data"]
        assert all(t.get("showlegend", True) for t in data)
        assert len({t["name"] for t in data}) == len(data) == (6 if metric != "effect_coverage" else 3)
        assert len({(t["line"]["color"], t["line"].get("dash", "solid")) for t in data}) == len(data)
    for metric, text in (("effect_coverage", "nominal 95%"), ("effect_power", "target 80%")):
        layout = fig_planning(table, metric, "z").to_dict()["layout"]
        assert layout["yaxis"]["range"] == [0, 1.02] and [a["text"] for a in layout["annotations"]] == [text]
