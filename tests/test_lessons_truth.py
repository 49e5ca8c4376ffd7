"""Lessons that teach nothing false (issue 14): one test per correction, each of which failed on the
lessons before it (checked against that code), and the pooling view for every data set."""
import json
import re

import numpy as np
import pandas as pd
import pytest

import mmcore
from tests.test_pages import charts, clean, run, truth


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [x.value for x in at.latex]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    return "\n".join(parts)


# 1. model comparison -------------------------------------------------------------------------------
def test_a_correlation_is_tested_against_chi_square_not_the_mixture():
    at = run("pages/model_comparison.py", mc_pair="two models of my own", mc_data="sleepstudy",
             mc_f0="Reaction ~ Days + (Days || Subject)", mc_f1="Reaction ~ Days + (Days | Subject)")
    clean(at)
    text = _texts(at)
    assert "correlation" in text and "0.40" not in text and "0.399" not in text
    assert re.search(r"p = \*\*0\.8", text)  # chi-square(1): 0.80, not halved


def test_the_bootstrap_figure_draws_the_reference_the_table_uses():
    at = run("pages/model_comparison.py", mc_pair="sleepstudy: do drivers differ in their slopes?", mc_nsim=100)
    at.button(key="mc_run").click().run()
    clean(at)
    names = {t.get("name") for t in charts(at)[-1]["data"]}
    assert "50:50 mixture of chi-square(1) and chi-square(2)" in names


def test_models_that_are_not_nested_get_no_lrt_p_value():
    at = run("pages/model_comparison.py", mc_pair="two models of my own", mc_data="sleepstudy",
             mc_f0="Reaction ~ Days + (1 | Subject)", mc_f1="Reaction ~ 1 + (Days | Subject)")
    clean(at)
    assert any("does not apply" in w.value for w in at.warning)


def test_a_bootstrap_p_of_zero_reads_below_one_over_nsim():
    from lab.widgets import format_boot_p
    assert format_boot_p(0.0, 0.0, 1000).startswith("< 0.001")


def test_reference_distribution_by_what_the_bigger_model_adds():
    from mmcore.inference.reference import lrt_reference
    d = mmcore.load_dataset("sleepstudy")
    f = {k: mmcore.fit(v, d) for k, v in [("int", "Reaction ~ Days + (1 | Subject)"),
                                          ("unc", "Reaction ~ Days + (Days || Subject)"),
                                          ("cor", "Reaction ~ Days + (Days | Subject)"),
                                          ("fix", "Reaction ~ 1 + (Days | Subject)")]}
    assert lrt_reference(f["int"], f["cor"]).reference == "mixture"
    assert lrt_reference(f["unc"], f["cor"]).reference == "chisq"
    assert lrt_reference(f["fix"], f["cor"]).kind == "fixed"
    assert lrt_reference(f["int"], f["fix"]).kind == "not nested"
    two = mmcore.fit("Reaction ~ Days + (1 | Subject)", d.assign(week=(d["Days"] > 4).astype(str)))
    more = mmcore.fit("Reaction ~ Days + (Days || Subject) + (1 | week)",
                      d.assign(week=(d["Days"] > 4).astype(str)))
    assert lrt_reference(two, more).reference == "bootstrap"


# 2. random slopes ----------------------------------------------------------------------------------
def test_rescaling_says_the_reml_criterion_moves_and_the_ml_deviance_does_not():
    text = _texts(run("pages/random_slopes.py", rs_tab="Rescaling Days"))
    assert "ML deviance" in text and "2\\log 10" in text


def test_simulated_slope_sd_in_tens_of_units_is_compared_per_unit():
    at = run("pages/random_slopes.py", rs_dataset="simulate", rs_unit="tens of its units")
    clean(at)
    assert at.radio(key="rs_unit").value == "tens of its units"
    sd = next(v for k, v in truth(at).items() if k.startswith("sigma_b1"))
    assert 0.4 * sd[0] < sd[1] < 2.5 * sd[0]  # truth 6 per unit; the page once showed 447.7


def test_the_anova_caption_tells_a_correlation_from_a_variance():
    text = _texts(run("pages/random_slopes.py", rs_tab="Three models"))
    assert "adds only the **correlation**" in text and "these p-values are conservative" not in text


def test_the_ellipse_is_the_distribution_of_the_true_effects_not_of_the_points():
    text = _texts(run("pages/random_slopes.py"))
    assert "95% of them should fall" not in text and "true" in text and "shrunken" in text


