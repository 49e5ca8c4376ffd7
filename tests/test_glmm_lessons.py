"""The maths of lesson 11 (mmcore.lessons.glmm, glm_diagnostics) and its figures: closed forms,
properties that must hold, and every figure valid for plotly."""
import numpy as np
import plotly.graph_objects as go
import pytest
from scipy import integrate, special, stats

from mmcore import figures, fit, load_dataset, simulate_binary
from mmcore.lessons import glm_diagnostics as diag
from mmcore.lessons import glmm as lesson
from mmcore.lessons import quiz

CTSIB = "stable ~ Sex + Age + Height + Weight + Surface + Vision + (1 | Subject)"


@pytest.fixture(scope="module")
def ctsib():
    return fit(CTSIB, load_dataset("ctsib"), family="binomial")


@pytest.mark.parametrize("sigma", [0.0, 0.5, 2.0, 4.0])
def test_probit_marginal_curve_is_phi_of_the_shrunk_predictor(sigma):
    eta = np.linspace(-3, 3, 13)
    assert lesson.marginal_mean(eta, sigma, "probit") == pytest.approx(special.ndtr(eta / np.sqrt(1 + sigma**2)), abs=1e-6)


def test_logit_marginal_curve_is_the_integral_and_close_to_zegers_approximation():
    sigma, eta = 2.0, 1.3
    exact = integrate.quad(lambda b: special.expit(eta + b) * stats.norm.pdf(b, 0, sigma), -30, 30, epsabs=1e-13)[0]
    assert lesson.marginal_mean(np.array([eta]), sigma, "logit")[0] == pytest.approx(exact, abs=1e-7)
    approx = special.expit(eta * lesson.attenuation_factor(sigma, "logit"))
    assert abs(approx - exact) < 0.02  # the classic approximation is good to about a percent
    assert lesson.attenuation_factor(2.0, "probit") == pytest.approx(1 / np.sqrt(5))


def test_odds_ratios_and_their_intervals(ctsib):
    t = lesson.odds_ratios(ctsib)
    assert "(Intercept)" not in t.index
    assert t.loc["Surfacenorm", "ratio"] == pytest.approx(np.exp(ctsib.fixef["Surfacenorm"]))
    assert np.all((t.lower < t.ratio) & (t.ratio < t.upper))
    assert t.loc["Surfacenorm", "p"] == pytest.approx(ctsib.coef_table.loc["Surfacenorm", "Pr(>|z|)"])


def test_odds_ratio_figure_and_quiz_print_plain_numbers(ctsib):
    """Surfacenorm's odds ratio is about 2118: ticks, hovers and the quiz say 2120, never 2.12e+03."""
    spec = figures.fig_odds_ratios(ctsib).to_plotly_json()
    texts = list(spec["layout"]["xaxis"]["ticktext"]) + list(spec["data"][0]["customdata"])
    assert "%{x:" not in spec["data"][0]["hovertemplate"]  # plotly's own .3g prints 2.12e+3
    assert not [t for t in texts if "e+" in t or "e-" in t], texts
    assert any(t.startswith("2120 (95% interval 203 to 22100)") for t in spec["data"][0]["customdata"])
    question = quiz.glmm("Surfacenorm", float(np.exp(ctsib.fixef["Surfacenorm"])), 2.9, 0.5, "binomial")[0]
    assert "is 2120." in question.text and "e+" not in question.text


@pytest.mark.parametrize("p,text", [(0.5, "0.500"), (0.171, "0.171"), (0.99953, "0.99953"), (0.0004, "0.00040"),
                                    (0.9995, "0.99950")])
def test_probability_text_never_reads_as_0_or_1(p, text):
    assert lesson.probability_text(p) == text


