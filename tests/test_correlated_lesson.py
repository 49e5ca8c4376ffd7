"""Lesson 12 (correlated errors): the data, the lesson's maths, its figures and the page under AppTest."""
import hashlib

import numpy as np
import plotly.graph_objects as go
import pytest

from mmcore import fit, load_dataset, simulate_trees
from mmcore.data.longitudinal import GROWTH
from mmcore.figures.correlated import fig_acf, fig_se_study, fig_trajectories
from mmcore.lessons import quiz
from mmcore.lessons.correlated import GROWTH_MODEL, SE_MODELS, STUDIES, TREE_MODEL, acf, code, se_simulation
from tests.conftest import ROOT
from tests.shown import codes
from tests.test_pages import charts, clean, markdown_with, run, truth

SHA256 = {  # identical to ../shared/data (copied unchanged; provenance in datasets/README.md)
    "trees": "fbed0d96bf81294fafac6703e6b0acdcccb49d119b38d0afe45614d3c67c92c8",
    "ovary": "f8dc27904688ca45c326d887de5fb79627e56d483758ed915db3995b5fca76f4",
    "bodyweight": "79390d4a4cbbf99dae1eb79f0db80b703b8cb7cdce2782a3df723d8bc32f7583",
}


@pytest.mark.parametrize("name", list(SHA256))
def test_copied_datasets_are_unchanged(name):
    assert hashlib.sha256((ROOT / "datasets" / f"{name}.csv").read_bytes()).hexdigest() == SHA256[name]


def test_shipped_shapes_and_levels():
    assert load_dataset("trees").shape == (144, 5) and list(load_dataset("trees").fert.cat.categories) == list("ABC")
    assert load_dataset("ovary").Mare.cat.categories[-1] == "11" and len(load_dataset("ovary")) == 308
    assert list(load_dataset("bodyweight").Diet.cat.categories) == ["1", "2", "3"]


def test_tree_simulator_is_seeded_and_phi_one_is_the_workshops_random_walk():
    a, b = simulate_trees(seed=4), simulate_trees(seed=4)
    assert a.equals(b) and not a.equals(simulate_trees(seed=5))
    heights = a.pivot(index="tree", columns="year", values="height").to_numpy()
    growth = a.pivot(index="tree", columns="year", values="growth").to_numpy()
    assert np.allclose(np.cumsum(growth, axis=1), heights, atol=2e-3)
    # phi = 1: heights are a random walk around each tree's line, the increments independent
    def deviations(d):  # this year's growth minus the fertilizer's rate, tree x year
        d = d.assign(dev=d["growth"] - d["fert"].map(dict(zip("ABC", GROWTH))).astype(float))
        return d.pivot(index="tree", columns="year", values="dev").to_numpy()

    g = deviations(simulate_trees(phi=1.0, sd_tree=0.0, trees_per_fert=400, seed=1))
    assert abs(np.corrcoef(g[:, 1], g[:, 2])[0, 1]) < 0.07
    g = deviations(simulate_trees(phi=0.0, sd_tree=0.0, trees_per_fert=400, seed=1))
    assert np.corrcoef(g[:, 1], g[:, 2])[0, 1] == pytest.approx(-0.5, abs=0.07)  # differences of white noise


def test_phi_estimate_follows_the_truth():
    for phi in (0.0, 0.6):
        d = simulate_trees(phi=phi, sd_tree=0.2, trees_per_fert=150, years=6, seed=2)
        # with e_0 = 0 the truth starts at planting, AR(1) assumes a stationary start: close, not equal
        assert fit(TREE_MODEL, d, correlation="ar1", time="year").phi == pytest.approx(phi, abs=0.1)


def test_acf_of_a_model_with_independent_errors_uses_the_time_order():
    d = load_dataset("trees")
    m0 = fit(TREE_MODEL, d)
    shuffled = fit(TREE_MODEL, d.sample(frac=1, random_state=1))
    a, b = acf(m0, time="year"), acf(shuffled, time="year")
    assert a["ACF"].to_numpy() == pytest.approx(b["ACF"].to_numpy(), abs=1e-6)
    assert list(a["pairs"]) == [144, 108, 72, 36] and a["ACF"].iloc[0] == 1.0