# 3. shrinkage --------------------------------------------------------------------------------------
def test_shrinkage_formula_uses_the_fitted_fixed_effects():
    at = run("pages/shrinkage.py")
    assert any("x}_{ij}^\\top" in x.value for x in at.latex)


def test_balanced_data_do_not_ask_for_the_smallest_lambda():
    at = run("pages/shrinkage.py", sh_keep=10)  # every observation kept: balanced
    at.session_state["sh_tab"] = "Check yourself"  # the questions ask of the deletion set in its tab
    at.run()
    clean(at)
    question = next(r.label for r in at.radio if r.key.startswith("quiz_sh_most"))
    assert "smallest" not in question and "same" in question


def test_deleting_observations_keeps_them_spread_over_the_range():
    from lab.cache import DataSpec, get_data
    data = get_data(DataSpec("sleepstudy", transform=(("keep", "Subject", "308", 3),)))
    days = sorted(data.loc[data["Subject"].astype(str) == "308", "Days"])
    assert days[0] == 0 and days[-1] == 9 and len(days) == 3


def test_the_default_view_shows_visible_shrinkage():
    at = run("pages/shrinkage.py")
    text = next(m.value for m in at.markdown if "= **" in m.value and "lambda" in m.value)
    assert float(text.split("= **")[1].split("**")[0]) < 0.9


def test_the_code_export_reads_the_edited_data():
    at = run("pages/shrinkage.py", sh_keep=2)
    at.session_state["sh_tab"], at.session_state["code_export"] = "Check yourself", True
    at.run()
    code = next(m.value for m in at.markdown if "library(lme4)" in m.value)
    assert "read.csv" in code and "_edited.csv" in code


# 4, 6. ML vs REML, ICC -------------------------------------------------------------------------------
def test_both_estimates_zero_agree():
    from mmcore.lessons.quiz import ml_vs_reml
    assert ml_vs_reml(0.0, 0.0)[0].answer == "they agree"


def test_icc_intro_speaks_of_the_data_on_screen_and_anova_is_an_identity():
    text = _texts(run("pages/icc.py", ic_dataset="dyestuff", ic_tab="ANOVA"))
    intro = text.split("\n")[0]
    assert "batches" in intro and "estrone" not in intro.lower()
    assert "by construction" in text and "J =" not in text


def test_the_fixed_vs_random_study_needs_two_measurements():
    at = run("pages/shrinkage.py", sh_tab="Does shrinkage pay?")
    assert at.number_input(key="sh_n_rep").min == 2


# 5. random intercepts --------------------------------------------------------------------------------
def test_random_intercepts_says_often_singular_and_shared_slopes():
    assert "estimated from all groups together" in _texts(run("pages/random_intercepts.py"))
    assert "often singular" in _texts(run("pages/random_intercepts.py", ri_tab="The fit"))  # its step of the path


def test_no_pooling_is_exact_when_days_is_in_thousands():
    from mmcore.lessons.pooling import pooling
    d = mmcore.load_dataset("sleepstudy").assign(Days=lambda x: x["Days"] * 1000)
    p = pooling(mmcore.fit("Reaction ~ Days + (Days | Subject)", d))
    for subject, rows in d.groupby("Subject", observed=True):
        own = np.polyval(np.polyfit(rows["Days"], rows["Reaction"], 1), rows["Days"])
        assert np.allclose(p.loc[rows.index, "none"], own, atol=1e-6)


# 7. REML LRT -------------------------------------------------------------------------------------------
def test_a_reml_lrt_is_shown_when_only_the_random_parts_differ():
    at = run("pages/model_comparison.py", mc_pair="sleepstudy: do drivers differ in their slopes?")
    clean(at)
    assert any("refit = FALSE" in c.value for c in at.caption)
    d = mmcore.load_dataset("sleepstudy")
    r0, r1 = mmcore.fit("Reaction ~ Days + (1 | Subject)", d), mmcore.fit("Reaction ~ Days + (Days | Subject)", d)
    table = mmcore.anova(r0, r1, refit=False)
    assert table["Chisq"].iloc[1] == pytest.approx(r0.reml_criterion - r1.reml_criterion)
    with pytest.raises(mmcore.MixedModelError):
        mmcore.anova(mmcore.fit("Reaction ~ 1 + (1 | Subject)", d), r1, refit=False)


# 8. data ------------------------------------------------------------------------------------------------
def test_sleepstudy_says_when_deprivation_began():
    assert "after day 2" in mmcore.list_datasets()["sleepstudy"].description


def test_a_level_named_none_is_a_level_not_missing():
    d = mmcore.read_csv(b"y,treat,g\n1,None,a\n2,A,a\n3,None,b\n4,A,b\n5,None,c\n6,A,c\n")
    assert list(d["treat"]) == ["None", "A"] * 3