def test_curves_average_to_the_marginal_curve():
    d = simulate_binary(n_groups=200, n_per_group=5, sigma_b=2.0, seed=4)
    m = fit("y ~ x + (1 | group)", d, family="binomial")
    c = lesson.subject_curves(m, "x")
    # BLUPs shrink, so their curves' mean is a little steeper than the marginal curve, never far from it
    assert np.max(np.abs(c["mean_of_subjects"] - c["marginal"])) < 0.05
    slope = lambda y: np.polyfit(c["x"], special.logit(y), 1)[0]  # noqa: E731
    assert slope(c["marginal"]) < slope(c["median"])  # the population average is flatter


def test_cell_profiles_follow_the_observed_shares(ctsib):
    t = lesson.cell_profiles(ctsib, ("Surface", "Vision"))
    assert len(t) == 6
    assert np.max(np.abs(t["population average"] - t["observed"])) < 0.06
    assert np.all(np.abs(t["with b_i"] - t["observed"]) < 0.05)


def test_attenuation_in_the_data_is_what_theory_predicts(ctsib):
    from mmcore.glmm.marginal import fit_marginal

    t = lesson.attenuation_table(ctsib, fit_marginal(CTSIB, load_dataset("ctsib"), "binomial", "gee"))
    big = t.loc[["Surfacenorm", "Visionopen", "Sexmale"]]
    assert np.all(np.abs(big["ratio"] - big["predicted ratio"]) < 0.05)


def test_binned_residuals_mostly_inside_their_band(ctsib):
    t = diag.binned_residuals(ctsib)
    assert t.n.sum() == ctsib.nobs and t.inside.mean() >= 0.8


def test_simulated_residuals_are_uniform_under_the_model():
    d = simulate_binary(n_groups=60, n_per_group=8, seed=7)
    m = fit("y ~ x + (1 | group)", d, family="binomial")
    s = diag.simulated_residuals(m, nsim=300)
    assert np.all((s.residuals >= 0) & (s.residuals <= 1))
    assert s.ks_p > 0.01 and 0.7 < s.dispersion < 1.3


def test_counts_show_overdispersion_without_the_observation_level_effect():
    ticks = load_dataset("grouseticks")
    plain = fit("TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION)", ticks, family="poisson")
    s = diag.simulated_residuals(plain, conditional=True)
    assert s.dispersion > 2 and s.dispersion_p < 0.01
    assert diag.pearson_dispersion(plain) > 1.5
    assert s.counts.observed.sum() <= plain.nobs and s.counts["count"].iloc[0] == 0


def test_pql_study_returns_both_methods():
    design = lesson.pql_study_design({"n_groups": 20, "n_per_group": 4, "beta0": 0.0, "beta1": 1.0, "sigma_b": 1.5})
    seen = []
    s = lesson.pql_bias_study(design["data"], "y ~ x + (1 | group)", design["truth"], nsim=8,
                              progress=lambda d, t: seen.append(d))
    assert len(s.laplace_sigma) >= 6 and np.isfinite(s.pql_sigma).sum() >= 6 and seen[-1] == 8


def test_every_glmm_figure_is_valid(ctsib):
    sim = fit("y ~ x + (1 | group)", simulate_binary(seed=2), family="binomial")
    ticks = fit("TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION)", load_dataset("grouseticks"), family="poisson")
    table = lesson.compare_methods("y ~ x + (1 | group)", simulate_binary(seed=2), "binomial")
    built = [figures.fig_subject_curves(sim, "x"), figures.fig_cell_profiles(ctsib), figures.fig_odds_ratios(ctsib),
             figures.fig_theory(lesson.theory_curves(0, 1, 2, "probit"), "probit", 2), figures.fig_methods(table, ["x"]),
             figures.fig_binned_residuals(ctsib), figures.fig_simulated_residuals(sim),
             figures.fig_count_frequencies({"plain": ticks}), figures.fig_caterpillar(ctsib)]
    for f in built:
        go.Figure(f.to_dict())  # plotly's full validation
        assert f.data


def test_quiz_questions_have_their_answer_among_the_options():
    for q in quiz.glmm("Surfacenorm", 2118.0, 2.9, 0.5, "binomial"):
        assert q.answer in q.options and q.why