def test_residuals_of_a_random_intercept_are_negatively_autocorrelated_by_construction():
    """What the page's caption under the ACF says. Independent errors, random intercept, n per group:
    the residuals' ACF averages about -lambda / (n - lambda) at every lag (-1/(n - 1) as lambda -> 1).
    And on the workshop's truth, where the AR(1) model is right, its normalized residuals still give
    bars of about -0.2 to -0.3 at lags 1 to 3, as the shipped trees' do."""
    import pandas as pd
    rng = np.random.default_rng(1)
    for n, sd_b in ((4, 3.0), (4, 0.5), (10, 3.0)):
        bars, expected = [], []
        for _ in range(60):
            g = np.repeat(np.arange(30), n)
            y = 10 + rng.normal(0, sd_b, 30)[g] + rng.normal(0, 1, 30 * n)
            m = fit("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "t": np.tile(np.arange(n), 30), "g": g.astype(str)}))
            lam = float(m.re_cov[0][2][0, 0]) / (float(m.re_cov[0][2][0, 0]) + m.sigma**2 / n)
            bars.append(acf(m, time="t")["ACF"].to_numpy()[1:4])
            expected.append(-lam / (n - lam))
        assert np.mean(bars, axis=0) == pytest.approx(np.mean(expected), abs=0.03), (n, sd_b)
    assert np.mean(expected) == pytest.approx(-1 / (10 - 1), abs=0.01)  # lambda near 1
    normalized = [acf(fit(TREE_MODEL, simulate_trees(1.0, 0.3, 0.5, seed=s), correlation="ar1", time="year"),
                      "normalized")["ACF"].to_numpy()[1:] for s in range(60)]
    assert np.all((-0.32 < np.mean(normalized, axis=0)) & (np.mean(normalized, axis=0) < -0.18))
    shipped = acf(fit(TREE_MODEL, load_dataset("trees"), correlation="ar1", time="year"), "normalized")["ACF"]
    assert np.all((-0.3 < shipped.iloc[1:]) & (shipped.iloc[1:] < -0.2))

def test_se_simulation_shows_what_ignoring_the_correlation_does():
    study = se_simulation(load_dataset("trees"), {"phi": 1.0, "sd_tree": 0.3, "sd_year": 0.5}, nsim=200, seed=3)
    t = study.table
    assert list(t.index) == list(SE_MODELS) and study.failed == 0
    ratio = t["reported / true"]
    # the random-intercept model with independent errors claims far too much precision; a random slope or
    # the growth increments are honest
    assert ratio["random intercept, independent errors"] < 0.7
    assert ratio["random intercept, independent errors"] < ratio["random intercept, AR(1) errors"] < 0.9
    for honest in ("random slope, independent errors", "random slope, AR(1) errors",
                   "growth increments, random intercept"):
        assert ratio[honest] == pytest.approx(1.0, abs=0.15)
    assert t.loc["random intercept, independent errors", "coverage of 95% intervals"] < 0.85
    again = se_simulation(load_dataset("trees"), {"phi": 1.0, "sd_tree": 0.3, "sd_year": 0.5}, nsim=200, seed=3)
    assert again.table.equals(t)  # seeded


def test_figures_are_valid_plotly():
    d = load_dataset("bodyweight")
    study = STUDIES["bodyweight"]
    m1 = fit(study.formula, d, correlation=study.correlation, time=study.time)
    m0 = fit(study.formula, d)
    figs = [fig_trajectories(m1, "Time", "Diet"), fig_trajectories(fit(GROWTH_MODEL, load_dataset("trees")), "year"),
            fig_acf({"independent errors": acf(m0, time="Time"), "AR(1) errors": acf(m1, "normalized")}),
            fig_se_study(se_simulation(load_dataset("trees"), {"phi": 0.5, "sd_tree": 0.3, "sd_year": 0.5}, nsim=20))]
    for f in figs:
        go.Figure(f.to_dict())  # raises on any invalid property
    assert sum(t["name"].endswith("population") for t in figs[0].to_dict()["data"]) == 3


def test_code_export_is_nlme_and_mmcore():
    r, py = code(STUDIES["ovary"], "ovary.csv", reml=False)
    assert "lme(follicles ~ s + c, random = list(Mare = pdDiag(~ s))" in r and 'method = "ML"' in r
    assert "corAR1(form = ~ obs | Mare)" in r and 'correlation="ar1", time="obs"' in py


def test_quiz_is_built_from_the_fit():
    qs = quiz.correlated_errors(0.5, 0.01, "year")
    assert qs[0].answer == "0.250" and qs[0].answer in qs[0].options and qs[1].answer == "yes"
    assert all(q.answer in q.options for q in qs) and len(set(qs[0].options)) == len(qs[0].options)


PAGE = "pages/correlated_errors.py"


@pytest.mark.parametrize("dataset", ["trees", "ovary", "bodyweight", "simulate"])
def test_page_every_dataset(dataset):
    at = run(PAGE, ce_dataset=dataset)
    clean(at)
    assert len(charts(at)) >= 2 and at.latex
    assert "Correlation Structure" in codes(at)[1] or "Correlation Structure" in codes(at)[0]
    anova_text = next(c for c in codes(at) if "L.Ratio" in c)
    assert "1 vs 2" in anova_text
    assert len(at.radio) >= 4  # the checks of understanding
    if dataset == "bodyweight":  # CAR(1): phi per day, and the correlation a week apart
        assert "at the usual gap of 7 days, phi^7 = **0.147**" in markdown_with(at, "AR(1) model: phi")
    if dataset == "simulate":
        assert set(truth(at)) == {"phi (AR(1) model)", "tree-to-tree SD", "yearly SD (growth model's residual SD)"}


def test_page_simulate_slider_moves_the_truth_and_the_fit():
    at = run(PAGE, ce_dataset="simulate")
    before = truth(at)["phi (AR(1) model)"]
    at.slider(key="ce_phi").set_value(0.0).run()
    clean(at)
    after = truth(at)["phi (AR(1) model)"]
    assert after[0] == 0.0 and before[0] == 1.0 and after[1] != before[1]


def test_page_runs_the_standard_error_simulation():
    at = run(PAGE, ce_nsim=200)
    at.button(key="ce_run").click().run()
    clean(at)
    titles = [c["layout"]["title"]["text"] for c in charts(at)]
    assert any("Honest standard errors? 200" in t for t in titles)
    assert "What to notice" in markdown_with(at, "What to notice")


def test_the_acf_caption_explains_bars_below_zero():
    at = run("pages/correlated_errors.py")
    clean(at)
    text = next(c.value for c in at.caption if "Why bars below zero?" in c.value)
    assert "−λ/(n − λ)" in text and "−0.2 to −0.3" in text  # the shipped trees: bars at every lag below 0
    at = run("pages/correlated_errors.py", ce_dataset="ovary")
    clean(at)
    text = next(c.value for c in at.caption if "Why bars below zero?" in c.value)
    assert "tree" not in text  # the trees' simulation is said of the trees only