# 9. code export -----------------------------------------------------------------------------------------
def test_numbers_used_as_categories_are_exported_as_factors():
    from lab.widgets import numbers_as_categories
    from mmcore.lessons import codegen
    data = pd.DataFrame({"y": [1.0, 2, 3, 4], "dose": ["1", "2", "1", "2"], "g": ["a", "a", "b", "b"]})
    factors = numbers_as_categories(data, "y ~ dose + (1 | g)")
    assert factors == ("dose",)
    assert "factor(dat$dose)" in codegen.r_code("y ~ dose + (1 | g)", None, True, "d.csv", factors)
    assert "C(dose)" in codegen.statsmodels_code("y ~ dose + (1 | g)", True, "d.csv", factors)


def test_exports_define_their_data_and_say_what_they_need():
    from mmcore.lessons import codegen
    at = run("pages/model_comparison.py", code_export=True)
    code = next(m.value for m in at.markdown if "library(lme4)" in m.value)
    assert code.index("dat <-") < code.index("anova(m0, m1)")
    assert "faraway" in codegen.r_code("yield ~ treat + (1 | blend)", "penicillin").split("data(")[0]
    sm = codegen.statsmodels_code("Reaction ~ Days + (1 | Subject)")
    assert "Scale" in sm and "z tests" in sm


# 10. notation ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["pages/random_intercepts.py", "pages/icc.py", "pages/shrinkage.py",
                                  "pages/ml_vs_reml.py", "pages/random_slopes.py"])
def test_one_notation_typeset(page):
    text = "\n".join(m.value for m in run(page).markdown)
    assert not re.search(r"(?<![\\$\w])sigma_b\^?2?(?![\w}])", text.replace("$", " $ ").split("```")[0])
    assert "sigma_0" not in text and "n0 =" not in text


# the pooling view -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset,kind", [("dyestuff", "columns"), ("estrone", "columns"), ("penicillin", "markers"),
                                          ("sleepstudy", "lines"), ("simulate", "lines")])
def test_the_pooling_view_draws_what_each_model_means(dataset, kind):
    at = run("pages/random_intercepts.py", ri_dataset=dataset)
    clean(at)
    spec = next(c for c in charts(at) if "pooling" in json.dumps(c["layout"].get("title", "")))
    modes = {t.get("mode") for t in spec["data"] if t.get("name", "").startswith(("no pooling", "partial"))}
    if kind == "columns":  # one column per group, an arrow from no to partial pooling
        assert modes == {"markers"} and spec["layout"]["annotations"]
    elif kind == "markers":  # categories stay categories: no lines joining the four processes
        assert modes == {"markers"} and "yaxis5" in spec["layout"]
    else:  # a panel per group with all three lines
        assert modes == {"lines"} and "yaxis2" in spec["layout"]


def test_simulate_mode_speaks_of_x_and_group_only():
    for page, key in (("pages/random_intercepts.py", "ri_dataset"), ("pages/random_slopes.py", "rs_dataset")):
        at = run(page, **{key: "simulate"})
        clean(at)
        assert not re.search(r"\b(Days|Subject|driver)", _texts(at)), page


def test_the_intercept_slope_plane_is_square_with_its_legend_below_and_no_label_overlaps():
    from mmcore.figures import fig_ranef_plane
    from mmcore.figures.style import place_labels
    fig = fig_ranef_plane(mmcore.fit("Reaction ~ Days + (Days | Subject)", mmcore.load_dataset("sleepstudy")))
    lay = fig.layout
    assert lay.yaxis.scaleanchor == "x" and lay.legend.orientation == "h"
    ratio = (lay.xaxis.range[1] - lay.xaxis.range[0]) / (lay.yaxis.range[1] - lay.yaxis.range[0])
    assert lay.yaxis.scaleratio == pytest.approx(ratio)
    # the correlation in the subtitle: lme4's 0.066 for sleepstudy; an uncorrelated model's is not fitted
    assert lay.title.subtitle.text.endswith(": 0.07 (fitted)")
    apart = fig_ranef_plane(mmcore.fit("Reaction ~ Days + (Days || Subject)", mmcore.load_dataset("sleepstudy")))
    assert apart.layout.title.subtitle.text.endswith(": 0, fixed by the uncorrelated model")
    pos = place_labels([0, 0.01, 5], [0, 0, 5], ["aaa", "bbb", "ccc"], (0, 5), (0, 5))
    assert pos[0] != pos[1] or "" in pos[:2]
