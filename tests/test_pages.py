"""Every page under Streamlit's AppTest: runs clean, its main widgets change what it shows,
simulate mode works on every dataset."""
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.shown import chart_specs as charts  # other page tests import it from here
from tests.shown import code_captions, codes, tables

# every page in the folder: a page added later is tested without anyone remembering to list it
PAGES = ["app.py"] + sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))
NO_CHART = {"app.py", "pages/model_comparison.py", "pages/tutorial.py", "pages/fixed_or_random.py"}


def run(page: str, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def truth(at: AppTest) -> dict:
    """The estimates-beside-the-truth table: parameter -> (truth, estimate)."""
    table = next(t for t in tables(at) if list(t.columns) == ["parameter", "truth", "estimate"])
    # labels are typeset ($\sigma_b$, $\sigma_{b1}$): keyed here by their plain names (sigma_b, sigma_b1)
    return {re.sub(r"[$\\{}]", "", name): (float(t), float(e)) for name, t, e in table.itertuples(index=False)}


def parts(at: AppTest, key: str) -> list[str]:
    """The labels of a lesson's parts (lab.sections: the segmented control keyed `key`)."""
    return next(w for w in at.segmented_control if w.key == key).options


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_clean_with_charts(page):
    at = run(page)
    clean(at)
    if page not in NO_CHART:  # model comparison's chart appears once its bootstrap has run
        assert charts(at), "a page without a chart"
    assert at.title or page == "app.py"


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_clean_in_presenter_mode(page):
    """Presenter mode restyles every figure (larger fonts, taller, a screen's height at most)."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    clean(at)
    assert all(c["layout"]["height"] <= 640 for c in charts(at)), page


def test_random_intercepts_pooling_toggle_changes_the_lines():
    at = run("pages/random_intercepts.py")
    before = charts(at)[0]  # X and Z (a closed expander) are not drawn
    names = lambda spec: {t.get("name") for t in spec["data"]}  # noqa: E731
    assert {"no pooling: each group alone", "complete pooling: one line for all"} <= names(before)
    at.pills(key="ri_show").set_value(["partial pooling"]).run()
    clean(at)
    after = charts(at)[0]
    assert "no pooling: each group alone" not in names(after)
    assert "partial pooling: mixed model" in names(after)


def test_random_intercepts_draws_only_the_open_tab():
    """One idea per tab (lab.sections): what is in a closed tab is not sent at all (a slider does not
    wait for it); opened, it is; a link that sets a tab's widget opens that tab."""
    at = run("pages/random_intercepts.py")
    assert parts(at, "ri_tab") == ["Three ways to estimate", "From complete to no pooling", "The model", "The fit",
                                  "BLUPs", "Diagnostics", "Check yourself"]
    assert len(charts(at)) == 1 and not quiz_radios(at)  # the pooling view alone
    assert not any("Linear mixed model" in c for c in codes(at))
    at = run("pages/random_intercepts.py", ri_tab="The model")
    assert [c["layout"]["title"]["text"] for c in charts(at)][:1] and len(charts(at)) == 2  # X and Z
    at = run("pages/random_intercepts.py", ri_tab="The fit")
    assert not charts(at) and "Linear mixed model fit by REML" in codes(at)[0]  # the link comes last
    at = run("pages/random_intercepts.py", ri_tab="Diagnostics")
    assert len(charts(at)) == 3
    at = run("pages/random_intercepts.py", ri_tab="Check yourself")
    assert not charts(at) and len(quiz_radios(at)) >= 2
    at = AppTest.from_file(str(ROOT / "pages/random_intercepts.py"), default_timeout=60)
    at.query_params["ri_panels"] = "true"  # a link that names no tab
    at.run()
    clean(at)
    assert at.session_state["ri_tab"] == "BLUPs" and len(charts(at)) == 2  # the BLUPs and every group's line


# Lessons in tabs (lab.sections): the tab's key. Each holds its questions and code export in "Check yourself".
SECTIONED = {"pages/random_intercepts.py": "ri_tab", "pages/icc.py": "ic_tab", "pages/random_slopes.py": "rs_tab",
             "pages/shrinkage.py": "sh_tab"}
CHECK_TAB = {Path(page).stem: {key: "Check yourself"} for page, key in SECTIONED.items()}


@pytest.mark.parametrize("page", sorted(SECTIONED))
@pytest.mark.parametrize("dataset", ["its first", "simulate"])
def test_every_tab_of_a_lesson_runs_clean_and_draws_alone(page, dataset):
    """Each tab alone, as a link opens it, in both modes: the page tests above see only the first."""
    key, prefix = SECTIONED[page], SECTIONED[page].split("_")[0]
    data = {} if dataset == "its first" else {f"{prefix}_dataset": "simulate"}
    labels = parts(run(page, **data), key)
    assert len(labels) >= 5 and labels[-1] == "Check yourself"
    drawn = set()
    for label in labels:
        for present in ("", "1"):
            at = AppTest.from_file(str(ROOT / page), default_timeout=60)
            for name, value in {**data, key: label, "present": present}.items():
                at.query_params[name] = value
            at.run()
            clean(at)
            assert at.session_state[key] == label
            widgets = [w.label for kind in ("button", "slider", "select_slider", "radio", "multiselect", "selectbox",
                                            "toggle", "number_input") for w in at.main.get(kind)]
            shown = json.dumps([charts(at), [m.value for m in at.markdown], codes(at)[:-1], widgets])
            assert (present, shown) not in drawn, label  # a tab of its own: not what another tab draws
            drawn.add((present, shown))


def quiz_radios(at: AppTest) -> list:
    return [r for r in at.radio if r.key and r.key.startswith("quiz_")]


@pytest.mark.parametrize("dataset", ["sleepstudy", "penicillin", "estrone", "dyestuff", "simulate"])
def test_random_intercepts_every_dataset(dataset):
    at = run("pages/random_intercepts.py", ri_dataset=dataset, ri_tab="The fit")
    clean(at)
    summary = codes(at)[0]
    assert "Linear mixed model fit by REML" in summary
    if dataset == "simulate":
        assert truth(at), "estimates beside the truth"


def test_random_intercepts_simulate_slider_and_new_sample():
    at = run("pages/random_intercepts.py", ri_dataset="simulate", ri_tab="The fit")
    first = codes(at)[0]
    at.slider(key="ri_sigma_b").set_value(60.0).run()
    clean(at)
    assert codes(at)[0] != first
    assert truth(at)["sigma_b"][0] == 60.0
    seed = at.session_state["ri_seed"]
    at.button(key="ri_new").click().run()
    assert at.session_state["ri_seed"] == seed + 1


def test_singular_fit_is_explained_on_the_page():
    import mmcore

    # this truth and seed give lme4 a boundary fit (sigma_b estimated as 0): checked directly first
    truth = dict(n_groups=4, n_per_group=3, beta0=250.0, beta1=10.0, sigma_b=0.0, sigma=25.0)
    assert mmcore.fit("y ~ x + (1 | group)", mmcore.simulate_intercepts(**truth, seed=1)).is_singular
    at = run("pages/random_intercepts.py", ri_dataset="simulate", ri_seed=1,
             **{f"ri_{k}": v for k, v in truth.items()})
    clean(at)
    assert any("Singular fit" in w.value and "apart from zero" in w.value for w in at.warning)


def test_random_slopes_model_choice_changes_the_fit():
    at = run("pages/random_slopes.py", rs_tab="Three models")
    clean(at)
    assert "(Days | Subject)" in codes(at)[0].replace("(Days|Subject)", "(Days | Subject)")
    at.radio(key="rs_model").set_value("uncorrelated").run()
    clean(at)
    assert "||" in codes(at)[0]
    at = run("pages/random_slopes.py", rs_model="intercept only")  # the first tab: lines and the plane
    clean(at)
    assert any("no random slope" in i.value for i in at.info)


def test_random_slopes_rescaling_multiplies_the_slope_variance_by_100():
    def slope_variance(at):
        text = next(m.value for m in at.markdown if "slope variance is" in m.value)
        return float(text.split("slope variance is **")[1].split("**")[0])

    at = run("pages/random_slopes.py", rs_tab="Rescaling Days")
    per_day = slope_variance(at)
    at.radio(key="rs_unit").set_value("tens of its units").run()
    clean(at)
    assert slope_variance(at) == pytest.approx(per_day * 100, rel=1e-3)


def test_random_slopes_simulate_correlation_slider():
    at = run("pages/random_slopes.py", rs_dataset="simulate")
    clean(at)
    plane = lambda: next(c for c in charts(at) if "ellipse" in json.dumps(c))  # noqa: E731
    before = plane()
    at.slider(key="rs_rho").set_value(0.9).run()
    clean(at)
    assert plane() != before
    assert truth(at)["rho"][0] == 0.9


def test_code_export_shows_r_and_statsmodels():
    tab = CHECK_TAB["random_slopes"]
    assert not any(m.value.startswith("**R (lme4)**") for m in run("pages/random_slopes.py", **tab).markdown)  # drawn when opened
    at = run("pages/random_slopes.py", code_export=True, **tab)
    code = next(m.value for m in at.markdown if m.value.startswith("**R (lme4)**"))
    assert "lmer(Reaction ~ Days + (Days | Subject)" in code
    assert "smf.mixedlm(" in code and "from mmcore import fit" in code


def markdown_with(at: AppTest, words: str) -> str:
    return next(m.value for m in at.markdown if words in m.value)


def test_shrinkage_deleting_observations_shrinks_that_group():
    at = run("pages/shrinkage.py")
    lam = lambda: float(markdown_with(at, "\\lambda_i$ =").split("= **")[1].split("**")[0])  # noqa: E731
    full = lam()
    at.session_state["sh_keep"] = 1  # where the student let go of the chart's slider (lab.chart.show's on_step)
    at.run()
    clean(at)
    assert lam() < full
    # the table of every number kept, under its heading in one element: the lambda shown is its row 1's
    steps = next(t for t in tables(at) if r"$\lambda_i$" in t.columns)
    assert markdown_with(at, "at every number kept").index("at every number kept") < markdown_with(
        at, "at every number kept").index("| kept |")
    assert list(steps["kept"])[0] == "1" and float(steps[r"$\lambda_i$"].iloc[0]) == pytest.approx(lam(), abs=1e-3)
    assert float(steps[r"$\lambda_i$"].iloc[1]) == pytest.approx(full, abs=1e-3)  # the first run's: 2 kept
    at.session_state["sh_tab"] = "Random slopes"
    at.run()
    before = charts(at)[0]  # the slopes plane
    at.session_state["sh_days"] = 3  # let go at 3 days on the chart's slider
    at.run()
    clean(at)
    plane = charts(at)[0]
    assert plane != before and plane["layout"]["sliders"][0]["active"] == 1  # the step of 3 days, shown first
    assert plane["layout"]["title"]["text"].startswith("335, 3 of 10 kept: own slope")


def test_shrinkage_simulation_runs_with_progress_and_reports():
    at = run("pages/shrinkage.py", sh_tab="Does shrinkage pay?")
    at.button(key="sh_run").click().run()
    clean(at)
    text = markdown_with(at, "Mean over")
    fixed, random = (float(text.split("**")[k]) for k in (1, 3))
    assert random < fixed


@pytest.mark.parametrize("dataset", ["sh", "mr", "ic"])
def test_lesson_pages_in_simulate_mode(dataset):
    page = {"sh": "shrinkage", "mr": "ml_vs_reml", "ic": "icc"}[dataset]
    at = run(f"pages/{page}.py", **{f"{dataset}_dataset": "simulate"})
    clean(at)
    assert charts(at)


@pytest.mark.parametrize("dataset", ["dyestuff", "penicillin", "estrone", "sleepstudy"])
def test_ml_vs_reml_every_dataset(dataset):
    at = run("pages/ml_vs_reml.py", mr_dataset=dataset)
    clean(at)
    assert len(charts(at)) == 2
    assert "meaningless" in markdown_with(at, "REML** criteria")


def test_ml_vs_reml_simulation_shows_the_bias():
    at = run("pages/ml_vs_reml.py")
    at.button(key="mr_run").click().run()
    clean(at)
    text = markdown_with(at, "Mean ML estimate")
    ml, reml = (float(text.split("**")[k]) for k in (1, 3))
    assert ml < reml


def test_icc_bootstrap_interval_and_tests():
    at = run("pages/icc.py", ic_tab="Bootstrap interval")
    at.button(key="ic_run").click().run()
    clean(at)
    text = markdown_with(at, "interval for the ICC")
    lower, upper = (float(v) for v in text.split("**")[1].split(" to "))
    estimate = float(text.split("estimate ")[1].split(",")[0])
    assert lower <= estimate <= upper
    at = run("pages/icc.py", ic_tab="Variance test")
    at.button(key="ic_test").click().run()
    clean(at)
    assert "Bootstrap p-value" in markdown_with(at, "Bootstrap p-value")


def test_icc_simulate_sliders_change_the_design_effect():
    at = run("pages/icc.py", ic_dataset="simulate", ic_tab="Design effect")
    first = markdown_with(at, "independent ones")
    at.slider(key="ic_icc").set_value(0.9).run()
    clean(at)
    assert markdown_with(at, "independent ones") != first


def test_random_slopes_diagnostics_show_each_random_effect():
    at = run("pages/random_slopes.py", rs_tab="Diagnostics")
    clean(at)
    titles = [c["layout"]["title"]["text"] for c in charts(at)]
    assert {"Q-Q: Subject (Intercept)", "Q-Q: Subject Days", "Q-Q: residuals", "Residuals vs fitted"} <= set(titles)


def test_random_slopes_draws_only_the_open_tab_and_a_link_opens_the_tab_of_its_setting():
    def titles(at):
        return {c["layout"].get("title", {}).get("text") for c in charts(at)}

    at = run("pages/random_slopes.py")
    clean(at)
    assert "Moving the origin of Days" not in titles(at) and "Q-Q: residuals" not in titles(at)
    at = AppTest.from_file(str(ROOT / "pages/random_slopes.py"), default_timeout=60)
    at.query_params["rs_origin"] = "8"  # a link made before the page had tabs: it names no tab
    at.run()
    clean(at)
    assert at.slider(key="rs_origin").value == 8 and "Moving the origin of Days" in titles(at)


def test_your_data_every_view_and_the_builder():
    at = run("pages/your_data.py", yd_source="an example", yd_example="sleepstudy")
    clean(at)
    assert next(t.value for t in at.text_input) == "Reaction ~ Days + (1 | Subject)"
    for view in ["BLUPs", "Diagnostics", "Shrinkage and ICC", "Lines"]:
        at.segmented_control(key="yd_view").set_value(view).run()
        clean(at)
        assert charts(at)
    at.radio(key="yd_struct_example:sleepstudy").set_value("correlated").run()
    clean(at)
    assert next(t.value for t in at.text_input) == "Reaction ~ Days + (Days | Subject)"
    at.toggle(key="yd_reml").set_value(False).run()
    assert "maximum likelihood" in codes(at)[0]



def test_your_data_numeric_subject_codes_are_a_factor_and_tables_are_readable():
    """The sleepstudy CSV pasted: Subject holds numbers (308, 309, ...) but is the grouping factor, so the
    column list says 'factor' and why; the first rows are a Markdown table (the presenter's font), not
    a canvas grid; the fit is lme4's, its groups in R's order; the shrinkage view says which are labelled."""
    text = (ROOT / "datasets" / "sleepstudy.csv").read_text()
    at = run("pages/your_data.py", yd_source="paste CSV text", yd_paste=text)
    clean(at)
    types = next(d.value for d in at.dataframe if d.key.startswith("yd_types_"))
    assert dict(zip(types["column"], types["use as"])) == {"Reaction": "numeric", "Days": "numeric", "Subject": "factor"}
    assert any(c.value.startswith("Subject holds numbers used as codes for groups") for c in at.caption)
    types_key = at.dataframe[0].key
    assert len(at.dataframe) == 1 and types_key.startswith("yd_types_")  # the first rows: not a canvas grid
    head = markdown_with(at, "| Reaction | Days | Subject |")
    assert "| 249.5600 | 0 | 308 |" in head and "| 258.7047 | 1 | 308 |" in head
    assert next(t.value for t in at.text_input) == "Reaction ~ Days + (1 | Subject)"
    assert "Subject  (Intercept) 1378.2   37.12" in codes(at)[0]  # lme4's VarCorr of this fit
    at.segmented_control(key="yd_view").set_value("Shrinkage and ICC").run()
    clean(at)
    assert any(c.value.startswith("Labelled: the Subjects that moved most") for c in at.caption)
    # a numeric column chosen as a grouping factor: said to be used as groups
    at.multiselect(key=types_key.replace("yd_types_", "yd_groups_")).set_value(["Subject", "Days"]).run()
    clean(at)
    assert any(c.value.startswith("Days: numeric codes, used as groups") for c in at.caption)


def test_your_data_names_with_spaces_and_accents_are_quoted():
    text = "reaction time,días,sujeto id\n" + "\n".join(f"{10 + i % 7 + i // 5},{i % 5},s{i // 5}" for i in range(30))
    at = run("pages/your_data.py", yd_source="paste CSV text", yd_paste=text)
    clean(at)
    # días changes within each sujeto on a shared grid (0..4): suggested as time, a fixed effect
    assert next(t.value for t in at.text_input) == "`reaction time` ~ días + (1 | `sujeto id`)"


# -- tests and intervals ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset", ["penicillin", "sleepstudy", "estrone", "dyestuff", "simulate"])
def test_tests_and_intervals_every_dataset(dataset):
    at = run("pages/tests_and_intervals.py", ti_dataset=dataset)
    clean(at)
    titles = [c["layout"]["title"]["text"] for c in charts(at)]
    assert "95% intervals for the variances" in titles and any(t.startswith("Profile zeta of") for t in titles)
    table = next(t for t in tables(at) if "df Satterthwaite" in t.index)
    assert {"df Satterthwaite", "p Satterthwaite", "df Kenward-Roger"} <= set(table.index)
    if dataset == "simulate":
        assert truth(at)["effect of B"][0] == 0.0


def test_tests_and_intervals_simulated_effect_is_estimated():
    at = run("pages/tests_and_intervals.py", ti_dataset="simulate", ti_effect=8.0, ti_n_blocks=12)
    clean(at)
    true, estimate = truth(at)["effect of B"]
    assert true == 8.0 and abs(estimate - 8.0) < 5


def test_tests_and_intervals_penicillin_numbers_as_lmertest():
    at = run("pages/tests_and_intervals.py")
    table = next(t for t in tables(at) if "df Satterthwaite" in t.index)
    assert table.loc["df Satterthwaite", "treatB"] == "12.00" and table.loc["p Satterthwaite", "treatC"] == "0.0935"
    tests = markdown_with(at, "| test of treat |")
    assert "| F = 1.239 | 3, 12.00 | 0.339 |" in tests and "Chisq = 4.047 | 3 | 0.256 |" in tests
    assert "below zero" in markdown_with(at, "The Wald interval for")


def test_tests_and_intervals_null_simulation_and_bootstraps():
    at = run("pages/tests_and_intervals.py", ti_nsim=200, ti_groups=3)
    at.button(key="ti_null_run").click().run()
    clean(at)
    figure = next(c for c in charts(at) if c["layout"]["title"]["text"].startswith("Rejections of a true null"))
    rates = dict(zip(figure["data"][0]["y"], figure["data"][0]["x"]))
    assert rates["LRT, chi-square"] > rates["F, Satterthwaite"]  # three blocks: the chi-square rejects too often
    at.button(key="ti_boot_run").click().run()
    clean(at)
    fixed = next(c for c in charts(at) if c["layout"]["title"]["text"] == "95% intervals for the fixed effects")
    assert "bootstrap" in {t.get("name") for t in fixed["data"]}
    at.button(key="ti_lrt_run").click().run()
    clean(at)
    assert "Parametric bootstrap of the LRT" in markdown_with(at, "Parametric bootstrap of the LRT")


def test_tests_and_intervals_zeta_choice_and_summary_layout():
    at = run("pages/tests_and_intervals.py", ti_dataset="estrone")
    at.selectbox(key="ti_par").set_value("sigma").run()
    clean(at)
    assert any(c["layout"]["title"]["text"] == "Profile zeta of sigma" for c in charts(at))
    at.radio(key="ti_ddf").set_value("Kenward-Roger").run()
    assert "t-tests use Kenward-Roger's method" in codes(at)[0]


def test_random_slopes_centring_moves_the_correlation_not_the_fit():
    def numbers(at):
        text = markdown_with(at, "intercept-slope correlation **")
        bold = [v for v in text.split("**")[1::2]]
        return float(bold[0]), float(bold[1]), float(bold[2])

    at = run("pages/random_slopes.py", rs_tab="Centring Days")
    r0, crit0, indep0 = numbers(at)
    at.slider(key="rs_origin").set_value(9).run()
    clean(at)
    r9, crit9, indep9 = numbers(at)
    assert r9 != r0 and crit9 == crit0  # the correlated model is the same model from any origin
    assert indep9 > indep0 + 1  # (Days || Subject) is not: far from the zero-correlation origin it fits worse
    assert any(c["layout"]["title"]["text"] == "Moving the origin of Days" for c in charts(at))
# -- lesson 11: binary and count outcomes ------------------------------------------------------------
def test_binary_outcomes_lesson_runs_on_ctsib():
    at = run("pages/binary_outcomes.py")
    clean(at)
    assert "Generalized linear mixed model fit by maximum likelihood (Laplace" in codes(at)[0]
    specs = charts(at)
    assert len(specs) == 5  # odds ratios, profiles, theory, methods, counts
    ratio = next(m.value for m in at.markdown if m.value.startswith("**Surfacenorm**"))
    # exp(7.658) = 2118: printed as 2120 (3 significant digits), not 2.12e+03; its probability not as 1.000
    assert "= **2120** (95% interval 203 to 22100)" in ratio and "probability of 0.99953" in ratio
    assert not re.search(r"\de[-+]\d", ratio), ratio
    assert any("m0" in c and "Pr(>Chisq)" in c for c in codes(at))  # grouseticks' anova


def test_binary_outcomes_quadrature_and_probit_theory():
    at = run("pages/binary_outcomes.py", gl_method="adaptive quadrature, 25 points", gl_link="probit", gl_sigma=3.0)
    clean(at)
    assert "(Adaptive\n  Gauss-Hermite Quadrature, nAGQ = 25) [glmerMod]" in codes(at)[0]  # wrapped as lme4 does
    theory = next(c for c in charts(at) if "probit link" in c["layout"]["title"]["text"])
    assert any("Phi" in (t.get("name") or "") for t in theory["data"])
    # the probit's exact attenuation: 1 / sqrt(1 + 3^2) = 0.32
    assert any("0.32" in m.value and "population-averaged slope" in m.value for m in at.markdown)


def test_binary_outcomes_simulate_mode_sets_estimates_beside_the_truth():
    at = run("pages/binary_outcomes.py", gl_dataset="simulate", gl_sigma_b=2.5, gl_n_groups=40)
    clean(at)
    t = truth(at)
    assert t["sigma_b"][0] == 2.5 and abs(t["sigma_b"][1] - 2.5) < 1.5
    assert any("over x" in c["layout"]["title"]["text"] for c in charts(at))


def test_binary_outcomes_cbpp_diagnostics_and_pql_simulation():
    at = run("pages/binary_outcomes.py", gl_dataset="cbpp", gl_diag=True, gl_nsim=20)
    clean(at)
    titles = [c["layout"]["title"]["text"] for c in charts(at)]
    assert any(t.startswith("Binned residuals") for t in titles) and any(t.startswith("Simulated residuals") for t in titles)
    at.button(key="gl_study_run").click().run()
    clean(at)
    assert any("Mean sigma_b: Laplace" in m.value for m in at.markdown)


def test_your_data_offers_a_binomial_model_for_a_binary_response():
    at = run("pages/your_data.py", yd_source="an example", yd_example="ctsib")
    clean(at)
    assert at.radio(key="yd_family_example:ctsib_stable").value == "binomial"
    assert "Family: binomial  ( logit )" in codes(at)[0]
    for view in ["BLUPs", "Diagnostics", "Ratios"]:
        at.segmented_control(key="yd_glmm_view").set_value(view).run()
        clean(at)
        assert charts(at)
    at.radio(key="yd_family_example:ctsib_stable").set_value("gaussian").run()
    clean(at)
    assert "Linear mixed model fit by REML" in codes(at)[0]


def test_your_data_offers_a_poisson_model_for_counts():
    import numpy as np
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(12), 8)
    x = np.tile(np.arange(8), 12)
    y = rng.poisson(np.exp(0.5 + 0.1 * x + rng.normal(0, 0.5, 12)[g]))
    text = "count,x,g\n" + "\n".join(f"{a},{b},g{c}" for a, b, c in zip(y, x, g))
    at = run("pages/your_data.py", yd_source="paste CSV text", yd_paste=text)
    clean(at)
    family = next(r for r in at.radio if r.label == "Response distribution")
    assert family.value == "gaussian" and "Poisson (counts)" in family.options
    family.set_value("poisson").run()
    clean(at)
    assert "Family: poisson  ( log )" in codes(at)[0]
    assert charts(at)


def test_the_charts_plotly_js_is_the_one_the_python_package_ships():
    """static/'s plotly.js build draws the figures plotly.py makes: the same plotly.js version."""
    import plotly

    head = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()[:200]
    ours = (ROOT / "static" / "plotly-lab.min.js").read_text()[:200]  # "plotly.js (mmlab: scatter, ...) v4.1.1."
    version = re.search(r"plotly\.js v(\S+)", head).group(1)
    assert re.search(r"plotly\.js \(mmlab[^)]*\) v(\S+?)\.? ", ours).group(1) == version
    pinned = json.loads((ROOT / "scripts" / "plotly" / "package.json").read_text())["dependencies"]["plotly.js"]
    assert pinned == version  # the next build makes the same


def test_the_chart_element_draws_what_its_bundle_can_and_hands_on_the_rest():
    import numpy as np
    import plotly.graph_objects as go

    from lab.chart import SVG_POINTS, spec_json
    from mmcore.figures.style import freeze

    small = go.Figure(go.Scattergl(x=np.arange(10.0), y=np.arange(10.0)))
    spec = json.loads(spec_json(small))
    assert spec["data"][0]["type"] == "scatter"  # the same look as SVG, numpy arrays and all
    big = go.Figure(go.Scattergl(x=np.arange(SVG_POINTS + 1.0), y=np.zeros(SVG_POINTS + 1)))
    assert spec_json(big) is None  # WebGL is not in our plotly.js: st.plotly_chart draws it
    assert spec_json(go.Figure(go.Scatter3d(x=[1], y=[1], z=[1]))) is None
    frozen = freeze(go.Figure(go.Heatmap(z=[[1, 2], [3, 4]])))
    assert spec_json(frozen) is spec_json(frozen)  # made once per cached figure
    assert json.loads(spec_json(frozen))["data"][0]["type"] == "heatmap"


def test_under_the_hood_matrices_show_their_values():
    """Lambda and D of a one-term model are one block per group: the page shows the first groups' blocks,
    few enough for the values to be written in the cells, on a scale centred on 0 with its colour bar,
    and says what is left out (a 36 x 36 picture of pale cells without a scale could not be read)."""
    from mmcore.figures.model import TEXT_CELLS

    at = run("pages/under_the_hood.py", uh_formula="correlated intercept and slope: (Days | Subject)")
    clean(at)
    shown = {c["layout"]["title"]["text"].split(" (")[0].split(":")[0]: c["data"][0] for c in charts(at)}
    for name in ("Lambda", "D = σ² Λ Λᵀ"):
        trace = shown[name]
        assert len(trace["x"]) == TEXT_CELLS and trace["showscale"] and trace["zmin"] == -trace["zmax"]
        assert trace["text"][0][0] and trace["text"][0][2] == ""  # the first block's values; 0 left blank
    assert shown["D = σ² Λ Λᵀ"]["text"][0][0] == "612"  # lme4: Subject (Intercept) variance 612.1
    assert any("first 6 of 18 groups" in c.value for c in at.caption)
    at = run("pages/under_the_hood.py", uh_formula="crossed: (1 | plate) + (1 | sample)")
    clean(at)
    lam = next(c["data"][0] for c in charts(at) if c["layout"]["title"]["text"].startswith("Lambda"))
    assert len(lam["x"]) == 30 and "text" not in lam and lam["showscale"]  # two terms: all columns, values on hover


def test_a_fit_that_fails_in_a_lesson_s_part_ends_the_part_not_the_page():
    """lab.stop() inside lab.sections' fragment (shrinkage's data drawn with one observation per group:
    no variance within a group to fit): the message in the part, then the page's Next button, the way
    on and the link, as on any run."""
    at = AppTest.from_file(str(ROOT / "pages/shrinkage.py"), default_timeout=60)
    at.query_params["sh_dataset"] = "simulate"
    at.query_params["sh_n_per_group"] = "1"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == ["This model cannot be fitted: Every group of 'group' has a single "
                                          "observation (10 groups for 10 rows), so the group effect cannot be told "
                                          "apart from the residual. Each group needs repeated measurements."]
    assert [b.label for b in at.button if b.key == "sh_tab_next"] == ["Next: All groups, one ratio"]
    assert [c for c in code_captions(at.sidebar) if c and "Link to this view" in c] == [
        "Link to this view (it reproduces what is on screen):"]
    assert at.session_state["_in_part"] is False
